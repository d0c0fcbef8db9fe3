/* Reads the test's Redis database type by type (see dbscan.h). */
#include "dbscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    ck_assert(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void add(struct db_items *d, const char *key, const char *type, const char *field,
                size_t flen, const char *value, size_t vlen)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->v = realloc(d->v, d->cap * sizeof *d->v);
        ck_assert(d->v);
    }
    struct db_item *it = &d->v[d->n++];
    it->key = strdup(key);
    snprintf(it->type, sizeof it->type, "%s", type);
    it->field = field ? dup_n(field, flen) : NULL;
    it->value = value ? dup_n(value, vlen) : NULL;
    it->vlen = value ? vlen : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every key name of the database, sorted; *n set. Caller frees each and the array. */
static char **all_keys(size_t *n)
{
    size_t cap = 256;
    char **keys = malloc(cap * sizeof *keys);
    ck_assert(keys);
    *n = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(h_redis(), "SCAN %s COUNT 1000", cursor);
        ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *ks = r->element[1];
        for (size_t i = 0; i < ks->elements; i++) {
            if (*n == cap) {
                cap *= 2;
                keys = realloc(keys, cap * sizeof *keys);
                ck_assert(keys);
            }
            keys[(*n)++] = dup_n(ks->element[i]->str, ks->element[i]->len);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    /* SCAN may return a key twice; sort and drop repeats. */
    qsort(keys, *n, sizeof *keys, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (w > 0 && strcmp(keys[w - 1], keys[i]) == 0)
            free(keys[i]);
        else
            keys[w++] = keys[i];
    }
    *n = w;
    return keys;
}

static void add_elements(struct db_items *d, const char *key, const char *type, redisReply *r,
                         bool pairs)
{
    ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY, "reading %s (%s)", key, type);
    for (size_t i = 0; i < r->elements; i += pairs ? 2 : 1) {
        redisReply *a = r->element[i];
        if (pairs)
            add(d, key, type, a->str, a->len, r->element[i + 1]->str, r->element[i + 1]->len);
        else
            add(d, key, type, NULL, 0, a->str, a->len);
    }
}

static void add_stream(struct db_items *d, const char *key, redisReply *r)
{
    ck_assert_msg(r && r->type == REDIS_REPLY_ARRAY, "reading stream %s", key);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *id = r->element[i]->element[0];
        redisReply *fv = r->element[i]->element[1];
        for (size_t j = 0; j + 1 < fv->elements; j += 2) {
            char field[256];
            int n = snprintf(field, sizeof field, "%s %s", id->str, fv->element[j]->str);
            add(d, key, "stream", field, (size_t)n, fv->element[j + 1]->str,
                fv->element[j + 1]->len);
        }
    }
}

struct db_items *db_items(void)
{
    struct db_items *d = calloc(1, sizeof *d);
    ck_assert(d);
    size_t n;
    char **keys = all_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i];
        redisReply *t = redisCommand(h_redis(), "TYPE %s", k);
        ck_assert(t && t->type == REDIS_REPLY_STATUS);
        char type[16];
        snprintf(type, sizeof type, "%s", t->str);
        freeReplyObject(t);
        add(d, k, type, NULL, 0, NULL, 0); /* the key name itself */
        redisReply *r = NULL;
        if (strcmp(type, "string") == 0) {
            r = redisCommand(h_redis(), "GET %s", k);
            if (r && r->type == REDIS_REPLY_STRING)
                add(d, k, type, NULL, 0, r->str, r->len);
        } else if (strcmp(type, "hash") == 0) {
            r = redisCommand(h_redis(), "HGETALL %s", k);
            add_elements(d, k, type, r, true);
        } else if (strcmp(type, "list") == 0) {
            r = redisCommand(h_redis(), "LRANGE %s 0 -1", k);
            add_elements(d, k, type, r, false);
        } else if (strcmp(type, "set") == 0) {
            r = redisCommand(h_redis(), "SMEMBERS %s", k);
            add_elements(d, k, type, r, false);
        } else if (strcmp(type, "zset") == 0) {
            r = redisCommand(h_redis(), "ZRANGE %s 0 -1 WITHSCORES", k);
            add_elements(d, k, type, r, true);
        } else if (strcmp(type, "stream") == 0) {
            r = redisCommand(h_redis(), "XRANGE %s - +", k);
            add_stream(d, k, r);
            freeReplyObject(r);
            /* Consumer group and consumer names are stored too. */
            r = redisCommand(h_redis(), "XINFO GROUPS %s", k);
            ck_assert(r && r->type == REDIS_REPLY_ARRAY);
            for (size_t g = 0; g < r->elements; g++)
                add_elements(d, k, "group", r->element[g], true);
        } else {
            ck_abort_msg("key %s has type %s that dbscan does not read", k, type);
        }
        freeReplyObject(r);
        free(keys[i]);
    }
    free(keys);
    return d;
}

void db_items_free(struct db_items *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].key);
        free(d->v[i].field);
        free(d->v[i].value);
    }
    free(d->v);
    free(d);
}

bool db_has(const char *s, size_t n, const char *needle)
{
    return s && memmem(s, n, needle, strlen(needle)) != NULL;
}

static bool skipped(const char *key, const char *const *skip)
{
    size_t kl = strlen(key);
    for (size_t i = 0; skip && skip[i]; i++) {
        size_t sl = strlen(skip[i]);
        if (kl >= sl && strcmp(key + kl - sl, skip[i]) == 0)
            return true;
    }
    return false;
}

char *db_digest(const char *const *skip)
{
    size_t n;
    char **keys = all_keys(&n);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    ck_assert(out);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!skipped(keys[i], skip)) {
            redisReply *r = redisCommand(h_redis(), "DUMP %s", keys[i]);
            ck_assert(r && r->type == REDIS_REPLY_STRING);
            size_t need = strlen(keys[i]) + 2 * r->len + 3;
            while (len + need + 1 > cap) {
                cap *= 2;
                out = realloc(out, cap);
                ck_assert(out);
            }
            len += (size_t)sprintf(out + len, "%s=", keys[i]);
            for (size_t j = 0; j < r->len; j++)
                len += (size_t)sprintf(out + len, "%02x", (unsigned char)r->str[j]);
            out[len++] = '\n';
            out[len] = '\0';
            freeReplyObject(r);
        }
        free(keys[i]);
    }
    free(keys);
    return out;
}

const char *db_digest_diff(const char *a, const char *b)
{
    static char line[400];
    const char *la = a, *lb = b; /* starts of the current lines */
    while (*a && *a == *b) {
        if (*a == '\n') {
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    if (!*a && !*b)
        return NULL;
    snprintf(line, sizeof line, "before: %.*s | after: %.*s",
             (int)strcspn(la, "\n") < 150 ? (int)strcspn(la, "\n") : 150, la,
             (int)strcspn(lb, "\n") < 150 ? (int)strcspn(lb, "\n") : 150, lb);
    return line;
}
