/* rtp: RTP packets (RFC 3550), header extensions (RFC 8285), RTX (RFC 4588) and the
 * H.264 key-frame test the forwarding path needs (RFC 6184; VP8's descriptor is in
 * vp8.h), sans-I/O.
 *
 * Works on plain packets (after SRTP unprotect, before protect). Parsing fills a
 * caller-owned rtp_header_t of offsets into the packet; setters and rtp_ext_remap write
 * in place into the caller's buffer; rtp_rtx_build writes into a caller buffer of a given
 * capacity. Nothing here allocates, touches a socket or reads a clock.
 *
 * Error convention: 0 (or a byte count) on success, a negative RTP_ERR_* code on failure.
 *
 * Thread: all functions are reentrant and keep no state; the media worker calls them on
 * its own thread. */
#ifndef SOBRE_RTP_H
#define SOBRE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_LEN 12
#define RTP_VERSION    2
#define RTP_MAX_CSRC   15

/* Header extension profiles (RFC 8285 sections 4.2 and 4.3). A two-byte profile is
 * 0x100 followed by 4 application bits: 0x1000..0x100f. */
#define RTP_EXT_PROFILE_ONE_BYTE      0xBEDEu
#define RTP_EXT_PROFILE_TWO_BYTE      0x1000u
#define RTP_EXT_PROFILE_TWO_BYTE_MASK 0xFFF0u

enum {
    RTP_ERR_TRUNCATED = -1, /* shorter than its header, CSRC list or extension says */
    RTP_ERR_VERSION = -2,   /* version is not 2 */
    RTP_ERR_PADDING = -3,   /* padding count 0 or longer than the payload */
    RTP_ERR_EXT = -4,       /* an extension element runs past the extension block */
    RTP_ERR_NOT_FOUND = -5, /* no extension element with that id */
    RTP_ERR_INVAL = -6,     /* bad argument (e.g. a remapped id invalid for the form) */
    RTP_ERR_NOSPACE = -7,   /* builder: output buffer too small */
    RTP_ERR_PAYLOAD = -8,   /* codec payload descriptor malformed */
};

/* A parsed RTP header: plain value type, offsets into the packet it was parsed from. */
typedef struct rtp_header {
    bool padding;       /* P bit */
    bool extension;     /* X bit */
    bool marker;        /* M bit */
    uint8_t pt;         /* payload type, 7 bits */
    uint8_t csrc_count; /* CC, 0..15 */
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    size_t header_len;    /* 12 + 4 * CC + the extension block with its 4-byte header */
    size_t payload_off;   /* == header_len */
    size_t payload_len;   /* without padding; may be 0 (padding-only probes) */
    size_t padding_len;   /* trailing padding bytes including the count byte, or 0 */
    uint16_t ext_profile; /* "defined by profile" field, 0 without extension */
    size_t ext_off;       /* offset of the extension data (after its 4-byte header) */
    size_t ext_len;       /* length of the extension data in bytes (a multiple of 4) */
} rtp_header_t;

/* Parses the RTP packet p[0..len). Checks version 2, the CSRC list, the extension block
 * and the padding count against len. Does not look inside the extension block (see
 * rtp_ext_next). Returns 0 and fills *out, or a negative RTP_ERR_*. */
int rtp_parse(const uint8_t *p, size_t len, rtp_header_t *out);

/* In-place setters on a packet of at least RTP_HEADER_LEN bytes (one rtp_parse accepted). */
void rtp_set_ssrc(uint8_t *p, uint32_t ssrc);
void rtp_set_seq(uint8_t *p, uint16_t seq);
void rtp_set_ts(uint8_t *p, uint32_t ts);
void rtp_set_pt(uint8_t *p, uint8_t pt); /* keeps the marker bit */
void rtp_set_marker(uint8_t *p, bool marker);

/* Extends a 16-bit sequence number to the 64-bit value nearest to ref, an extended
 * sequence number seen before (RFC 3550 appendix A.1 style; never below 0). */
uint64_t rtp_seq_extend(uint64_t ref, uint16_t seq);

/* ---- header extensions (RFC 8285) ------------------------------------------------------ */

/* One extension element: id (1..14 one-byte form, 1..255 two-byte form) and its data,
 * a view into the packet. off is the offset of the element's header in the packet. */
typedef struct rtp_ext {
    uint8_t id;
    const uint8_t *data;
    size_t len;
    size_t off;
} rtp_ext_t;

/* Iterator over the elements of a packet's extension block; caller-owned, borrows p. */
typedef struct rtp_ext_iter {
    const uint8_t *p;
    size_t off, end;
    int two_byte; /* -1: profile without elements (or no extension) */
} rtp_ext_iter_t;

/* Starts iterating the extension elements of packet p parsed into *h. A packet without
 * extension, or with a profile other than one-byte or two-byte, has no elements. */
void rtp_ext_iter_init(rtp_ext_iter_t *it, const uint8_t *p, const rtp_header_t *h);

/* Next element, skipping padding bytes. Returns 1 and fills *out, 0 at the end (including
 * a one-byte element with id 15, which ends processing: RFC 8285 section 4.2), or
 * RTP_ERR_EXT when an element runs past the block (iteration then stays at the end). */
int rtp_ext_next(rtp_ext_iter_t *it, rtp_ext_t *out);

/* Finds the first element with the given id. Returns 0 with *data, *len pointing into p,
 * RTP_ERR_NOT_FOUND, or RTP_ERR_EXT when the block is malformed before it is found. */
int rtp_ext_find(const uint8_t *p, const rtp_header_t *h, uint8_t id, const uint8_t **data,
                 size_t *len);

/* Rewrites the id of every element in place through map: element id i becomes map[i].
 * map[i] == 0 drops the element: its header and data bytes are overwritten with zeros,
 * which are padding bytes in both forms (RFC 8285 section 4.1: padding bytes, value 0,
 * may sit between elements), so the packet keeps its length and layout and no element
 * moves. The block is validated first: on RTP_ERR_EXT, or RTP_ERR_INVAL when map gives
 * an id invalid for the block's form (15..255 in one-byte form), nothing is written.
 * Elements after a one-byte id 15 are left alone (receivers stop there too).
 * Returns 0 or a negative RTP_ERR_*. len is the packet length p was parsed with. */
int rtp_ext_remap(uint8_t *p, size_t len, const rtp_header_t *h, const uint8_t map[256]);

/* Audio level (RFC 6464): *voice the V bit, *level 0..127 (-dBov). 0 or RTP_ERR_*. */
int rtp_ext_audio_level(const uint8_t *p, const rtp_header_t *h, uint8_t id, bool *voice,
                        uint8_t *level);

/* abs-send-time (webrtc.org): 24-bit 6.18 fixed-point seconds. Get and set in place. */
int rtp_ext_abs_send_time(const uint8_t *p, const rtp_header_t *h, uint8_t id, uint32_t *ast);
int rtp_ext_set_abs_send_time(uint8_t *p, const rtp_header_t *h, uint8_t id, uint32_t ast);

/* Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01):
 * the first 16 bits of the element. Get and set in place. */
int rtp_ext_transport_seq(const uint8_t *p, const rtp_header_t *h, uint8_t id, uint16_t *seq);
int rtp_ext_set_transport_seq(uint8_t *p, const rtp_header_t *h, uint8_t id, uint16_t seq);

/* Adds element id with data[0..dlen) to the packet p[0..len) parsed into *h, in a
 * buffer of cap bytes: into the padding at the end of its extension block when it fits,
 * else by growing the block (or creating a one-byte block when the packet has none), the
 * payload moving back. The element must suit the block's form (one-byte: id 1..14, dlen
 * 1..16; two-byte: id 1..255, dlen 0..255). *h is stale afterwards. Returns the new
 * length, or RTP_ERR_INVAL (bad id or dlen for the form, or a block of another profile),
 * RTP_ERR_EXT (malformed block) or RTP_ERR_NOSPACE (cap too small). */
int rtp_ext_add(uint8_t *p, size_t len, size_t cap, const rtp_header_t *h, uint8_t id,
                const uint8_t *data, size_t dlen);

/* SDES MID or RID (RFC 8843, RFC 8852): copies the element's text into out[0..cap) with
 * a terminating NUL. RTP_ERR_NOSPACE when it does not fit, RTP_ERR_INVAL when it holds
 * a byte outside printable ASCII (0x21..0x7e) or is empty. */
int rtp_ext_string(const uint8_t *p, const rtp_header_t *h, uint8_t id, char *out, size_t cap);

/* ---- RTX (RFC 4588 section 4) ---------------------------------------------------------- */

/* Builds into out[0..cap) the retransmission of the plain RTP packet pkt[0..len): its
 * header with CSRCs and extensions, SSRC, sequence number and payload type replaced by
 * rtx_ssrc, rtx_seq, rtx_pt, then the original sequence number (OSN, 2 bytes), then the
 * original payload without its padding (the P bit is cleared). Returns the length built,
 * or RTP_ERR_NOSPACE, or the rtp_parse error of pkt. out must not overlap pkt. */
int rtp_rtx_build(const uint8_t *pkt, size_t len, uint32_t rtx_ssrc, uint16_t rtx_seq,
                  uint8_t rtx_pt, uint8_t *out, size_t cap);

/* ---- codec payload descriptors --------------------------------------------------------- */

/* True when payload[0..len) is (the start of) an H.264 IDR picture or carries an SPS
 * (RFC 6184, packetization modes 0 and 1): a single NAL unit of type 5 or 7, a STAP-A
 * aggregating one, or the first fragment (S=1) of an FU-A of type 5 or 7. A STAP-A whose
 * units overrun the payload is not a key frame. */
bool rtp_h264_is_keyframe(const uint8_t *payload, size_t len);

/* A static English name for an RTP_ERR_* code. */
const char *rtp_strerror(int err);

#endif
