/* HTTP request counters and latency histograms (see metrics.h). */
#include "gradcover/core/metrics.h"

#include <stdlib.h>
#include <string.h>

/* Status codes 100..599 are counted individually. */
#define CODE_MIN 100
#define CODE_SPAN 500
/* Upper bounds in µs: from 0.5 ms (a cached read on loopback) to 5 s (beyond
 * any Redis deadline), roughly ×2.5 apart as Prometheus' defaults are. */
static const int64_t bucket_us[] = {500,    1000,   2500,   5000,    10000,   25000,  50000,
                                    100000, 250000, 500000, 1000000, 2500000, 5000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

struct route_stats {
    const char *name;
    uint64_t codes[CODE_SPAN];
    uint64_t buckets[NBUCKETS]; /* non-cumulative; summed when rendered */
    uint64_t count;
    int64_t sum_us;
};

struct metrics {
    size_t n, max;
    struct route_stats *routes;
};

struct metrics *metrics_new(size_t max_routes)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->max = max_routes + 1; /* + "unmatched" */
    m->routes = calloc(m->max, sizeof *m->routes);
    if (!m->routes) {
        free(m);
        return NULL;
    }
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    free(m->routes);
    free(m);
}

static struct route_stats *find(struct metrics *m, const char *route)
{
    const char *name = route ? route : "unmatched";
    for (size_t i = 0; i < m->n; i++)
        if (m->routes[i].name == name || strcmp(m->routes[i].name, name) == 0)
            return &m->routes[i];
    if (m->n == m->max)
        return NULL;
    m->routes[m->n].name = name;
    return &m->routes[m->n++];
}

void metrics_observe(struct metrics *m, const char *route, int status, int64_t duration_us)
{
    struct route_stats *rs = find(m, route);
    if (!rs)
        return;
    if (status >= CODE_MIN && status < CODE_MIN + CODE_SPAN)
        rs->codes[status - CODE_MIN]++;
    size_t b = 0;
    while (b < NBUCKETS && duration_us > bucket_us[b])
        b++;
    if (b < NBUCKETS)
        rs->buckets[b]++;
    rs->count++;
    rs->sum_us += duration_us;
}

/* Text format 0.0.4: a label value escapes \\, " and newline. NULL: as is. */
static const char *escape_of(char c)
{
    return c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
}

size_t metrics_label_escape(const char *s, char *out)
{
    size_t n = 0;
    for (; *s; s++) {
        const char *esc = escape_of(*s);
        if (esc) {
            out[n++] = esc[0];
            out[n++] = esc[1];
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return n;
}

void metrics_label(FILE *out, const char *s)
{
    for (; *s; s++) {
        const char *esc = escape_of(*s);
        if (esc)
            fputs(esc, out);
        else
            fputc(*s, out);
    }
}

int metrics_family_head(char *out, size_t n, const char *name, const char *type, const char *help)
{
    return snprintf(out, n, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_render_http(const struct metrics *m, FILE *out)
{
    metrics_family(out, "gradcover_http_requests_total", "counter",
                   "HTTP requests answered, by route template and status code.");
    for (size_t i = 0; i < m->n; i++)
        for (int c = 0; c < CODE_SPAN; c++)
            if (m->routes[i].codes[c]) {
                fputs("gradcover_http_requests_total{route=\"", out);
                metrics_label(out, m->routes[i].name);
                fprintf(out, "\",code=\"%d\"} %llu\n", c + CODE_MIN,
                        (unsigned long long)m->routes[i].codes[c]);
            }
    metrics_family(out, "gradcover_http_request_duration_seconds", "histogram",
                   "Time from request received to answer queued, by route template.");
    for (size_t i = 0; i < m->n; i++) {
        const struct route_stats *rs = &m->routes[i];
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            fputs("gradcover_http_request_duration_seconds_bucket{route=\"", out);
            metrics_label(out, rs->name);
            if (b < NBUCKETS) {
                cum += rs->buckets[b];
                fprintf(out, "\",le=\"%g\"} %llu\n", (double)bucket_us[b] / 1e6,
                        (unsigned long long)cum);
            } else {
                fprintf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)rs->count);
            }
        }
        fputs("gradcover_http_request_duration_seconds_sum{route=\"", out);
        metrics_label(out, rs->name);
        fprintf(out, "\"} %.6f\n", (double)rs->sum_us / 1e6);
        fputs("gradcover_http_request_duration_seconds_count{route=\"", out);
        metrics_label(out, rs->name);
        fprintf(out, "\"} %llu\n", (unsigned long long)rs->count);
    }
}
