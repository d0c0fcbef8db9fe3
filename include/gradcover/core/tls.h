/* Native TLS with OpenSSL: the server context behind "tls_cert"/"tls_key"
 * and its per-connection bufferevents for evhttp, and the verifying client
 * context and bufferevents used to reach https:// alert receivers. Nothing
 * here knows about requests, routes or receivers. */
#ifndef GRADCOVER_CORE_TLS_H
#define GRADCOVER_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "gradcover/common.h"

struct bufferevent;
struct config;
struct event_base;
struct evhttp;
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

/* A server context from a PEM certificate chain and a PEM private key:
 * TLS 1.2 minimum (1.3 preferred), no compression, no renegotiation, server
 * cipher preference, ECDHE with AEAD ciphers only for TLS 1.2. The key file
 * must not be readable by group or others (mode 0600 or 0400) and must not be
 * encrypted; the key must match the certificate. Returns a new context (free
 * with tls_ctx_free) or NULL with err naming the config key at fault, e.g.
 * `key "tls_key": /etc/gradcover/key.pem: mode 644 is readable by others`.
 * Reads the files synchronously: call before the loop runs. */
struct ssl_ctx_st *tls_server_ctx_new(const char *cert_path, const char *key_path, char *err,
                                      size_t errlen);

/* A client context that verifies peers: SSL_VERIFY_PEER against ca_file (PEM,
 * one or more CA certificates) or, when ca_file is NULL, the system store;
 * TLS 1.2 minimum. NULL with err naming "alerts.ca_file" on failure. */
struct ssl_ctx_st *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen);

/* Builds the contexts a configuration asks for: *server when tls_cert and
 * tls_key are set, *client when a receiver URL is https:// or alerts.ca_file
 * is set; each stays NULL otherwise. Returns 0, or -1 with err naming the key
 * (and nothing allocated). This is what --check-config validates. */
int tls_from_config(const struct config *cfg, struct ssl_ctx_st **server,
                    struct ssl_ctx_st **client, char *err, size_t errlen) GC_MUSTCHECK;

/* SSL_CTX_free; NULL is a no-op. Connections still open keep their own
 * reference and stay valid. */
void tls_ctx_free(struct ssl_ctx_st *ctx);

/* A new server-side bufferevent for one accepted connection (no fd yet:
 * evhttp sets it), in the accepting state, freeing its SSL and closing its
 * socket when freed. Used by app.c's evhttp_set_bevcb callback (under the connection guard).
 * When the SSL objects cannot be made it returns a dead bufferevent that
 * evhttp refuses at once (the client is disconnected without a byte in
 * clear); NULL only when even that fails, and a caller must then not put a
 * plain bufferevent in its place. */
struct bufferevent *tls_server_bev_new(struct ssl_ctx_st *ctx, struct event_base *base);

/* A new client-side bufferevent (no fd yet: evhttp connects it) for a TLS
 * connection to host, a DNS name or an IP literal ("[...]" accepted): SNI
 * for names, and the peer certificate must name host (DNS SAN, or IP SAN for
 * literals) besides chaining to a trusted CA. Owned by the caller, or by the
 * evhttp connection it is given to; frees its SSL and socket when freed.
 * NULL on failure. */
struct bufferevent *tls_client_bev_new(struct ssl_ctx_st *ctx, struct event_base *base,
                                       const char *host);

/* After a client connection failed: when bev is a TLS bufferevent whose
 * handshake failed, writes why into buf ("TLS: certificate verify failed:
 * unable to get local issuer certificate") and returns true; false when
 * bev is not TLS or TLS is not to blame. */
bool tls_client_failure(struct bufferevent *bev, char *buf, size_t len);

#endif
