/* PII key file handling and the crypto helpers built on libcrypto. */
#include "gradcover/core/pii.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "gradcover/core/hex.h"

struct pii {
    unsigned char key[PII_KEY_LEN];
};

int gc_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

void gc_id_from_bytes(const unsigned char *raw, size_t chars, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /* 62 symbols: reject bytes >= 248 (= 4 * 62) would be exact; a modulo bias
     * of <2% per symbol is irrelevant for ids, which need uniqueness, not secrecy. */
    for (size_t i = 0; i < chars; i++)
        out[i] = alphabet[raw[i] % 62];
    out[chars] = '\0';
}

int gc_random_id(char *out, size_t chars)
{
    unsigned char raw[128];
    if (chars > sizeof raw || gc_random_bytes(raw, chars) < 0)
        return -1;
    gc_id_from_bytes(raw, chars, out);
    return 0;
}

void gc_sha256(const void *data, size_t len, unsigned char *out)
{
    /* Fetched once and kept for the life of the process (OpenSSL objects are
     * immutable once fetched): the one-shot SHA256() fetches by name each call. */
    static EVP_MD *md;
    if (!md)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md || !EVP_Digest(data, len, out, NULL, md, NULL))
        SHA256(data, len, out);
}

void gc_sha256_hex(const void *data, size_t len, char *out)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    gc_sha256(data, len, md);
    hex_encode(md, sizeof md, out);
}

struct pii *pii_open(const char *path, char *err, size_t errlen)
{
    struct pii *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        if (gc_random_bytes(p->key, sizeof p->key) < 0) {
            snprintf(err, errlen, "pii_key_file: no random bytes: %s", strerror(errno));
            goto out_free;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            snprintf(err, errlen, "pii_key_file %s: cannot create: %s", path, strerror(errno));
            goto out_free;
        }
        if (write(fd, p->key, sizeof p->key) != (ssize_t)sizeof p->key || fsync(fd) < 0) {
            snprintf(err, errlen, "pii_key_file %s: write failed: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            goto out_free;
        }
        close(fd);
        return p;
    }
    if (fd < 0) {
        snprintf(err, errlen, "pii_key_file %s: %s", path, strerror(errno));
        goto out_free;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "pii_key_file %s: not a regular file", path);
        goto out_close;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "pii_key_file %s: mode %03o is readable by others; chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        goto out_close;
    }
    if (st.st_size != PII_KEY_LEN || read(fd, p->key, sizeof p->key) != PII_KEY_LEN) {
        snprintf(err, errlen, "pii_key_file %s: must hold exactly %d bytes", path, PII_KEY_LEN);
        goto out_close;
    }
    close(fd);
    return p;
out_close:
    close(fd);
out_free:
    OPENSSL_cleanse(p->key, sizeof p->key);
    free(p);
    return NULL;
}

void pii_free(struct pii *p)
{
    if (!p)
        return;
    OPENSSL_cleanse(p->key, sizeof p->key);
    free(p);
}

void pii_hmac_hex(const struct pii *p, const char *data, size_t len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), p->key, sizeof p->key, (const unsigned char *)data, len, md, &mdlen);
    hex_encode(md, mdlen, out);
}

void gc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char *out)
{
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &mdlen);
}

void pii_derive_key(const struct pii *p, const char *label, unsigned char *out)
{
    gc_hmac_sha256(p->key, sizeof p->key, label, strlen(label), out);
}

void pii_fingerprint(const struct pii *p, char *out)
{
    static const char label[] = "gradcover pii key fingerprint v1";
    pii_hmac_hex(p, label, sizeof label - 1, out);
}
