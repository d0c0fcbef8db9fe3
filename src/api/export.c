/* Spreadsheet exports (SPEC §12, docs/design.md "Exports"): a route's 200
 * JSON answer, parsed back, written as CSV on the loop or handed to a worker
 * thread that writes it as XLSX with libxlsxwriter into a private temporary
 * directory and gives the bytes back through a pipe. The route decides who
 * sees what; this file only changes the form. */
#include "gradcover/api/export.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <xlsxwriter.h>

#include "gradcover/app.h"
#include "gradcover/core/jsonw.h"
#include "gradcover/core/log.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/http/request.h"

/* XLSX workbooks built at once: one per core of the small servers we run on
 * (2); a third waits in its client's retry instead of slowing the loop's
 * own core. CSV is written on the loop (a 500-row queue: ~1 ms). */
#define EXPORT_JOBS_MAX 2
/* The most rows an export holds: the routes' own bounds (10,000 counties in
 * a config, 500 queue items, 366 days) stay below it. */
#define EXPORT_ROWS_MAX 10000

#define CSV_CTYPE "text/csv; charset=utf-8"
#define XLSX_CTYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
/* Excel reads a CSV file as UTF-8 only when it starts with the byte order mark. */
#define UTF8_BOM "\xEF\xBB\xBF"
/* The column every table gets when it marks rows. */
#define MARK_HEADER "低于目标"

/* ---- The tables: one line per column ---- */

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* A county below its target (the answer's own below_target). */
static bool coverage_mark(struct req *r, const json_t *row)
{
    (void)r;
    return json_is_true(json_object_get(row, "below_target"));
}

static const struct export_column coverage_cols[] = {
    {"code", "区县代码", EXPORT_TEXT, 10, false},
    {"name", "区县", EXPORT_TEXT, 14, false},
    {"registered", "登记人数", EXPORT_INT, 10, false},
    {"served", "已服务人数", EXPORT_INT, 11, false},
    {"rate", "覆盖率", EXPORT_PERCENT, 10, false},
    {"threshold", "目标", EXPORT_PERCENT, 9, false},
    {"gap", "距目标差人数", EXPORT_INT, 13, false},
    {"package_complete", "完成服务包人数", EXPORT_INT, 14, true},
    {"alert", "告警状态", EXPORT_TEXT, 10, true},
};

const struct export_table export_coverage = {.stem = "coverage",
                                             .title = "覆盖率",
                                             .rows = "counties",
                                             .per_county = false,
                                             .mark = coverage_mark,
                                             .cols = coverage_cols,
                                             .ncols = NCOLS(coverage_cols)};

static const struct export_column queue_cols[] = {
    {"id", "编号", EXPORT_TEXT, 16, false},
    {"name", "姓名", EXPORT_TEXT, 10, false},
    {"phone", "电话", EXPORT_TEXT, 14, false},
    {"school", "学校", EXPORT_TEXT, 20, false},
    {"major", "专业", EXPORT_TEXT, 20, false},
    {"waiting_since", "等待起始", EXPORT_TEXT, 26, true},
    {"waiting_days", "等待天数", EXPORT_INT, 9, true},
    {"status", "状态", EXPORT_TEXT, 12, true},
    {"left_at", "离开时间", EXPORT_TEXT, 26, true},
    {"contacts", "联系次数", EXPORT_INT, 9, false},
    {"unreachable_attempts", "未联系上天数", EXPORT_INT, 12, true},
    {"last_contact_at", "上次联系", EXPORT_TEXT, 26, true},
    {"priority_reasons", "优先原因", EXPORT_LIST, 24, true},
};

const struct export_table export_queue = {.stem = "queue",
                                          .title = "待服务名单",
                                          .rows = "graduates",
                                          .per_county = true,
                                          .mark = NULL,
                                          .cols = queue_cols,
                                          .ncols = NCOLS(queue_cols)};

/* A day that ended below the county's target. */
static bool history_mark(struct req *r, const json_t *row)
{
    const struct county_cfg *cc = config_county(r->app->cfg, r->params[0]);
    json_int_t reg = json_integer_value(json_object_get(row, "registered"));
    json_int_t srv = json_integer_value(json_object_get(row, "served"));
    return cc && reg > 0 && srv >= 0 &&
           coverage_below((uint64_t)srv, (uint64_t)reg, cc->threshold_bp);
}

static const struct export_column history_cols[] = {
    {"date", "日期", EXPORT_TEXT, 12, false},
    {"registered", "登记人数", EXPORT_INT, 10, false},
    {"served", "已服务人数", EXPORT_INT, 11, false},
    {"rate", "覆盖率", EXPORT_PERCENT, 10, false},
};

const struct export_table export_history = {.stem = "history",
                                            .title = "覆盖率历史",
                                            .rows = "points",
                                            .per_county = true,
                                            .mark = history_mark,
                                            .cols = history_cols,
                                            .ncols = NCOLS(history_cols)};

/* ---- One export: the answer and what is shown of it ---- */

enum export_format { FORMAT_CSV, FORMAT_XLSX };

struct sheet {
    const struct export_table *t;
    json_t *root; /* owned: the route's answer, parsed back */
    json_t *rows; /* borrowed from root */
    size_t nrows;
    size_t cols[32]; /* indexes into t->cols of the columns shown */
    size_t ncols;
    unsigned char *marks; /* owned; one per row, NULL when t->mark is */
};

static void sheet_clear(struct sheet *s)
{
    json_decref(s->root);
    free(s->marks);
    memset(s, 0, sizeof *s);
}

/* Parses w's text (freed here) and decides the columns and the marks. -1
 * when the text is not what the table expects (a bug) or memory ran out. */
static int sheet_load(struct sheet *s, struct req *r, const struct export_table *t, struct jw *w)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    size_t len = 0;
    const char *text = jw_text(w, &len);
    s->root = text ? json_loadb(text, len, 0, NULL) : NULL;
    jw_free(w);
    s->rows = json_object_get(s->root, t->rows);
    if (!json_is_array(s->rows) || t->ncols > sizeof s->cols / sizeof s->cols[0])
        return -1;
    s->nrows = json_array_size(s->rows);
    if (s->nrows > EXPORT_ROWS_MAX)
        return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        bool shown = !t->cols[c].optional;
        for (size_t i = 0; !shown && i < s->nrows; i++)
            shown = json_object_get(json_array_get(s->rows, i), t->cols[c].key) != NULL;
        if (shown)
            s->cols[s->ncols++] = c;
    }
    if (t->mark) {
        s->marks = calloc(s->nrows ? s->nrows : 1, 1);
        if (!s->marks)
            return -1;
        for (size_t i = 0; i < s->nrows; i++)
            s->marks[i] = t->mark(r, json_array_get(s->rows, i));
    }
    return 0;
}

/* A value as text (CSV, and XLSX text cells): into buf or borrowed from v.
 * Absent and null: "". */
static const char *cell_text(enum export_kind kind, const json_t *v, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!v)
        return "";
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        if (kind == EXPORT_PERCENT)
            snprintf(buf, n, "%.2f%%", json_real_value(v) * 100.0);
        else
            snprintf(buf, n, "%.6g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "是";
    case JSON_FALSE:
        return "否";
    case JSON_ARRAY: {
        size_t used = 0, i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            const char *s = json_string_value(e);
            if (s && used < n)
                used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "", s);
        }
        return buf;
    }
    default:
        return "";
    }
}

/* "gradcover-queue-611002-2026-as-of-2026-03-10.csv" (ASCII) and its
 * Chinese twin, percent-encoded for filename*=UTF-8''; sets the header. */
static void add_disposition(struct req *r, const struct sheet *s, const char *ext)
{
    const struct config *cfg = r->app->cfg;
    char date[16];
    int y;
    unsigned m, d;
    civil_from_days(local_day_of(app_now_ms(r->app), cfg->utc_offset_minutes), &y, &m, &d);
    snprintf(date, sizeof date, "%04d-%02u-%02u", y, m, d);
    const char *period = json_string_value(json_object_get(s->root, "period"));
    if (!period || strspn(period, "0123456789") != strlen(period) || strlen(period) > 4)
        period = "";
    const struct county_cfg *cc = s->t->per_county ? config_county(cfg, r->params[0]) : NULL;
    char ascii[160], utf8[400], enc[1200], value[1500];
    snprintf(ascii, sizeof ascii, "gradcover-%s%s%s-%s-as-of-%s.%s", s->t->stem, cc ? "-" : "",
             cc ? cc->code : "", period, date, ext);
    snprintf(utf8, sizeof utf8, "%s%s%s年-截至%s.%s", cc && cc->name ? cc->name : "", s->t->title,
             period, date, ext);
    /* RFC 8187: everything but attr-char percent-encoded. */
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)utf8; *p && k + 4 < sizeof enc; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            strchr("!#$&+-.^_`|~", *p)) {
            enc[k++] = (char)*p;
        } else {
            enc[k++] = '%';
            enc[k++] = hex[*p >> 4];
            enc[k++] = hex[*p & 15];
        }
    }
    enc[k] = '\0';
    snprintf(value, sizeof value, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, enc);
    http_add_header(r, "Content-Disposition", value);
}

/* ---- CSV (RFC 4180), on the loop ---- */

/* One field: quoted when it holds a quote, a comma or a line break; a text
 * starting with = + - @ (or a tab or CR) gets a leading apostrophe so that a
 * spreadsheet shows it instead of evaluating it (OWASP CSV injection). */
static void csv_field(struct jw *w, const char *s, bool guard)
{
    bool quote = strpbrk(s, "\",\r\n") != NULL;
    bool formula = guard && s[0] && strchr("=+-@\t\r", s[0]);
    if (quote)
        jw_raw(w, "\"", 1);
    if (formula)
        jw_raw(w, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            jw_raw(w, "\"", 1);
        jw_raw(w, p, 1);
    }
    if (quote)
        jw_raw(w, "\"", 1);
}

static void reply_csv(struct req *r, struct jw *answer)
{
    const struct export_table *t = r->reply_200_arg;
    struct sheet s;
    if (sheet_load(&s, r, t, answer) < 0) {
        sheet_clear(&s);
        http_reply_error(r, 500, "internal", "cannot export this answer", NULL);
        return;
    }
    struct jw w;
    jw_init(&w);
    jw_reserve(&w, 256 + s.nrows * 128);
    jw_raw(&w, UTF8_BOM, sizeof UTF8_BOM - 1);
    for (size_t c = 0; c < s.ncols; c++) {
        if (c)
            jw_raw(&w, ",", 1);
        csv_field(&w, t->cols[s.cols[c]].header, false);
    }
    if (s.marks)
        jw_raw(&w, "," MARK_HEADER, sizeof "," MARK_HEADER - 1);
    jw_raw(&w, "\r\n", 2);
    char buf[512];
    for (size_t i = 0; i < s.nrows; i++) {
        json_t *row = json_array_get(s.rows, i);
        for (size_t c = 0; c < s.ncols; c++) {
            const struct export_column *col = &t->cols[s.cols[c]];
            if (c)
                jw_raw(&w, ",", 1);
            const json_t *v = json_object_get(row, col->key);
            /* Only text from people can hold a formula; numbers are ours. */
            csv_field(&w, cell_text(col->kind, v, buf, sizeof buf), json_is_string(v));
        }
        if (s.marks)
            jw_raw(&w, s.marks[i] ? ",是" : ",否", sizeof ",是" - 1);
        jw_raw(&w, "\r\n", 2);
    }
    add_disposition(r, &s, "csv");
    sheet_clear(&s);
    http_reply_text(r, 200, CSV_CTYPE, &w);
}

/* ---- XLSX, on a worker thread ---- */

struct exporter {
    struct event_base *base;
    char tmpdir[512];
    unsigned running;
    struct export_job *jobs; /* running, newest first */
};

struct export_job {
    struct exporter *ex;
    struct req *r;  /* answered by job_done, or by exporter_free */
    struct sheet s; /* read by the worker; freed on the loop */
    pthread_t thread;
    int pipe[2];        /* the worker writes one byte to [1] when done */
    struct event *done; /* EV_READ on pipe[0] */
    char *bytes;        /* the workbook (malloc'd), set by the worker */
    size_t len;
    char err[400]; /* what failed, set by the worker; "" on success */
    struct export_job *next;
};

/* The formats of one workbook: header, and per kind plain and marked. */
struct formats {
    lxw_format *header, *text[2], *num[2], *pct[2];
};

static void formats_make(lxw_workbook *wb, struct formats *f)
{
    f->header = workbook_add_format(wb);
    format_set_bold(f->header);
    format_set_bg_color(f->header, 0xD9E1F2);
    format_set_bottom(f->header, LXW_BORDER_THIN);
    for (int m = 0; m < 2; m++) {
        f->text[m] = workbook_add_format(wb);
        f->num[m] = workbook_add_format(wb);
        f->pct[m] = workbook_add_format(wb);
        format_set_num_format(f->pct[m], "0.00%");
        if (m) {
            /* Excel's "light red fill with dark red text". */
            lxw_format *all[] = {f->text[m], f->num[m], f->pct[m]};
            for (size_t k = 0; k < 3; k++) {
                format_set_bg_color(all[k], 0xFFC7CE);
                format_set_font_color(all[k], 0x9C0006);
            }
        }
    }
}

static void write_sheet(lxw_workbook *wb, const struct sheet *s)
{
    const struct export_table *t = s->t;
    struct formats f;
    formats_make(wb, &f);
    lxw_worksheet *ws = workbook_add_worksheet(wb, t->title);
    size_t ncols = s->ncols + (s->marks ? 1 : 0);
    for (size_t c = 0; c < s->ncols; c++) {
        const struct export_column *col = &t->cols[s->cols[c]];
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, col->width, NULL);
        worksheet_write_string(ws, 0, (lxw_col_t)c, col->header, f.header);
    }
    if (s->marks) {
        worksheet_set_column(ws, (lxw_col_t)s->ncols, (lxw_col_t)s->ncols, 10, NULL);
        worksheet_write_string(ws, 0, (lxw_col_t)s->ncols, MARK_HEADER, f.header);
    }
    worksheet_freeze_panes(ws, 1, 0);
    if (ncols > 0)
        worksheet_autofilter(ws, 0, 0, (lxw_row_t)s->nrows, (lxw_col_t)(ncols - 1));
    char buf[512];
    for (size_t i = 0; i < s->nrows; i++) {
        const json_t *row = json_array_get(s->rows, i);
        int m = s->marks && s->marks[i];
        lxw_row_t y = (lxw_row_t)(i + 1);
        for (size_t c = 0; c < s->ncols; c++) {
            const struct export_column *col = &t->cols[s->cols[c]];
            const json_t *v = json_object_get(row, col->key);
            lxw_col_t x = (lxw_col_t)c;
            if (json_is_number(v) && (col->kind == EXPORT_INT || col->kind == EXPORT_PERCENT)) {
                /* A string cell is never evaluated: no guard needed here. */
                worksheet_write_number(ws, y, x, json_number_value(v),
                                       col->kind == EXPORT_PERCENT ? f.pct[m] : f.num[m]);
            } else {
                const char *text = cell_text(col->kind, v, buf, sizeof buf);
                if (*text)
                    worksheet_write_string(ws, y, x, text, f.text[m]);
                else
                    worksheet_write_blank(ws, y, x, f.text[m]);
            }
        }
        if (s->marks)
            worksheet_write_string(ws, y, (lxw_col_t)s->ncols, m ? "是" : "否", f.text[m]);
    }
}

/* Reads the whole file at path into a new buffer (the caller frees it). */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (buf = malloc((size_t)st.st_size))) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        if (got != (size_t)st.st_size) {
            free(buf);
            buf = NULL;
        }
        *len = got;
    }
    close(fd);
    return buf;
}

/* The worker: a private directory (0700) holds the workbook and
 * libxlsxwriter's own temporary files; both are gone when it returns. */
static void *job_run(void *arg)
{
    struct export_job *j = arg;
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/gradcover-export-XXXXXX", j->ex->tmpdir);
    if (!mkdtemp(dir)) {
        snprintf(j->err, sizeof j->err, "mkdtemp in %.200s: %.100s", j->ex->tmpdir,
                 strerror(errno));
        goto out_signal;
    }
    snprintf(path, sizeof path, "%s/export.xlsx", dir);
    lxw_workbook_options opt = {.constant_memory = LXW_FALSE, .tmpdir = dir};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb) {
        snprintf(j->err, sizeof j->err, "workbook_new_opt failed");
        goto out_rmdir;
    }
    write_sheet(wb, &j->s);
    lxw_error e = workbook_close(wb); /* frees wb */
    if (e != LXW_NO_ERROR)
        snprintf(j->err, sizeof j->err, "workbook_close: %s", lxw_strerror(e));
    else if (!(j->bytes = slurp(path, &j->len)))
        snprintf(j->err, sizeof j->err, "cannot read back the workbook");
    unlink(path);
out_rmdir:
    if (rmdir(dir) < 0 && !j->err[0])
        snprintf(j->err, sizeof j->err, "rmdir %.200s: %.100s", dir, strerror(errno));
out_signal:;
    char one = 1;
    while (write(j->pipe[1], &one, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

/* Takes the job out of the exporter's list and frees it (not its request). */
static void job_free(struct export_job *j)
{
    struct export_job **p = &j->ex->jobs;
    while (*p && *p != j)
        p = &(*p)->next;
    if (*p)
        *p = j->next;
    j->ex->running--;
    if (j->done)
        event_free(j->done);
    close(j->pipe[0]);
    close(j->pipe[1]);
    sheet_clear(&j->s);
    free(j->bytes);
    free(j);
}

/* On the loop, once the worker has written its byte: join it, answer. */
static void job_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct export_job *j = arg;
    pthread_join(j->thread, NULL); /* it has returned or is returning */
    struct req *r = j->r;
    if (j->err[0]) {
        log_error("event=export_failed request_id=%s format=xlsx err=\"%s\"", r->id, j->err);
        job_free(j);
        http_reply_error(r, 500, "internal", "the workbook could not be written", NULL);
        return;
    }
    add_disposition(r, &j->s, "xlsx");
    http_reply_raw(r, 200, XLSX_CTYPE, j->bytes, j->len);
    job_free(j);
}

/* 503 (http_reply_error adds its Retry-After). */
static void reply_busy(struct req *r)
{
    http_reply_error(r, 503, "export_busy",
                     "every spreadsheet export slot is busy; retry after the indicated delay",
                     NULL);
}

static void reply_xlsx(struct req *r, struct jw *answer)
{
    const struct export_table *t = r->reply_200_arg;
    struct exporter *ex = r->app->exporter;
    if (ex->running >= EXPORT_JOBS_MAX) {
        jw_free(answer);
        reply_busy(r);
        return;
    }
    struct export_job *j = calloc(1, sizeof *j);
    if (!j) {
        jw_free(answer);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    j->pipe[0] = j->pipe[1] = -1;
    errno = 0;
    j->ex = ex;
    j->r = r;
    ex->running++;
    j->next = ex->jobs;
    ex->jobs = j;
    if (sheet_load(&j->s, r, t, answer) < 0)
        goto out_fail;
    if (pipe2(j->pipe, O_CLOEXEC) < 0)
        goto out_fail;
    j->done = event_new(ex->base, j->pipe[0], EV_READ, job_done, j);
    if (!j->done || event_add(j->done, NULL) < 0)
        goto out_fail;
    /* The worker takes no signals: they are the event loop's (SIGTERM,
     * SIGHUP), and one delivered to this thread would get its default
     * action. It inherits the mask in force at its creation. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&j->thread, NULL, job_run, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        goto out_fail;
    }
    return; /* job_done answers */
out_fail:
    log_error("event=export_failed request_id=%s format=xlsx err=\"%s\"", r->id,
              errno ? strerror(errno) : "cannot load the answer");
    job_free(j);
    http_reply_error(r, 500, "internal", "the workbook could not be started", NULL);
}

int export_format_or_reply(struct req *r, const struct export_table *t)
{
    bool bad = false;
    char *f = http_query(r, "format", &bad);
    int ret = 0;
    if (bad || (f && strcmp(f, "json") && strcmp(f, "csv") && strcmp(f, "xlsx"))) {
        http_reply_error(r, 400, "bad_parameter", "format must be json, csv or xlsx", NULL);
        ret = -1;
    } else if (f && strcmp(f, "csv") == 0) {
        r->reply_200 = reply_csv;
        r->reply_200_arg = t;
    } else if (f && strcmp(f, "xlsx") == 0) {
        if (r->app->exporter->running >= EXPORT_JOBS_MAX) {
            reply_busy(r);
            ret = -1;
        } else {
            r->reply_200 = reply_xlsx;
            r->reply_200_arg = t;
        }
    }
    free(f);
    return ret;
}

struct exporter *exporter_new(struct event_base *base, const char *tmpdir)
{
    struct exporter *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->base = base;
    if (!tmpdir || !*tmpdir)
        tmpdir = getenv("TMPDIR");
    snprintf(ex->tmpdir, sizeof ex->tmpdir, "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
    return ex;
}

void exporter_free(struct exporter *ex)
{
    if (!ex)
        return;
    while (ex->jobs) {
        struct export_job *j = ex->jobs;
        struct req *r = j->r;
        pthread_join(j->thread, NULL);
        job_free(j);
        http_reply_error(r, 503, "export_busy", "the server is stopping", NULL);
    }
    free(ex);
}
