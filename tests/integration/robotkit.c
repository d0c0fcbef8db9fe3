/* What the chat robots' integration tests share (included by
 * test_robots.c, test_reminders.c and test_digest.c, as receiver.c is):
 * the servers a test started, stopped even when it fails half-way; robot
 * receivers and their webhooks; county 611002's baseline; what the robots
 * got and what /api/v1/alerts says of it.
 *
 * County 611002 starts at 9 of 10 served (90%, on target), built by a
 * server whose dips wait an hour (so the build-up sends nothing);
 * registering an 11th makes it fire (9/11 = 81.8%, one more to serve). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "receiver.h"

#include "receiver.c"

/* Each test uses some of these helpers. */
#define KIT __attribute__((unused))

#define COUNTY "611002"
#define DING_SECRET "SECd1ngta1k-0123456789abcdef"
#define FEISHU_SECRET "fe1shu-secret-0123"

/* ---- processes a test started, stopped even when it fails half-way ---- */

static struct gc_server *servers[8];
static size_t nservers;

KIT static struct gc_server *track(struct gc_server *s)
{
    ck_assert_msg(s != NULL, "gradcoverd did not start");
    if (nservers < sizeof servers / sizeof servers[0])
        servers[nservers++] = s;
    return s;
}

KIT static void forget(struct gc_server *s)
{
    for (size_t i = 0; i < nservers; i++)
        if (servers[i] == s)
            servers[i] = servers[--nservers];
}

KIT static void stop(struct gc_server *s)
{
    forget(s);
    ck_assert_int_eq(h_stop(s), 0);
}

KIT static void setup(void)
{
    h_init();
    h_flushdb();
}

KIT static void teardown(void)
{
    receiver_stop_all();
    while (nservers > 0) {
        struct gc_server *s = servers[0];
        forget(s);
        h_kill(s);
    }
}

/* ---- configuration ---- */

/* A robot webhook at rv (https), for every county unless county is given. */
KIT static json_t *robot_hook(const char *name, const char *format, struct receiver *rv,
                              const char *secret, bool escalation)
{
    char url[160];
    if (strcmp(format, "dingtalk") == 0)
        snprintf(url, sizeof url, "https://127.0.0.1:%d/robot/send?access_token=%s", rv->port,
                 name);
    else if (strcmp(format, "wecom") == 0)
        snprintf(url, sizeof url, "https://127.0.0.1:%d/cgi-bin/webhook/send?key=%s", rv->port,
                 name);
    else
        snprintf(url, sizeof url, "https://127.0.0.1:%d/open-apis/bot/v2/hook/%s", rv->port, name);
    json_t *w = json_pack("{s:s, s:s, s:s}", "name", name, "url", url, "format", format);
    if (secret)
        json_object_set_new(w, "secret", json_string(secret));
    if (escalation)
        json_object_set_new(w, "escalation", json_true());
    return w;
}

/* The default configuration with these alerts (stolen): evaluated every
 * second, dips fire at once, no repeats unless alerts says, the test CA
 * for the robots' HTTPS, links under http://127.0.0.1:<port>. */
KIT static const char *config(const char *name, json_t *alerts, int port)
{
    static char paths[8][600];
    static int slot;
    json_t *cfg = h_default_config();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    json_t *defaults = json_pack("{s:i, s:f, s:i, s:i, s:s, s:s}", "for_seconds", 0, "clear_margin",
                                 0.0, "eval_interval_seconds", 1, "repeat_interval_seconds", 0,
                                 "ca_file", h_tls_file("ca.pem"), "public_url", url);
    json_object_update_missing(alerts, defaults);
    json_decref(defaults);
    json_object_set_new(cfg, "alerts", alerts);
    char *p = paths[slot++ % 8];
    snprintf(p, sizeof paths[0], "%s", h_write_config(cfg, name));
    json_decref(cfg);
    return p;
}

KIT static struct gc_server *start_at(const char *cfg, int port, const char *now)
{
    const char *args[] = {"--now", now, NULL};
    return track(h_start_port(cfg, now ? args : NULL, NULL, true, port));
}

KIT static struct receiver *robot(const char *kind, const char *script, const char *secret)
{
    struct receiver *rv = receiver_start_robot(kind, script, secret, h_tls_file("server.pem"),
                                               h_tls_file("server.key"));
    ck_assert_ptr_nonnull(rv);
    return rv;
}

/* ---- county state ---- */

KIT static void register_grad(struct gc_server *s, const char *county, int i)
{
    char id[24];
    snprintf(id, sizeof id, "G%s-%d", county, i);
    h_register(s, T_ADMIN, id, county, i + (county[0] == 'T' ? 1000 : 0), NULL);
}

KIT static void serve_grad(struct gc_server *s, const char *county, int i)
{
    char id[24];
    snprintf(id, sizeof id, "G%s-%d", county, i);
    ck_assert_int_eq(h_contact(s, T_ADMIN, id, NULL, NULL), 201);
}

/* 611002 at 9 of 10 (90%, ok), built by a server whose dips wait an hour. */
KIT static void baseline(void)
{
    int port = h_free_port();
    struct gc_server *s =
        start_at(config("baseline", json_pack("{s:i}", "for_seconds", 3600), port), port, NULL);
    for (int i = 0; i < 10; i++) {
        register_grad(s, COUNTY, i);
        if (i < 9)
            serve_grad(s, COUNTY, i);
    }
    stop(s);
    ck_assert_int_eq(h_redis_int("XLEN gc:{" COUNTY "}:outbox"), 0);
}

/* ---- what the robots got ---- */

KIT static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* Waits for n requests; fails naming the logs when they do not come. */
KIT static json_t *expect_requests(struct receiver *rv, size_t n, int timeout_ms,
                                   struct gc_server *s)
{
    json_t *reqs = receiver_wait(rv, n, h_ms(timeout_ms));
    ck_assert_msg(json_array_size(reqs) >= n,
                  "robot got %zu requests, wanted %zu within %d ms (robot log: %s, gradcoverd "
                  "log: %s)",
                  json_array_size(reqs), n, timeout_ms, rv->log_path, s ? s->log_path : "-");
    return reqs;
}

KIT static void expect_count_stays(struct receiver *rv, size_t n, int ms)
{
    h_sleep_ms(ms);
    json_t *reqs = receiver_requests(rv);
    ck_assert_msg(json_array_size(reqs) == n, "robot got %zu requests, wanted exactly %zu (%s)",
                  json_array_size(reqs), n, rv->log_path);
    json_decref(reqs);
}

/* The robot took request q as it came: its shape and signature checked. */
KIT static void expect_robot_ok(json_t *q)
{
    ck_assert_msg(strcmp(str(q, "shape"), "ok") == 0, "%s: shape %s: %s", str(q, "robot"),
                  str(q, "shape"), str(q, "body"));
    ck_assert_msg(strcmp(str(q, "sig"), "ok") == 0 || strcmp(str(q, "sig"), "none") == 0,
                  "%s: signature %s", str(q, "robot"), str(q, "sig"));
}

KIT static void expect_in(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle) != NULL, "\"%s\" not in the message:\n%s", needle, text);
}

/* The "/ack/<token>" path of the link in text (static), or "" when none. */
KIT static const char *ack_path(const char *text)
{
    static char path[160];
    const char *a = strstr(text, "/ack/");
    size_t n = 0;
    if (a)
        while (a[n] && a[n] != ')' && a[n] != ' ' && a[n] != '\n' && n + 1 < sizeof path)
            n++;
    memcpy(path, a ? a : "", n);
    path[n] = '\0';
    return path;
}

/* ---- /api/v1/alerts ---- */

/* The delivery of event_id to receiver (new reference), or NULL. */
KIT static json_t *delivery(struct gc_server *s, const char *county, const char *event_id,
                            const char *receiver)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/alerts?state=all&county=%s", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET %s", path);
    json_t *found = NULL, *ep, *d;
    size_t i, k;
    json_array_foreach(json_object_get(r->json, "alerts"), i, ep)
    {
        json_array_foreach(json_object_get(ep, "deliveries"), k, d)
        {
            if (!found && strcmp(str(d, "event_id"), event_id) == 0 &&
                strcmp(str(d, "receiver"), receiver) == 0)
                found = json_incref(d);
        }
    }
    h_resp_free(r);
    return found;
}

KIT static json_t *wait_delivery(struct gc_server *s, const char *county, const char *event_id,
                                 const char *receiver, const char *state, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    json_t *d = NULL;
    for (;;) {
        json_decref(d);
        d = delivery(s, county, event_id, receiver);
        if (d && strcmp(str(d, "state"), state) == 0)
            return d;
        if (h_now_ms() >= end)
            break;
        h_sleep_ms(200);
    }
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    ck_abort_msg("delivery of %s to %s: wanted %s within %d ms, last seen %s (log %s)", event_id,
                 receiver, state, timeout_ms, text ? text : "nothing", s->log_path);
    free(text);
    return NULL;
}

/* The county's firing episode id (static). */
KIT static const char *episode_of(struct gc_server *s, const char *county)
{
    static char id[64];
    char path[128];
    snprintf(path, sizeof path, "/api/v1/alerts?state=firing&county=%s", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    json_t *ep = json_array_get(json_object_get(r->json, "alerts"), 0);
    snprintf(id, sizeof id, "%s", str(ep, "id"));
    h_resp_free(r);
    ck_assert_msg(id[0], "%s is not firing", county);
    return id;
}
