/* POST /api/v1/graduates/{id}/transfer: a seeking graduate moves to another
 * county (SPEC §12; docs/design.md, "Transfers"). Step 1 runs here under the
 * request's token and deadline; steps 2-4 are store/transfer.c's chain,
 * which the repair job (jobs/transfers.c) also runs for a transfer left
 * half-done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcover/alerts/notify.h"
#include "gradcover/api/call.h"
#include "gradcover/api/graduate_view.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/locate.h"
#include "gradcover/api/trail.h"
#include "gradcover/app.h"
#include "gradcover/core/timeutil.h"
#include "gradcover/domain/alert.h"
#include "gradcover/domain/config.h"
#include "gradcover/domain/ids.h"
#include "gradcover/domain/roles.h"
#include "gradcover/domain/validate.h"
#include "gradcover/domain/verr.h"
#include "gradcover/http/request.h"
#include "gradcover/store/keys.h"
#include "gradcover/store/transfer.h"

/* Random characters after the time in a transfer id: two transfers of one
 * graduate in the same millisecond, or on two servers, stay apart. */
#define XID_NONCE_CHARS 8
/* Where the id of a 400 id_is_personal_data was (request.h). */
#define ID_IN_PATH "the graduate id in the path"

struct xfer_state {
    char to[GC_COUNTY_MAX + 1];
    char reason[4 * 200 + 1]; /* UTF-8, validate_transfer's 200 characters */
    bool has_reason;
    json_t *audit; /* step 1's audit object, for step 2's entry; owned */
};

static void xfer_state_free(void *p)
{
    struct xfer_state *x = p;
    if (x)
        json_decref(x->audit);
    free(x);
}

static void reply_pending(struct req *r)
{
    http_reply_error(r, 409, "transfer_pending",
                     "the graduate is being transferred to another county; retry", NULL);
}

static void on_finished(void *arg, enum store_status st, const char *err, json_t *dest)
{
    struct req *r = arg;
    const struct xfer_state *x = r->state;
    if (st != STORE_OK) {
        /* Step 1 holds the intent: a retry resumes it, and the repair job
         * finishes it if nobody retries. */
        (void)err;
        http_reply_unavailable(r);
        return;
    }
    notifier_transition(r->app->notifier, r->id, x->to,
                        json_string_value(json_object_get(dest, "transition")));
    json_t *g = graduate_view(r, json_object_get(dest, "graduate"));
    http_reply_json(r, 200, g);
}

static void on_out(struct req *r, enum store_status st, json_t *res)
{
    if (http_store_ok_or_reply(r, st) < 0)
        return;
    struct xfer_state *x = r->state;
    const char *err = json_string_value(json_object_get(res, "err"));
    if (err) {
        if (strcmp(err, "not_found") == 0)
            http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        else if (strcmp(err, "transfer_pending") == 0)
            reply_pending(r);
        else if (strcmp(err, "not_seeking") == 0)
            http_reply_error(r, 409, "not_seeking", "only a seeking graduate is transferred", NULL);
        else if (strcmp(err, "erased") == 0)
            http_reply_error(r, 409, "erased",
                             "this graduate's personal data was erased; register the person again",
                             NULL);
        else
            http_reply_error(r, 500, "internal", "unexpected store answer", NULL);
        return;
    }
    if (json_is_true(json_object_get(res, "already"))) {
        /* In the destination already (a retry after the move finished). */
        http_reply_json(r, 200, graduate_view(r, json_object_get(res, "graduate")));
        return;
    }
    notifier_transition(r->app->notifier, r->id, json_string_value(json_object_get(res, "from")),
                        json_string_value(json_object_get(res, "transition")));
    if (transfer_finish(r->app->store, r->app->cfg, res, x->audit, app_now_ms(r->app), on_finished,
                        r) < 0)
        http_reply_unavailable(r);
}

static void transfer_located(struct req *r, const char *county)
{
    struct xfer_state *x = r->state;
    const struct config *cfg = r->app->cfg;
    int64_t now = app_now_ms(r->app);
    int off = cfg->utc_offset_minutes;
    char nonce[XID_NONCE_CHARS + 1], xid[48];
    if (app_random_id(r->app, nonce, XID_NONCE_CHARS) < 0) {
        http_reply_error(r, 500, "internal", "no random bytes", NULL);
        return;
    }
    /* Unique per transfer (steps 2 and 4 recognise their own by it); the
     * order of transfers is the record's own count (xn), not this time. */
    snprintf(xid, sizeof xid, "%lld-%s", (long long)now, nonce);
    json_t *args =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:o}", "id", r->params[0], "to", x->to,
                  "xid", xid, "actor", r->who.name, "now", (json_int_t)now, "cur",
                  period_of(now, off), "off", off, "alert", alert_params_json(cfg, county));
    if (args && x->has_reason)
        json_object_set_new(args, "reason", json_string(x->reason));
    json_t *pk = config_package_json(cfg);
    if (args && pk)
        json_object_set_new(args, "pk", pk);
    else
        json_decref(pk);
    trail_attach(r, args, "graduate.transfer_out", r->params[0]);
    json_t *au = args ? json_object_get(args, "audit") : NULL;
    x->audit = au ? json_deep_copy(au) : NULL;
    if (!args || !x->audit) {
        json_decref(args);
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    char key[KEY_MAX];
    key_county(key, sizeof key, county);
    call_script(r, "transfer_out", key, args, on_out); /* takes args */
}

void api_graduate_transfer(struct req *r)
{
    if (!id_valid(r->params[0])) {
        http_reply_error(r, 404, "not_found", "no such graduate", NULL);
        return;
    }
    /* Admins and the city leader: a county's leader sees one county only. */
    if (r->who.role == ROLE_LEADER && r->who.county[0]) {
        http_reply_error(r, 403, "forbidden", "only admins and the city leader transfer graduates",
                         NULL);
        return;
    }
    if (http_id_not_personal_or_reply(r, r->params[0], ID_IN_PATH) < 0 ||
        http_read_json_or_reply(r) < 0)
        return;
    struct verr v = {0};
    struct transfer_in in;
    if (validate_transfer(r->body, r->app->cfg, &in, &v) < 0) {
        http_reply_verr(r, &v);
        return;
    }
    struct xfer_state *x = calloc(1, sizeof *x);
    if (!x) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    r->state = x;
    r->state_free = xfer_state_free;
    snprintf(x->to, sizeof x->to, "%s", in.county);
    if (in.reason) {
        snprintf(x->reason, sizeof x->reason, "%s", in.reason);
        x->has_reason = true;
    }
    locate_graduate(r, r->params[0], false, transfer_located);
}
