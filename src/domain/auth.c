/* Bearer-token authentication and the role/county rules of SPEC §6. */
#include "gradcover/domain/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "gradcover/core/hex.h"
#include "gradcover/core/pii.h"
#include "gradcover/domain/roles.h"

const char *auth_bearer_token(const char *authorization, size_t *len)
{
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    *len = strlen(tok);
    return *len == 0 || *len > AUTH_TOKEN_MAX_LEN ? NULL : tok;
}

enum auth_result auth_resolve(const struct config *cfg, const char *authorization,
                              struct principal *out)
{
    if (!authorization) {
        if (!cfg->anonymous_read)
            return AUTH_MISSING;
        memset(out, 0, sizeof *out);
        strcpy(out->name, "anonymous");
        out->role = ROLE_VIEWER;
        return AUTH_OK;
    }
    size_t len;
    const char *tok = auth_bearer_token(authorization, &len);
    if (!tok)
        return AUTH_INVALID;
    unsigned char md[SHA256_DIGEST_LENGTH];
    gc_sha256(tok, len, md);
    /* Compare against every configured hash without stopping early, so timing does
     * not reveal which (or whether any) entry matched first. */
    const struct token_cfg *hit = NULL;
    for (size_t i = 0; i < cfg->ntokens; i++) {
        bool eq = CRYPTO_memcmp(md, cfg->tokens[i].sha256, sizeof md) == 0;
        if (eq && !hit)
            hit = &cfg->tokens[i];
    }
    memset(out, 0, sizeof *out);
    if (!hit) {
        hex_encode(md, sizeof md, out->tok_hex);
        return AUTH_UNKNOWN;
    }
    snprintf(out->name, sizeof out->name, "%s", hit->name);
    out->role = hit->role;
    snprintf(out->county, sizeof out->county, "%s", hit->county);
    return AUTH_OK;
}

static bool in_scope(const struct principal *p, const char *county)
{
    return p->county[0] == '\0' || strcmp(p->county, county) == 0;
}

bool auth_can_see_coverage(const struct principal *p, const char *county)
{
    switch (p->role) {
    case ROLE_ADMIN:
    case ROLE_VIEWER:
        return true;
    case ROLE_COUNSELOR:
    case ROLE_LEADER:
        return in_scope(p, county);
    }
    return false;
}

bool auth_can_read_county(const struct principal *p, const char *county)
{
    switch (p->role) {
    case ROLE_ADMIN:
        return true;
    case ROLE_COUNSELOR:
    case ROLE_LEADER:
        return in_scope(p, county);
    case ROLE_VIEWER:
        return false;
    }
    return false;
}

bool auth_can_write_county(const struct principal *p, const char *county)
{
    return p->role == ROLE_ADMIN || (p->role == ROLE_COUNSELOR && in_scope(p, county));
}

bool auth_sees_full_pii(const struct principal *p, const char *county)
{
    return p->role == ROLE_ADMIN || (p->role == ROLE_COUNSELOR && in_scope(p, county));
}
