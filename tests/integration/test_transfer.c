/* Transfers (SPEC §12; docs/design.md, "Transfers") through the real server
 * and Redis: a seeking graduate moves to another county, both counties'
 * counts move, refusals change nothing, and a move left half-way is
 * finished by a retry and by the servers themselves, counted exactly once
 * even with two servers repairing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static json_t *cfg;
static struct gc_server *srv;

#define REGISTERED "2026-03-01T09:00:00+08:00"
#define NOW "2026-03-10T10:00:00+08:00"

static struct gc_server *start(void)
{
    const char *args[] = {"--now", NOW, NULL};
    return h_start(h_write_config(cfg, "transfer"), args, NULL, true);
}

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = h_default_config();
    srv = start();
    /* In 611021: G1 served this period, G2 waiting. */
    h_register(srv, T_C611021, "G1", "611021", 1, REGISTERED);
    h_register(srv, T_C611021, "G2", "611021", 2, REGISTERED);
    ck_assert_int_eq(h_contact(srv, T_C611021, "G1", "2026-03-02T09:00:00+08:00", NULL), 201);
}

static void teardown(void)
{
    if (srv)
        ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
    json_decref(cfg);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

struct counts {
    long long reg[2], srv[2];
};

static void counts(struct counts *c)
{
    h_counts(srv, "611002", "", &c->reg[0], &c->srv[0]);
    h_counts(srv, "611021", "", &c->reg[1], &c->srv[1]);
}

static void expect_counts(long long reg02, long long srv02, long long reg21, long long srv21)
{
    struct counts c;
    counts(&c);
    ck_assert_msg(c.reg[0] == reg02 && c.srv[0] == srv02 && c.reg[1] == reg21 && c.srv[1] == srv21,
                  "611002 %lld/%lld (want %lld/%lld), 611021 %lld/%lld (want %lld/%lld)", c.srv[0],
                  c.reg[0], srv02, reg02, c.srv[1], c.reg[1], srv21, reg21);
}

static struct http_resp *transfer(const char *token, const char *gid, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s/transfer", gid);
    return h_http(srv, "POST", path, token, body, NULL);
}

static bool in_queue(const char *county, const char *gid)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/counties/%s/queue?limit=500", county);
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    bool found = false;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r->json, "graduates"), i, g)
    {
        found |= strcmp(str(g, "id"), gid) == 0;
    }
    h_resp_free(r);
    return found;
}

static bool audited(const char *county, const char *action)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "XREVRANGE gc:{%s}:audit + - COUNT 50", county);
    redisReply *a = redisCommand(h_redis(), cmd);
    bool seen = false;
    for (size_t i = 0; a && i < a->elements; i++) {
        redisReply *f = a->element[i]->element[1];
        for (size_t k = 0; k + 1 < f->elements; k += 2)
            if (!strcmp(f->element[k]->str, "action") && !strcmp(f->element[k + 1]->str, action))
                seen = true;
    }
    freeReplyObject(a);
    return seen;
}

START_TEST(test_transfer_moves_a_served_graduate_and_both_counts)
{
    expect_counts(0, 0, 2, 1);
    struct http_resp *r =
        transfer(T_LALL, "G1", "{\"county\":\"611002\",\"reason\":\"户籍迁至商州区\"}");
    ck_assert_msg(r->status == 200, "%d %s", r->status, r->body);
    ck_assert_str_eq(str(r->json, "county"), "611002");
    ck_assert_str_eq(str(r->json, "transferred_from"), "611021");
    ck_assert_str_eq(str(r->json, "status"), "seeking");
    h_resp_free(r);
    /* Served this period: served moves with the registration. */
    expect_counts(1, 1, 1, 0);
    /* The new county's counselor has the graduate and its contacts... */
    r = h_http(srv, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "contacts")), 1);
    h_resp_free(r);
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", NULL, NULL), 201);
    /* ...finds the person by national ID, and the old county no longer has them. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", h_natid(1));
    r = h_http(srv, "GET", path, T_C611002, NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 1);
    h_resp_free(r);
    h_expect(h_http(srv, "GET", "/api/v1/graduates/G1", T_C611021, NULL, NULL), 404, "not_found");
    ck_assert(audited("611021", "graduate.transfer_out"));
    ck_assert(audited("611002", "graduate.transfer_in"));
    /* A retry of the same transfer changes nothing. */
    r = transfer(T_LALL, "G1", "{\"county\":\"611002\"}");
    ck_assert_int_eq(r->status, 200);
    h_resp_free(r);
    expect_counts(1, 1, 1, 0);
}
END_TEST

START_TEST(test_an_unserved_graduate_joins_the_destination_queue)
{
    ck_assert(in_queue("611021", "G2"));
    struct http_resp *r = transfer(T_ADMIN, "G2", "{\"county\":\"611002\"}");
    ck_assert_int_eq(r->status, 200);
    h_resp_free(r);
    expect_counts(1, 0, 1, 1);
    ck_assert(in_queue("611002", "G2"));
    ck_assert(!in_queue("611021", "G2"));
    /* And back: the counts return. */
    r = transfer(T_ADMIN, "G2", "{\"county\":\"611021\"}");
    ck_assert_int_eq(r->status, 200);
    h_resp_free(r);
    expect_counts(0, 0, 2, 1);
    ck_assert(in_queue("611021", "G2"));
}
END_TEST

START_TEST(test_refused_transfers_change_nothing)
{
    const struct {
        const char *token, *gid, *body;
        int status;
        const char *code;
    } bad[] = {
        {T_C611021, "G2", "{\"county\":\"611002\"}", 403, "forbidden"},
        {T_L611002, "G2", "{\"county\":\"611002\"}", 403, "forbidden"},
        {T_VIEWER, "G2", "{\"county\":\"611002\"}", 403, "forbidden"},
        {NULL, "G2", "{\"county\":\"611002\"}", 401, "unauthorized"},
        {T_ADMIN, "G2", "{}", 422, "validation_failed"},
        {T_ADMIN, "G2", "{\"county\":\"999999\"}", 422, "validation_failed"},
        {T_ADMIN, "G2", "{\"county\":\"611002\",\"served\":true}", 422, "validation_failed"},
        {T_ADMIN, "G2", "{\"county\":611002}", 422, "validation_failed"},
        {T_ADMIN, "G9", "{\"county\":\"611002\"}", 404, "not_found"},
        {T_ADMIN, "G2", "{\"county\":", 400, "malformed_json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_resp *r = transfer(bad[i].token, bad[i].gid, bad[i].body);
        ck_assert_msg(r->status == bad[i].status, "%zu %s: %d %s", i, bad[i].body, r->status,
                      r->body);
        ck_assert_str_eq(str(json_object_get(r->json, "error"), "code"), bad[i].code);
        h_resp_free(r);
    }
    /* A reason over 200 characters. */
    char body[512];
    snprintf(body, sizeof body, "{\"county\":\"611002\",\"reason\":\"%0201d\"}", 0);
    h_expect(transfer(T_ADMIN, "G2", body), 422, "validation_failed");
    /* Only a seeking graduate moves. */
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G2/status", T_C611021,
                    "{\"status\":\"employed\"}", NULL),
             200, NULL);
    h_expect(transfer(T_ADMIN, "G2", "{\"county\":\"611002\"}"), 409, "not_seeking");
    expect_counts(0, 0, 2, 1);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:G2"), 0);
}
END_TEST

/* Step 2 refused (a record already there under the id, which never happens
 * but stops the chain before it writes anything): the source's step holds. */
static void block_destination(void)
{
    redisReply *x = redisCommand(h_redis(), "HSET gc:{611002}:g:G2 id blocker");
    freeReplyObject(x);
}

static void unblock_destination(void)
{
    redisReply *x = redisCommand(h_redis(), "DEL gc:{611002}:g:G2");
    freeReplyObject(x);
}

START_TEST(test_a_transfer_left_half_way_is_finished_by_its_retry)
{
    block_destination();
    h_expect(transfer(T_ADMIN, "G2", "{\"county\":\"611002\"}"), 503, "redis_unavailable");
    /* Counted nowhere meanwhile, and nothing may be added to them. */
    expect_counts(0, 0, 1, 1);
    ck_assert_int_eq(h_contact(srv, T_C611021, "G2", NULL, NULL), 409);
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G2/status", T_C611021,
                    "{\"status\":\"employed\"}", NULL),
             409, "transfer_pending");
    /* Another destination is refused while this one is pending. */
    h_expect(transfer(T_ADMIN, "G2", "{\"county\":\"611022\"}"), 409, "transfer_pending");
    unblock_destination();
    struct http_resp *r = transfer(T_ADMIN, "G2", "{\"county\":\"611002\"}");
    ck_assert_msg(r->status == 200, "%d %s", r->status, r->body);
    h_resp_free(r);
    expect_counts(1, 0, 1, 1);
    ck_assert(in_queue("611002", "G2"));
    ck_assert_int_eq(h_redis_int("ZCARD gc:{611021}:xfer_out"), 0);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611021}:g:G2"), 0);
}
END_TEST

START_TEST(test_a_transfer_left_half_way_is_finished_by_the_servers_once)
{
    struct gc_server *second = start();
    block_destination();
    h_expect(transfer(T_ADMIN, "G2", "{\"county\":\"611002\"}"), 503, "redis_unavailable");
    expect_counts(0, 0, 1, 1);
    unblock_destination();
    /* Both servers' repair jobs see the intent once it is 10 s old. */
    long long deadline = h_now_ms() + h_ms(40000);
    struct counts c;
    do {
        h_sleep_ms(500);
        counts(&c);
    } while (c.reg[0] == 0 && h_now_ms() < deadline);
    h_sleep_ms(h_ms(6000)); /* a second repair, if any, has run by now */
    expect_counts(1, 0, 1, 1);
    ck_assert_int_eq(h_redis_int("SCARD gc:{611002}:reg:2026"), 1);
    ck_assert_int_eq(h_redis_int("ZCARD gc:{611021}:xfer_out"), 0);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611021}:g:G2"), 0);
    ck_assert(in_queue("611002", "G2"));
    ck_assert_int_eq(h_stop(second), 0);
}
END_TEST

/* Two servers move the same graduate to two different counties at the same
 * moment, again and again: it ends in exactly one county, counted once, and
 * every county's registered count agrees with its set. */
START_TEST(test_concurrent_transfers_on_two_servers_count_the_graduate_once)
{
    struct gc_server *second = start();
    const char *dest[2] = {"611002", "611022"};
    for (int round = 0; round < 8; round++) {
        pid_t pid = h_child_fork();
        if (pid == 0) {
            char body[64];
            snprintf(body, sizeof body, "{\"county\":\"%s\"}", dest[1]);
            struct http_resp *r =
                h_http(second, "POST", "/api/v1/graduates/G2/transfer", T_ADMIN, body, NULL);
            int st = r ? r->status : 0;
            h_child_exit(st == 200 || st == 409 || st == 503 || st == 404 ? 0 : 1);
        }
        char body[64];
        snprintf(body, sizeof body, "{\"county\":\"%s\"}", dest[0]);
        struct http_resp *r = transfer(T_ADMIN, "G2", body);
        ck_assert_msg(r->status == 200 || r->status == 409 || r->status == 503 || r->status == 404,
                      "%d %s", r->status, r->body);
        h_resp_free(r);
        ck_assert_int_eq(h_child_wait(pid), 0);
        /* Any move left half-way: finished by a retry to where it was going. */
        for (int k = 0; k < 2; k++) {
            snprintf(body, sizeof body, "{\"county\":\"%s\"}", dest[k]);
            r = transfer(T_ADMIN, "G2", body);
            h_resp_free(r);
        }
        /* Back to the start for the next round. */
        r = transfer(T_ADMIN, "G2", "{\"county\":\"611021\"}");
        ck_assert_msg(r->status == 200, "back: %d %s", r->status, r->body);
        h_resp_free(r);
        const char *all[3] = {"611002", "611021", "611022"};
        long long total = 0;
        for (int c = 0; c < 3; c++) {
            long long reg, srvd;
            h_counts(srv, all[c], "", &reg, &srvd);
            total += reg;
            char cmd[64];
            snprintf(cmd, sizeof cmd, "SCARD gc:{%s}:reg:2026", all[c]);
            ck_assert_int_eq(h_redis_int(cmd), reg);
            snprintf(cmd, sizeof cmd, "EXISTS gc:{%s}:g:G2", all[c]);
            ck_assert_int_eq(h_redis_int(cmd), strcmp(all[c], "611021") == 0);
        }
        ck_assert_int_eq(total, 2);
    }
    expect_counts(0, 0, 2, 1);
    ck_assert_int_eq(h_stop(second), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transfer");
    TCase *tc = tcase_create("transfer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_transfer_moves_a_served_graduate_and_both_counts);
    tcase_add_test(tc, test_an_unserved_graduate_joins_the_destination_queue);
    tcase_add_test(tc, test_refused_transfers_change_nothing);
    tcase_add_test(tc, test_a_transfer_left_half_way_is_finished_by_its_retry);
    tcase_add_test(tc, test_a_transfer_left_half_way_is_finished_by_the_servers_once);
    tcase_add_test(tc, test_concurrent_transfers_on_two_servers_count_the_graduate_once);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
