/* stun: STUN messages (RFC 8489), sans-I/O.
 *
 * Parsing fills a caller-owned stun_msg_t whose byte fields are views into the parsed
 * datagram (valid as long as the datagram is); building writes into a caller buffer of a
 * given capacity. Nothing here allocates, touches a socket or reads a clock.
 *
 * Only what ICE needs is decoded: Binding requests and responses with USERNAME,
 * MESSAGE-INTEGRITY (HMAC-SHA1, short-term credentials), FINGERPRINT, PRIORITY,
 * USE-CANDIDATE, ICE-CONTROLLING/ICE-CONTROLLED, XOR-MAPPED-ADDRESS and ERROR-CODE;
 * REALM, NONCE and SOFTWARE are exposed as views. Other comprehension-required attributes
 * are recorded as unknown so that a server can answer 420.
 *
 * Error convention: functions return 0 (or a byte count) on success and a negative
 * STUN_ERR_* code on failure; stun_strerror() names them.
 *
 * Thread: all functions are reentrant and keep no state; the media worker calls them on
 * its own thread. */
#ifndef SOBRE_STUN_H
#define SOBRE_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN      20
#define STUN_MAGIC_COOKIE    0x2112A442u
#define STUN_TXID_LEN        12
#define STUN_HMAC_LEN        20
#define STUN_FINGERPRINT_XOR 0x5354554eu
/* Largest message accepted or built: one Ethernet MTU. ICE messages are ~100 bytes. */
#define STUN_MAX_MSG_LEN 1500
/* RFC 8489 section 14.3: USERNAME is less than 513 bytes. */
#define STUN_MAX_USERNAME 512
/* How many unknown comprehension-required attribute types are remembered. */
#define STUN_MAX_UNKNOWN 4

/* Methods and attribute types used by ICE (RFC 8489 section 18, RFC 8445 section 16). */
#define STUN_METHOD_BINDING 0x001

#define STUN_ATTR_MAPPED_ADDRESS     0x0001
#define STUN_ATTR_USERNAME           0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY  0x0008
#define STUN_ATTR_ERROR_CODE         0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_REALM              0x0014
#define STUN_ATTR_NONCE              0x0015
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_PRIORITY           0x0024
#define STUN_ATTR_USE_CANDIDATE      0x0025
#define STUN_ATTR_SOFTWARE           0x8022
#define STUN_ATTR_FINGERPRINT        0x8028
#define STUN_ATTR_ICE_CONTROLLED     0x8029
#define STUN_ATTR_ICE_CONTROLLING    0x802A

/* Error codes carried in ERROR-CODE responses. */
#define STUN_CODE_BAD_REQUEST   400
#define STUN_CODE_UNAUTHORIZED  401
#define STUN_CODE_UNKNOWN_ATTR  420
#define STUN_CODE_ROLE_CONFLICT 487

/* Parse and check failures. Codes from STUN_ERR_TRUNCATED to STUN_ERR_TOO_BIG mean the
 * header itself is not a STUN header (the datagram is not STUN at all); codes from
 * STUN_ERR_ATTR_OVERRUN to STUN_ERR_AFTER_FINGERPRINT mean the header was valid but the
 * attributes were not: stun_parse has then filled the header fields (cls, method, txid),
 * so a server may answer 400. */
enum {
    STUN_ERR_TRUNCATED = -1,         /* shorter than the 20-byte header */
    STUN_ERR_NOT_STUN = -2,          /* one of the two top bits is set */
    STUN_ERR_BAD_COOKIE = -3,        /* magic cookie is not 0x2112A442 */
    STUN_ERR_BAD_LENGTH = -4,        /* length not a multiple of 4 or not the datagram's */
    STUN_ERR_TOO_BIG = -5,           /* longer than STUN_MAX_MSG_LEN */
    STUN_ERR_ATTR_OVERRUN = -6,      /* an attribute (or its padding) runs past the end */
    STUN_ERR_BAD_ATTR = -7,          /* a known attribute has an invalid length or value */
    STUN_ERR_AFTER_FINGERPRINT = -8, /* an attribute follows FINGERPRINT */
    STUN_ERR_NO_INTEGRITY = -9,      /* check asked for, MESSAGE-INTEGRITY absent */
    STUN_ERR_INTEGRITY = -10,        /* MESSAGE-INTEGRITY does not match the key */
    STUN_ERR_NO_FINGERPRINT = -11,   /* check asked for, FINGERPRINT absent */
    STUN_ERR_FINGERPRINT = -12,      /* FINGERPRINT does not match the CRC-32 */
    STUN_ERR_NOSPACE = -13,          /* builder: the output buffer is too small */
    STUN_ERR_INVAL = -14,            /* builder: invalid argument */
    STUN_ERR_CRYPTO = -15,           /* OpenSSL failed */
};

typedef enum stun_class {
    STUN_CLASS_REQUEST = 0,
    STUN_CLASS_INDICATION = 1,
    STUN_CLASS_SUCCESS = 2,
    STUN_CLASS_ERROR = 3,
} stun_class_t;

/* ICE role carried by a Binding request (RFC 8445 section 7.1.3). */
typedef enum stun_role {
    STUN_ROLE_NONE = 0,
    STUN_ROLE_CONTROLLING,
    STUN_ROLE_CONTROLLED,
} stun_role_t;

/* Which attributes a parsed message carried (stun_msg_t.present). */
#define STUN_HAS_USERNAME        (1u << 0)
#define STUN_HAS_INTEGRITY       (1u << 1)
#define STUN_HAS_FINGERPRINT     (1u << 2)
#define STUN_HAS_PRIORITY        (1u << 3)
#define STUN_HAS_USE_CANDIDATE   (1u << 4)
#define STUN_HAS_ICE_CONTROLLING (1u << 5)
#define STUN_HAS_ICE_CONTROLLED  (1u << 6)
#define STUN_HAS_XOR_MAPPED      (1u << 7)
#define STUN_HAS_ERROR_CODE      (1u << 8)
#define STUN_HAS_REALM           (1u << 9)
#define STUN_HAS_NONCE           (1u << 10)
#define STUN_HAS_SOFTWARE        (1u << 11)

/* A borrowed byte range inside the parsed datagram. */
typedef struct stun_view {
    const uint8_t *ptr;
    size_t len;
} stun_view_t;

/* A parsed message: plain value type, caller-owned, views borrow the datagram. Only the
 * first occurrence of each attribute counts; attributes after MESSAGE-INTEGRITY other
 * than FINGERPRINT are ignored (RFC 8489 section 14.5). */
typedef struct stun_msg {
    uint16_t type;   /* the raw 14-bit message type */
    uint16_t method; /* e.g. STUN_METHOD_BINDING */
    stun_class_t cls;
    uint8_t txid[STUN_TXID_LEN];
    uint32_t present; /* STUN_HAS_* bits */
    stun_view_t username;
    stun_view_t realm;
    stun_view_t nonce;
    stun_view_t software;
    size_t integrity_off;   /* offset of the MESSAGE-INTEGRITY attribute header */
    size_t fingerprint_off; /* offset of the FINGERPRINT attribute header */
    uint32_t priority;
    uint64_t tiebreaker;                /* from ICE-CONTROLLING or ICE-CONTROLLED */
    struct sockaddr_storage xor_mapped; /* AF_INET or AF_INET6, decoded */
    uint16_t error_code;                /* 300..699 */
    stun_view_t error_reason;
    unsigned unknown_count; /* unknown comprehension-required attributes (all of them) */
    uint16_t unknown_types[STUN_MAX_UNKNOWN]; /* the first STUN_MAX_UNKNOWN types */
} stun_msg_t;

/* Parses one STUN message occupying exactly p[0..len). On success returns 0 and fills
 * *out (views point into p). On failure returns a STUN_ERR_* code; see the enum for
 * which header fields are then valid. */
int stun_parse(const uint8_t *p, size_t len, stun_msg_t *out);

/* Checks MESSAGE-INTEGRITY (HMAC-SHA1 keyed with key[0..keylen), RFC 8489 section 14.5;
 * for ICE the key is the receiver's password) of a message that stun_parse accepted into
 * *m. Compares in constant time. Returns 0, STUN_ERR_NO_INTEGRITY or STUN_ERR_INTEGRITY
 * (or STUN_ERR_CRYPTO). */
int stun_check_integrity(const uint8_t *p, size_t len, const stun_msg_t *m, const uint8_t *key,
                         size_t keylen);

/* Checks FINGERPRINT (CRC-32 xor 0x5354554e, RFC 8489 section 14.7) of a message that
 * stun_parse accepted into *m. Returns 0, STUN_ERR_NO_FINGERPRINT or STUN_ERR_FINGERPRINT. */
int stun_check_fingerprint(const uint8_t *p, size_t len, const stun_msg_t *m);

/* ISO-HDLC CRC-32 (the one of FINGERPRINT, zlib and Ethernet), continuing from crc
 * (0 to start). stun_crc32(0, "123456789", 9) == 0xCBF43926. */
uint32_t stun_crc32(uint32_t crc, const uint8_t *p, size_t len);

/* Builders. Each writes one complete message into out[0..cap) and returns its length in
 * bytes, or STUN_ERR_NOSPACE when cap is too small (out's content is then unspecified),
 * or STUN_ERR_INVAL. A key of NULL omits MESSAGE-INTEGRITY. Every message built ends
 * with FINGERPRINT. */

/* Binding success response to transaction txid, carrying XOR-MAPPED-ADDRESS of mapped
 * (AF_INET or AF_INET6; an IPv4-mapped IPv6 address is written as IPv4),
 * MESSAGE-INTEGRITY keyed with key (for ICE: our password) and FINGERPRINT. */
int stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
                               const struct sockaddr *mapped, const uint8_t *key, size_t keylen);

/* Error response (class error) to a request of the given method and transaction, with
 * ERROR-CODE code (300..699) and reason (NULL: a standard phrase for 400, 401, 420, 487),
 * UNKNOWN-ATTRIBUTES listing unknown[0..n_unknown) when n_unknown > 0, MESSAGE-INTEGRITY
 * when key is not NULL (RFC 8489: not on 400/401, which answer unauthenticated requests),
 * and FINGERPRINT. */
int stun_build_error(uint8_t *out, size_t cap, uint16_t method, const uint8_t txid[STUN_TXID_LEN],
                     int code, const char *reason, const uint16_t *unknown, size_t n_unknown,
                     const uint8_t *key, size_t keylen);

/* What a Binding request (an ICE connectivity check) carries; borrowed for the call. */
typedef struct stun_binding_request {
    uint8_t txid[STUN_TXID_LEN];
    const char *username; /* "remote_ufrag:local_ufrag" from the sender's view, or NULL */
    uint32_t priority;    /* PRIORITY; omitted when 0 */
    stun_role_t role;     /* ICE-CONTROLLING / ICE-CONTROLLED with tiebreaker, or none */
    uint64_t tiebreaker;
    int use_candidate;  /* nonzero: USE-CANDIDATE */
    const uint8_t *key; /* the receiver's password; NULL: no MESSAGE-INTEGRITY */
    size_t keylen;
} stun_binding_request_t;

/* Binding request with the attributes of *req, then MESSAGE-INTEGRITY and FINGERPRINT. */
int stun_build_binding_request(uint8_t *out, size_t cap, const stun_binding_request_t *req);

/* A static English name for a STUN_ERR_* code. */
const char *stun_strerror(int err);

#endif
