/* The Content-Security-Policy of a page embedded in the binary (the dashboard,
 * the counselor page): its inline <script> and <style> elements allowed by
 * their SHA-256, computed from the page itself at start, so that an edited
 * page cannot drift from its policy. Nothing else is allowed to run or load. */
#include "gradcover/api/page_csp.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "gradcover/core/pii.h"

/* "'sha256-" + 44 base64 characters + "'" (and a space before each). */
#define HASH_SOURCE_LEN 55

/* Whether at lies inside an HTML comment of page (len bytes). */
static bool in_comment(const char *page, size_t len, const char *at)
{
    const char *open = NULL;
    for (const char *p = page; p < at;) {
        const char *c = memmem(p, (size_t)(at - p), "<!--", 4);
        if (!c)
            break;
        const char *e = memmem(c + 4, len - (size_t)(c + 4 - page), "-->", 3);
        if (!e || e + 3 > at) {
            open = c;
            break;
        }
        p = e + 3;
    }
    return open != NULL;
}

/* Appends " 'sha256-<base64>'" for the text of every <tag>...</tag> element of
 * the page (outside comments) to out (NUL-terminated, size n); the number of
 * elements, or -1 when out is too small or an element is not closed. */
static int hash_sources(const char *page, size_t len, const char *tag, char *out, size_t n)
{
    char open[16], close[16];
    snprintf(open, sizeof open, "<%s", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *end = page + len;
    int count = 0;
    for (const char *p = page; (p = memmem(p, (size_t)(end - p), open, strlen(open))) != NULL;) {
        bool commented = in_comment(page, len, p);
        p += strlen(open);
        if ((*p != '>' && *p != ' ') || commented)
            continue; /* another tag that starts alike (<styles>), or a comment's text */
        const char *text = memchr(p, '>', (size_t)(end - p));
        const char *stop = text ? memmem(text, (size_t)(end - text), close, strlen(close)) : NULL;
        if (!stop)
            return -1;
        text++;
        unsigned char md[32];
        gc_sha256(text, (size_t)(stop - text), md);
        size_t used = strlen(out);
        if (n - used < HASH_SOURCE_LEN + 1)
            return -1;
        memcpy(out + used, " 'sha256-", 9);
        int b = EVP_EncodeBlock((unsigned char *)out + used + 9, md, sizeof md);
        snprintf(out + used + 9 + b, n - used - 9 - (size_t)b, "'");
        count++;
        p = stop;
    }
    return count;
}

int page_csp(const char *page, size_t len, char *out, size_t n)
{
    char scripts[4 * HASH_SOURCE_LEN + 1] = "", styles[4 * HASH_SOURCE_LEN + 1] = "";
    int ns = hash_sources(page, len, "script", scripts, sizeof scripts);
    int nt = hash_sources(page, len, "style", styles, sizeof styles);
    if (ns < 0 || nt < 0)
        return -1;
    /* The page talks back to us only (connect-src); its one image is the
     * data: favicon; nothing may frame it or change its base URL. */
    int w = snprintf(out, n,
                     "default-src 'none'; script-src%s; style-src%s; connect-src 'self'; "
                     "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                     ns ? scripts : " 'none'", nt ? styles : " 'none'");
    return w > 0 && (size_t)w < n ? 0 : -1;
}
