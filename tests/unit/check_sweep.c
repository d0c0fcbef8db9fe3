/* Unit tests of core/sweep: the slice timer's period, paced rounds (each
 * item once per interval, spread evenly; the two ways a round restarts) and
 * unpaced chunks, with the numbers of docs/alerts.md (3,000 counties, 15 s). */
#include <check.h>
#include <stdlib.h>

#include "gradcover/core/sweep.h"

/* ---- the slice timer ---- */

START_TEST(test_tick_is_one_items_turn)
{
    ck_assert_int_eq(sweep_tick_ms(15000, 300, 1, 25, 1000), 50);
    ck_assert_int_eq(sweep_tick_ms(12000, 3000, 16, 62, 1000), 64);
}
END_TEST

START_TEST(test_tick_is_clamped)
{
    /* 3,000 counties every 15 s: 5 ms, raised to 25 (five a slice). */
    ck_assert_int_eq(sweep_tick_ms(15000, 3000, 1, 25, 1000), 25);
    /* A few counties: an idle server sleeps a second at a time. */
    ck_assert_int_eq(sweep_tick_ms(15000, 8, 1, 25, 1000), 1000);
}
END_TEST

START_TEST(test_tick_of_no_items_counts_one)
{
    ck_assert_int_eq(sweep_tick_ms(10000, 0, 1, 50, 1000), 1000);
    ck_assert_int_eq(sweep_tick_ms(600, 0, 1, 50, 1000), 600);
}
END_TEST

/* ---- paced rounds ---- */

/* Ticks every tick_ms from `from` to `to` (exclusive), sending every item
 * due; returns how many were sent, *max_slice the most in one tick. */
static size_t run(struct sweep *s, int64_t from, int64_t to, int64_t tick_ms, size_t *max_slice)
{
    size_t sent = 0;
    *max_slice = 0;
    for (int64_t t = from; t < to; t += tick_ms) {
        if (!sweep_round(s, t))
            continue;
        size_t due = sweep_due(s, t), slice = 0;
        for (; s->next < due; s->next++)
            slice++;
        sent += slice;
        if (slice > *max_slice)
            *max_slice = slice;
    }
    return sent;
}

START_TEST(test_first_round_begins_one_interval_after_start)
{
    struct sweep s;
    sweep_init(&s, 10, 15000, SWEEP_KEEP_PHASE, 1000);
    ck_assert(!sweep_round(&s, 15999));
    ck_assert(sweep_round(&s, 16000));
    ck_assert_uint_eq(s.next, 0);
    ck_assert_uint_eq(sweep_due(&s, 16000), 1);
}
END_TEST

START_TEST(test_3000_counties_over_15_s_go_five_every_25_ms)
{
    struct sweep s;
    sweep_init(&s, 3000, 15000, SWEEP_KEEP_PHASE, 0);
    size_t max_slice;
    /* Ten rounds: every county once per round, never more than 6 at once
     * (a round's last counties go at the tick that ends its interval). */
    size_t sent = run(&s, 15000, 15000 * 11 + 1, 25, &max_slice);
    ck_assert_uint_eq(sent, 3000 * 10);
    ck_assert_uint_le(max_slice, 6);
}
END_TEST

START_TEST(test_item_i_is_due_at_i_over_n_of_the_interval)
{
    struct sweep s;
    sweep_init(&s, 4, 1000, SWEEP_AT_TICK, 0);
    ck_assert(sweep_round(&s, 1000));
    ck_assert_uint_eq(sweep_due(&s, 1000), 1);
    ck_assert_uint_eq(sweep_due(&s, 1249), 1);
    ck_assert_uint_eq(sweep_due(&s, 1250), 2);
    ck_assert_uint_eq(sweep_due(&s, 1750), 4);
    ck_assert_uint_eq(sweep_due(&s, 9000), 4);
}
END_TEST

START_TEST(test_items_not_sent_stay_due)
{
    struct sweep s;
    sweep_init(&s, 4, 1000, SWEEP_AT_TICK, 0);
    ck_assert(sweep_round(&s, 1000));
    /* The caller was busy until 1800: everything due so far goes at once. */
    ck_assert(sweep_round(&s, 1800));
    ck_assert_uint_eq(sweep_due(&s, 1800), 4);
    ck_assert_uint_eq(s.next, 0);
}
END_TEST

START_TEST(test_keep_phase_restarts_on_schedule)
{
    struct sweep s;
    sweep_init(&s, 2, 1000, SWEEP_KEEP_PHASE, 0);
    ck_assert(sweep_round(&s, 1030));
    ck_assert_int_eq(s.round_start, 1000);
    s.next = 2;
    ck_assert(!sweep_round(&s, 1999));
    ck_assert(sweep_round(&s, 2040));
    ck_assert_int_eq(s.round_start, 2000);
    ck_assert_uint_eq(s.next, 0);
}
END_TEST

START_TEST(test_keep_phase_after_a_stall_starts_now)
{
    struct sweep s;
    sweep_init(&s, 2, 1000, SWEEP_KEEP_PHASE, 0);
    ck_assert(sweep_round(&s, 1000));
    s.next = 2;
    /* No tick for 3.5 intervals: one round now, none to catch up. */
    ck_assert(sweep_round(&s, 4500));
    ck_assert_int_eq(s.round_start, 4500);
}
END_TEST

START_TEST(test_at_tick_restarts_at_the_tick)
{
    struct sweep s;
    sweep_init(&s, 2, 1000, SWEEP_AT_TICK, 0);
    ck_assert(sweep_round(&s, 1030));
    ck_assert_int_eq(s.round_start, 1030);
    s.next = 2;
    ck_assert(!sweep_round(&s, 2029));
    ck_assert(sweep_round(&s, 2080));
    ck_assert_int_eq(s.round_start, 2080);
}
END_TEST

START_TEST(test_no_items_nothing_due)
{
    struct sweep s;
    sweep_init(&s, 0, 1000, SWEEP_KEEP_PHASE, 0);
    ck_assert(sweep_round(&s, 1000));
    ck_assert_uint_eq(sweep_due(&s, 1000), 0);
}
END_TEST

/* ---- unpaced ---- */

START_TEST(test_unpaced_waits_for_start)
{
    struct sweep s;
    sweep_init_unpaced(&s, 40);
    ck_assert(sweep_over(&s));
    sweep_start(&s);
    ck_assert(!sweep_over(&s));
}
END_TEST

START_TEST(test_unpaced_goes_in_chunks)
{
    struct sweep s;
    sweep_init_unpaced(&s, 40);
    sweep_start(&s);
    ck_assert_uint_eq(sweep_chunk(&s, 16), 16);
    s.next = 16;
    ck_assert_uint_eq(sweep_chunk(&s, 16), 32);
    s.next = 32;
    ck_assert_uint_eq(sweep_chunk(&s, 16), 40);
    s.next = 40;
    ck_assert(sweep_over(&s));
}
END_TEST

START_TEST(test_again_goes_back_never_forward)
{
    struct sweep s;
    sweep_init_unpaced(&s, 40);
    sweep_start(&s);
    s.next = 32;
    sweep_again(&s, 20);
    ck_assert_uint_eq(s.next, 20);
    sweep_again(&s, 25);
    ck_assert_uint_eq(s.next, 20);
    s.next = 40;
    sweep_again(&s, 39);
    ck_assert(!sweep_over(&s));
}
END_TEST

static Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("tick");
    tcase_add_test(tc, test_tick_is_one_items_turn);
    tcase_add_test(tc, test_tick_is_clamped);
    tcase_add_test(tc, test_tick_of_no_items_counts_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("paced");
    tcase_add_test(tc, test_first_round_begins_one_interval_after_start);
    tcase_add_test(tc, test_3000_counties_over_15_s_go_five_every_25_ms);
    tcase_add_test(tc, test_item_i_is_due_at_i_over_n_of_the_interval);
    tcase_add_test(tc, test_items_not_sent_stay_due);
    tcase_add_test(tc, test_keep_phase_restarts_on_schedule);
    tcase_add_test(tc, test_keep_phase_after_a_stall_starts_now);
    tcase_add_test(tc, test_at_tick_restarts_at_the_tick);
    tcase_add_test(tc, test_no_items_nothing_due);
    suite_add_tcase(s, tc);

    tc = tcase_create("unpaced");
    tcase_add_test(tc, test_unpaced_waits_for_start);
    tcase_add_test(tc, test_unpaced_goes_in_chunks);
    tcase_add_test(tc, test_again_goes_back_never_forward);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sweep_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
