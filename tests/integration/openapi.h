/* The tests' check of gradcoverd's answers against docs/openapi.json: an
 * answer is matched to its operation by method and path template, and its
 * status, Content-Type, body (a JSON Schema 2020-12 subset) and required
 * response headers must be the documented ones. Test code, not the server's:
 * it reports, the caller decides how to fail. */
#ifndef GC_OPENAPI_H
#define GC_OPENAPI_H

#include <stddef.h>

#include <jansson.h>

struct oa_doc;

/* Loads the document at path (JSON). Fails (NULL, the reason in err) when it
 * is not an OpenAPI 3.1 document, when a response is a "default" or a status
 * range (an undocumented status must fail a test, not fall into a catch-all),
 * when a $ref does not resolve, a pattern does not compile as a POSIX
 * extended regular expression, or a schema uses a keyword the validator does
 * not implement: the document can never outgrow the checker unnoticed. */
struct oa_doc *oa_load_file(const char *path, char *err, size_t errlen);

/* The same for a document already parsed; takes a reference of its own (the
 * caller keeps root, which must not change while the result lives). */
struct oa_doc *oa_load(json_t *root, char *err, size_t errlen);

/* NULL is a no-op. */
void oa_free(struct oa_doc *d);

/* One HTTP answer as received. */
struct oa_answer {
    int status;
    const char *head; /* the status line and header fields, "\r\n"-separated,
                         NUL-terminated (the empty line may be missing) */
    const char *body;
    size_t body_len;
};

/* Checks answer a to the request "method target" (target: the path and
 * query string as sent). 0 when it is documented; -1 with err naming the
 * method, the target, the status and the first violation (a JSON pointer
 * into the body for a schema violation).
 *
 * Matching: the path (without the query) against the document's path
 * templates, segment by segment, "{param}" matching one non-empty segment;
 * of several matches the one with the most literal segments. A path that
 * matches no template is checked against x-gradcover-unrouted.unknownPath; a
 * method the matched path has no operation for, against
 * x-gradcover-unrouted.unknownMethod. The status must be one of the
 * responses listed there. Content-Type: its media type must equal a
 * documented one, and every parameter the document names (version=0.0.4)
 * must be present with that value; a body is validated as JSON for JSON
 * media types and as one JSON string otherwise; HEAD answers carry no body. */
int oa_check(const struct oa_doc *d, const char *method, const char *target,
             const struct oa_answer *a, char *err, size_t errlen);

/* Parses the HTTP/1.x answer at the start of buf (len bytes; the body's
 * length from Content-Length, or the rest of buf without it) and checks it
 * as oa_check.
 * *used is set to the answer's length (0 if buf holds no complete head).
 * Returns 0 or -1 with err. */
int oa_check_wire(const struct oa_doc *d, const char *method, const char *target, const char *buf,
                  size_t len, size_t *used, char *err, size_t errlen);

#endif
