/* SIGHUP: read, check and adopt the configuration file again (see reload.h). */
#include "gradcover/reload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/counts.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/tls.h"
#include "gradcover/domain/config.h"

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Settings read once at the start: a change is logged and the old value kept.
 * -1 when out of memory. */
static int keep_restart_only(const struct config *cur, struct config *next)
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
        char **b = (char **)((char *)next + strs[i].off);
        if (same_str(a, *b))
            continue;
        log_warn("event=config_reload_needs_restart key=%s action=keep_old_value", strs[i].key);
        char *copy = a ? strdup(a) : NULL;
        if (a && !copy)
            return -1;
        free(*b);
        *b = copy;
    }
    if (cur->counter_cache != next->counter_cache) {
        log_warn("event=config_reload_needs_restart key=counter_cache action=keep_old_value");
        next->counter_cache = cur->counter_cache;
    }
    if (cur->hsts_max_age_seconds != next->hsts_max_age_seconds) {
        log_warn("event=config_reload_needs_restart key=hsts_max_age_seconds "
                 "action=keep_old_value");
        next->hsts_max_age_seconds = cur->hsts_max_age_seconds;
    }
    /* The store's WAIT state (writes held back until replicas confirm
     * again) is set up for the value it started with. */
    if (cur->wait_replicas != next->wait_replicas ||
        cur->wait_timeout_ms != next->wait_timeout_ms) {
        log_warn("event=config_reload_needs_restart key=wait_replicas action=keep_old_value");
        next->wait_replicas = cur->wait_replicas;
        next->wait_timeout_ms = cur->wait_timeout_ms;
    }
    if (cur->max_connections != next->max_connections) {
        log_warn("event=config_reload_needs_restart key=max_connections action=keep_old_value");
        next->max_connections = cur->max_connections;
    }
    return 0;
}

static bool same_webhook(const struct webhook_cfg *a, const struct webhook_cfg *b)
{
    if (!same_str(a->name, b->name) || !same_str(a->url, b->url) ||
        !same_str(a->secret, b->secret) || !same_str(a->format, b->format) ||
        a->escalation != b->escalation || a->ncounties != b->ncounties)
        return false;
    for (size_t i = 0; i < a->ncounties; i++)
        if (strcmp(a->counties[i], b->counties[i]) != 0)
            return false;
    return true;
}

static bool same_receivers(const struct alerts_cfg *a, const struct alerts_cfg *b)
{
    if (a->nwebhooks != b->nwebhooks || !same_str(a->alertmanager_url, b->alertmanager_url) ||
        !same_str(a->ca_file, b->ca_file) || a->ndigest_receivers != b->ndigest_receivers)
        return false;
    for (size_t i = 0; i < a->nwebhooks; i++)
        if (!same_webhook(&a->webhooks[i], &b->webhooks[i]))
            return false;
    for (size_t i = 0; i < a->ndigest_receivers; i++)
        if (a->digest_receivers[i] != b->digest_receivers[i])
            return false;
    return true;
}

/* next takes cur's receivers (borrowed: the notifier's queues and the
 * digest hold them by index). */
static void borrow_receivers(const struct config *cur, struct config *next)
{
    if (!same_receivers(&cur->alerts, &next->alerts))
        log_warn("event=config_reload_needs_restart key=alerts.receivers "
                 "action=keep_old_value hint=\"alerts.webhooks, alertmanager_url, ca_file and "
                 "the digest's receivers change at a restart\"");
    config_free_receivers(next);
    next->alerts.webhooks = cur->alerts.webhooks;
    next->alerts.nwebhooks = cur->alerts.nwebhooks;
    next->alerts.digest_receivers = cur->alerts.digest_receivers;
    next->alerts.ndigest_receivers = cur->alerts.ndigest_receivers;
    next->alerts.alertmanager_url = cur->alerts.alertmanager_url;
    next->alerts.ca_file = cur->alerts.ca_file;
}

/* The counties of cur must be next's first ones, same codes, same order. */
static int check_counties(const struct config *cur, const struct config *next, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < cur->ncounties; i++) {
        if (i >= next->ncounties) {
            snprintf(err, errlen, "county \"%s\" was removed: removing counties needs a restart",
                     cur->counties[i].code);
            return -1;
        }
        if (strcmp(cur->counties[i].code, next->counties[i].code) != 0) {
            snprintf(err, errlen,
                     "counties[%zu] is \"%s\", was \"%s\": removing or reordering counties "
                     "needs a restart (new counties go at the end)",
                     i, next->counties[i].code, cur->counties[i].code);
            return -1;
        }
    }
    return 0;
}

struct config *reload_check(const struct config *cur, const char *path, char *err, size_t errlen,
                            bool *borrowed)
{
    *borrowed = false;
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
    if (check_counties(cur, next, err, errlen) < 0) {
        config_free(next);
        return NULL;
    }
    if (keep_restart_only(cur, next) < 0) {
        snprintf(err, errlen, "out of memory");
        config_free(next);
        return NULL;
    }
    borrow_receivers(cur, next);
    *borrowed = true;
    return next;
}

void reload_config_free(struct config *cfg, bool borrowed)
{
    if (!cfg)
        return;
    if (borrowed) {
        cfg->alerts.webhooks = NULL;
        cfg->alerts.nwebhooks = 0;
        cfg->alerts.digest_receivers = NULL;
        cfg->alerts.ndigest_receivers = 0;
        cfg->alerts.alertmanager_url = NULL;
        cfg->alerts.ca_file = NULL;
    }
    config_free(cfg);
}

void reload_gens_free(struct config_gen *g)
{
    while (g) {
        struct config_gen *next = g->next;
        county_text_free(g->ctext, g->cfg ? g->cfg->ncounties : 0);
        reload_config_free(g->cfg, g->borrowed);
        free(g);
        g = next;
    }
}

void reload_render_metrics(const struct reload_stats *s, FILE *f)
{
    metrics_family(f, "gradcover_config_reload_failures_total", "counter",
                   "SIGHUP reloads refused: the file could not be read, parsed or checked, or "
                   "removed or reordered counties (the old configuration stays).");
    fprintf(f, "gradcover_config_reload_failures_total %llu\n", (unsigned long long)s->failures);
    metrics_family(f, "gradcover_config_reloads_total", "counter", "SIGHUP reloads applied.");
    fprintf(f, "gradcover_config_reloads_total %llu\n", (unsigned long long)s->reloads);
    metrics_family(f, "gradcover_config_last_reload_success_timestamp_seconds", "gauge",
                   "Unix time of the last applied reload (0: none since the start).");
    fprintf(f, "gradcover_config_last_reload_success_timestamp_seconds %lld\n",
            (long long)(s->last_success_ms / 1000));
}
