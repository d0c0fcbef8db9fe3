/* gradcoverd: command line, configuration, run, exit codes. The only file
 * outside the core library. Exit codes: 0 clean stop, 1 cannot start,
 * 2 bad command line or configuration. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/app.h"
#include "gradcover/core/log.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/core/tls.h"
#include "gradcover/core/version.h"
#include "gradcover/domain/config.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gradcoverd --config FILE [--listen HOST:PORT] [--redis URL]\n"
               "                  [--check-config] [--now RFC3339] [--log-level LEVEL]\n"
               "       gradcoverd --version\n"
               "\n"
               "  --config FILE      JSON configuration (see README)\n"
               "  --listen HOST:PORT override \"listen\"\n"
               "  --redis URL        override \"redis\": redis://[[user]:pass@]host:port[/db],\n"
               "                     unix:///path/redis.sock,\n"
               "                     redis-sentinel://host:port[,host:port...]/MASTER[/db]\n"
               "                     or redis-cluster://host:port[,host:port...]\n"
               "  --check-config     validate the configuration and exit (0 = valid)\n"
               "  --now RFC3339      run the clock from this instant instead of the system\n"
               "                     time (it keeps ticking); for drills and tests of year\n"
               "                     boundaries, e.g. --now 2026-12-31T23:59:50+08:00\n"
               "  --log-level LEVEL  debug, info (default), warn or error\n"
               "  --version          print the version (and git commit) and exit\n"
               "\n"
               "Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the configuration\n"
               "file (counties added or renamed, thresholds, tokens, receivers, limits;\n"
               "a bad file keeps the old one; see docs/operations.md, \"Reloading the\n"
               "configuration\").\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"redis", required_argument, NULL, 'r'},
        {"check-config", no_argument, NULL, 'k'},
        {"now", required_argument, NULL, 'n'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    bool check_only = false;
    struct app_opts opts = {0};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'l':
            opts.listen = optarg;
            break;
        case 'r':
            opts.redis_url = optarg;
            break;
        case 'k':
            check_only = true;
            break;
        case 'n':
            if (!rfc3339_parse(optarg, &opts.now_ms)) {
                fprintf(stderr, "gradcoverd: --now: not an RFC 3339 time with offset\n");
                return 2;
            }
            opts.now_set = true;
            break;
        case 'v':
            if (strcmp(optarg, "debug") == 0)
                log_min_level = LOG_DEBUG;
            else if (strcmp(optarg, "info") == 0)
                log_min_level = LOG_INFO;
            else if (strcmp(optarg, "warn") == 0)
                log_min_level = LOG_WARN;
            else if (strcmp(optarg, "error") == 0)
                log_min_level = LOG_ERROR;
            else {
                fprintf(stderr, "gradcoverd: --log-level: debug, info, warn or error\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            gc_version_print(stdout, "gradcoverd");
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!config_path || optind != argc) {
        usage(stderr);
        return 2;
    }
    char err[512];
    struct config *cfg = config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return 2;
    }
    /* The TLS files are part of the configuration: a missing, unreadable,
     * too open or mismatched one is a configuration error (exit 2), found by
     * --check-config too. */
    if (tls_from_config(cfg, &opts.tls_server, &opts.tls_client, err, sizeof err) < 0) {
        fprintf(stderr, "config: %s\n", err);
        config_free(cfg);
        return 2;
    }
    if (check_only) {
        printf("config: %s is valid (%zu counties, %zu tokens%s)\n", config_path, cfg->ncounties,
               cfg->ntokens, opts.tls_server ? ", HTTPS" : "");
        tls_ctx_free(opts.tls_server);
        tls_ctx_free(opts.tls_client);
        config_free(cfg);
        return 0;
    }
    /* A client that hangs up mid-reply must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    opts.config_path = config_path;
    /* takes ownership of cfg and the TLS contexts */
    struct app *a = app_new(cfg, &opts, err, sizeof err);
    if (!a) {
        log_error("event=start_failed err=\"%s\"", err);
        return 1;
    }
    int rc = app_run(a);
    app_free(a);
    return rc;
}
