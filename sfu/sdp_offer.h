/* sdp_offer: the server's side of a subscribe connection (PROTOCOL.md, "Media model"): the
 * server offers one sendonly m-line per track it forwards, the client answers, and the
 * server renegotiates as tracks come and go. Sans-I/O, like sdp.h.
 *
 * An sdp_sub_t tracks the m-lines ("slots") of one subscribe connection:
 *
 * - Each slot has a mid, "0", "1", ..., never given to another m-line while the
 *   connection lives. Slots are appended in the order tracks are added.
 * - When a track ends, the next offer closes its m-line (port 0, a=inactive), except the
 *   first m-line, which owns the BUNDLE transport: it is kept open as a=inactive so that
 *   ICE and DTLS survive a moment with no track (closing the BUNDLE tag forces browsers to
 *   move the transport, which some handle badly).
 * - A slot whose close (or inactivity) has been offered is recycled by a later add of the
 *   same kind: the m-line keeps its place in the SDP; a closed m-line comes back under a
 *   NEW mid (as browsers do when they recycle an m-line themselves, JSEP RFC 8829 section
 *   5.2.2), the inactive first m-line keeps its mid (it is the same transceiver).
 * - Payload types and header extension ids are assigned per connection, once per codec
 *   identity (name, clock, channels, fmtp) and per URI, preferring the publisher's values
 *   when free, and never change while the connection lives. One BUNDLE transport thus never
 *   sees one payload type mean two codecs; the worker maps publisher -> subscriber payload
 *   types per track (sdp_sub_track_pt, sdp_sub_track_info).
 * - Offer state follows PROTOCOL.md: one offer at a time. sdp_sub_offer refuses while an
 *   offer is pending; changes made meanwhile are kept and sdp_sub_dirty says whether the
 *   next offer is needed once sdp_sub_apply_answer has accepted the answer.
 *
 * Limits: SDP_SUB_MAX_SLOTS m-lines (the parser's SDP_MAX_MEDIA, so that the answer
 * parses; a client's publish offer has at most SDP_PUB_MEDIA) of SDP_SUB_MAX_LEN bytes
 * in all, SDP_SUB_MAX_CODECS codecs and SDP_SUB_MAX_EXTS header extensions per track.
 *
 * Thread: an sdp_sub_t belongs to the signalling thread (one per subscriber); nothing in it
 * is locked. sdp_sub_track_info copies out what a worker needs. */
#ifndef SOBRE_SDP_OFFER_H
#define SOBRE_SDP_OFFER_H

#include "sdp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_SUB_MAX_SLOTS  SDP_MAX_MEDIA /* m-lines: the audio of 100+ people */
#define SDP_SUB_MAX_LEN    (256 * 1024)  /* bytes of an offer or answer with as many */
#define SDP_SUB_MAX_CODECS 8             /* primary codecs per track (each with an optional RTX) */
#define SDP_SUB_MAX_EXTS   14            /* header extensions per connection (one-byte ids 1..14) */
#define SDP_SUB_MAX_CANDS  8
#define SDP_SUB_PEER_MAX   16 /* characters of a peer id */
#define SDP_SUB_TRACK_MAX  64 /* characters of a track id */

typedef struct sdp_sub sdp_sub_t;

/* What the server writes in every subscribe offer; borrowed for sdp_sub_new, which copies
 * what it keeps. */
typedef struct sdp_sub_params {
    const char *ice_ufrag, *ice_pwd; /* ours: 4..64 and 22..128 chars of [A-Za-z0-9+/] */
    const char *fingerprint;         /* ours, "sha-256 AB:..." (upper-case hex) */
    const char *const *cand_addrs;   /* host candidates: numeric IPv4/IPv6 strings */
    size_t ncand;                    /* at most SDP_SUB_MAX_CANDS */
    uint16_t port;                   /* the one UDP port of every candidate */
    uint64_t session_id;             /* o= */
    const char *cname;               /* a=ssrc cname; NULL: "sobre" */
} sdp_sub_params_t;

/* One codec of the publisher's negotiated track (its answered m-line), in preference
 * order. Strings are borrowed for the call. */
typedef struct sdp_sub_codec {
    const char *name; /* "opus", "VP8", "H264", "red"...; not "rtx" (see rtx_pt) */
    uint32_t clock;   /* > 0 */
    uint8_t channels; /* 0 or 1: mono */
    const char *fmtp; /* NULL or "" for none. RED's "111/111" names publisher payload
                         types; the offer names the subscriber's. */
    uint8_t pt;       /* the publisher's payload type */
    int rtx_pt;       /* the publisher's RTX payload type for this codec, -1 for none */
    unsigned fb;      /* SDP_FB_* to offer */
} sdp_sub_codec_t;

/* A header extension to offer: its URI and the publisher's id for it. */
typedef struct sdp_sub_ext {
    const char *uri; /* 1..127 visible characters */
    uint8_t id;      /* the publisher's id, 1..255 (a hint: the offer prefers it) */
} sdp_sub_ext_t;

/* A track to forward; borrowed for the call. */
typedef struct sdp_sub_track {
    sdp_kind_t kind;               /* SDP_KIND_AUDIO or SDP_KIND_VIDEO */
    const char *peer_id;           /* 1..16 token characters: the msid stream id */
    const char *track_id;          /* 1..64 token characters, unique on the connection */
    uint32_t ssrc, rtx_ssrc;       /* the server's, non-zero; rtx_ssrc 0 for none */
    const sdp_sub_codec_t *codecs; /* 1..SDP_SUB_MAX_CODECS */
    size_t ncodecs;
    const sdp_sub_ext_t *exts; /* 0..SDP_SUB_MAX_EXTS */
    size_t nexts;
} sdp_sub_track_t;

/* What the worker needs about one track: a plain value, safe to pass to another thread. */
typedef struct sdp_sub_track_info {
    unsigned mid; /* the m-line's mid (its decimal string in the SDP) */
    sdp_kind_t kind;
    uint32_t ssrc, rtx_ssrc;
    bool offered;  /* the track has been in an offer */
    bool answered; /* an answer to that offer has been applied */
    bool accepted; /* ... and accepted the m-line: the worker may send */
    size_t ncodecs;
    struct {
        uint8_t pub_pt, sub_pt;
        int pub_rtx, sub_rtx; /* -1: no RTX */
        bool accepted;        /* the answer kept sub_pt */
        bool rtx_accepted;    /* the answer kept sub_rtx */
    } codecs[SDP_SUB_MAX_CODECS];
    size_t nexts;
    struct {
        char uri[128];
        uint8_t pub_id;   /* the publisher's, as given to sdp_sub_add_track */
        uint8_t offer_id; /* the one offered */
        uint8_t sub_id;   /* the answer's; 0: not accepted (or not answered yet) */
    } exts[SDP_SUB_MAX_EXTS];
} sdp_sub_track_info_t;

/* Converts the publisher's negotiated m-line (e.g. the server's publish answer parsed by
 * sdp_parse) into codecs for sdp_sub_track_t: every non-RTX codec with the RTX whose apt
 * names it. Strings point into *m. Returns the count written (at most cap). */
size_t sdp_sub_codecs_from_media(const sdp_media_t *m, sdp_sub_codec_t *out, size_t cap);

/* A new subscribe connection with no track, or NULL with the parameter at fault in err
 * (e.g. "ice_pwd: 22..128 characters of [A-Za-z0-9+/]"). Free with sdp_sub_free. */
sdp_sub_t *sdp_sub_new(const sdp_sub_params_t *p, char *err, size_t errlen);

/* Frees s; NULL is a no-op. */
void sdp_sub_free(sdp_sub_t *s);

/* Adds a track for the next offer (recycling a slot when one is free). Returns its mid
 * (>= 0), or SDP_ERR_INVAL (bad field, duplicate track id or SSRC; err names it) or
 * SDP_ERR_LIMIT (no slot, payload type or extension id left). On failure nothing visible
 * changes. */
int sdp_sub_add_track(sdp_sub_t *s, const sdp_sub_track_t *t, char *err, size_t errlen);

/* Ends the track: the next offer closes its m-line. Returns 0, or SDP_ERR_INVAL when no
 * track has this id. */
int sdp_sub_remove_track(sdp_sub_t *s, const char *track_id);

/* Writes the next offer into out[0..cap), NUL-terminated, and marks it pending. Returns 0,
 * SDP_ERR_INVAL while an offer is pending, or SDP_ERR_NOSPACE when cap is too small (out
 * is then "" if cap > 0, nothing is written past out[cap - 1], and no state changes). */
int sdp_sub_offer(sdp_sub_t *s, char *out, size_t cap, char *err, size_t errlen);

/* Applies the client's answer text[0..len) to the pending offer. It must answer every
 * m-line of the offer, same mids in the same order, closed ones with port 0; each
 * accepted m-line recvonly (inactive where the offer was inactive), a=rtcp-mux, in the
 * answer's BUNDLE group, a=setup:active (the server is the DTLS server), with payload
 * types from the offer. Returns 0, or SDP_ERR_INVAL when no offer is pending, or an
 * SDP_ERR_* code with the line and mid at fault in err, e.g. "line 31: mid '1': direction
 * sendrecv (expected recvonly or inactive)". On failure the offer stays pending and
 * nothing changes. Allocates a parse buffer for the call. */
int sdp_sub_apply_answer(sdp_sub_t *s, const char *text, size_t len, char *err, size_t errlen);

/* An offer has been written and its answer not yet applied. */
bool sdp_sub_pending(const sdp_sub_t *s);

/* Tracks were added or ended since the last offer: another offer is due. */
bool sdp_sub_dirty(const sdp_sub_t *s);

/* The subscriber's ICE credentials and DTLS fingerprint ("sha-256 AB:..."), from the
 * latest applied answer that accepted an m-line; "" before. Valid until the next
 * sdp_sub_apply_answer or sdp_sub_free. */
const char *sdp_sub_remote_ufrag(const sdp_sub_t *s);
const char *sdp_sub_remote_pwd(const sdp_sub_t *s);
const char *sdp_sub_remote_fingerprint(const sdp_sub_t *s);

/* The subscriber payload type for the publisher's payload type pub_pt (a codec's or its
 * RTX's) on this track, or -1 (unknown track or payload type). Stable for the connection. */
int sdp_sub_track_pt(const sdp_sub_t *s, const char *track_id, unsigned pub_pt);

/* Copies what is known of the track into *out. Returns 0, or SDP_ERR_INVAL for an unknown
 * (or ended) track. */
int sdp_sub_track_info(const sdp_sub_t *s, const char *track_id, sdp_sub_track_info_t *out);

#endif
