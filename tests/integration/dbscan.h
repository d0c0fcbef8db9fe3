/* Everything the test's Redis database holds, read type by type with the
 * synchronous client (SCAN, TYPE, then GET / HGETALL / LRANGE / SMEMBERS /
 * ZRANGE / XRANGE), for tests that assert what is stored and what is not:
 * no secret or personal data value in a key name or where it does not belong,
 * and "this request changed nothing".
 *
 * Like receiver.c, a test that uses it includes "dbscan.c" once. */
#ifndef GC_DBSCAN_H
#define GC_DBSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* One stored element. field: a hash's field, a zset's member (value = its
 * score), a stream entry's "<id> <field>"; NULL for a string value and for
 * list and set elements. Values may hold any bytes (vlen). */
struct db_item {
    char *key;
    char type[8];
    char *field;
    char *value;
    size_t vlen;
};

struct db_items {
    struct db_item *v;
    size_t n, cap;
};

/* Every key and element of the database, keys sorted. Free with db_items_free. */
struct db_items *db_items(void);
void db_items_free(struct db_items *d);

/* True when needle occurs in the bytes [s, s + n). */
bool db_has(const char *s, size_t n, const char *needle);

/* A text listing every key with the hex of its DUMP, sorted by key, except
 * keys ending in one of skip (NULL-terminated, may be NULL): compare two with
 * db_digest_diff to prove that nothing changed. Caller frees. */
char *db_digest(const char *const *skip);

/* NULL when a and b are equal, else a static line naming the first key that
 * differs (for the failure message). */
const char *db_digest_diff(const char *a, const char *b);

#endif
