/* STUN: RFC 5769 known-answer vectors, builder round trips and every malformation. */
#include "stun.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

/* clang-format off */
static const char rfc_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfc_txid[12] = {
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

/* RFC 5769 section 2.1: sample request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME
 * "evtj:h6vY" padded with spaces, MESSAGE-INTEGRITY, FINGERPRINT). */
static const uint8_t rfc_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
    0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
    0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* Section 2.2: IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
    0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
    0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* Section 2.3: IPv6 response, [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc_response_v6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
    0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
    0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* Section 2.4: request with long-term authentication (USERNAME "マトリックス", NONCE,
 * REALM "example.org", MESSAGE-INTEGRITY; no FINGERPRINT). Password "TheMatrIX". */
static const uint8_t rfc_request_lt[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33,
    0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12,
    0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83,
    0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
    0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79,
    0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d,
    0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
    0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71,
    0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};
/* clang-format on */

static const uint8_t *pwd_key(void)
{
    return (const uint8_t *)rfc_password;
}

static int view_is(stun_view_t v, const char *s)
{
    return v.ptr && v.len == strlen(s) && memcmp(v.ptr, s, v.len) == 0;
}

/* ---- known answers --------------------------------------------------------------- */

static void test_crc32(void)
{
    CHECK_INT(stun_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
    CHECK_INT(stun_crc32(0, NULL, 0), 0);
    /* Incremental use gives the same result. */
    uint32_t c = stun_crc32(0, (const uint8_t *)"1234", 4);
    CHECK_INT(stun_crc32(c, (const uint8_t *)"56789", 5), 0xcbf43926u);
}

static void test_rfc5769_request(void)
{
    stun_msg_t m;
    CHECK_INT(stun_parse(rfc_request, sizeof rfc_request, &m), 0);
    CHECK_INT(m.method, STUN_METHOD_BINDING);
    CHECK_INT(m.cls, STUN_CLASS_REQUEST);
    CHECK(memcmp(m.txid, rfc_txid, 12) == 0);
    CHECK(view_is(m.username, "evtj:h6vY"));
    CHECK(view_is(m.software, "STUN test client"));
    CHECK(m.present & STUN_HAS_PRIORITY);
    CHECK_INT(m.priority, 0x6e0001ffu);
    CHECK(m.present & STUN_HAS_ICE_CONTROLLED);
    CHECK(!(m.present & STUN_HAS_ICE_CONTROLLING));
    CHECK(!(m.present & STUN_HAS_USE_CANDIDATE));
    CHECK(m.tiebreaker == 0x932ff9b151263b36ull);
    CHECK_INT(m.integrity_off, 76);
    CHECK_INT(m.fingerprint_off, 100);
    CHECK_INT(m.unknown_count, 0);
    CHECK_INT(
        stun_check_integrity(rfc_request, sizeof rfc_request, &m, pwd_key(), strlen(rfc_password)),
        0);
    CHECK_INT(stun_check_fingerprint(rfc_request, sizeof rfc_request, &m), 0);
    CHECK_INT(stun_check_integrity(rfc_request, sizeof rfc_request, &m,
                                   (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", 22),
              STUN_ERR_INTEGRITY);
}

static void check_rfc_response(const uint8_t *p, size_t len, int family)
{
    stun_msg_t m;
    CHECK_INT(stun_parse(p, len, &m), 0);
    CHECK_INT(m.method, STUN_METHOD_BINDING);
    CHECK_INT(m.cls, STUN_CLASS_SUCCESS);
    CHECK(memcmp(m.txid, rfc_txid, 12) == 0);
    CHECK(view_is(m.software, "test vector"));
    CHECK(m.present & STUN_HAS_XOR_MAPPED);
    CHECK_INT(m.xor_mapped.ss_family, family);
    char text[INET6_ADDRSTRLEN] = "";
    if (family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&m.xor_mapped;
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        CHECK_STR(text, "192.0.2.1");
        CHECK_INT(ntohs(sin->sin_port), 32853);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&m.xor_mapped;
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        CHECK_STR(text, "2001:db8:1234:5678:11:2233:4455:6677");
        CHECK_INT(ntohs(sin6->sin6_port), 32853);
    }
    CHECK_INT(stun_check_integrity(p, len, &m, pwd_key(), strlen(rfc_password)), 0);
    CHECK_INT(stun_check_fingerprint(p, len, &m), 0);
}

static void test_rfc5769_responses(void)
{
    check_rfc_response(rfc_response_v4, sizeof rfc_response_v4, AF_INET);
    check_rfc_response(rfc_response_v6, sizeof rfc_response_v6, AF_INET6);
}

static void test_rfc5769_long_term(void)
{
    static const char user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                               "\xe3\x82\xb9";
    stun_msg_t m;
    CHECK_INT(stun_parse(rfc_request_lt, sizeof rfc_request_lt, &m), 0);
    CHECK_INT(m.cls, STUN_CLASS_REQUEST);
    CHECK(view_is(m.username, user));
    CHECK(view_is(m.nonce, "f//499k954d6OL34oL9FSTvy64sA"));
    CHECK(view_is(m.realm, "example.org"));
    CHECK(m.present & STUN_HAS_INTEGRITY);
    CHECK_INT(stun_check_fingerprint(rfc_request_lt, sizeof rfc_request_lt, &m),
              STUN_ERR_NO_FINGERPRINT);
    /* Long-term key (RFC 8489 section 9.2.2): MD5(username ":" realm ":" password). */
    char input[64];
    int n = snprintf(input, sizeof input, "%s:example.org:TheMatrIX", user);
    uint8_t key[16];
    unsigned keylen = 0;
    CHECK(EVP_Digest(input, (size_t)n, key, &keylen, EVP_md5(), NULL) == 1);
    CHECK_INT(stun_check_integrity(rfc_request_lt, sizeof rfc_request_lt, &m, key, keylen), 0);
}

/* ---- builder round trips ---------------------------------------------------------- */

static void test_build_request(void)
{
    stun_binding_request_t req = {
        .username = "remoteUf:localUf",
        .priority = 0x6e0001ff,
        .role = STUN_ROLE_CONTROLLING,
        .tiebreaker = 0x0102030405060708ull,
        .use_candidate = 1,
        .key = pwd_key(),
        .keylen = strlen(rfc_password),
    };
    memcpy(req.txid, rfc_txid, 12);
    uint8_t buf[256];
    int n = stun_build_binding_request(buf, sizeof buf, &req);
    /* header 20 + USERNAME 4+16 + PRIORITY 8 + CONTROLLING 12 + USE-CANDIDATE 4 + MI 24
     * + FINGERPRINT 8 */
    CHECK_INT(n, 96);
    stun_msg_t m;
    CHECK_INT(stun_parse(buf, (size_t)n, &m), 0);
    CHECK_INT(m.cls, STUN_CLASS_REQUEST);
    CHECK_INT(m.method, STUN_METHOD_BINDING);
    CHECK(view_is(m.username, "remoteUf:localUf"));
    CHECK_INT(m.priority, 0x6e0001ffu);
    CHECK(m.present & STUN_HAS_ICE_CONTROLLING);
    CHECK(m.tiebreaker == 0x0102030405060708ull);
    CHECK(m.present & STUN_HAS_USE_CANDIDATE);
    CHECK_INT(stun_check_integrity(buf, (size_t)n, &m, pwd_key(), strlen(rfc_password)), 0);
    CHECK_INT(stun_check_fingerprint(buf, (size_t)n, &m), 0);

    /* Every shorter buffer fails cleanly. */
    for (size_t cap = 0; cap < (size_t)n; cap++)
        CHECK_INT(stun_build_binding_request(buf, cap, &req), STUN_ERR_NOSPACE);

    /* Without key, credentials or role: header + FINGERPRINT only. */
    stun_binding_request_t bare = {.role = STUN_ROLE_CONTROLLED, .tiebreaker = 7};
    n = stun_build_binding_request(buf, sizeof buf, &bare);
    CHECK_INT(n, 20 + 12 + 8);
    CHECK_INT(stun_parse(buf, (size_t)n, &m), 0);
    CHECK(m.present & STUN_HAS_ICE_CONTROLLED);
    CHECK_INT(stun_check_integrity(buf, (size_t)n, &m, pwd_key(), 1), STUN_ERR_NO_INTEGRITY);
    CHECK_INT(stun_check_fingerprint(buf, (size_t)n, &m), 0);
    CHECK_INT(stun_build_binding_request(buf, sizeof buf, NULL), STUN_ERR_INVAL);
}

static void test_build_success_v4(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(32853)};
    inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
    uint8_t buf[128];
    int n = stun_build_binding_success(buf, sizeof buf, rfc_txid, (struct sockaddr *)&sin,
                                       pwd_key(), strlen(rfc_password));
    CHECK_INT(n, 20 + 12 + 24 + 8);
    /* Same XOR-MAPPED-ADDRESS bytes as RFC 5769 section 2.2. */
    CHECK(memcmp(buf + 20, rfc_response_v4 + 36, 12) == 0);
    stun_msg_t m;
    CHECK_INT(stun_parse(buf, (size_t)n, &m), 0);
    CHECK_INT(m.cls, STUN_CLASS_SUCCESS);
    CHECK(memcmp(&m.xor_mapped, &sin, sizeof sin) == 0);
    CHECK_INT(stun_check_integrity(buf, (size_t)n, &m, pwd_key(), strlen(rfc_password)), 0);
    CHECK_INT(stun_check_fingerprint(buf, (size_t)n, &m), 0);
    for (size_t cap = 0; cap < (size_t)n; cap++)
        CHECK_INT(
            stun_build_binding_success(buf, cap, rfc_txid, (struct sockaddr *)&sin, pwd_key(), 4),
            STUN_ERR_NOSPACE);
}

static void test_build_success_v6(void)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};
    inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &sin6.sin6_addr);
    uint8_t buf[128];
    int n = stun_build_binding_success(buf, sizeof buf, rfc_txid, (struct sockaddr *)&sin6,
                                       pwd_key(), strlen(rfc_password));
    CHECK_INT(n, 20 + 24 + 24 + 8);
    CHECK(memcmp(buf + 20, rfc_response_v6 + 36, 24) == 0);
    stun_msg_t m;
    CHECK_INT(stun_parse(buf, (size_t)n, &m), 0);
    CHECK(memcmp(&m.xor_mapped, &sin6, sizeof sin6) == 0);
    CHECK_INT(stun_check_integrity(buf, (size_t)n, &m, pwd_key(), strlen(rfc_password)), 0);

    /* An IPv4-mapped IPv6 peer (dual-stack socket) is reported as IPv4. */
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
    n = stun_build_binding_success(buf, sizeof buf, rfc_txid, (struct sockaddr *)&sin6, NULL, 0);
    CHECK_INT(n, 20 + 12 + 8);
    CHECK(memcmp(buf + 20, rfc_response_v4 + 36, 12) == 0);

    struct sockaddr bogus = {.sa_family = AF_UNIX};
    CHECK_INT(stun_build_binding_success(buf, sizeof buf, rfc_txid, &bogus, NULL, 0),
              STUN_ERR_INVAL);
    CHECK_INT(stun_build_binding_success(buf, sizeof buf, rfc_txid, NULL, NULL, 0), STUN_ERR_INVAL);
}

static void test_build_errors(void)
{
    static const struct {
        int code;
        const char *reason;
    } cases[] = {
        {400, "Bad Request"},   {401, "Unauthorized"}, {420, "Unknown Attribute"},
        {487, "Role Conflict"}, {500, "Error"},
    };
    uint8_t buf[256];
    stun_msg_t m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = stun_build_error(buf, sizeof buf, STUN_METHOD_BINDING, rfc_txid, cases[i].code,
                                 NULL, NULL, 0, NULL, 0);
        CHECK(n > 0);
        CHECK_INT(stun_parse(buf, (size_t)n, &m), 0);
        CHECK_INT(m.cls, STUN_CLASS_ERROR);
        CHECK_INT(m.method, STUN_METHOD_BINDING);
        CHECK_INT(m.error_code, cases[i].code);
        CHECK(view_is(m.error_reason, cases[i].reason));
        CHECK(!(m.present & STUN_HAS_INTEGRITY));
        CHECK_INT(stun_check_fingerprint(buf, (size_t)n, &m), 0);
    }
    /* 420 with UNKNOWN-ATTRIBUTES and integrity, custom reason. */
    uint16_t unknown[3] = {0x0003, 0x0004, 0x7fff};
    int n = stun_build_error(buf, sizeof buf, STUN_METHOD_BINDING, rfc_txid, 420, "what?", unknown,
                             3, pwd_key(), 5);
    CHECK(n > 0);
    CHECK_INT(stun_parse(buf, (size_t)n, &m), 0);
    CHECK_INT(m.error_code, 420);
    CHECK(view_is(m.error_reason, "what?"));
    CHECK_INT(stun_check_integrity(buf, (size_t)n, &m, pwd_key(), 5), 0);
    CHECK_INT(stun_check_fingerprint(buf, (size_t)n, &m), 0);
    CHECK(memcmp(buf + 20 + 4 + 12 + 4, "\x00\x03\x00\x04\x7f\xff", 6) == 0);
    for (size_t cap = 0; cap < (size_t)n; cap++)
        CHECK_INT(stun_build_error(buf, cap, STUN_METHOD_BINDING, rfc_txid, 420, "what?", unknown,
                                   3, pwd_key(), 5),
                  STUN_ERR_NOSPACE);
    /* Invalid arguments. */
    CHECK_INT(stun_build_error(buf, sizeof buf, 1, rfc_txid, 299, NULL, NULL, 0, NULL, 0),
              STUN_ERR_INVAL);
    CHECK_INT(stun_build_error(buf, sizeof buf, 1, rfc_txid, 700, NULL, NULL, 0, NULL, 0),
              STUN_ERR_INVAL);
    CHECK_INT(stun_build_error(buf, sizeof buf, 0x1000, rfc_txid, 400, NULL, NULL, 0, NULL, 0),
              STUN_ERR_INVAL);
    CHECK_INT(stun_build_error(buf, sizeof buf, 1, rfc_txid, 420, NULL, NULL, 2, NULL, 0),
              STUN_ERR_INVAL);
}

/* ---- malformations ----------------------------------------------------------------- */

/* Writes a header with the given type and body length into buf; returns 20. */
static size_t put_header(uint8_t *buf, uint16_t type, uint16_t body)
{
    buf[0] = (uint8_t)(type >> 8), buf[1] = (uint8_t)type;
    buf[2] = (uint8_t)(body >> 8), buf[3] = (uint8_t)body;
    buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
    memcpy(buf + 8, rfc_txid, 12);
    return 20;
}

/* A message made of the header and the raw attribute bytes attrs[0..n). */
static size_t craft(uint8_t *buf, uint16_t type, const void *attrs, size_t n)
{
    put_header(buf, type, (uint16_t)n);
    memcpy(buf + 20, attrs, n);
    return 20 + n;
}

static void test_header_errors(void)
{
    uint8_t buf[STUN_MAX_MSG_LEN + 8];
    stun_msg_t m;
    memcpy(buf, rfc_request, sizeof rfc_request);
    for (size_t len = 0; len < 20; len++)
        CHECK_INT(stun_parse(buf, len, &m), STUN_ERR_TRUNCATED);
    CHECK_INT(stun_parse(NULL, 0, &m), STUN_ERR_TRUNCATED);

    buf[0] = 0x40;
    CHECK_INT(stun_parse(buf, sizeof rfc_request, &m), STUN_ERR_NOT_STUN);
    buf[0] = 0x80;
    CHECK_INT(stun_parse(buf, sizeof rfc_request, &m), STUN_ERR_NOT_STUN);
    buf[0] = 0x00;
    buf[7] = 0x43;
    CHECK_INT(stun_parse(buf, sizeof rfc_request, &m), STUN_ERR_BAD_COOKIE);
    buf[7] = 0x42;

    /* Length field not a multiple of 4 (datagram matching it). */
    put_header(buf, 0x0001, 2);
    CHECK_INT(stun_parse(buf, 22, &m), STUN_ERR_BAD_LENGTH);
    /* Length field disagreeing with the datagram, both ways. */
    memcpy(buf, rfc_request, sizeof rfc_request);
    CHECK_INT(stun_parse(buf, sizeof rfc_request - 4, &m), STUN_ERR_BAD_LENGTH);
    buf[sizeof rfc_request] = 0;
    CHECK_INT(stun_parse(buf, sizeof rfc_request + 4, &m), STUN_ERR_BAD_LENGTH);

    /* Oversized: a well-formed message longer than STUN_MAX_MSG_LEN. */
    memset(buf, 0, sizeof buf);
    size_t body = STUN_MAX_MSG_LEN + 4 - 20;
    put_header(buf, 0x0001, (uint16_t)body);
    buf[20] = 0x80, buf[21] = 0x22; /* SOFTWARE */
    buf[22] = (uint8_t)((body - 4) >> 8), buf[23] = (uint8_t)(body - 4);
    CHECK_INT(stun_parse(buf, 20 + body, &m), STUN_ERR_TOO_BIG);
    /* ... while the largest allowed one parses. */
    body = STUN_MAX_MSG_LEN - 20;
    put_header(buf, 0x0001, (uint16_t)body);
    buf[22] = (uint8_t)((body - 4) >> 8), buf[23] = (uint8_t)(body - 4);
    CHECK_INT(stun_parse(buf, 20 + body, &m), 0);
}

static void test_attribute_errors(void)
{
    static const struct {
        const char *name;
        uint8_t attrs[16];
        size_t n;
        int want;
    } cases[] = {
        {"value overruns", {0x00, 0x06, 0x00, 0x08, 'a', 'b', 'c', 'd'}, 8, STUN_ERR_ATTR_OVERRUN},
        {"padding overruns",
         {0x00, 0x06, 0x00, 0x05, 'a', 'b', 'c', 'd'},
         8,
         STUN_ERR_ATTR_OVERRUN},
        {"huge length", {0x80, 0x22, 0xff, 0xfc, 0, 0, 0, 0}, 8, STUN_ERR_ATTR_OVERRUN},
        {"PRIORITY of 3", {0x00, 0x24, 0x00, 0x03, 1, 2, 3, 0}, 8, STUN_ERR_BAD_ATTR},
        {"USE-CANDIDATE of 4", {0x00, 0x25, 0x00, 0x04, 0, 0, 0, 0}, 8, STUN_ERR_BAD_ATTR},
        {"ICE-CONTROLLING of 4", {0x80, 0x2a, 0x00, 0x04, 0, 0, 0, 0}, 8, STUN_ERR_BAD_ATTR},
        {"MI of 16", {0x00, 0x08, 0x00, 0x04, 0, 0, 0, 0}, 8, STUN_ERR_BAD_ATTR},
        {"FINGERPRINT of 8",
         {0x80, 0x28, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0},
         12,
         STUN_ERR_BAD_ATTR},
        {"XOR address family 3",
         {0x00, 0x20, 0x00, 0x08, 0, 3, 0, 0, 0, 0, 0, 0},
         12,
         STUN_ERR_BAD_ATTR},
        {"XOR IPv4 of 20", {0x00, 0x20, 0x00, 0x04, 0, 1, 0, 0}, 8, STUN_ERR_BAD_ATTR},
        {"ERROR-CODE class 7", {0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0}, 8, STUN_ERR_BAD_ATTR},
        {"ERROR-CODE number 100", {0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100}, 8, STUN_ERR_BAD_ATTR},
        {"ERROR-CODE short", {0x00, 0x09, 0x00, 0x02, 0, 0, 0, 0}, 8, STUN_ERR_BAD_ATTR},
        {"after FINGERPRINT",
         {0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0, 0x80, 0x22, 0, 0},
         12,
         STUN_ERR_AFTER_FINGERPRINT},
    };
    uint8_t buf[64];
    stun_msg_t m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = craft(buf, 0x0001, cases[i].attrs, cases[i].n);
        int rc = stun_parse(buf, len, &m);
        if (rc != cases[i].want) fprintf(stderr, "case '%s'\n", cases[i].name);
        CHECK_INT(rc, cases[i].want);
        /* The header was fine: class and transaction are known, a server may answer 400. */
        CHECK_INT(m.cls, STUN_CLASS_REQUEST);
        CHECK(memcmp(m.txid, rfc_txid, 12) == 0);
    }
    /* A USERNAME of 513 bytes is refused. */
    uint8_t big[20 + 4 + 516] = {0};
    put_header(big, 0x0001, 4 + 516);
    big[20] = 0x00, big[21] = 0x06, big[22] = 0x02, big[23] = 0x01;
    CHECK_INT(stun_parse(big, sizeof big, &m), STUN_ERR_BAD_ATTR);
    big[23] = 0x00; /* 512: fine */
    CHECK_INT(stun_parse(big, sizeof big, &m), 0);
    CHECK_INT(m.username.len, 512);
}

static void test_bad_integrity_and_fingerprint(void)
{
    uint8_t buf[sizeof rfc_request];
    stun_msg_t m;
    const size_t klen = strlen(rfc_password);
    /* Any change before MESSAGE-INTEGRITY (offset 76), or to the MAC itself, breaks
     * integrity; the attribute header at 76..79 is left alone. */
    for (size_t i = 0; i < 100; i++) {
        if (i == 2 || i == 3 || (i >= 76 && i < 80))
            continue; /* the length field: parse refuses first */
        memcpy(buf, rfc_request, sizeof buf);
        buf[i] ^= 0x01;
        if (stun_parse(buf, sizeof buf, &m) != 0)
            continue; /* e.g. an attribute type or length changed */
        CHECK_INT(stun_check_integrity(buf, sizeof buf, &m, pwd_key(), klen), STUN_ERR_INTEGRITY);
        CHECK_INT(stun_check_fingerprint(buf, sizeof buf, &m), STUN_ERR_FINGERPRINT);
    }
    /* A corrupted CRC breaks only the fingerprint. */
    memcpy(buf, rfc_request, sizeof buf);
    buf[sizeof buf - 1] ^= 0x80;
    CHECK_INT(stun_parse(buf, sizeof buf, &m), 0);
    CHECK_INT(stun_check_integrity(buf, sizeof buf, &m, pwd_key(), klen), 0);
    CHECK_INT(stun_check_fingerprint(buf, sizeof buf, &m), STUN_ERR_FINGERPRINT);
    /* Empty key or wrong length key. */
    CHECK_INT(stun_check_integrity(rfc_request, sizeof rfc_request, &m, NULL, 0),
              STUN_ERR_INTEGRITY);
    CHECK_INT(stun_check_integrity(rfc_request, sizeof rfc_request, &m, pwd_key(), klen - 1),
              STUN_ERR_INTEGRITY);
    /* A hand-made stun_msg_t with out-of-range offsets is refused, not read past. */
    stun_msg_t forged = m;
    forged.integrity_off = sizeof rfc_request - 8;
    CHECK_INT(stun_check_integrity(rfc_request, sizeof rfc_request, &forged, pwd_key(), klen),
              STUN_ERR_INTEGRITY);
    forged.fingerprint_off = 8;
    CHECK_INT(stun_check_fingerprint(rfc_request, sizeof rfc_request, &forged),
              STUN_ERR_FINGERPRINT);
}

static void test_unknown_and_duplicates(void)
{
    /* clang-format off */
    static const uint8_t attrs[] = {
        0x00, 0x03, 0x00, 0x00,                    /* unknown, required */
        0xc0, 0x57, 0x00, 0x04, 0, 1, 0, 9,        /* unknown, optional (ignored) */
        0x00, 0x06, 0x00, 0x03, 'a', 'b', 'c', 0,  /* USERNAME abc */
        0x00, 0x06, 0x00, 0x03, 'x', 'y', 'z', 0,  /* duplicate: ignored */
        0x00, 0x2f, 0x00, 0x00,                    /* unknown, required */
        0x00, 0x30, 0x00, 0x00,
        0x00, 0x31, 0x00, 0x00,
        0x00, 0x32, 0x00, 0x00,                    /* fifth: counted, not stored */
    };
    /* clang-format on */
    uint8_t buf[128];
    stun_msg_t m;
    size_t len = craft(buf, 0x0001, attrs, sizeof attrs);
    CHECK_INT(stun_parse(buf, len, &m), 0);
    CHECK(view_is(m.username, "abc"));
    CHECK_INT(m.unknown_count, 5);
    CHECK_INT(m.unknown_types[0], 0x0003);
    CHECK_INT(m.unknown_types[1], 0x002f);
    CHECK_INT(m.unknown_types[3], 0x0031);

    /* Attributes between MESSAGE-INTEGRITY and FINGERPRINT are ignored. */
    /* clang-format off */
    uint8_t after[] = {
        0x00, 0x08, 0x00, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x25, 0x00, 0x00,                    /* USE-CANDIDATE: ignored */
        0x00, 0x03, 0x00, 0x00,                    /* unknown: ignored */
        0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0,
    };
    /* clang-format on */
    len = craft(buf, 0x0001, after, sizeof after);
    CHECK_INT(stun_parse(buf, len, &m), 0);
    CHECK(!(m.present & STUN_HAS_USE_CANDIDATE));
    CHECK_INT(m.unknown_count, 0);
    CHECK(m.present & STUN_HAS_FINGERPRINT);
    CHECK_INT(m.integrity_off, 20);
    CHECK_INT(m.fingerprint_off, 52);
}

static void test_classes(void)
{
    static const struct {
        uint16_t type;
        uint16_t method;
        stun_class_t cls;
    } cases[] = {
        {0x0001, 0x001, STUN_CLASS_REQUEST}, {0x0011, 0x001, STUN_CLASS_INDICATION},
        {0x0101, 0x001, STUN_CLASS_SUCCESS}, {0x0111, 0x001, STUN_CLASS_ERROR},
        {0x0003, 0x003, STUN_CLASS_REQUEST}, {0x3eef, 0xfff, STUN_CLASS_REQUEST},
        {0x3fff, 0xfff, STUN_CLASS_ERROR},
    };
    uint8_t buf[20];
    stun_msg_t m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_header(buf, cases[i].type, 0);
        CHECK_INT(stun_parse(buf, 20, &m), 0);
        CHECK_INT(m.method, cases[i].method);
        CHECK_INT(m.cls, cases[i].cls);
        CHECK_INT(m.type, cases[i].type);
    }
}

static void test_strerror(void)
{
    CHECK_STR(stun_strerror(0), "ok");
    CHECK_STR(stun_strerror(STUN_ERR_BAD_COOKIE), "bad magic cookie");
    CHECK_STR(stun_strerror(STUN_ERR_CRYPTO), "OpenSSL failure");
    CHECK_STR(stun_strerror(-100), "unknown STUN error");
    CHECK_STR(stun_strerror(5), "unknown STUN error");
}

int main(void)
{
    test_crc32();
    test_rfc5769_request();
    test_rfc5769_responses();
    test_rfc5769_long_term();
    test_build_request();
    test_build_success_v4();
    test_build_success_v6();
    test_build_errors();
    test_header_errors();
    test_attribute_errors();
    test_bad_integrity_and_fingerprint();
    test_unknown_and_duplicates();
    test_classes();
    test_strerror();
    TEST_END();
}
