/* Strict checks of an HTTP/1.x request head (see httphead.h). The rules are
 * RFC 9112's, applied where evhttp 2.1 is lenient or answers in HTML. */
#include "gradcover/http/httphead.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* 18 digits stay below LLONG_MAX; no body we accept comes near it. */
#define LENGTH_DIGITS_MAX 18
/* The longest method name we copy (OPTIONS). */
#define METHOD_MAX 7

/* A refusal without a header of its own. */
#define REJ(st, cd, msg)                                                                           \
    {                                                                                              \
        .status = (st), .code = (cd), .message = (msg)                                             \
    }

static const struct head_reject rejects[] = {
    [HEAD_NUL] = REJ(400, "bad_request", "the request head contains a NUL byte"),
    [HEAD_BAD_LINE] =
        REJ(400, "bad_request", "malformed request line (expected METHOD /target HTTP/1.1)"),
    [HEAD_BAD_METHOD] =
        REJ(501, "not_implemented",
            "the method is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
    [HEAD_BAD_FIELD] = REJ(400, "bad_request",
                           "malformed header field (a name without colon, whitespace before the "
                           "colon, line folding, a bare CR or a control character)"),
    [HEAD_DUP_HOST] = REJ(400, "bad_request", "Host must appear at most once"),
    [HEAD_DUP_LENGTH] = REJ(400, "bad_request", "Content-Length must appear at most once"),
    [HEAD_BAD_LENGTH] = REJ(400, "bad_request", "Content-Length must be a decimal number"),
    [HEAD_LENGTH_AND_TE] =
        REJ(400, "bad_request", "Content-Length and Transfer-Encoding must not be sent together"),
    [HEAD_BAD_TE] = REJ(501, "not_implemented",
                        "Transfer-Encoding is not supported: send the body with Content-Length"),
    [HEAD_TOO_LARGE] = REJ(431, "headers_too_large", "the request head exceeds 16 KiB"),
    [HEAD_BODY_TOO_LARGE] = REJ(413, "body_too_large", "the body exceeds 64 KiB"),
    [HEAD_TE_HTTP10] = REJ(400, "bad_request", "Transfer-Encoding is not allowed in HTTP/1.0"),
    [HEAD_CHUNKED] =
        REJ(411, "length_required",
            "send the body with Content-Length: chunked request bodies are not accepted"),
    [HEAD_DUP_AUTH] = REJ(400, "bad_request", "Authorization must appear at most once"),
    [HEAD_BAD_EXPECT] = REJ(417, "expectation_failed",
                            "the only expectation supported is one Expect: 100-continue"),
};

const struct head_reject *head_reject_of(enum head_verdict v)
{
    if (v <= HEAD_OK || v >= HEAD_NVERDICTS)
        return NULL;
    return &rejects[v];
}

/* RFC 9110 §5.6.2 token characters. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The methods evhttp recognises and our router accepts (see http_setup). */
static bool known_method(const char *m, size_t n)
{
    static const char *const names[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], m, n) == 0)
            return true;
    return false;
}

/* Length of the line at p (up to end), without its terminator; *next is the
 * start of the following line. -1 when the line has no LF (cannot happen for a
 * complete head) or contains a CR that does not end it. */
static long line_at(const char *p, const char *end, const char **next)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (!lf)
        return -1;
    *next = lf + 1;
    const char *e = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
    if (memchr(p, '\r', (size_t)(e - p)))
        return -1; /* a bare CR inside the line */
    return (long)(e - p);
}

static enum head_verdict request_line(const char *p, size_t n, struct head_info *info)
{
    const char *sp1 = memchr(p, ' ', n);
    if (!sp1 || sp1 == p)
        return HEAD_BAD_LINE;
    size_t mlen = (size_t)(sp1 - p);
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar((unsigned char)p[i]))
            return HEAD_BAD_LINE;
    bool known = mlen <= METHOD_MAX && known_method(p, mlen);
    if (known) {
        memcpy(info->method, p, mlen);
        info->method[mlen] = '\0';
    }
    const char *t = sp1 + 1, *end = p + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return HEAD_BAD_LINE;
    for (const char *c = t; c < sp2; c++)
        if ((unsigned char)*c < 0x21 || *c == 0x7f)
            return HEAD_BAD_LINE;
    const char *v = sp2 + 1;
    if (end - v != 8 || memcmp(v, "HTTP/1.", 7) != 0 || (v[7] != '0' && v[7] != '1'))
        return HEAD_BAD_LINE;
    info->minor = v[7] - '0';
    info->target_off = (size_t)(t - p);
    info->target_len = (size_t)(sp2 - t);
    /* evhttp would answer an unknown method with its own HTML page. */
    return known ? HEAD_OK : HEAD_BAD_METHOD;
}

/* Trims optional whitespace (SP, HT) on both sides of [*p, *p + *n). */
static void trim_ows(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t'))
        (*p)++, (*n)--;
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Connection: a comma-separated list of tokens; "close" and "keep-alive" matter. */
static void connection_tokens(const char *v, size_t n, struct head_info *info)
{
    while (n > 0) {
        const char *comma = memchr(v, ',', n);
        size_t len = comma ? (size_t)(comma - v) : n;
        const char *t = v;
        size_t tl = len;
        trim_ows(&t, &tl);
        if (name_is(t, tl, "close"))
            info->close = true;
        else if (name_is(t, tl, "keep-alive"))
            info->keep_alive = true;
        v += comma ? len + 1 : len;
        n -= comma ? len + 1 : len;
    }
}

/* One header field line at p (n bytes without its end; the whole line with
 * its end is line_len bytes); head: the start of the head, for offsets. */
static enum head_verdict header_field(const char *head, const char *p, size_t n, size_t line_len,
                                      struct head_info *info, bool *seen_te)
{
    if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
        return HEAD_BAD_FIELD; /* obs-fold (RFC 9112 §5.2) */
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return HEAD_BAD_FIELD;
    size_t nlen = (size_t)(colon - p);
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)p[i]))
            return HEAD_BAD_FIELD; /* includes whitespace before the colon (§5.1) */
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return HEAD_BAD_FIELD;
    }
    trim_ows(&v, &vlen);
    if (name_is(p, nlen, "Content-Length")) {
        if (info->content_length >= 0)
            return HEAD_DUP_LENGTH;
        if (vlen == 0 || vlen > LENGTH_DIGITS_MAX)
            return HEAD_BAD_LENGTH;
        long long cl = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                return HEAD_BAD_LENGTH;
            cl = cl * 10 + (v[i] - '0');
        }
        info->content_length = cl;
    } else if (name_is(p, nlen, "Connection")) {
        connection_tokens(v, vlen, info);
    } else if (name_is(p, nlen, "Host")) {
        if (info->host)
            return HEAD_DUP_HOST;
        info->host = true;
    } else if (name_is(p, nlen, "Authorization")) {
        /* Two would be read differently by us (the first) and by a front end
         * that takes the last. */
        if (info->auth)
            return HEAD_DUP_AUTH;
        info->auth = true;
        info->auth_off = (size_t)(v - head);
        info->auth_len = vlen;
    } else if (name_is(p, nlen, "X-Real-IP") && info->real_ip_len == 0) {
        info->real_ip_off = (size_t)(v - head);
        info->real_ip_len = vlen;
    } else if (name_is(p, nlen, "Expect") && info->minor == 1) {
        /* HTTP/1.0 expectations are ignored (RFC 9110 §10.1.1). */
        if (info->expect_continue || !name_is(v, vlen, "100-continue"))
            return HEAD_BAD_EXPECT;
        info->expect_continue = true;
        info->expect_off = (size_t)(p - head);
        info->expect_len = line_len;
    } else if (name_is(p, nlen, "Transfer-Encoding")) {
        /* HTTP/1.0 has no transfer codings: its framing would be ambiguous. */
        if (info->minor == 0)
            return HEAD_TE_HTTP10;
        /* A second field would be a list ("gzip, chunked"): not supported. */
        if (*seen_te || !name_is(v, vlen, "chunked"))
            return HEAD_BAD_TE;
        *seen_te = true;
        info->chunked = true;
    }
    return HEAD_OK;
}

enum head_verdict head_check(const char *head, size_t len, long long body_max,
                             struct head_info *info)
{
    memset(info, 0, sizeof *info);
    strcpy(info->method, "GET");
    info->minor = 1;
    info->content_length = -1;
    /* The request line first, so that the stand-in keeps the method. */
    const char *end = head + len, *next;
    long n = line_at(head, end, &next);
    if (memchr(head, '\0', len)) {
        if (n >= 0)
            request_line(head, (size_t)n, info);
        return HEAD_NUL;
    }
    if (n < 0)
        return HEAD_BAD_LINE;
    enum head_verdict v = request_line(head, (size_t)n, info);
    if (v != HEAD_OK)
        return v;
    bool seen_te = false;
    for (const char *p = next; p < end; p = next) {
        n = line_at(p, end, &next);
        if (n < 0)
            return HEAD_BAD_FIELD;
        if (n == 0)
            break; /* the empty line: end of the head */
        v = header_field(head, p, (size_t)n, (size_t)(next - p), info, &seen_te);
        if (v != HEAD_OK)
            return v;
    }
    /* HTTP/1.0 closes unless asked to keep the connection (RFC 9112 §9.3). */
    if (info->minor == 0 && !info->keep_alive)
        info->close = true;
    if (info->chunked && info->content_length >= 0)
        return HEAD_LENGTH_AND_TE;
    /* Our clients send small JSON bodies with Content-Length; chunked framing
     * is where parsers disagree (chunk sizes, extensions, trailers), and
     * evhttp's is lenient. RFC 9112 §6.3 lets a server answer 411. */
    if (info->chunked)
        return HEAD_CHUNKED;
    if (info->content_length > body_max)
        return HEAD_BODY_TOO_LARGE;
    return HEAD_OK;
}

size_t head_stand_in(const struct head_info *info, bool keep_alive, char *out, size_t n)
{
    int w = snprintf(out, n, "%s / HTTP/1.%d\r\nHost: -\r\nContent-Length: 0\r\n%s\r\n",
                     info->method, info->minor, keep_alive ? "" : "Connection: close\r\n");
    return w > 0 && (size_t)w < n ? (size_t)w : 0;
}
