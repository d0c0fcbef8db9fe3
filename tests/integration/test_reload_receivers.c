/* SIGHUP reloads the alert receivers (SPEC §13, docs/operations.md
 * "Reloading the configuration", docs/alerts.md "A receiver's identity"):
 * during an alert episode one receiver's URL changes, one is added and one
 * removed while a delivery to it is under way; the transitions after the
 * reload reach the changed and the added receivers, none reaches the
 * removed one, nothing is delivered twice, and a keep-alive connection
 * opened before the reload still answers. A bad receiver entry keeps the
 * old receivers and is counted; the digest's receivers follow a reload. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "robotkit.c"

#define DIGEST_TITLE "就业服务日报 "

/* ---- a keep-alive client connection ---- */

static int ka_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* GET /healthz on the open connection fd; the answer's status, or -1 when
 * the connection was closed or did not answer. */
static int ka_get(int fd)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1))
        return -1;
    char buf[4096] = "";
    size_t len = 0;
    const char *end = NULL;
    long clen = -1;
    for (;;) {
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "content-length:");
            clen = cl && cl < end ? atol(cl + 15) : 0;
        }
        if (end && (long)(len - (size_t)(end + 4 - buf)) >= clen)
            break;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    int status = -1;
    return sscanf(buf, "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

/* ---- the server's counters and log ---- */

/* True when /metrics has a series of this receiver. */
static bool has_receiver(struct gc_server *s, const char *name)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    char pat[96];
    snprintf(pat, sizeof pat, "gradcover_alert_messages_total{receiver=\"%s\"}", name);
    bool found = strstr(r->body, pat) != NULL;
    h_resp_free(r);
    return found;
}

/* ---- what the receivers got ---- */

/* A JSON webhook named name at rv. */
static json_t *json_hook(const char *name, struct receiver *rv)
{
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/%s", rv->port, name);
    return json_pack("{s:s, s:s}", "name", name, "url", url);
}

/* The event ids rv got, in order (a new array), each checked to come once. */
static json_t *event_ids(struct receiver *rv)
{
    json_t *reqs = receiver_requests(rv), *ids = json_array();
    size_t i;
    json_t *q;
    json_array_foreach(reqs, i, q)
    {
        const char *id = receiver_header(q, "x-gradcover-event-id");
        ck_assert_ptr_nonnull(id);
        size_t k;
        json_t *seen;
        json_array_foreach(ids, k, seen)
        {
            ck_assert_msg(strcmp(json_string_value(seen), id) != 0, "%s delivered twice to %s", id,
                          rv->log_path);
        }
        json_array_append_new(ids, json_string(id));
    }
    json_decref(reqs);
    return ids;
}

static const char *status_of(struct receiver *rv, size_t i)
{
    static char buf[16];
    json_t *reqs = receiver_requests(rv);
    json_t *body = receiver_body_json(json_array_get(reqs, i));
    snprintf(buf, sizeof buf, "%s", str(body, "status"));
    json_decref(body);
    json_decref(reqs);
    return buf;
}

static const char *alerts_file(const char *name, json_t *webhooks, int port)
{
    return config(name, json_pack("{s:o}", "webhooks", webhooks), port);
}

/* B's URL changed, C added (listed first), A removed while its delivery is
 * under way: the transitions after the reload reach B's new URL and C, not
 * A, each once; an open keep-alive connection still answers. */
START_TEST(test_receivers_change_during_an_episode)
{
    baseline(); /* 611002 at 9 of 10: ok */
    /* A answers 503 1.5 s after each request: its first attempt is under
     * way at the reload, and it would be retried. */
    struct receiver *a = receiver_start_on(0, "503", 1500);
    struct receiver *b = receiver_start("200"), *b2 = receiver_start("200");
    struct receiver *c = receiver_start("200");
    ck_assert(a && b && b2 && c);
    int port = h_free_port();
    const char *path =
        alerts_file("rr", json_pack("[o, o]", json_hook("A", a), json_hook("B", b)), port);
    struct gc_server *s = start_at(path, port, NULL);
    int ka = ka_open(s->port);
    ck_assert_int_eq(ka_get(ka), 200);

    /* The episode begins (9 of 11): A and B get the firing event. */
    register_grad(s, COUNTY, 10);
    json_decref(expect_requests(b, 1, 10000, s));
    json_decref(expect_requests(a, 1, 10000, s));
    json_t *fired = event_ids(b);
    const char *firing_id = json_string_value(json_array_get(fired, 0));
    ck_assert_str_eq(status_of(b, 0), "firing");

    alerts_file("rr", json_pack("[o, o]", json_hook("C", c), json_hook("B", b2)), port);
    h_hup_and_wait(s, "reloads", 0);
    ck_assert(h_log_wait(s, "event=receiver_removed", "receiver=A"));
    ck_assert(h_log_wait(s, "event=receiver_added", "receiver=C"));
    ck_assert(h_log_wait(s, "event=receiver_changed", "receiver=B"));
    /* A's attempt ends after the reload: recorded, not retried. */
    json_decref(wait_delivery(s, COUNTY, firing_id, "A", "dropped", 10000));
    json_decref(wait_delivery(s, COUNTY, firing_id, "B", "delivered", 1000));

    /* The episode ends (10 of 11), and another begins (10 of 12). */
    serve_grad(s, COUNTY, 9);
    json_decref(expect_requests(b2, 1, 10000, s));
    json_decref(expect_requests(c, 1, 10000, s));
    register_grad(s, COUNTY, 11);
    json_decref(expect_requests(b2, 2, 10000, s));
    json_decref(expect_requests(c, 2, 10000, s));
    expect_count_stays(c, 2, 3000);
    expect_count_stays(b2, 2, 0);
    expect_count_stays(b, 1, 0);
    expect_count_stays(a, 1, 0);
    ck_assert_str_eq(status_of(b2, 0), "resolved");
    ck_assert_str_eq(status_of(b2, 1), "firing");
    ck_assert_str_eq(status_of(c, 0), "resolved");
    ck_assert_str_eq(status_of(c, 1), "firing");
    /* Once each: B's new URL and C got the same two events, neither the
     * firing that B's old URL had. */
    json_t *ids_b2 = event_ids(b2), *ids_c = event_ids(c);
    ck_assert(json_equal(ids_b2, ids_c));
    for (size_t i = 0; i < 2; i++)
        ck_assert_str_ne(json_string_value(json_array_get(ids_b2, i)), firing_id);
    json_decref(ids_b2);
    json_decref(ids_c);
    json_decref(fired);

    /* The connection opened before the reload still answers. */
    ck_assert_int_eq(ka_get(ka), 200);
    close(ka);
    ck_assert(!has_receiver(s, "A"));
    ck_assert(has_receiver(s, "B"));
    ck_assert(has_receiver(s, "C"));
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reload_failures_total"), 0);
    stop(s);
}
END_TEST

/* A bad receiver entry: the file is refused, logged and counted, and the
 * old receivers go on. */
START_TEST(test_bad_receiver_keeps_the_old_ones)
{
    baseline();
    struct receiver *b = receiver_start("200");
    ck_assert_ptr_nonnull(b);
    int port = h_free_port();
    const char *path = alerts_file("rr-bad", json_pack("[o]", json_hook("B", b)), port);
    struct gc_server *s = start_at(path, port, NULL);
    struct {
        json_t *extra;   /* the bad entry beside B */
        const char *why; /* in the log line */
    } bad[] = {
        {json_pack("{s:s, s:s}", "name", "X", "url", "ftp://127.0.0.1/x"), "url"},
        {json_pack("{s:s, s:s, s:s}", "name", "X", "url", "http://127.0.0.1:9/x", "format",
                   "slack"),
         "format"},
        {json_pack("{s:s, s:s}", "name", "B", "url", "http://127.0.0.1:9/x"), "duplicate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        alerts_file("rr-bad", json_pack("[o, o]", json_hook("B", b), bad[i].extra), port);
        h_hup_and_wait(s, "failures", (long long)i);
        ck_assert_msg(h_log_wait(s, "event=config_reload_failed", bad[i].why),
                      "no log line with %s", bad[i].why);
    }
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reloads_total"), 0);
    ck_assert(!has_receiver(s, "X"));
    /* The old receiver still gets the transitions. */
    register_grad(s, COUNTY, 10);
    json_decref(expect_requests(b, 1, 10000, s));
    ck_assert_str_eq(status_of(b, 0), "firing");
    stop(s);
}
END_TEST

/* A chat robot removed while its message is still gathering (a robot's
 * queue waits 2 s for more events): the queued message is dropped, counted
 * in the log, recorded, and never sent. */
START_TEST(test_removed_robot_drops_its_queued_message)
{
    baseline();
    struct receiver *b = receiver_start("200");
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    int port = h_free_port();
    const char *path = alerts_file(
        "rr-robot",
        json_pack("[o, o]", json_hook("B", b), robot_hook("R", "wecom", wecom, NULL, false)), port);
    struct gc_server *s = start_at(path, port, NULL);
    alerts_file("rr-robot", json_pack("[o]", json_hook("B", b)), port);
    register_grad(s, COUNTY, 10);
    json_decref(expect_requests(b, 1, 10000, s));
    h_hup_and_wait(s, "reloads", 0);
    ck_assert(h_log_wait(s, "event=receiver_removed", "receiver=R dropped=1"));
    json_t *ids = event_ids(b);
    json_decref(
        wait_delivery(s, COUNTY, json_string_value(json_array_get(ids, 0)), "R", "dropped", 5000));
    json_decref(ids);
    expect_count_stays(wecom, 0, 3000);
    stop(s);
}
END_TEST

/* A restart with the webhooks in another order: an event delivered to B
 * before it and still pending for D (retrying) goes to D alone after it. */
START_TEST(test_restart_with_reordered_receivers_resends_nothing)
{
    baseline();
    struct receiver *b = receiver_start("200"), *d = receiver_start("503,503,200");
    ck_assert(b && d);
    int port = h_free_port();
    const char *path =
        alerts_file("rr-order", json_pack("[o, o]", json_hook("B", b), json_hook("D", d)), port);
    struct gc_server *s = start_at(path, port, NULL);
    register_grad(s, COUNTY, 10);
    json_decref(expect_requests(b, 1, 10000, s));
    json_decref(expect_requests(d, 1, 10000, s));
    stop(s);
    path = alerts_file("rr-order", json_pack("[o, o]", json_hook("D", d), json_hook("B", b)), port);
    s = start_at(path, port, NULL);
    json_decref(expect_requests(d, 3, 20000, s));
    expect_count_stays(d, 3, 3000);
    expect_count_stays(b, 1, 0);
    json_t *ids = receiver_requests(d);
    for (size_t i = 1; i < 3; i++)
        ck_assert_str_eq(receiver_header(json_array_get(ids, i), "x-gradcover-event-id"),
                         receiver_header(json_array_get(ids, 0), "x-gradcover-event-id"));
    json_decref(ids);
    stop(s);
}
END_TEST

/* Alertmanager's URL and alerts.ca_file at a reload: an alert that could
 * not be delivered (the receiver's certificate not trusted) goes, at its
 * next retry, to the new URL over a connection verified with the new CA. */
START_TEST(test_alertmanager_url_and_ca_file_follow_a_reload)
{
    baseline();
    struct receiver *am1 =
        receiver_start_tls("200", h_tls_file("server.pem"), h_tls_file("server.key"));
    struct receiver *am2 =
        receiver_start_tls("200", h_tls_file("server.pem"), h_tls_file("server.key"));
    ck_assert(am1 && am2);
    int port = h_free_port();
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", am1->port);
    const char *path = config(
        "rr-am",
        json_pack("{s:s, s:s}", "alertmanager_url", url, "ca_file", h_tls_file("untrusted-ca.pem")),
        port);
    struct gc_server *s = start_at(path, port, NULL);
    register_grad(s, COUNTY, 10);
    long long end = h_now_ms() + h_ms(10000);
    while (receiver_tls_failures(am1) == 0) {
        ck_assert_msg(h_now_ms() < end, "no TLS handshake refused at am1 (%s)", s->log_path);
        h_sleep_ms(100);
    }
    snprintf(url, sizeof url, "https://127.0.0.1:%d", am2->port);
    config("rr-am",
           json_pack("{s:s, s:s}", "alertmanager_url", url, "ca_file", h_tls_file("ca.pem")), port);
    h_hup_and_wait(s, "reloads", 0);
    ck_assert(h_log_wait(s, "event=receiver_changed", "receiver=alertmanager"));
    json_t *reqs = expect_requests(am2, 1, 15000, s);
    json_t *q = json_array_get(reqs, 0);
    ck_assert_str_eq(str(q, "path"), "/api/v2/alerts");
    ck_assert_ptr_nonnull(strstr(str(q, "body"), COUNTY));
    ck_assert_uint_eq(receiver_tls_failures(am2), 0);
    json_decref(reqs);
    reqs = receiver_requests(am1);
    ck_assert_uint_eq(json_array_size(reqs), 0);
    json_decref(reqs);
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reload_failures_total"), 0);
    stop(s);
}
END_TEST

/* ---- the digest ---- */

static size_t digests(struct receiver *rv)
{
    json_t *reqs = receiver_requests(rv);
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(reqs); i++)
        n += strstr(str(json_array_get(reqs, i), "text"), DIGEST_TITLE) != NULL;
    json_decref(reqs);
    return n;
}

static size_t wait_digests(struct receiver *rv, size_t n, int timeout_ms)
{
    long long end = h_now_ms() + h_ms(timeout_ms);
    size_t got;
    while ((got = digests(rv)) < n && h_now_ms() < end)
        h_sleep_ms(200);
    return got;
}

/* --now: tomorrow (+08:00) at hh:mm:ss. */
static const char *tomorrow_at(const char *hms)
{
    static char buf[40];
    time_t t = time(NULL) + 86400 + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(buf, sizeof buf, "%sT%s+08:00", day, hms);
    return buf;
}

static const char *digest_file(struct receiver *wecom, struct receiver *ding, bool ding_first,
                               json_t *names, int port)
{
    json_t *w = robot_hook("wecom-county", "wecom", wecom, NULL, false);
    json_t *d = robot_hook("ding-city", "dingtalk", ding, DING_SECRET, false);
    json_t *alerts = json_pack("{s:[o, o], s:{s:s, s:o}}", "webhooks", ding_first ? d : w,
                               ding_first ? w : d, "digest", "at", "08:30", "receivers", names);
    return config("rr-digest", alerts, port);
}

/* A receiver named in the digest by a reload gets that day's digest; one
 * that had it keeps "sent today" through reloads that reorder the
 * webhooks. */
START_TEST(test_digest_receivers_follow_a_reload)
{
    baseline();
    struct receiver *wecom = robot("wecom", "200:0", NULL);
    struct receiver *ding = robot("dingtalk", "200:0", DING_SECRET);
    int port = h_free_port();
    const char *path = digest_file(wecom, ding, false, json_pack("[s]", "wecom-county"), port);
    struct gc_server *s = start_at(path, port, tomorrow_at("08:30:05"));
    ck_assert_msg(wait_digests(wecom, 1, 15000) == 1, "no digest (%s)", s->log_path);
    h_sleep_ms(2000);
    ck_assert_uint_eq(digests(ding), 0);

    digest_file(wecom, ding, true, json_pack("[s, s]", "ding-city", "wecom-county"), port);
    h_hup_and_wait(s, "reloads", 0);
    ck_assert_msg(wait_digests(ding, 1, 15000) == 1, "no digest to ding-city (%s)", s->log_path);
    digest_file(wecom, ding, false, json_pack("[s]", "wecom-county"), port);
    h_hup_and_wait(s, "reloads", 1);
    h_sleep_ms(3000);
    ck_assert_uint_eq(digests(wecom), 1);
    ck_assert_uint_eq(digests(ding), 1);
    ck_assert_int_eq(h_metric(s, T_VIEWER, "gradcover_config_reload_failures_total"), 0);
    stop(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("reload_receivers");
    TCase *tc = tcase_create("reload_receivers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_receivers_change_during_an_episode);
    tcase_add_test(tc, test_removed_robot_drops_its_queued_message);
    tcase_add_test(tc, test_bad_receiver_keeps_the_old_ones);
    tcase_add_test(tc, test_restart_with_reordered_receivers_resends_nothing);
    tcase_add_test(tc, test_alertmanager_url_and_ca_file_follow_a_reload);
    tcase_add_test(tc, test_digest_receivers_follow_a_reload);
    suite_add_tcase(su, tc);
    return h_run_suite(su);
}
