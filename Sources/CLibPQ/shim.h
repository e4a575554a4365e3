#ifndef GUDOK_CLIBPQ_SHIM_H
#define GUDOK_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
