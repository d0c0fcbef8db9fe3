/* Personal data and access (issue 5), through the real gradcoverd and Redis:
 * the audit trail (what is recorded, for whom, and who may read it), erasure
 * of a graduate's personal data with every count kept, the retention job, and
 * a sweep of everything the service writes (Redis keys and values, its log,
 * /metrics, webhook payloads, error answers) for personal data outside the
 * graduate record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbscan.h"
#include "harness.h"
#include "receiver.h"

#include "dbscan.c"
#include "receiver.c"

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
    receiver_stop_all();
}

static struct gc_server *start(const char *name)
{
    return h_start(h_write_config(cfg, name), NULL, NULL, true);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(none)";
}

static char *dump(json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ck_assert(t);
    return t;
}

/* One request with an X-Request-Id (may be NULL) and an Idempotency-Key (may be NULL). */
static struct http_resp *call(struct gc_server *s, const char *method, const char *path,
                              const char *token, const char *body, const char *rid,
                              const char *idem)
{
    char h1[160], h2[200];
    const char *headers[3] = {NULL, NULL, NULL};
    int n = 0;
    if (rid) {
        snprintf(h1, sizeof h1, "X-Request-Id: %s", rid);
        headers[n++] = h1;
    }
    if (idem) {
        snprintf(h2, sizeof h2, "Idempotency-Key: %s", idem);
        headers[n++] = h2;
    }
    struct http_resp *r = h_http(s, method, path, token, body, headers);
    ck_assert_msg(r, "no answer to %s %s", method, path);
    return r;
}

static void expect(struct http_resp *r, int status)
{
    ck_assert_msg(r->status == status, "expected %d, got %d: %s", status, r->status, r->body);
    h_resp_free(r);
}

struct person {
    const char *id, *county, *name, *phone, *masked_phone;
    char nid[19], masked_nid[19];
};

static void person_nid(struct person *p, int seq)
{
    snprintf(p->nid, sizeof p->nid, "%s", h_natid(seq));
    memcpy(p->masked_nid, p->nid, 6);
    memset(p->masked_nid + 6, '*', 8);
    memcpy(p->masked_nid + 14, p->nid + 14, 5);
}

static char *register_body(const struct person *p, const char *registered_at)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", p->id, "county", p->county,
                          "name", p->name, "national_id", p->nid, "phone", p->phone, "school",
                          "商洛学院", "major", "计算机科学与技术");
    if (registered_at)
        json_object_set_new(b, "registered_at", json_string(registered_at));
    return dump(b);
}

static void register_person(struct gc_server *s, const char *token, const struct person *p,
                            const char *registered_at, const char *rid)
{
    char *body = register_body(p, registered_at);
    struct http_resp *r = call(s, "POST", "/api/v1/graduates", token, body, rid, NULL);
    free(body);
    ck_assert_msg(r->status == 201, "register %s: %d %s", p->id, r->status, r->body);
    h_resp_free(r);
}

static struct http_resp *contact(struct gc_server *s, const char *token, const char *gid,
                                 const char *note, const char *occurred_at, const char *rid,
                                 const char *idem)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "graduate_id", gid, "service", "job_referral",
                          "channel", "phone");
    if (note)
        json_object_set_new(b, "note", json_string(note));
    if (occurred_at)
        json_object_set_new(b, "occurred_at", json_string(occurred_at));
    char *body = dump(b);
    struct http_resp *r = call(s, "POST", "/api/v1/contacts", token, body, rid, idem);
    free(body);
    return r;
}

static struct http_resp *set_status(struct gc_server *s, const char *token, const char *gid,
                                    const char *status, const char *at, const char *rid)
{
    json_t *b = json_pack("{s:s, s:s}", "status", status, "reason", "recommended-by-counselor");
    if (at)
        json_object_set_new(b, "at", json_string(at));
    char *body = dump(b);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s/status", gid);
    struct http_resp *r = call(s, "POST", path, token, body, rid, NULL);
    free(body);
    return r;
}

/* The coverage facts of a county in a period ("" = current) that erasure and
 * retention must keep: a new object. */
static json_t *coverage(struct gc_server *s, const char *county, const char *period)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/counties/%s/coverage%s%s", county,
             *period ? "?period=" : "", period);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "coverage: %s", r ? r->body : "none");
    json_t *c =
        json_pack("{s:O, s:O, s:O, s:O}", "registered", json_object_get(r->json, "registered"),
                  "served", json_object_get(r->json, "served"), "rate",
                  json_object_get(r->json, "rate"), "gap", json_object_get(r->json, "gap"));
    h_resp_free(r);
    return c;
}

static void expect_same(json_t *a, json_t *b, const char *what)
{
    char *ta = json_dumps(a, JSON_SORT_KEYS), *tb = json_dumps(b, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(a, b), "%s changed: %s -> %s", what, ta, tb);
    free(ta);
    free(tb);
}

/* GET /api/v1/graduates/{id} as admin (new reference to the body). */
static json_t *graduate(struct gc_server *s, const char *id)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s", id);
    struct http_resp *r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET %s: %s", id, r ? r->body : "none");
    json_t *g = json_incref(r->json);
    h_resp_free(r);
    return g;
}

/* ---- the audit trail ---- */

struct entry {
    const char *action, *object, *result, *rid;
};

static struct http_resp *audit(struct gc_server *s, const char *token, const char *query)
{
    char path[300];
    snprintf(path, sizeof path, "/api/v1/audit%s", query);
    return h_http(s, "GET", path, token, NULL, NULL);
}

/* The persons of the audit scenario. */
static struct person p1 = {"G1", "611002", "林黛玉", "13712345678", "137****5678", "", ""};
static struct person p2 = {"G2", "611021", "薛宝钗", "15987654321", "159****4321", "", ""};

/* Every kind of request a county's trail records, by zhang.counselor (611002). */
static void audit_scenario(struct gc_server *s)
{
    person_nid(&p1, 11);
    person_nid(&p2, 12);
    register_person(s, T_C611002, &p1, NULL, "rid-register");
    register_person(s, T_ADMIN, &p2, NULL, "rid-register-other");
    struct http_resp *r =
        contact(s, T_C611002, "G1", "called about a job", NULL, "rid-contact", "idem-1");
    expect(r, 201);
    r = contact(s, T_C611002, "G1", "called about a job", NULL, "rid-replay", "idem-1");
    char buf[16];
    ck_assert_str_eq(h_header(r, "Idempotent-Replayed", buf, sizeof buf), "true");
    expect(r, 201);
    /* Refused: another county's graduate is unknown to this counselor. */
    expect(contact(s, T_C611002, "G2", NULL, NULL, "rid-refused", NULL), 404);
    expect(call(s, "GET", "/api/v1/graduates/G1", T_C611002, NULL, "rid-read", NULL), 200);
    expect(call(s, "GET", "/api/v1/graduates/G1/contacts", T_C611002, NULL, "rid-contacts", NULL),
           200);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", p1.nid);
    expect(call(s, "GET", path, T_C611002, NULL, "rid-lookup", NULL), 200);
    expect(call(s, "GET", "/api/v1/counties/611002/queue", T_C611002, NULL, "rid-queue", NULL),
           200);
    expect(set_status(s, T_C611002, "G1", "employed", NULL, "rid-status"), 200);
    expect(call(s, "GET", "/api/v1/graduates/G9", T_C611002, NULL, "rid-missing", NULL), 404);
}

static const struct entry expected_611002[] = {
    {"graduate.register", "G1", "ok", "rid-register"},
    {"contact.create", "G1", "ok", "rid-contact"},
    {"contact.create", "G1", "replayed", "rid-replay"},
    {"contact.create", "G2", "graduate_not_found", "rid-refused"},
    {"graduate.read", "G1", "ok", "rid-read"},
    {"contacts.read", "G1", "ok", "rid-contacts"},
    {"graduate.lookup", "G1", "ok", "rid-lookup"},
    {"queue.read", "", "ok", "rid-queue"},
    {"graduate.status", "G1", "ok", "rid-status"},
    {"graduate.read", "G9", "not_found", "rid-missing"},
};
#define N611002 (sizeof expected_611002 / sizeof expected_611002[0])

/* No personal data value, raw or masked, in the bytes [s, s + n). */
static void assert_no_pii(const char *s, size_t n, const struct person *p, const char *where)
{
    const char *values[] = {p->name, p->phone, p->masked_phone, p->nid, p->masked_nid};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        ck_assert_msg(!db_has(s, n, values[i]), "%s holds %s", where, values[i]);
}

/* Our request ids: the server's 8-character prefix, '-', a hex sequence. */
static bool our_request_id(const char *s)
{
    size_t n = strlen(s);
    return n > 9 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 8 &&
           s[8] == '-' && strspn(s + 9, "0123456789abcdef") == n - 9;
}

/* want[i].rid is what the client sent as X-Request-Id: the entry keeps it as
 * client_request_id, beside request_id, which is always ours. */
static void check_entries(json_t *entries, const struct entry *want, size_t n, const char *who,
                          const char *role)
{
    char *t = json_dumps(entries, 0);
    ck_assert_msg(json_array_size(entries) == n, "%zu entries expected: %s", n, t);
    free(t);
    const char *prev_id = "", *prev_rid = "";
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        ck_assert_msg(strcmp(jstr(e, "action"), want[i].action) == 0 &&
                          strcmp(jstr(e, "object"), want[i].object) == 0 &&
                          strcmp(jstr(e, "result"), want[i].result) == 0 &&
                          strcmp(jstr(e, "client_request_id"), want[i].rid) == 0,
                      "entry %zu: expected %s %s %s %s, got %s", i, want[i].action, want[i].object,
                      want[i].result, want[i].rid, json_dumps(e, 0));
        ck_assert_msg(our_request_id(jstr(e, "request_id")) &&
                          strcmp(jstr(e, "request_id"), prev_rid) != 0,
                      "entry %zu: request_id is not a fresh one of ours: %s", i, json_dumps(e, 0));
        prev_rid = jstr(e, "request_id");
        ck_assert_str_eq(jstr(e, "who"), who);
        ck_assert_str_eq(jstr(e, "role"), role);
        /* RFC 3339 in the configured offset, e.g. 2026-03-05T10:30:00+08:00. */
        ck_assert_int_eq(strlen(jstr(e, "at")), 25);
        ck_assert_str_eq(jstr(e, "at") + 19, "+08:00");
        ck_assert_msg(strcmp(jstr(e, "id"), prev_id) != 0, "ids repeat");
        prev_id = jstr(e, "id");
        ck_assert_int_eq(json_object_size(e), 9);
    }
}

START_TEST(test_audit_records_who_did_what_without_personal_data)
{
    struct gc_server *s = start("audit");
    audit_scenario(s);

    struct http_resp *r = audit(s, T_ADMIN, "?county=611002");
    ck_assert_msg(r->status == 200, "%s", r->body);
    ck_assert_str_eq(jstr(r->json, "county"), "611002");
    check_entries(json_object_get(r->json, "entries"), expected_611002, N611002, "zhang.counselor",
                  "counselor");
    ck_assert(json_is_null(json_object_get(r->json, "next")));
    assert_no_pii(r->body, strlen(r->body), &p1, "the 611002 audit trail");
    assert_no_pii(r->body, strlen(r->body), &p2, "the 611002 audit trail");
    h_resp_free(r);

    /* The other county's trail has the admin's registration only. */
    r = audit(s, T_ADMIN, "?county=611021");
    static const struct entry e611021[] = {{"graduate.register", "G2", "ok", "rid-register-other"}};
    check_entries(json_object_get(r->json, "entries"), e611021, 1, "admin", "admin");
    h_resp_free(r);

    /* What Redis holds is the same, and as free of personal data. */
    struct db_items *d = db_items();
    size_t audited = 0;
    for (size_t i = 0; i < d->n; i++) {
        const struct db_item *it = &d->v[i];
        size_t kl = strlen(it->key);
        if (kl < 6 || strcmp(it->key + kl - 6, ":audit") != 0 || !it->value)
            continue;
        audited++;
        assert_no_pii(it->value, it->vlen, &p1, it->key);
        assert_no_pii(it->value, it->vlen, &p2, it->key);
        assert_no_pii(it->field, strlen(it->field), &p1, it->key);
    }
    db_items_free(d);
    /* who, role, action, object, result, rid, crid of every entry. */
    ck_assert_int_eq(audited, 7 * (N611002 + 1));

    /* A leader reads its county's trail, and the trail records the leader. */
    expect(call(s, "GET", "/api/v1/graduates/G1", T_L611002, NULL, "rid-leader-read", NULL), 200);
    r = audit(s, T_L611002, "?county=611002");
    ck_assert_msg(r->status == 200, "%s", r->body);
    json_t *entries = json_object_get(r->json, "entries");
    ck_assert_int_eq(json_array_size(entries), N611002 + 1);
    json_t *last = json_array_get(entries, N611002);
    ck_assert_str_eq(jstr(last, "who"), "shangzhou.leader");
    ck_assert_str_eq(jstr(last, "role"), "leader");
    ck_assert_str_eq(jstr(last, "action"), "graduate.read");
    ck_assert_str_eq(jstr(last, "client_request_id"), "rid-leader-read");
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

START_TEST(test_audit_access_paging_and_parameters)
{
    struct gc_server *s = start("audit-access");
    audit_scenario(s);
    char *other = NULL;
    {
        struct http_resp *r =
            h_http(s, "POST", "/api/v1/tokens", T_ADMIN,
                   "{\"name\":\"luonan.leader\",\"role\":\"leader\",\"county\":\"611021\"}", NULL);
        ck_assert_msg(r->status == 201, "%s", r->body);
        other = strdup(jstr(r->json, "token"));
        h_resp_free(r);
    }

    /* Who may read: admins, the county's leader (its county by default), a
     * city-wide leader naming the county; not another county's leader. */
    expect(audit(s, T_ADMIN, "?county=611002"), 200);
    expect(audit(s, T_LALL, "?county=611002"), 200);
    struct http_resp *r = audit(s, T_L611002, "");
    ck_assert_msg(r->status == 200, "%s", r->body);
    ck_assert_str_eq(jstr(r->json, "county"), "611002");
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "entries")), N611002);
    h_resp_free(r);
    h_expect(audit(s, other, "?county=611002"), 404, "not_found");
    expect(audit(s, other, "?county=611021"), 200);
    h_expect(audit(s, T_L611002, "?county=611021"), 404, "not_found");
    h_expect(audit(s, T_C611002, "?county=611002"), 403, "forbidden");
    h_expect(audit(s, T_C611002, ""), 403, "forbidden");
    h_expect(audit(s, T_VIEWER, "?county=611002"), 403, "forbidden");
    h_expect(audit(s, NULL, "?county=611002"), 401, "unauthorized");
    h_expect(audit(s, T_LALL, ""), 400, "bad_parameter");
    h_expect(audit(s, T_ADMIN, "?county=999999"), 404, "not_found");

    /* Paging: limit and after walk the whole trail, `next` says where to go on. */
    r = audit(s, T_ADMIN, "?county=611002&limit=1000");
    json_t *all = json_incref(json_object_get(r->json, "entries"));
    ck_assert_int_eq(json_array_size(all), N611002);
    h_resp_free(r);
    json_t *walked = json_array();
    char q[200];
    snprintf(q, sizeof q, "?county=611002&limit=3");
    for (int page = 0;; page++) {
        ck_assert_int_lt(page, 10);
        r = audit(s, T_ADMIN, q);
        ck_assert_msg(r->status == 200, "%s: %s", q, r->body);
        json_t *entries = json_object_get(r->json, "entries");
        ck_assert_int_le(json_array_size(entries), 3);
        json_array_extend(walked, entries);
        json_t *next = json_object_get(r->json, "next");
        if (json_array_size(entries) == 3) {
            ck_assert_str_eq(json_string_value(next), jstr(json_array_get(entries, 2), "id"));
            snprintf(q, sizeof q, "?county=611002&limit=3&after=%s", json_string_value(next));
            h_resp_free(r);
            continue;
        }
        ck_assert(json_is_null(next));
        h_resp_free(r);
        break;
    }
    expect_same(all, walked, "the trail walked page by page");
    json_decref(walked);
    /* A full last page: `next` leads to an empty one. */
    snprintf(q, sizeof q, "?county=611002&limit=%zu", N611002);
    r = audit(s, T_ADMIN, q);
    ck_assert_str_eq(jstr(r->json, "next"), jstr(json_array_get(all, N611002 - 1), "id"));
    snprintf(q, sizeof q, "?county=611002&after=%s", jstr(r->json, "next"));
    h_resp_free(r);
    r = audit(s, T_ADMIN, q);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "entries")), 0);
    ck_assert(json_is_null(json_object_get(r->json, "next")));
    h_resp_free(r);
    /* since: from that second on. */
    json_t *fifth = json_array_get(all, 4);
    snprintf(q, sizeof q, "?county=611002&since=%s", jstr(fifth, "at"));
    /* "+08:00" percent-encoded: a '+' in a query string may be read as a space. */
    q[strlen(q) - 6] = '\0';
    snprintf(q + strlen(q), sizeof q - strlen(q), "%%2B08:00");
    r = audit(s, T_ADMIN, q);
    ck_assert_msg(r->status == 200, "%s: %s", q, r->body);
    json_t *since = json_object_get(r->json, "entries");
    size_t n = json_array_size(since);
    ck_assert_int_ge(n, N611002 - 4);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(jstr(json_array_get(since, i), "id"),
                         jstr(json_array_get(all, N611002 - n + i), "id"));
    h_resp_free(r);
    r = audit(s, T_ADMIN, "?county=611002&since=2000-01-01T00:00:00Z");
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "entries")), N611002);
    h_resp_free(r);
    r = audit(s, T_ADMIN, "?county=611002&since=2999-01-01T00:00:00Z");
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "entries")), 0);
    h_resp_free(r);

    static const char *const bad[] = {
        "?county=611002&limit=0",
        "?county=611002&limit=1001",
        "?county=611002&limit=-1",
        "?county=611002&limit=abc",
        "?county=611002&limit=",
        "?county=611002&limit=10x",
        "?county=611002&since=today",
        "?county=611002&since=2026-13-01T00:00:00Z",
        "?county=611002&after=abc",
        "?county=611002&after=1-2-3",
        "?county=611002&after=-1",
        "?county=611002&after=12",
        "?county=611002&since=2026-01-01T00:00:00Z&after=1-0",
        "?county=611002&limit=%zz",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = audit(s, T_ADMIN, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %d %s", bad[i], r->status, r->body);
        ck_assert_str_eq(jstr(json_object_get(r->json, "error"), "code"), "bad_parameter");
        h_resp_free(r);
    }
    json_decref(all);

    /* Token administration is in the global trail (admins, without ?county). */
    expect(call(s, "DELETE", "/api/v1/tokens/luonan.leader", T_ADMIN, NULL, "rid-revoke", NULL),
           200);
    expect(call(s, "POST", "/api/v1/tokens", T_ADMIN, "{\"name\":\"admin2\",\"role\":\"admin\"}",
                "rid-create", NULL),
           201);
    expect(call(s, "POST", "/api/v1/tokens", T_ADMIN, "{\"name\":\"admin2\",\"role\":\"viewer\"}",
                "rid-dup", NULL),
           409);
    r = audit(s, T_ADMIN, "");
    ck_assert_msg(r->status == 200, "%s", r->body);
    ck_assert(json_is_null(json_object_get(r->json, "county")));
    json_t *g = json_object_get(r->json, "entries");
    /* The first create (luonan.leader) had no request id of ours. */
    ck_assert_int_eq(json_array_size(g), 4);
    ck_assert_str_eq(jstr(json_array_get(g, 0), "action"), "token.create");
    ck_assert_str_eq(jstr(json_array_get(g, 0), "object"), "luonan.leader");
    static const struct entry global[] = {
        {"token.revoke", "luonan.leader", "ok", "rid-revoke"},
        {"token.create", "admin2", "ok", "rid-create"},
        {"token.create", "admin2", "name_taken", "rid-dup"},
    };
    json_t *tail = json_array();
    for (size_t i = 1; i < 4; i++)
        json_array_append(tail, json_array_get(g, i));
    check_entries(tail, global, 3, "admin", "admin");
    json_decref(tail);
    ck_assert_msg(!strstr(r->body, other), "the trail holds a token");
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
    free(other);
}
END_TEST

/* ---- erasure ---- */

START_TEST(test_erasure_removes_personal_data_and_keeps_counts)
{
    struct gc_server *s = start("erase");
    struct person a = {"E1", "611002", "杜丽娘", "13811112222", "138****2222", "", ""};
    struct person b = {"E2", "611002", "柳梦梅", "13933334444", "139****4444", "", ""};
    person_nid(&a, 21);
    person_nid(&b, 22);
    register_person(s, T_C611002, &a, NULL, NULL);
    register_person(s, T_C611002, &b, NULL, NULL);
    struct person c = {"E3", "611002", "无名氏", "13000000003", "130****0003", "", ""};
    person_nid(&c, 23);
    register_person(s, T_C611002, &c, NULL, NULL);
    expect(contact(s, T_C611002, "E1", "note-alpha 推荐岗位", NULL, NULL, NULL), 201);
    expect(contact(s, T_C611002, "E1", "note-beta", NULL, NULL, NULL), 201);
    expect(contact(s, T_C611002, "E2", "note-gamma", NULL, NULL, NULL), 201);
    json_t *before = coverage(s, "611002", "");
    ck_assert_int_eq(json_integer_value(json_object_get(before, "served")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(before, "registered")), 3);

    for (int round = 0; round < 2; round++) {
        /* Erasing twice is harmless and answers the same. */
        struct http_resp *r = call(s, "DELETE", "/api/v1/graduates/E1", T_ADMIN, NULL, NULL, NULL);
        ck_assert_msg(r->status == 200, "erase: %s", r->body);
        ck_assert_str_eq(jstr(r->json, "id"), "E1");
        ck_assert_str_eq(jstr(r->json, "county"), "611002");
        ck_assert_str_eq(jstr(r->json, "status"), "seeking");
        ck_assert_int_eq(json_integer_value(json_object_get(r->json, "contacts")), 2);
        ck_assert(json_is_string(json_object_get(r->json, "erased_at")));
        static const char *const gone[] = {"name", "phone", "national_id", "school", "major"};
        for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
            ck_assert_msg(!json_object_get(r->json, gone[i]), "%s after erasure: %s", gone[i],
                          r->body);
        assert_no_pii(r->body, strlen(r->body), &a, "the erasure answer");
        h_resp_free(r);
    }

    /* Coverage and the contact count are unchanged; the notes are gone. */
    json_t *after = coverage(s, "611002", "");
    expect_same(before, after, "the county's coverage");
    json_decref(after);
    json_t *g = graduate(s, "E1");
    ck_assert_int_eq(json_integer_value(json_object_get(g, "contacts")), 2);
    ck_assert_ptr_null(json_object_get(g, "name"));
    ck_assert_ptr_null(json_object_get(g, "phone"));
    ck_assert_ptr_null(json_object_get(g, "national_id"));
    ck_assert(json_is_string(json_object_get(g, "erased_at")));
    json_decref(g);
    struct http_resp *r = h_http(s, "GET", "/api/v1/graduates/E1/contacts", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    json_t *list = json_object_get(r->json, "contacts");
    ck_assert_int_eq(json_array_size(list), 2);
    for (size_t i = 0; i < 2; i++)
        ck_assert_ptr_null(json_object_get(json_array_get(list, i), "note"));
    ck_assert_ptr_null(strstr(r->body, "note-"));
    h_resp_free(r);
    /* The other graduate keeps everything. */
    r = h_http(s, "GET", "/api/v1/graduates/E2/contacts", T_ADMIN, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(r->body, "note-gamma"));
    h_resp_free(r);
    g = graduate(s, "E2");
    ck_assert_str_eq(jstr(g, "name"), b.name);
    json_decref(g);

    /* The national-ID look-up no longer finds E1. */
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", a.nid);
    r = h_http(s, "GET", path, T_ADMIN, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "graduates")), 0);
    h_resp_free(r);

    /* Nothing of E1's in Redis, anywhere. */
    struct db_items *d = db_items();
    for (size_t i = 0; i < d->n; i++) {
        const struct db_item *it = &d->v[i];
        assert_no_pii(it->key, strlen(it->key), &a, it->key);
        if (it->field)
            assert_no_pii(it->field, strlen(it->field), &a, it->key);
        if (it->value) {
            assert_no_pii(it->value, it->vlen, &a, it->key);
            ck_assert_msg(!db_has(it->value, it->vlen, "note-alpha") &&
                              !db_has(it->value, it->vlen, "note-beta"),
                          "%s still holds a note of E1", it->key);
        }
    }
    db_items_free(d);
    ck_assert_int_eq(h_redis_int("HLEN gc:{611002}:g:E1") > 0, 1);

    /* Unknown ids; the erasures are in the county's audit trail. */
    h_expect(h_http(s, "DELETE", "/api/v1/graduates/E9", T_ADMIN, NULL, NULL), 404, "not_found");
    h_expect(h_http(s, "DELETE", "/api/v1/graduates/bad%20id", T_ADMIN, NULL, NULL), 404,
             "not_found");
    r = audit(s, T_ADMIN, "?county=611002&limit=1000");
    size_t erasures = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(r->json, "entries"), i,
                       e) if (strcmp(jstr(e, "action"), "graduate.erase") == 0)
    {
        ck_assert_str_eq(jstr(e, "object"), "E1");
        ck_assert_str_eq(jstr(e, "result"), "ok");
        ck_assert_str_eq(jstr(e, "who"), "admin");
        erasures++;
    }
    ck_assert_int_eq(erasures, 2);
    h_resp_free(r);

    /* Service goes on; only a return to seeking needs the person registered
     * again (it would need the national ID). */
    expect(contact(s, T_C611002, "E1", NULL, NULL, NULL, NULL), 201);
    expect(set_status(s, T_C611002, "E1", "employed", NULL, NULL), 200);
    r = set_status(s, T_C611002, "E1", "seeking", NULL, NULL);
    ck_assert_msg(r->status == 409, "back to seeking after erasure: %d %s", r->status, r->body);
    h_expect(r, 409, "erased");
    json_decref(before);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* ---- retention ---- */

static bool log_has(const char *path, const char *needle);

START_TEST(test_retention_erases_name_and_phone_of_old_leavers)
{
    json_object_set_new(cfg, "pii_retention_days", json_integer(1));
    char cfg_path[600];
    snprintf(cfg_path, sizeof cfg_path, "%s", h_write_config(cfg, "retention"));
    struct gc_server *s = h_start(cfg_path, NULL, NULL, true);
    /* The pass of this server's start is over before anything is written. */
    for (int i = 0; i < 100 && !log_has(s->log_path, "event=retention_pass_done"); i++)
        h_sleep_ms(100);
    ck_assert_msg(log_has(s->log_path, "event=retention_pass_done"), "no retention pass");

    const char *reg_at = "2021-03-01T09:00:00+08:00";
    struct person old = {"R-old", "611002", "贾政", "13700000001", "137****0001", "", ""};
    struct person recent = {"R-recent", "611002", "王熙凤", "13700000002", "137****0002", "", ""};
    struct person back = {"R-back", "611002", "史湘云", "13700000003", "137****0003", "", ""};
    struct person still = {"R-still", "611002", "妙玉", "13700000004", "137****0004", "", ""};
    person_nid(&old, 31);
    person_nid(&recent, 32);
    person_nid(&back, 33);
    person_nid(&still, 34);
    register_person(s, T_ADMIN, &old, reg_at, NULL);
    register_person(s, T_ADMIN, &recent, reg_at, NULL);
    register_person(s, T_ADMIN, &back, reg_at, NULL);
    register_person(s, T_ADMIN, &still, reg_at, NULL);
    expect(contact(s, T_ADMIN, "R-old", "note", "2021-05-01T10:00:00+08:00", NULL, NULL), 201);
    /* Left seeking years ago (more than pii_retention_days = 1). */
    expect(set_status(s, T_ADMIN, "R-old", "employed", "2022-01-10T10:00:00+08:00", NULL), 200);
    /* Left seeking just now. */
    expect(set_status(s, T_ADMIN, "R-recent", "employed", NULL, NULL), 200);
    /* Left years ago but came back: seeking again. */
    expect(set_status(s, T_ADMIN, "R-back", "employed", "2022-01-10T10:00:00+08:00", NULL), 200);
    expect(set_status(s, T_ADMIN, "R-back", "seeking", "2022-06-01T10:00:00+08:00", NULL), 200);

    static const char *const periods[] = {"2021", "2022", ""};
    json_t *before[3];
    for (int i = 0; i < 3; i++)
        before[i] = coverage(s, "611002", periods[i]);
    /* No pass until the next start (or in 6 h): the old leaver is intact. */
    h_sleep_ms(1500);
    json_t *g = graduate(s, "R-old");
    ck_assert_str_eq(jstr(g, "name"), old.name);
    json_decref(g);
    ck_assert_int_eq(h_stop(s), 0);

    s = h_start(cfg_path, NULL, NULL, true);
    for (int i = 0; i < 100 && h_redis_int("HEXISTS gc:{611002}:g:R-old name"); i++)
        h_sleep_ms(100);
    g = graduate(s, "R-old");
    ck_assert_msg(!json_object_get(g, "name") && !json_object_get(g, "phone"),
                  "R-old keeps its name or phone: %s", json_dumps(g, 0));
    ck_assert(json_is_string(json_object_get(g, "personal_data_expired_at")));
    ck_assert_str_eq(jstr(g, "status"), "employed");
    ck_assert_str_eq(jstr(g, "national_id"), old.masked_nid);
    ck_assert_int_eq(json_integer_value(json_object_get(g, "contacts")), 1);
    json_decref(g);
    const struct person *kept[] = {&recent, &back, &still};
    for (size_t i = 0; i < 3; i++) {
        g = graduate(s, kept[i]->id);
        ck_assert_str_eq(jstr(g, "name"), kept[i]->name);
        ck_assert_str_eq(jstr(g, "phone"), kept[i]->phone);
        ck_assert_ptr_null(json_object_get(g, "personal_data_expired_at"));
        json_decref(g);
    }
    for (int i = 0; i < 3; i++) {
        json_t *now = coverage(s, "611002", periods[i]);
        expect_same(before[i], now, "coverage");
        json_decref(now);
        json_decref(before[i]);
    }
    /* Nothing of R-old's name or phone left anywhere. */
    struct db_items *d = db_items();
    for (size_t i = 0; i < d->n; i++) {
        const struct db_item *it = &d->v[i];
        ck_assert_msg(!db_has(it->value, it->vlen, old.name) &&
                          !db_has(it->value, it->vlen, old.phone),
                      "%s holds R-old's name or phone", it->key);
    }
    db_items_free(d);

    /* Audited once, and a further pass (another start) erases nothing more. */
    ck_assert_int_eq(h_stop(s), 0);
    s = h_start(cfg_path, NULL, NULL, true);
    for (int i = 0; i < 100 && !log_has(s->log_path, "event=retention_pass_done"); i++)
        h_sleep_ms(100);
    ck_assert(log_has(s->log_path, "event=retention_pass_done erased=0"));
    struct http_resp *r = audit(s, T_ADMIN, "?county=611002&limit=1000");
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(r->json, "entries"), i, e)
    {
        if (strcmp(jstr(e, "action"), "retention.erase") != 0)
            continue;
        ck_assert_str_eq(jstr(e, "object"), "R-old");
        ck_assert_str_eq(jstr(e, "who"), "retention");
        ck_assert_str_eq(jstr(e, "role"), "system");
        ck_assert_str_eq(jstr(e, "result"), "ok");
        n++;
    }
    ck_assert_int_eq(n, 1);
    h_resp_free(r);
    ck_assert_int_eq(h_stop(s), 0);
}
END_TEST

/* ---- personal data nowhere else ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    size_t cap = 65536;
    char *buf = malloc(cap);
    *len = 0;
    size_t got;
    while ((got = fread(buf + *len, 1, cap - *len - 1, f)) > 0) {
        *len += got;
        if (cap - *len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static bool log_has(const char *path, const char *needle)
{
    size_t n;
    char *buf = slurp(path, &n);
    bool hit = db_has(buf, n, needle);
    free(buf);
    return hit;
}

/* Collects the bodies of answers that must hold no personal data. */
struct sink {
    char *buf;
    size_t len, cap;
};

static void keep(struct sink *k, struct http_resp *r, int status)
{
    ck_assert_msg(r->status == status, "expected %d, got %d: %s", status, r->status, r->body);
    size_t n = strlen(r->head) + strlen(r->body) + 2;
    if (k->len + n + 1 > k->cap) {
        k->cap = (k->len + n + 1) * 2;
        k->buf = realloc(k->buf, k->cap);
        ck_assert(k->buf);
    }
    k->len += (size_t)sprintf(k->buf + k->len, "%s\n%s\n", r->head, r->body);
    h_resp_free(r);
}

START_TEST(test_no_personal_data_outside_the_graduate_record)
{
    struct receiver *rv = receiver_start("200");
    char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", receiver_port(rv));
    json_object_set_new(cfg, "alerts",
                        json_pack("{s:i, s:f, s:i, s:[{s:s, s:s, s:s}]}", "for_seconds", 0,
                                  "clear_margin", 0.0, "eval_interval_seconds", 1, "webhooks",
                                  "name", "leaders", "url", url, "secret", "s3cret"));
    const char *args[] = {"--log-level", "debug", NULL};
    struct gc_server *s = h_start(h_write_config(cfg, "pii"), args, NULL, true);
    char log[400];
    snprintf(log, sizeof log, "%s", s->log_path);

    struct person ps[3] = {
        {"P1", "611002", "欧阳明日", "13712345678", "137****5678", "", ""},
        {"P2", "611002", "Zhuge Kongming", "15987654321", "159****4321", "", ""},
        {"P3", "611021", "司马仲达", "+86-186-1111-2222", "", "", ""},
    };
    for (int i = 0; i < 3; i++)
        person_nid(&ps[i], 101 + i);
    struct sink k = {0};

    /* Registrations (the first fires 611002's alert: 0 of 1 served), and
     * refused ones whose answers must not echo what was sent. */
    register_person(s, T_C611002, &ps[0], "2026-01-05T09:00:00+08:00", "pii-reg-1");
    register_person(s, T_C611002, &ps[1], "2026-01-06T09:00:00+08:00", "pii-reg-2");
    register_person(s, T_C611021, &ps[2], "2026-01-07T09:00:00+08:00", "pii-reg-3");
    /* The same national ID while P1 is seeking: 409. */
    struct person again = {"P9", "611002", "欧阳明日", "13712345678", "", "", ""};
    snprintf(again.nid, sizeof again.nid, "%s", ps[0].nid);
    char *body = register_body(&again, NULL);
    keep(&k, call(s, "POST", "/api/v1/graduates", T_C611002, body, NULL, NULL), 409);
    free(body);
    /* A bad checksum, a bad phone, truncated JSON holding all three values. */
    char badnid[19];
    snprintf(badnid, sizeof badnid, "%s", ps[0].nid);
    badnid[17] = badnid[17] == '1' ? '2' : '1';
    body = dump(json_pack("{s:s, s:s, s:s, s:s}", "county", "611002", "name", ps[0].name,
                          "national_id", badnid, "phone", ps[0].phone));
    keep(&k, call(s, "POST", "/api/v1/graduates", T_C611002, body, NULL, NULL), 422);
    free(body);
    body = dump(json_pack("{s:s, s:s, s:s, s:s}", "county", "611002", "name", ps[0].name,
                          "national_id", ps[0].nid, "phone", "call 13712345678"));
    keep(&k, call(s, "POST", "/api/v1/graduates", T_C611002, body, NULL, NULL), 422);
    free(body);
    char trunc[300];
    snprintf(trunc, sizeof trunc,
             "{\"county\":\"611002\",\"name\":\"%s\",\"phone\":\"%s\",\"national_id\":\"%s\"",
             ps[0].name, ps[0].phone, ps[0].nid);
    keep(&k, call(s, "POST", "/api/v1/graduates", T_C611002, trunc, NULL, NULL), 400);
    snprintf(trunc, sizeof trunc, "{\"county\":\"611002\",\"name\":\"%s\",\"phone\":\"%s\"} x",
             ps[1].name, ps[1].phone);
    keep(&k, call(s, "POST", "/api/v1/graduates", T_C611002, trunc, NULL, NULL), 400);
    /* Registering in another county: refused after validation. */
    struct person elsewhere = {"P8", "611021", "Zhuge Kongming", "15987654321", "", "", ""};
    person_nid(&elsewhere, 150);
    body = register_body(&elsewhere, NULL);
    keep(&k, call(s, "POST", "/api/v1/graduates", T_C611002, body, NULL, NULL), 403);
    free(body);

    /* Contacts with notes, an idempotent replay, a reused key. */
    expect(contact(s, T_C611002, "P1", "推荐商洛某电子厂技术员岗位", "2026-01-10T10:00:00+08:00",
                   "pii-c1", "key-p1"),
           201);
    expect(contact(s, T_C611002, "P1", "推荐商洛某电子厂技术员岗位", "2026-01-10T10:00:00+08:00",
                   "pii-c2", "key-p1"),
           201);
    keep(&k, contact(s, T_C611002, "P1", "another note", NULL, "pii-c3", "key-p1"), 422);
    expect(contact(s, T_C611021, "P3", "career talk", NULL, "pii-c4", NULL), 201);
    keep(&k, contact(s, T_C611002, "P3", NULL, NULL, NULL, NULL), 404);

    /* Status changes, reads, look-ups (found, unknown, malformed). */
    expect(set_status(s, T_C611002, "P2", "employed", NULL, "pii-st"), 200);
    keep(&k, set_status(s, T_C611002, "P2", "withdrawn", "2020-01-01T00:00:00+08:00", NULL), 422);
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", ps[i].nid);
        expect(call(s, "GET", path, T_ADMIN, NULL, NULL, NULL), 200);
        expect(call(s, "GET", path, T_L611002, NULL, NULL, NULL), 200);
        snprintf(path, sizeof path, "/api/v1/graduates/%s", ps[i].id);
        expect(call(s, "GET", path, T_LALL, NULL, NULL, NULL), 200);
        snprintf(path, sizeof path, "/api/v1/graduates/%s/contacts", ps[i].id);
        expect(call(s, "GET", path, T_ADMIN, NULL, NULL, NULL), 200);
    }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", h_natid(199));
    keep(&k, call(s, "GET", path, T_ADMIN, NULL, NULL, NULL), 200);
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%s", badnid);
    keep(&k, call(s, "GET", path, T_ADMIN, NULL, NULL, NULL), 400);
    snprintf(path, sizeof path, "/api/v1/graduates?national_id=%.17s", ps[1].nid);
    keep(&k, call(s, "GET", path, T_ADMIN, NULL, NULL, NULL), 400);
    expect(call(s, "GET", "/api/v1/counties/611002/queue", T_L611002, NULL, NULL, NULL), 200);
    expect(call(s, "GET", "/api/v1/alerts?state=all", T_ADMIN, NULL, NULL, NULL), 200);

    /* The alert was delivered. */
    json_t *hooks = receiver_wait(rv, 1, 15000);
    ck_assert_msg(json_array_size(hooks) >= 1, "no webhook delivered");
    char *hooks_text = json_dumps(hooks, 0);
    json_decref(hooks);

    /* /metrics */
    struct http_resp *m = h_http(s, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(m->status, 200);
    char *metrics = strdup(m->body);
    h_resp_free(m);
    ck_assert_int_eq(h_stop(s), 0);
    size_t loglen;
    char *logtext = slurp(log, &loglen);
    ck_assert_msg(loglen > 1000, "the log is nearly empty (%zu bytes)", loglen);

    for (int i = 0; i < 3; i++) {
        const struct person *p = &ps[i];
        char nid14[15];
        memcpy(nid14, p->nid, 14);
        nid14[14] = '\0';
        const char *pii[] = {p->name, p->phone,      p->nid,
                             nid14,   p->masked_nid, *p->masked_phone ? p->masked_phone : p->nid};
        for (size_t j = 0; j < sizeof pii / sizeof pii[0]; j++) {
            ck_assert_msg(!db_has(logtext, loglen, pii[j]), "the log holds %s", pii[j]);
            ck_assert_msg(!strstr(metrics, pii[j]), "/metrics holds %s", pii[j]);
            ck_assert_msg(!strstr(hooks_text, pii[j]), "a webhook holds %s", pii[j]);
            ck_assert_msg(!db_has(k.buf, k.len, pii[j]), "an error answer holds %s: %s", pii[j],
                          k.buf);
        }
        /* Redis: no key name holds any of them; the national ID is nowhere
         * in clear; name and phone only as the graduate record's own fields,
         * the masked national ID only as its nid_masked. */
        char gkey[64];
        snprintf(gkey, sizeof gkey, "gc:{%s}:g:%s", p->county, p->id);
        struct db_items *d = db_items();
        size_t seen_name = 0, seen_phone = 0;
        for (size_t x = 0; x < d->n; x++) {
            const struct db_item *it = &d->v[x];
            for (size_t j = 0; j < sizeof pii / sizeof pii[0]; j++) {
                ck_assert_msg(!strstr(it->key, pii[j]), "key %s holds %s", it->key, pii[j]);
                ck_assert_msg(!it->field || !strstr(it->field, pii[j]), "a field of %s holds %s",
                              it->key, pii[j]);
            }
            if (!it->value)
                continue;
            bool own = strcmp(it->key, gkey) == 0 && it->field;
            ck_assert_msg(!db_has(it->value, it->vlen, p->nid) &&
                              !db_has(it->value, it->vlen, nid14),
                          "%s holds the national ID %s", it->key, p->nid);
            if (db_has(it->value, it->vlen, p->name)) {
                ck_assert_msg(own && strcmp(it->field, "name") == 0, "%s %s holds the name %s",
                              it->key, it->field ? it->field : "", p->name);
                seen_name++;
            }
            if (db_has(it->value, it->vlen, p->phone)) {
                ck_assert_msg(own && strcmp(it->field, "phone") == 0, "%s %s holds the phone %s",
                              it->key, it->field ? it->field : "", p->phone);
                seen_phone++;
            }
            if (db_has(it->value, it->vlen, p->masked_nid))
                ck_assert_msg(own && strcmp(it->field, "nid_masked") == 0,
                              "%s %s holds the masked national ID", it->key,
                              it->field ? it->field : "");
            if (*p->masked_phone)
                ck_assert_msg(!db_has(it->value, it->vlen, p->masked_phone),
                              "%s holds the masked phone %s", it->key, p->masked_phone);
        }
        /* The record itself does hold them (the scan can see them). */
        ck_assert_int_eq(seen_name, 1);
        ck_assert_int_eq(seen_phone, 1);
        db_items_free(d);
    }
    free(logtext);
    free(metrics);
    free(hooks_text);
    free(k.buf);
    receiver_stop(rv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("privacy");
    TCase *tc = tcase_create("privacy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_audit_records_who_did_what_without_personal_data);
    tcase_add_test(tc, test_audit_access_paging_and_parameters);
    tcase_add_test(tc, test_erasure_removes_personal_data_and_keeps_counts);
    tcase_add_test(tc, test_retention_erases_name_and_phone_of_old_leavers);
    tcase_add_test(tc, test_no_personal_data_outside_the_graduate_record);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
