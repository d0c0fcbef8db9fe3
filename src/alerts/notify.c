/* The outbox consumer (see notify.h): jobs, per-receiver deliveries, retries,
 * delivery records and acks, take-over and renewal of pending entries. What
 * is sent and how an answer counts is each receiver kind's (receiver.h);
 * when, with what else and whether at all (silences) is the receiver's
 * queue's (sendq.h). */
#include "gradcover/alerts/notify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "gradcover/alerts/post.h"
#include "gradcover/alerts/receiver.h"
#include "gradcover/alerts/sendq.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/jsonx.h"
#include "gradcover/core/log.h"
#include "gradcover/core/metrics.h"
#include "gradcover/core/sweep.h"
#include "gradcover/domain/acklink.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/store.h"

/* New events are read at once after a transition made here; the periodic
 * poll sweeps every outbox for events nobody read (their writer died first),
 * SWEEP_CHUNK of them per poll, all of them every SWEEP_MS: the poll runs
 * every SWEEP_MS * SWEEP_CHUNK / counties, within POLL_MIN_MS..POLL_MAX_MS. */
#define SWEEP_MS 12000
#define POLL_MIN_MS 62
#define POLL_MAX_MS 1000
/* A failed read (NOGROUP after a FLUSHALL or a restart without persistence;
 * an ACL without XREADGROUP) re-creates the groups and reads again after a
 * poll period, doubling while it lasts to READ_RETRY_MAX_MS: a failure that
 * persists costs one read and the group checks every 30 s, never a loop. */
#define READ_RETRY_MIN_MS 1000
#define READ_RETRY_MAX_MS 30000
/* Events read per stream per XREADGROUP; the rest wait for the next poll. */
#define READ_COUNT "50"
/* Counties whose outboxes one periodic read covers. XREADGROUP costs Redis
 * ~7 µs per stream (3,000 counties, 300 graduates each): 16 streams is
 * ~0.1 ms, too short to hold up the requests queued behind it, and a
 * 3,000-county sweep still takes 12 s (256 streams a second). Every timer
 * wake-up costs ~0.1 ms of CPU on this kind of VM, hence not smaller. */
#define SWEEP_CHUNK 16
/* An event pending this long at a consumer that stopped renewing it is taken
 * over by another; every in-flight event is renewed each CLAIM_EVERY_MS, three
 * times within the idle limit, so a live but slow server keeps its events. */
#define CLAIM_IDLE_MS 30000
#define CLAIM_EVERY_MS 10000
/* The take-over sweep (one XAUTOCLAIM per county every CLAIM_EVERY_MS) is
 * spread over that interval in slices this far apart, never sent in one burst
 * (3,000 counties were ~15 ms of Redis time at once). */
#define CLAIM_SLICE_MIN_MS 50
#define CLAIM_SLICE_MAX_MS 1000
/* SPEC §7: retries (sendq_backoff_ms) for up to 24 h. */
#define RETRY_FOR_MS (24LL * 3600 * 1000)

struct job;

struct delivery {
    struct sendq_item item; /* first: the queue hands it back */
    struct job *job;
    size_t receiver; /* its slot in n->rs (receiver.h): stable across reloads */
    bool done;
    bool attempts_started;
    bool parked; /* its retry fell due while stopping: left pending in Redis */
    int attempts;
    int64_t first_at;
    char last_error[128];
    struct event *timer;
};

struct job {
    struct notifier *n;
    struct job *next;
    size_t county;  /* index in cfg->counties */
    char entry[48]; /* stream entry id */
    char event_id[96];
    char episode[ACKLINK_EPISODE_MAX + 1];
    enum receiver_event_kind kind;
    int repeat;
    char ack_url[ACKLINK_URL_MAX]; /* the last link made for a message of this event */
    json_t *event;                 /* the entry's fields as an object */
    /* One per receiver slot that existed when the event was read (nd of
     * them): a receiver added by a later reload takes the events read
     * after it, not this one. */
    struct delivery *d;
    size_t nd;
    size_t pending; /* receivers not done */
    int writes;     /* delivery_record calls in flight */
};

struct notifier {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    const struct clock *clock;
    const struct acklink_key *ack_key;
    struct post_client *post;
    struct sendq *q; /* one queue per receiver */
    struct event *poll_timer;
    struct event *claim_timer;
    char consumer[512]; /* host (64) : listen (300) : boot id (40) */
    bool reading;
    bool read_again;       /* a kick arrived while a read was in flight */
    bool own_pending_read; /* after (re)connecting, our own pending entries come first */
    bool groups_lost;      /* a read failed: make the outboxes' groups again first */
    int read_retry_ms;     /* after a failed read; 0 after a good one */
    int64_t read_after;    /* monotonic ms: no read before (a failed one's back-off) */
    struct event *kick;    /* one-shot: read now, without moving the poll timer */
    bool *dirty;           /* counties with a transition made here, not yet read */
    size_t *scratch;       /* county indexes of the read being built */
    size_t sweep_pos;      /* next county of the periodic sweep */
    struct sweep claims;   /* the take-over sweep: every county each CLAIM_EVERY_MS */
    int64_t renewed_at;    /* monotonic ms of the last renewal of our own events */
    size_t claims_pending; /* XAUTOCLAIMs sent and not yet answered */
    struct job *jobs;
    struct receiver_set rs; /* receiver.h: one slot per receiver name, never reused */
    bool draining;          /* graceful stop: no new reads, take-overs or retries */
};

/* ---- the event as the receivers see it ---- */

static long long fnum(json_t *ev, const char *k)
{
    return jsonx_ll(json_object_get(ev, k));
}

static const char *fstr(json_t *ev, const char *k)
{
    const char *s = json_string_value(json_object_get(ev, k));
    return s ? s : "";
}

/* The job's event for the receivers; borrowed from j, valid while it lives. */
static void event_view(struct job *j, int64_t now, struct receiver_event *ev)
{
    const struct config *cfg = j->n->cfg;
    ev->event_id = j->event_id;
    ev->status = fstr(j->event, "status");
    ev->resolved = strcmp(ev->status, "resolved") == 0;
    ev->county = &cfg->counties[j->county];
    ev->period = fstr(j->event, "period");
    ev->registered = fnum(j->event, "registered");
    ev->served = fnum(j->event, "served");
    ev->threshold_bp = (uint32_t)fnum(j->event, "threshold_bp");
    ev->started_at = fnum(j->event, "started_at");
    ev->resolved_at = fnum(j->event, "resolved_at");
    ev->sent_at = now;
    ev->utc_offset_minutes = cfg->utc_offset_minutes;
    ev->kind = j->kind;
    ev->repeat = j->repeat;
    ev->ack_url = NULL;
    /* A fresh link for every message (valid 7 days from it): only while the
     * episode fires is there anything to acknowledge. */
    struct notifier *n = j->n;
    if (!ev->resolved && cfg->alerts.public_url && n->ack_key && j->episode[0] &&
        acklink_url(n->ack_key, cfg->alerts.public_url, j->episode, now, j->ack_url,
                    sizeof j->ack_url) == 0)
        ev->ack_url = j->ack_url;
}

/* The queue's view of a delivery's event (sendq_item.view). */
static void delivery_view(struct sendq_item *it, int64_t now, struct receiver_event *ev)
{
    struct delivery *d = (struct delivery *)it;
    event_view(d->job, now, ev);
}

/* ---- jobs ---- */

static void job_free(struct job *j)
{
    struct notifier *n = j->n;
    for (struct job **pp = &n->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    for (size_t r = 0; r < j->nd; r++) {
        if (j->d[r].timer)
            event_free(j->d[r].timer);
        if (n->q && !j->d[r].done)
            sendq_forget(n->q, &j->d[r].item);
    }
    json_decref(j->event);
    free(j->d);
    free(j);
}

static void on_recorded(enum store_status st, json_t *res, void *arg)
{
    (void)res;
    struct job *j = arg;
    if (st != STORE_OK)
        log_warn("event=delivery_record_failed event_id=%s", j->event_id);
    /* Freed once every receiver is done and its record written (with the ack). */
    if (--j->writes == 0 && j->pending == 0)
        job_free(j);
}

/* Writes one receiver's outcome (d may be NULL: only acknowledge) and, once
 * every receiver is done, acknowledges the stream entry in the same script. */
static void write_record(struct job *j, const char *receiver, json_t *rec)
{
    struct notifier *n = j->n;
    char key[KEY_MAX];
    key_county(key, sizeof key, n->cfg->counties[j->county].code);
    char *rtext = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_t *args = json_pack("{s:s, s:s, s:b}", "event_id", j->event_id, "entry", j->entry, "done",
                             j->pending == 0);
    /* The episode lists its events' records (GET /api/v1/alerts). */
    if (args && j->episode[0])
        json_object_set_new(args, "episode", json_string(j->episode));
    if (args && receiver && rtext) {
        json_object_set_new(args, "receiver", json_string(receiver));
        json_object_set_new(args, "record", json_string(rtext));
    }
    free(rtext);
    char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
    json_decref(args);
    const char *argv[2] = {key, text ? text : "{}"};
    size_t lens[2] = {strlen(key), strlen(argv[1])};
    j->writes++;
    if (store_script(n->store, "delivery_record", 1, 2, argv, lens, on_recorded, j) < 0) {
        /* Redis is down: the entry stays pending and is delivered again later. */
        log_warn("event=delivery_record_failed event_id=%s", j->event_id);
        if (--j->writes == 0 && j->pending == 0)
            job_free(j);
    }
    free(text);
}

static void attempt(struct delivery *d);

/* The last_error of a delivery dropped because its receiver went away. */
#define REMOVED "receiver removed by a configuration reload"

static void record(struct delivery *d, const char *state);

/* d's receiver was removed by a reload: d is done without a message,
 * recorded "dropped" (with its last error: the removal, or the answer of
 * the attempt that was under way). The job may be freed. */
static void delivery_drop(struct delivery *d)
{
    struct job *j = d->job;
    if (d->timer)
        evtimer_del(d->timer);
    if (!d->last_error[0])
        snprintf(d->last_error, sizeof d->last_error, "%s", REMOVED);
    log_info("event=alert_delivery event_id=%s receiver=%s attempt=%d result=dropped reason=\"%s\"",
             j->event_id, j->n->rs.r[d->receiver]->name, d->attempts, d->last_error);
    d->done = true;
    d->parked = false;
    j->pending--;
    record(d, "dropped");
}

static void record(struct delivery *d, const char *state)
{
    struct job *j = d->job;
    json_t *rec = json_pack("{s:s, s:i, s:s?, s:I, s:I}", "state", state, "attempts", d->attempts,
                            "last_error", d->last_error[0] ? d->last_error : NULL,
                            "last_attempt_at", (json_int_t)clock_now_ms(j->n->clock),
                            "first_attempt_at", (json_int_t)d->first_at);
    write_record(j, j->n->rs.r[d->receiver]->name, rec);
    json_decref(rec);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct delivery *d = arg;
    /* Stopping: the event stays pending in Redis for the next consumer. */
    if (d->job->n->draining && !d->job->n->rs.r[d->receiver]->removed) {
        d->parked = true;
        return;
    }
    attempt(d);
}

/* What became of one send of d (sendq_item.done). */
static void on_sent(struct sendq_item *it, enum sendq_outcome o, const char *why)
{
    struct delivery *d = (struct delivery *)it;
    struct job *j = d->job;
    struct notifier *n = j->n;
    const struct receiver *r = n->rs.r[d->receiver];
    snprintf(d->last_error, sizeof d->last_error, "%s", why ? why : "");
    if (o == SENDQ_DROPPED) {
        delivery_drop(d);
        return;
    }
    if (o == SENDQ_SUPPRESSED) {
        /* Silenced: nothing is sent for the county, now or later; the
         * record says so, and the event is done for this receiver. */
        sendq_count(n->q, d->receiver, SENDQ_R_SUPPRESSED);
        log_info("event=alert_delivery event_id=%s receiver=%s result=suppressed reason=\"%s\"",
                 j->event_id, r->name, d->last_error);
        d->done = true;
        j->pending--;
        record(d, "suppressed");
        return;
    }
    d->attempts++;
    enum sendq_result res;
    if (o == SENDQ_DONE) {
        res = SENDQ_R_DELIVERED;
        d->last_error[0] = '\0';
    } else {
        bool expired = clock_now_ms(n->clock) - d->first_at > RETRY_FOR_MS;
        res = o == SENDQ_RETRY && !expired ? SENDQ_R_RETRY : SENDQ_R_FAILED;
    }
    static const char *const names[] = {"delivered", "retry", "failed"};
    sendq_count(n->q, d->receiver, res);
    log_info("event=alert_delivery event_id=%s receiver=%s attempt=%d result=%s%s%s", j->event_id,
             r->name, d->attempts, names[res], d->last_error[0] ? " error=" : "",
             d->last_error[0] ? d->last_error : "");
    if (res == SENDQ_R_RETRY && r->removed) {
        /* Its receiver was removed while this attempt was on its way. */
        snprintf(d->last_error, sizeof d->last_error, "%.60s, then " REMOVED, why ? why : "");
        delivery_drop(d);
        return;
    }
    if (res == SENDQ_R_RETRY) {
        int64_t ms = sendq_backoff_ms(d->attempts);
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(d->timer, &tv);
        record(d, "pending");
        return;
    }
    d->done = true;
    j->pending--;
    record(d, res == SENDQ_R_DELIVERED ? "delivered" : "failed");
}

/* Hands d to its receiver's queue. */
static void attempt(struct delivery *d)
{
    struct notifier *n = d->job->n;
    if (n->rs.r[d->receiver]->removed) {
        d->last_error[0] = '\0';
        delivery_drop(d);
        return;
    }
    if (!d->first_at)
        d->first_at = clock_now_ms(n->clock);
    sendq_put(n->q, &d->item);
}

static void job_start(struct job *j)
{
    if (j->pending == 0) {
        /* No receiver wants it, or all were done by an earlier process: ack. */
        write_record(j, NULL, NULL);
        return;
    }
    /* An attempt can finish synchronously and free the job with its last
     * record; hold it until the loop is over. */
    j->writes++;
    for (size_t r = 0; r < j->nd; r++)
        if (!j->d[r].done && !j->d[r].attempts_started) {
            j->d[r].attempts_started = true;
            attempt(&j->d[r]);
        }
    if (--j->writes == 0 && j->pending == 0)
        job_free(j);
}

/* Earlier attempts of this event (by any process) are restored first. */
static void on_previous(enum store_status st, json_t *res, void *arg)
{
    struct job *j = arg;
    struct notifier *n = j->n;
    if (st != STORE_OK) {
        job_free(j); /* still pending in the stream: read again later */
        return;
    }
    for (size_t i = 0; i + 1 < json_array_size(res); i += 2) {
        const char *name = json_string_value(json_array_get(res, i));
        json_t *rec = json_loads(json_string_value(json_array_get(res, i + 1)), 0, NULL);
        for (size_t r = 0; name && rec && r < j->nd; r++) {
            if (strcmp(n->rs.r[r]->name, name) != 0 || j->d[r].done)
                continue;
            const char *state = json_string_value(json_object_get(rec, "state"));
            j->d[r].attempts = (int)json_integer_value(json_object_get(rec, "attempts"));
            j->d[r].first_at = json_integer_value(json_object_get(rec, "first_attempt_at"));
            if (state && strcmp(state, "pending") != 0) {
                j->d[r].done = true;
                j->pending--;
            }
        }
        json_decref(rec);
    }
    job_start(j);
}

static bool in_flight(struct notifier *n, size_t county, const char *entry)
{
    for (struct job *j = n->jobs; j; j = j->next)
        if (j->county == county && strcmp(j->entry, entry) == 0)
            return true;
    return false;
}

/* entry: [id, [field, value, ...]] from XREADGROUP or XAUTOCLAIM. */
static void job_new(struct notifier *n, size_t county, json_t *entry)
{
    const char *id = json_string_value(json_array_get(entry, 0));
    json_t *flat = json_array_get(entry, 1);
    if (!id || !json_is_array(flat) || in_flight(n, county, id))
        return;
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->n = n;
    j->county = county;
    snprintf(j->entry, sizeof j->entry, "%s", id);
    j->event = json_object();
    for (size_t i = 0; i + 1 < json_array_size(flat); i += 2)
        json_object_set(j->event, json_string_value(json_array_get(flat, i)),
                        json_array_get(flat, i + 1));
    snprintf(j->event_id, sizeof j->event_id, "%s", fstr(j->event, "event_id"));
    snprintf(j->episode, sizeof j->episode, "%s", fstr(j->event, "episode"));
    j->repeat = (int)fnum(j->event, "repeat");
    /* An event of a kind this version does not know (a newer server wrote
     * it) is acknowledged without a delivery: no receiver wants it. */
    bool known =
        receiver_event_kind_parse(fstr(j->event, "kind"), fstr(j->event, "status"), &j->kind);
    if (!known)
        log_warn("event=alert_event_unknown_kind event_id=%s kind=%s", j->event_id,
                 fstr(j->event, "kind"));
    j->nd = n->rs.n;
    j->d = calloc(j->nd ? j->nd : 1, sizeof *j->d);
    if (!j->d) {
        json_decref(j->event);
        free(j);
        return;
    }
    const char *code = n->cfg->counties[county].code;
    for (size_t r = 0; r < j->nd; r++) {
        const struct receiver *rv = n->rs.r[r];
        j->d[r].job = j;
        j->d[r].receiver = r;
        j->d[r].item = (struct sendq_item){
            .receiver = r, .county = code, .view = delivery_view, .done = on_sent};
        j->d[r].timer = evtimer_new(n->base, on_retry_timer, &j->d[r]);
        if (known && !rv->removed && receiver_wants(rv, code) && receiver_takes(rv, j->kind))
            j->pending++;
        else
            j->d[r].done = true;
    }
    j->next = n->jobs;
    n->jobs = j;
    char key[KEY_MAX + 96];
    key_delivery(key, sizeof key, code, j->event_id);
    const char *argv[2] = {"HGETALL", key};
    size_t lens[2] = {7, strlen(key)};
    if (store_command(n->store, 2, argv, lens, on_previous, j) < 0)
        job_free(j);
}

/* ---- reading the outboxes ---- */

static long county_of_stream(const struct notifier *n, const char *key)
{
    const char *open = key ? strchr(key, '{') : NULL;
    const char *close = open ? strchr(open, '}') : NULL;
    if (!close || close - open - 1 > GC_COUNTY_MAX)
        return -1;
    char code[GC_COUNTY_MAX + 1];
    memcpy(code, open + 1, (size_t)(close - open - 1));
    code[close - open - 1] = '\0';
    return config_county_index(n->cfg, code);
}

static void handle_read(struct notifier *n, json_t *res)
{
    size_t i;
    json_t *stream;
    json_array_foreach(res, i, stream)
    {
        long c = county_of_stream(n, json_string_value(json_array_get(stream, 0)));
        json_t *entries = json_array_get(stream, 1);
        size_t k;
        json_t *e;
        json_array_foreach(entries, k, e)
        {
            if (c >= 0)
                job_new(n, (size_t)c, e);
        }
    }
}

static void poll_now(struct notifier *n);
static void on_connected(struct notifier *n);

static void on_read(enum store_status st, json_t *res, void *arg)
{
    struct notifier *n = arg;
    n->reading = false;
    if (st == STORE_OK) {
        n->read_retry_ms = 0;
        handle_read(n, res);
    } else {
        /* On a Redis Cluster the read is split per slot (cluster.h): with a
         * master away, the streams the others read come with the failure,
         * and are delivered now rather than after that master is back. */
        bool partial = json_is_array(res);
        if (partial)
            handle_read(n, res);
        /* Not read: not again at once. Our own pending entries first again,
         * at the next poll; while Redis refuses writes, not before it takes
         * them again (poll_now, then on_connected). Failed (NOGROUP: Redis
         * lost a stream or group to a restart without persistence, FLUSHALL,
         * a failover): the groups are made again first, after a back-off.
         * Read in part: new entries next, not our pending ones again — they
         * would fail the same way for as long as that master is away, and
         * new entries would never be read; what the failed part may have
         * read is taken over by the claim sweep once it is idle. */
        n->read_again = false;
        if (!partial)
            n->own_pending_read = false;
        if (st == STORE_FAILED) {
            n->groups_lost = true;
            n->read_retry_ms = n->read_retry_ms == 0                      ? READ_RETRY_MIN_MS
                               : n->read_retry_ms * 2 > READ_RETRY_MAX_MS ? READ_RETRY_MAX_MS
                                                                          : n->read_retry_ms * 2;
            n->read_after = clock_mono_ms() + n->read_retry_ms;
        }
    }
    if (n->read_again) {
        n->read_again = false;
        poll_now(n);
    }
}

/* XREADGROUP over the outboxes of the counties idx[0..count). */
static void read_outboxes(struct notifier *n, const char *from, const size_t *idx, size_t count)
{
    const struct config *cfg = n->cfg;
    if (count == 0)
        return;
    size_t argc = 7 + 2 * count;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *lens = calloc(argc, sizeof *lens);
    char(*keys)[KEY_MAX] = calloc(count, sizeof *keys);
    if (!argv || !lens || !keys)
        goto out_free_argv;
    size_t a = 0;
    argv[a++] = "XREADGROUP";
    argv[a++] = "GROUP";
    argv[a++] = "delivery";
    argv[a++] = n->consumer;
    argv[a++] = "COUNT";
    argv[a++] = READ_COUNT;
    argv[a++] = "STREAMS";
    for (size_t i = 0; i < count; i++) {
        key_outbox(keys[i], KEY_MAX, cfg->counties[idx[i]].code);
        argv[a++] = keys[i];
    }
    for (size_t i = 0; i < count; i++)
        argv[a++] = from;
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (store_command(n->store, (int)argc, argv, lens, on_read, n) == 0)
        n->reading = true;
out_free_argv:
    free(argv);
    free(lens);
    free(keys);
}

static void on_group_ready(enum store_status st, json_t *res, void *arg)
{
    (void)st;
    (void)res;
    (void)arg;
}

/* After every (re)connection: the groups exist, then our own pending entries
 * (a restart of this server) are read before new ones. */
static void on_connected(struct notifier *n)
{
    const struct config *cfg = n->cfg;
    for (size_t i = 0; i < cfg->ncounties; i++) {
        char key[KEY_MAX];
        key_county(key, sizeof key, cfg->counties[i].code);
        const char *argv[2] = {key, "{}"};
        size_t lens[2] = {strlen(key), 2};
        if (store_script(n->store, "outbox_init", 1, 2, argv, lens, on_group_ready, n) < 0)
            return;
    }
    n->own_pending_read = false;
}

void notifier_on_ready(struct notifier *n)
{
    if (!n)
        return;
    n->groups_lost = false;
    n->read_retry_ms = 0;
    n->read_after = 0;
    on_connected(n);
}

static void poll_now(struct notifier *n)
{
    /* Connections of answered requests are freed here, outside their callbacks. */
    post_client_reap(n->post);
    /* XREADGROUP writes (the pending list): nothing while Redis refuses,
     * nothing new once stopping. */
    if (!store_writable(n->store) || n->draining)
        return;
    if (n->reading) {
        n->read_again = true;
        return;
    }
    if (clock_mono_ms() < n->read_after)
        return;
    if (n->groups_lost) {
        n->groups_lost = false;
        on_connected(n);
    }
    size_t nc = n->cfg->ncounties, count = 0;
    if (!n->own_pending_read) {
        /* Our own pending entries first (a restart), then straight on to new
         * ones; once per connection, so all counties in one command. */
        n->own_pending_read = true;
        n->read_again = true;
        for (size_t i = 0; i < nc; i++)
            n->scratch[count++] = i;
        read_outboxes(n, "0", n->scratch, count);
        return;
    }
    /* Counties that just made a transition here... */
    for (size_t i = 0; i < nc; i++)
        if (n->dirty[i]) {
            n->dirty[i] = false;
            n->scratch[count++] = i;
        }
    /* ...else the next slice of the sweep, which finds events nobody read (their
     * writer died first): small commands, so Redis never stalls for long. */
    if (count == 0)
        for (; count < SWEEP_CHUNK && count < nc; count++) {
            n->scratch[count] = n->sweep_pos;
            n->sweep_pos = (n->sweep_pos + 1) % nc;
        }
    read_outboxes(n, ">", n->scratch, count);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    poll_now(arg);
}

void notifier_kick(struct notifier *n, const char *county)
{
    static const struct timeval now = {0, 0};
    long i = n ? config_county_index(n->cfg, county) : -1;
    if (i < 0)
        return;
    n->dirty[i] = true;
    evtimer_add(n->kick, &now);
}

void notifier_transition(struct notifier *n, const char *request_id, const char *county,
                         const char *transition)
{
    if (!transition || !transition[0])
        return;
    if (request_id)
        log_info("event=alert_transition request_id=%s county=%s transition=%s", request_id, county,
                 transition);
    else
        log_info("event=alert_transition county=%s transition=%s source=timer", county, transition);
    notifier_kick(n, county);
}

/* ---- taking over from dead consumers, renewing our own ---- */

struct claim_call {
    struct notifier *n;
    size_t county;
};

static void on_autoclaim(enum store_status st, json_t *res, void *arg)
{
    struct claim_call *c = arg;
    c->n->claims_pending--;
    if (st == STORE_OK) {
        json_t *entries = json_array_get(res, 1);
        size_t k;
        json_t *e;
        json_array_foreach(entries, k, e)
        {
            log_info("event=alert_event_taken_over county=%s entry=%s",
                     c->n->cfg->counties[c->county].code, json_string_value(json_array_get(e, 0)));
            job_new(c->n, c->county, e);
        }
    }
    free(c);
}

static void on_renewed(enum store_status st, json_t *res, void *arg)
{
    (void)st;
    (void)res;
    (void)arg;
}

/* Our own in-flight events, renewed so that nobody takes them over. */
static void renew_own(struct notifier *n)
{
    const struct config *cfg = n->cfg;
    for (struct job *j = n->jobs; j; j = j->next) {
        char key[KEY_MAX];
        key_outbox(key, sizeof key, cfg->counties[j->county].code);
        const char *argv[7] = {"XCLAIM", key, "delivery", n->consumer, "0", j->entry, "JUSTID"};
        size_t lens[7];
        for (int i = 0; i < 7; i++)
            lens[i] = strlen(argv[i]);
        if (store_command(n->store, 7, argv, lens, on_renewed, NULL) < 0)
            return;
    }
}

/* Events another consumer has left idle for CLAIM_IDLE_MS in county i's
 * outbox become ours. False when the store refused the command. */
static bool autoclaim(struct notifier *n, size_t i)
{
    struct claim_call *c = malloc(sizeof *c);
    if (!c)
        return false;
    c->n = n;
    c->county = i;
    char key[KEY_MAX], idle[16];
    key_outbox(key, sizeof key, n->cfg->counties[i].code);
    snprintf(idle, sizeof idle, "%d", CLAIM_IDLE_MS);
    const char *argv[8] = {"XAUTOCLAIM", key, "delivery", n->consumer, idle, "0-0", "COUNT", "20"};
    size_t lens[8];
    for (int a = 0; a < 8; a++)
        lens[a] = strlen(argv[a]);
    if (store_command(n->store, 8, argv, lens, on_autoclaim, c) < 0) {
        free(c);
        return false;
    }
    n->claims_pending++;
    return true;
}

/* Every slice: renewals when due, and the counties of the take-over
 * sweep whose turn has come (county i of N at i/N of CLAIM_EVERY_MS). */
static void on_claim_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct notifier *n = arg;
    if (!store_writable(n->store))
        return; /* XCLAIM and XAUTOCLAIM write */
    int64_t t = clock_mono_ms();
    if (t - n->renewed_at >= CLAIM_EVERY_MS) {
        n->renewed_at = t;
        renew_own(n);
    }
    /* A new round at the first slice CLAIM_EVERY_MS after the last began;
     * none once stopping (what we take over we would have to deliver). */
    if (n->draining || !sweep_round(&n->claims, t))
        return;
    if (n->claims_pending > 0)
        return; /* Redis has not answered the last slice: no pile-up */
    size_t due = sweep_due(&n->claims, t);
    while (n->claims.next < due && autoclaim(n, n->claims.next))
        n->claims.next++;
}

/* ---- lifecycle and metrics ---- */

struct notifier *notifier_new(const struct notifier_deps *deps)
{
    struct notifier *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->base = deps->base;
    n->store = deps->store;
    n->cfg = deps->cfg;
    n->clock = deps->clock;
    n->ack_key = deps->ack_key;
    n->dirty = calloc(n->cfg->ncounties, sizeof *n->dirty);
    n->scratch = calloc(n->cfg->ncounties, sizeof *n->scratch);
    char host[64] = "gradcoverd";
    gethostname(host, sizeof host - 1);
    /* Stable across restarts of the same server, so that it re-reads its own
     * pending events at once; distinct between servers on one host. */
    /* The boot id tells apart cloned machines with the same host name. */
    char boot[40] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(boot, sizeof boot, f))
            boot[0] = '\0';
        fclose(f);
        boot[strcspn(boot, "\n")] = '\0';
        boot[8] = '\0';
    }
    snprintf(n->consumer, sizeof n->consumer, "%s:%s:%s", host, deps->listen, boot);
    n->post = post_client_new(n->base, deps->tls_client);
    if (n->post)
        n->q = sendq_new(&(struct sendq_deps){
            .base = n->base, .store = n->store, .cfg = n->cfg, .clock = n->clock, .post = n->post});
    n->poll_timer = event_new(n->base, -1, EV_PERSIST, on_poll, n);
    n->kick = evtimer_new(n->base, on_poll, n);
    n->claim_timer = event_new(n->base, -1, EV_PERSIST, on_claim_timer, n);
    /* Both sweeps start one interval from now, as plain periodic timers would. */
    size_t nc = n->cfg->ncounties;
    n->renewed_at = clock_mono_ms();
    sweep_init(&n->claims, nc, CLAIM_EVERY_MS, SWEEP_AT_TICK, n->renewed_at);
    int64_t poll_ms = sweep_tick_ms(SWEEP_MS, nc, SWEEP_CHUNK, POLL_MIN_MS, POLL_MAX_MS);
    int64_t claim_ms = sweep_tick_ms(CLAIM_EVERY_MS, nc, 1, CLAIM_SLICE_MIN_MS, CLAIM_SLICE_MAX_MS);
    struct timeval poll = {(time_t)(poll_ms / 1000), (suseconds_t)(poll_ms % 1000) * 1000},
                   claim = {(time_t)(claim_ms / 1000), (suseconds_t)(claim_ms % 1000) * 1000};
    n->rs.env = (struct receiver_env){
        .base = n->base, .store = n->store, .cfg = n->cfg, .clock = n->clock, .post = n->post};
    if (!n->q || !n->post || !n->dirty || !n->scratch || !n->poll_timer || !n->kick ||
        !n->claim_timer || event_add(n->poll_timer, &poll) < 0 ||
        event_add(n->claim_timer, &claim) < 0)
        goto out_free_notifier;
    enum receiver_change *ch = NULL;
    if (receivers_sync(&n->rs, n->cfg, &ch) < 0)
        goto out_free_notifier;
    free(ch);
    for (size_t i = 0; i < n->rs.n; i++)
        if (sendq_add(n->q, n->rs.r[i]) < 0)
            goto out_free_notifier;
    return n;
out_free_notifier:
    notifier_free(n);
    return NULL;
}

static int reconfigure_receivers(struct notifier *n, const struct config *cfg);

int notifier_reconfigure(struct notifier *n, const struct config *cfg)
{
    size_t old = n->cfg->ncounties, nc = cfg->ncounties;
    if (nc > old) {
        bool *dirty = realloc(n->dirty, nc * sizeof *dirty);
        if (!dirty)
            return -1;
        n->dirty = dirty;
        memset(dirty + old, 0, (nc - old) * sizeof *dirty);
        size_t *scratch = realloc(n->scratch, nc * sizeof *scratch);
        if (!scratch)
            return -1;
        n->scratch = scratch;
    }
    n->cfg = cfg;
    n->claims.n = nc; /* the take-over round in progress takes in the new counties */
    sendq_reconfigure(n->q, cfg);
    if (nc > old && store_writable(n->store))
        on_connected(n); /* the new counties' outbox groups */
    return reconfigure_receivers(n, cfg);
}

/* Drops the deliveries of slot r (removed) that wait for a retry: those
 * queued were dropped by the queue, those posted finish with their answer.
 * Returns how many. */
static size_t drop_waiting(struct notifier *n, size_t r)
{
    size_t dropped = 0;
    for (struct job *j = n->jobs, *next; j; j = next) {
        next = j->next;
        if (r >= j->nd)
            continue;
        struct delivery *d = &j->d[r];
        if (d->done || !(d->parked || (d->attempts_started && evtimer_pending(d->timer, NULL))))
            continue;
        j->writes++; /* held: a record written at once would free it under us */
        d->last_error[0] = '\0';
        delivery_drop(d);
        dropped++;
        if (--j->writes == 0 && j->pending == 0)
            job_free(j);
    }
    return dropped;
}

/* The receivers of cfg, matched to the old ones by name (receiver.h):
 * added ones get a queue and the events read from now on; changed ones
 * keep their queue, and their next message uses the new settings; removed
 * ones' waiting messages are dropped (counted in the log line). */
static int reconfigure_receivers(struct notifier *n, const struct config *cfg)
{
    size_t before = n->rs.n;
    enum receiver_change *ch = NULL;
    if (receivers_sync(&n->rs, cfg, &ch) < 0)
        return -1;
    int rc = 0;
    for (size_t i = before; i < n->rs.n; i++)
        if (sendq_add(n->q, n->rs.r[i]) < 0) {
            /* Its items are dropped by the queue (no queue for the slot). */
            log_error("event=receiver_add_failed receiver=%s err=\"out of memory\"",
                      n->rs.r[i]->name);
            rc = -1;
        }
    for (size_t i = 0; i < n->rs.n; i++) {
        const struct receiver *r = n->rs.r[i];
        switch (ch[i]) {
        case RECEIVER_KEPT:
            break;
        case RECEIVER_ADDED:
            sendq_revive(n->q, i);
            log_info("event=receiver_added receiver=%s format=%s", r->name, r->kind->name);
            break;
        case RECEIVER_CHANGED:
            log_info("event=receiver_changed receiver=%s format=%s", r->name, r->kind->name);
            break;
        case RECEIVER_REMOVED: {
            size_t queued = sendq_remove(n->q, i);
            size_t waiting = drop_waiting(n, i);
            log_warn("event=receiver_removed receiver=%s dropped=%zu", r->name, queued + waiting);
            break;
        }
        }
    }
    free(ch);
    return rc;
}

void notifier_set_tls(struct notifier *n, struct ssl_ctx_st *tls)
{
    if (n)
        post_client_set_tls(n->post, tls);
}

void notifier_free(struct notifier *n)
{
    if (!n)
        return;
    /* Requests still in flight are dropped with their connections; their events
     * stay pending in Redis and are delivered after the restart. */
    post_client_free(n->post);
    sendq_free(n->q);
    n->q = NULL;
    while (n->jobs)
        job_free(n->jobs);
    if (n->poll_timer)
        event_free(n->poll_timer);
    if (n->kick)
        event_free(n->kick);
    if (n->claim_timer)
        event_free(n->claim_timer);
    receivers_clear(&n->rs);
    free(n->dirty);
    free(n->scratch);
    free(n);
}

void notifier_drain(struct notifier *n)
{
    if (n)
        n->draining = true;
}

bool notifier_busy(const struct notifier *n)
{
    if (!n)
        return false;
    for (const struct job *j = n->jobs; j; j = j->next) {
        if (j->writes > 0)
            return true; /* a record or the ack on its way to Redis */
        for (size_t r = 0; r < j->nd; r++) {
            const struct delivery *d = &j->d[r];
            /* Not done and not waiting for a retry: being read, queued or sent. */
            if (!d->done && !d->parked && !(d->attempts_started && evtimer_pending(d->timer, NULL)))
                return true;
        }
    }
    return false;
}

void notifier_render_metrics(const struct notifier *n, FILE *out)
{
    sendq_render_metrics(n->q, out);
}

struct sendq *notifier_sendq(struct notifier *n)
{
    return n ? n->q : NULL;
}

const struct receiver *notifier_receiver(const struct notifier *n, size_t slot)
{
    return n && slot < n->rs.n && !n->rs.r[slot]->removed ? n->rs.r[slot] : NULL;
}

long notifier_receiver_slot(const struct notifier *n, const char *name)
{
    return n ? receivers_find(&n->rs, name) : -1;
}
