/* Compact JSON written straight into a growable buffer (see jsonw.h). The
 * output matches json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(p)) byte for
 * byte; tests/unit/check_jsonw.c holds it to that. */
#include "gradcover/core/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w)
{
    w->p = w->small;
    w->len = 0;
    w->cap = sizeof w->small;
    w->failed = false;
    w->comma = false;
    w->small[0] = '\0';
}

void jw_free(struct jw *w)
{
    if (w->p != w->small)
        free(w->p);
    jw_init(w);
}

/* Grows the buffer for n more bytes and the NUL; false (and the text failed)
 * when memory ran out. */
static bool grow(struct jw *w, size_t n)
{
    size_t cap = w->cap * 2;
    while (cap < w->len + n + 1)
        cap *= 2;
    char *p = w->p == w->small ? malloc(cap) : realloc(w->p, cap);
    if (!p) {
        w->failed = true;
        return false;
    }
    if (w->p == w->small)
        memcpy(p, w->small, w->len + 1);
    w->p = p;
    w->cap = cap;
    return true;
}

/* Room for n more bytes and the NUL; false (and the text failed) if not. */
static inline bool room(struct jw *w, size_t n)
{
    if (w->failed)
        return false;
    return w->len + n + 1 <= w->cap || grow(w, n);
}

void jw_reserve(struct jw *w, size_t n)
{
    room(w, n);
}

void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (!room(w, n))
        return;
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

static void put(struct jw *w, char c)
{
    if (!room(w, 1))
        return;
    w->p[w->len++] = c;
    w->p[w->len] = '\0';
}

/* Before any value or key: the separator from the previous one. */
static void sep(struct jw *w)
{
    if (w->comma)
        put(w, ',');
    w->comma = true;
}

void jw_obj(struct jw *w)
{
    sep(w);
    put(w, '{');
    w->comma = false;
}

void jw_obj_end(struct jw *w)
{
    put(w, '}');
    w->comma = true;
}

void jw_arr(struct jw *w)
{
    sep(w);
    put(w, '[');
    w->comma = false;
}

void jw_arr_end(struct jw *w)
{
    put(w, ']');
    w->comma = true;
}

/* Length of the UTF-8 sequence at s (at most n bytes), with its code point;
 * 0 when it is not valid UTF-8 (the rules of RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static void escape_u(struct jw *w, unsigned v)
{
    static const char hx[] = "0123456789ABCDEF";
    char e[6] = {'\\', 'u', hx[(v >> 12) & 15], hx[(v >> 8) & 15], hx[(v >> 4) & 15], hx[v & 15]};
    jw_raw(w, e, sizeof e);
}

/* The quoted, escaped string: \" \\ \b \f \n \r \t, other controls as \u00XX,
 * everything else (UTF-8 included) as it is. */
static void quoted(struct jw *w, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    /* Most strings need no escape: room for all of it at once, and plain
     * ASCII copied as it is scanned. */
    if (!room(w, n + 3))
        return;
    char *o = w->p + w->len;
    *o++ = '"';
    size_t i = 0;
    /* Bytes that need a look: controls and non-ASCII (one unsigned compare:
     * outside 0x20..0x7f), '"' and '\\'. */
    for (; i < n; i++) {
        unsigned char c = s[i];
        if ((unsigned char)(c - 0x20) >= 0x60 || c == '"' || c == '\\')
            break;
        o[i] = (char)c;
    }
    if (i == n) {
        o[n] = '"';
        w->len += n + 2;
        w->p[w->len] = '\0';
        return;
    }
    w->len += 1 + i;
    w->p[w->len] = '\0';
    size_t run = i; /* start of the bytes not yet copied */
    while (i < n) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        unsigned cp;
        size_t len = utf8_seq(s + i, n - i, &cp);
        if (len == 0) {
            w->failed = true;
            return;
        }
        if (cp >= 0x80) {
            i += len;
            continue;
        }
        jw_raw(w, str + run, i - run);
        switch (cp) {
        case '"':
            jw_raw(w, "\\\"", 2);
            break;
        case '\\':
            jw_raw(w, "\\\\", 2);
            break;
        case '\b':
            jw_raw(w, "\\b", 2);
            break;
        case '\f':
            jw_raw(w, "\\f", 2);
            break;
        case '\n':
            jw_raw(w, "\\n", 2);
            break;
        case '\r':
            jw_raw(w, "\\r", 2);
            break;
        case '\t':
            jw_raw(w, "\\t", 2);
            break;
        default:
            escape_u(w, cp);
        }
        i += 1;
        run = i;
    }
    jw_raw(w, str + run, n - run);
    put(w, '"');
}

void jw_key(struct jw *w, const char *key)
{
    sep(w);
    quoted(w, key, strlen(key));
    put(w, ':');
    w->comma = false;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
    sep(w);
    quoted(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    jw_strn(w, s, strlen(s));
}

void jw_raw_int(struct jw *w, long long v)
{
    char buf[24];
    char *e = buf + sizeof buf, *p = e;
    /* Digits of |v| from the right; unsigned so that LLONG_MIN works. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    jw_raw(w, p, (size_t)(e - p));
}

void jw_int(struct jw *w, long long v)
{
    sep(w);
    jw_raw_int(w, v);
}

void jw_value_raw(struct jw *w, const char *s, size_t n)
{
    sep(w);
    jw_raw(w, s, n);
}

void jw_real(struct jw *w, double v, int precision)
{
    char buf[64];
    if (!isfinite(v)) {
        w->failed = true; /* jansson has no such reals either */
        return;
    }
    int n = snprintf(buf, sizeof buf, "%.*g", precision > 0 ? precision : 17, v);
    if (n < 0 || (size_t)n + 3 > sizeof buf) {
        w->failed = true;
        return;
    }
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    /* "1e+20" -> "1e20", "1e-05" -> "1e-5" */
    char *e = strchr(buf, 'e');
    if (e) {
        char *digits = e + 1;
        if (*digits == '+')
            memmove(digits, digits + 1, strlen(digits + 1) + 1);
        else if (*digits == '-')
            digits++;
        char *z = digits;
        while (*z == '0' && z[1] != '\0')
            z++;
        if (z != digits)
            memmove(digits, z, strlen(z) + 1);
        n = (int)strlen(buf);
    }
    sep(w);
    jw_raw(w, buf, (size_t)n);
}

void jw_raw_bp(struct jw *w, unsigned long long bp)
{
    /* Below 10 the value has at most 5 significant digits, which "%.6g" of the
     * nearest double prints exactly: the decimal without trailing zeros. */
    if (bp >= 100000) {
        bool comma = w->comma;
        w->comma = false;
        jw_real(w, (double)bp / 10000, 6);
        w->comma = comma;
        return;
    }
    char buf[8];
    size_t n = 0;
    unsigned frac = (unsigned)(bp % 10000);
    buf[n++] = (char)('0' + bp / 10000);
    buf[n++] = '.';
    if (frac == 0) {
        buf[n++] = '0';
    } else {
        char d[4] = {(char)('0' + frac / 1000), (char)('0' + frac / 100 % 10),
                     (char)('0' + frac / 10 % 10), (char)('0' + frac % 10)};
        size_t k = 4;
        while (d[k - 1] == '0')
            k--;
        memcpy(buf + n, d, k);
        n += k;
    }
    jw_raw(w, buf, n);
}

void jw_bp(struct jw *w, unsigned long long bp)
{
    sep(w);
    jw_raw_bp(w, bp);
}

void jw_bool(struct jw *w, bool v)
{
    sep(w);
    if (v)
        jw_raw(w, "true", 4);
    else
        jw_raw(w, "false", 5);
}

void jw_null(struct jw *w)
{
    sep(w);
    jw_raw(w, "null", 4);
}

void jw_json(struct jw *w, const json_t *v, int precision)
{
    if (!v) {
        w->failed = true;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        jw_obj(w);
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            sep(w);
            quoted(w, json_object_iter_key(it), json_object_iter_key_len(it));
            put(w, ':');
            w->comma = false;
            jw_json(w, json_object_iter_value(it), precision);
        }
        jw_obj_end(w);
        return;
    }
    case JSON_ARRAY:
        jw_arr(w);
        for (size_t i = 0; i < json_array_size(v); i++)
            jw_json(w, json_array_get(v, i), precision);
        jw_arr_end(w);
        return;
    case JSON_STRING:
        jw_strn(w, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        jw_int(w, json_integer_value(v));
        return;
    case JSON_REAL:
        jw_real(w, json_real_value(v), precision);
        return;
    case JSON_TRUE:
        jw_bool(w, true);
        return;
    case JSON_FALSE:
        jw_bool(w, false);
        return;
    case JSON_NULL:
        jw_null(w);
        return;
    }
    w->failed = true;
}

const char *jw_text(const struct jw *w, size_t *len)
{
    if (w->failed)
        return NULL;
    if (len)
        *len = w->len;
    return w->p;
}

char *jw_take(struct jw *w)
{
    char *out = NULL;
    if (!w->failed) {
        if (w->p == w->small) {
            out = malloc(w->len + 1);
            if (out)
                memcpy(out, w->small, w->len + 1);
        } else {
            out = w->p;
            w->p = w->small;
        }
    }
    jw_free(w);
    return out;
}

char *jw_dumps(const json_t *v, int precision)
{
    if (!json_is_object(v) && !json_is_array(v))
        return NULL;
    struct jw w;
    jw_init(&w);
    jw_json(&w, v, precision);
    return jw_take(&w);
}
