#include "media_sub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice.h"
#include "log.h"
#include "mem.h"
#include "sdp_offer.h"

#define MAX_TRACKS SDP_SUB_MAX_SLOTS
/* Audio first (DESIGN.md, "Bandwidth"): video never takes the last slots, so that a room
 * larger than a connection can carry still hears everyone it can (the audio of up to
 * MAX_TRACKS people, video of up to VIDEO_MAX / 2 with it). */
#define VIDEO_MAX    (MAX_TRACKS - 32)
#define TWCC_HINT_ID 3 /* where Chrome puts transport-wide-cc: a hint, any free id does */

struct media_sub {
    sdp_sub_t *sdp;
    int worker;
    char ufrag[ICE_UFRAG_LEN + 1], pwd[ICE_PWD_LEN + 1];
    uint64_t transport; /* 0 until the first answer */
    char *offer;        /* the last offer (heap), while it is pending */
    struct {
        uint32_t id;
        char track_id[16];
        sdp_kind_t kind;
        bool subscribed;           /* the worker forwards it */
        bool paused;               /* ... or would, but this participant should not get it now */
        uint8_t spatial, temporal; /* the layer it should get (MEDIA_LAYER_TOP: highest) */
    } tracks[MAX_TRACKS];
    size_t ntracks;
    uint32_t wanted_bps, posted_wanted_bps; /* for WORKER_CMD_WANT */
};

media_sub_t *media_sub_new(media_t *m, const char *room)
{
    media_sub_t *s = xcalloc(1, sizeof *s);
    s->worker = media_worker_for(m, room);
    ice_gen_credentials(s->ufrag, s->pwd);
    const char *const *addrs;
    size_t naddrs = media_addresses(m, &addrs);
    sdp_sub_params_t p = {
        .ice_ufrag = s->ufrag,
        .ice_pwd = s->pwd,
        .fingerprint = media_fingerprint(m),
        .cand_addrs = addrs,
        .ncand = naddrs < SDP_SUB_MAX_CANDS ? naddrs : SDP_SUB_MAX_CANDS,
        .port = (uint16_t)media_port(m, s->worker),
        .session_id = ((uint64_t)media_random_ssrc() << 20) ^ media_random_ssrc(),
        .cname = "sobre",
    };
    char err[SDP_ERR_MAX];
    s->sdp = sdp_sub_new(&p, err, sizeof err);
    if (!s->sdp) {
        log_error("media: subscribe connection: %s", err);
        abort(); /* our own parameters: a bug */
    }
    return s;
}

void media_sub_free(media_t *m, media_sub_t *s)
{
    if (!s) return;
    if (s->transport) media_close(m, s->worker, s->transport);
    sdp_sub_free(s->sdp);
    free(s->offer);
    free(s);
}

int media_sub_add(media_sub_t *s, const char *peer_id, const media_track_t *t)
{
    if (s->ntracks == MAX_TRACKS) {
        log_warn("media: a subscribe connection carries %d tracks at most: %s not offered",
                 MAX_TRACKS, t->track_id);
        return -1;
    }
    if (t->kind == SDP_KIND_VIDEO && s->ntracks >= VIDEO_MAX) {
        log_warn("media: a subscribe connection keeps its last %d tracks for audio: video %s "
                 "not offered",
                 MAX_TRACKS - VIDEO_MAX, t->track_id);
        return -1;
    }
    sdp_sub_codec_t codecs[SDP_SUB_MAX_CODECS];
    size_t ncodecs = sdp_sub_codecs_from_media(&t->media, codecs, SDP_SUB_MAX_CODECS);
    sdp_sub_ext_t exts[SDP_SUB_MAX_EXTS];
    size_t nexts = 0;
    for (size_t i = 0; i < t->media.nextmaps && nexts < SDP_SUB_MAX_EXTS; i++) {
        /* Not the MID: the publisher's value names its own m-line, not the subscriber's
         * (Firefox routes by it and would play a stream on the wrong track). Without it
         * browsers route by the a=ssrc lines of the offer. */
        if (!strcmp(t->media.extmaps[i].uri, SDP_EXT_MID)) continue;
        /* Nor its transport-wide numbers: the server numbers what it sends itself. */
        if (!strcmp(t->media.extmaps[i].uri, SDP_EXT_TRANSPORT_CC)) continue;
        /* Nor the rids: the subscriber gets one stream, whatever layer feeds it. */
        if (!strcmp(t->media.extmaps[i].uri, SDP_EXT_RID) ||
            !strcmp(t->media.extmaps[i].uri, SDP_EXT_REPAIRED_RID))
            continue;
        exts[nexts++] = (sdp_sub_ext_t){t->media.extmaps[i].uri, t->media.extmaps[i].id};
    }
    /* The server's own: transport-wide sequence numbers on everything it sends, so that
     * the subscriber's feedback tells its downlink (sfu/downlink.h). Not the publisher's:
     * its id only hints at a free one. */
    if (nexts < SDP_SUB_MAX_EXTS)
        exts[nexts++] = (sdp_sub_ext_t){SDP_EXT_TRANSPORT_CC, TWCC_HINT_ID};
    for (size_t i = 0; i < ncodecs; i++)
        codecs[i].fb |= SDP_FB_TRANSPORT_CC;
    sdp_sub_track_t st = {
        .kind = t->kind,
        .peer_id = peer_id,
        .track_id = t->track_id,
        .ssrc = t->ssrc,
        .rtx_ssrc = t->rtx_ssrc,
        .codecs = codecs,
        .ncodecs = ncodecs,
        .exts = exts,
        .nexts = nexts,
    };
    char err[SDP_ERR_MAX];
    if (sdp_sub_add_track(s->sdp, &st, err, sizeof err) < 0) {
        log_warn("media: track %s not offered: %s", t->track_id, err);
        return -1;
    }
    s->tracks[s->ntracks].id = t->id;
    snprintf(s->tracks[s->ntracks].track_id, sizeof s->tracks[0].track_id, "%s", t->track_id);
    s->tracks[s->ntracks].subscribed = false;
    s->tracks[s->ntracks].paused = false;
    s->tracks[s->ntracks].spatial = s->tracks[s->ntracks].temporal = MEDIA_LAYER_TOP;
    s->tracks[s->ntracks].kind = t->kind;
    s->ntracks++;
    return 0;
}

void media_sub_remove(media_t *m, media_sub_t *s, const media_track_t *t)
{
    for (size_t i = 0; i < s->ntracks; i++) {
        if (s->tracks[i].id != t->id) continue;
        if (s->tracks[i].subscribed) {
            worker_cmd_t cmd = {.kind = WORKER_CMD_UNSUBSCRIBE, .id = s->transport, .track = t->id};
            media_post(m, s->worker, &cmd);
        }
        sdp_sub_remove_track(s->sdp, t->track_id);
        s->tracks[i] = s->tracks[--s->ntracks];
        return;
    }
}

char *media_sub_offer(media_sub_t *s)
{
    if (sdp_sub_pending(s->sdp) || !sdp_sub_dirty(s->sdp)) return NULL;
    char *text = xmalloc(SDP_SUB_MAX_LEN), err[SDP_ERR_MAX];
    if (sdp_sub_offer(s->sdp, text, SDP_SUB_MAX_LEN, err, sizeof err) != 0) {
        log_error("media: subscribe offer: %s", err);
        free(text);
        return NULL;
    }
    free(s->offer);
    s->offer = xstrdup(text);
    return text;
}

const char *media_sub_pending_offer(const media_sub_t *s)
{
    return sdp_sub_pending(s->sdp) ? s->offer : NULL;
}

bool media_sub_pending(const media_sub_t *s)
{
    return sdp_sub_pending(s->sdp);
}

/* The worker's view of one accepted track: payload types and extension ids. */
static router_sub_t *router_sub_of(const sdp_sub_track_info_t *info, uint32_t track)
{
    router_sub_t *rs = xcalloc(1, sizeof *rs);
    rs->track = track;
    rs->ssrc = info->ssrc;
    memset(rs->pt_map, ROUTER_PT_DROP, sizeof rs->pt_map);
    for (size_t c = 0; c < info->ncodecs; c++) {
        if (!info->codecs[c].accepted || info->codecs[c].pub_pt >= 128) continue;
        rs->pt_map[info->codecs[c].pub_pt] = info->codecs[c].sub_pt;
        if (info->codecs[c].rtx_accepted && info->codecs[c].sub_rtx >= 0) {
            rs->rtx_pt[info->codecs[c].pub_pt] = (uint8_t)info->codecs[c].sub_rtx;
            rs->rtx_ssrc = info->rtx_ssrc;
        }
    }
    for (size_t e = 0; e < info->nexts; e++) {
        if (!strcmp(info->exts[e].uri, SDP_EXT_TRANSPORT_CC))
            rs->twcc_ext = info->exts[e].sub_id;
        else
            rs->ext_map[info->exts[e].pub_id] = info->exts[e].sub_id;
    }
    return rs;
}

static void post_pause(media_t *m, const media_sub_t *s, size_t i)
{
    worker_cmd_t cmd = {.kind = WORKER_CMD_PAUSE,
                        .id = s->transport,
                        .track = s->tracks[i].id,
                        .muted = s->tracks[i].paused};
    media_post(m, s->worker, &cmd);
}

void media_sub_set_paused(media_t *m, media_sub_t *s, uint32_t track, bool paused)
{
    for (size_t i = 0; i < s->ntracks; i++) {
        if (s->tracks[i].id != track || s->tracks[i].paused == paused) continue;
        s->tracks[i].paused = paused;
        if (s->tracks[i].subscribed) post_pause(m, s, i);
    }
}

static void post_layer(media_t *m, const media_sub_t *s, size_t i)
{
    worker_cmd_t cmd = {.kind = WORKER_CMD_SET_LAYER,
                        .id = s->transport,
                        .track = s->tracks[i].id,
                        .spatial = s->tracks[i].spatial,
                        .temporal = s->tracks[i].temporal};
    media_post(m, s->worker, &cmd);
}

void media_sub_set_layer(media_t *m, media_sub_t *s, uint32_t track, unsigned spatial,
                         unsigned temporal)
{
    uint8_t sp = spatial < MEDIA_LAYER_TOP ? (uint8_t)spatial : MEDIA_LAYER_TOP;
    uint8_t tp = temporal < MEDIA_LAYER_TOP ? (uint8_t)temporal : MEDIA_LAYER_TOP;
    for (size_t i = 0; i < s->ntracks; i++) {
        if (s->tracks[i].id != track || (s->tracks[i].spatial == sp && s->tracks[i].temporal == tp))
            continue;
        s->tracks[i].spatial = sp;
        s->tracks[i].temporal = tp;
        if (s->tracks[i].subscribed) post_layer(m, s, i);
    }
}

static void post_wanted(media_t *m, media_sub_t *s)
{
    worker_cmd_t cmd = {.kind = WORKER_CMD_WANT, .id = s->transport, .bps = s->wanted_bps};
    if (media_post(m, s->worker, &cmd) == 0) s->posted_wanted_bps = s->wanted_bps;
}

void media_sub_set_wanted(media_t *m, media_sub_t *s, uint32_t bps)
{
    s->wanted_bps = bps;
    uint32_t was = s->posted_wanted_bps;
    uint64_t diff = bps > was ? bps - was : was - bps;
    if (!s->transport || (was && bps && diff * 10 < was) || bps == was) return;
    post_wanted(m, s);
}

static int create_transport(media_t *m, media_sub_t *s, char *err, size_t errlen)
{
    worker_transport_spec_t *spec = xcalloc(1, sizeof *spec);
    spec->id = media_next_transport_id(m);
    transport_params_t *tp = &spec->params;
    snprintf(tp->local_ufrag, sizeof tp->local_ufrag, "%s", s->ufrag);
    snprintf(tp->local_pwd, sizeof tp->local_pwd, "%s", s->pwd);
    snprintf(tp->remote_ufrag, sizeof tp->remote_ufrag, "%s", sdp_sub_remote_ufrag(s->sdp));
    snprintf(tp->remote_pwd, sizeof tp->remote_pwd, "%s", sdp_sub_remote_pwd(s->sdp));
    snprintf(tp->remote_fingerprint, sizeof tp->remote_fingerprint, "%s",
             sdp_sub_remote_fingerprint(s->sdp));
    worker_cmd_t cmd = {.kind = WORKER_CMD_ADD_TRANSPORT, .add = spec};
    uint64_t id = spec->id;
    if (media_post(m, s->worker, &cmd) != 0) {
        snprintf(err, errlen, "internal: media worker %d is overloaded, try again", s->worker);
        return -1;
    }
    s->transport = id;
    if (s->wanted_bps) post_wanted(m, s);
    return 0;
}

int media_sub_answer(media_t *m, media_sub_t *s, const char *sdp, size_t len, char *err,
                     size_t errlen)
{
    if (sdp_sub_apply_answer(s->sdp, sdp, len, err, errlen) != 0) return -1;
    if (!s->transport && sdp_sub_remote_ufrag(s->sdp)[0] &&
        create_transport(m, s, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < s->ntracks && s->transport; i++) {
        sdp_sub_track_info_t info;
        if (s->tracks[i].subscribed ||
            sdp_sub_track_info(s->sdp, s->tracks[i].track_id, &info) != 0 || !info.accepted)
            continue;
        worker_cmd_t cmd = {.kind = WORKER_CMD_SUBSCRIBE,
                            .id = s->transport,
                            .sub = router_sub_of(&info, s->tracks[i].id)};
        if (media_post(m, s->worker, &cmd) != 0) continue;
        s->tracks[i].subscribed = true;
        if (s->tracks[i].paused) post_pause(m, s, i);
        if (s->tracks[i].spatial != MEDIA_LAYER_TOP || s->tracks[i].temporal != MEDIA_LAYER_TOP)
            post_layer(m, s, i);
    }
    return 0;
}

uint64_t media_sub_transport(const media_sub_t *s)
{
    return s->transport;
}
