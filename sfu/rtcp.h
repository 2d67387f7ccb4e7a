/* rtcp: RTCP compound packets (RFC 3550 section 6, RFC 4585, RFC 5104), sans-I/O.
 *
 * Works on plain packets (after SRTCP unprotect, before protect). rtcp_next walks a
 * compound packet with strict bounds; the rtcp_parse_* functions decode one packet of it
 * into a caller-owned plain value; builders write one packet into a caller buffer of a
 * given capacity (concatenate them for a compound packet). Nothing here allocates,
 * touches a socket or reads a clock.
 *
 * Covered: SR, RR, SDES (walked over, not decoded), BYE, RTPFB generic NACK and
 * transport-wide congestion control (header only), PSFB PLI, FIR and REMB.
 *
 * Error convention: 0 (or a byte count) on success, a negative RTCP_ERR_* on failure.
 *
 * Thread: all functions are reentrant and keep no state; the media worker calls them on
 * its own thread. */
#ifndef SOBRE_RTCP_H
#define SOBRE_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTCP_HEADER_LEN     4
#define RTCP_MAX_BLOCKS     31 /* report blocks in one SR or RR, SSRCs in one BYE */
#define RTCP_MAX_REMB_SSRCS 255

/* Packet types. */
#define RTCP_PT_SR    200
#define RTCP_PT_RR    201
#define RTCP_PT_SDES  202
#define RTCP_PT_BYE   203
#define RTCP_PT_APP   204
#define RTCP_PT_RTPFB 205 /* transport-layer feedback (RFC 4585) */
#define RTCP_PT_PSFB  206 /* payload-specific feedback (RFC 4585) */

/* Feedback message types (the FMT field). */
#define RTCP_RTPFB_NACK 1  /* generic NACK, RFC 4585 section 6.2.1 */
#define RTCP_RTPFB_TWCC 15 /* transport-wide CC, draft-holmer-rmcat-transport-wide-cc-01 */
#define RTCP_PSFB_PLI   1  /* RFC 4585 section 6.3.1 */
#define RTCP_PSFB_FIR   4  /* RFC 5104 section 4.3.1 */
#define RTCP_PSFB_AFB   15 /* application layer feedback: REMB */

enum {
    RTCP_ERR_TRUNCATED = -1, /* a header or length runs past the datagram */
    RTCP_ERR_VERSION = -2,   /* version is not 2 */
    RTCP_ERR_PADDING = -3,   /* bad padding count, or padding before the last packet */
    RTCP_ERR_LENGTH = -4,    /* the length field does not fit the packet's content */
    RTCP_ERR_TYPE = -5,      /* rtcp_parse_* on a packet of another type or FMT */
    RTCP_ERR_NOSPACE = -6,   /* builder: output buffer too small */
    RTCP_ERR_INVAL = -7,     /* builder: bad argument (e.g. more than 31 blocks) */
};

/* One packet of a compound packet, as rtcp_next returns it: views into the datagram. */
typedef struct rtcp_pkt {
    uint8_t pt;
    uint8_t count;       /* RC, SC or FMT: the 5 bits after V and P */
    const uint8_t *ptr;  /* the packet, header included */
    size_t len;          /* 4 * (length field + 1), padding included */
    const uint8_t *body; /* after the 4-byte header */
    size_t body_len;     /* padding excluded */
} rtcp_pkt_t;

/* Iterator over a compound packet; caller-owned, borrows the datagram. */
typedef struct rtcp_iter {
    const uint8_t *p;
    size_t len, off;
} rtcp_iter_t;

/* Starts walking the compound packet p[0..len). */
void rtcp_iter_init(rtcp_iter_t *it, const uint8_t *p, size_t len);

/* Next packet. Returns 1 and fills *out, 0 at the end, or a negative RTCP_ERR_* (version,
 * a length running past the datagram, a datagram not a whole number of packets, padding
 * on another than the last packet: RFC 3550 appendix A.2); after an error the iterator
 * stays at the end. A caller that must reject the whole datagram on any error should
 * walk it once before acting on it, or use rtcp_validate. */
int rtcp_next(rtcp_iter_t *it, rtcp_pkt_t *out);

/* Walks p[0..len) once: 0 when it is a well-formed compound packet (at least one
 * packet), else the first error. */
int rtcp_validate(const uint8_t *p, size_t len);

/* Report block (RFC 3550 section 6.4.1). */
typedef struct rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;   /* fixed point, /256 */
    int32_t cumulative_lost; /* 24-bit signed on the wire */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter;
    uint32_t lsr;  /* middle 32 bits of the last SR's NTP timestamp */
    uint32_t dlsr; /* delay since last SR, 1/65536 s */
} rtcp_report_block_t;

/* Sender report. Parsed from an SR; also the input of rtcp_build_sr. */
typedef struct rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp; /* 32.32 fixed point seconds since 1900 */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
    size_t n_blocks;
    rtcp_report_block_t blocks[RTCP_MAX_BLOCKS];
} rtcp_sr_t;

/* Receiver report. Parsed from an RR; also the input of rtcp_build_rr. */
typedef struct rtcp_rr {
    uint32_t ssrc;
    size_t n_blocks;
    rtcp_report_block_t blocks[RTCP_MAX_BLOCKS];
} rtcp_rr_t;

/* Goodbye (RFC 3550 section 6.6); reason is a view into the datagram (not terminated). */
typedef struct rtcp_bye {
    size_t n_ssrcs;
    uint32_t ssrcs[RTCP_MAX_BLOCKS];
    const uint8_t *reason;
    size_t reason_len;
} rtcp_bye_t;

/* Feedback message header (RFC 4585 section 6.1); fci is a view into the datagram. */
typedef struct rtcp_fb {
    uint8_t pt;  /* RTCP_PT_RTPFB or RTCP_PT_PSFB */
    uint8_t fmt; /* RTCP_RTPFB_* or RTCP_PSFB_* */
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci;
    size_t fci_len;
} rtcp_fb_t;

/* Transport-wide CC feedback header (the fixed part of its FCI). */
typedef struct rtcp_twcc {
    uint16_t base_seq;
    uint16_t status_count;
    int32_t reference_time; /* 24-bit signed, multiples of 64 ms */
    uint8_t fb_count;
} rtcp_twcc_t;

/* Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03). */
typedef struct rtcp_remb {
    uint64_t bitrate; /* bits per second; saturates at UINT64_MAX */
    size_t n_ssrcs;
    uint32_t ssrcs[RTCP_MAX_REMB_SSRCS];
} rtcp_remb_t;

/* Decoders of one packet from rtcp_next. Each returns 0 and fills *out, RTCP_ERR_TYPE
 * when pkt is not of that type, or RTCP_ERR_LENGTH when its content does not fit. */
int rtcp_parse_sr(const rtcp_pkt_t *pkt, rtcp_sr_t *out);
int rtcp_parse_rr(const rtcp_pkt_t *pkt, rtcp_rr_t *out);
int rtcp_parse_bye(const rtcp_pkt_t *pkt, rtcp_bye_t *out);
/* Any RTPFB or PSFB message: common header and FCI view. */
int rtcp_parse_fb(const rtcp_pkt_t *pkt, rtcp_fb_t *out);

/* Generic NACK (RTPFB FMT 1) from rtcp_parse_fb: writes the lost sequence numbers, in
 * FCI order (each PID then the bits of its BLP), into seqs[0..cap) and returns how many
 * the message lists (like snprintf: more than cap means the list was cut at cap), or
 * RTCP_ERR_TYPE / RTCP_ERR_LENGTH (FCI not a multiple of 4, or empty). */
int rtcp_nack_seqs(const rtcp_fb_t *fb, uint16_t *seqs, size_t cap);

/* Transport-wide CC (RTPFB FMT 15): decodes the fixed 8 bytes of the FCI. */
int rtcp_parse_twcc(const rtcp_fb_t *fb, rtcp_twcc_t *out);

/* FIR (PSFB FMT 4): number of entries (>= 1), or RTCP_ERR_TYPE / RTCP_ERR_LENGTH. */
int rtcp_fir_count(const rtcp_fb_t *fb);
/* FIR entry i (< rtcp_fir_count): the SSRC asked for a key frame and the command seq. */
int rtcp_fir_entry(const rtcp_fb_t *fb, size_t i, uint32_t *ssrc, uint8_t *seq);

/* REMB (PSFB FMT 15 with the 'REMB' identifier). RTCP_ERR_TYPE for another AFB. */
int rtcp_parse_remb(const rtcp_fb_t *fb, rtcp_remb_t *out);

/* Builders: each writes one packet into out[0..cap) and returns its length in bytes, or
 * RTCP_ERR_NOSPACE (out is then unspecified) or RTCP_ERR_INVAL. No padding is added. */
int rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
/* One FIR entry for media_ssrc with command sequence number seq (RFC 5104 4.3.1.1: the
 * header's media SSRC is 0). */
int rtcp_build_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                   uint8_t seq);
/* Generic NACK for seqs[0..n) (n >= 1), packed greedily into PID+BLP items in the order
 * given: a sequence number within 16 after the current item's PID sets a BLP bit, any
 * other starts a new item. Sorted input gives the fewest items; duplicates are harmless. */
int rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n);
/* SR / RR with sr->n_blocks / rr->n_blocks (<= 31) report blocks. cumulative_lost is
 * clamped to the 24-bit signed range. */
int rtcp_build_sr(uint8_t *out, size_t cap, const rtcp_sr_t *sr);
int rtcp_build_rr(uint8_t *out, size_t cap, const rtcp_rr_t *rr);
/* BYE for ssrcs[0..n) (1 <= n <= 31), without a reason. */
int rtcp_build_bye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n);
/* REMB of bitrate bits per second (rounded down to 18-bit mantissa and 6-bit exponent)
 * for ssrcs[0..n) (n <= 255). The header's media SSRC is 0. */
int rtcp_build_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                    const uint32_t *ssrcs, size_t n);

/* A static English name for an RTCP_ERR_* code. */
const char *rtcp_strerror(int err);

#endif
