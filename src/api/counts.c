/* Pipelined per-county counter reads (see counts.h). */
#include "gradcover/api/counts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/api/batch.h"
#include "gradcover/api/call.h"
#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/services.h"
#include "gradcover/http/request.h"
#include "gradcover/store/ccache.h"
#include "gradcover/store/keys.h"

/* HMGET fields: rolled, r:Y, s:Y, alert, pk:Y (completed service packages),
 * then one per service, then the attempts by outcome (o:unreachable,
 * o:declined) and the voided count (v). */
#define FIXED_FIELDS 5
#define CONTACT_FIELDS (GC_NSERVICES + GC_NOUTCOMES - 1 + 1)
/* Below this much Redis time a read skips the cache (see counts_read). */
#define BARRIER_MIN_BUDGET_MS 200

struct county_counts *counts_new(size_t n)
{
    struct county_counts *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t m = n ? n : 1;
    c->idx = calloc(m, sizeof *c->idx);
    c->reg = calloc(m, sizeof *c->reg);
    c->srv = calloc(m, sizeof *c->srv);
    c->contacts = calloc(m * GC_NSERVICES, sizeof *c->contacts);
    c->outcomes = calloc(m * GC_NOUTCOMES, sizeof *c->outcomes);
    c->voided = calloc(m, sizeof *c->voided);
    c->pkg = calloc(m, sizeof *c->pkg);
    c->alert = calloc(m, sizeof *c->alert);
    c->again = calloc(m, sizeof *c->again);
    c->in_again = calloc(m, sizeof *c->in_again);
    if (!c->idx || !c->reg || !c->srv || !c->contacts || !c->outcomes || !c->voided || !c->pkg ||
        !c->alert || !c->again || !c->in_again) {
        counts_free(c);
        return NULL;
    }
    return c;
}

void counts_free(struct county_counts *c)
{
    if (!c)
        return;
    free(c->idx);
    free(c->reg);
    free(c->srv);
    free(c->contacts);
    free(c->outcomes);
    free(c->voided);
    free(c->pkg);
    free(c->alert);
    free(c->again);
    free(c->in_again);
    free(c);
}

struct county_text *county_text_new(const struct config *cfg)
{
    struct county_text *t = calloc(cfg->ncounties ? cfg->ncounties : 1, sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = 0; i < cfg->ncounties; i++) {
        const struct county_cfg *cc = &cfg->counties[i];
        char key[KEY_MAX];
        key_county_counters(key, sizeof key, cc->code);
        t[i].cnt_key = strdup(key);
        t[i].cnt_key_len = strlen(key);
        /* The head of county_entry() in api/coverage.c: code, name, threshold. */
        struct jw w;
        jw_init(&w);
        jw_obj(&w);
        jw_key(&w, "code");
        jw_str(&w, cc->code);
        jw_key(&w, "name");
        jw_str(&w, cc->name);
        jw_key(&w, "threshold");
        jw_bp(&w, cc->threshold_bp);
        jw_raw(&w, ",", 1);
        t[i].json_head_len = w.len;
        t[i].json_head = jw_take(&w);
        t[i].label = malloc(2 * strlen(cc->code) + 1);
        t[i].name_label = malloc(2 * strlen(cc->name) + 1);
        if (t[i].label)
            t[i].label_len = metrics_label_escape(cc->code, t[i].label);
        if (t[i].name_label)
            t[i].name_label_len = metrics_label_escape(cc->name, t[i].name_label);
        if (!t[i].cnt_key || !t[i].json_head || !t[i].label || !t[i].name_label) {
            county_text_free(t, cfg->ncounties);
            return NULL;
        }
    }
    return t;
}

void county_text_free(struct county_text *t, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n; i++) {
        free(t[i].cnt_key);
        free(t[i].json_head);
        free(t[i].label);
        free(t[i].name_label);
    }
    free(t);
}

void counts_free_void(void *c)
{
    counts_free(c);
}

/* A stored decimal (a counter); 0 when absent or malformed, as jsonx_ll. */
static long long str_ll(const struct store_str *e)
{
    /* Up to 18 digits cannot overflow; longer texts take the careful way. */
    if (e->s && e->len > 0 && e->len <= 18) {
        size_t i = e->s[0] == '-' ? 1 : 0;
        long long v = 0;
        if (i == e->len)
            return 0;
        for (; i < e->len; i++) {
            if (e->s[i] < '0' || e->s[i] > '9')
                return 0;
            v = v * 10 + (e->s[i] - '0');
        }
        return e->s[0] == '-' ? -v : v;
    }
    char buf[24];
    int64_t v = 0;
    if (!e->s || e->len == 0 || e->len >= sizeof buf)
        return 0;
    memcpy(buf, e->s, e->len);
    buf[e->len] = '\0';
    return parse_i64(buf, &v) ? v : 0;
}

/* One round of a read through the cache: on a link's reading connection
 * (its answers kept), or on the main store (link -1: not kept). Its arrays
 * are slices of the carrier's. */
struct part {
    struct req *r;
    int link;
    size_t *at;                /* the counties' positions in the counts */
    struct ccache_ticket *tix; /* what their answers are kept with */
    size_t n;
};

/* The round and the batch callbacks know only the request; the counts and
 * the continuation travel in this small carrier, owned by the request. */
struct pending {
    struct county_counts *c;
    counts_done_fn done;
    /* Through the cache (ccache.h): the counties read from Redis, by part
     * (one per link, then the main store's). */
    size_t *at;
    struct ccache_ticket *tix;
    int *lk;
    struct part *parts;
    int nparts;
    int outstanding;      /* rounds not over (+1 while starting them) */
    enum store_status st; /* the first part's status that was not OK */
    bool cache_failed;    /* a link's round failed: everything again */
};

static struct pending *current(struct req *r)
{
    return (struct pending *)r->state;
}

static void on_rolled(struct req *r, struct batch *b)
{
    struct pending *p = current(r);
    struct county_counts *c = p->c;
    enum store_status st = batch_worst(b);
    for (size_t k = 0; st == STORE_OK && k < c->nagain; k++) {
        json_t *res = batch_result(b, k);
        c->reg[c->again[k]] = jsonx_ll(json_object_get(res, "registered"));
        c->srv[c->again[k]] = jsonx_ll(json_object_get(res, "served"));
    }
    p->done(r, c, st);
}

/* One county's HMGET: rolled, r:Y, s:Y, alert, pk:Y[, c:<service>..., o:<outcome>...,
 * v]. False for anything else (an error reply). */
static bool parse_row(size_t n, const struct store_str *el, struct county_vals *v)
{
    if (n < FIXED_FIELDS)
        return false;
    v->rolled = el[0].s ? str_ll(&el[0]) : -1;
    v->reg = str_ll(&el[1]);
    v->srv = str_ll(&el[2]);
    v->alert = alert_state_parse(el[3].s, el[3].len);
    v->pkg = str_ll(&el[4]);
    for (size_t s = 0; s < GC_NSERVICES; s++)
        v->contacts[s] = FIXED_FIELDS + s < n ? str_ll(&el[FIXED_FIELDS + s]) : 0;
    size_t at = FIXED_FIELDS + GC_NSERVICES;
    v->attempts[GC_OUTCOME_REACHED] = 0;
    for (size_t o = 1; o < GC_NOUTCOMES; o++, at++)
        v->attempts[o] = at < n ? str_ll(&el[at]) : 0;
    v->voided = at < n ? str_ll(&el[at]) : 0;
    return true;
}

/* A county nothing has touched since the year began still holds last year's
 * materialisation: it must be rolled now (once a year per county). */
static bool needs_roll(const struct county_counts *c, const struct county_vals *v)
{
    return v->rolled >= 0 && v->rolled < c->period;
}

static void apply_vals(struct county_counts *c, size_t i, const struct county_vals *v)
{
    c->reg[i] = v->reg;
    c->srv[i] = v->srv;
    c->alert[i] = v->alert;
    c->pkg[i] = v->pkg;
    long long reached = 0;
    for (size_t s = 0; c->services && s < GC_NSERVICES; s++) {
        c->contacts[i * GC_NSERVICES + s] = v->contacts[s];
        reached += v->contacts[s];
    }
    /* Reached contacts are the recorded ones that were not attempts. */
    for (size_t o = 1; c->services && o < GC_NOUTCOMES; o++) {
        c->outcomes[i * GC_NOUTCOMES + o] = v->attempts[o];
        reached -= v->attempts[o];
    }
    if (c->services) {
        c->outcomes[i * GC_NOUTCOMES + GC_OUTCOME_REACHED] = reached > 0 ? reached : 0;
        c->voided[i] = v->voided;
    }
    if (needs_roll(c, v) && !c->in_again[i]) {
        c->in_again[i] = true;
        c->again[c->nagain++] = i;
    }
}

/* Before a read (again): no county marked to roll. */
static void again_clear(struct county_counts *c)
{
    for (size_t k = 0; k < c->nagain; k++)
        c->in_again[c->again[k]] = false;
    c->nagain = 0;
}

static void on_counter_row(void *arg, size_t i, size_t n, const struct store_str *el)
{
    struct county_counts *c = current(arg)->c;
    struct county_vals v;
    if (i < c->n && parse_row(n, el, &v))
        apply_vals(c, i, &v);
}

static void on_counters(void *arg, enum store_status st)
{
    struct req *r = arg;
    struct pending *p = current(r);
    struct county_counts *c = p->c;
    if (st != STORE_OK || c->nagain == 0) {
        p->done(r, c, st);
        return;
    }
    struct batch *b2 = batch_new(r, c->nagain, on_rolled);
    if (!b2) {
        p->done(r, c, STORE_FAILED);
        return;
    }
    int off = r->app->cfg->utc_offset_minutes;
    for (size_t k = 0; k < c->nagain; k++) {
        char key[KEY_MAX], args[96];
        key_county(key, sizeof key, r->app->cfg->counties[c->idx[c->again[k]]].code);
        snprintf(args, sizeof args, "{\"cur\":%d,\"period\":%d,\"off\":%d}", c->cur, c->period,
                 off);
        const char *argv[2] = {key, args};
        size_t lens[2] = {strlen(key), strlen(args)};
        batch_script(b2, k, "coverage", 1, 2, argv, lens);
    }
    batch_start(b2);
}

static void pending_free(void *v)
{
    struct pending *p = v;
    counts_free(p->c);
    free(p->at);
    free(p->tix);
    free(p->lk);
    free(p->parts);
    free(p);
}

/* The HMGET of one period's counters; argv[1] (the key) is set per county. */
struct hmget {
    char rf[16], sf[16], pf[16], svc[GC_NSERVICES][40], out[GC_NOUTCOMES][24];
    const char *argv[2 + FIXED_FIELDS + CONTACT_FIELDS];
    size_t lens[2 + FIXED_FIELDS + CONTACT_FIELDS];
    int argc;
};

static void hmget_init(struct hmget *h, int period, bool services)
{
    snprintf(h->rf, sizeof h->rf, "r:%d", period);
    snprintf(h->sf, sizeof h->sf, "s:%d", period);
    snprintf(h->pf, sizeof h->pf, "pk:%d", period);
    h->argv[0] = "HMGET";
    h->argv[1] = "";
    h->argv[2] = "rolled";
    h->argv[3] = h->rf;
    h->argv[4] = h->sf;
    h->argv[5] = "alert";
    h->argv[6] = h->pf;
    /* Coverage needs 5 fields; /metrics (and the cache) the 13 counters too. */
    h->argc = 2 + FIXED_FIELDS + (services ? CONTACT_FIELDS : 0);
    for (size_t s = 0; s < GC_NSERVICES; s++) {
        snprintf(h->svc[s], sizeof h->svc[s], "c:%s", gc_services[s]);
        h->argv[2 + FIXED_FIELDS + s] = h->svc[s];
    }
    int at = 2 + FIXED_FIELDS + GC_NSERVICES;
    for (size_t o = 1; o < GC_NOUTCOMES; o++) {
        snprintf(h->out[o], sizeof h->out[o], "o:%s", gc_outcomes[o]);
        h->argv[at++] = h->out[o];
    }
    h->argv[at] = "v";
    for (int a = 0; a < h->argc; a++)
        h->lens[a] = strlen(h->argv[a]);
}

/* Every county from Redis on the main connection. */
static void read_direct(struct req *r)
{
    struct county_counts *c = current(r)->c;
    again_clear(c);
    int budget = call_budget_ms(r);
    struct store_round *rd = store_round_new(r->app->store, budget, on_counter_row, on_counters, r);
    if (!rd) {
        current(r)->done(r, c, budget > 0 ? STORE_DOWN : STORE_TIMEOUT);
        return;
    }
    struct hmget h;
    hmget_init(&h, c->period, c->services);
    const struct county_text *ct = r->app->ctext;
    for (size_t i = 0; i < c->n; i++) {
        h.argv[1] = ct[c->idx[i]].cnt_key;
        h.lens[1] = ct[c->idx[i]].cnt_key_len;
        store_round_add(rd, h.argc, h.argv, h.lens);
    }
    store_round_start(rd);
}

/* Reply k of a part: county part->at[k], kept when read on its link unless
 * it must be rolled (the roll changes it, which the cache will hear of
 * anyway). */
static void on_part_row(void *arg, size_t k, size_t n, const struct store_str *el)
{
    struct part *part = arg;
    struct req *r = part->r;
    struct county_counts *c = current(r)->c;
    struct county_vals v;
    if (k >= part->n || !parse_row(n, el, &v))
        return;
    size_t i = part->at[k];
    apply_vals(c, i, &v);
    if (part->link >= 0 && !needs_roll(c, &v))
        ccache_put(r->app->ccache, c->idx[i], c->period, part->tix[k], &v);
}

/* One round is over; after the last, the counts are complete, unless a
 * link's round failed (dropped, slow, a slot moved): then the request reads
 * everything again on the main store while it has time. */
static void part_settle(struct req *r)
{
    struct pending *p = current(r);
    if (--p->outstanding > 0)
        return;
    if (p->cache_failed && call_budget_ms(r) > 0) {
        read_direct(r);
        return;
    }
    on_counters(r, p->st);
}

static void on_part_done(void *arg, enum store_status st)
{
    struct part *part = arg;
    struct pending *p = current(part->r);
    if (part->link >= 0 && st != STORE_OK && st != STORE_TIMEOUT)
        p->cache_failed = true;
    if (st != STORE_OK && p->st == STORE_OK)
        p->st = st;
    part_settle(part->r);
}

/* Sends part's round on s (NULL: not usable); false when it could not. */
static bool part_start(struct req *r, struct part *part, struct store *s)
{
    int budget = call_budget_ms(r);
    struct store_round *rd =
        s && budget > 0 ? store_round_new(s, budget, on_part_row, on_part_done, part) : NULL;
    if (!rd)
        return false;
    struct hmget h;
    hmget_init(&h, current(r)->c->period, true);
    const struct county_text *ct = r->app->ctext;
    const struct county_counts *c = current(r)->c;
    for (size_t k = 0; k < part->n; k++) {
        size_t i = c->idx[part->at[k]];
        h.argv[1] = ct[i].cnt_key;
        h.lens[1] = ct[i].cnt_key_len;
        store_round_add(rd, h.argc, h.argv, h.lens);
    }
    current(r)->outstanding++;
    store_round_start(rd);
    return true;
}

/* Every invalidation for writes acknowledged before the request arrived has
 * been applied on each link that passed: its counties still cached are
 * exact; its others are read on it (and kept), one pipelined round per
 * link; counties of links that did not pass (a master away, a barrier
 * unanswered) are read on the main store, one more round (one per master
 * on a cluster), and not kept. */
static void after_barrier(void *arg, const bool *passed)
{
    struct req *r = arg;
    struct pending *p = current(r);
    struct county_counts *c = p->c;
    struct ccache *cc = r->app->ccache;
    int nl = ccache_nlinks(cc), direct = nl; /* the main store's part */
    p->at = malloc(c->n * sizeof *p->at);
    p->tix = malloc(c->n * sizeof *p->tix);
    p->lk = malloc(c->n * sizeof *p->lk);
    p->parts = calloc((size_t)nl + 1, sizeof *p->parts);
    if (!p->at || !p->tix || !p->lk || !p->parts) {
        read_direct(r);
        return;
    }
    p->nparts = nl + 1;
    again_clear(c);
    size_t through_cache = 0;
    for (size_t k = 0; k < c->n; k++) {
        int l = ccache_link_of(cc, c->idx[k]);
        struct county_vals v;
        if (l < 0 || !passed[l] || !ccache_usable(cc, l)) {
            p->lk[k] = direct;
        } else if (ccache_get(cc, c->idx[k], c->period, &v)) {
            apply_vals(c, k, &v);
            p->lk[k] = -1;
            through_cache++;
        } else {
            p->lk[k] = l;
            through_cache++;
        }
        if (p->lk[k] >= 0)
            p->parts[p->lk[k]].n++;
    }
    if (through_cache == 0) {
        read_direct(r); /* no link passed: one round as without the cache */
        return;
    }
    /* Each part's slice of the arrays, as long as it counted; then filled. */
    size_t off = 0;
    for (int l = 0; l <= nl; l++) {
        size_t n = p->parts[l].n;
        p->parts[l] =
            (struct part){.r = r, .link = l < nl ? l : -1, .at = p->at + off, .tix = p->tix + off};
        off += n;
    }
    for (size_t k = 0; k < c->n; k++) {
        if (p->lk[k] < 0)
            continue;
        struct part *part = &p->parts[p->lk[k]];
        if (part->link >= 0)
            part->tix[part->n] = ccache_ticket(cc, c->idx[k]);
        part->at[part->n++] = k;
    }
    p->outstanding = 1; /* held while starting: a round may end at once */
    p->st = STORE_OK;
    for (int l = 0; l <= nl; l++) {
        struct part *part = &p->parts[l];
        if (part->n == 0)
            continue;
        if (l < nl && !part_start(r, part, ccache_store(cc, l)))
            p->cache_failed = true;
        else if (l == nl && !part_start(r, part, r->app->store) && p->st == STORE_OK)
            p->st = call_budget_ms(r) > 0 ? STORE_DOWN : STORE_TIMEOUT;
    }
    part_settle(r);
}

void counts_read(struct req *r, struct county_counts *c, counts_done_fn done)
{
    /* r->state becomes the carrier; it owns c from here on. */
    struct pending *p = calloc(1, sizeof *p);
    if (!p) {
        r->state = c; /* still ours to free, with the request */
        r->state_free = counts_free_void;
        done(r, c, STORE_FAILED);
        return;
    }
    p->c = c;
    p->done = done;
    r->state = p;
    r->state_free = pending_free;
    again_clear(c);
    if (c->n == 0) {
        /* Nothing to read: an empty answer, whether Redis is there or not. */
        done(r, c, STORE_OK);
        return;
    }
    /* The current period goes through the cache when it and the main
     * connection are up (Redis loading its data answers the cache's commands
     * but not the reads); the barrier gets half the request's Redis time, the
     * reads the rest. A request with little time left reads directly: an
     * unanswered barrier renews the subscription for everyone. */
    int budget = call_budget_ms(r);
    if (c->period == c->cur && budget >= BARRIER_MIN_BUDGET_MS && store_ready(r->app->store) &&
        ccache_barrier(r->app->ccache, c->idx, c->n, budget / 2, after_barrier, r) == 0)
        return;
    read_direct(r);
}
