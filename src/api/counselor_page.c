/* GET /counselor: the counselors' page (SPEC §12), embedded at build time
 * (src/counselor/index.html) like the dashboard and under the same kind of
 * policy (page_csp.c): only its own inline script and style run, and it
 * talks to this server only. The page itself holds no data: it reads and
 * writes through the API with the token the counselor types in. */
#include <stddef.h>

#include "gradcover/api/handlers.h"
#include "gradcover/api/page_csp.h"
#include "gradcover/app.h"
#include "gradcover/http/request.h"

extern const char gc_counselor_html[];
extern const size_t gc_counselor_html_len;

int api_counselor_csp(char *out, size_t n)
{
    return page_csp(gc_counselor_html, gc_counselor_html_len, out, n);
}

void api_counselor_page(struct req *r)
{
    http_add_header(r, "Content-Security-Policy", r->app->counselor_csp);
    http_add_header(r, "X-Frame-Options", "DENY");
    /* The page's URL carries nothing secret (the token stays in
     * sessionStorage), but it has no business telling other sites either. */
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_reply_raw(r, 200, "text/html; charset=utf-8", gc_counselor_html, gc_counselor_html_len);
}
