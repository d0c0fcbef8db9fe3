/* GET /: the dashboard page, embedded at build time (src/dashboard/index.html),
 * under a Content-Security-Policy that lets only the page's own inline script
 * and style run: each is allowed by its SHA-256, computed at start from the
 * embedded page by page_csp.c (never copied by hand). */
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "gradcover/api/handlers.h"
#include "gradcover/api/page_csp.h"
#include "gradcover/app.h"
#include "gradcover/http/request.h"

extern const char gc_dashboard_html[];
extern const size_t gc_dashboard_html_len;

int api_dashboard_csp(char *out, size_t n)
{
    return page_csp(gc_dashboard_html, gc_dashboard_html_len, out, n);
}

void api_dashboard(struct req *r)
{
    http_add_header(r, "Content-Security-Policy", r->app->dashboard_csp);
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_reply_raw(r, 200, "text/html; charset=utf-8", gc_dashboard_html, gc_dashboard_html_len);
}
