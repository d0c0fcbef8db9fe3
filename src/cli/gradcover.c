/* gradcover: the operator's command-line tool. Manages API tokens directly in
 * Redis, through the same embedded scripts as the server (so both agree on the
 * format, and the trail in the global audit stream is the same), for the first
 * admin token of a fresh installation or when no admin token is at hand.
 * A short-lived program: synchronous hiredis is fine here, unlike in gradcoverd.
 * `import` (src/cli/import.c) goes through gradcoverd's HTTP API instead.
 * Exit codes: 0 done, 1 Redis or a refusal (name taken, no such token),
 * 2 bad command line or configuration. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "gradcover/cli/import.h"
#include "gradcover/core/clock.h"
#include "gradcover/core/pii.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/core/version.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/tokens.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/scripts.h"
#include "gradcover/store/slotmap.h"
#include "gradcover/store/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gradcover --config FILE [--redis URL] COMMAND\n"
               "       gradcover import --config FILE [--check] [--encoding utf-8|gb18030]\n"
               "                        [--report FILE] [--url http[s]://HOST:PORT] FILE.csv\n"
               "       gradcover --version\n"
               "\n"
               "commands:\n"
               "  token create NAME --role ROLE [--county CODE] [--expires-at RFC3339]\n"
               "        prints the new token once on stdout; only its SHA-256 is stored\n"
               "  token list\n"
               "        every token (config and API-issued), without secrets\n"
               "  token revoke NAME\n"
               "        takes effect on the next request on every gradcoverd\n"
               "\n"
               "  import FILE.csv\n"
               "        registers the graduates of a CSV through gradcoverd's API\n"
               "        (gradcover import --help)\n"
               "\n"
               "ROLE: admin, counselor (needs --county), leader (county optional), viewer\n");
}

static int64_t now_ms(void)
{
    static const struct clock wall = {0};
    return clock_now_ms(&wall);
}

/* redis-sentinel://: the master's address from the first sentinel that
 * names it, into t->host/port (a command-line tool may block). */
static bool find_master(struct redis_target *t)
{
    struct timeval tv = {2, 0};
    for (int i = 0; i < t->nsentinels; i++) {
        redisContext *c = redisConnectWithTimeout(t->sentinels[i].host, t->sentinels[i].port, tv);
        if (!c || c->err) {
            redisFree(c);
            continue;
        }
        redisSetTimeout(c, tv);
        if (t->password[0]) /* a sentinel without a password refuses it: ignored */
            freeReplyObject(t->user[0] ? redisCommand(c, "AUTH %s %s", t->user, t->password)
                                       : redisCommand(c, "AUTH %s", t->password));
        redisReply *r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", t->master);
        bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                  r->element[0]->type == REDIS_REPLY_STRING &&
                  r->element[1]->type == REDIS_REPLY_STRING &&
                  r->element[0]->len < sizeof t->host;
        if (ok) {
            snprintf(t->host, sizeof t->host, "%s", r->element[0]->str);
            t->port = atoi(r->element[1]->str);
        }
        freeReplyObject(r);
        redisFree(c);
        if (ok)
            return true;
    }
    fprintf(stderr, "gradcover: no sentinel named the master \"%s\"\n", t->master);
    return false;
}

/* A CLUSTER SLOTS reply as store.c maps replies (strings, integers, nil,
 * arrays); NULL when memory ran out. */
static json_t *slots_json(const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return json_stringn(r->str, r->len);
    case REDIS_REPLY_INTEGER:
        return json_integer(r->integer);
    case REDIS_REPLY_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < r->elements; i++) {
            json_t *e = slots_json(r->element[i]);
            if (!e || json_array_append_new(a, e) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    default:
        return json_null();
    }
}

/* redis-cluster://: the master serving the global prefix gc:{@} (every key
 * this tool touches) from the first seed that gives a slot map, into
 * t->host/port (a command-line tool may block). */
static bool find_global_master(struct redis_target *t)
{
    struct timeval tv = {2, 0};
    char key[KEY_MAX];
    key_global(key, sizeof key);
    unsigned slot = slotmap_keyslot(key, strlen(key));
    for (int i = 0; i < t->nseeds; i++) {
        redisContext *c = redisConnectWithTimeout(t->seeds[i].host, t->seeds[i].port, tv);
        if (!c || c->err) {
            redisFree(c);
            continue;
        }
        redisSetTimeout(c, tv);
        if (t->password[0])
            freeReplyObject(t->user[0] ? redisCommand(c, "AUTH %s %s", t->user, t->password)
                                       : redisCommand(c, "AUTH %s", t->password));
        redisReply *r = redisCommand(c, "CLUSTER SLOTS");
        json_t *v = r && r->type == REDIS_REPLY_ARRAY ? slots_json(r) : NULL;
        freeReplyObject(r);
        redisFree(c);
        char err[128];
        struct slotmap *m = v ? slotmap_from_slots(v, t->seeds[i].host, err, sizeof err) : NULL;
        json_decref(v);
        int owner = m ? slotmap_owner(m, slot) : SLOTMAP_UNOWNED;
        if (owner != SLOTMAP_UNOWNED) {
            const struct slotmap_node *n = slotmap_node(m, owner);
            snprintf(t->host, sizeof t->host, "%s", n->host);
            t->port = n->port;
        }
        slotmap_free(m);
        if (owner != SLOTMAP_UNOWNED)
            return true;
    }
    fprintf(stderr, "gradcover: no cluster seed named the master of slot %u\n", slot);
    return false;
}

/* Connects, authenticates and selects the database; NULL (message printed)
 * on failure. The caller frees with redisFree. */
static redisContext *connect_redis(const char *url)
{
    struct redis_target t;
    char err[160];
    if (!redis_url_parse(url, &t, err, sizeof err)) {
        fprintf(stderr, "gradcover: redis URL: %s\n", err);
        return NULL;
    }
    if (t.sentinel && !find_master(&t))
        return NULL;
    if (t.cluster && !find_global_master(&t))
        return NULL;
    struct timeval tv = {5, 0};
    redisContext *c = t.unix_socket ? redisConnectUnixWithTimeout(t.path, tv)
                                    : redisConnectWithTimeout(t.host, t.port, tv);
    if (!c || c->err) {
        fprintf(stderr, "gradcover: cannot connect to Redis: %s\n", c ? c->errstr : "no memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    redisReply *r = NULL;
    if (t.password[0])
        r = t.user[0] ? redisCommand(c, "AUTH %s %s", t.user, t.password)
                      : redisCommand(c, "AUTH %s", t.password);
    if (t.password[0] && (!r || r->type == REDIS_REPLY_ERROR)) {
        fprintf(stderr, "gradcover: Redis refused AUTH: %s\n", r ? r->str : c->errstr);
        freeReplyObject(r);
        redisFree(c);
        return NULL;
    }
    freeReplyObject(r);
    r = redisCommand(c, "SELECT %d", t.db);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "gradcover: SELECT %d failed: %s\n", t.db, r ? r->str : c->errstr);
        freeReplyObject(r);
        redisFree(c);
        return NULL;
    }
    freeReplyObject(r);
    return c;
}

/* Runs embedded script `name` with args (taken) on the global prefix and
 * returns its decoded answer (caller decrefs), or NULL (message printed). */
static json_t *run(redisContext *c, const char *name, json_t *args)
{
    const struct gc_script *s = NULL;
    for (size_t i = 0; i < gc_nscripts; i++)
        if (strcmp(gc_scripts[i].name, name) == 0)
            s = &gc_scripts[i];
    char key[KEY_MAX];
    key_global(key, sizeof key);
    char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
    json_decref(args);
    if (!s || !text) {
        free(text);
        fprintf(stderr, "gradcover: internal error (script %s)\n", name);
        return NULL;
    }
    const char *argv[5] = {"EVAL", s->source, "1", key, text};
    size_t lens[5] = {4, s->len, 1, strlen(key), strlen(text)};
    redisReply *r = redisCommandArgv(c, 5, argv, lens);
    free(text);
    json_t *out = NULL;
    if (!r || r->type != REDIS_REPLY_STRING)
        fprintf(stderr, "gradcover: Redis: %s\n",
                r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
    else
        out = json_loadb(r->str, r->len, 0, NULL);
    freeReplyObject(r);
    return out;
}

/* The audit record of a CLI action: the operating-system user is "who". */
static json_t *audit(const struct config *cfg, const char *action, const char *object)
{
    const struct passwd *pw = getpwuid(getuid());
    char who[GC_ID_MAX + 1], rid[24] = "cli";
    snprintf(who, sizeof who, "cli:%s", pw ? pw->pw_name : "?");
    if (gc_random_id(rid + 3, 12) < 0)
        rid[3] = '\0';
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "who", who, "role", "admin", "action",
                     action, "object", object, "rid", rid, "keep_ms",
                     (json_int_t)cfg->audit_retention_days * 86400000);
}

/* Why `token create` cannot go ahead with these arguments (NULL: it can);
 * fills *role and *expires on the way. */
static const char *create_problem(const struct config *cfg, const char *name, const char *role_s,
                                  const char *county, const char *exp_s, int64_t now,
                                  enum role *role, int64_t *expires)
{
    if (!id_valid(name))
        return "NAME must match [A-Za-z0-9._-]{1,64}";
    if (id_personal_data(name) != ID_PERSONAL_NONE)
        return "NAME must not be a national ID or a phone number (it is logged and audited)";
    if (!role_s || !role_parse(role_s, role))
        return "--role must be admin, counselor, leader or viewer";
    if (county && !config_county(cfg, county))
        return "--county is not a county of the configuration";
    const char *problem = role_county_problem(*role, county != NULL);
    if (problem)
        return problem;
    if (exp_s && (!rfc3339_parse(exp_s, expires) || *expires <= now))
        return "--expires-at must be a future RFC 3339 time";
    if (config_token_named(cfg, name))
        return "a token with this name is in the configuration file";
    return NULL;
}

static int token_create(const struct config *cfg, redisContext *c, int argc, char **argv)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"county", required_argument, NULL, 'c'},
                                         {"expires-at", required_argument, NULL, 'e'},
                                         {NULL, 0, NULL, 0}};
    const char *role_s = NULL, *county = NULL, *exp_s = NULL;
    int o;
    optind = 0; /* GNU getopt: 0 re-initialises for the command's own options */
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'r')
            role_s = optarg;
        else if (o == 'c')
            county = optarg;
        else if (o == 'e')
            exp_s = optarg;
        else
            return 2;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "gradcover: token create NAME --role ROLE ...\n");
        return 2;
    }
    const char *name = argv[optind];
    enum role role;
    int64_t expires = 0, now = now_ms();
    const char *bad = create_problem(cfg, name, role_s, county, exp_s, now, &role, &expires);
    if (bad) {
        fprintf(stderr, "gradcover: %s\n", bad);
        return 2;
    }
    char token[TOKEN_TEXT_LEN + 1], hex[65];
    if (token_generate(token) < 0) {
        fprintf(stderr, "gradcover: no random bytes available\n");
        return 1;
    }
    gc_sha256_hex(token, TOKEN_TEXT_LEN, hex);
    json_t *args = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "name", name, "sha", hex, "role",
                             role_name(role), "now", (json_int_t)now, "created_by", "cli", "audit",
                             audit(cfg, "token.create", name));
    if (args && county)
        json_object_set_new(args, "county", json_string(county));
    if (args && expires)
        json_object_set_new(args, "expires_at", json_integer(expires));
    json_t *res = run(c, "token_create", args);
    if (!res)
        return 1;
    const char *err = json_string_value(json_object_get(res, "err"));
    int rc = 0;
    if (err) {
        fprintf(stderr, "gradcover: %s\n",
                strcmp(err, "name_taken") == 0 ? "a token with this name exists" : err);
        rc = 1;
    } else {
        printf("%s\n", token);
        fprintf(stderr, "gradcover: token \"%s\" (%s%s%s) created; it is shown only this once\n",
                name, role_name(role), county ? ", county " : "", county ? county : "");
    }
    json_decref(res);
    return rc;
}

static void print_time(json_t *rec, const char *key, int off)
{
    int64_t ms;
    const char *v = json_string_value(json_object_get(rec, key));
    char out[40] = "-";
    if (v && parse_i64(v, &ms))
        rfc3339_format(ms, off, out, sizeof out);
    printf("  %-25s", out);
}

static int token_list(const struct config *cfg, redisContext *c)
{
    json_t *res = run(c, "token_list", json_object());
    if (!res)
        return 1;
    printf("%-24s  %-9s  %-8s  %-6s  %-25s  %-25s\n", "NAME", "ROLE", "COUNTY", "SOURCE",
           "EXPIRES_AT", "LAST_USED_AT");
    for (size_t i = 0; i < cfg->ntokens; i++)
        printf("%-24s  %-9s  %-8s  %-6s  %-25s  %-25s\n", cfg->tokens[i].name,
               role_name(cfg->tokens[i].role),
               cfg->tokens[i].county[0] ? cfg->tokens[i].county : "-", "config", "-", "-");
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(res, "tokens"), i, rec)
    {
        const char *county = json_string_value(json_object_get(rec, "county"));
        printf("%-24s  %-9s  %-8s  %-6s", json_string_value(json_object_get(rec, "name")),
               json_string_value(json_object_get(rec, "role")), county ? county : "-", "api");
        print_time(rec, "expires_at", cfg->utc_offset_minutes);
        print_time(rec, "last_used_at", cfg->utc_offset_minutes);
        printf("\n");
    }
    json_decref(res);
    return 0;
}

static int token_revoke(const struct config *cfg, redisContext *c, const char *name)
{
    if (!id_valid(name)) {
        fprintf(stderr, "gradcover: no such token\n");
        return 1;
    }
    if (config_token_named(cfg, name)) {
        fprintf(stderr, "gradcover: \"%s\" is in the configuration file: remove it there\n", name);
        return 1;
    }
    json_t *res =
        run(c, "token_delete",
            json_pack("{s:s, s:o}", "name", name, "audit", audit(cfg, "token.revoke", name)));
    if (!res)
        return 1;
    const char *err = json_string_value(json_object_get(res, "err"));
    json_decref(res);
    if (err) {
        fprintf(stderr, "gradcover: no such token\n");
        return 1;
    }
    fprintf(stderr, "gradcover: token \"%s\" revoked\n", name);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"redis", required_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *redis_url = NULL;
    int o;
    /* "+": stop at the first command word; its own options follow it. */
    while ((o = getopt_long(argc, argv, "+c:r:h", longopts, NULL)) != -1) {
        if (o == 'c')
            config_path = optarg;
        else if (o == 'r')
            redis_url = optarg;
        else if (o == 'h') {
            usage(stdout);
            return 0;
        } else if (o == 'V') {
            gc_version_print(stdout, "gradcover");
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs >= 1 && strcmp(args[0], "import") == 0)
        return import_command(config_path, nargs, args);
    if (!config_path || nargs < 2 || strcmp(args[0], "token") != 0) {
        usage(stderr);
        return 2;
    }
    char err[512];
    struct config *cfg = config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "gradcover: %s: %s\n", config_path, err);
        return 2;
    }
    const char *cmd = args[1];
    int rc = 2;
    if (strcmp(cmd, "create") != 0 && strcmp(cmd, "list") != 0 && strcmp(cmd, "revoke") != 0) {
        usage(stderr);
        config_free(cfg);
        return 2;
    }
    if (strcmp(cmd, "revoke") == 0 && nargs != 3) {
        fprintf(stderr, "gradcover: token revoke NAME\n");
        config_free(cfg);
        return 2;
    }
    redisContext *c = connect_redis(redis_url ? redis_url : cfg->redis_url);
    if (!c) {
        config_free(cfg);
        return 1;
    }
    if (strcmp(cmd, "create") == 0)
        rc = token_create(cfg, c, nargs - 1, args + 1);
    else if (strcmp(cmd, "list") == 0)
        rc = token_list(cfg, c);
    else
        rc = token_revoke(cfg, c, args[2]);
    redisFree(c);
    config_free(cfg);
    return rc;
}
