/* A real HTTP receiver for integration tests: a forked child process that
 * listens on 127.0.0.1, accepts HTTP/1.1 requests with Content-Length bodies
 * (up to 64 KiB), answers each with the next status of a script, and appends
 * every request as one JSON line to a file that the test reads. In TLS mode
 * (receiver_start_tls) it speaks only HTTPS and also counts the handshakes
 * that failed, e.g. because the client did not trust its certificate.
 *
 * The tests are built one executable per tests/integration/test_*.c, linked
 * with the harness library only, so a test that uses the receiver includes
 * "receiver.c" once (it is not compiled on its own). */
#ifndef GC_RECEIVER_H
#define GC_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* Largest request body accepted; larger ones are answered 413 (and logged
 * with "body_truncated": true). */
#define RECEIVER_MAX_BODY (64 * 1024)

struct receiver {
    pid_t pid;
    int port;
    char log_path[512];
    char tls_log_path[520]; /* one line per failed TLS handshake; "" when plain */
};

/* Starts a receiver on a free port. statuses: comma-separated HTTP statuses
 * answered in turn, the last one repeated ("500,500,500,200"); NULL or ""
 * means "200". */
struct receiver *receiver_start(const char *statuses);

/* The same on a given port (0 = a free one), waiting delay_ms before each
 * answer (after the request has been logged). */
struct receiver *receiver_start_on(int port, const char *statuses, int delay_ms);

/* A receiver that speaks only HTTPS with this certificate chain and key
 * (PEM files), on a free port; statuses as above. */
struct receiver *receiver_start_tls(const char *statuses, const char *cert, const char *key);

/* A receiver that is a chat robot (SPEC §11): kind "wecom", "dingtalk" or
 * "feishu". It checks every request as that robot does, with the robot's
 * documented algorithms written here (never gradcoverd's code): the body's
 * shape and, with a secret, the signature (DingTalk: timestamp and sign in
 * the query, HMAC-SHA256(key = secret, message = timestamp + "\n" +
 * secret); Feishu: timestamp and sign in the body, HMAC-SHA256(key =
 * timestamp + "\n" + secret, message = "")), and answers as the robot
 * would: a bad signature with the robot's refusal (DingTalk errcode 310000,
 * Feishu code 19021), else the next answer of script: comma-separated
 * "STATUS" or "STATUS:CODE" (errcode or code), e.g. "200:45009,200:0", the
 * last one repeated; "" means "200:0". With cert and key it speaks HTTPS.
 * Each logged request also has "robot", "shape" ("ok" or why not), "sig"
 * ("ok", "none" without a secret, or why not), "code" (answered), "text"
 * (the message's text) and, for DingTalk, "title". */
struct receiver *receiver_start_robot(const char *kind, const char *script, const char *secret,
                                      const char *cert, const char *key);

/* TLS handshakes that failed so far (TLS mode; 0 otherwise). */
size_t receiver_tls_failures(const struct receiver *r);

/* Stops the child (SIGKILL) and frees r; the log file stays for inspection. */
void receiver_stop(struct receiver *r);

/* Stops every receiver still running (for a teardown after a failed test). */
void receiver_stop_all(void);

int receiver_port(const struct receiver *r);

/* Every request received so far, oldest first: a new array of objects
 *   {"method", "path", "headers": {lower-case name: value}, "body" (string, or
 *    null when not UTF-8), "body_len", "status" (answered), "t_ms" (wall clock
 *    ms when the request was complete), "body_truncated"?}. */
json_t *receiver_requests(const struct receiver *r);

/* Polls until at least n requests were received or timeout_ms passed; returns
 * receiver_requests() either way. */
json_t *receiver_wait(const struct receiver *r, size_t n, int timeout_ms);

/* How many of the requests in got (receiver_requests) carried
 * X-Gradcover-Event-Id event_id. */
size_t receiver_count_event(json_t *got, const char *event_id);

/* Helpers over one logged request. */
const char *receiver_header(json_t *req, const char *lower_name);
/* The request body parsed as JSON (new reference) or NULL. */
json_t *receiver_body_json(json_t *req);

#endif
