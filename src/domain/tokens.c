/* API-issued tokens: generation, record parsing and the per-server cache. */
#include "gradcover/domain/tokens.h"

#include <stdlib.h>
#include <string.h>

#include "gradcover/core/pii.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/roles.h"

#define CACHE_BUCKETS 1024
/* More live API tokens than this on one server empties the cache (it refills
 * from Redis on demand); a province has a few thousand counselors. */
#define CACHE_MAX 20000

struct tok_entry {
    struct principal p;
    int64_t expires_ms;
    int64_t touched_ms;
    struct tok_entry *next;
};

struct tokcache {
    struct tok_entry *buckets[CACHE_BUCKETS];
    size_t n;
};

int token_generate(char *out)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33] = {0};
    if (gc_random_bytes(raw, 32) < 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < 33; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 3; k >= 0 && o < TOKEN_TEXT_LEN; k--)
            out[o++] = b64url[(v >> (6 * k)) & 63];
    }
    out[TOKEN_TEXT_LEN] = '\0';
    return 0;
}

bool token_record_parse(json_t *rec, const struct config *cfg, const char *hex,
                        struct principal *out, int64_t *expires_ms)
{
    const char *name = json_string_value(json_object_get(rec, "name"));
    const char *role = json_string_value(json_object_get(rec, "role"));
    const char *county = json_string_value(json_object_get(rec, "county"));
    const char *exp = json_string_value(json_object_get(rec, "expires_at"));
    memset(out, 0, sizeof *out);
    *expires_ms = 0;
    if (!name || !role || !id_valid(name) || !role_parse(role, &out->role) ||
        role_county_problem(out->role, county != NULL) || (county && !config_county(cfg, county)))
        return false;
    if (exp && !parse_i64(exp, expires_ms))
        return false;
    strcpy(out->name, name);
    if (county)
        strcpy(out->county, county);
    snprintf(out->tok_hex, sizeof out->tok_hex, "%s", hex);
    return true;
}

static size_t bucket_of(const char *hex)
{
    /* The hex is a SHA-256: its first digits are uniformly distributed. */
    size_t h = 0;
    for (int i = 0; i < 4 && hex[i]; i++)
        h = h << 4 | (size_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return h % CACHE_BUCKETS;
}

struct tokcache *tokcache_new(void)
{
    return calloc(1, sizeof(struct tokcache));
}

static void clear(struct tokcache *c)
{
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        while (c->buckets[i]) {
            struct tok_entry *e = c->buckets[i];
            c->buckets[i] = e->next;
            free(e);
        }
    }
    c->n = 0;
}

void tokcache_free(struct tokcache *c)
{
    if (!c)
        return;
    clear(c);
    free(c);
}

static struct tok_entry *find(struct tokcache *c, const char *hex)
{
    for (struct tok_entry *e = c->buckets[bucket_of(hex)]; e; e = e->next)
        if (strcmp(e->p.tok_hex, hex) == 0)
            return e;
    return NULL;
}

bool tokcache_get(struct tokcache *c, const char *hex, struct principal *out, int64_t *expires_ms)
{
    struct tok_entry *e = find(c, hex);
    if (!e)
        return false;
    *out = e->p;
    *expires_ms = e->expires_ms;
    return true;
}

void tokcache_put(struct tokcache *c, const struct principal *p, int64_t expires_ms)
{
    struct tok_entry *e = find(c, p->tok_hex);
    if (!e) {
        if (c->n >= CACHE_MAX)
            clear(c);
        e = calloc(1, sizeof *e);
        if (!e)
            return; /* not cached: the next request looks it up again */
        size_t b = bucket_of(p->tok_hex);
        e->next = c->buckets[b];
        c->buckets[b] = e;
        c->n++;
    }
    e->p = *p;
    e->expires_ms = expires_ms;
}

void tokcache_drop(struct tokcache *c, const char *hex)
{
    for (struct tok_entry **pp = &c->buckets[bucket_of(hex)]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->p.tok_hex, hex) == 0) {
            struct tok_entry *e = *pp;
            *pp = e->next;
            free(e);
            c->n--;
            return;
        }
    }
}

bool tokcache_touch_due(struct tokcache *c, const char *hex, int64_t now_ms)
{
    struct tok_entry *e = find(c, hex);
    if (!e || now_ms - e->touched_ms < TOKEN_TOUCH_EVERY_MS)
        return false;
    e->touched_ms = now_ms;
    return true;
}
