/* Open connections by client address (see peers.h): linear probing over a
 * power-of-two table at most half full, deletion by backward shift (no
 * tombstones, so probes stay short however long the server runs). */
#include "gradcover/http/peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A table at most half full keeps linear probes to a couple of slots. */
#define LOAD_FACTOR 2
/* The smallest table: a few addresses, a single cache line or two. */
#define MIN_SLOTS 16
/* IPv6 addresses count by their first 64 bits (RFC 4291 §2.5.4: the rest is
 * the interface identifier, which a host chooses freely). */
#define IPV6_PREFIX_BYTES 8

struct slot {
    struct peer_entry e;
    bool used;
};

struct peers {
    struct slot *slots;
    size_t mask; /* slots - 1 */
    size_t max, used;
    uint64_t seed;
};

struct peers *peers_new(size_t max_entries, uint64_t seed)
{
    struct peers *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    size_t n = MIN_SLOTS;
    while (n < max_entries * LOAD_FACTOR)
        n *= 2;
    p->slots = calloc(n, sizeof *p->slots);
    if (!p->slots) {
        free(p);
        return NULL;
    }
    p->mask = n - 1;
    p->max = max_entries;
    p->seed = seed;
    return p;
}

void peers_free(struct peers *p)
{
    if (!p)
        return;
    free(p->slots);
    free(p);
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 client it carries. */
static void normalise(const unsigned char *b, size_t len, struct peer_addr *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    if (len == 16 && memcmp(b, mapped, sizeof mapped) == 0) {
        b += sizeof mapped;
        len = 4;
    }
    memcpy(out->b, b, len);
    out->len = (unsigned char)len;
}

bool peer_addr_of(const struct sockaddr *sa, struct peer_addr *out, char *text, size_t textlen)
{
    memset(out, 0, sizeof *out);
    if (sa && sa->sa_family == AF_INET)
        normalise((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr, 4, out);
    else if (sa && sa->sa_family == AF_INET6)
        normalise((const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr, 16, out);
    if (out->len == 0 ||
        !inet_ntop(out->len == 4 ? AF_INET : AF_INET6, out->b, text, (socklen_t)textlen)) {
        snprintf(text, textlen, "?");
        return out->len != 0;
    }
    return true;
}

bool peer_addr_parse(const char *s, struct peer_addr *out)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        normalise(b, 4, out);
        return true;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        normalise(b, 16, out);
        return true;
    }
    memset(out, 0, sizeof *out);
    return false;
}

bool peer_addr_equal(const struct peer_addr *a, const struct peer_addr *b)
{
    return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* The counting key of addr: IPv6 cut to its /64. */
static struct peer_addr key_of(const struct peer_addr *addr)
{
    struct peer_addr k = *addr;
    if (k.len == 16)
        memset(k.b + IPV6_PREFIX_BYTES, 0, sizeof k.b - IPV6_PREFIX_BYTES);
    return k;
}

/* FNV-1a, 64 bits, started from the seed. */
static size_t home(const struct peers *p, const struct peer_addr *k)
{
    uint64_t h = 14695981039346656037ULL ^ p->seed;
    for (size_t i = 0; i < k->len; i++) {
        h ^= k->b[i];
        h *= 1099511628211ULL;
    }
    h ^= k->len;
    h *= 1099511628211ULL;
    return (size_t)(h ^ (h >> 32)) & p->mask;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t find(const struct peers *p, const struct peer_addr *k)
{
    size_t i = home(p, k);
    while (p->slots[i].used && !peer_addr_equal(&p->slots[i].e.key, k))
        i = (i + 1) & p->mask;
    return i;
}

struct peer_entry *peers_get(struct peers *p, const struct peer_addr *addr, bool create)
{
    if (addr->len == 0)
        return NULL;
    struct peer_addr k = key_of(addr);
    size_t i = find(p, &k);
    struct slot *s = &p->slots[i];
    if (s->used)
        return &s->e;
    if (!create || p->used >= p->max)
        return NULL;
    memset(s, 0, sizeof *s);
    s->used = true;
    s->e.key = k;
    p->used++;
    return &s->e;
}

void peers_drop(struct peers *p, const struct peer_addr *addr)
{
    if (addr->len == 0)
        return;
    struct peer_addr k = key_of(addr);
    size_t i = find(p, &k);
    if (!p->slots[i].used)
        return;
    /* Backward shift: pull every later entry of the run that may sit at i
     * (its home is not cyclically within (i, j]) into the hole. */
    for (size_t j = (i + 1) & p->mask; p->slots[j].used; j = (j + 1) & p->mask) {
        size_t h = home(p, &p->slots[j].e.key);
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (stays)
            continue;
        p->slots[i] = p->slots[j];
        i = j;
    }
    p->slots[i].used = false;
    p->used--;
}

size_t peers_count(const struct peers *p)
{
    return p->used;
}
