/* key=value log lines on stderr, one per event, with a UTC timestamp. */
#include "gradcover/core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_min_level = LOG_INFO;

/* Lines waiting while batching (log_batch_begin). Process-wide like stderr
 * itself. 4 KiB: a write of at most PIPE_BUF bytes reaches a pipe (journald)
 * in one piece, so lines from several processes never interleave. */
static struct {
    bool on;
    void (*kick)(void *arg);
    void *arg;
    size_t len;
    char buf[4096];
} batch;

/* Writes all of it to stderr; a log line is never worth a retry loop beyond
 * short writes and EINTR. */
static void put_out(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

void log_flush(void)
{
    if (batch.len > 0)
        put_out(batch.buf, batch.len);
    batch.len = 0;
}

void log_batch_begin(void (*kick)(void *arg), void *arg)
{
    log_flush();
    batch.kick = kick;
    batch.arg = arg;
    batch.on = kick != NULL;
}

void log_batch_end(void)
{
    log_flush();
    batch.on = false;
    batch.kick = NULL;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_write(enum log_level lvl, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    if (!batch.on) {
        /* One write per line so that lines from concurrent processes do not
         * interleave. */
        put_out(line, len);
        return;
    }
    if (batch.len + len > sizeof batch.buf)
        log_flush();
    bool first = batch.len == 0;
    memcpy(batch.buf + batch.len, line, len);
    batch.len += len;
    if (lvl >= LOG_WARN)
        log_flush();
    else if (first)
        batch.kick(batch.arg);
}

const char *log_quote(const char *s, char *out, size_t n)
{
    size_t o = 0;
    if (n < 3) {
        if (n)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    for (; s && *s && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            out[o++] = '?';
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

bool log_every_due(struct log_every *e, int64_t now_ms, int64_t interval_ms, unsigned long *skipped)
{
    if (e->written && now_ms - e->last_ms < interval_ms) {
        e->skipped++;
        return false;
    }
    *skipped = e->skipped;
    e->skipped = 0;
    e->written = true;
    e->last_ms = now_ms;
    return true;
}
