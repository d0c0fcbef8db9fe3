/* Unit tests of natid: GB 11643 identity numbers (check character, birth date,
 * shape) and masking. Check characters are computed here from the ISO 7064
 * MOD 11-2 definition, independently of natid_check_char(). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/domain/natid.h"

/* "Today" for every test: 2026-06-01, as days since 1970-01-01. */
#define TODAY_DAYS 20605L

/* ISO 7064 MOD 11-2: with the check character at position 1 and digit a_i at
 * position i (counted from the right), sum(a_i * 2^(i-1)) mod 11 == 1. So the
 * check value is (12 - sum of the 17 data digits weighted 2^(i-1)) mod 11, and
 * 10 is written X. Weights come from doubling mod 11, not from a table. */
static char iso7064_check(const char *first17)
{
    int weight = 2; /* 2^1: the rightmost data digit is at position 2 */
    int sum = 0;
    for (int i = 16; i >= 0; i--) {
        sum = (sum + (first17[i] - '0') * weight) % 11;
        weight = weight * 2 % 11;
    }
    int c = (12 - sum) % 11;
    return c == 10 ? 'X' : (char)('0' + c);
}

/* Builds region (6) + birth (8) + sequence (3) + the correct check character. */
static void make_id(const char *region, const char *birth, const char *seq, char out[NATID_LEN + 1])
{
    memcpy(out, region, 6);
    memcpy(out + 6, birth, 8);
    memcpy(out + 14, seq, 3);
    out[17] = iso7064_check(out);
    out[18] = '\0';
}

static enum natid_err validate(const char *s, char *norm)
{
    return natid_validate(s, strlen(s), TODAY_DAYS, norm);
}

START_TEST(test_reference_check_char_of_known_id_is_x)
{
    ck_assert_int_eq(iso7064_check("11010519491231002"), 'X');
}
END_TEST

START_TEST(test_known_real_format_id_is_valid)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("11010519491231002X", norm), NATID_OK);
    ck_assert_str_eq(norm, "11010519491231002X");
}
END_TEST

START_TEST(test_ids_with_computed_check_chars_are_valid)
{
    static const char *const births[] = {"19900101", "19991231", "20000229",
                                         "20040615", "19560730", "20260601"};
    static const char *const seqs[] = {"000", "123", "457", "999"};
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    for (size_t b = 0; b < sizeof births / sizeof *births; b++)
        for (size_t q = 0; q < sizeof seqs / sizeof *seqs; q++) {
            make_id("611002", births[b], seqs[q], id);
            ck_assert_msg(validate(id, norm) == NATID_OK, "%s rejected", id);
            ck_assert_str_eq(norm, id);
        }
}
END_TEST

START_TEST(test_check_char_function_matches_iso7064_definition)
{
    char id[NATID_LEN + 1];
    for (int seq = 0; seq < 1000; seq += 7) {
        char s[4];
        s[0] = (char)('0' + seq / 100);
        s[1] = (char)('0' + seq / 10 % 10);
        s[2] = (char)('0' + seq % 10);
        s[3] = '\0';
        make_id("611021", "19980317", s, id);
        ck_assert_int_eq(natid_check_char(id), id[17]);
    }
}
END_TEST

START_TEST(test_wrong_check_char_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19990501", "123", id); /* check char X */
    ck_assert_int_eq(id[17], 'X');
    id[17] = '0';
    ck_assert_int_eq(validate(id, norm), NATID_BAD_CHECKSUM);
}
END_TEST

START_TEST(test_changed_digit_with_old_check_char_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19990501", "123", id);
    id[16] = '4'; /* sequence 124, check char still that of 123 */
    ck_assert_int_eq(validate(id, norm), NATID_BAD_CHECKSUM);
}
END_TEST

START_TEST(test_spec_example_id_has_wrong_checksum)
{
    /* SPEC §6's sample "61100219990101123X": its real check character is 2. */
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(iso7064_check("61100219990101123"), '2');
    ck_assert_int_eq(validate("61100219990101123X", norm), NATID_BAD_CHECKSUM);
}
END_TEST

START_TEST(test_lowercase_x_is_accepted_and_normalised)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("11010519491231002x", norm), NATID_OK);
    ck_assert_str_eq(norm, "11010519491231002X");
}
END_TEST

START_TEST(test_other_letter_as_check_char_is_rejected)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("11010519491231002Y", norm), NATID_BAD_CHARS);
}
END_TEST

START_TEST(test_feb_30_birth_date_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19990230", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_feb_29_of_leap_year_is_accepted)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19960229", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_OK);
}
END_TEST

START_TEST(test_feb_29_of_1900_is_rejected)
{
    /* 1900 is divisible by 100 and not by 400: not a leap year. */
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19000229", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_month_13_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19991301", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_month_00_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19990001", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_day_00_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19990100", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_april_31_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19990431", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_birth_year_1899_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "18991231", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_birth_on_1900_01_01_is_accepted)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "19000101", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_OK);
}
END_TEST

START_TEST(test_birth_date_after_today_is_rejected)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "20260602", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_BAD_BIRTH_DATE);
}
END_TEST

START_TEST(test_birth_date_today_is_accepted)
{
    char id[NATID_LEN + 1], norm[NATID_LEN + 1];
    make_id("611002", "20260601", "123", id);
    ck_assert_int_eq(validate(id, norm), NATID_OK);
}
END_TEST

START_TEST(test_17_characters_is_bad_length)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("11010519491231002", norm), NATID_BAD_LENGTH);
}
END_TEST

START_TEST(test_19_characters_is_bad_length)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("11010519491231002X0", norm), NATID_BAD_LENGTH);
}
END_TEST

START_TEST(test_empty_is_bad_length)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("", norm), NATID_BAD_LENGTH);
}
END_TEST

START_TEST(test_15_digit_first_generation_id_is_bad_length)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("110105491231002", norm), NATID_BAD_LENGTH);
}
END_TEST

START_TEST(test_letter_among_first_17_is_rejected)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("1101051949123100AX", norm), NATID_BAD_CHARS);
}
END_TEST

START_TEST(test_x_before_last_position_is_rejected)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("1101051949123100X2", norm), NATID_BAD_CHARS);
}
END_TEST

START_TEST(test_space_inside_is_rejected)
{
    char norm[NATID_LEN + 1];
    ck_assert_int_eq(validate("110105 9491231002X", norm), NATID_BAD_CHARS);
}
END_TEST

START_TEST(test_embedded_nul_is_rejected)
{
    char id[] = "11010519491231002X", norm[NATID_LEN + 1];
    id[11] = '\0';
    ck_assert_int_eq(natid_validate(id, NATID_LEN, TODAY_DAYS, norm), NATID_BAD_CHARS);
}
END_TEST

START_TEST(test_mask_keeps_region_and_last_four)
{
    char out[NATID_LEN + 1];
    natid_mask("61100219990501123X", out);
    ck_assert_str_eq(out, "611002********123X");
}
END_TEST

START_TEST(test_mask_of_validated_lowercase_id_shows_upper_x)
{
    char norm[NATID_LEN + 1], out[NATID_LEN + 1];
    ck_assert_int_eq(validate("61100219990501123x", norm), NATID_OK);
    natid_mask(norm, out);
    ck_assert_str_eq(out, "611002********123X");
}
END_TEST

START_TEST(test_checksum_error_message_matches_spec)
{
    ck_assert_str_eq(natid_strerror(NATID_BAD_CHECKSUM), "checksum does not match");
}
END_TEST

static Suite *natid_suite(void)
{
    Suite *s = suite_create("natid");
    TCase *tc = tcase_create("checksum");
    tcase_add_test(tc, test_reference_check_char_of_known_id_is_x);
    tcase_add_test(tc, test_known_real_format_id_is_valid);
    tcase_add_test(tc, test_ids_with_computed_check_chars_are_valid);
    tcase_add_test(tc, test_check_char_function_matches_iso7064_definition);
    tcase_add_test(tc, test_wrong_check_char_is_rejected);
    tcase_add_test(tc, test_changed_digit_with_old_check_char_is_rejected);
    tcase_add_test(tc, test_spec_example_id_has_wrong_checksum);
    tcase_add_test(tc, test_lowercase_x_is_accepted_and_normalised);
    tcase_add_test(tc, test_other_letter_as_check_char_is_rejected);
    tcase_add_test(tc, test_checksum_error_message_matches_spec);
    suite_add_tcase(s, tc);

    tc = tcase_create("birth_date");
    tcase_add_test(tc, test_feb_30_birth_date_is_rejected);
    tcase_add_test(tc, test_feb_29_of_leap_year_is_accepted);
    tcase_add_test(tc, test_feb_29_of_1900_is_rejected);
    tcase_add_test(tc, test_month_13_is_rejected);
    tcase_add_test(tc, test_month_00_is_rejected);
    tcase_add_test(tc, test_day_00_is_rejected);
    tcase_add_test(tc, test_april_31_is_rejected);
    tcase_add_test(tc, test_birth_year_1899_is_rejected);
    tcase_add_test(tc, test_birth_on_1900_01_01_is_accepted);
    tcase_add_test(tc, test_birth_date_after_today_is_rejected);
    tcase_add_test(tc, test_birth_date_today_is_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("shape");
    tcase_add_test(tc, test_17_characters_is_bad_length);
    tcase_add_test(tc, test_19_characters_is_bad_length);
    tcase_add_test(tc, test_empty_is_bad_length);
    tcase_add_test(tc, test_15_digit_first_generation_id_is_bad_length);
    tcase_add_test(tc, test_letter_among_first_17_is_rejected);
    tcase_add_test(tc, test_x_before_last_position_is_rejected);
    tcase_add_test(tc, test_space_inside_is_rejected);
    tcase_add_test(tc, test_embedded_nul_is_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("mask");
    tcase_add_test(tc, test_mask_keeps_region_and_last_four);
    tcase_add_test(tc, test_mask_of_validated_lowercase_id_shows_upper_x);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(natid_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
