/* Unit tests of acklink: acknowledgement link tokens made and checked (a
 * round trip, every kind of tampering, expiry, the length bound that lets a
 * token be one path segment, and the key derived from the PII key). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradcover/core/pii.h"
#include "gradcover/domain/acklink.h"

/* 2026-05-12T09:14:03+08:00 in Unix ms. */
#define NOW_MS 1778548443000LL

static struct acklink_key key;

static void setup(void)
{
    for (size_t i = 0; i < sizeof key.bytes; i++)
        key.bytes[i] = (unsigned char)(i * 7 + 1);
}

static void make(const char *ep, int64_t expires, char *out)
{
    ck_assert_int_eq(acklink_token(&key, ep, expires, out, ACKLINK_TOKEN_MAX + 1), 0);
}

START_TEST(test_token_round_trip_names_county_episode_and_expiry)
{
    char t[ACKLINK_TOKEN_MAX + 1];
    make("611002-2026-3", NOW_MS + ACKLINK_TTL_MS, t);
    ck_assert_uint_eq(strlen(t), 6 + ACKLINK_TAIL_LEN);
    ck_assert(strncmp(t, "611002", 6) == 0);
    ck_assert_uint_eq(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                      strlen(t));
    struct acklink l;
    ck_assert_int_eq(acklink_check(&key, t, NOW_MS, &l), ACKLINK_VALID);
    ck_assert_str_eq(l.county, "611002");
    ck_assert_str_eq(l.episode, "611002-2026-3");
    ck_assert_int_eq(l.expires_ms, NOW_MS + ACKLINK_TTL_MS);
}
END_TEST

START_TEST(test_county_with_dashes_and_large_sequence)
{
    char t[ACKLINK_TOKEN_MAX + 1];
    make("shangdan-park-2199-16777215", NOW_MS + 1000, t);
    struct acklink l;
    ck_assert_int_eq(acklink_check(&key, t, NOW_MS, &l), ACKLINK_VALID);
    ck_assert_str_eq(l.county, "shangdan-park");
    ck_assert_str_eq(l.episode, "shangdan-park-2199-16777215");
}
END_TEST

START_TEST(test_longest_county_code_makes_a_64_character_token)
{
    const char *county = "abcdefghijklmnopqrstuvwxyz-_0123"; /* 32 characters */
    char ep[80], t[ACKLINK_TOKEN_MAX + 1];
    snprintf(ep, sizeof ep, "%s-2026-1", county);
    make(ep, NOW_MS + 1000, t);
    ck_assert_uint_eq(strlen(t), 64);
    struct acklink l;
    ck_assert_int_eq(acklink_check(&key, t, NOW_MS, &l), ACKLINK_VALID);
    ck_assert_str_eq(l.county, county);
    /* A buffer one byte short is refused, not overrun. */
    char small[64];
    ck_assert_int_eq(acklink_token(&key, ep, NOW_MS + 1000, small, sizeof small), -1);
}
END_TEST

START_TEST(test_every_changed_character_is_refused)
{
    char t[ACKLINK_TOKEN_MAX + 1];
    make("611002-2026-3", NOW_MS + ACKLINK_TTL_MS, t);
    struct acklink l;
    for (size_t i = 0; i < strlen(t); i++) {
        char bad[ACKLINK_TOKEN_MAX + 1];
        strcpy(bad, t);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        ck_assert_msg(acklink_check(&key, bad, NOW_MS, &l) == ACKLINK_INVALID,
                      "character %zu changed and still valid", i);
    }
}
END_TEST

START_TEST(test_another_county_or_episode_cannot_be_spliced_in)
{
    char a[ACKLINK_TOKEN_MAX + 1], b[ACKLINK_TOKEN_MAX + 1], spliced[ACKLINK_TOKEN_MAX + 1];
    make("611002-2026-3", NOW_MS + 1000, a);
    make("611021-2026-3", NOW_MS + 1000, b);
    struct acklink l;
    /* 611002's signature under 611021's name. */
    snprintf(spliced, sizeof spliced, "611021%s", a + 6);
    ck_assert_int_eq(acklink_check(&key, spliced, NOW_MS, &l), ACKLINK_INVALID);
    /* Under a county whose code is a prefix of the signed one. */
    snprintf(spliced, sizeof spliced, "61100%s", a + 6);
    ck_assert_int_eq(acklink_check(&key, spliced, NOW_MS, &l), ACKLINK_INVALID);
    ck_assert_int_eq(acklink_check(&key, b, NOW_MS, &l), ACKLINK_VALID);
}
END_TEST

START_TEST(test_malformed_tokens_are_invalid)
{
    char t[ACKLINK_TOKEN_MAX + 1];
    make("611002-2026-3", NOW_MS + 1000, t);
    struct acklink l;
    const char *bad[] = {"", "611002", "x", t + 6 /* the tail alone */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(acklink_check(&key, bad[i], NOW_MS, &l), ACKLINK_INVALID);
    char longer[2 * ACKLINK_TOKEN_MAX];
    snprintf(longer, sizeof longer, "%s%s", "abcdefghijklmnopqrstuvwxyz0123456789", t + 6);
    ck_assert_int_eq(acklink_check(&key, longer, NOW_MS, &l), ACKLINK_INVALID);
    char dot[ACKLINK_TOKEN_MAX + 1];
    strcpy(dot, t);
    dot[10] = '.';
    ck_assert_int_eq(acklink_check(&key, dot, NOW_MS, &l), ACKLINK_INVALID);
    ck_assert_int_eq(acklink_check(&key, NULL, NOW_MS, &l), ACKLINK_INVALID);
}
END_TEST

START_TEST(test_expired_only_when_genuine)
{
    char t[ACKLINK_TOKEN_MAX + 1];
    make("611002-2026-3", NOW_MS + ACKLINK_TTL_MS, t);
    struct acklink l;
    ck_assert_int_eq(acklink_check(&key, t, NOW_MS + ACKLINK_TTL_MS - 1000, &l), ACKLINK_VALID);
    ck_assert_int_eq(acklink_check(&key, t, NOW_MS + ACKLINK_TTL_MS, &l), ACKLINK_EXPIRED);
    ck_assert_str_eq(l.episode, "611002-2026-3");
    t[7] = t[7] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(acklink_check(&key, t, NOW_MS + 8 * 86400000LL, &l), ACKLINK_INVALID);
}
END_TEST

START_TEST(test_another_key_does_not_verify)
{
    char t[ACKLINK_TOKEN_MAX + 1];
    make("611002-2026-3", NOW_MS + 1000, t);
    struct acklink_key other = key;
    other.bytes[31] ^= 1;
    struct acklink l;
    ck_assert_int_eq(acklink_check(&other, t, NOW_MS, &l), ACKLINK_INVALID);
}
END_TEST

START_TEST(test_bad_episode_ids_make_no_token)
{
    const char *bad[] = {"",
                         "611002",
                         "611002-2026",
                         "-2026-3",
                         "611002-26-3",
                         "611002-2026-0",
                         "611002-2026-03",
                         "611002-2026-16777216",
                         "611002-1999-3",
                         "611002-2256-3",
                         "611002-2026-3x",
                         "6110 2-2026-3",
                         "abcdefghijklmnopqrstuvwxyz0123456-2026-1"};
    char t[ACKLINK_TOKEN_MAX + 1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(acklink_token(&key, bad[i], NOW_MS, t, sizeof t) == -1, "made a token for %s",
                      bad[i]);
    ck_assert_int_eq(acklink_token(&key, NULL, NOW_MS, t, sizeof t), -1);
    ck_assert_int_eq(acklink_token(&key, "611002-2026-3", 0, t, sizeof t), -1);
}
END_TEST

START_TEST(test_url_is_public_url_slash_ack_slash_token_for_seven_days)
{
    char url[ACKLINK_URL_MAX];
    ck_assert_int_eq(
        acklink_url(&key, "https://gc.example.gov.cn/jy", "611002-2026-3", NOW_MS, url, sizeof url),
        0);
    const char *prefix = "https://gc.example.gov.cn/jy/ack/";
    ck_assert(strncmp(url, prefix, strlen(prefix)) == 0);
    struct acklink l;
    ck_assert_int_eq(acklink_check(&key, url + strlen(prefix), NOW_MS, &l), ACKLINK_VALID);
    ck_assert_int_eq(l.expires_ms, NOW_MS + ACKLINK_TTL_MS);
    ck_assert_int_eq(acklink_url(&key, NULL, "611002-2026-3", NOW_MS, url, sizeof url), -1);
    ck_assert_int_eq(acklink_url(&key, "https://gc", "611002-2026-3", NOW_MS, url, 20), -1);
}
END_TEST

START_TEST(test_key_derived_from_the_pii_key_file)
{
    char dir[] = "/tmp/check_acklink.XXXXXX", path[64], err[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pii.key", dir);
    struct pii *p1 = pii_open(path, err, sizeof err); /* creates it */
    struct pii *p2 = pii_open(path, err, sizeof err); /* another server, same file */
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_nonnull(p2);
    struct acklink_key k1, k2;
    acklink_key_derive(p1, &k1);
    acklink_key_derive(p2, &k2);
    ck_assert(memcmp(k1.bytes, k2.bytes, sizeof k1.bytes) == 0);
    /* Not the key itself, nor the national-ID HMAC key's fingerprint. */
    char fp[PII_HMAC_HEX_LEN + 1];
    pii_fingerprint(p1, fp);
    ck_assert(memcmp(k1.bytes, fp, 32) != 0);
    char t[ACKLINK_TOKEN_MAX + 1];
    ck_assert_int_eq(acklink_token(&k1, "611002-2026-3", NOW_MS + 1000, t, sizeof t), 0);
    struct acklink l;
    ck_assert_int_eq(acklink_check(&k2, t, NOW_MS, &l), ACKLINK_VALID);
    pii_free(p1);
    pii_free(p2);
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acklink");
    TCase *tc = tcase_create("acklink");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_token_round_trip_names_county_episode_and_expiry);
    tcase_add_test(tc, test_county_with_dashes_and_large_sequence);
    tcase_add_test(tc, test_longest_county_code_makes_a_64_character_token);
    tcase_add_test(tc, test_every_changed_character_is_refused);
    tcase_add_test(tc, test_another_county_or_episode_cannot_be_spliced_in);
    tcase_add_test(tc, test_malformed_tokens_are_invalid);
    tcase_add_test(tc, test_expired_only_when_genuine);
    tcase_add_test(tc, test_another_key_does_not_verify);
    tcase_add_test(tc, test_bad_episode_ids_make_no_token);
    tcase_add_test(tc, test_url_is_public_url_slash_ack_slash_token_for_seven_days);
    tcase_add_test(tc, test_key_derived_from_the_pii_key_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
