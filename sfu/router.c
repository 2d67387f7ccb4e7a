#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "downlink.h"
#include "mem.h"
#include "pktcache.h"
#include "rewrite.h"
#include "rtcp.h"
#include "rtp.h"
#include "uplink.h"
#include "vp8.h"

#define KEYFRAME_MIN_INTERVAL_MS 500 /* at most one request per track in this time */
#define CACHE_ENTRIES            256 /* about 1 s of 2 Mbit/s video: NACKs come within RTTs */
#define CACHE_ENTRIES_LOW        128 /* a lower simulcast layer's: it sends less */
#define CACHE_BYTES_MIN          (64 * 1200)  /* 64 packets as browsers size them */
#define CACHE_BYTES_MAX          (256 * 1500) /* what CACHE_ENTRIES of any size take */
#define SEQ_RING                 512          /* outgoing seq -> incoming seq, for NACKs */
#define NACK_MAX                 64           /* sequence numbers answered per NACK packet */
#define PACKET_MAX               1500
#define RR_INTERVAL_MS           1000
#define GAP_NACK_MAX             16     /* a larger jump is a restart or a burst: not NACKed */
#define SEQ_BASE                 65536u /* extended sequence numbers start one cycle in */
#define RATES_INTERVAL_MS        1000
#define NO_LAYER                 (-1)

#define PADDING_LEN            250 /* payload of a probe packet (at most 255) */
#define PADDING_MAX_PER_PACKET 8   /* probe packets sent after one forwarded packet */

typedef struct link link_t;

typedef struct track track_t;

/* One subscriber's copy of a track. */
typedef struct out {
    router_sub_t spec;
    track_t *track;
    rewrite_t *rw;
    link_t *link;            /* the subscriber's downlink */
    vp8_munger_t *vp8;       /* VP8 tracks: PictureID/TL0PICIDX continuity */
    int cur;                 /* spatial layer forwarded; NO_LAYER until a keyframe starts it */
    int target;              /* spatial layer wanted: switched to on its keyframe */
    uint8_t tcur, ttarget;   /* temporal layers (highest TID forwarded, wanted) */
    bool pic_valid, pic_fwd; /* the decision for the latest picture (VP8, by PictureID) */
    uint16_t pic;
    bool paused; /* this subscriber does not want it now */
    uint16_t rtx_seq;
    uint32_t last_ts;         /* of the last packet forwarded: probe padding carries it */
    uint32_t packets, octets; /* sent, for its sender reports */
    struct {
        uint16_t out_seq, in_seq;
        uint8_t layer;
        bool used;
    } ring[SEQ_RING];
} out_t;

/* What a receiver report says about a publisher's stream (RFC 3550 section 6.4.2 and
 * appendix A.3, A.8). */
typedef struct rx {
    bool started;
    uint64_t base, max; /* extended sequence numbers */
    uint32_t received, expected_prior, received_prior;
    uint32_t jitter16; /* interarrival jitter x 16, in timestamp units */
    int64_t last_transit;
    uint32_t sr_mid; /* middle 32 bits of the last SR's NTP time, 0: none */
    uint64_t sr_at;
} rx_t;

/* Speech detection from the audio levels of one tick's packets: a packet is loud above
 * -50 dBov (over the noise of a quiet room); speech starts when 20% of the packets are
 * loud and stops under 10%, so that the pauses between words do not flap the state.
 * (Chromium's fake microphone, a beep every 500 ms, gives 28 to 36%.) */
#define LOUD_LEVEL     50
#define SPEECH_ON_PCT  20
#define SPEECH_OFF_PCT 10

/* One stream of a track: the track itself, or one of its simulcast layers. */
typedef struct layer {
    uint32_t ssrc, rtx_ssrc; /* 0: not known yet (simulcast: learnt from the rid) */
    rx_t rx;
    bool kf_requested;
    uint64_t kf_requested_at;
    pktcache_t *cache;                    /* video only */
    uint64_t octets[ROUTER_MAX_TEMPORAL]; /* received since the last rates, by TID */
    uint16_t width;                       /* of its latest VP8 key frame, 0: unknown */
} layer_t;

struct track {
    router_track_t spec;
    layer_t layers[ROUTER_MAX_LAYERS];
    size_t nlayers; /* 1..ROUTER_MAX_LAYERS */
    /* Spatial index (what subscribers' targets and the rates speak of, 0 the lowest) ->
     * layer: the rids' order, corrected by the widths key frames show (VP8). */
    uint8_t order[ROUTER_MAX_LAYERS];
    uint32_t levels_n, loud_n, loud_sum; /* this tick: packets with a level, loud ones */
    bool speaking;
    bool muted;
    router_rates_t rates; /* the last reported */
    uint64_t rates_at, rr_at;
    out_t **outs;
    size_t n_outs, cap_outs;
};

/* A subscriber's downlink: its estimate (reported when it moves by 10% or more), and the
 * stream probe padding goes out on (the RTX stream of one of its videos). */
struct link {
    uint32_t ep;
    downlink_t *dl;
    uint32_t reported;
    out_t *pad;      /* NULL: to be found */
    uint8_t ast_ext; /* the subscriber's abs-send-time id, 0: none */
};

/* The SSRCs of an ended simulcast track's layer, for the next track on the same m-line:
 * a browser sends the rid extension only until the SSRC is acknowledged (a receiver
 * report), and keeps its SSRCs when the m-line sends again (a camera turned back on). */
typedef struct known_layer {
    uint32_t publisher;
    char mid[33], rid[ROUTER_RID_MAX];
    uint32_t ssrc, rtx_ssrc;
} known_layer_t;

/* A publisher's uplink: the transport-cc feedback it gets. */
typedef struct feed {
    uint32_t ep;
    uint8_t ext;
    uplink_t *up;
} feed_t;

struct router {
    router_out_t out;
    feed_t *feeds;
    size_t n_feeds, cap_feeds;
    known_layer_t *known;
    size_t n_known, cap_known;
    link_t **links;
    size_t n_links, cap_links;
    track_t **tracks;
    size_t n_tracks, cap_tracks;
    uint32_t own_ssrc; /* sender SSRC of the feedback the server itself writes */
    router_stats_t st;
    uint8_t scratch[PACKET_MAX];
};

router_t *router_new(const router_out_t *out)
{
    router_t *r = xcalloc(1, sizeof *r);
    r->out = *out;
    r->own_ssrc = 1;
    return r;
}

static void free_out(out_t *o)
{
    if (o->link && o->link->pad == o) o->link->pad = NULL;
    rewrite_free(o->rw);
    vp8_munger_free(o->vp8);
    free(o);
}

static void free_track(track_t *t)
{
    for (size_t i = 0; i < t->n_outs; i++)
        free_out(t->outs[i]);
    free(t->outs);
    for (size_t i = 0; i < t->nlayers; i++)
        pktcache_free(t->layers[i].cache);
    free(t);
}

void router_free(router_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_tracks; i++)
        free_track(r->tracks[i]);
    free(r->tracks);
    for (size_t i = 0; i < r->n_links; i++) {
        downlink_free(r->links[i]->dl);
        free(r->links[i]);
    }
    free(r->links);
    free(r->known);
    for (size_t i = 0; i < r->n_feeds; i++)
        uplink_free(r->feeds[i].up);
    free(r->feeds);
    free(r);
}

/* -- lookups */

static track_t *track_by_id(const router_t *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_tracks; i++)
        if (r->tracks[i]->spec.id == id) return r->tracks[i];
    return NULL;
}

/* The track and layer (*layer) a publisher's SSRC belongs to, media or RTX. */
static track_t *track_by_ssrc(const router_t *r, uint32_t publisher, uint32_t ssrc, size_t *layer)
{
    for (size_t i = 0; ssrc && i < r->n_tracks; i++) {
        track_t *t = r->tracks[i];
        if (t->spec.publisher != publisher) continue;
        for (size_t l = 0; l < t->nlayers; l++) {
            if (t->layers[l].ssrc == ssrc || t->layers[l].rtx_ssrc == ssrc) {
                *layer = l;
                return t;
            }
        }
    }
    return NULL;
}

static size_t out_index(const track_t *t, uint32_t subscriber)
{
    for (size_t i = 0; i < t->n_outs; i++)
        if (t->outs[i]->spec.subscriber == subscriber) return i;
    return t->n_outs;
}

static link_t *link_of(const router_t *r, uint32_t ep)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i]->ep == ep) return r->links[i];
    return NULL;
}

/* The outgoing stream a subscriber's feedback is about. */
static out_t *out_by_ssrc(const router_t *r, uint32_t subscriber, uint32_t ssrc)
{
    for (size_t i = 0; i < r->n_tracks; i++) {
        track_t *t = r->tracks[i];
        for (size_t j = 0; j < t->n_outs; j++) {
            out_t *o = t->outs[j];
            if (o->spec.subscriber == subscriber && o->spec.ssrc == ssrc) return o;
        }
    }
    return NULL;
}

/* -- sending */

/* Returns whether the packet went out (the endpoint may not be connected yet). */
static bool send_copy(router_t *r, uint32_t to, const uint8_t *pkt, size_t len, bool rtcp)
{
    size_t cap = 0;
    uint8_t *buf = r->out.begin(r->out.arg, to, &cap);
    if (!buf || cap < len) return false;
    memcpy(buf, pkt, len);
    r->out.end(r->out.arg, to, len, rtcp);
    return true;
}

/* Asks layer l of t for a keyframe (a layer whose SSRC is unknown yet cannot be asked:
 * router_tick asks again). */
static void request_keyframe(router_t *r, track_t *t, int l, uint64_t now)
{
    if (!t->spec.video || l < 0) return;
    layer_t *ly = &t->layers[l];
    if (!ly->ssrc || (ly->kf_requested && now - ly->kf_requested_at < KEYFRAME_MIN_INTERVAL_MS))
        return;
    uint8_t pli[16];
    int n = rtcp_build_pli(pli, sizeof pli, r->own_ssrc, ly->ssrc);
    /* Not sent (the publisher's transport is not up yet): router_tick asks again. */
    if (n <= 0 || !send_copy(r, t->spec.publisher, pli, (size_t)n, true)) return;
    ly->kf_requested = true;
    ly->kf_requested_at = now;
    r->st.keyframe_requests++;
}

/* Writes pkt as subscriber o sees it into buf (cap bytes): SSRC, sequence number,
 * timestamp, payload type, extension ids. Returns the length, or 0. */
static size_t rewrite_into(const out_t *o, const uint8_t *pkt, size_t len, const rtp_header_t *h,
                           uint16_t seq, uint32_t ts, uint8_t *buf, size_t cap)
{
    if (cap < len) return 0;
    if (buf != pkt) memcpy(buf, pkt, len);
    rtp_set_ssrc(buf, o->spec.ssrc);
    rtp_set_seq(buf, seq);
    rtp_set_ts(buf, ts);
    rtp_set_pt(buf, o->spec.pt_map[h->pt]);
    /* A block the remap refuses (malformed, or a map invalid for its form) is left as it
     * is: the subscriber ignores ids it did not negotiate. */
    if (h->extension) rtp_ext_remap(buf, len, h, o->spec.ext_map);
    return len;
}

/* A video stream of the subscriber with RTX, to carry probe padding, or NULL. */
static out_t *find_pad_out(const router_t *r, const link_t *l)
{
    for (size_t i = 0; i < r->n_tracks; i++) {
        const track_t *t = r->tracks[i];
        if (!t->spec.video) continue;
        for (size_t j = 0; j < t->n_outs; j++) {
            out_t *o = t->outs[j];
            if (o->link == l && o->spec.rtx_ssrc && o->cur != NO_LAYER) return o;
        }
    }
    return NULL;
}

static uint8_t any_rtx_pt(const out_t *o)
{
    for (size_t i = 0; i < 128; i++)
        if (o->spec.rtx_pt[i]) return o->spec.rtx_pt[i];
    return 0;
}

/* Probe padding the subscriber's downlink asks for now: padding-only packets on the RTX
 * stream of one of its videos (receivers count them for congestion control and drop
 * them), as browsers probe. */
static void pad(router_t *r, link_t *l, uint64_t now)
{
    int64_t now_us = (int64_t)now * 1000;
    size_t due = downlink_padding_due(l->dl, now_us);
    if (due == 0) return;
    if (!l->pad) l->pad = find_pad_out(r, l);
    out_t *o = l->pad;
    uint8_t pt = o ? any_rtx_pt(o) : 0;
    for (int i = 0; pt && due > 0 && i < PADDING_MAX_PER_PACKET; i++) {
        size_t cap = 0, len = RTP_HEADER_LEN + PADDING_LEN;
        uint8_t *buf = r->out.begin(r->out.arg, l->ep, &cap);
        if (!buf || cap < len) return;
        memset(buf, 0, len);
        buf[0] = RTP_VERSION << 6 | 0x20; /* padding */
        buf[1] = pt;
        rtp_set_seq(buf, o->rtx_seq++);
        rtp_set_ts(buf, o->last_ts);
        rtp_set_ssrc(buf, o->spec.rtx_ssrc);
        buf[len - 1] = PADDING_LEN;
        /* A REMB estimator (the subscriber's, without transport-cc) counts only packets
         * with their send time. */
        rtp_header_t h;
        if (l->ast_ext && rtp_parse(buf, len, &h) == 0) {
            uint32_t ast = (uint32_t)(((now % 64000) << 18) / 1000) & 0xffffff;
            uint8_t v[3] = {(uint8_t)(ast >> 16), (uint8_t)(ast >> 8), (uint8_t)ast};
            int m = rtp_ext_add(buf, len, cap, &h, l->ast_ext, v, 3);
            if (m > 0) len = (size_t)m;
        }
        size_t n = downlink_stamp(l->dl, buf, len, cap, now_us);
        r->st.padding_out++;
        r->out.end(r->out.arg, l->ep, n, false);
        due = due > n ? due - n : 0;
    }
}

/* What the forwarding path knows of one incoming media packet. */
typedef struct media {
    const uint8_t *pkt;
    size_t len;
    const rtp_header_t *h;
    size_t layer;
    bool key;
    bool vp8; /* d holds its parsed VP8 descriptor */
    vp8_desc_t d;
} media_t;

/* Sends a packet to subscriber o, rewritten. Returns false when it could not go out (o's
 * transport is not up yet, or the packet maps to no number). */
static bool forward(router_t *r, out_t *o, const media_t *m, uint64_t now)
{
    const rtp_header_t *h = m->h;
    size_t cap = 0;
    uint8_t *buf = r->out.begin(r->out.arg, o->spec.subscriber, &cap);
    uint16_t seq;
    uint32_t ts;
    /* The buffer first: a packet that cannot leave must not take a sequence number. */
    if (!buf || cap < m->len) return false;
    memcpy(buf, m->pkt, m->len);
    if (m->vp8 && !vp8_munger_forward(o->vp8, h->ssrc, buf + h->payload_off, &m->d)) return false;
    if (!rewrite_packet(o->rw, h->seq, h->ts, h->ssrc, now, o->track->spec.clock_rate, &seq, &ts))
        return false;
    size_t n = rewrite_into(o, buf, m->len, h, seq, ts, buf, cap);
    if (n == 0) return false;
    /* abs-send-time says when the packet left the sender: now it leaves us. The
     * subscriber's browser measures our downlink from it (its REMB). */
    uint8_t ast_id = o->track->spec.abs_send_time_ext;
    if (ast_id && o->spec.ext_map[ast_id])
        rtp_ext_set_abs_send_time(buf, h, o->spec.ext_map[ast_id],
                                  (uint32_t)(((now % 64000) << 18) / 1000) & 0xffffff);
    size_t slot = seq % SEQ_RING;
    o->ring[slot].out_seq = seq;
    o->ring[slot].in_seq = h->seq;
    o->ring[slot].layer = (uint8_t)m->layer;
    o->ring[slot].used = true;
    o->last_ts = ts;
    o->packets++;
    o->octets += (uint32_t)h->payload_len;
    r->st.rtp_out++;
    n = downlink_stamp(o->link->dl, buf, n, cap, (int64_t)now * 1000);
    r->st.kind_out[o->track->spec.video]++;
    r->st.kind_out_bytes[o->track->spec.video] += n;
    r->out.end(r->out.arg, o->spec.subscriber, n, false);
    pad(r, o->link, now);
    return true;
}

/* Parses what forwarding needs of a media packet: VP8 descriptor, keyframe. */
static void classify(const track_t *t, media_t *m)
{
    const uint8_t *payload = m->pkt + m->h->payload_off;
    switch (t->spec.codec[m->h->pt]) {
    case ROUTER_CODEC_VP8:
        m->vp8 = vp8_parse(payload, m->h->payload_len, &m->d) == 0;
        m->key = m->vp8 && m->d.keyframe;
        break;
    case ROUTER_CODEC_H264:
        m->key = rtp_h264_is_keyframe(payload, m->h->payload_len);
        break;
    default:
        break;
    }
}

static void nack_upstream(router_t *r, track_t *t, const layer_t *ly, uint64_t from_ext,
                          uint64_t to_ext)
{
    uint16_t seqs[GAP_NACK_MAX];
    size_t n = 0;
    for (uint64_t e = from_ext; e < to_ext && n < GAP_NACK_MAX; e++)
        seqs[n++] = (uint16_t)e;
    uint8_t buf[64];
    int len = rtcp_build_nack(buf, sizeof buf, r->own_ssrc, ly->ssrc, seqs, n);
    if (len <= 0) return;
    r->st.nacks_upstream++;
    send_copy(r, t->spec.publisher, buf, (size_t)len, true);
}

/* Receive statistics, and a NACK upstream for a small gap (video: audio has no NACK). */
static void account(router_t *r, track_t *t, layer_t *ly, const rtp_header_t *h, uint64_t now)
{
    rx_t *rx = &ly->rx;
    uint64_t ext = rx->started ? rtp_seq_extend(rx->max, h->seq) : SEQ_BASE + h->seq;
    if (!rx->started) {
        rx->started = true;
        rx->base = rx->max = ext;
    } else if (ext > rx->max) {
        if (t->spec.video && ext - rx->max > 1 && ext - rx->max - 1 <= GAP_NACK_MAX)
            nack_upstream(r, t, ly, rx->max + 1, ext);
        rx->max = ext;
    }
    rx->received++;
    int64_t arrival = (int64_t)(now * t->spec.clock_rate / 1000);
    int64_t transit = arrival - (int64_t)h->ts;
    if (rx->received > 1) {
        int64_t d = transit - rx->last_transit;
        uint32_t ad = (uint32_t)(d < 0 ? -d : d);
        rx->jitter16 += ad - ((rx->jitter16 + 8) >> 4);
    }
    rx->last_transit = transit;
}

/* -- layers */

/* Whether o forwards the picture of m at its temporal layer: decided on a picture's
 * first packet (VP8 with TID), kept for its other packets. Down-switches apply at once,
 * up-switches at a picture that may follow any lower layer: TID 0, or Y (layer sync). */
static bool temporal_ok(out_t *o, const media_t *m)
{
    if (!m->vp8 || !m->d.has_tid) return true;
    if (m->d.has_picture_id && o->pic_valid && m->d.picture_id == o->pic) return o->pic_fwd;
    if (o->ttarget < o->tcur) {
        o->tcur = o->ttarget;
    } else if (o->ttarget > o->tcur) {
        if (m->d.tid == 0)
            o->tcur = o->ttarget;
        else if (m->d.y && m->d.tid <= o->ttarget && m->d.tid > o->tcur)
            o->tcur = m->d.tid;
    }
    o->pic_valid = m->d.has_picture_id;
    o->pic = m->d.picture_id;
    o->pic_fwd = m->d.tid <= o->tcur;
    return o->pic_fwd;
}

/* The layer o's target spatial index stands for. */
static int want(const out_t *o)
{
    return o->track->order[o->target];
}

static int index_of(const track_t *t, size_t layer)
{
    size_t i = 0;
    while (i + 1 < t->nlayers && t->order[i] != layer)
        i++;
    return (int)i;
}

/* A VP8 key frame showed layer l's width: the layers whose widths are known are ranked
 * by them, within the places they hold (a sender may list its rids highest first). */
static void note_width(track_t *t, size_t l, uint16_t width)
{
    if (t->nlayers < 2 || t->layers[l].width == width) return;
    t->layers[l].width = width;
    uint8_t known[ROUTER_MAX_LAYERS];
    size_t n = 0;
    for (size_t i = 0; i < t->nlayers; i++) /* in rid order: a stable sort */
        if (t->layers[i].width) known[n++] = (uint8_t)i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && t->layers[known[j - 1]].width > t->layers[known[j]].width;
             j--) {
            uint8_t x = known[j];
            known[j] = known[j - 1];
            known[j - 1] = x;
        }
    for (size_t i = 0, k = 0; i < t->nlayers; i++)
        t->order[i] = t->layers[i].width ? known[k++] : (uint8_t)i;
}

/* Not o's layer; o's, not sent; sent; sent, and o's layer from now on (a keyframe). */
typedef enum { PASS, DROP, SEND, SWITCH } verdict_t;

/* Which packets of which layer o gets: its current layer's, until a keyframe of its
 * target layer switches it there. Before its first keyframe any layer up to the target
 * may start it (a simulcast publisher starts its top layer last). */
static verdict_t choose(router_t *r, out_t *o, const media_t *m)
{
    int l = (int)m->layer;
    if (l != o->cur) {
        bool starts =
            o->cur == NO_LAYER ? index_of(o->track, (size_t)l) <= o->target : l == want(o);
        if (starts && m->key) return SWITCH;
        if (o->cur == NO_LAYER && l == want(o)) r->st.dropped_waiting_keyframe++;
        return PASS;
    }
    if (temporal_ok(o, m)) return SEND;
    r->st.dropped_layer++;
    if (m->vp8) vp8_munger_drop(o->vp8, m->h->ssrc, &m->d);
    return DROP;
}

/* One packet of a layer of the track: to its cache and every subscriber. */
static void on_media(router_t *r, track_t *t, media_t *m, uint64_t now)
{
    const rtp_header_t *h = m->h;
    layer_t *ly = &t->layers[m->layer];
    if (ly->cache) pktcache_put(ly->cache, h->seq, m->pkt, m->len);
    bool forwardable =
        t->spec.codec[h->pt] != ROUTER_CODEC_NONE && t->spec.codec[h->pt] != ROUTER_CODEC_RTX;
    if (t->spec.video && forwardable) classify(t, m);
    if (m->vp8 && m->d.width) note_width(t, m->layer, m->d.width);
    for (size_t i = 0; i < t->n_outs; i++) {
        out_t *o = t->outs[i];
        verdict_t v = PASS;
        if (t->muted) {
            r->st.dropped_muted++;
        } else if (o->paused) {
            r->st.dropped_paused++;
        } else if (!forwardable || o->spec.pt_map[h->pt] == ROUTER_PT_DROP) {
            r->st.dropped_pt++;
        } else if ((v = choose(r, o, m)) == SEND) {
            forward(r, o, m, now);
            continue;
        } else if (v == SWITCH) {
            /* A layer starts with a keyframe its subscriber actually got: one sent before
             * its transport was up is lost, and router_tick asks for another. */
            if (forward(r, o, m, now)) {
                r->st.layer_switches += o->cur != NO_LAYER;
                o->cur = (int)m->layer;
                o->tcur = o->ttarget;
                o->pic_valid = false;
            }
            continue;
        }
        /* Not sent: later packets close the gap, the subscriber sees no loss. If the
         * packet is older than one already numbered, its number is taken: send it (a
         * packet of another source than the one o's numbering follows changes nothing; a
         * late one of a dropped temporal layer stays a hole). */
        if (!rewrite_drop(o->rw, h->seq, h->ssrc) && o->cur != NO_LAYER && v != DROP && !t->muted &&
            !o->paused && forwardable && o->spec.pt_map[h->pt] != ROUTER_PT_DROP)
            forward(r, o, m, now);
    }
}

/* A publisher's retransmission (RFC 4588) back into the original packet, in scratch. */
static size_t unwrap_rtx(router_t *r, const track_t *t, const layer_t *ly, const uint8_t *pkt,
                         const rtp_header_t *h)
{
    uint8_t apt = t->spec.rtx_apt[h->pt];
    if (!apt || h->payload_len < 2 || h->payload_off + h->payload_len - 2 > sizeof r->scratch)
        return 0;
    const uint8_t *payload = pkt + h->payload_off;
    memcpy(r->scratch, pkt, h->payload_off);
    r->scratch[0] &= (uint8_t)~0x20; /* its padding, if any, is not copied */
    memcpy(r->scratch + h->payload_off, payload + 2, h->payload_len - 2);
    rtp_set_ssrc(r->scratch, ly->ssrc);
    rtp_set_seq(r->scratch, (uint16_t)(payload[0] << 8 | payload[1]));
    rtp_set_pt(r->scratch, apt);
    return h->payload_off + h->payload_len - 2;
}

/* Whether the packet's element `id` holds the string want. */
static bool ext_is(const uint8_t *pkt, const rtp_header_t *h, uint8_t id, const char *want)
{
    char s[ROUTER_RID_MAX < 33 ? 33 : ROUTER_RID_MAX];
    return id && rtp_ext_string(pkt, h, id, s, sizeof s) == 0 && strcmp(s, want) == 0;
}

/* A simulcast layer's new SSRC, from the rid (or, for RTX, repaired rid) its packet
 * carries, and its mid when the track has one. */
static track_t *learn_ssrc(router_t *r, uint32_t from, const uint8_t *pkt, const rtp_header_t *h,
                           size_t *layer)
{
    for (size_t i = 0; h->extension && i < r->n_tracks; i++) {
        track_t *t = r->tracks[i];
        const router_track_t *sp = &t->spec;
        if (sp->publisher != from || sp->nlayers < 2) continue;
        if (sp->mid_ext && !ext_is(pkt, h, sp->mid_ext, sp->mid)) continue;
        for (size_t l = 0; l < t->nlayers; l++) {
            layer_t *ly = &t->layers[l];
            /* The repaired rid first: a sender may put the rid on its RTX packets too. */
            if (ext_is(pkt, h, sp->repaired_rid_ext, sp->rids[l])) {
                ly->rtx_ssrc = h->ssrc;
            } else if (ext_is(pkt, h, sp->rid_ext, sp->rids[l])) {
                ly->ssrc = h->ssrc; /* a new SSRC for a layer: the sender restarted it */
                ly->rx.started = false;
                if (ly->cache) pktcache_reset(ly->cache);
            } else {
                continue;
            }
            *layer = l;
            return t;
        }
    }
    return NULL;
}

/* Counts a media packet into its layer's rate, by temporal layer. */
static void count_rate(layer_t *ly, const media_t *m)
{
    size_t tid = m->vp8 && m->d.has_tid ? m->d.tid : 0;
    ly->octets[tid < ROUTER_MAX_TEMPORAL ? tid : ROUTER_MAX_TEMPORAL - 1] += m->len;
}

static feed_t *feed_of(const router_t *r, uint32_t ep)
{
    for (size_t i = 0; i < r->n_feeds; i++)
        if (r->feeds[i].ep == ep) return &r->feeds[i];
    return NULL;
}

/* Notes the packet's arrival for the publisher's transport-cc feedback, and sends the
 * feedback when due. */
static void note_arrival(router_t *r, uint32_t from, const uint8_t *pkt, const rtp_header_t *h,
                         int64_t arrival_us)
{
    feed_t *f = feed_of(r, from);
    uint16_t seq;
    if (!f || rtp_ext_transport_seq(pkt, h, f->ext, &seq) != 0) return;
    uplink_on_packet(f->up, seq, arrival_us);
    /* A send buffer only when a feedback is due: taking one may flush the batch. */
    if (!uplink_due(f->up, arrival_us)) return;
    size_t cap = 0;
    uint8_t *buf = r->out.begin(r->out.arg, from, &cap);
    if (!buf) return;
    size_t n = uplink_feedback(f->up, arrival_us, r->own_ssrc, h->ssrc, buf, cap);
    if (n == 0) return;
    r->st.twcc_out++;
    r->out.end(r->out.arg, from, n, true);
}

void router_rtp(router_t *r, uint32_t from, const uint8_t *pkt, size_t len, uint64_t now,
                int64_t arrival_us)
{
    rtp_header_t h;
    track_t *t = NULL;
    size_t l = 0;
    if (rtp_parse(pkt, len, &h) != 0) {
        r->st.rtp_unknown++;
        return;
    }
    if (r->n_feeds) note_arrival(r, from, pkt, &h, arrival_us);
    if (!((t = track_by_ssrc(r, from, h.ssrc, &l)) || (t = learn_ssrc(r, from, pkt, &h, &l)))) {
        r->st.rtp_unknown++;
        return;
    }
    layer_t *ly = &t->layers[l];
    bool rtx = h.ssrc != ly->ssrc;
    if (rtx) {
        size_t n = unwrap_rtx(r, t, ly, pkt, &h);
        if (n == 0 || rtp_parse(r->scratch, n, &h) != 0) return;
        r->st.rtx_in++;
        pkt = r->scratch;
        len = n;
    }
    r->st.rtp_in++;
    r->st.kind_in[t->spec.video]++;
    r->st.kind_in_bytes[t->spec.video] += len;
    account(r, t, ly, &h, now);
    bool voice;
    uint8_t level;
    if (t->spec.audio_level_ext &&
        rtp_ext_audio_level(pkt, &h, t->spec.audio_level_ext, &voice, &level) == 0) {
        t->levels_n++;
        if (level <= LOUD_LEVEL) {
            t->loud_n++;
            t->loud_sum += 127u - level;
        }
    }
    media_t m = {.pkt = pkt, .len = len, .h = &h, .layer = l};
    on_media(r, t, &m, now);
    if (!rtx && t->spec.video) count_rate(ly, &m);
}

/* -- feedback */

/* The packet o sent as seq, from the cache of the layer it came from, rewritten into
 * scratch as o saw it. Returns its length, or 0 when it is gone. */
static size_t resend_copy(router_t *r, out_t *o, uint16_t seq, rtp_header_t *h)
{
    const track_t *t = o->track;
    size_t slot = seq % SEQ_RING;
    const pktcache_t *cache = t->layers[o->ring[slot].layer].cache;
    const uint8_t *cached;
    size_t clen;
    uint32_t ts;
    if (!o->spec.rtx_ssrc || !cache || !o->ring[slot].used || o->ring[slot].out_seq != seq ||
        pktcache_get(cache, o->ring[slot].in_seq, &cached, &clen) != 0 ||
        clen > sizeof r->scratch || rtp_parse(cached, clen, h) != 0 || h->pt >= 128 ||
        !o->spec.rtx_pt[h->pt] || !rewrite_ts(o->rw, h->ssrc, h->ts, &ts))
        return 0;
    memcpy(r->scratch, cached, clen);
    vp8_desc_t d;
    uint8_t *payload = r->scratch + h->payload_off;
    if (t->spec.codec[h->pt] == ROUTER_CODEC_VP8 && vp8_parse(payload, h->payload_len, &d) == 0 &&
        !vp8_munger_forward(o->vp8, h->ssrc, payload, &d))
        return 0;
    return rewrite_into(o, r->scratch, clen, h, seq, ts, r->scratch, sizeof r->scratch);
}

static void answer_nack(router_t *r, out_t *o, uint16_t seq, uint64_t now)
{
    rtp_header_t h;
    size_t n = resend_copy(r, o, seq, &h);
    if (n == 0) {
        r->st.nack_misses++;
        return;
    }
    size_t cap = 0;
    uint8_t *buf = r->out.begin(r->out.arg, o->spec.subscriber, &cap);
    if (!buf) return;
    int m =
        rtp_rtx_build(r->scratch, n, o->spec.rtx_ssrc, o->rtx_seq, o->spec.rtx_pt[h.pt], buf, cap);
    if (m <= 0) return;
    o->rtx_seq++;
    r->st.retransmissions++;
    size_t sent = downlink_stamp(o->link->dl, buf, (size_t)m, cap, (int64_t)now * 1000);
    r->st.kind_out[o->track->spec.video]++;
    r->st.kind_out_bytes[o->track->spec.video] += sent;
    r->out.end(r->out.arg, o->spec.subscriber, sent, false);
}

/* Tells the estimate when it moved by 10% or more since last told. */
static void report_estimate(router_t *r, link_t *l)
{
    uint32_t bps = downlink_estimate(l->dl);
    uint64_t diff = bps > l->reported ? bps - l->reported : l->reported - bps;
    if (l->reported && diff * 10 < l->reported) return;
    l->reported = bps;
    if (r->out.estimate) r->out.estimate(r->out.arg, l->ep, bps, downlink_source(l->dl));
}

static void on_feedback(router_t *r, uint32_t from, const rtcp_pkt_t *p, uint64_t now)
{
    rtcp_fb_t fb;
    if (rtcp_parse_fb(p, &fb) != 0) return;
    if (p->pt == RTCP_PT_PSFB && fb.fmt == RTCP_PSFB_PLI) {
        out_t *o = out_by_ssrc(r, from, fb.media_ssrc);
        if (o) request_keyframe(r, o->track, want(o), now);
    } else if (p->pt == RTCP_PT_PSFB && fb.fmt == RTCP_PSFB_FIR) {
        int n = rtcp_fir_count(&fb);
        for (int i = 0; i < n; i++) {
            uint32_t ssrc;
            uint8_t fseq;
            out_t *o;
            if (rtcp_fir_entry(&fb, (size_t)i, &ssrc, &fseq) == 0 &&
                (o = out_by_ssrc(r, from, ssrc)))
                request_keyframe(r, o->track, want(o), now);
        }
    } else if (p->pt == RTCP_PT_PSFB && fb.fmt == RTCP_PSFB_AFB) {
        rtcp_remb_t remb;
        link_t *l = link_of(r, from);
        if (l && rtcp_parse_remb(&fb, &remb) == 0) {
            downlink_on_remb(l->dl,
                             remb.bitrate > UINT32_MAX ? UINT32_MAX : (uint32_t)remb.bitrate);
            report_estimate(r, l);
        }
    } else if (p->pt == RTCP_PT_RTPFB && fb.fmt == RTCP_RTPFB_TWCC) {
        link_t *l = link_of(r, from);
        if (!l) return;
        r->st.twcc_in++;
        downlink_on_twcc(l->dl, fb.fci, fb.fci_len, (int64_t)now * 1000);
        report_estimate(r, l);
    } else if (p->pt == RTCP_PT_RTPFB && fb.fmt == RTCP_RTPFB_NACK) {
        out_t *o = out_by_ssrc(r, from, fb.media_ssrc);
        uint16_t seqs[NACK_MAX];
        int n = o ? rtcp_nack_seqs(&fb, seqs, NACK_MAX) : 0;
        if (n > NACK_MAX) n = NACK_MAX;
        for (int i = 0; i < n; i++) {
            r->st.nacks_in++;
            answer_nack(r, o, seqs[i], now);
        }
    }
}

/* A subscriber's receiver report: the worst loss it reports on the streams the server
 * sends it, for a client without transport-cc. */
static void on_receiver_report(router_t *r, uint32_t from, const rtcp_pkt_t *p, uint64_t now)
{
    rtcp_rr_t rr;
    link_t *l = link_of(r, from);
    if (!l || rtcp_parse_rr(p, &rr) != 0) return;
    int worst = -1;
    for (size_t i = 0; i < rr.n_blocks; i++)
        if (out_by_ssrc(r, from, rr.blocks[i].ssrc) && rr.blocks[i].fraction_lost > worst)
            worst = rr.blocks[i].fraction_lost;
    if (worst < 0) return;
    downlink_on_loss(l->dl, (uint8_t)worst, (int64_t)now * 1000);
    report_estimate(r, l);
}

/* A publisher's sender report, once per outgoing stream with its SSRC, timestamp and
 * counts: what lets a subscriber's browser keep audio and video in sync. */
static void on_sender_report(router_t *r, uint32_t from, const rtcp_pkt_t *p, uint64_t now)
{
    rtcp_sr_t sr;
    track_t *t;
    size_t l;
    if (rtcp_parse_sr(p, &sr) != 0 || !(t = track_by_ssrc(r, from, sr.ssrc, &l)) ||
        sr.ssrc != t->layers[l].ssrc)
        return;
    t->layers[l].rx.sr_mid = (uint32_t)(sr.ntp >> 16);
    t->layers[l].rx.sr_at = now;
    for (size_t i = 0; i < t->n_outs; i++) {
        out_t *o = t->outs[i];
        rtcp_sr_t mine = {.ssrc = o->spec.ssrc, .ntp = sr.ntp};
        /* Only the layer o receives now: the rewrite maps its timestamps. */
        if (o->cur != (int)l || !rewrite_ts(o->rw, sr.ssrc, sr.rtp_ts, &mine.rtp_ts)) continue;
        mine.packet_count = o->packets;
        mine.octet_count = o->octets;
        uint8_t buf[64];
        int n = rtcp_build_sr(buf, sizeof buf, &mine);
        if (n <= 0) continue;
        r->st.sr_out++;
        send_copy(r, o->spec.subscriber, buf, (size_t)n, true);
    }
}

void router_rtcp(router_t *r, uint32_t from, const uint8_t *pkt, size_t len, uint64_t now)
{
    rtcp_iter_t it;
    rtcp_pkt_t p;
    rtcp_iter_init(&it, pkt, len);
    while (rtcp_next(&it, &p) == 1) {
        if (p.pt == RTCP_PT_SR)
            on_sender_report(r, from, &p, now);
        else if (p.pt == RTCP_PT_RR)
            on_receiver_report(r, from, &p, now);
        else if (p.pt == RTCP_PT_PSFB || p.pt == RTCP_PT_RTPFB)
            on_feedback(r, from, &p, now);
    }
}

/* -- control */

/* Layers of simulcast tracks whose SSRCs are not learnt yet take those an ended track
 * of the same publisher, m-line and rid had (the entry is used up). */
static void adopt_known(router_t *r)
{
    for (size_t k = 0; k < r->n_known;) {
        known_layer_t *kl = &r->known[k];
        bool used = false;
        for (size_t i = 0; i < r->n_tracks && !used; i++) {
            track_t *t = r->tracks[i];
            if (t->spec.publisher != kl->publisher || t->spec.nlayers < 2 ||
                strcmp(t->spec.mid, kl->mid) != 0)
                continue;
            for (size_t l = 0; l < t->nlayers && !used; l++) {
                if (t->layers[l].ssrc || strcmp(t->spec.rids[l], kl->rid) != 0) continue;
                t->layers[l].ssrc = kl->ssrc;
                t->layers[l].rtx_ssrc = kl->rtx_ssrc;
                used = true;
            }
        }
        if (used)
            r->known[k] = r->known[--r->n_known];
        else
            k++;
    }
}

/* Remembers the learnt SSRCs of a simulcast track that ends (control plane). */
static void remember_layers(router_t *r, const track_t *t)
{
    for (size_t l = 0; t->spec.nlayers >= 2 && l < t->nlayers; l++) {
        if (!t->layers[l].ssrc) continue;
        size_t k = 0;
        while (k < r->n_known && !(r->known[k].publisher == t->spec.publisher &&
                                   !strcmp(r->known[k].mid, t->spec.mid) &&
                                   !strcmp(r->known[k].rid, t->spec.rids[l])))
            k++;
        if (k == r->n_known) {
            if (r->n_known == r->cap_known) {
                r->cap_known = r->cap_known ? 2 * r->cap_known : 4;
                r->known = xrealloc(r->known, r->cap_known * sizeof *r->known);
            }
            r->n_known++;
        }
        known_layer_t *kl = &r->known[k];
        kl->publisher = t->spec.publisher;
        memcpy(kl->mid, t->spec.mid, sizeof kl->mid);
        memcpy(kl->rid, t->spec.rids[l], sizeof kl->rid);
        kl->ssrc = t->layers[l].ssrc;
        kl->rtx_ssrc = t->layers[l].rtx_ssrc;
    }
}

/* A layer's cache: about 1 s of its packets at the track's cap (the top layer takes most
 * of it, a lower one half or less), or the most when uncapped. */
static size_t cache_bytes(uint32_t max_bps, bool top)
{
    size_t bytes = max_bps ? (size_t)max_bps / 8 / (top ? 1 : 2) : CACHE_BYTES_MAX;
    return bytes < CACHE_BYTES_MIN   ? CACHE_BYTES_MIN
           : bytes > CACHE_BYTES_MAX ? CACHE_BYTES_MAX
                                     : bytes;
}

int router_add_track(router_t *r, const router_track_t *spec)
{
    size_t l;
    bool simulcast = spec->video && spec->nlayers >= 2;
    if (track_by_id(r, spec->id) || spec->nlayers > ROUTER_MAX_LAYERS ||
        (!simulcast && track_by_ssrc(r, spec->publisher, spec->ssrc, &l)))
        return -1;
    if (spec->twcc_ext && !feed_of(r, spec->publisher)) {
        if (r->n_feeds == r->cap_feeds) {
            r->cap_feeds = r->cap_feeds ? 2 * r->cap_feeds : 8;
            r->feeds = xrealloc(r->feeds, r->cap_feeds * sizeof *r->feeds);
        }
        r->feeds[r->n_feeds++] = (feed_t){spec->publisher, spec->twcc_ext, uplink_new()};
    }
    track_t *t = xcalloc(1, sizeof *t);
    t->spec = *spec;
    t->nlayers = simulcast ? spec->nlayers : 1;
    for (size_t i = 0; i < ROUTER_MAX_LAYERS; i++)
        t->order[i] = (uint8_t)i;
    if (!simulcast) {
        t->layers[0].ssrc = spec->ssrc;
        t->layers[0].rtx_ssrc = spec->rtx_ssrc;
    }
    for (size_t i = 0; spec->video && i < t->nlayers; i++) {
        bool top = i + 1 == t->nlayers;
        t->layers[i].cache =
            pktcache_new(top ? CACHE_ENTRIES : CACHE_ENTRIES_LOW, cache_bytes(spec->max_bps, top));
    }
    if (r->n_tracks == r->cap_tracks) {
        r->cap_tracks = r->cap_tracks ? 2 * r->cap_tracks : 8;
        r->tracks = xrealloc(r->tracks, r->cap_tracks * sizeof *r->tracks);
    }
    r->tracks[r->n_tracks++] = t;
    if (simulcast) adopt_known(r);
    return 0;
}

static void send_bye(router_t *r, const out_t *o)
{
    uint8_t buf[16];
    int n = rtcp_build_bye(buf, sizeof buf, &o->spec.ssrc, 1);
    if (n <= 0) return;
    r->st.bye_out++;
    send_copy(r, o->spec.subscriber, buf, (size_t)n, true);
}

static void drop_track_at(router_t *r, size_t i, bool bye)
{
    track_t *t = r->tracks[i];
    if (bye)
        for (size_t j = 0; j < t->n_outs; j++)
            send_bye(r, t->outs[j]);
    free_track(t);
    r->tracks[i] = r->tracks[--r->n_tracks];
}

void router_remove_track(router_t *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_tracks; i++) {
        if (r->tracks[i]->spec.id == id) {
            remember_layers(r, r->tracks[i]);
            drop_track_at(r, i, true);
            adopt_known(r);
            return;
        }
    }
}

/* The subscriber's link, made on its first subscription (control plane). */
static link_t *link_get(router_t *r, uint32_t ep)
{
    link_t *l = link_of(r, ep);
    if (l) return l;
    l = xcalloc(1, sizeof *l);
    l->ep = ep;
    l->dl = downlink_new();
    if (r->n_links == r->cap_links) {
        r->cap_links = r->cap_links ? 2 * r->cap_links : 8;
        r->links = xrealloc(r->links, r->cap_links * sizeof *r->links);
    }
    r->links[r->n_links++] = l;
    return l;
}

void router_set_wanted(router_t *r, uint32_t subscriber, uint32_t bps)
{
    downlink_set_wanted(link_get(r, subscriber)->dl, bps);
}

int router_subscribe(router_t *r, const router_sub_t *s, uint64_t now)
{
    track_t *t = track_by_id(r, s->track);
    if (!t || out_index(t, s->subscriber) < t->n_outs) return -1;
    out_t *o = xcalloc(1, sizeof *o);
    o->spec = *s;
    o->track = t;
    o->link = link_get(r, s->subscriber);
    if (s->twcc_ext) downlink_set_twcc_ext(o->link->dl, s->twcc_ext);
    if (t->spec.abs_send_time_ext && s->ext_map[t->spec.abs_send_time_ext] &&
        s->ext_map[t->spec.abs_send_time_ext] < 15)
        o->link->ast_ext = s->ext_map[t->spec.abs_send_time_ext];
    o->rw = rewrite_new();
    o->vp8 = t->spec.video ? vp8_munger_new() : NULL;
    o->target = (int)t->nlayers - 1;
    o->cur = t->spec.video ? NO_LAYER : 0;
    o->ttarget = o->tcur = ROUTER_MAX_TEMPORAL - 1;
    if (t->n_outs == t->cap_outs) {
        t->cap_outs = t->cap_outs ? 2 * t->cap_outs : 4;
        t->outs = xrealloc(t->outs, t->cap_outs * sizeof *t->outs);
    }
    t->outs[t->n_outs++] = o;
    request_keyframe(r, t, want(o), now);
    return 0;
}

void router_unsubscribe(router_t *r, uint32_t track, uint32_t subscriber)
{
    track_t *t = track_by_id(r, track);
    size_t i = t ? out_index(t, subscriber) : 0;
    if (!t || i == t->n_outs) return;
    free_out(t->outs[i]);
    t->outs[i] = t->outs[--t->n_outs];
}

void router_set_muted(router_t *r, uint32_t track, bool muted, uint64_t now)
{
    track_t *t = track_by_id(r, track);
    if (!t || t->muted == muted) return;
    t->muted = muted;
    if (muted || !t->spec.video) return;
    /* The frames skipped while muted are gone: decoders restart from a keyframe. */
    for (size_t i = 0; i < t->n_outs; i++) {
        t->outs[i]->cur = NO_LAYER;
        request_keyframe(r, t, want(t->outs[i]), now);
    }
}

void router_set_paused(router_t *r, uint32_t track, uint32_t subscriber, bool paused, uint64_t now)
{
    track_t *t = track_by_id(r, track);
    size_t i = t ? out_index(t, subscriber) : 0;
    if (!t || i == t->n_outs || t->outs[i]->paused == paused) return;
    out_t *o = t->outs[i];
    o->paused = paused;
    if (paused || !t->spec.video) return;
    o->cur = NO_LAYER;
    request_keyframe(r, t, want(o), now);
}

void router_set_layer(router_t *r, uint32_t track, uint32_t subscriber, unsigned spatial,
                      unsigned temporal, uint64_t now)
{
    track_t *t = track_by_id(r, track);
    size_t i = t ? out_index(t, subscriber) : 0;
    if (!t || i == t->n_outs || !t->spec.video) return;
    out_t *o = t->outs[i];
    o->target = spatial < t->nlayers ? (int)spatial : (int)t->nlayers - 1;
    o->ttarget = temporal < ROUTER_MAX_TEMPORAL ? (uint8_t)temporal : ROUTER_MAX_TEMPORAL - 1;
    if (want(o) != o->cur && !o->paused && !t->muted) request_keyframe(r, t, want(o), now);
}

void router_remove_endpoint(router_t *r, uint32_t ep)
{
    for (size_t k = 0; k < r->n_known;) {
        if (r->known[k].publisher == ep)
            r->known[k] = r->known[--r->n_known];
        else
            k++;
    }
    for (size_t i = 0; i < r->n_tracks;) {
        if (r->tracks[i]->spec.publisher == ep)
            drop_track_at(r, i, true);
        else
            i++;
    }
    for (size_t i = 0; i < r->n_tracks; i++)
        router_unsubscribe(r, r->tracks[i]->spec.id, ep);
    for (size_t i = 0; i < r->n_feeds; i++) {
        if (r->feeds[i].ep != ep) continue;
        uplink_free(r->feeds[i].up);
        r->feeds[i] = r->feeds[--r->n_feeds];
        break;
    }
    for (size_t i = 0; i < r->n_links; i++) {
        if (r->links[i]->ep != ep) continue;
        downlink_free(r->links[i]->dl);
        free(r->links[i]);
        r->links[i] = r->links[--r->n_links];
        break;
    }
}

/* One report block about a layer's stream. */
static void report_block(layer_t *ly, rtcp_report_block_t *b, uint64_t now)
{
    rx_t *rx = &ly->rx;
    uint64_t expected = rx->max - rx->base + 1;
    int64_t lost = (int64_t)expected - rx->received;
    uint32_t exp_int = (uint32_t)expected - rx->expected_prior;
    uint32_t rec_int = rx->received - rx->received_prior;
    int64_t lost_int = (int64_t)exp_int - rec_int;
    rx->expected_prior = (uint32_t)expected;
    rx->received_prior = rx->received;
    b->ssrc = ly->ssrc;
    b->fraction_lost = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)((lost_int << 8) / exp_int);
    b->cumulative_lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    b->highest_seq = (uint32_t)(rx->max - SEQ_BASE);
    b->jitter = rx->jitter16 >> 4;
    b->lsr = rx->sr_mid;
    b->dlsr = rx->sr_mid ? (uint32_t)((now - rx->sr_at) * 65536 / 1000) : 0;
}

/* A report block per stream of t received so far. Returns false when there is none. */
static bool receiver_report(router_t *r, track_t *t, uint64_t now)
{
    rtcp_rr_t rr = {.ssrc = r->own_ssrc};
    for (size_t l = 0; l < t->nlayers; l++)
        if (t->layers[l].rx.started) report_block(&t->layers[l], &rr.blocks[rr.n_blocks++], now);
    if (rr.n_blocks == 0) return false;
    uint8_t buf[8 + 24 * ROUTER_MAX_LAYERS];
    int n = rtcp_build_rr(buf, sizeof buf, &rr);
    if (n > 0) {
        r->st.rr_out++;
        send_copy(r, t->spec.publisher, buf, (size_t)n, true);
    }
    return true;
}

/* Asks again for the keyframes subscribers of t wait for (to start, or to switch). */
static void request_awaited(router_t *r, track_t *t, uint64_t now)
{
    if (!t->spec.video || t->muted) return;
    for (size_t i = 0; i < t->n_outs; i++)
        if (t->outs[i]->cur != want(t->outs[i]) && !t->outs[i]->paused)
            request_keyframe(r, t, want(t->outs[i]), now);
}

/* Whether two measurements differ enough to report: by 10%, or one is 0. */
static bool moved(uint32_t a, uint32_t b)
{
    uint32_t d = a > b ? a - b : b - a;
    return (a == 0) != (b == 0) || d * 10 > (a > b ? a : b);
}

/* Once a second: each layer's bitrate by temporal layer, reported when it moved. */
static void measure_rates(router_t *r, track_t *t, uint64_t now)
{
    uint64_t ms = now - t->rates_at;
    if (!t->spec.video || ms < RATES_INTERVAL_MS) return;
    t->rates_at = now;
    router_rates_t rates = {0};
    bool changed = false;
    for (size_t l = 0; l < t->nlayers; l++) {
        uint64_t bits = 0;
        layer_t *ly = &t->layers[t->order[l]];
        rates.order[l] = t->order[l];
        changed = changed || rates.order[l] != t->rates.order[l];
        for (size_t k = 0; k < ROUTER_MAX_TEMPORAL; k++) {
            bits += 8 * ly->octets[k];
            ly->octets[k] = 0;
            rates.kbps[l][k] = (uint32_t)(bits / ms); /* bits per ms: kbit/s */
            changed = changed || moved(rates.kbps[l][k], t->rates.kbps[l][k]);
        }
    }
    if (!changed) return;
    t->rates = rates;
    if (r->out.layer_rates) r->out.layer_rates(r->out.arg, t->spec.id, &rates);
}

/* DTX sends nothing in silence: a tick without packets counts as silence. */
static void judge_speech(router_t *r, track_t *t)
{
    uint32_t pct = t->levels_n ? 100 * t->loud_n / t->levels_n : 0;
    uint32_t loudness = t->loud_n ? t->loud_sum / t->loud_n : 0;
    /* A muted track does not speak, whatever its browser still sends: its unmuting is
     * then a new start of speech (last_n follows it). */
    bool speaking = !t->muted && pct >= (t->speaking ? SPEECH_OFF_PCT : SPEECH_ON_PCT);
    t->levels_n = t->loud_n = t->loud_sum = 0;
    if (speaking == t->speaking) return;
    t->speaking = speaking;
    if (r->out.speaking) r->out.speaking(r->out.arg, t->spec.id, speaking, (uint8_t)loudness);
}

/* The cap as a receiver estimate: the browser's encoder keeps all the track's layers
 * together under it. */
static void remb(router_t *r, track_t *t)
{
    uint8_t buf[24 + 4 * ROUTER_MAX_LAYERS];
    uint32_t ssrcs[ROUTER_MAX_LAYERS];
    size_t n_ssrcs = 0;
    for (size_t l = 0; l < t->nlayers; l++)
        if (t->layers[l].ssrc) ssrcs[n_ssrcs++] = t->layers[l].ssrc;
    int n = rtcp_build_remb(buf, sizeof buf, r->own_ssrc, t->spec.max_bps, ssrcs, n_ssrcs);
    if (n > 0 && send_copy(r, t->spec.publisher, buf, (size_t)n, true)) r->st.remb_out++;
}

void router_tick(router_t *r, uint64_t now)
{
    for (size_t i = 0; i < r->n_tracks; i++) {
        track_t *t = r->tracks[i];
        if (t->spec.audio_level_ext) judge_speech(r, t);
        /* A request can be lost (or made before the publisher could hear it): repeat it,
         * within the usual limit, until every subscriber has its keyframe. */
        request_awaited(r, t, now);
        measure_rates(r, t, now);
        if (now - t->rr_at < RR_INTERVAL_MS || !receiver_report(r, t, now)) continue;
        t->rr_at = now;
        if (t->spec.max_bps) remb(r, t);
    }
}

void router_get_stats(const router_t *r, router_stats_t *out)
{
    *out = r->st;
    for (size_t i = 0; i < r->n_tracks; i++) {
        const track_t *t = r->tracks[i];
        out->tracks[t->spec.video]++;
        out->subscriptions[t->spec.video] += t->n_outs;
        for (size_t j = 0; t->spec.video && j < t->n_outs; j++)
            out->paused_video += t->outs[j]->paused;
    }
}
