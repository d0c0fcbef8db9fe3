/* Strict JSON configuration (SPEC §5). Every scalar setting is one row of
 * SETTINGS (path, type, bounds, default, field); the keys an object accepts
 * are the table's and STRUCTURED's. A missing required key, an unknown key or
 * a bad value is fatal and reported with the key's path. Nothing falls back
 * silently. */
#include "gradcover/domain/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gradcover/core/hex.h"
#include "gradcover/core/redis_url.h"
#include "gradcover/domain/coverage.h"
#include "gradcover/domain/roles.h"

/* UTC offsets on Earth span -12:00 .. +14:00. */
#define OFFSET_MIN_MINUTES (-12 * 60)
#define OFFSET_MAX_MINUTES (14 * 60)
/* A whole country has ~2,900 counties (SPEC §1); leave room. */
#define MAX_COUNTIES 10000
/* eval_interval: at least 1 s (a busy loop otherwise), at most an hour. */
#define EVAL_INTERVAL_MAX 3600
/* for_seconds: up to a month (the default is a week, see its row). */
#define FOR_SECONDS_MAX (30 * 86400)
/* Repeats and escalations: any positive number of seconds (SPEC §11), up to
 * a year (a period is a year: later than that nothing is news). */
#define REMIND_MAX_SECONDS (366 * 86400)
/* Each client connection needs a descriptor; the process raises its own
 * open-file limit to fit (app.c), and 100,000 is far beyond one county
 * bureau's clients. */
#define MAX_CONNECTIONS_MAX 100000
/* A head takes a client milliseconds; a minute is already generous for the
 * worst mobile link. Bodies are at most 64 KiB: five minutes is 220 B/s. */
#define HEADER_TIMEOUT_MAX 60
#define BODY_TIMEOUT_MAX 300
/* HSTS: two years at most, what nginx's example and the browsers' preload
 * lists use; a longer typo would pin browsers to HTTPS for longer than anyone
 * plans a host's future. */
#define HSTS_MAX_AGE_MAX (2 * 365 * 86400)
/* County display names are short (商丹园区); 64 bytes is generous. */
#define COUNTY_NAME_MAX 64
#define TOKEN_NAME_MAX 64
/* Rate limits: up to a million a second (effectively off for a bench). */
#define RATE_MAX 1000000
/* Retention: the audit trail is kept at least ~6 months (issue 5); at most a
 * century for anything. */
#define AUDIT_RETENTION_MIN_DAYS 183
#define RETENTION_MAX_DAYS 36500

/* A row of each type. FIELD() is the field's offset, and refuses at compile
 * time a field whose C type is not the one the row's type reads into. */
#define FIELD(f, T)                                                                                \
    (offsetof(struct config, f) + 0 * sizeof(_Generic(((struct config *)0)->f, T : 1)))
#define ROW(path, type, required, min, max, def, def_str, offset)                                  \
    {                                                                                              \
        path, type, required, min, max, def, def_str, offset                                       \
    }
#define ROW_STRING(path, f, def) ROW(path, CONFIG_STRING, false, 0, 0, 0, def, FIELD(f, char *))
#define ROW_REQUIRED_STRING(path, f) ROW(path, CONFIG_STRING, true, 0, 0, 0, NULL, FIELD(f, char *))
#define ROW_INT(path, f, min, max, def)                                                            \
    ROW(path, CONFIG_INT, false, min, max, def, NULL, FIELD(f, int))
#define ROW_BOOL(path, f, def) ROW(path, CONFIG_BOOL, false, 0, 0, def, NULL, FIELD(f, bool))
#define ROW_THRESHOLD(path, f, def)                                                                \
    ROW(path, CONFIG_THRESHOLD, false, 0, 0, def, NULL, FIELD(f, uint32_t))
#define ROW_MARGIN(path, f, def)                                                                   \
    ROW(path, CONFIG_MARGIN, false, 0, 0, def, NULL, FIELD(f, uint32_t))

/* Every scalar setting, once. Within each object the rows are checked in this
 * order, so the first bad key of a file is reported. */
static const struct config_setting SETTINGS[] = {
    /* Loopback: nothing off this host reaches the API until the file says so. */
    ROW_STRING("listen", listen, "127.0.0.1:8080"),
    /* A redis-server on this host, on its default port, database 0. */
    ROW_STRING("redis", redis_url, "redis://127.0.0.1:6379/0"),
    /* No default: the key that makes national IDs unguessable is the operator's file. */
    ROW_REQUIRED_STRING("pii_key_file", pii_key_file),
    /* Unset: plain HTTP; both set or neither (check_endpoints). */
    ROW_STRING("tls_cert", tls_cert, NULL),
    ROW_STRING("tls_key", tls_key, NULL),
    /* With native TLS, browsers keep to HTTPS for a year after each visit:
     * longer than the months between a leader's visits, short enough to undo
     * (moving the host off HTTPS) within the year. 0: no header. */
    ROW_INT("hsts_max_age_seconds", hsts_max_age_seconds, 0, HSTS_MAX_AGE_MAX, 365 * 86400),
    /* China Standard Time (SPEC §3); bounds: the offsets Earth has. */
    ROW_INT("utc_offset_minutes", utc_offset_minutes, OFFSET_MIN_MINUTES, OFFSET_MAX_MINUTES, 480),
    /* SPEC §3's 0.90; a county without a threshold of its own inherits this one. */
    ROW_THRESHOLD("threshold", threshold_bp, COVERAGE_DEFAULT_BP),
    /* Three years after leaving seeking, as docs/security.md promises; a day at least. */
    ROW_INT("pii_retention_days", pii_retention_days, 1, RETENTION_MAX_DAYS, 3 * 365),
    /* A little over the ~6 months the trail must cover (issue 5). */
    ROW_INT("audit_retention_days", audit_retention_days, AUDIT_RETENTION_MIN_DAYS,
            RETENTION_MAX_DAYS, 200),
    /* Far above what the bureaus' counselors open at once, far below the
     * descriptors one process may hold. */
    ROW_INT("max_connections", max_connections, 1, MAX_CONNECTIONS_MAX, 1024),
    /* One office behind a NAT address: ~30 counselors' browsers keep 1-2
     * connections each; 64 leaves room for that and needs 16 addresses to
     * fill the default max_connections, where one slow attacker filled it. */
    ROW_INT("max_connections_per_address", max_connections_per_address, 1, MAX_CONNECTIONS_MAX, 64),
    /* nginx's client_header_timeout is 60 s; a head is a few hundred bytes, and
     * 10 s keeps a slow-header attacker's connections short. */
    ROW_INT("header_timeout_seconds", header_timeout_seconds, 1, HEADER_TIMEOUT_MAX, 10),
    /* 64 KiB within 30 s is ~2 KiB/s, slower than any working mobile link. */
    ROW_INT("body_timeout_seconds", body_timeout_seconds, 1, BODY_TIMEOUT_MAX, 30),
    /* SPEC §12's default: a month without a service puts a graduate first in
     * the ranked queue; at most a year (a period: later nobody is "on time"). */
    ROW_INT("queue.sla_days", queue_sla_days, 1, 366, 30),
    /* Off: a request without a token is refused unless the operator opts in. */
    ROW_BOOL("anonymous_read", anonymous_read, false),
    /* On: coverage and /metrics re-read only the counties Redis says changed. */
    ROW_BOOL("counter_cache", counter_cache, true),
    /* 0: a write is answered once the master has it (asynchronous
     * replication, as Redis by itself). N: also once N replicas confirmed it
     * (WAIT), so that a failover loses no acknowledged write
     * (docs/reliability.md). 16 replicas is more than any deployment here. */
    ROW_INT("wait_replicas", wait_replicas, 0, 16, 0),
    /* A replica on the same LAN confirms within a millisecond; 500 ms rides
     * out a busy moment and leaves a third of the 1.5 s Redis deadline for
     * the script and the answer. */
    ROW_INT("wait_timeout_ms", wait_timeout_ms, 1, 60000, 500),
    /* A counselor syncing a day of offline work sends a few hundred contacts at
     * once; a runaway script is held to 20 writes a second. A rate of 0 is
     * unlimited; a burst is at least 1, as a bucket of 0 would refuse all. */
    ROW_INT("rate_limits.writes_per_second", rate_limits.writes_per_second, 0, RATE_MAX, 20),
    ROW_INT("rate_limits.write_burst", rate_limits.write_burst, 1, RATE_MAX, 300),
    /* Reads: more than a person's screens ask for, less than a runaway poller. */
    ROW_INT("rate_limits.reads_per_second", rate_limits.reads_per_second, 0, RATE_MAX, 50),
    ROW_INT("rate_limits.read_burst", rate_limits.read_burst, 1, RATE_MAX, 300),
    /* Ten mistyped tokens a minute per address; guessing one of 2^256 is hopeless anyway. */
    ROW_INT("rate_limits.auth_failures_per_minute", rate_limits.auth_failures_per_minute, 0,
            RATE_MAX, 10),
    /* A registration refused because the person is already seeking in
     * another county (409 already_seeking) tells the caller something about a
     * person elsewhere. A counselor meets a few a week (people who moved), a
     * registration drive from a school's list perhaps a dozen at once; a
     * token probing national IDs is held to 20 answers and then 10 an hour,
     * each one audited in both counties. Per token name and server; a
     * registration that is not refused spends nothing. 0 = unlimited. */
    ROW_INT("rate_limits.seeking_refusals_per_hour", rate_limits.seeking_refusals_per_hour, 0,
            RATE_MAX, 10),
    ROW_INT("rate_limits.seeking_refusal_burst", rate_limits.seeking_refusal_burst, 1, RATE_MAX,
            20),
    /* A week: a county at its target that registers a graduate dips below
     * it until a counselor serves them, which ordinary work does within the
     * week; only a dip that lasts longer pages anyone (docs/alerts.md,
     * "Defaults"). 0: a dip fires at once (SPEC §7). */
    ROW_INT("alerts.for_seconds", alerts.for_seconds, 0, FOR_SECONDS_MAX, 7 * 86400),
    /* SPEC §5's 15 s: with 3,000 counties, 200 evaluations a second (docs/performance.md). */
    ROW_INT("alerts.eval_interval_seconds", alerts.eval_interval_seconds, 1, EVAL_INTERVAL_MAX, 15),
    /* Unset: no Alertmanager; checked and trimmed in parse_alerts. */
    ROW_STRING("alerts.alertmanager_url", alerts.alertmanager_url, NULL),
    /* Unset: https:// receivers are verified against the system store. */
    ROW_STRING("alerts.ca_file", alerts.ca_file, NULL),
    /* 0.01: a firing county resolves at 91%, so that one graduate more or
     * less at the line does not page twice (docs/alerts.md, "Defaults").
     * 0: it resolves as soon as it is back on target (SPEC §7). */
    ROW_MARGIN("alerts.clear_margin", alerts.clear_margin_bp, 100),
    /* Unset: no server can know the name people reach it by (a proxy, a
     * bureau's domain), so messages carry no links; checked in parse_alerts. */
    ROW_STRING("alerts.public_url", alerts.public_url, NULL),
    /* SPEC §11: the robots' messages in Chinese unless asked; "zh" or "en",
     * checked in parse_alerts. */
    ROW_STRING("alerts.language", alerts.language, "zh"),
    /* SPEC §11: a firing episode nobody acknowledged is repeated daily. */
    ROW_INT("alerts.repeat_interval_seconds", alerts.repeat_interval_seconds, 0, REMIND_MAX_SECONDS,
            86400),
    /* SPEC §11: off until the city names its leaders' receivers. */
    ROW_INT("alerts.escalate_after_seconds", alerts.escalate_after_seconds, 0, REMIND_MAX_SECONDS,
            0),
    /* Unset: no digest; "HH:MM" local time, checked in parse_digest. */
    ROW_STRING("alerts.digest.at", alerts.digest_at, NULL),
};
#define NSETTINGS (sizeof SETTINGS / sizeof SETTINGS[0])

/* Keys whose values are lists, parsed by their own functions below. */
static const char *const STRUCTURED[] = {
    "trusted_proxies",         "counties",       "tokens", "alerts.webhooks",
    "alerts.digest.receivers", "service_package"};
#define NSTRUCTURED (sizeof STRUCTURED / sizeof STRUCTURED[0])

const struct config_setting *config_settings(size_t *n)
{
    *n = NSETTINGS;
    return SETTINGS;
}

struct perr {
    char *buf;
    size_t len;
};

static bool fail(struct perr *e, const char *fmt, ...) GC_PRINTF(2, 3);
static bool fail(struct perr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
    return false;
}

/* True when key belongs to the object at path ("" = the root): it is the next
 * component of a row's path or of a STRUCTURED path under it. */
static bool known_key(const char *path, const char *key)
{
    size_t plen = strlen(path), klen = strlen(key);
    for (size_t i = 0; i < NSETTINGS + NSTRUCTURED; i++) {
        const char *p = i < NSETTINGS ? SETTINGS[i].path : STRUCTURED[i - NSETTINGS];
        if (plen > 0) {
            if (strncmp(p, path, plen) != 0 || p[plen] != '.')
                continue;
            p += plen + 1;
        }
        if (strcspn(p, ".") == klen && strncmp(p, key, klen) == 0)
            return true;
    }
    return false;
}

/* Rejects keys of obj (at path) that are not in allowed (NULL-terminated) or,
 * when allowed is NULL, not known to the table (known_key). */
static GC_MUSTCHECK bool check_keys(json_t *obj, const char *path, const char *const *allowed,
                                    struct perr *e)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        bool ok = !allowed && known_key(path, k);
        for (const char *const *a = allowed; a && *a; a++)
            if (strcmp(*a, k) == 0)
                ok = true;
        if (!ok)
            return fail(e, "unknown key \"%s%s%s\"", path, *path ? "." : "", k);
    }
    return true;
}

/* The readers of one value v, present, at path + key (path ends in "." or is
 * ""): each stores it in *out or fails with a message naming the key. */

static GC_MUSTCHECK bool read_string(json_t *v, const char *path, const char *key, char **out,
                                     struct perr *e)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return fail(e, "key \"%s%s\": must be a non-empty string", path, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(e, "key \"%s%s\": must not contain NUL", path, key);
    free(*out);
    *out = strdup(json_string_value(v));
    return *out ? true : fail(e, "out of memory");
}

static GC_MUSTCHECK bool read_int(json_t *v, const char *path, const char *key, long min, long max,
                                  int *out, struct perr *e)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return fail(e, "key \"%s%s\": must be an integer in [%ld, %ld]", path, key, min, max);
    *out = (int)json_integer_value(v);
    return true;
}

static GC_MUSTCHECK bool read_bool(json_t *v, const char *path, const char *key, bool *out,
                                   struct perr *e)
{
    if (!json_is_boolean(v))
        return fail(e, "key \"%s%s\": must be true or false", path, key);
    *out = json_is_true(v);
    return true;
}

static GC_MUSTCHECK bool read_threshold(json_t *v, const char *path, const char *key, uint32_t *out,
                                        struct perr *e)
{
    if (!json_is_number(v) || !coverage_threshold_bp(json_number_value(v), out))
        return fail(e, "key \"%s%s\": must be a number in (0, 1] with at most 4 decimals", path,
                    key);
    return true;
}

static GC_MUSTCHECK bool read_margin(json_t *v, const char *path, const char *key, uint32_t *out,
                                     struct perr *e)
{
    double d = json_is_number(v) ? json_number_value(v) : -1;
    uint32_t bp = 0;
    if (d != 0.0 && !coverage_threshold_bp(d, &bp))
        return fail(e, "key \"%s%s\": must be a number in [0, 1) with at most 4 decimals", path,
                    key);
    if (bp >= COVERAGE_BP_ONE)
        return fail(e, "key \"%s%s\": must be below 1", path, key);
    *out = bp;
    return true;
}

/* The string at obj.key into *out (replacing it); absent is an error only
 * when required. path prefixes the key in messages. */
static GC_MUSTCHECK bool get_string(json_t *obj, const char *key, const char *path, bool required,
                                    char **out, struct perr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? fail(e, "missing key \"%s%s\"", path, key) : true;
    return read_string(v, path, key, out, e);
}

/* Reads the value v of row s (NULL: the key is absent) into its field of cfg. */
static GC_MUSTCHECK bool read_setting(const struct config_setting *s, json_t *v, struct config *cfg,
                                      struct perr *e)
{
    void *field = (char *)cfg + s->offset;
    if (!v)
        return s->required ? fail(e, "missing key \"%s\"", s->path) : true;
    switch (s->type) {
    case CONFIG_STRING:
        return read_string(v, "", s->path, field, e);
    case CONFIG_INT:
        return read_int(v, "", s->path, s->min, s->max, field, e);
    case CONFIG_BOOL:
        return read_bool(v, "", s->path, field, e);
    case CONFIG_THRESHOLD:
        return read_threshold(v, "", s->path, field, e);
    case CONFIG_MARGIN:
        return read_margin(v, "", s->path, field, e);
    }
    return fail(e, "key \"%s\": unknown setting type", s->path);
}

/* Checks the keys of the object obj at path ("" = the root) and reads the
 * rows directly under it, in table order. An absent object (NULL) leaves
 * every row at its default. */
static GC_MUSTCHECK bool read_object(json_t *obj, const char *path, struct config *cfg,
                                     struct perr *e)
{
    if (!obj)
        return true;
    if (*path && !json_is_object(obj))
        return fail(e, "key \"%s\": must be an object", path);
    if (!check_keys(obj, path, NULL, e))
        return false;
    size_t plen = strlen(path);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *leaf = strrchr(SETTINGS[i].path, '.');
        leaf = leaf ? leaf + 1 : SETTINGS[i].path;
        size_t parent = (size_t)(leaf - SETTINGS[i].path);
        if (parent != (plen ? plen + 1 : 0) || strncmp(SETTINGS[i].path, path, plen) != 0)
            continue;
        if (!read_setting(&SETTINGS[i], json_object_get(obj, leaf), cfg, e))
            return false;
    }
    return true;
}

/* Gives every row its default; false when out of memory. */
static GC_MUSTCHECK bool set_defaults(struct config *cfg)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct config_setting *s = &SETTINGS[i];
        void *field = (char *)cfg + s->offset;
        switch (s->type) {
        case CONFIG_STRING:
            if (s->def_str && !(*(char **)field = strdup(s->def_str)))
                return false;
            break;
        case CONFIG_INT:
            *(int *)field = (int)s->def;
            break;
        case CONFIG_BOOL:
            *(bool *)field = s->def != 0;
            break;
        case CONFIG_THRESHOLD:
        case CONFIG_MARGIN:
            *(uint32_t *)field = (uint32_t)s->def;
            break;
        }
    }
    return true;
}

bool config_valid_county_code(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
            return false;
    return n >= 1 && n <= GC_COUNTY_MAX;
}

static GC_MUSTCHECK bool parse_county(json_t *c, size_t i, struct config *cfg, struct perr *e)
{
    static const char *const keys[] = {"code", "name", "threshold", NULL};
    char path[64];
    snprintf(path, sizeof path, "counties[%zu].", i);
    struct county_cfg *cc = &cfg->counties[i];
    cc->threshold_bp = cfg->threshold_bp;
    if (!json_is_object(c))
        return fail(e, "key \"counties[%zu]\": must be an object", i);
    char ctx[64];
    snprintf(ctx, sizeof ctx, "counties[%zu]", i);
    if (!check_keys(c, ctx, keys, e))
        return false;
    char *code = NULL;
    if (!get_string(c, "code", path, true, &code, e))
        return false;
    bool valid = config_valid_county_code(code);
    if (valid)
        strcpy(cc->code, code);
    free(code);
    if (!valid)
        return fail(e, "key \"%scode\": must match [A-Za-z0-9_-]{1,%d}", path, GC_COUNTY_MAX);
    if (!get_string(c, "name", path, true, &cc->name, e))
        return false;
    if (strlen(cc->name) > COUNTY_NAME_MAX)
        return fail(e, "key \"%sname\": longer than %d bytes", path, COUNTY_NAME_MAX);
    json_t *t = json_object_get(c, "threshold");
    if (t && !read_threshold(t, path, "threshold", &cc->threshold_bp, e))
        return false;
    for (size_t j = 0; j < i; j++)
        if (strcmp(cfg->counties[j].code, cc->code) == 0)
            return fail(e, "key \"%scode\": duplicate county \"%s\"", path, cc->code);
    return true;
}

static GC_MUSTCHECK bool parse_counties(json_t *cs, struct config *cfg, struct perr *e)
{
    if (!cs)
        return fail(e, "missing key \"counties\"");
    if (!json_is_array(cs) || json_array_size(cs) == 0 || json_array_size(cs) > MAX_COUNTIES)
        return fail(e, "key \"counties\": must be an array of 1..%d counties", MAX_COUNTIES);
    cfg->counties = calloc(json_array_size(cs), sizeof *cfg->counties);
    if (!cfg->counties)
        return fail(e, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(cs, i, v)
    {
        cfg->ncounties = i + 1;
        if (!parse_county(v, i, cfg, e))
            return false;
    }
    return true;
}

static GC_MUSTCHECK bool parse_token(json_t *t, size_t i, struct config *cfg, struct perr *e)
{
    static const char *const keys[] = {"name", "sha256", "role", "county", NULL};
    char path[64], ctx[64];
    snprintf(path, sizeof path, "tokens[%zu].", i);
    snprintf(ctx, sizeof ctx, "tokens[%zu]", i);
    struct token_cfg *tc = &cfg->tokens[i];
    if (!json_is_object(t))
        return fail(e, "key \"%s\": must be an object", ctx);
    if (!check_keys(t, ctx, keys, e))
        return false;
    char *hex = NULL, *role = NULL, *county = NULL;
    bool ok = false;
    if (!get_string(t, "name", path, true, &tc->name, e) ||
        !get_string(t, "sha256", path, true, &hex, e) ||
        !get_string(t, "role", path, true, &role, e) ||
        !get_string(t, "county", path, false, &county, e))
        goto out;
    if (strlen(tc->name) > TOKEN_NAME_MAX) {
        fail(e, "key \"%sname\": longer than %d bytes", path, TOKEN_NAME_MAX);
        goto out;
    }
    if (!hex_decode(hex, tc->sha256, sizeof tc->sha256)) {
        fail(e, "key \"%ssha256\": must be 64 hex digits", path);
        goto out;
    }
    if (!role_parse(role, &tc->role)) {
        fail(e, "key \"%srole\": must be one of admin, counselor, leader, viewer", path);
        goto out;
    }
    const char *problem = role_county_problem(tc->role, county != NULL);
    if (problem) {
        fail(e, "key \"%scounty\": %s", path, problem);
        goto out;
    }
    if (county) {
        if (!config_county(cfg, county)) {
            fail(e, "key \"%scounty\": unknown county \"%s\"", path, county);
            goto out;
        }
        strcpy(tc->county, county);
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(cfg->tokens[j].name, tc->name) == 0) {
            fail(e, "key \"%sname\": duplicate token name \"%s\"", path, tc->name);
            goto out;
        }
        if (memcmp(cfg->tokens[j].sha256, tc->sha256, 32) == 0) {
            fail(e, "key \"%ssha256\": same token as tokens[%zu]", path, j);
            goto out;
        }
    }
    ok = true;
out:
    free(hex);
    free(role);
    free(county);
    return ok;
}

static GC_MUSTCHECK bool parse_tokens(json_t *ts, struct config *cfg, struct perr *e)
{
    if (!ts)
        return true;
    if (!json_is_array(ts))
        return fail(e, "key \"tokens\": must be an array");
    cfg->tokens = calloc(json_array_size(ts) + 1, sizeof *cfg->tokens);
    if (!cfg->tokens)
        return fail(e, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(ts, i, v)
    {
        cfg->ntokens = i + 1;
        if (!parse_token(v, i, cfg, e))
            return false;
    }
    return true;
}

/* alerts.public_url is pasted into chat messages (markdown links, whose
 * parentheses and brackets end a URL), HTML pages and the ack links
 * "{public_url}/ack/{token}": a scheme, a host and an optional path of these
 * characters only, no query or fragment. Room for the token within the 2 KiB
 * a request target may have, and for a bureau's longest reverse-proxy path. */
#define PUBLIC_URL_MAX 256
static bool valid_public_url(const char *u)
{
    size_t skip = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
    if (skip == 0 || u[skip] == '\0' || u[skip] == '/' || strlen(u) > PUBLIC_URL_MAX)
        return false;
    for (const char *p = u + skip; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-._~:/@%+[]", *p))
            return false;
    return true;
}

/* Receivers are reached with libevent's HTTP client, over TLS for https://
 * (verified against alerts.ca_file or the system store, see tls.c). */
static bool valid_receiver_url(const char *u)
{
    size_t skip = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
    return skip > 0 && u[skip] != '\0' && u[skip] != '/';
}

static const char *const FORMATS[] = {"json", "wecom", "dingtalk", "feishu", NULL};

const char *const *config_webhook_formats(void)
{
    return FORMATS;
}

bool config_format_is_robot(const char *format)
{
    return format && strcmp(format, "json") != 0;
}

static GC_MUSTCHECK bool parse_webhook(json_t *w, size_t i, struct config *cfg, struct perr *e)
{
    static const char *const keys[] = {"name",   "url",        "secret", "counties",
                                       "format", "escalation", NULL};
    char path[80], ctx[64];
    snprintf(ctx, sizeof ctx, "alerts.webhooks[%zu]", i);
    snprintf(path, sizeof path, "%s.", ctx);
    struct webhook_cfg *wc = &cfg->alerts.webhooks[i];
    if (!json_is_object(w))
        return fail(e, "key \"%s\": must be an object", ctx);
    if (!check_keys(w, ctx, keys, e) || !get_string(w, "name", path, true, &wc->name, e) ||
        !get_string(w, "url", path, true, &wc->url, e) ||
        !get_string(w, "secret", path, false, &wc->secret, e))
        return false;
    if (!valid_receiver_url(wc->url))
        return fail(e, "key \"%surl\": must be an http:// or https:// URL", path);
    /* Delivery records and metrics name a receiver: two of one name would
     * share them, and "alertmanager" is Alertmanager's. */
    for (size_t j = 0; j < i; j++)
        if (strcmp(cfg->alerts.webhooks[j].name, wc->name) == 0)
            return fail(e, "key \"%sname\": duplicate webhook name \"%s\"", path, wc->name);
    if (strcmp(wc->name, "alertmanager") == 0)
        return fail(e, "key \"%sname\": \"alertmanager\" names alerts.alertmanager_url", path);
    wc->format = FORMATS[0];
    json_t *f = json_object_get(w, "format");
    if (f) {
        wc->format = NULL;
        for (size_t k = 0; FORMATS[k] && json_is_string(f); k++)
            if (strcmp(FORMATS[k], json_string_value(f)) == 0)
                wc->format = FORMATS[k];
        if (!wc->format)
            return fail(e, "key \"%sformat\": must be one of json, wecom, dingtalk, feishu", path);
    }
    json_t *esc = json_object_get(w, "escalation");
    if (esc && !read_bool(esc, path, "escalation", &wc->escalation, e))
        return false;
    json_t *cs = json_object_get(w, "counties");
    if (!cs)
        return true;
    if (!json_is_array(cs))
        return fail(e, "key \"%scounties\": must be an array of county codes", path);
    wc->counties = calloc(json_array_size(cs) + 1, sizeof *wc->counties);
    if (!wc->counties)
        return fail(e, "out of memory");
    size_t j;
    json_t *c;
    json_array_foreach(cs, j, c)
    {
        if (!json_is_string(c) || !config_county(cfg, json_string_value(c)))
            return fail(e, "key \"%scounties[%zu]\": not a configured county", path, j);
        wc->counties[j] = strdup(json_string_value(c));
        if (!wc->counties[j])
            return fail(e, "out of memory");
        wc->ncounties = j + 1;
    }
    return true;
}

/* "HH:MM" (00:00 .. 23:59) into minutes after midnight; -1 when malformed. */
static int parse_hhmm(const char *s)
{
    if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* alerts.digest (after the webhooks, which it names): {"at": "HH:MM",
 * "receivers": [names]}, both required; each name a chat robot's (a digest
 * is words for people, which the json body has no place for), once. */
static GC_MUSTCHECK bool parse_digest(json_t *d, struct config *cfg, struct perr *e)
{
    struct alerts_cfg *ac = &cfg->alerts;
    ac->digest_at_minute = -1;
    if (!d)
        return true;
    if (!read_object(d, "alerts.digest", cfg, e))
        return false;
    if (!ac->digest_at)
        return fail(e, "missing key \"alerts.digest.at\"");
    if ((ac->digest_at_minute = parse_hhmm(ac->digest_at)) < 0)
        return fail(e, "key \"alerts.digest.at\": must be a local time \"HH:MM\" (00:00..23:59)");
    json_t *rs = json_object_get(d, "receivers");
    if (!rs)
        return fail(e, "missing key \"alerts.digest.receivers\"");
    if (!json_is_array(rs) || json_array_size(rs) == 0)
        return fail(e, "key \"alerts.digest.receivers\": must be a non-empty array of webhook "
                       "names");
    ac->digest_receivers = calloc(json_array_size(rs), sizeof *ac->digest_receivers);
    if (!ac->digest_receivers)
        return fail(e, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(rs, i, v)
    {
        const char *name = json_string_value(v);
        size_t w = 0;
        while (name && w < ac->nwebhooks && strcmp(ac->webhooks[w].name, name) != 0)
            w++;
        if (!name || w == ac->nwebhooks)
            return fail(e, "key \"alerts.digest.receivers[%zu]\": not the name of a webhook", i);
        if (!config_format_is_robot(ac->webhooks[w].format))
            return fail(e,
                        "key \"alerts.digest.receivers[%zu]\": \"%s\" is a json webhook; the "
                        "digest goes to chat robots (format wecom, dingtalk or feishu)",
                        i, name);
        for (size_t j = 0; j < ac->ndigest_receivers; j++)
            if (ac->digest_receivers[j] == w)
                return fail(e, "key \"alerts.digest.receivers[%zu]\": \"%s\" is named twice", i,
                            name);
        ac->digest_receivers[ac->ndigest_receivers++] = w;
    }
    return true;
}

/* The alerts object: its rows, then the Alertmanager URL's form, then the
 * webhooks (after the counties, which they name), then the digest. */
static GC_MUSTCHECK bool parse_alerts(json_t *a, struct config *cfg, struct perr *e)
{
    struct alerts_cfg *ac = &cfg->alerts;
    ac->digest_at_minute = -1;
    if (!a)
        return true;
    if (!read_object(a, "alerts", cfg, e))
        return false;
    if (ac->alertmanager_url && !valid_receiver_url(ac->alertmanager_url))
        return fail(e, "key \"alerts.alertmanager_url\": must be an http:// or https:// URL");
    /* "http://am:9093/" and "http://am:9093" name the same API root; the
     * scheme and one host character always stay. */
    size_t keep = ac->alertmanager_url && ac->alertmanager_url[4] == 's' ? 9 : 8;
    for (size_t n = ac->alertmanager_url ? strlen(ac->alertmanager_url) : 0;
         n > keep && ac->alertmanager_url[n - 1] == '/'; n--)
        ac->alertmanager_url[n - 1] = '\0';
    if (ac->public_url && !valid_public_url(ac->public_url))
        return fail(e,
                    "key \"alerts.public_url\": must be an http:// or https:// URL of at most "
                    "%d characters (letters, digits, -._~:/@%%+[]; no query or fragment)",
                    PUBLIC_URL_MAX);
    /* "https://gc.example/" and "https://gc.example" are the same base: links
     * are made by appending "/ack/...". */
    keep = ac->public_url && ac->public_url[4] == 's' ? 9 : 8;
    for (size_t n = ac->public_url ? strlen(ac->public_url) : 0;
         n > keep && ac->public_url[n - 1] == '/'; n--)
        ac->public_url[n - 1] = '\0';
    if (strcmp(ac->language, "zh") != 0 && strcmp(ac->language, "en") != 0)
        return fail(e, "key \"alerts.language\": must be \"zh\" or \"en\"");
    json_t *ws = json_object_get(a, "webhooks");
    if (!ws)
        return parse_digest(json_object_get(a, "digest"), cfg, e);
    if (!json_is_array(ws))
        return fail(e, "key \"alerts.webhooks\": must be an array");
    ac->webhooks = calloc(json_array_size(ws) + 1, sizeof *ac->webhooks);
    if (!ac->webhooks)
        return fail(e, "out of memory");
    size_t i;
    json_t *w;
    json_array_foreach(ws, i, w)
    {
        ac->nwebhooks = i + 1;
        if (!parse_webhook(w, i, cfg, e))
            return false;
    }
    return parse_digest(json_object_get(a, "digest"), cfg, e);
}

static GC_MUSTCHECK bool parse_trusted_proxies(json_t *tp, struct config *cfg, struct perr *e)
{
    if (!tp)
        return true;
    if (!json_is_array(tp) || json_array_size(tp) > 64)
        return fail(e, "key \"trusted_proxies\": must be an array of up to 64 IP addresses");
    cfg->trusted_proxies = calloc(json_array_size(tp) + 1, sizeof *cfg->trusted_proxies);
    if (!cfg->trusted_proxies)
        return fail(e, "out of memory");
    size_t k;
    json_t *a;
    json_array_foreach(tp, k, a)
    {
        unsigned char buf[sizeof(struct in6_addr)];
        const char *ip = json_string_value(a);
        if (!ip || (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1))
            return fail(e, "key \"trusted_proxies[%zu]\": must be an IP address", k);
        cfg->trusted_proxies[k] = strdup(ip);
        cfg->ntrusted_proxies = k + 1;
        if (!cfg->trusted_proxies[k])
            return fail(e, "out of memory");
    }
    return true;
}

/* service_package (SPEC §12): {"name": "1131", "items": [{"services":
 * [...], "count": n}, ...]}. Every service known and in one item at most,
 * every count in 1..PACKAGE_COUNT_MAX, 1..GC_NSERVICES items. Builds the
 * scripts' arguments once (package_cfg's svc_json, all_json). */
static GC_MUSTCHECK bool parse_package(json_t *pk, struct config *cfg, struct perr *e)
{
    static const char *const keys[] = {"name", "items", NULL};
    static const char *const item_keys[] = {"services", "count", NULL};
    struct package_cfg *p = &cfg->package;
    if (!pk)
        return true;
    if (!json_is_object(pk))
        return fail(e, "key \"service_package\": must be an object");
    if (!check_keys(pk, "service_package", keys, e))
        return false;
    const char *name = json_string_value(json_object_get(pk, "name"));
    if (!name || !*name || strlen(name) > PACKAGE_NAME_MAX)
        return fail(e, "key \"service_package.name\": must be a string of 1..%d bytes",
                    PACKAGE_NAME_MAX);
    snprintf(p->name, sizeof p->name, "%s", name);
    json_t *items = json_object_get(pk, "items");
    if (!json_is_array(items) || json_array_size(items) < 1 ||
        json_array_size(items) > GC_NSERVICES)
        return fail(e, "key \"service_package.items\": must be an array of 1..%d items",
                    GC_NSERVICES);
    unsigned seen = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        char path[64];
        snprintf(path, sizeof path, "service_package.items[%zu]", i);
        if (!json_is_object(it))
            return fail(e, "key \"%s\": must be an object", path);
        if (!check_keys(it, path, item_keys, e))
            return false;
        struct package_item *pi = &p->items[i];
        json_t *count = json_object_get(it, "count");
        if (!json_is_integer(count) || json_integer_value(count) < 1 ||
            json_integer_value(count) > PACKAGE_COUNT_MAX)
            return fail(e, "key \"%s.count\": must be an integer in [1, %d]", path,
                        PACKAGE_COUNT_MAX);
        pi->count = (int)json_integer_value(count);
        json_t *svcs = json_object_get(it, "services");
        if (!json_is_array(svcs) || json_array_size(svcs) < 1)
            return fail(e, "key \"%s.services\": must be a non-empty array of services", path);
        size_t k;
        json_t *sv;
        json_array_foreach(svcs, k, sv)
        {
            int s = json_is_string(sv) ? service_index(json_string_value(sv)) : -1;
            if (s < 0)
                return fail(e, "key \"%s.services[%zu]\": must be one of %s", path, k,
                            gc_services_text);
            if (seen & (1u << s))
                return fail(e, "key \"%s.services[%zu]\": %s is already in the package", path, k,
                            gc_services[s]);
            seen |= 1u << s;
            pi->services |= 1u << s;
        }
        /* The indexes in list order: the field does not depend on how the
         * file happens to list an item's services. */
        size_t at = 0;
        for (int s = 0; s < GC_NSERVICES; s++)
            if (pi->services & (1u << s))
                at += (size_t)snprintf(pi->field + at, sizeof pi->field - at, "%s%d", at ? "+" : "",
                                       s);
        p->nitems = i + 1;
    }
    json_t *all = json_array();
    for (size_t k = 0; all && k < p->nitems; k++)
        json_array_append_new(all, json_pack("[s, i]", p->items[k].field, p->items[k].count));
    p->all_json = all ? json_dumps(all, JSON_COMPACT) : NULL;
    if (!p->all_json) {
        json_decref(all);
        return fail(e, "out of memory");
    }
    for (size_t k = 0; k < p->nitems; k++)
        for (int s = 0; s < GC_NSERVICES; s++) {
            if (!(p->items[k].services & (1u << s)))
                continue;
            json_t *one = json_pack("{s:s, s:i, s:O}", "f", p->items[k].field, "n",
                                    p->items[k].count, "all", all);
            p->svc_json[s] = one ? json_dumps(one, JSON_COMPACT) : NULL;
            json_decref(one);
            if (!p->svc_json[s]) {
                json_decref(all);
                return fail(e, "out of memory");
            }
        }
    json_decref(all);
    return true;
}

/* The forms of listen, redis and the TLS pair, which their rows hold as plain
 * strings. */
static GC_MUSTCHECK bool check_endpoints(const struct config *cfg, struct perr *e)
{
    /* A certificate without its key (or the reverse) is a half-done TLS
     * setup: refuse it rather than serve plain HTTP. The files themselves
     * are checked by tls_from_config() (tls.c). */
    if (cfg->tls_cert && !cfg->tls_key)
        return fail(e, "missing key \"tls_key\": \"tls_cert\" and \"tls_key\" go together");
    if (cfg->tls_key && !cfg->tls_cert)
        return fail(e, "missing key \"tls_cert\": \"tls_cert\" and \"tls_key\" go together");
    char host[256];
    int port;
    if (!config_split_hostport(cfg->listen, host, sizeof host, &port))
        return fail(e, "key \"listen\": must be host:port");
    struct redis_target t;
    char uerr[128];
    if (!redis_url_parse(cfg->redis_url, &t, uerr, sizeof uerr))
        return fail(e, "key \"redis\": %s", uerr);
    return true;
}

bool config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        hlen = (size_t)(close - s - 1);
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= hostlen)
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return false;
    *port = (int)p;
    return true;
}

struct code_idx {
    const char *code;
    size_t idx;
};

static int code_idx_cmp(const void *a, const void *b)
{
    return strcmp(((const struct code_idx *)a)->code, ((const struct code_idx *)b)->code);
}

/* cfg->by_code: county indexes in code order, for binary search. */
static GC_MUSTCHECK bool index_counties(struct config *cfg)
{
    struct code_idx *tmp = malloc(cfg->ncounties * sizeof *tmp);
    cfg->by_code = malloc(cfg->ncounties * sizeof *cfg->by_code);
    if (!tmp || !cfg->by_code) {
        free(tmp);
        return false;
    }
    for (size_t k = 0; k < cfg->ncounties; k++)
        tmp[k] = (struct code_idx){cfg->counties[k].code, k};
    qsort(tmp, cfg->ncounties, sizeof *tmp, code_idx_cmp);
    for (size_t k = 0; k < cfg->ncounties; k++)
        cfg->by_code[k] = tmp[k].idx;
    free(tmp);
    return true;
}

/* The whole file: the root's rows, rate_limits' rows, trusted_proxies, the
 * endpoints, the counties, the tokens (which name counties) and alerts. */
static GC_MUSTCHECK bool parse_root(json_t *root, struct config *cfg, struct perr *e)
{
    if (!json_is_object(root))
        return fail(e, "the configuration must be a JSON object");
    if (!read_object(root, "", cfg, e) ||
        !read_object(json_object_get(root, "rate_limits"), "rate_limits", cfg, e) ||
        !parse_trusted_proxies(json_object_get(root, "trusted_proxies"), cfg, e) ||
        !check_endpoints(cfg, e) || !parse_counties(json_object_get(root, "counties"), cfg, e))
        return false;
    if (!index_counties(cfg))
        return fail(e, "out of memory");
    return parse_tokens(json_object_get(root, "tokens"), cfg, e) &&
           parse_alerts(json_object_get(root, "alerts"), cfg, e) &&
           read_object(json_object_get(root, "queue"), "queue", cfg, e) &&
           parse_package(json_object_get(root, "service_package"), cfg, e);
}

struct config *config_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct perr e = {err, errlen};
    struct config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !set_defaults(cfg)) {
        snprintf(err, errlen, "out of memory");
        config_free(cfg);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        config_free(cfg);
        return NULL;
    }
    bool ok = parse_root(root, cfg, &e);
    json_decref(root);
    if (!ok) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    /* A configuration larger than this is a mistake, not a county list. */
    enum { CONFIG_MAX_BYTES = 16 * 1024 * 1024 };
    char *buf = malloc(CONFIG_MAX_BYTES);
    size_t n = buf ? fread(buf, 1, CONFIG_MAX_BYTES, f) : 0;
    bool too_big = buf && n == CONFIG_MAX_BYTES;
    fclose(f);
    if (!buf || too_big) {
        snprintf(err, errlen, buf ? "%s is larger than 16 MiB" : "out of memory", path);
        free(buf);
        return NULL;
    }
    struct config *cfg = config_parse(buf, n, err, errlen);
    free(buf);
    return cfg;
}

void config_free_receivers(struct config *cfg)
{
    for (size_t i = 0; i < cfg->alerts.nwebhooks; i++) {
        struct webhook_cfg *w = &cfg->alerts.webhooks[i];
        free(w->name);
        free(w->url);
        free(w->secret);
        for (size_t j = 0; j < w->ncounties; j++)
            free(w->counties[j]);
        free(w->counties);
    }
    free(cfg->alerts.webhooks);
    free(cfg->alerts.digest_receivers);
    free(cfg->alerts.alertmanager_url);
    free(cfg->alerts.ca_file);
    cfg->alerts.webhooks = NULL;
    cfg->alerts.nwebhooks = 0;
    cfg->alerts.digest_receivers = NULL;
    cfg->alerts.ndigest_receivers = 0;
    cfg->alerts.alertmanager_url = NULL;
    cfg->alerts.ca_file = NULL;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    config_free_receivers(cfg); /* before the settings: two of them are its strings */
    for (size_t i = 0; i < NSETTINGS; i++)
        if (SETTINGS[i].type == CONFIG_STRING)
            free(*(char **)((char *)cfg + SETTINGS[i].offset));
    for (size_t i = 0; i < cfg->ncounties; i++)
        free(cfg->counties[i].name);
    free(cfg->counties);
    free(cfg->by_code);
    for (size_t i = 0; i < cfg->ntokens; i++)
        free(cfg->tokens[i].name);
    free(cfg->tokens);
    for (size_t i = 0; i < cfg->ntrusted_proxies; i++)
        free(cfg->trusted_proxies[i]);
    free(cfg->trusted_proxies);
    for (size_t s = 0; s < GC_NSERVICES; s++)
        free(cfg->package.svc_json[s]);
    free(cfg->package.all_json);
    free(cfg);
}

json_t *config_package_json(const struct config *cfg)
{
    if (cfg->package.nitems == 0)
        return NULL;
    return json_loads(cfg->package.all_json, 0, NULL);
}

long config_county_index(const struct config *cfg, const char *code)
{
    if (!cfg->by_code) {
        /* While the counties themselves are being parsed. */
        for (size_t i = 0; i < cfg->ncounties; i++)
            if (strcmp(cfg->counties[i].code, code) == 0)
                return (long)i;
        return -1;
    }
    size_t lo = 0, hi = cfg->ncounties;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(cfg->counties[cfg->by_code[mid]].code, code);
        if (c == 0)
            return (long)cfg->by_code[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

bool config_token_named(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ntokens; i++)
        if (strcmp(cfg->tokens[i].name, name) == 0)
            return true;
    return false;
}

const struct county_cfg *config_county(const struct config *cfg, const char *code)
{
    long i = config_county_index(cfg, code);
    return i < 0 ? NULL : &cfg->counties[i];
}
