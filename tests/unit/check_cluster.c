/* Unit tests of Redis Cluster's addressing (slotmap.c): redis-cluster://
 * URLs, the configuration taking them (and refusing a malformed one by name),
 * key slots against the Redis Cluster specification's values, the slot map
 * from CLUSTER SLOTS answers, and MOVED/ASK texts. integration.test_cluster
 * checks the same functions against a real 3-master cluster. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/redis_url.h"
#include "gradcover/domain/config.h"
#include "gradcover/store/slotmap.h"

/* ---- redis-cluster:// ---- */

static struct redis_target parse_url_ok(const char *url)
{
    struct redis_target t;
    char err[128] = "";
    ck_assert_msg(redis_url_parse(url, &t, err, sizeof err), "%s rejected: %s", url, err);
    return t;
}

START_TEST(test_url_cluster_seeds)
{
    struct redis_target t = parse_url_ok("redis-cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002");
    ck_assert(t.cluster);
    ck_assert(!t.sentinel);
    ck_assert(!t.unix_socket);
    ck_assert_int_eq(t.nseeds, 3);
    ck_assert_str_eq(t.seeds[0].host, "10.0.0.1");
    ck_assert_int_eq(t.seeds[0].port, 7000);
    ck_assert_str_eq(t.seeds[1].host, "10.0.0.2");
    ck_assert_int_eq(t.seeds[1].port, 7001);
    ck_assert_str_eq(t.seeds[2].host, "::1");
    ck_assert_int_eq(t.seeds[2].port, 7002);
    /* The first seed is what a log line names. */
    ck_assert_str_eq(t.host, "10.0.0.1");
    ck_assert_int_eq(t.port, 7000);
    ck_assert_int_eq(t.db, 0);
    ck_assert_str_eq(t.password, "");
}
END_TEST

START_TEST(test_url_cluster_credentials)
{
    struct redis_target t = parse_url_ok("redis-cluster://gradcoverd:p@ss,w/d@n1:7000");
    ck_assert(t.cluster);
    ck_assert_str_eq(t.user, "gradcoverd");
    ck_assert_str_eq(t.password, "p@ss,w/d");
    ck_assert_int_eq(t.nseeds, 1);
    ck_assert_str_eq(t.seeds[0].host, "n1");
    t = parse_url_ok("redis-cluster://:pw@n1:1,n2:2");
    ck_assert_str_eq(t.user, "");
    ck_assert_str_eq(t.password, "pw");
    ck_assert_int_eq(t.nseeds, 2);
}
END_TEST

/* One more than REDIS_CLUSTER_SEEDS_MAX. */
#define SEVENTEEN_SEEDS                                                                            \
    "redis-cluster://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,m:13,n:14,o:15,p:16,q:17"

START_TEST(test_url_cluster_rejects)
{
    static const char *const bad[] = {
        "redis-cluster://",              /* no seed */
        "redis-cluster://n1",            /* no port */
        "redis-cluster://n1:0",          /* port 0 */
        "redis-cluster://n1:70000",      /* port out of range */
        "redis-cluster://n1:7000,",      /* empty second seed */
        "redis-cluster://n1:7000,,n2:1", /* empty one in the middle */
        "redis-cluster://,n1:7000",      /* empty first seed */
        "redis-cluster://n1:7000/0",     /* a database: a cluster has only db 0 */
        "redis-cluster://n1:7000/",      /* a trailing slash */
        "redis-cluster://n1:7000?db=1",  /* a query */
        "redis-cluster://n1:7x",         /* junk port */
        "redis-cluster://user@n1:7000",  /* user without password */
        "redis-cluster://u:@n1:7000",    /* empty password */
        "redis-clusters://n1:7000",      /* scheme */
        SEVENTEEN_SEEDS,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct redis_target t;
        char err[128] = "";
        ck_assert_msg(!redis_url_parse(bad[i], &t, err, sizeof err), "%s accepted", bad[i]);
        ck_assert_msg(err[0], "%s: no reason", bad[i]);
    }
    struct redis_target t =
        parse_url_ok("redis-cluster://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9,j:10,k:11,l:12,m:13,"
                     "n:14,o:15,p:16");
    ck_assert_int_eq(t.nseeds, REDIS_CLUSTER_SEEDS_MAX);
}
END_TEST

START_TEST(test_url_cluster_error_never_quotes_the_password)
{
    struct redis_target t;
    char err[128] = "";
    ck_assert(!redis_url_parse("redis-cluster://:hunter2@n1:7000/3", &t, err, sizeof err));
    ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

START_TEST(test_url_plain_is_not_cluster)
{
    ck_assert(!parse_url_ok("redis://h:1/2").cluster);
    ck_assert(!parse_url_ok("redis-sentinel://s:1/m").cluster);
    ck_assert(!parse_url_ok("unix:///run/r.sock").cluster);
}
END_TEST

/* The configuration takes a cluster URL (gradcoverd --check-config, a start
 * and a SIGHUP reload all go through config_parse), and refuses a malformed
 * one by the key's name. */
START_TEST(test_config_takes_cluster_url)
{
    const char text[] = "{\"pii_key_file\": \"x\", \"counties\": [{\"code\": \"611002\", "
                        "\"name\": \"a\"}], \"redis\": \"redis-cluster://127.0.0.1:7000,"
                        "127.0.0.1:7001\"}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);
    config_free(cfg);
    const char bad[] = "{\"pii_key_file\": \"x\", \"counties\": [{\"code\": \"611002\", "
                       "\"name\": \"a\"}], \"redis\": \"redis-cluster://127.0.0.1:7000/1\"}";
    cfg = config_parse(bad, strlen(bad), err, sizeof err);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(err, "\"redis\""), "%s", err);
}
END_TEST

/* ---- key slots ---- */

static unsigned slot(const char *key)
{
    return slotmap_keyslot(key, strlen(key));
}

/* The Redis Cluster specification's CRC16 check value (CRC16 of "123456789"
 * is 0x31C3) and the documentation's CLUSTER KEYSLOT examples. */
START_TEST(test_keyslot_known_values)
{
    ck_assert_uint_eq(slot("123456789"), 0x31C3);
    ck_assert_uint_eq(slot("somekey"), 11058);
    ck_assert_uint_eq(slot("foo{hash_tag}"), 2515);
    ck_assert_uint_eq(slot("foo"), 12182);
    ck_assert_uint_eq(slot(""), 0);
}
END_TEST

/* The specification's hash tag rules, one example each. */
START_TEST(test_keyslot_hash_tags)
{
    /* The tag alone decides. */
    ck_assert_uint_eq(slot("{user1000}.following"), slot("user1000"));
    ck_assert_uint_eq(slot("{user1000}.followers"), slot("user1000"));
    /* Only the first '{' and the first '}' after it. */
    ck_assert_uint_eq(slot("foo{{bar}}zap"), slot("{bar"));
    ck_assert_uint_eq(slot("foo{bar}{zap}"), slot("bar"));
    /* An empty tag, or no '}' after the '{': the whole key. */
    ck_assert_uint_eq(slot("foo{}{bar}"), slotmap_keyslot("foo{}{bar}", 10));
    ck_assert_uint_ne(slot("foo{}{bar}"), slot("bar"));
    ck_assert_uint_eq(slot("foo{bar"), slotmap_keyslot("foo{bar", 7));
    ck_assert_uint_ne(slot("foo{bar"), slot("bar"));
    /* Every key of a county, and its prefix, share the county's slot. */
    unsigned c = slot("611002");
    ck_assert_uint_eq(slot("gc:{611002}"), c);
    ck_assert_uint_eq(slot("gc:{611002}:cnt"), c);
    ck_assert_uint_eq(slot("gc:{611002}:g:G-1{x}"), c);
    ck_assert_uint_eq(slot("gc:{@}:gid:G-1"), slot("@"));
}
END_TEST

/* Binary-safe: a NUL inside the key counts. */
START_TEST(test_keyslot_uses_the_length)
{
    ck_assert_uint_ne(slotmap_keyslot("ab\0cd", 5), slotmap_keyslot("ab", 2));
    ck_assert_uint_eq(slotmap_keyslot("ab\0cd", 2), slot("ab"));
}
END_TEST

/* ---- the slot map ---- */

static struct slotmap *map_of(const char *text, char *err, size_t errlen)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    ck_assert_msg(v != NULL, "%s", je.text);
    struct slotmap *m = slotmap_from_slots(v, "10.9.9.9", err, errlen);
    json_decref(v);
    return m;
}

/* The shape of a 3-master, 3-replica answer (redis-cli --cluster create with
 * --cluster-replicas 1), replicas listed after each range's master. */
START_TEST(test_slotmap_three_masters)
{
    char err[128] = "";
    struct slotmap *m = map_of(
        "[[0, 5460, [\"127.0.0.1\", 7000, \"aaaa\", []], [\"127.0.0.1\", 7004, \"eeee\", []]],"
        " [5461, 10922, [\"127.0.0.1\", 7001, \"bbbb\", []], [\"127.0.0.1\", 7005, \"ffff\", []]],"
        " [10923, 16383, [\"127.0.0.1\", 7002, \"cccc\", []], [\"127.0.0.1\", 7003, \"dddd\"]]]",
        err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_eq(slotmap_nmasters(m), 3);
    ck_assert_int_eq(slotmap_nnodes(m), 6);
    ck_assert_uint_eq(slotmap_unowned(m), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert(slotmap_node(m, i)->master);
        ck_assert_int_eq(slotmap_node(m, i)->port, 7000 + i);
    }
    for (int i = 3; i < 6; i++)
        ck_assert(!slotmap_node(m, i)->master);
    ck_assert_str_eq(slotmap_node(m, 1)->id, "bbbb");
    ck_assert_int_eq(slotmap_owner(m, 0), 0);
    ck_assert_int_eq(slotmap_owner(m, 5460), 0);
    ck_assert_int_eq(slotmap_owner(m, 5461), 1);
    ck_assert_int_eq(slotmap_owner(m, 10922), 1);
    ck_assert_int_eq(slotmap_owner(m, 10923), 2);
    ck_assert_int_eq(slotmap_owner(m, 16383), 2);
    ck_assert_int_eq(slotmap_owner(m, 16384), SLOTMAP_UNOWNED);
    ck_assert_int_eq(slotmap_find(m, "127.0.0.1", 7005), 4);
    ck_assert_int_eq(slotmap_find(m, "127.0.0.1", 7003), 5);
    ck_assert_int_eq(slotmap_find(m, "127.0.0.1", 7006), -1);
    ck_assert_ptr_null(slotmap_node(m, 6));
    slotmap_free(m);
}
END_TEST

/* A master with several ranges (after a resharding) is one node; a range
 * that lost its master is left out by Redis: its slots are unowned; an empty
 * or null host (cluster-preferred-endpoint-type unknown-endpoint) is the
 * node asked; "?" (type hostname without a hostname) stays "?". */
START_TEST(test_slotmap_split_ranges_and_holes)
{
    char err[128] = "";
    struct slotmap *m = map_of("[[0, 99, [\"\", 7000, \"aaaa\"]],"
                               " [200, 299, [\"10.0.0.2\", 7001, \"bbbb\"]],"
                               " [100, 150, [null, 7000, \"aaaa\"]],"
                               " [300, 300, [\"?\", 7002, \"cccc\"]]]",
                               err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_eq(slotmap_nmasters(m), 3);
    ck_assert_str_eq(slotmap_node(m, 0)->host, "10.9.9.9");
    ck_assert_int_eq(slotmap_owner(m, 150), 0);
    ck_assert_int_eq(slotmap_owner(m, 151), SLOTMAP_UNOWNED);
    ck_assert_int_eq(slotmap_owner(m, 250), 1);
    ck_assert_str_eq(slotmap_node(m, slotmap_owner(m, 300))->host, "?");
    ck_assert_uint_eq(slotmap_unowned(m), SLOTMAP_SLOTS - 100 - 51 - 100 - 1);
    slotmap_free(m);
}
END_TEST

START_TEST(test_slotmap_rejects_malformed_answers)
{
    static const char *const bad[] = {
        "{}",                                       /* not an array */
        "[[0, 16384, [\"h\", 1]]]",                 /* slot out of range */
        "[[-1, 5, [\"h\", 1]]]",                    /* negative */
        "[[9, 5, [\"h\", 1]]]",                     /* end before start */
        "[[0, 5]]",                                 /* no master */
        "[[0, 5, [\"h\"]]]",                        /* no port */
        "[[0, 5, [\"h\", 0]]]",                     /* port 0 */
        "[[0, 5, [\"h\", \"7000\"]]]",              /* port as text */
        "[[0, 5, [1, 7000]]]",                      /* host not text */
        "[[0, 5, [\"h\", 1]], [5, 9, [\"g\", 2]]]", /* slot 5 twice */
        "[[\"0\", 5, [\"h\", 1]]]",                 /* start as text */
        "[[0, 5, [\"h\", 1], [\"r\"]]]",            /* a replica without port */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        struct slotmap *m = map_of(bad[i], err, sizeof err);
        ck_assert_msg(m == NULL, "%s accepted", bad[i]);
        ck_assert_msg(err[0], "%s: no reason", bad[i]);
    }
}
END_TEST

/* An empty answer (a node not in a cluster yet): a map with every slot
 * unowned, which the router treats as "cluster down". */
START_TEST(test_slotmap_empty_answer)
{
    char err[128] = "";
    struct slotmap *m = map_of("[]", err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_eq(slotmap_nmasters(m), 0);
    ck_assert_uint_eq(slotmap_unowned(m), SLOTMAP_SLOTS);
    slotmap_free(m);
}
END_TEST

/* ---- MOVED and ASK ---- */

START_TEST(test_redirect_moved_and_ask)
{
    struct slotmap_redirect r;
    ck_assert(slotmap_redirect_parse("MOVED 3999 127.0.0.1:6381", &r));
    ck_assert(!r.ask);
    ck_assert_uint_eq(r.slot, 3999);
    ck_assert_str_eq(r.host, "127.0.0.1");
    ck_assert_int_eq(r.port, 6381);
    ck_assert(slotmap_redirect_parse("ASK 16383 ::1:7002", &r));
    ck_assert(r.ask);
    ck_assert_uint_eq(r.slot, 16383);
    ck_assert_str_eq(r.host, "::1");
    ck_assert_int_eq(r.port, 7002);
    ck_assert(slotmap_redirect_parse("MOVED 0 :7000", &r));
    ck_assert_str_eq(r.host, "");
    ck_assert_int_eq(r.port, 7000);
}
END_TEST

START_TEST(test_redirect_rejects_other_errors)
{
    static const char *const bad[] = {
        "ERR unknown command",
        "MOVED",
        "MOVED 3999",
        "MOVED 3999 h",
        "MOVED 16384 h:1",
        "MOVED x h:1",
        "MOVED -1 h:1",
        "MOVED 1 h:0",
        "MOVED 1 h:70000",
        "MOVED 1 h:1x",
        "ASK 1  h:1",
        "moved 1 h:1",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct slotmap_redirect r;
        ck_assert_msg(!slotmap_redirect_parse(bad[i], &r), "%s accepted", bad[i]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_url_cluster_seeds);
    tcase_add_test(tc, test_url_cluster_credentials);
    tcase_add_test(tc, test_url_cluster_rejects);
    tcase_add_test(tc, test_url_cluster_error_never_quotes_the_password);
    tcase_add_test(tc, test_url_plain_is_not_cluster);
    tcase_add_test(tc, test_config_takes_cluster_url);
    tcase_add_test(tc, test_keyslot_known_values);
    tcase_add_test(tc, test_keyslot_hash_tags);
    tcase_add_test(tc, test_keyslot_uses_the_length);
    tcase_add_test(tc, test_slotmap_three_masters);
    tcase_add_test(tc, test_slotmap_split_ranges_and_holes);
    tcase_add_test(tc, test_slotmap_rejects_malformed_answers);
    tcase_add_test(tc, test_slotmap_empty_answer);
    tcase_add_test(tc, test_redirect_moved_and_ask);
    tcase_add_test(tc, test_redirect_rejects_other_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
