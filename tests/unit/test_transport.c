/* Tests for sfu/transport: a server transport driven by a client made of the project's own
 * modules (stun.h checks, a dtls.h client, an srtp_conn from the client's keys). What the
 * transport sends goes through a real sendq on a UDP socket bound to 127.0.0.1 and is read
 * back from the client's sockets. Time is a parameter (fake ms), except for the DTLS
 * retransmission, which OpenSSL times with the real clock. */
#include "dtls.h"
#include "ice.h"
#include "sendq.h"
#include "srtp_conn.h"
#include "stun.h"
#include "test.h"
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SRV_UFRAG "srvU"
#define SRV_PWD   "serverPasswordIs24chars+"
#define CLI_UFRAG "cliU"
#define CLI_PWD   "clientPasswordIs22chr+"
#define GOOD_USER SRV_UFRAG ":" CLI_UFRAG

#define NCLI       3 /* client addresses: A and B pass checks, C never does */
#define A          0
#define B          1
#define C          2
#define MAX_ROUNDS 50
#define BUF_WORDS  512

typedef struct {
    dtls_cert_t *scert, *ccert;
    int srv, cli[NCLI];
    struct sockaddr_in addr[NCLI];
    sendq_t *q;
    transport_t *t;
    dtls_t *dtls;      /* the client's */
    srtp_conn_t *srtp; /* the client's, once connected */
    uint8_t txid;
} rig_t;

static int udp_socket(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    CHECK(fd >= 0);
    CHECK_INT(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    if (addr) *addr = sin;
    return fd;
}

static const struct sockaddr *sa(const rig_t *r, int who)
{
    return (const struct sockaddr *)&r->addr[who];
}

/* fingerprint: what the server expects of the client (NULL: the client's real one). */
static bool rig_init(rig_t *r, const char *fingerprint)
{
    memset(r, 0, sizeof *r);
    r->scert = dtls_cert_new();
    r->ccert = dtls_cert_new();
    r->srv = udp_socket(NULL);
    for (int i = 0; i < NCLI; i++)
        r->cli[i] = udp_socket(&r->addr[i]);
    r->q = sendq_new(r->srv);
    transport_params_t p = {.local_ufrag = SRV_UFRAG,
                            .local_pwd = SRV_PWD,
                            .remote_ufrag = CLI_UFRAG,
                            .remote_pwd = CLI_PWD};
    snprintf(p.remote_fingerprint, sizeof p.remote_fingerprint, "%s",
             fingerprint ? fingerprint : dtls_cert_fingerprint(r->ccert));
    r->t = transport_new(&p, r->scert);
    r->dtls = dtls_new(r->ccert, dtls_cert_fingerprint(r->scert), DTLS_CLIENT);
    CHECK(r->scert && r->ccert && r->t && r->dtls);
    return r->scert && r->ccert && r->t && r->dtls;
}

static void rig_free(rig_t *r)
{
    transport_free(r->t);
    dtls_free(r->dtls);
    srtp_conn_free(r->srtp);
    sendq_free(r->q);
    dtls_cert_free(r->scert);
    dtls_cert_free(r->ccert);
    close(r->srv);
    for (int i = 0; i < NCLI; i++)
        close(r->cli[i]);
}

/* One datagram waiting at client socket who, or -1. Loopback delivery is synchronous. */
static ssize_t recv_at(rig_t *r, int who, uint8_t *buf, size_t cap)
{
    return recv(r->cli[who], buf, cap, MSG_DONTWAIT);
}

/* Discards what waits at every client socket; returns how many datagrams there were. */
static int drain_all(rig_t *r)
{
    uint8_t buf[SENDQ_SLOT_SIZE];
    int n = 0;
    for (int i = 0; i < NCLI; i++)
        while (recv_at(r, i, buf, sizeof buf) >= 0)
            n++;
    return n;
}

/* Sends a Binding request from client address who; returns 0 for a success response
 * (checked: transaction, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY with our password), the
 * ERROR-CODE of an error response, or -1 when nothing came back. */
static int check(rig_t *r, int who, const char *user, const char *pwd, bool use_candidate,
                 uint64_t now)
{
    stun_binding_request_t req = {
        .username = user,
        .priority = 0x6e7f1eff,
        .role = STUN_ROLE_CONTROLLING,
        .tiebreaker = 0x0102030405060708ull,
        .use_candidate = use_candidate,
        .key = (const uint8_t *)pwd,
        .keylen = strlen(pwd),
    };
    memset(req.txid, ++r->txid, sizeof req.txid);
    uint8_t pkt[512], buf[SENDQ_SLOT_SIZE];
    int n = stun_build_binding_request(pkt, sizeof pkt, &req);
    CHECK(n > 0);
    if (n <= 0) return -2;
    transport_on_stun(r->t, pkt, (size_t)n, sa(r, who), sizeof r->addr[who], now, r->q);
    sendq_flush(r->q);
    ssize_t got = recv_at(r, who, buf, sizeof buf);
    CHECK_INT(drain_all(r), 0); /* one answer at most, and only to the sender */
    if (got < 0) return -1;
    stun_msg_t m;
    CHECK_INT(stun_parse(buf, (size_t)got, &m), 0);
    CHECK(!memcmp(m.txid, req.txid, STUN_TXID_LEN));
    CHECK_INT(stun_check_fingerprint(buf, (size_t)got, &m), 0);
    if (m.cls == STUN_CLASS_ERROR) return m.error_code;
    CHECK_INT(m.cls, STUN_CLASS_SUCCESS);
    CHECK(m.present & STUN_HAS_XOR_MAPPED);
    const struct sockaddr_in *mapped = (const struct sockaddr_in *)&m.xor_mapped;
    CHECK(mapped->sin_family == AF_INET && mapped->sin_port == r->addr[who].sin_port &&
          mapped->sin_addr.s_addr == r->addr[who].sin_addr.s_addr);
    CHECK_INT(stun_check_integrity(buf, (size_t)got, &m, (const uint8_t *)SRV_PWD, strlen(SRV_PWD)),
              0);
    return 0;
}

static int good_check(rig_t *r, int who, bool use_candidate, uint64_t now)
{
    return check(r, who, GOOD_USER, SRV_PWD, use_candidate, now);
}

/* Client datagrams to the transport as coming from who; returns how many. */
static int client_to_server(rig_t *r, int who, uint64_t now)
{
    uint8_t buf[DTLS_MTU];
    size_t len;
    int n = 0;
    while (dtls_pop_datagram(r->dtls, buf, sizeof buf, &len) == 0 && len > 0) {
        transport_on_dtls(r->t, buf, len, sa(r, who), now, r->q);
        n++;
    }
    sendq_flush(r->q);
    return n;
}

/* What the transport sent to address who, fed to the client; returns how many. */
static int server_to_client(rig_t *r, int who, uint64_t now)
{
    uint8_t buf[SENDQ_SLOT_SIZE];
    ssize_t got;
    int n = 0;
    while ((got = recv_at(r, who, buf, sizeof buf)) >= 0) {
        dtls_handle(r->dtls, buf, (size_t)got, now);
        n++;
    }
    return n;
}

/* Runs the DTLS handshake from client address who until nothing moves. */
static void handshake(rig_t *r, int who, uint64_t now)
{
    dtls_handle(r->dtls, NULL, 0, now);
    for (int i = 0; i < MAX_ROUNDS; i++) {
        int moved = client_to_server(r, who, now);
        moved += server_to_client(r, who, now);
        if (!moved) return;
    }
    CHECK(!"handshake did not settle");
}

/* Checks from A with USE-CANDIDATE, handshakes, keys the client's SRTP. */
static bool connect_rig(rig_t *r, uint64_t now)
{
    CHECK_INT(good_check(r, A, true, now), 0);
    handshake(r, A, now);
    CHECK_INT(transport_state(r->t), TRANSPORT_CONNECTED);
    CHECK_INT(dtls_state(r->dtls), DTLS_CONNECTED);
    dtls_srtp_keys_t keys;
    if (dtls_srtp_keys(r->dtls, &keys) == 0) r->srtp = srtp_conn_new(&keys);
    CHECK(r->srtp != NULL);
    return r->srtp != NULL && transport_state(r->t) == TRANSPORT_CONNECTED;
}

static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload)
{
    uint8_t hdr[12] = {0x80,
                       96,
                       (uint8_t)(seq >> 8),
                       (uint8_t)seq,
                       0,
                       0,
                       0,
                       1,
                       (uint8_t)(ssrc >> 24),
                       (uint8_t)(ssrc >> 16),
                       (uint8_t)(ssrc >> 8),
                       (uint8_t)ssrc};
    memcpy(buf, hdr, 12);
    for (size_t i = 0; i < payload; i++)
        buf[12 + i] = (uint8_t)(seq + i);
    return 12 + payload;
}

static size_t make_rtcp_pli(uint8_t *buf, uint32_t ssrc)
{
    static const uint8_t pli[12] = {0x81, 206, 0, 2, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe};
    memcpy(buf, pli, sizeof pli);
    for (int i = 0; i < 4; i++)
        buf[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    return sizeof pli;
}

/* The client protects a packet; the transport unprotects it as coming from who. */
static int client_media(rig_t *r, int who, bool rtcp, uint16_t seq, uint64_t now)
{
    uint32_t buf[BUF_WORDS], plain[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    size_t len = rtcp ? make_rtcp_pli(b, 0x1234) : make_rtp(b, seq, 0x1234, 160), n = len;
    memcpy(plain, buf, len);
    CHECK_INT(rtcp ? srtp_conn_protect_rtcp(r->srtp, b, &n, sizeof buf)
                   : srtp_conn_protect_rtp(r->srtp, b, &n, sizeof buf),
              0);
    int rc = transport_unprotect(r->t, b, &n, rtcp, sa(r, who), now);
    if (rc == 0) CHECK(n == len && !memcmp(b, plain, len));
    return rc;
}

/* The transport sends a packet; returns which client address received it (-1: none),
 * after checking that the client unprotects it to the original. */
static int server_media(rig_t *r, bool rtcp, uint16_t seq)
{
    uint8_t plain[1500];
    uint32_t buf[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    size_t len = rtcp ? make_rtcp_pli(plain, 0x5678) : make_rtp(plain, seq, 0x5678, 1000);
    if (transport_send(r->t, plain, len, rtcp, r->q) != 0) return -1;
    sendq_flush(r->q);
    for (int who = 0; who < NCLI; who++) {
        ssize_t got = recv_at(r, who, b, sizeof buf);
        if (got < 0) continue;
        size_t n = (size_t)got;
        CHECK_INT(rtcp ? srtp_conn_unprotect_rtcp(r->srtp, b, &n)
                       : srtp_conn_unprotect_rtp(r->srtp, b, &n),
                  0);
        CHECK(n == len && !memcmp(b, plain, len));
        CHECK_INT(drain_all(r), 0);
        return who;
    }
    return -1;
}

static transport_stats_t stats(const rig_t *r)
{
    transport_stats_t s;
    transport_get_stats(r->t, &s);
    return s;
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_new(void)
{
    dtls_cert_t *cert = dtls_cert_new();
    transport_params_t p = {.local_ufrag = SRV_UFRAG,
                            .local_pwd = SRV_PWD,
                            .remote_ufrag = CLI_UFRAG,
                            .remote_pwd = CLI_PWD};
    snprintf(p.remote_fingerprint, sizeof p.remote_fingerprint, "sha-256 AB:CD");
    CHECK(transport_new(&p, cert) == NULL);
    snprintf(p.remote_fingerprint, sizeof p.remote_fingerprint, "%s", dtls_cert_fingerprint(cert));
    transport_t *t = transport_new(&p, cert);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(transport_local_ufrag(t), SRV_UFRAG);
        CHECK_INT(transport_state(t), TRANSPORT_NEW);
        CHECK_STR(transport_error(t), "");
        CHECK_INT(transport_next_timeout(t), UINT64_MAX);
    }
    transport_free(t);
    snprintf(p.local_ufrag, sizeof p.local_ufrag, "ab"); /* too short for ICE */
    CHECK(transport_new(&p, cert) == NULL);
    transport_free(NULL);
    dtls_cert_free(cert);
}

static void test_connect_and_media(void)
{
    rig_t r;
    if (!rig_init(&r, NULL)) goto out;
    uint8_t pkt[64] = {0};
    size_t n = sizeof pkt;
    CHECK_INT(transport_send(r.t, pkt, 20, false, r.q), -1); /* not connected yet */
    CHECK_INT(transport_unprotect(r.t, pkt, &n, false, sa(&r, A), 1000), SRTP_CONN_ERR_OTHER);

    CHECK_INT(good_check(&r, A, true, 1000), 0);
    CHECK(transport_knows(r.t, sa(&r, A)));
    CHECK(!transport_knows(r.t, sa(&r, B)));
    CHECK_INT(transport_state(r.t), TRANSPORT_NEW);
    CHECK_INT(transport_next_timeout(r.t), 1000 + ICE_CONSENT_TIMEOUT_MS);
    handshake(&r, A, 1000);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);
    CHECK_STR(transport_error(r.t), "");
    CHECK_INT(dtls_state(r.dtls), DTLS_CONNECTED);
    CHECK(stats(&r).dtls_in >= 2);
    dtls_srtp_keys_t keys;
    CHECK_INT(dtls_srtp_keys(r.dtls, &keys), 0);
    CHECK_INT(keys.profile, DTLS_SRTP_AEAD_AES_128_GCM);
    r.srtp = srtp_conn_new(&keys);
    CHECK(r.srtp != NULL);
    if (!r.srtp) goto out;
    CHECK_INT(transport_next_timeout(r.t), 1000 + ICE_CONSENT_TIMEOUT_MS); /* no DTLS timer */

    /* SRTP and SRTCP both ways. */
    for (uint16_t seq = 1; seq <= 5; seq++) {
        CHECK_INT(client_media(&r, A, false, seq, 1100), 0);
        CHECK_INT(server_media(&r, false, seq), A);
    }
    CHECK_INT(client_media(&r, A, true, 0, 1100), 0);
    CHECK_INT(server_media(&r, true, 0), A);
    transport_stats_t s = stats(&r);
    CHECK_INT(s.srtp_in, 6);
    CHECK_INT(s.srtp_out, 6);
    CHECK_INT(s.srtp_auth_fail + s.srtp_replay + s.srtp_other_fail + s.unverified_dropped, 0);

    /* Tampered, replayed and truncated packets are refused and counted. */
    uint32_t buf[BUF_WORDS], copy[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    size_t len = make_rtp(b, 100, 0x1234, 50);
    CHECK_INT(srtp_conn_protect_rtp(r.srtp, b, &len, sizeof buf), 0);
    memcpy(copy, buf, len);
    b[20] ^= 1;
    n = len;
    CHECK_INT(transport_unprotect(r.t, b, &n, false, sa(&r, A), 1200), SRTP_CONN_ERR_AUTH);
    memcpy(buf, copy, len);
    n = len;
    CHECK_INT(transport_unprotect(r.t, b, &n, false, sa(&r, A), 1200), 0);
    memcpy(buf, copy, len);
    n = len;
    CHECK_INT(transport_unprotect(r.t, b, &n, false, sa(&r, A), 1200), SRTP_CONN_ERR_REPLAY);
    n = 5;
    CHECK_INT(transport_unprotect(r.t, b, &n, false, sa(&r, A), 1200), SRTP_CONN_ERR_OTHER);
    s = stats(&r);
    CHECK_INT(s.srtp_in, 7);
    CHECK_INT(s.srtp_auth_fail, 1);
    CHECK_INT(s.srtp_replay, 1);
    CHECK_INT(s.srtp_other_fail, 1);

    /* Too big for a slot with the SRTP trailer room: refused, nothing queued. */
    static uint8_t big[SENDQ_SLOT_SIZE];
    make_rtp(big, 50, 0x5678, 0);
    CHECK_INT(transport_send(r.t, big, SENDQ_SLOT_SIZE - SRTP_CONN_TRAILER_ROOM + 1, false, r.q),
              -1);
    CHECK_INT(transport_send(r.t, big, 4, false, r.q), -1); /* not RTP */
    sendq_flush(r.q);
    CHECK_INT(drain_all(&r), 0);
    CHECK_INT(stats(&r).srtp_out, 6);
out:
    rig_free(&r);
}

static void test_bad_credentials(void)
{
    rig_t r;
    if (!rig_init(&r, NULL)) goto out;
    static const struct {
        const char *user, *pwd;
    } bad[] = {
        {SRV_UFRAG ":other", SRV_PWD},      /* not the client's ufrag */
        {"othr:" CLI_UFRAG, SRV_PWD},       /* not ours */
        {CLI_UFRAG ":" SRV_UFRAG, SRV_PWD}, /* the wrong way round */
        {GOOD_USER, CLI_PWD},               /* the client's password, not ours */
        {GOOD_USER, "serverPasswordIs24chars-"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(check(&r, A, bad[i].user, bad[i].pwd, true, 1000), 401);
        CHECK(!transport_knows(r.t, sa(&r, A)));
        CHECK_INT(transport_state(r.t), TRANSPORT_NEW);
        CHECK_INT(transport_next_timeout(r.t), UINT64_MAX);
    }
    /* Still usable afterwards. */
    CHECK(connect_rig(&r, 2000));
out:
    rig_free(&r);
}

/* DTLS and SRTP from an address that never passed a check get no answer and reach
 * neither OpenSSL nor libsrtp. */
static void test_unverified(void)
{
    rig_t r;
    if (!rig_init(&r, NULL)) goto out;
    dtls_handle(r.dtls, NULL, 0, 1000); /* ClientHello */
    CHECK_INT(client_to_server(&r, C, 1000), 1);
    CHECK_INT(drain_all(&r), 0);
    CHECK_INT(sendq_sent(r.q), 0);
    CHECK_INT(stats(&r).unverified_dropped, 1);
    CHECK_INT(stats(&r).dtls_in, 0);
    CHECK(!transport_knows(r.t, sa(&r, C)));
    CHECK_INT(transport_next_timeout(r.t), UINT64_MAX); /* no handshake started */

    /* A refused check does not make C known either. */
    CHECK_INT(check(&r, C, GOOD_USER, CLI_PWD, true, 1000), 401);
    CHECK(!transport_knows(r.t, sa(&r, C)));

    dtls_free(r.dtls); /* a fresh client for the real handshake from A */
    r.dtls = dtls_new(r.ccert, dtls_cert_fingerprint(r.scert), DTLS_CLIENT);
    if (!connect_rig(&r, 1000)) goto out;
    uint64_t sent = sendq_sent(r.q);
    CHECK_INT(client_media(&r, C, false, 1, 1100), SRTP_CONN_ERR_OTHER);
    CHECK_INT(client_media(&r, C, true, 0, 1100), SRTP_CONN_ERR_OTHER);
    transport_stats_t s = stats(&r);
    CHECK_INT(s.unverified_dropped, 3);
    CHECK_INT(s.srtp_in, 0);
    CHECK_INT(s.srtp_other_fail, 0);
    /* DTLS from C once connected: dropped, no answer. */
    uint8_t junk[40] = {22, 0xfe, 0xfd};
    transport_on_dtls(r.t, junk, sizeof junk, sa(&r, C), 1100, r.q);
    sendq_flush(r.q);
    CHECK_INT(sendq_sent(r.q), sent);
    CHECK_INT(drain_all(&r), 0);
    CHECK_INT(stats(&r).unverified_dropped, 4);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);

    /* The packets refused from C never reached libsrtp: the next ones from A pass. */
    CHECK_INT(client_media(&r, A, false, 2, 1200), 0);
    CHECK_INT(stats(&r).srtp_in, 1);
out:
    rig_free(&r);
}

static void test_fingerprint_mismatch(void)
{
    dtls_cert_t *other = dtls_cert_new();
    rig_t r;
    if (!rig_init(&r, dtls_cert_fingerprint(other))) goto out;
    CHECK_INT(good_check(&r, A, true, 1000), 0);
    handshake(&r, A, 1000);
    CHECK_INT(transport_state(r.t), TRANSPORT_CLOSED);
    CHECK(strstr(transport_error(r.t), "fingerprint") != NULL);
    printf("fingerprint mismatch: \"%s\"\n", transport_error(r.t));
    CHECK(dtls_state(r.dtls) != DTLS_CONNECTED); /* the alert reached the client */
    CHECK(!transport_knows(r.t, sa(&r, A)));
    CHECK_INT(transport_next_timeout(r.t), UINT64_MAX);
    /* Closed for good: checks get no answer, nothing is sent. */
    CHECK_INT(good_check(&r, A, true, 1100), -1);
    uint8_t pkt[64] = {0x80};
    CHECK_INT(transport_send(r.t, pkt, 20, false, r.q), -1);
out:
    rig_free(&r);
    dtls_cert_free(other);
}

static void test_consent(void)
{
    rig_t r;
    if (!rig_init(&r, NULL) || !connect_rig(&r, 1000)) goto out;
    CHECK_INT(transport_next_timeout(r.t), 31000);
    transport_on_timeout(r.t, 30999, r.q);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);
    /* A check (even without USE-CANDIDATE) renews consent; media does not. */
    CHECK_INT(good_check(&r, A, false, 20000), 0);
    CHECK_INT(transport_next_timeout(r.t), 50000);
    transport_on_timeout(r.t, 31000, r.q);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);
    CHECK_INT(client_media(&r, A, false, 1, 45000), 0);
    transport_on_timeout(r.t, 49999, r.q);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);
    transport_on_timeout(r.t, 50000, r.q);
    CHECK_INT(transport_state(r.t), TRANSPORT_CLOSED);
    CHECK(strstr(transport_error(r.t), "consent") != NULL);
    printf("consent: \"%s\"\n", transport_error(r.t));
    CHECK_INT(transport_next_timeout(r.t), UINT64_MAX);
    CHECK(!transport_knows(r.t, sa(&r, A)));
    CHECK_INT(server_media(&r, false, 2), -1);
    CHECK_INT(client_media(&r, A, false, 3, 50001), SRTP_CONN_ERR_OTHER);
    CHECK_INT(good_check(&r, A, true, 50002), -1);
    CHECK_INT(transport_state(r.t), TRANSPORT_CLOSED);
out:
    rig_free(&r);
}

static void test_address_change(void)
{
    rig_t r;
    if (!rig_init(&r, NULL) || !connect_rig(&r, 1000)) goto out;
    CHECK_INT(server_media(&r, false, 1), A);
    /* B probed while A is alive: verified, not selected. */
    CHECK_INT(good_check(&r, B, false, 1500), 0);
    CHECK(transport_knows(r.t, sa(&r, B)));
    CHECK_INT(server_media(&r, false, 2), A);
    /* B nominated: media now goes there; both addresses may send. */
    CHECK_INT(good_check(&r, B, true, 1600), 0);
    CHECK_INT(server_media(&r, false, 3), B);
    CHECK_INT(server_media(&r, true, 0), B);
    CHECK_INT(client_media(&r, B, false, 1, 1700), 0);
    CHECK_INT(client_media(&r, A, false, 2, 1700), 0);
    /* A silent path comes back by a plain check once B has been silent long enough. */
    CHECK_INT(good_check(&r, A, false, 1700 + ICE_SILENCE_MS + 1), 0);
    CHECK_INT(server_media(&r, false, 4), A);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);
out:
    rig_free(&r);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The server's first flight is lost; transport_on_timeout resends it when due. OpenSSL
 * times the flight with the real clock, so this sleeps through its 1 s timer. */
static void test_retransmission(void)
{
    rig_t r;
    if (!rig_init(&r, NULL)) goto out;
    uint64_t now = mono_ms();
    CHECK_INT(good_check(&r, A, true, now), 0);
    dtls_handle(r.dtls, NULL, 0, now);
    CHECK_INT(client_to_server(&r, A, now), 1); /* ClientHello */
    int lost = drain_all(&r);
    CHECK(lost >= 1); /* ServerHello ... ServerHelloDone */
    uint64_t due = transport_next_timeout(r.t);
    CHECK(due >= now + 900 && due <= now + 1100);

    /* Early: nothing is resent. */
    transport_on_timeout(r.t, now + 10, r.q);
    sendq_flush(r.q);
    CHECK_INT(drain_all(&r), 0);

    struct timespec ts = {0, 0};
    uint64_t wait = due + 30 - mono_ms();
    ts.tv_sec = (time_t)(wait / 1000);
    ts.tv_nsec = (long)(wait % 1000) * 1000000;
    nanosleep(&ts, NULL);
    now = mono_ms();
    CHECK(transport_next_timeout(r.t) <= now);
    transport_on_timeout(r.t, now, r.q);
    sendq_flush(r.q);
    int resent = server_to_client(&r, A, now);
    CHECK(resent >= 1); /* the same flight, possibly in more datagrams */
    CHECK(transport_next_timeout(r.t) >= now + 1500); /* backed off to 2 s */
    handshake(&r, A, now);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);
    CHECK_INT(dtls_state(r.dtls), DTLS_CONNECTED);
out:
    rig_free(&r);
}

static void random_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rand();
}

static void garbage_dtls(rig_t *r, int count, uint64_t now)
{
    uint8_t junk[1500];
    for (int i = 0; i < count; i++) {
        size_t len = (size_t)(rand() % (int)sizeof junk);
        random_bytes(junk, len);
        if (len && i % 2) junk[0] = (uint8_t)(20 + rand() % 4);
        if (len > 3 && i % 4 == 1) junk[1] = 0xfe, junk[2] = 0xfd; /* DTLS 1.2 record */
        transport_on_dtls(r->t, junk, len, sa(r, A), now, r->q);
    }
    sendq_flush(r->q);
    drain_all(r); /* whatever OpenSSL answered */
}

static void test_garbage(void)
{
    rig_t r;
    srand(7);
    if (!rig_init(&r, NULL)) goto out;
    uint8_t junk[600];
    /* STUN-looking garbage: never a reply to a non-request, no state. */
    for (int i = 0; i < 200; i++) {
        size_t len = 20 + (size_t)(rand() % 500);
        random_bytes(junk, len);
        junk[0] &= 0x03;
        transport_on_stun(r.t, junk, len, sa(&r, A), sizeof r.addr[A], 1000, r.q);
    }
    sendq_flush(r.q);
    drain_all(&r);
    CHECK(!transport_knows(r.t, sa(&r, A)));

    CHECK_INT(good_check(&r, A, true, 1000), 0);
    garbage_dtls(&r, 300, 1000);
    CHECK_INT(transport_state(r.t), TRANSPORT_NEW);
    if (!connect_rig(&r, 1000)) goto out;
    garbage_dtls(&r, 300, 1100);
    CHECK_INT(transport_state(r.t), TRANSPORT_CONNECTED);

    /* Random SRTP and SRTCP: refused, counted, no crash. */
    uint32_t buf[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    for (int i = 0; i < 300; i++) {
        size_t n = (size_t)(rand() % 1500);
        random_bytes(b, n);
        if (n) b[0] = (uint8_t)(0x80 | (b[0] & 0x3f));
        CHECK(transport_unprotect(r.t, b, &n, i % 2, sa(&r, A), 1200) < 0);
    }
    transport_stats_t s = stats(&r);
    CHECK_INT(s.srtp_auth_fail + s.srtp_replay + s.srtp_other_fail, 300);
    CHECK_INT(client_media(&r, A, false, 1, 1300), 0);
    CHECK_INT(server_media(&r, false, 1), A);
out:
    rig_free(&r);
}

int main(void)
{
    test_new();
    test_connect_and_media();
    test_bad_credentials();
    test_unverified();
    test_fingerprint_mismatch();
    test_consent();
    test_address_change();
    test_garbage();
    test_retransmission();
    TEST_END();
}
