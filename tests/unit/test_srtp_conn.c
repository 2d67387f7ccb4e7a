/* Tests for sfu/srtp_conn: round trips for both DTLS-SRTP profiles, tampering, replay,
 * truncation, buffer space and key validation. Two connections with mirrored keys stand
 * for the two ends, as dtls_srtp_keys() would assign them. */
#include "srtp_conn.h"
#include "test.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define BUF_WORDS 512 /* 2048 bytes, 32-bit aligned as libsrtp wants */

typedef struct {
    srtp_conn_t *client, *server;
    size_t tag; /* RTP growth: 16 (GCM) or 10 (CM) */
} pair_t;

static const char *profile_name(dtls_srtp_profile_t p)
{
    return p == DTLS_SRTP_AEAD_AES_128_GCM ? "GCM" : "CM";
}

/* Keys as DTLS would export them: the client's local key is the server's remote key. */
static void make_keys(dtls_srtp_profile_t profile, uint8_t seed, dtls_srtp_keys_t *client,
                      dtls_srtp_keys_t *server)
{
    memset(client, 0, sizeof *client);
    client->profile = profile;
    client->key_len = 16;
    client->salt_len = profile == DTLS_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    for (size_t i = 0; i < DTLS_SRTP_KEY_MAX; i++) {
        client->local_key[i] = (uint8_t)(seed + i);
        client->remote_key[i] = (uint8_t)(seed + 0x80 + i);
    }
    for (size_t i = 0; i < DTLS_SRTP_SALT_MAX; i++) {
        client->local_salt[i] = (uint8_t)(seed + 0x40 + i);
        client->remote_salt[i] = (uint8_t)(seed + 0xc0 + i);
    }
    *server = *client;
    memcpy(server->local_key, client->remote_key, DTLS_SRTP_KEY_MAX);
    memcpy(server->remote_key, client->local_key, DTLS_SRTP_KEY_MAX);
    memcpy(server->local_salt, client->remote_salt, DTLS_SRTP_SALT_MAX);
    memcpy(server->remote_salt, client->local_salt, DTLS_SRTP_SALT_MAX);
}

static pair_t make_pair(dtls_srtp_profile_t profile)
{
    dtls_srtp_keys_t ck, sk;
    make_keys(profile, 1, &ck, &sk);
    pair_t p = {srtp_conn_new(&ck), srtp_conn_new(&sk),
                profile == DTLS_SRTP_AEAD_AES_128_GCM ? 16 : 10};
    CHECK(p.client && p.server);
    return p;
}

static void free_pair(pair_t *p)
{
    srtp_conn_free(p->client);
    srtp_conn_free(p->server);
}

/* An RTP packet: V=2, PT 111, the given sequence number and SSRC, payload_len bytes. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
    uint8_t hdr[12] = {0x80,
                       111,
                       (uint8_t)(seq >> 8),
                       (uint8_t)seq,
                       0,
                       0,
                       0x12,
                       0x34,
                       (uint8_t)(ssrc >> 24),
                       (uint8_t)(ssrc >> 16),
                       (uint8_t)(ssrc >> 8),
                       (uint8_t)ssrc};
    memcpy(buf, hdr, sizeof hdr);
    for (size_t i = 0; i < payload_len; i++)
        buf[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload_len;
}

/* A compound RTCP packet: an SR with one report block, then a PLI. */
static size_t make_rtcp(uint8_t *buf, uint32_t ssrc)
{
    static const uint8_t sr[52] = {
        0x81, 200,  0,    12,   0,    0,    0,    0, /* SR, one block; SSRC set below */
        0xe1, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x00, 0x01, 0x02, 0x03,
        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, /* packets, octets */
        0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    static const uint8_t pli[12] = {0x81, 206, 0, 2, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe};
    memcpy(buf, sr, sizeof sr);
    memcpy(buf + sizeof sr, pli, sizeof pli);
    for (int i = 0; i < 4; i++)
        buf[4 + i] = buf[sizeof sr + 4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    return sizeof sr + sizeof pli;
}

/* ---- round trips ---------------------------------------------------------------------- */

static void round_trip_rtp(srtp_conn_t *from, srtp_conn_t *to, size_t tag, uint16_t seq,
                           size_t payload)
{
    uint32_t buf[BUF_WORDS], plain[BUF_WORDS];
    uint8_t *p = (uint8_t *)buf;
    size_t len = make_rtp(p, seq, 0x11223344, payload), n = len;
    memcpy(plain, buf, len);
    CHECK_INT(srtp_conn_protect_rtp(from, p, &n, sizeof buf), 0);
    CHECK_INT(n, len + tag);
    CHECK(n <= len + SRTP_CONN_MAX_OVERHEAD);
    CHECK(!memcmp(p, plain, 12));                                           /* header in clear */
    if (payload >= 8) CHECK(memcmp(p + 12, (uint8_t *)plain + 12, 8) != 0); /* encrypted */
    CHECK_INT(srtp_conn_unprotect_rtp(to, p, &n), 0);
    CHECK_INT(n, len);
    CHECK(!memcmp(p, plain, len));
}

static void round_trip_rtcp(srtp_conn_t *from, srtp_conn_t *to, size_t tag)
{
    uint32_t buf[BUF_WORDS], plain[BUF_WORDS];
    uint8_t *p = (uint8_t *)buf;
    size_t len = make_rtcp(p, 0x55667788), n = len;
    memcpy(plain, buf, len);
    CHECK_INT(srtp_conn_protect_rtcp(from, p, &n, sizeof buf), 0);
    CHECK_INT(n, len + tag + 4); /* tag plus E flag and SRTCP index */
    CHECK(n <= len + SRTP_CONN_MAX_OVERHEAD);
    CHECK(!memcmp(p, plain, 8)); /* first header and sender SSRC in clear */
    CHECK(memcmp(p + 8, (uint8_t *)plain + 8, 8) != 0);
    CHECK_INT(srtp_conn_unprotect_rtcp(to, p, &n), 0);
    CHECK_INT(n, len);
    CHECK(!memcmp(p, plain, len));
}

static void test_round_trip(dtls_srtp_profile_t profile)
{
    pair_t p = make_pair(profile);
    if (!p.client || !p.server) goto out;
    printf("round trip %s\n", profile_name(profile));
    /* Both directions, audio- and video-sized, header-only, across a sequence wrap. */
    static const size_t sizes[] = {0, 1, 100, 1200};
    uint16_t seq = 65530;
    for (int i = 0; i < 12; i++, seq++) {
        round_trip_rtp(p.client, p.server, p.tag, seq, sizes[i % 4]);
        round_trip_rtp(p.server, p.client, p.tag, (uint16_t)(seq + 1000), sizes[(i + 1) % 4]);
    }
    for (int i = 0; i < 3; i++) {
        round_trip_rtcp(p.client, p.server, p.tag);
        round_trip_rtcp(p.server, p.client, p.tag);
    }

    /* A second SSRC gets its own stream on both sides. */
    uint32_t buf[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    size_t n = make_rtp(b, 7, 0xdeadbeef, 50);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, sizeof buf), 0);
    CHECK_INT(srtp_conn_unprotect_rtp(p.server, b, &n), 0);
    CHECK_INT(n, 62);

    /* A packet is not accepted by its own sender (the two directions use two keys). */
    n = make_rtp(b, 8, 0xdeadbeef, 50);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, sizeof buf), 0);
    CHECK_INT(srtp_conn_unprotect_rtp(p.client, b, &n), SRTP_CONN_ERR_AUTH);
out:
    free_pair(&p);
}

/* The other profile's keys, or unrelated keys of the same profile, do not authenticate. */
static void test_wrong_keys(void)
{
    dtls_srtp_keys_t ck, sk, ok, os;
    make_keys(DTLS_SRTP_AEAD_AES_128_GCM, 1, &ck, &sk);
    make_keys(DTLS_SRTP_AEAD_AES_128_GCM, 9, &ok, &os);
    srtp_conn_t *client = srtp_conn_new(&ck), *stranger = srtp_conn_new(&os);
    uint32_t buf[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    size_t n = make_rtp(b, 1, 1, 100);
    CHECK_INT(srtp_conn_protect_rtp(client, b, &n, sizeof buf), 0);
    CHECK_INT(srtp_conn_unprotect_rtp(stranger, b, &n), SRTP_CONN_ERR_AUTH);
    n = make_rtcp(b, 1);
    CHECK_INT(srtp_conn_protect_rtcp(client, b, &n, sizeof buf), 0);
    CHECK_INT(srtp_conn_unprotect_rtcp(stranger, b, &n), SRTP_CONN_ERR_AUTH);
    srtp_conn_free(client);
    srtp_conn_free(stranger);
}

/* ---- tampering and replay -------------------------------------------------------------- */

/* Flips one bit at each of the given offsets (negative: from the end) of a protected
 * packet; each copy must fail authentication, and the untouched packet must still pass
 * afterwards (failed packets leave no trace in the replay window). */
static void test_tamper(dtls_srtp_profile_t profile, bool rtcp)
{
    pair_t p = make_pair(profile);
    if (!p.client || !p.server) goto out;
    uint32_t orig[BUF_WORDS], buf[BUF_WORDS];
    uint8_t *o = (uint8_t *)orig, *b = (uint8_t *)buf;
    size_t len = rtcp ? make_rtcp(o, 42) : make_rtp(o, 100, 42, 100);
    size_t plen = len;
    CHECK_INT(rtcp ? srtp_conn_protect_rtcp(p.client, o, &plen, sizeof orig)
                   : srtp_conn_protect_rtp(p.client, o, &plen, sizeof orig),
              0);
    /* Header, payload, first and last tag byte; for SRTCP also the index word. */
    long offsets[] = {1, 2, 9, 20, (long)len, -1, -(long)p.tag, rtcp ? -(long)p.tag - 1 : 3};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        size_t at = offsets[i] < 0 ? plen - (size_t)-offsets[i] : (size_t)offsets[i];
        memcpy(buf, orig, plen);
        b[at] ^= 0x10;
        size_t n = plen;
        int rc = rtcp ? srtp_conn_unprotect_rtcp(p.server, b, &n)
                      : srtp_conn_unprotect_rtp(p.server, b, &n);
        if (rc != SRTP_CONN_ERR_AUTH)
            fprintf(stderr, "tamper %s %s at %zu: %d\n", profile_name(profile),
                    rtcp ? "rtcp" : "rtp", at, rc);
        CHECK_INT(rc, SRTP_CONN_ERR_AUTH);
    }
    /* The genuine packet still passes once, then is a replay. */
    memcpy(buf, orig, plen);
    size_t n = plen;
    CHECK_INT(rtcp ? srtp_conn_unprotect_rtcp(p.server, b, &n)
                   : srtp_conn_unprotect_rtp(p.server, b, &n),
              0);
    CHECK_INT(n, len);
    memcpy(buf, orig, plen);
    n = plen;
    CHECK_INT(rtcp ? srtp_conn_unprotect_rtcp(p.server, b, &n)
                   : srtp_conn_unprotect_rtp(p.server, b, &n),
              SRTP_CONN_ERR_REPLAY);
out:
    free_pair(&p);
}

static void test_replay_window(dtls_srtp_profile_t profile)
{
    pair_t p = make_pair(profile);
    if (!p.client || !p.server) goto out;
    /* Protect 300 packets, deliver them out of order: the newest first, then an old one
     * outside the 128-packet window, then one inside it that has not been seen. */
    static uint32_t pkts[300][BUF_WORDS];
    size_t lens[300];
    for (int i = 0; i < 300; i++) {
        lens[i] = make_rtp((uint8_t *)pkts[i], (uint16_t)(1000 + i), 7, 20);
        CHECK_INT(srtp_conn_protect_rtp(p.client, (uint8_t *)pkts[i], &lens[i], sizeof pkts[i]), 0);
    }
    uint32_t buf[BUF_WORDS];
    size_t n;
#define DELIVER(i)                                                                                 \
    (memcpy(buf, pkts[i], lens[i]), n = lens[i],                                                   \
     srtp_conn_unprotect_rtp(p.server, (uint8_t *)buf, &n))
    CHECK_INT(DELIVER(299), 0);
    CHECK_INT(DELIVER(299), SRTP_CONN_ERR_REPLAY);
    CHECK_INT(DELIVER(10), SRTP_CONN_ERR_REPLAY); /* too old */
    CHECK_INT(DELIVER(250), 0);                   /* late but inside the window */
    CHECK_INT(DELIVER(250), SRTP_CONN_ERR_REPLAY);
#undef DELIVER

    /* Outbound: the same sequence number on the same SSRC is refused; RTCP never repeats
     * (each SRTCP packet takes the next index). */
    uint32_t out_buf[BUF_WORDS];
    uint8_t *b = (uint8_t *)out_buf;
    n = make_rtp(b, 1000, 7, 20);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, sizeof out_buf), SRTP_CONN_ERR_REPLAY);
    n = make_rtp(b, 5000, 8, 20);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, sizeof out_buf), 0);
    n = make_rtp(b, 5000, 8, 20);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, sizeof out_buf), SRTP_CONN_ERR_REPLAY);
    for (int i = 0; i < 2; i++) {
        n = make_rtcp(b, 8);
        CHECK_INT(srtp_conn_protect_rtcp(p.client, b, &n, sizeof out_buf), 0);
    }
out:
    free_pair(&p);
}

/* ---- malformed input and buffer space -------------------------------------------------- */

static void test_truncated(dtls_srtp_profile_t profile)
{
    pair_t p = make_pair(profile);
    if (!p.client || !p.server) goto out;
    uint32_t orig[BUF_WORDS], buf[BUF_WORDS];
    uint8_t *o = (uint8_t *)orig, *b = (uint8_t *)buf;

    /* Every prefix of a protected RTP and RTCP packet is refused. */
    size_t plen = make_rtp(o, 1, 99, 40);
    CHECK_INT(srtp_conn_protect_rtp(p.client, o, &plen, sizeof orig), 0);
    int bad = 0;
    for (size_t cut = 0; cut < plen; cut++) {
        memcpy(buf, orig, plen);
        size_t n = cut;
        if (srtp_conn_unprotect_rtp(p.server, b, &n) >= 0) bad++;
    }
    CHECK_INT(bad, 0);
    size_t rlen = make_rtcp(o, 99);
    CHECK_INT(srtp_conn_protect_rtcp(p.client, o, &rlen, sizeof orig), 0);
    for (size_t cut = 0; cut < rlen; cut++) {
        memcpy(buf, orig, rlen);
        size_t n = cut;
        if (srtp_conn_unprotect_rtcp(p.server, b, &n) >= 0) bad++;
    }
    CHECK_INT(bad, 0);

    /* A header that claims more than the packet holds: 15 CSRCs, an extension. */
    size_t n = make_rtp(b, 2, 99, 4);
    b[0] = 0x8f;
    CHECK(srtp_conn_unprotect_rtp(p.server, b, &n) < 0);
    n = make_rtp(b, 3, 99, 4);
    b[0] = 0x90;
    b[12] = 0xbe, b[13] = 0xde, b[14] = 0xff, b[15] = 0xff; /* 65535 words of extension */
    CHECK(srtp_conn_unprotect_rtp(p.server, b, &n) < 0);
    n = make_rtp(b, 4, 99, 4);
    b[0] = 0x8f;
    CHECK(srtp_conn_protect_rtp(p.client, b, &n, sizeof buf) < 0);

    /* Too short to protect. */
    for (size_t len = 0; len < 12; len++) {
        make_rtp(b, 5, 99, 0);
        n = len;
        CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, sizeof buf), SRTP_CONN_ERR_OTHER);
    }
    for (size_t len = 0; len < 8; len++) {
        make_rtcp(b, 99);
        n = len;
        CHECK_INT(srtp_conn_protect_rtcp(p.client, b, &n, sizeof buf), SRTP_CONN_ERR_OTHER);
    }
out:
    free_pair(&p);
}

static void test_space(void)
{
    pair_t p = make_pair(DTLS_SRTP_AES128_CM_SHA1_80);
    if (!p.client || !p.server) goto out;
    uint32_t buf[BUF_WORDS], copy[BUF_WORDS];
    uint8_t *b = (uint8_t *)buf;
    size_t len = make_rtp(b, 1, 5, 100), n = len;
    memcpy(copy, buf, sizeof buf);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, len + SRTP_CONN_TRAILER_ROOM - 1),
              SRTP_CONN_ERR_SPACE);
    CHECK_INT(n, len);
    CHECK(!memcmp(buf, copy, sizeof buf)); /* nothing touched */
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, len - 1), SRTP_CONN_ERR_SPACE);
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, 0), SRTP_CONN_ERR_SPACE);
    n = make_rtcp(b, 5);
    len = n;
    CHECK_INT(srtp_conn_protect_rtcp(p.client, b, &n, len + SRTP_CONN_TRAILER_ROOM - 1),
              SRTP_CONN_ERR_SPACE);
    CHECK_INT(n, len);
    /* Exactly the documented room is enough, and the SPACE refusals consumed nothing: the
     * same sequence number still goes out. */
    n = make_rtp(b, 1, 5, 100);
    len = n;
    CHECK_INT(srtp_conn_protect_rtp(p.client, b, &n, len + SRTP_CONN_TRAILER_ROOM), 0);
    CHECK_INT(srtp_conn_unprotect_rtp(p.server, b, &n), 0);
    n = make_rtcp(b, 5);
    len = n;
    CHECK_INT(srtp_conn_protect_rtcp(p.client, b, &n, len + SRTP_CONN_TRAILER_ROOM), 0);
    CHECK_INT(srtp_conn_unprotect_rtcp(p.server, b, &n), 0);
out:
    free_pair(&p);
}

static void test_new_refuses(void)
{
    dtls_srtp_keys_t ck, sk;
    CHECK_INT(srtp_conn_global_init(), 0);
    CHECK_INT(srtp_conn_global_init(), 0);
    CHECK(srtp_conn_new(NULL) == NULL);

    make_keys(DTLS_SRTP_AEAD_AES_128_GCM, 3, &ck, &sk);
    ck.profile = DTLS_SRTP_NONE;
    CHECK(srtp_conn_new(&ck) == NULL);
    ck.profile = (dtls_srtp_profile_t)77;
    CHECK(srtp_conn_new(&ck) == NULL);

    static const struct {
        dtls_srtp_profile_t profile;
        size_t key_len, salt_len;
        bool ok;
    } cases[] = {
        {DTLS_SRTP_AEAD_AES_128_GCM, 16, 12, true},
        {DTLS_SRTP_AEAD_AES_128_GCM, 16, 14, false},
        {DTLS_SRTP_AEAD_AES_128_GCM, 15, 12, false},
        {DTLS_SRTP_AEAD_AES_128_GCM, 0, 0, false},
        {DTLS_SRTP_AES128_CM_SHA1_80, 16, 14, true},
        {DTLS_SRTP_AES128_CM_SHA1_80, 16, 12, false},
        {DTLS_SRTP_AES128_CM_SHA1_80, 32, 14, false}, /* would overflow the key arrays */
        {DTLS_SRTP_AES128_CM_SHA1_80, 16, 100, false},
        {DTLS_SRTP_AES128_CM_SHA1_80, SIZE_MAX, 14, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_keys(cases[i].profile, 3, &ck, &sk);
        ck.key_len = cases[i].key_len;
        ck.salt_len = cases[i].salt_len;
        srtp_conn_t *c = srtp_conn_new(&ck);
        if ((c != NULL) != cases[i].ok) fprintf(stderr, "srtp_conn_new case %zu\n", i);
        CHECK((c != NULL) == cases[i].ok);
        srtp_conn_free(c);
    }
    srtp_conn_free(NULL);
}

int main(void)
{
    static const dtls_srtp_profile_t profiles[] = {DTLS_SRTP_AEAD_AES_128_GCM,
                                                   DTLS_SRTP_AES128_CM_SHA1_80};
    test_new_refuses();
    for (int i = 0; i < 2; i++) {
        test_round_trip(profiles[i]);
        test_tamper(profiles[i], false);
        test_tamper(profiles[i], true);
        test_replay_window(profiles[i]);
        test_truncated(profiles[i]);
    }
    test_wrong_keys();
    test_space();
    TEST_END();
}
