/* Leveled key=value log lines on stderr; nothing else. */
#ifndef GRADCOVER_LOG_H
#define GRADCOVER_LOG_H

#include <stddef.h>

#include "gradcover/common.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_min_level;

void log_write(enum log_level lvl, const char *fmt, ...) GC_PRINTF(2, 3);

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

/* Writes `s` into out (size n) quoted for a log value: "..." with \" \\ and
 * control characters escaped; truncated to fit. Returns out. */
const char *log_quote(const char *s, char *out, size_t n);

#endif
