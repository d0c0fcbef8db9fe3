/* The education bureau's CSV as `gradcover import` reads it: the bytes
 * decoded to UTF-8 (UTF-8 with or without BOM, or GB18030, what Excel in
 * China saves), then split into records by RFC 4180 (quoted fields, doubled
 * quotes, CRLF or LF, newlines inside quotes). Pure: no I/O. */
#ifndef GRADCOVER_CLI_CSV_H
#define GRADCOVER_CLI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gradcover/common.h"

enum csv_encoding {
    CSV_ENC_AUTO,    /* UTF-8 when the bytes are valid UTF-8, else GB18030 */
    CSV_ENC_UTF8,    /* invalid UTF-8 is an error */
    CSV_ENC_GB18030, /* converted with glibc's iconv */
};

/* Parses "utf-8", "utf8", "gb18030" (any case); false for anything else. */
bool csv_encoding_parse(const char *s, enum csv_encoding *out);

/* True when the len bytes at s are well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
bool csv_utf8_valid(const char *s, size_t len);

/* Decodes len bytes at in to UTF-8 without a BOM. Returns a new
 * NUL-terminated buffer (the caller frees) with its length in *outlen and
 * the encoding found in *found, or NULL with a message in err. */
char *csv_decode(const char *in, size_t len, enum csv_encoding enc, size_t *outlen,
                 enum csv_encoding *found, char *err, size_t errlen) GC_MUSTCHECK;

/* A cursor over decoded text (borrowed; must outlive the reader). */
struct csv_reader {
    const char *p, *end;
    size_t record; /* 1-based number of the last record read (the header is 1) */
};

/* One record: nfields fields, each a NUL-terminated string in buf (owned by
 * the record; csv_record_free). */
struct csv_record {
    char **fields;
    size_t nfields, cap;
    size_t *offs; /* each field's start in buf while the record is read */
    char *buf;
    size_t buflen, bufcap;
};

void csv_reader_init(struct csv_reader *r, const char *text, size_t len);

/* Reads the next record into rec (reusing its storage). Returns 1 with a
 * record, 0 at the end of the text, -1 on a quote left open (err set). A
 * blank line is a record of one empty field. */
int csv_next(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen) GC_MUSTCHECK;

/* True when every field of rec is empty (a blank line, or ",,,"). */
bool csv_record_blank(const struct csv_record *rec);

void csv_record_free(struct csv_record *rec);

/* Appends s to f as one CSV field (quoted when it holds a comma, quote, CR
 * or LF). */
void csv_write_field(FILE *f, const char *s);

#endif
