/* dtls: the DTLS 1.2 handshake of DTLS-SRTP (RFC 5763/5764) on OpenSSL, through a
 * memory BIO in and a queue of datagrams out.
 *
 * Sans-I/O: datagrams in through dtls_handle(), datagrams out through dtls_pop_datagram(),
 * time as a parameter. No socket, no event loop. When the handshake completes, the peer
 * certificate is checked against the fingerprint from its SDP and the SRTP master keys are
 * exported (dtls_srtp_keys()) for srtp_conn.
 *
 * Threads: a dtls_cert_t is immutable after creation and may be shared read-only by all
 * media workers (dtls_new() from several threads at once is safe). A dtls_t belongs to the
 * one worker thread that owns its transport. */
#ifndef SOBRE_DTLS_H
#define SOBRE_DTLS_H

#include <stddef.h>
#include <stdint.h>

/* Largest datagram dtls_pop_datagram() produces: keeps the handshake under common path
 * MTUs once IP, UDP and TURN headers are added. */
#define DTLS_MTU 1200

/* Room for "sha-512 " + 64 hex pairs with colons + NUL. */
#define DTLS_FINGERPRINT_MAX 200

enum {
    DTLS_ERR_FAILED = -1,      /* the connection is (now) in DTLS_FAILED */
    DTLS_ERR_STATE = -2,       /* the call makes no sense in the current state */
    DTLS_ERR_NOSPACE = -3,     /* caller's buffer is smaller than the next datagram */
    DTLS_ERR_FINGERPRINT = -4, /* fingerprint text does not parse */
};

typedef enum {
    DTLS_SERVER = 0, /* the SFU: answers the browser's ClientHello (a=setup:passive) */
    DTLS_CLIENT = 1, /* tests and load generators */
} dtls_role_t;

typedef enum {
    DTLS_HANDSHAKING = 0,
    DTLS_CONNECTED,
    DTLS_FAILED, /* terminal; dtls_error() says why */
    DTLS_CLOSED, /* terminal; the peer sent close_notify */
} dtls_state_t;

typedef enum {
    DTLS_SRTP_NONE = 0,
    DTLS_SRTP_AES128_CM_SHA1_80, /* RFC 5764: 16-byte key, 14-byte salt */
    DTLS_SRTP_AEAD_AES_128_GCM,  /* RFC 7714: 16-byte key, 12-byte salt; preferred */
} dtls_srtp_profile_t;

#define DTLS_SRTP_KEY_MAX  16
#define DTLS_SRTP_SALT_MAX 14

/* SRTP master keys exported after the handshake (RFC 5764 §4.2), already assigned by role:
 * "local" protects what we send, "remote" unprotects what the peer sends. A plain value;
 * it holds secrets, so callers should clear copies they no longer need. */
typedef struct {
    dtls_srtp_profile_t profile;
    size_t key_len;  /* 16 for both profiles */
    size_t salt_len; /* 14 (AES128_CM_SHA1_80) or 12 (AEAD_AES_128_GCM) */
    uint8_t local_key[DTLS_SRTP_KEY_MAX];
    uint8_t local_salt[DTLS_SRTP_SALT_MAX];
    uint8_t remote_key[DTLS_SRTP_KEY_MAX];
    uint8_t remote_salt[DTLS_SRTP_SALT_MAX];
} dtls_srtp_keys_t;

/* ---- Certificates -------------------------------------------------------------------- */

typedef struct dtls_cert dtls_cert_t;

/* Generates an ECDSA P-256 key and a self-signed certificate (CN "sobre", random 64-bit
 * serial, valid from one day ago to 30 days from now; browsers check only the
 * fingerprint, not the dates) together with the OpenSSL context every dtls_t made from it
 * shares. Returns NULL on failure. Free with dtls_cert_free(). */
dtls_cert_t *dtls_cert_new(void);

/* Loads a PEM certificate and its PEM private key (any key type OpenSSL signs with; the
 * cipher list covers ECDSA and RSA). Returns NULL on failure and writes a message naming
 * the file at fault into err (always NUL-terminated when errlen > 0). */
dtls_cert_t *dtls_cert_load(const char *cert_pem_path, const char *key_pem_path, char *err,
                            size_t errlen);

/* The SHA-256 fingerprint as the value of an SDP a=fingerprint: attribute (RFC 8122),
 * hash name and digest in one string: "sha-256 AB:CD:...:EF" (uppercase hex). The string
 * belongs to the certificate and lives as long as it. */
const char *dtls_cert_fingerprint(const dtls_cert_t *cert);

/* No-op on NULL. dtls_t objects made from the certificate hold their own reference to
 * the OpenSSL context, so they may outlive it (certificate rotation). */
void dtls_cert_free(dtls_cert_t *cert);

/* Returns 0 when fp is a fingerprint dtls_new() accepts ("sha-1", "sha-224", "sha-256",
 * "sha-384" or "sha-512", case-insensitive, one space, then colon-separated hex pairs of
 * the right count, either case), DTLS_ERR_FINGERPRINT otherwise. Lets signalling reject a
 * bad SDP with a precise message before creating a transport. */
int dtls_fingerprint_check(const char *fp);

/* ---- Connections --------------------------------------------------------------------- */

typedef struct dtls dtls_t;

/* Creates a connection using cert (borrowed; see dtls_cert_free()) that will accept only a
 * peer certificate whose digest equals remote_fingerprint (copied; format as in
 * dtls_fingerprint_check()). Returns NULL if the fingerprint does not parse or on
 * allocation failure. A DTLS_CLIENT sends its ClientHello on the first dtls_handle(). */
dtls_t *dtls_new(dtls_cert_t *cert, const char *remote_fingerprint, dtls_role_t role);

/* No-op on NULL. Clears the exported keys. Sends nothing: call dtls_close() first for a
 * polite close_notify. */
void dtls_free(dtls_t *d);

/* Restricts the SRTP profiles this connection offers (client) or accepts (server) to one.
 * Call before the first dtls_handle(). Returns 0, or DTLS_ERR_STATE if the handshake has
 * started, or DTLS_ERR_FAILED for an unknown profile. */
int dtls_set_srtp_profile(dtls_t *d, dtls_srtp_profile_t only);

/* Feeds one received datagram (RFC 7983: first byte 20..63). in may be NULL (len 0) to
 * drive the state machine, which is how a client starts its handshake. Datagrams that are
 * not DTLS, and application data, are counted in dtls_ignored() and dropped; records
 * OpenSSL finds invalid are dropped silently as RFC 6347 §4.1.2.7 asks. Afterwards, pop
 * any reply with dtls_pop_datagram() and re-arm the timer from dtls_next_timeout().
 * Returns 0, or DTLS_ERR_FAILED when the connection is in DTLS_FAILED (see dtls_error()).
 * A transition to DTLS_CONNECTED or DTLS_CLOSED is visible through dtls_state(). */
int dtls_handle(dtls_t *d, const uint8_t *in, size_t len, uint64_t now_ms);

/* Pops the next outgoing datagram into buf. Each datagram is one DTLS record, exactly as
 * OpenSSL would send it on a UDP socket (handshake messages fragmented to DTLS_MTU). On
 * return 0, *len is the datagram size, or 0 when nothing is pending. Returns
 * DTLS_ERR_NOSPACE, consuming nothing, if cap is below the next datagram: a buffer of
 * DTLS_MTU bytes always suffices. Pop after every dtls_handle() and dtls_on_timeout(),
 * even when they fail: a failed handshake leaves an alert to send. */
int dtls_pop_datagram(dtls_t *d, uint8_t *buf, size_t cap, size_t *len);

/* Absolute time (in the caller's now_ms clock) at which dtls_on_timeout() should run to
 * retransmit the last flight, or UINT64_MAX when no retransmission timer is armed. Updated
 * by every dtls_handle() and dtls_on_timeout().
 *
 * Clock caveat: OpenSSL 3.0 measures retransmission timers with the real-time clock
 * internally and offers no hook to replace it (DTLS_set_timer_cb only chooses durations).
 * This module therefore converts OpenSSL's remaining time into the caller's clock at each
 * call: the deadline is exact to within the calls' own latency, and a timer that fires
 * early is harmless (dtls_on_timeout() finds nothing due and re-arms). Timers follow
 * OpenSSL's defaults: 1 s, doubling up to 60 s, failure after 12 expiries. The caller's
 * own handshake deadline (e.g. ICE consent) normally ends things sooner. */
uint64_t dtls_next_timeout(const dtls_t *d);

/* Retransmits the last flight if its timer has expired, then re-arms (see
 * dtls_next_timeout()). Returns 0 (with datagrams to pop if it retransmitted), or
 * DTLS_ERR_FAILED after too many retransmissions. */
int dtls_on_timeout(dtls_t *d, uint64_t now_ms);

/* Queues a close_notify alert (pop it with dtls_pop_datagram()) and moves to DTLS_CLOSED.
 * Returns 0, or DTLS_ERR_STATE unless DTLS_CONNECTED. */
int dtls_close(dtls_t *d);

dtls_state_t dtls_state(const dtls_t *d);

/* Why the connection failed, e.g. "fingerprint mismatch" or an OpenSSL reason such as
 * "peer did not return a certificate"; "" when it has not failed. Lives as long as d. */
const char *dtls_error(const dtls_t *d);

/* Datagrams dropped by dtls_handle() without reaching OpenSSL (not DTLS by RFC 7983, or
 * received after the connection ended) plus application-data records received. */
uint64_t dtls_ignored(const dtls_t *d);

/* Copies the SRTP profile and keys into *out. Returns 0, or DTLS_ERR_STATE unless
 * DTLS_CONNECTED (or DTLS_CLOSED after having connected). */
int dtls_srtp_keys(const dtls_t *d, dtls_srtp_keys_t *out);

#endif
