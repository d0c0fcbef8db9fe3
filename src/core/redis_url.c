/* The grammar of the "redis" setting and --redis (see redis_url.h). */
#include "gradcover/core/redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis has 16 databases unless configured otherwise (`databases`); the test
 * fixture runs with 64. Larger numbers are accepted up to this sanity bound. */
#define REDIS_DB_MAX 1023

/* "[user]:password@" at the start of p, up to the last '@' (a password may
 * hold '@', ':' and '/'). Moves *pp past it. */
static bool parse_credentials(const char **pp, struct redis_target *out, char *err, size_t errlen)
{
    const char *p = *pp;
    const char *at = strrchr(p, '@');
    if (!at)
        return true;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon) {
        snprintf(err, errlen, "credentials must be [user]:password@");
        return false;
    }
    size_t ulen = (size_t)(colon - p), plen = (size_t)(at - colon - 1);
    if (ulen >= sizeof out->user || plen >= sizeof out->password || plen == 0) {
        snprintf(err, errlen, "user or password empty or too long");
        return false;
    }
    memcpy(out->user, p, ulen);
    memcpy(out->password, colon + 1, plen);
    *pp = at + 1;
    return true;
}

/* "host:port" of exactly len bytes. */
static bool parse_hostport(const char *s, size_t len, struct redis_hostport *out, const char *form,
                           char *err, size_t errlen)
{
    char hostport[300];
    if (len == 0 || len >= sizeof hostport) {
        snprintf(err, errlen, "missing host:port");
        return false;
    }
    memcpy(hostport, s, len);
    hostport[len] = '\0';
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof out->host) {
        snprintf(err, errlen, "must be %s", form);
        return false;
    }
    /* [v6-address]:port: the address without its brackets, as connect wants it. */
    size_t hlen = (size_t)(colon - hostport);
    const char *h = hostport;
    if (hlen > 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    memcpy(out->host, h, hlen);
    out->host[hlen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 1 || port > 65535) {
        snprintf(err, errlen, "port must be 1..65535");
        return false;
    }
    out->port = (int)port;
    return true;
}

/* An optional database number: "" or "N" (0..REDIS_DB_MAX). */
static bool parse_db(const char *s, int *db, char *err, size_t errlen)
{
    if (!*s)
        return true;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || v < 0 || v > REDIS_DB_MAX) {
        snprintf(err, errlen, "db must be 0..1023");
        return false;
    }
    *db = (int)v;
    return true;
}

static bool parse_unix(const char *url, struct redis_target *out, char *err, size_t errlen)
{
    const char *path = url + 7;
    const char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    if (plen == 0 || path[0] != '/' || plen >= sizeof out->path) {
        snprintf(err, errlen, "unix:// URL needs an absolute socket path");
        return false;
    }
    memcpy(out->path, path, plen);
    out->unix_socket = true;
    if (q) {
        char *end;
        if (strncmp(q, "?db=", 4) != 0 || q[4] == '\0' ||
            (out->db = (int)strtol(q + 4, &end, 10)) < 0 || *end || out->db > REDIS_DB_MAX) {
            snprintf(err, errlen, "unix:// URL accepts only ?db=N (0..1023)");
            return false;
        }
    }
    return true;
}

/* host:port[,host:port...]/MASTER[/db] after the credentials. */
static bool parse_sentinel(const char *p, struct redis_target *out, char *err, size_t errlen)
{
    static const char form[] = "redis-sentinel://host:port[,host:port...]/MASTER[/db]";
    out->sentinel = true;
    const char *slash = strchr(p, '/');
    if (!slash) {
        snprintf(err, errlen, "must be %s (the master's name is missing)", form);
        return false;
    }
    const char *s = p;
    while (s < slash) {
        const char *comma = memchr(s, ',', (size_t)(slash - s));
        const char *end = comma ? comma : slash;
        if (out->nsentinels == REDIS_SENTINELS_MAX) {
            snprintf(err, errlen, "at most %d sentinels", REDIS_SENTINELS_MAX);
            return false;
        }
        if (!parse_hostport(s, (size_t)(end - s), &out->sentinels[out->nsentinels], form, err,
                            errlen))
            return false;
        out->nsentinels++;
        s = comma ? comma + 1 : slash;
        if (comma && s == slash) {
            snprintf(err, errlen, "missing host:port after ','");
            return false;
        }
    }
    if (out->nsentinels == 0) {
        snprintf(err, errlen, "missing host:port");
        return false;
    }
    const char *name = slash + 1;
    const char *dbs = strchr(name, '/');
    size_t nlen = dbs ? (size_t)(dbs - name) : strlen(name);
    if (nlen == 0 || nlen >= sizeof out->master) {
        snprintf(err, errlen, "the master's name must be 1..%zu characters",
                 sizeof out->master - 1);
        return false;
    }
    for (size_t i = 0; i < nlen; i++)
        if (name[i] <= ' ' || name[i] == 0x7f) {
            snprintf(err, errlen, "the master's name may not hold spaces or control characters");
            return false;
        }
    memcpy(out->master, name, nlen);
    return !dbs || parse_db(dbs + 1, &out->db, err, errlen);
}

/* host:port[,host:port...] after the credentials, nothing after it. */
static bool parse_cluster(const char *p, struct redis_target *out, char *err, size_t errlen)
{
    static const char form[] = "redis-cluster://host:port[,host:port...]";
    out->cluster = true;
    if (strchr(p, '/') || strchr(p, '?')) {
        snprintf(err, errlen, "must be %s (a cluster has no database number)", form);
        return false;
    }
    for (const char *s = p;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (out->nseeds == REDIS_CLUSTER_SEEDS_MAX) {
            snprintf(err, errlen, "at most %d seed nodes", REDIS_CLUSTER_SEEDS_MAX);
            return false;
        }
        if (!parse_hostport(s, len, &out->seeds[out->nseeds], form, err, errlen))
            return false;
        out->nseeds++;
        if (!comma)
            break;
        s = comma + 1;
    }
    /* The first seed doubles as host/port: what a log line names. */
    memcpy(out->host, out->seeds[0].host, sizeof out->host);
    out->port = out->seeds[0].port;
    return true;
}

bool redis_url_parse(const char *url, struct redis_target *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!url) {
        snprintf(err, errlen, "missing URL");
        return false;
    }
    if (strncmp(url, "unix://", 7) == 0)
        return parse_unix(url, out, err, errlen);
    bool sentinel = strncmp(url, "redis-sentinel://", 17) == 0;
    bool cluster = strncmp(url, "redis-cluster://", 16) == 0;
    if (!sentinel && !cluster && strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen,
                 "must start with redis://, redis-sentinel://, redis-cluster:// or unix://");
        return false;
    }
    const char *p = url + (sentinel ? 17 : cluster ? 16 : 8);
    if (!parse_credentials(&p, out, err, errlen))
        return false;
    if (sentinel)
        return parse_sentinel(p, out, err, errlen);
    if (cluster)
        return parse_cluster(p, out, err, errlen);
    const char *slash = strchr(p, '/');
    struct redis_hostport hp;
    if (!parse_hostport(p, slash ? (size_t)(slash - p) : strlen(p), &hp, "redis://host:port[/db]",
                        err, errlen))
        return false;
    memcpy(out->host, hp.host, sizeof out->host);
    out->port = hp.port;
    return !slash || parse_db(slash + 1, &out->db, err, errlen);
}
