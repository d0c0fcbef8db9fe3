/* The one context: event base, HTTP server, Redis store, signals, clock and
 * the lifecycle from start to a graceful stop. */
#ifndef GRADCOVER_APP_H
#define GRADCOVER_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"
#include "gradcover/core/clock.h"
#include "gradcover/domain/acklink.h"
#include "gradcover/reload.h"

struct config;
struct conns;
struct event;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct pii;
struct store;
struct ccache;
struct metrics;
struct alerter;
struct notifier;
struct reminder;
struct digester;
struct unsilencer;
struct router;
struct retention;
struct transfers;
struct exporter;
struct ssl_ctx_st;

struct app_opts {
    const char *config_path; /* read again on SIGHUP (reload.h); borrowed, must outlive the app */
    const char *listen;      /* overrides cfg->listen when non-NULL */
    const char *redis_url;   /* overrides cfg->redis_url when non-NULL */
    bool now_set;            /* --now: run the clock from this instant */
    int64_t now_ms;
    int redis_timeout_ms;
    struct ssl_ctx_st *tls_server; /* HTTPS listener when non-NULL; taken by app_new */
    struct ssl_ctx_st *tls_client; /* for https:// receivers; taken by app_new */
};

struct county_text;

struct app {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct conns *conns; /* client connections: cap, deadlines, head checks */
    struct config *cfg;  /* owned */
    struct store *store;
    struct ccache *ccache;     /* county counters kept between reads (ccache.h) */
    struct sentinel *sentinel; /* redis-sentinel://: finds the master for every store; else NULL */
    struct cluster *cluster;   /* redis-cluster://: the router behind a->store; else NULL */
    struct pii *pii;
    struct metrics *metrics;
    struct alerter *alerter;
    struct notifier *notifier;
    struct reminder *reminder;     /* repeats and escalations due (remind.h) */
    struct unsilencer *unsilencer; /* the ends of silences (unsilence.h) */
    struct digester *digester;     /* the daily digest (digest.h) */
    struct retention *retention;
    struct transfers *transfers;   /* the transfer repair job */
    struct router *router;         /* the HTTP front: routes, authentication, limits */
    struct exporter *exporter;     /* XLSX workers (api/export.h) */
    struct ssl_ctx_st *tls_server; /* owned; NULL = plain HTTP */
    struct ssl_ctx_st *tls_client; /* owned; NULL = no https:// receiver */
    struct event *sigterm;
    struct event *sigint;
    struct event *drain_timer; /* the graceful stop's deadline */
    struct event *drain_tick;  /* checks whether the graceful stop is done */
    struct event *sighup;      /* reload.h */
    const char *config_path;   /* borrowed from app_opts */
    struct reload_stats reload;
    struct config_gen *old_gens; /* older configurations, freed at exit (reload.h) */
    struct event *log_flush;     /* writes the log lines of a loop iteration (log.h) */
    struct county_text *ctext;   /* per county, rendered once (counts.h) */
    struct clock clock;          /* the wall clock, shifted by --now */
    bool draining;               /* SIGTERM received: /readyz 503 "draining" */
    bool exiting;                /* the loop ends after the flush grace */
    bool pii_mismatch;           /* Redis was written with another PII key (its last check) */
    /* Random bytes for ids, fetched 512 at a time (one getrandom() per ~32
     * contact ids instead of one each); rnd_used of them are spent. */
    unsigned char rnd[512];
    size_t rnd_used;
    char listen[300];        /* the address actually listened on (after --listen) */
    char hsts[32];           /* Strict-Transport-Security value, "" when none (app_new) */
    char dashboard_csp[512]; /* the dashboard's Content-Security-Policy (api_dashboard_csp) */
    char counselor_csp[512]; /* the counselor page's policy (api_counselor_csp) */
    char ack_csp[256];       /* the acknowledgement pages' policy (api_ack_csp) */
    /* Signs and checks acknowledgement links (acklink.h): derived from the
     * PII key at start, the same on every server; the delivery side signs
     * the links of its messages with it (acklink_url). */
    struct acklink_key ack_key;
};

/* Builds the app: binds the listener (HTTPS only when opts->tls_server is
 * set), opens the PII key, starts connecting to Redis. Takes ownership of cfg
 * and of opts' TLS contexts (also on failure). NULL with err on failure. */
struct app *app_new(struct config *cfg, const struct app_opts *opts, char *err, size_t errlen);

/* Runs the loop until SIGTERM/SIGINT and the drain finish. Returns 0. */
int app_run(struct app *a);

void app_free(struct app *a);

/* Wall-clock now in Unix ms, shifted by --now. */
int64_t app_now_ms(const struct app *a);

/* A random id of `chars` ([A-Za-z0-9]) from the app's pool of random bytes
 * (out: chars + 1); -1 when the system has no random bytes to give. */
int app_random_id(struct app *a, char *out, size_t chars) GC_MUSTCHECK;

#endif
