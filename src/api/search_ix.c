/* Search index entries (see search_ix.h). */
#include "gradcover/api/search_ix.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gradcover/core/pii.h"

/* "<kind>:<first SEARCH_IX_HEX hex digits of HMAC("<kind>:" data)>": the
 * kind in the HMAC's input keeps a name "1234" and a phone's 1234 apart. */
static void entry(const struct pii *p, char kind, const char *data, size_t len, char *out, size_t n)
{
    char in[4 * SEARCH_IX_PREFIX_MAX + 8];
    char mac[PII_HMAC_HEX_LEN + 1];
    int w = snprintf(in, sizeof in, "%c:%.*s", kind, (int)len, data);
    pii_hmac_hex(p, in, w > 0 ? (size_t)w : 0, mac);
    snprintf(out, n, "%c:%.*s", kind, SEARCH_IX_HEX, mac);
}

/* Bytes of the first `chars` UTF-8 characters of s. */
static size_t utf8_prefix(const char *s, size_t chars)
{
    size_t i = 0;
    while (s[i] && chars > 0) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars--;
    }
    return i;
}

json_t *search_ix_name(const struct pii *p, const char *name)
{
    json_t *a = json_array();
    if (!a || !name)
        return a;
    for (size_t k = 1; k <= SEARCH_IX_PREFIX_MAX; k++) {
        size_t len = utf8_prefix(name, k);
        if (k > 1 && len == utf8_prefix(name, k - 1))
            break;
        char e[SEARCH_IX_HEX + 4];
        entry(p, 'n', name, len, e, sizeof e);
        if (json_array_append_new(a, json_string(e)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *search_ix_phone(const struct pii *p, const char *phone)
{
    json_t *a = json_array();
    if (!a || !phone)
        return a;
    char digits[32];
    size_t n = 0;
    for (const char *c = phone; *c && n < sizeof digits; c++)
        if (*c >= '0' && *c <= '9')
            digits[n++] = *c;
    if (n >= 4) {
        char e[SEARCH_IX_HEX + 4];
        entry(p, 'p', digits + n - 4, 4, e, sizeof e);
        if (json_array_append_new(a, json_string(e)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

void search_ix_query_name(const struct pii *p, const char *q, char *out, size_t n)
{
    entry(p, 'n', q, utf8_prefix(q, SEARCH_IX_PREFIX_MAX), out, n);
}

void search_ix_query_phone(const struct pii *p, const char *q, char *out, size_t n)
{
    bool four = strlen(q) == 4;
    for (size_t i = 0; four && i < 4; i++)
        four = q[i] >= '0' && q[i] <= '9';
    if (four)
        entry(p, 'p', q, 4, out, n);
    else if (n)
        out[0] = '\0';
}
