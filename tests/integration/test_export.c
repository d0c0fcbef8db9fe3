/* Spreadsheet exports (SPEC §12): coverage, a county's queue and its history
 * as CSV and XLSX through the real server and Redis, read back the way
 * their users' tools read them: the CSV by Python's csv module, the XLSX by
 * openpyxl. Values equal the JSON answer's; percentages, marked rows, the
 * header, masking for leaders, role refusals, bad formats, HEAD, and no
 * temporary file left behind. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbscan.h"
#include "harness.h"

#include "dbscan.c"

static struct gc_server *srv;
static char tmpdir[512]; /* the server's TMPDIR: the workers' directories go there */

#define REGISTERED "2026-03-01T09:00:00+08:00"
#define TODAY "2026-03-10"
#define XLSX_CTYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* Reads an export as a spreadsheet user's tool does and prints what it saw
 * as JSON: argv kind (csv | xlsx) and the file. */
static const char reader_py[] =
    "import csv, io, json, sys\n"
    "kind, path = sys.argv[1], sys.argv[2]\n"
    "data = open(path, 'rb').read()\n"
    "if kind == 'csv':\n"
    "    text = data.decode('utf-8-sig')\n"
    "    rows = list(csv.reader(io.StringIO(text, newline=''), strict=True))\n"
    "    print(json.dumps({'bom': data.startswith(b'\\xef\\xbb\\xbf'),\n"
    "                      'crlf': data.endswith(b'\\r\\n'), 'rows': rows}))\n"
    "else:\n"
    "    import openpyxl\n"
    "    wb = openpyxl.load_workbook(io.BytesIO(data))\n"
    "    ws = wb.active\n"
    "    out = {'sheets': wb.sheetnames, 'freeze': ws.freeze_panes, 'rows': [],\n"
    "           'formats': [], 'fills': [], 'bold': [], 'types': [], 'widths': {}}\n"
    "    for row in ws.iter_rows():\n"
    "        out['rows'].append([c.value for c in row])\n"
    "        out['formats'].append([c.number_format for c in row])\n"
    "        out['fills'].append([c.fill.fgColor.rgb if c.fill.fill_type == 'solid' else None\n"
    "                             for c in row])\n"
    "        out['bold'].append([bool(c.font.b) for c in row])\n"
    "        out['types'].append([c.data_type for c in row])\n"
    "    for k, d in ws.column_dimensions.items():\n"
    "        out['widths'][k] = d.width\n"
    "    print(json.dumps(out, default=str))\n";

static void setup(void)
{
    h_init();
    h_flushdb();
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", h_work_dir());
    /* Empty at the start: what an earlier run's killed server left is not ours. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(mkdir(tmpdir, 0700), 0);
    setenv("TMPDIR", tmpdir, 1); /* inherited by gradcoverd */
    json_t *cfg = h_default_config();
    const char *args[] = {"--now", TODAY "T10:00:00+08:00", NULL};
    srv = h_start(h_write_config(cfg, "export"), args, NULL, true);
    json_decref(cfg);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

/* The exporter's directories in the server's TMPDIR (the workers remove
 * theirs; valgrind keeps its own files there too). */
static int tmp_entries(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "gradcover-export-", 17) == 0)
            n++;
    closedir(d);
    return n;
}

static void reg(const char *token, const char *id, const char *county, int seq, const char *name,
                const char *school)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "county", county, "name",
                          name, "national_id", h_natid(seq), "phone", "13800001234", "school",
                          school, "registered_at", REGISTERED);
    char *text = json_dumps(b, 0);
    json_decref(b);
    struct http_resp *r = h_http(srv, "POST", "/api/v1/graduates", token, text, NULL);
    free(text);
    ck_assert_msg(r->status == 201, "register %s: %d %s", id, r->status, r->body);
    h_resp_free(r);
}

/* 611002: 3 registered, 1 served (33.33%, below 90%); 611021: 1 of 1 (100%,
 * target 92%). G2's name and school start like formulas. */
static void given_graduates(void)
{
    reg(T_C611002, "G1", "611002", 1, "张三", "商洛学院");
    reg(T_C611002, "G2", "611002", 2, "=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1),\"计算机\"");
    reg(T_C611002, "G3", "611002", 3, "-李四", "+商洛学院");
    reg(T_C611021, "G4", "611021", 4, "王五", "西北大学");
    ck_assert_int_eq(h_contact(srv, T_C611002, "G1", NULL, NULL), 201);
    ck_assert_int_eq(h_contact(srv, T_C611021, "G4", NULL, NULL), 201);
}

static struct http_resp *get(const char *token, const char *path)
{
    struct http_resp *r = h_http(srv, "GET", path, token, NULL, NULL);
    ck_assert_ptr_nonnull(r);
    return r;
}

static json_t *get_json(const char *token, const char *path)
{
    struct http_resp *r = get(token, path);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

/* The export at path, checked for its status, type and file name, read
 * back by Python (a new reference). */
static json_t *get_export(const char *token, const char *path, const char *kind,
                          const char *filename)
{
    struct http_resp *r = get(token, path);
    ck_assert_msg(r->status == 200, "%s: %d %s", path, r->status, r->body);
    char h[600], want[300];
    ck_assert_str_eq(h_header(r, "Content-Type", h, sizeof h),
                     strcmp(kind, "csv") == 0 ? "text/csv; charset=utf-8" : XLSX_CTYPE);
    snprintf(want, sizeof want, "attachment; filename=\"%s\"; filename*=UTF-8''", filename);
    h_header(r, "Content-Disposition", h, sizeof h);
    ck_assert_msg(strncmp(h, want, strlen(want)) == 0, "Content-Disposition: %s", h);
    ck_assert_str_eq(h_header(r, "Cache-Control", h, sizeof h), "no-store");
    char file[600], script[600], cmd[1400];
    snprintf(file, sizeof file, "%s/export.%s", h_work_dir(), kind);
    snprintf(script, sizeof script, "%s/export_reader.py", h_work_dir());
    FILE *f = fopen(file, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(r->body, 1, r->body_len, f), r->body_len);
    fclose(f);
    f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fputs(reader_py, f);
    fclose(f);
    h_resp_free(r);
    /* Debian's python3, where python3-openpyxl is (not one earlier in PATH). */
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s", script, kind, file);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    json_error_t je;
    json_t *out = json_loadf(p, 0, &je);
    int rc = pclose(p);
    ck_assert_msg(out && rc == 0, "%s: python said rc=%d, %s", path, rc, je.text);
    return out;
}

static json_t *at(json_t *table, size_t row, size_t col)
{
    return json_array_get(json_array_get(table, row), col);
}

static const char *cell(json_t *table, size_t row, size_t col)
{
    const char *s = json_string_value(at(table, row, col));
    return s ? s : "";
}

/* The index of the header named name in row 0; fails when absent. */
static size_t col_of(json_t *table, const char *name)
{
    json_t *head = json_array_get(table, 0);
    for (size_t i = 0; i < json_array_size(head); i++)
        if (json_is_string(json_array_get(head, i)) &&
            strcmp(json_string_value(json_array_get(head, i)), name) == 0)
            return i;
    ck_abort_msg("no column %s", name);
    return 0;
}

/* The row whose first column is key. */
static size_t row_of(json_t *table, const char *key)
{
    for (size_t i = 1; i < json_array_size(table); i++)
        if (strcmp(cell(table, i, 0), key) == 0)
            return i;
    ck_abort_msg("no row %s", key);
    return 0;
}

/* The JSON county entry with this code. */
static json_t *county_of(json_t *coverage, const char *code)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(coverage, "counties"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "code")), code) == 0)
            return c;
    }
    ck_abort_msg("no county %s", code);
    return NULL;
}

START_TEST(test_coverage_csv_is_the_json_with_bom_and_percentages)
{
    given_graduates();
    json_t *j = get_json(T_ADMIN, "/api/v1/coverage");
    json_t *x = get_export(T_ADMIN, "/api/v1/coverage?format=csv", "csv",
                           "gradcover-coverage-2026-as-of-" TODAY ".csv");
    ck_assert(json_is_true(json_object_get(x, "bom")));
    ck_assert(json_is_true(json_object_get(x, "crlf")));
    json_t *t = json_object_get(x, "rows");
    /* A header and one line per county of the JSON answer, in its order. */
    json_t *counties = json_object_get(j, "counties");
    ck_assert_uint_eq(json_array_size(t), json_array_size(counties) + 1);
    size_t code = col_of(t, "区县代码"), name = col_of(t, "区县"), reg = col_of(t, "登记人数"),
           srv_ = col_of(t, "已服务人数"), rate = col_of(t, "覆盖率"), thr = col_of(t, "目标"),
           gap = col_of(t, "距目标差人数"), mark = col_of(t, "低于目标");
    size_t i;
    json_t *c;
    json_array_foreach(counties, i, c)
    {
        char buf[64];
        ck_assert_str_eq(cell(t, i + 1, code), json_string_value(json_object_get(c, "code")));
        ck_assert_str_eq(cell(t, i + 1, name), json_string_value(json_object_get(c, "name")));
        snprintf(buf, sizeof buf, "%lld", json_integer_value(json_object_get(c, "registered")));
        ck_assert_str_eq(cell(t, i + 1, reg), buf);
        snprintf(buf, sizeof buf, "%lld", json_integer_value(json_object_get(c, "served")));
        ck_assert_str_eq(cell(t, i + 1, srv_), buf);
        snprintf(buf, sizeof buf, "%lld", json_integer_value(json_object_get(c, "gap")));
        ck_assert_str_eq(cell(t, i + 1, gap), buf);
        json_t *r = json_object_get(c, "rate");
        if (json_is_number(r))
            snprintf(buf, sizeof buf, "%.2f%%", json_number_value(r) * 100);
        else
            buf[0] = '\0';
        ck_assert_str_eq(cell(t, i + 1, rate), buf);
        snprintf(buf, sizeof buf, "%.2f%%",
                 json_number_value(json_object_get(c, "threshold")) * 100);
        ck_assert_str_eq(cell(t, i + 1, thr), buf);
        ck_assert_str_eq(cell(t, i + 1, mark),
                         json_is_true(json_object_get(c, "below_target")) ? "是" : "否");
    }
    /* The numbers themselves, not only their agreement with the JSON. */
    size_t r611002 = row_of(t, "611002"), r611021 = row_of(t, "611021");
    ck_assert_str_eq(cell(t, r611002, rate), "33.33%");
    ck_assert_str_eq(cell(t, r611002, mark), "是");
    ck_assert_str_eq(cell(t, r611021, rate), "100.00%");
    ck_assert_str_eq(cell(t, r611021, thr), "92.00%");
    ck_assert_str_eq(cell(t, r611021, mark), "否");
    json_decref(x);
    json_decref(j);
}
END_TEST

START_TEST(test_coverage_xlsx_has_percent_formats_marks_and_a_frozen_bold_header)
{
    given_graduates();
    json_t *j = get_json(T_ADMIN, "/api/v1/coverage");
    json_t *x = get_export(T_ADMIN, "/api/v1/coverage?format=xlsx", "xlsx",
                           "gradcover-coverage-2026-as-of-" TODAY ".xlsx");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(x, "sheets"), 0)), "覆盖率");
    ck_assert_str_eq(json_string_value(json_object_get(x, "freeze")), "A2");
    json_t *t = json_object_get(x, "rows"), *fmt = json_object_get(x, "formats"),
           *fill = json_object_get(x, "fills"), *bold = json_object_get(x, "bold");
    ck_assert_uint_eq(json_array_size(t), json_array_size(json_object_get(j, "counties")) + 1);
    for (size_t c = 0; c < json_array_size(json_array_get(t, 0)); c++)
        ck_assert(json_is_true(at(bold, 0, c)));
    ck_assert(json_is_false(at(bold, 1, 0)));
    size_t reg = col_of(t, "登记人数"), rate = col_of(t, "覆盖率"), thr = col_of(t, "目标");
    size_t r611002 = row_of(t, "611002"), r611021 = row_of(t, "611021");
    /* Numbers as numbers, rates as numbers shown as percentages. */
    ck_assert_int_eq(json_integer_value(at(t, r611002, reg)), 3);
    ck_assert(json_real_value(at(t, r611002, rate)) ==
              json_number_value(json_object_get(county_of(j, "611002"), "rate")));
    ck_assert_str_eq(json_string_value(at(fmt, r611002, rate)), "0.00%");
    ck_assert_str_eq(json_string_value(at(fmt, r611021, thr)), "0.00%");
    ck_assert(json_number_value(at(t, r611021, rate)) == 1.0);
    ck_assert_str_eq(json_string_value(at(fmt, r611021, reg)), "General");
    /* Below target: every cell of the row filled; others not. */
    for (size_t c = 0; c < json_array_size(json_array_get(t, 0)); c++) {
        ck_assert_str_eq(json_string_value(at(fill, r611002, c)), "FFFFC7CE");
        ck_assert(json_is_null(at(fill, r611021, c)));
    }
    ck_assert_str_eq(cell(t, r611002, col_of(t, "低于目标")), "是");
    /* Widths set from the table (libxlsxwriter pads them). */
    json_t *w = json_object_get(x, "widths");
    ck_assert(json_number_value(json_object_get(w, "A")) >= 10);
    ck_assert(json_number_value(json_object_get(w, "B")) >= 14);
    ck_assert_int_eq(tmp_entries(), 0);
    json_decref(x);
    json_decref(j);
}
END_TEST

START_TEST(test_queue_exports_mask_phones_for_leaders_and_defuse_formulas)
{
    given_graduates();
    /* The counselor sees the phone; the county's leader a masked one. */
    json_t *jc = get_json(T_C611002, "/api/v1/counties/611002/queue");
    json_t *jl = get_json(T_L611002, "/api/v1/counties/611002/queue");
    const char *full = json_string_value(
        json_object_get(json_array_get(json_object_get(jc, "graduates"), 0), "phone"));
    const char *masked = json_string_value(
        json_object_get(json_array_get(json_object_get(jl, "graduates"), 0), "phone"));
    ck_assert_str_eq(full, "13800001234");
    ck_assert_str_ne(masked, full);
    const char *kinds[] = {"csv", "xlsx"};
    for (int k = 0; k < 2; k++) {
        char path[128], name[128];
        snprintf(path, sizeof path, "/api/v1/counties/611002/queue?format=%s", kinds[k]);
        snprintf(name, sizeof name, "gradcover-queue-611002-2026-as-of-" TODAY ".%s", kinds[k]);
        json_t *xc = get_export(T_C611002, path, kinds[k], name);
        json_t *xl = get_export(T_L611002, path, kinds[k], name);
        json_t *tc = json_object_get(xc, "rows"), *tl = json_object_get(xl, "rows");
        /* G2 and G3 wait; G1 was served. */
        ck_assert_uint_eq(json_array_size(tl), 3);
        size_t phone = col_of(tl, "电话"), nm = col_of(tl, "姓名"), school = col_of(tl, "学校");
        size_t g2 = row_of(tl, "G2"), g3 = row_of(tl, "G3");
        ck_assert_str_eq(cell(tc, row_of(tc, "G2"), phone), full);
        ck_assert_str_eq(cell(tl, g2, phone), masked);
        ck_assert_str_eq(cell(tl, g3, phone), masked);
        if (k == 0) {
            ck_assert_str_eq(cell(tl, g2, col_of(tl, "等待天数")), "9");
            /* CSV: a leading apostrophe; the text itself intact (quotes, commas). */
            ck_assert_str_eq(cell(tl, g2, nm), "'=HYPERLINK(\"http://x\",\"y\")");
            ck_assert_str_eq(cell(tl, g2, school), "'@SUM(A1),\"计算机\"");
            ck_assert_str_eq(cell(tl, g3, nm), "'-李四");
            ck_assert_str_eq(cell(tl, g3, school), "'+商洛学院");
        } else {
            /* XLSX: string cells, never evaluated: the text as it is. */
            json_t *types = json_object_get(xl, "types");
            ck_assert_str_eq(cell(tl, g2, nm), "=HYPERLINK(\"http://x\",\"y\")");
            ck_assert_str_eq(json_string_value(at(types, g2, nm)), "s");
            ck_assert_str_eq(cell(tl, g3, nm), "-李四");
            ck_assert_int_eq(json_integer_value(at(tl, g2, col_of(tl, "等待天数"))), 9);
        }
        json_decref(xc);
        json_decref(xl);
    }
    ck_assert_int_eq(tmp_entries(), 0);
    json_decref(jc);
    json_decref(jl);
}
END_TEST

START_TEST(test_history_exports_mark_the_days_below_target)
{
    given_graduates();
    /* The leader of 611002 may not read 611021's history: nor export it. */
    h_expect(get(T_L611002, "/api/v1/counties/611021/history?format=csv"), 403, "forbidden");
    json_t *j = get_json(T_ADMIN, "/api/v1/counties/611002/history");
    json_t *pts = json_object_get(j, "points");
    json_t *x = get_export(T_ADMIN, "/api/v1/counties/611002/history?format=csv", "csv",
                           "gradcover-history-611002-2026-as-of-" TODAY ".csv");
    json_t *t = json_object_get(x, "rows");
    ck_assert_uint_eq(json_array_size(t), json_array_size(pts) + 1);
    size_t last = json_array_size(pts);
    json_t *p = json_array_get(pts, last - 1);
    ck_assert_str_eq(cell(t, last, col_of(t, "日期")),
                     json_string_value(json_object_get(p, "date")));
    ck_assert_str_eq(cell(t, last, col_of(t, "覆盖率")), "33.33%");
    ck_assert_str_eq(cell(t, last, col_of(t, "低于目标")), "是");
    json_decref(x);
    x = get_export(T_ADMIN, "/api/v1/counties/611002/history?format=xlsx", "xlsx",
                   "gradcover-history-611002-2026-as-of-" TODAY ".xlsx");
    t = json_object_get(x, "rows");
    ck_assert_uint_eq(json_array_size(t), json_array_size(pts) + 1);
    ck_assert_str_eq(
        json_string_value(at(json_object_get(x, "formats"), last, col_of(t, "覆盖率"))), "0.00%");
    ck_assert_str_eq(json_string_value(at(json_object_get(x, "fills"), last, 0)), "FFFFC7CE");
    json_decref(x);
    json_decref(j);
    /* 611021 (100% of a 92% target): nothing marked. */
    x = get_export(T_ADMIN, "/api/v1/counties/611021/history?format=csv", "csv",
                   "gradcover-history-611021-2026-as-of-" TODAY ".csv");
    t = json_object_get(x, "rows");
    for (size_t i = 1; i < json_array_size(t); i++)
        if (strcmp(cell(t, i, col_of(t, "覆盖率")), "") != 0)
            ck_assert_str_eq(cell(t, i, col_of(t, "低于目标")), "否");
    json_decref(x);
}
END_TEST

START_TEST(test_exports_keep_the_routes_roles_and_scopes)
{
    given_graduates();
    const char *kinds[] = {"csv", "xlsx"};
    for (int k = 0; k < 2; k++) {
        char path[128];
        /* A viewer reads aggregates only; a counselor of another county is refused. */
        snprintf(path, sizeof path, "/api/v1/counties/611002/queue?format=%s", kinds[k]);
        h_expect(get(T_VIEWER, path), 403, "forbidden");
        h_expect(get(T_C611021, path), 403, "forbidden");
        h_expect(get(NULL, path), 401, "unauthorized");
        snprintf(path, sizeof path, "/api/v1/counties/999999/queue?format=%s", kinds[k]);
        h_expect(get(T_ADMIN, path), 404, "not_found");
    }
    /* A county's leader exports its county only, as its JSON shows. */
    json_t *x = get_export(T_L611002, "/api/v1/coverage?format=csv", "csv",
                           "gradcover-coverage-2026-as-of-" TODAY ".csv");
    json_t *t = json_object_get(x, "rows");
    ck_assert_uint_eq(json_array_size(t), 2);
    ck_assert_str_eq(cell(t, 1, 0), "611002");
    json_decref(x);
    /* A viewer exports the aggregates it may read. */
    x = get_export(T_VIEWER, "/api/v1/coverage?format=xlsx", "xlsx",
                   "gradcover-coverage-2026-as-of-" TODAY ".xlsx");
    ck_assert_uint_eq(json_array_size(json_object_get(x, "rows")), 9);
    json_decref(x);
}
END_TEST

START_TEST(test_a_bad_format_is_refused_and_changes_nothing)
{
    given_graduates();
    char *before = db_digest(NULL);
    const char *paths[] = {"/api/v1/coverage?format=pdf", "/api/v1/coverage?format=CSV",
                           "/api/v1/coverage?format=", "/api/v1/counties/611002/queue?format=xls",
                           "/api/v1/counties/611002/queue?format=csv&format=xlsx",
                           "/api/v1/counties/611002/history?format=json2",
                           /* The one-county coverage has no export. */
                           "/api/v1/counties/611002/coverage?format=csv"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        h_expect(get(T_ADMIN, paths[i]), 400, "bad_parameter");
    char *after = db_digest(NULL);
    const char *diff = db_digest_diff(before, after);
    ck_assert_msg(!diff, "a refused export changed Redis: %s", diff);
    free(before);
    free(after);
    /* format=json is the JSON answer. */
    json_t *j = get_json(T_ADMIN, "/api/v1/coverage?format=json");
    ck_assert(json_is_array(json_object_get(j, "counties")));
    json_decref(j);
    ck_assert_int_eq(tmp_entries(), 0);
}
END_TEST

START_TEST(test_head_is_refused_as_for_the_json)
{
    /* The routes take GET only (HEAD: 405 with Allow): an export does not
     * change that, and builds nothing. */
    const char *paths[] = {"/api/v1/counties/611002/queue",
                           "/api/v1/counties/611002/queue?format=csv",
                           "/api/v1/coverage?format=xlsx"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char h[200];
        struct http_resp *r = h_http(srv, "HEAD", paths[i], T_C611002, NULL, NULL);
        ck_assert_int_eq(r->status, 405);
        ck_assert_str_eq(h_header(r, "Allow", h, sizeof h), "GET");
        ck_assert_ptr_null(h_header(r, "Content-Disposition", h, sizeof h));
        h_resp_free(r);
    }
    ck_assert_int_eq(tmp_entries(), 0);
}
END_TEST

/* What one of several simultaneous clients got: 0 a workbook, 1 a proper
 * "busy" (503 export_busy with Retry-After; under valgrind, whose loop is
 * 50 times slower, also a read that ran out of its Redis time:
 * redis_unavailable), 2 anything else. */
static int busy_client(const char *path)
{
    struct http_resp *r = h_http(srv, "GET", path, T_ADMIN, NULL, NULL);
    char h[64];
    int code = 2;
    if (r && r->status == 200 && r->body_len > 4 && memcmp(r->body, "PK\3\4", 4) == 0)
        code = 0;
    else if (r && r->status == 503 && h_header(r, "Retry-After", h, sizeof h)) {
        const char *c =
            json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
        code = strcmp(c, "export_busy") == 0 || strcmp(c, "redis_unavailable") == 0 ? 1 : 2;
    }
    if (code == 2)
        fprintf(stderr, "test_export: %s: %d %s\n", path, r ? r->status : 0,
                r && r->json ? r->body : "");
    h_resp_free(r);
    return code;
}

START_TEST(test_simultaneous_workbooks_are_built_or_refused_busy)
{
    /* 1,000 counties: a workbook that takes a while to build. */
    ck_assert_int_eq(h_stop(srv), 0);
    json_t *cfg = h_default_config();
    json_t *cs = json_object_get(cfg, "counties");
    for (int i = 0; i < 1000; i++) {
        char code[16], name[32];
        snprintf(code, sizeof code, "c%05d", i);
        snprintf(name, sizeof name, "测试县%d", i);
        json_array_append_new(cs, json_pack("{s:s, s:s}", "code", code, "name", name));
    }
    const char *args[] = {"--now", TODAY "T10:00:00+08:00", NULL};
    srv = h_start(h_write_config(cfg, "export-big"), args, NULL, true);
    json_decref(cfg);
    enum { CLIENTS = 6 };
    pid_t pids[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        pids[i] = h_child_fork();
        if (pids[i] == 0)
            h_child_exit(busy_client("/api/v1/coverage?format=xlsx"));
    }
    int got[3] = {0, 0, 0};
    for (int i = 0; i < CLIENTS; i++) {
        int code = h_child_wait(pids[i]);
        ck_assert_msg(code == 0 || code == 1, "client %d: exit code %d", i, code);
        got[code]++;
    }
    /* How many were refused depends on timing; that each answer is whole does not. */
    fprintf(stderr, "test_export: %d simultaneous workbooks: %d built, %d busy\n", CLIENTS, got[0],
            got[1]);
    ck_assert_int_ge(got[0], 1);
    /* Once they are done, a slot is free again, and nothing is left in TMPDIR. */
    ck_assert_int_eq(busy_client("/api/v1/coverage?format=xlsx"), 0);
    ck_assert_int_eq(tmp_entries(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_coverage_csv_is_the_json_with_bom_and_percentages);
    tcase_add_test(tc, test_coverage_xlsx_has_percent_formats_marks_and_a_frozen_bold_header);
    tcase_add_test(tc, test_queue_exports_mask_phones_for_leaders_and_defuse_formulas);
    tcase_add_test(tc, test_history_exports_mark_the_days_below_target);
    tcase_add_test(tc, test_exports_keep_the_routes_roles_and_scopes);
    tcase_add_test(tc, test_a_bad_format_is_refused_and_changes_nothing);
    tcase_add_test(tc, test_head_is_refused_as_for_the_json);
    tcase_add_test(tc, test_simultaneous_workbooks_are_built_or_refused_busy);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
