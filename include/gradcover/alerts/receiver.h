/* Alert receivers behind one small interface, as hiredis keeps its core
 * ignorant of the event loop behind an adapter: a receiver *kind* builds the
 * request for an alert event, signs it and judges the answer; the outbox
 * consumer (notify.c) posts, retries and records, and knows no kind's format.
 * One file per kind (rcv_<name>.c), one row in the table of receiver.c. */
#ifndef GRADCOVER_ALERTS_RECEIVER_H
#define GRADCOVER_ALERTS_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gradcover/common.h"

struct clock;
struct config;
struct county_cfg;
struct event_base;
struct post_client;
struct store;

/* A kind's judgement of one attempt. */
enum receiver_verdict {
    RECEIVER_DONE,      /* delivered */
    RECEIVER_RETRY,     /* not this time: again with backoff, for up to 24 h */
    RECEIVER_PERMANENT, /* refused: repeating the request cannot help */
};

/* What an outbox event says (its "kind" field, else its status). */
enum receiver_event_kind {
    RECEIVER_FIRING,     /* an episode began */
    RECEIVER_RESOLVED,   /* it ended */
    RECEIVER_REPEAT,     /* still firing and unacknowledged: alerts.repeat_interval_seconds */
    RECEIVER_ESCALATION, /* unacknowledged for alerts.escalate_after_seconds: once */
    RECEIVER_UNSILENCED, /* a silence ended and the county is still firing */
};

/* One outbox event as the kinds see it; strings and the county are borrowed
 * for the duration of the call. */
struct receiver_event {
    const char *event_id; /* "611002-2026-3:firing": receivers drop repeats by it */
    const char *status;   /* "firing" or "resolved" */
    bool resolved;        /* status is "resolved" */
    enum receiver_event_kind kind;
    int repeat; /* RECEIVER_REPEAT: its number, from 1 */
    const struct county_cfg *county;
    const char *period; /* "2026" */
    long long registered, served;
    uint32_t threshold_bp;
    int64_t started_at;     /* Unix ms */
    int64_t resolved_at;    /* Unix ms; read only when resolved */
    int64_t sent_at;        /* Unix ms: this attempt, by the wall clock */
    int utc_offset_minutes; /* the configured offset, for local times */
    const char *ack_url;    /* "{public_url}/ack/{token}" for a firing episode; NULL: none */
};

/* One county of the daily digest (below target, not silenced). */
struct receiver_digest_county {
    const struct county_cfg *county;
    long long registered, served;
    uint32_t threshold_bp;
    long long yesterday; /* contacts recorded on the previous local day */
    long long waiting;   /* seeking graduates not yet served this period */
    int64_t oldest_ms;   /* registration of the longest-waiting one; 0 when none wait */
    const char *ack_url; /* the firing episode's link; NULL when not firing or acknowledged */
};

/* The daily digest of one receiver (SPEC §11), its counties in its scope. */
struct receiver_digest {
    int64_t day;                                /* the local date, days since 1970-01-01 */
    const struct receiver_digest_county *below; /* below target, most to serve first */
    size_t nbelow;
    size_t on_target;        /* counties on target (registered 0 included) */
    size_t silenced;         /* counties left out: silenced now */
    long long yesterday_all; /* contacts on the previous local day, every county in scope */
};

/* The language of a message (alerts.language). */
enum receiver_lang { RECEIVER_ZH, RECEIVER_EN };

/* One message: an event, several events that were ready together (a chat
 * robot lists them in one message), or a digest. Borrowed for the call. */
struct receiver_message {
    const struct receiver_event *events; /* n >= 1, or none with a digest */
    size_t n;
    const struct receiver_digest *digest; /* non-NULL: the daily digest */
    enum receiver_lang lang;
    const char *public_url; /* alerts.public_url: the dashboard link; NULL: no links */
    int64_t sent_at;        /* Unix ms by the (possibly --now shifted) wall clock */
    int64_t sign_at;        /* Unix ms by the system clock: robots check signatures' times */
    int utc_offset_minutes;
};

/* Room for a URL a kind makes ("{alertmanager_url}/api/v2/alerts"): the
 * 600 bytes it always had, ample for a base URL; a kind that signs into the
 * URL (dingtalk) adds ~110 bytes to a ~100-byte robot URL. */
#define RECEIVER_URL_MAX 600
/* Headers a kind may add, and the longest value: an event id is < 96 bytes,
 * a signature 71. */
#define RECEIVER_HEADERS_MAX 4
#define RECEIVER_HEADER_VALUE_MAX 160

/* One request as a kind builds it. Zero-initialise it; it points into
 * itself, so do not copy it. */
struct receiver_request {
    char *body;      /* owned: freed by receiver_request_clear */
    const char *url; /* the receiver's URL (borrowed) or urlbuf */
    char urlbuf[RECEIVER_URL_MAX];
    /* NULL-terminated name, value pairs, as post_json takes them. */
    const char *headers[2 * RECEIVER_HEADERS_MAX + 1];
    char values[RECEIVER_HEADERS_MAX][RECEIVER_HEADER_VALUE_MAX];
    size_t nheaders;
};

/* What a kind's background work (start) uses; every pointer is borrowed and
 * outlives the receivers. */
struct receiver_env {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock;
    struct post_client *post;
};

struct receiver;

/* A kind: the whole of what differs between a JSON webhook, Alertmanager and
 * a chat robot. build and classify are required, the rest may be NULL. */
struct receiver_kind {
    const char *name; /* "json", "alertmanager", "wecom", ... (SPEC §11's "format") */
    /* A chat robot: events ready together go out as one message (and a
     * digest may be sent to it); otherwise every message holds one event. */
    bool batches;
    /* The least time between two messages to one receiver, kept across
     * every server (the robot's documented rate limit); 0: none. */
    int spacing_ms;
    /* Fills req (zeroed) to send m to r: URL, body, headers. 0, or -1
     * when memory ran out (the attempt is then retried). A kind that does
     * not batch gets one event at a time. */
    int (*build)(const struct receiver *r, const struct receiver_message *m,
                 struct receiver_request *req);
    /* Signs the built req with r->secret; called only when r has one. 0 or
     * -1 as build. NULL: the kind signs nothing (or signs inside build). */
    int (*sign)(const struct receiver *r, const struct receiver_message *m,
                struct receiver_request *req);
    /* Judges an answer: the HTTP status and the head of its body (len bytes,
     * NUL-terminated, at most POST_BODY_MAX). Writes why into why (shown as
     * the delivery's last_error) unless RECEIVER_DONE. Only answers come
     * here: no answer at all is retried, and a URL that cannot be used fails
     * at once, for every kind alike (notify.c). */
    enum receiver_verdict (*classify)(int http_status, const char *body, size_t len, char *why,
                                      size_t whylen);
    /* Background work beside deliveries for receiver r (Alertmanager's
     * resend while firing): returns its state, or NULL on failure. */
    void *(*start)(const struct receiver *r, const struct receiver_env *env);
    /* Ends what start began and frees its state. */
    void (*stop)(void *state);
    /* SIGHUP (reload.h): the background work reads cfg from now on (its
     * counties extend the old ones). NULL: it reads nothing of it. */
    void (*reconfigure)(void *state, const struct config *cfg);
};

/* One configured receiver. Its identity is its name (alerts.webhooks[].name,
 * required and unique; "alertmanager" for alerts.alertmanager_url), never
 * its position in the file: delivery records, pacing turns and digest turns
 * in Redis are keyed by it, and a reload (receivers_sync) finds the same
 * receiver by it. Strings are borrowed from the configuration generation
 * that last set them (generations live until exit, reload.h). */
struct receiver {
    const struct receiver_kind *kind;
    const char *name;   /* the metrics label and the delivery record's key */
    const char *url;    /* as configured */
    const char *secret; /* NULL: unsigned */
    char *const *counties;
    size_t ncounties; /* 0: every county */
    bool escalation;  /* the city's leaders: escalations only (and the digest, when named) */
    bool removed;     /* no longer configured (a reload): takes nothing new */
    void *state;      /* kind->start's, until kind->stop */
};

/* The receivers of a running process, one slot per receiver *name* ever
 * configured since the start. A slot is never reused for another name nor
 * freed before the set, so its index names one receiver for the whole run:
 * queues (sendq.h), deliveries (notify.c) and the digest keep indexes, and
 * callbacks in flight may keep pointers. A removed receiver keeps its slot
 * (removed = true); configured again under its name, it gets it back. */
struct receiver_set {
    struct receiver **r; /* slots; each owned */
    size_t n;
    struct receiver_env env; /* for the kinds' background work; env.cfg follows syncs */
};

/* What receivers_sync did to one slot. */
enum receiver_change {
    RECEIVER_KEPT,    /* unchanged (or still removed) */
    RECEIVER_ADDED,   /* a new name, or a removed one configured again */
    RECEIVER_CHANGED, /* same name: URL, secret, format, counties or escalation changed */
    RECEIVER_REMOVED, /* its name is no longer configured */
};

/* Makes s hold cfg's receivers (borrowed; every webhook, then Alertmanager
 * when alertmanager_url is set), matched to the slots by name: a receiver
 * whose name is kept stays in its slot with its settings replaced, so that
 * adding, removing, reordering or changing one leaves the others' state
 * alone. Starts the background work of those added, stops the removed
 * ones', hands cfg to the others' (none is started while env.base is
 * NULL: a set only looked at). s zeroed with env set before the first
 * call. *changes is a new array of s->n entries (free()d by the caller),
 * one per slot. -1 when out of memory: s is then unchanged. */
int receivers_sync(struct receiver_set *s, const struct config *cfg,
                   enum receiver_change **changes) GC_MUSTCHECK;

/* The slot of this name, or -1. */
long receivers_find(const struct receiver_set *s, const char *name);

/* Stops every receiver's background work and frees the slots. */
void receivers_clear(struct receiver_set *s);

/* True when r wants the events of this county. */
bool receiver_wants(const struct receiver *r, const char *county);

/* True when r takes events of this kind: an escalation receiver only
 * escalations; Alertmanager only firing and resolved (it keeps a firing
 * alert itself); every other receiver all but escalations. */
bool receiver_takes(const struct receiver *r, enum receiver_event_kind kind);

/* The kind an outbox event's "kind" field names (NULL or "": the status's,
 * "firing" or "resolved"); false for anything else. */
bool receiver_event_kind_parse(const char *kind, const char *status,
                               enum receiver_event_kind *out) GC_MUSTCHECK;

/* "firing", "resolved", "repeat", "escalation", "unsilenced". */
const char *receiver_event_kind_name(enum receiver_event_kind kind);

/* The kind of this name, or NULL. */
const struct receiver_kind *receiver_kind_named(const char *name);

/* For kinds. Makes body (a reference taken, NULL allowed) req's body: compact
 * JSON with 10 significant digits (0.9 stays 0.9 on the wire). 0, or -1 when
 * body is NULL or memory ran out. */
int receiver_request_body(struct receiver_request *req, json_t *body) GC_MUSTCHECK;

/* For kinds. Adds a header; name is borrowed (a literal), value copied. -1
 * when RECEIVER_HEADERS_MAX are there or value is too long. */
int receiver_request_header(struct receiver_request *req, const char *name,
                            const char *value) GC_MUSTCHECK;

/* Frees req's body. */
void receiver_request_clear(struct receiver_request *req);

/* For kinds that judge by the status alone (SPEC §7): 2xx done; 429 and 5xx
 * retry; any other status is permanent. why: "HTTP <status>". */
enum receiver_verdict receiver_classify_http(int http_status, const char *body, size_t len,
                                             char *why, size_t whylen);

/* For robots whose answer is JSON with an error code (wecom, dingtalk:
 * "errcode"/"errmsg"; feishu: "code"/"msg"): not 200 is judged by status
 * (receiver_classify_http); a code of 0 is done, one of retry[0..nretry) is
 * retried, any other is permanent; why is "<field> <code>: <message>". An
 * answer without the code is permanent (not the robot's answer). */
enum receiver_verdict receiver_classify_code(int http_status, const char *body, size_t len,
                                             const char *code_field, const char *msg_field,
                                             const long *retry, size_t nretry, char *why,
                                             size_t whylen);

/* For robots that sign: base64 of HMAC-SHA256(key, msg) into out (n >= 45).
 * 0, or -1 when OpenSSL failed or out is too small. */
int receiver_hmac_b64(const char *key, size_t keylen, const char *msg, size_t msglen, char *out,
                      size_t n) GC_MUSTCHECK;

/* The kinds, one file each. */
extern const struct receiver_kind rcv_json_kind;         /* rcv_json.c */
extern const struct receiver_kind rcv_alertmanager_kind; /* rcv_alertmanager.c */
extern const struct receiver_kind rcv_wecom_kind;        /* rcv_wecom.c */
extern const struct receiver_kind rcv_dingtalk_kind;     /* rcv_dingtalk.c */
extern const struct receiver_kind rcv_feishu_kind;       /* rcv_feishu.c */

#endif
