/* Open connections counted by client address, for the connection guard's
 * per-address limit (conns.h): a fixed-size open-addressing table sized for
 * the most addresses that can hold a connection at once (one each at
 * max_connections). IPv4 addresses count one by one; IPv6 addresses by their
 * /64 (one host or LAN segment gets a whole /64 and can pick any address in
 * it); IPv4-mapped IPv6 addresses as the IPv4 address. Pure: no I/O. */
#ifndef GRADCOVER_HTTP_PEERS_H
#define GRADCOVER_HTTP_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* A client address, normalised: IPv4 in 4 bytes (mapped ones too), IPv6 in
 * 16. len 0: not an IP address (a Unix socket, or unknown). */
struct peer_addr {
    unsigned char b[16];
    unsigned char len;
};

/* One address's (or /64's) entry. */
struct peer_entry {
    struct peer_addr key; /* the counting key: the address, or the /64 of an IPv6 one */
    unsigned open;        /* connections counted now */
    unsigned refused;     /* refused since the last log line about it */
    int64_t logged_ms;    /* when that line was written (0: never) */
};

struct peers;

/* A table for at most max_entries addresses at once; seed varies the hash
 * (so that nobody can pick addresses that collide). NULL on allocation failure. */
struct peers *peers_new(size_t max_entries, uint64_t seed);

/* NULL is a no-op. */
void peers_free(struct peers *p);

/* Normalises sa (AF_INET or AF_INET6) into *out and writes its text form
 * (IPv4-mapped as plain IPv4) into text; false when sa is not an IP address
 * (out->len is 0 then, text "?"). */
bool peer_addr_of(const struct sockaddr *sa, struct peer_addr *out, char *text, size_t textlen);

/* Parses a numeric IPv4 or IPv6 address ("127.0.0.1", "::1") into *out,
 * normalised as peer_addr_of does; false when it is not one. */
bool peer_addr_parse(const char *s, struct peer_addr *out);

/* Whether a and b are the same address (all of it, also for IPv6). */
bool peer_addr_equal(const struct peer_addr *a, const struct peer_addr *b);

/* The entry that counts addr's connections: found, or added with open 0 when
 * create. NULL when absent and !create, when addr has len 0, or when the table
 * holds max_entries already. Borrowed: valid until the next peers_drop. */
struct peer_entry *peers_get(struct peers *p, const struct peer_addr *addr, bool create);

/* Removes addr's entry (no-op when absent). Moves other entries: pointers
 * from peers_get are stale after it. */
void peers_drop(struct peers *p, const struct peer_addr *addr);

/* Entries held now. */
size_t peers_count(const struct peers *p);

#endif
