/* Request bodies and headers of the write endpoints, validated without I/O
 * (see validate.h). The field primitives (verr_text, verr_time, verr) live in
 * verr.c; this file holds each endpoint's rules. */
#include "gradcover/domain/validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "gradcover/core/timeutil.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/phone.h"
#include "gradcover/domain/services.h"
#include "gradcover/domain/verr.h"

/* Free-text limits, in characters: far above real values (a name is 2-4
 * characters, a school's or major's official name under 40), low enough to
 * keep a graduate's hash small. The note's 500 is SPEC §6. */
#define NAME_MAX_CHARS 64
#define SCHOOL_MAX_CHARS 100
#define REASON_MAX_CHARS 200
#define NOTE_MAX_CHARS 500
/* Longer than any GB 11643 number (18), so that a pasted number with spaces
 * gets the national-ID message rather than a length one. */
#define NATID_FIELD_MAX_CHARS 32
/* Graduation years: the oldest plausible registrant, and next year's class
 * registering before it graduates. */
#define GRADUATION_YEAR_MIN 1950

json_t *validate_body(const char *data, size_t len, char *msg, size_t msglen)
{
    json_error_t jerr;
    json_t *root =
        json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        /* jansson's error text quotes the input; report only the position. */
        snprintf(msg, msglen, "malformed JSON near line %d, column %d", jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(msg, msglen, "the body must be a JSON object");
        return NULL;
    }
    return root;
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(*set, s) == 0)
            return true;
    return false;
}

int validate_graduate(json_t *body, const struct config *cfg, const char *default_county,
                      int64_t now_ms, struct graduate_in *out, struct verr *v)
{
    static const char *const known[] = {
        "id",    "county",          "name",          "national_id", "phone", "school",
        "major", "graduation_year", "registered_at", "assigned_to", NULL};
    memset(out, 0, sizeof *out);
    verr_unknown_keys(body, known, v);
    verr_text(body, "id", GC_ID_MAX, false, &out->id, v);
    if (out->id && !id_valid(out->id))
        verr_add(v, "id", "must match [A-Za-z0-9._-]{1,64}");
    verr_text(body, "county", GC_COUNTY_MAX, default_county == NULL, &out->county, v);
    if (!out->county)
        out->county = default_county; /* any error about the field is already in v */
    verr_text(body, "name", NAME_MAX_CHARS, true, &out->name, v);
    const char *natid;
    verr_text(body, "national_id", NATID_FIELD_MAX_CHARS, true, &natid, v);
    verr_text(body, "phone", 20, false, &out->phone, v);
    if (out->phone && !phone_valid(out->phone))
        verr_add(v, "phone", "must be 5..20 digits, '-' or a leading '+'");
    verr_text(body, "school", SCHOOL_MAX_CHARS, false, &out->school, v);
    verr_text(body, "major", SCHOOL_MAX_CHARS, false, &out->major, v);
    verr_text(body, "assigned_to", GC_ID_MAX, false, &out->assigned_to, v);
    json_t *gy = json_object_get(body, "graduation_year");
    int this_year = period_of(now_ms, cfg->utc_offset_minutes);
    if (gy && !json_is_null(gy)) {
        if (!json_is_integer(gy) || json_integer_value(gy) < GRADUATION_YEAR_MIN ||
            json_integer_value(gy) > this_year + 1)
            verr_add(v, "graduation_year", "must be a year between 1950 and next year");
        else
            out->graduation_year = (int)json_integer_value(gy);
    }
    verr_time(body, "registered_at", now_ms, now_ms, &out->registered_at, v);
    if (natid) {
        enum natid_err e =
            natid_validate(natid, strlen(natid), (long)(now_ms / 86400000), out->national_id);
        if (e != NATID_OK)
            verr_add(v, "national_id", natid_strerror(e));
    }
    /* Ids end up in key names, URLs, logs and the audit trail: never a
     * national ID or a phone number there (PIPL data minimisation). */
    enum id_personal pd =
        out->id && id_valid(out->id) ? id_personal_data(out->id) : ID_PERSONAL_NONE;
    if (pd == ID_PERSONAL_NATID)
        verr_add(v, "id", "must not be a national ID");
    else if (pd == ID_PERSONAL_MOBILE)
        verr_add(v, "id", "must not be a phone number");
    if (out->county && !config_county(cfg, out->county))
        verr_add(v, "county", "unknown county");
    return verr_any(v) ? -1 : 0;
}

/* An optional text field of a correction: absent, null (cleared) or a value. */
static void patch_text(json_t *body, const char *key, size_t max, const char **out, bool *clear,
                       struct verr *v)
{
    json_t *j = json_object_get(body, key);
    *clear = j && json_is_null(j);
    if (!*clear)
        verr_text(body, key, max, false, out, v);
}

void validate_flags_text(unsigned flags, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < GC_NFLAGS; i++)
        if (flags & (1u << i)) {
            int w = snprintf(out + used, n - used, "%s%s", used ? "," : "", gc_flags[i]);
            if (w < 0 || (size_t)w >= n - used)
                return;
            used += (size_t)w;
        }
}

int validate_graduate_patch(json_t *body, const struct config *cfg, int64_t now_ms,
                            struct graduate_patch_in *out, struct verr *v)
{
    static const char *const known[] = {
        "name", "phone", "school", "major", "graduation_year", "flags", "assigned_to", NULL};
    char msg[160];
    memset(out, 0, sizeof *out);
    /* The two fields a correction may not touch are named; the rest of the
     * unknown ones only counted (verr_unknown_keys). */
    json_t *rest = json_copy(body);
    if (!rest) {
        verr_add(v, "_body", "out of memory");
        return -1;
    }
    static const char *const fixed[] = {"national_id", "county", "id"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (json_object_get(body, fixed[i])) {
            verr_add(v, fixed[i], "cannot be corrected: void the registration and register again");
            json_object_del(rest, fixed[i]);
        }
    verr_unknown_keys(rest, known, v);
    json_decref(rest);
    json_t *name = json_object_get(body, "name");
    if (name && json_is_null(name))
        verr_add(v, "name", "must not be removed");
    else
        verr_text(body, "name", NAME_MAX_CHARS, false, &out->name, v);
    patch_text(body, "phone", 20, &out->phone, &out->clear_phone, v);
    if (out->phone && !phone_valid(out->phone))
        verr_add(v, "phone", "must be 5..20 digits, '-' or a leading '+'");
    patch_text(body, "school", SCHOOL_MAX_CHARS, &out->school, &out->clear_school, v);
    patch_text(body, "major", SCHOOL_MAX_CHARS, &out->major, &out->clear_major, v);
    patch_text(body, "assigned_to", GC_ID_MAX, &out->assigned_to, &out->clear_assigned_to, v);
    json_t *gy = json_object_get(body, "graduation_year");
    int this_year = period_of(now_ms, cfg->utc_offset_minutes);
    if (gy && json_is_null(gy))
        out->clear_graduation_year = true;
    else if (gy) {
        if (!json_is_integer(gy) || json_integer_value(gy) < GRADUATION_YEAR_MIN ||
            json_integer_value(gy) > this_year + 1)
            verr_add(v, "graduation_year", "must be a year between 1950 and next year");
        else
            out->graduation_year = (int)json_integer_value(gy);
    }
    json_t *flags = json_object_get(body, "flags");
    if (flags) {
        out->set_flags = true;
        size_t i;
        json_t *f;
        snprintf(msg, sizeof msg, "must be an array of distinct names from %s", gc_flags_text);
        if (!json_is_null(flags) && !json_is_array(flags))
            verr_add(v, "flags", msg);
        json_array_foreach(flags, i, f)
        {
            int k = json_is_string(f) ? flag_index(json_string_value(f)) : -1;
            if (k < 0 || (out->flags & (1u << k))) {
                verr_add(v, "flags", msg);
                break;
            }
            out->flags |= 1u << k;
        }
    }
    return verr_any(v) ? -1 : 0;
}

int validate_transfer(json_t *body, const struct config *cfg, struct transfer_in *out,
                      struct verr *v)
{
    static const char *const known[] = {"county", "reason", NULL};
    memset(out, 0, sizeof *out);
    verr_unknown_keys(body, known, v);
    verr_text(body, "county", GC_COUNTY_MAX, true, &out->county, v);
    if (out->county && !config_county(cfg, out->county))
        verr_add(v, "county", "unknown county");
    verr_text(body, "reason", REASON_MAX_CHARS, false, &out->reason, v);
    return verr_any(v) ? -1 : 0;
}

int validate_status(json_t *body, int64_t now_ms, struct status_in *out, struct verr *v)
{
    static const char *const known[] = {"status", "at", "reason", NULL};
    static const char *const statuses[] = {"seeking", "employed", "not_seeking", "withdrawn", NULL};
    memset(out, 0, sizeof *out);
    verr_unknown_keys(body, known, v);
    verr_text(body, "status", 16, true, &out->status, v);
    if (out->status && !one_of(out->status, statuses))
        verr_add(v, "status", "must be one of seeking, employed, not_seeking, withdrawn");
    verr_text(body, "reason", REASON_MAX_CHARS, false, &out->reason, v);
    verr_time(body, "at", now_ms, now_ms, &out->at, v);
    return verr_any(v) ? -1 : 0;
}

int validate_contact(json_t *body, int64_t now_ms, struct contact_in *out, struct verr *v)
{
    static const char *const known[] = {"graduate_id", "service", "channel", "outcome",
                                        "occurred_at", "note",    NULL};
    memset(out, 0, sizeof *out);
    verr_unknown_keys(body, known, v);
    verr_text(body, "graduate_id", GC_ID_MAX, true, &out->graduate_id, v);
    if (out->graduate_id && !id_valid(out->graduate_id))
        verr_add(v, "graduate_id", "must match [A-Za-z0-9._-]{1,64}");
    verr_text(body, "service", 32, true, &out->service, v);
    char msg[256];
    if (out->service && service_index(out->service) < 0) {
        snprintf(msg, sizeof msg, "must be one of %s", gc_services_text);
        verr_add(v, "service", msg);
    }
    verr_text(body, "channel", 16, false, &out->channel, v);
    if (out->channel && channel_index(out->channel) < 0) {
        snprintf(msg, sizeof msg, "must be one of %s", gc_channels_text);
        verr_add(v, "channel", msg);
    }
    if (!out->channel)
        out->channel = GC_DEFAULT_CHANNEL;
    verr_text(body, "outcome", 16, false, &out->outcome, v);
    if (out->outcome && outcome_index(out->outcome) < 0) {
        snprintf(msg, sizeof msg, "must be one of %s", gc_outcomes_text);
        verr_add(v, "outcome", msg);
    }
    if (!out->outcome)
        out->outcome = gc_outcomes[GC_OUTCOME_REACHED]; /* SPEC §12: existing clients */
    verr_text(body, "note", NOTE_MAX_CHARS, false, &out->note, v);
    verr_time(body, "occurred_at", now_ms, now_ms, &out->occurred_at, v);
    return verr_any(v) ? -1 : 0;
}

int validate_void(json_t *body, struct void_in *out, struct verr *v)
{
    static const char *const known[] = {"reason", NULL};
    memset(out, 0, sizeof *out);
    verr_unknown_keys(body, known, v);
    verr_text(body, "reason", VALIDATE_VOID_REASON_MAX, true, &out->reason, v);
    return verr_any(v) ? -1 : 0;
}

int validate_ack(json_t *body, struct ack_in *out, struct verr *v)
{
    static const char *const known[] = {"comment", NULL};
    memset(out, 0, sizeof *out);
    if (!body)
        return 0;
    verr_unknown_keys(body, known, v);
    verr_text(body, "comment", VALIDATE_ACK_COMMENT_MAX, false, &out->comment, v);
    return verr_any(v) ? -1 : 0;
}

/* An RFC 3339 time at key into *out; false (with the error added) when it is
 * there and malformed; *present tells whether it is there at all. */
static bool read_time(json_t *body, const char *key, int64_t *out, bool *present, struct verr *v)
{
    json_t *j = json_object_get(body, key);
    *present = j && !json_is_null(j);
    if (!*present)
        return true;
    if (!json_is_string(j) || strlen(json_string_value(j)) != json_string_length(j) ||
        !rfc3339_parse(json_string_value(j), out)) {
        verr_add(v, key, "must be an RFC 3339 time with offset, e.g. 2026-03-05T10:30:00+08:00");
        return false;
    }
    return true;
}

int validate_silence(json_t *body, const struct config *cfg, int64_t now_ms, struct silence_in *out,
                     struct verr *v)
{
    static const char *const known[] = {"county", "starts_at", "ends_at", "reason", NULL};
    memset(out, 0, sizeof *out);
    verr_unknown_keys(body, known, v);
    verr_text(body, "county", GC_COUNTY_MAX, true, &out->county, v);
    if (out->county && strcmp(out->county, SILENCE_ALL_COUNTIES) != 0 &&
        !config_county(cfg, out->county))
        verr_add(v, "county", "must be a configured county's code, or \"*\" for every county");
    verr_text(body, "reason", VALIDATE_SILENCE_REASON_MAX, true, &out->reason, v);
    int64_t latest = now_ms + VALIDATE_SILENCE_AHEAD_MAX_MS;
    bool has_start, has_end;
    out->starts_at = now_ms;
    bool start_ok = read_time(body, "starts_at", &out->starts_at, &has_start, v);
    if (has_start && start_ok) {
        if (out->starts_at < now_ms - VERR_CLOCK_SKEW_MS)
            verr_add(v, "starts_at", "must not be in the past");
        else if (out->starts_at >= latest)
            verr_add(v, "starts_at", "must be less than 90 days ahead");
        else if (out->starts_at < now_ms)
            out->starts_at = now_ms; /* a client clock a little behind ours */
    }
    bool end_ok = read_time(body, "ends_at", &out->ends_at, &has_end, v);
    if (!has_end)
        verr_add(v, "ends_at", "is required");
    else if (end_ok && out->ends_at > latest)
        verr_add(v, "ends_at", "must be at most 90 days ahead");
    else if (end_ok && start_ok && out->ends_at <= out->starts_at)
        verr_add(v, "ends_at", has_start ? "must be after starts_at" : "must be in the future");
    return verr_any(v) ? -1 : 0;
}

bool validate_idempotency_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > VALIDATE_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return false;
    return true;
}

bool validate_request_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && !strchr("._:-", s[n]))
            return false;
    /* It is logged and kept in the audit trail: not a national ID or a phone. */
    return n >= 1 && n <= GC_REQID_MAX && id_personal_data(s) == ID_PERSONAL_NONE;
}
