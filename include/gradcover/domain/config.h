/* The JSON configuration of SPEC §5: parsed strictly (unknown keys and bad
 * values are errors naming the key), immutable once loaded. */
#ifndef GRADCOVER_DOMAIN_CONFIG_H
#define GRADCOVER_DOMAIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gradcover/common.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/services.h"

struct county_cfg {
    char code[GC_COUNTY_MAX + 1];
    char *name;
    uint32_t threshold_bp;
};

struct token_cfg {
    char *name;
    unsigned char sha256[32];
    enum role role;
    char county[GC_COUNTY_MAX + 1]; /* "" = no county (all, for leaders) */
};

struct webhook_cfg {
    char *name;
    char *url;
    char *secret; /* NULL when unsigned */
    char **counties;
    size_t ncounties; /* 0 = every county */
    /* SPEC §11's "format": "json" (SPEC §7's body, the default), "wecom",
     * "dingtalk" or "feishu" (a chat robot); one of config_webhook_formats(). */
    const char *format;
    bool escalation; /* the city's leaders: escalations only (and the digest, when named) */
};

struct alerts_cfg {
    int for_seconds;
    uint32_t clear_margin_bp;
    int eval_interval_seconds;
    struct webhook_cfg *webhooks;
    size_t nwebhooks;
    char *alertmanager_url; /* NULL when unset */
    char *ca_file;          /* CAs for https:// receivers; NULL = the system store */
    /* The base URL people reach gradcover at ("https://gc.example.gov.cn",
     * no trailing slash): messages link to the dashboard and to /ack/{token}
     * under it. NULL = unset: messages carry no links. */
    char *public_url;
    char *language;              /* of the robots' messages: "zh" or "en" */
    int repeat_interval_seconds; /* a firing, unacknowledged episode again after; 0 = never */
    int escalate_after_seconds;  /* one escalation per such episode after; 0 = off */
    /* The daily digest (alerts.digest): at digest_at_minute after local
     * midnight (-1 = no digest) to the webhooks named (indexes into webhooks). */
    char *digest_at; /* "08:30" as written; NULL = no digest */
    int digest_at_minute;
    size_t *digest_receivers;
    size_t ndigest_receivers;
};

/* Per-token request rates (token buckets, per server); 0 = unlimited. */
struct rate_limits_cfg {
    int writes_per_second;
    int write_burst;
    int reads_per_second;
    int read_burst;
    int auth_failures_per_minute; /* per client address; also the burst */
    /* Registrations refused with 409 already_seeking, per token name. */
    int seeking_refusals_per_hour;
    int seeking_refusal_burst;
};

/* SPEC §12's service package (Shaanxi's "1131"), config key
 * "service_package": items, each a set of services (a bit mask of
 * gc_services indexes; no service in two items) and how many reached
 * contacts with them in a period the item needs. nitems == 0: no package. */
#define PACKAGE_NAME_MAX 32
/* A package of a year's services: more than 100 of one kind is a typo. */
#define PACKAGE_COUNT_MAX 100
struct package_item {
    unsigned services; /* bit i: gc_services[i] */
    int count;         /* 1..PACKAGE_COUNT_MAX */
    /* The item's counter in the graduate's hash is "k<period>:<field>",
     * field the services' indexes joined by '+' ("2", "3+4"): the same
     * services keep their counter when items are reordered. */
    char field[24];
};
struct package_cfg {
    char name[PACKAGE_NAME_MAX + 1];
    struct package_item items[GC_NSERVICES];
    size_t nitems;
    /* contact.lua's "pk" argument for each service in the package (NULL
     * for the others): {"f": field, "n": count, "all": <all_json>}. */
    char *svc_json[GC_NSERVICES];
    /* Every item as [[field, count], ...]: what void.lua and the transfer
     * scripts check completeness with. */
    char *all_json;
};

struct config {
    char *listen;    /* "host:port" */
    char *redis_url; /* see redis_url_parse() */
    int utc_offset_minutes;
    uint32_t threshold_bp;
    bool anonymous_read;
    bool counter_cache;  /* coverage and /metrics through ccache.c (default on) */
    int wait_replicas;   /* a write is answered once WAIT confirms this many replicas; 0 = none */
    int wait_timeout_ms; /* WAIT's timeout (bounded by two thirds of the Redis deadline) */
    char *pii_key_file;
    char *tls_cert;           /* PEM chain; with tls_key, the listener speaks only HTTPS */
    char *tls_key;            /* PEM private key, mode 0600; both set or neither */
    int hsts_max_age_seconds; /* Strict-Transport-Security max-age with TLS; 0 = none */
    struct county_cfg *counties;
    size_t ncounties;
    size_t *by_code; /* county indexes sorted by code, for O(log n) look-ups */
    struct token_cfg *tokens;
    size_t ntokens;
    struct alerts_cfg alerts;
    struct rate_limits_cfg rate_limits;
    char **trusted_proxies; /* peers whose X-Real-IP names the client */
    size_t ntrusted_proxies;
    int pii_retention_days;          /* name and phone erased this long after leaving seeking */
    int audit_retention_days;        /* audit entries older than this are trimmed */
    int max_connections;             /* open client connections before accepting pauses */
    int max_connections_per_address; /* open connections of one client address (IPv6: /64) */
    int header_timeout_seconds;      /* a request head must arrive within this */
    int body_timeout_seconds;        /* and its body within this after the head */
    int queue_sla_days; /* SPEC §12: unserved this long since waiting began: sla_breached */
    struct package_cfg package; /* SPEC §12's service package; nitems 0 = none */
};

/* How a scalar setting's JSON value is read, and the C type of its field. */
enum config_type {
    CONFIG_STRING,    /* non-empty string without NUL; char * (owned, NULL = unset) */
    CONFIG_INT,       /* integer in [min, max]; int */
    CONFIG_BOOL,      /* true or false; bool */
    CONFIG_THRESHOLD, /* number in (0, 1] with at most 4 decimals; uint32_t basis points */
    CONFIG_MARGIN,    /* number in [0, 1) with at most 4 decimals; uint32_t basis points */
};

/* One scalar setting of the file: a row of the table config_parse() reads by.
 * Lists of objects and addresses (counties, tokens, alerts.webhooks,
 * trusted_proxies) have parsers of their own and no row. */
struct config_setting {
    const char *path; /* JSON path, e.g. "alerts.for_seconds" */
    enum config_type type;
    bool required;       /* no default: the file must set it */
    long min, max;       /* CONFIG_INT only; the other types' ranges are the type's */
    long def;            /* default of CONFIG_INT, CONFIG_BOOL (0 or 1) and basis points */
    const char *def_str; /* default of CONFIG_STRING; NULL = unset */
    size_t offset;       /* of the field in struct config */
};

/* The table of scalar settings (within each object, in the order
 * config_parse() checks them); *n gets the number of rows. Static. */
const struct config_setting *config_settings(size_t *n);

/* Parses JSON text. Returns a new config (free with config_free) or NULL with a
 * message naming the offending key in err, e.g. `unknown key "alerts.for_secs"`. */
struct config *config_parse(const char *text, size_t len, char *err, size_t errlen) GC_MUSTCHECK;

/* Reads and parses a file; relative pii_key_file paths stay as given. Returns
 * a new config or NULL with the reason in err, as config_parse(). */
struct config *config_load(const char *path, char *err, size_t errlen) GC_MUSTCHECK;

/* The service package's items as the scripts take them ([[field, count],
 * ...]): a new reference, or NULL when no package is configured (or out of
 * memory: the scripts then count no package, as without one). */
struct json_t;
struct json_t *config_package_json(const struct config *cfg);

/* Frees cfg and everything it holds; NULL is a no-op. */
void config_free(struct config *cfg);
/* Frees the receivers' settings (alerts.webhooks, the digest's receivers,
 * alertmanager_url, ca_file) and leaves them empty. */
void config_free_receivers(struct config *cfg);

/* The configured county with this code, or NULL. Borrowed from cfg. */
const struct county_cfg *config_county(const struct config *cfg, const char *code);

/* True when the file defines a token of this name. */
bool config_token_named(const struct config *cfg, const char *name);

/* Index of the county in cfg->counties, or -1. */
long config_county_index(const struct config *cfg, const char *code);

/* Splits "host:port" (or "[v6]:port"); false when malformed. */
bool config_split_hostport(const char *s, char *host, size_t hostlen, int *port) GC_MUSTCHECK;

/* The webhook formats (NULL-terminated): "json" first, then the chat
 * robots. Each names a receiver kind (alerts/receiver.h). */
const char *const *config_webhook_formats(void);

/* True when format is a chat robot's (not "json"): it batches, and may get
 * the digest. */
bool config_format_is_robot(const char *format);

/* True when s is a valid county code: [A-Za-z0-9_-]{1,GC_COUNTY_MAX}. */
bool config_valid_county_code(const char *s);

#endif
