/* The only place Redis key names are built. Every per-county key starts with
 * the county prefix "gc:{<code>}" (one Cluster slot per county); the few global
 * facts live under "gc:{@}" ('@' never appears in a county code). The Lua
 * scripts derive sub-keys from the prefix they are given; docs/design.md lists
 * them all. */
#ifndef GRADCOVER_STORE_KEYS_H
#define GRADCOVER_STORE_KEYS_H

#include <stddef.h>

/* Enough for "gc:{" + county + "}:" + a 64-char id + a suffix. */
#define KEY_MAX 192

/* "gc:{611002}" */
void key_county(char *out, size_t n, const char *county);
/* "gc:{611002}:cnt": the county's counters hash (periods, contacts by service). */
void key_county_counters(char *out, size_t n, const char *county);
/* "gc:{611002}:g:<id>": one graduate. */
void key_graduate(char *out, size_t n, const char *county, const char *id);
/* "gc:{611002}:contacts:<id>": the graduate's contacts, newest first. */
void key_contacts(char *out, size_t n, const char *county, const char *id);
/* "gc:{@}": the global prefix (graduate id -> county, national-ID HMAC index). */
void key_global(char *out, size_t n);
/* "gc:{@}:gid:<id>": the county of a graduate id. */
void key_graduate_county(char *out, size_t n, const char *id);
/* "gc:{@}:nids:<hmac>": every graduate id registered with a national-ID HMAC. */
void key_nid_index(char *out, size_t n, const char *hmac);
/* "gc:{611002}:episodes": alert episode ids by start time. */
void key_alert_episodes(char *out, size_t n, const char *county);
/* "gc:{611002}:ep:<episode>": one alert episode. */
void key_alert_episode(char *out, size_t n, const char *county, const char *episode);
/* "gc:{611002}:outbox": the county's notification stream. */
void key_outbox(char *out, size_t n, const char *county);
/* "gc:{611002}:dlv:<event_id>": each receiver's delivery record of an event. */
void key_delivery(char *out, size_t n, const char *county, const char *event_id);
/* "gc:{611002}:dlvx:<episode>": the episode's events that have records, by
 * their first record. */
void key_delivery_index(char *out, size_t n, const char *county, const char *episode);

/* "gc:{@}:tok:<sha256 hex>": an API-issued token's facts (never the token). */
void key_token(char *out, size_t n, const char *sha_hex);
/* "gc:{611002}:audit" (or "gc:{@}:audit" for county NULL): the audit stream. */
void key_audit(char *out, size_t n, const char *county);

#endif
