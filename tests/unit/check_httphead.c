/* Unit tests of httphead: the strict request-head check that runs before
 * evhttp parses a head, and the stand-in head a refused request is replaced
 * with. Every head here is complete (ends with its empty line). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/http/httphead.h"

#define BODY_MAX 65536

static enum head_verdict check(const char *head, struct head_info *info)
{
    return head_check(head, strlen(head), BODY_MAX, info);
}

/* For heads that contain NUL bytes: explicit length. */
static enum head_verdict check_n(const char *head, size_t len, struct head_info *info)
{
    return head_check(head, len, BODY_MAX, info);
}

START_TEST(test_plain_get_is_ok)
{
    struct head_info i;
    ck_assert_int_eq(check("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &i), HEAD_OK);
    ck_assert_str_eq(i.method, "GET");
    ck_assert_int_eq(i.minor, 1);
    ck_assert_int_eq(i.content_length, -1);
    ck_assert(!i.chunked);
    ck_assert(i.host);
}
END_TEST

START_TEST(test_bare_lf_lines_and_http10_are_ok)
{
    struct head_info i;
    ck_assert_int_eq(check("POST /a HTTP/1.0\nContent-Length: 2\n\n", &i), HEAD_OK);
    ck_assert_str_eq(i.method, "POST");
    ck_assert_int_eq(i.minor, 0);
    ck_assert_int_eq(i.content_length, 2);
}
END_TEST

START_TEST(test_content_length_with_whitespace_is_ok)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.1\r\ncontent-length: \t 17 \r\n\r\n", &i), HEAD_OK);
    ck_assert_int_eq(i.content_length, 17);
}
END_TEST

/* Chunked request bodies are refused with 411 (a Content-Length is
 * required), in any case of the coding's name. */
START_TEST(test_chunked_body_needs_a_length)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &i),
                     HEAD_CHUNKED);
    ck_assert(i.chunked);
    ck_assert_int_eq(head_reject_of(HEAD_CHUNKED)->status, 411);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &i),
                     HEAD_CHUNKED);
}
END_TEST

/* RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding; any is faulty framing. */
START_TEST(test_transfer_encoding_on_http10_is_refused)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &i),
                     HEAD_TE_HTTP10);
    ck_assert_int_eq(check("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", &i),
                     HEAD_TE_HTTP10);
    ck_assert_int_eq(head_reject_of(HEAD_TE_HTTP10)->status, 400);
}
END_TEST

/* Expect: one "100-continue" on HTTP/1.1 is noted with its line (the guard
 * cuts it out and answers it itself); anything else is 417; HTTP/1.0
 * expectations are ignored. */
START_TEST(test_expect_100_continue_and_others)
{
    struct head_info i;
    static const char head[] = "POST /api/v1/contacts?x=1 HTTP/1.1\r\nHost: x\r\n"
                               "Authorization:  Bearer abc \r\nExpect: 100-Continue\r\n"
                               "X-Real-IP: 10.0.0.9\r\nContent-Length: 2\r\n\r\n";
    ck_assert_int_eq(check(head, &i), HEAD_OK);
    ck_assert(i.expect_continue);
    ck_assert_int_eq(strncmp(head + i.expect_off, "Expect: 100-Continue\r\n", i.expect_len), 0);
    ck_assert_uint_eq(i.expect_len, strlen("Expect: 100-Continue\r\n"));
    ck_assert_int_eq(strncmp(head + i.target_off, "/api/v1/contacts?x=1", i.target_len), 0);
    ck_assert_uint_eq(i.target_len, strlen("/api/v1/contacts?x=1"));
    ck_assert_int_eq(strncmp(head + i.auth_off, "Bearer abc", i.auth_len), 0);
    ck_assert_uint_eq(i.auth_len, strlen("Bearer abc"));
    ck_assert_int_eq(strncmp(head + i.real_ip_off, "10.0.0.9", i.real_ip_len), 0);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: 100-continue"
                           "\r\n\r\n",
                           &i),
                     HEAD_BAD_EXPECT);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nExpect: something\r\n\r\n", &i), HEAD_BAD_EXPECT);
    ck_assert_int_eq(head_reject_of(HEAD_BAD_EXPECT)->status, 417);
    ck_assert_int_eq(check("POST / HTTP/1.0\r\nExpect: something\r\n\r\n", &i), HEAD_OK);
    ck_assert(!i.expect_continue);
}
END_TEST

START_TEST(test_authorization_at_most_once)
{
    struct head_info i;
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nAuthorization: Bearer a\r\n\r\n", &i), HEAD_OK);
    ck_assert(i.auth);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nAuthorization: Bearer a\r\n"
                           "authorization: Bearer b\r\n\r\n",
                           &i),
                     HEAD_DUP_AUTH);
    ck_assert_int_eq(
        check("GET / HTTP/1.1\r\nAuthorization:\r\nAuthorization: Bearer b\r\n\r\n", &i),
        HEAD_DUP_AUTH);
    ck_assert_int_eq(head_reject_of(HEAD_DUP_AUTH)->status, 400);
}
END_TEST

START_TEST(test_nul_in_value_name_or_line_is_refused_keeping_the_method)
{
    static const char value[] = "POST / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
    static const char name[] = "PUT / HTTP/1.1\r\nX\0A: b\r\n\r\n";
    static const char line[] = "GET /a\0b HTTP/1.1\r\n\r\n";
    static const char first[] = "GET / HTTP/1.1\r\n\0X: y\r\n\r\n";
    struct head_info i;
    ck_assert_int_eq(check_n(value, sizeof value - 1, &i), HEAD_NUL);
    ck_assert_str_eq(i.method, "POST");
    ck_assert_int_eq(check_n(name, sizeof name - 1, &i), HEAD_NUL);
    ck_assert_str_eq(i.method, "PUT");
    ck_assert_int_eq(check_n(line, sizeof line - 1, &i), HEAD_NUL);
    ck_assert_int_eq(check_n(first, sizeof first - 1, &i), HEAD_NUL);
}
END_TEST

START_TEST(test_malformed_request_lines)
{
    struct head_info i;
    ck_assert_int_eq(check("GET /\r\n\r\n", &i), HEAD_BAD_LINE); /* HTTP/0.9 */
    ck_assert_int_eq(check("GET  / HTTP/1.1\r\n\r\n", &i), HEAD_BAD_LINE);
    ck_assert_int_eq(check("GET / HTTP/2.0\r\n\r\n", &i), HEAD_BAD_LINE);
    ck_assert_int_eq(check("GET / HTTP/1.1 \r\n\r\n", &i), HEAD_BAD_LINE);
    ck_assert_int_eq(check("GET /a\tb HTTP/1.1\r\n\r\n", &i), HEAD_BAD_LINE);
    ck_assert_int_eq(check("G(T / HTTP/1.1\r\n\r\n", &i), HEAD_BAD_LINE);
    ck_assert_int_eq(check("GET / HTTP/1.1\rX\r\n\r\n", &i), HEAD_BAD_LINE); /* bare CR */
}
END_TEST

START_TEST(test_unknown_methods_are_not_implemented)
{
    struct head_info i;
    ck_assert_int_eq(check("TRACE / HTTP/1.1\r\n\r\n", &i), HEAD_BAD_METHOD);
    ck_assert_int_eq(check("PROPFIND / HTTP/1.1\r\n\r\n", &i), HEAD_BAD_METHOD);
    ck_assert_int_eq(check("get / HTTP/1.1\r\n\r\n", &i), HEAD_BAD_METHOD);
    ck_assert_str_eq(i.method, "GET"); /* the stand-in's method */
    ck_assert_int_eq(head_reject_of(HEAD_BAD_METHOD)->status, 501);
}
END_TEST

START_TEST(test_malformed_fields)
{
    struct head_info i;
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &i), HEAD_BAD_FIELD);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nHost : x\r\n\r\n", &i), HEAD_BAD_FIELD);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", &i), HEAD_BAD_FIELD);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\n: x\r\n\r\n", &i), HEAD_BAD_FIELD);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", &i), HEAD_BAD_FIELD);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nX-A: a\x01\r\n\r\n", &i), HEAD_BAD_FIELD);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", &i), HEAD_BAD_FIELD);
    /* Tabs and bytes above 0x7f (obs-text) are allowed in values. */
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nX-A: a\tb \xe5\x95\x86\r\n\r\n", &i), HEAD_OK);
}
END_TEST

START_TEST(test_duplicate_content_length_same_or_different)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", &i),
                     HEAD_DUP_LENGTH);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 5\r\n\r\n", &i),
                     HEAD_DUP_LENGTH);
}
END_TEST

START_TEST(test_content_length_must_be_plain_digits)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n", &i), HEAD_BAD_LENGTH);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &i), HEAD_BAD_LENGTH);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", &i), HEAD_BAD_LENGTH);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", &i), HEAD_BAD_LENGTH);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n", &i),
                     HEAD_BAD_LENGTH);
}
END_TEST

START_TEST(test_transfer_encoding_with_content_length_in_either_order)
{
    struct head_info i;
    ck_assert_int_eq(
        check("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", &i),
        HEAD_LENGTH_AND_TE);
    ck_assert_int_eq(
        check("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", &i),
        HEAD_LENGTH_AND_TE);
}
END_TEST

START_TEST(test_transfer_encodings_other_than_chunked)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &i), HEAD_BAD_TE);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &i),
                     HEAD_BAD_TE);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           &i),
                     HEAD_BAD_TE);
}
END_TEST

START_TEST(test_duplicate_host)
{
    struct head_info i;
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", &i), HEAD_DUP_HOST);
}
END_TEST

START_TEST(test_body_limit_is_inclusive)
{
    struct head_info i;
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n", &i), HEAD_OK);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", &i),
                     HEAD_BODY_TOO_LARGE);
    ck_assert_int_eq(i.content_length, 65537);
    ck_assert_int_eq(head_reject_of(HEAD_BODY_TOO_LARGE)->status, 413);
}
END_TEST

START_TEST(test_connection_close_and_keep_alive)
{
    struct head_info i;
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n", &i), HEAD_OK);
    ck_assert(i.close);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\n\r\n", &i), HEAD_OK);
    ck_assert(!i.close);
    ck_assert_int_eq(check("GET / HTTP/1.0\r\n\r\n", &i), HEAD_OK);
    ck_assert(i.close); /* HTTP/1.0 closes by default */
    ck_assert_int_eq(check("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &i), HEAD_OK);
    ck_assert(!i.close);
    ck_assert_int_eq(
        check("POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 70000\r\n\r\n", &i),
        HEAD_BODY_TOO_LARGE);
    ck_assert(i.close);
}
END_TEST

START_TEST(test_every_refusal_has_an_answer)
{
    ck_assert_ptr_null(head_reject_of(HEAD_OK));
    ck_assert_ptr_null(head_reject_of(HEAD_NVERDICTS));
    for (int v = HEAD_NUL; v < HEAD_NVERDICTS; v++) {
        const struct head_reject *r = head_reject_of((enum head_verdict)v);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_ge(r->status, 400);
        ck_assert(r->code && r->message && *r->message);
    }
}
END_TEST

START_TEST(test_stand_in_closes_unless_kept_alive)
{
    struct head_info i = {.method = "POST", .minor = 0, .content_length = 99};
    char buf[128];
    size_t n = head_stand_in(&i, false, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_str_eq(buf, "POST / HTTP/1.0\r\nHost: -\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n");
    n = head_stand_in(&i, true, buf, sizeof buf);
    ck_assert_str_eq(buf, "POST / HTTP/1.0\r\nHost: -\r\nContent-Length: 0\r\n\r\n");
    struct head_info ok;
    ck_assert_int_eq(head_check(buf, n, BODY_MAX, &ok), HEAD_OK); /* passes its own check */
    ck_assert_uint_eq(head_stand_in(&i, true, buf, 10), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httphead");
    TCase *tc = tcase_create("httphead");
    tcase_add_test(tc, test_plain_get_is_ok);
    tcase_add_test(tc, test_bare_lf_lines_and_http10_are_ok);
    tcase_add_test(tc, test_content_length_with_whitespace_is_ok);
    tcase_add_test(tc, test_chunked_body_needs_a_length);
    tcase_add_test(tc, test_transfer_encoding_on_http10_is_refused);
    tcase_add_test(tc, test_authorization_at_most_once);
    tcase_add_test(tc, test_expect_100_continue_and_others);
    tcase_add_test(tc, test_nul_in_value_name_or_line_is_refused_keeping_the_method);
    tcase_add_test(tc, test_malformed_request_lines);
    tcase_add_test(tc, test_unknown_methods_are_not_implemented);
    tcase_add_test(tc, test_malformed_fields);
    tcase_add_test(tc, test_duplicate_content_length_same_or_different);
    tcase_add_test(tc, test_content_length_must_be_plain_digits);
    tcase_add_test(tc, test_transfer_encoding_with_content_length_in_either_order);
    tcase_add_test(tc, test_transfer_encodings_other_than_chunked);
    tcase_add_test(tc, test_duplicate_host);
    tcase_add_test(tc, test_body_limit_is_inclusive);
    tcase_add_test(tc, test_connection_close_and_keep_alive);
    tcase_add_test(tc, test_every_refusal_has_an_answer);
    tcase_add_test(tc, test_stand_in_closes_unless_kept_alive);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
