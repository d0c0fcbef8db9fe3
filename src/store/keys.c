/* Redis key names. Layout and rationale: docs/design.md. */
#include "gradcover/store/keys.h"

#include <stdio.h>

void key_county(char *out, size_t n, const char *county)
{
    snprintf(out, n, "gc:{%s}", county);
}

void key_county_counters(char *out, size_t n, const char *county)
{
    snprintf(out, n, "gc:{%s}:cnt", county);
}

void key_graduate(char *out, size_t n, const char *county, const char *id)
{
    snprintf(out, n, "gc:{%s}:g:%s", county, id);
}

void key_contacts(char *out, size_t n, const char *county, const char *id)
{
    snprintf(out, n, "gc:{%s}:contacts:%s", county, id);
}

void key_global(char *out, size_t n)
{
    snprintf(out, n, "gc:{@}");
}

void key_graduate_county(char *out, size_t n, const char *id)
{
    snprintf(out, n, "gc:{@}:gid:%s", id);
}

void key_nid_index(char *out, size_t n, const char *hmac)
{
    snprintf(out, n, "gc:{@}:nids:%s", hmac);
}

void key_alert_episodes(char *out, size_t n, const char *county)
{
    snprintf(out, n, "gc:{%s}:episodes", county);
}

void key_alert_episode(char *out, size_t n, const char *county, const char *episode)
{
    snprintf(out, n, "gc:{%s}:ep:%s", county, episode);
}

void key_outbox(char *out, size_t n, const char *county)
{
    snprintf(out, n, "gc:{%s}:outbox", county);
}

void key_delivery(char *out, size_t n, const char *county, const char *event_id)
{
    snprintf(out, n, "gc:{%s}:dlv:%s", county, event_id);
}

void key_delivery_index(char *out, size_t n, const char *county, const char *episode)
{
    snprintf(out, n, "gc:{%s}:dlvx:%s", county, episode);
}

void key_token(char *out, size_t n, const char *sha_hex)
{
    snprintf(out, n, "gc:{@}:tok:%s", sha_hex);
}

void key_audit(char *out, size_t n, const char *county)
{
    snprintf(out, n, "gc:{%s}:audit", county ? county : "@");
}
