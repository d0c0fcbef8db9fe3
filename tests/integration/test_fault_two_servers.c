/* Fault test: two gradcoverd processes on one Redis, each key sent to both at
 * the same time (docs/reliability.md). Every key makes one contact: one server
 * answers 201, the other replays the same answer. Alert transitions made
 * while both run are notified exactly once each, whichever server made them
 * and whichever delivers them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "receiver.h"

#include "receiver.c"

#define COUNTY "611002"
/* 611021's threshold is 0.92 in the test configuration. */
#define ALERT_COUNTY "611021"
#define NGRAD 100
#define NKEYS 5000
#define NCON 32
/* Rounds of firing + resolved in ALERT_COUNTY during the load. */
#define ROUNDS 5
#define SECRET "two-servers-secret"

static void setup(void)
{
    h_init();
    h_flushdb();
}

static void teardown(void)
{
    receiver_stop_all();
}

static const char *config(int hook_port)
{
    json_t *cfg = h_default_config();
    /* A load test: the per-token rate limits would answer 429 (0 = off). */
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/all", hook_port);
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i, s:[{s:s, s:s, s:s}]}", "for_seconds", 0,
                                  "clear_margin", 0.0, "eval_interval_seconds", 1, "webhooks",
                                  "name", "all", "url", url, "secret", SECRET));
    const char *path = h_write_config(cfg, "fault-two");
    json_decref(cfg);
    return path;
}

/* Sends the same request to both servers at once; returns both answers in
 * pair[0] (server a) and pair[1] (server b); pair comes from lg_reqs_new. */
static void both(struct lg_req *pair, const int *ports, const char *path, const char *token,
                 const char *key, const char *body)
{
    for (int t = 0; t < 2; t++) {
        memset(&pair[t], 0, sizeof pair[t]);
        pair[t].status = -1;
        pair[t].target = t;
        pair[t].token = token;
        snprintf(pair[t].path, sizeof pair[t].path, "%s", path);
        snprintf(pair[t].key, sizeof pair[t].key, "%s", key ? key : "");
        snprintf(pair[t].body, sizeof pair[t].body, "%s", body);
    }
    struct lg_opts o = {.ports = ports, .nports = 2, .ncon = 2, .timeout_ms = 10000};
    ck_assert_int_eq(lg_run(pair, 2, &o), 0);
}

/* Outbox events of a county: event_id and status of each, oldest first. */
static json_t *outbox(const char *county)
{
    redisReply *r = redisCommand(h_redis(), "XRANGE gc:{%s}:outbox - +", county);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY);
    json_t *out = json_array();
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        json_t *ev = json_object();
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            json_object_set_new(ev, f->element[k]->str, json_string(f->element[k + 1]->str));
        json_array_append_new(out, ev);
    }
    freeReplyObject(r);
    return out;
}

START_TEST(test_two_servers_same_keys_concurrently_one_contact_per_key_one_notification_each)
{
    struct receiver *rv = receiver_start("200");
    ck_assert_ptr_nonnull(rv);
    const char *cfg = config(rv->port);
    struct gc_server *a = h_start(cfg, NULL, NULL, true);
    struct gc_server *b = h_start(cfg, NULL, NULL, true);
    int ports[2] = {a->port, b->port};
    /* 611002 fires at its first registration (0 of 1) and resolves during the
     * load when 90 of the 100 have been served. */
    for (int g = 0; g < NGRAD; g++) {
        char gid[16];
        snprintf(gid, sizeof gid, "G%d", g);
        h_register(g % 2 ? a : b, T_C611002, gid, COUNTY, 800 + g, "2026-03-01T09:00:00+08:00");
    }
    /* Key i goes to a (request 2i) and to b (request 2i+1); each server's
     * connections take their requests in order, so both work on the same keys
     * at the same time. */
    struct lg_req *reqs = lg_reqs_new(2 * NKEYS);
    ck_assert_ptr_nonnull(reqs);
    for (size_t i = 0; i < NKEYS; i++) {
        char key[48], gid[16];
        snprintf(key, sizeof key, "two-%zu", i);
        snprintf(gid, sizeof gid, "G%zu", i % NGRAD);
        f_contact_req(&reqs[2 * i], 0, T_C611002, key, gid);
        f_contact_req(&reqs[2 * i + 1], 1, T_C611002, key, gid);
    }
    struct lg_opts o = {.ports = ports, .nports = 2, .ncon = NCON, .timeout_ms = 10000};
    struct lg *g = lg_start(reqs, 2 * NKEYS, &o);
    ck_assert_ptr_nonnull(g);

    /* Meanwhile Luonan goes below target and back ROUNDS times, each step
     * sent to both servers at once. */
    struct lg_req *pair = lg_reqs_new(2);
    ck_assert_ptr_nonnull(pair);
    int reg_created = 0, contact_new = 0;
    for (int j = 0; j < ROUNDS; j++) {
        char body[256], key[32];
        snprintf(body, sizeof body,
                 "{\"id\":\"L%d\",\"county\":\"" ALERT_COUNTY "\",\"name\":\"x\","
                 "\"national_id\":\"%s\",\"registered_at\":\"2026-03-01T09:00:00+08:00\"}",
                 j, h_natid(900 + j));
        both(pair, ports, "/api/v1/graduates", T_C611021, NULL, body);
        for (int t = 0; t < 2; t++)
            ck_assert_msg(pair[t].status == 201 || pair[t].status == 200 || pair[t].status == 409,
                          "registration L%d: %d %s", j, pair[t].status, pair[t].err);
        reg_created += (pair[0].status == 201) + (pair[1].status == 201);
        snprintf(key, sizeof key, "luonan-%d", j);
        snprintf(body, sizeof body,
                 "{\"graduate_id\":\"L%d\",\"service\":\"career_guidance\","
                 "\"occurred_at\":\"2026-03-05T09:00:00+08:00\"}",
                 j);
        both(pair, ports, "/api/v1/contacts", T_C611021, key, body);
        ck_assert_int_eq(pair[0].status, 201);
        ck_assert_int_eq(pair[1].status, 201);
        ck_assert_str_eq(pair[0].id, pair[1].id);
        ck_assert_int_eq(pair[0].replayed + pair[1].replayed, 1);
        contact_new += !pair[0].replayed + !pair[1].replayed;
    }
    lg_reqs_free(pair, 2);
    ck_assert_int_eq(lg_wait(g), 0);
    ck_assert_int_eq(reg_created, ROUNDS);
    ck_assert_int_eq(contact_new, ROUNDS);

    /* Each key: both answered 201 with the same contact, one of them a replay. */
    size_t same_time = 0, replays_a = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct lg_req *x = &reqs[2 * i], *y = &reqs[2 * i + 1];
        ck_assert_msg(x->status == 201 && y->status == 201, "%s: %d (%s) and %d (%s)", x->key,
                      x->status, x->err, y->status, y->err);
        ck_assert_msg(strcmp(x->id, y->id) == 0, "%s: two contacts %s and %s", x->key, x->id,
                      y->id);
        ck_assert_msg(x->replayed + y->replayed == 1, "%s: replayed %d and %d", x->key, x->replayed,
                      y->replayed);
        replays_a += x->replayed;
        /* In flight at both servers at once. */
        same_time += x->t_sent < y->t_done && y->t_sent < x->t_done;
    }
    struct f_ids ids;
    f_stored_ids(h_redis(), COUNTY, "G", NGRAD, &ids);
    ck_assert_int_eq(ids.n, NKEYS);
    ck_assert_int_eq(ids.distinct, NKEYS);
    f_ids_free(&ids);
    ck_assert_int_eq(h_redis_int("HGET gc:{" COUNTY "}:cnt c:job_referral"), NKEYS);
    ck_assert_int_eq(f_metric_contacts(a, COUNTY, "job_referral"), NKEYS);
    ck_assert_int_eq(f_metric_contacts(b, COUNTY, "job_referral"), NKEYS);
    ck_assert_int_eq(h_redis_int("HGET gc:{" ALERT_COUNTY "}:cnt c:career_guidance"), ROUNDS);
    long long reg, srv;
    h_counts(b, ALERT_COUNTY, "2026", &reg, &srv);
    ck_assert_int_eq(reg, ROUNDS);
    ck_assert_int_eq(srv, ROUNDS);

    /* Transitions: 611002 fired and resolved once, 611021 ROUNDS times each. */
    json_t *ob2 = outbox(COUNTY), *ob21 = outbox(ALERT_COUNTY);
    ck_assert_int_eq(json_array_size(ob2), 2);
    ck_assert_int_eq(json_array_size(ob21), 2 * ROUNDS);
    json_t *events = json_array();
    json_array_extend(events, ob2);
    json_array_extend(events, ob21);
    size_t nev = json_array_size(events);
    /* Exactly one notification per transition: by event_id, and by status. */
    json_t *got = receiver_wait(rv, nev, 20000);
    h_sleep_ms(3000);
    json_decref(got);
    got = receiver_requests(rv);
    ck_assert_msg(json_array_size(got) == nev,
                  "receiver got %zu notifications for %zu "
                  "transitions (receiver log %s; servers %s %s)",
                  json_array_size(got), nev, rv->log_path, a->log_path, b->log_path);
    size_t i, k;
    json_t *ev, *q;
    json_array_foreach(events, i, ev)
    {
        const char *id = json_string_value(json_object_get(ev, "event_id"));
        size_t n = 0;
        json_array_foreach(got, k, q)
        {
            const char *h = receiver_header(q, "x-gradcover-event-id");
            if (!h || strcmp(h, id) != 0)
                continue;
            n++;
            json_t *body = receiver_body_json(q);
            ck_assert_str_eq(json_string_value(json_object_get(body, "status")),
                             json_string_value(json_object_get(ev, "status")));
            json_decref(body);
        }
        ck_assert_msg(n == 1, "event %s (%s) notified %zu times", id,
                      json_string_value(json_object_get(ev, "status")), n);
    }
    size_t firing = 0;
    json_array_foreach(got, k, q)
    {
        json_t *body = receiver_body_json(q);
        firing += strcmp(json_string_value(json_object_get(body, "status")), "firing") == 0;
        json_decref(body);
    }
    ck_assert_int_eq(firing, 1 + ROUNDS);

    fprintf(stderr,
            "fault.two_servers keys=%zu in_flight_at_both=%zu first_at_a=%zu first_at_b=%zu "
            "transitions=%zu notifications=%zu\n",
            (size_t)NKEYS, same_time, NKEYS - replays_a, replays_a, nev, json_array_size(got));
    json_decref(got);
    json_decref(events);
    json_decref(ob2);
    json_decref(ob21);
    lg_reqs_free(reqs, 2 * NKEYS);
    ck_assert_int_eq(h_stop(a), 0);
    ck_assert_int_eq(h_stop(b), 0);
    receiver_stop(rv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_two_servers");
    TCase *tc = tcase_create("fault_two_servers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(
        tc, test_two_servers_same_keys_concurrently_one_contact_per_key_one_notification_each);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
