/* The server's SDP answer to a publish offer (JSEP RFC 8829 section 5.3); see sdp.h. */
#include "sdp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sdp_write.h"

#define MAX_CANDIDATES 32
#define ECHO_STREAM    "sobre-echo"
#define OPUS_MIN_BPS   6000
#define OPUS_MAX_BPS   510000

/* What the answer does with one offered m-line. */
typedef struct plan {
    bool accept;
    sdp_dir_t dir;
    bool has_rtx;
    size_t ncodecs;
    size_t codecs[SDP_MAX_CODECS];      /* indices into the offer's codecs, in offer order */
    size_t nlayers;                     /* simulcast streams received, 0: none */
    const char *layers[SDP_MAX_LAYERS]; /* their rids, in the offer's a=simulcast order */
} plan_t;

/* ---- parameter checks ------------------------------------------------------------ */

static int check_params(const sdp_answer_params_t *p, char *err, size_t errlen)
{
    int rc = sdp_check_local(p->ice_ufrag, p->ice_pwd, p->fingerprint, err, errlen);
    if (rc != 0) return rc;
    if (p->ncand > MAX_CANDIDATES || (p->ncand && (!p->cand_addrs || p->port == 0)))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "candidates: at most %d, with a port",
                        MAX_CANDIDATES);
    for (size_t i = 0; i < p->ncand; i++) {
        unsigned char a[sizeof(struct in6_addr)];
        const char *s = p->cand_addrs[i];
        if (!s || (inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1))
            return sdp_fail(err, errlen, SDP_ERR_INVAL, "cand_addrs[%zu]: not a numeric IP address",
                            i);
    }
    if (p->cname && !sdp_visible_ok(p->cname, 64, ""))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "cname: 1..64 visible ASCII characters");
    if (p->stream_id && !sdp_visible_ok(p->stream_id, 64, ""))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "stream_id: 1..64 visible ASCII characters");
    return 0;
}

/* ---- codec choice ---------------------------------------------------------------- */

static bool codec_is(const sdp_codec_t *c, const char *name, uint32_t clock, uint8_t channels)
{
    return strcasecmp(c->name, name) == 0 && c->clock == clock &&
           (channels == 0 || c->channels == channels);
}

/* Copies the value of key from fmtp parameters "k1=v1;k2=v2" into val[cap]. */
static bool fmtp_get(const char *fmtp, const char *key, char *val, size_t cap)
{
    size_t klen = strlen(key);
    const char *q = fmtp;
    while (*q) {
        while (*q == ' ' || *q == ';')
            q++;
        const char *e = strchr(q, ';');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        if (n > klen && strncasecmp(q, key, klen) == 0 && q[klen] == '=') {
            size_t vlen = n - klen - 1;
            while (vlen && q[klen + vlen] == ' ')
                vlen--;
            if (vlen >= cap) return false;
            memcpy(val, q + klen + 1, vlen);
            val[vlen] = '\0';
            return true;
        }
        q += n;
    }
    return false;
}

/* RED's fmtp lists the redundant encodings ("111/111"); it must only name Opus. */
static bool red_uses_only(const sdp_codec_t *red, unsigned pt)
{
    const char *q = red->fmtp;
    while (*q) {
        unsigned v = 0;
        size_t digits = 0;
        for (; *q >= '0' && *q <= '9' && digits < 4; q++, digits++)
            v = v * 10 + (unsigned)(*q - '0');
        if (!digits || v != pt) return false;
        if (*q == '/')
            q++;
        else if (*q)
            return false;
    }
    return true;
}

/* Constrained baseline at level 3.1 is what every browser decodes; other baseline-family
 * profiles come next, main and high are not accepted (a subscriber may lack them). */
static int h264_rank(const sdp_codec_t *c)
{
    char pm[8], plid[8];
    if (!codec_is(c, "H264", 90000, 0)) return 0;
    if (!fmtp_get(c->fmtp, "packetization-mode", pm, sizeof pm) || strcmp(pm, "1") != 0) return 0;
    if (!fmtp_get(c->fmtp, "profile-level-id", plid, sizeof plid) || strlen(plid) != 6) return 0;
    if (strcasecmp(plid, "42e01f") == 0) return 3;
    if (strcasecmp(plid, "42001f") == 0) return 2;
    return strncasecmp(plid, "42", 2) == 0 ? 1 : 0;
}

static void choose_audio(const sdp_media_t *m, plan_t *pl)
{
    int opus = -1, red = -1;
    for (size_t i = 0; i < m->ncodecs && opus < 0; i++)
        if (codec_is(&m->codecs[i], "opus", 48000, 2)) opus = (int)i;
    if (opus < 0) return;
    for (size_t i = 0; i < m->ncodecs && red < 0; i++)
        if (codec_is(&m->codecs[i], "red", 48000, 2) &&
            red_uses_only(&m->codecs[i], m->codecs[opus].pt))
            red = (int)i;
    for (size_t i = 0; i < m->ncodecs; i++)
        if ((int)i == opus || (int)i == red) pl->codecs[pl->ncodecs++] = i;
}

static void choose_video(const sdp_media_t *m, plan_t *pl)
{
    int vp8 = -1, h264 = -1, best = 0;
    for (size_t i = 0; i < m->ncodecs; i++) {
        int r = h264_rank(&m->codecs[i]);
        if (vp8 < 0 && codec_is(&m->codecs[i], "VP8", 90000, 0)) vp8 = (int)i;
        if (r > best) {
            best = r;
            h264 = (int)i;
        }
    }
    bool rtx_vp8 = false, rtx_h264 = false;
    for (size_t i = 0; i < m->ncodecs; i++) {
        const sdp_codec_t *c = &m->codecs[i];
        bool take = (int)i == vp8 || (int)i == h264;
        if (codec_is(c, "rtx", 90000, 0) && c->apt >= 0) {
            if (vp8 >= 0 && !rtx_vp8 && c->apt == m->codecs[vp8].pt) take = rtx_vp8 = true;
            if (h264 >= 0 && !rtx_h264 && c->apt == m->codecs[h264].pt) take = rtx_h264 = true;
        }
        if (take) pl->codecs[pl->ncodecs++] = i;
    }
    pl->has_rtx = rtx_vp8 || rtx_h264;
}

static bool sends_rid(const sdp_media_t *m, const char *rid)
{
    for (size_t i = 0; i < m->nrids; i++)
        if (m->rids[i].send && strcmp(m->rids[i].id, rid) == 0) return true;
    return false;
}

/* The simulcast streams to receive: the offer's send list (its a=rid send lines only), up
 * to SDP_MAX_LAYERS; fewer than two is no simulcast. */
static void choose_layers(const sdp_media_t *m, plan_t *pl)
{
    for (size_t i = 0; i < m->nsim_send && pl->nlayers < SDP_MAX_LAYERS; i++)
        if (sends_rid(m, m->sim_send[i])) pl->layers[pl->nlayers++] = m->sim_send[i];
    if (pl->nlayers < 2) pl->nlayers = 0;
}

static sdp_dir_t answer_dir(sdp_dir_t offered, bool echo)
{
    switch (offered) {
    case SDP_DIR_SENDONLY:
        return SDP_DIR_RECVONLY;
    case SDP_DIR_SENDRECV:
        return echo ? SDP_DIR_SENDRECV : SDP_DIR_RECVONLY;
    default:
        return SDP_DIR_INACTIVE;
    }
}

static bool in_bundle(const sdp_t *o, const char *mid)
{
    for (size_t i = 0; i < o->nbundle; i++)
        if (strcmp(o->bundle[i], mid) == 0) return true;
    return false;
}

/* Decides every m-line; an m-line to be accepted that the server cannot use is an
 * error, not a rejection, so that the client learns why. */
static int make_plans(const sdp_t *o, const sdp_answer_params_t *p, plan_t *plans, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < o->nmedia; i++) {
        const sdp_media_t *m = &o->media[i];
        plan_t *pl = &plans[i];
        memset(pl, 0, sizeof *pl);
        size_t plen = strlen(m->proto);
        bool savpf = plen >= 9 && strcmp(m->proto + plen - 9, "RTP/SAVPF") == 0;
        if ((m->port == 0 && !m->bundle_only) || !savpf) continue;
        if (m->kind == SDP_KIND_AUDIO)
            choose_audio(m, pl);
        else if (m->kind == SDP_KIND_VIDEO && p->allow_video)
            choose_video(m, pl);
        if (pl->ncodecs && m->kind == SDP_KIND_VIDEO && !p->echo) choose_layers(m, pl);
        if (pl->ncodecs == 0) continue;
        pl->accept = true;
        pl->dir = answer_dir(m->dir, p->echo);
        const char *setup = m->setup[0] ? m->setup : o->setup;
        if (!m->rtcp_mux)
            return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                            "line %d: m-line %zu (%s): a=rtcp-mux is required", m->line, i + 1,
                            m->kind_name);
        if (!strcmp(setup, "passive") || !strcmp(setup, "holdconn"))
            return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                            "line %d: m-line %zu (%s): a=setup:%s, but the server is the DTLS "
                            "server (offer actpass or active)",
                            m->line, i + 1, m->kind_name, setup);
        if (!o->nbundle)
            return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                            "no a=group:BUNDLE in the offer (BUNDLE is required)");
        if (!in_bundle(o, m->mid))
            return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                            "line %d: m-line %zu (%s): mid '%s' is not in the BUNDLE group",
                            m->line, i + 1, m->kind_name, m->mid);
        if (p->echo && pl->dir == SDP_DIR_SENDRECV && p->echo_ssrc[i][0] == 0)
            return sdp_fail(err, errlen, SDP_ERR_INVAL, "echo_ssrc[%zu]: media SSRC is 0", i);
    }
    return 0;
}

/* ---- writing --------------------------------------------------------------------- */

static void put_codec(sdp_writer_t *w, const sdp_codec_t *c, unsigned audio_kbps, bool twcc)
{
    sdp_put(w, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock);
    if (c->channels > 1) sdp_put(w, "/%u", c->channels);
    sdp_put(w, "\r\n");
    static const struct {
        unsigned flag;
        const char *text;
    } fbs[] = {{SDP_FB_GOOG_REMB, "goog-remb"},
               {SDP_FB_CCM_FIR, "ccm fir"},
               {SDP_FB_NACK, "nack"},
               {SDP_FB_NACK_PLI, "nack pli"}};
    bool rtx = strcasecmp(c->name, "rtx") == 0; /* feedback is about the media it repairs */
    for (size_t i = 0; i < sizeof fbs / sizeof fbs[0] && !rtx; i++)
        if (c->fb & fbs[i].flag) sdp_put(w, "a=rtcp-fb:%u %s\r\n", c->pt, fbs[i].text);
    if (twcc && !rtx && (c->fb & SDP_FB_TRANSPORT_CC))
        sdp_put(w, "a=rtcp-fb:%u transport-cc\r\n", c->pt);
    if (codec_is(c, "opus", 48000, 2)) {
        sdp_put(w, "a=fmtp:%u minptime=10;useinbandfec=1;usedtx=1", c->pt);
        if (audio_kbps) {
            unsigned long bps = (unsigned long)audio_kbps * 1000;
            bps = bps < OPUS_MIN_BPS ? OPUS_MIN_BPS : bps > OPUS_MAX_BPS ? OPUS_MAX_BPS : bps;
            sdp_put(w, ";maxaveragebitrate=%lu", bps);
        }
        sdp_put(w, "\r\n");
    } else if (rtx) {
        sdp_put(w, "a=fmtp:%u apt=%d\r\n", c->pt, c->apt);
    } else if (c->fmtp[0] && strcasecmp(c->name, "VP8") != 0) {
        sdp_put(w, "a=fmtp:%u %s\r\n", c->pt, c->fmtp); /* H264, RED: the offer's own */
    }
}

/* Simulcast's rid extensions are accepted only where simulcast is (the last two). */
static void put_extmaps(sdp_writer_t *w, const sdp_media_t *m, bool simulcast, bool twcc)
{
    static const char *const accepted[] = {SDP_EXT_MID,          SDP_EXT_AUDIO_LEVEL,
                                           SDP_EXT_VIDEO_ORIENT, SDP_EXT_ABS_SEND_TIME,
                                           SDP_EXT_RID,          SDP_EXT_REPAIRED_RID};
    size_t naccepted = sizeof accepted / sizeof accepted[0] - (simulcast ? 0 : 2);
    for (size_t i = 0; i < m->nextmaps; i++) {
        const sdp_extmap_t *e = &m->extmaps[i];
        for (size_t k = 0; k < naccepted + twcc; k++) {
            if (strcmp(e->uri, k < naccepted ? accepted[k] : SDP_EXT_TRANSPORT_CC) != 0) continue;
            sdp_put(w, "a=extmap:%u", e->id);
            /* The answer's direction is the offer's seen from this side. */
            if (e->dir_set)
                sdp_put(w, "/%s",
                        sdp_dir_name(e->dir == SDP_DIR_SENDONLY   ? SDP_DIR_RECVONLY
                                     : e->dir == SDP_DIR_RECVONLY ? SDP_DIR_SENDONLY
                                                                  : e->dir));
            sdp_put(w, " %s\r\n", e->uri);
        }
    }
}

static void put_candidates(sdp_writer_t *w, const sdp_answer_params_t *p)
{
    for (size_t i = 0; i < p->ncand; i++) {
        /* RFC 8445 section 5.1.2.1: host type preference 126, local preference falling
         * with the list order, component 1. */
        unsigned prio = 126u << 24 | (65535u - (unsigned)i) << 8 | 255u;
        sdp_put(w, "a=candidate:%zu 1 udp %u %s %u typ host\r\n", i + 1, prio, p->cand_addrs[i],
                p->port);
    }
    sdp_put(w, "a=end-of-candidates\r\n");
}

static void put_accepted(sdp_writer_t *w, const sdp_media_t *m, const plan_t *pl,
                         const sdp_answer_params_t *p, const uint32_t ssrc[2])
{
    sdp_put(w, "m=%s 9 UDP/TLS/RTP/SAVPF", m->kind_name);
    for (size_t k = 0; k < pl->ncodecs; k++)
        sdp_put(w, " %u", m->codecs[pl->codecs[k]].pt);
    sdp_put(w, "\r\nc=IN IP4 0.0.0.0\r\n");
    unsigned kbps = m->kind == SDP_KIND_AUDIO ? p->audio_kbps : p->video_kbps;
    if (kbps) sdp_put(w, "b=AS:%u\r\nb=TIAS:%llu\r\n", kbps, (unsigned long long)kbps * 1000);
    sdp_put(w, "a=mid:%s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\n", m->mid,
            p->ice_ufrag, p->ice_pwd, p->fingerprint);
    sdp_put(w, "a=setup:passive\r\na=%s\r\na=rtcp-mux\r\n", sdp_dir_name(pl->dir));
    if (m->rtcp_rsize) sdp_put(w, "a=rtcp-rsize\r\n");
    /* Transport-wide congestion control: the server tells the publisher when each packet
     * arrived (sfu/uplink.h), and its browser's estimate follows (not in echo rooms:
     * the echo is no place to measure). */
    bool twcc = p->twcc && !p->echo;
    for (size_t k = 0; k < pl->ncodecs; k++)
        put_codec(w, &m->codecs[pl->codecs[k]], m->kind == SDP_KIND_AUDIO ? p->audio_kbps : 0,
                  twcc);
    put_extmaps(w, m, pl->nlayers > 0, twcc);
    for (size_t k = 0; k < pl->nlayers; k++)
        sdp_put(w, "a=rid:%s recv\r\n", pl->layers[k]);
    for (size_t k = 0; k < pl->nlayers; k++)
        sdp_put(w, k ? ";%s" : "a=simulcast:recv %s", pl->layers[k]);
    if (pl->nlayers) sdp_put(w, "\r\n");
    if (p->echo && pl->dir == SDP_DIR_SENDRECV) {
        const char *cname = p->cname ? p->cname : "sobre";
        bool rtx = pl->has_rtx && ssrc[1];
        sdp_put(w, "a=msid:%s %s\r\n", p->stream_id ? p->stream_id : ECHO_STREAM, m->mid);
        if (rtx) sdp_put(w, "a=ssrc-group:FID %u %u\r\n", ssrc[0], ssrc[1]);
        sdp_put(w, "a=ssrc:%u cname:%s\r\n", ssrc[0], cname);
        if (rtx) sdp_put(w, "a=ssrc:%u cname:%s\r\n", ssrc[1], cname);
    }
    put_candidates(w, p);
}

int sdp_answer(const sdp_t *offer, const sdp_answer_params_t *p, char *out, size_t cap, char *err,
               size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!offer || !p || !out || offer->nmedia > SDP_PUB_MEDIA)
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "invalid argument");
    if (cap == 0) return sdp_fail(err, errlen, SDP_ERR_NOSPACE, "answer does not fit in 0 bytes");
    out[0] = '\0';
    int rc = check_params(p, err, errlen);
    if (rc) return rc;
    plan_t plans[SDP_PUB_MEDIA];
    if ((rc = make_plans(offer, p, plans, err, errlen))) return rc;

    sdp_writer_t w = {.buf = out, .cap = cap};
    sdp_put(&w, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
            (unsigned long long)p->session_id);
    bool any = false;
    for (size_t i = 0; i < offer->nmedia; i++) {
        if (!plans[i].accept) continue;
        sdp_put(&w, any ? " %s" : "a=group:BUNDLE %s", offer->media[i].mid);
        any = true;
    }
    if (any) sdp_put(&w, "\r\n");
    for (size_t i = 0; i < offer->nmedia; i++) {
        const sdp_media_t *m = &offer->media[i];
        if (plans[i].accept) {
            put_accepted(&w, m, &plans[i], p, p->echo_ssrc[i]);
            continue;
        }
        /* JSEP section 5.3.1: rejected, port 0, the offer's proto and a format, mid kept. */
        sdp_put(&w, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n", m->kind_name, m->proto,
                m->fmt0, m->mid);
    }
    if (w.full) {
        out[0] = '\0';
        return sdp_fail(err, errlen, SDP_ERR_NOSPACE, "answer does not fit in %zu bytes", cap);
    }
    return 0;
}
