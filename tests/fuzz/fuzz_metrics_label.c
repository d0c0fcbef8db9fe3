/* Prometheus label values (metrics_label()) and the exposition lines around
 * them (metrics_render_http() with the input as a route name): every line
 * parses as text format 0.0.4, no label value holds a raw newline, quote or
 * lone backslash, and unescaping gives back the input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gradcover/core/metrics.h"

/* Unescapes one label value starting after its opening quote; returns the
 * position after the closing quote, or NULL when malformed. */
static const char *label_value(const char *p, char *out, size_t *n)
{
    *n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\n')
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'n')
                out[(*n)++] = '\n';
            else if (*p == '\\' || *p == '"')
                out[(*n)++] = *p;
            else
                return NULL;
        } else {
            out[(*n)++] = *p;
        }
    }
    return *p == '"' ? p + 1 : NULL;
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* One sample line: name{label="value",...} number. Every "route" label must
 * unescape to route. */
static void check_sample(const char *line, const char *route, char *scratch)
{
    const char *p = line;
    FUZZ_CHECK(name_char(*p, true));
    while (name_char(*p, false))
        p++;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            const char *lname = p;
            FUZZ_CHECK(name_char(*p, true));
            while (name_char(*p, false))
                p++;
            size_t lnlen = (size_t)(p - lname);
            FUZZ_CHECK(p[0] == '=' && p[1] == '"');
            size_t n;
            p = label_value(p + 2, scratch, &n);
            FUZZ_CHECK(p != NULL);
            if (lnlen == 5 && memcmp(lname, "route", 5) == 0)
                FUZZ_CHECK(n == strlen(route) && memcmp(scratch, route, n) == 0);
            FUZZ_CHECK(*p == ',' || *p == '}');
            if (*p == ',')
                p++;
        }
        p++;
    }
    FUZZ_CHECK(*p == ' ');
    p++;
    char *end;
    if (strcmp(p, "+Inf") != 0) {
        strtod(p, &end);
        FUZZ_CHECK(end != p && *end == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    size_t slen = strlen(s);
    /* Unescaped label values: the route, or a short code / le value. */
    char *scratch = malloc(slen + 64);
    FUZZ_CHECK(scratch != NULL);

    /* The label alone. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    FUZZ_CHECK(f != NULL);
    fputc('"', f);
    metrics_label(f, s);
    fputc('"', f);
    FUZZ_CHECK(fclose(f) == 0);
    size_t n;
    const char *end = label_value(text + 1, scratch, &n);
    FUZZ_CHECK(end == text + len);
    FUZZ_CHECK(n == slen && memcmp(scratch, s, n) == 0);
    FUZZ_CHECK(memchr(text, '\n', len) == NULL);
    free(text);

    /* The same string as a route name in a whole exposition. */
    struct metrics *m = metrics_new(1);
    FUZZ_CHECK(m != NULL);
    metrics_observe(m, s, 200, 1234);
    metrics_observe(m, s, 422, 99999999);
    f = open_memstream(&text, &len);
    FUZZ_CHECK(f != NULL);
    metrics_render_http(m, f);
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(len > 0 && text[len - 1] == '\n');
    int samples = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL);
        *nl = '\0';
        if (line[0] != '#') {
            check_sample(line, s, scratch);
            samples++;
        }
        line = nl + 1;
    }
    /* 2 status codes + 14 buckets + sum + count. */
    FUZZ_CHECK(samples == 18);
    free(text);
    metrics_free(m);
    free(scratch);
    free(s);
    return 0;
}
