/* POST /api/v1/maintenance/rewrite-aof (admin): has Redis rewrite its
 * append-only file, so that values erased since the last rewrite leave it
 * (docs/security.md §3, "Erasure, the AOF and backups"). Redis rewrites in a
 * child process; the answer comes at once and says whether a rewrite that
 * starts after this request is under way. */
#include <string.h>

#include "gradcover/api/call.h"
#include "gradcover/api/handlers.h"
#include "gradcover/api/trail.h"
#include "gradcover/http/request.h"
#include "gradcover/store/store.h"

/* Redis's refusal while a rewrite runs (aof.c, bgrewriteaofCommand). */
#define REWRITE_RUNNING "ERR Background append only file rewriting already in progress"

static void on_rewrite(struct req *r, enum store_status st, json_t *res)
{
    const char *text = json_string_value(res);
    if (st == STORE_FAILED && text && strcmp(text, REWRITE_RUNNING) == 0) {
        /* It forked before this request, perhaps before the erasures the
         * caller has in mind: only a rewrite that starts later removes them. */
        trail_read(r, NULL, "maintenance.rewrite_aof", "", "in_progress");
        http_reply_error(r, 409, "rewrite_in_progress",
                         "an AOF rewrite is already running and may predate recent erasures; "
                         "ask again when it has finished",
                         NULL);
        return;
    }
    if (st != STORE_OK) {
        trail_read(r, NULL, "maintenance.rewrite_aof", "", "failed");
        http_reply_unavailable(r);
        return;
    }
    /* "... started", or "... scheduled": it starts when the child process
     * Redis is running (an RDB save) has finished. Either way it forks after
     * this request. */
    const char *state = text && strstr(text, "scheduled") ? "scheduled" : "started";
    trail_read(r, NULL, "maintenance.rewrite_aof", "", state);
    http_reply_json(r, 202, json_pack("{s:s}", "aof_rewrite", state));
}

void api_rewrite_aof(struct req *r)
{
    call_command(r, 1, (const char *[]){"BGREWRITEAOF"}, on_rewrite);
}
