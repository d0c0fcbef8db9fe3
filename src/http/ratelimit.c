/* Token buckets in a chained hash table keyed by string. */
#include "gradcover/http/ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

struct entry {
    struct entry *next;
    double tokens;
    int64_t at_ms; /* when tokens was last brought up to date */
    char key[];
};

struct ratelimit {
    struct entry *slots[BUCKETS];
    size_t n, max;
};

struct ratelimit *ratelimit_new(size_t max_keys)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (rl)
        rl->max = max_keys;
    return rl;
}

static void clear(struct ratelimit *rl)
{
    for (size_t i = 0; i < BUCKETS; i++)
        while (rl->slots[i]) {
            struct entry *e = rl->slots[i];
            rl->slots[i] = e->next;
            free(e);
        }
    rl->n = 0;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    clear(rl);
    free(rl);
}

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)(h % BUCKETS);
}

/* The key's bucket, refilled up to now; NULL when out of memory. */
static struct entry *bucket(struct ratelimit *rl, const char *key, double rate, double burst,
                            int64_t now_ms)
{
    size_t h = hash(key);
    struct entry *e = rl->slots[h];
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (!e) {
        if (rl->n >= rl->max) {
            clear(rl);
        }
        size_t len = strlen(key);
        e = malloc(sizeof *e + len + 1);
        if (!e)
            return NULL;
        memcpy(e->key, key, len + 1);
        e->tokens = burst;
        e->at_ms = now_ms;
        e->next = rl->slots[h];
        rl->slots[h] = e;
        rl->n++;
    }
    if (now_ms > e->at_ms) {
        e->tokens = fmin(burst, e->tokens + rate * (double)(now_ms - e->at_ms) / 1000.0);
        e->at_ms = now_ms;
    }
    return e;
}

static int wait_s(const struct entry *e, double rate)
{
    double s = ceil((1.0 - e->tokens) / rate);
    return s < 1 ? 1 : s > 86400 ? 86400 : (int)s;
}

int ratelimit_take(struct ratelimit *rl, const char *key, double rate, double burst, int64_t now_ms)
{
    if (rate <= 0)
        return 0;
    struct entry *e = bucket(rl, key, rate, burst, now_ms);
    if (!e)
        return 0;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return 0;
    }
    return wait_s(e, rate);
}

void ratelimit_refund(struct ratelimit *rl, const char *key, double burst)
{
    struct entry *e = rl->slots[hash(key)];
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (e)
        e->tokens = fmin(burst, e->tokens + 1.0);
}

int ratelimit_peek(struct ratelimit *rl, const char *key, double rate, double burst, int64_t now_ms)
{
    if (rate <= 0)
        return 0;
    struct entry *e = bucket(rl, key, rate, burst, now_ms);
    return !e || e->tokens >= 1.0 ? 0 : wait_s(e, rate);
}
