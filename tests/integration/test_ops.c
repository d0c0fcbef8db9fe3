/* Operations: the PII key file, script cache loss, graceful stop, logs, the
 * OpenAPI document. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static json_t *cfg;

static void setup(void)
{
    h_init();
    h_flushdb();
    cfg = h_default_config();
}

static void teardown(void)
{
    json_decref(cfg);
}

static int run_binary(const char *cfg_path)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        h_exec_gradcoverd(
            (const char *const[]){"--config", cfg_path, "--listen", "127.0.0.1:1", NULL});
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_pii_key_file_created_with_mode_0600)
{
    char key[600];
    snprintf(key, sizeof key, "%s/fresh-pii.key", h_work_dir());
    unlink(key);
    json_object_set_new(cfg, "pii_key_file", json_string(key));
    struct gc_server *s = h_start(h_write_config(cfg, "ops-pii"), NULL, NULL, true);
    struct stat st;
    ck_assert_int_eq(stat(key, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, 32);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_pii_key_readable_by_others_is_refused)
{
    char key[600];
    snprintf(key, sizeof key, "%s/open-pii.key", h_work_dir());
    FILE *f = fopen(key, "w");
    for (int i = 0; i < 32; i++)
        fputc('k', f);
    fclose(f);
    chmod(key, 0644);
    json_object_set_new(cfg, "pii_key_file", json_string(key));
    ck_assert_int_eq(run_binary(h_write_config(cfg, "ops-open")), 1);
}
END_TEST

START_TEST(test_other_pii_key_than_the_data_is_refused)
{
    struct gc_server *s = h_start(h_write_config(cfg, "ops"), NULL, NULL, true);
    h_register(s, T_C611002, "G1", "611002", 1, NULL);
    ck_assert_int_eq(h_stop(s), 0);
    /* The same Redis, a server with a new key (the original was lost). */
    char key[600];
    snprintf(key, sizeof key, "%s/other-pii.key", h_work_dir());
    unlink(key);
    json_object_set_new(cfg, "pii_key_file", json_string(key));
    s = h_start(h_write_config(cfg, "ops-other"), NULL, NULL, false);
    ck_assert(h_wait_status(s, "/readyz", 503, 5000));
    h_expect(h_http(s, "GET", "/readyz", NULL, NULL, NULL), 503, "pii_key_mismatch");
    char body[300];
    snprintf(body, sizeof body, "{\"id\":\"G2\",\"name\":\"x\",\"national_id\":\"%s\"}",
             h_natid(1));
    /* A duplicate of G1 would not be recognised: refused, nothing written. */
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, NULL), 503,
             "pii_key_mismatch");
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:G2"), 0);
    /* Reads that need no key still work. */
    h_expect(h_http(s, "GET", "/api/v1/graduates/G1", T_C611002, NULL, NULL), 200, NULL);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_scripts_reloaded_after_script_flush)
{
    struct gc_server *s = h_start(h_write_config(cfg, "ops"), NULL, NULL, true);
    h_register(s, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    redisReply *r = redisCommand(h_redis(), "SCRIPT FLUSH");
    ck_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    /* EVALSHA answers NOSCRIPT; the server re-sends the script source once. */
    ck_assert_int_eq(h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", NULL), 201);
    long long reg, served;
    h_counts(s, "611002", "2026", &reg, &served);
    ck_assert_int_eq(served, 1);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_sigterm_finishes_in_flight_request_and_exits_0)
{
    struct h_redis_proc *rp = h_redis_spawn("drain", 0, true);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", rp->port);
    struct gc_server *s = h_start(h_write_config(cfg, "ops"), NULL, url, true);
    h_register(s, T_C611002, "G1", "611002", 1, "2026-03-01T09:00:00+08:00");
    int port = s->port;
    pid_t gc = s->pid;
    kill(rp->pid, SIGSTOP); /* the next request stays in flight until its deadline */
    pid_t client = h_child_fork();
    if (client == 0) {
        int st = h_contact(s, T_C611002, "G1", "2026-03-02T09:00:00+08:00", "drain-1");
        h_child_exit(st == 503 ? 0 : 1);
    }
    h_sleep_ms(300);
    kill(gc, SIGTERM);
    h_sleep_ms(200);
    /* No new connections once draining. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_ne(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
    ck_assert_msg(h_child_wait(client) == 0, "in-flight request not answered 503");
    kill(rp->pid, SIGCONT);
    ck_assert_int_eq(h_stop(s), 0);
    h_redis_stop(rp, false);
    free(rp);
}
END_TEST

/* A stop repeated while the server is already stopping (systemd, an
 * impatient operator, a script that sends SIGTERM and then stops "again")
 * changes nothing: the process still ends with its own exit code 0, never by
 * the signal — also in the last moments, after the event loop has let go of
 * its signal handlers. */
START_TEST(test_repeated_sigterm_still_exits_0)
{
    for (int round = 0; round < 5; round++) {
        struct gc_server *s = h_start(h_write_config(cfg, "ops"), NULL, NULL, true);
        ck_assert_int_eq(h_stop_repeating(s), 0);
    }
}
END_TEST

START_TEST(test_logs_carry_client_request_id_and_no_personal_data)
{
    struct gc_server *s = h_start(h_write_config(cfg, "ops"), NULL, NULL, true);
    const char *hdr[] = {"X-Request-Id: tablet-7.req-42", NULL};
    char body[300];
    snprintf(body, sizeof body,
             "{\"id\":\"G1\",\"name\":\"张三\",\"national_id\":\"%s\",\"phone\":\"13912345678\"}",
             h_natid(5));
    h_expect(h_http(s, "POST", "/api/v1/graduates", T_C611002, body, hdr), 201, NULL);
    char log_path[400];
    snprintf(log_path, sizeof log_path, "%s", s->log_path);
    ck_assert_int_eq(h_stop(s), 0);
    FILE *f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The client's id beside ours, on the request's line (docs/operations.md §7). */
    ck_assert_ptr_nonnull(strstr(text, " client_request_id=tablet-7.req-42"));
    ck_assert_ptr_null(strstr(text, " request_id=tablet-7.req-42"));
    ck_assert_ptr_nonnull(strstr(text, "route=/api/v1/graduates status=201"));
    ck_assert_ptr_null(strstr(text, "张三"));
    ck_assert_ptr_null(strstr(text, "13912345678"));
    ck_assert_ptr_null(strstr(text, h_natid(5)));
}
END_TEST

/* GET /api/v1/openapi.json needs no token and is docs/openapi.json byte for
 * byte (embedded at build time), as JSON. */
START_TEST(test_openapi_document_is_served_publicly_as_built)
{
    struct gc_server *s = h_start(h_write_config(cfg, "ops-openapi"), NULL, NULL, true);
    struct http_resp *r = h_http(s, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "%s", r ? r->body : "no answer");
    char ct[64];
    ck_assert(h_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_msg(strncmp(ct, "application/json", 16) == 0, "Content-Type %s", ct);
    FILE *f = fopen(getenv("GC_OPENAPI"), "rb");
    ck_assert(f);
    static char file[1 << 20];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    ck_assert_uint_eq(r->body_len, n);
    ck_assert(memcmp(r->body, file, n) == 0);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "openapi")), "3.1.0");
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pii_key_file_created_with_mode_0600);
    tcase_add_test(tc, test_pii_key_readable_by_others_is_refused);
    tcase_add_test(tc, test_other_pii_key_than_the_data_is_refused);
    tcase_add_test(tc, test_scripts_reloaded_after_script_flush);
    tcase_add_test(tc, test_sigterm_finishes_in_flight_request_and_exits_0);
    tcase_add_test(tc, test_repeated_sigterm_still_exits_0);
    tcase_add_test(tc, test_logs_carry_client_request_id_and_no_personal_data);
    tcase_add_test(tc, test_openapi_document_is_served_publicly_as_built);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
