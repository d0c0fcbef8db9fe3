/* Stored contact records and API contact ids (see contact_record.h). */
#include "gradcover/domain/contact_record.h"

#include <ctype.h>
#include <string.h>

#include "gradcover/domain/ids.h"
#include "gradcover/domain/services.h"

/* A decimal field of a record: optional '-' (only where allowed) and 1..18
 * digits (up to 18 digits cannot overflow an int64_t). */
#define NUM_MAX_DIGITS 18

static bool num(const char *s, size_t len, bool negative_ok, int64_t *out)
{
    size_t i = 0;
    bool neg = negative_ok && len > 0 && s[0] == '-';
    i += neg;
    if (len == i || len - i > NUM_MAX_DIGITS)
        return false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* The next '|'-terminated field of [*p, end): its start and length; false
 * when there is no '|' left. */
static bool field(const char **p, const char *end, const char **f, size_t *flen)
{
    const char *bar = memchr(*p, '|', (size_t)(end - *p));
    if (!bar)
        return false;
    *f = *p;
    *flen = (size_t)(bar - *p);
    *p = bar + 1;
    return true;
}

/* The ext field: "o1,v1780000000000,b5,r12". Unknown letters are skipped
 * (an item whose text lives in the tail would need to be known: see the
 * header). */
static bool parse_ext(const char *s, size_t len, struct contact_rec *c, int64_t *vb, int64_t *r)
{
    const char *end = s + len;
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t ilen = comma ? (size_t)(comma - s) : (size_t)(end - s);
        int64_t v;
        if (ilen < 2 || !islower((unsigned char)s[0]) || !num(s + 1, ilen - 1, false, &v))
            return false;
        if (s[0] == 'o') {
            if (v >= GC_NOUTCOMES)
                return false;
            c->outcome = (int)v;
        } else if (s[0] == 'v') {
            c->voided_at = v;
        } else if (s[0] == 'b') {
            *vb = v;
        } else if (s[0] == 'r') {
            *r = v;
        }
        s += ilen + (comma ? 1 : 0);
    }
    return true;
}

bool contact_rec_parse(const char *text, size_t len, struct contact_rec *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || text[0] == '{')
        return false;
    enum { ID, SVC, CH, OCC, REC, PERIOD, NFIELDS };
    const char *f[NFIELDS];
    size_t flen[NFIELDS];
    const char *p = text, *end = text + len;
    for (int i = 0; i < NFIELDS; i++)
        if (!field(&p, end, &f[i], &flen[i]))
            return false;
    int64_t v[NFIELDS] = {0};
    for (int i = SVC; i < NFIELDS; i++)
        if (!num(f[i], flen[i], i == REC, &v[i]))
            return false;
    if (v[SVC] >= GC_NSERVICES || v[CH] >= GC_NCHANNELS || flen[ID] > CONTACT_REC_ID_MAX)
        return false;
    const char *next;
    size_t nlen;
    if (!field(&p, end, &next, &nlen))
        return false;
    int64_t vb = 0, rl = 0, clen;
    if (nlen > 0 && islower((unsigned char)next[0])) {
        if (!parse_ext(next, nlen, out, &vb, &rl) || !field(&p, end, &next, &nlen))
            return false;
    }
    if (!num(next, nlen, false, &clen))
        return false;
    size_t rest = (size_t)(end - p);
    if ((uint64_t)clen + (uint64_t)vb + (uint64_t)rl > rest)
        return false;
    out->id = f[ID];
    out->id_len = flen[ID];
    out->svc = (int)v[SVC];
    out->ch = (int)v[CH];
    out->occurred_at = v[OCC];
    out->recorded_at = v[OCC] + v[REC];
    out->period = (int)v[PERIOD];
    out->counselor = p;
    out->counselor_len = (size_t)clen;
    out->note = p + clen;
    out->note_len = rest - (size_t)(clen + vb + rl);
    out->voided_by = out->note + out->note_len;
    out->voided_by_len = (size_t)vb;
    out->reason = out->voided_by + vb;
    out->reason_len = (size_t)rl;
    return true;
}

bool contact_id_split(const char *id, char *gid, char *own)
{
    const char *sep = strchr(id, CONTACT_ID_SEP);
    if (!sep || sep == id || (size_t)(sep - id) > GC_ID_MAX)
        return false;
    size_t olen = strlen(sep + 1);
    if (olen == 0 || olen > CONTACT_REC_ID_MAX)
        return false;
    for (size_t i = 0; i < olen; i++)
        if (!isalnum((unsigned char)sep[1 + i]))
            return false;
    memcpy(gid, id, (size_t)(sep - id));
    gid[sep - id] = '\0';
    memcpy(own, sep + 1, olen + 1);
    return id_valid(gid);
}
