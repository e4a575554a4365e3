#ifndef GUDOK_CSQLITE_SHIM_H
#define GUDOK_CSQLITE_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast macro Swift cannot import. */
static inline int gudok_sqlite3_bind_text(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}
static inline int gudok_sqlite3_bind_blob(sqlite3_stmt *stmt, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(stmt, index, bytes, length, SQLITE_TRANSIENT);
}
/* Extended result codes are macros built from other macros, which Swift does not import. */
static const int gudok_sqlite_constraint_unique = SQLITE_CONSTRAINT_UNIQUE;
static const int gudok_sqlite_constraint_primarykey = SQLITE_CONSTRAINT_PRIMARYKEY;
#endif
