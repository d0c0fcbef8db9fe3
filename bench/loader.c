/* bench/loader: fills a Redis with a realistic gradcover data set quickly, by
 * calling the project's own Lua scripts (claim.lua, register.lua, contact.lua)
 * through a pipelined synchronous hiredis connection -- the same scripts and
 * the same argument objects that gradcoverd sends, minus the HTTP.
 *
 * Pass 1 registers every graduate (claim on gc:{@}, then register on the
 * county); pass 2 records K contacts per graduate. INFO memory is read before
 * and after each pass so that memory per graduate can be stated.
 *
 * Script source = prelude.lua + "\n" + script.lua, byte for byte what
 * cmake/embed_run.cmake embeds, so the SHAs are the ones gradcoverd uses.
 *
 * The argument objects follow api_graduates.c / api_contacts.c, audit entry
 * included; "claim" is the token claim.lua answers (id|now), passed on as the
 * server does.
 *
 * Output: key=value lines on stdout (read by bench/run). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#define WINDOW 2000 /* commands in flight per pipeline round */
/* gradcoverd's default audit_retention_days (200) in ms: every registration
 * and contact carries the audit entry the server attaches (trail_attach). */
#define AUDIT_KEEP_MS (200LL * 86400000)

static redisContext *rc;
static unsigned long long nerr;
static char first_err[512];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loader: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) /* splitmix64: deterministic data set */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("%s: read failed", path);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* prelude + "\n" + script, as cmake/embed_run.cmake writes it. */
static void script_load(const char *dir, const char *name, char sha[41])
{
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s/lib/prelude.lua", dir);
    snprintf(p2, sizeof p2, "%s/%s.lua", dir, name);
    size_t l1, l2;
    char *a = read_file(p1, &l1), *b = read_file(p2, &l2);
    char *src = malloc(l1 + 1 + l2);
    memcpy(src, a, l1);
    src[l1] = '\n';
    memcpy(src + l1 + 1, b, l2);
    redisReply *r = redisCommand(rc, "SCRIPT LOAD %b", src, l1 + 1 + l2);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40)
        die("SCRIPT LOAD %s: %s", name, r && r->str ? r->str : rc->errstr);
    memcpy(sha, r->str, 41);
    freeReplyObject(r);
    free(a);
    free(b);
    free(src);
}

static long long info_field(const char *section, const char *field)
{
    redisReply *r = redisCommand(rc, "INFO %s", section);
    if (!r || r->type != REDIS_REPLY_STRING)
        die("INFO: %s", rc->errstr);
    size_t fl = strlen(field);
    long long v = -1;
    for (char *p = r->str; p && *p;) {
        if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
            v = atoll(p + fl + 1);
            break;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    freeReplyObject(r);
    return v;
}

static size_t inflight;

static void drain(void)
{
    for (; inflight > 0; inflight--) {
        redisReply *r;
        if (redisGetReply(rc, (void **)&r) != REDIS_OK)
            die("reply: %s", rc->errstr);
        bool bad = r->type == REDIS_REPLY_ERROR ||
                   (r->type == REDIS_REPLY_STRING && strstr(r->str, "\"err\"") != NULL);
        if (bad) {
            if (nerr++ == 0)
                snprintf(first_err, sizeof first_err, "%s", r->str ? r->str : "?");
        }
        freeReplyObject(r);
    }
}

static void evalsha(const char *sha, const char *key, const char *args, size_t alen)
{
    const char *argv[5] = {"EVALSHA", sha, "1", key, args};
    size_t lens[5] = {7, 40, 1, strlen(key), alen};
    if (redisAppendCommandArgv(rc, 5, argv, lens) != REDIS_OK)
        die("append: %s", rc->errstr);
    if (++inflight >= WINDOW)
        drain();
}

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                                       "周", "吴", "徐", "孙", "马", "胡", "朱", "郭"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳",
                                    "勇", "军", "杰", "娟", "涛", "明", "超", "霞"};
static const char *const schools[] = {"商洛学院",     "西北大学", "陕西师范大学",
                                      "西安科技大学", "长安大学", "西安石油大学"};
static const char *const majors[] = {
    "计算机科学与技术", "会计学", "汉语言文学", "机械设计制造及其自动化",
    "电子商务",         "护理学", "市场营销",   "土木工程"};
static const char *const services[] = {"policy_briefing",
                                       "career_guidance",
                                       "job_referral",
                                       "training",
                                       "internship",
                                       "entrepreneurship",
                                       "small_loan",
                                       "tax_relief",
                                       "social_insurance_subsidy",
                                       "other"};
static const char *const channels[] = {"in_person", "phone", "online", "sms", "home_visit"};
static const char *const notes[] = {"推荐商洛某电子厂技术员岗位", "讲解创业担保贷款政策",
                                    "电话回访求职意向",           "推荐参加就业见习",
                                    "职业指导：简历修改",         "通知参加招聘会"};
#define N(a) (sizeof(a) / sizeof(a[0]))

/* Year (in UTC offset `off` minutes) of an instant, and the ms of its Jan 1. */
static int year_of(int64_t ms, int off, int64_t *year_start)
{
    time_t t = (time_t)((ms + (int64_t)off * 60000) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    struct tm y0 = {.tm_year = tm.tm_year, .tm_mon = 0, .tm_mday = 1};
    *year_start = (int64_t)timegm(&y0) * 1000 - (int64_t)off * 60000;
    return tm.tm_year + 1900;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loader --port P [--host H] --scripts DIR [--counties N] [--graduates M]\n"
            "              [--contacts K] [--code-base B] [--off MIN] [--threshold-bp BP]\n"
            "              [--package 0/1]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *dir = NULL;
    int port = 0, counties = 3000, per = 300, contacts = 5, code_base = 100000, off = 480;
    int threshold_bp = 9000, package = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--host"))
            host = v;
        else if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--scripts"))
            dir = v;
        else if (!strcmp(a, "--counties"))
            counties = atoi(v);
        else if (!strcmp(a, "--graduates"))
            per = atoi(v);
        else if (!strcmp(a, "--contacts"))
            contacts = atoi(v);
        else if (!strcmp(a, "--code-base"))
            code_base = atoi(v);
        else if (!strcmp(a, "--off"))
            off = atoi(v);
        else if (!strcmp(a, "--threshold-bp"))
            threshold_bp = atoi(v);
        else if (!strcmp(a, "--package"))
            package = atoi(v);
        else
            usage();
        i++;
    }
    if (!port || !dir)
        usage();
    rc = redisConnect(host, port);
    if (!rc || rc->err)
        die("connect %s:%d: %s", host, port, rc ? rc->errstr : "oom");

    char sha_claim[41], sha_register[41], sha_contact[41];
    script_load(dir, "claim", sha_claim);
    script_load(dir, "register", sha_register);
    script_load(dir, "contact", sha_contact);
    printf("sha_contact=%s\nsha_register=%s\nsha_claim=%s\n", sha_contact, sha_register, sha_claim);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t ystart;
    int cur = year_of(now, off, &ystart);
    /* Registered within the last 90 days of this period (so each graduate
     * counts in one period, as most do), at least 2 h ago. */
    int64_t span = now - 2 * 3600000LL - ystart;
    if (span > 90LL * 86400000)
        span = 90LL * 86400000;
    if (span < 1)
        span = 1;
    char alert[96];
    snprintf(alert, sizeof alert, "{\"threshold_bp\":%d,\"clear_bp\":0,\"for_ms\":0}",
             threshold_bp);

    long long mem0 = info_field("memory", "used_memory");
    char args[4096], key[64], gkey[16], id[48];
    snprintf(gkey, sizeof gkey, "gc:{@}");
    unsigned long long calls = 0;

    /* ---- pass 1: registrations ---- */
    double t0 = mono();
    for (int c = 0; c < counties; c++) {
        int code = code_base + c + 1;
        snprintf(key, sizeof key, "gc:{%06d}", code);
        for (int g = 0; g < per; g++) {
            snprintf(id, sizeof id, "G%06d-%06d", code, g);
            uint64_t h1 = rnd(), h2 = rnd(), h3 = rnd(), h4 = rnd();
            char hmac[65];
            snprintf(hmac, sizeof hmac, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, h1,
                     h2, h3, h4);
            int64_t at = now - 2 * 3600000LL - (int64_t)(rnd() % (uint64_t)span);
            int n = snprintf(args, sizeof args,
                             "{\"id\":\"%s\",\"county\":\"%06d\",\"hmac\":\"%s\",\"now\":%" PRId64
                             ",\"nonce\":\"bench000\",\"mode\":\"register\"}",
                             id, code, hmac, now);
            evalsha(sha_claim, gkey, args, (size_t)n);
            n = snprintf(args, sizeof args,
                         "{\"id\":\"%s\",\"county\":\"%06d\",\"name\":\"%s%s%s\","
                         "\"nid_hmac\":\"%s\",\"nid_masked\":\"%06d********%03d%c\","
                         "\"registered_at\":%" PRId64 ",\"now\":%" PRId64 ",\"cur\":%d,\"off\":%d,"
                         "\"actor\":\"c%06d.counselor\",\"claim\":\"%s|%" PRId64 "|bench000\","
                         "\"phone\":\"138%08d\","
                         "\"school\":\"%s\",\"major\":\"%s\",\"graduation_year\":%d,\"alert\":%s,"
                         "\"audit\":{\"who\":\"c%06d.counselor\",\"role\":\"counselor\","
                         "\"action\":\"graduate.register\",\"object\":\"%s\","
                         "\"rid\":\"L%07x-%llx\",\"keep_ms\":%lld}}",
                         id, code, surnames[rnd() % N(surnames)], given[rnd() % N(given)],
                         given[rnd() % N(given)], hmac, code, (int)(rnd() % 1000),
                         "0123456789X"[rnd() % 11], at, now, cur, off, code, id, now,
                         (int)(rnd() % 100000000), schools[rnd() % N(schools)],
                         majors[rnd() % N(majors)], cur - (int)(rnd() % 2), alert, code, id,
                         (unsigned)(now & 0xfffffff), calls, AUDIT_KEEP_MS);
            evalsha(sha_register, key, args, (size_t)n);
            calls += 2;
        }
    }
    drain();
    double t1 = mono();
    long long mem1 = info_field("memory", "used_memory");
    printf("register_calls=%llu\nregister_seconds=%.2f\n", calls, t1 - t0);

    /* ---- pass 2: contacts, all after every registration time (<= now - 2 h) ---- */
    unsigned long long ccalls = 0;
    rng_state = 0x1234567ULL; /* contacts draw from their own stream */
    double t2 = mono();
    for (int c = 0; c < counties && contacts > 0; c++) {
        int code = code_base + c + 1;
        snprintf(key, sizeof key, "gc:{%06d}", code);
        for (int g = 0; g < per; g++) {
            snprintf(id, sizeof id, "G%06d-%06d", code, g);
            for (int k = 0; k < contacts; k++) {
                /* After any registration time above (registered >= now-2h-span). */
                int64_t at = now - 60000 - (int64_t)(rnd() % (uint64_t)(2 * 3600000LL - 60000));
                char cid[17];
                static const char al[] =
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                for (int i = 0; i < 16; i++)
                    cid[i] = al[rnd() % 62];
                cid[16] = '\0';
                int svc = (int)(rnd() % N(services)), ch = (int)(rnd() % N(channels));
                /* --package 1: the server's "pk" argument for the services of
                 * the "1131" package (bench/run --package configures it). */
                char pk[160] = "";
                static const char *const pk_field[] = {"0", "1", "2", "3+4", "3+4"};
                static const int pk_count[] = {1, 1, 3, 1, 1};
                if (package && svc < 5)
                    snprintf(pk, sizeof pk,
                             "\"pk\":{\"f\":\"%s\",\"n\":%d,\"all\":[[\"0\",1],[\"1\",1],"
                             "[\"2\",3],[\"3+4\",1]]},",
                             pk_field[svc], pk_count[svc]);
                int n = snprintf(
                    args, sizeof args,
                    "{\"id\":\"%s\",\"graduate_id\":\"%s\",\"service\":\"%s\",\"svc\":%d,"
                    "\"channel\":\"%s\",\"ch\":%d,\"occurred_at\":%" PRId64 ",\"counselor\":"
                    "\"c%06d.counselor\",\"now\":%" PRId64 ",\"cur\":%d,\"off\":%d,"
                    "\"idem_ttl\":172800,\"note\":\"%s\",%s\"threshold_bp\":%d,"
                    "\"alert\":%s,\"audit\":{\"who\":\"c%06d.counselor\","
                    "\"role\":\"counselor\",\"action\":\"contact.create\","
                    "\"object\":\"%s\",\"rid\":\"L%07x-%llx\",\"keep_ms\":%lld}}",
                    cid, id, services[svc], svc, channels[ch], ch, at, code, now, cur, off,
                    notes[rnd() % N(notes)], pk, threshold_bp, alert, code, id,
                    (unsigned)(now & 0xfffffff), calls + ccalls, AUDIT_KEEP_MS);
                evalsha(sha_contact, key, args, (size_t)n);
                ccalls++;
            }
        }
    }
    drain();
    double t3 = mono();
    long long mem2 = info_field("memory", "used_memory");
    long long grads = (long long)counties * per;
    printf("contact_calls=%llu\ncontact_seconds=%.2f\n", ccalls, t3 - t2);
    printf("graduates=%lld\ncounties=%d\nper_county=%d\ncontacts_per_graduate=%d\n", grads,
           counties, per, contacts);
    printf("used_memory_before=%lld\nused_memory_registered=%lld\nused_memory_loaded=%lld\n", mem0,
           mem1, mem2);
    printf("bytes_per_graduate_registered=%.0f\nbytes_per_graduate_loaded=%.0f\n",
           (double)(mem1 - mem0) / (double)grads, (double)(mem2 - mem0) / (double)grads);
    printf("cur=%d\nnow_ms=%" PRId64 "\nerrors=%llu\n", cur, now, nerr);
    if (nerr)
        printf("first_error=%s\n", first_err);
    redisFree(rc);
    return nerr ? 1 : 0;
}
