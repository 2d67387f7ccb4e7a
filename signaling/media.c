#include "media.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dtls.h"
#include "ice.h"
#include "log.h"
#include "mem.h"
#include "sdp.h"

#define MAX_ADDRS 16

struct media {
    const config_t *cfg;
    dtls_cert_t *cert;
    worker_t **workers;
    int n_workers, ready;
    char *addrs[MAX_ADDRS];
    size_t n_addrs;
    uint64_t next_transport;
    uint32_t next_track;
};

static void add_addr(media_t *m, const char *a)
{
    for (size_t i = 0; i < m->n_addrs; i++)
        if (!strcmp(m->addrs[i], a)) return;
    if (m->n_addrs < MAX_ADDRS) m->addrs[m->n_addrs++] = xstrdup(a);
}

/* Every address of every interface that is up, loopback last: what a default host
 * candidate set holds. IPv6 link-local addresses are left out (they need a scope). */
static int gather_addrs(media_t *m, char *err, size_t errlen)
{
    if (m->cfg->n_announce > 0) {
        for (size_t i = 0; i < m->cfg->n_announce; i++)
            add_addr(m, m->cfg->announce[i]);
        return 0;
    }
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) {
        snprintf(err, errlen, "media.announce: cannot list the interfaces: %s", strerror(errno));
        return -1;
    }
    for (int loopback = 0; loopback < 2; loopback++) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
            if (!!(i->ifa_flags & IFF_LOOPBACK) != loopback) continue;
            char buf[INET6_ADDRSTRLEN];
            if (i->ifa_addr->sa_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf);
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                const struct in6_addr *a6 = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (IN6_IS_ADDR_LINKLOCAL(a6)) continue;
                inet_ntop(AF_INET6, a6, buf, sizeof buf);
            } else {
                continue;
            }
            add_addr(m, buf);
        }
    }
    freeifaddrs(ifs);
    if (m->n_addrs == 0) {
        snprintf(err, errlen, "media.announce: no interface has an address; set media.announce");
        return -1;
    }
    return 0;
}

int media_new(const config_t *cfg, worker_notify_cb notify, void *notify_arg, media_t **out,
              char *err, size_t errlen)
{
    media_t *m = xcalloc(1, sizeof *m);
    m->cfg = cfg;
    *out = NULL;
    if (cfg->dtls_cert)
        m->cert = dtls_cert_load(cfg->dtls_cert, cfg->dtls_key, err, errlen);
    else if (!(m->cert = dtls_cert_new()))
        snprintf(err, errlen, "media: cannot generate the DTLS certificate");
    if (!m->cert || gather_addrs(m, err, errlen) != 0) goto fail;
    m->workers = xcalloc((size_t)cfg->media_workers, sizeof *m->workers);
    for (int i = 0; i < cfg->media_workers; i++) {
        worker_params_t p = {.index = i,
                             .port = cfg->media_port + i,
                             .cert = m->cert,
                             .notify = notify,
                             .notify_arg = notify_arg};
        if (worker_start(&p, &m->workers[i], err, errlen) != 0) goto fail;
        m->n_workers++;
        worker_cmd_t ping = {.kind = WORKER_CMD_PING, .cookie = (uint64_t)i};
        worker_post(m->workers[i], &ping);
    }
    log_info("media: %d worker(s) on UDP %d, candidates on %zu address(es), DTLS %s", m->n_workers,
             cfg->media_port, m->n_addrs, dtls_cert_fingerprint(m->cert));
    *out = m;
    return 0;
fail:
    media_free(m);
    return -1;
}

void media_free(media_t *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_workers; i++)
        worker_stop(m->workers[i]);
    free(m->workers);
    for (size_t i = 0; i < m->n_addrs; i++)
        free(m->addrs[i]);
    dtls_cert_free(m->cert);
    free(m);
}

/* Every participant of a room lives on the room's worker: pick it from the name. */
int media_worker_for(const media_t *m, const char *room)
{
    uint32_t h = 2166136261u;
    for (const char *c = room; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return (int)(h % (uint32_t)m->n_workers);
}

uint32_t media_random_ssrc(void)
{
    uint32_t v = 0;
    while (v == 0)
        RAND_bytes((unsigned char *)&v, sizeof v);
    return v;
}

/* The SSRCs a participant sends on media line i: its FID pair, else its first SSRC. */
static void sender_ssrcs(const sdp_media_t *sm, uint32_t *media, uint32_t *rtx)
{
    *media = *rtx = 0;
    if (sm->nfid > 0) {
        *media = sm->fid[0].media;
        *rtx = sm->fid[0].rtx;
    } else if (sm->nssrcs > 0) {
        *media = sm->ssrcs[0];
    }
}

static void fill_echo(const sdp_t *offer, worker_transport_spec_t *spec, sdp_answer_params_t *ap)
{
    spec->echo = 1;
    for (size_t i = 0; i < offer->nmedia && spec->echo_map.n + 2 <= ECHO_MAX_STREAMS; i++) {
        const sdp_media_t *sm = &offer->media[i];
        ap->echo_ssrc[i][0] = media_random_ssrc();
        ap->echo_ssrc[i][1] = media_random_ssrc();
        if (sm->kind != SDP_KIND_AUDIO && sm->kind != SDP_KIND_VIDEO) continue;
        uint32_t media, rtx;
        sender_ssrcs(sm, &media, &rtx);
        echo_map_t *em = &spec->echo_map;
        if (media) {
            em->streams[em->n].in = media;
            em->streams[em->n++].out = ap->echo_ssrc[i][0];
        }
        if (rtx) {
            em->streams[em->n].in = rtx;
            em->streams[em->n++].out = ap->echo_ssrc[i][1];
        }
    }
}

static router_codec_t codec_of(const sdp_codec_t *c)
{
    static const struct {
        const char *name;
        router_codec_t codec;
    } known[] = {{"opus", ROUTER_CODEC_OPUS},
                 {"red", ROUTER_CODEC_RED},
                 {"VP8", ROUTER_CODEC_VP8},
                 {"H264", ROUTER_CODEC_H264},
                 {"rtx", ROUTER_CODEC_RTX}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcasecmp(c->name, known[i].name)) return known[i].codec;
    return ROUTER_CODEC_NONE;
}

static bool sends(const sdp_media_t *om, const sdp_media_t *am)
{
    return am->port != 0 && (am->kind == SDP_KIND_AUDIO || am->kind == SDP_KIND_VIDEO) &&
           (om->dir == SDP_DIR_SENDONLY || om->dir == SDP_DIR_SENDRECV);
}

static uint8_t ext_id(const sdp_media_t *am, const char *uri)
{
    int id = sdp_ext_id(am, uri);
    return id > 0 && id < 256 ? (uint8_t)id : 0;
}

/* Simulcast as the answer accepted it (a=simulcast:recv, lowest layer first): the worker
 * learns each layer's SSRC from its rid. */
static void set_layers(const sdp_media_t *am, router_track_t *rt)
{
    if (am->kind != SDP_KIND_VIDEO || am->nsim_recv < 2) return;
    rt->nlayers = (uint8_t)(am->nsim_recv < ROUTER_MAX_LAYERS ? am->nsim_recv : ROUTER_MAX_LAYERS);
    for (size_t l = 0; l < rt->nlayers; l++)
        snprintf(rt->rids[l], sizeof rt->rids[l], "%s", am->sim_recv[l]);
    rt->rid_ext = ext_id(am, SDP_EXT_RID);
    rt->repaired_rid_ext = ext_id(am, SDP_EXT_REPAIRED_RID);
    rt->mid_ext = ext_id(am, SDP_EXT_MID);
    snprintf(rt->mid, sizeof rt->mid, "%s", am->mid);
    rt->ssrc = rt->rtx_ssrc = 0;
}

static int start_track(media_t *m, media_publisher_t *pub, const sdp_media_t *am, uint32_t in_ssrc,
                       uint32_t in_rtx, int caps_video_kbps, media_track_t *t)
{
    memset(t, 0, sizeof *t);
    t->id = ++m->next_track;
    snprintf(t->track_id, sizeof t->track_id, "t%u", t->id);
    t->worker = pub->worker;
    t->kind = am->kind;
    snprintf(t->mid, sizeof t->mid, "%s", am->mid);
    t->in_ssrc = in_ssrc;
    t->ssrc = media_random_ssrc();
    t->rtx_ssrc =
        am->kind == SDP_KIND_VIDEO && sdp_find_codec(am, "rtx") >= 0 ? media_random_ssrc() : 0;
    t->media = *am;
    router_track_t *rt = xcalloc(1, sizeof *rt);
    rt->id = t->id;
    rt->video = am->kind == SDP_KIND_VIDEO;
    rt->ssrc = in_ssrc;
    rt->rtx_ssrc = in_rtx;
    rt->clock_rate = am->ncodecs ? am->codecs[0].clock : 48000;
    if (am->kind == SDP_KIND_VIDEO) rt->max_bps = (uint32_t)caps_video_kbps * 1000u;
    rt->abs_send_time_ext = ext_id(am, SDP_EXT_ABS_SEND_TIME);
    rt->twcc_ext = ext_id(am, SDP_EXT_TRANSPORT_CC);
    if (am->kind == SDP_KIND_AUDIO) rt->audio_level_ext = ext_id(am, SDP_EXT_AUDIO_LEVEL);
    set_layers(am, rt);
    t->nlayers = rt->nlayers ? rt->nlayers : 1;
    t->active = t->nlayers;
    for (size_t c = 0; c < am->ncodecs; c++) {
        const sdp_codec_t *cd = &am->codecs[c];
        if (cd->pt >= 128) continue;
        rt->codec[cd->pt] = (uint8_t)codec_of(cd);
        if (cd->apt >= 0 && cd->apt < 128) rt->rtx_apt[cd->pt] = (uint8_t)cd->apt;
    }
    worker_cmd_t cmd = {.kind = WORKER_CMD_ADD_TRACK, .id = pub->transport, .track_spec = rt};
    return media_post(m, pub->worker, &cmd);
}

/* The publisher's tracks after an accepted offer: an m-line that still sends under the
 * same SSRC keeps its track; a new one starts a track (when it names its SSRCs: a=ssrc
 * lines, as every browser writes them without simulcast; a simulcast one, whose SSRCs
 * the worker learns, is known by its mid alone); the others end. */
static void update_tracks(media_t *m, media_publisher_t *pub, const sdp_t *offer,
                          const sdp_t *answer, int video_kbps, media_publish_result_t *out)
{
    media_track_t *next = xcalloc(MEDIA_MAX_TRACKS, sizeof *next);
    size_t n = 0;
    bool kept[MEDIA_MAX_TRACKS] = {false};
    for (size_t i = 0; i < answer->nmedia && i < offer->nmedia; i++) {
        const sdp_media_t *am = &answer->media[i], *om = &offer->media[i];
        if (!sends(om, am)) continue;
        uint32_t in_ssrc, in_rtx;
        sender_ssrcs(om, &in_ssrc, &in_rtx);
        bool simulcast = am->kind == SDP_KIND_VIDEO && am->nsim_recv >= 2;
        if (simulcast) in_ssrc = in_rtx = 0;
        if (!in_ssrc && !simulcast) {
            log_warn("media: m-line %zu (%s) names no SSRC: not forwarded", i + 1,
                     sdp_kind_name(am->kind));
            continue;
        }
        size_t k = 0;
        while (k < pub->ntracks && (kept[k] || strcmp(pub->tracks[k].mid, am->mid) ||
                                    pub->tracks[k].in_ssrc != in_ssrc))
            k++;
        if (n == MEDIA_MAX_TRACKS) break;
        if (k < pub->ntracks) {
            kept[k] = true;
            next[n++] = pub->tracks[k];
        } else if (start_track(m, pub, am, in_ssrc, in_rtx, video_kbps, &next[n]) == 0) {
            out->added[out->nadded++] = n++;
        }
    }
    out->ended = xcalloc(MEDIA_MAX_TRACKS, sizeof *out->ended);
    for (size_t k = 0; k < pub->ntracks; k++) {
        if (kept[k]) continue;
        media_end_track(m, &pub->tracks[k]);
        out->ended[out->nended++] = pub->tracks[k];
    }
    free(pub->tracks);
    pub->tracks = next;
    pub->ntracks = n;
}

static void fill_params(const media_publisher_t *pub, const sdp_t *offer, transport_params_t *tp)
{
    snprintf(tp->local_ufrag, sizeof tp->local_ufrag, "%s", pub->ufrag);
    snprintf(tp->local_pwd, sizeof tp->local_pwd, "%s", pub->pwd);
    snprintf(tp->remote_ufrag, sizeof tp->remote_ufrag, "%s", offer->ice_ufrag);
    snprintf(tp->remote_pwd, sizeof tp->remote_pwd, "%s", offer->ice_pwd);
    snprintf(tp->remote_fingerprint, sizeof tp->remote_fingerprint, "%s", offer->fingerprint);
}

static int restart_ice(media_t *m, media_publisher_t *pub, const sdp_t *offer,
                       worker_transport_spec_t *spec)
{
    spec->id = pub->transport;
    fill_params(pub, offer, &spec->params);
    worker_cmd_t cmd = {.kind = WORKER_CMD_RESTART_ICE, .add = spec};
    if (worker_post(m->workers[pub->worker], &cmd) != 0) return -1;
    snprintf(pub->remote_ufrag, sizeof pub->remote_ufrag, "%s", offer->ice_ufrag);
    return 0;
}

static int add_transport(media_t *m, media_publisher_t *pub, const sdp_t *offer,
                         worker_transport_spec_t *spec)
{
    spec->id = ++m->next_transport;
    fill_params(pub, offer, &spec->params);
    uint64_t id = spec->id;
    worker_cmd_t cmd = {.kind = WORKER_CMD_ADD_TRANSPORT, .add = spec};
    if (worker_post(m->workers[pub->worker], &cmd) != 0) return -1;
    pub->transport = id;
    snprintf(pub->remote_ufrag, sizeof pub->remote_ufrag, "%s", offer->ice_ufrag);
    return 0;
}

/* What the participant publishes: the kinds of the m-lines it sends and we accepted. */
static void kinds_accepted(const sdp_t *offer, const sdp_t *answer, media_publish_result_t *out)
{
    for (size_t i = 0; i < answer->nmedia && i < offer->nmedia; i++) {
        if (!sends(&offer->media[i], &answer->media[i])) continue;
        if (answer->media[i].kind == SDP_KIND_AUDIO) out->audio = true;
        if (answer->media[i].kind == SDP_KIND_VIDEO) out->video = true;
    }
}

/* Whether an offer comes from Firefox: its o= line (the second) starts "o=mozilla". */
static bool from_firefox(const char *text, size_t len)
{
    static const char mark[] = "\no=mozilla";
    for (size_t i = 0; i + sizeof mark - 1 <= len && i < 64; i++)
        if (!memcmp(text + i, mark, sizeof mark - 1)) return true;
    return false;
}

int media_publish(media_t *m, const char *room, const char *peer_id, const config_room_t *caps,
                  media_publisher_t *pub, const char *offer_text, size_t offer_len,
                  media_publish_result_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    sdp_t *offer = xmalloc(sizeof *offer), *answer = xmalloc(sizeof *answer);
    worker_transport_spec_t *spec = xcalloc(1, sizeof *spec);
    char *text = xmalloc(SDP_MAX_LEN);
    bool first = pub->transport == 0;
    if (sdp_parse(offer_text, offer_len, offer, err, errlen) != 0) goto done;
    if (!first && caps->echo) {
        snprintf(err, errlen, "renegotiating an echo room's connection is not supported");
        goto done;
    }
    /* A new ufrag is an ICE restart (RFC 8839 section 4.4.1.1.1): ours change too. */
    bool restart = !first && strcmp(offer->ice_ufrag, pub->remote_ufrag) != 0;
    char ufrag[ICE_UFRAG_LEN + 1], pwd[ICE_PWD_LEN + 1];
    if (first || restart) {
        ice_gen_credentials(ufrag, pwd);
    } else {
        memcpy(ufrag, pub->ufrag, sizeof ufrag);
        memcpy(pwd, pub->pwd, sizeof pwd);
    }
    if (first) pub->worker = media_worker_for(m, room);
    sdp_answer_params_t ap = {
        .ice_ufrag = ufrag,
        .ice_pwd = pwd,
        .fingerprint = dtls_cert_fingerprint(m->cert),
        .cand_addrs = (const char *const *)m->addrs,
        .ncand = m->n_addrs,
        .port = (uint16_t)(m->cfg->media_port + pub->worker),
        .session_id = ((uint64_t)media_random_ssrc() << 20) ^ media_random_ssrc(),
        .allow_video = caps->video,
        .cname = "sobre",
        .stream_id = peer_id,
        .audio_kbps = (unsigned)caps->audio_kbps,
        .video_kbps = (unsigned)caps->video_kbps,
        /* Not for Firefox (its offers' o= line says "mozilla"): publishing with
         * transport-cc, Firefox 115's video reached subscribers with a seventh of its
         * frames missing in e2e.room_mixed (3 runs in 8; never with REMB alone). To be
         * understood; Chromium does well with it. */
        .twcc = !from_firefox(offer_text, offer_len),
    };
    if (caps->echo) {
        ap.echo = true;
        fill_echo(offer, spec, &ap);
    }
    if (sdp_answer(offer, &ap, text, SDP_MAX_LEN, err, errlen) != 0) goto done;
    char perr[160];
    if (sdp_parse(text, strlen(text), answer, perr, sizeof perr) != 0) {
        snprintf(err, errlen, "internal: the answer does not parse: %s", perr);
        log_error("media: %s", err);
        goto done;
    }
    kinds_accepted(offer, answer, out);
    for (size_t i = 0; i < offer->nmedia; i++)
        if (offer->media[i].kind == SDP_KIND_VIDEO && offer->media[i].port != 0 && !caps->video)
            out->video_rejected = true;
    char old_ufrag[sizeof pub->ufrag], old_pwd[sizeof pub->pwd];
    memcpy(old_ufrag, pub->ufrag, sizeof old_ufrag);
    memcpy(old_pwd, pub->pwd, sizeof old_pwd);
    memcpy(pub->ufrag, ufrag, sizeof ufrag);
    memcpy(pub->pwd, pwd, sizeof pwd);
    if (restart) {
        if (restart_ice(m, pub, offer, spec) != 0) {
            memcpy(pub->ufrag, old_ufrag, sizeof old_ufrag);
            memcpy(pub->pwd, old_pwd, sizeof old_pwd);
            snprintf(err, errlen, "internal: media worker %d is overloaded, try again",
                     pub->worker);
            goto done;
        }
        spec = NULL; /* the worker owns it now */
    }
    if (first) {
        if (add_transport(m, pub, offer, spec) != 0) {
            snprintf(err, errlen, "internal: media worker %d is overloaded, try again",
                     pub->worker);
            goto done;
        }
        spec = NULL; /* the worker owns it now */
    }
    if (!caps->echo) update_tracks(m, pub, offer, answer, caps->video_kbps, out);
    out->answer = text;
    text = NULL;
    rc = 0;
done:
    free(offer);
    free(answer);
    free(spec);
    free(text);
    return rc;
}

void media_publisher_release(media_t *m, media_publisher_t *pub)
{
    if (pub->transport) media_close(m, pub->worker, pub->transport);
    free(pub->tracks);
    memset(pub, 0, sizeof *pub);
}

void media_close(media_t *m, int worker, uint64_t transport)
{
    if (worker < 0 || worker >= m->n_workers) return;
    worker_cmd_t cmd = {.kind = WORKER_CMD_REMOVE_TRANSPORT, .id = transport};
    if (worker_post(m->workers[worker], &cmd) != 0)
        log_warn("media: worker %d queue full: transport %llu not closed", worker,
                 (unsigned long long)transport);
}

int media_post(media_t *m, int worker, worker_cmd_t *cmd)
{
    if (worker >= 0 && worker < m->n_workers && worker_post(m->workers[worker], cmd) == 0) return 0;
    log_warn("media: worker %d queue full: command %d dropped", worker, (int)cmd->kind);
    worker_cmd_release(cmd);
    return -1;
}

uint64_t media_next_transport_id(media_t *m)
{
    return ++m->next_transport;
}

int media_port(const media_t *m, int worker)
{
    return m->cfg->media_port + worker;
}

void media_end_track(media_t *m, const media_track_t *t)
{
    worker_cmd_t cmd = {.kind = WORKER_CMD_REMOVE_TRACK, .track = t->id};
    media_post(m, t->worker, &cmd);
}

void media_mute_track(media_t *m, const media_track_t *t, bool muted)
{
    worker_cmd_t cmd = {.kind = WORKER_CMD_MUTE, .track = t->id, .muted = muted};
    media_post(m, t->worker, &cmd);
}

int media_next_event(media_t *m, worker_event_t *ev)
{
    for (int i = 0; i < m->n_workers; i++) {
        while (worker_next_event(m->workers[i], ev)) {
            if (ev->kind != WORKER_EV_PONG) return 1;
            m->ready++;
            log_debug("media worker %d ready", ev->worker);
        }
    }
    return 0;
}

int media_workers(const media_t *m)
{
    return m->n_workers;
}

void media_worker_stats(const media_t *m, int worker, worker_stats_t *out)
{
    worker_get_stats(m->workers[worker], out);
}

int media_workers_ready(const media_t *m)
{
    return m->ready;
}

const char *media_fingerprint(const media_t *m)
{
    return dtls_cert_fingerprint(m->cert);
}

size_t media_addresses(const media_t *m, const char *const **addrs)
{
    *addrs = (const char *const *)m->addrs;
    return m->n_addrs;
}
