/* dtls: DTLS-SRTP handshake on OpenSSL, a memory BIO in and a datagram queue out. */
#include "dtls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Browsers offer ECDHE with AES-GCM first; CBC suites only as a last resort. RSA suites
 * are there for a configured RSA certificate. */
#define CIPHERS                                                                                    \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                                 \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"                                     \
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
#define GROUPS         "X25519:P-256:P-384"
#define SRTP_PROFILES  "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
#define REC_HDR_LEN    13          /* DTLS record header: type, version, epoch, seq(6), length */
#define OUT_QUEUE_MAX  (64 * 1024) /* unpopped output beyond this fails the handshake */

struct dtls_cert {
    SSL_CTX *ctx;
    char fingerprint[DTLS_FINGERPRINT_MAX];
};

struct dtls {
    SSL *ssl;
    BIO *rbio;    /* memory BIO, owned by ssl */
    uint8_t *out; /* queued datagrams, each as a 2-byte length then the bytes */
    size_t out_head, out_len, out_cap;
    dtls_role_t role;
    dtls_state_t state;
    int started;
    int connected_once;
    const EVP_MD *fp_md;
    unsigned fp_len;
    uint8_t fp[EVP_MAX_MD_SIZE];
    uint64_t timeout_at;
    uint64_t ignored;
    dtls_srtp_keys_t keys;
    char error[96];
};

/* ---- Fingerprints -------------------------------------------------------------------- */

static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
} hashes[] = {
    {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
    {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses "sha-256 AB:CD:..." into a digest type and the raw digest. */
static int parse_fingerprint(const char *s, const EVP_MD **md, uint8_t *out, unsigned *out_len)
{
    size_t name_len = strcspn(s, " \t");
    *md = NULL;
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        if (strlen(hashes[i].name) == name_len && !strncasecmp(s, hashes[i].name, name_len))
            *md = hashes[i].md();
    }
    if (!*md || s[name_len] != ' ') return DTLS_ERR_FINGERPRINT;
    s += name_len + 1;
    int n = EVP_MD_get_size(*md);
    for (int i = 0; i < n; i++) {
        int hi = hex_value(s[0]), lo = hi < 0 ? -1 : hex_value(s[1]);
        if (lo < 0) return DTLS_ERR_FINGERPRINT;
        out[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i + 1 < n && *s++ != ':') return DTLS_ERR_FINGERPRINT;
    }
    s += strspn(s, " \t\r\n");
    if (*s) return DTLS_ERR_FINGERPRINT;
    *out_len = (unsigned)n;
    return 0;
}

int dtls_fingerprint_check(const char *fp)
{
    const EVP_MD *md;
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned len;
    return fp ? parse_fingerprint(fp, &md, digest, &len) : DTLS_ERR_FINGERPRINT;
}

static int format_fingerprint(X509 *x, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || cap < 8 + 3 * (size_t)n) return -1;
    memcpy(out, "sha-256 ", 8);
    char *p = out + 8;
    for (unsigned i = 0; i < n; i++) {
        *p++ = hex[md[i] >> 4];
        *p++ = hex[md[i] & 15];
        *p++ = i + 1 < n ? ':' : '\0';
    }
    return 0;
}

/* ---- Certificates and the shared context --------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static X509 *self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    BIGNUM *serial = NULL;
    uint8_t rnd[8];
    int ok = 0;
    if (!x || RAND_bytes(rnd, sizeof rnd) != 1) goto out;
    rnd[0] = (uint8_t)((rnd[0] & 0x7f) | 0x40); /* positive, never zero, 8 bytes long */
    serial = BN_bin2bn(rnd, sizeof rnd, NULL);
    if (!serial || !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x))) goto out;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, X509_VERSION_3) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) || !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sobre", -1,
                                    -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, key, EVP_sha256()))
        goto out;
    ok = 1;
out:
    BN_free(serial);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

/* Called for each certificate and each verification error: the chain is not meant to
 * verify (self-signed certificates), what counts is the fingerprint of the peer's leaf. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store);

static SSL_CTX *make_ctx(X509 *x, EVP_PKEY *key)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    int ok = 0;
    if (!ctx) goto out;
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || SSL_CTX_set_cipher_list(ctx, CIPHERS) != 1 ||
        SSL_CTX_set1_groups_list(ctx, GROUPS) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, SRTP_PROFILES) != 0) /* 0 is success here */
        goto out;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    ok = 1;
out:
    if (!ok) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* Takes ownership of x and key whatever happens. */
static dtls_cert_t *cert_wrap(X509 *x, EVP_PKEY *key)
{
    dtls_cert_t *c = calloc(1, sizeof *c);
    if (!c || format_fingerprint(x, c->fingerprint, sizeof c->fingerprint) < 0) goto fail;
    c->ctx = make_ctx(x, key); /* takes its own references */
    if (!c->ctx) goto fail;
    X509_free(x);
    EVP_PKEY_free(key);
    return c;
fail:
    free(c);
    X509_free(x);
    EVP_PKEY_free(key);
    return NULL;
}

dtls_cert_t *dtls_cert_new(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? self_signed(key) : NULL;
    if (!x) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        return NULL;
    }
    dtls_cert_t *c = cert_wrap(x, key);
    ERR_clear_error();
    return c;
}

/* Never prompt on a terminal for an encrypted key. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Reads the first certificate (x != NULL) or private key (key != NULL) from a PEM file. */
static int read_pem(const char *path, X509 **x, EVP_PKEY **key, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (x) *x = PEM_read_X509(f, NULL, no_password, NULL);
    if (key) *key = PEM_read_PrivateKey(f, NULL, no_password, NULL);
    fclose(f);
    if ((x && !*x) || (key && !*key)) {
        set_err(err, errlen, "%s: no PEM %s found (or it is encrypted)", path,
                x ? "certificate" : "private key");
        return -1;
    }
    return 0;
}

dtls_cert_t *dtls_cert_load(const char *cert_pem_path, const char *key_pem_path, char *err,
                            size_t errlen)
{
    X509 *x = NULL;
    EVP_PKEY *key = NULL;
    dtls_cert_t *c = NULL;
    set_err(err, errlen, "%s", "");
    if (!cert_pem_path || !key_pem_path) {
        set_err(err, errlen, "no certificate or key path given");
        goto out;
    }
    if (read_pem(cert_pem_path, &x, NULL, err, errlen) < 0 ||
        read_pem(key_pem_path, NULL, &key, err, errlen) < 0)
        goto out;
    if (X509_check_private_key(x, key) != 1) {
        set_err(err, errlen, "%s: private key does not match certificate %s", key_pem_path,
                cert_pem_path);
        goto out;
    }
    c = cert_wrap(x, key);
    x = NULL;
    key = NULL;
    if (!c)
        set_err(err, errlen, "%s: unusable for DTLS (key type or signature not supported)",
                cert_pem_path);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return c;
}

const char *dtls_cert_fingerprint(const dtls_cert_t *cert)
{
    return cert->fingerprint;
}

void dtls_cert_free(dtls_cert_t *cert)
{
    if (!cert) return;
    SSL_CTX_free(cert->ctx);
    free(cert);
}

/* ---- The outgoing datagram queue ------------------------------------------------------
 * A memory BIO would concatenate records and lose datagram boundaries, and OpenSSL would
 * size records to the room it believes is left in a datagram still being filled. This BIO
 * behaves like a UDP socket instead: every write, which OpenSSL makes one record, is one
 * datagram, and nothing is ever pending. Coalescing records is not safe either: a peer
 * that drops a stale record (an old ClientHello retransmission carries another record
 * version) discards the rest of its datagram. */

static BIO_METHOD *out_method;
static pthread_once_t out_method_once = PTHREAD_ONCE_INIT;

static int out_push(dtls_t *d, const uint8_t *data, size_t n)
{
    size_t need = d->out_len + 2 + n;
    if (n > 0xffff || need > OUT_QUEUE_MAX) return -1;
    if (need > d->out_cap) {
        size_t cap = d->out_cap ? d->out_cap * 2 : 4096;
        while (cap < need)
            cap *= 2;
        uint8_t *q = realloc(d->out, cap);
        if (!q) return -1;
        d->out = q;
        d->out_cap = cap;
    }
    d->out[d->out_len] = (uint8_t)(n >> 8);
    d->out[d->out_len + 1] = (uint8_t)n;
    memcpy(d->out + d->out_len + 2, data, n);
    d->out_len = need;
    return 0;
}

static int out_write(BIO *b, const char *data, int len)
{
    dtls_t *d = BIO_get_data(b);
    if (!d || len < 0 || out_push(d, (const uint8_t *)data, (size_t)len) < 0) return -1;
    return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
        return 1;
    default: /* WPENDING, PENDING, MTU queries...: 0 */
        return 0;
    }
}

static int out_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* Process-wide and never freed: BIOs of any thread point at it. */
static void make_out_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sobre-dtls-out");
    if (m && (!BIO_meth_set_write(m, out_write) || !BIO_meth_set_ctrl(m, out_ctrl) ||
              !BIO_meth_set_create(m, out_create))) {
        BIO_meth_free(m);
        m = NULL;
    }
    out_method = m;
}

/* ---- Connections --------------------------------------------------------------------- */

static void set_error(dtls_t *d, const char *msg)
{
    if (!d->error[0]) snprintf(d->error, sizeof d->error, "%s", msg);
}

static void fail(dtls_t *d, const char *msg)
{
    set_error(d, msg);
    d->state = DTLS_FAILED;
    d->timeout_at = UINT64_MAX;
}

/* Fails with the first reason OpenSSL queued (the root cause), or msg if none. */
static void fail_openssl(dtls_t *d, const char *msg)
{
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    fail(d, reason ? reason : msg);
    ERR_clear_error();
}

static int peer_matches(const dtls_t *d, X509 *peer)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!peer || X509_digest(peer, d->fp_md, md, &n) != 1 || n != d->fp_len) return 0;
    return CRYPTO_memcmp(md, d->fp, n) == 0;
}

static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    dtls_t *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!d) return 0;
    if (peer_matches(d, X509_STORE_CTX_get0_cert(store))) return 1;
    set_error(d, "fingerprint mismatch");
    return 0;
}

dtls_t *dtls_new(dtls_cert_t *cert, const char *remote_fingerprint, dtls_role_t role)
{
    dtls_t *d = calloc(1, sizeof *d);
    BIO *rbio = NULL, *wbio = NULL;
    if (!d || !cert || !remote_fingerprint) goto fail;
    if (parse_fingerprint(remote_fingerprint, &d->fp_md, d->fp, &d->fp_len) < 0) goto fail;
    d->role = role;
    d->state = DTLS_HANDSHAKING;
    d->timeout_at = UINT64_MAX;
    pthread_once(&out_method_once, make_out_method);
    d->ssl = SSL_new(cert->ctx);
    rbio = BIO_new(BIO_s_mem());
    wbio = out_method ? BIO_new(out_method) : NULL;
    if (!d->ssl || !rbio || !wbio) goto fail;
    /* An empty memory BIO must read as "retry later", not as end of file. */
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_data(wbio, d);
    SSL_set_bio(d->ssl, rbio, wbio);
    d->rbio = rbio;
    rbio = wbio = NULL;
    SSL_set_app_data(d->ssl, d);
    if (!SSL_set_mtu(d->ssl, DTLS_MTU)) goto fail;
    if (role == DTLS_CLIENT)
        SSL_set_connect_state(d->ssl);
    else
        SSL_set_accept_state(d->ssl);
    return d;
fail:
    BIO_free(rbio);
    BIO_free(wbio);
    dtls_free(d);
    ERR_clear_error();
    return NULL;
}

void dtls_free(dtls_t *d)
{
    if (!d) return;
    SSL_free(d->ssl); /* frees both BIOs */
    free(d->out);
    OPENSSL_cleanse(&d->keys, sizeof d->keys);
    free(d);
}

int dtls_set_srtp_profile(dtls_t *d, dtls_srtp_profile_t only)
{
    const char *name = only == DTLS_SRTP_AEAD_AES_128_GCM    ? "SRTP_AEAD_AES_128_GCM"
                       : only == DTLS_SRTP_AES128_CM_SHA1_80 ? "SRTP_AES128_CM_SHA1_80"
                                                             : NULL;
    if (d->started) return DTLS_ERR_STATE;
    if (!name || SSL_set_tlsext_use_srtp(d->ssl, name) != 0) {
        ERR_clear_error();
        return DTLS_ERR_FAILED;
    }
    return 0;
}

/* RFC 5764 §4.2: client key | server key | client salt | server salt. */
static void export_keys(dtls_t *d)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    dtls_srtp_keys_t *k = &d->keys;
    uint8_t km[2 * (DTLS_SRTP_KEY_MAX + DTLS_SRTP_SALT_MAX)];
    if (!p) {
        fail(d, "no SRTP profile negotiated");
        return;
    }
    if (p->id == SRTP_AEAD_AES_128_GCM) {
        k->profile = DTLS_SRTP_AEAD_AES_128_GCM;
        k->salt_len = 12;
    } else if (p->id == SRTP_AES128_CM_SHA1_80) {
        k->profile = DTLS_SRTP_AES128_CM_SHA1_80;
        k->salt_len = 14;
    } else {
        fail(d, "unsupported SRTP profile negotiated");
        return;
    }
    k->key_len = 16;
    size_t kl = k->key_len, sl = k->salt_len;
    if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), EXPORTER_LABEL,
                                   strlen(EXPORTER_LABEL), NULL, 0, 0) != 1) {
        fail_openssl(d, "SRTP key export failed");
        return;
    }
    const uint8_t *client_key = km, *server_key = km + kl;
    const uint8_t *client_salt = km + 2 * kl, *server_salt = km + 2 * kl + sl;
    int server = d->role == DTLS_SERVER;
    memcpy(k->local_key, server ? server_key : client_key, kl);
    memcpy(k->local_salt, server ? server_salt : client_salt, sl);
    memcpy(k->remote_key, server ? client_key : server_key, kl);
    memcpy(k->remote_salt, server ? client_salt : server_salt, sl);
    OPENSSL_cleanse(km, sizeof km);
}

static void on_handshake_done(dtls_t *d)
{
    /* verify_cb has already rejected a wrong certificate; check again in case a future
     * change (session resumption, a custom verify mode) lets the handshake skip it. */
    if (!peer_matches(d, SSL_get0_peer_certificate(d->ssl))) {
        fail(d, "fingerprint mismatch");
        return;
    }
    export_keys(d);
    if (d->state == DTLS_FAILED) return;
    d->state = DTLS_CONNECTED;
    d->connected_once = 1;
}

static void step_handshake(dtls_t *d)
{
    ERR_clear_error();
    int r = SSL_do_handshake(d->ssl);
    if (r == 1) {
        on_handshake_done(d);
        return;
    }
    int e = SSL_get_error(d->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    fail_openssl(d, "handshake failed");
}

/* After the handshake OpenSSL still has work inside SSL_read: answering a retransmitted
 * client flight with our last flight, and alerts. Application data is not used. */
static void step_connected(dtls_t *d)
{
    uint8_t scratch[DTLS_MTU];
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(d->ssl, scratch, sizeof scratch);
        if (n > 0) {
            d->ignored++;
            continue;
        }
        int e = SSL_get_error(d->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        if (e == SSL_ERROR_ZERO_RETURN) {
            d->state = DTLS_CLOSED;
            return;
        }
        fail_openssl(d, "connection failed");
        return;
    }
}

static void rearm(dtls_t *d, uint64_t now_ms)
{
    struct timeval tv;
    d->timeout_at = UINT64_MAX;
    if (d->state != DTLS_HANDSHAKING && d->state != DTLS_CONNECTED) return;
    if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
        d->timeout_at = now_ms + (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

int dtls_handle(dtls_t *d, const uint8_t *in, size_t len, uint64_t now_ms)
{
    int is_dtls = in && len >= REC_HDR_LEN && len <= INT_MAX && in[0] >= 20 && in[0] <= 63;
    if (d->state == DTLS_FAILED || d->state == DTLS_CLOSED || (in && len && !is_dtls)) {
        if (in && len) d->ignored++;
        return d->state == DTLS_FAILED ? DTLS_ERR_FAILED : 0;
    }
    if (is_dtls && BIO_write(d->rbio, in, (int)len) != (int)len) {
        fail(d, "out of memory");
        return DTLS_ERR_FAILED;
    }
    d->started = 1;
    if (d->state == DTLS_HANDSHAKING) step_handshake(d);
    if (d->state == DTLS_CONNECTED) step_connected(d);
    /* OpenSSL reads a datagram whole; anything left belongs to no future datagram. */
    (void)BIO_reset(d->rbio);
    rearm(d, now_ms);
    return d->state == DTLS_FAILED ? DTLS_ERR_FAILED : 0;
}

int dtls_pop_datagram(dtls_t *d, uint8_t *buf, size_t cap, size_t *len)
{
    *len = 0;
    if (d->out_head == d->out_len) return 0;
    const uint8_t *p = d->out + d->out_head;
    size_t n = (size_t)p[0] << 8 | p[1];
    if (n > cap) return DTLS_ERR_NOSPACE;
    memcpy(buf, p + 2, n);
    d->out_head += 2 + n;
    if (d->out_head == d->out_len) d->out_head = d->out_len = 0;
    *len = n;
    return 0;
}

uint64_t dtls_next_timeout(const dtls_t *d)
{
    return d->timeout_at;
}

int dtls_on_timeout(dtls_t *d, uint64_t now_ms)
{
    if (d->state == DTLS_FAILED) return DTLS_ERR_FAILED;
    if (d->state == DTLS_HANDSHAKING || d->state == DTLS_CONNECTED) {
        ERR_clear_error();
        if (DTLSv1_handle_timeout(d->ssl) < 0) fail_openssl(d, "handshake timed out");
    }
    rearm(d, now_ms);
    return d->state == DTLS_FAILED ? DTLS_ERR_FAILED : 0;
}

int dtls_close(dtls_t *d)
{
    if (d->state != DTLS_CONNECTED) return DTLS_ERR_STATE;
    ERR_clear_error();
    (void)SSL_shutdown(d->ssl); /* queues close_notify; we do not wait for the reply */
    ERR_clear_error();
    d->state = DTLS_CLOSED;
    d->timeout_at = UINT64_MAX;
    return 0;
}

dtls_state_t dtls_state(const dtls_t *d)
{
    return d->state;
}

const char *dtls_error(const dtls_t *d)
{
    return d->error;
}

uint64_t dtls_ignored(const dtls_t *d)
{
    return d->ignored;
}

int dtls_srtp_keys(const dtls_t *d, dtls_srtp_keys_t *out)
{
    if (!d->connected_once || d->state == DTLS_FAILED) return DTLS_ERR_STATE;
    *out = d->keys;
    return 0;
}
