/* Redis Cluster addressing (see slotmap.h): pure functions over keys, a
 * CLUSTER SLOTS answer and MOVED/ASK texts; no I/O, so that the router's
 * decisions are unit-tested without a cluster. */
#include "gradcover/store/slotmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slotmap {
    int nnodes, nmasters;
    struct slotmap_node nodes[SLOTMAP_NODES_MAX];
    int16_t owner[SLOTMAP_SLOTS]; /* node index, or SLOTMAP_UNOWNED */
};

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the variant the
 * Redis Cluster specification names; bit by bit, as keys hashed here are a
 * county code of a few bytes (a table would buy nothing measurable). */
static uint16_t crc16(const unsigned char *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned slotmap_keyslot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return crc16((const unsigned char *)open + 1, (size_t)(close - open - 1)) &
                   (SLOTMAP_SLOTS - 1);
    }
    return crc16((const unsigned char *)key, len) & (SLOTMAP_SLOTS - 1);
}

void slotmap_free(struct slotmap *m)
{
    free(m);
}

int slotmap_find(const struct slotmap *m, const char *host, int port)
{
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].port == port && strcmp(m->nodes[i].host, host) == 0)
            return i;
    return -1;
}

/* [host, port, id, ...] of a CLUSTER SLOTS range into *n. */
static bool parse_node(const json_t *v, const char *asked_host, struct slotmap_node *n, char *err,
                       size_t errlen)
{
    const json_t *h = json_array_get(v, 0);
    /* NULL (cluster-preferred-endpoint-type unknown-endpoint) or "": the
     * node that was asked. "?" (type hostname, no hostname announced) is
     * kept: it names no reachable node (cluster.c refuses the map). */
    const char *host = json_is_null(h) ? "" : json_string_value(h);
    json_int_t port = json_integer_value(json_array_get(v, 1));
    const char *id = json_string_value(json_array_get(v, 2));
    if (!json_is_array(v) || !host || !json_is_integer(json_array_get(v, 1)) || port < 1 ||
        port > 65535) {
        snprintf(err, errlen, "a node without host or port");
        return false;
    }
    if (!host[0])
        host = asked_host;
    if (strlen(host) >= sizeof n->host) {
        snprintf(err, errlen, "a node's host is too long");
        return false;
    }
    memset(n, 0, sizeof *n);
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = (int)port;
    if (id && strlen(id) < sizeof n->id)
        snprintf(n->id, sizeof n->id, "%s", id);
    return true;
}

/* The index of node n in m, added when new; -1 when the map is full. */
static int intern(struct slotmap *m, const struct slotmap_node *n)
{
    int i = slotmap_find(m, n->host, n->port);
    if (i >= 0) {
        m->nodes[i].master |= n->master;
        return i;
    }
    if (m->nnodes == SLOTMAP_NODES_MAX)
        return -1;
    m->nodes[m->nnodes] = *n;
    return m->nnodes++;
}

struct slotmap *slotmap_from_slots(const json_t *answer, const char *asked_host, char *err,
                                   size_t errlen)
{
    if (!json_is_array(answer)) {
        snprintf(err, errlen, "CLUSTER SLOTS did not answer an array");
        return NULL;
    }
    struct slotmap *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++)
        m->owner[s] = SLOTMAP_UNOWNED;
    /* Two passes: masters first, so that node indexes 0..nmasters-1 are the
     * masters whatever order replicas come in. */
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *range;
        json_array_foreach(answer, i, range)
        {
            json_t *js = json_array_get(range, 0), *je = json_array_get(range, 1);
            json_int_t start = json_integer_value(js), end = json_integer_value(je);
            if (!json_is_integer(js) || !json_is_integer(je) || start < 0 || end < start ||
                end >= SLOTMAP_SLOTS || json_array_size(range) < 3) {
                snprintf(err, errlen, "a slot range out of 0..16383 or without a master");
                goto fail;
            }
            for (size_t k = 2; k < json_array_size(range); k++) {
                if ((pass == 0) != (k == 2))
                    continue;
                struct slotmap_node n;
                if (!parse_node(json_array_get(range, k), asked_host, &n, err, errlen))
                    goto fail;
                n.master = k == 2;
                int idx = intern(m, &n);
                if (idx < 0) {
                    snprintf(err, errlen, "more than %d nodes", SLOTMAP_NODES_MAX);
                    goto fail;
                }
                if (k != 2)
                    continue;
                for (json_int_t s = start; s <= end; s++) {
                    if (m->owner[s] != SLOTMAP_UNOWNED) {
                        snprintf(err, errlen, "slot %d named twice", (int)s);
                        goto fail;
                    }
                    m->owner[s] = (int16_t)idx;
                }
            }
        }
        if (pass == 0)
            m->nmasters = m->nnodes;
    }
    return m;
fail:
    free(m);
    return NULL;
}

int slotmap_owner(const struct slotmap *m, unsigned slot)
{
    return slot < SLOTMAP_SLOTS ? m->owner[slot] : SLOTMAP_UNOWNED;
}

int slotmap_nnodes(const struct slotmap *m)
{
    return m->nnodes;
}

const struct slotmap_node *slotmap_node(const struct slotmap *m, int i)
{
    return i >= 0 && i < m->nnodes ? &m->nodes[i] : NULL;
}

int slotmap_nmasters(const struct slotmap *m)
{
    return m->nmasters;
}

unsigned slotmap_unowned(const struct slotmap *m)
{
    unsigned n = 0;
    for (unsigned s = 0; s < SLOTMAP_SLOTS; s++)
        n += m->owner[s] == SLOTMAP_UNOWNED;
    return n;
}

bool slotmap_redirect_parse(const char *err, struct slotmap_redirect *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(err, "MOVED ", 6) == 0)
        err += 6;
    else if (strncmp(err, "ASK ", 4) == 0) {
        out->ask = true;
        err += 4;
    } else
        return false;
    char *end;
    if (*err < '0' || *err > '9')
        return false;
    unsigned long slot = strtoul(err, &end, 10);
    if (*end != ' ' || slot >= SLOTMAP_SLOTS)
        return false;
    const char *hp = end + 1;
    const char *colon = strrchr(hp, ':');
    if (!colon || (size_t)(colon - hp) >= sizeof out->host || colon[1] < '0' || colon[1] > '9' ||
        memchr(hp, ' ', (size_t)(colon - hp)))
        return false;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return false;
    memcpy(out->host, hp, (size_t)(colon - hp));
    out->slot = (unsigned)slot;
    out->port = (int)port;
    return true;
}
