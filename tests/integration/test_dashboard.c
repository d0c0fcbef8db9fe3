/* The dashboard (SPEC §9, §11): GET / serves one self-contained page, and
 * that page, run in a real headless Chromium against the real gradcoverd,
 * renders every county, its rate and whether it is below target, the city's
 * gap beside the sum of the counties', and the leader's view: a county's
 * year drawn as a chart (one vertex per daily point, the target line, the
 * projection) and its counselors' activity. Screenshots at phone and desktop
 * sizes are left in the build directory for people to look at. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "harness.h"

/* Debian's package `chromium`; CI installs it. */
#define CHROMIUM "/usr/bin/chromium"
/* Chromium starts in about a second; a loaded CI machine gets far more. */
#define CHROMIUM_TIMEOUT_MS 60000
/* Virtual time the page gets before the DOM is dumped: enough for its first
 * fetch (pending network loads pause virtual time), well short of the 15 s
 * poll, so exactly one refresh is seen. */
#define VIRTUAL_TIME_BUDGET "--virtual-time-budget=10000"

static const char *const county_names[] = {"商州区", "洛南县", "丹凤县", "商南县",
                                           "山阳县", "镇安县", "柞水县", "商丹园区"};

static struct gc_server *srv;
static char cfg_path[600];

/* The fixture's day: the dashboard is looked at on 1 June 2026. */
#define TODAY "2026-06-01T10:00:00+08:00"

static void start_server(bool anonymous_read, const char *redis_url)
{
    h_init();
    h_flushdb();
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "anonymous_read", json_boolean(anonymous_read));
    snprintf(cfg_path, sizeof cfg_path, "%s", h_write_config(cfg, "dashboard"));
    json_decref(cfg);
    const char *args[] = {"--now", TODAY, NULL};
    srv = h_start(cfg_path, args, redis_url, redis_url == NULL);
}

/* The same server, stopped and started again with its clock at `now`. */
static void restart_at(const char *now)
{
    ck_assert_int_eq(h_stop(srv), 0);
    const char *args[] = {"--now", now, NULL};
    srv = h_start(cfg_path, args, NULL, true);
}

static void setup(void)
{
    start_server(false, NULL);
}

static void setup_anonymous(void)
{
    start_server(true, NULL);
}

/* Nothing listens on port 1: every coverage read answers 503. */
static void setup_no_redis(void)
{
    start_server(false, "redis://127.0.0.1:1/0");
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(srv), 0);
    srv = NULL;
}

/* Registers `registered` graduates in county and serves the first `served`. */
static void fill_county(const char *county, int registered, int served)
{
    static int seq;
    for (int i = 0; i < registered; i++) {
        char id[64];
        snprintf(id, sizeof id, "D-%s-%d", county, i);
        h_register(srv, T_ADMIN, id, county, ++seq, NULL);
        if (i < served)
            ck_assert_int_eq(h_contact(srv, T_ADMIN, id, NULL, NULL), 201);
    }
}

/* A day of 611002's year: how many were registered and served by then. */
struct history_day {
    const char *day;
    int registered, served;
};

/* 611002's year as in days (n of them, the last TODAY), written by its
 * counselor on each of those days, each with a server started on that day. */
static void county_with_days(const struct history_day *days, size_t n)
{
    int reg = 0, served = 0;
    for (size_t d = 0; d < n; d++) {
        restart_at(days[d].day);
        for (; reg < days[d].registered; reg++) {
            char id[32];
            snprintf(id, sizeof id, "H-%d", reg);
            h_register(srv, T_C611002, id, "611002", 500 + reg, NULL);
        }
        for (; served < days[d].served; served++) {
            char id[32];
            snprintf(id, sizeof id, "H-%d", served);
            ck_assert_int_eq(h_contact(srv, T_C611002, id, NULL, NULL), 201);
        }
    }
}

/* 611002's last 8 days, written on three of them: 25 May 10 registered, 6
 * served; 28 May 12 and 8; 1 June (today) 14 and 9. Points from 25 May to 1
 * June: 8. Served grows slower than registered: at that pace the year ends at
 * 100 of 136, below target. The counselor's contacts: 9 in 30 days, 3 in the
 * last 7. */
static void county_with_a_history(void)
{
    static const struct history_day days[] = {
        {"2026-05-25T10:00:00+08:00", 10, 6}, {"2026-05-28T10:00:00+08:00", 12, 8}, {TODAY, 14, 9}};
    county_with_days(days, sizeof days / sizeof days[0]);
}

/* Below (80% < 90%), exactly at its own 92% target, and above (95% > 90%). */
static void fill_three_counties(void)
{
    fill_county("611002", 10, 8);
    fill_county("611021", 25, 23);
    fill_county("611022", 20, 19);
}

/* The contents of a file as a new string (caller frees), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Runs headless Chromium on `url` with one extra flag (--dump-dom, or
 * --screenshot=...) and, for screenshots, a window size. Each run gets a fresh
 * profile, so the page starts with nothing in localStorage. stdout goes to
 * out_path (the dumped DOM), stderr to a log in the work directory. */
static void run_chromium(const char *url, const char *mode, const char *window,
                         const char *out_path)
{
    ck_assert_msg(access(CHROMIUM, X_OK) == 0,
                  CHROMIUM " is missing: install the Debian package chromium");
    static int run;
    char profile[600], log_path[600], cmd[700];
    snprintf(profile, sizeof profile, "%s/chromium-profile-%d", h_work_dir(), ++run);
    snprintf(log_path, sizeof log_path, "%s/chromium-%d.log", h_work_dir(), run);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", profile);
    ck_assert_int_eq(system(cmd), 0);
    char profile_flag[640];
    snprintf(profile_flag, sizeof profile_flag, "--user-data-dir=%s", profile);

    const char *argv[24] = {CHROMIUM,
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-quic",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--hide-scrollbars",
                            profile_flag,
                            VIRTUAL_TIME_BUDGET,
                            mode};
    int n = 13;
    if (window)
        argv[n++] = window;
    argv[n++] = url;
    argv[n] = NULL;

    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        /* Its own process group, so that a hung run is killed with its helpers. */
        setpgid(0, 0);
        FILE *out = freopen(out_path ? out_path : "/dev/null", "w", stdout);
        FILE *err = freopen(log_path, "w", stderr);
        if (!out || !err)
            _exit(126);
        execv(CHROMIUM, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    long long end = h_now_ms() + CHROMIUM_TIMEOUT_MS;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (h_now_ms() > end) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("chromium did not finish in %d ms (log: %s)", CHROMIUM_TIMEOUT_MS,
                         log_path);
        }
        h_sleep_ms(50);
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "chromium failed (status %d, log: %s)", status, log_path);
}

/* Loads the page with `fragment` ("#token=...&county=...", or "") and
 * returns the DOM Chromium rendered. Caller frees. */
static char *render_dom_at(const char *fragment)
{
    static int run;
    char url[300], out[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", srv->port, fragment);
    snprintf(out, sizeof out, "%s/dom-%d.html", h_work_dir(), ++run);
    run_chromium(url, "--dump-dom", NULL, out);
    char *dom = slurp(out);
    ck_assert_msg(dom && *dom, "chromium dumped no DOM (%s)", out);
    return dom;
}

/* The same with the admin token in the fragment when with_token. */
static char *render_dom(bool with_token)
{
    return render_dom_at(with_token ? "#token=" T_ADMIN : "");
}

/* The markup of the county element with data-county="code", up to the next
 * county's, as a new string (caller frees). Fails the test when absent. */
static char *county_markup(const char *dom, const char *code)
{
    char attr[80];
    snprintf(attr, sizeof attr, "data-county=\"%s\"", code);
    const char *at = strstr(dom, attr);
    ck_assert_msg(at, "no element with %s in the DOM", attr);
    const char *start = at;
    while (start > dom && *start != '<')
        start--;
    const char *next = strstr(at + strlen(attr), "data-county=\"");
    size_t len = next ? (size_t)(next - start) : strlen(start);
    char *s = malloc(len + 1);
    ck_assert(s);
    memcpy(s, start, len);
    s[len] = '\0';
    return s;
}

/* Whether the opening tag at the start of markup has `cls` among its classes. */
static bool tag_has_class(const char *markup, const char *cls)
{
    const char *end = strchr(markup, '>');
    const char *attr = strstr(markup, " class=\"");
    if (!end || !attr || attr > end)
        return false;
    attr += strlen(" class=\"");
    const char *close = strchr(attr, '"');
    size_t want = strlen(cls);
    for (const char *p = attr; p && p < close;) {
        const char *sp = memchr(p, ' ', (size_t)(close - p));
        const char *word_end = sp ? sp : close;
        if ((size_t)(word_end - p) == want && strncmp(p, cls, want) == 0)
            return true;
        p = sp ? sp + 1 : NULL;
    }
    return false;
}

/* Whether the element with id="id" carries the hidden attribute. */
static bool element_hidden(const char *dom, const char *id)
{
    char attr[80];
    snprintf(attr, sizeof attr, " id=\"%s\"", id);
    const char *at = strstr(dom, attr);
    ck_assert_msg(at, "no element with%s in the DOM", attr);
    const char *end = strchr(at, '>');
    const char *hidden = strstr(at, " hidden");
    return end && hidden && hidden < end;
}

/* The opening tag of the first element of dom whose class attribute is
 * exactly cls, as a new string (caller frees); NULL when there is none. */
static char *tag_of_class(const char *dom, const char *cls)
{
    char attr[80];
    snprintf(attr, sizeof attr, " class=\"%s\"", cls);
    const char *at = strstr(dom, attr);
    if (!at)
        return NULL;
    const char *start = at, *end = strchr(at, '>');
    while (start > dom && *start != '<')
        start--;
    ck_assert(end);
    return strndup(start, (size_t)(end - start + 1));
}

/* The value of attribute name in an opening tag (static), "" when absent. */
static const char *attr_of(const char *tag, const char *name)
{
    static char v[8192];
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(tag, key);
    v[0] = '\0';
    if (p) {
        p += strlen(key);
        snprintf(v, sizeof v, "%.*s", (int)strcspn(p, "\""), p);
    }
    return v;
}

/* The number of "x,y" vertices of a polyline's points attribute. */
static int vertices(const char *points)
{
    int n = 0;
    for (const char *p = points; *p;) {
        p += strspn(p, " ");
        if (!*p)
            break;
        n++;
        p += strcspn(p, " ");
    }
    return n;
}

/* The text of the first class="rate" element inside markup. */
static void rate_text(const char *markup, char *buf, size_t n)
{
    const char *p = strstr(markup, "class=\"rate\"");
    ck_assert_msg(p, "no .rate element in %s", markup);
    p = strchr(p, '>');
    ck_assert(p);
    p++;
    size_t len = strcspn(p, "<");
    ck_assert(len < n);
    memcpy(buf, p, len);
    buf[len] = '\0';
}

static void expect_county(const char *dom, const char *code, const char *rate, bool below)
{
    char *m = county_markup(dom, code);
    char got[32];
    rate_text(m, got, sizeof got);
    ck_assert_msg(strcmp(got, rate) == 0, "county %s shows %s, expected %s", code, got, rate);
    ck_assert_msg(tag_has_class(m, "below") == below, "county %s: class below should be %s", code,
                  below ? "set" : "absent");
    free(m);
}

/* The CSP source of the text between the first "<tag>" and "</tag>" in
 * page: 'sha256-<base64 of its SHA-256>' (static). */
static const char *hash_source(const char *page, const char *tag)
{
    char open[16], close[16];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(page, open), *b = a ? strstr(a, close) : NULL;
    ck_assert_msg(a && b, "no <%s> element in the page", tag);
    a += strlen(open);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)a, (size_t)(b - a), md);
    static char src[80];
    strcpy(src, "'sha256-");
    EVP_EncodeBlock((unsigned char *)src + strlen(src), md, sizeof md);
    strcat(src, "'");
    return src;
}

/* The value of one directive ("script-src ...") of a policy (static). */
static const char *directive(const char *csp, const char *name)
{
    static char v[400];
    const char *p = strstr(csp, name);
    ck_assert_msg(p && (p == csp || p[-1] == ' '), "no %s in CSP %s", name, csp);
    size_t n = strcspn(p, ";");
    snprintf(v, sizeof v, "%.*s", (int)n, p);
    return v;
}

START_TEST(test_root_serves_self_contained_html)
{
    struct http_resp *r = h_http(srv, "GET", "/", NULL, NULL, NULL);
    ck_assert(r);
    ck_assert_int_eq(r->status, 200);
    char ct[100], csp[600];
    ck_assert(h_header(r, "Content-Type", ct, sizeof ct));
    ck_assert_msg(strncmp(ct, "text/html", 9) == 0, "Content-Type %s", ct);
    ck_assert(h_header(r, "Content-Security-Policy", csp, sizeof csp));
    ck_assert_msg(strstr(csp, "connect-src 'self'"), "CSP %s", csp);
    /* No inline code runs but the page's own: its script and style are
     * allowed by their hashes (computed here from the page as served), never
     * by 'unsafe-inline'. The Chromium tests below fail if the hash is wrong:
     * the page then never leaves its loading state. */
    ck_assert_msg(!strstr(csp, "unsafe"), "CSP %s", csp);
    char want[200];
    snprintf(want, sizeof want, "script-src %s", hash_source(r->body, "script"));
    ck_assert_str_eq(directive(csp, "script-src"), want);
    snprintf(want, sizeof want, "style-src %s", hash_source(r->body, "style"));
    ck_assert_str_eq(directive(csp, "style-src"), want);
    ck_assert_str_eq(directive(csp, "default-src"), "default-src 'none'");
    /* Nothing from another host: no URL with a scheme anywhere in the page. */
    ck_assert_msg(strstr(r->body, "://") == NULL, "the page refers to another host");
    ck_assert(strstr(r->body, "/api/v1/coverage"));
    h_resp_free(r);
}
END_TEST

START_TEST(test_dashboard_renders_every_county_with_rate_and_target_state)
{
    fill_three_counties();
    char *dom = render_dom(true);
    ck_assert_msg(strstr(dom, "data-state=\"ok\""), "the page did not load coverage: %.2000s", dom);
    for (size_t i = 0; i < sizeof county_names / sizeof county_names[0]; i++)
        ck_assert_msg(strstr(dom, county_names[i]), "county %s not shown", county_names[i]);
    expect_county(dom, "611002", "80.0%", true);
    expect_county(dom, "611021", "92.0%", false); /* exactly at its own 92% line */
    expect_county(dom, "611022", "95.0%", false);
    expect_county(dom, "611023", "—", false); /* nobody registered */
    ck_assert(strstr(dom, "8 / 10"));
    ck_assert(strstr(dom, "还需服务 1 人")); /* 611002: ceil(0.9 × 10) − 8 */
    /* City total: 50 of 55 served. */
    ck_assert(strstr(dom, "90.9%"));
    ck_assert(strstr(dom, "50 / 55"));
    /* The city meets its target on the total (50 ≥ ceil(49.5)) while 611002
     * still needs 1: both are said, each with what it is. */
    ck_assert_msg(strstr(dom, "全市合计已达标"), "no city gap label");
    ck_assert_msg(strstr(dom, "各区县缺口之和 1 人"), "no sum of county gaps");
    ck_assert_msg(!element_hidden(dom, "gap-why"), "the difference is not explained");
    ck_assert(strstr(dom, ">2026<"));
    ck_assert_msg(element_hidden(dom, "auth"), "token form shown although the token worked");
    ck_assert_msg(!element_hidden(dom, "forget"), "no forget-token control");
    free(dom);
}
END_TEST

/* A leader of one county: its year is drawn at once (no total card for a
 * scope of one), one vertex per daily point, with the target line, the
 * projection below it in red, and the counselors' activity. */
START_TEST(test_leader_view_draws_the_year_against_target_and_projection)
{
    county_with_a_history();
    char *dom = render_dom_at("#token=" T_L611002);
    ck_assert_msg(strstr(dom, "data-state=\"ok\""), "the page did not load: %.2000s", dom);
    ck_assert_msg(element_hidden(dom, "total"), "a city total for a one-county scope");
    ck_assert_msg(!element_hidden(dom, "view"), "no leader's view");
    ck_assert_msg(strstr(dom, "id=\"view\" class=\"panel\" data-view=\"611002\""),
                  "the view is not 611002's: %.1200s", strstr(dom, "id=\"view\""));
    ck_assert_msg(!element_hidden(dom, "view-body"), "the chart is not shown: %.1200s",
                  strstr(dom, "id=\"view\""));
    /* 25 May to 1 June: 8 daily points, each a vertex. */
    char *trend = tag_of_class(dom, "trend");
    ck_assert_msg(trend, "no trend line in %.1200s", strstr(dom, "<svg"));
    ck_assert_str_eq(attr_of(trend, "data-points"), "8");
    ck_assert_int_eq(vertices(attr_of(trend, "points")), 8);
    free(trend);
    char *goal = tag_of_class(dom, "goal");
    ck_assert_msg(goal, "no target line");
    free(goal);
    ck_assert_msg(strstr(dom, "目标 90.0%"), "the target line is not labelled");
    /* 100 of 136 by 31 December: 73.5%, below the line. */
    char *proj = tag_of_class(dom, "projection below");
    ck_assert_msg(proj, "no projection below target in %.1200s", strstr(dom, "<svg"));
    ck_assert_int_gt(vertices(attr_of(proj, "points")), 1);
    free(proj);
    ck_assert_msg(strstr(dom, "预计年底 73.5%（100 / 136）"), "projection not said: %.1200s",
                  strstr(dom, "id=\"note-today\""));
    ck_assert_msg(strstr(dom, "今日 64.2%（已服务 9 / 登记 14）"), "today not said");
    /* The counselor: 9 contacts in 30 days, 3 in the last 7 (28 May and 1 June). */
    ck_assert_msg(!element_hidden(dom, "activity"), "no counselors' activity");
    char *row = county_markup(dom, "611002"); /* exists: the county's entry */
    free(row);
    const char *tr = strstr(dom, "data-counselor=\"zhang.counselor\"");
    ck_assert_msg(tr, "no row for zhang.counselor: %.1200s", strstr(dom, "id=\"activity\""));
    ck_assert_msg(strstr(tr, "<td class=\"d7\">3</td><td class=\"d30\">9</td>"),
                  "activity of zhang.counselor: %.300s", tr);
    free(dom);
}
END_TEST

/* A viewer (a wall display): the chosen county's year, no activity (about
 * staff: 403 for viewers, and the page hides it). */
START_TEST(test_viewer_sees_the_year_without_the_activity)
{
    county_with_a_history();
    char *dom = render_dom_at("#token=" T_VIEWER "&county=611002");
    ck_assert_msg(strstr(dom, "data-state=\"ok\""), "the page did not load: %.2000s", dom);
    ck_assert_msg(!element_hidden(dom, "total"), "no city total for every county");
    char *trend = tag_of_class(dom, "trend");
    ck_assert_msg(trend, "no trend line");
    ck_assert_str_eq(attr_of(trend, "data-points"), "8");
    free(trend);
    ck_assert_msg(element_hidden(dom, "activity"), "activity shown to a viewer");
    free(dom);
}
END_TEST

START_TEST(test_dashboard_asks_for_a_token_on_401)
{
    fill_three_counties();
    char *dom = render_dom(false);
    ck_assert_msg(strstr(dom, "data-state=\"auth\""), "no token form: %.2000s", dom);
    ck_assert(!element_hidden(dom, "auth"));
    ck_assert_msg(strstr(dom, "data-county=") == NULL, "coverage shown without a token");
    free(dom);
}
END_TEST

START_TEST(test_dashboard_needs_no_token_with_anonymous_read)
{
    fill_three_counties();
    char *dom = render_dom(false);
    ck_assert_msg(strstr(dom, "data-state=\"ok\""), "the page did not load coverage: %.2000s", dom);
    expect_county(dom, "611002", "80.0%", true);
    free(dom);
}
END_TEST

START_TEST(test_dashboard_reports_server_errors)
{
    char *dom = render_dom(true);
    ck_assert_msg(strstr(dom, "data-state=\"error\""), "no error state: %.2000s", dom);
    ck_assert_msg(strstr(dom, "HTTP 503"), "the error is not shown");
    ck_assert(!element_hidden(dom, "banner"));
    free(dom);
}
END_TEST

START_TEST(test_dashboard_screenshots_at_phone_and_desktop_sizes)
{
    /* 611002 with five months of its year (the view shows it: the largest
     * gap), slipping since April; the other two as in the test above. */
    static const struct history_day year[] = {
        {"2026-01-05T10:00:00+08:00", 6, 2},   {"2026-02-16T10:00:00+08:00", 10, 7},
        {"2026-03-20T10:00:00+08:00", 12, 10}, {"2026-04-22T10:00:00+08:00", 14, 12},
        {"2026-05-18T10:00:00+08:00", 16, 13}, {TODAY, 18, 14}};
    county_with_days(year, sizeof year / sizeof year[0]);
    fill_county("611021", 25, 23);
    fill_county("611022", 20, 19);
    /* GC_WORK_DIR is <build>/work/<test>: the screenshots go to <build>. */
    char build[600], url[200], shot[700];
    snprintf(build, sizeof build, "%s/../..", h_work_dir());
    snprintf(url, sizeof url, "http://127.0.0.1:%d/#token=" T_ADMIN, srv->port);
    static const struct {
        const char *file, *window;
    } shots[] = {{"dashboard.png", "--window-size=412,900"},
                 {"dashboard-desktop.png", "--window-size=1280,900"}};
    for (size_t i = 0; i < sizeof shots / sizeof shots[0]; i++) {
        snprintf(shot, sizeof shot, "%s/%s", build, shots[i].file);
        unlink(shot);
        char flag[720];
        snprintf(flag, sizeof flag, "--screenshot=%s", shot);
        run_chromium(url, flag, shots[i].window, NULL);
        ck_assert_msg(file_size(shot) > 0, "no screenshot at %s", shot);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dashboard");
    TCase *tc = tcase_create("token");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_root_serves_self_contained_html);
    tcase_add_test(tc, test_dashboard_renders_every_county_with_rate_and_target_state);
    tcase_add_test(tc, test_dashboard_asks_for_a_token_on_401);
    tcase_add_test(tc, test_leader_view_draws_the_year_against_target_and_projection);
    tcase_add_test(tc, test_viewer_sees_the_year_without_the_activity);
    tcase_add_test(tc, test_dashboard_screenshots_at_phone_and_desktop_sizes);
    suite_add_tcase(s, tc);
    TCase *anon = tcase_create("anonymous_read");
    tcase_add_checked_fixture(anon, setup_anonymous, teardown);
    tcase_set_timeout(anon, 120);
    tcase_add_test(anon, test_dashboard_needs_no_token_with_anonymous_read);
    suite_add_tcase(s, anon);
    TCase *down = tcase_create("redis_down");
    tcase_add_checked_fixture(down, setup_no_redis, teardown);
    tcase_set_timeout(down, 120);
    tcase_add_test(down, test_dashboard_reports_server_errors);
    suite_add_tcase(s, down);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
