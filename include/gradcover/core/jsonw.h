/* A JSON text writer: builds compact JSON straight into a buffer, for the
 * script arguments and replies on the request path. jansson's json_dumps spends
 * ~60,000 instructions on a 600-byte object (loop detection with a hashtable
 * keyed by snprintf("%p") per container, a callback per fragment); this writes
 * the same bytes in a few thousand. jansson still parses every input. */
#ifndef GRADCOVER_CORE_JSONW_H
#define GRADCOVER_CORE_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Texts up to this size stay in the writer itself (on the caller's stack). */
#define JW_INLINE 1024

struct jw {
    char *p;     /* the text so far; points at `small` until it outgrows it */
    size_t len;  /* bytes written (a NUL always follows them) */
    size_t cap;  /* bytes available at p */
    bool failed; /* out of memory or an unencodable string: the text is void */
    bool comma;  /* the current container has a value: the next one needs "," */
    char small[JW_INLINE];
};

/* Starts an empty text. */
void jw_init(struct jw *w);
/* Frees a grown buffer; the writer may be initialised again. */
void jw_free(struct jw *w);

/* Makes room for n more bytes at once (a large text known in advance). */
void jw_reserve(struct jw *w, size_t n);

/* Containers and keys; a key is written with its ":" and the next value
 * follows it. Keys are escaped like strings. */
void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);

/* Values. jw_str(NULL) writes null. A string that is not valid UTF-8 fails
 * the text, as json_dumps does. */
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
/* A real as json_dumps writes it with JSON_REAL_PRECISION(precision) (0 = 17
 * significant digits): "%.*g", with ".0" added when it would read as an
 * integer. */
void jw_real(struct jw *w, double v, int precision);
/* bp / 10000 as jw_real(bp / 10000.0, 6) writes it ("0.9083", "0.9", "1.0"),
 * without snprintf: rates and thresholds, thousands of them per coverage. */
void jw_bp(struct jw *w, unsigned long long bp);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* A jansson value, byte for byte as json_dumps(v, JSON_COMPACT |
 * JSON_REAL_PRECISION(precision)) writes it (objects in insertion order).
 * v is borrowed. */
void jw_json(struct jw *w, const json_t *v, int precision);
/* Bytes copied as they are (the caller vouches that they are JSON). */
void jw_raw(struct jw *w, const char *s, size_t n);
/* A value (or the start of one) rendered in advance, with the "," before it
 * that the container needs; the caller writes the rest with jw_raw*. */
void jw_value_raw(struct jw *w, const char *s, size_t n);
/* Digits of v, and bp as jw_bp writes it, with no separator: for text the
 * caller lays out itself (a pre-rendered object's members, /metrics). */
void jw_raw_int(struct jw *w, long long v);
void jw_raw_bp(struct jw *w, unsigned long long bp);

/* The NUL-terminated text and its length, owned by the writer; NULL when the
 * text failed. */
const char *jw_text(const struct jw *w, size_t *len);

/* Moves the text out as a malloc'd string (the caller frees it) and leaves the
 * writer empty; NULL when the text failed or memory ran out. */
char *jw_take(struct jw *w);

/* json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(precision)) for an object
 * or an array, faster: a new malloc'd string or NULL. */
char *jw_dumps(const json_t *v, int precision);

#endif
