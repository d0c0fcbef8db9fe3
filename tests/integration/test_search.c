/* Finding people (SPEC §12) through the real server and Redis: a county's
 * graduates by id, name prefix, phone suffix and status, cursor paging that
 * neither repeats nor skips while writes happen, the index following
 * corrections, erasure and transfers, and every bad parameter refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct gc_server *srv;

#define REGISTERED "2026-03-01T09:00:00+08:00"

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    const char *args[] = {"--now", "2026-03-10T10:00:00+08:00", NULL};
    srv = h_start(h_write_config(cfg, "search"), args, NULL, true);
    json_decref(cfg);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void reg(const char *token, const char *id, const char *county, int seq, const char *name,
                const char *phone)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"county\":\"%s\",\"name\":\"%s\",\"national_id\":\"%s\","
             "\"phone\":\"%s\",\"registered_at\":\"" REGISTERED "\"}",
             id, county, name, h_natid(seq), phone);
    h_expect(h_http(srv, "POST", "/api/v1/graduates", token, body, NULL), 201, NULL);
}

/* The ids of one answer, comma-separated in answer order, into out. */
static json_t *search(const char *token, const char *query, char *ids, size_t n)
{
    char path[1400];
    snprintf(path, sizeof path, "/api/v1/graduates%s", query);
    struct http_resp *r = h_http(srv, "GET", path, token, NULL, NULL);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    size_t used = 0;
    ids[0] = '\0';
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(j, "graduates"), i, g)
    {
        used += (size_t)snprintf(ids + used, n - used, "%s%s", used ? "," : "", str(g, "id"));
    }
    return j;
}

static void expect_ids(const char *token, const char *query, const char *want)
{
    char ids[512];
    json_decref(search(token, query, ids, sizeof ids));
    ck_assert_msg(strcmp(ids, want) == 0, "%s: got [%s], want [%s]", query, ids, want);
}

/* Percent-encoding of a UTF-8 query value. */
static const char *enc(const char *s)
{
    static char out[256];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < sizeof out; p++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%%%02X", *p);
    return out;
}

static void given_four(void)
{
    reg(T_C611002, "G1", "611002", 1, "王小明", "13800001234");
    reg(T_C611002, "G2", "611002", 2, "王大力", "13900005678");
    reg(T_C611002, "G3", "611002", 3, "李四", "137-0000-1234");
    reg(T_C611021, "G4", "611021", 4, "王五", "13600001234");
}

START_TEST(test_search_by_name_prefix_id_and_phone_suffix)
{
    given_four();
    char q[300];
    snprintf(q, sizeof q, "?q=%s", enc("王"));
    /* Index order (by id within one prefix). G4 is another county's. */
    expect_ids(T_C611002, q, "G1,G2");
    snprintf(q, sizeof q, "?q=%s", enc("王小"));
    expect_ids(T_C611002, q, "G1");
    expect_ids(T_C611002, "?q=G3", "G3");
    expect_ids(T_C611002, "?q=1234", "G1,G3");
    expect_ids(T_C611002, "", "G1,G2,G3");
    expect_ids(T_LALL, "?county=611021&q=1234", "G4");
    expect_ids(T_L611002, "?county=611002&q=G1", "G1");
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G2/status", T_C611002,
                    "{\"status\":\"employed\"}", NULL),
             200, NULL);
    expect_ids(T_C611002, "?status=employed", "G2");
    expect_ids(T_C611002, "?status=seeking", "G1,G3");
    snprintf(q, sizeof q, "?q=%s&status=seeking", enc("王"));
    expect_ids(T_C611002, q, "G1");
    expect_ids(T_C611002, "?q=nobody", "");
    /* Leaders get masked phones, as everywhere. */
    char ids[64];
    json_t *j = search(T_L611002, "?county=611002&q=G1", ids, sizeof ids);
    ck_assert_str_eq(str(json_array_get(json_object_get(j, "graduates"), 0), "phone"),
                     "138****1234");
    ck_assert(json_is_null(json_object_get(j, "next_cursor")));
    json_decref(j);
}
END_TEST

START_TEST(test_a_graduate_matching_two_ways_is_given_once)
{
    reg(T_C611002, "1234", "611002", 1, "王小明", "13800001234");
    expect_ids(T_C611002, "?q=1234", "1234");
    expect_ids(T_C611002, "?q=1234&limit=1", "1234");
}
END_TEST

START_TEST(test_cursor_paging_neither_repeats_nor_skips_while_writes_happen)
{
    enum { N = 25 };
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "G%02d", i);
        reg(T_C611002, id, "611002", i + 1, "张三", "13800000000");
    }
    int seen[N] = {0};
    char query[1400] = "?limit=7";
    int pages = 0, extra = 100;
    for (;;) {
        char ids[512];
        json_t *j = search(T_C611002, query, ids, sizeof ids);
        pages++;
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(j, "graduates"), i, g)
        {
            int k;
            if (sscanf(str(g, "id"), "G%d", &k) == 1 && k >= 0 && k < N &&
                strlen(str(g, "id")) == 3)
                seen[k]++;
        }
        /* Writes between pages: new graduates on both sides of the cursor,
         * a status change, a correction. */
        snprintf(id, sizeof id, "A%d", extra);
        reg(T_C611002, id, "611002", extra++, "赵六", "13800000000");
        snprintf(id, sizeof id, "Z%d", extra);
        reg(T_C611002, id, "611002", extra++, "赵六", "13800000000");
        h_expect(h_http(srv, "PATCH", "/api/v1/graduates/G03", T_C611002,
                        "{\"school\":\"商洛学院\"}", NULL),
                 200, NULL);
        json_t *next = json_object_get(j, "next_cursor");
        if (!json_is_string(next)) {
            json_decref(j);
            break;
        }
        snprintf(query, sizeof query, "?limit=7&cursor=%s", json_string_value(next));
        json_decref(j);
        ck_assert_int_lt(pages, 40);
    }
    for (int k = 0; k < N; k++)
        ck_assert_msg(seen[k] == 1, "G%02d seen %d times", k, seen[k]);
}
END_TEST

START_TEST(test_bad_search_parameters_are_400)
{
    given_four();
    const struct {
        const char *token, *query;
        int status;
        const char *code;
    } bad[] = {
        {T_C611002, "?status=busy", 400, "bad_parameter"},
        {T_C611002, "?limit=0", 400, "bad_parameter"},
        {T_C611002, "?limit=101", 400, "bad_parameter"},
        {T_C611002, "?limit=ten", 400, "bad_parameter"},
        {T_C611002, "?cursor=zz", 400, "bad_parameter"},
        {T_C611002, "?cursor=abc", 400, "bad_parameter"},
        {T_C611002, "?q=", 400, "bad_parameter"},
        {T_C611002, "?q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400,
         "bad_parameter"},
        {T_C611002, "?q=a%09b", 400, "bad_parameter"},
        {T_C611002, "?name=x", 400, "bad_parameter"},
        {T_C611002, "?county=611021", 403, "forbidden"},
        {T_ADMIN, "", 400, "bad_parameter"},
        {T_ADMIN, "?county=999999", 404, "not_found"},
        {T_C611002, "?national_id=61100219990101123X&q=G1", 400, "bad_parameter"},
        {T_VIEWER, "?county=611002", 403, "forbidden"},
        {NULL, "?county=611002", 401, "unauthorized"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[300];
        snprintf(path, sizeof path, "/api/v1/graduates%s", bad[i].query);
        struct http_resp *r = h_http(srv, "GET", path, bad[i].token, NULL, NULL);
        ck_assert_msg(r->status == bad[i].status, "%s: %d %s", path, r->status, r->body);
        ck_assert_str_eq(str(json_object_get(r->json, "error"), "code"), bad[i].code);
        h_resp_free(r);
    }
    /* The national-ID look-up keeps working. */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", h_natid(1));
    struct http_resp *r = h_http(srv, "GET", path, T_C611002, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 1);
    h_resp_free(r);
}
END_TEST

START_TEST(test_the_index_follows_corrections_erasure_and_transfers)
{
    given_four();
    char q[300];
    h_expect(h_http(srv, "PATCH", "/api/v1/graduates/G1", T_C611002,
                    "{\"name\":\"赵明\",\"phone\":\"13800009999\"}", NULL),
             200, NULL);
    snprintf(q, sizeof q, "?q=%s", enc("王"));
    expect_ids(T_C611002, q, "G2");
    snprintf(q, sizeof q, "?q=%s", enc("赵"));
    expect_ids(T_C611002, q, "G1");
    expect_ids(T_C611002, "?q=1234", "G3");
    expect_ids(T_C611002, "?q=9999", "G1");
    /* Erased: no name or phone to find, the id still listed. */
    h_expect(h_http(srv, "DELETE", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL), 200, NULL);
    snprintf(q, sizeof q, "?q=%s", enc("赵"));
    expect_ids(T_C611002, q, "");
    expect_ids(T_C611002, "?q=9999", "");
    expect_ids(T_C611002, "?q=G1", "G1");
    /* Transferred: found in the new county only. */
    h_expect(h_http(srv, "POST", "/api/v1/graduates/G3/transfer", T_ADMIN,
                    "{\"county\":\"611021\"}", NULL),
             200, NULL);
    expect_ids(T_C611002, "?q=1234", "");
    expect_ids(T_C611021, "?q=1234", "G3,G4");
}
END_TEST

START_TEST(test_graduates_registered_before_the_index_are_found)
{
    given_four();
    /* As an earlier version left them: no index at all. */
    redisReply *x = redisCommand(h_redis(), "DEL gc:{611002}:ix");
    freeReplyObject(x);
    x = redisCommand(h_redis(), "HDEL gc:{611002}:cnt ixv");
    freeReplyObject(x);
    for (int i = 1; i <= 3; i++) {
        x = redisCommand(h_redis(), "HDEL gc:{611002}:g:G%d ixm", i);
        freeReplyObject(x);
    }
    expect_ids(T_C611002, "?q=1234", "G1,G3");
    expect_ids(T_C611002, "", "G1,G2,G3");
    char q[300];
    snprintf(q, sizeof q, "?q=%s", enc("王"));
    expect_ids(T_C611002, q, "G1,G2");
    /* ids, name prefixes (3 + 3 + 2), phones */
    ck_assert_int_eq(h_redis_int("ZCARD gc:{611002}:ix"), 3 + 8 + 3);
}
END_TEST

/* The index holds no name and no phone digits in clear. */
START_TEST(test_the_index_holds_no_personal_data)
{
    given_four();
    redisReply *x = redisCommand(h_redis(), "ZRANGE gc:{611002}:ix 0 -1");
    ck_assert_int_gt((long)x->elements, 3);
    for (size_t i = 0; i < x->elements; i++) {
        /* "i:<id>", or "n:"/"p:" then only hex digits (an HMAC) then "|<id>".
         * Four clear digits inside the hex would be chance, not a leak: the
         * shape of the entry is what is checked. */
        const char *e = x->element[i]->str;
        size_t hex = e[0] != 'i' ? strspn(e + 2, "0123456789abcdef") : 0;
        int shape = e[1] == ':' &&
                    (e[0] == 'i' ? e[2] == 'G' && e[3] >= '1' && e[3] <= '3' && !e[4]
                                 : (e[0] == 'n' || e[0] == 'p') && hex >= 16 && e[2 + hex] == '|' &&
                                       e[3 + hex] == 'G' && e[4 + hex] >= '1' &&
                                       e[4 + hex] <= '3' && !e[5 + hex]);
        ck_assert_msg(shape, "entry %s", e);
    }
    freeReplyObject(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_create("search");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_search_by_name_prefix_id_and_phone_suffix);
    tcase_add_test(tc, test_a_graduate_matching_two_ways_is_given_once);
    tcase_add_test(tc, test_cursor_paging_neither_repeats_nor_skips_while_writes_happen);
    tcase_add_test(tc, test_bad_search_parameters_are_400);
    tcase_add_test(tc, test_the_index_follows_corrections_erasure_and_transfers);
    tcase_add_test(tc, test_graduates_registered_before_the_index_are_found);
    tcase_add_test(tc, test_the_index_holds_no_personal_data);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
