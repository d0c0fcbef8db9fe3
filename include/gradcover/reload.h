/* SIGHUP: the configuration file read, checked and applied again without
 * dropping a connection (SPEC §13, docs/operations.md "Reloading the
 * configuration").
 *
 * Generations: each good reload makes a new struct config, the current one
 * (app->cfg). Older generations are never freed while the process runs (kept
 * on a list, freed at exit): a request, callback or round that holds a
 * pointer into one finishes with it safely. A configuration is a few KiB
 * (docs/design.md), and reloads are rare.
 *
 * County indexes stay valid across generations: a new file must list the
 * counties it keeps first, with the same codes in the same order; it may
 * rename them and append new ones. Removing or reordering counties needs a
 * restart (the reload is refused). Receivers (alerts.webhooks,
 * alerts.alertmanager_url, alerts.ca_file, alerts.digest) apply: they are
 * matched to the running ones by name (receiver.h, notify.h, digest.h), and
 * the client TLS context is built again for the connections opened from
 * then on. The settings read once at the start (listen, redis, pii_key_file,
 * tls_cert, tls_key, hsts_max_age_seconds, counter_cache, max_connections,
 * wait_replicas, wait_timeout_ms) need a restart: a change is logged and
 * the old value kept, the rest applies. */
#ifndef GRADCOVER_RELOAD_H
#define GRADCOVER_RELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gradcover/common.h"

struct config;
struct county_text;
struct ssl_ctx_st;

/* Counters of reloads, for /metrics. */
struct reload_stats {
    uint64_t failures;       /* refused: unreadable, invalid, or counties removed/reordered */
    uint64_t reloads;        /* applied */
    int64_t last_success_ms; /* Unix ms of the last applied reload; 0 = none */
};

/* An older generation, kept until exit. */
struct config_gen {
    struct config *cfg;
    struct county_text *ctext; /* its rendered county texts (counts.h) */
    struct config_gen *next;
};

/* Reads and checks path as a start would (config_load, the TLS files), and
 * that its counties extend cur's. On success returns the new config (owned
 * by the caller) whose restart-only settings are cur's (each change logged
 * event=config_reload_needs_restart), and in *tls_client the client TLS
 * context built from its alerts.ca_file (owned by the caller; NULL when no
 * receiver needs one). NULL with the reason in err otherwise. */
struct config *reload_check(const struct config *cur, const char *path, char *err, size_t errlen,
                            struct ssl_ctx_st **tls_client) GC_MUSTCHECK;

/* Frees every generation of the list, and ctext of each with its county
 * count. */
void reload_gens_free(struct config_gen *g);

/* gradcover_config_reloads_total and the others. */
void reload_render_metrics(const struct reload_stats *s, FILE *out);

#endif
