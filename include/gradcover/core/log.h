/* Leveled key=value log lines on stderr; nothing else. */
#ifndef GRADCOVER_CORE_LOG_H
#define GRADCOVER_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_min_level;

void log_write(enum log_level lvl, const char *fmt, ...) GC_PRINTF(2, 3);

/* While the event loop runs, info and debug lines are collected and written
 * together, whole lines only, once per loop iteration: `kick(arg)` is called
 * when the first line is waiting and must make log_flush() run soon (the app
 * activates an event). Warnings and errors are written at once, after what
 * waits, so the order stays. One write(2) per iteration instead of one per
 * request. log_batch_end() writes what waits and stops collecting. */
void log_batch_begin(void (*kick)(void *arg), void *arg);
void log_batch_end(void);
void log_flush(void);

/* The level is checked before the arguments are evaluated. */
#define LOG(lvl, ...)                                                                              \
    do {                                                                                           \
        if ((lvl) >= log_min_level)                                                                \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_debug(...) LOG(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) LOG(LOG_INFO, __VA_ARGS__)
#define log_warn(...) LOG(LOG_WARN, __VA_ARGS__)
#define log_error(...) LOG(LOG_ERROR, __VA_ARGS__)

/* The lines of one repeated event, rate-limited: the first occurrence is
 * written, then at most one line per interval, saying how many were left
 * out. Zero-initialised; one per kind of event. */
struct log_every {
    bool written;          /* a line was written once */
    int64_t last_ms;       /* when (monotonic ms) */
    unsigned long skipped; /* occurrences since then, not written */
};

/* Counts one occurrence at now_ms (monotonic). True when its line is to be
 * written now: *skipped then holds the occurrences left out since the
 * previous line (and the count starts again). False: counted, not written. */
bool log_every_due(struct log_every *e, int64_t now_ms, int64_t interval_ms,
                   unsigned long *skipped) GC_MUSTCHECK;

/* Writes `s` into out (size n) quoted for a log value: "..." with \" \\ and
 * control characters escaped; truncated to fit. Returns out. */
const char *log_quote(const char *s, char *out, size_t n);

#endif
