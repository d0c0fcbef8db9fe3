/* The integration tests' answer checker (tests/integration/openapi.c) on the
 * real docs/openapi.json, without a server: recorded answers pass; the same
 * answers fail once the document is changed under them (a status removed, a
 * field's type changed), and so do answers changed against the document;
 * documents the checker could not check fully are refused at load. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "openapi.h"

#define STD_HEAD                                                                                   \
    "X-Request-Id: rec-1\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
#define JSON_HEAD(status) "HTTP/1.1 " status "\r\nContent-Type: application/json; charset=utf-8\r\n"

/* Answers as gradcoverd gave them (bodies from a test run). */
static const char coverage_head[] = JSON_HEAD("200 OK") STD_HEAD;
static const char coverage_body[] =
    "{\"period\":\"2026\",\"generated_at\":\"2026-03-10T10:00:25+08:00\","
    "\"total\":{\"registered\":100,\"served\":87,\"rate\":0.87,\"gap\":3,\"threshold\":0.9},"
    "\"counties\":[{\"code\":\"611002\",\"name\":\"商州区\",\"threshold\":0.9,\"registered\":100,"
    "\"served\":87,\"rate\":0.87,\"gap\":3,\"below_target\":true,\"alert\":\"firing\"},"
    "{\"code\":\"611021\",\"name\":\"洛南县\",\"threshold\":0.92,\"registered\":0,\"served\":0,"
    "\"rate\":null,\"gap\":0,\"below_target\":false}]}\n";
static const char contact_head[] =
    JSON_HEAD("201 Created") STD_HEAD "Idempotent-Replayed: true\r\n";
static const char contact_body[] =
    "{\"id\":\"SL2026-000123~8Yl6mjeNCy\",\"graduate_id\":\"SL2026-000123\",\"county\":\"611002\","
    "\"outcome\":\"reached\",\"period\":\"2026\",\"first_in_period\":true,"
    "\"coverage\":{\"registered\":100,\"served\":91,\"rate\":0.91,\"gap\":0}}\n";
static const char notfound_head[] = JSON_HEAD("404 Not Found") STD_HEAD;
static const char notfound_body[] =
    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such graduate\"}}\n";
static const char method_head[] = JSON_HEAD("405 Method Not Allowed") STD_HEAD "Allow: POST\r\n";
static const char method_body[] =
    "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method not allowed on this "
    "path\"}}\n";
static const char metrics_head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
                                   "charset=utf-8\r\n" STD_HEAD;
static const char metrics_body[] = "# HELP gradcover_redis_connected 1 while connected.\n"
                                   "# TYPE gradcover_redis_connected gauge\n"
                                   "gradcover_redis_connected 1\n";

static json_t *doc_json(void)
{
    const char *path = getenv("GC_OPENAPI");
    ck_assert_msg(path, "GC_OPENAPI unset (run through ctest)");
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    ck_assert_msg(root, "%s: %s", path, je.text);
    return root;
}

static struct oa_doc *load_ok(json_t *root)
{
    char err[1024];
    struct oa_doc *d = oa_load(root, err, sizeof err);
    ck_assert_msg(d, "%s", err);
    return d;
}

/* Checks one answer; returns the checker's message ("" when it passes). */
static const char *check(const struct oa_doc *d, const char *method, const char *target, int status,
                         const char *head, const char *body)
{
    static char err[1200];
    err[0] = '\0';
    struct oa_answer a = {status, head, body, strlen(body)};
    int rc = oa_check(d, method, target, &a, err, sizeof err);
    ck_assert_msg((rc == 0) == (err[0] == '\0'), "rc %d with message \"%s\"", rc, err);
    return err;
}

static void expect_pass(const struct oa_doc *d, const char *method, const char *target, int status,
                        const char *head, const char *body)
{
    const char *err = check(d, method, target, status, head, body);
    ck_assert_msg(!err[0], "%s", err);
}

static void expect_fail(const struct oa_doc *d, const char *method, const char *target, int status,
                        const char *head, const char *body, const char *why)
{
    const char *err = check(d, method, target, status, head, body);
    ck_assert_msg(err[0], "%s %s -> %d passed; expected a failure containing \"%s\"", method,
                  target, status, why);
    ck_assert_msg(strstr(err, why), "expected \"%s\" in: %s", why, err);
}

START_TEST(test_recorded_answers_pass)
{
    json_t *root = doc_json();
    struct oa_doc *d = load_ok(root);
    expect_pass(d, "GET", "/api/v1/coverage?period=2026", 200, coverage_head, coverage_body);
    expect_pass(d, "POST", "/api/v1/contacts", 201, contact_head, contact_body);
    expect_pass(d, "GET", "/api/v1/graduates/G1", 404, notfound_head, notfound_body);
    expect_pass(d, "GET", "/no/such/path", 404, notfound_head, notfound_body);
    expect_pass(d, "DELETE", "/api/v1/contacts", 405, method_head, method_body);
    expect_pass(d, "GET", "/metrics", 200, metrics_head, metrics_body);
    oa_free(d);
    json_decref(root);
}
END_TEST

START_TEST(test_status_removed_from_the_document_fails_its_answers)
{
    json_t *root = doc_json();
    json_t *responses = json_object_get(
        json_object_get(json_object_get(json_object_get(root, "paths"), "/api/v1/graduates/{id}"),
                        "get"),
        "responses");
    ck_assert_int_eq(json_object_del(responses, "404"), 0);
    struct oa_doc *d = load_ok(root);
    expect_fail(d, "GET", "/api/v1/graduates/G1", 404, notfound_head, notfound_body,
                "GET /api/v1/graduates/G1 -> 404: status 404 is not documented");
    /* Other operations keep theirs. */
    expect_pass(d, "GET", "/api/v1/graduates/G1/contacts", 404, notfound_head, notfound_body);
    oa_free(d);
    json_decref(root);
}
END_TEST

START_TEST(test_required_field_type_changed_in_the_document_fails_its_answers)
{
    json_t *root = doc_json();
    json_t *entry = json_object_get(json_object_get(json_object_get(root, "components"), "schemas"),
                                    "CoverageEntry");
    ck_assert(json_object_get(json_object_get(entry, "properties"), "served"));
    json_object_set_new(json_object_get(entry, "properties"), "served",
                        json_pack("{s:s}", "type", "string"));
    struct oa_doc *d = load_ok(root);
    expect_fail(d, "GET", "/api/v1/coverage", 200, coverage_head, coverage_body,
                "body /counties/0/served: expected string, got integer 87");
    oa_free(d);
    json_decref(root);
}
END_TEST

START_TEST(test_answers_that_drift_from_the_document_fail)
{
    json_t *root = doc_json();
    struct oa_doc *d = load_ok(root);
    /* A member the schema does not have. */
    char body[2048];
    snprintf(body, sizeof body, "%.*s,\"extra\":1}\n", (int)strlen(contact_body) - 2, contact_body);
    expect_fail(d, "POST", "/api/v1/contacts", 201, contact_head, body,
                "body (the whole value): member \"extra\" is not allowed");
    /* A required member missing, deep down. */
    expect_fail(d, "POST", "/api/v1/contacts", 201, contact_head,
                "{\"id\":\"G1~x\",\"graduate_id\":\"G1\",\"county\":\"611002\",\"outcome\":"
                "\"reached\",\"period\":\"2026\",\"first_in_period\":true,\"coverage\":"
                "{\"registered\":1,\"served\":1,\"gap\":0}}",
                "body /coverage: the required member \"rate\" is missing");
    /* An error code of another status. */
    expect_fail(d, "GET", "/api/v1/graduates/G1", 404, notfound_head,
                "{\"error\":{\"code\":\"forbidden\",\"message\":\"x\"}}", "/error/code");
    /* A standard header missing. */
    expect_fail(d, "GET", "/api/v1/graduates/G1", 404,
                JSON_HEAD("404 Not Found") "Cache-Control: no-store\r\nX-Content-Type-Options: "
                                           "nosniff\r\n",
                notfound_body, "the required header X-Request-Id is missing");
    expect_fail(d, "DELETE", "/api/v1/contacts", 405, notfound_head, method_body,
                "the required header Allow is missing");
    /* An undocumented media type. */
    expect_fail(d, "GET", "/api/v1/coverage", 200,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" STD_HEAD, coverage_body,
                "Content-Type \"text/plain\" is not documented");
    expect_fail(d, "GET", "/metrics", 200,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n" STD_HEAD,
                metrics_body, "is not documented");
    /* A status the operation does not answer, and a 200 for an unknown path. */
    expect_fail(d, "GET", "/api/v1/coverage", 409, notfound_head, notfound_body,
                "status 409 is not documented for /api/v1/coverage");
    expect_fail(d, "GET", "/nope", 200, coverage_head, coverage_body,
                "status 200 is not documented for an unknown path");
    oa_free(d);
    json_decref(root);
}
END_TEST

/* Returns the load error of root (which must fail). */
static const char *load_error(json_t *root)
{
    static char err[1024];
    struct oa_doc *d = oa_load(root, err, sizeof err);
    ck_assert_msg(!d, "the document loaded");
    return err;
}

START_TEST(test_documents_the_checker_cannot_check_are_refused)
{
    json_t *root = doc_json();
    json_t *schemas = json_object_get(json_object_get(root, "components"), "schemas");
    json_t *count = json_object_get(schemas, "Count");
    json_object_set_new(count, "multipleOf", json_integer(2));
    ck_assert_ptr_nonnull(strstr(load_error(root), "schema keyword \"multipleOf\" is not "
                                                   "implemented"));
    ck_assert_ptr_nonnull(strstr(load_error(root), "#/components/schemas/Count"));
    json_object_del(count, "multipleOf");

    json_t *responses = json_object_get(
        json_object_get(json_object_get(json_object_get(root, "paths"), "/healthz"), "get"),
        "responses");
    json_object_set(responses, "default", json_object_get(responses, "200"));
    ck_assert_ptr_nonnull(strstr(load_error(root), "no \"default\""));
    json_object_del(responses, "default");

    json_object_set_new(count, "$ref", json_string("#/components/schemas/Nothing"));
    ck_assert_ptr_nonnull(strstr(load_error(root), "does not resolve"));
    json_object_del(count, "$ref");

    json_object_set_new(count, "pattern", json_string("(unclosed"));
    ck_assert_ptr_nonnull(strstr(load_error(root), "not a POSIX extended regular expression"));
    json_object_del(count, "pattern");

    json_object_del(root, "x-gradcover-unrouted");
    ck_assert_ptr_nonnull(strstr(load_error(root), "x-gradcover-unrouted"));
    json_decref(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("openapi");
    tcase_add_test(tc, test_recorded_answers_pass);
    tcase_add_test(tc, test_status_removed_from_the_document_fails_its_answers);
    tcase_add_test(tc, test_required_field_type_changed_in_the_document_fails_its_answers);
    tcase_add_test(tc, test_answers_that_drift_from_the_document_fail);
    tcase_add_test(tc, test_documents_the_checker_cannot_check_are_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
