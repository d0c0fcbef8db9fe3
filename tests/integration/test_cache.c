/* The county counter cache (src/store/ccache.c): coverage and /metrics read only the
 * counties Redis says changed. Whatever the cache does, a read sees every write
 * acknowledged before it, by this server or another; losing the subscription
 * or emptying the database drops what was kept; and the cache is really used.
 * Two real gradcoverd processes on the fixture's Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>

#include "harness.h"
#include "proxy.h"

#define COUNTY "611002"

static void setup(void)
{
    h_init();
    h_flushdb();
}

static const char *config(void)
{
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 0, "reads_per_second", 0));
    const char *path = h_write_config(cfg, "cache");
    json_decref(cfg);
    return path;
}

static char *scrape(struct gc_server *s)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics: %d", r ? r->status : 0);
    char *body = strdup(r->body);
    h_resp_free(r);
    return body;
}

/* The value of the series whose line starts with `series ` (name and labels
 * exactly as written), or -1 when absent. */
static long long series(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return atoll(p + n + 1);
    return -1;
}

static long long metric(struct gc_server *s, const char *name)
{
    char *text = scrape(s);
    long long v = series(text, name);
    free(text);
    return v;
}

static void wait_cache_ready(struct gc_server *s)
{
    long long until = h_now_ms() + h_ms(10000);
    while (metric(s, "gradcover_county_cache_ready") != 1) {
        ck_assert_msg(h_now_ms() < until, "the counter cache did not come up");
        h_sleep_ms(20);
    }
}

/* Registered and served of COUNTY from GET /api/v1/coverage (every county:
 * the read that goes through the cache). */
static void coverage_of(struct gc_server *s, long long *reg, long long *srv)
{
    struct http_resp *r = h_http(s, "GET", "/api/v1/coverage", T_VIEWER, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "coverage: %s", r ? r->body : "none");
    json_t *list = json_object_get(r->json, "counties");
    size_t i;
    json_t *e;
    *reg = *srv = -1;
    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "code")), COUNTY) == 0) {
            *reg = json_integer_value(json_object_get(e, "registered"));
            *srv = json_integer_value(json_object_get(e, "served"));
        }
    }
    h_resp_free(r);
    ck_assert_int_ge(*reg, 0);
}

/* The same two numbers from /metrics (the other read through the cache). */
static void metrics_of(struct gc_server *s, long long *reg, long long *srv)
{
    char *text = scrape(s);
    char name[160];
    const char *year = NULL;
    /* The period label is the current year: take it from the scrape. */
    const char *p = strstr(text, "gradcover_registered_graduates{county=\"" COUNTY "\",period=\"");
    ck_assert_ptr_nonnull(p);
    year = strstr(p, "period=\"") + 8;
    char y[8];
    snprintf(y, sizeof y, "%.4s", year);
    snprintf(name, sizeof name,
             "gradcover_registered_graduates{county=\"" COUNTY "\",period=\"%s\"}", y);
    *reg = series(text, name);
    snprintf(name, sizeof name, "gradcover_served_graduates{county=\"" COUNTY "\",period=\"%s\"}",
             y);
    *srv = series(text, name);
    free(text);
}

static void expect_counts(struct gc_server *s, long long reg, long long srv, bool metrics)
{
    long long r, v;
    coverage_of(s, &r, &v);
    ck_assert_msg(r == reg && v == srv, "coverage: registered %lld served %lld, want %lld %lld", r,
                  v, reg, srv);
    if (!metrics)
        return;
    metrics_of(s, &r, &v);
    ck_assert_msg(r == reg && v == srv, "/metrics: registered %lld served %lld, want %lld %lld", r,
                  v, reg, srv);
}

static void gid(char *out, size_t n, int seq)
{
    snprintf(out, n, "C%05d", seq);
}

/* Registration and contacts through server b, each read through a's cache
 * right after b answered: a sees all of them, exactly. */
START_TEST(test_reads_see_every_acknowledged_write_of_another_server)
{
    const char *cfg = config();
    struct gc_server *a = h_start(cfg, NULL, NULL, true);
    struct gc_server *b = h_start(cfg, NULL, NULL, true);
    wait_cache_ready(a);
    expect_counts(a, 0, 0, true);
    long long hits0 = metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}");
    long long miss0 = metric(a, "gradcover_county_cache_lookups_total{result=\"miss\"}");
    for (int i = 0; i < 40; i++) {
        char id[16];
        gid(id, sizeof id, i);
        h_register(b, T_ADMIN, id, COUNTY, 100 + i, NULL);
        expect_counts(a, i + 1, i, i % 8 == 0);
        ck_assert_int_eq(h_contact(b, T_C611002, id, NULL, NULL), 201);
        expect_counts(a, i + 1, i + 1, i % 8 == 0);
    }
    /* Used: the other counties were answered from it; and every write made
     * the county be read again (at least one miss per read after a write). */
    long long hits = metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}") - hits0;
    long long miss = metric(a, "gradcover_county_cache_lookups_total{result=\"miss\"}") - miss0;
    ck_assert_msg(hits > 80 * 3, "cache hits %lld", hits);
    ck_assert_msg(miss >= 80, "cache misses %lld", miss);
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(a), 0);
}
END_TEST

/* Every answer Redis sends to a is held back 100 ms (a's connections go
 * through a proxy), so an invalidation reaches a 100 ms after the write it is
 * about, while b has long answered. A read that trusted the cache without
 * waiting for its barrier would show the old numbers here. */
START_TEST(test_a_read_waits_for_invalidations_still_on_their_way)
{
    int pport = h_free_port();
    pid_t proxy = slow_proxy(pport, h_redis_port(), 100);
    char url[128];
    snprintf(url, sizeof url, "redis://gradcoverd:gradcoverd-test-password@127.0.0.1:%d/%d", pport,
             h_redis_db());
    const char *cfg = config();
    struct gc_server *a = h_start(cfg, NULL, url, true);
    struct gc_server *b = h_start(cfg, NULL, NULL, true);
    wait_cache_ready(a);
    expect_counts(a, 0, 0, false);
    expect_counts(a, 0, 0, false); /* kept */
    for (int i = 0; i < 5; i++) {
        char id[16];
        gid(id, sizeof id, 400 + i);
        h_register(b, T_ADMIN, id, COUNTY, 400 + i, NULL);
        expect_counts(a, i + 1, i, true);
        ck_assert_int_eq(h_contact(b, T_C611002, id, NULL, NULL), 201);
        expect_counts(a, i + 1, i + 1, true);
    }
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(a), 0);
    kill(proxy, SIGKILL);
    waitpid(proxy, NULL, 0);
}
END_TEST

/* Kills the connections of this test's database of CLIENT LIST type `type`
 * whose flags include `flag` (0: any): the subscribed ones are type pubsub,
 * the cache's reading ones type normal with flag t (tracking). */
static int kill_clients(const char *type, char flag)
{
    redisReply *l = redisCommand(h_redis(), "CLIENT LIST TYPE %s", type);
    ck_assert(l && l->type == REDIS_REPLY_STRING);
    char want[32];
    snprintf(want, sizeof want, " db=%d ", h_redis_db());
    int killed = 0;
    for (char *line = strtok(l->str, "\n"); line; line = strtok(NULL, "\n")) {
        const char *flags = strstr(line, " flags=");
        if (!strstr(line, want) || strncmp(line, "id=", 3) != 0 || !flags)
            continue;
        size_t n = strcspn(flags + 7, " ");
        if (flag && !memchr(flags + 7, flag, n))
            continue;
        redisReply *k = redisCommand(h_redis(), "CLIENT KILL ID %lld", atoll(line + 3));
        ck_assert(k && k->type == REDIS_REPLY_INTEGER);
        killed += (int)k->integer;
        freeReplyObject(k);
    }
    freeReplyObject(l);
    return killed;
}

static bool log_has(struct gc_server *s, const char *what)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

/* Invalidations sent while the subscription is gone are lost: the cache must
 * not be trusted until it is back, and then only with what it read since. */
START_TEST(test_a_lost_subscription_drops_the_cache)
{
    const char *cfg = config();
    struct gc_server *a = h_start(cfg, NULL, NULL, true);
    struct gc_server *b = h_start(cfg, NULL, NULL, true);
    wait_cache_ready(a);
    h_register(b, T_ADMIN, "C00001", COUNTY, 201, NULL);
    ck_assert_int_eq(h_contact(b, T_C611002, "C00001", NULL, NULL), 201);
    expect_counts(a, 1, 1, true);
    expect_counts(a, 1, 1, true); /* from the cache */
    for (int round = 0; round < 3; round++) {
        wait_cache_ready(a);
        wait_cache_ready(b);
        ck_assert_int_eq(kill_clients("pubsub", 0), 2);
        char id[16];
        gid(id, sizeof id, 10 + round);
        h_register(b, T_ADMIN, id, COUNTY, 210 + round, NULL);
        ck_assert_int_eq(h_contact(b, T_C611002, id, NULL, NULL), 201);
        expect_counts(a, 2 + round, 2 + round, true);
        wait_cache_ready(a);
        expect_counts(a, 2 + round, 2 + round, true);
    }
    ck_assert(log_has(a, "event=counter_cache_off"));
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(a), 0);
}
END_TEST

/* Only the reading connection goes (Redis `timeout`, a firewall, CLIENT
 * KILL): Redis forgets what it read, so no invalidation will come for the
 * counties kept. They must not be served again. */
START_TEST(test_a_lost_reading_connection_drops_the_cache)
{
    const char *cfg = config();
    struct gc_server *a = h_start(cfg, NULL, NULL, true);
    struct gc_server *b = h_start(cfg, NULL, NULL, true);
    wait_cache_ready(a);
    h_register(b, T_ADMIN, "C00800", COUNTY, 800, NULL);
    expect_counts(a, 1, 0, true);
    expect_counts(a, 1, 0, true); /* kept */
    for (int round = 0; round < 3; round++) {
        ck_assert_int_ge(kill_clients("normal", 't'), 1);
        /* Until a reads again through a new connection, writes go unheard. */
        h_sleep_ms(300);
        wait_cache_ready(a);
        char id[16];
        gid(id, sizeof id, 810 + round);
        h_register(b, T_ADMIN, id, COUNTY, 810 + round, NULL);
        ck_assert_int_eq(h_contact(b, T_C611002, id, NULL, NULL), 201);
        expect_counts(a, 2 + round, 1 + round, true);
        expect_counts(a, 2 + round, 1 + round, true);
    }
    ck_assert_int_eq(h_stop(b), 0);
    ck_assert_int_eq(h_stop(a), 0);
}
END_TEST

/* FLUSHDB makes Redis invalidate everything: nothing kept survives it. */
START_TEST(test_an_emptied_database_empties_the_cache)
{
    struct gc_server *a = h_start(config(), NULL, NULL, true);
    wait_cache_ready(a);
    for (int i = 0; i < 3; i++) {
        char id[16];
        gid(id, sizeof id, i);
        h_register(a, T_ADMIN, id, COUNTY, 300 + i, NULL);
    }
    expect_counts(a, 3, 0, true);
    expect_counts(a, 3, 0, true); /* now from the cache */
    h_flushdb();
    expect_counts(a, 0, 0, true);
    ck_assert_int_eq(h_stop(a), 0);
}
END_TEST

/* A Redis user without the cache's permissions (an ACL from before it): the
 * cache gives up after three refusals, says so once, and every read is still
 * exact, straight from Redis. */
/* Each ACL a deployment may still have: no CLIENT (so no CLIENT ID), or
 * CLIENT but no SUBSCRIBE, or both but no CLIENT TRACKING. */
static const char *const missing_acl[] = {"-subscribe -client", "-subscribe", "-client|tracking"};

START_TEST(test_without_the_acl_the_cache_stays_off_and_reads_stay_exact)
{
    redisReply *u = redisCommand(h_redis(),
                                 "ACL SETUSER gc-nocache%d reset on >nocache-pw ~gc:* "
                                 "resetchannels &__redis__:invalidate +@all",
                                 _i);
    ck_assert(u && u->type == REDIS_REPLY_STATUS);
    freeReplyObject(u);
    char rules[64];
    snprintf(rules, sizeof rules, "%s", missing_acl[_i]);
    for (char *rule = strtok(rules, " "); rule; rule = strtok(NULL, " ")) {
        u = redisCommand(h_redis(), "ACL SETUSER gc-nocache%d %s", _i, rule);
        ck_assert(u && u->type == REDIS_REPLY_STATUS);
        freeReplyObject(u);
    }
    char url[128];
    snprintf(url, sizeof url, "redis://gc-nocache%d:nocache-pw@127.0.0.1:%d/%d", _i, h_redis_port(),
             h_redis_db());
    struct gc_server *a = h_start(config(), NULL, url, true);
    long long until = h_now_ms() + h_ms(10000);
    while (!log_has(a, "event=counter_cache_disabled")) {
        ck_assert_msg(h_now_ms() < until, "the cache did not give up (%s)", missing_acl[_i]);
        h_sleep_ms(50);
    }
    for (int i = 0; i < 3; i++) {
        char id[16];
        gid(id, sizeof id, 500 + i);
        h_register(a, T_ADMIN, id, COUNTY, 500 + i, NULL);
        expect_counts(a, i + 1, 0, true);
    }
    ck_assert_int_eq(metric(a, "gradcover_county_cache_ready"), 0);
    ck_assert_int_eq(metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}"), 0);
    ck_assert_int_eq(h_stop(a), 0);
}
END_TEST

/* counter_cache: false: no extra connections, every read straight from Redis. */
START_TEST(test_turned_off_every_read_goes_to_redis)
{
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "counter_cache", json_false());
    const char *path = h_write_config(cfg, "cache-off");
    json_decref(cfg);
    struct gc_server *a = h_start(path, NULL, NULL, true);
    for (int i = 0; i < 3; i++) {
        char id[16];
        gid(id, sizeof id, 600 + i);
        h_register(a, T_ADMIN, id, COUNTY, 600 + i, NULL);
        expect_counts(a, i + 1, 0, true);
        expect_counts(a, i + 1, 0, true);
    }
    ck_assert_int_eq(metric(a, "gradcover_county_cache_ready"), 0);
    ck_assert_int_eq(metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}"), 0);
    ck_assert_int_eq(metric(a, "gradcover_county_cache_lookups_total{result=\"miss\"}"), 0);
    ck_assert_int_eq(h_stop(a), 0);
}
END_TEST

/* A Redis without a password, database 0 (the bench's, a laptop's): the
 * cache's connections have no AUTH or SELECT to send and still come up. */
START_TEST(test_the_cache_comes_up_without_a_password)
{
    struct h_redis_proc *rp = h_redis_spawn("cache-nopass", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *a = h_start(config(), NULL, url, true);
    wait_cache_ready(a);
    h_register(a, T_ADMIN, "C00700", COUNTY, 700, NULL);
    expect_counts(a, 1, 0, true);
    expect_counts(a, 1, 0, true);
    ck_assert_int_gt(metric(a, "gradcover_county_cache_lookups_total{result=\"hit\"}"), 0);
    ck_assert_int_eq(h_stop(a), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reads_see_every_acknowledged_write_of_another_server);
    tcase_add_test(tc, test_a_read_waits_for_invalidations_still_on_their_way);
    tcase_add_test(tc, test_a_lost_subscription_drops_the_cache);
    tcase_add_test(tc, test_a_lost_reading_connection_drops_the_cache);
    tcase_add_test(tc, test_an_emptied_database_empties_the_cache);
    tcase_add_loop_test(tc, test_without_the_acl_the_cache_stays_off_and_reads_stay_exact, 0,
                        (int)(sizeof missing_acl / sizeof missing_acl[0]));
    tcase_add_test(tc, test_turned_off_every_read_goes_to_redis);
    tcase_add_test(tc, test_the_cache_comes_up_without_a_password);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
