/* A small concurrent HTTP/1.1 load client for the fault tests: a forked child
 * process sends a list of POST requests over several keep-alive connections
 * driven by poll(), and records every answer (status, Retry-After,
 * Idempotent-Replayed, the created "id" or the error code, send and answer
 * times) in memory shared with the test, which meanwhile kills and restarts
 * things. A request whose connection broke, was refused or timed out has
 * status 0: the client does not know whether it was committed. */
#ifndef GC_LOADGEN_H
#define GC_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>

/* One request: inputs set by the test before lg_start, results written by the
 * load process. The array lives in shared memory (lg_reqs_new). */
struct lg_req {
    /* in */
    int target;        /* index into lg_opts.ports */
    const char *token; /* bearer token (static storage, e.g. T_C611002) */
    char path[64];     /* POST path */
    char key[64];      /* Idempotency-Key; "" sends none */
    char body[320];    /* JSON body */
    /* out */
    int status;       /* HTTP status; 0 no answer; -1 never sent */
    int retry_after;  /* Retry-After seconds, 0 when absent */
    bool replayed;    /* Idempotent-Replayed: true */
    char id[40];      /* "id" of the answer body */
    char err[48];     /* error.code, or connect/closed/timeout */
    long long t_sent; /* h_now_ms() when the first byte was written (or tried) */
    long long t_done; /* h_now_ms() when the answer was complete (or failed) */
    char oa_err[256]; /* why the answer is not what docs/openapi.json says, or "" */
};

struct lg_opts {
    const int *ports; /* gradcoverd ports; connection i talks to ports[i % nports] */
    int nports;
    int ncon;          /* connections */
    int gap_ms;        /* a connection waits this long after each answer (0: none) */
    int pause_ms;      /* ... and this long after a non-2xx or a failure */
    int timeout_ms;    /* a request without a complete answer by then has status 0 */
    bool only_unacked; /* send only requests whose status is not 201 (a retry pass) */
};

/* n zeroed requests with status -1, in shared memory; free with lg_reqs_free. */
struct lg_req *lg_reqs_new(size_t n);
void lg_reqs_free(struct lg_req *reqs, size_t n);

struct lg;

/* Starts the load process. Connections of one target take that target's
 * requests in array order, so requests for two targets listed alternately run
 * side by side. reqs must stay mapped until lg_wait. */
struct lg *lg_start(struct lg_req *reqs, size_t n, const struct lg_opts *o);
/* Answers so far, and 201s among them (readable while it runs). */
size_t lg_done(const struct lg *g);
size_t lg_acked(const struct lg *g);
/* No new requests after this; those in flight finish. */
void lg_stop(struct lg *g);
/* Waits for the load process to finish and frees g; returns its exit status
 * (0 when it ran to completion). Every answer was checked against
 * docs/openapi.json in the load process; the first that was not documented
 * fails the test here (h_check_answer's message, in oa_err). */
int lg_wait(struct lg *g);
/* lg_start + lg_wait. */
int lg_run(struct lg_req *reqs, size_t n, const struct lg_opts *o);

#endif
