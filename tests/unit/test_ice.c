/* ICE-lite: nomination, refusals without state change, address change, consent expiry
 * with time as a parameter, address verification, IPv4 and IPv6. */
#include "ice.h"
#include "stun.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <string.h>

#define LOCAL_UFRAG  "srvUfrag"
#define LOCAL_PWD    "serverPasswordIs24chars+"
#define REMOTE_UFRAG "brwsr"
#define REMOTE_PWD   "browserPasswordIs22chr"
#define GOOD_USER    LOCAL_UFRAG ":" REMOTE_UFRAG

static const uint8_t *local_key(void)
{
    return (const uint8_t *)LOCAL_PWD;
}

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, ip, &sin->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &sin6->sin6_addr);
    return ss;
}

static socklen_t sslen(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    return a->ss_family == b->ss_family && memcmp(a, b, sslen(a)) == 0;
}

/* A connectivity check as the browser sends it. */
typedef struct check {
    const char *user;
    const char *pwd;
    bool use_candidate;
    stun_role_t role;
} check_t;

static uint8_t txid_seed;

static size_t make_check(uint8_t *buf, size_t cap, check_t c)
{
    stun_binding_request_t req = {
        .username = c.user,
        .priority = 0x6e0001ff,
        .role = c.role,
        .tiebreaker = 0x1122334455667788ull,
        .use_candidate = c.use_candidate,
        .key = (const uint8_t *)c.pwd,
        .keylen = c.pwd ? strlen(c.pwd) : 0,
    };
    memset(req.txid, ++txid_seed, sizeof req.txid);
    int n = stun_build_binding_request(buf, cap, &req);
    CHECK(n > 0);
    return n > 0 ? (size_t)n : 0;
}

static check_t good(bool use_candidate)
{
    return (check_t){GOOD_USER, LOCAL_PWD, use_candidate, STUN_ROLE_CONTROLLING};
}

/* Sends c from addr at now; returns the ICE code, the response parsed into *resp. */
static int send_check(ice_t *ice, check_t c, const struct sockaddr_storage *from, uint64_t now,
                      stun_msg_t *resp, uint8_t *out, size_t *outlen)
{
    uint8_t req[512];
    size_t n = make_check(req, sizeof req, c);
    int rc = ice_handle_stun(ice, req, n, (const struct sockaddr *)from, sslen(from), now, out, 512,
                             outlen);
    memset(resp, 0, sizeof *resp);
    if (*outlen) {
        CHECK_INT(stun_parse(out, *outlen, resp), 0);
        CHECK(memcmp(resp->txid, req + 8, 12) == 0);
        CHECK_INT(stun_check_fingerprint(out, *outlen, resp), 0);
    }
    return rc;
}

static ice_t *new_ice(void)
{
    ice_t *ice = ice_new(LOCAL_UFRAG, LOCAL_PWD, REMOTE_UFRAG, REMOTE_PWD);
    CHECK(ice != NULL);
    return ice;
}

/* Appends MESSAGE-INTEGRITY and FINGERPRINT to a hand-made message buf[0..len). */
static size_t sign(uint8_t *buf, size_t len, const char *pwd)
{
    size_t body = len - 20 + 24;
    buf[2] = (uint8_t)(body >> 8), buf[3] = (uint8_t)body;
    unsigned maclen = 0;
    HMAC(EVP_sha1(), pwd, (int)strlen(pwd), buf, len, buf + len + 4, &maclen);
    memcpy(buf + len, "\x00\x08\x00\x14", 4);
    len += 24;
    body += 8;
    buf[2] = (uint8_t)(body >> 8), buf[3] = (uint8_t)body;
    uint32_t crc = stun_crc32(0, buf, len) ^ STUN_FINGERPRINT_XOR;
    uint8_t fp[8] = {
        0x80,        0x28, 0, 4, (uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
        (uint8_t)crc};
    memcpy(buf + len, fp, 8);
    return len + 8;
}

/* ---- credentials --------------------------------------------------------------------- */

static void test_credentials(void)
{
    char u1[ICE_UFRAG_LEN + 1], p1[ICE_PWD_LEN + 1], u2[ICE_UFRAG_LEN + 1], p2[ICE_PWD_LEN + 1];
    CHECK_INT(ice_gen_credentials(u1, p1), 0);
    CHECK_INT(ice_gen_credentials(u2, p2), 0);
    CHECK_INT(strlen(u1), ICE_UFRAG_LEN);
    CHECK_INT(strlen(p1), ICE_PWD_LEN);
    CHECK(strcmp(p1, p2) != 0);
    CHECK_INT(strspn(p1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
              ICE_PWD_LEN);
    ice_t *ice = ice_new(u1, p1, u2, p2);
    CHECK(ice != NULL);
    ice_free(ice);
    ice_free(NULL);

    CHECK(ice_new("abc", LOCAL_PWD, NULL, NULL) == NULL);                     /* ufrag < 4 */
    CHECK(ice_new(LOCAL_UFRAG, "tooShortPassword12345", NULL, NULL) == NULL); /* 21 */
    CHECK(ice_new("ab:cd", LOCAL_PWD, NULL, NULL) == NULL);                   /* not ice-char */
    CHECK(ice_new(NULL, LOCAL_PWD, NULL, NULL) == NULL);
    CHECK(ice_new(LOCAL_UFRAG, LOCAL_PWD, "a b c", NULL) == NULL);
    char longu[300];
    memset(longu, 'a', sizeof longu - 1);
    longu[sizeof longu - 1] = '\0';
    CHECK(ice_new(longu, LOCAL_PWD, NULL, NULL) == NULL);
    longu[256] = '\0';
    ice = ice_new(longu, LOCAL_PWD, NULL, NULL);
    CHECK(ice != NULL);
    ice_free(ice);
    CHECK_INT(ice_gen_credentials(NULL, p1), ICE_ERR_RAND);
}

/* ---- nomination ---------------------------------------------------------------------- */

static void check_success(const stun_msg_t *resp, const uint8_t *out, size_t outlen,
                          const struct sockaddr_storage *from)
{
    CHECK_INT(resp->cls, STUN_CLASS_SUCCESS);
    CHECK_INT(resp->method, STUN_METHOD_BINDING);
    CHECK(resp->present & STUN_HAS_XOR_MAPPED);
    CHECK(same_addr(&resp->xor_mapped, from));
    CHECK_INT(stun_check_integrity(out, outlen, resp, local_key(), strlen(LOCAL_PWD)), 0);
}

static void test_nomination(const struct sockaddr_storage *a)
{
    ice_t *ice = new_ice();
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    struct sockaddr_storage sel;
    CHECK_INT(ice_state(ice), ICE_STATE_NEW);
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)a));

    /* A check without USE-CANDIDATE: answered, address verified, nothing selected. */
    CHECK_INT(send_check(ice, good(false), a, 1000, &resp, out, &outlen), 0);
    CHECK(outlen > 0);
    check_success(&resp, out, outlen, a);
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)a));
    CHECK_INT(ice_state(ice), ICE_STATE_NEW);
    CHECK_INT(ice_selected_addr(ice, &sel), ICE_ERR_NO_ADDR);

    /* USE-CANDIDATE selects it. */
    CHECK_INT(send_check(ice, good(true), a, 1100, &resp, out, &outlen), 0);
    check_success(&resp, out, outlen, a);
    CHECK_INT(ice_state(ice), ICE_STATE_CONNECTED);
    CHECK_INT(ice_selected_addr(ice, &sel), 0);
    CHECK(same_addr(&sel, a));

    ice_stats_t st;
    ice_get_stats(ice, &st);
    CHECK_INT(st.checks, 2);
    CHECK_INT(st.nominations, 1);
    CHECK_INT(st.addr_changes, 0);
    ice_free(ice);
}

/* ---- refusals ------------------------------------------------------------------------ */

static void expect_error(ice_t *ice, check_t c, const struct sockaddr_storage *from, int want_rc,
                         int want_code, bool signed_reply)
{
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(send_check(ice, c, from, 5000, &resp, out, &outlen), want_rc);
    CHECK(outlen > 0);
    CHECK_INT(resp.cls, STUN_CLASS_ERROR);
    CHECK_INT(resp.error_code, want_code);
    if (signed_reply)
        CHECK_INT(stun_check_integrity(out, outlen, &resp, local_key(), strlen(LOCAL_PWD)), 0);
    else
        CHECK(!(resp.present & STUN_HAS_INTEGRITY));
}

static void expect_unchanged(ice_t *ice, const struct sockaddr_storage *sel,
                             const struct sockaddr_storage *from)
{
    struct sockaddr_storage now;
    CHECK_INT(ice_state(ice), ICE_STATE_CONNECTED);
    CHECK_INT(ice_selected_addr(ice, &now), 0);
    CHECK(same_addr(&now, sel));
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)from));
}

static void test_unauthorized(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v4("192.0.2.1", 5000), b = v4("198.51.100.7", 6000);
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);

    /* Wrong order, wrong remote part, no colon, wrong password: 401, no state change
     * even though they carry USE-CANDIDATE and come from another address. */
    check_t swapped = {REMOTE_UFRAG ":" LOCAL_UFRAG, LOCAL_PWD, true, STUN_ROLE_CONTROLLING};
    check_t other = {LOCAL_UFRAG ":someoneElse", LOCAL_PWD, true, STUN_ROLE_CONTROLLING};
    check_t prefix = {LOCAL_UFRAG ":" REMOTE_UFRAG "x", LOCAL_PWD, true, STUN_ROLE_CONTROLLING};
    check_t nocolon = {LOCAL_UFRAG, LOCAL_PWD, true, STUN_ROLE_CONTROLLING};
    check_t empty = {LOCAL_UFRAG ":", LOCAL_PWD, true, STUN_ROLE_CONTROLLING};
    check_t badpwd = {GOOD_USER, REMOTE_PWD, true, STUN_ROLE_CONTROLLING};
    expect_error(ice, swapped, &b, ICE_ERR_BAD_USERNAME, 401, false);
    expect_error(ice, other, &b, ICE_ERR_BAD_USERNAME, 401, false);
    expect_error(ice, prefix, &b, ICE_ERR_BAD_USERNAME, 401, false);
    expect_error(ice, nocolon, &b, ICE_ERR_BAD_USERNAME, 401, false);
    expect_error(ice, empty, &b, ICE_ERR_BAD_USERNAME, 401, false);
    expect_error(ice, badpwd, &b, ICE_ERR_BAD_INTEGRITY, 401, false);
    expect_unchanged(ice, &a, &b);

    ice_stats_t st;
    ice_get_stats(ice, &st);
    CHECK_INT(st.bad_username, 5);
    CHECK_INT(st.bad_integrity, 1);
    CHECK_INT(st.checks, 1);
    ice_free(ice);
}

static void test_bad_requests(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v4("192.0.2.1", 5000), b = v4("198.51.100.7", 6000);
    uint8_t out[512], buf[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);

    /* No USERNAME, no MESSAGE-INTEGRITY: 400. */
    expect_error(ice, (check_t){NULL, LOCAL_PWD, true, STUN_ROLE_CONTROLLING}, &b,
                 ICE_ERR_BAD_REQUEST, 400, false);
    expect_error(ice, (check_t){GOOD_USER, NULL, true, STUN_ROLE_CONTROLLING}, &b,
                 ICE_ERR_BAD_REQUEST, 400, false);

    /* Malformed attribute in a request with a valid header: 400 with its transaction. */
    static const uint8_t bad_priority[] = {
        0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 1,    2,    3, 4, 5, 6,
        7,    8,    9,    10,   11,   12,   0x00, 0x24, 0x00, 0x03, 1, 2, 3, 0,
    };
    const struct sockaddr *sb = (const struct sockaddr *)&b;
    CHECK_INT(ice_handle_stun(ice, bad_priority, sizeof bad_priority, sb, sslen(&b), 5000, out,
                              sizeof out, &outlen),
              ICE_ERR_BAD_REQUEST);
    CHECK_INT(stun_parse(out, outlen, &resp), 0);
    CHECK_INT(resp.error_code, 400);
    CHECK(memcmp(resp.txid, bad_priority + 8, 12) == 0);

    /* Another method (Allocate, 0x003): 400. */
    memcpy(buf, bad_priority, 20);
    buf[1] = 0x03, buf[3] = 0;
    CHECK_INT(ice_handle_stun(ice, buf, 20, sb, sslen(&b), 5000, out, sizeof out, &outlen),
              ICE_ERR_BAD_REQUEST);
    CHECK(outlen > 0);

    /* Not STUN at all, a bad header, a response, an indication: no answer. */
    static const uint8_t rtp[40] = {0x80, 0x60};
    CHECK_INT(ice_handle_stun(ice, rtp, sizeof rtp, sb, sslen(&b), 5000, out, sizeof out, &outlen),
              ICE_ERR_NOT_STUN);
    CHECK_INT(outlen, 0);
    memcpy(buf, bad_priority, sizeof bad_priority);
    buf[4] = 0; /* cookie */
    CHECK_INT(ice_handle_stun(ice, buf, sizeof bad_priority, sb, sslen(&b), 5000, out, sizeof out,
                              &outlen),
              ICE_ERR_NOT_STUN);
    CHECK_INT(outlen, 0);
    CHECK_INT(ice_handle_stun(ice, buf, 7, sb, sslen(&b), 5000, out, sizeof out, &outlen),
              ICE_ERR_NOT_STUN);
    buf[4] = 0x21, buf[0] = 0x01, buf[1] = 0x01; /* malformed success response */
    CHECK_INT(ice_handle_stun(ice, buf, sizeof bad_priority, sb, sslen(&b), 5000, out, sizeof out,
                              &outlen),
              ICE_ERR_NOT_REQUEST);
    CHECK_INT(outlen, 0);
    int n = stun_build_binding_success(buf, sizeof buf, bad_priority + 8, sb, NULL, 0);
    CHECK_INT(ice_handle_stun(ice, buf, (size_t)n, sb, sslen(&b), 5000, out, sizeof out, &outlen),
              ICE_ERR_NOT_REQUEST);
    CHECK_INT(outlen, 0);
    memcpy(buf, bad_priority, 20);
    buf[1] = 0x11, buf[3] = 0; /* Binding indication: a keepalive */
    CHECK_INT(ice_handle_stun(ice, buf, 20, sb, sslen(&b), 5000, out, sizeof out, &outlen), 0);
    CHECK_INT(outlen, 0);

    /* A valid check whose FINGERPRINT is wrong is dropped. */
    n = (int)make_check(buf, sizeof buf, good(true));
    buf[n - 1] ^= 1;
    CHECK_INT(ice_handle_stun(ice, buf, (size_t)n, sb, sslen(&b), 5000, out, sizeof out, &outlen),
              ICE_ERR_BAD_FINGERPRINT);
    CHECK_INT(outlen, 0);

    expect_unchanged(ice, &a, &b);
    ice_stats_t st;
    ice_get_stats(ice, &st);
    CHECK_INT(st.bad_request, 4);
    CHECK_INT(st.not_stun, 3);
    CHECK_INT(st.not_request, 2);
    CHECK_INT(st.indications, 1);
    CHECK_INT(st.bad_fingerprint, 1);
    ice_free(ice);
}

static void test_unknown_and_role(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v4("192.0.2.1", 5000), b = v4("198.51.100.7", 6000);
    uint8_t out[512], buf[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);

    /* ICE-CONTROLLED from the peer: both controlled, 487 (signed), no state change. */
    expect_error(ice, (check_t){GOOD_USER, LOCAL_PWD, true, STUN_ROLE_CONTROLLED}, &b,
                 ICE_ERR_ROLE_CONFLICT, 487, true);
    /* No role at all is tolerated. */
    CHECK_INT(send_check(ice, (check_t){GOOD_USER, LOCAL_PWD, false, STUN_ROLE_NONE}, &a, 1200,
                         &resp, out, &outlen),
              0);

    /* An authentic request with an unknown comprehension-required attribute: 420. */
    static const uint8_t head[] = {
        0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 9,    9,   9,    9,    9,    9,    9,
        9,    9,    9,    9,    9,    0x00, 0x06, 0x00, 0x0e, 's', 'r',  'v',  'U',  'f',  'r',
        'a',  'g',  ':',  'b',  'r',  'w',  's',  'r',  0,    0,   0x00, 0x03, 0x00, 0x00,
    };
    memcpy(buf, head, sizeof head);
    size_t n = sign(buf, sizeof head, LOCAL_PWD);
    const struct sockaddr *sb = (const struct sockaddr *)&b;
    CHECK_INT(ice_handle_stun(ice, buf, n, sb, sslen(&b), 5000, out, sizeof out, &outlen),
              ICE_ERR_UNKNOWN_ATTR);
    CHECK_INT(stun_parse(out, outlen, &resp), 0);
    CHECK_INT(resp.error_code, 420);
    CHECK_INT(stun_check_integrity(out, outlen, &resp, local_key(), strlen(LOCAL_PWD)), 0);
    CHECK(memmem(out, outlen, "\x00\x0a\x00\x02\x00\x03", 6) != NULL); /* UNKNOWN-ATTRS */
    /* The same without the unknown attribute is accepted: sign() itself is right. */
    memcpy(buf, head, sizeof head - 4);
    n = sign(buf, sizeof head - 4, LOCAL_PWD);
    CHECK_INT(ice_handle_stun(ice, buf, n, sb, sslen(&b), 5000, out, sizeof out, &outlen), 0);

    ice_stats_t st;
    ice_get_stats(ice, &st);
    CHECK_INT(st.role_conflict, 1);
    CHECK_INT(st.unknown_attr, 1);
    ice_free(ice);
}

/* ---- address change ------------------------------------------------------------------ */

static void expect_selected(ice_t *ice, const struct sockaddr_storage *want)
{
    struct sockaddr_storage sel;
    CHECK_INT(ice_selected_addr(ice, &sel), 0);
    CHECK(same_addr(&sel, want));
}

static void test_address_change(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    ice_t *ice = new_ice();
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(send_check(ice, good(true), a, 1000, &resp, out, &outlen), 0);
    expect_selected(ice, a);

    /* A nomination from b moves the selection at once (network change). */
    CHECK_INT(send_check(ice, good(true), b, 1500, &resp, out, &outlen), 0);
    check_success(&resp, out, outlen, b);
    expect_selected(ice, b);

    /* A plain check from a while b is alive does not move it back... */
    CHECK_INT(send_check(ice, good(false), a, 3000, &resp, out, &outlen), 0);
    expect_selected(ice, b);
    /* ...nor when b's last check is old but its media is recent (ice_note_rx)... */
    ice_note_rx(ice, (const struct sockaddr *)b, 4000);
    CHECK_INT(send_check(ice, good(false), a, 6000, &resp, out, &outlen), 0);
    expect_selected(ice, b);
    /* ...but once b has been silent for more than 2 s it does. */
    CHECK_INT(send_check(ice, good(false), a, 6001, &resp, out, &outlen), 0);
    expect_selected(ice, a);

    ice_stats_t st;
    ice_get_stats(ice, &st);
    CHECK_INT(st.addr_changes, 2);
    CHECK_INT(ice_state(ice), ICE_STATE_CONNECTED);
    /* Both stay verified. */
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)a));
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)b));
    ice_free(ice);
}

/* ---- consent ---------------------------------------------------------------------------- */

static void test_consent_expiry(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v4("192.0.2.1", 5000), b = v4("198.51.100.7", 6000);
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(ice_poll(ice, 1000000), ICE_EV_NONE); /* NEW: nothing to expire */
    CHECK(ice_next_timeout(ice) == UINT64_MAX);

    /* Checks every 10 s keep consent for minutes. */
    for (uint64_t t = 1000; t <= 181000; t += 10000) {
        CHECK_INT(send_check(ice, good(t == 1000), &a, t, &resp, out, &outlen), 0);
        CHECK_INT(ice_poll(ice, t + 9999), ICE_EV_NONE);
    }
    /* Last check at 181000: consent holds until exactly 30 s later. */
    CHECK(ice_next_timeout(ice) == 211000);
    /* Media does not refresh consent (RFC 7675): only checks do. */
    ice_note_rx(ice, (const struct sockaddr *)&a, 200000);
    /* Checks from another address (b) do not refresh a's consent either (and, a's media
     * being 1 s old, do not move the selection to b). */
    CHECK_INT(send_check(ice, good(false), &b, 201000, &resp, out, &outlen), 0);
    expect_selected(ice, &a);
    CHECK_INT(ice_poll(ice, 210999), ICE_EV_NONE);
    CHECK_INT(ice_state(ice), ICE_STATE_CONNECTED);
    CHECK_INT(ice_poll(ice, 211000), ICE_EV_CONSENT_EXPIRED);
    CHECK_INT(ice_state(ice), ICE_STATE_CLOSED);
    CHECK_INT(ice_poll(ice, 211001), ICE_EV_NONE); /* reported once */
    CHECK(ice_next_timeout(ice) == UINT64_MAX);

    /* Closed for good: no answers, nothing verified, nothing selected. */
    CHECK_INT(send_check(ice, good(true), &a, 211002, &resp, out, &outlen), ICE_ERR_CLOSED);
    CHECK_INT(outlen, 0);
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)&a));
    struct sockaddr_storage sel;
    CHECK_INT(ice_selected_addr(ice, &sel), ICE_ERR_NO_ADDR);
    ice_stats_t st;
    ice_get_stats(ice, &st);
    CHECK_INT(st.after_close, 1);
    ice_free(ice);
}

/* ---- verification ------------------------------------------------------------------------ */

static void test_verification(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v4("192.0.2.1", 5000), c = v4("203.0.113.9", 7000);
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    const struct sockaddr *sc = (const struct sockaddr *)&c;

    /* An address that only failed checks stays unverified. */
    CHECK(!ice_addr_verified(ice, sc));
    send_check(ice, (check_t){GOOD_USER, REMOTE_PWD, true, STUN_ROLE_CONTROLLING}, &c, 1000, &resp,
               out, &outlen);
    CHECK(!ice_addr_verified(ice, sc));
    ice_note_rx(ice, sc, 1000); /* ignored */
    CHECK(!ice_addr_verified(ice, sc));
    /* Same IP, other port, is another address. */
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);
    struct sockaddr_storage a2 = v4("192.0.2.1", 5001);
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)&a2));
    /* The IPv4-mapped IPv6 form of a verified IPv4 address is the same address. */
    struct sockaddr_storage mapped = v6("::ffff:192.0.2.1", 5000);
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)&mapped));

    /* Only ICE_MAX_ADDRS addresses are remembered: the oldest non-selected goes. */
    for (int i = 0; i < ICE_MAX_ADDRS; i++) {
        struct sockaddr_storage x = v4("198.51.100.1", (uint16_t)(9000 + i));
        CHECK_INT(send_check(ice, good(false), &x, 2000 + (uint64_t)i, &resp, out, &outlen), 0);
    }
    struct sockaddr_storage first = v4("198.51.100.1", 9000),
                            last = v4("198.51.100.1", (uint16_t)(9000 + ICE_MAX_ADDRS - 1));
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)&first));
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)&last));
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)&a)); /* selected: kept */

    /* Verified non-selected addresses are forgotten 30 s after their last check. */
    CHECK_INT(send_check(ice, good(false), &a, 32000, &resp, out, &outlen), 0);
    CHECK_INT(ice_poll(ice, 2000 + ICE_MAX_ADDRS - 1 + 30000), ICE_EV_NONE);
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)&last));
    CHECK(ice_addr_verified(ice, (const struct sockaddr *)&a));

    /* Bad arguments. */
    struct sockaddr un = {.sa_family = AF_UNIX};
    uint8_t req[256];
    size_t n = make_check(req, sizeof req, good(true));
    CHECK_INT(ice_handle_stun(ice, req, n, &un, sizeof un, 1, out, sizeof out, &outlen),
              ICE_ERR_INVAL);
    CHECK_INT(
        ice_handle_stun(ice, req, n, (const struct sockaddr *)&a, 8, 1, out, sizeof out, &outlen),
        ICE_ERR_INVAL);
    CHECK_INT(ice_handle_stun(NULL, req, n, (const struct sockaddr *)&a, sslen(&a), 1, out,
                              sizeof out, &outlen),
              ICE_ERR_INVAL);
    CHECK(!ice_addr_verified(ice, &un));
    CHECK(!ice_addr_verified(ice, NULL));
    ice_free(ice);
}

static void test_small_output(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v6("2001:db8::1", 5000);
    uint8_t req[256], out[512];
    size_t outlen = 99;
    size_t n = make_check(req, sizeof req, good(true));
    /* The v6 success response is 76 bytes: 75 is too few, and nothing changes. */
    CHECK_INT(
        ice_handle_stun(ice, req, n, (const struct sockaddr *)&a, sslen(&a), 1, out, 75, &outlen),
        ICE_ERR_NOSPACE);
    CHECK_INT(outlen, 0);
    CHECK_INT(ice_state(ice), ICE_STATE_NEW);
    CHECK(!ice_addr_verified(ice, (const struct sockaddr *)&a));
    CHECK_INT(
        ice_handle_stun(ice, req, n, (const struct sockaddr *)&a, sslen(&a), 1, out, 76, &outlen),
        0);
    CHECK_INT(outlen, 76);
    ice_free(ice);
}

static void test_remote_unknown(void)
{
    ice_t *ice = ice_new(LOCAL_UFRAG, LOCAL_PWD, NULL, NULL);
    CHECK(ice != NULL);
    struct sockaddr_storage a = v4("192.0.2.1", 5000);
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    /* Before the answer: any remote part, integrity still required. */
    check_t early = {LOCAL_UFRAG ":whoever", LOCAL_PWD, false, STUN_ROLE_CONTROLLING};
    CHECK_INT(send_check(ice, early, &a, 1000, &resp, out, &outlen), 0);
    early.pwd = REMOTE_PWD;
    CHECK_INT(send_check(ice, early, &a, 1000, &resp, out, &outlen), ICE_ERR_BAD_INTEGRITY);
    /* After: the remote ufrag must match. */
    CHECK_INT(ice_set_remote(ice, REMOTE_UFRAG, REMOTE_PWD), 0);
    early.pwd = LOCAL_PWD;
    CHECK_INT(send_check(ice, early, &a, 1000, &resp, out, &outlen), ICE_ERR_BAD_USERNAME);
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);
    CHECK_INT(ice_set_remote(ice, "no", NULL), ICE_ERR_INVAL);
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);
    ice_free(ice);
}

/* ICE restart: new credentials both ways; the old ones fail, the selected address stays. */
static void test_restart(void)
{
    ice_t *ice = new_ice();
    struct sockaddr_storage a = v4("192.0.2.1", 5000), b = v4("198.51.100.2", 6000);
    uint8_t out[512];
    size_t outlen;
    stun_msg_t resp;
    CHECK_INT(send_check(ice, good(true), &a, 1000, &resp, out, &outlen), 0);
    CHECK_INT(
        ice_restart(ice, "newLoc", "newLocalPasswordOf24Chr", "newRem", "newRemotePasswordOf24Ch"),
        0);
    expect_selected(ice, &a);
    CHECK(ice_addr_verified(ice, (struct sockaddr *)&a));
    CHECK_INT(send_check(ice, good(true), &a, 2000, &resp, out, &outlen), ICE_ERR_BAD_USERNAME);
    check_t fresh = {"newLoc:newRem", "newLocalPasswordOf24Chr", true, STUN_ROLE_CONTROLLING};
    CHECK_INT(send_check(ice, fresh, &b, 2000, &resp, out, &outlen), 0);
    expect_selected(ice, &b); /* the new path, nominated after the restart */
    /* Invalid credentials change nothing. */
    CHECK_INT(ice_restart(ice, "x", "newLocalPasswordOf24Chr", "newRem", "newRemotePasswordOf24Ch"),
              ICE_ERR_INVAL);
    CHECK_INT(ice_restart(ice, "abcd", "abcdefghijklmnopqrstuvwx", "newRem", "short"),
              ICE_ERR_INVAL);
    CHECK_INT(send_check(ice, fresh, &b, 2500, &resp, out, &outlen), 0);
    CHECK_INT(
        ice_restart(NULL, "abcd", "abcdefghijklmnopqrstuvwx", "abcd", "abcdefghijklmnopqrstuvwx"),
        ICE_ERR_INVAL);
    ice_free(ice);
}

/* The controlling side (a load generator) against the lite side (the server): the
 * check it builds is accepted, the answer selects the server's address on both ends;
 * stale, tampered and error responses change nothing. */
static void test_controlling(const struct sockaddr_storage *client,
                             const struct sockaddr_storage *server)
{
    ice_t *srv = new_ice();
    ice_t *cli = ice_new(REMOTE_UFRAG, REMOTE_PWD, LOCAL_UFRAG, LOCAL_PWD);
    CHECK(cli != NULL);
    const struct sockaddr *from_cli = (const struct sockaddr *)client;
    const struct sockaddr *from_srv = (const struct sockaddr *)server;
    uint8_t req[512], resp[512];
    size_t reqlen = 0, resplen = 0;

    /* No pending check yet: a success response is unexpected. */
    CHECK_INT(ice_handle_response(cli, req, 0, from_srv, sslen(server), 1), ICE_ERR_NOT_STUN);

    /* A check without nomination verifies but does not select. */
    CHECK_INT(ice_build_check(cli, false, 42, req, sizeof req, &reqlen), 0);
    stun_msg_t m;
    CHECK_INT(stun_parse(req, reqlen, &m), 0);
    CHECK(m.username.len == strlen(GOOD_USER) &&
          memcmp(m.username.ptr, GOOD_USER, m.username.len) == 0);
    CHECK((m.present & STUN_HAS_ICE_CONTROLLING) && m.tiebreaker == 42);
    CHECK(!(m.present & STUN_HAS_USE_CANDIDATE));
    CHECK_INT(
        ice_handle_stun(srv, req, reqlen, from_cli, sslen(client), 10, resp, sizeof resp, &resplen),
        0);
    CHECK_INT(ice_handle_response(cli, resp, resplen, from_srv, sslen(server), 10), 0);
    CHECK(ice_addr_verified(cli, from_srv));
    CHECK_INT(ice_state(cli), ICE_STATE_NEW);
    /* The same response again: nothing pending any more. */
    CHECK_INT(ice_handle_response(cli, resp, resplen, from_srv, sslen(server), 11),
              ICE_ERR_UNEXPECTED);

    /* A nominating check: both ends select. A response to an older check, or with a
     * flipped bit, is refused first. */
    uint8_t old[512];
    memcpy(old, resp, resplen);
    size_t oldlen = resplen;
    CHECK_INT(ice_build_check(cli, true, 42, req, sizeof req, &reqlen), 0);
    CHECK_INT(stun_parse(req, reqlen, &m), 0);
    CHECK(m.present & STUN_HAS_USE_CANDIDATE);
    CHECK_INT(
        ice_handle_stun(srv, req, reqlen, from_cli, sslen(client), 20, resp, sizeof resp, &resplen),
        0);
    CHECK_INT(ice_state(srv), ICE_STATE_CONNECTED);
    CHECK_INT(ice_handle_response(cli, old, oldlen, from_srv, sslen(server), 20),
              ICE_ERR_UNEXPECTED);
    uint8_t bad[512];
    memcpy(bad, resp, resplen);
    bad[STUN_HEADER_LEN + 6] ^= 1; /* inside XOR-MAPPED-ADDRESS */
    int rc = ice_handle_response(cli, bad, resplen, from_srv, sslen(server), 20);
    CHECK(rc == ICE_ERR_BAD_FINGERPRINT || rc == ICE_ERR_BAD_INTEGRITY);
    CHECK_INT(ice_state(cli), ICE_STATE_NEW);
    CHECK_INT(ice_handle_response(cli, resp, resplen, from_srv, sslen(server), 20), 0);
    CHECK_INT(ice_state(cli), ICE_STATE_CONNECTED);
    struct sockaddr_storage sel;
    CHECK_INT(ice_selected_addr(cli, &sel), 0);
    CHECK(same_addr(&sel, server));
    /* A request is not a response. */
    CHECK_INT(ice_build_check(cli, true, 42, req, sizeof req, &reqlen), 0);
    CHECK_INT(ice_handle_response(cli, req, reqlen, from_srv, sslen(server), 30),
              ICE_ERR_UNEXPECTED);
    /* The controlled peer's own (triggered) check is answered, not refused with 487;
     * a peer that claims to control too gets 487. */
    uint8_t ans[512];
    size_t anslen = 0;
    stun_msg_t r;
    check_t peer = {REMOTE_UFRAG ":" LOCAL_UFRAG, REMOTE_PWD, false, STUN_ROLE_CONTROLLED};
    CHECK_INT(send_check(cli, peer, server, 25, &r, ans, &anslen), 0);
    CHECK_INT(r.cls, STUN_CLASS_SUCCESS);
    peer.role = STUN_ROLE_CONTROLLING;
    CHECK_INT(send_check(cli, peer, server, 25, &r, ans, &anslen), ICE_ERR_ROLE_CONFLICT);
    CHECK_INT(r.error_code, STUN_CODE_ROLE_CONFLICT);
    CHECK_INT(ice_state(cli), ICE_STATE_CONNECTED);
    /* Consent: checks answered either way keep it alive (the last at 25); then it expires. */
    CHECK_INT(ice_poll(cli, 25 + ICE_CONSENT_TIMEOUT_MS - 1), ICE_EV_NONE);
    CHECK_INT(ice_poll(cli, 25 + ICE_CONSENT_TIMEOUT_MS), ICE_EV_CONSENT_EXPIRED);
    CHECK_INT(ice_build_check(cli, true, 42, req, sizeof req, &reqlen), ICE_ERR_CLOSED);
    ice_free(cli);

    /* A client with the wrong password gets a 401, which ends its check unselected. */
    cli = ice_new(REMOTE_UFRAG, REMOTE_PWD, LOCAL_UFRAG, "notTheServersPassword0");
    CHECK_INT(ice_build_check(cli, true, 7, req, sizeof req, &reqlen), 0);
    CHECK_INT(
        ice_handle_stun(srv, req, reqlen, from_cli, sslen(client), 40, resp, sizeof resp, &resplen),
        ICE_ERR_BAD_INTEGRITY);
    CHECK(resplen > 0);
    CHECK_INT(ice_handle_response(cli, resp, resplen, from_srv, sslen(server), 40),
              ICE_ERR_CHECK_FAILED);
    CHECK_INT(ice_state(cli), ICE_STATE_NEW);
    CHECK(!ice_addr_verified(cli, from_srv));
    /* Remote credentials unknown: nothing to build. */
    ice_t *blind = ice_new(REMOTE_UFRAG, REMOTE_PWD, NULL, NULL);
    CHECK_INT(ice_build_check(blind, true, 7, req, sizeof req, &reqlen), ICE_ERR_INVAL);
    CHECK_INT(ice_build_check(cli, true, 7, req, 40, &reqlen), ICE_ERR_NOSPACE);
    ice_free(blind);
    ice_free(cli);
    ice_free(srv);
}

static void test_names(void)
{
    CHECK_STR(ice_strerror(ICE_ERR_ROLE_CONFLICT), "role conflict (487)");
    CHECK_STR(ice_strerror(-99), "unknown ICE error");
    CHECK_STR(ice_state_name(ICE_STATE_CONNECTED), "connected");
    CHECK_STR(ice_state_name((ice_state_t)7), "unknown");
}

int main(void)
{
    struct sockaddr_storage a4 = v4("192.0.2.1", 32853), b4 = v4("198.51.100.7", 40000);
    struct sockaddr_storage a6 = v6("2001:db8:1234:5678:11:2233:4455:6677", 32853),
                            b6 = v6("2001:db8::2", 40000);
    test_credentials();
    test_nomination(&a4);
    test_nomination(&a6);
    test_unauthorized();
    test_bad_requests();
    test_unknown_and_role();
    test_address_change(&a4, &b4);
    test_address_change(&a6, &b6);
    test_address_change(&a4, &b6); /* Wi-Fi (v4) to cellular (v6) */
    test_consent_expiry();
    test_verification();
    test_small_output();
    test_remote_unknown();
    test_restart();
    test_controlling(&a4, &b4);
    test_controlling(&a6, &b6);
    test_names();
    TEST_END();
}
