/* Integration-test harness: runs the real gradcoverd against the real Redis
 * of the CTest fixture (or a private redis-server), speaks HTTP/1.1 over a
 * plain socket and reads Redis with hiredis' synchronous client. */
#ifndef GC_HARNESS_H
#define GC_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

/* Tokens of the default test configuration (their SHA-256 is in the config). */
#define T_ADMIN "admin-token-0001"
#define T_C611002 "counselor-611002-token"
#define T_C611021 "counselor-611021-token"
#define T_L611002 "leader-611002-token"
#define T_LALL "leader-city-token"
#define T_VIEWER "viewer-token-0001"

struct gc_server {
    pid_t pid;
    int port;
    char log_path[400];
    bool tls; /* h_http speaks HTTPS to it, verifying against ca_file */
    char ca_file[400];
    bool foreign; /* not gradcoverd (a Prometheus, an Alertmanager a test
                     talks to with h_http): its answers are not checked
                     against docs/openapi.json */
};

struct http_resp {
    int status;
    char *head; /* raw header block */
    char *body;
    size_t body_len;
    json_t *json; /* parsed body or NULL */
};

/* Reads the environment set by CTest (fixture dir, db, binary, work dir, and
 * GC_OPENAPI: the source tree's docs/openapi.json), and
 * two optional variables for running the suite under a tool (scripts/test.sh
 * --valgrind sets both):
 *   GC_WRAPPER     a command line, split at spaces (no quoting), that every
 *                  gradcoverd is started under, e.g. "valgrind
 *                  --error-exitcode=99 --log-file=/tmp/vg-%p.log"; a tool's
 *                  failing exit code then fails h_stop()'s caller.
 *   GC_TIME_SCALE  a factor (>= 1) for the harness's own waits and for h_ms(). */
void h_init(void);

/* ms stretched by GC_TIME_SCALE: for deadlines that only bound how long a
 * test waits for something (never for an assertion that something is fast). */
int h_ms(int ms);

/* In a forked child: execs gradcoverd (under GC_WRAPPER) with args
 * (NULL-terminated, after argv[0]). Never returns. */
_Noreturn void h_exec_gradcoverd(const char *const *args);
int h_redis_port(void);
int h_redis_db(void);
const char *h_work_dir(void);

/* Synchronous Redis on the fixture's database for this test binary. */
redisContext *h_redis(void);
void h_flushdb(void);
long long h_redis_int(const char *fmt, ...);

int h_free_port(void);

/* The default configuration: the Shangluo counties (611021 with threshold
 * 0.92), tokens above. New reference; edit and pass to h_write_config. */
json_t *h_default_config(void);
/* Writes cfg (borrowed) to <work>/<name>.json; returns a static path. */
const char *h_write_config(json_t *cfg, const char *name);

/* Starts gradcoverd with config path and extra args (NULL-terminated, may be
 * NULL), on a free port, against redis_url (NULL = the fixture's db); waits
 * for /readyz 200 when wait_ready. */
struct gc_server *h_start(const char *cfg_path, const char *const *args, const char *redis_url,
                          bool wait_ready);
/* The same on a given port (0 = a free one): a restart of "the same server". */
struct gc_server *h_start_port(const char *cfg_path, const char *const *args, const char *redis_url,
                               bool wait_ready, int port);
/* The same for a server whose config has tls_cert/tls_key: h_http and the
 * helpers built on it then speak HTTPS to it, trusting only ca_file and
 * checking that the certificate names 127.0.0.1. */
struct gc_server *h_start_tls(const char *cfg_path, const char *const *args, const char *ca_file,
                              bool wait_ready);
/* SIGTERM, waits, returns the exit status (-1 if it had to be killed); under
 * valgrind (GC_WRAPPER) a memcheck error or leak makes it 99. */
int h_stop(struct gc_server *s);
/* The same, but SIGTERM is sent again every 100 µs until the process is gone
 * (a stop repeated while it is already stopping). */
int h_stop_repeating(struct gc_server *s);
void h_kill(struct gc_server *s);
bool h_wait_status(struct gc_server *s, const char *path, int status, int timeout_ms);

/* One HTTP request on a fresh connection. headers: NULL-terminated "Name: value"
 * strings, may be NULL. body may be NULL; sent as application/json unless a
 * Content-Type header is given. Every answer is checked against
 * docs/openapi.json (h_check_answer): an undocumented one fails the test. */
struct http_resp *h_http(struct gc_server *s, const char *method, const char *path,
                         const char *token, const char *body, const char *const *headers);
void h_resp_free(struct http_resp *r);

/* docs/openapi.json (GC_OPENAPI), loaded once per test binary; a document
 * the checker cannot load fails the test naming why. */
struct oa_doc;
const struct oa_doc *h_openapi(void);
/* Fails the test at once, naming the method, path, status and the first
 * violation, unless r (the answer to "method target") is what the document
 * says that operation answers (tests/integration/openapi.h). */
void h_check_answer(const char *method, const char *target, const struct http_resp *r);
/* The same for the raw answer at the start of buf (len bytes) to the request
 * whose bytes start at req (its request line names the method and target),
 * for tests that speak HTTP over their own sockets. Returns the answer's
 * length: a pipelined next answer starts there. */
size_t h_check_wire(const char *req, const char *buf, size_t len);
const char *h_header(struct http_resp *r, const char *name, char *buf, size_t n);
/* Asserts the status and, for errors, the JSON error code. Frees r. */
void h_expect(struct http_resp *r, int status, const char *error_code);

/* The throwaway PKI made by tests/tls-certs.sh for this run (ca.pem,
 * server.pem/.key, wrongname.*, untrusted-ca.pem, untrusted.*); the path of
 * one of its files (rotating static buffer). */
const char *h_tls_file(const char *name);

/* A TLS handshake with 127.0.0.1:port offering only protocol versions
 * [min_version, max_version] (TLS1_1_VERSION ...; 0 = no limit) and, for
 * TLS <= 1.2, the cipher list ciphers (NULL: OpenSSL's DEFAULT), at OpenSSL
 * security level 0 (so that the client itself would accept TLS 1.1 or a
 * CBC suite), verifying against ca_file (NULL: no verification). Returns the
 * negotiated version, or -1 with OpenSSL's reason in err. */
int h_tls_handshake(int port, const char *ca_file, int min_version, int max_version,
                    const char *ciphers, char *err, size_t errlen);

/* A valid national ID with a distinct sequence number (rotating static buffer). */
const char *h_natid(int seq);

/* Registers a graduate in county (counselor token of that county or admin);
 * asserts 201. registered_at may be NULL (now). */
void h_register(struct gc_server *s, const char *token, const char *id, const char *county, int seq,
                const char *registered_at);
/* Records a contact; returns the HTTP status. occurred_at may be NULL. */
int h_contact(struct gc_server *s, const char *token, const char *gid, const char *occurred_at,
              const char *idem_key);
/* Registered and served of a county in a period ("" = current), via the admin API. */
void h_counts(struct gc_server *s, const char *county, const char *period, long long *reg,
              long long *srv);

/* A private redis-server (for tests that stop and restart Redis), AOF with
 * appendfsync always, on port (0 = a free one). fresh: start empty; otherwise
 * restart on the data of the server of that name stopped earlier. */
struct h_redis_proc {
    pid_t pid;
    int port;
    char dir[400];
};
struct h_redis_proc *h_redis_spawn(const char *name, int port, bool fresh);
/* The same with another appendfsync policy ("always", "everysec", "no"). */
struct h_redis_proc *h_redis_spawn_fsync(const char *name, int port, bool fresh,
                                         const char *appendfsync);
/* The same with extra redis-server arguments (NULL-terminated, may be NULL),
 * e.g. {"--enable-debug-command", "yes", NULL} for DEBUG SLEEP. */
struct h_redis_proc *h_redis_spawn_args(const char *name, int port, bool fresh,
                                        const char *const *extra);
void h_redis_stop(struct h_redis_proc *r, bool hard);

/* Milliseconds since an arbitrary start. */
long long h_now_ms(void);
void h_sleep_ms(int ms);

/* Test code in a forked child (harness.c, "forked children"): h_child_fork
 * returns 0 in the child, which ends with h_child_exit(code); the test reads
 * the code with h_child_wait (128 + signal if the child died otherwise). */
pid_t h_child_fork(void);
_Noreturn void h_child_exit(int code);
int h_child_wait(pid_t pid);

/* ---- /metrics, SIGHUP, the server's log ---- */
/* GET /metrics's text with token (200 asserted); the caller frees it. */
char *h_metrics_text(struct gc_server *s, const char *token);
/* The value of the sample whose name and labels are written `series` in a
 * /metrics text, or -1 when absent. */
long long h_metric_value(const char *text, const char *series);
/* The two above in one: series's value on s's /metrics, read as token. */
long long h_metric(struct gc_server *s, const char *token, const char *series);
/* SIGHUP, then waits until the reload ("reloads") or its refusal
 * ("failures") has been counted once more than `before` (as T_VIEWER). */
void h_hup_and_wait(struct gc_server *s, const char *which, long long before);
/* True once s's log has a line containing a and (when not NULL) b; waits up
 * to 5 s (scaled). */
bool h_log_wait(struct gc_server *s, const char *a, const char *b);

/* Runs a Check suite without forking (servers started by fixtures live in
 * this process); returns the exit code for main(). */
int h_run_suite(Suite *s);

#endif
