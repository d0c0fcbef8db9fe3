/* docs/openapi.json as the tests' oracle (see openapi.h). Loading walks the
 * whole document once and refuses anything the checker would not check;
 * checking an answer finds its operation and validates it. The schema
 * validator implements this subset of JSON Schema 2020-12: $ref (to
 * #/components/schemas), type (a name or an array of names), const, enum,
 * properties, required, additionalProperties (false or a schema), items,
 * minItems, maxItems, allOf, anyOf, oneOf, minimum, maximum, minLength,
 * maxLength (in Unicode characters) and pattern (compiled as a POSIX extended
 * regular expression: the document keeps to the part of the syntax that
 * ECMA-262 reads the same way, such as [0-9] and [*] rather than \d and \*).
 * format is read and ignored; annotations (description, title, examples,
 * default, ...) are allowed. Any other keyword fails the load. */
#include "openapi.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Distinct patterns in the document (about 25 today). */
#define OA_MAX_PATTERNS 256
/* Nesting of schemas and $refs followed while validating one value: far
 * above the document's (about 8); deeper means a $ref loop. */
#define OA_MAX_DEPTH 64
/* Parameters of one Content-Type value we look at. */
#define OA_MAX_MEDIA_PARAMS 8

struct pattern {
    char *src;
    regex_t re;
};

struct oa_doc {
    json_t *root;
    json_t *paths;
    json_t *unknown_path;   /* x-gradcover-unrouted.unknownPath */
    json_t *unknown_method; /* x-gradcover-unrouted.unknownMethod */
    size_t npatterns;
    struct pattern patterns[OA_MAX_PATTERNS];
};

/* ---- JSON pointers ---- */

/* Appends "/" and key (escaped as RFC 6901 says) to ptr; returns the length
 * to cut back to. */
static size_t ptr_push(char *ptr, size_t cap, const char *key)
{
    size_t old = strlen(ptr), n = old;
    if (n + 1 < cap)
        ptr[n++] = '/';
    for (const char *k = key; *k && n + 2 < cap; k++) {
        if (*k == '~' || *k == '/') {
            ptr[n++] = '~';
            ptr[n++] = *k == '~' ? '0' : '1';
        } else {
            ptr[n++] = *k;
        }
    }
    ptr[n] = '\0';
    return old;
}

static size_t ptr_push_index(char *ptr, size_t cap, size_t i)
{
    char k[24];
    snprintf(k, sizeof k, "%zu", i);
    return ptr_push(ptr, cap, k);
}

/* The value a local reference ("#/a/b") names in root, or NULL. Borrowed. */
static json_t *resolve(json_t *root, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *cur = root;
    const char *p = ref + 2;
    while (cur && *p) {
        size_t n = strcspn(p, "/");
        char key[256];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 1 < sizeof key; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                key[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                key[k++] = p[i];
            }
        }
        key[k] = '\0';
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(key, NULL, 10))
                                 : json_object_get(cur, key);
        p += n;
        if (*p == '/')
            p++;
    }
    return cur;
}

/* v itself, or what its "$ref" names (for responses, headers, parameters). */
static json_t *deref(json_t *root, json_t *v)
{
    const char *ref = json_string_value(json_object_get(v, "$ref"));
    return ref ? resolve(root, ref) : v;
}

/* ---- loading: the walk that refuses what the checker would not check ---- */

struct lctx {
    struct oa_doc *d;
    char *err;
    size_t errlen;
    char ptr[1024]; /* where in the document */
};

static int lfail(struct lctx *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int lfail(struct lctx *l, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(l->err, l->errlen, "openapi: #%s: %s", l->ptr, msg);
    return -1;
}

static const struct pattern *find_pattern(const struct oa_doc *d, const char *src)
{
    for (size_t i = 0; i < d->npatterns; i++)
        if (strcmp(d->patterns[i].src, src) == 0)
            return &d->patterns[i];
    return NULL;
}

static int add_pattern(struct lctx *l, const char *src)
{
    struct oa_doc *d = l->d;
    if (find_pattern(d, src))
        return 0;
    if (d->npatterns == OA_MAX_PATTERNS)
        return lfail(l, "more than %d distinct patterns", OA_MAX_PATTERNS);
    struct pattern *p = &d->patterns[d->npatterns];
    int rc = regcomp(&p->re, src, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &p->re, why, sizeof why);
        return lfail(l, "pattern \"%s\" is not a POSIX extended regular expression: %s", src, why);
    }
    p->src = strdup(src);
    if (!p->src) {
        regfree(&p->re);
        return lfail(l, "out of memory");
    }
    d->npatterns++;
    return 0;
}

static bool type_name_ok(const char *t)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "integer", "string", NULL};
    for (const char *const *n = names; *n; n++)
        if (strcmp(*n, t) == 0)
            return true;
    return false;
}

static int load_schema(struct lctx *l, json_t *s);

static int load_schema_at(struct lctx *l, const char *key, json_t *s)
{
    size_t back = ptr_push(l->ptr, sizeof l->ptr, key);
    int rc = load_schema(l, s);
    l->ptr[back] = '\0';
    return rc;
}

static int load_schema_list(struct lctx *l, const char *key, json_t *list)
{
    size_t back = ptr_push(l->ptr, sizeof l->ptr, key);
    if (!json_is_array(list) || json_array_size(list) == 0)
        return lfail(l, "must be a non-empty array of schemas");
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        size_t b2 = ptr_push_index(l->ptr, sizeof l->ptr, i);
        if (load_schema(l, s) < 0)
            return -1;
        l->ptr[b2] = '\0';
    }
    l->ptr[back] = '\0';
    return 0;
}

static bool count_ok(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* The keywords the validator implements, and the annotations it may skip. */
static const char *const keywords[] = {
    "$ref",      "type",     "properties", "required",   "additionalProperties",
    "items",     "enum",     "const",      "oneOf",      "anyOf",
    "allOf",     "minimum",  "maximum",    "minLength",  "maxLength",
    "minItems",  "maxItems", "pattern",    "format",     "description",
    "title",     "examples", "default",    "deprecated", "readOnly",
    "writeOnly", "$comment", NULL};

static int load_keyword(struct lctx *l, const char *k, json_t *v)
{
    if (strcmp(k, "$ref") == 0) {
        const char *ref = json_string_value(v);
        if (!ref || strncmp(ref, "#/components/schemas/", 21) != 0)
            return lfail(l, "$ref must name #/components/schemas/...");
        if (!resolve(l->d->root, ref))
            return lfail(l, "$ref %s does not resolve", ref);
    } else if (strcmp(k, "type") == 0) {
        if (json_is_string(v) ? !type_name_ok(json_string_value(v)) : !json_is_array(v))
            return lfail(l, "type must be a type name or an array of them");
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) if (!json_is_string(t) ||
                                        !type_name_ok(json_string_value(
                                            t))) return lfail(l, "type: not a type name");
    } else if (strcmp(k, "properties") == 0) {
        if (!json_is_object(v))
            return lfail(l, "properties must be an object");
        size_t back = ptr_push(l->ptr, sizeof l->ptr, k);
        const char *name;
        json_t *s;
        json_object_foreach(v, name, s) if (load_schema_at(l, name, s) < 0) return -1;
        l->ptr[back] = '\0';
    } else if (strcmp(k, "required") == 0) {
        size_t i;
        json_t *n;
        if (!json_is_array(v))
            return lfail(l, "required must be an array of names");
        json_array_foreach(v, i, n) if (!json_is_string(n)) return lfail(
            l, "required must be an array of names");
    } else if (strcmp(k, "additionalProperties") == 0 || strcmp(k, "items") == 0) {
        return load_schema_at(l, k, v);
    } else if (strcmp(k, "enum") == 0) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return lfail(l, "enum must be a non-empty array");
    } else if (strcmp(k, "oneOf") == 0 || strcmp(k, "anyOf") == 0 || strcmp(k, "allOf") == 0) {
        return load_schema_list(l, k, v);
    } else if (strcmp(k, "minimum") == 0 || strcmp(k, "maximum") == 0) {
        if (!json_is_number(v))
            return lfail(l, "%s must be a number", k);
    } else if (strcmp(k, "minLength") == 0 || strcmp(k, "maxLength") == 0 ||
               strcmp(k, "minItems") == 0 || strcmp(k, "maxItems") == 0) {
        if (!count_ok(v))
            return lfail(l, "%s must be a non-negative integer", k);
    } else if (strcmp(k, "pattern") == 0) {
        if (!json_is_string(v))
            return lfail(l, "pattern must be a string");
        return add_pattern(l, json_string_value(v));
    }
    return 0;
}

static int load_schema(struct lctx *l, json_t *s)
{
    if (json_is_boolean(s))
        return 0;
    if (!json_is_object(s))
        return lfail(l, "a schema must be an object or a boolean");
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v)
    {
        /* contentMediaType: an annotation too, saying the body is bytes (check_body). */
        bool known = strcmp(k, "contentMediaType") == 0;
        for (const char *const *kw = keywords; *kw && !known; kw++)
            known = strcmp(*kw, k) == 0;
        if (!known)
            return lfail(l,
                         "schema keyword \"%s\" is not implemented by the answer checker "
                         "(tests/integration/openapi.c): implement it there or do without",
                         k);
        if (load_keyword(l, k, v) < 0)
            return -1;
    }
    return 0;
}

/* An object holding a schema in "schema" (a parameter, a header, a media
 * type); "content" instead of it is not supported. */
static int load_schema_holder(struct lctx *l, json_t *h)
{
    if (!json_is_object(h))
        return lfail(l, "must be an object");
    if (json_object_get(h, "content"))
        return lfail(l, "\"content\" here is not supported by the answer checker");
    json_t *s = json_object_get(h, "schema");
    if (!s)
        return lfail(l, "needs a schema");
    return load_schema_at(l, "schema", s);
}

/* A $ref that must name a member of #/components/<kind>, or an inline
 * object loaded with fn. */
static int load_ref_or(struct lctx *l, json_t *v, const char *kind,
                       int (*fn)(struct lctx *, json_t *))
{
    const char *ref = json_string_value(json_object_get(v, "$ref"));
    if (!ref)
        return fn(l, v);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "#/components/%s/", kind);
    if (strncmp(ref, prefix, strlen(prefix)) != 0 || !json_is_object(resolve(l->d->root, ref)))
        return lfail(l, "$ref %s does not name a member of #/components/%s", ref, kind);
    return 0;
}

static int load_content(struct lctx *l, json_t *content)
{
    size_t back = ptr_push(l->ptr, sizeof l->ptr, "content");
    if (!json_is_object(content) || json_object_size(content) == 0)
        return lfail(l, "must map media types to their schemas");
    const char *mt;
    json_t *m;
    json_object_foreach(content, mt, m)
    {
        size_t b2 = ptr_push(l->ptr, sizeof l->ptr, mt);
        if (load_schema_holder(l, m) < 0)
            return -1;
        l->ptr[b2] = '\0';
    }
    l->ptr[back] = '\0';
    return 0;
}

static int load_header(struct lctx *l, json_t *h)
{
    return load_schema_holder(l, h);
}

static int load_response(struct lctx *l, json_t *r)
{
    if (!json_is_object(r))
        return lfail(l, "a response must be an object");
    json_t *headers = json_object_get(r, "headers");
    if (headers) {
        size_t back = ptr_push(l->ptr, sizeof l->ptr, "headers");
        const char *name;
        json_t *h;
        json_object_foreach(headers, name, h)
        {
            size_t b2 = ptr_push(l->ptr, sizeof l->ptr, name);
            if (load_ref_or(l, h, "headers", load_header) < 0)
                return -1;
            l->ptr[b2] = '\0';
        }
        l->ptr[back] = '\0';
    }
    json_t *content = json_object_get(r, "content");
    return content ? load_content(l, content) : 0;
}

static int load_responses(struct lctx *l, json_t *rs)
{
    if (!json_is_object(rs) || json_object_size(rs) == 0)
        return lfail(l, "responses must list at least one status");
    const char *code;
    json_t *r;
    json_object_foreach(rs, code, r)
    {
        size_t back = ptr_push(l->ptr, sizeof l->ptr, code);
        bool status = strlen(code) == 3 && strspn(code, "0123456789") == 3 && code[0] >= '1' &&
                      code[0] <= '5';
        if (!status)
            return lfail(l, "only explicit statuses are allowed (no \"default\", no \"2XX\"): "
                            "an undocumented status must fail the tests");
        if (load_ref_or(l, r, "responses", load_response) < 0)
            return -1;
        l->ptr[back] = '\0';
    }
    return 0;
}

static int load_parameter(struct lctx *l, json_t *p)
{
    return load_schema_holder(l, p);
}

static int load_request_body(struct lctx *l, json_t *b)
{
    json_t *content = json_object_get(b, "content");
    return content ? load_content(l, content) : lfail(l, "a request body needs content");
}

static int load_parameters(struct lctx *l, json_t *ps)
{
    size_t back = ptr_push(l->ptr, sizeof l->ptr, "parameters");
    if (!json_is_array(ps))
        return lfail(l, "must be an array");
    size_t i;
    json_t *p;
    json_array_foreach(ps, i, p)
    {
        size_t b2 = ptr_push_index(l->ptr, sizeof l->ptr, i);
        if (load_ref_or(l, p, "parameters", load_parameter) < 0)
            return -1;
        l->ptr[b2] = '\0';
    }
    l->ptr[back] = '\0';
    return 0;
}

static bool is_method(const char *k)
{
    static const char *const methods[] = {"get",  "put",   "post",  "delete", "options",
                                          "head", "patch", "trace", NULL};
    for (const char *const *m = methods; *m; m++)
        if (strcmp(*m, k) == 0)
            return true;
    return false;
}

static int load_operation(struct lctx *l, json_t *op)
{
    json_t *ps = json_object_get(op, "parameters");
    if (ps && load_parameters(l, ps) < 0)
        return -1;
    json_t *body = json_object_get(op, "requestBody");
    if (body) {
        size_t back = ptr_push(l->ptr, sizeof l->ptr, "requestBody");
        if (load_ref_or(l, body, "requestBodies", load_request_body) < 0)
            return -1;
        l->ptr[back] = '\0';
    }
    json_t *rs = json_object_get(op, "responses");
    size_t back = ptr_push(l->ptr, sizeof l->ptr, "responses");
    if (load_responses(l, rs) < 0)
        return -1;
    l->ptr[back] = '\0';
    return 0;
}

static int load_paths(struct lctx *l, json_t *paths)
{
    size_t back = ptr_push(l->ptr, sizeof l->ptr, "paths");
    if (!json_is_object(paths))
        return lfail(l, "paths must be an object");
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        size_t b2 = ptr_push(l->ptr, sizeof l->ptr, path);
        if (path[0] != '/' || !json_is_object(item))
            return lfail(l, "a path must start with / and hold a path item object");
        const char *k;
        json_t *v;
        json_object_foreach(item, k, v)
        {
            size_t b3 = ptr_push(l->ptr, sizeof l->ptr, k);
            int rc = 0;
            if (is_method(k))
                rc = load_operation(l, v);
            else if (strcmp(k, "parameters") == 0)
                rc = load_parameters(l, v);
            else if (strcmp(k, "summary") != 0 && strcmp(k, "description") != 0 &&
                     strncmp(k, "x-", 2) != 0)
                rc = lfail(l, "path item member \"%s\" is not supported by the answer checker", k);
            if (rc < 0)
                return -1;
            l->ptr[b3] = '\0';
        }
        l->ptr[b2] = '\0';
    }
    l->ptr[back] = '\0';
    return 0;
}

static int load_component_map(struct lctx *l, json_t *components, const char *kind,
                              int (*fn)(struct lctx *, json_t *))
{
    json_t *map = json_object_get(components, kind);
    if (!map)
        return 0;
    size_t back = ptr_push(l->ptr, sizeof l->ptr, kind);
    const char *name;
    json_t *v;
    json_object_foreach(map, name, v)
    {
        size_t b2 = ptr_push(l->ptr, sizeof l->ptr, name);
        if (fn(l, v) < 0)
            return -1;
        l->ptr[b2] = '\0';
    }
    l->ptr[back] = '\0';
    return 0;
}

static int load_unrouted(struct lctx *l, json_t *u, const char *which, json_t **out)
{
    size_t back = ptr_push(l->ptr, sizeof l->ptr, "x-gradcover-unrouted");
    ptr_push(l->ptr, sizeof l->ptr, which);
    *out = json_object_get(u, which);
    if (!*out)
        return lfail(l, "missing: the answers to requests that match no operation");
    if (load_responses(l, *out) < 0)
        return -1;
    l->ptr[back] = '\0';
    return 0;
}

void oa_free(struct oa_doc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->npatterns; i++) {
        regfree(&d->patterns[i].re);
        free(d->patterns[i].src);
    }
    json_decref(d->root);
    free(d);
}

struct oa_doc *oa_load(json_t *root, char *err, size_t errlen)
{
    struct oa_doc *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "openapi: out of memory");
        return NULL;
    }
    d->root = json_incref(root);
    struct lctx l = {.d = d, .err = err, .errlen = errlen};
    const char *version = json_string_value(json_object_get(root, "openapi"));
    json_t *components = json_object_get(root, "components");
    json_t *unrouted = json_object_get(root, "x-gradcover-unrouted");
    int rc = 0;
    if (!version || strncmp(version, "3.1.", 4) != 0)
        rc = lfail(&l, "not an OpenAPI 3.1 document");
    if (rc == 0 && !json_is_object(unrouted))
        rc = lfail(&l, "x-gradcover-unrouted is missing");
    if (rc == 0)
        rc = load_paths(&l, json_object_get(root, "paths"));
    if (rc == 0 && components) {
        size_t back = ptr_push(l.ptr, sizeof l.ptr, "components");
        if (load_component_map(&l, components, "schemas", load_schema) < 0 ||
            load_component_map(&l, components, "responses", load_response) < 0 ||
            load_component_map(&l, components, "headers", load_header) < 0 ||
            load_component_map(&l, components, "parameters", load_parameter) < 0 ||
            load_component_map(&l, components, "requestBodies", load_request_body) < 0)
            rc = -1;
        l.ptr[back] = '\0';
    }
    if (rc == 0)
        rc = load_unrouted(&l, unrouted, "unknownPath", &d->unknown_path);
    if (rc == 0)
        rc = load_unrouted(&l, unrouted, "unknownMethod", &d->unknown_method);
    if (rc < 0) {
        oa_free(d);
        return NULL;
    }
    d->paths = json_object_get(root, "paths");
    return d;
}

struct oa_doc *oa_load_file(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "openapi: %s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    struct oa_doc *d = oa_load(root, err, errlen);
    json_decref(root);
    return d;
}

/* ---- validating a value against a schema ---- */

struct vctx {
    const struct oa_doc *d;
    int depth;
    char ptr[1024]; /* where in the value */
    char msg[768];  /* the first violation */
};

static bool vfail(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool vfail(struct vctx *v, const char *fmt, ...)
{
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(v->msg, sizeof v->msg, "%.200s: %.500s", v->ptr[0] ? v->ptr : "(the whole value)",
             what);
    return false;
}

/* A short rendering of x for messages (one of four rotating buffers, so that
 * two may appear in one message). */
static const char *show(json_t *x)
{
    static char bufs[4][80];
    static int slot;
    char *b = bufs[slot++ % 4];
    char *s = json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(b, sizeof bufs[0], "%.60s%s", s ? s : "?", s && strlen(s) > 60 ? "..." : "");
    free(s);
    return b;
}

static const char *type_of(json_t *x)
{
    switch (json_typeof(x)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static bool has_type(json_t *x, const char *t)
{
    if (strcmp(t, "null") == 0)
        return json_is_null(x);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(x);
    if (strcmp(t, "object") == 0)
        return json_is_object(x);
    if (strcmp(t, "array") == 0)
        return json_is_array(x);
    if (strcmp(t, "string") == 0)
        return json_is_string(x);
    if (strcmp(t, "number") == 0)
        return json_is_number(x);
    if (strcmp(t, "integer") == 0) /* 2.0 is an integer to JSON Schema */
        return json_is_integer(x) ||
               (json_is_real(x) && json_real_value(x) == (double)(long long)json_real_value(x));
    return false;
}

/* JSON Schema equality: numbers by value (1 == 1.0), the rest as jansson. */
static bool same(json_t *a, json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b) != 0;
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

static bool validate(struct vctx *v, json_t *s, json_t *x);

static bool validate_at(struct vctx *v, const char *key, json_t *s, json_t *x)
{
    size_t back = ptr_push(v->ptr, sizeof v->ptr, key);
    bool ok = validate(v, s, x);
    if (ok)
        v->ptr[back] = '\0';
    return ok;
}

/* anyOf / oneOf: how many branches x matches; the first branch's violation
 * is kept in first. */
static size_t matches(struct vctx *v, json_t *list, json_t *x, char *first, size_t firstlen)
{
    size_t n = 0, i;
    json_t *s;
    first[0] = '\0';
    char ptr[sizeof v->ptr];
    snprintf(ptr, sizeof ptr, "%s", v->ptr);
    json_array_foreach(list, i, s)
    {
        if (validate(v, s, x))
            n++;
        else if (!first[0])
            snprintf(first, firstlen, "%s", v->msg);
        snprintf(v->ptr, sizeof v->ptr, "%s", ptr);
    }
    return n;
}

static bool validate_type(struct vctx *v, json_t *t, json_t *x)
{
    if (json_is_string(t))
        return has_type(x, json_string_value(t)) ||
               vfail(v, "expected %s, got %s %s", json_string_value(t), type_of(x), show(x));
    size_t i;
    json_t *name;
    char names[128] = "";
    json_array_foreach(t, i, name)
    {
        if (has_type(x, json_string_value(name)))
            return true;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? " or " : "",
                 json_string_value(name));
    }
    return vfail(v, "expected %s, got %s %s", names, type_of(x), show(x));
}

static bool validate_string(struct vctx *v, json_t *s, json_t *x)
{
    const char *str = json_string_value(x);
    size_t chars = utf8_len(str, json_string_length(x));
    json_t *k;
    if ((k = json_object_get(s, "minLength")) && chars < (size_t)json_integer_value(k))
        return vfail(v, "%s has %zu characters, fewer than minLength %lld", show(x), chars,
                     (long long)json_integer_value(k));
    if ((k = json_object_get(s, "maxLength")) && chars > (size_t)json_integer_value(k))
        return vfail(v, "%s has %zu characters, more than maxLength %lld", show(x), chars,
                     (long long)json_integer_value(k));
    if ((k = json_object_get(s, "pattern"))) {
        const struct pattern *p = find_pattern(v->d, json_string_value(k));
        if (!p)
            return vfail(v, "pattern %s was not compiled at load", json_string_value(k));
        if (regexec(&p->re, str, 0, NULL, 0) != 0)
            return vfail(v, "%s does not match the pattern %s", show(x), json_string_value(k));
    }
    return true;
}

static bool validate_object(struct vctx *v, json_t *s, json_t *x)
{
    json_t *req = json_object_get(s, "required");
    size_t i;
    json_t *name;
    json_array_foreach(req, i, name) if (!json_object_get(x, json_string_value(name))) return vfail(
        v, "the required member \"%s\" is missing", json_string_value(name));
    json_t *props = json_object_get(s, "properties");
    json_t *extra = json_object_get(s, "additionalProperties");
    const char *k;
    json_t *val;
    json_object_foreach(x, k, val)
    {
        json_t *ps = json_object_get(props, k);
        if (ps) {
            if (!validate_at(v, k, ps, val))
                return false;
        } else if (json_is_false(extra)) {
            return vfail(v, "member \"%s\" is not allowed (additionalProperties: false)", k);
        } else if (json_is_object(extra) && !validate_at(v, k, extra, val)) {
            return false;
        }
    }
    return true;
}

static bool validate_array(struct vctx *v, json_t *s, json_t *x)
{
    json_t *k;
    size_t n = json_array_size(x);
    if ((k = json_object_get(s, "minItems")) && n < (size_t)json_integer_value(k))
        return vfail(v, "%zu items, fewer than minItems %lld", n, (long long)json_integer_value(k));
    if ((k = json_object_get(s, "maxItems")) && n > (size_t)json_integer_value(k))
        return vfail(v, "%zu items, more than maxItems %lld", n, (long long)json_integer_value(k));
    json_t *items = json_object_get(s, "items");
    size_t i;
    json_t *e;
    json_array_foreach(x, i, e)
    {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        if (items && !validate_at(v, idx, items, e))
            return false;
    }
    return true;
}

static bool validate_composition(struct vctx *v, json_t *s, json_t *x)
{
    json_t *list;
    size_t i;
    json_t *sub;
    char first[sizeof v->msg];
    if ((list = json_object_get(s, "allOf")))
        json_array_foreach(list, i, sub) if (!validate(v, sub, x)) return false;
    if ((list = json_object_get(s, "anyOf")) && matches(v, list, x, first, sizeof first) == 0)
        return vfail(v, "matches none of anyOf (the first: %s)", first);
    if ((list = json_object_get(s, "oneOf"))) {
        size_t n = matches(v, list, x, first, sizeof first);
        if (n == 0)
            return vfail(v, "matches none of oneOf (the first: %s)", first);
        if (n > 1)
            return vfail(v, "matches %zu of oneOf, not exactly one", n);
    }
    return true;
}

static bool validate(struct vctx *v, json_t *s, json_t *x)
{
    if (json_is_true(s))
        return true;
    if (json_is_false(s))
        return vfail(v, "no value is allowed here");
    if (++v->depth > OA_MAX_DEPTH) {
        v->depth--;
        return vfail(v, "schemas nested deeper than %d: a $ref loop?", OA_MAX_DEPTH);
    }
    bool ok = true;
    json_t *k;
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref)
        ok = validate(v, resolve(v->d->root, ref), x);
    if (ok && (k = json_object_get(s, "type")))
        ok = validate_type(v, k, x);
    if (ok && (k = json_object_get(s, "const")) && !same(k, x))
        ok = vfail(v, "expected %s", show(k));
    if (ok && (k = json_object_get(s, "enum"))) {
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(k, i, e) found = found || same(e, x);
        if (!found)
            ok = vfail(v, "%s is not one of enum %s", show(x), show(k));
    }
    if (ok && json_is_string(x))
        ok = validate_string(v, s, x);
    if (ok && json_is_number(x)) {
        double n = json_number_value(x);
        if ((k = json_object_get(s, "minimum")) && n < json_number_value(k))
            ok = vfail(v, "%s is below the minimum %s", show(x), show(k));
        else if ((k = json_object_get(s, "maximum")) && n > json_number_value(k))
            ok = vfail(v, "%s is above the maximum %s", show(x), show(k));
    }
    if (ok && json_is_object(x))
        ok = validate_object(v, s, x);
    if (ok && json_is_array(x))
        ok = validate_array(v, s, x);
    if (ok)
        ok = validate_composition(v, s, x);
    v->depth--;
    return ok;
}

/* ---- answers ---- */

/* The value of header field name in head (status line first), trimmed;
 * NULL when absent. */
static const char *find_header(const char *head, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
            continue;
        const char *val = line + nl + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        const char *end = strstr(val, "\r\n");
        size_t n = end ? (size_t)(end - val) : strlen(val);
        while (n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\t'))
            n--;
        *len = n;
        return val;
    }
    return NULL;
}

struct media {
    char type[96]; /* "type/subtype", lower case */
    size_t nparams;
    char names[OA_MAX_MEDIA_PARAMS][32], values[OA_MAX_MEDIA_PARAMS][64];
};

static void copy_trimmed(char *out, size_t cap, const char *s, size_t n, bool lower)
{
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        s++, n -= 2;
    size_t k = 0;
    for (; k < n && k + 1 < cap; k++)
        out[k] = lower ? (char)tolower((unsigned char)s[k]) : s[k];
    out[k] = '\0';
}

static void parse_media(const char *s, size_t n, struct media *m)
{
    memset(m, 0, sizeof *m);
    const char *end = s + n;
    const char *semi = memchr(s, ';', n);
    copy_trimmed(m->type, sizeof m->type, s, (size_t)((semi ? semi : end) - s), true);
    while (semi && m->nparams < OA_MAX_MEDIA_PARAMS) {
        const char *p = semi + 1;
        semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (!eq)
            continue;
        copy_trimmed(m->names[m->nparams], sizeof m->names[0], p, (size_t)(eq - p), true);
        copy_trimmed(m->values[m->nparams], sizeof m->values[0], eq + 1, (size_t)(pe - eq - 1),
                     true);
        m->nparams++;
    }
}

/* Every parameter the documented type names is in the actual one. */
static bool media_matches(const struct media *doc, const struct media *got)
{
    if (strcmp(doc->type, got->type) != 0)
        return false;
    for (size_t i = 0; i < doc->nparams; i++) {
        bool found = false;
        for (size_t j = 0; j < got->nparams && !found; j++)
            found = strcmp(doc->names[i], got->names[j]) == 0 &&
                    strcmp(doc->values[i], got->values[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

static bool media_is_json(const struct media *m)
{
    size_t n = strlen(m->type);
    return strcmp(m->type, "application/json") == 0 ||
           (n > 5 && strcmp(m->type + n - 5, "+json") == 0);
}

/* Segment-by-segment match of path (n bytes) against a template; the number
 * of literal segments, or -1. */
static int match_template(const char *tmpl, const char *path, size_t n)
{
    const char *pend = path + n;
    int literal = 0;
    while (*tmpl && path < pend) {
        if (*tmpl != '/' || *path != '/')
            return -1;
        tmpl++, path++;
        size_t tl = strcspn(tmpl, "/");
        const char *ps = memchr(path, '/', (size_t)(pend - path));
        size_t pl = ps ? (size_t)(ps - path) : (size_t)(pend - path);
        if (tl >= 2 && tmpl[0] == '{' && tmpl[tl - 1] == '}') {
            if (pl == 0)
                return -1;
        } else if (tl != pl || memcmp(tmpl, path, tl) != 0) {
            return -1;
        } else {
            literal++;
        }
        tmpl += tl;
        path += pl;
    }
    return *tmpl == '\0' && path == pend ? literal : -1;
}

struct check {
    const struct oa_doc *d;
    char *err;
    size_t errlen;
    char label[300]; /* "GET /api/v1/x -> 200" */
};

static int cfail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cfail(struct check *c, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "openapi: %s: %s", c->label, msg);
    return -1;
}

static void list_statuses(json_t *responses, char *out, size_t n)
{
    out[0] = '\0';
    const char *code;
    json_t *r;
    json_object_foreach(responses, code, r)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? " " : "", code);
}

static int check_headers(struct check *c, json_t *resp, const char *head)
{
    const char *name;
    json_t *h;
    json_object_foreach(json_object_get(resp, "headers"), name, h)
    {
        h = deref(c->d->root, h);
        size_t len = 0;
        const char *val = find_header(head, name, &len);
        if (!val) {
            if (json_is_true(json_object_get(h, "required")))
                return cfail(c, "the required header %s is missing", name);
            continue;
        }
        json_t *s = json_object_get(h, "schema");
        json_t *x = json_stringn(val, len);
        struct vctx v = {.d = c->d};
        bool ok = !s || !x || validate(&v, s, x);
        json_decref(x);
        if (!ok)
            return cfail(c, "header %s: %s", name, v.msg);
    }
    return 0;
}

static int check_body(struct check *c, json_t *resp, const char *method, const struct oa_answer *a)
{
    json_t *content = json_object_get(resp, "content");
    if (!content)
        return a->body_len == 0 ? 0 : cfail(c, "a body where the document has none");
    size_t ctlen = 0;
    const char *ct = find_header(a->head, "Content-Type", &ctlen);
    if (!ct)
        return cfail(c, "no Content-Type");
    struct media got, doc;
    parse_media(ct, ctlen, &got);
    const char *key;
    json_t *m, *schema = NULL;
    char documented[256] = "";
    json_object_foreach(content, key, m)
    {
        parse_media(key, strlen(key), &doc);
        if (media_matches(&doc, &got)) {
            schema = json_object_get(m, "schema");
            break;
        }
        snprintf(documented + strlen(documented), sizeof documented - strlen(documented),
                 "%s\"%s\"", documented[0] ? ", " : "", key);
    }
    if (!schema)
        return cfail(c, "Content-Type \"%.*s\" is not documented (documented: %s)", (int)ctlen, ct,
                     documented);
    if (strcmp(method, "HEAD") == 0)
        return 0;
    /* Bytes that are not text (a spreadsheet): a schema with
     * contentMediaType and nothing to check of them but that they came. */
    if (json_object_get(schema, "contentMediaType") && !media_is_json(&got))
        return a->body_len > 0 ? 0 : cfail(c, "an empty %.*s body", (int)ctlen, ct);
    json_t *x;
    if (media_is_json(&got)) {
        json_error_t je;
        x = json_loadb(a->body, a->body_len, JSON_DECODE_ANY, &je);
        if (!x)
            return cfail(c, "the body is not JSON: %s (line %d)", je.text, je.line);
    } else {
        x = json_stringn(a->body, a->body_len);
        if (!x)
            return cfail(c, "the body is not UTF-8 text");
    }
    struct vctx v = {.d = c->d};
    bool ok = validate(&v, schema, x);
    json_decref(x);
    return ok ? 0 : cfail(c, "body %s", v.msg);
}

int oa_check(const struct oa_doc *d, const char *method, const char *target,
             const struct oa_answer *a, char *err, size_t errlen)
{
    struct check c = {.d = d, .err = err, .errlen = errlen};
    snprintf(c.label, sizeof c.label, "%s %.200s -> %d", method, target, a->status);
    size_t plen = strcspn(target, "?#");
    const char *tmpl = NULL, *k;
    json_t *item = NULL, *v;
    int best = -1;
    json_object_foreach(d->paths, k, v)
    {
        int lit = match_template(k, target, plen);
        if (lit > best) {
            best = lit;
            tmpl = k;
            item = v;
        }
    }
    char lower[16];
    size_t i = 0;
    for (; method[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)method[i]);
    lower[i] = '\0';
    json_t *op = item ? json_object_get(item, lower) : NULL;
    json_t *responses = !item ? d->unknown_path
                        : op  ? json_object_get(op, "responses")
                              : d->unknown_method;
    const char *where = !item ? "an unknown path (x-gradcover-unrouted.unknownPath)"
                        : op  ? tmpl
                              : "a method the path does not have "
                                "(x-gradcover-unrouted.unknownMethod)";
    char code[8], statuses[160];
    snprintf(code, sizeof code, "%d", a->status);
    json_t *resp = deref(d->root, json_object_get(responses, code));
    if (!resp) {
        list_statuses(responses, statuses, sizeof statuses);
        return cfail(&c, "status %d is not documented for %s (documented: %s)", a->status, where,
                     statuses);
    }
    if (check_headers(&c, resp, a->head) < 0 || check_body(&c, resp, method, a) < 0)
        return -1;
    return 0;
}

int oa_check_wire(const struct oa_doc *d, const char *method, const char *target, const char *buf,
                  size_t len, size_t *used, char *err, size_t errlen)
{
    *used = 0;
    const char *sep = memmem(buf, len, "\r\n\r\n", 4);
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || !sep) {
        snprintf(err, errlen, "openapi: %s %.200s: no complete HTTP answer", method, target);
        return -1;
    }
    size_t hlen = (size_t)(sep - buf);
    char *head = strndup(buf, hlen);
    if (!head) {
        snprintf(err, errlen, "openapi: out of memory");
        return -1;
    }
    size_t cl_len = 0;
    const char *cl = find_header(head, "Content-Length", &cl_len);
    /* Without Content-Length (an HTTP/1.0 answer) the body runs to the close. */
    size_t body_len = cl ? strtoul(cl, NULL, 10) : len - hlen - 4;
    if (strcmp(method, "HEAD") == 0)
        body_len = 0;
    int rc = -1;
    if (hlen + 4 + body_len > len) {
        snprintf(err, errlen, "openapi: %s %.200s: the answer is cut short", method, target);
    } else {
        struct oa_answer a = {atoi(buf + 9), head, sep + 4, body_len};
        rc = oa_check(d, method, target, &a, err, errlen);
        *used = hlen + 4 + body_len;
    }
    free(head);
    return rc;
}
