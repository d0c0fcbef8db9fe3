/* The request headers we parse, each against a reference: Authorization
 * (auth_bearer_token(), then auth_resolve() against two configured tokens),
 * Idempotency-Key and X-Request-Id. Header values reach us as C strings, so
 * the input is cut at its first NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "gradcover/domain/auth.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/validate.h"

static bool check_bearer(const char *s)
{
    size_t len = 0;
    const char *tok = auth_bearer_token(s, &len);
    /* Reference: "bearer " in any case, then spaces, then 1..512 bytes. */
    const char *ref = NULL;
    if (strlen(s) >= 7 && strncasecmp(s, "bearer ", 7) == 0) {
        ref = s + 7;
        while (*ref == ' ')
            ref++;
        size_t n = strlen(ref);
        if (n == 0 || n > AUTH_TOKEN_MAX_LEN)
            ref = NULL;
    }
    FUZZ_CHECK(tok == ref);
    if (tok)
        FUZZ_CHECK(len == strlen(tok) && *tok != ' ');

    struct principal who = {0};
    enum auth_result r = auth_resolve(fuzz_config(), s, &who);
    bool admin = tok && strcmp(tok, FUZZ_ADMIN_SECRET) == 0;
    bool counselor = tok && strcmp(tok, FUZZ_COUNSELOR_SECRET) == 0;
    FUZZ_CHECK(r != AUTH_MISSING);
    FUZZ_CHECK((r == AUTH_OK) == (admin || counselor));
    /* A well-formed token that is not a config one is looked up by its hash. */
    FUZZ_CHECK((r == AUTH_UNKNOWN) == (tok && !admin && !counselor));
    if (r == AUTH_UNKNOWN)
        FUZZ_CHECK(strlen(who.tok_hex) == 64);
    if (admin)
        FUZZ_CHECK(who.role == ROLE_ADMIN && who.county[0] == '\0' && !who.tok_hex[0]);
    if (counselor)
        FUZZ_CHECK(who.role == ROLE_COUNSELOR && strcmp(who.county, "611002") == 0);
    return r == AUTH_OK;
}

static bool check_idempotency_key(const char *s)
{
    size_t n = strlen(s);
    bool ref = n >= 1 && n <= 128;
    for (size_t i = 0; i < n; i++)
        ref = ref && s[i] > ' ' && s[i] <= '~';
    FUZZ_CHECK(validate_idempotency_key(s) == ref);
    return ref;
}

static bool check_request_id(const char *s)
{
    size_t n = strlen(s);
    bool ref = n >= 1 && n <= 64;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        ref = ref && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == ':' || c == '-');
    }
    /* Kept in the log and the audit trail: never a national ID or a phone. */
    ref = ref && !ref_personal_id(s);
    bool ok = validate_request_id(s);
    FUZZ_CHECK(ok == ref);
    /* What is echoed cannot break a header or a key=value log line. */
    if (ok)
        FUZZ_CHECK(strpbrk(s, " \t\r\n\"=\\") == NULL);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    bool bearer = check_bearer(s);
    bool idem = check_idempotency_key(s);
    bool rid = check_request_id(s);
    char verdict[80];
    snprintf(verdict, sizeof verdict, "bearer %s, idempotency key %s, request id %s",
             bearer ? "resolved" : "refused", idem ? "ok" : "refused", rid ? "echoed" : "replaced");
    fuzz_verdict(verdict);
    free(s);
    return 0;
}
