/* Unit tests of the log: whole key=value lines on stderr; while batching, info
 * lines wait for log_flush() (one kick per batch), warnings go out at once
 * after what waits, and nothing is lost or reordered; a repeated event is
 * written once, then once per interval with a count. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradcover/core/log.h"

static char path[] = "/tmp/gc-check-log-XXXXXX";
static int saved_stderr = -1;
static int kicks;

static void kick(void *arg)
{
    (void)arg;
    kicks++;
}

/* stderr into a fresh temporary file for the test. */
static void setup(void)
{
    strcpy(path, "/tmp/gc-check-log-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    kicks = 0;
    log_min_level = LOG_INFO;
}

static void teardown(void)
{
    log_batch_end();
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    unlink(path);
}

/* What has reached the file so far (static buffer). */
static const char *written(void)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

START_TEST(test_lines_are_written_at_once_without_batching)
{
    log_info("event=one n=%d", 1);
    ck_assert_ptr_nonnull(strstr(written(), "level=info event=one n=1\n"));
}
END_TEST

START_TEST(test_batched_info_lines_wait_for_the_flush)
{
    log_batch_begin(kick, NULL);
    log_info("event=a");
    log_info("event=b");
    ck_assert_str_eq(written(), "");
    ck_assert_int_eq(kicks, 1);
    log_flush();
    const char *w = written();
    ck_assert_int_eq(count(w, "\n"), 2);
    ck_assert_ptr_nonnull(strstr(w, "event=a\n"));
    ck_assert(strstr(w, "event=a") < strstr(w, "event=b"));
    /* A new batch kicks again. */
    log_info("event=c");
    ck_assert_int_eq(kicks, 2);
}
END_TEST

START_TEST(test_a_warning_goes_out_at_once_after_what_waits)
{
    log_batch_begin(kick, NULL);
    log_info("event=first");
    log_warn("event=second");
    const char *w = written();
    ck_assert_ptr_nonnull(strstr(w, "event=first"));
    ck_assert_ptr_nonnull(strstr(w, "event=second"));
    ck_assert(strstr(w, "event=first") < strstr(w, "event=second"));
}
END_TEST

START_TEST(test_a_full_batch_is_written_whole_lines_only)
{
    log_batch_begin(kick, NULL);
    for (int i = 0; i < 200; i++)
        log_info("event=fill i=%03d pad=%0100d", i, 0);
    log_batch_end();
    const char *w = written();
    ck_assert_int_eq(count(w, "\n"), 200);
    ck_assert_int_eq(count(w, "ts="), 200);
    for (int i = 0; i < 200; i++) {
        char want[32];
        snprintf(want, sizeof want, "i=%03d ", i);
        ck_assert_msg(strstr(w, want), "line %d lost", i);
    }
    /* Off again: written at once. */
    log_info("event=after");
    ck_assert_ptr_nonnull(strstr(written(), "event=after"));
}
END_TEST

START_TEST(test_a_repeated_event_is_written_first_then_once_per_interval_with_a_count)
{
    struct log_every e = {0};
    unsigned long skipped = 99;
    ck_assert(log_every_due(&e, 1000, 10000, &skipped));
    ck_assert_uint_eq(skipped, 0);
    for (int i = 1; i <= 500; i++)
        ck_assert(!log_every_due(&e, 1000 + i * 10, 10000, &skipped));
    /* 10 s after the last line: written, with the 500 left out. */
    ck_assert(!log_every_due(&e, 10999, 10000, &skipped));
    ck_assert(log_every_due(&e, 11000, 10000, &skipped));
    ck_assert_uint_eq(skipped, 501);
    /* A long quiet spell: the next one is written at once, none left out. */
    ck_assert(log_every_due(&e, 60000, 10000, &skipped));
    ck_assert_uint_eq(skipped, 0);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lines_are_written_at_once_without_batching);
    tcase_add_test(tc, test_batched_info_lines_wait_for_the_flush);
    tcase_add_test(tc, test_a_warning_goes_out_at_once_after_what_waits);
    tcase_add_test(tc, test_a_full_batch_is_written_whole_lines_only);
    tcase_add_test(tc, test_a_repeated_event_is_written_first_then_once_per_interval_with_a_count);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
