/* GET /metrics: Prometheus text format 0.0.4. County series come from one
 * pipelined O(counties) read (counts.c); while Redis is down they are left out
 * (absent, never wrong) and gradcover_redis_connected is 0. */
#include <stdio.h>
#include <stdlib.h>

#include "gradcover/api.h"
#include "gradcover/api_common.h"
#include "gradcover/app.h"
#include "gradcover/config.h"
#include "gradcover/conns.h"
#include "gradcover/counts.h"
#include "gradcover/coverage.h"
#include "gradcover/http.h"
#include "gradcover/metrics.h"
#include "gradcover/notify.h"
#include "gradcover/store.h"
#include "gradcover/timeutil.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void county_label(FILE *f, const char *metric, const char *code)
{
    fprintf(f, "%s{county=\"", metric);
    metrics_label(f, code);
    fputc('"', f);
}

static void render_counties(FILE *f, const struct config *cfg, const struct county_counts *c)
{
    family(f, "gradcover_registered_graduates", "gauge",
           "Registered unemployed graduates seeking work at some time in the period.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(f, "gradcover_registered_graduates", cfg->counties[c->idx[i]].code);
        fprintf(f, ",period=\"%d\"} %lld\n", c->period, c->reg[i]);
    }
    family(f, "gradcover_served_graduates", "gauge",
           "Registered graduates with at least one service contact in the period.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(f, "gradcover_served_graduates", cfg->counties[c->idx[i]].code);
        fprintf(f, ",period=\"%d\"} %lld\n", c->period, c->srv[i]);
    }
    family(f, "gradcover_service_coverage_ratio", "gauge",
           "Served over registered (truncated to 4 decimals, as in the JSON API); absent when "
           "nobody is registered.");
    for (size_t i = 0; i < c->n; i++) {
        if (c->reg[i] <= 0)
            continue;
        county_label(f, "gradcover_service_coverage_ratio", cfg->counties[c->idx[i]].code);
        fprintf(f, ",period=\"%d\"} %.4f\n", c->period,
                coverage_rate((uint64_t)c->srv[i], (uint64_t)c->reg[i]));
    }
    family(f, "gradcover_coverage_alert_firing", "gauge",
           "1 while the county's coverage alert is firing.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(f, "gradcover_coverage_alert_firing", cfg->counties[c->idx[i]].code);
        fprintf(f, "} %d\n", c->alert[i] == ALERT_FIRING);
    }
    family(f, "gradcover_contacts_recorded_total", "counter",
           "Service contacts recorded, by county and kind of service.");
    for (size_t i = 0; i < c->n; i++)
        for (size_t s = 0; s < GC_NSERVICES; s++) {
            county_label(f, "gradcover_contacts_recorded_total", cfg->counties[c->idx[i]].code);
            fprintf(f, ",service=\"%s\"} %lld\n", gc_services[s],
                    c->contacts[i * GC_NSERVICES + s]);
        }
}

static void render_config(FILE *f, const struct config *cfg, const struct county_counts *c)
{
    family(f, "gradcover_coverage_target_ratio", "gauge", "The county's target coverage.");
    for (size_t i = 0; i < c->n; i++) {
        const struct county_cfg *cc = &cfg->counties[c->idx[i]];
        county_label(f, "gradcover_coverage_target_ratio", cc->code);
        fprintf(f, "} %g\n", (double)cc->threshold_bp / COVERAGE_BP_ONE);
    }
    family(f, "gradcover_county_info", "gauge", "County code to name; always 1.");
    for (size_t i = 0; i < c->n; i++) {
        const struct county_cfg *cc = &cfg->counties[c->idx[i]];
        county_label(f, "gradcover_county_info", cc->code);
        fputs(",name=\"", f);
        metrics_label(f, cc->name);
        fputs("\"} 1\n", f);
    }
}

static void on_counts(struct req *r, struct county_counts *c, enum store_status st)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    const struct config *cfg = r->app->cfg;
    if (st == STORE_OK)
        render_counties(f, cfg, c);
    render_config(f, cfg, c);
    family(f, "gradcover_redis_connected", "gauge",
           "1 while connected to Redis with the scripts loaded.");
    fprintf(f, "gradcover_redis_connected %d\n", st == STORE_OK && store_ready(r->app->store));
    metrics_render_http(r->app->metrics, f);
    conns_render_metrics(r->app->conns, f);
    notifier_render_metrics(r->app->notifier, f);
    fclose(f);
    http_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

void api_metrics(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    struct county_counts *c = counts_new(cfg->ncounties);
    if (!c) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    c->cur = c->period = period_of(app_now_ms(r->app), cfg->utc_offset_minutes);
    for (size_t i = 0; i < cfg->ncounties; i++)
        if (auth_can_see_coverage(&r->who, cfg->counties[i].code))
            c->idx[c->n++] = i;
    counts_read(r, c, on_counts); /* takes c */
}
