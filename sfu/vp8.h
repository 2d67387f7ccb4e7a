/* vp8: the VP8 RTP payload descriptor (RFC 7741 section 4.2), sans-I/O: parsing, rewriting
 * PictureID and TL0PICIDX in place, and the numbering a forwarder keeps so that one
 * subscriber sees continuous picture ids and TL0PICIDX while what feeds it changes
 * (simulcast layer switches, dropped temporal layers).
 *
 * Numbering rules (vp8_munger_t), as in other SFUs' VP8 "mungers":
 *  - Transparent until something changes: the first source's pictures keep their ids.
 *  - A source switch (a picture of another SSRC, which the caller forwards from a key
 *    frame) continues at the last picture id sent + 1 and the last TL0PICIDX sent + 1.
 *  - Within a source, each picture the caller drops (vp8_munger_drop: a higher temporal
 *    layer) shifts later picture ids down by one, so the subscriber sees no missing
 *    picture. TL0PICIDX needs no such shift: TID 0 pictures are never dropped on their
 *    own (a source change, which restarts the numbering, is the only other change).
 *  - PictureID is written in the width the packet has (7 or 15 bits), mod that width.
 *
 * Thread: all functions are reentrant; a vp8_munger_t belongs to one worker. Nothing here
 * allocates but vp8_munger_new (control plane). */
#ifndef SOBRE_VP8_H
#define SOBRE_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VP8_ERR_PAYLOAD (-1) /* descriptor malformed or no VP8 payload after it */

/* A parsed descriptor: plain value type; offsets are from the payload start. */
typedef struct vp8_desc {
    bool x, n, s; /* extended control bits present, non-reference frame, start of partition */
    uint8_t pid;  /* partition index, 0..7 */
    bool has_picture_id, has_tl0picidx, has_tid, has_keyidx; /* I, L, T, K */
    bool picture_id_15;                                      /* M: PictureID is 15 bits */
    uint16_t picture_id;
    uint8_t tl0picidx;
    uint8_t tid; /* 0..3 */
    bool y;      /* layer sync: depends only on TID 0 pictures */
    uint8_t keyidx;
    size_t picture_id_off;  /* offset of the PictureID field (1 or 2 bytes), when present */
    size_t tl0picidx_off;   /* offset of TL0PICIDX, when present */
    size_t desc_len;        /* descriptor length: the VP8 payload starts here */
    bool keyframe;          /* S=1, PID=0 and the payload header's P bit 0 (section 4.3) */
    uint16_t width, height; /* a key frame's size (RFC 6386 section 9.1), 0 when unknown:
                               not a key frame, or its header is cut or lacks the start code */
} vp8_desc_t;

/* Parses the descriptor of payload[0..len). Requires at least one byte of VP8 payload
 * after it. Returns 0, or VP8_ERR_PAYLOAD. */
int vp8_parse(const uint8_t *payload, size_t len, vp8_desc_t *out);

/* True when payload[0..len) starts a VP8 key frame; false if malformed. */
bool vp8_is_keyframe(const uint8_t *payload, size_t len);

/* Writes the PictureID (masked to the field's width) and TL0PICIDX in place, into the
 * payload d was parsed from (or a copy of it). A field d lacks is left alone. */
void vp8_set_picture_id(uint8_t *payload, const vp8_desc_t *d, uint16_t picture_id);
void vp8_set_tl0picidx(uint8_t *payload, const vp8_desc_t *d, uint8_t tl0picidx);

typedef struct vp8_munger vp8_munger_t;

/* A fresh numbering; aborts on allocation failure. Free with vp8_munger_free (NULL: no-op). */
vp8_munger_t *vp8_munger_new(void);
void vp8_munger_free(vp8_munger_t *m);

/* Rewrites in place the descriptor of one forwarded packet of source ssrc (payload as
 * parsed into d) to the subscriber's numbering. Returns false (payload untouched) when
 * the packet's picture was dropped or is older than the source's first forwarded one, or
 * older than the remembered drops: the caller should not send it. Packets without
 * PictureID are left as they are. */
bool vp8_munger_forward(vp8_munger_t *m, uint32_t ssrc, uint8_t *payload, const vp8_desc_t *d);

/* Accounts the picture of d (source ssrc) as not forwarded: later pictures close its gap.
 * Repeated calls for the same picture count once; a picture older than the newest seen,
 * or of another source than the current one, is ignored. */
void vp8_munger_drop(vp8_munger_t *m, uint32_t ssrc, const vp8_desc_t *d);

#endif
