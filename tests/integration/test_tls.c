/* Native TLS end to end, with real processes and a throwaway PKI made by the
 * openssl CLI (tests/tls-certs.sh):
 *  - gradcoverd with tls_cert/tls_key speaks only HTTPS: TLS 1.3 preferred,
 *    1.2 with ECDHE+AEAD only, nothing older, no answer in clear;
 *  - a missing, unreadable, too open or mismatched TLS file is a
 *    configuration error (exit 2) naming the key, for --check-config too;
 *  - https:// alert receivers (receiver.c in TLS mode) get notifications only
 *    over a connection whose certificate chains to alerts.ca_file (or the
 *    system store) and names the host; anything else is a delivery error,
 *    retried, and nothing is sent.
 * Under the sanitizer build every gradcoverd must also stop with exit 0,
 * i.e. without leaks (SSL objects freed with their connections). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "harness.h"
#include "receiver.h"

#include "receiver.c"

#define SECRET "tls-webhook-secret"
#define COUNTY "611002"

/* ---- processes started by a test, stopped even when it fails half-way ---- */

static struct gc_server *servers[8];
static size_t nservers;
static pid_t permissive_pid;

static struct gc_server *track_server(struct gc_server *s)
{
    if (nservers < sizeof servers / sizeof servers[0])
        servers[nservers++] = s;
    return s;
}

static int stop(struct gc_server *s)
{
    for (size_t i = 0; i < nservers; i++)
        if (servers[i] == s)
            servers[i] = servers[--nservers];
    return h_stop(s);
}

static void setup(void)
{
    h_init();
    h_flushdb();
}

static void teardown(void)
{
    receiver_stop_all();
    while (nservers > 0)
        h_kill(servers[--nservers]);
    if (permissive_pid > 0) {
        kill(permissive_pid, SIGKILL);
        waitpid(permissive_pid, NULL, 0);
        permissive_pid = 0;
    }
}

/* ---- configuration ---- */

/* Writes cfg (stolen) as <work>/<name>.json; the path stays valid for the
 * next seven calls. */
static const char *write_config(json_t *cfg, const char *name)
{
    static char paths[8][600];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, sizeof paths[0], "%s", h_write_config(cfg, name));
    json_decref(cfg);
    return p;
}

/* The default configuration with this TLS pair (either may be NULL). */
static json_t *tls_config(const char *cert, const char *key)
{
    json_t *cfg = h_default_config();
    if (cert)
        json_object_set_new(cfg, "tls_cert", json_string(cert));
    if (key)
        json_object_set_new(cfg, "tls_key", json_string(key));
    return cfg;
}

static struct gc_server *start_https(void)
{
    const char *cfg =
        write_config(tls_config(h_tls_file("server.pem"), h_tls_file("server.key")), "https");
    return track_server(h_start_tls(cfg, NULL, h_tls_file("ca.pem"), true));
}

/* A copy of src at <work>/<name> with this mode; returns its path (static,
 * rotating). */
static const char *copy_file(const char *src, const char *name, mode_t mode)
{
    static char paths[4][600];
    static int slot;
    char *dst = paths[slot++ % 4];
    snprintf(dst, sizeof paths[0], "%s/%s", h_work_dir(), name);
    FILE *in = fopen(src, "rb");
    ck_assert_msg(in != NULL, "cannot read %s", src);
    unlink(dst);
    FILE *out = fopen(dst, "wb");
    ck_assert_msg(out != NULL, "cannot write %s", dst);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert(fwrite(buf, 1, n, out) == n);
    fclose(in);
    fclose(out);
    ck_assert_int_eq(chmod(dst, mode), 0);
    return dst;
}

/* Runs gradcoverd on cfg, with --check-config when check, on free ports and
 * the fixture's Redis. Returns its exit status (-1 when it was still running
 * after 10 s: it started) and its output in out. */
static int run_gradcoverd(const char *cfg, bool check, char *out, size_t outlen)
{
    char listen[64], redis[128], log[600];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h_free_port());
    snprintf(redis, sizeof redis, "redis://127.0.0.1:%d/%d", h_redis_port(), h_redis_db());
    snprintf(log, sizeof log, "%s/run-%d.log", h_work_dir(), (int)getpid());
    const char *bin = getenv("GC_BINARY");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin, bin, "--config", cfg, "--listen", listen, "--redis", redis,
              check ? "--check-config" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    int status = 0, rc = -1;
    long long end = h_now_ms() + 10000;
    while (h_now_ms() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        h_sleep_ms(20);
    }
    if (rc == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(out, 1, outlen - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    return rc;
}

/* cfg (stolen) is refused with exit 2 and a message naming key and saying
 * why, both by --check-config and by a real start. */
static void expect_config_error(json_t *cfg, const char *key, const char *why)
{
    const char *path = write_config(cfg, "bad-tls");
    char out[4096];
    for (int check = 1; check >= 0; check--) {
        int rc = run_gradcoverd(path, check, out, sizeof out);
        ck_assert_msg(rc == 2, "%s: exit %d, wanted 2: %s", check ? "--check-config" : "start", rc,
                      out);
        ck_assert_msg(strstr(out, key) != NULL, "the message does not name %s: %s", key, out);
        ck_assert_msg(strstr(out, why) != NULL, "the message does not say \"%s\": %s", why, out);
    }
}

/* ---- a permissive TLS server (openssl s_server) for control checks ---- */

/* `openssl s_server` with the same certificate, accepting TLS 1.0 and up and
 * every cipher: shows that the test client really offers what gradcoverd
 * refuses. Returns its port. */
static int start_permissive(void)
{
    int port = h_free_port();
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    const char *cert = h_tls_file("server.pem"), *key = h_tls_file("server.key");
    permissive_pid = fork();
    ck_assert(permissive_pid >= 0);
    if (permissive_pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("openssl", "openssl", "s_server", "-accept", portbuf, "-cert", cert, "-key", key,
               "-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1", "-quiet", (char *)NULL);
        _exit(127);
    }
    char err[256];
    for (int i = 0; i < 200; i++) {
        if (h_tls_handshake(port, NULL, 0, 0, NULL, err, sizeof err) > 0)
            return port;
        h_sleep_ms(50);
    }
    ck_abort_msg("openssl s_server did not start: %s", err);
    return -1;
}

/* ---- the HTTPS listener ---- */

START_TEST(test_https_answers_healthz_and_authed_api)
{
    struct gc_server *s = start_https();
    struct http_resp *r = h_http(s, "GET", "/healthz", NULL, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /healthz over TLS (log: %s)", s->log_path);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "ok");
    h_resp_free(r);
    h_expect(h_http(s, "GET", "/api/v1/coverage", NULL, NULL, NULL), 401, "unauthorized");
    /* A write and a read, each one authed request over its own connection. */
    h_register(s, T_C611002, "TLS-1", COUNTY, 1, NULL);
    ck_assert_int_eq(h_contact(s, T_C611002, "TLS-1", NULL, "tls-key-1"), 201);
    long long reg, srv;
    h_counts(s, COUNTY, "", &reg, &srv);
    ck_assert_int_eq(reg, 1);
    ck_assert_int_eq(srv, 1);
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

START_TEST(test_dashboard_and_metrics_work_over_tls)
{
    struct gc_server *s = start_https();
    struct http_resp *r = h_http(s, "GET", "/", NULL, NULL, NULL);
    char ct[128];
    ck_assert_msg(r && r->status == 200, "GET / over TLS");
    ck_assert_msg(h_header(r, "Content-Type", ct, sizeof ct) && strstr(ct, "text/html"),
                  "dashboard Content-Type");
    ck_assert_ptr_nonnull(strstr(r->body, "</html>"));
    h_resp_free(r);
    r = h_http(s, "GET", "/metrics", T_VIEWER, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics over TLS");
    ck_assert_ptr_nonnull(strstr(r->body, "\ngradcover_redis_connected 1\n"));
    ck_assert_ptr_nonnull(strstr(r->body, "gradcover_county_info{county=\"611002\""));
    h_resp_free(r);
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

/* The answer's Strict-Transport-Security value, or "" when absent (static). */
static const char *hsts_of(struct http_resp *r)
{
    static char v[128];
    if (!h_header(r, "Strict-Transport-Security", v, sizeof v))
        v[0] = '\0';
    return v;
}

/* With native TLS every answer tells browsers to use HTTPS only
 * (hsts_max_age_seconds, default a year): successes, errors, the answer to a
 * head the connection guard refused, HEAD. Never over plain HTTP, and not at
 * all with 0. */
START_TEST(test_hsts_on_every_https_answer_and_never_on_http)
{
    struct gc_server *s = start_https();
    static const char *const dup_host[] = {"Host: other", NULL};
    struct {
        const char *method, *path, *token;
        const char *const *headers;
        int status;
    } reqs[] = {
        {"GET", "/healthz", NULL, NULL, 200},
        {"GET", "/", NULL, NULL, 200},
        {"GET", "/api/v1/coverage", T_ADMIN, NULL, 200},
        {"GET", "/api/v1/coverage", NULL, NULL, 401},
        {"GET", "/api/v1/counties/nope/coverage", T_ADMIN, NULL, 404},
        {"POST", "/healthz", NULL, NULL, 405},
        {"HEAD", "/healthz", NULL, NULL, 405},
        {"GET", "/healthz", NULL, dup_host, 400}, /* refused by the connection guard */
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct http_resp *r =
            h_http(s, reqs[i].method, reqs[i].path, reqs[i].token, NULL, reqs[i].headers);
        ck_assert_msg(r && r->status == reqs[i].status, "%s %s: %d", reqs[i].method, reqs[i].path,
                      r ? r->status : 0);
        ck_assert_msg(strcmp(hsts_of(r), "max-age=31536000") == 0, "%s %s -> %d: HSTS \"%s\"",
                      reqs[i].method, reqs[i].path, r->status, hsts_of(r));
        h_resp_free(r);
    }
    ck_assert_int_eq(stop(s), 0);
    /* 0: no header. */
    json_t *cfg = tls_config(h_tls_file("server.pem"), h_tls_file("server.key"));
    json_object_set_new(cfg, "hsts_max_age_seconds", json_integer(0));
    s = track_server(
        h_start_tls(write_config(cfg, "https-no-hsts"), NULL, h_tls_file("ca.pem"), true));
    struct http_resp *r = h_http(s, "GET", "/healthz", NULL, NULL, NULL);
    ck_assert_msg(r && r->status == 200 && !*hsts_of(r), "HSTS with 0: \"%s\"", hsts_of(r));
    h_resp_free(r);
    ck_assert_int_eq(stop(s), 0);
    /* Plain HTTP: never, whatever the setting (RFC 6797 §7.2). */
    cfg = h_default_config();
    json_object_set_new(cfg, "hsts_max_age_seconds", json_integer(31536000));
    s = track_server(h_start(write_config(cfg, "http-hsts"), NULL, NULL, true));
    r = h_http(s, "GET", "/healthz", NULL, NULL, NULL);
    ck_assert_msg(r && r->status == 200 && !*hsts_of(r), "HSTS over HTTP: \"%s\"", hsts_of(r));
    h_resp_free(r);
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

START_TEST(test_tls13_is_preferred_and_tls12_offered)
{
    struct gc_server *s = start_https();
    char err[256];
    const char *ca = h_tls_file("ca.pem");
    ck_assert_int_eq(h_tls_handshake(s->port, ca, 0, 0, NULL, err, sizeof err), TLS1_3_VERSION);
    ck_assert_int_eq(
        h_tls_handshake(s->port, ca, TLS1_2_VERSION, TLS1_2_VERSION, NULL, err, sizeof err),
        TLS1_2_VERSION);
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

START_TEST(test_tls11_and_tls10_are_refused)
{
    int control = start_permissive();
    struct gc_server *s = start_https();
    static const int old[] = {TLS1_1_VERSION, TLS1_VERSION};
    for (size_t i = 0; i < 2; i++) {
        char err[256] = "";
        /* The client offers this version only, and a permissive server takes it... */
        ck_assert_int_eq(h_tls_handshake(control, NULL, old[i], old[i], NULL, err, sizeof err),
                         old[i]);
        /* ...gradcoverd answers with a protocol_version alert. */
        int v = h_tls_handshake(s->port, NULL, old[i], old[i], NULL, err, sizeof err);
        ck_assert_msg(v == -1, "version 0x%x accepted", old[i]);
        ck_assert_msg(strstr(err, "protocol version") != NULL, "refused for another reason: %s",
                      err);
    }
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

START_TEST(test_tls12_without_ecdhe_aead_is_refused)
{
    int control = start_permissive();
    struct gc_server *s = start_https();
    /* CBC suites with ECDHE, and AES-GCM without ECDHE (plain RSA key
     * exchange is impossible with this EC key anyway). */
    static const char *const weak =
        "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
        "ECDHE-ECDSA-AES256-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384";
    char err[256] = "";
    ck_assert_int_eq(
        h_tls_handshake(control, NULL, TLS1_2_VERSION, TLS1_2_VERSION, weak, err, sizeof err),
        TLS1_2_VERSION);
    ck_assert_int_eq(
        h_tls_handshake(s->port, NULL, TLS1_2_VERSION, TLS1_2_VERSION, weak, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "handshake failure") != NULL, "refused for another reason: %s", err);
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

START_TEST(test_plain_http_on_the_tls_port_gets_no_http_answer)
{
    struct gc_server *s = start_https();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    static const char req[] =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ck_assert(write_all(fd, req, sizeof req - 1));
    char buf[4096];
    size_t len = 0;
    ssize_t got;
    long long t0 = h_now_ms();
    while ((got = read_some(fd, buf, sizeof buf - 1, &len)) > 0 && len < sizeof buf - 1)
        ;
    int read_errno = errno;
    close(fd);
    buf[len] = '\0';
    /* The connection is closed (not left hanging until our timeout)... */
    ck_assert_msg(got == 0 || read_errno == ECONNRESET, "connection left open (%s) after %lld ms",
                  strerror(read_errno), h_now_ms() - t0);
    /* ...and nothing in it is HTTP. */
    ck_assert_msg(len < 5 || memcmp(buf, "HTTP/", 5) != 0, "answered in clear: %s", buf);
    ck_assert_ptr_null(strstr(buf, "status"));
    /* The server is unharmed. */
    h_expect(h_http(s, "GET", "/healthz", NULL, NULL, NULL), 200, NULL);
    ck_assert_int_eq(stop(s), 0);
}
END_TEST

/* ---- configuration errors: exit 2 naming the key ---- */

START_TEST(test_check_config_accepts_a_valid_tls_pair)
{
    const char *cfg =
        write_config(tls_config(h_tls_file("server.pem"), h_tls_file("server.key")), "good-tls");
    char out[4096];
    ck_assert_int_eq(run_gradcoverd(cfg, true, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "HTTPS") != NULL, "--check-config output: %s", out);
}
END_TEST

START_TEST(test_cert_without_key_names_tls_key)
{
    expect_config_error(tls_config(h_tls_file("server.pem"), NULL), "\"tls_key\"", "together");
}
END_TEST

START_TEST(test_key_without_cert_names_tls_cert)
{
    expect_config_error(tls_config(NULL, h_tls_file("server.key")), "\"tls_cert\"", "together");
}
END_TEST

START_TEST(test_missing_cert_file_names_tls_cert)
{
    char path[600];
    snprintf(path, sizeof path, "%s/no-such-cert.pem", h_work_dir());
    expect_config_error(tls_config(path, h_tls_file("server.key")), "\"tls_cert\"", "No such file");
}
END_TEST

START_TEST(test_unreadable_key_file_names_tls_key)
{
    /* A directory cannot be read as a key, even by root. */
    expect_config_error(tls_config(h_tls_file("server.pem"), h_work_dir()), "\"tls_key\"",
                        "not a regular file");
    if (geteuid() != 0) {
        const char *key = copy_file(h_tls_file("server.key"), "key-000.pem", 0);
        expect_config_error(tls_config(h_tls_file("server.pem"), key), "\"tls_key\"",
                            "Permission denied");
    }
}
END_TEST

START_TEST(test_world_readable_key_names_tls_key)
{
    const char *key = copy_file(h_tls_file("server.key"), "key-644.pem", 0644);
    expect_config_error(tls_config(h_tls_file("server.pem"), key), "\"tls_key\"",
                        "readable by others");
}
END_TEST

START_TEST(test_group_readable_key_names_tls_key)
{
    const char *key = copy_file(h_tls_file("server.key"), "key-640.pem", 0640);
    expect_config_error(tls_config(h_tls_file("server.pem"), key), "\"tls_key\"",
                        "readable by others");
}
END_TEST

START_TEST(test_mismatched_pair_names_tls_key)
{
    expect_config_error(tls_config(h_tls_file("server.pem"), h_tls_file("untrusted.key")),
                        "\"tls_key\"", "does not match");
}
END_TEST

START_TEST(test_cert_that_is_not_pem_names_tls_cert)
{
    char path[600];
    snprintf(path, sizeof path, "%s/garbage.pem", h_work_dir());
    FILE *f = fopen(path, "w");
    ck_assert(f);
    fputs("this is not a certificate\n", f);
    fclose(f);
    expect_config_error(tls_config(path, h_tls_file("server.key")), "\"tls_cert\"",
                        "not a PEM certificate");
}
END_TEST

START_TEST(test_key_given_as_cert_names_tls_cert)
{
    /* Swapped paths, an easy slip when editing the file by hand. */
    const char *key = copy_file(h_tls_file("server.pem"), "cert-as-key.pem", 0600);
    expect_config_error(tls_config(h_tls_file("server.key"), key), "\"tls_cert\"",
                        "not a PEM certificate");
}
END_TEST

START_TEST(test_missing_ca_file_names_alerts_ca_file)
{
    json_t *cfg = h_default_config();
    char path[600];
    snprintf(path, sizeof path, "%s/no-such-ca.pem", h_work_dir());
    json_object_set_new(cfg, "alerts", json_pack("{s:s}", "ca_file", path));
    expect_config_error(cfg, "\"alerts.ca_file\"", "No such file");
}
END_TEST

START_TEST(test_ca_file_without_certificates_names_alerts_ca_file)
{
    json_t *cfg = h_default_config();
    const char *notca = copy_file(h_tls_file("server.key"), "key-as-ca.pem", 0600);
    json_object_set_new(cfg, "alerts", json_pack("{s:s}", "ca_file", notca));
    expect_config_error(cfg, "\"alerts.ca_file\"", "no PEM CA certificate");
}
END_TEST

/* ---- https:// receivers ---- */

static void register_grad(struct gc_server *s, int i)
{
    char id[16];
    snprintf(id, sizeof id, "G%d", i);
    h_register(s, T_C611002, id, COUNTY, i, NULL);
}

/* 611002 at 9 of 10 (exactly 90%: ok), built by a server without receivers;
 * registering an 11th graduate then makes it fire. */
static void baseline(void)
{
    json_t *cfg = h_default_config();
    json_object_set_new(cfg, "alerts", json_pack("{s:i}", "for_seconds", 3600));
    struct gc_server *s = track_server(h_start(write_config(cfg, "baseline"), NULL, NULL, true));
    for (int i = 0; i < 10; i++) {
        register_grad(s, i);
        if (i < 9) {
            char id[16];
            snprintf(id, sizeof id, "G%d", i);
            ck_assert_int_eq(h_contact(s, T_C611002, id, NULL, NULL), 201);
        }
    }
    ck_assert_int_eq(stop(s), 0);
}

/* A server whose one webhook "shangzhou" (signed, for 611002) is url, or
 * whose Alertmanager is url when am; ca_file may be NULL (system store). */
static struct gc_server *start_notifying(const char *url, bool am, const char *ca_file)
{
    json_t *cfg = h_default_config();
    json_t *alerts = json_pack("{s:i, s:i}", "for_seconds", 0, "eval_interval_seconds", 1);
    if (am)
        json_object_set_new(alerts, "alertmanager_url", json_string(url));
    else
        json_object_set_new(alerts, "webhooks",
                            json_pack("[{s:s, s:s, s:s, s:[s]}]", "name", "shangzhou", "url", url,
                                      "secret", SECRET, "counties", COUNTY));
    if (ca_file)
        json_object_set_new(alerts, "ca_file", json_string(ca_file));
    json_object_set_new(cfg, "alerts", alerts);
    return track_server(h_start(write_config(cfg, "notify-tls"), NULL, NULL, true));
}

/* The delivery record for receiver of the county's latest alert, once it
 * has at least min_attempts in state (new reference); fails after timeout. */
static json_t *wait_delivery(struct gc_server *s, const char *receiver, const char *state,
                             int min_attempts, int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    char *last = NULL;
    for (;;) {
        struct http_resp *r =
            h_http(s, "GET", "/api/v1/alerts?state=all&county=" COUNTY, T_ADMIN, NULL, NULL);
        ck_assert_msg(r && r->status == 200, "GET /api/v1/alerts");
        json_t *found = NULL;
        size_t i, k;
        json_t *ep, *d;
        json_array_foreach(json_object_get(r->json, "alerts"), i, ep)
        {
            json_array_foreach(json_object_get(ep, "deliveries"), k, d)
            {
                const char *rn = json_string_value(json_object_get(d, "receiver"));
                if (!found && rn && strcmp(rn, receiver) == 0)
                    found = json_incref(d);
            }
        }
        free(last);
        last = strdup(r->body);
        h_resp_free(r);
        const char *st = json_string_value(json_object_get(found, "state"));
        if (st && strcmp(st, state) == 0 &&
            json_integer_value(json_object_get(found, "attempts")) >= min_attempts) {
            free(last);
            return found;
        }
        json_decref(found);
        if (h_now_ms() >= end)
            break;
        h_sleep_ms(100);
    }
    ck_abort_msg("no %s delivery to %s with >= %d attempts within %d ms; last: %s (log: %s)", state,
                 receiver, min_attempts, timeout_ms, last, s->log_path);
    return NULL;
}

/* The value of gradcover_alert_notifications_total{receiver,result}. */
static long long notifications(struct gc_server *s, const char *receiver, const char *result)
{
    struct http_resp *r = h_http(s, "GET", "/metrics", T_ADMIN, NULL, NULL);
    ck_assert_msg(r && r->status == 200, "GET /metrics");
    char line[200];
    snprintf(line, sizeof line,
             "\ngradcover_alert_notifications_total{receiver=\"%s\",result=\"%s\"} ", receiver,
             result);
    const char *p = strstr(r->body, line);
    ck_assert_msg(p != NULL, "/metrics lacks%s", line);
    long long v = atoll(p + strlen(line));
    h_resp_free(r);
    return v;
}

/* What the receiver's side of the failed handshakes said (static). */
static const char *tls_failures_text(const struct receiver *rv)
{
    static char buf[4096];
    FILE *f = fopen(rv->tls_log_path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static void expect_signed(json_t *req)
{
    const char *body = json_string_value(json_object_get(req, "body"));
    const char *sig = receiver_header(req, "x-gradcover-signature");
    ck_assert_ptr_nonnull(body);
    ck_assert_msg(sig != NULL, "no X-Gradcover-Signature");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body, strlen(body), md,
         &len);
    char want[7 + 2 * EVP_MAX_MD_SIZE + 1] = "sha256=";
    for (unsigned i = 0; i < len; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
    ck_assert_str_eq(sig, want);
}

START_TEST(test_https_webhook_trusted_via_ca_file_gets_signed_alert)
{
    baseline();
    struct receiver *rv =
        receiver_start_tls("200", h_tls_file("server.pem"), h_tls_file("server.key"));
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hook/shangzhou", rv->port);
    struct gc_server *s = start_notifying(url, false, h_tls_file("ca.pem"));
    register_grad(s, 10);
    json_t *reqs = receiver_wait(rv, 1, 8000);
    ck_assert_msg(json_array_size(reqs) == 1, "receiver got %zu requests (logs: %s, %s; TLS: %s)",
                  json_array_size(reqs), rv->log_path, s->log_path, tls_failures_text(rv));
    json_t *q = json_array_get(reqs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(q, "method")), "POST");
    ck_assert_str_eq(json_string_value(json_object_get(q, "path")), "/hook/shangzhou");
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", rv->port);
    ck_assert_str_eq(receiver_header(q, "host"), host);
    json_t *b = receiver_body_json(q);
    ck_assert_str_eq(json_string_value(json_object_get(b, "status")), "firing");
    ck_assert_int_eq(json_integer_value(json_object_get(b, "registered")), 11);
    json_decref(b);
    expect_signed(q);
    json_t *d = wait_delivery(s, "shangzhou", "delivered", 1, 5000);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
    ck_assert(json_is_null(json_object_get(d, "last_error")));
    json_decref(d);
    ck_assert_int_eq(notifications(s, "shangzhou", "delivered"), 1);
    ck_assert_int_eq(receiver_tls_failures(rv), 0);
    json_decref(reqs);
    ck_assert_int_eq(stop(s), 0);
    receiver_stop(rv);
}
END_TEST

/* A receiver gradcoverd must not trust gets nothing; the delivery is
 * recorded as an error with the reason, retried, and counted. */
static void expect_refused_receiver(const char *cert, const char *key, const char *ca_file,
                                    const char *why)
{
    baseline();
    struct receiver *rv = receiver_start_tls("200", cert, key);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hook/shangzhou", rv->port);
    struct gc_server *s = start_notifying(url, false, ca_file);
    register_grad(s, 10);
    /* Attempts at 0 s and ~1 s, a third from ~3 s: still pending. */
    json_t *d = wait_delivery(s, "shangzhou", "pending", 2, 10000);
    const char *le = json_string_value(json_object_get(d, "last_error"));
    ck_assert_msg(le && strstr(le, "certificate verify failed") && strstr(le, why),
                  "last_error: %s", le ? le : "null");
    json_decref(d);
    ck_assert_int_ge(notifications(s, "shangzhou", "retry"), 2);
    ck_assert_int_eq(notifications(s, "shangzhou", "delivered"), 0);
    /* The receiver saw the handshakes fail on the client's alert; not one
     * request, and nothing in clear (that would read "http request" or
     * "wrong version number" here). */
    json_t *reqs = receiver_requests(rv);
    ck_assert_int_eq(json_array_size(reqs), 0);
    json_decref(reqs);
    const char *seen = tls_failures_text(rv);
    ck_assert_msg(receiver_tls_failures(rv) >= 2, "receiver TLS failures: %s", seen);
    ck_assert_msg(strstr(seen, "alert") && !strstr(seen, "http request") &&
                      !strstr(seen, "wrong version"),
                  "receiver TLS failures: %s", seen);
    ck_assert_int_eq(stop(s), 0);
    receiver_stop(rv);
}

START_TEST(test_https_webhook_with_untrusted_ca_gets_nothing)
{
    expect_refused_receiver(h_tls_file("untrusted.pem"), h_tls_file("untrusted.key"),
                            h_tls_file("ca.pem"), "local issuer");
}
END_TEST

START_TEST(test_https_webhook_with_wrong_name_gets_nothing)
{
    /* Signed by the trusted CA, but for receiver.invalid, not 127.0.0.1. */
    expect_refused_receiver(h_tls_file("wrongname.pem"), h_tls_file("wrongname.key"),
                            h_tls_file("ca.pem"), "mismatch");
}
END_TEST

START_TEST(test_https_webhook_is_verified_against_system_store_by_default)
{
    /* Without alerts.ca_file the test CA is unknown: verification is on. */
    expect_refused_receiver(h_tls_file("server.pem"), h_tls_file("server.key"), NULL,
                            "local issuer");
}
END_TEST

START_TEST(test_https_alertmanager_url_receives_the_alert)
{
    baseline();
    struct receiver *rv =
        receiver_start_tls("200", h_tls_file("server.pem"), h_tls_file("server.key"));
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", rv->port);
    struct gc_server *s = start_notifying(url, true, h_tls_file("ca.pem"));
    register_grad(s, 10);
    json_t *reqs = receiver_wait(rv, 1, 8000);
    ck_assert_msg(json_array_size(reqs) >= 1, "no request (logs: %s, %s; TLS: %s)", rv->log_path,
                  s->log_path, tls_failures_text(rv));
    json_t *q = json_array_get(reqs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(q, "path")), "/api/v2/alerts");
    json_t *b = receiver_body_json(q);
    json_t *labels = json_object_get(json_array_get(b, 0), "labels");
    ck_assert_str_eq(json_string_value(json_object_get(labels, "alertname")),
                     "GraduateServiceCoverageLow");
    ck_assert_str_eq(json_string_value(json_object_get(labels, "county")), COUNTY);
    json_decref(b);
    json_decref(reqs);
    json_decref(wait_delivery(s, "alertmanager", "delivered", 1, 5000));
    ck_assert_int_eq(stop(s), 0);
    receiver_stop(rv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("listener");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_https_answers_healthz_and_authed_api);
    tcase_add_test(tc, test_dashboard_and_metrics_work_over_tls);
    tcase_add_test(tc, test_hsts_on_every_https_answer_and_never_on_http);
    tcase_add_test(tc, test_tls13_is_preferred_and_tls12_offered);
    tcase_add_test(tc, test_tls11_and_tls10_are_refused);
    tcase_add_test(tc, test_tls12_without_ecdhe_aead_is_refused);
    tcase_add_test(tc, test_plain_http_on_the_tls_port_gets_no_http_answer);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_check_config_accepts_a_valid_tls_pair);
    tcase_add_test(tc, test_cert_without_key_names_tls_key);
    tcase_add_test(tc, test_key_without_cert_names_tls_cert);
    tcase_add_test(tc, test_missing_cert_file_names_tls_cert);
    tcase_add_test(tc, test_unreadable_key_file_names_tls_key);
    tcase_add_test(tc, test_world_readable_key_names_tls_key);
    tcase_add_test(tc, test_group_readable_key_names_tls_key);
    tcase_add_test(tc, test_mismatched_pair_names_tls_key);
    tcase_add_test(tc, test_cert_that_is_not_pem_names_tls_cert);
    tcase_add_test(tc, test_key_given_as_cert_names_tls_cert);
    tcase_add_test(tc, test_missing_ca_file_names_alerts_ca_file);
    tcase_add_test(tc, test_ca_file_without_certificates_names_alerts_ca_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("receivers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_https_webhook_trusted_via_ca_file_gets_signed_alert);
    tcase_add_test(tc, test_https_webhook_with_untrusted_ca_gets_nothing);
    tcase_add_test(tc, test_https_webhook_with_wrong_name_gets_nothing);
    tcase_add_test(tc, test_https_webhook_is_verified_against_system_store_by_default);
    tcase_add_test(tc, test_https_alertmanager_url_receives_the_alert);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
