/* The alert of SPEC §7 as C sees it: the states a county's alert can be in
 * (the state machine itself runs inside the write scripts and alert_eval.lua,
 * src/store/scripts/lib/prelude.lua), and the parameters every script
 * evaluates it with. Pure. */
#ifndef GRADCOVER_DOMAIN_ALERT_H
#define GRADCOVER_DOMAIN_ALERT_H

#include <stddef.h>

#include <jansson.h>

struct config;
struct jw;

enum alert_state { ALERT_UNKNOWN = -1, ALERT_OK = 0, ALERT_PENDING, ALERT_FIRING };

/* "ok", "pending", "firing"; NULL for ALERT_UNKNOWN. */
const char *alert_state_name(enum alert_state s);

/* The state stored as text (len bytes, not NUL-terminated); ALERT_UNKNOWN
 * for anything else or NULL. */
enum alert_state alert_state_parse(const char *s, size_t len);

/* Writes "alert": {threshold_bp, clear_bp, for_ms} for county i of cfg into
 * an open object: what a write script needs to evaluate the county's alert. */
void alert_params_write(struct jw *w, const struct config *cfg, size_t i);

/* The same object as a new reference; NULL for an unknown county. */
json_t *alert_params_json(const struct config *cfg, const char *county);

#endif
