/* In-process HTTP statistics for /metrics: requests by route template and
 * status code, and a latency histogram per route. No I/O; the rendering of
 * the Redis-backed series lives in api/metrics.c. */
#ifndef GRADCOVER_CORE_METRICS_H
#define GRADCOVER_CORE_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct metrics;

/* Room for up to max_routes distinct route templates. NULL on failure. */
struct metrics *metrics_new(size_t max_routes);
void metrics_free(struct metrics *m);

/* Counts one answered request. route is a template ("/api/v1/graduates/{id}")
 * with static storage, or NULL for requests that matched no route. */
void metrics_observe(struct metrics *m, const char *route, int status, int64_t duration_us);

/* Writes the gradcover_http_* families in Prometheus text format 0.0.4. */
void metrics_render_http(const struct metrics *m, FILE *out);

/* Writes s as a Prometheus label value (escapes \\, " and newline). */
void metrics_label(FILE *out, const char *s);

/* The same escaping into out (2 * strlen(s) + 1 bytes), NUL-terminated;
 * returns the length written. */
size_t metrics_label_escape(const char *s, char *out);

/* A metric family's head, "# HELP name help\n# TYPE name type\n": written to
 * out, or formatted into buf (snprintf's contract: the length it needed). */
void metrics_family(FILE *out, const char *name, const char *type, const char *help);
int metrics_family_head(char *buf, size_t n, const char *name, const char *type, const char *help);

#endif
