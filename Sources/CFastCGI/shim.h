#ifndef GUDOK_CFASTCGI_SHIM_H
#define GUDOK_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#endif
