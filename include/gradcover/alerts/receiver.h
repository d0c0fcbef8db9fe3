/* Alert receivers: what a receiver kind sees of an alert event, and the
 * payloads of each kind, one file per kind (rcv_<kind>.c). No I/O here
 * beyond what a kind does in the background (Alertmanager's resend). */
#ifndef GRADCOVER_ALERTS_RECEIVER_H
#define GRADCOVER_ALERTS_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct clock;
struct config;
struct county_cfg;
struct event_base;
struct post_client;
struct store;

/* One outbox event as the receiver kinds see it; strings and the county are
 * borrowed for the duration of the call. */
struct receiver_event {
    const char *event_id; /* "611002-2026-3:firing": receivers drop repeats by it */
    const char *status;   /* "firing" or "resolved" */
    bool resolved;        /* status is "resolved" */
    const struct county_cfg *county;
    const char *period; /* "2026" */
    long long registered, served;
    uint32_t threshold_bp;
    int64_t started_at;     /* Unix ms */
    int64_t resolved_at;    /* Unix ms; read only when resolved */
    int64_t sent_at;        /* Unix ms: this attempt, by the wall clock */
    int utc_offset_minutes; /* the configured offset, for local times */
};

/* What a kind's background work uses; every pointer borrowed, outliving it. */
struct receiver_env {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock;
    struct post_client *post;
};

/* ---- json (SPEC §7's webhook) ---- */

/* "sha256=" and 64 hex digits, NUL-terminated. */
#define RCV_JSON_SIG_LEN 72

/* The webhook body of ev. A new reference; NULL when out of memory. */
json_t *rcv_json_body(const struct receiver_event *ev);

/* X-Gradcover-Signature of body: "sha256=<hex HMAC-SHA256(secret, body)>". */
void rcv_json_sign(const char *secret, const char *body, char out[RCV_JSON_SIG_LEN]);

/* ---- Alertmanager ---- */

/* The /api/v2/alerts body of ev: one alert. A new reference; NULL when out
 * of memory. */
json_t *rcv_alertmanager_body(const struct receiver_event *ev);

struct rcv_alertmanager_resend;

/* Re-sends every firing county's alert to the Alertmanager at url (borrowed)
 * each minute, on env->base. NULL on failure. */
struct rcv_alertmanager_resend *rcv_alertmanager_resend_new(const struct receiver_env *env,
                                                            const char *url);

/* Stops the re-sending. NULL is a no-op. */
void rcv_alertmanager_resend_free(struct rcv_alertmanager_resend *rs);

#endif
