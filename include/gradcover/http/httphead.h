/* A strict check of one complete HTTP/1.x request head (request line and
 * header fields, up to and including the empty line), run before evhttp parses
 * it: the framing problems evhttp would accept silently (a NUL that truncates a
 * value, duplicate Content-Length) or reject with its own HTML page (Content-
 * Length with Transfer-Encoding, a NUL in a name). Pure: no I/O, no libevent. */
#ifndef GRADCOVER_HTTP_HTTPHEAD_H
#define GRADCOVER_HTTP_HTTPHEAD_H

#include <stdbool.h>
#include <stddef.h>

/* The largest request head accepted: a bearer token and the usual browser
 * headers take about 1 KiB; 16 KiB leaves room for cookies of other sites on the
 * same host (nginx's large_client_header_buffers allow 4 x 8 KiB). */
#define HEAD_MAX_BYTES (16 * 1024)

enum head_verdict {
    HEAD_OK = 0,
    HEAD_NUL,            /* a NUL byte anywhere in the head */
    HEAD_BAD_LINE,       /* not "METHOD SP target SP HTTP/1.x" */
    HEAD_BAD_METHOD,     /* a method the router does not serve (TRACE, CONNECT, PROPFIND...) */
    HEAD_BAD_FIELD,      /* no colon, space before it, obs-fold, bare CR, control bytes */
    HEAD_DUP_HOST,       /* Host more than once (RFC 9112 §3.2) */
    HEAD_DUP_LENGTH,     /* Content-Length more than once, even with equal values */
    HEAD_BAD_LENGTH,     /* Content-Length not 1..18 decimal digits */
    HEAD_LENGTH_AND_TE,  /* Content-Length together with Transfer-Encoding */
    HEAD_BAD_TE,         /* a Transfer-Encoding other than exactly "chunked" */
    HEAD_TOO_LARGE,      /* no end of head within the limit (set by the caller) */
    HEAD_BODY_TOO_LARGE, /* a Content-Length over the body limit */
    HEAD_TE_HTTP10,      /* Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1) */
    HEAD_CHUNKED,        /* a chunked body: refused, a Content-Length is required (411) */
    HEAD_DUP_AUTH,       /* Authorization more than once */
    HEAD_BAD_EXPECT,     /* an HTTP/1.1 expectation other than one "100-continue" (417) */
    HEAD_NVERDICTS
};

/* What the checker learnt; valid for every verdict (best effort on errors). */
struct head_info {
    char method[8];           /* the client's method if evhttp knows it, else "GET" */
    int minor;                /* HTTP/1.<minor>: 0 or 1 (1 when unreadable) */
    long long content_length; /* -1 when absent */
    bool chunked;
    bool host;       /* a Host field was present */
    bool auth;       /* an Authorization field was present */
    bool close;      /* the client wants the connection closed after this request */
    bool keep_alive; /* "Connection: keep-alive" (matters for HTTP/1.0) */
    /* Where things are in the head (byte offsets and lengths), for a head
     * that is answered before its body is read (conns.h): the request
     * target, the values of Authorization and X-Real-IP (trimmed; length 0
     * when absent), and the whole line (with its end) of an HTTP/1.1
     * "Expect: 100-continue" (expect_continue). */
    size_t target_off, target_len;
    size_t auth_off, auth_len;
    size_t real_ip_off, real_ip_len;
    bool expect_continue;
    size_t expect_off, expect_len;
};

/* How a verdict is answered: status, JSON error code and message (static),
 * and a response header to add (NULL when none). */
struct head_reject {
    int status;
    const char *code;
    const char *message;
    const char *header, *value;
};

/* Checks head[0..len), which must end with the empty line (LF or CRLF). A
 * Content-Length above body_max gives HEAD_BODY_TOO_LARGE. */
enum head_verdict head_check(const char *head, size_t len, long long body_max,
                             struct head_info *info);

/* The answer to a verdict other than HEAD_OK (static storage). */
const struct head_reject *head_reject_of(enum head_verdict v);

/* Writes a minimal head that evhttp parses and hands to the router in place of
 * a rejected one: "<method> / HTTP/1.<minor>", Host, Content-Length: 0 and,
 * unless keep_alive, "Connection: close". Returns its length (< n), or 0 when
 * n is too small. */
size_t head_stand_in(const struct head_info *info, bool keep_alive, char *out, size_t n);

#endif
