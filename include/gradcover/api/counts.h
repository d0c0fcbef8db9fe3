/* Reading the per-county counters of one period for many counties: one
 * pipelined HMGET per county in a single round trip (a store round: one
 * deadline, no per-county allocation), plus one pipelined round of the
 * `coverage` script for counties not yet rolled into a new year. Shared by
 * the coverage API and /metrics. */
#ifndef GRADCOVER_API_COUNTS_H
#define GRADCOVER_API_COUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/domain/alert.h"
#include "gradcover/domain/services.h"
#include "gradcover/store/ccache.h"
#include "gradcover/store/store.h"

struct req;

struct county_counts {
    int period;    /* the period asked for */
    int cur;       /* the current period by our clock */
    size_t n;      /* counties read */
    bool services; /* read the contact counters too (/metrics) */
    size_t *idx;   /* their indexes in cfg->counties */
    long long *reg, *srv;
    long long *contacts;     /* n * GC_NSERVICES, contacts recorded by service (if asked) */
    long long *outcomes;     /* n * GC_NOUTCOMES, contacts recorded by outcome (if asked) */
    long long *voided;       /* n, contacts voided (if asked) */
    long long *pkg;          /* n, graduates who completed the service package (SPEC §12) */
    enum alert_state *alert; /* the county's alert state, if any was stored */
    size_t *again;           /* internal: counties to roll, each once */
    size_t nagain;
    /* internal: i is in again (a cluster round may deliver a row twice) */
    bool *in_again;
};

/* Room for up to n counties. NULL on allocation failure. */
struct county_counts *counts_new(size_t n);
void counts_free(struct county_counts *c);
/* For r->state_free. */
void counts_free_void(void *c);

/* Called once with the request still unanswered; st != STORE_OK when Redis
 * did not answer every county (the arrays are then incomplete). */
typedef void (*counts_done_fn)(struct req *r, struct county_counts *c, enum store_status st);

/* Reads c->n counties (c->idx, c->period, c->cur set by the caller). Takes
 * ownership of c: it lives in r->state and is freed with the request, so it is
 * valid in `done` until the reply. r->state must be unused. */
void counts_read(struct req *r, struct county_counts *c, counts_done_fn done);

/* Text of each configured county that every coverage and /metrics answer
 * repeats, rendered once: the configuration never changes while running.
 * With 3,000 counties, escaping codes and names and formatting key names per
 * request was a third of a coverage's CPU. */
struct county_text {
    char *cnt_key; /* "gc:{<code>}:cnt" */
    size_t cnt_key_len;
    char *json_head; /* {"code":"…","name":"…","threshold":0.9, */
    size_t json_head_len;
    char *label; /* the code as a Prometheus label value (escaped) */
    size_t label_len;
    char *name_label; /* the name as a Prometheus label value (escaped) */
    size_t name_label_len;
};

struct config;
/* One entry per cfg->counties, in the same order; NULL when memory ran out. */
struct county_text *county_text_new(const struct config *cfg);
void county_text_free(struct county_text *t, size_t n);

#endif
