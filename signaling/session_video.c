/* Who receives which video (DESIGN.md "Bandwidth"): for every subscriber, the others'
 * videos in priority order (latest speakers first, then join order), within the room's
 * last_n (or the participant's lower prefs.last_n), none in audio-only mode or for a
 * muted camera; the allocator (alloc.h) then fits them, audio first, into the
 * subscriber's downlink estimate (and its own prefs.max_video_kbps), and the server's
 * total into limits.uplink_kbps. */
#include <stdlib.h>

#include "alloc.h"
#include "mem.h"
#include "session_int.h"

#define OVERHEAD_PCT 110 /* RTP, SRTP, UDP and IP headers over a stream's media rate */
#define PROBE_PCT                                                                                  \
    115 /* probing aims this far past the full allocation: once the estimate                       \
           is there, small moves of it do not pause a video again */

static uint32_t with_overhead(int kbps)
{
    return (uint32_t)kbps * 10u * OVERHEAD_PCT;
}

#define UNMEASURED_KBPS 150 /* a simulcast track's lowest layer before it is measured */
/* An audio stream's headers: 50 packets a second (20 ms frames) of IP, UDP, RTP with its
 * extensions and the SRTP tag, about 70 bytes each. Small packets: a share of the rate
 * would leave it out (32 kb/s of Opus is about 60 kb/s on the wire). */
#define AUDIO_HEADERS_BPS (50u * 70u * 8u)

/* What forwarding video track t costs, by layer, cheapest first (alloc.h): its measured
 * rates, climbing the lowest spatial layer's temporal layers first (VP8 L1T3), then the
 * spatial layers at their full frame rate: resolution goes before frame rate. A layer
 * costs no less than the one under it (rates are measured, and noisy); one that costs no
 * more replaces it. Without measured rates, the room's cap (the publisher is held under
 * it), or for simulcast the lowest layer at a modest guess. */
static size_t video_layers(const config_room_t *caps, const media_track_t *t, alloc_layer_t *out)
{
    size_t n = 0;
    uint32_t prev = 0;
    /* Layers its publisher stopped sending because the server asked it to are still to
     * be had: choosing one asks for them again (ask_layers). */
    const router_rates_t *rates = t->active < t->nlayers ? &t->seen : &t->rates;
    for (size_t sp = 0; sp < t->nlayers && sp < ROUTER_MAX_LAYERS; sp++) {
        for (unsigned tp = sp ? ROUTER_MAX_TEMPORAL - 1 : 0; tp < ROUTER_MAX_TEMPORAL; tp++) {
            uint32_t kbps = rates->kbps[sp][tp];
            if (kbps == 0) continue; /* not sent (yet) */
            uint32_t bps = with_overhead((int)kbps);
            if (bps < prev) bps = prev;
            if (n && bps == prev) n--;
            out[n++] = (alloc_layer_t){(uint8_t)sp, (uint8_t)tp, bps};
            prev = bps;
        }
    }
    if (n) return n;
    bool simulcast = t->nlayers > 1;
    int kbps = simulcast && caps->video_kbps > UNMEASURED_KBPS ? UNMEASURED_KBPS : caps->video_kbps;
    out[0] = (alloc_layer_t){simulcast ? 0 : MEDIA_LAYER_TOP, MEDIA_LAYER_TOP, with_overhead(kbps)};
    return 1;
}

/* The other members of s's room, most important video first. */
static size_t by_priority(const session_t *s, session_t **order)
{
    peer_t *const *members;
    size_t count = room_members(s->peer.room, &members), k = 0;
    for (size_t i = 0; i < count; i++) { /* insertion; join order breaks ties */
        session_t *o = members[i]->owner;
        if (o == s) continue;
        size_t j = k++;
        while (j > 0 && order[j - 1]->spoke < o->spoke) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = o;
    }
    return k;
}

/* Fills a with s's streams and budget and runs the allocator on it. */
static void allocate(const session_t *s, alloc_sub_t *a)
{
    const config_room_t *caps = room_caps(s->peer.room);
    int last_n = caps->last_n;
    if (s->prefs.last_n > 0 && (last_n == 0 || s->prefs.last_n < last_n)) last_n = s->prefs.last_n;
    peer_t *const *members;
    size_t count = room_members(s->peer.room, &members);
    session_t **order = xcalloc(count ? count : 1, sizeof *order);
    size_t k = by_priority(s, order);
    a->streams = xcalloc(count * MEDIA_MAX_TRACKS + 1, sizeof *a->streams);
    a->n = 0;
    uint64_t audio_bps = 0;
    int videos = 0;
    for (size_t i = 0; i < k; i++) {
        const session_t *o = order[i];
        bool camera = false;
        for (size_t t = 0; t < o->pub.ntracks; t++) {
            const media_track_t *mt = &o->pub.tracks[t];
            alloc_stream_t *st = &a->streams[a->n++];
            st->track = mt->id;
            if (mt->kind != SDP_KIND_VIDEO) {
                /* Against a measured estimate, what the wire carries; before any (the
                 * start estimate is a guess, and clients without feedback keep it), the
                 * rate and a share for headers, as for video. */
                st->bps = s->est_bps ? (uint32_t)caps->audio_kbps * 1000u + AUDIO_HEADERS_BPS
                                     : with_overhead(caps->audio_kbps);
                audio_bps += st->bps;
                continue;
            }
            st->video = true;
            st->wanted =
                !s->prefs.audio_only && !o->peer.muted_video && (last_n == 0 || videos < last_n);
            st->n_layers = video_layers(caps, mt, st->layers);
            camera = true;
        }
        videos += camera;
    }
    free(order);
    /* No estimate yet (a browser gives its first feedback within 100 ms of the first
     * packets; a client that gives none at all is not limited on a guess). */
    uint64_t budget = s->est_bps ? s->est_bps : UINT32_MAX;
    if (s->prefs.max_video_kbps > 0 &&
        audio_bps + (uint64_t)s->prefs.max_video_kbps * 1000 < budget)
        budget = audio_bps + (uint64_t)s->prefs.max_video_kbps * 1000;
    a->budget_bps = budget > UINT32_MAX ? UINT32_MAX : (uint32_t)budget;
    alloc_run(a);
}

/* Applies a to s's subscribe connection and tells s when its verdict changed. */
static void apply(session_t *s, const alloc_sub_t *a)
{
    media_t *m = s->env->media;
    for (size_t i = 0; i < a->n; i++) {
        const alloc_stream_t *st = &a->streams[i];
        if (!st->video) continue;
        media_sub_set_paused(m, s->sub, st->track, st->layer == ALLOC_PAUSED);
        if (st->layer != ALLOC_PAUSED)
            media_sub_set_layer(m, s->sub, st->track, st->layers[st->layer].spatial,
                                st->layers[st->layer].temporal);
    }
    uint64_t want = a->wanted_bps * PROBE_PCT / 100;
    media_sub_set_wanted(m, s->sub, want > UINT32_MAX ? UINT32_MAX : (uint32_t)want);
    const char *state = s->prefs.audio_only ? "paused" : alloc_verdict(a);
    if (!s->est_bps) return; /* nothing to report before the first estimate */
    uint32_t kbps = s->est_bps / 1000;
    bool moved = s->sent_kbps == 0 || kbps * 5 < s->sent_kbps * 4 || kbps * 4 > s->sent_kbps * 5;
    if (!moved && s->sent_video == state) return;
    s->sent_kbps = kbps;
    s->sent_video = state;
    session_send_json(
        s, json_pack("{ss si ss}", "type", "bandwidth", "kbps", (json_int_t)kbps, "video", state));
}

/* The highest spatial layer of video track t that any subscriber takes, -1: none. */
static int highest_taken(const media_track_t *t, const alloc_sub_t *subs, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < subs[i].n; k++) {
            const alloc_stream_t *st = &subs[i].streams[k];
            if (st->track != t->id || st->layer == ALLOC_PAUSED) continue;
            int sp = st->layers[st->layer].spatial;
            if (sp >= (int)t->nlayers) sp = (int)t->nlayers - 1;
            if (sp > best) best = sp;
        }
    }
    return best;
}

/* Asks each simulcast publisher to send only the layers its subscribers take: when no
 * one takes its top layers, a `layers` message names the ones to keep (the lowest up to
 * the highest taken) and its browser stops encoding the others; all of them again as
 * soon as one is taken (or no one watches: a joiner should not wait). Only once the top
 * layer has been measured, so that the allocator could choose it. REMB would do it too,
 * but a browser held low by REMB took 10 to 30 s to climb back. */
static void ask_layers(session_env_t *env, const alloc_sub_t *subs, size_t n)
{
    for (session_t *p = env->all; p; p = p->next) {
        for (size_t i = 0; i < p->pub.ntracks; i++) {
            media_track_t *t = &p->pub.tracks[i];
            if (t->kind != SDP_KIND_VIDEO || t->nlayers < 2 || t->media.nsim_recv < t->nlayers)
                continue;
            int best = highest_taken(t, subs, n);
            size_t want = t->nlayers;
            if (best >= 0 && t->seen.kbps[t->nlayers - 1][ROUTER_MAX_TEMPORAL - 1])
                want = (size_t)best + 1;
            if (want == t->active) continue;
            t->active = want;
            json_t *rids = json_array();
            for (size_t l = 0; l < want; l++) /* ranked by width in the worker: rid order */
                json_array_append_new(rids, json_string(t->media.sim_recv[t->rates.order[l]]));
            session_send_json(
                p, json_pack("{ss ss so}", "type", "layers", "mid", t->mid, "rids", rids));
        }
    }
}

void session_video_update(session_env_t *env)
{
    size_t n = 0;
    for (session_t *s = env->all; s; s = s->next)
        n += s->sub && s->peer.room;
    if (n == 0) return;
    alloc_sub_t *subs = xcalloc(n, sizeof *subs);
    session_t **who = xcalloc(n, sizeof *who);
    size_t i = 0;
    for (session_t *s = env->all; s && i < n; s = s->next) {
        if (!s->sub || !s->peer.room) continue;
        who[i] = s;
        allocate(s, &subs[i++]);
    }
    if (env->cfg->uplink_kbps > 0)
        alloc_fit_uplink(subs, n, (uint64_t)env->cfg->uplink_kbps * 1000);
    ask_layers(env, subs, n);
    for (i = 0; i < n; i++) {
        apply(who[i], &subs[i]);
        free(subs[i].streams);
    }
    free(subs);
    free(who);
}
