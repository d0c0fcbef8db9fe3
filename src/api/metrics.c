/* GET /metrics: Prometheus text format 0.0.4. County series come from one
 * pipelined O(counties) read (counts.c); while Redis is down they are left out
 * (absent, never wrong) and gradcover_redis_connected is 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/api/counts.h"
#include "gradcover/api/handlers.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/domain/services.h"
#include "gradcover/http/conns.h"
#include "gradcover/http/request.h"
#include "gradcover/store/ccache.h"
#include "gradcover/store/store.h"

/* The county series are written straight into one buffer (50,000 lines for
 * 3,000 counties: one fprintf each was most of a scrape's time). */
static void put(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

static void put_ll(struct jw *w, long long v)
{
    jw_raw_int(w, v);
}

static void family(struct jw *w, const char *name, const char *type, const char *help)
{
    char head[512];
    int n = metrics_family_head(head, sizeof head, name, type, help);
    jw_raw(w, head, n > 0 && (size_t)n < sizeof head ? (size_t)n : 0);
}

/* metric{county="<code>" -- the caller closes the label set. */
static void county_label(struct jw *w, const char *metric, const struct county_text *t)
{
    put(w, metric);
    jw_raw(w, "{county=\"", 9);
    jw_raw(w, t->label, t->label_len);
    jw_raw(w, "\"", 1);
}

static void period_value(struct jw *w, int period, long long v)
{
    put(w, ",period=\"");
    put_ll(w, period);
    put(w, "\"} ");
    put_ll(w, v);
    put(w, "\n");
}

static void render_counties(struct jw *w, const struct county_text *ct,
                            const struct county_counts *c)
{
    family(w, "gradcover_registered_graduates", "gauge",
           "Registered unemployed graduates seeking work at some time in the period.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(w, "gradcover_registered_graduates", &ct[c->idx[i]]);
        period_value(w, c->period, c->reg[i]);
    }
    family(w, "gradcover_served_graduates", "gauge",
           "Registered graduates with at least one service contact in the period.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(w, "gradcover_served_graduates", &ct[c->idx[i]]);
        period_value(w, c->period, c->srv[i]);
    }
    family(w, "gradcover_service_coverage_ratio", "gauge",
           "Served over registered (truncated to 4 decimals, as in the JSON API); absent when "
           "nobody is registered.");
    for (size_t i = 0; i < c->n; i++) {
        if (c->reg[i] <= 0)
            continue;
        county_label(w, "gradcover_service_coverage_ratio", &ct[c->idx[i]]);
        /* "%.4f" of the rate, i.e. the basis points with 4 decimals. */
        uint64_t bp = coverage_rate_bp((uint64_t)c->srv[i], (uint64_t)c->reg[i]);
        char frac[6] = {'.',
                        (char)('0' + bp / 1000 % 10),
                        (char)('0' + bp / 100 % 10),
                        (char)('0' + bp / 10 % 10),
                        (char)('0' + bp % 10),
                        '\n'};
        put(w, ",period=\"");
        put_ll(w, c->period);
        put(w, "\"} ");
        put_ll(w, (long long)(bp / 10000));
        jw_raw(w, frac, sizeof frac);
    }
    family(w, "gradcover_coverage_alert_firing", "gauge",
           "1 while the county's coverage alert is firing.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(w, "gradcover_coverage_alert_firing", &ct[c->idx[i]]);
        put(w, c->alert[i] == ALERT_FIRING ? "} 1\n" : "} 0\n");
    }
    family(w, "gradcover_contacts_recorded_total", "counter",
           "Service contacts recorded (every outcome), by county and kind of service.");
    for (size_t i = 0; i < c->n; i++)
        for (size_t s = 0; s < GC_NSERVICES; s++) {
            county_label(w, "gradcover_contacts_recorded_total", &ct[c->idx[i]]);
            put(w, ",service=\"");
            put(w, gc_services[s]);
            put(w, "\"} ");
            put_ll(w, c->contacts[i * GC_NSERVICES + s]);
            put(w, "\n");
        }
    family(w, "gradcover_contact_outcomes_total", "counter",
           "Service contacts recorded, by county and outcome (only reached ones serve).");
    for (size_t i = 0; i < c->n; i++)
        for (size_t o = 0; o < GC_NOUTCOMES; o++) {
            county_label(w, "gradcover_contact_outcomes_total", &ct[c->idx[i]]);
            put(w, ",outcome=\"");
            put(w, gc_outcomes[o]);
            put(w, "\"} ");
            put_ll(w, c->outcomes[i * GC_NOUTCOMES + o]);
            put(w, "\n");
        }
    family(w, "gradcover_contacts_voided_total", "counter",
           "Service contacts voided (corrections), by county; they stay in the recorded counts.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(w, "gradcover_contacts_voided_total", &ct[c->idx[i]]);
        put(w, "} ");
        put_ll(w, c->voided[i]);
        put(w, "\n");
    }
}

static void render_config(struct jw *w, const struct config *cfg, const struct county_text *ct,
                          const struct county_counts *c)
{
    /* SPEC §12: the service package's completions, when one is configured. */
    if (cfg->package.nitems > 0) {
        char pl[2 * PACKAGE_NAME_MAX + 1];
        size_t pn = metrics_label_escape(cfg->package.name, pl);
        family(w, "gradcover_package_complete_graduates", "gauge",
               "Graduates who completed the service package in the period (reached contacts "
               "not voided).");
        for (size_t i = 0; i < c->n; i++) {
            county_label(w, "gradcover_package_complete_graduates", &ct[c->idx[i]]);
            put(w, ",package=\"");
            jw_raw(w, pl, pn);
            put(w, "\"");
            period_value(w, c->period, c->pkg[i]);
        }
    }
    family(w, "gradcover_coverage_target_ratio", "gauge", "The county's target coverage.");
    for (size_t i = 0; i < c->n; i++) {
        const struct county_cfg *cc = &cfg->counties[c->idx[i]];
        county_label(w, "gradcover_coverage_target_ratio", &ct[c->idx[i]]);
        char num[32];
        snprintf(num, sizeof num, "} %g\n", (double)cc->threshold_bp / COVERAGE_BP_ONE);
        put(w, num);
    }
    family(w, "gradcover_county_info", "gauge", "County code to name; always 1.");
    for (size_t i = 0; i < c->n; i++) {
        county_label(w, "gradcover_county_info", &ct[c->idx[i]]);
        put(w, ",name=\"");
        jw_raw(w, ct[c->idx[i]].name_label, ct[c->idx[i]].name_label_len);
        put(w, "\"} 1\n");
    }
}

/* Bytes of one county's series, about: the text is reserved at once. */
#define COUNTY_BYTES 1500

static void on_counts(struct req *r, struct county_counts *c, enum store_status st)
{
    const struct config *cfg = r->app->cfg;
    struct jw w;
    jw_init(&w);
    jw_reserve(&w, 4096 + c->n * COUNTY_BYTES);
    if (st == STORE_OK)
        render_counties(&w, r->app->ctext, c);
    render_config(&w, cfg, r->app->ctext, c);
    family(&w, "gradcover_redis_connected", "gauge",
           "1 while connected to Redis with the scripts loaded.");
    put(&w, st == STORE_OK && store_ready(r->app->store) ? "gradcover_redis_connected 1\n"
                                                         : "gradcover_redis_connected 0\n");
    /* The process's own series are few: written through stdio. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        jw_free(&w);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    store_render_metrics(r->app->store, f);
    metrics_render_http(r->app->metrics, f);
    conns_render_metrics(r->app->conns, f);
    ccache_render_metrics(r->app->ccache, f);
    notifier_render_metrics(r->app->notifier, f);
    reload_render_metrics(&r->app->reload, f);
    fclose(f);
    jw_raw(&w, text, len);
    free(text);
    http_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", &w);
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
    c->services = true;
    for (size_t i = 0; i < cfg->ncounties; i++)
        if (auth_can_see_coverage(&r->who, cfg->counties[i].code))
            c->idx[c->n++] = i;
    counts_read(r, c, on_counts); /* takes c */
}
