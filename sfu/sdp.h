/* sdp: Session Description Protocol for WebRTC (RFC 8866, JSEP RFC 8829, BUNDLE RFC 8843),
 * sans-I/O and allocation-free.
 *
 * sdp_parse reads an offer or answer into a caller-owned sdp_t, a plain value type of
 * about 1.3 MB (heap-allocate it, for the call); every string in it is a NUL-terminated copy,
 * nothing points into the text. sdp_answer writes the server's answer to a client's publish offer
 * into a caller buffer. Both name the line and the limit at fault in a one-line message on
 * failure. Unknown attributes are ignored; numbers, lengths and counts are checked.
 *
 * Not read: session-level a=extmap (browsers put extmaps on m-lines), a=candidate (the
 * server is ICE-lite and learns addresses from checks), a=ssrc attributes other than msid.
 *
 * To learn what an answer accepted (payload types, header extension ids), parse the
 * answer with sdp_parse: the answer is the negotiated state.
 *
 * Thread: all functions are reentrant and keep no state; the signalling thread calls
 * them. */
#ifndef SOBRE_SDP_H
#define SOBRE_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA   128   /* m-lines an sdp_t holds: a subscribe answer's (sdp_parse_max) */
#define SDP_PUB_MEDIA   16    /* m-lines sdp_parse accepts: a client's publish offer */
#define SDP_MAX_CODECS  32    /* payload types kept per m-line; later ones are ignored */
#define SDP_MAX_EXTMAPS 16    /* header extensions kept per m-line; later ones are ignored */
#define SDP_MAX_SSRCS   8     /* a=ssrc and a=ssrc-group:FID per m-line; more is an error */
#define SDP_MAX_RIDS    4     /* a=rid per m-line; more is an error */
#define SDP_MAX_LAYERS  3     /* simulcast streams an answer receives (the first ones) */
#define SDP_MAX_LEN     65536 /* longer descriptions are refused by sdp_parse */
#define SDP_ERR_MAX     160   /* an error buffer of this size holds any message whole */

/* Header extensions the answer accepts (RFC 8285 URIs). */
#define SDP_EXT_MID           "urn:ietf:params:rtp-hdrext:sdes:mid"
#define SDP_EXT_AUDIO_LEVEL   "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define SDP_EXT_VIDEO_ORIENT  "urn:3gpp:video-orientation"
#define SDP_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define SDP_EXT_TRANSPORT_CC                                                                       \
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define SDP_EXT_RID          "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define SDP_EXT_REPAIRED_RID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

/* Failures. */
enum {
    SDP_ERR_SYNTAX = -1,      /* a line or value is malformed */
    SDP_ERR_LIMIT = -2,       /* a count, length or number exceeds its bound */
    SDP_ERR_MISSING = -3,     /* a required line or attribute is absent */
    SDP_ERR_UNSUPPORTED = -4, /* valid SDP the server does not accept (sha-1, no BUNDLE...) */
    SDP_ERR_NOSPACE = -5,     /* sdp_answer: the output buffer is too small */
    SDP_ERR_INVAL = -6,       /* invalid argument */
};

typedef enum sdp_kind {
    SDP_KIND_AUDIO,
    SDP_KIND_VIDEO,
    SDP_KIND_APPLICATION,
    SDP_KIND_OTHER,
} sdp_kind_t;

typedef enum sdp_dir {
    SDP_DIR_SENDRECV,
    SDP_DIR_SENDONLY,
    SDP_DIR_RECVONLY,
    SDP_DIR_INACTIVE,
} sdp_dir_t;

/* RTCP feedback offered for a codec (sdp_codec_t.fb). */
#define SDP_FB_NACK         (1u << 0) /* a=rtcp-fb:<pt> nack */
#define SDP_FB_NACK_PLI     (1u << 1) /* nack pli */
#define SDP_FB_CCM_FIR      (1u << 2) /* ccm fir */
#define SDP_FB_GOOG_REMB    (1u << 3) /* goog-remb */
#define SDP_FB_TRANSPORT_CC (1u << 4) /* transport-cc */

/* One payload type of an m-line, in the m-line's order. Static payload types without
 * a=rtpmap (0 PCMU, 8 PCMA, 9 G722, 13 CN) get their RFC 3551 names; other types
 * without a=rtpmap have an empty name. */
typedef struct sdp_codec {
    uint8_t pt;
    char name[16]; /* as written, e.g. "opus", "VP8", "rtx" */
    uint32_t clock;
    uint8_t channels; /* 1 unless given */
    char fmtp[256];   /* a=fmtp parameters as written, or empty */
    int apt;          /* for rtx: the associated payload type (fmtp apt=), else -1 */
    unsigned fb;      /* SDP_FB_* */
} sdp_codec_t;

typedef struct sdp_extmap {
    uint8_t id; /* 1..255 */
    char uri[128];
    bool dir_set; /* an "/direction" followed the id */
    sdp_dir_t dir;
} sdp_extmap_t;

typedef struct sdp_media {
    sdp_kind_t kind;
    char kind_name[16]; /* the m-line's media token, e.g. "audio", "text" */
    uint16_t port;
    char proto[32]; /* e.g. "UDP/TLS/RTP/SAVPF" */
    char fmt0[32];  /* the first format token (what a rejecting answer repeats) */
    char mid[33];   /* required */
    sdp_dir_t dir;  /* media-level, else session-level, else sendrecv */
    bool rtcp_mux;
    bool rtcp_rsize;
    bool bundle_only; /* a=bundle-only: port 0 but not rejected (RFC 8843) */
    int line;         /* line number of the m= line */
    size_t ncodecs;
    sdp_codec_t codecs[SDP_MAX_CODECS];
    size_t nextmaps;
    sdp_extmap_t extmaps[SDP_MAX_EXTMAPS];
    size_t nssrcs;
    uint32_t ssrcs[SDP_MAX_SSRCS]; /* in order of first a=ssrc line */
    size_t nfid;
    struct {
        uint32_t media, rtx;
    } fid[SDP_MAX_SSRCS];                 /* a=ssrc-group:FID */
    char msid_stream[65], msid_track[65]; /* a=msid, else a=ssrc:<x> msid: */
    size_t nrids;
    struct {
        char id[17];
        bool send; /* "send", else "recv" */
    } rids[SDP_MAX_RIDS];
    bool simulcast; /* a=simulcast present */
    /* Its streams (rids) in its order, each stream's first alternative, paused ones too. */
    size_t nsim_send, nsim_recv;
    char sim_send[SDP_MAX_RIDS][17], sim_recv[SDP_MAX_RIDS][17];
    /* Media-level transport attributes; empty if only given at session level. */
    char ice_ufrag[65], ice_pwd[129];
    char fingerprint[128]; /* "sha-256 AB:CD:..." (upper-case hex) */
    char setup[16];        /* "actpass", "active", "passive" or "holdconn" */
} sdp_media_t;

typedef struct sdp {
    uint64_t session_id; /* o= */
    /* Resolved: the session-level value, else the first bundled m-line's, else the first
     * m-line's that has one. Required when an m-line is active (port not 0). */
    char ice_ufrag[65], ice_pwd[129], fingerprint[128], setup[16];
    size_t nbundle;
    char bundle[SDP_MAX_MEDIA][33]; /* mids of the first a=group:BUNDLE, in its order */
    size_t nmedia;
    sdp_media_t media[SDP_MAX_MEDIA];
    bool ice_lite;
} sdp_t;

/* Parses text[0..len) (CRLF or LF line ends; need not be NUL-terminated) into *out: at most
 * SDP_PUB_MEDIA m-lines and SDP_MAX_LEN bytes.
 * Returns 0, or a negative SDP_ERR_* code with a one-line reason in err[0..errlen)
 * (truncated to fit; err may be NULL), e.g. "line 14: a=rtpmap: payload type 300 out of
 * range 0..127". On failure *out is partially filled and must not be used. */
int sdp_parse(const char *text, size_t len, sdp_t *out, char *err, size_t errlen);

/* sdp_parse with other limits: at most max_media m-lines (<= SDP_MAX_MEDIA) and max_len
 * bytes. sdp_parse is sdp_parse_max(..., SDP_PUB_MEDIA, SDP_MAX_LEN, ...). */
int sdp_parse_max(const char *text, size_t len, sdp_t *out, size_t max_media, size_t max_len,
                  char *err, size_t errlen);

/* What the server puts in its answer to a publish offer; borrowed for the call. */
typedef struct sdp_answer_params {
    const char *ice_ufrag, *ice_pwd; /* ours */
    const char *fingerprint;         /* ours, "sha-256 AB:..." */
    const char *const *cand_addrs;   /* host candidates: numeric IPv4/IPv6 strings */
    size_t ncand;
    uint16_t port; /* the one UDP port of every candidate */
    uint64_t session_id;
    bool allow_video; /* false: video m-lines rejected (port 0) */
    /* Echo room: an m-line offered sendrecv is answered sendrecv, and the server
     * announces the SSRCs it will send under (echo_ssrc[i]: media and RTX SSRC for m-line
     * i; RTX 0 = none), with cname and a=msid:<stream_id> <mid>. */
    bool echo;
    /* Accept transport-wide-cc (the server sends transport-cc feedback); never in echo
     * rooms. */
    bool twcc;
    uint32_t echo_ssrc[SDP_MAX_MEDIA][2];
    const char *cname;               /* NULL: "sobre" */
    const char *stream_id;           /* msid stream of echoed tracks: the publisher's peer id
                                        (PROTOCOL.md: streams[0].id); NULL: "sobre-echo" */
    unsigned audio_kbps, video_kbps; /* 0 = no cap; else b=AS, b=TIAS (and Opus
                                        maxaveragebitrate for audio) */
} sdp_answer_params_t;

/* Writes the answer to a publish offer parsed by sdp_parse into out[0..cap), NUL-
 * terminated. ICE-lite, DTLS server (a=setup:passive), one BUNDLE group of the accepted
 * m-lines. Accepted: Opus (with RED), VP8 and constrained-baseline H264 with their RTX;
 * simulcast (RFC 8853) on a video m-line that offers two or more a=rid send streams in
 * a=simulcast:send, answered with a=rid recv and a=simulcast:recv for the first
 * SDP_MAX_LAYERS of them, in the offer's order, and the rid and repaired-rid extensions
 * (not in an echo room);
 * rejected (port 0, mid kept): data channels, m-lines with no acceptable codec, video when
 * !allow_video. Returns 0, or SDP_ERR_UNSUPPORTED when the offer cannot be answered (an
 * m-line to accept lacks rtcp-mux, is outside BUNDLE or has a=setup:passive),
 * SDP_ERR_NOSPACE when cap is too small (out is then an empty string if cap > 0; nothing
 * is written past out[cap - 1]), or SDP_ERR_INVAL for bad parameters (an offer of more
 * than SDP_PUB_MEDIA m-lines too); err as for
 * sdp_parse. */
int sdp_answer(const sdp_t *offer, const sdp_answer_params_t *p, char *out, size_t cap, char *err,
               size_t errlen);

/* Index in m->codecs of the first codec named name (case-insensitive), or -1. */
int sdp_find_codec(const sdp_media_t *m, const char *name);

/* The codec with payload type pt, or NULL. */
const sdp_codec_t *sdp_codec_by_pt(const sdp_media_t *m, unsigned pt);

/* The id negotiated for header extension uri on m, or 0 when absent. */
int sdp_ext_id(const sdp_media_t *m, const char *uri);

/* The m-line with this mid, or NULL. */
const sdp_media_t *sdp_find_mid(const sdp_t *s, const char *mid);

/* Static names: "audio"..., "sendrecv"..., and an English name for an SDP_ERR_* code. */
const char *sdp_kind_name(sdp_kind_t k);
const char *sdp_dir_name(sdp_dir_t d);
const char *sdp_strerror(int err);

#endif
