/* GET /: the dashboard page, embedded at build time (src/dashboard/index.html). */
#include <event2/buffer.h>
#include <event2/http.h>

#include "gradcover/api/handlers.h"
#include "gradcover/http/request.h"

extern const char gc_dashboard_html[];
extern const size_t gc_dashboard_html_len;

void api_dashboard(struct req *r)
{
    /* Everything the page needs is inline; it may only talk back to us. */
    http_add_header(r, "Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                    "connect-src 'self'; img-src data:; base-uri 'none'; frame-ancestors 'none'");
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_reply_raw(r, 200, "text/html; charset=utf-8", gc_dashboard_html, gc_dashboard_html_len);
}
