/* Unit tests of config_parse() (SPEC §5: strict, every error names its key),
 * config_split_hostport() and redis_url_parse(). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "gradcover/domain/config.h"
#include "gradcover/store/store.h"

/* SPEC §5's example with real SHA-256 values: of "admin-token", "zhang-token",
 * "leader-token" and "grafana-token". The alert values differ from the
 * defaults so that parsing them is visible. */
static const char FULL_CONFIG[] =
    "{\n"
    "  \"listen\": \"127.0.0.1:8080\",\n"
    "  \"redis\": \"redis://127.0.0.1:6379/0\",\n"
    "  \"utc_offset_minutes\": 480,\n"
    "  \"threshold\": 0.90,\n"
    "  \"anonymous_read\": false,\n"
    "  \"pii_key_file\": \"var/pii.key\",\n"
    "  \"counties\": [\n"
    "    {\"code\": \"611002\", \"name\": \"商州区\"},\n"
    "    {\"code\": \"611021\", \"name\": \"洛南县\", \"threshold\": 0.92}\n"
    "  ],\n"
    "  \"tokens\": [\n"
    "    {\"name\": \"admin\", \"sha256\": "
    "\"10a4c7c9fc5206d6f36dc6944a81bb6f4a3cb0e25014ae3b12e6c3e52712292a\", \"role\": \"admin\"},\n"
    "    {\"name\": \"zhang.counselor\", \"sha256\": "
    "\"590124a86b3b17a1fd33e13d74be97e151564ac6557c11618ce42fa6c5f19a0b\", \"role\": "
    "\"counselor\", \"county\": \"611002\"},\n"
    "    {\"name\": \"shangzhou.leader\", \"sha256\": "
    "\"0beb5c95ccbbb8c2253e56d2a13fd771b1e5b480924bcc1c1c88c3d909e541d5\", \"role\": "
    "\"leader\", \"county\": \"611002\"},\n"
    "    {\"name\": \"grafana\", \"sha256\": "
    "\"5a4806aaf8e14a7c4a89f70d1ef7b2324ddae2b85c417a9270d87b4db806b6a0\", \"role\": \"viewer\"}\n"
    "  ],\n"
    "  \"alerts\": {\n"
    "    \"for_seconds\": 120,\n"
    "    \"clear_margin\": 0.01,\n"
    "    \"eval_interval_seconds\": 30,\n"
    "    \"webhooks\": [\n"
    "      {\"name\": \"shangzhou-leaders\", \"url\": \"http://127.0.0.1:9000/hook\",\n"
    "       \"secret\": \"s3cret\", \"counties\": [\"611002\"]}\n"
    "    ],\n"
    "    \"alertmanager_url\": \"http://127.0.0.1:9093\"\n"
    "  }\n"
    "}\n";

/* The smallest valid config: the two required keys. Rejection tests change
 * one thing in it so that the change is the only fault. */
#define MIN_PII "\"pii_key_file\": \"x\""
#define MIN_COUNTIES "\"counties\": [{\"code\": \"611002\", \"name\": \"商州区\"}]"
#define TWO_COUNTIES                                                                               \
    "\"counties\": [{\"code\": \"611002\", \"name\": \"商州区\"}, {\"code\": \"611021\", "      \
    "\"name\": \"洛南县\"}]"
#define SOME_HASH "\"1111111111111111111111111111111111111111111111111111111111111111\""

static struct config *full;

static void setup_full(void)
{
    char err[256] = "";
    full = config_parse(FULL_CONFIG, strlen(FULL_CONFIG), err, sizeof err);
    ck_assert_msg(full != NULL, "full config rejected: %s", err);
}

static void teardown_full(void)
{
    config_free(full);
    full = NULL;
}

/* Parses text that must be rejected; returns the error message (static). */
static const char *rejection(const char *text)
{
    static char err[512];
    err[0] = '\0';
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    if (cfg) {
        config_free(cfg);
        return NULL;
    }
    return err;
}

/* The config is rejected and the message contains `needle`. */
#define assert_rejected_naming(text, needle)                                                       \
    do {                                                                                           \
        const char *err_ = rejection(text);                                                        \
        ck_assert_msg(err_ != NULL, "accepted: %s", text);                                         \
        ck_assert_msg(strstr(err_, needle) != NULL, "error \"%s\" does not name %s", err_,         \
                      needle);                                                                     \
    } while (0)

/* the full config */

START_TEST(test_full_config_listen_and_redis)
{
    ck_assert_str_eq(full->listen, "127.0.0.1:8080");
    ck_assert_str_eq(full->redis_url, "redis://127.0.0.1:6379/0");
}
END_TEST

START_TEST(test_full_config_threshold_is_9000_bp)
{
    ck_assert_uint_eq(full->threshold_bp, 9000);
}
END_TEST

START_TEST(test_full_config_utc_offset)
{
    ck_assert_int_eq(full->utc_offset_minutes, 480);
}
END_TEST

START_TEST(test_full_config_anonymous_read_false)
{
    ck_assert(!full->anonymous_read);
}
END_TEST

START_TEST(test_full_config_pii_key_file_kept_relative)
{
    ck_assert_str_eq(full->pii_key_file, "var/pii.key");
}
END_TEST

START_TEST(test_full_config_counties_in_order_with_names)
{
    ck_assert_uint_eq(full->ncounties, 2);
    ck_assert_str_eq(full->counties[0].code, "611002");
    ck_assert_str_eq(full->counties[0].name, "商州区");
    ck_assert_str_eq(full->counties[1].code, "611021");
    ck_assert_str_eq(full->counties[1].name, "洛南县");
}
END_TEST

START_TEST(test_county_without_threshold_inherits_global)
{
    ck_assert_uint_eq(full->counties[0].threshold_bp, 9000);
}
END_TEST

START_TEST(test_county_threshold_092_is_9200_bp)
{
    ck_assert_uint_eq(full->counties[1].threshold_bp, 9200);
}
END_TEST

START_TEST(test_full_config_token_roles)
{
    ck_assert_uint_eq(full->ntokens, 4);
    ck_assert_str_eq(full->tokens[0].name, "admin");
    ck_assert_int_eq(full->tokens[0].role, ROLE_ADMIN);
    ck_assert_str_eq(full->tokens[1].name, "zhang.counselor");
    ck_assert_int_eq(full->tokens[1].role, ROLE_COUNSELOR);
    ck_assert_str_eq(full->tokens[2].name, "shangzhou.leader");
    ck_assert_int_eq(full->tokens[2].role, ROLE_LEADER);
    ck_assert_str_eq(full->tokens[3].name, "grafana");
    ck_assert_int_eq(full->tokens[3].role, ROLE_VIEWER);
}
END_TEST

START_TEST(test_full_config_token_counties)
{
    ck_assert_str_eq(full->tokens[0].county, "");
    ck_assert_str_eq(full->tokens[1].county, "611002");
    ck_assert_str_eq(full->tokens[2].county, "611002");
    ck_assert_str_eq(full->tokens[3].county, "");
}
END_TEST

START_TEST(test_full_config_token_hash_is_sha256_of_token)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)"zhang-token", strlen("zhang-token"), md);
    ck_assert_mem_eq(full->tokens[1].sha256, md, sizeof md);
}
END_TEST

START_TEST(test_full_config_alert_timings)
{
    ck_assert_int_eq(full->alerts.for_seconds, 120);
    ck_assert_int_eq(full->alerts.eval_interval_seconds, 30);
}
END_TEST

START_TEST(test_full_config_clear_margin_001_is_100_bp)
{
    ck_assert_uint_eq(full->alerts.clear_margin_bp, 100);
}
END_TEST

START_TEST(test_full_config_webhook)
{
    ck_assert_uint_eq(full->alerts.nwebhooks, 1);
    const struct webhook_cfg *w = &full->alerts.webhooks[0];
    ck_assert_str_eq(w->name, "shangzhou-leaders");
    ck_assert_str_eq(w->url, "http://127.0.0.1:9000/hook");
    ck_assert_str_eq(w->secret, "s3cret");
    ck_assert_uint_eq(w->ncounties, 1);
    ck_assert_str_eq(w->counties[0], "611002");
}
END_TEST

START_TEST(test_full_config_alertmanager_url)
{
    ck_assert_str_eq(full->alerts.alertmanager_url, "http://127.0.0.1:9093");
}
END_TEST

START_TEST(test_config_county_finds_configured_code)
{
    ck_assert_ptr_eq(config_county(full, "611021"), &full->counties[1]);
    ck_assert_int_eq(config_county_index(full, "611021"), 1);
}
END_TEST

START_TEST(test_config_county_unknown_code_is_null)
{
    ck_assert_ptr_null(config_county(full, "611099"));
    ck_assert_int_eq(config_county_index(full, "611099"), -1);
}
END_TEST

/* the minimal config and defaults */

START_TEST(test_minimal_config_gets_defaults)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES "}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->listen, "127.0.0.1:8080");
    ck_assert_str_eq(cfg->redis_url, "redis://127.0.0.1:6379/0");
    ck_assert_int_eq(cfg->utc_offset_minutes, 480);
    ck_assert_uint_eq(cfg->threshold_bp, 9000);
    ck_assert_uint_eq(cfg->counties[0].threshold_bp, 9000);
    ck_assert(!cfg->anonymous_read);
    ck_assert(cfg->counter_cache);
    ck_assert_int_eq(cfg->wait_replicas, 0);
    ck_assert_int_eq(cfg->wait_timeout_ms, 500);
    ck_assert_uint_eq(cfg->ntokens, 0);
    ck_assert_int_eq(cfg->alerts.eval_interval_seconds, 15);
    ck_assert_ptr_null(cfg->alerts.alertmanager_url);
    ck_assert_ptr_null(cfg->alerts.public_url);
    ck_assert_int_eq(cfg->rate_limits.writes_per_second, 20);
    ck_assert_int_eq(cfg->rate_limits.write_burst, 300);
    ck_assert_int_eq(cfg->rate_limits.reads_per_second, 50);
    ck_assert_int_eq(cfg->rate_limits.read_burst, 300);
    ck_assert_int_eq(cfg->rate_limits.auth_failures_per_minute, 10);
    ck_assert_int_eq(cfg->rate_limits.seeking_refusals_per_hour, 10);
    ck_assert_int_eq(cfg->rate_limits.seeking_refusal_burst, 20);
    ck_assert_int_eq(cfg->pii_retention_days, 1095);
    ck_assert_int_eq(cfg->audit_retention_days, 200);
    ck_assert_uint_eq(cfg->ntrusted_proxies, 0);
    ck_assert_int_eq(cfg->max_connections, 1024);
    ck_assert_int_eq(cfg->header_timeout_seconds, 10);
    ck_assert_int_eq(cfg->body_timeout_seconds, 30);
    config_free(cfg);
}
END_TEST

/* Every row of the settings table against the parser: a file without the key
 * gets the row's default, and the default is inside the row's bounds. */
START_TEST(test_every_setting_row_default_is_what_a_minimal_config_gets)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES "}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    size_t n;
    const struct config_setting *rows = config_settings(&n);
    ck_assert_uint_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        const struct config_setting *s = &rows[i];
        const char *field = (const char *)cfg + s->offset;
        const char *str = s->type == CONFIG_STRING ? *(char *const *)field : NULL;
        switch (s->type) {
        case CONFIG_STRING:
            if (s->required)
                ck_assert_msg(str != NULL, "%s: required, yet unset", s->path);
            else if (s->def_str)
                ck_assert_msg(str && strcmp(str, s->def_str) == 0, "%s: \"%s\", row says \"%s\"",
                              s->path, str ? str : "(null)", s->def_str);
            else
                ck_assert_msg(str == NULL, "%s: \"%s\", row says unset", s->path, str);
            break;
        case CONFIG_INT:
            ck_assert_msg(*(const int *)field == s->def, "%s: %d, row says %ld", s->path,
                          *(const int *)field, s->def);
            ck_assert_msg(s->min <= s->def && s->def <= s->max, "%s: default out of bounds",
                          s->path);
            break;
        case CONFIG_BOOL:
            ck_assert_msg(*(const bool *)field == (s->def != 0), "%s: not the row's default",
                          s->path);
            break;
        case CONFIG_THRESHOLD:
        case CONFIG_MARGIN:
            ck_assert_msg(*(const uint32_t *)field == s->def, "%s: %u bp, row says %ld", s->path,
                          *(const uint32_t *)field, s->def);
            ck_assert_msg(s->type == CONFIG_THRESHOLD ? s->def > 0 && s->def <= 10000
                                                      : s->def >= 0 && s->def < 10000,
                          "%s: default out of bounds", s->path);
            break;
        }
    }
    config_free(cfg);
}
END_TEST

START_TEST(test_privacy_and_limit_keys_are_parsed)
{
    const char text[] =
        "{" MIN_PII ", " MIN_COUNTIES
        ", \"rate_limits\": {\"writes_per_second\": 0, \"write_burst\": 5,"
        " \"reads_per_second\": 7, \"read_burst\": 9, "
        "\"auth_failures_per_minute\": 3, \"seeking_refusals_per_hour\": 0,"
        " \"seeking_refusal_burst\": 4}, \"pii_retention_days\": 30,"
        " \"audit_retention_days\": 365, \"trusted_proxies\": [\"127.0.0.1\", \"::1\"]}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_int_eq(cfg->rate_limits.writes_per_second, 0);
    ck_assert_int_eq(cfg->rate_limits.write_burst, 5);
    ck_assert_int_eq(cfg->rate_limits.reads_per_second, 7);
    ck_assert_int_eq(cfg->rate_limits.read_burst, 9);
    ck_assert_int_eq(cfg->rate_limits.auth_failures_per_minute, 3);
    ck_assert_int_eq(cfg->rate_limits.seeking_refusals_per_hour, 0);
    ck_assert_int_eq(cfg->rate_limits.seeking_refusal_burst, 4);
    ck_assert_int_eq(cfg->pii_retention_days, 30);
    ck_assert_int_eq(cfg->audit_retention_days, 365);
    ck_assert_uint_eq(cfg->ntrusted_proxies, 2);
    ck_assert_str_eq(cfg->trusted_proxies[1], "::1");
    config_free(cfg);
}
END_TEST

START_TEST(test_bad_privacy_and_limit_keys_are_named)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"rate_limits\": {\"writes\": 1}}",
                           "rate_limits.writes");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"rate_limits\": {\"read_burst\": 0}}",
                           "rate_limits.read_burst");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"audit_retention_days\": 30}",
                           "audit_retention_days");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"pii_retention_days\": 0}",
                           "pii_retention_days");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"trusted_proxies\": [\"nginx\"]}",
                           "trusted_proxies[0]");
}
END_TEST

START_TEST(test_connection_limits_are_parsed)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES ", \"max_connections\": 20, "
                        "\"header_timeout_seconds\": 3, \"body_timeout_seconds\": 300}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_int_eq(cfg->max_connections, 20);
    ck_assert_int_eq(cfg->header_timeout_seconds, 3);
    ck_assert_int_eq(cfg->body_timeout_seconds, 300);
    config_free(cfg);
}
END_TEST

START_TEST(test_connection_limits_out_of_range_are_named)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"max_connections\": 0}",
                           "\"max_connections\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"max_connections\": 100001}",
                           "\"max_connections\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"header_timeout_seconds\": 61}",
                           "\"header_timeout_seconds\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"body_timeout_seconds\": 0}",
                           "\"body_timeout_seconds\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"max_connections\": \"1024\"}",
                           "\"max_connections\"");
}
END_TEST

START_TEST(test_negative_utc_offset_is_parsed)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES ", \"utc_offset_minutes\": -330}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_int_eq(cfg->utc_offset_minutes, -330);
    config_free(cfg);
}
END_TEST

START_TEST(test_global_threshold_is_inherited_by_counties)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES ", \"threshold\": 0.95}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_uint_eq(cfg->counties[0].threshold_bp, 9500);
    config_free(cfg);
}
END_TEST

START_TEST(test_leader_without_county_is_accepted)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"city\", "
                        "\"sha256\": " SOME_HASH ", \"role\": \"leader\"}]}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->tokens[0].county, "");
    config_free(cfg);
}
END_TEST

/* TLS: the pair of server files, https:// receivers and their CA file */

START_TEST(test_tls_cert_and_key_are_kept)
{
    const char *text = "{" MIN_PII ", " MIN_COUNTIES
                       ", \"tls_cert\": \"/etc/gc/cert.pem\", \"tls_key\": \"/etc/gc/key.pem\"}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->tls_cert, "/etc/gc/cert.pem");
    ck_assert_str_eq(cfg->tls_key, "/etc/gc/key.pem");
    config_free(cfg);
}
END_TEST

START_TEST(test_no_tls_keys_means_plain_http)
{
    ck_assert_ptr_null(full->tls_cert);
    ck_assert_ptr_null(full->tls_key);
    ck_assert_ptr_null(full->alerts.ca_file);
}
END_TEST

START_TEST(test_tls_cert_without_key_names_tls_key)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tls_cert\": \"c.pem\"}",
                           "\"tls_key\"");
}
END_TEST

START_TEST(test_tls_key_without_cert_names_tls_cert)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tls_key\": \"k.pem\"}",
                           "\"tls_cert\"");
}
END_TEST

START_TEST(test_empty_tls_cert_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES
                           ", \"tls_cert\": \"\", \"tls_key\": \"k.pem\"}",
                           "\"tls_cert\"");
}
END_TEST

START_TEST(test_https_receivers_and_ca_file_are_accepted)
{
    const char *text = "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"webhooks\": [{\"name\": "
                       "\"w\", \"url\": \"https://hooks.example.gov.cn/gc\"}], "
                       "\"alertmanager_url\": \"https://am.example:9093//\", "
                       "\"ca_file\": \"/etc/gc/ca.pem\"}}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->alerts.webhooks[0].url, "https://hooks.example.gov.cn/gc");
    ck_assert_str_eq(cfg->alerts.alertmanager_url, "https://am.example:9093");
    ck_assert_str_eq(cfg->alerts.ca_file, "/etc/gc/ca.pem");
    config_free(cfg);
}
END_TEST

START_TEST(test_one_letter_https_host_loses_only_its_slash)
{
    const char *text =
        "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"alertmanager_url\": \"https://a/\"}}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->alerts.alertmanager_url, "https://a");
    config_free(cfg);
}
END_TEST

START_TEST(test_ftp_webhook_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"webhooks\": "
                           "[{\"name\": \"w\", \"url\": \"ftp://h/\"}]}}",
                           "alerts.webhooks[0].url");
}
END_TEST

START_TEST(test_https_without_host_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES
                           ", \"alerts\": {\"alertmanager_url\": \"https:///x\"}}",
                           "alerts.alertmanager_url");
}
END_TEST

START_TEST(test_empty_ca_file_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"ca_file\": \"\"}}",
                           "alerts.ca_file");
}
END_TEST

START_TEST(test_public_url_is_kept_without_trailing_slash)
{
    const char *text = "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"public_url\": "
                       "\"https://jy.shangluo.example.gov.cn/gradcover//\"}}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->alerts.public_url, "https://jy.shangluo.example.gov.cn/gradcover");
    config_free(cfg);
    text = "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"public_url\": \"http://[::1]:8080\"}}";
    cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_str_eq(cfg->alerts.public_url, "http://[::1]:8080");
    config_free(cfg);
}
END_TEST

START_TEST(test_bad_public_urls_are_rejected)
{
    /* Not http(s), no host, a query, a fragment, a space, markdown's ")",
     * an HTML quote, a tab, too long. */
    static const char *const bad[] = {
        "\"ftp://gc.example\"",
        "\"https://\"",
        "\"https:///x\"",
        "\"https://gc.example/?a=1\"",
        "\"https://gc.example/#x\"",
        "\"https://gc example\"",
        "\"https://gc.example/a)b\"",
        "\"https://gc.example/\\\"x\"",
        "\"https://gc\\tx\"",
        "\"gc.example\"",
        "\"\"",
        "42",
    };
    char text[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text,
                 "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"public_url\": %s}}", bad[i]);
        assert_rejected_naming(text, "alerts.public_url");
    }
    char longer[400];
    memset(longer, 'a', sizeof longer);
    snprintf(text, sizeof text,
             "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"public_url\": \"https://%.250s\"}}",
             longer);
    assert_rejected_naming(text, "alerts.public_url");
}
END_TEST

/* rejections, each naming the key */

START_TEST(test_unknown_top_level_key_is_named)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"thresold\": 0.9}", "\"thresold\"");
}
END_TEST

START_TEST(test_unknown_alerts_key_is_named_with_path)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"for_secs\": 1}}",
                           "alerts.for_secs");
}
END_TEST

START_TEST(test_unknown_key_in_second_county_is_named_with_index)
{
    assert_rejected_naming("{" MIN_PII ", \"counties\": [{\"code\": \"611002\", \"name\": "
                           "\"a\"}, {\"code\": \"611021\", \"name\": \"b\", \"limit\": 1}]}",
                           "counties[1].limit");
}
END_TEST

START_TEST(test_unknown_key_in_token_is_named)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"a\", "
                           "\"sha256\": " SOME_HASH ", \"role\": \"admin\", \"scope\": 1}]}",
                           "tokens[0].scope");
}
END_TEST

START_TEST(test_unknown_key_in_webhook_is_named)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {\"webhooks\": "
                           "[{\"name\": \"w\", \"url\": \"http://h/\", \"token\": \"t\"}]}}",
                           "alerts.webhooks[0].token");
}
END_TEST

/* ---- SPEC §11: robots, messages, repeats, escalation, the digest ---- */

#define ROBOTS                                                                                     \
    "\"webhooks\": [{\"name\": \"leaders\", \"url\": \"https://qyapi.weixin.qq.com/x?key=k\", "    \
    "\"format\": \"wecom\"}, {\"name\": \"city\", \"url\": \"https://oapi.dingtalk.com/r?access_"  \
    "token=t\", \"format\": \"dingtalk\", \"secret\": \"SECx\", \"escalation\": true}, "           \
    "{\"name\": "                                                                                  \
    "\"json\", \"url\": \"http://h/\"}]"

/* Parses {MIN_PII, MIN_COUNTIES, "alerts": {alerts}}; asserts it is accepted. */
static struct config *with_alerts(const char *alerts)
{
    char text[2048], err[256] = "";
    snprintf(text, sizeof text, "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {%s}}", alerts);
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s (%s)", err, text);
    return cfg;
}

static void assert_alerts_rejected_naming(const char *alerts, const char *needle)
{
    char text[2048];
    snprintf(text, sizeof text, "{" MIN_PII ", " MIN_COUNTIES ", \"alerts\": {%s}}", alerts);
    assert_rejected_naming(text, needle);
}

START_TEST(test_webhook_format_and_escalation_are_parsed)
{
    struct config *cfg = with_alerts(ROBOTS);
    ck_assert_str_eq(cfg->alerts.webhooks[0].format, "wecom");
    ck_assert(!cfg->alerts.webhooks[0].escalation);
    ck_assert_str_eq(cfg->alerts.webhooks[1].format, "dingtalk");
    ck_assert(cfg->alerts.webhooks[1].escalation);
    ck_assert_str_eq(cfg->alerts.webhooks[2].format, "json");
    ck_assert(config_format_is_robot("feishu") && !config_format_is_robot("json"));
    config_free(cfg);
}
END_TEST

START_TEST(test_bad_webhook_format_and_escalation_are_named)
{
    assert_alerts_rejected_naming("\"webhooks\": [{\"name\": \"w\", \"url\": \"http://h/\", "
                                  "\"format\": \"slack\"}]",
                                  "alerts.webhooks[0].format");
    assert_alerts_rejected_naming("\"webhooks\": [{\"name\": \"w\", \"url\": \"http://h/\", "
                                  "\"escalation\": \"yes\"}]",
                                  "alerts.webhooks[0].escalation");
    assert_alerts_rejected_naming("\"webhooks\": [{\"name\": \"w\", \"url\": \"http://h/\"}, "
                                  "{\"name\": \"w\", \"url\": \"http://i/\"}]",
                                  "alerts.webhooks[1].name");
    assert_alerts_rejected_naming(
        "\"webhooks\": [{\"name\": \"alertmanager\", \"url\": \"http://h/\"}]",
        "alerts.webhooks[0].name");
}
END_TEST

START_TEST(test_language_repeat_and_escalation_are_parsed)
{
    struct config *cfg = with_alerts("\"language\": \"en\", \"repeat_interval_seconds\": 3, "
                                     "\"escalate_after_seconds\": 5");
    ck_assert_str_eq(cfg->alerts.language, "en");
    ck_assert_int_eq(cfg->alerts.repeat_interval_seconds, 3);
    ck_assert_int_eq(cfg->alerts.escalate_after_seconds, 5);
    config_free(cfg);
    assert_alerts_rejected_naming("\"language\": \"fr\"", "alerts.language");
    assert_alerts_rejected_naming("\"repeat_interval_seconds\": -1",
                                  "alerts.repeat_interval_seconds");
    assert_alerts_rejected_naming("\"escalate_after_seconds\": 1.5",
                                  "alerts.escalate_after_seconds");
}
END_TEST

START_TEST(test_digest_is_parsed)
{
    struct config *cfg = with_alerts(ROBOTS ", \"digest\": {\"at\": \"08:30\", \"receivers\": "
                                            "[\"city\", \"leaders\"]}");
    ck_assert_str_eq(cfg->alerts.digest_at, "08:30");
    ck_assert_int_eq(cfg->alerts.digest_at_minute, 8 * 60 + 30);
    ck_assert_uint_eq(cfg->alerts.ndigest_receivers, 2);
    ck_assert_uint_eq(cfg->alerts.digest_receivers[0], 1);
    ck_assert_uint_eq(cfg->alerts.digest_receivers[1], 0);
    config_free(cfg);
}
END_TEST

START_TEST(test_bad_digests_are_named)
{
    assert_alerts_rejected_naming(ROBOTS ", \"digest\": {\"receivers\": [\"city\"]}",
                                  "alerts.digest.at");
    assert_alerts_rejected_naming(
        ROBOTS ", \"digest\": {\"at\": \"8:30\", \"receivers\": [\"city\"]}", "alerts.digest.at");
    assert_alerts_rejected_naming(
        ROBOTS ", \"digest\": {\"at\": \"24:00\", \"receivers\": [\"city\"]}", "alerts.digest.at");
    assert_alerts_rejected_naming(ROBOTS ", \"digest\": {\"at\": \"08:30\"}",
                                  "alerts.digest.receivers");
    assert_alerts_rejected_naming(ROBOTS ", \"digest\": {\"at\": \"08:30\", \"receivers\": []}",
                                  "alerts.digest.receivers");
    assert_alerts_rejected_naming(
        ROBOTS ", \"digest\": {\"at\": \"08:30\", \"receivers\": [\"city\", \"nobody\"]}",
        "alerts.digest.receivers[1]");
    assert_alerts_rejected_naming(ROBOTS
                                  ", \"digest\": {\"at\": \"08:30\", \"receivers\": [\"json\"]}",
                                  "alerts.digest.receivers[0]");
    assert_alerts_rejected_naming(
        ROBOTS ", \"digest\": {\"at\": \"08:30\", \"receivers\": [\"city\", \"city\"]}",
        "alerts.digest.receivers[1]");
    assert_alerts_rejected_naming(
        ROBOTS ", \"digest\": {\"at\": \"08:30\", \"receivers\": [\"city\"], \"when\": 1}",
        "alerts.digest.when");
}
END_TEST

START_TEST(test_alert_defaults_do_not_page_for_ordinary_work)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES "}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    /* docs/alerts.md, "Defaults": a dip pages after a week, clears at 91%. */
    ck_assert_int_eq(cfg->alerts.for_seconds, 7 * 86400);
    ck_assert_uint_eq(cfg->alerts.clear_margin_bp, 100);
    ck_assert_int_eq(cfg->alerts.repeat_interval_seconds, 86400);
    ck_assert_int_eq(cfg->alerts.escalate_after_seconds, 0);
    ck_assert_str_eq(cfg->alerts.language, "zh");
    ck_assert_int_eq(cfg->alerts.digest_at_minute, -1);
    ck_assert_uint_eq(cfg->alerts.ndigest_receivers, 0);
    config_free(cfg);
}
END_TEST

START_TEST(test_threshold_15_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"threshold\": 1.5}", "\"threshold\"");
}
END_TEST

START_TEST(test_threshold_with_5_decimals_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"threshold\": 0.90001}",
                           "\"threshold\"");
}
END_TEST

START_TEST(test_threshold_as_string_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"threshold\": \"0.9\"}",
                           "\"threshold\"");
}
END_TEST

START_TEST(test_county_threshold_15_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", \"counties\": [{\"code\": \"611002\", \"name\": "
                           "\"a\", \"threshold\": 1.5}]}",
                           "counties[0].threshold");
}
END_TEST

START_TEST(test_county_code_with_space_is_rejected)
{
    assert_rejected_naming("{" MIN_PII
                           ", \"counties\": [{\"code\": \"611 002\", \"name\": \"a\"}]}",
                           "counties[0].code");
}
END_TEST

START_TEST(test_county_code_with_brace_is_rejected)
{
    /* A brace would break the {county} Redis hash tag. */
    assert_rejected_naming("{" MIN_PII
                           ", \"counties\": [{\"code\": \"611{002\", \"name\": \"a\"}]}",
                           "counties[0].code");
}
END_TEST

START_TEST(test_county_code_too_long_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", \"counties\": [{\"code\": "
                           "\"123456789012345678901234567890123\", \"name\": \"a\"}]}",
                           "counties[0].code");
}
END_TEST

START_TEST(test_duplicate_county_code_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", \"counties\": [{\"code\": \"611002\", \"name\": "
                           "\"a\"}, {\"code\": \"611002\", \"name\": \"b\"}]}",
                           "counties[1].code");
}
END_TEST

START_TEST(test_token_with_unconfigured_county_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"z\", "
                           "\"sha256\": " SOME_HASH
                           ", \"role\": \"counselor\", \"county\": \"611099\"}]}",
                           "tokens[0].county");
}
END_TEST

START_TEST(test_counselor_token_without_county_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"z\", "
                           "\"sha256\": " SOME_HASH ", \"role\": \"counselor\"}]}",
                           "tokens[0].county");
}
END_TEST

START_TEST(test_admin_token_with_county_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"a\", "
                           "\"sha256\": " SOME_HASH
                           ", \"role\": \"admin\", \"county\": \"611002\"}]}",
                           "tokens[0].county");
}
END_TEST

START_TEST(test_sha256_not_hex_is_rejected)
{
    assert_rejected_naming(
        "{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"a\", \"sha256\": "
        "\"g111111111111111111111111111111111111111111111111111111111111111\", \"role\": "
        "\"admin\"}]}",
        "tokens[0].sha256");
}
END_TEST

START_TEST(test_sha256_of_63_digits_is_rejected)
{
    assert_rejected_naming(
        "{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"a\", \"sha256\": "
        "\"111111111111111111111111111111111111111111111111111111111111111\", \"role\": "
        "\"admin\"}]}",
        "tokens[0].sha256");
}
END_TEST

START_TEST(test_bad_role_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"a\", "
                           "\"sha256\": " SOME_HASH ", \"role\": \"superuser\"}]}",
                           "tokens[0].role");
}
END_TEST

START_TEST(test_bad_role_in_second_token_is_named_with_index)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"tokens\": [{\"name\": \"a\", "
                           "\"sha256\": " SOME_HASH ", \"role\": \"admin\"}, {\"name\": "
                           "\"b\", \"sha256\": "
                           "\"2222222222222222222222222222222222222222222222222222222222222222\""
                           ", \"role\": \"root\"}]}",
                           "tokens[1].role");
}
END_TEST

START_TEST(test_utc_offset_2000_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"utc_offset_minutes\": 2000}",
                           "utc_offset_minutes");
}
END_TEST

START_TEST(test_listen_without_port_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"listen\": \"nohostport\"}",
                           "\"listen\"");
}
END_TEST

START_TEST(test_redis_http_url_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"redis\": \"http://x\"}", "\"redis\"");
}
END_TEST

START_TEST(test_missing_counties_is_rejected)
{
    assert_rejected_naming("{" MIN_PII "}", "\"counties\"");
}
END_TEST

START_TEST(test_empty_counties_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", \"counties\": []}", "\"counties\"");
}
END_TEST

START_TEST(test_missing_pii_key_file_is_rejected)
{
    assert_rejected_naming("{" MIN_COUNTIES "}", "pii_key_file");
}
END_TEST

START_TEST(test_counter_cache_can_be_turned_off)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES ", \"counter_cache\": false}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert(!cfg->counter_cache);
    config_free(cfg);
}
END_TEST

START_TEST(test_wait_replicas_is_parsed)
{
    const char text[] = "{" MIN_PII ", " MIN_COUNTIES ", \"wait_replicas\": 2, "
                        "\"wait_timeout_ms\": 250, "
                        "\"redis\": \"redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/gc\"}";
    char err[256] = "";
    struct config *cfg = config_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(cfg != NULL, "rejected: %s", err);
    ck_assert_int_eq(cfg->wait_replicas, 2);
    ck_assert_int_eq(cfg->wait_timeout_ms, 250);
    config_free(cfg);
}
END_TEST

START_TEST(test_wait_replicas_out_of_range_and_bad_sentinel_url_are_named)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"wait_replicas\": -1}",
                           "\"wait_replicas\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"wait_replicas\": 17}",
                           "\"wait_replicas\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"wait_replicas\": \"1\"}",
                           "\"wait_replicas\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"wait_timeout_ms\": 0}",
                           "\"wait_timeout_ms\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"wait_timeout_ms\": 60001}",
                           "\"wait_timeout_ms\"");
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES
                           ", \"redis\": \"redis-sentinel://10.0.0.1:26379\"}",
                           "\"redis\"");
}
END_TEST

START_TEST(test_counter_cache_not_boolean_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"counter_cache\": \"no\"}",
                           "counter_cache");
}
END_TEST

START_TEST(test_anonymous_read_not_boolean_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"anonymous_read\": 1}",
                           "anonymous_read");
}
END_TEST

START_TEST(test_webhook_for_unconfigured_county_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " TWO_COUNTIES ", \"alerts\": {\"webhooks\": "
                           "[{\"name\": \"w\", \"url\": \"http://h/\", \"counties\": "
                           "[\"611021\", \"611099\"]}]}}",
                           "alerts.webhooks[0].counties[1]");
}
END_TEST

START_TEST(test_eval_interval_0_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES
                           ", \"alerts\": {\"eval_interval_seconds\": 0}}",
                           "alerts.eval_interval_seconds");
}
END_TEST

START_TEST(test_invalid_json_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ",}", "JSON");
}
END_TEST

START_TEST(test_json_array_root_is_rejected)
{
    const char *err = rejection("[]");
    ck_assert_ptr_nonnull(err);
    ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_duplicate_json_key_is_rejected)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"listen\": \"127.0.0.1:1\", "
                           "\"listen\": \"127.0.0.1:2\"}",
                           "duplicate");
}
END_TEST

START_TEST(test_duplicate_json_key_error_names_the_key)
{
    assert_rejected_naming("{" MIN_PII ", " MIN_COUNTIES ", \"listen\": \"127.0.0.1:1\", "
                           "\"listen\": \"127.0.0.1:2\"}",
                           "listen");
}
END_TEST

/* config_split_hostport */

START_TEST(test_split_ipv4_host_and_port)
{
    char host[64];
    int port = 0;
    ck_assert(config_split_hostport("127.0.0.1:8080", host, sizeof host, &port));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 8080);
}
END_TEST

START_TEST(test_split_bracketed_ipv6)
{
    char host[64];
    int port = 0;
    ck_assert(config_split_hostport("[::1]:9000", host, sizeof host, &port));
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 9000);
}
END_TEST

START_TEST(test_split_port_0_is_accepted_for_any_free_port)
{
    char host[64];
    int port = -1;
    ck_assert(config_split_hostport("localhost:0", host, sizeof host, &port));
    ck_assert_int_eq(port, 0);
}
END_TEST

START_TEST(test_split_rejects_missing_colon)
{
    char host[64];
    int port;
    ck_assert(!config_split_hostport("nohostport", host, sizeof host, &port));
}
END_TEST

START_TEST(test_split_rejects_empty_host)
{
    char host[64];
    int port;
    ck_assert(!config_split_hostport(":8080", host, sizeof host, &port));
}
END_TEST

START_TEST(test_split_rejects_empty_port)
{
    char host[64];
    int port;
    ck_assert(!config_split_hostport("localhost:", host, sizeof host, &port));
}
END_TEST

START_TEST(test_split_rejects_port_70000)
{
    char host[64];
    int port;
    ck_assert(!config_split_hostport("localhost:70000", host, sizeof host, &port));
}
END_TEST

START_TEST(test_split_rejects_port_with_junk)
{
    char host[64];
    int port;
    ck_assert(!config_split_hostport("localhost:80x", host, sizeof host, &port));
}
END_TEST

START_TEST(test_split_rejects_host_longer_than_buffer)
{
    char host[8];
    int port;
    ck_assert(!config_split_hostport("averylonghostname:80", host, sizeof host, &port));
}
END_TEST

START_TEST(test_split_rejects_unclosed_ipv6_bracket)
{
    char host[64];
    int port;
    ck_assert(!config_split_hostport("[::1:9000", host, sizeof host, &port));
}
END_TEST

/* redis_url_parse */

static struct redis_target parse_url_ok(const char *url)
{
    struct redis_target t;
    char err[128] = "";
    ck_assert_msg(redis_url_parse(url, &t, err, sizeof err), "%s rejected: %s", url, err);
    return t;
}

static bool url_parses(const char *url)
{
    struct redis_target t;
    char err[128];
    return redis_url_parse(url, &t, err, sizeof err);
}

START_TEST(test_url_host_port_db)
{
    struct redis_target t = parse_url_ok("redis://127.0.0.1:6379/0");
    ck_assert(!t.unix_socket);
    ck_assert_str_eq(t.host, "127.0.0.1");
    ck_assert_int_eq(t.port, 6379);
    ck_assert_int_eq(t.db, 0);
    ck_assert_str_eq(t.user, "");
    ck_assert_str_eq(t.password, "");
}
END_TEST

START_TEST(test_url_without_db_uses_db_0)
{
    struct redis_target t = parse_url_ok("redis://localhost:6380");
    ck_assert_str_eq(t.host, "localhost");
    ck_assert_int_eq(t.port, 6380);
    ck_assert_int_eq(t.db, 0);
}
END_TEST

START_TEST(test_url_password_without_user)
{
    struct redis_target t = parse_url_ok("redis://:secret@host:1/2");
    ck_assert_str_eq(t.user, "");
    ck_assert_str_eq(t.password, "secret");
    ck_assert_str_eq(t.host, "host");
    ck_assert_int_eq(t.port, 1);
    ck_assert_int_eq(t.db, 2);
}
END_TEST

START_TEST(test_url_user_and_password)
{
    struct redis_target t = parse_url_ok("redis://user:pw@h:3");
    ck_assert_str_eq(t.user, "user");
    ck_assert_str_eq(t.password, "pw");
    ck_assert_str_eq(t.host, "h");
    ck_assert_int_eq(t.port, 3);
    ck_assert_int_eq(t.db, 0);
}
END_TEST

START_TEST(test_url_db_15_is_accepted)
{
    struct redis_target t = parse_url_ok("redis://h:6379/15");
    ck_assert_int_eq(t.db, 15);
}
END_TEST

START_TEST(test_url_unix_socket)
{
    struct redis_target t = parse_url_ok("unix:///run/redis.sock");
    ck_assert(t.unix_socket);
    ck_assert_str_eq(t.path, "/run/redis.sock");
    ck_assert_int_eq(t.db, 0);
}
END_TEST

START_TEST(test_url_unix_socket_with_db)
{
    struct redis_target t = parse_url_ok("unix:///run/redis.sock?db=3");
    ck_assert(t.unix_socket);
    ck_assert_str_eq(t.path, "/run/redis.sock");
    ck_assert_int_eq(t.db, 3);
}
END_TEST

START_TEST(test_url_sentinel_three)
{
    struct redis_target t =
        parse_url_ok("redis-sentinel://127.0.0.1:26379,10.0.0.2:26380,[::1]:26381/gc");
    ck_assert(t.sentinel);
    ck_assert(!t.unix_socket);
    ck_assert_int_eq(t.nsentinels, 3);
    ck_assert_str_eq(t.sentinels[0].host, "127.0.0.1");
    ck_assert_int_eq(t.sentinels[0].port, 26379);
    ck_assert_str_eq(t.sentinels[1].host, "10.0.0.2");
    ck_assert_int_eq(t.sentinels[1].port, 26380);
    ck_assert_str_eq(t.sentinels[2].host, "::1");
    ck_assert_int_eq(t.sentinels[2].port, 26381);
    ck_assert_str_eq(t.master, "gc");
    ck_assert_int_eq(t.db, 0);
    ck_assert_str_eq(t.password, "");
}
END_TEST

START_TEST(test_url_sentinel_credentials_and_db)
{
    struct redis_target t = parse_url_ok("redis-sentinel://gradcover:s3:c@r@s1:26379/mymaster/5");
    ck_assert(t.sentinel);
    ck_assert_str_eq(t.user, "gradcover");
    ck_assert_str_eq(t.password, "s3:c@r");
    ck_assert_int_eq(t.nsentinels, 1);
    ck_assert_str_eq(t.sentinels[0].host, "s1");
    ck_assert_str_eq(t.master, "mymaster");
    ck_assert_int_eq(t.db, 5);
    t = parse_url_ok("redis-sentinel://:pw@s1:1,s2:2/m/");
    ck_assert_str_eq(t.user, "");
    ck_assert_str_eq(t.password, "pw");
    ck_assert_int_eq(t.nsentinels, 2);
    ck_assert_int_eq(t.db, 0);
}
END_TEST

START_TEST(test_url_sentinel_rejects)
{
    static const char *const bad[] = {
        "redis-sentinel://s1:26379",            /* no master name */
        "redis-sentinel://s1:26379/",           /* empty master name */
        "redis-sentinel:///gc",                 /* no sentinel */
        "redis-sentinel://s1/gc",               /* no port */
        "redis-sentinel://s1:0/gc",             /* port 0 */
        "redis-sentinel://s1:26379,/gc",        /* empty second sentinel */
        "redis-sentinel://s1:26379,,s2:1/gc",   /* empty one in the middle */
        "redis-sentinel://s1:26379:x/gc",       /* junk port */
        "redis-sentinel://s1:26379/g c",        /* space in the name */
        "redis-sentinel://s1:26379/gc/1024",    /* db out of range */
        "redis-sentinel://s1:26379/gc/1/2",     /* junk after the db */
        "redis-sentinel://s1:26379/gc/-1",      /* negative db */
        "redis-sentinel://user@s1:26379/gc",    /* user without password */
        "redis-sentinel://u:@s1:26379/gc",      /* empty password */
        "redis-sentinels://s1:26379/gc",        /* scheme */
        "redis-sentinel://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9/gc", /* too many */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!url_parses(bad[i]), "%s accepted", bad[i]);
    ck_assert(url_parses("redis-sentinel://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8/gc"));
}
END_TEST

START_TEST(test_url_plain_is_not_sentinel)
{
    struct redis_target t = parse_url_ok("redis://:pa/ss@h:1/2");
    ck_assert(!t.sentinel);
    ck_assert_str_eq(t.password, "pa/ss");
    ck_assert_int_eq(t.db, 2);
    ck_assert(!url_parses("redis://h:1/+2"));
}
END_TEST

START_TEST(test_url_rejects_port_0)
{
    ck_assert(!url_parses("redis://127.0.0.1:0/0"));
}
END_TEST

START_TEST(test_url_rejects_port_70000)
{
    ck_assert(!url_parses("redis://127.0.0.1:70000/0"));
}
END_TEST

START_TEST(test_url_rejects_db_1024)
{
    ck_assert(url_parses("redis://127.0.0.1:6379/63"));
    ck_assert(!url_parses("redis://127.0.0.1:6379/1024"));
}
END_TEST

START_TEST(test_url_rejects_missing_port)
{
    ck_assert(!url_parses("redis://127.0.0.1/0"));
}
END_TEST

START_TEST(test_url_rejects_empty_port)
{
    ck_assert(!url_parses("redis://127.0.0.1:/0"));
}
END_TEST

START_TEST(test_url_rejects_missing_host)
{
    ck_assert(!url_parses("redis://:6379/0"));
}
END_TEST

START_TEST(test_url_rejects_db_with_junk)
{
    ck_assert(!url_parses("redis://127.0.0.1:6379/1x"));
}
END_TEST

START_TEST(test_url_rejects_http_scheme)
{
    ck_assert(!url_parses("http://x"));
}
END_TEST

START_TEST(test_url_rejects_relative_unix_path)
{
    ck_assert(!url_parses("unix://run/redis.sock"));
}
END_TEST

START_TEST(test_url_rejects_unix_db_1024)
{
    ck_assert(!url_parses("unix:///run/redis.sock?db=1024"));
}
END_TEST

START_TEST(test_url_rejects_empty_password)
{
    ck_assert(!url_parses("redis://user:@h:1"));
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("full");
    tcase_add_checked_fixture(tc, setup_full, teardown_full);
    tcase_add_test(tc, test_full_config_listen_and_redis);
    tcase_add_test(tc, test_full_config_threshold_is_9000_bp);
    tcase_add_test(tc, test_full_config_utc_offset);
    tcase_add_test(tc, test_full_config_anonymous_read_false);
    tcase_add_test(tc, test_full_config_pii_key_file_kept_relative);
    tcase_add_test(tc, test_full_config_counties_in_order_with_names);
    tcase_add_test(tc, test_county_without_threshold_inherits_global);
    tcase_add_test(tc, test_county_threshold_092_is_9200_bp);
    tcase_add_test(tc, test_full_config_token_roles);
    tcase_add_test(tc, test_full_config_token_counties);
    tcase_add_test(tc, test_full_config_token_hash_is_sha256_of_token);
    tcase_add_test(tc, test_full_config_alert_timings);
    tcase_add_test(tc, test_full_config_clear_margin_001_is_100_bp);
    tcase_add_test(tc, test_full_config_webhook);
    tcase_add_test(tc, test_full_config_alertmanager_url);
    tcase_add_test(tc, test_config_county_finds_configured_code);
    tcase_add_test(tc, test_config_county_unknown_code_is_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("minimal");
    tcase_add_test(tc, test_minimal_config_gets_defaults);
    tcase_add_test(tc, test_every_setting_row_default_is_what_a_minimal_config_gets);
    tcase_add_test(tc, test_connection_limits_are_parsed);
    tcase_add_test(tc, test_connection_limits_out_of_range_are_named);
    tcase_add_test(tc, test_privacy_and_limit_keys_are_parsed);
    tcase_add_test(tc, test_bad_privacy_and_limit_keys_are_named);
    tcase_add_test(tc, test_negative_utc_offset_is_parsed);
    tcase_add_test(tc, test_global_threshold_is_inherited_by_counties);
    tcase_add_test(tc, test_leader_without_county_is_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("rejections");
    tcase_add_test(tc, test_unknown_top_level_key_is_named);
    tcase_add_test(tc, test_unknown_alerts_key_is_named_with_path);
    tcase_add_test(tc, test_unknown_key_in_second_county_is_named_with_index);
    tcase_add_test(tc, test_unknown_key_in_token_is_named);
    tcase_add_test(tc, test_unknown_key_in_webhook_is_named);
    tcase_add_test(tc, test_webhook_format_and_escalation_are_parsed);
    tcase_add_test(tc, test_bad_webhook_format_and_escalation_are_named);
    tcase_add_test(tc, test_language_repeat_and_escalation_are_parsed);
    tcase_add_test(tc, test_digest_is_parsed);
    tcase_add_test(tc, test_bad_digests_are_named);
    tcase_add_test(tc, test_alert_defaults_do_not_page_for_ordinary_work);
    tcase_add_test(tc, test_threshold_15_is_rejected);
    tcase_add_test(tc, test_threshold_with_5_decimals_is_rejected);
    tcase_add_test(tc, test_threshold_as_string_is_rejected);
    tcase_add_test(tc, test_county_threshold_15_is_rejected);
    tcase_add_test(tc, test_county_code_with_space_is_rejected);
    tcase_add_test(tc, test_county_code_with_brace_is_rejected);
    tcase_add_test(tc, test_county_code_too_long_is_rejected);
    tcase_add_test(tc, test_duplicate_county_code_is_rejected);
    tcase_add_test(tc, test_token_with_unconfigured_county_is_rejected);
    tcase_add_test(tc, test_counselor_token_without_county_is_rejected);
    tcase_add_test(tc, test_admin_token_with_county_is_rejected);
    tcase_add_test(tc, test_sha256_not_hex_is_rejected);
    tcase_add_test(tc, test_sha256_of_63_digits_is_rejected);
    tcase_add_test(tc, test_bad_role_is_rejected);
    tcase_add_test(tc, test_bad_role_in_second_token_is_named_with_index);
    tcase_add_test(tc, test_utc_offset_2000_is_rejected);
    tcase_add_test(tc, test_listen_without_port_is_rejected);
    tcase_add_test(tc, test_redis_http_url_is_rejected);
    tcase_add_test(tc, test_missing_counties_is_rejected);
    tcase_add_test(tc, test_empty_counties_is_rejected);
    tcase_add_test(tc, test_missing_pii_key_file_is_rejected);
    tcase_add_test(tc, test_anonymous_read_not_boolean_is_rejected);
    tcase_add_test(tc, test_counter_cache_can_be_turned_off);
    tcase_add_test(tc, test_counter_cache_not_boolean_is_rejected);
    tcase_add_test(tc, test_wait_replicas_is_parsed);
    tcase_add_test(tc, test_wait_replicas_out_of_range_and_bad_sentinel_url_are_named);
    tcase_add_test(tc, test_webhook_for_unconfigured_county_is_rejected);
    tcase_add_test(tc, test_eval_interval_0_is_rejected);
    tcase_add_test(tc, test_invalid_json_is_rejected);
    tcase_add_test(tc, test_json_array_root_is_rejected);
    tcase_add_test(tc, test_duplicate_json_key_is_rejected);
    tcase_add_test(tc, test_duplicate_json_key_error_names_the_key);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls");
    tcase_add_checked_fixture(tc, setup_full, teardown_full);
    tcase_add_test(tc, test_tls_cert_and_key_are_kept);
    tcase_add_test(tc, test_no_tls_keys_means_plain_http);
    tcase_add_test(tc, test_tls_cert_without_key_names_tls_key);
    tcase_add_test(tc, test_tls_key_without_cert_names_tls_cert);
    tcase_add_test(tc, test_empty_tls_cert_is_rejected);
    tcase_add_test(tc, test_https_receivers_and_ca_file_are_accepted);
    tcase_add_test(tc, test_one_letter_https_host_loses_only_its_slash);
    tcase_add_test(tc, test_ftp_webhook_is_rejected);
    tcase_add_test(tc, test_https_without_host_is_rejected);
    tcase_add_test(tc, test_empty_ca_file_is_rejected);
    tcase_add_test(tc, test_public_url_is_kept_without_trailing_slash);
    tcase_add_test(tc, test_bad_public_urls_are_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostport");
    tcase_add_test(tc, test_split_ipv4_host_and_port);
    tcase_add_test(tc, test_split_bracketed_ipv6);
    tcase_add_test(tc, test_split_port_0_is_accepted_for_any_free_port);
    tcase_add_test(tc, test_split_rejects_missing_colon);
    tcase_add_test(tc, test_split_rejects_empty_host);
    tcase_add_test(tc, test_split_rejects_empty_port);
    tcase_add_test(tc, test_split_rejects_port_70000);
    tcase_add_test(tc, test_split_rejects_port_with_junk);
    tcase_add_test(tc, test_split_rejects_host_longer_than_buffer);
    tcase_add_test(tc, test_split_rejects_unclosed_ipv6_bracket);
    suite_add_tcase(s, tc);

    tc = tcase_create("redis_url");
    tcase_add_test(tc, test_url_host_port_db);
    tcase_add_test(tc, test_url_without_db_uses_db_0);
    tcase_add_test(tc, test_url_password_without_user);
    tcase_add_test(tc, test_url_user_and_password);
    tcase_add_test(tc, test_url_db_15_is_accepted);
    tcase_add_test(tc, test_url_unix_socket);
    tcase_add_test(tc, test_url_unix_socket_with_db);
    tcase_add_test(tc, test_url_rejects_port_0);
    tcase_add_test(tc, test_url_rejects_port_70000);
    tcase_add_test(tc, test_url_rejects_db_1024);
    tcase_add_test(tc, test_url_rejects_missing_port);
    tcase_add_test(tc, test_url_rejects_empty_port);
    tcase_add_test(tc, test_url_rejects_missing_host);
    tcase_add_test(tc, test_url_rejects_db_with_junk);
    tcase_add_test(tc, test_url_rejects_http_scheme);
    tcase_add_test(tc, test_url_rejects_relative_unix_path);
    tcase_add_test(tc, test_url_rejects_unix_db_1024);
    tcase_add_test(tc, test_url_rejects_empty_password);
    tcase_add_test(tc, test_url_sentinel_three);
    tcase_add_test(tc, test_url_sentinel_credentials_and_db);
    tcase_add_test(tc, test_url_sentinel_rejects);
    tcase_add_test(tc, test_url_plain_is_not_sentinel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
