/* The grammar of the "redis" setting and --redis (see redis_url.h). */
#include "gradcover/core/redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis has 16 databases unless configured otherwise (`databases`); the test
 * fixture runs with 64. Larger numbers are accepted up to this sanity bound. */
#define REDIS_DB_MAX 1023

bool redis_url_parse(const char *url, struct redis_target *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!url) {
        snprintf(err, errlen, "missing URL");
        return false;
    }
    if (strncmp(url, "unix://", 7) == 0) {
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
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "must start with redis:// or unix://");
        return false;
    }
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
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
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hplen = slash ? (size_t)(slash - p) : strlen(p);
    char hostport[300];
    if (hplen == 0 || hplen >= sizeof hostport) {
        snprintf(err, errlen, "missing host:port");
        return false;
    }
    memcpy(hostport, p, hplen);
    hostport[hplen] = '\0';
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof out->host) {
        snprintf(err, errlen, "must be redis://host:port[/db]");
        return false;
    }
    memcpy(out->host, hostport, (size_t)(colon - hostport));
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 1 || port > 65535) {
        snprintf(err, errlen, "port must be 1..65535");
        return false;
    }
    out->port = (int)port;
    if (slash && slash[1]) {
        long db = strtol(slash + 1, &end, 10);
        if (*end || db < 0 || db > REDIS_DB_MAX) {
            snprintf(err, errlen, "db must be 0..1023");
            return false;
        }
        out->db = (int)db;
    }
    return true;
}
