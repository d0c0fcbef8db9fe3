/* Field readers that collect every validation error (see verr.h). */
#include "gradcover/domain/verr.h"

#include <stdio.h>
#include <string.h>

#include "gradcover/core/timeutil.h"

void verr_add(struct verr *v, const char *field, const char *message)
{
    if (!v->fields)
        v->fields = json_object();
    if (v->fields && !json_object_get(v->fields, field))
        json_object_set_new(v->fields, field, json_string(message));
}

bool verr_any(const struct verr *v)
{
    return v->fields && json_object_size(v->fields) > 0;
}

json_t *verr_take(struct verr *v)
{
    json_t *f = v->fields;
    v->fields = NULL;
    return f;
}

void verr_clear(struct verr *v)
{
    json_decref(verr_take(v));
}

void verr_unknown_keys(json_t *body, const char *const *allowed, struct verr *v)
{
    size_t unknown = 0;
    const char *k;
    json_t *val;
    json_object_foreach(body, k, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, k) == 0;
        unknown += !ok;
    }
    if (unknown == 0)
        return;
    /* Built from the count and our own list only: never the caller's bytes. */
    char msg[VERR_UNKNOWN_MSG_MAX];
    int n = snprintf(msg, sizeof msg, "%zu unknown field%s; allowed: ", unknown,
                     unknown == 1 ? "" : "s");
    for (const char *const *a = allowed; *a && n > 0 && (size_t)n < sizeof msg; a++)
        n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%s", a == allowed ? "" : ", ", *a);
    verr_add(v, VERR_UNKNOWN_FIELD, msg);
}

/* Number of Unicode characters in valid UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

void verr_text(json_t *body, const char *key, size_t max_chars, bool required, const char **out,
               struct verr *v)
{
    *out = NULL;
    json_t *j = json_object_get(body, key);
    if (!j || json_is_null(j)) {
        if (required)
            verr_add(v, key, "is required");
        return;
    }
    if (!json_is_string(j)) {
        verr_add(v, key, "must be a string");
        return;
    }
    const char *s = json_string_value(j);
    if (strlen(s) != json_string_length(j)) {
        verr_add(v, key, "must not contain NUL characters");
        return;
    }
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            verr_add(v, key, "must not contain control characters");
            return;
        }
    }
    size_t n = utf8_chars(s);
    if (n == 0) {
        verr_add(v, key, "must not be empty");
        return;
    }
    if (n > max_chars) {
        char msg[64];
        snprintf(msg, sizeof msg, "must be at most %zu characters", max_chars);
        verr_add(v, key, msg);
        return;
    }
    *out = s;
}

void verr_time(json_t *body, const char *key, int64_t now, int64_t dflt, int64_t *out,
               struct verr *v)
{
    *out = dflt;
    json_t *j = json_object_get(body, key);
    if (!j || json_is_null(j))
        return;
    if (!json_is_string(j) || strlen(json_string_value(j)) != json_string_length(j) ||
        !rfc3339_parse(json_string_value(j), out)) {
        verr_add(v, key, "must be an RFC 3339 time with offset, e.g. 2026-03-05T10:30:00+08:00");
        return;
    }
    if (*out > now + VERR_CLOCK_SKEW_MS)
        verr_add(v, key, "must not be in the future");
    else if (*out > now)
        /* A client clock a little ahead: the event happened now, not in a
         * period (a new year at 23:58) the county has not reached yet. */
        *out = now;
}
