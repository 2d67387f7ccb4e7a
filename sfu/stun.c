/* STUN message parsing, checking and building (RFC 8489); see stun.h. */
#include "stun.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "bytes.h"

#define ATTR_HEADER_LEN  4
#define INTEGRITY_ATTR   (ATTR_HEADER_LEN + STUN_HMAC_LEN)
#define FINGERPRINT_ATTR (ATTR_HEADER_LEN + 4)
#define MAX_REASON_LEN   763 /* RFC 8489 section 14.8: fewer than 128 characters */
#define FAMILY_IPV4      0x01
#define FAMILY_IPV6      0x02

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* The 14-bit type interleaves the class bits C1 (bit 8) and C0 (bit 4) with the method. */
static uint16_t encode_type(uint16_t method, stun_class_t cls)
{
    unsigned c = (unsigned)cls;
    return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 | (method & 0x0f80) << 2 |
                      (c & 1u) << 4 | (c & 2u) << 7);
}

/* ---- CRC-32 ---------------------------------------------------------------------- */

/* Reflected polynomial 0xEDB88320, four bits at a time: a 64-byte table is enough for
 * the few hundred bytes of a STUN message. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t stun_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0f];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0f];
    }
    return ~crc;
}

/* ---- parsing --------------------------------------------------------------------- */

static int parse_header(const uint8_t *p, size_t len, stun_msg_t *m)
{
    if (!p || len < STUN_HEADER_LEN) return STUN_ERR_TRUNCATED;
    if (p[0] & 0xc0) return STUN_ERR_NOT_STUN;
    if (rd32(p + 4) != STUN_MAGIC_COOKIE) return STUN_ERR_BAD_COOKIE;
    if (len > STUN_MAX_MSG_LEN) return STUN_ERR_TOO_BIG;
    size_t body = rd16(p + 2);
    if (body % 4 != 0 || body + STUN_HEADER_LEN != len) return STUN_ERR_BAD_LENGTH;
    uint16_t t = rd16(p);
    m->type = t;
    m->method = (uint16_t)((t & 0x000f) | (t & 0x00e0) >> 1 | (t & 0x3e00) >> 2);
    m->cls = (stun_class_t)((t & 0x0010) >> 4 | (t & 0x0100) >> 7);
    memcpy(m->txid, p + 8, STUN_TXID_LEN);
    return 0;
}

static int parse_xor_address(stun_msg_t *m, const uint8_t *v, size_t n)
{
    if (n < 4) return STUN_ERR_BAD_ATTR;
    uint16_t port = rd16(v + 2) ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16);
    uint8_t mask[16];
    wr32(mask, STUN_MAGIC_COOKIE);
    memcpy(mask + 4, m->txid, STUN_TXID_LEN);
    memset(&m->xor_mapped, 0, sizeof m->xor_mapped);
    if (v[1] == FAMILY_IPV4 && n == 8) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
        uint8_t a[4];
        for (int i = 0; i < 4; i++)
            a[i] = v[4 + i] ^ mask[i];
        memcpy(&sin.sin_addr, a, 4);
        memcpy(&m->xor_mapped, &sin, sizeof sin);
        return 0;
    }
    if (v[1] == FAMILY_IPV6 && n == 20) {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        for (int i = 0; i < 16; i++)
            sin6.sin6_addr.s6_addr[i] = v[4 + i] ^ mask[i];
        memcpy(&m->xor_mapped, &sin6, sizeof sin6);
        return 0;
    }
    return STUN_ERR_BAD_ATTR;
}

static int parse_error_code(stun_msg_t *m, const uint8_t *v, size_t n)
{
    if (n < 4) return STUN_ERR_BAD_ATTR;
    unsigned hundreds = v[2] & 0x07, rest = v[3];
    if (hundreds < 3 || hundreds > 6 || rest > 99) return STUN_ERR_BAD_ATTR;
    m->error_code = (uint16_t)(hundreds * 100 + rest);
    m->error_reason = (stun_view_t){v + 4, n - 4};
    return 0;
}

static void note_unknown(stun_msg_t *m, uint16_t type)
{
    if (type >= 0x8000) /* comprehension-optional: ignore silently */
        return;
    if (m->unknown_count < STUN_MAX_UNKNOWN) m->unknown_types[m->unknown_count] = type;
    m->unknown_count++;
}

/* Decodes one attribute's value v[0..n) found at offset off into *m. */
static int parse_attr(stun_msg_t *m, uint16_t type, const uint8_t *v, size_t n, size_t off)
{
    switch (type) {
    case STUN_ATTR_USERNAME:
        if (n > STUN_MAX_USERNAME) return STUN_ERR_BAD_ATTR;
        m->username = (stun_view_t){v, n};
        return 0;
    case STUN_ATTR_MESSAGE_INTEGRITY:
        m->integrity_off = off;
        return n == STUN_HMAC_LEN ? 0 : STUN_ERR_BAD_ATTR;
    case STUN_ATTR_FINGERPRINT:
        m->fingerprint_off = off;
        return n == 4 ? 0 : STUN_ERR_BAD_ATTR;
    case STUN_ATTR_PRIORITY:
        if (n != 4) return STUN_ERR_BAD_ATTR;
        m->priority = rd32(v);
        return 0;
    case STUN_ATTR_USE_CANDIDATE:
        return n == 0 ? 0 : STUN_ERR_BAD_ATTR;
    case STUN_ATTR_ICE_CONTROLLING:
    case STUN_ATTR_ICE_CONTROLLED:
        if (n != 8) return STUN_ERR_BAD_ATTR;
        m->tiebreaker = rd64(v);
        return 0;
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
        return parse_xor_address(m, v, n);
    case STUN_ATTR_ERROR_CODE:
        return parse_error_code(m, v, n);
    case STUN_ATTR_REALM:
        m->realm = (stun_view_t){v, n};
        return 0;
    case STUN_ATTR_NONCE:
        m->nonce = (stun_view_t){v, n};
        return 0;
    case STUN_ATTR_SOFTWARE:
        m->software = (stun_view_t){v, n};
        return 0;
    case STUN_ATTR_MAPPED_ADDRESS:
    case STUN_ATTR_UNKNOWN_ATTRIBUTES:
        return 0; /* understood, not needed */
    default:
        note_unknown(m, type);
        return 0;
    }
}

static uint32_t attr_flag(uint16_t type)
{
    switch (type) {
    case STUN_ATTR_USERNAME:
        return STUN_HAS_USERNAME;
    case STUN_ATTR_MESSAGE_INTEGRITY:
        return STUN_HAS_INTEGRITY;
    case STUN_ATTR_FINGERPRINT:
        return STUN_HAS_FINGERPRINT;
    case STUN_ATTR_PRIORITY:
        return STUN_HAS_PRIORITY;
    case STUN_ATTR_USE_CANDIDATE:
        return STUN_HAS_USE_CANDIDATE;
    case STUN_ATTR_ICE_CONTROLLING:
        return STUN_HAS_ICE_CONTROLLING;
    case STUN_ATTR_ICE_CONTROLLED:
        return STUN_HAS_ICE_CONTROLLED;
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
        return STUN_HAS_XOR_MAPPED;
    case STUN_ATTR_ERROR_CODE:
        return STUN_HAS_ERROR_CODE;
    case STUN_ATTR_REALM:
        return STUN_HAS_REALM;
    case STUN_ATTR_NONCE:
        return STUN_HAS_NONCE;
    case STUN_ATTR_SOFTWARE:
        return STUN_HAS_SOFTWARE;
    default:
        return 0;
    }
}

static int parse_attrs(const uint8_t *p, size_t len, stun_msg_t *m)
{
    size_t off = STUN_HEADER_LEN;
    while (off < len) {
        if (m->present & STUN_HAS_FINGERPRINT) return STUN_ERR_AFTER_FINGERPRINT;
        if (len - off < ATTR_HEADER_LEN) return STUN_ERR_ATTR_OVERRUN;
        uint16_t type = rd16(p + off);
        size_t n = rd16(p + off + 2);
        if (pad4(n) > len - off - ATTR_HEADER_LEN) return STUN_ERR_ATTR_OVERRUN;
        uint32_t flag = attr_flag(type);
        /* First occurrence wins; after MESSAGE-INTEGRITY only FINGERPRINT counts. */
        int skip = (flag && (m->present & flag)) ||
                   ((m->present & STUN_HAS_INTEGRITY) && type != STUN_ATTR_FINGERPRINT);
        if (!skip) {
            int rc = parse_attr(m, type, p + off + ATTR_HEADER_LEN, n, off);
            if (rc < 0) return rc;
            m->present |= flag;
        }
        off += ATTR_HEADER_LEN + pad4(n);
    }
    return 0;
}

int stun_parse(const uint8_t *p, size_t len, stun_msg_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = parse_header(p, len, out);
    if (rc < 0) return rc;
    return parse_attrs(p, len, out);
}

/* ---- checking -------------------------------------------------------------------- */

static int hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *data, size_t n,
                     uint8_t mac[STUN_HMAC_LEN])
{
    static const uint8_t empty_key[1];
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (keylen > INT_MAX) return STUN_ERR_INVAL;
    if (!HMAC(EVP_sha1(), key && keylen ? key : empty_key, (int)keylen, data, n, md, &mdlen) ||
        mdlen != STUN_HMAC_LEN)
        return STUN_ERR_CRYPTO;
    memcpy(mac, md, STUN_HMAC_LEN);
    return 0;
}

int stun_check_integrity(const uint8_t *p, size_t len, const stun_msg_t *m, const uint8_t *key,
                         size_t keylen)
{
    if (!(m->present & STUN_HAS_INTEGRITY)) return STUN_ERR_NO_INTEGRITY;
    size_t mi = m->integrity_off;
    if (mi < STUN_HEADER_LEN || len > STUN_MAX_MSG_LEN || mi + INTEGRITY_ATTR > len)
        return STUN_ERR_INTEGRITY;
    /* The HMAC covers the message up to MESSAGE-INTEGRITY with the length field set as
     * if MESSAGE-INTEGRITY were the last attribute: patch a bounded stack copy. */
    uint8_t copy[STUN_MAX_MSG_LEN];
    memcpy(copy, p, mi);
    wr16(copy + 2, (uint16_t)(mi + INTEGRITY_ATTR - STUN_HEADER_LEN));
    uint8_t mac[STUN_HMAC_LEN];
    int rc = hmac_sha1(key, keylen, copy, mi, mac);
    if (rc < 0) return rc;
    if (CRYPTO_memcmp(mac, p + mi + ATTR_HEADER_LEN, STUN_HMAC_LEN) != 0) return STUN_ERR_INTEGRITY;
    return 0;
}

int stun_check_fingerprint(const uint8_t *p, size_t len, const stun_msg_t *m)
{
    if (!(m->present & STUN_HAS_FINGERPRINT)) return STUN_ERR_NO_FINGERPRINT;
    size_t fp = m->fingerprint_off;
    /* stun_parse guarantees FINGERPRINT is last, so the length field already covers it. */
    if (fp < STUN_HEADER_LEN || fp + FINGERPRINT_ATTR != len) return STUN_ERR_FINGERPRINT;
    uint32_t want = stun_crc32(0, p, fp) ^ STUN_FINGERPRINT_XOR;
    return rd32(p + fp + ATTR_HEADER_LEN) == want ? 0 : STUN_ERR_FINGERPRINT;
}

/* ---- building -------------------------------------------------------------------- */

/* A write cursor over the caller's buffer; the first failure sticks in err. */
typedef struct wbuf {
    uint8_t *p;
    size_t cap;
    size_t len;
    int err;
} wbuf_t;

static void wb_header(wbuf_t *w, uint16_t type, const uint8_t txid[STUN_TXID_LEN])
{
    if (!w->p || w->cap < STUN_HEADER_LEN) {
        w->err = STUN_ERR_NOSPACE;
        return;
    }
    wr16(w->p, type);
    wr16(w->p + 2, 0);
    wr32(w->p + 4, STUN_MAGIC_COOKIE);
    memcpy(w->p + 8, txid, STUN_TXID_LEN);
    w->len = STUN_HEADER_LEN;
}

/* Appends an attribute header and zeroed, padded room for n value bytes; keeps the
 * header's length field current. Returns the value's address, or NULL on failure. */
static uint8_t *wb_attr(wbuf_t *w, uint16_t type, size_t n)
{
    if (w->err) return NULL;
    size_t room = ATTR_HEADER_LEN + pad4(n);
    if (n > 0xffff || room > w->cap - w->len || w->len + room > STUN_MAX_MSG_LEN) {
        w->err = STUN_ERR_NOSPACE;
        return NULL;
    }
    uint8_t *a = w->p + w->len;
    memset(a, 0, room);
    wr16(a, type);
    wr16(a + 2, (uint16_t)n);
    w->len += room;
    wr16(w->p + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
    return a + ATTR_HEADER_LEN;
}

static void wb_bytes(wbuf_t *w, uint16_t type, const void *data, size_t n)
{
    uint8_t *v = wb_attr(w, type, n);
    if (v && n) memcpy(v, data, n);
}

static void wb_u32(wbuf_t *w, uint16_t type, uint32_t x)
{
    uint8_t *v = wb_attr(w, type, 4);
    if (v) wr32(v, x);
}

static void wb_u64(wbuf_t *w, uint16_t type, uint64_t x)
{
    uint8_t *v = wb_attr(w, type, 8);
    if (v) wr64(v, x);
}

static void wb_xor_address(wbuf_t *w, const struct sockaddr *sa)
{
    uint8_t addr[16], family;
    uint16_t port;
    size_t alen;
    if (!sa) {
        w->err = STUN_ERR_INVAL;
        return;
    }
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        memcpy(addr, &sin.sin_addr, 4);
        port = ntohs(sin.sin_port), family = FAMILY_IPV4, alen = 4;
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        port = ntohs(sin6.sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) /* dual-stack socket, IPv4 peer */
            memcpy(addr, sin6.sin6_addr.s6_addr + 12, 4), family = FAMILY_IPV4, alen = 4;
        else
            memcpy(addr, sin6.sin6_addr.s6_addr, 16), family = FAMILY_IPV6, alen = 16;
    } else {
        w->err = STUN_ERR_INVAL;
        return;
    }
    uint8_t *v = wb_attr(w, STUN_ATTR_XOR_MAPPED_ADDRESS, 4 + alen);
    if (!v) return;
    uint8_t mask[16];
    wr32(mask, STUN_MAGIC_COOKIE);
    memcpy(mask + 4, w->p + 8, STUN_TXID_LEN);
    v[1] = family;
    wr16(v + 2, port ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16));
    for (size_t i = 0; i < alen; i++)
        v[4 + i] = addr[i] ^ mask[i];
}

static void wb_integrity(wbuf_t *w, const uint8_t *key, size_t keylen)
{
    uint8_t *v = wb_attr(w, STUN_ATTR_MESSAGE_INTEGRITY, STUN_HMAC_LEN);
    if (!v) return;
    /* The length field already counts this attribute, as section 14.5 wants. */
    int rc = hmac_sha1(key, keylen, w->p, w->len - INTEGRITY_ATTR, v);
    if (rc < 0) w->err = rc;
}

static void wb_fingerprint(wbuf_t *w)
{
    uint8_t *v = wb_attr(w, STUN_ATTR_FINGERPRINT, 4);
    if (v) wr32(v, stun_crc32(0, w->p, w->len - FINGERPRINT_ATTR) ^ STUN_FINGERPRINT_XOR);
}

/* Appends MESSAGE-INTEGRITY (when key is set) and FINGERPRINT; returns length or error. */
static int wb_finish(wbuf_t *w, const uint8_t *key, size_t keylen)
{
    if (key) wb_integrity(w, key, keylen);
    wb_fingerprint(w);
    return w->err ? w->err : (int)w->len;
}

int stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
                               const struct sockaddr *mapped, const uint8_t *key, size_t keylen)
{
    wbuf_t w = {out, cap, 0, 0};
    wb_header(&w, encode_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), txid);
    wb_xor_address(&w, mapped);
    return wb_finish(&w, key, keylen);
}

static const char *default_reason(int code)
{
    switch (code) {
    case STUN_CODE_BAD_REQUEST:
        return "Bad Request";
    case STUN_CODE_UNAUTHORIZED:
        return "Unauthorized";
    case STUN_CODE_UNKNOWN_ATTR:
        return "Unknown Attribute";
    case STUN_CODE_ROLE_CONFLICT:
        return "Role Conflict";
    default:
        return "Error";
    }
}

int stun_build_error(uint8_t *out, size_t cap, uint16_t method, const uint8_t txid[STUN_TXID_LEN],
                     int code, const char *reason, const uint16_t *unknown, size_t n_unknown,
                     const uint8_t *key, size_t keylen)
{
    if (code < 300 || code > 699 || method > 0x0fff || (n_unknown && !unknown))
        return STUN_ERR_INVAL;
    if (!reason) reason = default_reason(code);
    size_t rlen = strlen(reason);
    if (rlen > MAX_REASON_LEN) return STUN_ERR_INVAL;
    wbuf_t w = {out, cap, 0, 0};
    wb_header(&w, encode_type(method, STUN_CLASS_ERROR), txid);
    uint8_t *v = wb_attr(&w, STUN_ATTR_ERROR_CODE, 4 + rlen);
    if (v) {
        v[2] = (uint8_t)(code / 100);
        v[3] = (uint8_t)(code % 100);
        memcpy(v + 4, reason, rlen);
    }
    if (n_unknown) {
        v = wb_attr(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n_unknown);
        for (size_t i = 0; v && i < n_unknown; i++)
            wr16(v + 2 * i, unknown[i]);
    }
    return wb_finish(&w, key, keylen);
}

int stun_build_binding_request(uint8_t *out, size_t cap, const stun_binding_request_t *req)
{
    if (!req) return STUN_ERR_INVAL;
    size_t ulen = req->username ? strlen(req->username) : 0;
    if (ulen > STUN_MAX_USERNAME) return STUN_ERR_INVAL;
    wbuf_t w = {out, cap, 0, 0};
    wb_header(&w, encode_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), req->txid);
    if (req->username) wb_bytes(&w, STUN_ATTR_USERNAME, req->username, ulen);
    if (req->priority) wb_u32(&w, STUN_ATTR_PRIORITY, req->priority);
    if (req->role == STUN_ROLE_CONTROLLING)
        wb_u64(&w, STUN_ATTR_ICE_CONTROLLING, req->tiebreaker);
    else if (req->role == STUN_ROLE_CONTROLLED)
        wb_u64(&w, STUN_ATTR_ICE_CONTROLLED, req->tiebreaker);
    if (req->use_candidate) wb_attr(&w, STUN_ATTR_USE_CANDIDATE, 0);
    return wb_finish(&w, req->key, req->keylen);
}

const char *stun_strerror(int err)
{
    static const char *const names[] = {
        "ok",
        "truncated: shorter than the 20-byte STUN header",
        "not STUN: top two bits of the type are not zero",
        "bad magic cookie",
        "bad length: not a multiple of 4 or not the datagram's length",
        "message longer than STUN_MAX_MSG_LEN",
        "attribute runs past the end of the message",
        "attribute with an invalid length or value",
        "attribute after FINGERPRINT",
        "MESSAGE-INTEGRITY missing",
        "MESSAGE-INTEGRITY mismatch",
        "FINGERPRINT missing",
        "FINGERPRINT mismatch",
        "output buffer too small",
        "invalid argument",
        "OpenSSL failure",
    };
    if (err > 0 || -err >= (int)(sizeof names / sizeof names[0])) return "unknown STUN error";
    return names[-err];
}
