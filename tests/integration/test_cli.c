/* The `gradcover` command-line tool against the real Redis and a real
 * gradcoverd: a token it creates works at once with the right scope, is
 * listed without its secret, and stops working on the next request after it
 * is revoked; bad command lines exit 2 and change nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "gradcover/core/pii.h"
#include "harness.h"

static struct gc_server *srv;
static char cfg_path[600];
static char redis_url[160];

/* Runs the CLI with args; returns its exit code, stdout in out (may be NULL). */
static int cli(char *out, size_t n, const char *args)
{
    const char *bin = getenv("GC_CLI");
    ck_assert_msg(bin, "GC_CLI not set");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --config %s --redis %s %s 2>/dev/null", bin, cfg_path, redis_url,
             args);
    FILE *p = popen(cmd, "r");
    ck_assert(p);
    size_t got = 0;
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0)
        if (out && got + k < n) {
            memcpy(out + got, buf, k);
            got += k;
        }
    if (out)
        out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    snprintf(cfg_path, sizeof cfg_path, "%s", h_write_config(cfg, "cli"));
    json_decref(cfg);
    /* As the least-privileged ACL user, like gradcoverd. */
    snprintf(redis_url, sizeof redis_url,
             "redis://gradcoverd:gradcoverd-test-password@127.0.0.1:%d/%d", h_redis_port(),
             h_redis_db());
    srv = h_start(cfg_path, NULL, NULL, true);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
}

static int register_in(const char *token, const char *id, const char *county, int seq)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"county\":\"%s\",\"name\":\"测试\",\"national_id\":\"%s\"}", id,
             county, h_natid(seq));
    struct http_resp *r = h_http(srv, "POST", "/api/v1/graduates", token, body, NULL);
    ck_assert(r);
    int st = r->status;
    h_resp_free(r);
    return st;
}

START_TEST(test_create_use_list_revoke)
{
    char out[4096], token[128];
    ck_assert_int_eq(cli(out, sizeof out,
                         "token create cli.counselor --role counselor "
                         "--county 611002"),
                     0);
    ck_assert_msg(sscanf(out, "%127s", token) == 1 && strlen(token) == 43, "token: %s", out);
    for (const char *p = token; *p; p++)
        ck_assert_msg(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
            "not base64url: %s", token);
    char bearer[160];
    snprintf(bearer, sizeof bearer, "%s", token);
    /* Its own county: allowed; another: forbidden. */
    ck_assert_int_eq(register_in(bearer, "C1", "611002", 1), 201);
    ck_assert_int_eq(register_in(bearer, "C2", "611021", 2), 403);

    ck_assert_int_eq(cli(out, sizeof out, "token list"), 0);
    ck_assert_msg(strstr(out, "cli.counselor") && strstr(out, "611002"), "list: %s", out);
    ck_assert_msg(!strstr(out, token), "the list shows the secret");
    ck_assert_msg(strstr(out, "admin") && strstr(out, "config"), "config tokens missing: %s", out);
    /* Only the hash is stored. */
    char hex[65], key[128];
    gc_sha256_hex(token, strlen(token), hex);
    snprintf(key, sizeof key, "EXISTS gc:{@}:tok:%s", hex);
    ck_assert_int_eq(h_redis_int(key), 1);

    ck_assert_int_eq(cli(NULL, 0, "token revoke cli.counselor"), 0);
    struct http_resp *r = h_http(srv, "GET", "/api/v1/graduates/C1", bearer, NULL, NULL);
    h_expect(r, 401, "unauthorized");
    long long before = h_redis_int("HGET gc:{611002}:cnt r:2026");
    ck_assert_int_eq(register_in(bearer, "C3", "611002", 3), 401);
    ck_assert_int_eq(h_redis_int("HGET gc:{611002}:cnt r:2026"), before);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:C3"), 0);
    /* Revoked twice: no such token. */
    ck_assert_int_eq(cli(NULL, 0, "token revoke cli.counselor"), 1);
}
END_TEST

START_TEST(test_bad_command_lines_exit_2_and_change_nothing)
{
    /* The global audit trail records the refused revocations (by design). */
    long long keys = h_redis_int("DBSIZE") - h_redis_int("EXISTS gc:{@}:audit");
    ck_assert_int_eq(cli(NULL, 0, "token create x --role emperor"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token create x --role counselor"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token create x --role viewer --county 611002"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token create x --role counselor --county 999999"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token create 'bad name' --role viewer"), 2);
    /* Names are logged and audited: never a national ID or a phone number. */
    ck_assert_int_eq(cli(NULL, 0, "token create 611021200002024560 --role viewer"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token create 13911112222 --role viewer"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token create x --role viewer --expires-at 2001-01-01T00:00:00Z"),
                     2);
    ck_assert_int_eq(cli(NULL, 0, "token create admin --role viewer"), 2); /* a config name */
    ck_assert_int_eq(cli(NULL, 0, "token frobnicate"), 2);
    ck_assert_int_eq(cli(NULL, 0, "token revoke admin"), 1);
    ck_assert_int_eq(cli(NULL, 0, "token revoke nobody"), 1);
    ck_assert_int_eq(h_redis_int("DBSIZE") - h_redis_int("EXISTS gc:{@}:audit"), keys);
    ck_assert_int_eq(h_redis_int("HLEN gc:{@}:tokens"), 0);
    /* A name taken: refused, the first token untouched. */
    char out[4096];
    ck_assert_int_eq(cli(out, sizeof out, "token create dup --role viewer"), 0);
    ck_assert_int_eq(cli(NULL, 0, "token create dup --role admin"), 1);
    ck_assert_int_eq(cli(out, sizeof out, "token list"), 0);
    ck_assert_msg(strstr(out, "dup ") && strstr(strstr(out, "dup "), "viewer"), "%s", out);
}
END_TEST

START_TEST(test_unreachable_redis_exits_1)
{
    snprintf(redis_url, sizeof redis_url, "redis://127.0.0.1:1/0");
    ck_assert_int_eq(cli(NULL, 0, "token list"), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_use_list_revoke);
    tcase_add_test(tc, test_bad_command_lines_exit_2_and_change_nothing);
    tcase_add_test(tc, test_unreachable_redis_exits_1);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
