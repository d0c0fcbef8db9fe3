/* The configuration parser (src/domain/config.c): any bytes either give a config
 * that holds what SPEC §5 promises, or NULL with a message; never a crash,
 * a leak or a read past the input. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/roles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    memset(err, 'x', sizeof err);
    struct config *cfg = config_parse((const char *)data, size, err, sizeof err);
    if (!cfg) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
        fuzz_verdict(err);
        fuzz_expect(false);
        return 0;
    }
    char host[256];
    int port;
    FUZZ_CHECK(config_split_hostport(cfg->listen, host, sizeof host, &port));
    FUZZ_CHECK(cfg->pii_key_file && *cfg->pii_key_file);
    FUZZ_CHECK(cfg->utc_offset_minutes >= -720 && cfg->utc_offset_minutes <= 840);
    FUZZ_CHECK(cfg->ncounties >= 1 && cfg->ncounties <= 10000);
    for (size_t i = 0; i < cfg->ncounties; i++) {
        const struct county_cfg *c = &cfg->counties[i];
        FUZZ_CHECK(config_valid_county_code(c->code));
        FUZZ_CHECK(config_county(cfg, c->code) == c);
        FUZZ_CHECK(c->name && *c->name && strlen(c->name) <= 64);
        FUZZ_CHECK(c->threshold_bp >= 1 && c->threshold_bp <= 10000);
    }
    for (size_t i = 0; i < cfg->ntokens; i++) {
        const struct token_cfg *t = &cfg->tokens[i];
        FUZZ_CHECK(t->name && *t->name);
        FUZZ_CHECK(t->role == ROLE_ADMIN || t->role == ROLE_COUNSELOR || t->role == ROLE_LEADER ||
                   t->role == ROLE_VIEWER);
        FUZZ_CHECK(t->county[0] == '\0' || config_county(cfg, t->county));
        FUZZ_CHECK(t->role != ROLE_COUNSELOR || t->county[0] != '\0');
    }
    const struct alerts_cfg *a = &cfg->alerts;
    FUZZ_CHECK(a->eval_interval_seconds >= 1 && a->clear_margin_bp < 10000);
    for (size_t i = 0; i < a->nwebhooks; i++) {
        FUZZ_CHECK(strncmp(a->webhooks[i].url, "http://", 7) == 0 ||
                   strncmp(a->webhooks[i].url, "https://", 8) == 0);
        for (size_t j = 0; j < a->webhooks[i].ncounties; j++)
            FUZZ_CHECK(config_county(cfg, a->webhooks[i].counties[j]));
    }
    FUZZ_CHECK(!a->alertmanager_url || strncmp(a->alertmanager_url, "http://", 7) == 0 ||
               strncmp(a->alertmanager_url, "https://", 8) == 0);
    fuzz_verdict("valid");
    fuzz_expect(true);
    config_free(cfg);
    return 0;
}
