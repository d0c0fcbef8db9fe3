/* What hostile clients still got (issue 14), through the real gradcoverd and
 * Redis: a request wearing another request's X-Request-Id in the audit trail,
 * national IDs and phone numbers used as graduate ids (refused before any
 * write, audit entry or log line), cross-county probes at registration (id
 * conflicts answered and audited alike; a person seeking elsewhere audited in
 * both counties and limited per token), and erased values left in the AOF
 * until an admin has it rewritten. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(none)";
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    ck_assert(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* True when needle occurs in the bytes [s, s + n) (which may hold NULs). */
static bool has(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; m && i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0)
            return true;
    return false;
}

/* One request with an X-Request-Id header (rid may be NULL). */
static struct http_resp *call(struct gc_server *s, const char *method, const char *path,
                              const char *token, const char *body, const char *rid)
{
    char h[200];
    snprintf(h, sizeof h, "X-Request-Id: %s", rid ? rid : "");
    const char *headers[2] = {rid ? h : NULL, NULL};
    struct http_resp *r = h_http(s, method, path, token, body, headers);
    ck_assert_msg(r, "no answer to %s %s", method, path);
    return r;
}

/* The entries of a county's trail ("" = the global one): a new reference. */
static json_t *trail(struct gc_server *s, const char *county)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/audit?limit=1000%s%s", *county ? "&county=" : "", county);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r->status == 200, "audit %s: %s", county, r->body);
    json_t *e = json_incref(json_object_get(r->json, "entries"));
    h_resp_free(r);
    return e;
}

/* Our request ids: the server's 8-character prefix, '-', a hex sequence. */
static bool our_request_id(const char *s)
{
    size_t n = strlen(s);
    return n > 9 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 8 &&
           s[8] == '-' && strspn(s + 9, "0123456789abcdef") == n - 9;
}

/* ---- X-Request-Id: the client's beside ours, never instead ---- */

START_TEST(test_audit_keeps_client_request_id_beside_ours)
{
    struct gc_server *s = h_start(h_write_config(cfg, "probes-rid"), NULL, NULL, true);
    h_register(s, T_ADMIN, "G1", "611002", 1, NULL);
    /* Two requests wearing the same id, one with an id we do not accept, one without. */
    const char *sent[] = {"shared-1", "shared-1", "bad id<x>", NULL};
    char echoed[4][80];
    for (int i = 0; i < 4; i++) {
        struct http_resp *r = call(s, "GET", "/api/v1/graduates/G1", T_C611002, NULL, sent[i]);
        ck_assert_int_eq(r->status, 200);
        ck_assert(h_header(r, "X-Request-Id", echoed[i], sizeof echoed[i]));
        h_resp_free(r);
    }
    /* The reply's header is as before: the client's sane id, else ours. */
    ck_assert_str_eq(echoed[0], "shared-1");
    ck_assert_str_eq(echoed[1], "shared-1");
    ck_assert_msg(our_request_id(echoed[2]), "%s", echoed[2]);
    ck_assert_msg(our_request_id(echoed[3]), "%s", echoed[3]);

    json_t *e = trail(s, "611002");
    ck_assert_int_eq(json_array_size(e), 5); /* the registration, then the four reads */
    const char *rid[4];
    for (int i = 0; i < 4; i++) {
        json_t *x = json_array_get(e, (size_t)i + 1);
        ck_assert_str_eq(jstr(x, "action"), "graduate.read");
        rid[i] = jstr(x, "request_id");
        ck_assert_msg(our_request_id(rid[i]), "entry %d: request_id %s is not ours", i, rid[i]);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(rid[i], rid[j]) != 0, "entries %d and %d share %s", j, i, rid[i]);
        if (i < 2)
            ck_assert_str_eq(jstr(x, "client_request_id"), "shared-1");
        else
            ck_assert_msg(!json_object_get(x, "client_request_id"), "entry %d: %s", i,
                          json_dumps(x, 0));
    }
    ck_assert_str_eq(rid[2], echoed[2]);
    ck_assert_str_eq(rid[3], echoed[3]);

    /* The request's log line holds both. */
    char log_path[400];
    snprintf(log_path, sizeof log_path, "%s", s->log_path);
    ck_assert_int_eq(h_stop(s), 0);
    size_t n;
    char *log = slurp(log_path, &n);
    char want[200];
    snprintf(want, sizeof want, "request_id=%s method=GET route=/api/v1/graduates/{id} status=200",
             rid[0]);
    char *line = strstr(log, want);
    ck_assert_msg(line, "no log line with %s", want);
    char *eol = strchr(line, '\n');
    ck_assert(eol);
    *eol = '\0';
    ck_assert_msg(strstr(line, " client_request_id=shared-1"), "%s", line);
    ck_assert_msg(!has(log, n, "bad id"), "an unsane request id was logged");
    free(log);
    json_decref(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probes");
    TCase *tc = tcase_create("probes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_audit_keeps_client_request_id_beside_ours);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
