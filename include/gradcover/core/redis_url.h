/* Where Redis is: the grammar of the "redis" setting and of --redis, pure
 * parsing (no I/O), shared by the configuration check, the store and the
 * gradcover tool. */
#ifndef GRADCOVER_CORE_REDIS_URL_H
#define GRADCOVER_CORE_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/common.h"

struct redis_target {
    bool unix_socket;
    char host[256];
    int port;
    char path[256];
    char user[128];     /* "" = default user */
    char password[256]; /* "" = no AUTH */
    int db;
};

/* redis://[[user]:password@]host:port[/db] or unix:///path/redis.sock[?db=N].
 * False with a reason in err (never quoting the password). */
bool redis_url_parse(const char *url, struct redis_target *out, char *err,
                     size_t errlen) GC_MUSTCHECK;

#endif
