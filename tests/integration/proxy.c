/* The slow Redis proxy of proxy.h. */
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* A TCP proxy in front of Redis that holds every reply back for delay_ms:
 * a Redis that answers every command, slowly. Runs in a child process until
 * killed; up to 8 connections. */
struct chunk {
    struct chunk *next;
    long long due;
    size_t len;
    char data[];
};

static _Noreturn void proxy_run(int lfd, int redis_port, int delay_ms)
{
    enum { MAXC = 8 };
    int cli[MAXC], up[MAXC];
    struct chunk *head[MAXC] = {0}, *tail[MAXC] = {0};
    for (int i = 0; i < MAXC; i++)
        cli[i] = up[i] = -1;
    char buf[65536];
    for (;;) {
        struct pollfd p[1 + 2 * MAXC];
        int np = 0;
        p[np++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        long long now = h_now_ms(), wait = 1000;
        for (int i = 0; i < MAXC; i++) {
            if (cli[i] < 0)
                continue;
            p[np++] = (struct pollfd){.fd = cli[i], .events = POLLIN};
            p[np++] = (struct pollfd){.fd = up[i], .events = POLLIN};
            if (head[i] && head[i]->due - now < wait)
                wait = head[i]->due - now;
        }
        poll(p, (nfds_t)np, wait > 0 ? (int)wait : 0);
        if (p[0].revents & POLLIN) {
            int c = accept(lfd, NULL, NULL);
            for (int i = 0; c >= 0 && i < MAXC; i++)
                if (cli[i] < 0) {
                    struct sockaddr_in a = {.sin_family = AF_INET,
                                            .sin_port = htons((uint16_t)redis_port),
                                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                    up[i] = socket(AF_INET, SOCK_STREAM, 0);
                    if (connect(up[i], (struct sockaddr *)&a, sizeof a) < 0)
                        _exit(3);
                    cli[i] = c;
                    c = -1;
                }
            if (c >= 0)
                close(c);
        }
        for (int i = 0; i < MAXC; i++) {
            if (cli[i] < 0)
                continue;
            ssize_t n = recv(cli[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0)
                send(up[i], buf, (size_t)n, MSG_NOSIGNAL); /* requests go at once */
            ssize_t m = recv(up[i], buf, sizeof buf, MSG_DONTWAIT);
            if (m > 0) { /* replies wait */
                struct chunk *ch = malloc(sizeof *ch + (size_t)m);
                ch->next = NULL;
                ch->due = h_now_ms() + delay_ms;
                ch->len = (size_t)m;
                memcpy(ch->data, buf, (size_t)m);
                if (tail[i])
                    tail[i]->next = ch;
                else
                    head[i] = ch;
                tail[i] = ch;
            }
            while (head[i] && head[i]->due <= h_now_ms()) {
                struct chunk *ch = head[i];
                send(cli[i], ch->data, ch->len, MSG_NOSIGNAL);
                head[i] = ch->next;
                if (!head[i])
                    tail[i] = NULL;
                free(ch);
            }
            if (n == 0 || m == 0) {
                close(cli[i]);
                close(up[i]);
                cli[i] = up[i] = -1;
                while (head[i]) {
                    struct chunk *ch = head[i];
                    head[i] = ch->next;
                    free(ch);
                }
                tail[i] = NULL;
            }
        }
    }
}

pid_t slow_proxy(int port, int redis_port, int delay_ms)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 16) == 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        /* Dies with the test, even when an assertion ends it early. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        proxy_run(lfd, redis_port, delay_ms);
    }
    close(lfd);
    return pid;
}
