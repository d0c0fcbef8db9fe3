/* Stored contacts as the API shows them (see contact_view.h). */
#include "gradcover/api/contact_view.h"

#include <stdio.h>
#include <string.h>

#include "gradcover/core/jsonx.h"
#include "gradcover/domain/contact_record.h"
#include "gradcover/domain/services.h"

/* A record of the first versions, JSON: {id, service, channel, occurred_at,
 * recorded_at, period, counselor, note?} (times in ms), and voided_at,
 * voided_by, void_reason? once voided (prelude.lua, contact_format). Read
 * into the positional reader's shape; the strings stay in j. */
static bool from_json(json_t *j, struct contact_rec *c, const char **service, const char **channel)
{
    memset(c, 0, sizeof *c);
    json_t *id = json_object_get(j, "id"), *counselor = json_object_get(j, "counselor");
    json_t *note = json_object_get(j, "note"), *by = json_object_get(j, "voided_by");
    json_t *reason = json_object_get(j, "void_reason");
    *service = json_string_value(json_object_get(j, "service"));
    *channel = json_string_value(json_object_get(j, "channel"));
    if (!json_is_string(id) || !json_is_string(counselor) || !*service || !*channel ||
        !json_is_integer(json_object_get(j, "occurred_at")))
        return false;
    c->id = json_string_value(id);
    c->id_len = json_string_length(id);
    c->occurred_at = json_integer_value(json_object_get(j, "occurred_at"));
    json_t *rec = json_object_get(j, "recorded_at");
    c->recorded_at = json_is_integer(rec) ? json_integer_value(rec) : c->occurred_at;
    c->period = (int)json_integer_value(json_object_get(j, "period"));
    c->counselor = json_string_value(counselor);
    c->counselor_len = json_string_length(counselor);
    if (json_is_string(note)) {
        c->note = json_string_value(note);
        c->note_len = json_string_length(note);
    }
    c->voided_at = json_integer_value(json_object_get(j, "voided_at"));
    if (json_is_string(by)) {
        c->voided_by = json_string_value(by);
        c->voided_by_len = json_string_length(by);
    }
    if (json_is_string(reason)) {
        c->reason = json_string_value(reason);
        c->reason_len = json_string_length(reason);
    }
    return true;
}

json_t *contact_view(const char *gid, const char *text, size_t len, int offset_min,
                     int64_t *occurred_ms)
{
    struct contact_rec c;
    const char *service, *channel;
    json_t *j = NULL;
    if (len > 0 && text[0] == '{') {
        j = json_loadb(text, len, 0, NULL);
        if (!j || !from_json(j, &c, &service, &channel)) {
            json_decref(j);
            return NULL;
        }
    } else {
        if (!contact_rec_parse(text, len, &c))
            return NULL;
        service = gc_services[c.svc];
        channel = gc_channels[c.ch];
    }
    char id[GC_CONTACT_ID_MAX + 1], period[16];
    snprintf(id, sizeof id, "%s%c%.*s", gid, CONTACT_ID_SEP, (int)c.id_len, c.id);
    snprintf(period, sizeof period, "%d", c.period);
    json_t *v = json_object();
    json_t *counselor = json_stringn(c.counselor, c.counselor_len);
    json_t *note = c.note_len ? json_stringn(c.note, c.note_len) : NULL;
    json_t *voided = c.voided_at ? json_object() : NULL;
    if (!v || !counselor || (c.note_len && !note) || (c.voided_at && !voided)) {
        json_decref(v);
        json_decref(counselor);
        json_decref(note);
        json_decref(voided);
        json_decref(j);
        return NULL;
    }
    json_object_set_new(v, "id", json_string(id));
    json_object_set_new(v, "service", json_string(service));
    json_object_set_new(v, "channel", json_string(channel));
    json_object_set_new(v, "outcome", json_string(gc_outcomes[c.outcome]));
    json_object_set_new(v, "occurred_at", jsonx_time(offset_min, c.occurred_at));
    json_object_set_new(v, "period", json_string(period));
    json_object_set_new(v, "recorded_at", jsonx_time(offset_min, c.recorded_at));
    json_object_set_new(v, "counselor", counselor);
    if (note)
        json_object_set_new(v, "note", note);
    if (voided) {
        json_object_set_new(voided, "at", jsonx_time(offset_min, c.voided_at));
        json_object_set_new(voided, "by",
                            json_stringn(c.voided_by ? c.voided_by : "", c.voided_by_len));
        if (c.reason_len)
            json_object_set_new(voided, "reason", json_stringn(c.reason, c.reason_len));
        json_object_set_new(v, "voided", voided);
    }
    if (occurred_ms)
        *occurred_ms = c.occurred_at;
    json_decref(j);
    return v;
}
