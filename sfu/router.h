/* router: the forwarding table of one media worker (DESIGN.md "The media path", steps 4
 * and 5): the tracks publishers send, each subscriber's copy of them, and what one plain
 * RTP or RTCP packet becomes. Per outgoing stream it rewrites SSRC, sequence number,
 * timestamp (continuous across drops: mute, a video subscriber waiting for its first
 * keyframe), payload type and header-extension ids to what the subscriber negotiated.
 * Feedback: PLI/FIR from a subscriber become a keyframe request to the publisher, at
 * most one per track per 500 ms, and one is sent when a video subscription starts;
 * NACKs are answered from the track's packet cache as RTX when the subscriber
 * negotiated it; a gap in what a publisher sends is NACKed upstream at once and its RTX
 * repairs are forwarded as the original packets; the publisher's sender reports are
 * rewritten per outgoing stream (lip sync), and it gets receiver reports (router_tick);
 * a track that ends sends its subscribers a BYE.
 *
 * Layers (DESIGN.md "Bandwidth"): a video track may be simulcast, up to ROUTER_MAX_LAYERS
 * spatial layers (each its own SSRC and RTX SSRC, learnt from the rid extension), and
 * VP8 may carry temporal layers (TID in its payload descriptor, L1T3). Each subscriber
 * has a target (spatial, temporal), the highest by default (router_set_layer), and a
 * current one: a spatial switch happens on a keyframe of the target layer (requested,
 * throttled as above), a temporal down-switch at once (higher TIDs are dropped), an
 * up-switch at a sync point (TID 0, or Y). The subscriber sees one SSRC with continuous
 * sequence numbers, timestamps and VP8 PictureID/TL0PICIDX; its NACKs are answered from
 * the layer the packet came from. Each layer's bitrate is measured per temporal layer
 * (router_out_t.layer_rates).
 *
 * Sans-I/O: endpoints are the worker's numbers for its transports; packets leave
 * through router_out_t (a buffer to fill, then the length to protect and send). Tracks
 * and subscriptions are added and removed by the control plane (may allocate); the
 * packet path allocates nothing. Thread: the owning worker only. */
#ifndef SOBRE_ROUTER_H
#define SOBRE_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct router router_t;

#define ROUTER_MAX_LAYERS   3  /* simulcast spatial layers of a track, lowest first */
#define ROUTER_MAX_TEMPORAL 3  /* VP8 temporal layers (TID 0..2) */
#define ROUTER_RID_MAX      17 /* a rid's length + 1 */

/* Measured bitrates of a video track: kbps[s][t] is spatial layer s with temporal
 * layers 0..t (cumulative: what a subscriber at (s, t) receives); a stream without
 * temporal layers has kbps[s][0] == kbps[s][1] == kbps[s][2]. 0: nothing received (no
 * such layer, or it stopped). */
typedef struct router_rates {
    uint32_t kbps[ROUTER_MAX_LAYERS][ROUTER_MAX_TEMPORAL];
    uint8_t order[ROUTER_MAX_LAYERS]; /* ranked layer -> its index in the track's rids */
} router_rates_t;

typedef struct router_out {
    /* A buffer for one packet to endpoint `to` (*cap bytes), or NULL to skip it. */
    uint8_t *(*begin)(void *arg, uint32_t to, size_t *cap);
    /* The buffer `begin` returned holds a plain packet of len bytes: protect, queue. */
    void (*end)(void *arg, uint32_t to, size_t len, bool rtcp);
    /* A subscriber's downlink estimate moved by 10% or more (downlink.h: from its
     * transport-cc feedback, else its REMB, else its receiver reports; source is a
     * downlink_source_t). May be NULL. */
    void (*estimate)(void *arg, uint32_t subscriber, uint32_t bps, int source);
    /* An audio track started or stopped carrying speech (from its RFC 6464 levels,
     * judged each router_tick); loudness 0..127 (127 - dBov). May be NULL. */
    void (*speaking)(void *arg, uint32_t track, bool speaking, uint8_t loudness);
    /* A video track's measured rates moved (judged once a second; see ROUTER_MAX_LAYERS).
     * May be NULL. */
    void (*layer_rates)(void *arg, uint32_t track, const router_rates_t *rates);
    void *arg;
} router_out_t;

typedef enum {
    ROUTER_CODEC_NONE = 0, /* payload type not negotiated: not forwarded */
    ROUTER_CODEC_OPUS,
    ROUTER_CODEC_RED,
    ROUTER_CODEC_VP8,
    ROUTER_CODEC_H264,
    ROUTER_CODEC_RTX,
} router_codec_t;

#define ROUTER_PT_DROP 0xff

/* A track a publisher sends (one m-line of its publish connection). */
typedef struct router_track {
    uint32_t id;        /* chosen by the signalling side, unique in the worker */
    uint32_t publisher; /* endpoint */
    bool video;
    uint32_t ssrc, rtx_ssrc;   /* what the publisher sends; rtx 0: none */
    uint32_t clock_rate;       /* 48000 or 90000 */
    uint8_t codec[128];        /* router_codec_t of each payload type the publisher uses */
    uint8_t rtx_apt[128];      /* the publisher's RTX PT -> the PT it repairs, 0: none */
    uint8_t audio_level_ext;   /* the publisher's id of ssrc-audio-level (RFC 6464), 0: none */
    uint32_t max_bps;          /* the operator's cap, held with REMB each second; 0: none */
    uint8_t abs_send_time_ext; /* the publisher's id of abs-send-time, 0: none */
    uint8_t twcc_ext;          /* the publisher's id of transport-wide-cc, 0: none (it then gets no
                                  transport-cc feedback; the same for all its tracks) */
    /* Simulcast: nlayers (2..ROUTER_MAX_LAYERS) streams told apart by their rid (RFC
     * 8852), taken as lowest first until VP8 key frames show their widths (spatial
     * indexes then follow the widths); ssrc and rtx_ssrc above are then unused (0): each layer's
     * SSRC is learnt from the first packet carrying its rid (its RTX SSRC: the repaired
     * rid), and when mid_ext is set, the packet's mid must also be `mid`. 0 or 1: one
     * stream, the SSRCs above. */
    uint8_t nlayers;
    char rids[ROUTER_MAX_LAYERS][ROUTER_RID_MAX];
    uint8_t rid_ext, repaired_rid_ext, mid_ext; /* the publisher's ids, 0: none */
    char mid[33];
} router_track_t;

/* One subscriber's copy of a track. */
typedef struct router_sub {
    uint32_t track;
    uint32_t subscriber;     /* endpoint */
    uint32_t ssrc, rtx_ssrc; /* what the subscriber receives; rtx 0: no retransmission */
    uint8_t pt_map[128];     /* publisher PT -> subscriber PT, ROUTER_PT_DROP: not sent */
    uint8_t rtx_pt[128];     /* publisher PT -> the subscriber's RTX PT for it, 0: none */
    uint8_t ext_map[256];    /* publisher extension id -> subscriber's, 0: removed */
    uint8_t twcc_ext;        /* the subscriber's id of transport-wide-cc, 0: none (the same for
                                every track of one subscriber) */
} router_sub_t;

typedef struct router_stats {
    uint64_t rtp_in, rtp_out, rtp_unknown; /* unknown: no track has that SSRC */
    uint64_t dropped_muted, dropped_paused, dropped_waiting_keyframe, dropped_pt;
    uint64_t keyframe_requests, nacks_in, retransmissions, nack_misses;
    uint64_t sr_out, bye_out, rr_out, remb_out;
    uint64_t nacks_upstream, rtx_in; /* losses from publishers, and their repairs */
    uint64_t twcc_in, padding_out;   /* transport-cc feedback, probe padding packets */
    uint64_t twcc_out;               /* transport-cc feedback sent to publishers */
    uint64_t dropped_layer;          /* a packet of a temporal layer above the subscriber's */
    uint64_t layer_switches;         /* spatial switches done (on the target's keyframe) */
    /* Media RTP by kind, [0] audio, [1] video: packets and plain bytes (header and
     * payload, before SRTP) from publishers and to subscribers (retransmissions too). */
    uint64_t kind_in[2], kind_in_bytes[2], kind_out[2], kind_out_bytes[2];
    /* Gauges, as router_get_stats is called: tracks published and copies forwarded by
     * kind, and video copies paused for their subscriber. */
    uint64_t tracks[2], subscriptions[2], paused_video;
} router_stats_t; /* only uint64_t fields: copied as an array of them across threads */

/* out is copied. Aborts on allocation failure (control plane). */
router_t *router_new(const router_out_t *out);
void router_free(router_t *r); /* router_free(NULL) is a no-op */

/* Adds a track. Returns 0, or -1 when the id exists or the SSRC is taken by another
 * track of the same publisher. */
int router_add_track(router_t *r, const router_track_t *t);

/* Ends a track: its subscribers get a BYE for their stream, subscriptions go. */
void router_remove_track(router_t *r, uint32_t track);

/* Starts forwarding a track to a subscriber (a video one from its next keyframe, which
 * is requested). Returns 0, or -1 when the track is unknown or already subscribed. */
int router_subscribe(router_t *r, const router_sub_t *s, uint64_t now_ms);
void router_unsubscribe(router_t *r, uint32_t track, uint32_t subscriber);

/* A muted track is not forwarded (its subscribers' sequence stays gapless). Unmuting a
 * video track requests a keyframe. */
void router_set_muted(router_t *r, uint32_t track, bool muted, uint64_t now_ms);

/* Pauses or resumes one subscriber's copy of a track (e.g. audio-only mode): like a mute
 * seen by that subscriber alone. Resuming video waits for (and asks) a keyframe. */
void router_set_paused(router_t *r, uint32_t track, uint32_t subscriber, bool paused,
                       uint64_t now_ms);

/* What a subscriber's allocation would use if its link allowed, bits per second: when
 * that is more than its estimate, the router probes the link with padding (downlink.h).
 * Control plane: may allocate the endpoint's downlink state. */
void router_set_wanted(router_t *r, uint32_t subscriber, uint32_t bps);
/* Sets what a subscriber should receive of a video track: spatial layer 0 (lowest) ..
 * nlayers - 1 and temporal layer 0..ROUTER_MAX_TEMPORAL - 1; larger values clamp to the
 * highest. A new spatial target asks its layer for a keyframe. Unknown track or
 * subscription: ignored. */
void router_set_layer(router_t *r, uint32_t track, uint32_t subscriber, unsigned spatial,
                      unsigned temporal, uint64_t now_ms);

/* Forgets every track and subscription of an endpoint (its transport closed). */
void router_remove_endpoint(router_t *r, uint32_t ep);

/* A plain (unprotected) RTP packet from endpoint `from`, received at arrival_us (the
 * kernel's receive time where known: the publisher's transport-cc feedback reports it,
 * uplink.h). Not modified. */
void router_rtp(router_t *r, uint32_t from, const uint8_t *pkt, size_t len, uint64_t now_ms,
                int64_t arrival_us);

/* A plain compound RTCP packet from endpoint `from`. */
void router_rtcp(router_t *r, uint32_t from, const uint8_t *pkt, size_t len, uint64_t now_ms);

/* Periodic work (call every ROUTER_TICK_MS): speaking changes (router_out_t.speaking),
 * keyframe requests still owed, and once a second a receiver report to each publisher
 * per track (loss, jitter, LSR/DLSR: its RTT and its bandwidth estimate need them), with
 * a REMB holding a capped track under its cap. */
#define ROUTER_TICK_MS 500
void router_tick(router_t *r, uint64_t now_ms);

void router_get_stats(const router_t *r, router_stats_t *out);

#endif
