/* The import's CSV reading: RFC 4180 records (quotes, doubled quotes, CRLF,
 * newlines in quotes), the BOM, UTF-8 validity and GB18030 by iconv. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/cli/csv.h"

/* Reads every record of text into "a|b|c\n" lines (fields joined by '|'). */
static void records(const char *text, char *out, size_t n)
{
    struct csv_reader r;
    struct csv_record rec = {0};
    char err[128];
    size_t used = 0;
    out[0] = '\0';
    csv_reader_init(&r, text, strlen(text));
    int got;
    while ((got = csv_next(&r, &rec, err, sizeof err)) == 1) {
        for (size_t i = 0; i < rec.nfields; i++)
            used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "|" : "", rec.fields[i]);
        used += (size_t)snprintf(out + used, n - used, "\n");
    }
    ck_assert_int_eq(got, 0);
    csv_record_free(&rec);
}

START_TEST(test_quoted_fields_commas_newlines_doubled_quotes)
{
    char out[512];
    records("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n,,\n", out, sizeof out);
    ck_assert_str_eq(out, "a|b|c\nx, y|say \"hi\"|two\r\nlines\n||\n");
}
END_TEST

START_TEST(test_last_record_without_newline_and_bare_cr)
{
    char out[256];
    records("a,b\rc,d", out, sizeof out);
    ck_assert_str_eq(out, "a|b\nc|d\n");
}
END_TEST

START_TEST(test_record_numbers_count_records_not_lines)
{
    struct csv_reader r;
    struct csv_record rec = {0};
    char err[128];
    const char *t = "h\n\"1\n2\"\nz\n";
    csv_reader_init(&r, t, strlen(t));
    ck_assert_int_eq(csv_next(&r, &rec, err, sizeof err), 1);
    ck_assert_int_eq(csv_next(&r, &rec, err, sizeof err), 1);
    ck_assert_int_eq(csv_next(&r, &rec, err, sizeof err), 1);
    ck_assert_str_eq(rec.fields[0], "z");
    ck_assert_uint_eq(r.record, 3);
    csv_record_free(&rec);
}
END_TEST

START_TEST(test_open_quote_is_an_error)
{
    struct csv_reader r;
    struct csv_record rec = {0};
    char err[128];
    const char *t = "a,\"b\n";
    csv_reader_init(&r, t, strlen(t));
    ck_assert_int_eq(csv_next(&r, &rec, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not closed"));
    csv_record_free(&rec);
}
END_TEST

START_TEST(test_utf8_bom_stripped)
{
    size_t n;
    enum csv_encoding found;
    char err[128];
    char *t = csv_decode("\xef\xbb\xbfid,name", 10, CSV_ENC_AUTO, &n, &found, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "id,name");
    ck_assert_int_eq(found, CSV_ENC_UTF8);
    free(t);
}
END_TEST

START_TEST(test_gb18030_detected_and_converted)
{
    /* "张三" in GB18030: D5 C5 C8 FD (invalid as UTF-8). */
    size_t n;
    enum csv_encoding found;
    char err[128];
    char *t = csv_decode("\xd5\xc5\xc8\xfd,1", 6, CSV_ENC_AUTO, &n, &found, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "张三,1");
    ck_assert_int_eq(found, CSV_ENC_GB18030);
    free(t);
    /* Forced UTF-8: refused, without quoting the bytes. */
    ck_assert_ptr_null(
        csv_decode("\xd5\xc5\xc8\xfd", 4, CSV_ENC_UTF8, &n, &found, err, sizeof err));
    /* Neither encoding: refused with the offset. */
    ck_assert_ptr_null(csv_decode("ab\x81", 3, CSV_ENC_AUTO, &n, &found, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "offset"));
}
END_TEST

START_TEST(test_utf8_validity)
{
    ck_assert(csv_utf8_valid("张三 abc", strlen("张三 abc")));
    ck_assert(!csv_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    ck_assert(!csv_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
    ck_assert(!csv_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    ck_assert(!csv_utf8_valid("\xe5\xbc", 2));         /* cut short */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, test_quoted_fields_commas_newlines_doubled_quotes);
    tcase_add_test(tc, test_last_record_without_newline_and_bare_cr);
    tcase_add_test(tc, test_record_numbers_count_records_not_lines);
    tcase_add_test(tc, test_open_quote_is_an_error);
    tcase_add_test(tc, test_utf8_bom_stripped);
    tcase_add_test(tc, test_gb18030_detected_and_converted);
    tcase_add_test(tc, test_utf8_validity);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
