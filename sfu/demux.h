/* demux: classify a UDP datagram arriving on a media socket by its first byte (RFC 7983).
 *
 * One socket carries STUN, DTLS and SRTP/SRTCP; the first byte tells them apart:
 *
 *     0..3     STUN           (needs at least a 20-byte header)
 *     20..63   DTLS           (needs at least a 13-byte record header)
 *     128..191 RTP or RTCP    (RTCP when the second byte, the payload type with the
 *                              marker bit, is 192..223: RFC 5761 section 4; RTP needs
 *                              12 bytes, RTCP 8)
 *
 * Anything else (ZRTP, TURN channels, QUIC, garbage) or a datagram too short for its kind
 * is DEMUX_UNKNOWN and should be dropped. This only routes: each protocol module still
 * validates the whole datagram.
 *
 * Pure function, no state: callable from any thread. */
#ifndef SOBRE_DEMUX_H
#define SOBRE_DEMUX_H

#include <stddef.h>
#include <stdint.h>

typedef enum demux_kind {
    DEMUX_UNKNOWN = 0,
    DEMUX_STUN,
    DEMUX_DTLS,
    DEMUX_RTP,
    DEMUX_RTCP,
} demux_kind_t;

/* Minimum datagram sizes accepted for each kind. */
#define DEMUX_MIN_STUN 20
#define DEMUX_MIN_DTLS 13
#define DEMUX_MIN_RTP  12
#define DEMUX_MIN_RTCP 8

/* Classifies the datagram p[0..len). p may be NULL when len is 0. Never reads past len. */
demux_kind_t demux_classify(const uint8_t *p, size_t len);

/* A static, human-readable name for a kind ("stun", "dtls", ...), for logs and metrics. */
const char *demux_kind_name(demux_kind_t kind);

#endif
