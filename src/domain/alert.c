/* Alert states and parameters (see alert.h). */
#include "gradcover/domain/alert.h"

#include <string.h>

#include "gradcover/core/jsonw.h"
#include "gradcover/domain/config.h"

const char *alert_state_name(enum alert_state s)
{
    switch (s) {
    case ALERT_OK:
        return "ok";
    case ALERT_PENDING:
        return "pending";
    case ALERT_FIRING:
        return "firing";
    case ALERT_UNKNOWN:
        break;
    }
    return NULL;
}

enum alert_state alert_state_parse(const char *s, size_t len)
{
    for (int st = ALERT_OK; st <= ALERT_FIRING; st++) {
        const char *name = alert_state_name((enum alert_state)st);
        if (s && len == strlen(name) && memcmp(s, name, len) == 0)
            return (enum alert_state)st;
    }
    return ALERT_UNKNOWN;
}

void alert_params_write(struct jw *w, const struct config *cfg, size_t i)
{
    jw_key(w, "alert");
    jw_obj(w);
    jw_key(w, "threshold_bp");
    jw_int(w, cfg->counties[i].threshold_bp);
    jw_key(w, "clear_bp");
    jw_int(w, cfg->alerts.clear_margin_bp);
    jw_key(w, "for_ms");
    jw_int(w, (long long)cfg->alerts.for_seconds * 1000);
    jw_obj_end(w);
}

json_t *alert_params_json(const struct config *cfg, const char *county)
{
    const struct county_cfg *cc = config_county(cfg, county);
    if (!cc)
        return NULL;
    return json_pack("{s:i, s:i, s:I}", "threshold_bp", (int)cc->threshold_bp, "clear_bp",
                     (int)cfg->alerts.clear_margin_bp, "for_ms",
                     (json_int_t)cfg->alerts.for_seconds * 1000);
}
