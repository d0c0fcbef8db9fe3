/* Fault test: gradcoverd killed with SIGKILL at a random moment while 10,000
 * keyed contacts arrive over 32 connections, then restarted on the same
 * address (docs/reliability.md). The client retries what was not acknowledged
 * with the same key and body: every key is counted exactly once. An alert
 * notification that was pending when the server died (its receiver was not
 * listening yet) is delivered after the restart, exactly once. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "receiver.h"

#include "receiver.c"

#define COUNTY "611002"
#define ALERT_COUNTY "611021"
#define NGRAD 100
#define NKEYS 10000
#define NCON 32
#define SECRET "fault-test-secret"

static void setup(void)
{
    h_init();
    h_flushdb();
}

static void teardown(void)
{
    receiver_stop_all();
}

/* The default configuration with one webhook for ALERT_COUNTY on port. */
static const char *config(int port)
{
    json_t *cfg = h_default_config();
    /* A load test: the per-token rate limits would answer 429 (0 = off). */
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/luonan", port);
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i, s:[{s:s, s:s, s:s, s:[s]}]}", "for_seconds", 0,
                                  "clear_margin", 0.0, "eval_interval_seconds", 1, "webhooks",
                                  "name", "luonan", "url", url, "secret", SECRET, "counties",
                                  ALERT_COUNTY));
    const char *path = h_write_config(cfg, "fault-server");
    json_decref(cfg);
    return path;
}

/* Entries of ALERT_COUNTY's outbox read by a consumer and not acknowledged. */
static long long pending_events(void)
{
    redisReply *r = redisCommand(h_redis(), "XPENDING gc:{" ALERT_COUNTY "}:outbox delivery");
    ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1);
    long long n = r->element[0]->integer;
    freeReplyObject(r);
    return n;
}

/* The event_id of the newest entry of ALERT_COUNTY's outbox (static buffer). */
static const char *last_event_id(void)
{
    static char id[128];
    redisReply *r = redisCommand(h_redis(), "XREVRANGE gc:{" ALERT_COUNTY "}:outbox + - COUNT 1");
    ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    redisReply *f = r->element[0]->element[1];
    id[0] = '\0';
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (strcmp(f->element[i]->str, "event_id") == 0)
            snprintf(id, sizeof id, "%s", f->element[i + 1]->str);
    freeReplyObject(r);
    ck_assert_msg(id[0], "outbox entry without event_id");
    return id;
}

START_TEST(test_gradcoverd_sigkill_under_load_counts_each_key_once_and_delivers_pending_alert)
{
    int hook_port = h_free_port(); /* nobody listens there until the restart */
    const char *cfg = config(hook_port);
    int port = h_free_port();
    struct gc_server *s = h_start_port(cfg, NULL, NULL, true, port);
    for (int g = 0; g < NGRAD; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", g);
        h_register(s, T_C611002, gid, COUNTY, 700 + g, "2026-03-01T09:00:00+08:00");
    }
    struct lg_req *reqs = f_contact_reqs("srv", NKEYS, NGRAD);
    int ports[1] = {port};
    /* A failed connection is not retried at once: the retries come after the
     * restart, as from a client with an offline queue. */
    struct lg_opts o = {
        .ports = ports, .nports = 1, .ncon = NCON, .pause_ms = 0, .timeout_ms = 10000};

    /* The kill comes after a random number of acknowledged contacts. */
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    size_t kill_at = 2000 + (size_t)(rand() % 6000);
    struct lg *g = lg_start(reqs, NKEYS, &o);
    ck_assert_ptr_nonnull(g);
    while (lg_acked(g) < kill_at / 2 && lg_done(g) < NKEYS)
        h_sleep_ms(1);
    /* Right before the kill, Luonan drops below target (0 of 1 served): the
     * server takes the firing event and cannot deliver it. */
    h_register(s, T_C611021, "L1", ALERT_COUNTY, 1, "2026-03-01T09:00:00+08:00");
    long long end = h_now_ms() + 5000;
    while (pending_events() < 1 && h_now_ms() < end)
        h_sleep_ms(5);
    while (lg_acked(g) < kill_at && lg_done(g) < NKEYS)
        h_sleep_ms(1);
    size_t done_at_kill = lg_done(g), acked_at_kill = lg_acked(g);
    h_kill(s);
    ck_assert_int_eq(lg_wait(g), 0);
    ck_assert_msg(done_at_kill < NKEYS, "the load was over before the kill");
    ck_assert_int_eq(pending_events(), 1);
    char event_id[128];
    snprintf(event_id, sizeof event_id, "%s", last_event_id());

    size_t acked = f_count_status(reqs, NKEYS, 201);
    for (size_t i = 0; i < NKEYS; i++)
        ck_assert_msg(reqs[i].status == 201 || reqs[i].status == 0, "%s: status %d (%s)",
                      reqs[i].key, reqs[i].status, reqs[i].err);
    /* Nothing acknowledged was lost with the server. */
    struct f_ids ids;
    f_stored_ids(h_redis(), COUNTY, "G", NGRAD, &ids);
    for (size_t i = 0; i < NKEYS; i++)
        ck_assert_msg(reqs[i].status != 201 || f_ids_has(&ids, reqs[i].id),
                      "%s acknowledged as %s but not stored", reqs[i].key, reqs[i].id);
    size_t stored_before = ids.n;
    f_ids_free(&ids);

    /* The receiver is up now; the server restarts on the same address. */
    struct receiver *rv = receiver_start_on(hook_port, "200", 0);
    ck_assert_ptr_nonnull(rv);
    long long t_restart = h_now_ms();
    s = h_start_port(cfg, NULL, NULL, true, port);
    long long ready_ms = h_now_ms() - t_restart;

    for (int pass = 0; pass < 3 && f_count_status(reqs, NKEYS, 201) < NKEYS; pass++) {
        struct lg_opts ro = o;
        ro.only_unacked = true;
        ro.pause_ms = 200;
        ck_assert_int_eq(lg_run(reqs, NKEYS, &ro), 0);
    }
    ck_assert_int_eq(f_count_status(reqs, NKEYS, 201), NKEYS);
    size_t replayed = 0;
    for (size_t i = 0; i < NKEYS; i++)
        replayed += reqs[i].replayed;
    /* Replays are exactly the contacts committed without an answer. */
    ck_assert_int_eq(replayed, stored_before - acked);

    /* Exactly one contact per key. */
    f_stored_ids(h_redis(), COUNTY, "G", NGRAD, &ids);
    ck_assert_int_eq(ids.n, NKEYS);
    ck_assert_int_eq(ids.distinct, NKEYS);
    for (size_t i = 0; i < NKEYS; i++)
        ck_assert_msg(f_ids_has(&ids, reqs[i].id), "%s: id %s not stored", reqs[i].key, reqs[i].id);
    f_ids_free(&ids);
    ck_assert_int_eq(h_redis_int("HGET gc:{" COUNTY "}:cnt c:job_referral"), NKEYS);
    ck_assert_int_eq(f_metric_contacts(s, COUNTY, "job_referral"), NKEYS);
    long long reg, srv;
    h_counts(s, COUNTY, "2026", &reg, &srv);
    ck_assert_int_eq(reg, NGRAD);
    ck_assert_int_eq(srv, NGRAD);

    /* The pending notification: delivered after the restart, exactly once. */
    json_t *reqs_rv = receiver_wait(rv, 1, 15000);
    long long delivered_ms =
        json_array_size(reqs_rv) > 0
            ? json_integer_value(json_object_get(json_array_get(reqs_rv, 0), "t_ms")) - t_restart
            : -1;
    ck_assert_msg(json_array_size(reqs_rv) == 1, "receiver got %zu requests (log %s, server %s)",
                  json_array_size(reqs_rv), rv->log_path, s->log_path);
    json_t *q = json_array_get(reqs_rv, 0);
    ck_assert_str_eq(receiver_header(q, "x-gradcover-event-id"), event_id);
    json_t *body = receiver_body_json(q);
    ck_assert_str_eq(json_string_value(json_object_get(body, "status")), "firing");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(body, "county"), "code")),
                     ALERT_COUNTY);
    json_decref(body);
    json_decref(reqs_rv);
    h_sleep_ms(2000);
    reqs_rv = receiver_requests(rv);
    ck_assert_msg(json_array_size(reqs_rv) == 1, "receiver got %zu requests for one event",
                  json_array_size(reqs_rv));
    json_decref(reqs_rv);
    end = h_now_ms() + 5000;
    while (pending_events() > 0 && h_now_ms() < end)
        h_sleep_ms(50);
    ck_assert_int_eq(pending_events(), 0);

    fprintf(stderr,
            "fault.server seed=%u kill_after_acked=%zu answered_at_kill=%zu acked_at_kill=%zu "
            "acked_before_restart=%zu committed_unanswered=%zu restart_ready_ms=%lld "
            "pending_alert_delivered_ms=%lld\n",
            seed, kill_at, done_at_kill, acked_at_kill, acked, replayed, ready_ms, delivered_ms);

    lg_reqs_free(reqs, NKEYS);
    receiver_stop(rv);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_server");
    TCase *tc = tcase_create("fault_server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(
        tc, test_gradcoverd_sigkill_under_load_counts_each_key_once_and_delivers_pending_alert);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
