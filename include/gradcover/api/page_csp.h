/* The Content-Security-Policy of an embedded page (page_csp.c). */
#ifndef GC_API_PAGE_CSP_H
#define GC_API_PAGE_CSP_H

#include <stddef.h>

#include "gradcover/common.h"

/* Writes into out (n bytes) the policy of page (len bytes, the whole HTML):
 * default-src 'none', its inline <script> and <style> elements allowed by
 * their SHA-256 (CSP level 2 hash sources, no 'unsafe-inline'), connect-src
 * 'self', images from data: only, no framing, no base or form targets.
 * -1 when it does not fit or an element is not closed. Call once, at start. */
GC_MUSTCHECK int page_csp(const char *page, size_t len, char *out, size_t n);

#endif
