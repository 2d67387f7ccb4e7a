/* echo: the forwarding rule of an echo room, where each participant receives its own
 * media back (a test of a browser and its network path, issue "transport"). Media
 * streams come back under the SSRCs the server announced in its answer; RTCP is mirrored
 * so that keyframe requests and reports reach the sender of the original stream.
 * Pure functions on plain RTP/RTCP (after SRTP unprotect). Thread: any. */
#ifndef SOBRE_ECHO_H
#define SOBRE_ECHO_H

#include <stddef.h>
#include <stdint.h>

#define ECHO_MAX_STREAMS 16

typedef struct echo_map {
    size_t n;
    struct {
        uint32_t in;  /* SSRC the participant sends */
        uint32_t out; /* SSRC the server sends it back under */
    } streams[ECHO_MAX_STREAMS];
} echo_map_t;

/* Rewrites the SSRC of an RTP packet from `in` to `out`. Returns 0, or -1 when the packet
 * is too short or its SSRC is not in the map (it is then not echoed). */
int echo_rtp(const echo_map_t *map, uint8_t *pkt, size_t len);

/* Mirrors a compound RTCP packet in place: the participant's sender SSRCs (SR, SDES, BYE)
 * become the server's, and the media SSRCs its receiver reports on (report blocks, NACK,
 * PLI, FIR) become the participant's own. Returns 0, or -1 when the compound packet is
 * malformed (then not echoed). */
int echo_rtcp(const echo_map_t *map, uint8_t *pkt, size_t len);

#endif
