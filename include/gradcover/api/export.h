/* Spreadsheet exports (SPEC §12): the JSON answer of a route, turned into
 * CSV (on the loop) or XLSX (libxlsxwriter, on a worker thread) by a table
 * of columns per route. It does not read Redis or decide who sees what: the
 * route's own JSON, roles, scope and masking included, is its only input. */
#ifndef GRADCOVER_API_EXPORT_H
#define GRADCOVER_API_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gradcover/common.h"

struct event_base;
struct req;

/* How a column's value is written. */
enum export_kind {
    EXPORT_TEXT,    /* a string (or a number, printed); CSV cells guarded against formulas */
    EXPORT_INT,     /* an integer: a number cell */
    EXPORT_PERCENT, /* a rate 0..1: "87.50%" in CSV, a number formatted 0.00% in XLSX */
    EXPORT_BOOL,    /* true/false: 是/否 */
    EXPORT_LIST,    /* an array of strings, joined with ", " */
};

/* One column: the member of a row it shows, its header (people read it:
 * Chinese), how it is written, its XLSX width in characters, and whether it
 * is left out when no row has the member (a view's own columns). */
struct export_column {
    const char *key;
    const char *header;
    enum export_kind kind;
    double width;
    bool optional;
};

struct export_table {
    const char *stem;  /* ASCII file name stem: "coverage" */
    const char *title; /* the sheet's name and the UTF-8 file name's stem: "覆盖率" */
    const char *rows;  /* the member of the JSON answer holding the rows */
    bool per_county;   /* the path's {code} goes into the file name */
    /* Marks a row (a fill colour in XLSX, a "标记" column in CSV) when it
     * returns true: below target. Runs on the loop; NULL: no marks. */
    bool (*mark)(struct req *r, const json_t *row);
    const struct export_column *cols;
    size_t ncols;
};

/* The exports the routes offer (export.c holds their columns). */
extern const struct export_table export_coverage, export_queue, export_history;

/* The OrReply shape for a route that offers exports: reads ?format=
 * (json, the default; csv; xlsx). For csv and xlsx the route's 200 answer
 * is turned into that form when it is sent (http_reply_jw/json); nothing
 * else of the handler changes. A bad value: 400 bad_parameter; xlsx while
 * every export slot is busy: 503 export_busy with Retry-After. Either way
 * returns -1 and the request is gone. Call it first, before any read. */
int export_format_or_reply(struct req *r, const struct export_table *t) GC_MUSTCHECK;

/* The XLSX workers of one server: at most EXPORT_JOBS_MAX at a time, each
 * on its own thread, handing its bytes back to the loop of base. tmpdir:
 * where each makes its private directory (copied; NULL: $TMPDIR or /tmp).
 * NULL when memory ran out. */
struct exporter *exporter_new(struct event_base *base, const char *tmpdir);

/* Waits for the running workers (each bounded by its rows), answers their
 * requests 503, and frees everything. Call before the HTTP server is freed.
 * NULL is a no-op. */
void exporter_free(struct exporter *ex);

#endif
