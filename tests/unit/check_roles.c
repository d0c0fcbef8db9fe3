/* Unit tests of the small shared rules: roles (names, the county rule),
 * services and channels (lists and their texts), hex and the clocks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/core/clock.h"
#include "gradcover/core/hex.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/services.h"

START_TEST(test_role_names_parse_back)
{
    for (int r = 0; r < ROLE_COUNT; r++) {
        enum role back;
        ck_assert(role_parse(role_name((enum role)r), &back));
        ck_assert_int_eq(back, r);
    }
    enum role x;
    ck_assert(!role_parse("Admin", &x));
    ck_assert(!role_parse("", &x));
    ck_assert_str_eq(role_name(ROLE_LEADER), "leader");
}
END_TEST

START_TEST(test_only_counselors_and_leaders_have_a_county)
{
    ck_assert_ptr_null(role_county_problem(ROLE_COUNSELOR, true));
    ck_assert_ptr_null(role_county_problem(ROLE_LEADER, true));
    ck_assert_ptr_null(role_county_problem(ROLE_LEADER, false));
    ck_assert_ptr_null(role_county_problem(ROLE_ADMIN, false));
    ck_assert_ptr_null(role_county_problem(ROLE_VIEWER, false));
    ck_assert_str_eq(role_county_problem(ROLE_ADMIN, true),
                     "only counselor and leader tokens have a county");
    ck_assert_str_eq(role_county_problem(ROLE_VIEWER, true),
                     "only counselor and leader tokens have a county");
    ck_assert_str_eq(role_county_problem(ROLE_COUNSELOR, false), "a counselor token needs a county");
}
END_TEST

/* The texts used in messages list exactly the lists, in order. */
static void assert_text_is_list(const char *text, const char *const *list, int n)
{
    char joined[512] = "";
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(joined, ", ");
        strcat(joined, list[i]);
    }
    ck_assert_str_eq(text, joined);
}

START_TEST(test_service_and_channel_texts_match_their_lists)
{
    assert_text_is_list(gc_services_text, gc_services, GC_NSERVICES);
    assert_text_is_list(gc_channels_text, gc_channels, GC_NCHANNELS);
}
END_TEST

/* Stored contacts hold these indexes: the order is part of the data format. */
START_TEST(test_service_and_channel_indexes_are_stable)
{
    ck_assert_int_eq(service_index("policy_briefing"), 0);
    ck_assert_int_eq(service_index("job_referral"), 2);
    ck_assert_int_eq(service_index("other"), 9);
    ck_assert_int_eq(service_index("Other"), -1);
    ck_assert_int_eq(channel_index("in_person"), 0);
    ck_assert_int_eq(channel_index("home_visit"), 4);
    ck_assert_int_eq(channel_index(""), -1);
    ck_assert_int_eq(channel_index(GC_DEFAULT_CHANNEL), 0);
}
END_TEST

START_TEST(test_hex_round_trip_and_refusals)
{
    const unsigned char b[4] = {0x00, 0x9f, 0xa0, 0xff};
    char t[9];
    hex_encode(b, 4, t);
    ck_assert_str_eq(t, "009fa0ff");
    unsigned char back[4];
    ck_assert(hex_decode("009FA0ff", back, 4));
    ck_assert_mem_eq(back, b, 4);
    ck_assert(!hex_decode("009fa0f", back, 4));
    ck_assert(!hex_decode("009fa0fff", back, 4));
    ck_assert(!hex_decode("009fa0fg", back, 4));
}
END_TEST

START_TEST(test_clock_started_at_an_instant_keeps_ticking_from_it)
{
    struct clock c = {0};
    clock_start_at(&c, 1798732790000LL); /* 2026-12-31T23:59:50+08:00 */
    int64_t t0 = clock_now_ms(&c);
    ck_assert(t0 >= 1798732790000LL && t0 < 1798732791000LL);
    int64_t m0 = clock_mono_ms();
    while (clock_mono_ms() - m0 < 20)
        ;
    ck_assert(clock_now_ms(&c) >= t0 + 18); /* whole ms on both sides */
}
END_TEST

static Suite *roles_suite(void)
{
    Suite *s = suite_create("roles");
    TCase *tc = tcase_create("roles");
    tcase_add_test(tc, test_role_names_parse_back);
    tcase_add_test(tc, test_only_counselors_and_leaders_have_a_county);
    suite_add_tcase(s, tc);
    tc = tcase_create("services");
    tcase_add_test(tc, test_service_and_channel_texts_match_their_lists);
    tcase_add_test(tc, test_service_and_channel_indexes_are_stable);
    suite_add_tcase(s, tc);
    tc = tcase_create("core");
    tcase_add_test(tc, test_hex_round_trip_and_refusals);
    tcase_add_test(tc, test_clock_started_at_an_instant_keeps_ticking_from_it);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(roles_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
