/* SIGHUP: read and check the configuration file again (see reload.h). */
#include "gradcover/reload.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/tls.h"
#include "gradcover/domain/config.h"

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Settings read once at the start: a change is logged and waits for a restart. */
static void log_restart_only(const struct config *cur, const struct config *next)
{
    static const struct {
        const char *key;
        size_t off;
    } strs[] = {{"listen", offsetof(struct config, listen)},
                {"redis", offsetof(struct config, redis_url)},
                {"pii_key_file", offsetof(struct config, pii_key_file)},
                {"tls_cert", offsetof(struct config, tls_cert)},
                {"tls_key", offsetof(struct config, tls_key)}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *a = *(char *const *)((const char *)cur + strs[i].off);
        const char *b = *(char *const *)((const char *)next + strs[i].off);
        if (!same_str(a, b))
            log_warn("event=config_reload_needs_restart key=%s action=keep_old_value",
                     strs[i].key);
    }
    if (cur->counter_cache != next->counter_cache)
        log_warn("event=config_reload_needs_restart key=counter_cache action=keep_old_value");
    if (cur->max_connections != next->max_connections)
        log_warn("event=config_reload_needs_restart key=max_connections action=keep_old_value");
}

struct config *reload_check(const struct config *cur, const char *path, char *err, size_t errlen)
{
    struct config *next = config_load(path, err, errlen);
    if (!next)
        return NULL;
    struct ssl_ctx_st *srv = NULL, *cli = NULL;
    if (tls_from_config(next, &srv, &cli, err, errlen) < 0) {
        config_free(next);
        return NULL;
    }
    tls_ctx_free(srv);
    tls_ctx_free(cli);
    log_restart_only(cur, next);
    return next;
}

void reload_render_metrics(const struct reload_stats *s, FILE *f)
{
    metrics_family(f, "gradcover_config_reload_failures_total", "counter",
                   "SIGHUP reloads refused: the file could not be read, parsed or checked (the "
                   "old configuration stays).");
    fprintf(f, "gradcover_config_reload_failures_total %llu\n", (unsigned long long)s->failures);
    metrics_family(f, "gradcover_config_reload_checked_total", "counter",
                   "SIGHUP reloads whose file passed every check.");
    fprintf(f, "gradcover_config_reload_checked_total %llu\n", (unsigned long long)s->checked);
    metrics_family(f, "gradcover_config_last_reload_checked_timestamp_seconds", "gauge",
                   "Unix time of the last reload whose file passed every check (0: none).");
    fprintf(f, "gradcover_config_last_reload_checked_timestamp_seconds %lld\n",
            (long long)(s->last_checked_ms / 1000));
}
