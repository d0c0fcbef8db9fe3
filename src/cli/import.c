/* `gradcover import` (SPEC §12, Import): reads the CSV, checks every row with
 * validate_graduate (the API's own rules, never a copy), and registers the
 * valid rows through gradcoverd's HTTP API on several keep-alive
 * connections. Writes the rejected rows' report (row number, column, reason:
 * no personal data). The sending side lives in import_send.c. */
#include "gradcover/cli/import.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "gradcover/cli/csv.h"
#include "gradcover/cli/import_send.h"
#include "gradcover/core/clock.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"

/* The columns SPEC §12 names, in its order; id, county, name and
 * national_id must be in the header (the rest may be left out). */
static const char *const columns[] = {
    "id",    "county",          "name",          "national_id", "phone",       "school",
    "major", "graduation_year", "registered_at", "flags",       "assigned_to", NULL};
#define NCOLUMNS 11
#define COL_GRADUATION_YEAR 7
#define COL_FLAGS 9
static const char *const required_columns[] = {"id", "county", "name", "national_id", NULL};

/* A CSV bigger than this is not one bureau's list of one year (a county
 * registers a few thousand; the largest city list seen is ~60 MB): refuse
 * rather than hold it in memory. */
#define IMPORT_FILE_MAX (512L * 1024 * 1024)

static void usage(FILE *f)
{
    fprintf(f, "usage: gradcover import --config FILE [--check] [--encoding utf-8|gb18030]\n"
               "                        [--report FILE] [--url http[s]://HOST:PORT]\n"
               "                        [--cacert FILE] [--token-file FILE] [--connections N]\n"
               "                        FILE.csv\n"
               "  the token: --token-file, or the environment variable GRADCOVER_TOKEN\n"
               "  (an admin token, or a counselor's for rows of its own county)\n");
}

static int64_t now_ms(void)
{
    static const struct clock wall = {0};
    return clock_now_ms(&wall);
}

/* Reads the whole file; NULL (message printed) on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        n <= IMPORT_FILE_MAX && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        fclose(f);
        *len = (size_t)n;
        return buf;
    }
    fprintf(stderr, "gradcover: %s: %s\n", path,
            n > IMPORT_FILE_MAX ? "larger than 512 MB" : "cannot be read");
    free(buf);
    fclose(f);
    return NULL;
}

/* The column a header cell names: its name in any case, spaces around it
 * ignored (what a hand-edited header in Excel tends to have). */
static int column_index(const char *name)
{
    while (*name == ' ')
        name++;
    size_t n = strlen(name);
    while (n > 0 && name[n - 1] == ' ')
        n--;
    for (int i = 0; columns[i]; i++)
        if (strlen(columns[i]) == n && strncasecmp(columns[i], name, n) == 0)
            return i;
    return -1;
}

/* Maps the header's fields to columns: map[k] is the column of field k (-1
 * never: an unknown name is an error). Returns 0, or -1 with a message. */
static int read_header(const struct csv_record *h, int *map, char *err, size_t errlen)
{
    bool seen[NCOLUMNS] = {false};
    for (size_t k = 0; k < h->nfields; k++) {
        int c = column_index(h->fields[k]);
        if (c < 0) {
            snprintf(err, errlen,
                     "header: column %zu is not one of id, county, name, "
                     "national_id, phone, school, major, graduation_year, "
                     "registered_at, flags, assigned_to",
                     k + 1);
            return -1;
        }
        if (seen[c]) {
            snprintf(err, errlen, "header: column \"%s\" appears twice", columns[c]);
            return -1;
        }
        seen[c] = true;
        map[k] = c;
    }
    for (int i = 0; required_columns[i]; i++)
        if (!seen[column_index(required_columns[i])]) {
            snprintf(err, errlen, "header: the column \"%s\" is missing", required_columns[i]);
            return -1;
        }
    return 0;
}

/* graduation_year as the API gets it from a JSON client: a number when the
 * cell is one (1..4 digits), else the text (which the validator refuses
 * with its own message). New reference. */
static json_t *year_value(const char *s)
{
    size_t n = strlen(s);
    if (n >= 1 && n <= 4 && strspn(s, "0123456789") == n)
        return json_integer(atoi(s));
    return json_string(s);
}

/* "hardship;disabled" (also ',' or '|', spaces around names ignored) as the
 * JSON array PATCH takes. New reference. */
static json_t *flags_value(const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    while (a && *p) {
        size_t n = strcspn(p, ";,|");
        const char *b = p, *e = p + n;
        while (b < e && *b == ' ')
            b++;
        while (e > b && e[-1] == ' ')
            e--;
        json_array_append_new(a, json_stringn(b, (size_t)(e - b)));
        p += n;
        if (*p)
            p++;
    }
    return a;
}

/* Moves every error of v into the report under row rec. */
static void reject_verr(struct import_run *run, size_t rec, struct verr *v)
{
    json_t *fields = verr_take(v);
    const char *k;
    json_t *msg;
    json_object_foreach(fields, k, msg)
    {
        import_reject(run, rec, k, json_string_value(msg));
    }
    json_decref(fields);
}

/* Checks one data record. A valid one is queued for sending (its body
 * handed over); an invalid one goes to the report. */
static void check_record(struct import_run *run, const struct csv_record *rec, size_t recno,
                         const int *map, size_t ncols)
{
    if (rec->nfields != ncols) {
        char why[96];
        snprintf(why, sizeof why, "has %zu fields where the header has %zu", rec->nfields, ncols);
        import_reject(run, recno, "_row", why);
        return;
    }
    json_t *body = json_object(), *flags = NULL;
    if (!body) {
        import_reject(run, recno, "_row", "out of memory");
        return;
    }
    for (size_t k = 0; k < ncols; k++) {
        const char *s = rec->fields[k];
        if (!s[0])
            continue; /* an empty cell is an absent field */
        if (map[k] == COL_FLAGS)
            flags = flags_value(s);
        else
            json_object_set_new(body, columns[map[k]],
                                map[k] == COL_GRADUATION_YEAR ? year_value(s) : json_string(s));
    }
    int64_t now = now_ms();
    struct verr v = {0};
    struct graduate_in in;
    bool bad = validate_graduate(body, run->cfg, NULL, now, &in, &v) < 0;
    /* The one rule of the import's own: the API would assign an id, but a
     * re-import must find the same graduate again ("already there"). */
    if (!json_object_get(body, "id")) {
        verr_add(&v, "id", "is required in an import (a re-import finds the graduate by it)");
        bad = true;
    }
    if (flags) {
        /* Registration takes no flags: they are set by the correction that
         * follows it, checked by that endpoint's rule. */
        json_t *patch = json_pack("{s:O}", "flags", flags);
        struct graduate_patch_in pin;
        if (!patch || validate_graduate_patch(patch, run->cfg, now, &pin, &v) < 0)
            bad = true;
        json_decref(patch);
        if (json_array_size(flags) == 0) {
            json_decref(flags);
            flags = NULL;
        }
    }
    if (bad) {
        reject_verr(run, recno, &v);
        json_decref(body);
        json_decref(flags);
        return;
    }
    if (import_queue(run, recno, in.id, body, flags) < 0) /* takes body and flags */
        import_reject(run, recno, "_row", "out of memory");
}

/* Reads, decodes and checks the file; valid rows end up queued in run.
 * Returns 0, or 2 (message printed) when the file itself is unusable. */
static int check_file(struct import_run *run, const char *path, enum csv_encoding enc)
{
    size_t len, tlen;
    char *raw = slurp(path, &len);
    if (!raw)
        return 2;
    char err[256];
    enum csv_encoding found;
    char *text = csv_decode(raw, len, enc, &tlen, &found, err, sizeof err);
    free(raw);
    if (!text) {
        fprintf(stderr, "gradcover: %s: %s\n", path, err);
        return 2;
    }
    int rc = 2;
    struct csv_reader rd;
    struct csv_record rec = {0};
    int *map = NULL;
    csv_reader_init(&rd, text, tlen);
    int got = csv_next(&rd, &rec, err, sizeof err);
    if (got == 0)
        snprintf(err, sizeof err, "empty file: no header row");
    if (got <= 0)
        goto out_free;
    size_t ncols = rec.nfields;
    map = calloc(ncols, sizeof *map);
    if (!map) {
        snprintf(err, sizeof err, "out of memory");
        goto out_free;
    }
    if (read_header(&rec, map, err, sizeof err) < 0)
        goto out_free;
    while ((got = csv_next(&rd, &rec, err, sizeof err)) == 1) {
        if (csv_record_blank(&rec))
            continue; /* Excel's trailing empty lines */
        run->rows_read++;
        check_record(run, &rec, rd.record, map, ncols);
    }
    if (got == 0)
        rc = 0;
out_free:
    if (rc)
        fprintf(stderr, "gradcover: %s: %s\n", path, err);
    else
        fprintf(stderr, "gradcover: %s: %s, %zu rows\n", path,
                found == CSV_ENC_GB18030 ? "GB18030" : "UTF-8", run->rows_read);
    free(map);
    csv_record_free(&rec);
    free(text);
    return rc;
}

/* The token from --token-file (its first line) or GRADCOVER_TOKEN; NULL
 * (message printed) when neither. Returns a new string. */
static char *read_token(const char *file)
{
    char buf[512] = "";
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f || !fgets(buf, sizeof buf, f)) {
            fprintf(stderr, "gradcover: cannot read the token from %s\n", file);
            if (f)
                fclose(f);
            return NULL;
        }
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
    } else if (getenv("GRADCOVER_TOKEN"))
        snprintf(buf, sizeof buf, "%s", getenv("GRADCOVER_TOKEN"));
    if (!buf[0]) {
        fprintf(stderr, "gradcover: import needs a token: --token-file FILE or GRADCOVER_TOKEN\n");
        return NULL;
    }
    return strdup(buf);
}

/* "<input>.rejected.csv" next to the input. New string. */
static char *default_report(const char *csv)
{
    size_t n = strlen(csv) + sizeof ".rejected.csv";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s.rejected.csv", csv);
    return p;
}

int import_command(const char *config_path, int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"encoding", required_argument, NULL, 'e'},
                                         {"report", required_argument, NULL, 'r'},
                                         {"url", required_argument, NULL, 'u'},
                                         {"token-file", required_argument, NULL, 't'},
                                         {"connections", required_argument, NULL, 'n'},
                                         {"cacert", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct import_opts o = {.connections = IMPORT_CONNECTIONS_DEFAULT};
    enum csv_encoding enc = CSV_ENC_AUTO;
    const char *token_file = NULL, *report = NULL;
    int c;
    optind = 0; /* GNU getopt: 0 re-initialises for the command's own options */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config_path = optarg;
        else if (c == 'k')
            o.check = true;
        else if (c == 'e' && csv_encoding_parse(optarg, &enc))
            continue;
        else if (c == 'r')
            report = optarg;
        else if (c == 'u')
            o.url = optarg;
        else if (c == 't')
            token_file = optarg;
        else if (c == 'a')
            o.cacert = optarg;
        else if (c == 'n' && atoi(optarg) >= 1 && atoi(optarg) <= IMPORT_CONNECTIONS_MAX)
            o.connections = atoi(optarg);
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!config_path || optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    const char *csv_path = argv[optind];
    char err[512];
    struct config *cfg = config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "gradcover: %s: %s\n", config_path, err);
        return 2;
    }
    int rc = 2;
    char *token = NULL, *report_path = report ? strdup(report) : default_report(csv_path);
    struct import_run *run = import_run_new(cfg);
    if (!run || !report_path)
        goto out_free;
    if (!o.check && !(token = read_token(token_file)))
        goto out_free;
    o.token = token;
    rc = check_file(run, csv_path, enc);
    if (rc)
        goto out_free;
    rc = import_send(run, &o);
    if (rc == 2)
        goto out_free;
    if (import_write_report(run, report_path) < 0)
        rc = 1;
    import_summary(run, &o, report_path);
    if (rc == 0 && import_rejected(run) > 0)
        rc = 1;
out_free:
    import_run_free(run);
    free(token);
    free(report_path);
    config_free(cfg);
    return rc;
}
