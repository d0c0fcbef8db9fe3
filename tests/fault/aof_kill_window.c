/* aof_kill_window: how many acknowledged writes a SIGKILL of redis-server
 * loses under each appendfsync policy (docs/reliability.md). Not a CTest test:
 * an experiment to run by hand on the machine whose disk matters.
 *
 *   aof_kill_window POLICY ROUNDS OFFSET_US [DIR]
 *
 * Each round: a fresh redis-server (AOF on, POLICY) in DIR, WRITERS processes
 * each sending SET k:<n> on its own connection and publishing the last n that
 * was answered OK; at OFFSET_US microseconds past a wall-clock second the
 * server gets SIGKILL; it restarts on the same AOF and every writer's
 * acknowledged keys are looked up, newest first. Prints the acknowledged
 * writes lost per round and in total.
 *
 * everysec starts its background fsync in the first event-loop round of each
 * new second and, while that fsync runs, postpones writing the AOF buffer but
 * still answers clients: OFFSET_US of 200-3000 aims at that window, 100000
 * (100 ms) misses it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define WRITERS 4
/* Keys of a writer in a round: n from base = (round * WRITERS + w) * SPAN. */
#define SPAN 100000000LL

struct shared {
    atomic_llong last[WRITERS]; /* last acknowledged n; base - 1 when none */
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A port nobody listens on now (the kernel's choice for port 0). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        perror("free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_redis(const char *dir, int port, const char *policy)
{
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", portbuf, "--bind", "127.0.0.1", "--dir",
               dir, "--save", "", "--appendonly", "yes", "--appendfsync", policy, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        redisContext *c = redisConnect("127.0.0.1", port);
        redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        redisFree(c);
        if (ok)
            return pid;
        sleep_ms(25);
    }
    fprintf(stderr, "redis-server did not start on port %d\n", port);
    exit(1);
}

static void writer(int port, long long base, atomic_llong *last)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err)
        _exit(1);
    for (long long n = base;; n++) {
        redisReply *r = redisCommand(c, "SET k:%lld 1", n);
        if (!r || r->type != REDIS_REPLY_STATUS)
            _exit(0); /* the server died */
        freeReplyObject(r);
        atomic_store(last, n);
    }
}

static void kill_at_offset(pid_t pid, long offset_us)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec at = {now.tv_sec + 1, offset_us * 1000};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) == EINTR)
        ;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s always|everysec|no ROUNDS OFFSET_US [DIR]\n", argv[0]);
        return 2;
    }
    const char *policy = argv[1];
    int rounds = atoi(argv[2]);
    long offset_us = atol(argv[3]);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", argc > 4 ? argv[4] : "aof-kill-window");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return 1;
    srand((unsigned)getpid());
    int port = free_port();
    struct shared *sh =
        mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    long long total = 0;
    int lossy = 0;
    pid_t redis = start_redis(dir, port, policy);
    for (int round = 0; round < rounds; round++) {
        pid_t w[WRITERS];
        for (int i = 0; i < WRITERS; i++) {
            long long base = ((long long)round * WRITERS + i) * SPAN;
            atomic_store(&sh->last[i], base - 1);
            w[i] = fork();
            if (w[i] == 0)
                writer(port, base, &sh->last[i]);
        }
        sleep_ms(300 + rand() % 400);
        kill_at_offset(redis, offset_us);
        for (int i = 0; i < WRITERS; i++)
            waitpid(w[i], NULL, 0);
        redis = start_redis(dir, port, policy);
        redisContext *c = redisConnect("127.0.0.1", port);
        long long lost = 0;
        for (int i = 0; i < WRITERS; i++) {
            long long base = ((long long)round * WRITERS + i) * SPAN;
            for (long long n = atomic_load(&sh->last[i]); n >= base; n--) {
                redisReply *r = redisCommand(c, "EXISTS k:%lld", n);
                bool there = r && r->integer == 1;
                freeReplyObject(r);
                if (there)
                    break;
                lost++;
            }
        }
        redisFree(c);
        printf("round %d: acknowledged writes lost %lld\n", round + 1, lost);
        total += lost;
        lossy += lost > 0;
    }
    kill(redis, SIGTERM);
    waitpid(redis, NULL, 0);
    printf("appendfsync=%s kills=%d offset_us=%ld kills_that_lost_acknowledged_writes=%d "
           "acknowledged_writes_lost=%lld\n",
           policy, rounds, offset_us, lossy, total);
    return 0;
}
