/* Decoding (UTF-8, BOM, GB18030 through iconv) and RFC 4180 splitting of
 * the import's CSV (see csv.h). Fields keep their bytes as written: no
 * trimming, no type guessing; what a field means is import.c's business. */
#include "gradcover/cli/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool csv_encoding_parse(const char *s, enum csv_encoding *out)
{
    if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
        *out = CSV_ENC_UTF8;
    else if (strcasecmp(s, "gb18030") == 0)
        *out = CSV_ENC_GB18030;
    else
        return false;
    return true;
}

bool csv_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else
            return false;
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

/* GB18030 -> UTF-8 with glibc's iconv; NULL (err set) on an invalid or
 * incomplete sequence, naming its byte offset (never its bytes). */
static char *from_gb18030(const char *in, size_t len, size_t *outlen, char *err, size_t errlen)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) {
        snprintf(err, errlen, "iconv has no GB18030 converter");
        return NULL;
    }
    /* A GB18030 character is 1, 2 or 4 bytes and becomes at most 4 in
     * UTF-8: twice the input plus a little is always enough. */
    size_t cap = len * 2 + 16;
    char *out = malloc(cap);
    if (!out) {
        iconv_close(cd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char *ip = (char *)in, *op = out;
    size_t ileft = len, oleft = cap - 1;
    size_t rc = iconv(cd, &ip, &ileft, &op, &oleft);
    iconv_close(cd);
    if (rc == (size_t)-1) {
        snprintf(err, errlen, "neither UTF-8 nor GB18030 (invalid byte sequence at offset %zu)",
                 (size_t)(ip - in));
        free(out);
        return NULL;
    }
    *op = '\0';
    *outlen = (size_t)(op - out);
    return out;
}

char *csv_decode(const char *in, size_t len, enum csv_encoding enc, size_t *outlen,
                 enum csv_encoding *found, char *err, size_t errlen)
{
    static const char bom[] = "\xef\xbb\xbf";
    char *out;
    size_t n;
    if (enc != CSV_ENC_GB18030 && csv_utf8_valid(in, len)) {
        out = malloc(len + 1);
        if (!out) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        memcpy(out, in, len);
        out[len] = '\0';
        n = len;
        *found = CSV_ENC_UTF8;
    } else if (enc == CSV_ENC_UTF8) {
        snprintf(err, errlen, "not valid UTF-8 (try --encoding gb18030)");
        return NULL;
    } else {
        out = from_gb18030(in, len, &n, err, errlen);
        if (!out)
            return NULL;
        *found = CSV_ENC_GB18030;
    }
    /* The BOM (EF BB BF in UTF-8, 84 31 95 33 in GB18030: U+FEFF either way). */
    if (n >= 3 && memcmp(out, bom, 3) == 0) {
        memmove(out, out + 3, n - 3 + 1);
        n -= 3;
    }
    *outlen = n;
    return out;
}

void csv_reader_init(struct csv_reader *r, const char *text, size_t len)
{
    r->p = text;
    r->end = text + len;
    r->record = 0;
}

static int put_byte(struct csv_record *rec, char c)
{
    if (rec->buflen + 1 >= rec->bufcap) {
        size_t cap = rec->bufcap ? rec->bufcap * 2 : 256;
        char *b = realloc(rec->buf, cap);
        if (!b)
            return -1;
        rec->buf = b;
        rec->bufcap = cap;
    }
    rec->buf[rec->buflen++] = c;
    return 0;
}

/* Ends the current field (NUL in buf) and starts the next one's offset. */
static int end_field(struct csv_record *rec)
{
    if (put_byte(rec, '\0') < 0)
        return -1;
    if (rec->nfields + 1 >= rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 16;
        size_t *o = realloc(rec->offs, cap * sizeof *o);
        if (!o)
            return -1;
        rec->offs = o;
        char **f = realloc(rec->fields, cap * sizeof *f);
        if (!f)
            return -1;
        rec->fields = f;
        rec->cap = cap;
    }
    rec->offs[++rec->nfields] = rec->buflen;
    return 0;
}

int csv_next(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen)
{
    if (r->p >= r->end)
        return 0;
    rec->nfields = 0;
    rec->buflen = 0;
    if (!rec->offs && end_field(rec) < 0) /* allocate; undone just below */
        goto out_nomem;
    rec->nfields = 0;
    rec->buflen = 0;
    rec->offs[0] = 0;
    r->record++;
    bool quoted = false, was_quoted = false;
    const char *p = r->p;
    for (;;) {
        if (p >= r->end) {
            if (quoted) {
                snprintf(err, errlen, "record %zu: a quoted field is not closed", r->record);
                return -1;
            }
            break;
        }
        char c = *p++;
        if (quoted) {
            if (c == '"' && p < r->end && *p == '"') {
                p++;
                if (put_byte(rec, '"') < 0)
                    goto out_nomem;
            } else if (c == '"')
                quoted = false;
            else if (put_byte(rec, c) < 0)
                goto out_nomem;
        } else if (c == '"' && !was_quoted && rec->buflen == rec->offs[rec->nfields]) {
            quoted = was_quoted = true;
        } else if (c == ',') {
            if (end_field(rec) < 0)
                goto out_nomem;
            was_quoted = false;
        } else if (c == '\n' || (c == '\r' && p < r->end && *p == '\n') || c == '\r') {
            if (c == '\r' && p < r->end && *p == '\n')
                p++;
            break;
        } else if (put_byte(rec, c) < 0)
            goto out_nomem;
    }
    r->p = p;
    if (end_field(rec) < 0)
        goto out_nomem;
    for (size_t i = 0; i < rec->nfields; i++)
        rec->fields[i] = rec->buf + rec->offs[i];
    return 1;
out_nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

bool csv_record_blank(const struct csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++)
        if (rec->fields[i][0])
            return false;
    return true;
}

void csv_record_free(struct csv_record *rec)
{
    free(rec->fields);
    free(rec->offs);
    free(rec->buf);
    memset(rec, 0, sizeof *rec);
}

void csv_write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
