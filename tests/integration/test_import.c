/* `gradcover import` against the real gradcoverd and Redis (SPEC §12,
 * Import): a UTF-8 file with BOM and a GB18030 one (made here with iconv),
 * quoted fields with commas and newlines; each kind of bad row rejected
 * with its column and reason while the good rows go in and the counts move
 * by exactly those; --check changes nothing; a re-import registers nothing
 * new; a different record under a stored id is rejected; the report holds
 * no personal data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static struct gc_server *srv;
static char cfg_path[600];
static char out[8192];

static void setup(void)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    snprintf(cfg_path, sizeof cfg_path, "%s", h_write_config(cfg, "import"));
    json_decref(cfg);
    srv = h_start(cfg_path, NULL, NULL, true);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
}

/* A path in the test's work directory (rotating static buffer). */
static const char *work(const char *name)
{
    static char bufs[4][600];
    static int slot;
    char *b = bufs[slot++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", h_work_dir(), name);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "no %s", path);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Runs `gradcover import` as the admin with args; its exit code, stdout in out. */
static int import(const char *args)
{
    const char *bin = getenv("GC_CLI");
    ck_assert_msg(bin, "GC_CLI not set");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "GRADCOVER_TOKEN=%s %s import --config %s --url http://127.0.0.1:%d %s 2>/dev/null",
             T_ADMIN, bin, cfg_path, srv->port, args);
    FILE *p = popen(cmd, "r");
    ck_assert(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long long registered(const char *county)
{
    long long reg, served;
    h_counts(srv, county, "", &reg, &served);
    return reg;
}

static void stored_name(const char *county, const char *id, char *buf, size_t n)
{
    redisReply *r = redisCommand(h_redis(), "HGET gc:{%s}:g:%s name", county, id);
    ck_assert(r);
    snprintf(buf, n, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(none)");
    freeReplyObject(r);
}

#define HEADER                                                                                     \
    "id,county,name,national_id,phone,school,major,graduation_year,registered_at,flags\r\n"

/* A national ID whose check character is wrong. */
static const char *bad_natid(int seq)
{
    static char b[32];
    snprintf(b, sizeof b, "%s", h_natid(seq));
    b[17] = b[17] == '0' ? '1' : '0';
    return b;
}

/* The good rows (records 2-4) and one bad row of each kind (records 5-13),
 * with the column each bad one is rejected for. */
static const char *bad_columns[] = {"national_id", "county", "phone", "graduation_year", "name",
                                    "flags",       "_row",   "id",    "registered_at"};

static void write_mixed(const char *path, bool bom)
{
    char text[8192];
    int n = snprintf(text, sizeof text,
                     "%s" HEADER "I1,611002,\"王, 小明\",%s,13900000001,商洛学院,\"计算机, "
                     "软件\",2026,,hardship;disabled\r\n"
                     "I2,611002,\"李\"\"四\"\"\",%s,,,\"two\nlines\",,,\r\n"
                     "I3,611021,赵六,%s,,,,,,\r\n",
                     bom ? "\xef\xbb\xbf" : "", h_natid(1), h_natid(2), h_natid(3));
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "B1,611002,坏一,%s,,,,,,\r\n"
                  "B2,999999,坏二,%s,,,,,,\r\n"
                  "B3,611002,坏三,%s,12ab,,,,,\r\n"
                  "B4,611002,坏四,%s,,,,1800,,\r\n"
                  "B5,611002,,%s,,,,,,\r\n",
                  bad_natid(4), h_natid(5), h_natid(6), h_natid(7), h_natid(8));
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "B6,611002,坏六,%s,,,,,,rich\r\n"
                  "B7,611002,坏七\r\n"
                  "13912345678,611002,坏八,%s,,,,,,\r\n"
                  "B9,611002,坏九,%s,,,,,2099-01-01T00:00:00+08:00,\r\n"
                  "\r\n",
                  h_natid(9), h_natid(10), h_natid(11));
    write_file(path, text);
}

/* The report names exactly records 5..13 with their columns, in order, and
 * nothing personal of any row. */
static void check_report(const char *path)
{
    char *rep = read_file(path);
    char *line = strtok(rep, "\r\n");
    ck_assert_str_eq(line, "row,column,reason");
    for (int i = 0; i < 9; i++) {
        line = strtok(NULL, "\r\n");
        ck_assert_msg(line, "report ends before record %d", 5 + i);
        char want[64];
        snprintf(want, sizeof want, "%d,%s,", 5 + i, bad_columns[i]);
        ck_assert_msg(strncmp(line, want, strlen(want)) == 0 && strlen(line) > strlen(want) + 3,
                      "report line %d: %s (want %s<reason>)", i + 2, line, want);
    }
    ck_assert_ptr_null(strtok(NULL, "\r\n"));
    rep = read_file(path);
    for (int seq = 1; seq <= 11; seq++)
        ck_assert_msg(!strstr(rep, h_natid(seq)), "a national ID in the report");
    static const char *personal[] = {"王",   "李",     "赵", "坏", "13900000001", "13912345678",
                                     "商洛", "计算机", "B1", "I1", "12ab",        "rich"};
    for (size_t i = 0; i < sizeof personal / sizeof personal[0]; i++)
        ck_assert_msg(!strstr(rep, personal[i]), "the report holds \"%s\": %s", personal[i], rep);
}

START_TEST(test_utf8_bom_bad_rows_rejected_good_rows_counted)
{
    long long r2 = registered("611002"), r21 = registered("611021");
    write_mixed(work("mixed.csv"), true);
    ck_assert_int_eq(import(work("mixed.csv")), 1);
    ck_assert_msg(strstr(out, "registered 3, already there 0, rejected 9"), "%s", out);
    ck_assert_int_eq(registered("611002"), r2 + 2);
    ck_assert_int_eq(registered("611021"), r21 + 1);
    check_report(work("mixed.csv.rejected.csv"));
    /* Quoted fields arrive whole: commas, doubled quotes, a newline. */
    char name[128];
    stored_name("611002", "I1", name, sizeof name);
    ck_assert_str_eq(name, "王, 小明");
    stored_name("611002", "I2", name, sizeof name);
    ck_assert_str_eq(name, "李\"四\"");
    redisReply *r = redisCommand(h_redis(), "HGET gc:{611002}:g:I2 major");
    ck_assert(r && r->type == REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, "two\nlines"); /* Excel's Alt+Enter: LF */
    freeReplyObject(r);
    /* The flags went in by the correction that follows the registration. */
    struct http_resp *g = h_http(srv, "GET", "/api/v1/graduates/I1", T_ADMIN, NULL, NULL);
    ck_assert_int_eq(g->status, 200);
    json_t *flags = json_object_get(g->json, "flags");
    ck_assert_int_eq(json_array_size(flags), 2);
    ck_assert_str_eq(json_string_value(json_array_get(flags, 0)), "hardship");
    ck_assert_str_eq(json_string_value(json_array_get(flags, 1)), "disabled");
    h_resp_free(g);
    /* None of the bad rows left anything behind. */
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:B1 gc:{611002}:g:B3 gc:{611002}:g:B9"), 0);
}
END_TEST

START_TEST(test_reimport_registers_nothing_new)
{
    write_mixed(work("again.csv"), false);
    ck_assert_int_eq(import(work("again.csv")), 1);
    long long r2 = registered("611002"), r21 = registered("611021");
    long long audit = h_redis_int("XLEN gc:{611002}:audit");
    ck_assert_int_eq(import(work("again.csv")), 1);
    ck_assert_msg(strstr(out, "registered 0, already there 3, rejected 9"), "%s", out);
    ck_assert_int_eq(registered("611002"), r2);
    ck_assert_int_eq(registered("611021"), r21);
    check_report(work("again.csv.rejected.csv"));
    /* Re-sent registrations are audited as such, not as new ones. */
    ck_assert_int_ge(h_redis_int("XLEN gc:{611002}:audit"), audit);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:I1"), 1);
}
END_TEST

START_TEST(test_check_changes_nothing)
{
    write_mixed(work("check.csv"), true);
    long long r2 = registered("611002"); /* first: reading the counts may cache them */
    long long keys = h_redis_int("DBSIZE");
    long long audit = h_redis_int("XLEN gc:{611002}:audit");
    char args[1400];
    snprintf(args, sizeof args, "--check --report %s %s", work("check-report.csv"),
             work("check.csv"));
    ck_assert_int_eq(import(args), 1);
    ck_assert_msg(strstr(out, "checked 12 rows: 3 valid, 9 rejected"), "%s", out);
    check_report(work("check-report.csv"));
    ck_assert_int_eq(h_redis_int("DBSIZE"), keys);
    ck_assert_int_eq(h_redis_int("XLEN gc:{611002}:audit"), audit);
    ck_assert_int_eq(registered("611002"), r2);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:I1"), 0);
}
END_TEST

START_TEST(test_gb18030_file)
{
    char text[2048];
    snprintf(text, sizeof text,
             /* A hand-edited header: any case, spaces around names. */
             "ID, County ,Name,National_ID,phone,school,major,graduation_year,registered_at,"
             "FLAGS\r\n"
             "G1,611002,张三,%s,,商洛学院,汉语言文学,2025,,\r\n"
             "G2,611021,\"欧阳, 娜娜\",%s,,,,,,zero_employment_family\r\n"
             "G3,611002,错号,%s,,,,,,\r\n",
             h_natid(21), h_natid(22), bad_natid(23));
    write_file(work("list.utf8.csv"), text);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "iconv -f UTF-8 -t GB18030 %s > %s", work("list.utf8.csv"),
             work("list.gb.csv"));
    ck_assert_int_eq(system(cmd), 0);
    /* Really GB18030: not valid UTF-8, refused when UTF-8 is forced. */
    char args[1400];
    snprintf(args, sizeof args, "--encoding utf-8 %s", work("list.gb.csv"));
    ck_assert_int_eq(import(args), 2);
    long long r2 = registered("611002"), r21 = registered("611021");
    ck_assert_int_eq(import(work("list.gb.csv")), 1);
    ck_assert_msg(strstr(out, "registered 2, already there 0, rejected 1"), "%s", out);
    ck_assert_int_eq(registered("611002"), r2 + 1);
    ck_assert_int_eq(registered("611021"), r21 + 1);
    char name[128];
    stored_name("611002", "G1", name, sizeof name);
    ck_assert_str_eq(name, "张三");
    stored_name("611021", "G2", name, sizeof name);
    ck_assert_str_eq(name, "欧阳, 娜娜");
    char *rep = read_file(work("list.gb.csv.rejected.csv"));
    ck_assert_msg(strncmp(rep, "row,column,reason\r\n4,national_id,", 33) == 0, "%s", rep);
    ck_assert_msg(!strstr(rep, "错号") && !strstr(rep, bad_natid(23)), "%s", rep);
    /* The same with the encoding named. */
    snprintf(args, sizeof args, "--encoding gb18030 %s", work("list.gb.csv"));
    ck_assert_int_eq(import(args), 1);
    ck_assert_msg(strstr(out, "registered 0, already there 2, rejected 1"), "%s", out);
}
END_TEST

START_TEST(test_other_record_under_a_stored_id_rejected)
{
    h_register(srv, T_ADMIN, "D1", "611002", 31, NULL); /* name 测试 */
    char text[1024];
    snprintf(text, sizeof text, HEADER "D1,611002,别人,%s,,,,,,\r\n", h_natid(31));
    write_file(work("differs.csv"), text);
    long long r2 = registered("611002");
    ck_assert_int_eq(import(work("differs.csv")), 1);
    ck_assert_msg(strstr(out, "registered 0, already there 0, rejected 1"), "%s", out);
    char *rep = read_file(work("differs.csv.rejected.csv"));
    ck_assert_msg(strstr(rep, "\r\n2,name,registration_differs"), "%s", rep);
    ck_assert_int_eq(registered("611002"), r2);
    char name[128];
    stored_name("611002", "D1", name, sizeof name);
    ck_assert_str_eq(name, "测试");
}
END_TEST

START_TEST(test_unusable_files_and_command_lines_exit_2)
{
    write_file(work("badhead.csv"), "id,county,name,national_id,salary\r\n");
    ck_assert_int_eq(import(work("badhead.csv")), 2);
    write_file(work("nonatid.csv"), "id,county,name\r\n");
    ck_assert_int_eq(import(work("nonatid.csv")), 2);
    write_file(work("open.csv"), HEADER "X,611002,\"open\r\n");
    ck_assert_int_eq(import(work("open.csv")), 2);
    ck_assert_int_eq(import(work("missing.csv")), 2);
    ck_assert_int_eq(import("--encoding latin1 x.csv"), 2);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:X"), 0);
}
END_TEST

START_TEST(test_rate_limited_rows_are_retried_not_lost)
{
    /* A server holding this token to 5 writes a second after a burst of 2. */
    ck_assert_int_eq(h_stop(srv), 0);
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "rate_limits",
                        json_pack("{s:i, s:i}", "writes_per_second", 5, "write_burst", 2));
    snprintf(cfg_path, sizeof cfg_path, "%s", h_write_config(cfg, "import-slow"));
    json_decref(cfg);
    srv = h_start(cfg_path, NULL, NULL, true);
    char text[4096];
    int n = snprintf(text, sizeof text, HEADER);
    for (int i = 0; i < 8; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "R%d,611002,限速,%s,,,,,,\r\n", i,
                      h_natid(40 + i));
    write_file(work("slow.csv"), text);
    long long r2 = registered("611002");
    ck_assert_int_eq(import(work("slow.csv")), 0);
    ck_assert_msg(strstr(out, "registered 8, already there 0, rejected 0"), "%s", out);
    ck_assert_int_eq(registered("611002"), r2 + 8);
}
END_TEST

START_TEST(test_refused_token_or_no_server_sends_nothing_more_and_exits_1)
{
    char text[1024];
    snprintf(text, sizeof text, HEADER "T1,611002,令牌,%s,,,,,,\r\n", h_natid(50));
    write_file(work("token.csv"), text);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "GRADCOVER_TOKEN=not-a-token %s import --config %s --url http://127.0.0.1:%d %s "
             ">/dev/null 2>&1",
             getenv("GC_CLI"), cfg_path, srv->port, work("token.csv"));
    int st = system(cmd);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:T1"), 0);
    char *rep = read_file(work("token.csv.rejected.csv"));
    ck_assert_msg(strstr(rep, "\r\n2,_server,not sent: the server refused the token"), "%s", rep);
    /* Nothing listening: said at once, not retried row by row. */
    long long t0 = h_now_ms();
    snprintf(cmd, sizeof cmd,
             "GRADCOVER_TOKEN=%s %s import --config %s --url http://127.0.0.1:1 %s >/dev/null 2>&1",
             T_ADMIN, getenv("GC_CLI"), cfg_path, work("token.csv"));
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    ck_assert_int_lt(h_now_ms() - t0, 10000);
    rep = read_file(work("token.csv.rejected.csv"));
    ck_assert_msg(strstr(rep, "\r\n2,_server,not sent: no answer from the server"), "%s", rep);
    /* No token at all: a command-line error, nothing read. */
    snprintf(cmd, sizeof cmd, "env -u GRADCOVER_TOKEN %s import --config %s %s >/dev/null 2>&1",
             getenv("GC_CLI"), cfg_path, work("token.csv"));
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 2);
}
END_TEST

START_TEST(test_https_server_verified)
{
    ck_assert_int_eq(h_stop(srv), 0);
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "tls_cert", json_string(h_tls_file("server.pem")));
    json_object_set_new(cfg, "tls_key", json_string(h_tls_file("server.key")));
    snprintf(cfg_path, sizeof cfg_path, "%s", h_write_config(cfg, "import-tls"));
    json_decref(cfg);
    srv = h_start_tls(cfg_path, NULL, h_tls_file("ca.pem"), true);
    char text[1024];
    snprintf(text, sizeof text, HEADER "S1,611002,加密,%s,,,,,,\r\n", h_natid(70));
    write_file(work("tls.csv"), text);
    char cmd[2048];
    /* Not trusting the test CA: refused at once, nothing sent. */
    snprintf(cmd, sizeof cmd,
             "GRADCOVER_TOKEN=%s %s import --config %s --url https://127.0.0.1:%d %s >/dev/null "
             "2>&1",
             T_ADMIN, getenv("GC_CLI"), cfg_path, srv->port, work("tls.csv"));
    int st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:S1"), 0);
    snprintf(cmd, sizeof cmd,
             "GRADCOVER_TOKEN=%s %s import --config %s --url https://127.0.0.1:%d --cacert %s %s "
             ">/dev/null 2>&1",
             T_ADMIN, getenv("GC_CLI"), cfg_path, srv->port, h_tls_file("ca.pem"), work("tls.csv"));
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    ck_assert_int_eq(h_redis_int("EXISTS gc:{611002}:g:S1"), 1);
}
END_TEST

/* Runs the import of path with stderr into err (stdout dropped), on a
 * pseudo-terminal (util-linux script) when tty. */
static void import_stderr(const char *path, bool tty, char *err, size_t n)
{
    char inner[1600], cmd[2400];
    snprintf(inner, sizeof inner,
             "GRADCOVER_TOKEN=%s %s import --config %s --url http://127.0.0.1:%d %s", T_ADMIN,
             getenv("GC_CLI"), cfg_path, srv->port, path);
    if (tty)
        snprintf(cmd, sizeof cmd, "script -qec '%s >/dev/null' /dev/null 2>&1", inner);
    else
        snprintf(cmd, sizeof cmd, "%s 2>&1 >/dev/null", inner);
    FILE *p = popen(cmd, "r");
    ck_assert(p);
    size_t got = fread(err, 1, n - 1, p);
    err[got] = '\0';
    pclose(p);
}

START_TEST(test_progress_bar_on_a_terminal_only)
{
    char text[4096];
    int n = snprintf(text, sizeof text, HEADER);
    for (int i = 0; i < 20; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "P%d,611002,进度,%s,,,,,,\r\n", i,
                      h_natid(80 + i));
    write_file(work("progress.csv"), text);
    char err[8192];
    import_stderr(work("progress.csv"), true, err, sizeof err);
    ck_assert_msg(strstr(err, "\r[##############################] 20/20 rows") &&
                      strstr(err, "rows/s"),
                  "no progress bar on a terminal: %s", err);
    import_stderr(work("progress.csv"), false, err, sizeof err);
    ck_assert_msg(!strchr(err, '\r') && strstr(err, "gradcover: 20/20 rows done"),
                  "not plain lines: %s", err);
}
END_TEST

START_TEST(test_row_without_id_rejected)
{
    char text[1024];
    snprintf(text, sizeof text, HEADER ",611002,无号,%s,,,,,,\r\n", h_natid(60));
    write_file(work("noid.csv"), text);
    long long r2 = registered("611002");
    ck_assert_int_eq(import(work("noid.csv")), 1);
    ck_assert_msg(strstr(out, "registered 0, already there 0, rejected 1"), "%s", out);
    char *rep = read_file(work("noid.csv.rejected.csv"));
    ck_assert_msg(strstr(rep, "\r\n2,id,is required"), "%s", rep);
    ck_assert_int_eq(registered("611002"), r2);
}
END_TEST

static void stored_assignee(const char *id, char *buf, size_t n)
{
    redisReply *r = redisCommand(h_redis(), "HGET gc:{611002}:g:%s assigned_to", id);
    ck_assert(r);
    snprintf(buf, n, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(none)");
    freeReplyObject(r);
}

/* The assigned_to column assigns at registration; importing the list again
 * with other counselors hands the graduates already there to them (a PATCH
 * each, nothing registered); a bad name is rejected with its column. */
START_TEST(test_assigned_to_column_assigns_and_reassigns)
{
    char text[2048], who[80], longname[80];
    memset(longname, 'x', 65);
    longname[65] = '\0';
    snprintf(text, sizeof text,
             "id,county,name,national_id,assigned_to\r\n"
             "A1,611002,张一,%s,zhang\r\nA2,611002,张二,%s,wang\r\n"
             "A3,611002,张三,%s,\r\nA4,611002,张四,%s,%s\r\n",
             h_natid(71), h_natid(72), h_natid(73), h_natid(74), longname);
    write_file(work("assign.csv"), text);
    long long r2 = registered("611002");
    ck_assert_int_eq(import(work("assign.csv")), 1);
    ck_assert_msg(strstr(out, "registered 3, already there 0, rejected 1"), "%s", out);
    ck_assert_msg(!strstr(out, "assigned to the file's counselor"), "%s", out);
    ck_assert_msg(strstr(read_file(work("assign.csv.rejected.csv")), "\r\n5,assigned_to,"), "%s",
                  read_file(work("assign.csv.rejected.csv")));
    ck_assert_int_eq(registered("611002"), r2 + 3);
    stored_assignee("A1", who, sizeof who);
    ck_assert_str_eq(who, "zhang");
    stored_assignee("A2", who, sizeof who);
    ck_assert_str_eq(who, "wang");
    stored_assignee("A3", who, sizeof who);
    ck_assert_str_eq(who, "(none)");

    snprintf(text, sizeof text,
             "id,county,name,national_id,assigned_to\r\n"
             "A1,611002,张一,%s,li\r\nA2,611002,张二,%s,wang\r\nA3,611002,张三,%s,zhao\r\n",
             h_natid(71), h_natid(72), h_natid(73));
    write_file(work("assign2.csv"), text);
    ck_assert_int_eq(import(work("assign2.csv")), 0);
    ck_assert_msg(strstr(out, "registered 0, already there 3, rejected 0"), "%s", out);
    ck_assert_msg(strstr(out, "2 rows already there assigned to the file's counselor"), "%s", out);
    ck_assert_int_eq(registered("611002"), r2 + 3);
    stored_assignee("A1", who, sizeof who);
    ck_assert_str_eq(who, "li");
    stored_assignee("A2", who, sizeof who);
    ck_assert_str_eq(who, "wang");
    stored_assignee("A3", who, sizeof who);
    ck_assert_str_eq(who, "zhao");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("import");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_utf8_bom_bad_rows_rejected_good_rows_counted);
    tcase_add_test(tc, test_reimport_registers_nothing_new);
    tcase_add_test(tc, test_check_changes_nothing);
    tcase_add_test(tc, test_gb18030_file);
    tcase_add_test(tc, test_other_record_under_a_stored_id_rejected);
    tcase_add_test(tc, test_unusable_files_and_command_lines_exit_2);
    tcase_add_test(tc, test_row_without_id_rejected);
    tcase_add_test(tc, test_assigned_to_column_assigns_and_reassigns);
    tcase_add_test(tc, test_progress_bar_on_a_terminal_only);
    tcase_add_test(tc, test_https_server_verified);
    tcase_add_test(tc, test_rate_limited_rows_are_retried_not_lost);
    tcase_add_test(tc, test_refused_token_or_no_server_sends_nothing_more_and_exits_1);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
