/* The import's rows after checking, their sending to gradcoverd over HTTP
 * and the report of rejected rows (see import.h). The CLI may block; the
 * sending still runs on one libevent loop so that several requests are in
 * flight on keep-alive connections. */
#ifndef GRADCOVER_CLI_IMPORT_SEND_H
#define GRADCOVER_CLI_IMPORT_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gradcover/common.h"

struct config;

/* Requests in flight: one per keep-alive connection. 16 keeps both
 * gradcoverd and Redis busy on a small machine (10,000 rows: 8 connections
 * ~10% slower, 32 no faster) and stays far below max_connections_per_address
 * (64 by default). */
#define IMPORT_CONNECTIONS_DEFAULT 16
#define IMPORT_CONNECTIONS_MAX 64

struct import_opts {
    bool check;         /* validate only: nothing is sent */
    const char *url;    /* http[s]://host:port; NULL: the config's listen address */
    const char *cacert; /* PEM CAs for https (NULL: the system's) */
    const char *token;  /* bearer token (borrowed) */
    int connections;
};

/* Everything one import run knows: its rows, its counts and its report. */
struct import_run {
    const struct config *cfg; /* borrowed */
    size_t rows_read;         /* data rows (not blank) in the file */
    size_t registered, already, rejected_rows, flags_failed;
    size_t reassigned, reassign_failed; /* already there, assigned_to patched */
    struct import_row *rows;            /* valid rows, in file order */
    size_t nrows, rows_cap;
    struct import_reject *rejects;
    size_t nrejects, rejects_cap;
};

struct import_run *import_run_new(const struct config *cfg) GC_MUSTCHECK;
void import_run_free(struct import_run *run);

/* Records that row rec is rejected for column (a column's name, or "_row",
 * "_server") with reason (never personal data: the validators' messages and
 * the server's codes only). A row counts once however many lines it has. */
void import_reject(struct import_run *run, size_t rec, const char *column, const char *reason);

/* Queues a valid row for sending: body (the registration) and flags (an
 * array, or NULL) are taken; id is borrowed from body. */
int import_queue(struct import_run *run, size_t rec, const char *id, json_t *body,
                 json_t *flags) GC_MUSTCHECK;

/* Sends the queued rows (nothing with o->check). Returns 0, 1 when the
 * server could not be used (unreachable, token refused: message printed;
 * rows not sent are reported), 2 for a bad --url. */
int import_send(struct import_run *run, const struct import_opts *o) GC_MUSTCHECK;

/* Writes "row,column,reason" lines, by row number, to path. */
int import_write_report(struct import_run *run, const char *path) GC_MUSTCHECK;

/* The closing counts on stdout. */
void import_summary(const struct import_run *run, const struct import_opts *o,
                    const char *report_path);

size_t import_rejected(const struct import_run *run);

#endif
