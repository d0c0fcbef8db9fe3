/* Authorization through the real server and Redis (SPEC §6): one table-driven
 * matrix of every /api/v1 route against every kind of caller and a target in
 * each of two counties, with denied writes changing nothing; masking of
 * personal data; anonymous_read; the coverage list of a scoped token; and a
 * guard that fails when src/api/routes.c gains a route without a matrix row. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gradcover/api/routes.h"
#include "harness.h"

#define NCALLERS 7
#define NTARGETS 2
#define NIDLEN 18
/* "200, but the target is left out of the result": the look-up by national ID
 * answers an out-of-scope graduate exactly as an unknown one (an empty list),
 * so that the answer does not reveal that the person exists elsewhere. */
#define H200 (-200)
/* "202, or 409 rewrite_in_progress": the AOF rewrite the previous cell
 * started may still be running (the fixture's Redis is shared). */
#define H202 (-202)

static struct gc_server *srv;

/* ---- callers and targets ---- */

struct caller {
    const char *label;
    const char *token; /* NULL = no Authorization header */
};

/* Column order of every row of the matrix below. */
static const struct caller callers[NCALLERS] = {
    {"no-token", NULL},
    {"admin", T_ADMIN},
    {"counselor-611002", T_C611002},
    {"counselor-611021", T_C611021},
    {"leader-611002", T_L611002},
    {"leader-city", T_LALL},
    {"viewer", T_VIEWER},
};

/* Target 0 is in 611002 (the own county of the 611002 tokens), target 1 in 611021. */
static const char *const county[NTARGETS] = {"611002", "611021"};
static const char *const gid[NTARGETS] = {"G1", "G2"};
static const char *const phone[NTARGETS] = {"13800000000", "13900000021"};
static char nid[NTARGETS][NIDLEN + 1]; /* the raw national IDs of G1 and G2 */
static char cid[NTARGETS][96];         /* the id of the fixture's contact with G1 and G2 */

/* ---- the matrix ---- */

enum kind {
    K_REGISTER,        /* POST /api/v1/graduates (target = the body's county) */
    K_LOOKUP,          /* GET /api/v1/graduates?national_id= (target = G1's / G2's ID) */
    K_GET,             /* GET /api/v1/graduates/{id} */
    K_STATUS,          /* POST /api/v1/graduates/{id}/status */
    K_PATCH,           /* PATCH /api/v1/graduates/{id} */
    K_TRANSFER,        /* POST /api/v1/graduates/{id}/transfer (to the other county) */
    K_CASELOADS,       /* GET /api/v1/counties/{code}/caseloads */
    K_CONTACTS,        /* GET /api/v1/graduates/{id}/contacts */
    K_CONTACT,         /* POST /api/v1/contacts (target = the body's graduate_id) */
    K_CONTACT_GET,     /* GET /api/v1/contacts/{contact_id} (the fixture's contact of G1 / G2) */
    K_VOID,            /* POST /api/v1/contacts/{contact_id}/void (the same contact) */
    K_COVERAGE,        /* GET /api/v1/coverage (no target: both columns alike) */
    K_COUNTY_COVERAGE, /* GET /api/v1/counties/{code}/coverage */
    K_QUEUE,           /* GET /api/v1/counties/{code}/queue */
    K_HISTORY,         /* GET /api/v1/counties/{code}/history */
    K_ACTIVITY,        /* GET /api/v1/counties/{code}/activity */
    K_ALERTS,          /* GET /api/v1/alerts?county= */
    K_ACK,             /* POST /api/v1/alerts/{county}/ack (no firing episode: 409 when allowed) */
    K_SILENCE_CREATE,  /* POST /api/v1/silences (a silence of the target county) */
    K_SILENCE_LIST,    /* GET /api/v1/silences (no target: both columns alike) */
    K_SILENCE_DELETE,  /* DELETE /api/v1/silences/{id} (a silence of the target county, made by
                          admin) */
    K_ERASE,           /* DELETE /api/v1/graduates/{id} */
    K_TOKEN_CREATE,    /* POST /api/v1/tokens (a counselor token of the target county) */
    K_TOKEN_LIST,      /* GET /api/v1/tokens */
    K_TOKEN_DELETE,    /* DELETE /api/v1/tokens/{name} (the fixture's token of that county) */
    K_AUDIT,           /* GET /api/v1/audit?county= */
    K_OPENAPI,         /* GET /api/v1/openapi.json (public: no target) */
    K_REWRITE_AOF,     /* POST /api/v1/maintenance/rewrite-aof (no target) */
};

struct row {
    const char *method;
    const char *route; /* exactly as in api_routes[] (src/api/routes.c) */
    enum kind kind;
    bool write;
    /* expected status per target (611002, 611021) and caller (columns above) */
    int expect[NTARGETS][NCALLERS];
};

/* When a route is added to src/api/routes.c, add its row here (test_route_table_covered
 * fails until then). Columns: no-token, admin, C611002, C611021, L611002, LALL, viewer. */
static const struct row matrix[] = {
    {"POST",
     "/api/v1/graduates",
     K_REGISTER,
     true,
     {{401, 201, 201, 403, 403, 403, 403}, {401, 201, 403, 201, 403, 403, 403}}},
    {"GET",
     "/api/v1/graduates",
     K_LOOKUP,
     false,
     {{401, 200, 200, H200, 200, 200, 403}, {401, 200, H200, 200, H200, 200, 403}}},
    {"GET",
     "/api/v1/graduates/{id}",
     K_GET,
     false,
     {{401, 200, 200, 404, 200, 200, 403}, {401, 200, 404, 200, 404, 200, 403}}},
    /* A counselor changing another county's graduate gets 404 as for an unknown
     * id (a 403 would confirm the graduate exists); leaders and viewers may
     * never write, whatever the id, so 403 reveals nothing. */
    /* Corrections (SPEC §12): as a status change. */
    {"PATCH",
     "/api/v1/graduates/{id}",
     K_PATCH,
     true,
     {{401, 200, 200, 404, 403, 403, 403}, {401, 200, 404, 200, 403, 403, 403}}},
    /* Transfers: admins and the city leader only, whichever county. */
    {"POST",
     "/api/v1/graduates/{id}/transfer",
     K_TRANSFER,
     true,
     {{401, 200, 403, 403, 403, 200, 403}, {401, 200, 403, 403, 403, 200, 403}}},
    {"POST",
     "/api/v1/graduates/{id}/status",
     K_STATUS,
     true,
     {{401, 200, 200, 404, 403, 403, 403}, {401, 200, 404, 200, 403, 403, 403}}},
    {"GET",
     "/api/v1/graduates/{id}/contacts",
     K_CONTACTS,
     false,
     {{401, 200, 200, 404, 200, 200, 403}, {401, 200, 404, 200, 404, 200, 403}}},
    {"POST",
     "/api/v1/contacts",
     K_CONTACT,
     true,
     {{401, 201, 201, 404, 403, 403, 403}, {401, 201, 404, 201, 403, 403, 403}}},
    /* One contact by its id: as the graduate's contacts. */
    {"GET",
     "/api/v1/contacts/{contact_id}",
     K_CONTACT_GET,
     false,
     {{401, 200, 200, 404, 200, 200, 403}, {401, 200, 404, 200, 404, 200, 403}}},
    /* Voiding (SPEC §12): admins, counselors of the graduate's county (404
     * for another county's, as for an unknown id). After the first, a
     * void is answered 200 already_voided. */
    {"POST",
     "/api/v1/contacts/{contact_id}/void",
     K_VOID,
     true,
     {{401, 200, 200, 404, 403, 403, 403}, {401, 200, 404, 200, 403, 403, 403}}},
    {"GET",
     "/api/v1/coverage",
     K_COVERAGE,
     false,
     {{401, 200, 200, 200, 200, 200, 200}, {401, 200, 200, 200, 200, 200, 200}}},
    {"GET",
     "/api/v1/counties/{code}/coverage",
     K_COUNTY_COVERAGE,
     false,
     {{401, 200, 200, 403, 200, 200, 200}, {401, 200, 403, 200, 403, 200, 200}}},
    /* Caseloads: admins and leaders (scope). */
    {"GET",
     "/api/v1/counties/{code}/caseloads",
     K_CASELOADS,
     false,
     {{401, 200, 403, 403, 200, 200, 403}, {401, 200, 403, 403, 403, 200, 403}}},
    {"GET",
     "/api/v1/counties/{code}/queue",
     K_QUEUE,
     false,
     {{401, 200, 200, 403, 200, 200, 403}, {401, 200, 403, 200, 403, 200, 403}}},
    /* A county's history: whoever may read its coverage (the same numbers
     * through time; no personal data). */
    {"GET",
     "/api/v1/counties/{code}/history",
     K_HISTORY,
     false,
     {{401, 200, 200, 403, 200, 200, 200}, {401, 200, 403, 200, 403, 200, 200}}},
    /* Contacts per counselor: about staff, for the county's leaders and admins. */
    {"GET",
     "/api/v1/counties/{code}/activity",
     K_ACTIVITY,
     false,
     {{401, 200, 403, 403, 200, 200, 403}, {401, 200, 403, 403, 403, 200, 403}}},
    /* Alerts are for leaders (of their scope) and admins (SPEC §6). */
    {"GET",
     "/api/v1/alerts",
     K_ALERTS,
     false,
     {{401, 200, 403, 403, 200, 200, 403}, {401, 200, 403, 403, 403, 200, 403}}},
    /* Acknowledging: admins, and leaders whose scope holds the county (SPEC
     * §11). The fixture's counties are on target, so an allowed call gets
     * 409 not_firing: past the role and the scope, refused by the state. */
    {"POST",
     "/api/v1/alerts/{county}/ack",
     K_ACK,
     true,
     {{401, 409, 403, 403, 409, 409, 403}, {401, 409, 403, 403, 403, 409, 403}}},
    /* Silences: admins and the city leader make and end them (a county's own
     * leader may not silence the alerts about them); every leader lists
     * those of their scope (SPEC §11). */
    {"POST",
     "/api/v1/silences",
     K_SILENCE_CREATE,
     false,
     {{401, 201, 403, 403, 403, 201, 403}, {401, 201, 403, 403, 403, 201, 403}}},
    {"GET",
     "/api/v1/silences",
     K_SILENCE_LIST,
     false,
     {{401, 200, 403, 403, 200, 200, 403}, {401, 200, 403, 403, 200, 200, 403}}},
    {"DELETE",
     "/api/v1/silences/{id}",
     K_SILENCE_DELETE,
     false,
     {{401, 200, 403, 403, 403, 200, 403}, {401, 200, 403, 403, 403, 200, 403}}},
    /* Erasure (the right to deletion) is an admin act; counts stay. */
    {"DELETE",
     "/api/v1/graduates/{id}",
     K_ERASE,
     true,
     {{401, 200, 403, 403, 403, 403, 403}, {401, 200, 403, 403, 403, 403, 403}}},
    {"POST",
     "/api/v1/tokens",
     K_TOKEN_CREATE,
     false,
     {{401, 201, 403, 403, 403, 403, 403}, {401, 201, 403, 403, 403, 403, 403}}},
    {"GET",
     "/api/v1/tokens",
     K_TOKEN_LIST,
     false,
     {{401, 200, 403, 403, 403, 403, 403}, {401, 200, 403, 403, 403, 403, 403}}},
    {"DELETE",
     "/api/v1/tokens/{name}",
     K_TOKEN_DELETE,
     false,
     {{401, 200, 403, 403, 403, 403, 403}, {401, 200, 403, 403, 403, 403, 403}}},
    /* The audit trail: admins, and leaders of their scope. */
    {"GET",
     "/api/v1/audit",
     K_AUDIT,
     false,
     {{401, 200, 403, 403, 200, 200, 403}, {401, 200, 403, 403, 404, 200, 403}}},
    /* Maintenance of the data store (the AOF rewrite after erasures) is an admin act. */
    {"POST",
     "/api/v1/maintenance/rewrite-aof",
     K_REWRITE_AOF,
     false,
     {{401, H202, 403, 403, 403, 403, 403}, {401, H202, 403, 403, 403, 403, 403}}},
    /* The API's description is public (SPEC §14), like /healthz. */
    {"GET",
     "/api/v1/openapi.json",
     K_OPENAPI,
     false,
     {{200, 200, 200, 200, 200, 200, 200}, {200, 200, 200, 200, 200, 200, 200}}},
};

#define NROWS ((int)(sizeof matrix / sizeof matrix[0]))

/* ---- helpers ---- */

static void mask_nid(const char *raw, char *out)
{
    memcpy(out, raw, 6);
    memset(out + 6, '*', 8);
    memcpy(out + 14, raw + 14, 4);
    out[NIDLEN] = '\0';
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(none)";
}

static const char *error_code(const struct http_resp *r)
{
    return jstr(json_object_get(r->json, "error"), "code");
}

static char *dump(json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ck_assert(t);
    return t;
}

static char *register_body(const char *id, const char *cty, const char *natid, const char *ph)
{
    return dump(json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "county", cty, "name", "测试",
                          "national_id", natid, "phone", ph));
}

static void register_full(const char *token, const char *id, const char *cty, const char *natid,
                          const char *ph)
{
    char *body = register_body(id, cty, natid, ph);
    struct http_resp *r = h_http(srv, "POST", "/api/v1/graduates", token, body, NULL);
    free(body);
    ck_assert_msg(r && r->status == 201, "register %s: %d %s", id, r ? r->status : 0,
                  r ? r->body : "");
    h_resp_free(r);
}

/* G1 in 611002 and G2 in 611021, registered by admin, one contact each. */
static void make_fixture(void)
{
    snprintf(nid[0], sizeof nid[0], "%s", h_natid(1));
    snprintf(nid[1], sizeof nid[1], "%s", h_natid(2));
    for (int t = 0; t < NTARGETS; t++) {
        register_full(T_ADMIN, gid[t], county[t], nid[t], phone[t]);
        char cbody[96];
        snprintf(cbody, sizeof cbody, "{\"graduate_id\":\"%s\",\"service\":\"training\"}", gid[t]);
        struct http_resp *c = h_http(srv, "POST", "/api/v1/contacts", T_ADMIN, cbody, NULL);
        ck_assert_msg(c && c->status == 201, "contact with %s: %s", gid[t], c ? c->body : "none");
        snprintf(cid[t], sizeof cid[t], "%s", jstr(c->json, "id"));
        h_resp_free(c);
        char body[128];
        snprintf(body, sizeof body, "{\"name\":\"fx-%s\",\"role\":\"counselor\",\"county\":\"%s\"}",
                 county[t], county[t]);
        struct http_resp *r = h_http(srv, "POST", "/api/v1/tokens", T_ADMIN, body, NULL);
        ck_assert_msg(r && r->status == 201, "create token fx-%s: %s", county[t],
                      r ? r->body : "none");
        h_resp_free(r);
    }
}

/* What a write could change, read through the admin API. */
struct snap {
    long long reg[NTARGETS], served[NTARGETS], contacts[NTARGETS];
    char status[NTARGETS][24];
    bool voided[NTARGETS]; /* the fixture's contact */
};

static void snap_take(struct snap *s)
{
    memset(s, 0, sizeof *s);
    for (int t = 0; t < NTARGETS; t++) {
        h_counts(srv, county[t], "", &s->reg[t], &s->served[t]);
        char path[160];
        snprintf(path, sizeof path, "/api/v1/graduates/%s", gid[t]);
        struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
        ck_assert_msg(r && r->status == 200, "admin GET %s: %s", gid[t], r ? r->body : "none");
        s->contacts[t] = json_integer_value(json_object_get(r->json, "contacts"));
        snprintf(s->status[t], sizeof s->status[t], "%s", jstr(r->json, "status"));
        h_resp_free(r);
        snprintf(path, sizeof path, "/api/v1/contacts/%s", cid[t]);
        r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
        ck_assert_msg(r && r->status == 200, "admin GET %s: %s", path, r ? r->body : "none");
        s->voided[t] = json_object_get(r->json, "voided") != NULL;
        h_resp_free(r);
    }
}

static bool snap_equal(const struct snap *a, const struct snap *b)
{
    for (int t = 0; t < NTARGETS; t++)
        if (a->reg[t] != b->reg[t] || a->served[t] != b->served[t] ||
            a->contacts[t] != b->contacts[t] || strcmp(a->status[t], b->status[t]) != 0 ||
            a->voided[t] != b->voided[t])
            return false;
    return true;
}

static int admin_get_status(const char *id)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/graduates/%s", id);
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    int st = r ? r->status : 0;
    h_resp_free(r);
    return st;
}

/* Collected failures of one matrix row, reported together. */
struct report {
    char text[16384];
    size_t len;
    int n;
};

__attribute__((format(printf, 2, 3))) static void note(struct report *rep, const char *fmt, ...)
{
    rep->n++;
    if (rep->len + 2 >= sizeof rep->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(rep->text + rep->len, sizeof rep->text - rep->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        rep->len =
            rep->len + (size_t)w < sizeof rep->text ? rep->len + (size_t)w : sizeof rep->text - 1;
    if (rep->len + 1 < sizeof rep->text) {
        rep->text[rep->len++] = '\n';
        rep->text[rep->len] = '\0';
    }
}

/* A silence body for county, ending in an hour (a static buffer). */
static const char *silence_body(const char *cty)
{
    static char body[256];
    time_t t = time(NULL) + 3600 + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    char ends[40];
    strftime(ends, sizeof ends, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    snprintf(body, sizeof body,
             "{\"county\":\"%s\",\"ends_at\":\"%s\",\"reason\":\"authorization matrix\"}", cty,
             ends);
    return body;
}

/* A silence of county made by admin; its id (a static buffer). */
static const char *make_silence(const char *cty)
{
    static char id[32];
    struct http_resp *r = h_http(srv, "POST", "/api/v1/silences", T_ADMIN, silence_body(cty), NULL);
    ck_assert_msg(r && r->status == 201, "create a silence: %s", r ? r->body : "none");
    snprintf(id, sizeof id, "%s", jstr(r->json, "id"));
    h_resp_free(r);
    return id;
}

/* Builds the request path: "{}" becomes the target's graduate id or county. */
static void build_path(const struct row *row, int t, char *out, size_t n)
{
    switch (row->kind) {
    case K_LOOKUP:
        snprintf(out, n, "/api/v1/graduates?national_id=%s", nid[t]);
        return;
    case K_GET:
    case K_PATCH:
        snprintf(out, n, "/api/v1/graduates/%s", gid[t]);
        return;
    case K_STATUS:
        snprintf(out, n, "/api/v1/graduates/%s/status", gid[t]);
        return;
    case K_TRANSFER:
        snprintf(out, n, "/api/v1/graduates/%s/transfer", gid[t]);
        return;
    case K_CONTACTS:
        snprintf(out, n, "/api/v1/graduates/%s/contacts", gid[t]);
        return;
    case K_CONTACT_GET:
        snprintf(out, n, "/api/v1/contacts/%s", cid[t]);
        return;
    case K_VOID:
        snprintf(out, n, "/api/v1/contacts/%s/void", cid[t]);
        return;
    case K_COUNTY_COVERAGE:
        snprintf(out, n, "/api/v1/counties/%s/coverage", county[t]);
        return;
    case K_CASELOADS:
        snprintf(out, n, "/api/v1/counties/%s/caseloads", county[t]);
        return;
    case K_QUEUE:
        snprintf(out, n, "/api/v1/counties/%s/queue", county[t]);
        return;
    case K_HISTORY:
        snprintf(out, n, "/api/v1/counties/%s/history", county[t]);
        return;
    case K_ACTIVITY:
        snprintf(out, n, "/api/v1/counties/%s/activity", county[t]);
        return;
    case K_ALERTS:
        snprintf(out, n, "/api/v1/alerts?county=%s", county[t]);
        return;
    case K_ACK:
        snprintf(out, n, "/api/v1/alerts/%s/ack", county[t]);
        return;
    case K_SILENCE_DELETE:
        snprintf(out, n, "/api/v1/silences/%s", make_silence(county[t]));
        return;
    case K_ERASE:
        snprintf(out, n, "/api/v1/graduates/%s", gid[t]);
        return;
    case K_TOKEN_DELETE:
        snprintf(out, n, "/api/v1/tokens/fx-%s", county[t]);
        return;
    case K_AUDIT:
        snprintf(out, n, "/api/v1/audit?county=%s", county[t]);
        return;
    case K_TOKEN_CREATE:
    case K_TOKEN_LIST:
    case K_REGISTER:
    case K_CONTACT:
    case K_COVERAGE:
    case K_OPENAPI:
    case K_REWRITE_AOF:
    case K_SILENCE_CREATE:
    case K_SILENCE_LIST:
        snprintf(out, n, "%s", row->route);
        return;
    }
}

/* Checks the body of an allowed call (it concerns the target). */
static void check_success_body(struct report *rep, const char *what, const struct row *row,
                               int want, int c, int t, struct http_resp *r, const char *newid,
                               const char *newnid)
{
    json_t *j = r->json;
    if (!json_is_object(j)) {
        note(rep, "%s: body is not a JSON object: %.200s", what, r->body);
        return;
    }
    char masked[NIDLEN + 1];
    switch (row->kind) {
    case K_REGISTER:
        mask_nid(newnid, masked);
        if (strcmp(jstr(j, "id"), newid) != 0 || strcmp(jstr(j, "county"), county[t]) != 0 ||
            strcmp(jstr(j, "national_id"), masked) != 0)
            note(rep, "%s: unexpected graduate %.300s", what, r->body);
        return;
    case K_LOOKUP: {
        json_t *list = json_object_get(j, "graduates");
        size_t exp = want == H200 ? 0 : 1;
        if (json_array_size(list) != exp ||
            (exp == 1 && strcmp(jstr(json_array_get(list, 0), "id"), gid[t]) != 0))
            note(rep, "%s: expected %zu graduate(s) (%s), got %.300s", what, exp,
                 exp ? gid[t] : "out of scope: as if unknown", r->body);
        return;
    }
    case K_GET:
        if (strcmp(jstr(j, "id"), gid[t]) != 0 || strcmp(jstr(j, "county"), county[t]) != 0)
            note(rep, "%s: unexpected graduate %.300s", what, r->body);
        return;
    case K_STATUS:
        if (strcmp(jstr(j, "id"), gid[t]) != 0 || strcmp(jstr(j, "status"), "employed") != 0)
            note(rep, "%s: unexpected answer %.300s", what, r->body);
        return;
    case K_CONTACTS:
        if (strcmp(jstr(j, "graduate_id"), gid[t]) != 0 ||
            json_array_size(json_object_get(j, "contacts")) != 1)
            note(rep, "%s: expected %s's one contact, got %.300s", what, gid[t], r->body);
        return;
    case K_CONTACT:
        if (strcmp(jstr(j, "graduate_id"), gid[t]) != 0 ||
            strcmp(jstr(j, "county"), county[t]) != 0)
            note(rep, "%s: unexpected answer %.300s", what, r->body);
        return;
    case K_CONTACT_GET:
        if (strcmp(jstr(j, "id"), cid[t]) != 0 || strcmp(jstr(j, "county"), county[t]) != 0 ||
            strcmp(jstr(j, "service"), "training") != 0)
            note(rep, "%s: unexpected contact %.300s", what, r->body);
        return;
    case K_VOID:
        if (strcmp(jstr(j, "id"), cid[t]) != 0 || !json_object_get(j, "voided"))
            note(rep, "%s: not the voided contact: %.300s", what, r->body);
        return;
    case K_COVERAGE:
        if (json_array_size(json_object_get(j, "counties")) == 0)
            note(rep, "%s: no counties in %.300s", what, r->body);
        return;
    case K_COUNTY_COVERAGE:
        if (strcmp(jstr(j, "code"), county[t]) != 0 ||
            json_integer_value(json_object_get(j, "registered")) != 1)
            note(rep, "%s: unexpected entry %.300s", what, r->body);
        return;
    case K_QUEUE:
        /* Both fixture graduates are served: the queue is empty. */
        if (strcmp(jstr(j, "county"), county[t]) != 0 ||
            !json_is_array(json_object_get(j, "graduates")))
            note(rep, "%s: unexpected queue %.300s", what, r->body);
        return;
    case K_HISTORY: {
        /* Today's point: the fixture's one graduate, served. */
        json_t *pts = json_object_get(j, "points");
        json_t *today = json_array_get(pts, json_array_size(pts) - 1);
        if (strcmp(jstr(j, "county"), county[t]) != 0 ||
            json_integer_value(json_object_get(today, "registered")) != 1)
            note(rep, "%s: unexpected history %.300s", what, r->body);
        return;
    }
    case K_ACTIVITY:
        /* The fixture's contact in each county was the admin's. */
        if (strcmp(jstr(j, "county"), county[t]) != 0 ||
            strcmp(jstr(json_array_get(json_object_get(j, "counselors"), 0), "name"), "admin") != 0)
            note(rep, "%s: unexpected activity %.300s", what, r->body);
        return;
    case K_ALERTS:
        if (!json_is_array(json_object_get(j, "alerts")))
            note(rep, "%s: unexpected alerts %.300s", what, r->body);
        return;
    case K_ACK:
        note(rep, "%s: acknowledged an episode the fixture does not have: %.300s", what, r->body);
        return;
    case K_SILENCE_CREATE:
        if (strcmp(jstr(j, "county"), county[t]) != 0 || strlen(jstr(j, "id")) != 16 ||
            strcmp(jstr(j, "state"), "active") != 0)
            note(rep, "%s: unexpected silence %.300s", what, r->body);
        return;
    case K_SILENCE_LIST: {
        /* A county's leader sees that county's silences only. */
        json_t *list = json_object_get(j, "silences"), *e;
        size_t i;
        if (!json_is_array(list))
            note(rep, "%s: unexpected list %.300s", what, r->body);
        bool county_leader = callers[c].token && strcmp(callers[c].token, T_L611002) == 0;
        if (json_array_size(list) == 0)
            note(rep, "%s: no silences listed", what);
        json_array_foreach(list, i, e)
        {
            if (county_leader && strcmp(jstr(e, "county"), "611002") != 0)
                note(rep, "%s: a leader of 611002 sees a silence of %s", what, jstr(e, "county"));
        }
        return;
    }
    case K_SILENCE_DELETE:
        if (strcmp(jstr(j, "state"), "expired") != 0 || !json_object_get(j, "deleted_by"))
            note(rep, "%s: not an ended silence: %.300s", what, r->body);
        return;
    case K_TRANSFER:
        if (strcmp(jstr(j, "id"), gid[t]) != 0 || strcmp(jstr(j, "county"), county[1 - t]) != 0)
            note(rep, "%s: not the moved graduate: %.300s", what, r->body);
        return;
    case K_CASELOADS:
        if (strcmp(jstr(j, "county"), county[t]) != 0 || !json_object_get(j, "unassigned"))
            note(rep, "%s: unexpected caseloads %.300s", what, r->body);
        return;
    case K_PATCH:
        if (strcmp(jstr(j, "id"), gid[t]) != 0 || strcmp(jstr(j, "school"), "商洛学院") != 0)
            note(rep, "%s: not the corrected graduate: %.300s", what, r->body);
        return;
    case K_ERASE:
        if (strcmp(jstr(j, "id"), gid[t]) != 0 || json_object_get(j, "name") ||
            json_object_get(j, "phone") || json_object_get(j, "national_id") ||
            !json_object_get(j, "erased_at"))
            note(rep, "%s: not an erased graduate: %.300s", what, r->body);
        return;
    case K_TOKEN_CREATE:
        if (strlen(jstr(j, "token")) != 43 || strcmp(jstr(j, "county"), county[t]) != 0)
            note(rep, "%s: unexpected token answer %.300s", what, r->body);
        return;
    case K_TOKEN_LIST:
        if (!strstr(r->body, "\"fx-611002\"") || !strstr(r->body, "\"fx-611021\"") ||
            strstr(r->body, "sha256") || strstr(r->body, "\"token\""))
            note(rep, "%s: unexpected token list %.300s", what, r->body);
        return;
    case K_TOKEN_DELETE:
        if (!json_is_true(json_object_get(j, "revoked")))
            note(rep, "%s: unexpected answer %.300s", what, r->body);
        return;
    case K_AUDIT:
        /* The fixture registered a graduate in each county: audited there. */
        if (strcmp(jstr(j, "county"), county[t]) != 0 ||
            json_array_size(json_object_get(j, "entries")) == 0)
            note(rep, "%s: unexpected audit answer %.300s", what, r->body);
        return;
    case K_OPENAPI:
        if (strcmp(jstr(j, "openapi"), "3.1.0") != 0)
            note(rep, "%s: not the OpenAPI document: %.100s", what, r->body);
        return;
    case K_REWRITE_AOF:
        if (strcmp(jstr(j, "aof_rewrite"), "started") != 0 &&
            strcmp(jstr(j, "aof_rewrite"), "scheduled") != 0)
            note(rep, "%s: unexpected answer %.200s", what, r->body);
        return;
    }
}

/* Checks what an allowed write changed (and undoes a status change). */
static void check_write_effect(struct report *rep, const char *what, const struct row *row, int t,
                               const struct snap *b, const struct snap *a, const char *newid)
{
    int o = 1 - t;
    switch (row->kind) {
    case K_REGISTER:
        if (a->reg[t] != b->reg[t] + 1 || a->reg[o] != b->reg[o] || a->served[t] != b->served[t])
            note(rep, "%s: registered %s %lld -> %lld (want +1), %s %lld -> %lld", what, county[t],
                 b->reg[t], a->reg[t], county[o], b->reg[o], a->reg[o]);
        if (admin_get_status(newid) != 200)
            note(rep, "%s: %s is not readable by admin after 201", what, newid);
        return;
    case K_STATUS:
        if (strcmp(a->status[t], "employed") != 0 || strcmp(a->status[o], b->status[o]) != 0 ||
            a->reg[t] != b->reg[t] || a->served[t] != b->served[t])
            note(rep, "%s: after 200 status %s=%s %s=%s, registered %lld -> %lld", what, gid[t],
                 a->status[t], gid[o], a->status[o], b->reg[t], a->reg[t]);
        /* Back to seeking for the next caller. */
        {
            char path[96];
            snprintf(path, sizeof path, "/api/v1/graduates/%s/status", gid[t]);
            struct http_resp *r =
                h_http(srv, "POST", path, T_ADMIN, "{\"status\":\"seeking\"}", NULL);
            ck_assert_msg(r && r->status == 200, "reset %s to seeking: %s", gid[t],
                          r ? r->body : "none");
            h_resp_free(r);
        }
        return;
    case K_CONTACT:
        if (a->contacts[t] != b->contacts[t] + 1 || a->contacts[o] != b->contacts[o] ||
            a->served[t] != b->served[t] || a->reg[t] != b->reg[t])
            note(rep, "%s: contacts of %s %lld -> %lld (want +1), of %s %lld -> %lld", what, gid[t],
                 b->contacts[t], a->contacts[t], gid[o], b->contacts[o], a->contacts[o]);
        return;
    case K_VOID:
        /* The contact counts no more (the first void; later ones change nothing). */
        if (!a->voided[t] || a->voided[o] != b->voided[o] || a->contacts[o] != b->contacts[o] ||
            (!b->voided[t] && a->contacts[t] != b->contacts[t] - 1))
            note(rep, "%s: contacts of %s %lld -> %lld, voided %d -> %d", what, gid[t],
                 b->contacts[t], a->contacts[t], b->voided[t], a->voided[t]);
        return;
    case K_TRANSFER:
        /* One registration (and its served state) moved; then moved back. */
        if (a->reg[t] != b->reg[t] - 1 || a->reg[o] != b->reg[o] + 1 ||
            a->served[t] + a->served[o] != b->served[t] + b->served[o])
            note(rep, "%s: registered %s %lld -> %lld, %s %lld -> %lld", what, county[t], b->reg[t],
                 a->reg[t], county[o], b->reg[o], a->reg[o]);
        {
            char path[96], body[64];
            snprintf(path, sizeof path, "/api/v1/graduates/%s/transfer", gid[t]);
            snprintf(body, sizeof body, "{\"county\":\"%s\"}", county[t]);
            struct http_resp *r = h_http(srv, "POST", path, T_ADMIN, body, NULL);
            ck_assert_msg(r && r->status == 200, "move %s back: %s", gid[t], r ? r->body : "none");
            h_resp_free(r);
        }
        return;
    case K_PATCH:
        /* A correction moves no count and no status. */
        if (!snap_equal(b, a))
            note(rep, "%s: a correction changed counts or status", what);
        return;
    case K_ERASE:
        /* Personal data gone, every count and the status unchanged. */
        if (!snap_equal(b, a))
            note(rep,
                 "%s: erasure changed counts or status: registered %lld -> %lld, served "
                 "%lld -> %lld",
                 what, b->reg[t], a->reg[t], b->served[t], a->served[t]);
        return;
    case K_LOOKUP:
    case K_GET:
    case K_CONTACTS:
    case K_CONTACT_GET:
    case K_CASELOADS:
    case K_COVERAGE:
    case K_COUNTY_COVERAGE:
    case K_QUEUE:
    case K_HISTORY:
    case K_ACTIVITY:
    case K_ALERTS:
    case K_ACK:
    case K_SILENCE_CREATE:
    case K_SILENCE_LIST:
    case K_SILENCE_DELETE:
    case K_TOKEN_CREATE:
    case K_TOKEN_LIST:
    case K_TOKEN_DELETE:
    case K_AUDIT:
    case K_OPENAPI:
    case K_REWRITE_AOF:
        return;
    }
}

static const char *error_for(int status)
{
    switch (status) {
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 409:
        return "not_firing"; /* the one 409 of the matrix: K_ACK on a county on target */
    }
    return "?";
}

static void run_cell(struct report *rep, int ri, int c, int t)
{
    const struct row *row = &matrix[ri];
    int want = row->expect[t][c];
    int want_status = want == H200 ? 200 : want == H202 ? 202 : want;
    char path[256], what[400], newid[32] = "", newnid[NIDLEN + 1] = "";
    build_path(row, t, path, sizeof path);
    snprintf(what, sizeof what, "%s %s as %s (target %s)", row->method, path, callers[c].label,
             row->kind == K_COVERAGE ? "-"
             : t == 0                ? "611002/G1"
                                     : "611021/G2");

    char *body = NULL;
    switch (row->kind) {
    case K_REGISTER:
        snprintf(newid, sizeof newid, "N%d-%d-%d", ri, c, t);
        snprintf(newnid, sizeof newnid, "%s", h_natid(100 + c * NTARGETS + t));
        body = register_body(newid, county[t], newnid, "13700000000");
        break;
    case K_STATUS:
        body = strdup("{\"status\":\"employed\",\"reason\":\"authorization matrix\"}");
        break;
    case K_CONTACT:
        body = dump(json_pack("{s:s, s:s, s:s}", "graduate_id", gid[t], "service",
                              "career_guidance", "channel", "phone"));
        break;
    case K_VOID:
        body = strdup("{\"reason\":\"authorization matrix\"}");
        break;
    case K_PATCH:
        body = strdup("{\"school\":\"商洛学院\"}");
        break;
    case K_TRANSFER:
        body = dump(json_pack("{s:s}", "county", county[1 - t]));
        break;
    case K_TOKEN_CREATE:
        snprintf(newid, sizeof newid, "T%d-%d-%d", ri, c, t);
        body = dump(
            json_pack("{s:s, s:s, s:s}", "name", newid, "role", "counselor", "county", county[t]));
        newid[0] = '\0';
        break;
    case K_ERASE:
    case K_TOKEN_LIST:
    case K_TOKEN_DELETE:
    case K_AUDIT:
    case K_OPENAPI:
    case K_REWRITE_AOF:
    case K_LOOKUP:
    case K_GET:
    case K_CONTACTS:
    case K_CONTACT_GET:
    case K_CASELOADS:
    case K_COVERAGE:
    case K_COUNTY_COVERAGE:
    case K_QUEUE:
    case K_HISTORY:
    case K_ACTIVITY:
    case K_ALERTS:
    case K_ACK:
    case K_SILENCE_DELETE:
        break;
    case K_SILENCE_LIST:
        /* One silence in each county, to see which the caller is shown. */
        make_silence(county[0]);
        make_silence(county[1]);
        break;
    case K_SILENCE_CREATE:
        body = strdup(silence_body(county[t]));
        break;
    }

    struct snap before, after;
    if (row->write)
        snap_take(&before);
    struct http_resp *r = h_http(srv, row->method, path, callers[c].token, body, NULL);
    free(body);
    if (!r) {
        note(rep, "%s: no response", what);
        return;
    }
    if (want == H202 && r->status == 409 && strcmp(error_code(r), "rewrite_in_progress") == 0) {
        /* The previous cell's rewrite is still running: allowed, refused alike. */
    } else if (r->status != want_status) {
        note(rep, "%s: expected %d, got %d: %.200s", what, want_status, r->status, r->body);
    } else if (want_status >= 400) {
        if (strcmp(error_code(r), error_for(want_status)) != 0)
            note(rep, "%s: expected error code %s, got %.200s", what, error_for(want_status),
                 r->body);
    } else {
        check_success_body(rep, what, row, want, c, t, r, newid, newnid);
    }
    /* The raw national ID never appears in any response. */
    for (int k = 0; k < NTARGETS; k++)
        if (strstr(r->body, nid[k]))
            note(rep, "%s: raw national ID of %s in the body", what, gid[k]);
    if (newnid[0] && strstr(r->body, newnid))
        note(rep, "%s: raw national ID of the new graduate in the body", what);
    int got = r->status;
    h_resp_free(r);

    if (!row->write)
        return;
    snap_take(&after);
    if (got >= 400 || want_status >= 400) {
        /* Denied (or unexpectedly failed): nothing changed. */
        if (!snap_equal(&before, &after))
            note(rep,
                 "%s: denied write changed state: registered %lld/%lld -> %lld/%lld, served "
                 "%lld/%lld -> %lld/%lld, contacts %lld/%lld -> %lld/%lld, status %s/%s -> %s/%s",
                 what, before.reg[0], before.reg[1], after.reg[0], after.reg[1], before.served[0],
                 before.served[1], after.served[0], after.served[1], before.contacts[0],
                 before.contacts[1], after.contacts[0], after.contacts[1], before.status[0],
                 before.status[1], after.status[0], after.status[1]);
        if (newid[0] && admin_get_status(newid) != 404)
            note(rep, "%s: denied registration left graduate %s behind", what, newid);
        return;
    }
    check_write_effect(rep, what, row, t, &before, &after, newid);
}

/* ---- fixtures ---- */

static void start_server(bool anonymous_read, const char *name)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    if (anonymous_read)
        json_object_set_new(cfg, "anonymous_read", json_true());
    srv = h_start(h_write_config(cfg, name), NULL, NULL, true);
    json_decref(cfg);
}

static void setup(void)
{
    start_server(false, "auth");
}

static void setup_anon(void)
{
    start_server(true, "auth-anon");
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

/* ---- tests ---- */

START_TEST(test_matrix_row)
{
    const struct row *row = &matrix[_i];
    make_fixture();
    static struct report rep;
    memset(&rep, 0, sizeof rep);
    for (int t = 0; t < NTARGETS; t++)
        for (int c = 0; c < NCALLERS; c++)
            run_cell(&rep, _i, c, t);
    ck_assert_msg(rep.n == 0, "%s %s: %d cell(s) wrong:\n%s", row->method, row->route, rep.n,
                  rep.text);
}
END_TEST

/* Every /api/v1 route of the server's route table (api_routes[], the table
 * the router serves) has exactly one row in the matrix, and every row a route. */
START_TEST(test_route_table_covered)
{
    int seen[NROWS];
    memset(seen, 0, sizeof seen);
    int routes = 0;
    for (size_t k = 0; k < api_nroutes; k++) {
        const struct route *rt = &api_routes[k];
        if (strncmp(rt->path, "/api/v1", 7) != 0)
            continue;
        routes++;
        const char *method = http_method_name(rt->method);
        bool found = false;
        for (int i = 0; i < NROWS; i++)
            if (strcmp(matrix[i].method, method) == 0 && strcmp(matrix[i].route, rt->path) == 0) {
                seen[i]++;
                found = true;
            }
        ck_assert_msg(found,
                      "route %s %s of src/api/routes.c has no row in the authorization matrix "
                      "of %s: add one",
                      method, rt->path, __FILE__);
    }
    for (int i = 0; i < NROWS; i++)
        ck_assert_msg(seen[i] == 1, "matrix row %s %s matches %d routes of src/api/routes.c",
                      matrix[i].method, matrix[i].route, seen[i]);
    ck_assert_int_eq(routes, NROWS);
}
END_TEST

START_TEST(test_pii_masked_for_leaders_and_never_raw)
{
    make_fixture();
    char masked[NIDLEN + 1];
    mask_nid(nid[0], masked);
    /* A graduate not yet served, to be in the queue. */
    char nid3[NIDLEN + 1];
    snprintf(nid3, sizeof nid3, "%s", h_natid(3));
    register_full(T_ADMIN, "G3", "611002", nid3, "13800000003");
    char masked3[NIDLEN + 1];
    mask_nid(nid3, masked3);

    struct {
        const char *token;
        bool masked;
        const char *phone1, *phone3;
    } who[] = {
        {T_ADMIN, false, "13800000000", "13800000003"},
        {T_C611002, false, "13800000000", "13800000003"},
        {T_L611002, true, "138****0000", "138****0003"},
        {T_LALL, true, "138****0000", "138****0003"},
    };
    char lookup[96];
    snprintf(lookup, sizeof lookup, "/api/v1/graduates?national_id=%s", nid[0]);
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        struct http_resp *r = h_http(srv, "GET", "/api/v1/graduates/G1", who[i].token, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        ck_assert_str_eq(jstr(r->json, "phone"), who[i].phone1);
        ck_assert_str_eq(jstr(r->json, "national_id"), masked);
        ck_assert_ptr_null(strstr(r->body, nid[0]));
        h_resp_free(r);

        r = h_http(srv, "GET", lookup, who[i].token, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        json_t *g = json_array_get(json_object_get(r->json, "graduates"), 0);
        ck_assert_str_eq(jstr(g, "id"), "G1");
        ck_assert_str_eq(jstr(g, "phone"), who[i].phone1);
        ck_assert_str_eq(jstr(g, "national_id"), masked);
        ck_assert_ptr_null(strstr(r->body, nid[0]));
        h_resp_free(r);

        r = h_http(srv, "GET", "/api/v1/counties/611002/queue", who[i].token, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        json_t *list = json_object_get(r->json, "graduates");
        ck_assert_int_eq(json_array_size(list), 1);
        ck_assert_str_eq(jstr(json_array_get(list, 0), "id"), "G3");
        ck_assert_str_eq(jstr(json_array_get(list, 0), "phone"), who[i].phone3);
        ck_assert_ptr_null(strstr(r->body, nid3));
        if (who[i].masked)
            ck_assert_ptr_null(strstr(r->body, "13800000003"));
        h_resp_free(r);

        r = h_http(srv, "GET", "/api/v1/graduates/G1/contacts", who[i].token, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        ck_assert_ptr_null(strstr(r->body, nid[0]));
        if (who[i].masked)
            ck_assert_ptr_null(strstr(r->body, "13800000000"));
        h_resp_free(r);
    }

    /* The registration answer is masked too, for its (full-PII) writer. */
    char nid4[NIDLEN + 1], masked4[NIDLEN + 1];
    snprintf(nid4, sizeof nid4, "%s", h_natid(4));
    mask_nid(nid4, masked4);
    char *body = register_body("G4", "611002", nid4, "13800000004");
    struct http_resp *r = h_http(srv, "POST", "/api/v1/graduates", T_C611002, body, NULL);
    free(body);
    ck_assert_int_eq(r->status, 201);
    ck_assert_str_eq(jstr(r->json, "national_id"), masked4);
    ck_assert_str_eq(jstr(r->json, "phone"), "13800000004");
    ck_assert_ptr_null(strstr(r->body, nid4));
    h_resp_free(r);

    /* A status change answers the graduate with the national ID masked. */
    r = h_http(srv, "POST", "/api/v1/graduates/G3/status", T_C611002, "{\"status\":\"employed\"}",
               NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(jstr(r->json, "national_id"), masked3);
    ck_assert_ptr_null(strstr(r->body, nid3));
    h_resp_free(r);
}
END_TEST

static void expect_counties(const char *token, const char *const *codes, size_t n)
{
    struct http_resp *r = h_http(srv, "GET", "/api/v1/coverage", token, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "coverage: %s", r ? r->body : "none");
    json_t *list = json_object_get(r->json, "counties");
    ck_assert_msg(json_array_size(list) == n, "expected %zu counties, got %s", n, r->body);
    long long reg = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        ck_assert_str_eq(jstr(e, "code"), codes[i]);
        reg += json_integer_value(json_object_get(e, "registered"));
    }
    /* The total covers the caller's scope only. */
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(r->json, "total"), "registered")), reg);
    h_resp_free(r);
}

START_TEST(test_coverage_list_is_scoped)
{
    make_fixture();
    static const char *const all[] = {"611002", "611021", "611022", "611023",
                                      "611024", "611025", "611026", "shangdan-park"};
    static const char *const c002[] = {"611002"};
    static const char *const c021[] = {"611021"};
    expect_counties(T_C611002, c002, 1);
    expect_counties(T_C611021, c021, 1);
    expect_counties(T_L611002, c002, 1);
    expect_counties(T_LALL, all, 8);
    expect_counties(T_ADMIN, all, 8);
    expect_counties(T_VIEWER, all, 8);
}
END_TEST

START_TEST(test_anonymous_read_is_a_viewer)
{
    make_fixture();
    struct snap before, after;
    snap_take(&before);
    struct http_resp *r = h_http(srv, "GET", "/api/v1/coverage", NULL, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "counties")), 8);
    h_resp_free(r);
    r = h_http(srv, "GET", "/api/v1/counties/611002/coverage", NULL, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(jstr(r->json, "code"), "611002");
    h_resp_free(r);

    char lookup[96];
    snprintf(lookup, sizeof lookup, "/api/v1/graduates?national_id=%s", nid[0]);
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/queue", NULL, NULL, NULL), 403,
             "forbidden");
    h_expect(h_http(srv, "GET", "/api/v1/graduates/G1", NULL, NULL, NULL), 403, "forbidden");
    h_expect(h_http(srv, "GET", lookup, NULL, NULL, NULL), 403, "forbidden");
    h_expect(h_http(srv, "GET", "/api/v1/graduates/G1/contacts", NULL, NULL, NULL), 403,
             "forbidden");
    char *body = register_body("A1", "611002", h_natid(50), "13700000000");
    h_expect(h_http(srv, "POST", "/api/v1/graduates", NULL, body, NULL), 403, "forbidden");
    free(body);
    h_expect(
        h_http(srv, "POST", "/api/v1/graduates/G1/status", NULL, "{\"status\":\"employed\"}", NULL),
        403, "forbidden");
    h_expect(h_http(srv, "POST", "/api/v1/contacts", NULL,
                    "{\"graduate_id\":\"G1\",\"service\":\"training\"}", NULL),
             403, "forbidden");
    snap_take(&after);
    ck_assert(snap_equal(&before, &after));
    ck_assert_int_eq(admin_get_status("A1"), 404);

    /* A token that is present but unknown (or not Bearer) is still refused. */
    h_expect(h_http(srv, "GET", "/api/v1/coverage", "no-such-token", NULL, NULL), 401,
             "unauthorized");
    h_expect(h_http(srv, "GET", "/api/v1/counties/611002/coverage", "no-such-token", NULL, NULL),
             401, "unauthorized");
    const char *basic[] = {"Authorization: Basic YWRtaW46YWRtaW4=", NULL};
    h_expect(h_http(srv, "GET", "/api/v1/coverage", NULL, NULL, basic), 401, "unauthorized");
    /* Real tokens keep their roles. */
    h_expect(h_http(srv, "GET", "/api/v1/graduates/G1", T_ADMIN, NULL, NULL), 200, NULL);
    h_expect(h_http(srv, "GET", "/api/v1/graduates/G1", T_VIEWER, NULL, NULL), 403, "forbidden");
}
END_TEST

START_TEST(test_unknown_token_is_401)
{
    make_fixture();
    const char *bad[] = {"no-such-token", "admin-token-000", "admin-token-00011"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_expect(h_http(srv, "GET", "/api/v1/coverage", bad[i], NULL, NULL), 401, "unauthorized");
        h_expect(h_http(srv, "GET", "/api/v1/graduates/G1", bad[i], NULL, NULL), 401,
                 "unauthorized");
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");

    TCase *guard = tcase_create("route_table");
    tcase_add_test(guard, test_route_table_covered);
    suite_add_tcase(s, guard);

    TCase *tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_matrix_row, 0, NROWS);
    tcase_add_test(tc, test_pii_masked_for_leaders_and_never_raw);
    tcase_add_test(tc, test_coverage_list_is_scoped);
    tcase_add_test(tc, test_unknown_token_is_401);
    suite_add_tcase(s, tc);

    TCase *anon = tcase_create("anonymous_read");
    tcase_add_checked_fixture(anon, setup_anon, teardown);
    tcase_set_timeout(anon, 60);
    tcase_add_test(anon, test_anonymous_read_is_a_viewer);
    suite_add_tcase(s, anon);

    return h_run_suite(s);
}
