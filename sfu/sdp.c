/* SDP parsing (RFC 8866 with the WebRTC attributes of RFC 8829, 8839, 8843, 8851, 8853);
 * see sdp.h. The answer builder is in sdp_answer.c. */
#include "sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A borrowed byte range of the input text. */
typedef struct span {
    const char *p, *end;
} span_t;

typedef struct parser {
    sdp_t *out;
    size_t max_media; /* m-lines accepted */
    sdp_media_t *m;   /* the m-line being read, NULL at session level */
    int line;
    bool seen_v, seen_o;
    bool msid_explicit; /* the current m-line has a=msid (it beats a=ssrc msid:) */
    bool dir_set;       /* session-level direction given */
    sdp_dir_t dir;      /* session-level direction */
    bool have_bundle;
    int bundle_line;
    int badfp_line; /* first fingerprint with another hash function */
    char badfp_alg[16];
    char *err;
    size_t errlen;
} parser_t;

static int fail(parser_t *ps, int code, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = 0;
        if (ps->line > 0) n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line);
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* ---- spans and tokens ------------------------------------------------------------ */

static size_t slen(span_t s)
{
    return (size_t)(s.end - s.p);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static span_t trim(span_t s)
{
    while (s.p < s.end && is_space(*s.p))
        s.p++;
    while (s.end > s.p && is_space(s.end[-1]))
        s.end--;
    return s;
}

/* Next whitespace-separated token of *s; false at the end. Runs of blanks count as one:
 * a harmless variation some stacks produce. */
static bool next_tok(span_t *s, span_t *tok)
{
    while (s->p < s->end && is_space(*s->p))
        s->p++;
    if (s->p == s->end) return false;
    tok->p = s->p;
    while (s->p < s->end && !is_space(*s->p))
        s->p++;
    tok->end = s->p;
    return true;
}

/* Splits s at the first c: *head before it, s after it. False if c is absent. */
static bool split_at(span_t *s, char c, span_t *head)
{
    const char *q = memchr(s->p, c, slen(*s));
    if (!q) return false;
    *head = (span_t){s->p, q};
    s->p = q + 1;
    return true;
}

static bool span_eq(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return slen(s) == n && memcmp(s.p, lit, n) == 0;
}

static bool span_ieq(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return slen(s) == n && strncasecmp(s.p, lit, n) == 0;
}

/* Decimal without sign or blanks, at most max. */
static bool parse_num(span_t s, uint64_t max, uint64_t *v)
{
    if (s.p == s.end || slen(s) > 20) return false;
    uint64_t x = 0;
    for (const char *q = s.p; q < s.end; q++) {
        if (*q < '0' || *q > '9') return false;
        unsigned d = (unsigned)(*q - '0');
        if (x > (UINT64_MAX - d) / 10) return false;
        x = x * 10 + d;
    }
    if (x > max) return false;
    *v = x;
    return true;
}

/* Copies s into dst[cap] or fails naming what and the limit. */
static int copy(parser_t *ps, char *dst, size_t cap, span_t s, const char *what)
{
    size_t n = slen(s);
    if (n >= cap)
        return fail(ps, SDP_ERR_LIMIT, "%s: too long (%zu bytes, limit %zu)", what, n, cap - 1);
    memcpy(dst, s.p, n);
    dst[n] = '\0';
    return 0;
}

/* RFC 8866 token-char, which mids and msid ids are made of. */
static bool is_token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
           c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c >= 0x5e;
}

static bool is_visible(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

static bool all_chars(span_t s, bool (*ok)(unsigned char))
{
    for (const char *q = s.p; q < s.end; q++)
        if (!ok((unsigned char)*q)) return false;
    return s.p < s.end;
}

/* RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/". */
static bool is_ice_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* RFC 8851 rid-id characters. */
static bool is_rid_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int token(parser_t *ps, char *dst, size_t cap, span_t s, const char *what,
                 bool (*ok)(unsigned char))
{
    if (s.p == s.end) return fail(ps, SDP_ERR_SYNTAX, "%s: empty value", what);
    if (!all_chars(s, ok)) return fail(ps, SDP_ERR_SYNTAX, "%s: invalid character", what);
    return copy(ps, dst, cap, s, what);
}

static int parse_dir(span_t s, sdp_dir_t *d)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (int i = 0; i < 4; i++)
        if (span_eq(s, names[i])) {
            *d = (sdp_dir_t)i;
            return 0;
        }
    return -1;
}

/* A payload type token of an attribute: 0..127. */
static int parse_pt(parser_t *ps, span_t s, const char *what, uint8_t *pt)
{
    uint64_t v;
    if (!parse_num(s, UINT64_MAX, &v))
        return fail(ps, SDP_ERR_SYNTAX, "%s: payload type '%.*s' is not a number", what,
                    (int)(slen(s) > 20 ? 20 : slen(s)), s.p);
    if (v > 127)
        return fail(ps, SDP_ERR_LIMIT, "%s: payload type %llu out of range 0..127", what,
                    (unsigned long long)v);
    *pt = (uint8_t)v;
    return 0;
}

static int parse_ssrc(parser_t *ps, span_t s, const char *what, uint32_t *ssrc)
{
    uint64_t v;
    if (!parse_num(s, UINT32_MAX, &v))
        return fail(ps, SDP_ERR_SYNTAX, "%s: SSRC '%.*s' is not a number in 0..4294967295", what,
                    (int)(slen(s) > 20 ? 20 : slen(s)), s.p);
    *ssrc = (uint32_t)v;
    return 0;
}

static sdp_codec_t *codec_by_pt(sdp_media_t *m, unsigned pt)
{
    for (size_t i = 0; i < m->ncodecs; i++)
        if (m->codecs[i].pt == pt) return &m->codecs[i];
    return NULL;
}

static bool media_is_rtp(const sdp_media_t *m)
{
    return strstr(m->proto, "RTP/") != NULL;
}

/* ---- m= -------------------------------------------------------------------------- */

/* RFC 3551 static payload types that browsers offer without a=rtpmap. */
static void static_codec(sdp_codec_t *c)
{
    static const struct {
        uint8_t pt;
        const char *name;
    } table[] = {{0, "PCMU"}, {8, "PCMA"}, {9, "G722"}, {13, "CN"}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].pt == c->pt) {
            snprintf(c->name, sizeof c->name, "%s", table[i].name);
            c->clock = 8000;
        }
}

static size_t count_m_lines(const char *p, const char *end)
{
    size_t n = 0;
    for (; p < end; p++)
        if (p[0] == 'm' && p + 1 < end && p[1] == '=' && p[-1] == '\n') n++;
    return n;
}

static int line_m(parser_t *ps, span_t v, const char *text_end)
{
    sdp_t *s = ps->out;
    if (s->nmedia == ps->max_media) {
        size_t total = ps->max_media + 1 + count_m_lines(v.end, text_end);
        ps->line = 0;
        return fail(ps, SDP_ERR_LIMIT, "too many m-lines (%zu, limit %zu)", total, ps->max_media);
    }
    sdp_media_t *m = &s->media[s->nmedia++];
    ps->m = m;
    ps->msid_explicit = false;
    m->line = ps->line;
    m->dir = ps->dir_set ? ps->dir : SDP_DIR_SENDRECV;

    span_t media, port, proto, fmt;
    if (!next_tok(&v, &media) || !next_tok(&v, &port) || !next_tok(&v, &proto) ||
        !next_tok(&v, &fmt))
        return fail(ps, SDP_ERR_SYNTAX, "m=: expected <media> <port> <proto> <format>...");
    int rc = token(ps, m->kind_name, sizeof m->kind_name, media, "m=: media type", is_visible);
    if (rc) return rc;
    m->kind = span_eq(media, "audio")         ? SDP_KIND_AUDIO
              : span_eq(media, "video")       ? SDP_KIND_VIDEO
              : span_eq(media, "application") ? SDP_KIND_APPLICATION
                                              : SDP_KIND_OTHER;
    span_t nports = port, portnum;
    if (split_at(&nports, '/', &portnum)) port = portnum; /* "<port>/<number of ports>" */
    uint64_t pv;
    if (!parse_num(port, 65535, &pv))
        return fail(ps, SDP_ERR_SYNTAX, "m=: port '%.*s' is not a number in 0..65535",
                    (int)(slen(port) > 20 ? 20 : slen(port)), port.p);
    m->port = (uint16_t)pv;
    if ((rc = token(ps, m->proto, sizeof m->proto, proto, "m=: protocol", is_visible))) return rc;
    if ((rc = token(ps, m->fmt0, sizeof m->fmt0, fmt, "m=: format", is_visible))) return rc;
    if (!media_is_rtp(m)) return 0;
    do {
        uint8_t pt = 0;
        if ((rc = parse_pt(ps, fmt, "m=", &pt))) return rc;
        /* Extra payload types are the least preferred: dropping them loses nothing the
         * server would accept, refusing the offer would lose everything. */
        if (codec_by_pt(m, pt) || m->ncodecs == SDP_MAX_CODECS) continue;
        sdp_codec_t *c = &m->codecs[m->ncodecs++];
        c->pt = pt;
        c->apt = -1;
        c->channels = 1;
        static_codec(c);
    } while (next_tok(&v, &fmt));
    return 0;
}

/* ---- attributes ------------------------------------------------------------------ */

static int attr_group(parser_t *ps, span_t v)
{
    span_t sem, mid;
    if (!next_tok(&v, &sem) || !span_eq(sem, "BUNDLE") || ps->have_bundle) return 0;
    ps->have_bundle = true;
    ps->bundle_line = ps->line;
    sdp_t *s = ps->out;
    while (next_tok(&v, &mid)) {
        if (s->nbundle == ps->max_media)
            return fail(ps, SDP_ERR_LIMIT, "a=group:BUNDLE: too many mids (limit %zu)",
                        ps->max_media);
        int rc = token(ps, s->bundle[s->nbundle], sizeof s->bundle[0], mid, "a=group:BUNDLE mid",
                       is_token_char);
        if (rc) return rc;
        s->nbundle++;
    }
    return 0;
}

static int attr_mid(parser_t *ps, span_t v)
{
    sdp_media_t *m = ps->m;
    if (m->mid[0]) return 0;
    int rc = token(ps, m->mid, sizeof m->mid, v, "a=mid", is_token_char);
    if (rc) return rc;
    for (sdp_media_t *o = ps->out->media; o < m; o++)
        if (strcmp(o->mid, m->mid) == 0)
            return fail(ps, SDP_ERR_SYNTAX, "a=mid: '%s' already used by m-line %zu", m->mid,
                        (size_t)(o - ps->out->media) + 1);
    return 0;
}

static int attr_ufrag(parser_t *ps, span_t v)
{
    char *dst = ps->m ? ps->m->ice_ufrag : ps->out->ice_ufrag;
    if (dst[0]) return 0;
    if (slen(v) < 4)
        return fail(ps, SDP_ERR_SYNTAX, "a=ice-ufrag: too short (%zu chars, minimum 4)", slen(v));
    return token(ps, dst, 65, v, "a=ice-ufrag", is_ice_char);
}

static int attr_pwd(parser_t *ps, span_t v)
{
    char *dst = ps->m ? ps->m->ice_pwd : ps->out->ice_pwd;
    if (dst[0]) return 0;
    if (slen(v) < 22)
        return fail(ps, SDP_ERR_SYNTAX, "a=ice-pwd: too short (%zu chars, minimum 22)", slen(v));
    return token(ps, dst, 129, v, "a=ice-pwd", is_ice_char);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int attr_fingerprint(parser_t *ps, span_t v)
{
    char *dst = ps->m ? ps->m->fingerprint : ps->out->fingerprint;
    span_t alg, val;
    if (!next_tok(&v, &alg) || !next_tok(&v, &val))
        return fail(ps, SDP_ERR_SYNTAX, "a=fingerprint: expected <hash function> <value>");
    if (!span_ieq(alg, "sha-256")) {
        /* Another hash may come with a sha-256 one (RFC 8122 allows several): only an
         * offer without sha-256 at all is refused, at the end. */
        if (!ps->badfp_line) {
            ps->badfp_line = ps->line;
            snprintf(ps->badfp_alg, sizeof ps->badfp_alg, "%.*s",
                     (int)(slen(alg) > 15 ? 15 : slen(alg)), alg.p);
        }
        return 0;
    }
    if (dst[0]) return 0;
    /* 32 bytes as "XX:" * 31 + "XX", normalised to upper case. */
    static const char hex[] = "0123456789ABCDEF";
    if (slen(val) != 95) goto bad;
    char *o = dst + snprintf(dst, 128, "sha-256 ");
    for (size_t i = 0; i < 95; i++) {
        if (i % 3 == 2) {
            if (val.p[i] != ':') goto bad;
            *o++ = ':';
            continue;
        }
        int h = hexval(val.p[i]);
        if (h < 0) goto bad;
        *o++ = hex[h];
    }
    *o = '\0';
    return 0;
bad:
    dst[0] = '\0';
    return fail(ps, SDP_ERR_SYNTAX,
                "a=fingerprint: malformed sha-256 value (expected 32 "
                "hex bytes separated by colons)");
}

static int attr_setup(parser_t *ps, span_t v)
{
    char *dst = ps->m ? ps->m->setup : ps->out->setup;
    static const char *const roles[] = {"actpass", "active", "passive", "holdconn"};
    for (int i = 0; i < 4; i++)
        if (span_ieq(v, roles[i])) {
            if (!dst[0]) snprintf(dst, 16, "%s", roles[i]);
            return 0;
        }
    return fail(ps, SDP_ERR_SYNTAX, "a=setup: unknown role '%.*s'",
                (int)(slen(v) > 20 ? 20 : slen(v)), v.p);
}

static int attr_rtpmap(parser_t *ps, span_t v)
{
    if (!media_is_rtp(ps->m)) return 0;
    span_t pts, enc, name, clock, chans = {NULL, NULL};
    uint8_t pt = 0;
    if (!next_tok(&v, &pts) || !next_tok(&v, &enc) || !split_at(&enc, '/', &name))
        return fail(ps, SDP_ERR_SYNTAX, "a=rtpmap: expected <pt> <name>/<clock>[/<channels>]");
    int rc = parse_pt(ps, pts, "a=rtpmap", &pt);
    if (rc) return rc;
    clock = enc;
    if (split_at(&enc, '/', &clock)) chans = enc;
    sdp_codec_t *c = codec_by_pt(ps->m, pt);
    sdp_codec_t tmp = {0};
    if ((rc = token(ps, tmp.name, sizeof tmp.name, name, "a=rtpmap: encoding name", is_visible)))
        return rc;
    uint64_t n;
    if (!parse_num(clock, UINT32_MAX, &n) || n == 0)
        return fail(ps, SDP_ERR_SYNTAX,
                    "a=rtpmap: clock rate '%.*s' is not a number in "
                    "1..4294967295",
                    (int)(slen(clock) > 20 ? 20 : slen(clock)), clock.p);
    tmp.clock = (uint32_t)n;
    tmp.channels = 1;
    if (chans.p) {
        if (!parse_num(chans, 255, &n) || n == 0)
            return fail(ps, SDP_ERR_SYNTAX,
                        "a=rtpmap: channel count '%.*s' is not a number in "
                        "1..255",
                        (int)(slen(chans) > 20 ? 20 : slen(chans)), chans.p);
        tmp.channels = (uint8_t)n;
    }
    if (!c) return 0; /* not listed on the m-line (or dropped): nothing to describe */
    memcpy(c->name, tmp.name, sizeof c->name);
    c->clock = tmp.clock;
    c->channels = tmp.channels;
    return 0;
}

/* Value of key in fmtp parameters "k1=v1;k2=v2" (blanks around ';' tolerated). */
static bool fmtp_param(span_t params, const char *key, span_t *val)
{
    span_t item;
    while (params.p < params.end) {
        if (!split_at(&params, ';', &item)) {
            item = params;
            params.p = params.end;
        }
        item = trim(item);
        span_t k;
        if (split_at(&item, '=', &k) && span_ieq(trim(k), key)) {
            *val = trim(item);
            return true;
        }
    }
    return false;
}

static int attr_fmtp(parser_t *ps, span_t v)
{
    if (!media_is_rtp(ps->m)) return 0;
    span_t pts;
    uint8_t pt = 0;
    if (!next_tok(&v, &pts)) return fail(ps, SDP_ERR_SYNTAX, "a=fmtp: expected <pt> <parameters>");
    int rc = parse_pt(ps, pts, "a=fmtp", &pt);
    if (rc) return rc;
    v = trim(v);
    sdp_codec_t *c = codec_by_pt(ps->m, pt);
    char tmp[sizeof c->fmtp] = ""; /* whole array zeroed: parses compare with memcmp */
    if ((rc = copy(ps, tmp, sizeof tmp, v, "a=fmtp: parameters"))) return rc;
    span_t apt;
    int aptv = -1;
    if (fmtp_param(v, "apt", &apt)) {
        uint8_t a = 0;
        if ((rc = parse_pt(ps, apt, "a=fmtp: apt", &a))) return rc;
        aptv = a;
    }
    if (!c || c->fmtp[0]) return 0;
    memcpy(c->fmtp, tmp, sizeof c->fmtp);
    c->apt = aptv;
    return 0;
}

static int attr_rtcp_fb(parser_t *ps, span_t v)
{
    if (!media_is_rtp(ps->m)) return 0;
    span_t pts, type, param = {NULL, NULL};
    if (!next_tok(&v, &pts) || !next_tok(&v, &type))
        return fail(ps, SDP_ERR_SYNTAX, "a=rtcp-fb: expected <pt> <type> [<parameter>]");
    bool has_param = next_tok(&v, &param);
    unsigned fb = 0;
    if (span_eq(type, "nack"))
        fb = !has_param ? SDP_FB_NACK : span_eq(param, "pli") ? SDP_FB_NACK_PLI : 0;
    else if (span_eq(type, "ccm") && has_param && span_eq(param, "fir"))
        fb = SDP_FB_CCM_FIR;
    else if (span_eq(type, "goog-remb"))
        fb = SDP_FB_GOOG_REMB;
    else if (span_eq(type, "transport-cc"))
        fb = SDP_FB_TRANSPORT_CC;
    if (span_eq(pts, "*")) {
        for (size_t i = 0; i < ps->m->ncodecs; i++)
            ps->m->codecs[i].fb |= fb;
        return 0;
    }
    uint8_t pt = 0;
    int rc = parse_pt(ps, pts, "a=rtcp-fb", &pt);
    if (rc) return rc;
    sdp_codec_t *c = codec_by_pt(ps->m, pt);
    if (c) c->fb |= fb;
    return 0;
}

static int attr_extmap(parser_t *ps, span_t v)
{
    sdp_media_t *m = ps->m;
    span_t idt, uri, dirt;
    if (!next_tok(&v, &idt) || !next_tok(&v, &uri))
        return fail(ps, SDP_ERR_SYNTAX, "a=extmap: expected <id>[/<direction>] <uri>");
    sdp_extmap_t e;
    memset(&e, 0, sizeof e);
    if (split_at(&idt, '/', &dirt)) {
        if (parse_dir(idt, &e.dir))
            return fail(ps, SDP_ERR_SYNTAX, "a=extmap: unknown direction '%.*s'",
                        (int)(slen(idt) > 20 ? 20 : slen(idt)), idt.p);
        e.dir_set = true;
        idt = dirt;
    }
    uint64_t id;
    if (!parse_num(idt, UINT64_MAX, &id))
        return fail(ps, SDP_ERR_SYNTAX, "a=extmap: id '%.*s' is not a number",
                    (int)(slen(idt) > 20 ? 20 : slen(idt)), idt.p);
    if (id < 1 || id > 255)
        return fail(ps, SDP_ERR_LIMIT, "a=extmap: id %llu out of range 1..255",
                    (unsigned long long)id);
    e.id = (uint8_t)id;
    int rc = token(ps, e.uri, sizeof e.uri, uri, "a=extmap: URI", is_visible);
    if (rc) return rc;
    for (size_t i = 0; i < m->nextmaps; i++)
        if (m->extmaps[i].id == e.id)
            return fail(ps, SDP_ERR_SYNTAX, "a=extmap: id %u used twice", e.id);
    /* Like extra codecs: the first ones are the ones that matter. */
    if (m->nextmaps < SDP_MAX_EXTMAPS) memcpy(&m->extmaps[m->nextmaps++], &e, sizeof e);
    return 0;
}

static int add_ssrc(parser_t *ps, uint32_t ssrc)
{
    sdp_media_t *m = ps->m;
    for (size_t i = 0; i < m->nssrcs; i++)
        if (m->ssrcs[i] == ssrc) return 0;
    if (m->nssrcs == SDP_MAX_SSRCS)
        return fail(ps, SDP_ERR_LIMIT, "a=ssrc: too many SSRCs (limit %d)", SDP_MAX_SSRCS);
    m->ssrcs[m->nssrcs++] = ssrc;
    return 0;
}

static int parse_msid(parser_t *ps, span_t v, const char *what)
{
    span_t stream, track = {NULL, NULL};
    sdp_media_t *m = ps->m;
    if (!next_tok(&v, &stream)) return fail(ps, SDP_ERR_SYNTAX, "%s: expected <stream id>", what);
    int rc = token(ps, m->msid_stream, sizeof m->msid_stream, stream, what, is_token_char);
    if (rc) return rc;
    m->msid_track[0] = '\0';
    if (next_tok(&v, &track))
        return token(ps, m->msid_track, sizeof m->msid_track, track, what, is_token_char);
    return 0;
}

static int attr_ssrc(parser_t *ps, span_t v)
{
    span_t st, name;
    uint32_t ssrc = 0;
    if (!next_tok(&v, &st)) return fail(ps, SDP_ERR_SYNTAX, "a=ssrc: expected <ssrc> <attribute>");
    int rc = parse_ssrc(ps, st, "a=ssrc", &ssrc);
    if (rc || (rc = add_ssrc(ps, ssrc))) return rc;
    v = trim(v);
    if (split_at(&v, ':', &name) && span_eq(name, "msid") && !ps->msid_explicit)
        return parse_msid(ps, v, "a=ssrc: msid");
    return 0;
}

static int attr_ssrc_group(parser_t *ps, span_t v)
{
    span_t sem, a, b;
    if (!next_tok(&v, &sem) || !span_eq(sem, "FID")) return 0;
    if (!next_tok(&v, &a) || !next_tok(&v, &b))
        return fail(ps, SDP_ERR_SYNTAX, "a=ssrc-group:FID: expected <media ssrc> <rtx ssrc>");
    sdp_media_t *m = ps->m;
    uint32_t x = 0, y = 0;
    int rc;
    if ((rc = parse_ssrc(ps, a, "a=ssrc-group:FID", &x)) ||
        (rc = parse_ssrc(ps, b, "a=ssrc-group:FID", &y)))
        return rc;
    if (m->nfid == SDP_MAX_SSRCS)
        return fail(ps, SDP_ERR_LIMIT, "a=ssrc-group:FID: too many groups (limit %d)",
                    SDP_MAX_SSRCS);
    m->fid[m->nfid].media = x;
    m->fid[m->nfid].rtx = y;
    m->nfid++;
    return 0;
}

static int attr_rid(parser_t *ps, span_t v)
{
    sdp_media_t *m = ps->m;
    span_t id, dir;
    if (!next_tok(&v, &id) || !next_tok(&v, &dir))
        return fail(ps, SDP_ERR_SYNTAX, "a=rid: expected <id> send|recv");
    if (m->nrids == SDP_MAX_RIDS)
        return fail(ps, SDP_ERR_LIMIT, "a=rid: too many (limit %d)", SDP_MAX_RIDS);
    bool send = span_eq(dir, "send");
    if (!send && !span_eq(dir, "recv"))
        return fail(ps, SDP_ERR_SYNTAX, "a=rid: direction must be send or recv");
    int rc = token(ps, m->rids[m->nrids].id, sizeof m->rids[0].id, id, "a=rid: id", is_rid_char);
    if (rc) return rc;
    for (size_t i = 0; i < m->nrids; i++)
        if (strcmp(m->rids[i].id, m->rids[m->nrids].id) == 0)
            return fail(ps, SDP_ERR_SYNTAX, "a=rid: id '%s' used twice", m->rids[i].id);
    m->rids[m->nrids++].send = send;
    return 0;
}

/* One direction's stream list of a=simulcast (RFC 8853): "a;b,c;~d". Each stream's first
 * alternative is kept, a paused one (~) too; "rid=" before the list is the older
 * draft's form (Firefox). */
static int simulcast_list(parser_t *ps, span_t list, char ids[][17], size_t *n)
{
    if (slen(list) > 4 && strncmp(list.p, "rid=", 4) == 0) list.p += 4;
    const char *q = list.p;
    while (q < list.end) {
        const char *e = q;
        while (e < list.end && *e != ';')
            e++;
        span_t alt = {q, e};
        const char *c = memchr(alt.p, ',', slen(alt));
        if (c) alt.end = c;
        if (alt.p < alt.end && *alt.p == '~') alt.p++;
        if (*n == SDP_MAX_RIDS)
            return fail(ps, SDP_ERR_LIMIT, "a=simulcast: too many streams (limit %d)",
                        SDP_MAX_RIDS);
        int rc = token(ps, ids[*n], sizeof ids[0], alt, "a=simulcast: rid", is_rid_char);
        if (rc) return rc;
        (*n)++;
        q = e < list.end ? e + 1 : e;
    }
    return 0;
}

static int attr_simulcast(parser_t *ps, span_t v)
{
    sdp_media_t *m = ps->m;
    span_t dir, list;
    m->simulcast = true;
    while (next_tok(&v, &dir)) {
        if (!next_tok(&v, &list))
            return fail(ps, SDP_ERR_SYNTAX, "a=simulcast: expected send|recv <streams>");
        bool send = span_eq(dir, "send");
        if (!send && !span_eq(dir, "recv"))
            return fail(ps, SDP_ERR_SYNTAX, "a=simulcast: direction must be send or recv");
        int rc = send ? simulcast_list(ps, list, m->sim_send, &m->nsim_send)
                      : simulcast_list(ps, list, m->sim_recv, &m->nsim_recv);
        if (rc) return rc;
    }
    return 0;
}

static int attr_msid(parser_t *ps, span_t v)
{
    if (ps->msid_explicit) return 0;
    ps->msid_explicit = true;
    return parse_msid(ps, v, "a=msid");
}

static int attr_flag(parser_t *ps, const char *name)
{
    sdp_dir_t d;
    if (!parse_dir((span_t){name, name + strlen(name)}, &d)) {
        if (ps->m)
            ps->m->dir = d;
        else {
            ps->dir = d;
            ps->dir_set = true;
        }
    } else if (!strcmp(name, "ice-lite") && !ps->m) {
        ps->out->ice_lite = true;
    } else if (ps->m && !strcmp(name, "rtcp-mux")) {
        ps->m->rtcp_mux = true;
    } else if (ps->m && !strcmp(name, "rtcp-rsize")) {
        ps->m->rtcp_rsize = true;
    } else if (ps->m && !strcmp(name, "bundle-only")) {
        ps->m->bundle_only = true;
    }
    return 0;
}

/* Where an attribute with a value is read; others (a=candidate, a=ice-options...) are
 * ignored. */
#define AT_SESSION 1u
#define AT_MEDIA   2u

static const struct {
    const char *name;
    unsigned where;
    int (*fn)(parser_t *, span_t);
} attrs[] = {
    {"group", AT_SESSION, attr_group},
    {"mid", AT_MEDIA, attr_mid},
    {"ice-ufrag", AT_SESSION | AT_MEDIA, attr_ufrag},
    {"ice-pwd", AT_SESSION | AT_MEDIA, attr_pwd},
    {"fingerprint", AT_SESSION | AT_MEDIA, attr_fingerprint},
    {"setup", AT_SESSION | AT_MEDIA, attr_setup},
    {"rtpmap", AT_MEDIA, attr_rtpmap},
    {"fmtp", AT_MEDIA, attr_fmtp},
    {"rtcp-fb", AT_MEDIA, attr_rtcp_fb},
    {"extmap", AT_MEDIA, attr_extmap},
    {"ssrc", AT_MEDIA, attr_ssrc},
    {"ssrc-group", AT_MEDIA, attr_ssrc_group},
    {"rid", AT_MEDIA, attr_rid},
    {"simulcast", AT_MEDIA, attr_simulcast},
    {"msid", AT_MEDIA, attr_msid},
};

static int line_a(parser_t *ps, span_t v)
{
    span_t name;
    if (!split_at(&v, ':', &name)) {
        char flag[16];
        if (slen(v) >= sizeof flag) return 0;
        memcpy(flag, v.p, slen(v));
        flag[slen(v)] = '\0';
        return attr_flag(ps, flag);
    }
    unsigned here = ps->m ? AT_MEDIA : AT_SESSION;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (span_eq(name, attrs[i].name)) return (attrs[i].where & here) ? attrs[i].fn(ps, v) : 0;
    return 0;
}

static int line_o(parser_t *ps, span_t v)
{
    span_t user, id;
    uint64_t sid;
    if (!next_tok(&v, &user) || !next_tok(&v, &id))
        return fail(ps, SDP_ERR_SYNTAX, "o=: expected <username> <session id> ...");
    if (!parse_num(id, UINT64_MAX, &sid))
        return fail(ps, SDP_ERR_SYNTAX, "o=: session id '%.*s' is not a number below 2^64",
                    (int)(slen(id) > 24 ? 24 : slen(id)), id.p);
    ps->out->session_id = sid;
    ps->seen_o = true;
    return 0;
}

static int parse_line(parser_t *ps, span_t l, const char *text_end)
{
    for (const char *q = l.p; q < l.end; q++) {
        unsigned char c = (unsigned char)*q;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(ps, SDP_ERR_SYNTAX, "control character 0x%02x", c);
    }
    if (slen(l) < 2 || l.p[0] < 'a' || l.p[0] > 'z' || l.p[1] != '=')
        return fail(ps, SDP_ERR_SYNTAX, "expected <type>=<value> (a lower-case letter, '=')");
    char type = l.p[0];
    span_t v = {l.p + 2, l.end};
    if (!ps->seen_v) {
        if (type != 'v') return fail(ps, SDP_ERR_SYNTAX, "the first line must be v=0");
        if (!span_eq(trim(v), "0")) return fail(ps, SDP_ERR_UNSUPPORTED, "v=: version must be 0");
        ps->seen_v = true;
        return 0;
    }
    switch (type) {
    case 'o':
        return ps->seen_o ? 0 : line_o(ps, v);
    case 'm':
        return line_m(ps, v, text_end);
    case 'a':
        return line_a(ps, trim(v));
    default: /* s=, t=, c=, b=, i=...: nothing the server needs */
        return 0;
    }
}

/* ---- whole-description checks --------------------------------------------------- */

static void resolve(char *dst, size_t cap, const sdp_t *s, size_t field_off)
{
    if (dst[0]) return;
    const sdp_media_t *tagged = s->nbundle ? sdp_find_mid(s, s->bundle[0]) : NULL;
    if (tagged && ((const char *)tagged + field_off)[0]) {
        snprintf(dst, cap, "%s", (const char *)tagged + field_off);
        return;
    }
    for (size_t i = 0; i < s->nmedia; i++) {
        const char *f = (const char *)&s->media[i] + field_off;
        if (f[0]) {
            snprintf(dst, cap, "%s", f);
            return;
        }
    }
}

static int finish(parser_t *ps)
{
    sdp_t *s = ps->out;
    ps->line = 0;
    if (!ps->seen_v) return fail(ps, SDP_ERR_MISSING, "empty description (no v= line)");
    if (!ps->seen_o) return fail(ps, SDP_ERR_MISSING, "missing o= line");
    bool active = false;
    for (size_t i = 0; i < s->nmedia; i++) {
        const sdp_media_t *m = &s->media[i];
        if (!m->mid[0]) {
            ps->line = m->line;
            return fail(ps, SDP_ERR_MISSING, "m-line %zu (%s): missing a=mid", i + 1, m->kind_name);
        }
        active |= m->port != 0 || m->bundle_only;
    }
    for (size_t i = 0; i < s->nbundle; i++)
        if (!sdp_find_mid(s, s->bundle[i])) {
            ps->line = ps->bundle_line;
            return fail(ps, SDP_ERR_SYNTAX, "a=group:BUNDLE: mid '%s' names no m-line",
                        s->bundle[i]);
        }
    resolve(s->ice_ufrag, sizeof s->ice_ufrag, s, offsetof(sdp_media_t, ice_ufrag));
    resolve(s->ice_pwd, sizeof s->ice_pwd, s, offsetof(sdp_media_t, ice_pwd));
    resolve(s->fingerprint, sizeof s->fingerprint, s, offsetof(sdp_media_t, fingerprint));
    resolve(s->setup, sizeof s->setup, s, offsetof(sdp_media_t, setup));
    if (!active) return 0;
    if (!s->ice_ufrag[0]) return fail(ps, SDP_ERR_MISSING, "missing a=ice-ufrag");
    if (!s->ice_pwd[0]) return fail(ps, SDP_ERR_MISSING, "missing a=ice-pwd");
    if (!s->fingerprint[0] && ps->badfp_line) {
        ps->line = ps->badfp_line;
        return fail(ps, SDP_ERR_UNSUPPORTED, "fingerprint must be sha-256 (got %s)", ps->badfp_alg);
    }
    if (!s->fingerprint[0]) return fail(ps, SDP_ERR_MISSING, "missing a=fingerprint");
    return 0;
}

int sdp_parse(const char *text, size_t len, sdp_t *out, char *err, size_t errlen)
{
    return sdp_parse_max(text, len, out, SDP_PUB_MEDIA, SDP_MAX_LEN, err, errlen);
}

int sdp_parse_max(const char *text, size_t len, sdp_t *out, size_t max_media, size_t max_len,
                  char *err, size_t errlen)
{
    parser_t ps = {.out = out, .max_media = max_media, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    if (!out || (!text && len) || max_media == 0 || max_media > SDP_MAX_MEDIA)
        return fail(&ps, SDP_ERR_INVAL, "invalid argument");
    memset(out, 0, sizeof *out);
    if (len > max_len)
        return fail(&ps, SDP_ERR_LIMIT, "description too long (%zu bytes, limit %zu)", len,
                    max_len);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        span_t l = {p, nl ? nl : end};
        p = nl ? nl + 1 : end;
        ps.line++;
        while (l.end > l.p && (l.end[-1] == '\r' || is_space(l.end[-1])))
            l.end--;
        if (l.p == l.end) continue; /* blank lines, e.g. a trailing one */
        int rc = parse_line(&ps, l, end);
        if (rc) return rc;
    }
    return finish(&ps);
}

/* ---- lookups --------------------------------------------------------------------- */

int sdp_find_codec(const sdp_media_t *m, const char *name)
{
    for (size_t i = 0; i < m->ncodecs; i++)
        if (strcasecmp(m->codecs[i].name, name) == 0) return (int)i;
    return -1;
}

const sdp_codec_t *sdp_codec_by_pt(const sdp_media_t *m, unsigned pt)
{
    return codec_by_pt((sdp_media_t *)m, pt);
}

int sdp_ext_id(const sdp_media_t *m, const char *uri)
{
    for (size_t i = 0; i < m->nextmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0) return m->extmaps[i].id;
    return 0;
}

const sdp_media_t *sdp_find_mid(const sdp_t *s, const char *mid)
{
    for (size_t i = 0; i < s->nmedia; i++)
        if (strcmp(s->media[i].mid, mid) == 0) return &s->media[i];
    return NULL;
}

const char *sdp_kind_name(sdp_kind_t k)
{
    switch (k) {
    case SDP_KIND_AUDIO:
        return "audio";
    case SDP_KIND_VIDEO:
        return "video";
    case SDP_KIND_APPLICATION:
        return "application";
    case SDP_KIND_OTHER:
        break;
    }
    return "other";
}

const char *sdp_dir_name(sdp_dir_t d)
{
    switch (d) {
    case SDP_DIR_SENDRECV:
        return "sendrecv";
    case SDP_DIR_SENDONLY:
        return "sendonly";
    case SDP_DIR_RECVONLY:
        return "recvonly";
    case SDP_DIR_INACTIVE:
        break;
    }
    return "inactive";
}

const char *sdp_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case SDP_ERR_SYNTAX:
        return "malformed SDP";
    case SDP_ERR_LIMIT:
        return "SDP exceeds a limit";
    case SDP_ERR_MISSING:
        return "SDP lacks a required line or attribute";
    case SDP_ERR_UNSUPPORTED:
        return "SDP not supported by the server";
    case SDP_ERR_NOSPACE:
        return "output buffer too small";
    case SDP_ERR_INVAL:
        return "invalid argument";
    }
    return "unknown error";
}
