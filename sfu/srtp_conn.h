/* srtp_conn: the SRTP/SRTCP sessions of one transport (RFC 3711, RFC 7714), on libsrtp2.
 *
 * One srtp_conn_t holds two libsrtp sessions keyed from the DTLS-SRTP export
 * (dtls_srtp_keys_t, the only thing taken from dtls.h): inbound with the peer's key for
 * any SSRC it sends, outbound with ours for any SSRC we send. Packets are transformed in
 * place in the caller's buffer; nothing is allocated per packet, except that libsrtp
 * allocates a stream the first time it sees each SSRC (and, inbound, only once that
 * packet has authenticated).
 *
 * Replay protection is on in both directions with libsrtp's default window (128 packets).
 * Outbound repeats are refused too (allow_repeat_tx = 0): retransmissions answering a NACK
 * go out as RTX, on their own SSRC and sequence numbers, so the media SSRC never repeats.
 *
 * Names: libsrtp2 owns every symbol starting with srtp_; this module's are all srtp_conn_.
 *
 * Threads: srtp_conn_global_init() may be called from any thread, any number of times.
 * An srtp_conn_t belongs to the one media worker that owns its transport. */
#ifndef SOBRE_SRTP_CONN_H
#define SOBRE_SRTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "dtls.h"

enum {
    SRTP_CONN_ERR_AUTH = -1,   /* authentication tag check failed */
    SRTP_CONN_ERR_REPLAY = -2, /* replayed or too old (outside the window) */
    SRTP_CONN_ERR_OTHER = -3,  /* malformed or truncated packet, or libsrtp failure */
    SRTP_CONN_ERR_SPACE = -4,  /* the caller's buffer lacks SRTP_CONN_TRAILER_ROOM */
};

/* Largest growth of a packet by protection: RTP gains its tag (16 bytes with GCM, 10 with
 * HMAC-SHA1-80), RTCP also the 4-byte SRTCP index. */
#define SRTP_CONN_MAX_OVERHEAD 20

/* Writable space protect needs after the packet: libsrtp 2.x's documented contract
 * (SRTP_MAX_TRAILER_LEN + 4, room for an MKI we never use). A 1,500-byte buffer holds an
 * RTP packet of up to 1,352 bytes. */
#define SRTP_CONN_TRAILER_ROOM 148

typedef struct srtp_conn srtp_conn_t;

/* Initialises libsrtp once per process (pthread_once). Returns 0, or SRTP_CONN_ERR_OTHER
 * if libsrtp failed to initialise (every later call fails the same way).
 * srtp_conn_new() calls it, so calling it at startup only reports the failure earlier. */
int srtp_conn_global_init(void);

/* Creates both sessions from keys (read, not kept: the caller may clear it afterwards).
 * Returns NULL for DTLS_SRTP_NONE, inconsistent lengths, or a libsrtp failure. */
srtp_conn_t *srtp_conn_new(const dtls_srtp_keys_t *keys);

/* No-op on NULL. */
void srtp_conn_free(srtp_conn_t *c);

/* Verify and decrypt one SRTP (or SRTCP) packet in place. pkt must be 32-bit aligned
 * (libsrtp's requirement). On 0, *len is the plain packet's length; on error, the bytes
 * and *len are unspecified and the packet must be dropped. Returns 0,
 * SRTP_CONN_ERR_AUTH, SRTP_CONN_ERR_REPLAY or SRTP_CONN_ERR_OTHER. */
int srtp_conn_unprotect_rtp(srtp_conn_t *c, uint8_t *pkt, size_t *len);
int srtp_conn_unprotect_rtcp(srtp_conn_t *c, uint8_t *pkt, size_t *len);

/* Encrypt and authenticate one RTP (or RTCP) packet in place. pkt must be 32-bit aligned
 * and cap (the buffer's size) at least *len + SRTP_CONN_TRAILER_ROOM. On 0, *len is the
 * protected length, at most *len + SRTP_CONN_MAX_OVERHEAD; on error the bytes are
 * unspecified. Returns 0, SRTP_CONN_ERR_SPACE (nothing touched), SRTP_CONN_ERR_REPLAY (RTP
 * sequence number already sent on that SSRC) or SRTP_CONN_ERR_OTHER. */
int srtp_conn_protect_rtp(srtp_conn_t *c, uint8_t *pkt, size_t *len, size_t cap);
int srtp_conn_protect_rtcp(srtp_conn_t *c, uint8_t *pkt, size_t *len, size_t cap);

#endif
