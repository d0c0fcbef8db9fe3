/* Native TLS (see tls.h): OpenSSL contexts built once before the loop runs,
 * and libevent OpenSSL bufferevents made per connection. No I/O on the loop
 * here beyond what the bufferevents do themselves. */
#include "gradcover/core/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gradcover/core/log.h"
#include "gradcover/domain/config.h"

/* TLS 1.2 suites: forward secrecy (ECDHE) and AEAD ciphers only. TLS 1.3
 * suites are all AEAD with forward secrecy; OpenSSL's default list stays. */
#define SERVER_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"
/* A key file is a few KB; anything this large is not one. */
#define KEY_FILE_MAX (64 * 1024)
/* Warn this long before the server certificate expires. */
#define CERT_WARN_DAYS 14

/* Never prompts for a passphrase: gradcoverd runs unattended, so an
 * encrypted key is a configuration error instead of a hang on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The reason of the oldest queued OpenSSL error (and clears the queue). */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, len, "%s", r ? r : "unknown OpenSSL error");
    ERR_clear_error();
    return buf;
}

/* Opens path for reading and checks that it is a regular file; with
 * private set, also that neither group nor others may read it (like the PII
 * key, src/core/pii.c). Symbolic links are followed: certificate tools link live
 * files to dated ones. Returns the fd, or -1 with err naming key. */
static int open_checked(const char *key, const char *path, bool private, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "key \"%s\": %s: %s", key, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key \"%s\": %s: not a regular file", key, path);
        close(fd);
        return -1;
    }
    if (private && (st.st_mode & 077)) {
        snprintf(err, errlen, "key \"%s\": %s: mode %03o is readable by others; chmod 600 it", key,
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return -1;
    }
    return fd;
}

/* Loads the private key from the checked file into ctx. */
static int use_key_file(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
    int fd = open_checked("tls_key", path, true, err, errlen);
    if (fd < 0)
        return -1;
    int rc = -1;
    char *buf = malloc(KEY_FILE_MAX);
    size_t n = 0;
    ssize_t got = 0;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        goto out_close;
    }
    while (n < KEY_FILE_MAX && (got = read(fd, buf + n, KEY_FILE_MAX - n)) > 0)
        n += (size_t)got;
    if (got < 0 || n == KEY_FILE_MAX) {
        snprintf(err, errlen, "key \"tls_key\": %s: %s", path,
                 got < 0 ? strerror(errno) : "larger than a private key file");
        goto out_free;
    }
    BIO *bio = BIO_new_mem_buf(buf, (int)n);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!pkey) {
        char why[128];
        snprintf(err, errlen, "key \"tls_key\": %s: not an unencrypted PEM private key (%s)", path,
                 ssl_reason(why, sizeof why));
        goto out_free;
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (leaf && X509_check_private_key(leaf, pkey) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "key \"tls_key\": %s does not match the certificate of \"tls_cert\"",
                 path);
        EVP_PKEY_free(pkey);
        goto out_free;
    }
    if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
        char why[128];
        snprintf(err, errlen, "key \"tls_key\": %s: %s", path, ssl_reason(why, sizeof why));
        EVP_PKEY_free(pkey);
        goto out_free;
    }
    EVP_PKEY_free(pkey);
    rc = 0;
out_free:
    OPENSSL_cleanse(buf, KEY_FILE_MAX);
    free(buf);
out_close:
    close(fd);
    return rc;
}

static void warn_if_expiring(SSL_CTX *ctx, const char *cert_path)
{
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (!leaf)
        return;
    time_t soon = time(NULL) + (time_t)CERT_WARN_DAYS * 86400;
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
        log_warn("event=tls_cert_expired path=%s hint=\"clients will refuse it; renew and "
                 "restart\"",
                 cert_path);
    else if (X509_cmp_time(X509_get0_notAfter(leaf), &soon) < 0)
        log_warn("event=tls_cert_expires_soon path=%s days=%d", cert_path, CERT_WARN_DAYS);
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
        log_warn("event=tls_cert_not_yet_valid path=%s", cert_path);
}

SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    /* Session tickets off, as in deploy/nginx.conf: a ticket key that lives
     * as long as the process would undo forward secrecy for resumed sessions. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, SERVER_TLS12_CIPHERS) != 1) {
        snprintf(err, errlen, "cannot restrict the TLS protocols and ciphers");
        goto out_free;
    }
    int fd = open_checked("tls_cert", cert_path, false, err, errlen);
    if (fd < 0)
        goto out_free;
    close(fd);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        char why[128];
        snprintf(err, errlen, "key \"tls_cert\": %s: not a PEM certificate chain (%s)", cert_path,
                 ssl_reason(why, sizeof why));
        goto out_free;
    }
    if (use_key_file(ctx, key_path, err, errlen) < 0)
        goto out_free;
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "key \"tls_key\": %s does not match the certificate of \"tls_cert\"",
                 key_path);
        goto out_free;
    }
    warn_if_expiring(ctx, cert_path);
    return ctx;
out_free:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        snprintf(err, errlen, "cannot restrict the TLS protocols");
        goto out_free;
    }
    if (ca_file) {
        int fd = open_checked("alerts.ca_file", ca_file, false, err, errlen);
        if (fd < 0)
            goto out_free;
        close(fd);
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            char why[128];
            snprintf(err, errlen, "key \"alerts.ca_file\": %s: no PEM CA certificate (%s)", ca_file,
                     ssl_reason(why, sizeof why));
            goto out_free;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        char why[128];
        snprintf(err, errlen, "cannot use the system CA store (%s); set \"alerts.ca_file\"",
                 ssl_reason(why, sizeof why));
        goto out_free;
    }
    return ctx;
out_free:
    SSL_CTX_free(ctx);
    return NULL;
}

static bool is_https(const char *url)
{
    return url && strncmp(url, "https://", 8) == 0;
}

int tls_from_config(const struct config *cfg, SSL_CTX **server, SSL_CTX **client, char *err,
                    size_t errlen)
{
    *server = NULL;
    *client = NULL;
    if (cfg->tls_cert && cfg->tls_key) {
        *server = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, err, errlen);
        if (!*server)
            return -1;
    }
    const struct alerts_cfg *ac = &cfg->alerts;
    bool need_client = ac->ca_file || is_https(ac->alertmanager_url);
    for (size_t i = 0; i < ac->nwebhooks; i++)
        need_client = need_client || is_https(ac->webhooks[i].url);
    if (need_client) {
        *client = tls_client_ctx_new(ac->ca_file, err, errlen);
        if (!*client) {
            tls_ctx_free(*server);
            *server = NULL;
            return -1;
        }
    }
    return 0;
}

void tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

/* A bufferevent without a socket that cannot be given one: evhttp's
 * bufferevent_setfd() fails on it and evhttp closes the connection at once.
 * Its partner is freed here; the pair end stays valid alone. */
static struct bufferevent *dead_bev(struct event_base *base)
{
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(base, 0, pair) < 0)
        return NULL;
    bufferevent_free(pair[1]);
    return pair[0];
}

struct bufferevent *tls_server_bev_new(SSL_CTX *ctx, struct event_base *base)
{
    SSL *ssl = SSL_new(ctx);
    struct bufferevent *bev =
        ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!bev) {
        /* libevent 2.1 leaves the SSL to the caller when it fails. */
        SSL_free(ssl);
        log_warn("event=tls_connection_refused reason=\"out of memory\"");
        /* Never NULL if avoidable: evhttp would fall back to plain HTTP. */
        return dead_bev(base);
    }
    /* A client that closes without close_notify (most do after a response
     * with Content-Length) is an EOF, not an error. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev; /* owns ssl (BEV_OPT_CLOSE_ON_FREE) */
}

struct bufferevent *tls_client_bev_new(SSL_CTX *ctx, struct event_base *base, const char *host)
{
    char name[256];
    size_t hl = strlen(host);
    /* "[::1]" as it comes from a URL: the address without the brackets. */
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        snprintf(name, sizeof name, "%.*s", (int)(hl - 2), host + 1);
    else
        snprintf(name, sizeof name, "%s", host);
    unsigned char addr[sizeof(struct in6_addr)];
    bool literal = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    /* The certificate must name the host we connect to: an IP SAN for an
     * address, a DNS SAN for a name (sent as SNI too; RFC 6066 forbids SNI
     * with an address). */
    bool named = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1
                         : X509_VERIFY_PARAM_set1_host(param, name, 0) == 1 &&
                               SSL_set_tlsext_host_name(ssl, name) == 1;
    struct bufferevent *bev =
        named ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                               BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)
              : NULL;
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* Receivers that close without close_notify after their answer are
     * common; we only read the status line and headers of the answer. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev; /* owns ssl */
}

bool tls_client_failure(struct bufferevent *bev, char *buf, size_t len)
{
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    if (!ssl)
        return false;
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
        snprintf(buf, len, "TLS: certificate verify failed: %s", X509_verify_cert_error_string(vr));
        return true;
    }
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (!e)
        return false;
    while (bufferevent_get_openssl_error(bev))
        ; /* the rest of this connection's queue says the same */
    const char *r = ERR_reason_error_string(e);
    snprintf(buf, len, "TLS: handshake failed: %s", r ? r : "unknown error");
    return true;
}
