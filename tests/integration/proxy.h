/* A TCP proxy in front of Redis for tests: replies held back, requests passed
 * at once. */
#ifndef GC_PROXY_H
#define GC_PROXY_H

#include <sys/types.h>

/* Listens on 127.0.0.1:port (bound before this returns) and forwards to Redis
 * on redis_port, holding every reply back for delay_ms: a Redis that answers
 * every command, slowly, in order. Runs in a child process (up to 8
 * connections) that dies with the test; kill(SIGKILL) and waitpid it. */
pid_t slow_proxy(int port, int redis_port, int delay_ms);

#endif
