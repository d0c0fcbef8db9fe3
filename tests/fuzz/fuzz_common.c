/* Helpers shared by the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "gradcover/domain/config.h"
#include "gradcover/domain/validate.h"

void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, file, line);
    abort();
}

const char *fuzz_input_name;

void fuzz_expect(bool accepted)
{
    if (!fuzz_input_name)
        return;
    const char *base = strrchr(fuzz_input_name, '/');
    base = base ? base + 1 : fuzz_input_name;
    if (strncmp(base, "any", 3) == 0 || strncmp(base, "crash-", 6) == 0)
        return;
    bool want = strncmp(base, "valid", 5) == 0;
    if (accepted != want) {
        fprintf(stderr, "%s: %s, but its name says it should be %s\n", fuzz_input_name,
                accepted ? "accepted" : "refused", want ? "accepted" : "refused");
        abort();
    }
}

void fuzz_verdict(const char *what)
{
    if (getenv("GC_FUZZ_VERBOSE"))
        fprintf(stderr, "  -> %s\n", what);
}

void fuzz_verdict_fields(json_t *fields)
{
    if (!getenv("GC_FUZZ_VERBOSE"))
        return;
    char *text = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    fuzz_verdict(text ? text : "?");
    free(text);
}

const struct config *fuzz_config(void)
{
    /* The digests are placeholders, replaced below by those of the secrets. */
    static const char text[] =
        "{\"pii_key_file\": \"/nonexistent\", \"utc_offset_minutes\": 480,"
        " \"counties\": [{\"code\": \"611002\", \"name\": \"商州区\"},"
        "                {\"code\": \"611021\", \"name\": \"洛南县\", \"threshold\": 0.92},"
        "                {\"code\": \"shangdan-park\", \"name\": \"商丹园区\"}],"
        " \"tokens\": [{\"name\": \"admin\", \"role\": \"admin\", \"sha256\":"
        "   \"9db1a5d7d1fb4a4f32a1d86e4f1bdb8ea4c8b4d7e7f4df2f0d0b6e8b4c0d7f6a\"},"
        "  {\"name\": \"zhang\", \"role\": \"counselor\", \"county\": \"611002\", \"sha256\":"
        "   \"0000000000000000000000000000000000000000000000000000000000000000\"}]}";
    static struct config *cfg; /* lives for the process */
    if (!cfg) {
        char err[256];
        char *t = strdup(text);
        FUZZ_CHECK(t != NULL);
        cfg = config_parse(t, strlen(t), err, sizeof err);
        free(t);
        if (!cfg)
            fprintf(stderr, "fuzz config: %s\n", err);
        FUZZ_CHECK(cfg != NULL);
        /* Put the real digests in: computed, not pasted, so they cannot drift. */
        SHA256((const unsigned char *)FUZZ_ADMIN_SECRET, strlen(FUZZ_ADMIN_SECRET),
               cfg->tokens[0].sha256);
        SHA256((const unsigned char *)FUZZ_COUNSELOR_SECRET, strlen(FUZZ_COUNSELOR_SECRET),
               cfg->tokens[1].sha256);
    }
    return cfg;
}

char *fuzz_cstring(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t n = nul ? (size_t)(nul - data) : size;
    char *s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* GB 11643 with birth dates up to max_date (YYYYMMDD). */
static bool natid_ok_until(const char *s, size_t len, long max_date)
{
    if (len != 18)
        return false;
    for (int i = 0; i < 17; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (!(s[17] >= '0' && s[17] <= '9') && s[17] != 'X' && s[17] != 'x')
        return false;
    int y = 0, m = 0, d = 0;
    for (int i = 6; i < 10; i++)
        y = y * 10 + (s[i] - '0');
    m = (s[10] - '0') * 10 + (s[11] - '0');
    d = (s[12] - '0') * 10 + (s[13] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    if (d > mdays[m - 1] + (m == 2 && leap(y)))
        return false;
    long date = (long)y * 10000 + m * 100 + d;
    if (date > max_date)
        return false;
    /* The check character sits at position 1 and digit i (from the right) at
     * position i with weight 2^(i-1) mod 11; the weighted sum must be 1 mod 11. */
    int sum = 0, weight = 2;
    for (int i = 16; i >= 0; i--) {
        sum = (sum + (s[i] - '0') * weight) % 11;
        weight = weight * 2 % 11;
    }
    int check = (s[17] == 'X' || s[17] == 'x') ? 10 : s[17] - '0';
    return (sum + check) % 11 == 1;
}

bool ref_natid_ok(const char *s, size_t len)
{
    return natid_ok_until(s, len, (long)FUZZ_TODAY_Y * 10000 + FUZZ_TODAY_M * 100 + FUZZ_TODAY_D);
}

bool ref_personal_id(const char *s)
{
    if (natid_ok_until(s, strlen(s), 99991231L))
        return true;
    /* 1[3-9] and nine more digits, after an optional 86 or +86. */
    if (strncmp(s, "+86", 3) == 0)
        s += 3;
    else if (strncmp(s, "86", 2) == 0)
        s += 2;
    if (strlen(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
        return false;
    for (int i = 2; i < 11; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool ref_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool ref_text_ok(const char *s, size_t max_chars)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return false;
        if ((*p & 0xC0) != 0x80)
            chars++;
    }
    return chars >= 1 && chars <= max_chars;
}

void fuzz_check_parse_error(const char *msg)
{
    if (strcmp(msg, "the body must be a JSON object") == 0)
        return;
    int line = 0, col = 0;
    FUZZ_CHECK(sscanf(msg, "malformed JSON near line %d, column %d", &line, &col) == 2);
    char again[96];
    snprintf(again, sizeof again, "malformed JSON near line %d, column %d", line, col);
    FUZZ_CHECK(strcmp(again, msg) == 0);
}

/* The validators' messages. A new message must be added here: the list is
 * the review that no message is built from the request's bytes. */
static const char *const messages[] = {
    "is required",
    "must be a string",
    "must not contain NUL characters",
    "must not contain control characters",
    "must not be empty",
    "must be an RFC 3339 time with offset, e.g. 2026-03-05T10:30:00+08:00",
    "must not be in the future",
    "must match [A-Za-z0-9._-]{1,64}",
    "must not be a national ID",
    "must not be a phone number",
    "must be 5..20 digits, '-' or a leading '+'",
    "must be a year between 1950 and next year",
    "unknown county",
    "must be 18 characters",
    "must be 17 digits followed by a digit or X",
    "birth date is not a valid past date",
    "checksum does not match",
    "must be one of seeking, employed, not_seeking, withdrawn",
    "must be one of policy_briefing, career_guidance, job_referral, training, internship, "
    "entrepreneurship, small_loan, tax_relief, social_insurance_subsidy, other",
    "must be one of in_person, phone, online, sms, home_visit",
    "must be one of reached, unreachable, declined",
    "must not be removed",
    "must be an array of distinct names from zero_employment_family, hardship, disabled, "
    "low_income",
    NULL,
};

static bool message_known(const char *m)
{
    for (const char *const *k = messages; *k; k++)
        if (strcmp(*k, m) == 0)
            return true;
    unsigned n = 0;
    int used = 0;
    return sscanf(m, "must be at most %u characters%n", &n, &used) == 1 && used > 0 &&
           m[used] == '\0';
}

static bool in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, k) == 0)
            return true;
    return false;
}

/* The one message for a body's unknown members, written here from the
 * count and the list, independently of verr.c. */
static void unknown_message(size_t n, const char *const *known, char *out, size_t len)
{
    size_t used = (size_t)snprintf(out, len, "%zu unknown field%s; allowed:", n, n > 1 ? "s" : "");
    for (size_t i = 0; known[i]; i++)
        used += (size_t)snprintf(out + used, len - used, "%s %s", i ? "," : "", known[i]);
}

void fuzz_check_field_errors(json_t *body, json_t *fields, const char *const *known)
{
    FUZZ_CHECK(json_is_object(fields) && json_object_size(fields) > 0);
    size_t unknown = 0;
    const char *k;
    json_t *msg;
    json_object_foreach(body, k, msg)
    {
        unknown += !in_list(k, known);
    }
    /* Unknown members are counted under "_unknown", never named. */
    json_t *u = json_object_get(fields, "_unknown");
    FUZZ_CHECK((u != NULL) == (unknown > 0));
    if (u) {
        char want[512];
        unknown_message(unknown, known, want, sizeof want);
        FUZZ_CHECK(json_is_string(u) && strcmp(json_string_value(u), want) == 0);
    }
    json_object_foreach(fields, k, msg)
    {
        if (msg == u)
            continue;
        FUZZ_CHECK(json_is_string(msg));
        FUZZ_CHECK(message_known(json_string_value(msg)));
        FUZZ_CHECK(in_list(k, known));
    }
}

bool fuzz_only_known_keys(json_t *body, const char *const *known)
{
    const char *k;
    json_t *val;
    json_object_foreach(body, k, val)
    {
        if (!in_list(k, known))
            return false;
    }
    return true;
}

json_t *fuzz_roundtrip(json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    FUZZ_CHECK(text != NULL);
    char msg[96];
    json_t *again = validate_body(text, strlen(text), msg, sizeof msg);
    free(text);
    FUZZ_CHECK(again != NULL);
    return again;
}
