/* Alert delivery end to end (SPEC §7): the real gradcoverd on the real Redis
 * posts its alert transitions to real HTTP receivers (receiver.c, a forked
 * process) and to a real Alertmanager (Debian's prometheus-alertmanager).
 *
 * Every test starts from the same county state, made by a separate server
 * whose alerts wait an hour (so the build-up sends nothing): 611002 with 10
 * registered and 9 served (exactly 90%: not below target). Registering an
 * 11th graduate (9/11 = 81.8%) makes it fire; a contact for the 11th
 * (10/11 = 90.9%) resolves it. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "receiver.h"

#include "receiver.c"

#define SECRET "s3cret-for-shangzhou"
#define COUNTY "611002"

static char period[16];

/* ---- processes started by a test, stopped even when it fails half-way ---- */

static struct gc_server *servers[8];
static size_t nservers;
static pid_t am_pid;

static struct gc_server *start(const char *cfg)
{
    struct gc_server *s = h_start(cfg, NULL, NULL, true);
    if (nservers < sizeof servers / sizeof servers[0])
        servers[nservers++] = s;
    return s;
}

/* gradcoverd on a given port: a restart of "the same server" (its delivery
 * consumer is named after the address it listens on). */
static struct gc_server *start_at(const char *cfg, int port)
{
    struct gc_server *s = h_start_port(cfg, NULL, NULL, true, port);
    if (nservers < sizeof servers / sizeof servers[0])
        servers[nservers++] = s;
    return s;
}

static void forget(struct gc_server *s)
{
    for (size_t i = 0; i < nservers; i++)
        if (servers[i] == s)
            servers[i] = servers[--nservers];
}

static void stop(struct gc_server *s)
{
    forget(s);
    ck_assert_int_eq(h_stop(s), 0);
}

static void crash(struct gc_server *s)
{
    forget(s);
    h_kill(s);
}

static void setup(void)
{
    h_init();
    h_flushdb();
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(period, sizeof period, "%d", tm.tm_year + 1900);
}

static void teardown(void)
{
    receiver_stop_all();
    while (nservers > 0)
        crash(servers[0]);
    if (am_pid > 0) {
        kill(am_pid, SIGKILL);
        waitpid(am_pid, NULL, 0);
        am_pid = 0;
    }
}

/* ---- configuration ---- */

static json_t *webhook(const char *name, int port, const char *secret, const char *county)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/%s", port, name);
    json_t *w = json_pack("{s:s, s:s}", "name", name, "url", url);
    if (secret)
        json_object_set_new(w, "secret", json_string(secret));
    if (county)
        json_object_set_new(w, "counties", json_pack("[s]", county));
    return w;
}

/* Writes <work>/<name>.json: the default configuration with these alerts.
 * webhooks is stolen (may be NULL); returns a path valid until the next call
 * with another name slot (eight rotate). */
static const char *config(const char *name, int for_seconds, json_t *webhooks, int am_port)
{
    static char paths[8][600];
    static int slot;
    json_t *cfg = h_default_config();
    json_t *alerts = json_pack("{s:i, s:f, s:i}", "for_seconds", for_seconds, "clear_margin", 0.0,
                               "eval_interval_seconds", 1);
    if (webhooks)
        json_object_set_new(alerts, "webhooks", webhooks);
    if (am_port > 0) {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", am_port);
        json_object_set_new(alerts, "alertmanager_url", json_string(url));
    }
    json_object_set_new(cfg, "alerts", alerts);
    char *p = paths[slot++ % 8];
    snprintf(p, sizeof paths[0], "%s", h_write_config(cfg, name));
    json_decref(cfg);
    return p;
}

/* ---- county state ---- */

static const char *alert_state(struct gc_server *s)
{
    static char buf[32];
    struct http_resp *r =
        h_http(s, "GET", "/api/v1/counties/" COUNTY "/coverage", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "coverage: %s", r ? r->body : "no response");
    const char *st = json_string_value(json_object_get(r->json, "alert"));
    snprintf(buf, sizeof buf, "%s", st ? st : "?");
    h_resp_free(r);
    return buf;
}

static void register_grad(struct gc_server *s, int i)
{
    char id[16];
    snprintf(id, sizeof id, "G%d", i);
    h_register(s, T_C611002, id, COUNTY, i, NULL);
}

static void serve_grad(struct gc_server *s, int i)
{
    char id[16];
    snprintf(id, sizeof id, "G%d", i);
    ck_assert_int_eq(h_contact(s, T_C611002, id, NULL, NULL), 201);
}

/* 611002 at 9 of 10 (90%, state ok), built by a server whose dips only ever
 * become pending (for_seconds: an hour) and so send nothing. */
static void baseline(void)
{
    struct gc_server *s = start(config("baseline", 3600, NULL, 0));
    for (int i = 0; i < 10; i++) {
        register_grad(s, i);
        if (i < 9)
            serve_grad(s, i);
    }
    long long reg, srv;
    h_counts(s, COUNTY, "", &reg, &srv);
    ck_assert_int_eq(reg, 10);
    ck_assert_int_eq(srv, 9);
    ck_assert_str_eq(alert_state(s), "ok");
    stop(s);
    /* Nothing was ever put in the outbox. */
    ck_assert_int_eq(h_redis_int("XLEN gc:{" COUNTY "}:outbox"), 0);
}

/* ---- what the receivers saw ---- */

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The same, "" when absent. */
static const char *str0(json_t *o, const char *k)
{
    const char *v = str(o, k);
    return v ? v : "";
}

/* Requests whose X-Gradcover-Event-Id is event_id. */
static size_t count_event(json_t *reqs, const char *event_id)
{
    size_t n = 0, i;
    json_t *q;
    json_array_foreach(reqs, i, q)
    {
        const char *h = receiver_header(q, "x-gradcover-event-id");
        n += h && strcmp(h, event_id) == 0;
    }
    return n;
}

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* RFC 3339 date-time; offset must equal want_offset when given ("+08:00"). */
static bool is_rfc3339(const char *s, const char *want_offset)
{
    if (!s || strlen(s) < 20 || !is_digits(s, 4) || s[4] != '-' || !is_digits(s + 5, 2) ||
        s[7] != '-' || !is_digits(s + 8, 2) || s[10] != 'T' || !is_digits(s + 11, 2) ||
        s[13] != ':' || !is_digits(s + 14, 2) || s[16] != ':' || !is_digits(s + 17, 2))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n == 0)
            return false;
        p += n;
    }
    bool zone = strcmp(p, "Z") == 0 || ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 &&
                                        is_digits(p + 1, 2) && p[3] == ':' && is_digits(p + 4, 2));
    return zone && (!want_offset || strcmp(p, want_offset) == 0);
}

static void expect_signature(json_t *req, const char *secret)
{
    const char *body = str(req, "body");
    const char *sig = receiver_header(req, "x-gradcover-signature");
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(sig != NULL, "no X-Gradcover-Signature header");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), md,
         &len);
    char want[7 + 2 * EVP_MAX_MD_SIZE + 1] = "sha256=";
    for (unsigned i = 0; i < len; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
    ck_assert_str_eq(sig, want);
}

/* Checks one webhook request against the contract and returns its event_id
 * (owned by req). */
static const char *expect_webhook(json_t *req, const char *path, const char *secret,
                                  const char *status, long long reg, long long srv, long long gap)
{
    ck_assert_str_eq(str(req, "method"), "POST");
    ck_assert_str_eq(str(req, "path"), path);
    const char *ct = receiver_header(req, "content-type");
    ck_assert_msg(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type: %s",
                  ct ? ct : "(none)");
    json_t *b = receiver_body_json(req);
    ck_assert_msg(b != NULL, "body is not JSON: %s", str(req, "body"));
    static const char *const keys[] = {"version",    "event_id",    "status", "county",    "period",
                                       "registered", "served",      "rate",   "threshold", "gap",
                                       "started_at", "resolved_at", "sent_at"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(json_object_get(b, keys[i]) != NULL, "body lacks \"%s\": %s", keys[i],
                      str(req, "body"));
    ck_assert_msg(json_object_size(b) == sizeof keys / sizeof keys[0], "unexpected keys: %s",
                  str(req, "body"));
    ck_assert_str_eq(str(b, "version"), "1");
    ck_assert_str_eq(str(b, "status"), status);
    ck_assert_str_eq(str(json_object_get(b, "county"), "code"), COUNTY);
    ck_assert_str_eq(str(json_object_get(b, "county"), "name"), "商州区");
    ck_assert_int_eq(json_object_size(json_object_get(b, "county")), 2);
    ck_assert_str_eq(str(b, "period"), period);
    ck_assert_msg(json_is_integer(json_object_get(b, "registered")), "registered not an integer");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "registered")), reg);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "served")), srv);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "gap")), gap);
    ck_assert_msg(json_is_number(json_object_get(b, "rate")), "rate not a number");
    ck_assert_double_eq_tol(json_number_value(json_object_get(b, "rate")), (double)srv / reg, 1e-4);
    ck_assert_double_eq_tol(json_number_value(json_object_get(b, "threshold")), 0.9, 1e-9);
    ck_assert_msg(is_rfc3339(str(b, "started_at"), "+08:00"), "started_at: %s", str(req, "body"));
    ck_assert_msg(is_rfc3339(str(b, "sent_at"), NULL), "sent_at: %s", str(req, "body"));
    if (strcmp(status, "firing") == 0)
        ck_assert_msg(json_is_null(json_object_get(b, "resolved_at")), "resolved_at not null: %s",
                      str(req, "body"));
    else
        ck_assert_msg(is_rfc3339(str(b, "resolved_at"), "+08:00"), "resolved_at: %s",
                      str(req, "body"));
    const char *hdr = receiver_header(req, "x-gradcover-event-id");
    ck_assert_msg(hdr && *hdr, "no X-Gradcover-Event-Id header");
    ck_assert_str_eq(hdr, str(b, "event_id"));
    if (secret)
        expect_signature(req, secret);
    else
        ck_assert_ptr_null(receiver_header(req, "x-gradcover-signature"));
    json_decref(b);
    return hdr;
}

static char *body_field(json_t *req, const char *k)
{
    json_t *b = receiver_body_json(req);
    char *v = strdup(str(b, k) ? str(b, k) : "");
    json_decref(b);
    return v;
}

/* ---- /api/v1/alerts ---- */

/* The delivery record of (event_id, receiver), a new reference, or NULL. */
static json_t *delivery(struct gc_server *s, const char *event_id, const char *receiver)
{
    struct http_resp *r =
        h_http(s, "GET", "/api/v1/alerts?state=all&county=" COUNTY, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /api/v1/alerts: %s", r ? r->body : "no response");
    json_t *found = NULL;
    size_t i, k;
    json_t *ep, *d;
    json_array_foreach(json_object_get(r->json, "alerts"), i, ep)
    {
        json_array_foreach(json_object_get(ep, "deliveries"), k, d)
        {
            if (!found && strcmp(str0(d, "event_id"), event_id) == 0 &&
                strcmp(str0(d, "receiver"), receiver) == 0)
                found = json_incref(d);
        }
    }
    h_resp_free(r);
    return found;
}

/* Polls until the record is in state with at least min_attempts; returns it
 * (new reference) or fails with the last record seen. */
static json_t *wait_delivery(struct gc_server *s, const char *event_id, const char *receiver,
                             const char *state, int min_attempts, int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    json_t *d = NULL;
    for (;;) {
        json_decref(d);
        d = delivery(s, event_id, receiver);
        if (d && strcmp(str0(d, "state"), state) == 0 &&
            json_integer_value(json_object_get(d, "attempts")) >= min_attempts)
            return d;
        if (h_now_ms() >= end)
            break;
        h_sleep_ms(100);
    }
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    ck_abort_msg("delivery %s to %s: wanted %s with >= %d attempts within %d ms, last seen %s "
                 "(log: %s)",
                 event_id, receiver, state, min_attempts, timeout_ms, text ? text : "nothing",
                 s->log_path);
    free(text);
    return NULL;
}

static void expect_delivery_shape(json_t *d, const char *event_id, const char *status,
                                  const char *receiver)
{
    ck_assert_str_eq(str(d, "event_id"), event_id);
    ck_assert_str_eq(str(d, "status"), status);
    ck_assert_str_eq(str(d, "receiver"), receiver);
    ck_assert_msg(json_is_integer(json_object_get(d, "attempts")), "attempts not an integer");
    json_t *le = json_object_get(d, "last_error");
    ck_assert_msg(le && (json_is_null(le) || json_is_string(le)), "last_error");
    ck_assert_msg(is_rfc3339(str(d, "last_attempt_at"), NULL), "last_attempt_at");
}

/* Waits for n requests and fails with the receiver's log when they do not come. */
static json_t *expect_requests(struct receiver *rv, size_t n, int timeout_ms, struct gc_server *s)
{
    json_t *reqs = receiver_wait(rv, n, timeout_ms);
    ck_assert_msg(json_array_size(reqs) >= n,
                  "receiver got %zu requests, wanted %zu within %d ms (receiver log: %s, "
                  "gradcoverd log: %s)",
                  json_array_size(reqs), n, timeout_ms, rv->log_path, s ? s->log_path : "-");
    return reqs;
}

static void expect_count_stays(struct receiver *rv, size_t n, int ms)
{
    h_sleep_ms(ms);
    json_t *reqs = receiver_requests(rv);
    ck_assert_msg(json_array_size(reqs) == n, "receiver got %zu requests, wanted exactly %zu (%s)",
                  json_array_size(reqs), n, rv->log_path);
    json_decref(reqs);
}

/* ---- tests ---- */

/* Sends raw bytes in pieces of `piece` bytes with a pause between them, and
 * returns the answer's status. */
static int raw_post(int port, const char *head, const char *body, size_t blen, size_t piece)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    size_t hlen = strlen(head);
    for (size_t off = 0; off < hlen; off += 7) {
        size_t n = hlen - off < 7 ? hlen - off : 7;
        ck_assert(write_all(fd, head + off, n));
        if (off % 70 == 0)
            h_sleep_ms(1);
    }
    for (size_t off = 0; off < blen; off += piece) {
        size_t n = blen - off < piece ? blen - off : piece;
        ck_assert(write_all(fd, body + off, n));
        if ((off / piece) % 8 == 0)
            h_sleep_ms(1);
    }
    char buf[512];
    size_t len = 0;
    while (len < sizeof buf - 1 && read_some(fd, buf, sizeof buf - 1, &len) > 0)
        ;
    buf[len] = '\0';
    close(fd);
    return len > 12 ? atoi(buf + 9) : 0;
}

/* The receiver itself: statuses in turn (the last repeated), headers and a
 * 64 KiB body that arrives in small pieces recorded exactly. */
START_TEST(test_receiver_records_requests_exactly)
{
    struct receiver *rv = receiver_start("503,201");
    size_t blen = RECEIVER_MAX_BODY;
    char *body = malloc(blen + 1);
    for (size_t i = 0; i < blen; i++)
        body[i] = (char)('a' + i % 26);
    body[blen] = '\0';
    char head[256];
    snprintf(head, sizeof head,
             "POST /hook/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Gradcover-Event-Id: e-1\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             blen);
    ck_assert_int_eq(raw_post(rv->port, head, body, blen, 1000), 503);
    ck_assert_int_eq(raw_post(rv->port, head, body, blen, 65536), 201);
    const char *small = "POST /s HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
    ck_assert_int_eq(raw_post(rv->port, small, "{}", 2, 1), 201);
    json_t *reqs = receiver_wait(rv, 3, 2000);
    ck_assert_int_eq(json_array_size(reqs), 3);
    json_t *q = json_array_get(reqs, 0);
    ck_assert_str_eq(str(q, "method"), "POST");
    ck_assert_str_eq(str(q, "path"), "/hook/x?y=1");
    ck_assert_str_eq(receiver_header(q, "x-gradcover-event-id"), "e-1");
    ck_assert_int_eq(json_integer_value(json_object_get(q, "body_len")), (json_int_t)blen);
    ck_assert(strcmp(str(q, "body"), body) == 0);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "status")), 503);
    ck_assert(strcmp(str(json_array_get(reqs, 1), "body"), body) == 0);
    ck_assert_str_eq(str(json_array_get(reqs, 2), "body"), "{}");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(reqs, 2), "status")), 201);
    json_decref(reqs);
    free(body);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_firing_and_resolved_with_signature_and_flapping)
{
    baseline();
    struct receiver *rv = receiver_start("200");
    const char *cfg =
        config("notify", 0, json_pack("[o]", webhook("shangzhou", rv->port, SECRET, COUNTY)), 0);
    struct gc_server *s = start(cfg);

    /* 9 of 11 = 81.8%: firing, one more to serve (ceil(9.9) - 9). */
    register_grad(s, 10);
    json_t *reqs = expect_requests(rv, 1, 5000, s);
    expect_count_stays(rv, 1, 1500);
    char *fire_id = strdup(
        expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 11, 9, 1));
    char *started = body_field(json_array_get(reqs, 0), "started_at");
    ck_assert_str_eq(alert_state(s), "firing");

    /* 10 of 11 = 90.9%: resolved, with the same start and a resolution time. */
    serve_grad(s, 10);
    json_decref(reqs);
    reqs = expect_requests(rv, 2, 5000, s);
    expect_count_stays(rv, 2, 1000);
    json_t *res = json_array_get(reqs, 1);
    char *resolve_id =
        strdup(expect_webhook(res, "/hook/shangzhou", SECRET, "resolved", 11, 10, 0));
    ck_assert_str_ne(resolve_id, fire_id);
    char *started2 = body_field(res, "started_at");
    ck_assert_str_eq(started2, started);
    free(started2);
    ck_assert_str_eq(alert_state(s), "ok");

    /* Flapping twice more, quickly: 10/12 firing, 11/12 resolved, 11/13 firing,
     * 12/13 resolved, delivered as pairs in order. */
    register_grad(s, 11);
    serve_grad(s, 11);
    register_grad(s, 12);
    serve_grad(s, 12);
    json_decref(reqs);
    reqs = expect_requests(rv, 6, 10000, s);
    expect_count_stays(rv, 6, 1500);
    const char *ids[6];
    ids[0] = fire_id;
    ids[1] = resolve_id;
    ids[2] =
        expect_webhook(json_array_get(reqs, 2), "/hook/shangzhou", SECRET, "firing", 12, 10, 1);
    ids[3] =
        expect_webhook(json_array_get(reqs, 3), "/hook/shangzhou", SECRET, "resolved", 12, 11, 0);
    ids[4] =
        expect_webhook(json_array_get(reqs, 4), "/hook/shangzhou", SECRET, "firing", 13, 11, 1);
    ids[5] =
        expect_webhook(json_array_get(reqs, 5), "/hook/shangzhou", SECRET, "resolved", 13, 12, 0);
    for (int a = 0; a < 6; a++)
        for (int b = a + 1; b < 6; b++)
            ck_assert_msg(strcmp(ids[a], ids[b]) != 0, "event ids %d and %d are both %s", a, b,
                          ids[a]);
    /* Each resolution belongs to the episode its firing opened. */
    for (int p = 2; p < 6; p += 2) {
        char *f = body_field(json_array_get(reqs, (size_t)p), "started_at");
        char *r = body_field(json_array_get(reqs, (size_t)p + 1), "started_at");
        ck_assert_str_eq(f, r);
        free(f);
        free(r);
    }
    /* The admin view: three episodes, every event delivered at the first try. */
    for (int i = 0; i < 6; i++) {
        json_t *d = wait_delivery(s, ids[i], "shangzhou", "delivered", 1, 3000);
        expect_delivery_shape(d, ids[i], i % 2 ? "resolved" : "firing", "shangzhou");
        ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
        ck_assert(json_is_null(json_object_get(d, "last_error")));
        json_decref(d);
    }
    free(started);
    free(fire_id);
    free(resolve_id);
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

/* "County leaders hear at once" (docs/alerts.md), also when the transition
 * comes right after the server started: not a poll interval or two later. */
START_TEST(test_first_notification_after_start_is_sent_at_once)
{
    baseline();
    struct receiver *rv = receiver_start("200");
    const char *cfg =
        config("atonce", 0, json_pack("[o]", webhook("shangzhou", rv->port, SECRET, COUNTY)), 0);
    struct gc_server *s = start(cfg);
    long long t0 = h_now_ms();
    register_grad(s, 10);
    json_t *reqs = expect_requests(rv, 1, 5000, s);
    long long took = json_integer_value(json_object_get(json_array_get(reqs, 0), "t_ms")) - t0;
    ck_assert_msg(took < 1000,
                  "the firing notification came %lld ms after the transition (log: %s)", took,
                  s->log_path);
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_webhook_gets_only_its_counties)
{
    baseline();
    struct receiver *luonan = receiver_start("200");
    struct receiver *city = receiver_start("200");
    const char *cfg = config("routing", 0,
                             json_pack("[o, o]", webhook("luonan", luonan->port, NULL, "611021"),
                                       webhook("city", city->port, NULL, NULL)),
                             0);
    struct gc_server *s = start(cfg);
    register_grad(s, 10);
    /* The webhook for every county hears it (so delivery did happen)... */
    json_t *reqs = expect_requests(city, 1, 5000, s);
    const char *id =
        expect_webhook(json_array_get(reqs, 0), "/hook/city", NULL, "firing", 11, 9, 1);
    json_t *d = wait_delivery(s, id, "city", "delivered", 1, 3000);
    json_decref(d);
    /* ...the one for 611021 does not, and has no delivery record for it. */
    expect_count_stays(luonan, 0, 1500);
    d = delivery(s, id, "luonan");
    ck_assert_msg(d == NULL, "a delivery to luonan is listed for a 611002 event");
    json_decref(reqs);
    stop(s);
    receiver_stop(luonan);
    receiver_stop(city);
}
END_TEST

START_TEST(test_for_seconds_short_dip_is_silent_long_dip_fires)
{
    baseline();
    struct receiver *rv = receiver_start("200");
    const char *cfg =
        config("forsec", 3, json_pack("[o]", webhook("shangzhou", rv->port, SECRET, NULL)), 0);
    struct gc_server *s = start(cfg);

    /* 9/11 for a moment, back to 10/11 at once: pending, then cancelled. */
    register_grad(s, 10);
    ck_assert_str_eq(alert_state(s), "pending");
    serve_grad(s, 10);
    ck_assert_str_eq(alert_state(s), "ok");
    expect_count_stays(rv, 0, 4500);

    /* 10/12 and it stays: fires once for_seconds (3 s) have passed, found by
     * the 1 s evaluation timer. */
    long long t0 = h_now_ms();
    register_grad(s, 11);
    ck_assert_str_eq(alert_state(s), "pending");
    json_t *reqs = expect_requests(rv, 1, 8000, s);
    long long at = json_integer_value(json_object_get(json_array_get(reqs, 0), "t_ms"));
    ck_assert_msg(at - t0 >= 2900 && at - t0 <= 5500, "fired %lld ms after the dip", at - t0);
    expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 12, 10, 1);
    expect_count_stays(rv, 1, 1000);
    ck_assert_str_eq(alert_state(s), "firing");
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_retries_5xx_with_backoff_until_delivered)
{
    baseline();
    struct receiver *rv = receiver_start("500,500,500,200");
    const char *cfg =
        config("retry", 0, json_pack("[o]", webhook("shangzhou", rv->port, SECRET, COUNTY)), 0);
    struct gc_server *s = start(cfg);
    register_grad(s, 10);

    /* While it is being retried the record says so. */
    json_t *reqs = expect_requests(rv, 2, 6000, s);
    const char *id = receiver_header(json_array_get(reqs, 0), "x-gradcover-event-id");
    ck_assert_ptr_nonnull(id);
    char *event_id = strdup(id);
    json_t *d = wait_delivery(s, event_id, "shangzhou", "pending", 2, 3000);
    expect_delivery_shape(d, event_id, "firing", "shangzhou");
    ck_assert_msg(json_is_string(json_object_get(d, "last_error")), "no last_error while retrying");
    ck_assert_ptr_nonnull(strstr(str(d, "last_error"), "500"));
    json_decref(d);

    /* 1 + 2 + 4 s of backoff, up to +25% jitter each. */
    json_decref(reqs);
    reqs = expect_requests(rv, 4, 20000, s);
    expect_count_stays(rv, 4, 2000);
    long long t[4];
    static const int want_status[4] = {500, 500, 500, 200};
    for (size_t i = 0; i < 4; i++) {
        json_t *q = json_array_get(reqs, i);
        expect_webhook(q, "/hook/shangzhou", SECRET, "firing", 11, 9, 1);
        ck_assert_str_eq(receiver_header(q, "x-gradcover-event-id"), event_id);
        ck_assert_int_eq(json_integer_value(json_object_get(q, "status")), want_status[i]);
        t[i] = json_integer_value(json_object_get(q, "t_ms"));
    }
    static const long long base[3] = {1000, 2000, 4000};
    for (int i = 0; i < 3; i++) {
        long long gap = t[i + 1] - t[i];
        ck_assert_msg(gap >= base[i] - 100 && gap <= base[i] * 5 / 4 + 750,
                      "retry %d came %lld ms after the previous attempt (backoff %lld ms)", i + 1,
                      gap, base[i]);
    }
    d = wait_delivery(s, event_id, "shangzhou", "delivered", 4, 3000);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 4);
    ck_assert(json_is_null(json_object_get(d, "last_error")));
    json_decref(d);
    free(event_id);
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_4xx_fails_at_once_without_retry)
{
    baseline();
    struct receiver *rv = receiver_start("400");
    const char *cfg =
        config("reject", 0, json_pack("[o]", webhook("shangzhou", rv->port, SECRET, COUNTY)), 0);
    struct gc_server *s = start(cfg);
    register_grad(s, 10);
    json_t *reqs = expect_requests(rv, 1, 5000, s);
    const char *id =
        expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 11, 9, 1);
    json_t *d = wait_delivery(s, id, "shangzhou", "failed", 1, 3000);
    expect_delivery_shape(d, id, "firing", "shangzhou");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
    ck_assert_msg(json_is_string(json_object_get(d, "last_error")), "no last_error after a 400");
    ck_assert_ptr_nonnull(strstr(str(d, "last_error"), "400"));
    json_decref(d);
    expect_count_stays(rv, 1, 5000);
    d = delivery(s, id, "shangzhou");
    ck_assert_str_eq(str(d, "state"), "failed");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
    json_decref(d);
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_receiver_down_then_up_is_delivered)
{
    baseline();
    int port = h_free_port(); /* nothing listens there yet */
    const char *cfg =
        config("down", 0, json_pack("[o]", webhook("shangzhou", port, SECRET, COUNTY)), 0);
    struct gc_server *s = start(cfg);
    long long t0 = h_now_ms();
    register_grad(s, 10);
    char event_id[128];
    /* The attempts so far failed to connect and are waiting for a retry. */
    h_sleep_ms((int)(3000 - (h_now_ms() - t0)));
    struct http_resp *r =
        h_http(s, "GET", "/api/v1/alerts?state=firing&county=" COUNTY, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "alerts");
    json_t *dl =
        json_object_get(json_array_get(json_object_get(r->json, "alerts"), 0), "deliveries");
    ck_assert_msg(json_array_size(dl) == 1, "deliveries: %s", r->body);
    json_t *d = json_array_get(dl, 0);
    snprintf(event_id, sizeof event_id, "%s", str(d, "event_id"));
    ck_assert_str_eq(str(d, "state"), "pending");
    ck_assert_int_ge(json_integer_value(json_object_get(d, "attempts")), 1);
    ck_assert_msg(json_is_string(json_object_get(d, "last_error")), "no last_error: %s", r->body);
    h_resp_free(r);

    struct receiver *rv = receiver_start_on(port, "200", 0);
    ck_assert_ptr_nonnull(rv);
    json_t *reqs = expect_requests(rv, 1, 15000, s);
    const char *id =
        expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 11, 9, 1);
    ck_assert_str_eq(id, event_id);
    d = wait_delivery(s, event_id, "shangzhou", "delivered", 2, 3000);
    json_decref(d);
    expect_count_stays(rv, 1, 1500);
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_delivered_after_sigkill_and_restart)
{
    baseline();
    int port = h_free_port();
    const char *cfg =
        config("crash", 0, json_pack("[o]", webhook("shangzhou", port, SECRET, COUNTY)), 0);
    int server_port = h_free_port();
    struct gc_server *s = start_at(cfg, server_port);
    register_grad(s, 10);
    /* The server has taken the event and failed to deliver it (nobody
     * listens): it holds it, unacknowledged, when it dies. */
    struct http_resp *r = NULL;
    json_t *d = NULL;
    long long end = h_now_ms() + 5000;
    while (!d && h_now_ms() < end) {
        r = h_http(s, "GET", "/api/v1/alerts?state=firing&county=" COUNTY, T_ADMIN, NULL, NULL);
        json_t *dl =
            json_object_get(json_array_get(json_object_get(r->json, "alerts"), 0), "deliveries");
        if (json_array_size(dl) == 1)
            d = json_incref(json_array_get(dl, 0));
        h_resp_free(r);
        if (!d)
            h_sleep_ms(100);
    }
    ck_assert_msg(d != NULL, "no delivery attempt recorded (log: %s)", s->log_path);
    char event_id[128];
    snprintf(event_id, sizeof event_id, "%s", str(d, "event_id"));
    long long attempts_before = json_integer_value(json_object_get(d, "attempts"));
    json_decref(d);
    ck_assert_str_eq(alert_state(s), "firing");
    crash(s);
    ck_assert_int_ge(h_redis_int("XLEN gc:{" COUNTY "}:outbox"), 1);

    struct receiver *rv = receiver_start_on(port, "200", 0);
    ck_assert_ptr_nonnull(rv);
    s = start_at(cfg, server_port);
    /* At once, well before a dead consumer's events would be taken over (30 s):
     * counted from the restarted server being ready, so that a slow start (under
     * valgrind) is not counted as a slow delivery. */
    long long t0 = h_now_ms();
    json_t *reqs = expect_requests(rv, 1, 10000, s);
    long long took = json_integer_value(json_object_get(json_array_get(reqs, 0), "t_ms")) - t0;
    ck_assert_msg(took < 5000, "delivered %lld ms after the restart", took);
    const char *id =
        expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 11, 9, 1);
    ck_assert_str_eq(id, event_id);
    d = wait_delivery(s, event_id, "shangzhou", "delivered", (int)attempts_before + 1, 3000);
    json_decref(d);
    expect_count_stays(rv, 1, 1500);
    json_decref(reqs);
    stop(s);
    receiver_stop(rv);
}
END_TEST

START_TEST(test_dead_servers_event_taken_over_by_another)
{
    baseline();
    int port = h_free_port();
    const char *cfg =
        config("takeover", 0, json_pack("[o]", webhook("shangzhou", port, SECRET, COUNTY)), 0);
    struct gc_server *a = start(cfg);
    register_grad(a, 10);
    /* A takes the event, cannot deliver it (nobody listens) and dies holding it. */
    h_sleep_ms(1500);
    crash(a);
    struct receiver *rv = receiver_start_on(port, "200", 0);
    ck_assert_ptr_nonnull(rv);
    /* Another server, on another address (another consumer): it takes the event
     * over once A has been silent for the claim timeout (30 s, checked every 10 s). */
    long long t0 = h_now_ms();
    struct gc_server *b = start(cfg);
    json_t *reqs = expect_requests(rv, 1, 50000, b);
    long long took = h_now_ms() - t0;
    ck_assert_msg(took >= 15000, "taken over after %lld ms: too early for a 30 s timeout", took);
    expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 11, 9, 1);
    expect_count_stays(rv, 1, 2000);
    json_decref(reqs);
    stop(b);
    receiver_stop(rv);
}
END_TEST

/* Redis comes back empty (no persistence, or a failover to a fresh replica):
 * the outbox streams and groups are created again and delivery goes on. */
START_TEST(test_delivery_resumes_after_redis_comes_back_empty)
{
    struct h_redis_proc *rp = h_redis_spawn("empty", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct receiver *rv = receiver_start("200");
    ck_assert_ptr_nonnull(rv);
    const char *cfg =
        config("empty", 0, json_pack("[o]", webhook("shangzhou", receiver_port(rv), SECRET, COUNTY)), 0);
    struct gc_server *s = h_start(cfg, NULL, url, true);
    h_redis_stop(rp, true);
    struct h_redis_proc *rp2 = h_redis_spawn("empty", rp->port, true);
    ck_assert(h_wait_status(s, "/readyz", 200, 5000));
    h_register(s, T_C611002, "E1", COUNTY, 900, "2026-03-01T09:00:00+08:00"); /* 0 of 1: firing */
    json_t *reqs = expect_requests(rv, 1, 5000, s);
    json_decref(reqs);
    ck_assert_int_eq(h_stop(s), 0);
    receiver_stop(rv);
    h_redis_stop(rp2, false);
    free(rp);
    free(rp2);
}
END_TEST

START_TEST(test_two_servers_deliver_once)
{
    baseline();
    struct receiver *rv = receiver_start("200");
    const char *cfg =
        config("two", 0, json_pack("[o]", webhook("shangzhou", rv->port, SECRET, COUNTY)), 0);
    struct gc_server *a = start(cfg);
    struct gc_server *b = start(cfg);
    /* Fires through a, resolves through b. */
    register_grad(a, 10);
    json_t *reqs = expect_requests(rv, 1, 5000, a);
    char *fire_id = strdup(
        expect_webhook(json_array_get(reqs, 0), "/hook/shangzhou", SECRET, "firing", 11, 9, 1));
    serve_grad(b, 10);
    json_decref(reqs);
    reqs = expect_requests(rv, 2, 5000, b);
    const char *resolve_id =
        expect_webhook(json_array_get(reqs, 1), "/hook/shangzhou", SECRET, "resolved", 11, 10, 0);
    ck_assert_str_ne(resolve_id, fire_id);
    /* Nothing more, from either server. */
    h_sleep_ms(10000);
    json_decref(reqs);
    reqs = receiver_requests(rv);
    ck_assert_msg(json_array_size(reqs) == 2,
                  "receiver got %zu requests for 2 transitions (%s; logs %s %s)",
                  json_array_size(reqs), rv->log_path, a->log_path, b->log_path);
    ck_assert_int_eq(count_event(reqs, fire_id), 1);
    json_t *d = wait_delivery(b, fire_id, "shangzhou", "delivered", 1, 1000);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
    json_decref(d);
    free(fire_id);
    json_decref(reqs);
    stop(a);
    stop(b);
    receiver_stop(rv);
}
END_TEST

/* A second server started while the first is still retrying an event must not
 * deliver that event as well (SPEC §4: one delivery per notification however
 * many servers; docs/alerts.md: only a server dying mid-request repeats one). */
START_TEST(test_server_started_later_does_not_repeat_inflight_event)
{
    baseline();
    int port = h_free_port();
    const char *cfg =
        config("later", 0, json_pack("[o]", webhook("shangzhou", port, SECRET, COUNTY)), 0);
    struct gc_server *a = start(cfg);
    register_grad(a, 10);
    json_t *d = NULL;
    long long end = h_now_ms() + 5000;
    while (!d && h_now_ms() < end) {
        struct http_resp *r =
            h_http(a, "GET", "/api/v1/alerts?state=firing&county=" COUNTY, T_ADMIN, NULL, NULL);
        json_t *dl =
            json_object_get(json_array_get(json_object_get(r->json, "alerts"), 0), "deliveries");
        if (json_array_size(dl) == 1)
            d = json_incref(json_array_get(dl, 0));
        h_resp_free(r);
        if (!d)
            h_sleep_ms(100);
    }
    ck_assert_msg(d != NULL, "no delivery attempt recorded (log: %s)", a->log_path);
    char event_id[128];
    snprintf(event_id, sizeof event_id, "%s", str(d, "event_id"));
    json_decref(d);
    /* a is retrying (connection refused); b joins on the same Redis. */
    struct gc_server *b = start(cfg);
    h_sleep_ms(1500);
    struct receiver *rv = receiver_start_on(port, "200", 0);
    ck_assert_ptr_nonnull(rv);
    json_t *reqs = expect_requests(rv, 1, 15000, a);
    json_decref(reqs);
    d = wait_delivery(a, event_id, "shangzhou", "delivered", 2, 5000);
    json_decref(d);
    h_sleep_ms(5000);
    reqs = receiver_requests(rv);
    ck_assert_msg(count_event(reqs, event_id) == 1,
                  "event %s was delivered %zu times by two live servers (receiver log %s; "
                  "gradcoverd logs %s %s)",
                  event_id, count_event(reqs, event_id), rv->log_path, a->log_path, b->log_path);
    json_decref(reqs);
    stop(a);
    stop(b);
    receiver_stop(rv);
}
END_TEST

static char *metrics_text(struct gc_server *s)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics");
    char *t = strdup(r->body);
    h_resp_free(r);
    return t;
}

static void expect_metric(const char *text, const char *receiver, const char *result, int v)
{
    char line[256];
    snprintf(line, sizeof line,
             "\ngradcover_alert_notifications_total{receiver=\"%s\",result=\"%s\"} %d\n", receiver,
             result, v);
    ck_assert_msg(strstr(text, line) != NULL, "/metrics lacks%s", line);
}

START_TEST(test_notification_metrics)
{
    baseline();
    struct receiver *ok = receiver_start("503,200");
    struct receiver *rej = receiver_start("400");
    const char *cfg = config("metrics", 0,
                             json_pack("[o, o]", webhook("shangzhou", ok->port, SECRET, COUNTY),
                                       webhook("rejecting", rej->port, NULL, NULL)),
                             0);
    struct gc_server *s = start(cfg);
    char *text = metrics_text(s);
    expect_metric(text, "shangzhou", "delivered", 0);
    free(text);
    register_grad(s, 10);
    json_t *reqs = expect_requests(ok, 2, 8000, s);
    const char *id = receiver_header(json_array_get(reqs, 0), "x-gradcover-event-id");
    json_t *d = wait_delivery(s, id, "shangzhou", "delivered", 2, 3000);
    json_decref(d);
    d = wait_delivery(s, id, "rejecting", "failed", 1, 3000);
    json_decref(d);
    text = metrics_text(s);
    expect_metric(text, "shangzhou", "delivered", 1);
    expect_metric(text, "shangzhou", "retry", 1);
    expect_metric(text, "shangzhou", "failed", 0);
    expect_metric(text, "rejecting", "delivered", 0);
    expect_metric(text, "rejecting", "retry", 0);
    expect_metric(text, "rejecting", "failed", 1);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE gradcover_alert_notifications_total counter\n"));
    free(text);
    json_decref(reqs);
    stop(s);
    receiver_stop(ok);
    receiver_stop(rej);
}
END_TEST

/* ---- a real Alertmanager ---- */

static json_t *am_get(int port, const char *path)
{
    struct gc_server am = {.pid = am_pid, .port = port, .foreign = true};
    struct http_resp *r = h_http(&am, "GET", path, NULL, NULL, NULL);
    json_t *j = r && r->status == 200 ? json_incref(r->json) : NULL;
    h_resp_free(r);
    return j;
}

/* Our alert for 611002 among Alertmanager's, borrowed from alerts. */
static json_t *am_find(json_t *alerts)
{
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        json_t *l = json_object_get(a, "labels");
        if (strcmp(str0(l, "alertname"), "GraduateServiceCoverageLow") == 0 &&
            strcmp(str0(l, "county"), COUNTY) == 0)
            return a;
    }
    return NULL;
}

START_TEST(test_alertmanager_receives_and_resolves)
{
    const char *wd = h_work_dir();
    char conf[600], data[600], logp[600], cmd[1400];
    snprintf(conf, sizeof conf, "%s/alertmanager.yml", wd);
    snprintf(data, sizeof data, "%s/am-data", wd);
    snprintf(logp, sizeof logp, "%s/alertmanager.log", wd);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", data, data);
    ck_assert_int_eq(system(cmd), 0);
    int port = h_free_port();
    char a_cfg[700], a_data[700], a_listen[64];
    snprintf(a_cfg, sizeof a_cfg, "--config.file=%s", conf);
    snprintf(a_data, sizeof a_data, "--storage.path=%s", data);
    snprintf(a_listen, sizeof a_listen, "--web.listen-address=127.0.0.1:%d", port);
    fflush(NULL);
    am_pid = fork();
    ck_assert(am_pid >= 0);
    if (am_pid == 0) {
        if (!freopen(logp, "w", stderr) || !freopen(logp, "a", stdout))
            _exit(126);
        execlp("prometheus-alertmanager", "prometheus-alertmanager", a_cfg, a_data, a_listen,
               "--cluster.listen-address=", (char *)NULL);
        _exit(127);
    }
    struct gc_server amsrv = {.pid = am_pid, .port = port, .foreign = true};
    ck_assert_msg(h_wait_status(&amsrv, "/-/ready", 200, 15000),
                  "alertmanager did not become ready (log: %s)", logp);

    baseline();
    const char *cfg = config("am", 0, NULL, port);
    struct gc_server *s = start(cfg);
    register_grad(s, 10);

    json_t *found = NULL;
    long long end = h_now_ms() + 15000;
    while (!found && h_now_ms() < end) {
        json_t *alerts = am_get(port, "/api/v2/alerts");
        json_t *a = am_find(alerts);
        if (a)
            found = json_incref(a);
        json_decref(alerts);
        if (!found)
            h_sleep_ms(200);
    }
    ck_assert_msg(found != NULL, "Alertmanager never showed the alert (logs: %s, %s)", logp,
                  s->log_path);
    json_t *l = json_object_get(found, "labels");
    ck_assert_str_eq(str(l, "county_name"), "商州区");
    ck_assert_str_eq(str(l, "period"), period);
    ck_assert_str_eq(str(l, "severity"), "warning");
    json_t *ann = json_object_get(found, "annotations");
    ck_assert_msg(str(ann, "summary") && *str(ann, "summary"), "no summary");
    ck_assert_msg(str(ann, "description") && *str(ann, "description"), "no description");
    ck_assert_str_eq(str(json_object_get(found, "status"), "state"), "active");
    json_decref(found);
    /* gradcoverd's own record of it. */
    struct http_resp *r =
        h_http(s, "GET", "/api/v1/alerts?state=firing&county=" COUNTY, T_ADMIN, NULL, NULL);
    json_t *dl =
        json_object_get(json_array_get(json_object_get(r->json, "alerts"), 0), "deliveries");
    char fire_id[128] = "";
    if (json_array_size(dl) == 1)
        snprintf(fire_id, sizeof fire_id, "%s", str(json_array_get(dl, 0), "event_id"));
    h_resp_free(r);
    ck_assert_msg(fire_id[0], "no delivery listed for the firing event");
    json_t *d = wait_delivery(s, fire_id, "alertmanager", "delivered", 1, 3000);
    json_decref(d);

    /* Back above target: no longer active in Alertmanager. */
    serve_grad(s, 10);
    bool gone = false;
    end = h_now_ms() + 15000;
    while (!gone && h_now_ms() < end) {
        json_t *alerts = am_get(port, "/api/v2/alerts?active=true");
        gone = alerts && !am_find(alerts);
        json_decref(alerts);
        if (!gone)
            h_sleep_ms(200);
    }
    ck_assert_msg(gone, "the alert is still active in Alertmanager (logs: %s, %s)", logp,
                  s->log_path);
    stop(s);
    kill(am_pid, SIGTERM);
    waitpid(am_pid, NULL, 0);
    am_pid = 0;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_receiver_records_requests_exactly);
    tcase_add_test(tc, test_firing_and_resolved_with_signature_and_flapping);
    tcase_add_test(tc, test_first_notification_after_start_is_sent_at_once);
    tcase_add_test(tc, test_webhook_gets_only_its_counties);
    tcase_add_test(tc, test_for_seconds_short_dip_is_silent_long_dip_fires);
    tcase_add_test(tc, test_retries_5xx_with_backoff_until_delivered);
    tcase_add_test(tc, test_4xx_fails_at_once_without_retry);
    tcase_add_test(tc, test_receiver_down_then_up_is_delivered);
    tcase_add_test(tc, test_delivered_after_sigkill_and_restart);
    tcase_add_test(tc, test_dead_servers_event_taken_over_by_another);
    tcase_add_test(tc, test_delivery_resumes_after_redis_comes_back_empty);
    tcase_add_test(tc, test_two_servers_deliver_once);
    tcase_add_test(tc, test_server_started_later_does_not_repeat_inflight_event);
    tcase_add_test(tc, test_notification_metrics);
    tcase_add_test(tc, test_alertmanager_receives_and_resolves);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
