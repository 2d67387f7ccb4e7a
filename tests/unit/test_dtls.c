/* Tests for sfu/dtls: in-process handshakes shuttled through memory. */
#include "dtls.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define MAX_ROUNDS 50

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Moves every pending datagram from one side to the other; returns how many moved. */
static int transfer(dtls_t *from, dtls_t *to)
{
    uint8_t buf[DTLS_MTU];
    size_t len;
    int moved = 0;
    while (dtls_pop_datagram(from, buf, sizeof buf, &len) == 0 && len > 0) {
        CHECK(len <= DTLS_MTU);
        dtls_handle(to, buf, len, now_ms());
        moved++;
    }
    return moved;
}

/* Discards every pending datagram of d; returns how many there were. */
static int drop_all(dtls_t *d)
{
    uint8_t buf[DTLS_MTU];
    size_t len;
    int n = 0;
    while (dtls_pop_datagram(d, buf, sizeof buf, &len) == 0 && len > 0)
        n++;
    return n;
}

/* Runs both sides until neither has anything to say, within a bounded number of rounds. */
static void pump(dtls_t *client, dtls_t *server)
{
    dtls_handle(client, NULL, 0, now_ms());
    for (int i = 0; i < MAX_ROUNDS; i++) {
        int moved = transfer(client, server) + transfer(server, client);
        if (!moved) return;
    }
    CHECK(!"handshake did not settle");
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void check_keys_mirror(dtls_t *server, dtls_t *client, dtls_srtp_profile_t profile)
{
    dtls_srtp_keys_t s, c;
    CHECK_INT(dtls_srtp_keys(server, &s), 0);
    CHECK_INT(dtls_srtp_keys(client, &c), 0);
    CHECK_INT(s.profile, profile);
    CHECK_INT(c.profile, profile);
    CHECK_INT(s.key_len, 16);
    CHECK_INT(s.salt_len, profile == DTLS_SRTP_AEAD_AES_128_GCM ? 12 : 14);
    CHECK(!memcmp(s.local_key, c.remote_key, 16));
    CHECK(!memcmp(s.remote_key, c.local_key, 16));
    CHECK(!memcmp(s.local_salt, c.remote_salt, s.salt_len));
    CHECK(!memcmp(s.remote_salt, c.local_salt, s.salt_len));
    CHECK(memcmp(s.local_key, s.remote_key, 16) != 0);
    CHECK(!all_zero(s.local_key, 16) && !all_zero(s.remote_salt, s.salt_len));
}

static void test_fingerprint_format(void)
{
    dtls_cert_t *cert = dtls_cert_new();
    CHECK(cert != NULL);
    if (!cert) return;
    const char *fp = dtls_cert_fingerprint(cert);
    CHECK_INT(strlen(fp), 8 + 32 * 3 - 1);
    CHECK(!strncmp(fp, "sha-256 ", 8));
    int shape_ok = 1;
    for (int i = 0; i < 32 * 3 - 1; i++) {
        char ch = fp[8 + i];
        if (i % 3 == 2 ? ch != ':' : !((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F')))
            shape_ok = 0;
    }
    CHECK(shape_ok);
    CHECK_INT(dtls_fingerprint_check(fp), 0);

    char lower[DTLS_FINGERPRINT_MAX];
    snprintf(lower, sizeof lower, "SHA-256 %s\r\n", fp + 8);
    for (char *p = lower + 8; *p; p++)
        if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
    CHECK_INT(dtls_fingerprint_check(lower), 0);

    static const char *bad[] = {
        "",
        "sha-256",
        "sha-256 ",
        "md5 AB:CD",
        "sha-256 AB:CD",
        "sha-256  AB",
        "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:3G",
        "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44",
        "sha-1 00-11-22-33-44-55-66-77-88-99-AA-BB-CC-DD-EE-FF-00-11-22-33",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(dtls_fingerprint_check(bad[i]), DTLS_ERR_FINGERPRINT);
    CHECK_INT(dtls_fingerprint_check(NULL), DTLS_ERR_FINGERPRINT);
    CHECK_INT(
        dtls_fingerprint_check("sha-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33"),
        0);
    CHECK(dtls_new(cert, "sha-256 AB:CD", DTLS_SERVER) == NULL);
    dtls_cert_free(cert);
    dtls_cert_free(NULL);
    dtls_free(NULL);
}

/* profile DTLS_SRTP_NONE: the client offers both and the server's preference (GCM) wins. */
static void test_handshake(dtls_srtp_profile_t force)
{
    dtls_cert_t *sc = dtls_cert_new(), *cc = dtls_cert_new();
    dtls_t *server = dtls_new(sc, dtls_cert_fingerprint(cc), DTLS_SERVER);
    dtls_t *client = dtls_new(cc, dtls_cert_fingerprint(sc), DTLS_CLIENT);
    CHECK(server && client);
    if (!server || !client) goto out;
    if (force != DTLS_SRTP_NONE) CHECK_INT(dtls_set_srtp_profile(client, force), 0);
    CHECK_INT(dtls_state(server), DTLS_HANDSHAKING);
    pump(client, server);
    CHECK_INT(dtls_state(server), DTLS_CONNECTED);
    CHECK_INT(dtls_state(client), DTLS_CONNECTED);
    CHECK_STR(dtls_error(server), "");
    check_keys_mirror(server, client, force == DTLS_SRTP_NONE ? DTLS_SRTP_AEAD_AES_128_GCM : force);
    CHECK_INT(dtls_set_srtp_profile(client, DTLS_SRTP_AES128_CM_SHA1_80), DTLS_ERR_STATE);
    CHECK_INT(dtls_next_timeout(server), UINT64_MAX);

    /* close_notify from the client closes the server side. */
    CHECK_INT(dtls_close(client), 0);
    CHECK_INT(dtls_state(client), DTLS_CLOSED);
    CHECK_INT(transfer(client, server), 1);
    CHECK_INT(dtls_state(server), DTLS_CLOSED);
    CHECK_INT(dtls_close(server), DTLS_ERR_STATE);
out:
    dtls_free(server);
    dtls_free(client);
    dtls_cert_free(sc);
    dtls_cert_free(cc);
}

/* The server (or the client) expects another certificate than the one presented. */
static void test_fingerprint_mismatch(int server_side)
{
    dtls_cert_t *sc = dtls_cert_new(), *cc = dtls_cert_new(), *other = dtls_cert_new();
    const char *wrong = dtls_cert_fingerprint(other);
    dtls_t *server = dtls_new(sc, server_side ? wrong : dtls_cert_fingerprint(cc), DTLS_SERVER);
    dtls_t *client = dtls_new(cc, server_side ? dtls_cert_fingerprint(sc) : wrong, DTLS_CLIENT);
    dtls_srtp_keys_t keys;
    pump(client, server);
    dtls_t *checker = server_side ? server : client;
    CHECK_INT(dtls_state(checker), DTLS_FAILED);
    CHECK_STR(dtls_error(checker), "fingerprint mismatch");
    CHECK_INT(dtls_srtp_keys(checker, &keys), DTLS_ERR_STATE);
    /* The alert told the other side; it must not believe it is connected. */
    CHECK(dtls_state(server_side ? client : server) != DTLS_CONNECTED);
    CHECK_INT(dtls_handle(checker, NULL, 0, now_ms()), DTLS_ERR_FAILED);
    dtls_free(server);
    dtls_free(client);
    dtls_cert_free(sc);
    dtls_cert_free(cc);
    dtls_cert_free(other);
}

/* ---- A raw OpenSSL client, for what a dtls_t client cannot do -------------------------- */

typedef struct {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;
} raw_client_t;

static int raw_client_init(raw_client_t *rc, X509 *cert, EVP_PKEY *key)
{
    memset(rc, 0, sizeof *rc);
    rc->ctx = SSL_CTX_new(DTLS_client_method());
    if (!rc->ctx || SSL_CTX_set_tlsext_use_srtp(rc->ctx, "SRTP_AES128_CM_SHA1_80") != 0) return -1;
    if (cert &&
        (SSL_CTX_use_certificate(rc->ctx, cert) != 1 || SSL_CTX_use_PrivateKey(rc->ctx, key) != 1))
        return -1;
    rc->ssl = SSL_new(rc->ctx);
    rc->rbio = BIO_new(BIO_s_mem());
    rc->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rc->rbio, -1);
    BIO_set_mem_eof_return(rc->wbio, -1);
    SSL_set_bio(rc->ssl, rc->rbio, rc->wbio);
    SSL_set_options(rc->ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(rc->ssl, DTLS_MTU);
    SSL_set_connect_state(rc->ssl);
    return 0;
}

static void raw_client_free(raw_client_t *rc)
{
    SSL_free(rc->ssl);
    SSL_CTX_free(rc->ctx);
}

/* Sends whatever the raw client wrote to the server as one datagram (DTLS allows several
 * records per datagram), then feeds the server's replies back one by one. */
static int raw_exchange(raw_client_t *rc, dtls_t *server)
{
    uint8_t buf[16384];
    size_t len;
    int n = BIO_read(rc->wbio, buf, sizeof buf), moved = 0;
    if (n > 0) {
        dtls_handle(server, buf, (size_t)n, now_ms());
        moved++;
    }
    while (dtls_pop_datagram(server, buf, sizeof buf, &len) == 0 && len > 0) {
        BIO_write(rc->rbio, buf, (int)len);
        SSL_do_handshake(rc->ssl);
        moved++;
    }
    return moved;
}

static void raw_handshake(raw_client_t *rc, dtls_t *server)
{
    SSL_do_handshake(rc->ssl);
    for (int i = 0; i < MAX_ROUNDS && raw_exchange(rc, server); i++)
        ;
}

static EVP_PKEY *test_key(int rsa)
{
    return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

static X509 *test_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, key, EVP_sha256());
    return x;
}

static void fingerprint_of(X509 *x, char *out, size_t cap)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    X509_digest(x, EVP_sha256(), md, &n);
    size_t off = (size_t)snprintf(out, cap, "sha-256 ");
    for (unsigned i = 0; i < n; i++)
        off += (size_t)snprintf(out + off, cap - off, i ? ":%02X" : "%02X", md[i]);
}

static void test_client_without_certificate(void)
{
    dtls_cert_t *sc = dtls_cert_new();
    dtls_t *server = dtls_new(sc, dtls_cert_fingerprint(sc), DTLS_SERVER);
    raw_client_t rc;
    CHECK_INT(raw_client_init(&rc, NULL, NULL), 0);
    raw_handshake(&rc, server);
    CHECK_INT(dtls_state(server), DTLS_FAILED);
    CHECK(strstr(dtls_error(server), "certificate") != NULL);
    printf("no client certificate: \"%s\"\n", dtls_error(server));
    raw_client_free(&rc);
    dtls_free(server);
    dtls_cert_free(sc);
    ERR_clear_error();
}

/* Application data is ignored; the peer's close_notify closes. */
static void test_app_data_and_close(void)
{
    EVP_PKEY *key = test_key(0);
    X509 *x = test_cert(key);
    char fp[DTLS_FINGERPRINT_MAX];
    fingerprint_of(x, fp, sizeof fp);
    dtls_cert_t *sc = dtls_cert_new();
    dtls_t *server = dtls_new(sc, fp, DTLS_SERVER);
    raw_client_t rc;
    CHECK_INT(raw_client_init(&rc, x, key), 0);
    raw_handshake(&rc, server);
    CHECK_INT(dtls_state(server), DTLS_CONNECTED);
    CHECK_INT(SSL_is_init_finished(rc.ssl), 1);
    CHECK_INT(SSL_write(rc.ssl, "hello", 5), 5);
    raw_exchange(&rc, server);
    CHECK_INT(dtls_state(server), DTLS_CONNECTED);
    CHECK_INT(dtls_ignored(server), 1);
    SSL_shutdown(rc.ssl);
    raw_exchange(&rc, server);
    CHECK_INT(dtls_state(server), DTLS_CLOSED);
    raw_client_free(&rc);
    dtls_free(server);
    dtls_cert_free(sc);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void feed_garbage(dtls_t *d, unsigned seed)
{
    uint8_t junk[1500];
    srand(seed);
    for (int i = 0; i < 200; i++) {
        size_t len = (size_t)(rand() % (int)sizeof junk);
        for (size_t j = 0; j < len; j++)
            junk[j] = (uint8_t)rand();
        if (len && i % 2) junk[0] = (uint8_t)(20 + rand() % 4); /* looks like DTLS */
        dtls_handle(d, junk, len, now_ms());
    }
    dtls_handle(d, junk, 0, now_ms());
    dtls_handle(d, NULL, 0, now_ms());
}

static void test_garbage(void)
{
    dtls_cert_t *sc = dtls_cert_new(), *cc = dtls_cert_new();
    dtls_t *server = dtls_new(sc, dtls_cert_fingerprint(cc), DTLS_SERVER);
    dtls_t *client = dtls_new(cc, dtls_cert_fingerprint(sc), DTLS_CLIENT);
    static const uint8_t stun[20] = {0x00, 0x01}, rtp[12] = {0x80, 0x60};
    dtls_handle(server, stun, sizeof stun, now_ms());
    dtls_handle(server, rtp, sizeof rtp, now_ms());
    CHECK_INT(dtls_ignored(server), 2);
    feed_garbage(server, 1);
    CHECK(dtls_ignored(server) > 2);
    CHECK_INT(dtls_state(server), DTLS_HANDSHAKING);
    drop_all(server); /* whatever OpenSSL may have answered to junk */
    pump(client, server);
    CHECK_INT(dtls_state(server), DTLS_CONNECTED);
    CHECK_INT(dtls_state(client), DTLS_CONNECTED);
    feed_garbage(server, 2);
    feed_garbage(client, 3);
    CHECK_INT(dtls_state(server), DTLS_CONNECTED);
    CHECK_INT(dtls_state(client), DTLS_CONNECTED);
    check_keys_mirror(server, client, DTLS_SRTP_AEAD_AES_128_GCM);
    dtls_free(server);
    dtls_free(client);
    dtls_cert_free(sc);
    dtls_cert_free(cc);
}

/* The server's first flight is lost: the retransmission timer resends it. OpenSSL times
 * the flight with the real clock, so this test sleeps through the 1 s initial timeout. */
static void test_retransmission(void)
{
    dtls_cert_t *sc = dtls_cert_new(), *cc = dtls_cert_new();
    dtls_t *server = dtls_new(sc, dtls_cert_fingerprint(cc), DTLS_SERVER);
    dtls_t *client = dtls_new(cc, dtls_cert_fingerprint(sc), DTLS_CLIENT);
    uint8_t small[16];
    size_t len = 99;
    CHECK_INT(dtls_next_timeout(server), UINT64_MAX);
    dtls_handle(client, NULL, 0, now_ms());
    CHECK(dtls_next_timeout(client) != UINT64_MAX);
    uint64_t t0 = now_ms();
    CHECK_INT(transfer(client, server), 1); /* ClientHello */
    CHECK_INT(dtls_pop_datagram(server, small, sizeof small, &len), DTLS_ERR_NOSPACE);
    CHECK_INT(len, 0);
    CHECK(drop_all(server) >= 1); /* ServerHello ... ServerHelloDone, lost */
    uint64_t due = dtls_next_timeout(server);
    CHECK(due >= t0 + 900 && due <= t0 + 1100);

    /* A timer that fires early retransmits nothing and re-arms for the same moment. */
    CHECK_INT(dtls_on_timeout(server, now_ms()), 0);
    CHECK_INT(drop_all(server), 0);
    CHECK(dtls_next_timeout(server) >= due - 20 && dtls_next_timeout(server) <= due + 20);

    sleep_ms((unsigned)(due - now_ms()) + 20);
    CHECK_INT(dtls_on_timeout(server, now_ms()), 0);
    CHECK(dtls_next_timeout(server) >= now_ms() + 1500); /* doubled to 2 s */
    CHECK(transfer(server, client) >= 1);
    for (int i = 0; i < MAX_ROUNDS && (transfer(client, server) + transfer(server, client)); i++)
        ;
    CHECK_INT(dtls_state(server), DTLS_CONNECTED);
    CHECK_INT(dtls_state(client), DTLS_CONNECTED);
    CHECK_INT(dtls_next_timeout(client), UINT64_MAX);
    dtls_free(server);
    dtls_free(client);
    dtls_cert_free(sc);
    dtls_cert_free(cc);
}

static int write_pem(const char *path, X509 *x, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : -1;
}

static void test_cert_load(void)
{
    char dir[] = "/tmp/sobre_dtls_XXXXXX", cert_path[64], key_path[64], other_key[64];
    char err[256], fp[DTLS_FINGERPRINT_MAX];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/other.pem", dir);
    EVP_PKEY *key = test_key(1), *key2 = test_key(0);
    X509 *x = test_cert(key);
    CHECK_INT(write_pem(cert_path, x, NULL), 0);
    CHECK_INT(write_pem(key_path, NULL, key), 0);
    CHECK_INT(write_pem(other_key, NULL, key2), 0);

    CHECK(dtls_cert_load("/nonexistent/cert.pem", key_path, err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/cert.pem: No such file or directory");
    CHECK(dtls_cert_load(cert_path, "/nonexistent/key.pem", err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/key.pem: No such file or directory");
    CHECK(dtls_cert_load(key_path, key_path, err, sizeof err) == NULL);
    CHECK(strstr(err, "no PEM certificate") && strstr(err, key_path));
    CHECK(dtls_cert_load(cert_path, cert_path, err, sizeof err) == NULL);
    CHECK(strstr(err, "no PEM private key") && strstr(err, cert_path));
    CHECK(dtls_cert_load(cert_path, other_key, err, sizeof err) == NULL);
    CHECK(strstr(err, "does not match") != NULL);
    CHECK(dtls_cert_load("/nonexistent/cert.pem", key_path, NULL, 0) == NULL); /* no err buffer */

    /* A configured RSA certificate: same fingerprint as computed here, and it works. */
    dtls_cert_t *loaded = dtls_cert_load(cert_path, key_path, err, sizeof err);
    CHECK(loaded != NULL);
    CHECK_STR(err, "");
    fingerprint_of(x, fp, sizeof fp);
    if (loaded) {
        CHECK_STR(dtls_cert_fingerprint(loaded), fp);
        dtls_cert_t *cc = dtls_cert_new();
        dtls_t *server = dtls_new(loaded, dtls_cert_fingerprint(cc), DTLS_SERVER);
        dtls_t *client = dtls_new(cc, fp, DTLS_CLIENT);
        dtls_cert_free(loaded); /* the connection keeps what it needs */
        pump(client, server);
        CHECK_INT(dtls_state(server), DTLS_CONNECTED);
        check_keys_mirror(server, client, DTLS_SRTP_AEAD_AES_128_GCM);
        dtls_free(server);
        dtls_free(client);
        dtls_cert_free(cc);
    }
    unlink(cert_path);
    unlink(key_path);
    unlink(other_key);
    rmdir(dir);
    X509_free(x);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
}

int main(void)
{
    test_fingerprint_format();
    test_handshake(DTLS_SRTP_NONE);
    test_handshake(DTLS_SRTP_AEAD_AES_128_GCM);
    test_handshake(DTLS_SRTP_AES128_CM_SHA1_80);
    test_fingerprint_mismatch(1);
    test_fingerprint_mismatch(0);
    test_client_without_certificate();
    test_app_data_and_close();
    test_garbage();
    test_cert_load();
    test_retransmission();
    TEST_END();
}
