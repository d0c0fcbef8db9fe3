/* Unit tests of the JSON writer: every text it writes for a jansson value is
 * the one json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(p)) writes, byte for
 * byte (escapes, UTF-8, integers at their limits, reals, nesting, key order),
 * and it fails where json_dumps fails (invalid UTF-8). */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/jsonw.h"

/* Both writers on v (an object or array, taken); returns whether they agree. */
static void same_as_jansson(json_t *v, int precision)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(precision));
    char *got = jw_dumps(v, precision);
    if (want)
        ck_assert_msg(got && strcmp(want, got) == 0, "jansson %s\n   ours %s", want,
                      got ? got : "(null)");
    else
        ck_assert_msg(!got, "jansson failed, ours wrote %s", got);
    free(want);
    free(got);
    json_decref(v);
}

START_TEST(test_empty_containers)
{
    same_as_jansson(json_object(), 0);
    same_as_jansson(json_array(), 0);
    same_as_jansson(json_pack("{s:{}, s:[], s:[{}, []]}", "a", "b", "c"), 0);
}
END_TEST

START_TEST(test_keys_keep_insertion_order)
{
    json_t *o = json_object();
    const char *keys[] = {"zeta", "alpha", "mid", "b", "a"};
    for (int i = 0; i < 5; i++)
        json_object_set_new(o, keys[i], json_integer(i));
    same_as_jansson(o, 0);
}
END_TEST

START_TEST(test_escapes)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string("quote \" backslash \\ slash /"));
    json_array_append_new(a, json_string("\b\f\n\r\t"));
    json_array_append_new(a, json_string("\x01\x02\x1f\x7f"));
    json_array_append_new(a, json_stringn("nul\0inside", 10));
    json_array_append_new(a, json_string(""));
    json_t *o = json_object();
    json_object_set_new(o, "key \"with\" \n escapes", json_integer(1));
    json_array_append_new(a, o);
    same_as_jansson(a, 0);
}
END_TEST

START_TEST(test_utf8_passes_through)
{
    same_as_jansson(json_pack("{s:s, s:s, s:s}", "name", "商州区", "note",
                              "推荐商洛某电子厂技术员岗位", "emoji", "\xF0\x9F\x98\x80 ok"),
                    0);
}
END_TEST

START_TEST(test_invalid_utf8_fails_as_in_jansson)
{
    static const char *const bad[] = {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                      "\xE4\xB8", "\x80",         "ab\xFF"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *a = json_array();
        json_array_append_new(a, json_stringn_nocheck(bad[i], strlen(bad[i])));
        same_as_jansson(a, 0);
    }
}
END_TEST

START_TEST(test_integers)
{
    json_t *a = json_array();
    long long v[] = {0, 1, -1, 9, 10, -10, 2026, 1773000000000LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        json_array_append_new(a, json_integer(v[i]));
    same_as_jansson(a, 0);
}
END_TEST

START_TEST(test_reals_at_every_precision)
{
    double v[] = {0.0,  -0.0,   1.0,         0.9,   0.9083,    1.0 / 3, 2.0 / 3, 100.0, 1e20,
                  1e-5, 1.5e-7, 123456789.0, 1e300, -2.5e-300, 0.0001,  5e-324,  1e21,  1e15};
    for (int p = 0; p <= 17; p++) {
        json_t *a = json_array();
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            json_array_append_new(a, json_real(v[i]));
        same_as_jansson(a, p);
    }
}
END_TEST

START_TEST(test_every_coverage_rate)
{
    /* The rates the API shows: served/registered truncated to 4 decimals. */
    json_t *a = json_array();
    for (int bp = 0; bp <= 10000; bp++)
        json_array_append_new(a, json_real(bp / 10000.0));
    same_as_jansson(a, 6);
}
END_TEST

START_TEST(test_bp_is_the_real_at_precision_6)
{
    for (unsigned long long bp = 0; bp <= 200000; bp++) {
        struct jw a, b;
        jw_init(&a);
        jw_init(&b);
        jw_bp(&a, bp);
        jw_real(&b, (double)bp / 10000, 6);
        ck_assert_msg(strcmp(jw_text(&a, NULL), jw_text(&b, NULL)) == 0, "bp %llu: %s vs %s", bp,
                      jw_text(&a, NULL), jw_text(&b, NULL));
        jw_free(&a);
        jw_free(&b);
    }
}
END_TEST

START_TEST(test_literals_and_nesting)
{
    same_as_jansson(json_pack("{s:b, s:b, s:n, s:{s:[i, {s:s}, [[]]]}}", "t", 1, "f", 0, "n",
                              "deep", "list", 1, "x", "y"),
                    0);
}
END_TEST

START_TEST(test_random_strings_agree)
{
    srand(12345);
    for (int round = 0; round < 2000; round++) {
        char s[24];
        size_t n = (size_t)(rand() % (int)sizeof s);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(rand() % 4 == 0 ? rand() % 256 : 0x20 + rand() % 0x60);
        json_t *a = json_array();
        json_array_append_new(a, json_stringn_nocheck(s, n));
        same_as_jansson(a, 0);
    }
}
END_TEST

START_TEST(test_writer_builds_what_json_pack_would)
{
    struct jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_key(&w, "id");
    jw_str(&w, "Qx3v9TbLm2Hc7WdK");
    jw_key(&w, "first_in_period");
    jw_bool(&w, true);
    jw_key(&w, "coverage");
    jw_obj(&w);
    jw_key(&w, "registered");
    jw_int(&w, 100);
    jw_key(&w, "rate");
    jw_real(&w, 0.91, 6);
    jw_key(&w, "none");
    jw_str(&w, NULL);
    jw_obj_end(&w);
    jw_key(&w, "list");
    jw_arr(&w);
    jw_int(&w, 1);
    jw_arr(&w);
    jw_arr_end(&w);
    jw_obj(&w);
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    json_t *same = json_pack("{s:s, s:b, s:{s:i, s:f, s:n}, s:[i, [], {}]}", "id",
                             "Qx3v9TbLm2Hc7WdK", "first_in_period", 1, "coverage", "registered",
                             100, "rate", 0.91, "none", "list", 1);
    char *want = json_dumps(same, JSON_COMPACT | JSON_REAL_PRECISION(6));
    size_t len = 0;
    const char *got = jw_text(&w, &len);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(len, strlen(want));
    free(want);
    json_decref(same);
    jw_free(&w);
}
END_TEST

START_TEST(test_large_texts_grow_past_the_inline_buffer)
{
    json_t *a = json_array();
    for (int i = 0; i < 20000; i++)
        json_array_append_new(a, json_pack("{s:i, s:s}", "i", i, "name", "第1县"));
    same_as_jansson(a, 0);
}
END_TEST

START_TEST(test_take_moves_the_text_out)
{
    struct jw w;
    jw_init(&w);
    jw_arr(&w);
    jw_str(&w, "x");
    jw_arr_end(&w);
    char *t = jw_take(&w);
    ck_assert_str_eq(t, "[\"x\"]");
    free(t);
    size_t len = 1;
    ck_assert_str_eq(jw_text(&w, &len), "");
    ck_assert_uint_eq(len, 0);
    jw_free(&w);
}
END_TEST

static Suite *jsonw_suite(void)
{
    Suite *s = suite_create("jsonw");
    TCase *tc = tcase_create("same_as_jansson");
    tcase_add_test(tc, test_empty_containers);
    tcase_add_test(tc, test_keys_keep_insertion_order);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_utf8_passes_through);
    tcase_add_test(tc, test_invalid_utf8_fails_as_in_jansson);
    tcase_add_test(tc, test_integers);
    tcase_add_test(tc, test_reals_at_every_precision);
    tcase_add_test(tc, test_every_coverage_rate);
    tcase_add_test(tc, test_bp_is_the_real_at_precision_6);
    tcase_add_test(tc, test_literals_and_nesting);
    tcase_add_test(tc, test_random_strings_agree);
    tcase_add_test(tc, test_large_texts_grow_past_the_inline_buffer);
    suite_add_tcase(s, tc);
    tc = tcase_create("writer");
    tcase_add_test(tc, test_writer_builds_what_json_pack_would);
    tcase_add_test(tc, test_take_moves_the_text_out);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jsonw_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
