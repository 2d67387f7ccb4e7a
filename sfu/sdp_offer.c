/* The server's offers on a subscribe connection and the answers to them; see sdp_offer.h. */
#include "sdp_offer.h"

#include "mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdp_write.h"

#define MAX_IDENTS 32 /* distinct codecs on one connection */
#define NO_PT      (-1)

/* One codec identity of the connection and the payload types it holds for good. */
typedef struct ident {
    char name[16];
    uint32_t clock;
    uint8_t channels;
    char fmtp[256]; /* as offered (RED's names subscriber payload types) */
    uint8_t pt;
    int rtx_pt; /* NO_PT until a track needs it */
} ident_t;

/* How the latest offer showed a slot's m-line. */
enum seen { SEEN_NONE, SEEN_ACTIVE, SEEN_CLOSED, SEEN_DISABLED };

typedef struct slot {
    unsigned mid;
    sdp_kind_t kind;
    bool has_track;     /* else the track ended; the data below is the last track's */
    bool track_offered; /* the current track was in an offer */
    bool rejected;      /* an answer rejected the m-line: it is dead until recycled */
    uint8_t seen;       /* enum seen */
    unsigned seen_mid;  /* the mid the latest offer showed */
    char peer[SDP_SUB_PEER_MAX + 1], track[SDP_SUB_TRACK_MAX + 1];
    uint32_t ssrc, rtx_ssrc;
    size_t ncodecs;
    struct {
        uint8_t ident, pub_pt;
        int pub_rtx;
        unsigned fb;
    } codecs[SDP_SUB_MAX_CODECS];
    size_t nexts;
    struct {
        uint8_t ext, pub_id; /* ext: index into sdp_sub.exts */
    } exts[SDP_SUB_MAX_EXTS];
    /* From the latest answer to an offer that carried the current track. */
    bool answered, accepted;
    uint32_t pts_ok[4]; /* bitmap of accepted subscriber payload types */
    uint8_t ext_id[SDP_SUB_MAX_EXTS];
} slot_t;

struct sdp_sub {
    char ufrag[65], pwd[129], fingerprint[104], cname[65];
    char cands[SDP_SUB_MAX_CANDS][INET6_ADDRSTRLEN];
    size_t ncand;
    uint16_t port;
    uint64_t session_id, version;
    bool pending;
    unsigned next_mid;
    size_t noffered;    /* slots in the latest offer: they are slots[0..noffered) */
    size_t nslots, cap; /* slots grow on demand, up to SDP_SUB_MAX_SLOTS */
    slot_t *slots;
    size_t nidents;
    ident_t idents[MAX_IDENTS];
    size_t nexts;
    struct {
        char uri[128];
        uint8_t id;
    } exts[SDP_SUB_MAX_EXTS];
    char remote_ufrag[65], remote_pwd[129], remote_fp[128];
};

/* ---- validation ------------------------------------------------------------------ */

/* RFC 8866 token-char, what msid ids are made of (so that the offer parses back). */
static bool token(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
              c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
              (c >= 0x5e && c < 0x7f)))
            return false;
    }
    return true;
}

/* fmtp parameters: printable, spaces allowed inside, at most 255 characters. */
static bool fmtp_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > 255 || (n && (s[0] == ' ' || s[n - 1] == ' '))) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

static int check_params(const sdp_sub_params_t *p, char *err, size_t errlen)
{
    if (!p) return sdp_fail(err, errlen, SDP_ERR_INVAL, "invalid argument");
    int rc = sdp_check_local(p->ice_ufrag, p->ice_pwd, p->fingerprint, err, errlen);
    if (rc != 0) return rc;
    if (p->ncand > SDP_SUB_MAX_CANDS || (p->ncand && (!p->cand_addrs || p->port == 0)))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "candidates: at most %d, with a port",
                        SDP_SUB_MAX_CANDS);
    for (size_t i = 0; i < p->ncand; i++) {
        unsigned char a[sizeof(struct in6_addr)];
        const char *s = p->cand_addrs[i];
        if (!s || strlen(s) >= INET6_ADDRSTRLEN ||
            (inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1))
            return sdp_fail(err, errlen, SDP_ERR_INVAL, "cand_addrs[%zu]: not a numeric IP address",
                            i);
    }
    if (p->cname && !sdp_visible_ok(p->cname, 64, ""))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "cname: 1..64 visible ASCII characters");
    return 0;
}

static const slot_t *find_track(const sdp_sub_t *s, const char *track_id)
{
    for (size_t i = 0; track_id && i < s->nslots; i++)
        if (s->slots[i].has_track && strcmp(s->slots[i].track, track_id) == 0) return &s->slots[i];
    return NULL;
}

static int check_track(const sdp_sub_t *s, const sdp_sub_track_t *t, char *err, size_t errlen)
{
    if (!t) return sdp_fail(err, errlen, SDP_ERR_INVAL, "invalid argument");
    if (t->kind != SDP_KIND_AUDIO && t->kind != SDP_KIND_VIDEO)
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "kind: audio or video");
    if (!token(t->peer_id, SDP_SUB_PEER_MAX))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "peer_id: 1..%d token characters",
                        SDP_SUB_PEER_MAX);
    if (!token(t->track_id, SDP_SUB_TRACK_MAX))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "track_id: 1..%d token characters",
                        SDP_SUB_TRACK_MAX);
    const slot_t *dup = find_track(s, t->track_id);
    if (dup)
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "track_id: '%s' is already on mid '%u'",
                        t->track_id, dup->mid);
    if (t->ssrc == 0 || t->rtx_ssrc == t->ssrc)
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "ssrc: non-zero and distinct from rtx_ssrc");
    for (size_t i = 0; i < s->nslots; i++) {
        const slot_t *o = &s->slots[i];
        if (!o->has_track) continue;
        uint32_t a[2] = {t->ssrc, t->rtx_ssrc};
        for (int k = 0; k < 2; k++)
            if (a[k] && (a[k] == o->ssrc || a[k] == o->rtx_ssrc))
                return sdp_fail(err, errlen, SDP_ERR_INVAL, "ssrc: %u already used by track '%s'",
                                a[k], o->track);
    }
    if (t->ncodecs == 0 || t->ncodecs > SDP_SUB_MAX_CODECS || !t->codecs)
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "codecs: 1..%d", SDP_SUB_MAX_CODECS);
    for (size_t i = 0; i < t->ncodecs; i++) {
        const sdp_sub_codec_t *c = &t->codecs[i];
        if (!sdp_visible_ok(c->name, 15, "/") || strcasecmp(c->name, "rtx") == 0)
            return sdp_fail(err, errlen, SDP_ERR_INVAL,
                            "codecs[%zu]: name: 1..15 visible characters, not \"rtx\"", i);
        if (c->clock == 0 || c->pt > 127 || c->rtx_pt < NO_PT || c->rtx_pt > 127 ||
            c->rtx_pt == c->pt)
            return sdp_fail(err, errlen, SDP_ERR_INVAL,
                            "codecs[%zu]: clock > 0, payload types 0..127 (rtx_pt -1 or another)",
                            i);
        if (c->fmtp && !fmtp_ok(c->fmtp))
            return sdp_fail(err, errlen, SDP_ERR_INVAL,
                            "codecs[%zu]: fmtp: at most 255 printable characters", i);
    }
    if (t->nexts > SDP_SUB_MAX_EXTS || (t->nexts && !t->exts))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "exts: at most %d", SDP_SUB_MAX_EXTS);
    for (size_t i = 0; i < t->nexts; i++)
        if (!sdp_visible_ok(t->exts[i].uri, 127, "") || t->exts[i].id == 0)
            return sdp_fail(err, errlen, SDP_ERR_INVAL,
                            "exts[%zu]: uri of 1..127 visible characters, id 1..255", i);
    return 0;
}

/* ---- payload types and extension ids ---------------------------------------------- */

static bool pt_used(const sdp_sub_t *s, int pt)
{
    for (size_t i = 0; i < s->nidents; i++)
        if (s->idents[i].pt == pt || s->idents[i].rtx_pt == pt) return true;
    return false;
}

/* The publisher's payload type if free, else the dynamic ranges browsers use (96..127,
 * then 35..63; 64..95 would clash with RTCP under rtcp-mux, RFC 5761 section 4). */
static int alloc_pt(const sdp_sub_t *s, int preferred)
{
    bool rtcp_range = preferred >= 64 && preferred <= 95;
    if (preferred >= 0 && !rtcp_range && !pt_used(s, preferred)) return preferred;
    for (int pt = 96; pt <= 127; pt++)
        if (!pt_used(s, pt)) return pt;
    for (int pt = 35; pt <= 63; pt++)
        if (!pt_used(s, pt)) return pt;
    return NO_PT;
}

static bool is_red(const char *name)
{
    return strcasecmp(name, "red") == 0;
}

/* RED's fmtp "111/111" with the publisher's payload types rewritten through the track's
 * other codecs (interned already); false if it names one the track lacks. Other fmtp are
 * copied unchanged. */
static bool map_fmtp(const sdp_sub_t *s, const slot_t *sl, const sdp_sub_track_t *t,
                     const sdp_sub_codec_t *c, char *out, size_t cap)
{
    const char *f = c->fmtp ? c->fmtp : "";
    if (!is_red(c->name) || !f[0] || strspn(f, "0123456789/") != strlen(f)) {
        snprintf(out, cap, "%s", f);
        return true;
    }
    size_t len = 0;
    out[0] = '\0';
    for (const char *q = f; *q;) {
        char *end;
        long v = strtol(q, &end, 10);
        if (end == q) return false;
        int mapped = NO_PT;
        for (size_t i = 0; i < t->ncodecs && mapped == NO_PT; i++)
            if (!is_red(t->codecs[i].name) && t->codecs[i].pt == v)
                mapped = s->idents[sl->codecs[i].ident].pt;
        if (mapped == NO_PT) return false;
        int n = snprintf(out + len, cap - len, "%s%d", len ? "/" : "", mapped);
        if (n < 0 || (size_t)n >= cap - len) return false;
        len += (size_t)n;
        q = *end == '/' ? end + 1 : end;
    }
    return true;
}

/* Finds or creates the identity of codec c (whose fmtp is already mapped), with an RTX
 * payload type when wanted. */
static int intern_codec(sdp_sub_t *s, const sdp_sub_codec_t *c, const char *fmtp, bool want_rtx,
                        char *err, size_t errlen)
{
    uint8_t channels = c->channels ? c->channels : 1;
    ident_t *id = NULL;
    for (size_t i = 0; i < s->nidents && !id; i++) {
        ident_t *o = &s->idents[i];
        if (strcasecmp(o->name, c->name) == 0 && o->clock == c->clock && o->channels == channels &&
            strcmp(o->fmtp, fmtp) == 0)
            id = o;
    }
    if (!id) {
        int pt = alloc_pt(s, c->pt);
        if (s->nidents == MAX_IDENTS || pt == NO_PT)
            return sdp_fail(err, errlen, SDP_ERR_LIMIT,
                            "codec %s/%u: no payload type left on this connection (%d codecs)",
                            c->name, c->clock, MAX_IDENTS);
        id = &s->idents[s->nidents++];
        memset(id, 0, sizeof *id);
        snprintf(id->name, sizeof id->name, "%s", c->name);
        id->clock = c->clock;
        id->channels = channels;
        snprintf(id->fmtp, sizeof id->fmtp, "%s", fmtp);
        id->pt = (uint8_t)pt;
        id->rtx_pt = NO_PT;
    }
    if (want_rtx && id->rtx_pt == NO_PT) {
        int pt = alloc_pt(s, c->rtx_pt);
        if (pt == NO_PT)
            return sdp_fail(err, errlen, SDP_ERR_LIMIT,
                            "codec %s/%u: no payload type left for its RTX", c->name, c->clock);
        id->rtx_pt = pt;
    }
    return (int)(id - s->idents);
}

static bool ext_id_used(const sdp_sub_t *s, unsigned id)
{
    for (size_t i = 0; i < s->nexts; i++)
        if (s->exts[i].id == id) return true;
    return false;
}

/* One id per URI on the connection (BUNDLE shares one id space, RFC 8843 section 9.1):
 * the publisher's when free, else the lowest free one-byte id. */
static int intern_ext(sdp_sub_t *s, const sdp_sub_ext_t *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->nexts; i++)
        if (strcmp(s->exts[i].uri, e->uri) == 0) return (int)i;
    if (s->nexts == SDP_SUB_MAX_EXTS)
        return sdp_fail(err, errlen, SDP_ERR_LIMIT, "exts: more than %d URIs on this connection",
                        SDP_SUB_MAX_EXTS);
    unsigned id = e->id <= 14 && !ext_id_used(s, e->id) ? e->id : 0;
    for (unsigned k = 1; k <= 14 && !id; k++)
        if (!ext_id_used(s, k)) id = k; /* 14 ids for at most 14 URIs: one is free */
    snprintf(s->exts[s->nexts].uri, sizeof s->exts[0].uri, "%s", e->uri);
    s->exts[s->nexts].id = (uint8_t)id;
    return (int)s->nexts++;
}

/* ---- tracks ---------------------------------------------------------------------- */

sdp_sub_t *sdp_sub_new(const sdp_sub_params_t *p, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (check_params(p, err, errlen)) return NULL;
    sdp_sub_t *s = xcalloc(1, sizeof *s);
    snprintf(s->ufrag, sizeof s->ufrag, "%s", p->ice_ufrag);
    snprintf(s->pwd, sizeof s->pwd, "%s", p->ice_pwd);
    snprintf(s->fingerprint, sizeof s->fingerprint, "%s", p->fingerprint);
    snprintf(s->cname, sizeof s->cname, "%s", p->cname ? p->cname : "sobre");
    for (size_t i = 0; i < p->ncand; i++)
        snprintf(s->cands[i], sizeof s->cands[i], "%s", p->cand_addrs[i]);
    s->ncand = p->ncand;
    s->port = p->port;
    s->session_id = p->session_id;
    return s;
}

void sdp_sub_free(sdp_sub_t *s)
{
    if (s) free(s->slots);
    free(s);
}

/* A slot whose end has been offered, for a new track of this kind; or NULL. */
static slot_t *recyclable(sdp_sub_t *s, sdp_kind_t kind)
{
    for (size_t i = 0; i < s->nslots; i++) {
        slot_t *sl = &s->slots[i];
        if (!sl->has_track && sl->kind == kind &&
            (sl->seen == SEEN_DISABLED || sl->seen == SEEN_CLOSED))
            return sl;
    }
    return NULL;
}

/* Interns the track's codecs and extensions into the connection's tables and fills sl's
 * lists. On failure the tables may hold new entries: the caller rolls them back. */
static int fill_slot(sdp_sub_t *s, slot_t *sl, const sdp_sub_track_t *t, char *err, size_t errlen)
{
    bool rtx = false;
    for (size_t i = 0; i < t->ncodecs; i++)
        rtx |= t->codecs[i].rtx_pt != NO_PT;
    rtx = rtx && t->kind == SDP_KIND_VIDEO && t->rtx_ssrc;
    sl->rtx_ssrc = rtx ? t->rtx_ssrc : 0;
    sl->ncodecs = t->ncodecs;
    /* RED names other codecs' payload types: intern those first. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->ncodecs; i++) {
            const sdp_sub_codec_t *c = &t->codecs[i];
            if (is_red(c->name) != (pass == 1)) continue;
            char fmtp[256];
            if (!map_fmtp(s, sl, t, c, fmtp, sizeof fmtp))
                return sdp_fail(err, errlen, SDP_ERR_INVAL,
                                "codecs[%zu]: red fmtp '%s' names a payload type the track lacks",
                                i, c->fmtp);
            int id = intern_codec(s, c, fmtp, rtx && c->rtx_pt != NO_PT, err, errlen);
            if (id < 0) return id;
            sl->codecs[i].ident = (uint8_t)id;
            sl->codecs[i].pub_pt = c->pt;
            sl->codecs[i].pub_rtx = rtx ? c->rtx_pt : NO_PT;
            sl->codecs[i].fb = c->fb;
        }
    sl->nexts = 0;
    for (size_t i = 0; i < t->nexts; i++) {
        int e = intern_ext(s, &t->exts[i], err, errlen);
        if (e < 0) return e;
        bool dup = false;
        for (size_t k = 0; k < sl->nexts; k++)
            dup |= sl->exts[k].ext == e;
        if (dup) continue;
        sl->exts[sl->nexts].ext = (uint8_t)e;
        sl->exts[sl->nexts].pub_id = t->exts[i].id;
        sl->nexts++;
    }
    return 0;
}

int sdp_sub_add_track(sdp_sub_t *s, const sdp_sub_track_t *t, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!s) return sdp_fail(err, errlen, SDP_ERR_INVAL, "invalid argument");
    int rc = check_track(s, t, err, errlen);
    if (rc) return rc;
    slot_t *sl = recyclable(s, t->kind);
    if (!sl && s->nslots == SDP_SUB_MAX_SLOTS)
        return sdp_fail(err, errlen, SDP_ERR_LIMIT, "no m-line left on this connection (limit %d)",
                        SDP_SUB_MAX_SLOTS);
    /* Built aside, so that a failure changes nothing: payload types and extension ids
     * interned for it are rolled back too. */
    slot_t tmp;
    memset(&tmp, 0, sizeof tmp);
    if (sl) {
        tmp = *sl;
    } else {
        tmp.kind = t->kind;
        tmp.seen = SEEN_NONE;
    }
    size_t nidents = s->nidents, nexts = s->nexts;
    int rtx_pts[MAX_IDENTS];
    for (size_t i = 0; i < nidents; i++)
        rtx_pts[i] = s->idents[i].rtx_pt;
    if ((rc = fill_slot(s, &tmp, t, err, errlen))) {
        for (size_t i = 0; i < nidents; i++)
            s->idents[i].rtx_pt = rtx_pts[i];
        s->nidents = nidents;
        s->nexts = nexts;
        return rc;
    }
    /* A closed m-line comes back as a new m-section under a new mid; the inactive first
     * m-line is the same transceiver and keeps its mid; a new slot takes the next mid. */
    if (!sl || tmp.seen == SEEN_CLOSED) tmp.mid = s->next_mid++;
    tmp.has_track = true;
    tmp.track_offered = false;
    tmp.rejected = false;
    tmp.answered = tmp.accepted = false;
    memset(tmp.pts_ok, 0, sizeof tmp.pts_ok);
    memset(tmp.ext_id, 0, sizeof tmp.ext_id);
    snprintf(tmp.peer, sizeof tmp.peer, "%s", t->peer_id);
    snprintf(tmp.track, sizeof tmp.track, "%s", t->track_id);
    tmp.ssrc = t->ssrc;
    if (!sl) {
        if (s->nslots == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 8;
            if (s->cap > SDP_SUB_MAX_SLOTS) s->cap = SDP_SUB_MAX_SLOTS;
            s->slots = xrealloc(s->slots, s->cap * sizeof *s->slots);
        }
        sl = &s->slots[s->nslots++];
    }
    *sl = tmp;
    return (int)sl->mid;
}

int sdp_sub_remove_track(sdp_sub_t *s, const char *track_id)
{
    slot_t *sl = s ? (slot_t *)find_track(s, track_id) : NULL;
    if (!sl) return SDP_ERR_INVAL;
    size_t i = (size_t)(sl - s->slots);
    if (sl->seen == SEEN_NONE) {
        /* Never offered, so the client never saw it: drop the slot. Such slots are all at
         * the end (every slot is in the offer written after it was made). */
        memmove(sl, sl + 1, (s->nslots - i - 1) * sizeof *sl);
        s->nslots--;
        return 0;
    }
    sl->has_track = false;
    if (!sl->track_offered) sl->mid = sl->seen_mid; /* a recycling nobody saw: undo it */
    return 0;
}

/* ---- the offer ------------------------------------------------------------------- */

/* How the next offer shows a slot. */
static enum seen show(const sdp_sub_t *s, const slot_t *sl)
{
    if (sl->has_track) return sl->rejected ? SEEN_CLOSED : SEEN_ACTIVE;
    /* The first m-line is the BUNDLE tag: keep the transport (see the header), unless the
     * client already killed it. */
    bool tag = sl == &s->slots[0] && !sl->rejected && sl->seen != SEEN_CLOSED;
    return tag ? SEEN_DISABLED : SEEN_CLOSED;
}

static void put_codecs(sdp_writer_t *w, const sdp_sub_t *s, const slot_t *sl, bool with_rtx)
{
    static const struct {
        unsigned flag;
        const char *text;
    } fbs[] = {{SDP_FB_GOOG_REMB, "goog-remb"},
               {SDP_FB_TRANSPORT_CC, "transport-cc"},
               {SDP_FB_CCM_FIR, "ccm fir"},
               {SDP_FB_NACK, "nack"},
               {SDP_FB_NACK_PLI, "nack pli"}};
    for (size_t i = 0; i < sl->ncodecs; i++) {
        bool dup = false; /* two publisher codecs of one identity: one payload type */
        for (size_t k = 0; k < i; k++)
            dup |= sl->codecs[k].ident == sl->codecs[i].ident;
        if (dup) continue;
        const ident_t *c = &s->idents[sl->codecs[i].ident];
        sdp_put(w, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock);
        if (c->channels > 1) sdp_put(w, "/%u", c->channels);
        sdp_put(w, "\r\n");
        for (size_t k = 0; k < sizeof fbs / sizeof fbs[0]; k++)
            if (sl->codecs[i].fb & fbs[k].flag)
                sdp_put(w, "a=rtcp-fb:%u %s\r\n", c->pt, fbs[k].text);
        if (c->fmtp[0]) sdp_put(w, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
        if (with_rtx && sl->codecs[i].pub_rtx != NO_PT)
            sdp_put(w, "a=rtpmap:%d rtx/%u\r\na=fmtp:%d apt=%u\r\n", c->rtx_pt, c->clock, c->rtx_pt,
                    c->pt);
    }
}

static void put_candidates(sdp_writer_t *w, const sdp_sub_t *s)
{
    for (size_t i = 0; i < s->ncand; i++) {
        /* RFC 8445 section 5.1.2.1: host type preference 126, local preference falling
         * with the list order, component 1 (as in the publish answer). */
        unsigned prio = 126u << 24 | (65535u - (unsigned)i) << 8 | 255u;
        sdp_put(w, "a=candidate:%zu 1 udp %u %s %u typ host\r\n", i + 1, prio, s->cands[i],
                s->port);
    }
    sdp_put(w, "a=end-of-candidates\r\n");
}

static void put_slot(sdp_writer_t *w, const sdp_sub_t *s, const slot_t *sl, enum seen how)
{
    const char *kind = sdp_kind_name(sl->kind);
    if (how == SEEN_CLOSED) {
        /* JSEP needs only m=, c= and a=mid in a rejected section, but some stacks
         * (aiortc 1.4) parse every section in full: give them what they look for. */
        const ident_t *c = &s->idents[sl->codecs[0].ident];
        sdp_put(w, "m=%s 0 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 0.0.0.0\r\na=mid:%u\r\n", kind, c->pt,
                sl->mid);
        sdp_put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\n",
                s->ufrag, s->pwd, s->fingerprint);
        sdp_put(w, "a=inactive\r\na=rtcp-mux\r\na=rtpmap:%u %s/%u", c->pt, c->name, c->clock);
        if (c->channels > 1) sdp_put(w, "/%u", c->channels);
        sdp_put(w, "\r\n");
        return;
    }
    bool active = how == SEEN_ACTIVE;
    bool rtx = active && sl->kind == SDP_KIND_VIDEO && sl->rtx_ssrc;
    sdp_put(w, "m=%s 9 UDP/TLS/RTP/SAVPF", kind);
    for (size_t i = 0; i < sl->ncodecs; i++) {
        const ident_t *c = &s->idents[sl->codecs[i].ident];
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup |= sl->codecs[k].ident == sl->codecs[i].ident;
        if (dup) continue;
        sdp_put(w, " %u", c->pt);
        if (rtx && sl->codecs[i].pub_rtx != NO_PT) sdp_put(w, " %d", c->rtx_pt);
    }
    sdp_put(w, "\r\nc=IN IP4 0.0.0.0\r\na=mid:%u\r\n", sl->mid);
    sdp_put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:actpass\r\n",
            s->ufrag, s->pwd, s->fingerprint);
    sdp_put(w, "a=%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n", active ? "sendonly" : "inactive");
    put_codecs(w, s, sl, rtx);
    for (size_t i = 0; i < sl->nexts; i++)
        sdp_put(w, "a=extmap:%u %s\r\n", s->exts[sl->exts[i].ext].id, s->exts[sl->exts[i].ext].uri);
    if (active) {
        sdp_put(w, "a=msid:%s %s\r\n", sl->peer, sl->track);
        if (rtx) sdp_put(w, "a=ssrc-group:FID %u %u\r\n", sl->ssrc, sl->rtx_ssrc);
        for (int k = 0; k < (rtx ? 2 : 1); k++) {
            uint32_t ssrc = k ? sl->rtx_ssrc : sl->ssrc;
            sdp_put(w, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", ssrc, s->cname, ssrc,
                    sl->peer, sl->track);
        }
    }
    put_candidates(w, s);
}

int sdp_sub_offer(sdp_sub_t *s, char *out, size_t cap, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!s || !out) return sdp_fail(err, errlen, SDP_ERR_INVAL, "invalid argument");
    if (cap == 0) return sdp_fail(err, errlen, SDP_ERR_NOSPACE, "offer does not fit in 0 bytes");
    out[0] = '\0';
    if (s->pending)
        return sdp_fail(err, errlen, SDP_ERR_INVAL,
                        "an offer is pending: apply its answer before the next offer");
    enum seen how[SDP_SUB_MAX_SLOTS];
    for (size_t i = 0; i < s->nslots; i++)
        how[i] = show(s, &s->slots[i]);

    sdp_writer_t w = {.buf = out, .cap = cap};
    sdp_put(&w, "v=0\r\no=- %llu %llu IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
            (unsigned long long)s->session_id, (unsigned long long)s->version + 1);
    bool any = false;
    for (size_t i = 0; i < s->nslots; i++) {
        if (how[i] == SEEN_CLOSED) continue;
        sdp_put(&w, any ? " %u" : "a=group:BUNDLE %u", s->slots[i].mid);
        any = true;
    }
    if (any) sdp_put(&w, "\r\n");
    sdp_put(&w, "a=msid-semantic: WMS *\r\n");
    for (size_t i = 0; i < s->nslots; i++)
        put_slot(&w, s, &s->slots[i], how[i]);
    if (w.full) {
        out[0] = '\0';
        return sdp_fail(err, errlen, SDP_ERR_NOSPACE, "offer does not fit in %zu bytes", cap);
    }
    for (size_t i = 0; i < s->nslots; i++) {
        slot_t *sl = &s->slots[i];
        sl->seen = (uint8_t)how[i];
        sl->seen_mid = sl->mid;
        if (how[i] == SEEN_ACTIVE) sl->track_offered = true;
    }
    s->noffered = s->nslots;
    s->version++;
    s->pending = true;
    return 0;
}

/* ---- the answer ------------------------------------------------------------------ */

static bool in_bundle(const sdp_t *a, const char *mid)
{
    for (size_t i = 0; i < a->nbundle; i++)
        if (strcmp(a->bundle[i], mid) == 0) return true;
    return false;
}

/* Is pt one of the slot's offered payload types with this codec name? */
static bool offered_pt(const sdp_sub_t *s, const slot_t *sl, const sdp_codec_t *c)
{
    bool rtx_offered = sl->kind == SDP_KIND_VIDEO && sl->rtx_ssrc;
    for (size_t i = 0; i < sl->ncodecs; i++) {
        const ident_t *id = &s->idents[sl->codecs[i].ident];
        if (id->pt == c->pt) return strcasecmp(id->name, c->name) == 0 && id->clock == c->clock;
        if (rtx_offered && sl->codecs[i].pub_rtx != NO_PT && id->rtx_pt == c->pt)
            return strcasecmp(c->name, "rtx") == 0 && c->clock == id->clock;
    }
    return false;
}

static int check_transport(const sdp_t *a, const sdp_media_t *m, char *err, size_t errlen)
{
    const char *setup = m->setup[0] ? m->setup : a->setup;
    if (!setup[0])
        return sdp_fail(err, errlen, SDP_ERR_MISSING,
                        "line %d: mid '%s': missing a=setup (expected "
                        "active)",
                        m->line, m->mid);
    if (strcmp(setup, "active") != 0)
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: mid '%s': a=setup:%s, but the server is the DTLS server (answer "
                        "a=setup:active)",
                        m->line, m->mid, setup);
    if (!in_bundle(a, m->mid))
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: mid '%s': not in the answer's BUNDLE group", m->line, m->mid);
    if ((m->ice_ufrag[0] && strcmp(m->ice_ufrag, a->ice_ufrag) != 0) ||
        (m->ice_pwd[0] && strcmp(m->ice_pwd, a->ice_pwd) != 0) ||
        (m->fingerprint[0] && strcmp(m->fingerprint, a->fingerprint) != 0))
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: mid '%s': ICE credentials or fingerprint differ from the BUNDLE "
                        "transport's",
                        m->line, m->mid);
    return 0;
}

/* One m-line of the answer against the slot the offer showed there. */
static int check_media(const sdp_sub_t *s, const slot_t *sl, const sdp_t *a, const sdp_media_t *m,
                       char *err, size_t errlen)
{
    char mid[16];
    snprintf(mid, sizeof mid, "%u", sl->seen_mid);
    size_t idx = (size_t)(m - a->media) + 1;
    if (strcmp(m->mid, mid) != 0)
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: m-line %zu: mid '%s', but the offer's is '%s'", m->line, idx,
                        m->mid, mid);
    if (m->kind != sl->kind)
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: mid '%s': m=%s, but the offer's is %s", m->line, mid,
                        m->kind_name, sdp_kind_name(sl->kind));
    bool rejected = m->port == 0 && !m->bundle_only;
    if (sl->seen == SEEN_CLOSED && !rejected)
        return sdp_fail(
            err, errlen, SDP_ERR_UNSUPPORTED,
            "line %d: mid '%s': closed in the offer, the answer must reject it (port 0)", m->line,
            mid);
    if (rejected) return 0;
    if (!m->rtcp_mux)
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: mid '%s': a=rtcp-mux is required", m->line, mid);
    bool ok_dir =
        m->dir == SDP_DIR_INACTIVE || (m->dir == SDP_DIR_RECVONLY && sl->seen == SEEN_ACTIVE);
    if (!ok_dir)
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED,
                        "line %d: mid '%s': direction %s (expected %s)", m->line, mid,
                        sdp_dir_name(m->dir),
                        sl->seen == SEEN_ACTIVE ? "recvonly or inactive" : "inactive");
    int rc = check_transport(a, m, err, errlen);
    if (rc || sl->seen != SEEN_ACTIVE) return rc;
    size_t primaries = 0;
    for (size_t k = 0; k < m->ncodecs; k++) {
        const sdp_codec_t *c = &m->codecs[k];
        if (!offered_pt(s, sl, c))
            return sdp_fail(
                err, errlen, SDP_ERR_UNSUPPORTED,
                "line %d: mid '%s': payload type %u (%s) was not offered on this m-line", m->line,
                mid, c->pt, c->name[0] ? c->name : "no a=rtpmap");
        /* RTX and RED only carry another codec: alone they decode nothing. */
        primaries += strcasecmp(c->name, "rtx") != 0 && !is_red(c->name);
    }
    if (!primaries)
        return sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED, "line %d: mid '%s': no codec accepted",
                        m->line, mid);
    return 0;
}

static void record(sdp_sub_t *s, slot_t *sl, const sdp_media_t *m)
{
    bool rejected = m->port == 0 && !m->bundle_only;
    if (sl->seen == SEEN_CLOSED) return;
    if (rejected) {
        /* The m-line is dead in the client. A track put in it since the offer (the first
         * m-line, recycled) needs a new m-section, like a closed slot. */
        if (sl->has_track && !sl->track_offered) {
            sl->mid = s->next_mid++;
        } else {
            sl->rejected = true;
        }
        sl->seen = SEEN_CLOSED;
    }
    if (sl->seen_mid != sl->mid || !sl->track_offered || sl->seen == SEEN_DISABLED) return;
    if (!sl->has_track && !rejected) return;
    sl->answered = true;
    sl->accepted = !rejected;
    memset(sl->pts_ok, 0, sizeof sl->pts_ok);
    memset(sl->ext_id, 0, sizeof sl->ext_id);
    if (rejected) return;
    for (size_t k = 0; k < m->ncodecs; k++)
        sl->pts_ok[m->codecs[k].pt / 32] |= 1u << (m->codecs[k].pt % 32);
    for (size_t k = 0; k < sl->nexts; k++)
        sl->ext_id[k] = (uint8_t)sdp_ext_id(m, s->exts[sl->exts[k].ext].uri);
}

int sdp_sub_apply_answer(sdp_sub_t *s, const char *text, size_t len, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!s || (!text && len)) return sdp_fail(err, errlen, SDP_ERR_INVAL, "invalid argument");
    if (!s->pending) return sdp_fail(err, errlen, SDP_ERR_INVAL, "no offer is pending");
    sdp_t *a = xmalloc(sizeof *a);
    int rc = sdp_parse_max(text, len, a, SDP_SUB_MAX_SLOTS, SDP_SUB_MAX_LEN, err, errlen);
    if (rc) goto out;
    if (a->nmedia != s->noffered) {
        rc = sdp_fail(err, errlen, SDP_ERR_UNSUPPORTED, "the answer has %zu m-lines, the offer %zu",
                      a->nmedia, s->noffered);
        goto out;
    }
    bool any = false;
    for (size_t i = 0; i < a->nmedia && !rc; i++) {
        rc = check_media(s, &s->slots[i], a, &a->media[i], err, errlen);
        any |= a->media[i].port != 0 || a->media[i].bundle_only;
    }
    if (rc) goto out;
    for (size_t i = 0; i < a->nmedia; i++)
        record(s, &s->slots[i], &a->media[i]);
    if (any) {
        snprintf(s->remote_ufrag, sizeof s->remote_ufrag, "%s", a->ice_ufrag);
        snprintf(s->remote_pwd, sizeof s->remote_pwd, "%s", a->ice_pwd);
        snprintf(s->remote_fp, sizeof s->remote_fp, "%s", a->fingerprint);
    }
    s->pending = false;
out:
    free(a);
    return rc;
}

/* ---- state ----------------------------------------------------------------------- */

bool sdp_sub_pending(const sdp_sub_t *s)
{
    return s && s->pending;
}

bool sdp_sub_dirty(const sdp_sub_t *s)
{
    for (size_t i = 0; s && i < s->nslots; i++) {
        const slot_t *sl = &s->slots[i];
        if (sl->has_track ? !sl->track_offered : sl->seen == SEEN_ACTIVE) return true;
    }
    return false;
}

const char *sdp_sub_remote_ufrag(const sdp_sub_t *s)
{
    return s->remote_ufrag;
}

const char *sdp_sub_remote_pwd(const sdp_sub_t *s)
{
    return s->remote_pwd;
}

const char *sdp_sub_remote_fingerprint(const sdp_sub_t *s)
{
    return s->remote_fp;
}

int sdp_sub_track_pt(const sdp_sub_t *s, const char *track_id, unsigned pub_pt)
{
    const slot_t *sl = s ? find_track(s, track_id) : NULL;
    for (size_t i = 0; sl && i < sl->ncodecs; i++) {
        const ident_t *id = &s->idents[sl->codecs[i].ident];
        if (sl->codecs[i].pub_pt == pub_pt) return id->pt;
        if (sl->codecs[i].pub_rtx == (int)pub_pt) return id->rtx_pt;
    }
    return -1;
}

static bool pt_ok(const slot_t *sl, int pt)
{
    return pt >= 0 && (sl->pts_ok[pt / 32] >> (pt % 32) & 1u);
}

int sdp_sub_track_info(const sdp_sub_t *s, const char *track_id, sdp_sub_track_info_t *out)
{
    const slot_t *sl = s ? find_track(s, track_id) : NULL;
    if (!sl || !out) return SDP_ERR_INVAL;
    memset(out, 0, sizeof *out);
    out->mid = sl->mid;
    out->kind = sl->kind;
    out->ssrc = sl->ssrc;
    out->rtx_ssrc = sl->kind == SDP_KIND_VIDEO ? sl->rtx_ssrc : 0;
    out->offered = sl->track_offered;
    out->answered = sl->answered;
    out->accepted = sl->accepted;
    out->ncodecs = sl->ncodecs;
    bool rtx = out->rtx_ssrc != 0;
    for (size_t i = 0; i < sl->ncodecs; i++) {
        const ident_t *id = &s->idents[sl->codecs[i].ident];
        out->codecs[i].pub_pt = sl->codecs[i].pub_pt;
        out->codecs[i].sub_pt = id->pt;
        out->codecs[i].pub_rtx = rtx ? sl->codecs[i].pub_rtx : NO_PT;
        out->codecs[i].sub_rtx = rtx && sl->codecs[i].pub_rtx != NO_PT ? id->rtx_pt : NO_PT;
        out->codecs[i].accepted = sl->accepted && pt_ok(sl, id->pt);
        out->codecs[i].rtx_accepted = sl->accepted && pt_ok(sl, out->codecs[i].sub_rtx);
    }
    out->nexts = sl->nexts;
    for (size_t i = 0; i < sl->nexts; i++) {
        snprintf(out->exts[i].uri, sizeof out->exts[i].uri, "%s", s->exts[sl->exts[i].ext].uri);
        out->exts[i].pub_id = sl->exts[i].pub_id;
        out->exts[i].offer_id = s->exts[sl->exts[i].ext].id;
        out->exts[i].sub_id = sl->accepted ? sl->ext_id[i] : 0;
    }
    return 0;
}

/* ---- conversion ------------------------------------------------------------------ */

size_t sdp_sub_codecs_from_media(const sdp_media_t *m, sdp_sub_codec_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; m && i < m->ncodecs && n < cap; i++) {
        const sdp_codec_t *c = &m->codecs[i];
        if (strcasecmp(c->name, "rtx") == 0 || !c->name[0] || c->clock == 0) continue;
        out[n] = (sdp_sub_codec_t){.name = c->name,
                                   .clock = c->clock,
                                   .channels = c->channels,
                                   .fmtp = c->fmtp,
                                   .pt = c->pt,
                                   .rtx_pt = NO_PT,
                                   .fb = c->fb};
        for (size_t k = 0; k < m->ncodecs; k++)
            if (strcasecmp(m->codecs[k].name, "rtx") == 0 && m->codecs[k].apt == c->pt) {
                out[n].rtx_pt = m->codecs[k].pt;
                break;
            }
        n++;
    }
    return n;
}
