/* SIGHUP: the configuration file read and checked again (WORK IN PROGRESS,
 * branch scale-reload-wip: the check is done, the swap is not; see
 * docs/reload-wip.md). */
#ifndef GRADCOVER_RELOAD_H
#define GRADCOVER_RELOAD_H

#include <stdint.h>
#include <stdio.h>

#include "gradcover/common.h"

struct config;

/* Counters of reloads, for /metrics. */
struct reload_stats {
    uint64_t failures;        /* a file that could not be read, parsed or checked */
    uint64_t checked;         /* a file that passed every check */
    int64_t last_checked_ms;  /* Unix ms of the last good check; 0 = none */
};

/* Reads and checks path as a start would (config_load, the TLS files). On
 * success returns the new config (owned by the caller) and logs, one line
 * each, the settings that differ from cur but need a restart (listen, redis,
 * pii_key_file, tls_cert, tls_key, counter_cache, max_connections): those
 * keep cur's values when the config is applied. NULL with the reason in err
 * otherwise. */
struct config *reload_check(const struct config *cur, const char *path, char *err,
                            size_t errlen) GC_MUSTCHECK;

/* gradcover_config_reload_failures_total and the others. */
void reload_render_metrics(const struct reload_stats *s, FILE *out);

#endif
