/* bench/baseline: the smallest server of gradcoverd's shape -- libevent evhttp,
 * one hiredis async connection, no auth, no validation, no JSON parsing.
 * POST /api/v1/contacts runs the project's own contact script (EVALSHA, same
 * SHA, same KEYS[1] and the same argument object gradcoverd sends for a
 * counselor) and answers a fixed 201 body once Redis has answered.
 *
 * The arguments are fixed except for a counter that makes each call's
 * Idempotency record and contact id unique and rotates the graduate within the
 * county, so that Redis does the same work per call as for gradcoverd's
 * contacts (an idempotency miss, a new contact, an idempotency record, an
 * audit entry).
 *
 * usage: baseline --listen PORT --redis-port PORT --sha SHA --county CODE
 *                 --graduates M [--off MIN] */
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

/* gradcoverd's default audit_retention_days (200) in ms, as trail_attach sends it. */
#define AUDIT_KEEP_MS (200LL * 86400000)

static redisAsyncContext *ac;
static const char *sha;
static char key[64], county[32];
static int graduates = 50, off = 480, cur;
static int64_t now_ms;
static unsigned long long counter, failures;

/* The answer gradcoverd gives, with the shape of its fields (fixed). */
static const char reply_body[] =
    "{\"id\":\"Qx3v9TbLm2Hc7WdK\",\"graduate_id\":\"G100001-000001\",\"county\":\"100001\","
    "\"period\":\"2026\",\"first_in_period\":false,\"coverage\":{\"registered\":300,"
    "\"served\":300,\"rate\":1.0,\"gap\":0}}";

static void on_reply(redisAsyncContext *c, void *r, void *priv)
{
    (void)c;
    struct evhttp_request *req = priv;
    redisReply *rep = r;
    /* contact.lua answers a flat array starting with "ok" (JSON {err} if refused). */
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING || strcmp(rep->element[0]->str, "ok") != 0) {
        if (failures++ < 3)
            fprintf(stderr, "baseline: unexpected reply: %s\n",
                    rep && rep->str ? rep->str : "(not a string)");
        evhttp_send_error(req, 503, NULL);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_reference(b, reply_body, sizeof reply_body - 1, NULL, NULL);
    evhttp_send_reply(req, 201, "Created", b);
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    int one = 1;
    if (bev)
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST ||
        strcmp(evhttp_request_get_uri(req), "/api/v1/contacts") != 0) {
        evhttp_send_error(req, 404, NULL);
        return;
    }
    unsigned long long n = counter++;
    char args[1024];
    int len = snprintf(
        args, sizeof args,
        "{\"id\":\"B%015llu\",\"graduate_id\":\"G%s-%06d\",\"service\":\"job_referral\","
        "\"svc\":2,\"channel\":\"phone\",\"ch\":1,\"occurred_at\":%" PRId64
        ",\"counselor\":\"bench.counselor\","
        "\"now\":%" PRId64 ",\"cur\":%d,\"off\":%d,\"idem_ttl\":172800,"
        "\"note\":\"推荐商洛某电子厂技术员岗位\",\"idem\":\"baseline-%016llx-%llu\","
        "\"body_hash\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
        "\"threshold_bp\":9000,\"alert\":{\"threshold_bp\":9000,\"clear_bp\":0,\"for_ms\":0},"
        "\"audit\":{\"who\":\"bench.counselor\",\"role\":\"counselor\","
        "\"action\":\"contact.create\",\"object\":\"G%s-%06d\",\"rid\":\"B%07llx-%llx\","
        "\"keep_ms\":%lld}}",
        n, county, (int)(n % (unsigned long long)graduates), now_ms - 60000, now_ms, cur, off,
        (unsigned long long)now_ms, n, county, (int)(n % (unsigned long long)graduates),
        (unsigned long long)now_ms & 0xfffffff, n, AUDIT_KEEP_MS);
    const char *argv[5] = {"EVALSHA", sha, "1", key, args};
    size_t lens[5] = {7, strlen(sha), 1, strlen(key), (size_t)len};
    if (redisAsyncCommandArgv(ac, on_reply, req, 5, argv, lens) != REDIS_OK)
        evhttp_send_error(req, 503, NULL);
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
    (void)c;
    (void)status;
    fprintf(stderr, "baseline: redis disconnected\n");
    exit(1);
}

int main(int argc, char **argv)
{
    int listen_port = 0, redis_port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen"))
            listen_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--redis-port"))
            redis_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--sha"))
            sha = argv[i + 1];
        else if (!strcmp(argv[i], "--county"))
            snprintf(county, sizeof county, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--graduates"))
            graduates = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--off"))
            off = atoi(argv[i + 1]);
    }
    if (!listen_port || !redis_port || !sha || !county[0] || graduates < 1) {
        fprintf(stderr, "usage: baseline --listen PORT --redis-port PORT --sha SHA --county CODE "
                        "--graduates M [--off MIN]\n");
        return 2;
    }
    snprintf(key, sizeof key, "gc:{%s}", county);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    time_t t = (time_t)((now_ms + (int64_t)off * 60000) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    cur = tm.tm_year + 1900;

    struct event_base *base = event_base_new();
    ac = redisAsyncConnect("127.0.0.1", redis_port);
    if (!base || !ac || ac->err) {
        fprintf(stderr, "baseline: cannot connect to redis\n");
        return 1;
    }
    redisLibeventAttach(ac, base);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, on_request, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)listen_port) != 0) {
        fprintf(stderr, "baseline: cannot listen on %d\n", listen_port);
        return 1;
    }
    event_base_dispatch(base);
    return 0;
}
