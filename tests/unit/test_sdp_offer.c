/* sdp_offer: subscribe offers parsed back with sdp_parse, m-line recycling, payload type
 * stability, browser answers from tests/data/sdp/answers, every answer error. */
#include "sdp_offer.h"
#include "sdp_text.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SOBRE_TEST_DATA
#define SOBRE_TEST_DATA "tests/data"
#endif
#define DATA SOBRE_TEST_DATA "/sdp/answers/"

static sdp_t parsed;
static char offer[SDP_SUB_MAX_LEN], answer[SDP_SUB_MAX_LEN], text[SDP_SUB_MAX_LEN];
static char err[SDP_ERR_MAX];

#define OUR_FP                                                                                     \
    "sha-256 F5:F7:9F:2B:49:34:AF:87:F5:52:0B:69:B9:4B:0D:98:2E:85:BB:55:B6:72:A8:72:63:7A:"       \
    "CD:74:66:FC:B6:0E"
#define OUR_UFRAG "sobreSub"
#define OUR_PWD   "sobreSubPasswordOf24Chr"
#define CAND1     "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host"
#define CAND2     "a=candidate:2 1 udp 2130706175 2001:db8::10 40000 typ host"
/* The answering browser's. */
#define CLIENT_UFRAG "Xy7q"
#define CLIENT_PWD   "kP3mW9vQ2rT8sL5nH1jB6cZ4"
#define CLIENT_FP                                                                                  \
    "sha-256 3C:9D:5C:A5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:D9:1E:3F:72:1F:CB:19:71:"    \
    "17:44:94:D6:49"

static const char *const addrs[] = {"192.0.2.10", "2001:db8::10"};

static sdp_sub_params_t params(void)
{
    return (sdp_sub_params_t){
        .ice_ufrag = OUR_UFRAG,
        .ice_pwd = OUR_PWD,
        .fingerprint = OUR_FP,
        .cand_addrs = addrs,
        .ncand = 2,
        .port = 40000,
        .session_id = 7,
    };
}

/* Publisher p3 (Chrome): Opus + RED, VP8 and H264 with RTX, as sdp_answer negotiates them. */
#define OPUS_FMTP "minptime=10;useinbandfec=1;usedtx=1"
#define H264_FMTP "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
#define VIDEO_FB  (SDP_FB_GOOG_REMB | SDP_FB_CCM_FIR | SDP_FB_NACK | SDP_FB_NACK_PLI)

static const sdp_sub_codec_t audio_codecs[] = {
    {.name = "opus", .clock = 48000, .channels = 2, .fmtp = OPUS_FMTP, .pt = 111, .rtx_pt = -1},
    {.name = "red", .clock = 48000, .channels = 2, .fmtp = "111/111", .pt = 63, .rtx_pt = -1},
};
static const sdp_sub_codec_t video_codecs[] = {
    {.name = "VP8", .clock = 90000, .pt = 96, .rtx_pt = 97, .fb = VIDEO_FB},
    {.name = "H264", .clock = 90000, .fmtp = H264_FMTP, .pt = 106, .rtx_pt = 107, .fb = VIDEO_FB},
};
static const sdp_sub_ext_t audio_exts[] = {{SDP_EXT_AUDIO_LEVEL, 1}, {SDP_EXT_MID, 4}};
static const sdp_sub_ext_t video_exts[] = {
    {SDP_EXT_ABS_SEND_TIME, 2}, {SDP_EXT_VIDEO_ORIENT, 13}, {SDP_EXT_MID, 4}};

static sdp_sub_track_t audio_track(const char *peer, const char *id, uint32_t ssrc)
{
    return (sdp_sub_track_t){.kind = SDP_KIND_AUDIO,
                             .peer_id = peer,
                             .track_id = id,
                             .ssrc = ssrc,
                             .codecs = audio_codecs,
                             .ncodecs = 2,
                             .exts = audio_exts,
                             .nexts = 2};
}

static sdp_sub_track_t video_track(const char *peer, const char *id, uint32_t ssrc)
{
    return (sdp_sub_track_t){.kind = SDP_KIND_VIDEO,
                             .peer_id = peer,
                             .track_id = id,
                             .ssrc = ssrc,
                             .rtx_ssrc = ssrc + 1,
                             .codecs = video_codecs,
                             .ncodecs = 2,
                             .exts = video_exts,
                             .nexts = 3};
}

static int add(sdp_sub_t *s, sdp_sub_track_t t)
{
    int rc = sdp_sub_add_track(s, &t, err, sizeof err);
    if (rc < 0) fprintf(stderr, "add %s: %s\n", t.track_id, err);
    return rc;
}

/* Three tracks: p3's audio and video, then p5's audio (Firefox: Opus at 109). */
static const sdp_sub_codec_t ff_audio[] = {
    {.name = "opus", .clock = 48000, .channels = 2, .fmtp = OPUS_FMTP, .pt = 109, .rtx_pt = -1},
};

static sdp_sub_t *three_tracks(void)
{
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    CHECK(s != NULL);
    CHECK_INT(add(s, audio_track("p3", "p3-audio", 1001)), 0);
    CHECK_INT(add(s, video_track("p3", "p3-video", 2001)), 1);
    sdp_sub_track_t b = audio_track("p5", "p5-audio", 3001);
    b.codecs = ff_audio;
    b.ncodecs = 1;
    b.nexts = 1;
    CHECK_INT(add(s, b), 2);
    return s;
}

static int make_offer(sdp_sub_t *s)
{
    int rc = sdp_sub_offer(s, offer, sizeof offer, err, sizeof err);
    if (rc) fprintf(stderr, "offer: %s\n", err);
    return rc;
}

static int parse(const char *sdp)
{
    int rc =
        sdp_parse_max(sdp, strlen(sdp), &parsed, SDP_MAX_MEDIA, SDP_SUB_MAX_LEN, err, sizeof err);
    if (rc) fprintf(stderr, "parse: %s\n%s", err, sdp);
    return rc;
}

/* The answer a browser like Chrome gives to an offer: recvonly, setup active, its own ICE
 * and fingerprint on every m-line, no SSRCs or candidates of ours. Closed m-lines stay. */
static void answer_for(const char *o, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = o; *p;) {
        const char *nl = strstr(p, "\r\n");
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        p += n + (nl ? 2 : 0);
        const char *w = line;
        if (!strncmp(line, "a=ice-lite", 10) || !strncmp(line, "a=ssrc", 6) ||
            !strncmp(line, "a=msid", 6) || !strncmp(line, "a=candidate", 11) ||
            !strncmp(line, "a=end-of-candidates", 19))
            continue;
        if (!strncmp(line, "o=", 2)) w = "o=- 4611731400430051336 2 IN IP4 127.0.0.1";
        if (!strcmp(line, "a=setup:actpass")) w = "a=setup:active";
        if (!strcmp(line, "a=sendonly")) w = "a=recvonly";
        if (!strncmp(line, "a=ice-ufrag:", 12)) w = "a=ice-ufrag:" CLIENT_UFRAG;
        if (!strncmp(line, "a=ice-pwd:", 10)) w = "a=ice-pwd:" CLIENT_PWD;
        if (!strncmp(line, "a=fingerprint:", 14)) w = "a=fingerprint:" CLIENT_FP;
        len += (size_t)snprintf(out + len, cap - len, "%s\r\n", w);
    }
}

/* Offer, answer it like Chrome, apply. */
static int negotiate(sdp_sub_t *s)
{
    int rc = make_offer(s);
    if (rc) return rc;
    answer_for(offer, answer, sizeof answer);
    rc = sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err);
    if (rc) fprintf(stderr, "apply: %s\n%s", err, answer);
    return rc;
}

static size_t load(const char *name, char *dst, size_t cap)
{
    return load_sdp(DATA, name, dst, cap);
}

/* Replaces the first occurrence of from with to in s (capacity cap); false if absent. */
static bool replace(char *s, size_t cap, const char *from, const char *to)
{
    char *p = strstr(s, from);
    if (!p) return false;
    size_t fl = strlen(from), tl = strlen(to), rest = strlen(p + fl);
    if ((size_t)(p - s) + tl + rest + 1 > cap) return false;
    memmove(p + tl, p + fl, rest + 1);
    memcpy(p, to, tl);
    return true;
}

/* The 1-based number of the first line of sdp starting with prefix, or 0. */
static int line_of(const char *sdp, const char *prefix)
{
    int line = 1;
    for (const char *p = sdp; *p; line++) {
        if (!strncmp(p, prefix, strlen(prefix))) return line;
        p = strchr(p, '\n');
        if (!p) break;
        p++;
    }
    return 0;
}

/* ---- parameters ------------------------------------------------------------------ */

static void test_params(void)
{
    static const struct {
        const char *ufrag, *pwd, *fp, *addr, *cname;
        const char *msg;
    } bad[] = {
        {"abc", OUR_PWD, OUR_FP, "192.0.2.1", NULL, "ice_ufrag: 4..64 characters of [A-Za-z0-9+/]"},
        {NULL, OUR_PWD, OUR_FP, "192.0.2.1", NULL, "ice_ufrag: 4..64 characters of [A-Za-z0-9+/]"},
        {OUR_UFRAG, "short", OUR_FP, "192.0.2.1", NULL,
         "ice_pwd: 22..128 characters of [A-Za-z0-9+/]"},
        {OUR_UFRAG, OUR_PWD, "sha-1 AB", "192.0.2.1", NULL,
         "fingerprint: expected \"sha-256 AB:CD:...\""},
        {OUR_UFRAG, OUR_PWD, OUR_FP, "example.com", NULL,
         "cand_addrs[0]: not a numeric IP address"},
        {OUR_UFRAG, OUR_PWD, OUR_FP, "192.0.2.1", "a b", "cname: 1..64 visible ASCII characters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *a[1] = {bad[i].addr};
        sdp_sub_params_t p = params();
        p.ice_ufrag = bad[i].ufrag;
        p.ice_pwd = bad[i].pwd;
        p.fingerprint = bad[i].fp;
        p.cand_addrs = a;
        p.ncand = 1;
        p.cname = bad[i].cname;
        CHECK(sdp_sub_new(&p, err, sizeof err) == NULL);
        CHECK_STR(err, bad[i].msg);
    }
    sdp_sub_params_t p = params();
    p.ncand = SDP_SUB_MAX_CANDS + 1;
    CHECK(sdp_sub_new(&p, err, sizeof err) == NULL);
    CHECK_STR(err, "candidates: at most 8, with a port");
    CHECK(sdp_sub_new(NULL, err, sizeof err) == NULL);
    sdp_sub_free(NULL);
}

/* ---- offers ---------------------------------------------------------------------- */

static void test_empty_offer(void)
{
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    CHECK(!sdp_sub_pending(s) && !sdp_sub_dirty(s));
    CHECK_INT(make_offer(s), 0);
    CHECK(sdp_sub_pending(s));
    CHECK_INT(parse(offer), 0);
    CHECK(parsed.ice_lite);
    CHECK(parsed.session_id == 7);
    CHECK_INT(parsed.nmedia, 0);
    CHECK_INT(parsed.nbundle, 0);
    CHECK_INT(count_prefix(offer, "a=group:"), 0);
    CHECK_INT(count_line(offer, "o=- 7 1 IN IP4 127.0.0.1"), 1);
    CHECK_INT(count_line(offer, "a=msid-semantic: WMS *"), 1);
    /* One offer at a time. */
    CHECK_INT(sdp_sub_offer(s, offer, sizeof offer, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "an offer is pending: apply its answer before the next offer");
    const char *ans = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    CHECK_INT(sdp_sub_apply_answer(s, ans, strlen(ans), err, sizeof err), 0);
    CHECK(!sdp_sub_pending(s));
    CHECK_STR(sdp_sub_remote_ufrag(s), ""); /* nothing accepted: no transport yet */
    /* The next offer has the next version. */
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(count_line(offer, "o=- 7 2 IN IP4 127.0.0.1"), 1);
    sdp_sub_free(s);
}

static void test_one_track(void)
{
    sdp_sub_params_t p = params();
    p.cname = "sfu7";
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    CHECK_INT(add(s, audio_track("p3", "p3-audio", 1001)), 0);
    CHECK(sdp_sub_dirty(s));
    CHECK_INT(make_offer(s), 0);
    CHECK(!sdp_sub_dirty(s));
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, 1);
    CHECK_INT(parsed.nbundle, 1);
    CHECK_STR(parsed.bundle[0], "0");
    const sdp_media_t *m = &parsed.media[0];
    CHECK_STR(m->mid, "0");
    CHECK_INT(m->kind, SDP_KIND_AUDIO);
    CHECK_INT(m->port, 9);
    CHECK_STR(m->proto, "UDP/TLS/RTP/SAVPF");
    CHECK_INT(m->dir, SDP_DIR_SENDONLY);
    CHECK(m->rtcp_mux && m->rtcp_rsize);
    CHECK_STR(m->setup, "actpass");
    CHECK_STR(m->ice_ufrag, OUR_UFRAG);
    CHECK_STR(m->ice_pwd, OUR_PWD);
    CHECK_STR(m->fingerprint, OUR_FP);
    CHECK_STR(m->msid_stream, "p3");
    CHECK_STR(m->msid_track, "p3-audio");
    CHECK_INT(m->nssrcs, 1);
    CHECK(m->ssrcs[0] == 1001);
    CHECK_INT(m->nfid, 0);
    CHECK_INT(m->ncodecs, 2);
    CHECK_INT(m->codecs[0].pt, 111);
    CHECK_STR(m->codecs[0].name, "opus");
    CHECK_INT(m->codecs[0].channels, 2);
    CHECK_STR(m->codecs[0].fmtp, OPUS_FMTP);
    CHECK_INT(m->codecs[1].pt, 63);
    CHECK_STR(m->codecs[1].fmtp, "111/111");
    CHECK_INT(sdp_ext_id(m, SDP_EXT_AUDIO_LEVEL), 1);
    CHECK_INT(sdp_ext_id(m, SDP_EXT_MID), 4);
    CHECK_INT(count_line(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63"), 1);
    CHECK_INT(count_line(offer, "a=msid:p3 p3-audio"), 1);
    CHECK_INT(count_line(offer, "a=ssrc:1001 cname:sfu7"), 1);
    CHECK_INT(count_line(offer, "a=ssrc:1001 msid:p3 p3-audio"), 1);
    CHECK_INT(count_line(offer, CAND1), 1);
    CHECK_INT(count_line(offer, CAND2), 1);
    CHECK_INT(count_line(offer, "a=end-of-candidates"), 1);
    CHECK_INT(count_line(offer, "a=ice-lite"), 1);
    CHECK_INT(count_prefix(offer, "a=rtcp-fb:"), 0);
    /* The exact shape, once. */
    static const char want[] =
        "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=group:BUNDLE 0\r\n"
        "a=msid-semantic: WMS *\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
        "a=ice-ufrag:" OUR_UFRAG "\r\na=ice-pwd:" OUR_PWD "\r\na=fingerprint:" OUR_FP "\r\n"
        "a=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 " OPUS_FMTP "\r\n"
        "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"
        "a=extmap:1 " SDP_EXT_AUDIO_LEVEL "\r\na=extmap:4 " SDP_EXT_MID "\r\n"
        "a=msid:p3 p3-audio\r\na=ssrc:1001 cname:sfu7\r\na=ssrc:1001 msid:p3 p3-audio\r\n" CAND1
        "\r\n" CAND2 "\r\na=end-of-candidates\r\n";
    CHECK_STR(offer, want);
    sdp_sub_free(s);
}

static void test_three_tracks(void)
{
    sdp_sub_t *s = three_tracks();
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, 3);
    CHECK_INT(parsed.nbundle, 3);
    static const char *const mids[] = {"0", "1", "2"};
    static const char *const tracks[] = {"p3-audio", "p3-video", "p5-audio"};
    for (size_t i = 0; i < 3; i++) {
        const sdp_media_t *m = &parsed.media[i];
        CHECK_STR(m->mid, mids[i]);
        CHECK_STR(parsed.bundle[i], mids[i]);
        CHECK_INT(m->dir, SDP_DIR_SENDONLY);
        CHECK_INT(m->port, 9);
        CHECK(m->rtcp_mux);
        CHECK_STR(m->msid_track, tracks[i]);
    }
    CHECK_STR(parsed.media[2].msid_stream, "p5");
    const sdp_media_t *v = &parsed.media[1];
    CHECK_INT(v->kind, SDP_KIND_VIDEO);
    CHECK_INT(count_line(offer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107"), 1);
    CHECK_INT(v->nfid, 1);
    CHECK(v->fid[0].media == 2001 && v->fid[0].rtx == 2002);
    CHECK_INT(v->nssrcs, 2);
    CHECK_INT(sdp_codec_by_pt(v, 97)->apt, 96);
    CHECK_INT(sdp_codec_by_pt(v, 107)->apt, 106);
    CHECK_INT(sdp_codec_by_pt(v, 96)->fb, VIDEO_FB);
    CHECK_INT(sdp_codec_by_pt(v, 97)->fb, 0);
    CHECK_STR(sdp_codec_by_pt(v, 106)->fmtp, H264_FMTP);
    CHECK_INT(count_line(offer, "a=ssrc:2002 msid:p3 p3-video"), 1);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_ABS_SEND_TIME), 2);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_VIDEO_ORIENT), 13);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_MID), 4); /* one id per URI across the BUNDLE */
    /* p5's Opus is the same codec at another publisher payload type: one subscriber PT. */
    CHECK_INT(count_line(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), 1);
    CHECK_INT(sdp_sub_track_pt(s, "p5-audio", 109), 111);
    CHECK_INT(sdp_sub_track_pt(s, "p5-audio", 111), -1);
    CHECK_INT(sdp_sub_track_pt(s, "p3-video", 97), 97);
    CHECK_INT(sdp_sub_track_pt(s, "nope", 97), -1);
    CHECK_INT(count_prefix(offer, "a=candidate:"), 6);
    CHECK_INT(count_prefix(offer, "a=end-of-candidates"), 3);
    sdp_sub_track_info_t info;
    CHECK_INT(sdp_sub_track_info(s, "p3-video", &info), 0);
    CHECK_INT(info.mid, 1);
    CHECK(info.offered && !info.answered && !info.accepted);
    CHECK_INT(info.ncodecs, 2);
    CHECK_INT(info.codecs[1].sub_pt, 106);
    CHECK_INT(info.codecs[1].sub_rtx, 107);
    CHECK_INT(info.nexts, 3);
    CHECK_INT(info.exts[1].offer_id, 13);
    CHECK_INT(info.exts[1].sub_id, 0);
    CHECK_INT(sdp_sub_track_info(s, "nope", &info), SDP_ERR_INVAL);
    sdp_sub_free(s);
}

/* Payload types: the publisher's when free, else remapped, and stable for the connection. */
static void test_payload_types(void)
{
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    CHECK_INT(add(s, video_track("p3", "v3", 100)), 0);
    /* p5 sends Opus at 96 (VP8's here) with RED "96/96", and H264 at 111 with RTX at 63. */
    static const sdp_sub_codec_t a5[] = {
        {.name = "opus", .clock = 48000, .channels = 2, .fmtp = OPUS_FMTP, .pt = 96, .rtx_pt = -1},
        {.name = "red", .clock = 48000, .channels = 2, .fmtp = "96/96", .pt = 63, .rtx_pt = -1},
    };
    static const sdp_sub_codec_t v5[] = {
        {.name = "H264", .clock = 90000, .fmtp = H264_FMTP, .pt = 111, .rtx_pt = 63},
        {.name = "VP9", .clock = 90000, .fmtp = "profile-id=0", .pt = 98, .rtx_pt = 99},
    };
    sdp_sub_track_t t = audio_track("p5", "a5", 200);
    t.codecs = a5;
    CHECK_INT(add(s, t), 1);
    t = video_track("p5", "v5", 300);
    t.codecs = v5;
    CHECK_INT(add(s, t), 2);
    /* Opus wanted 96 (taken by VP8): first free dynamic type. */
    int opus = sdp_sub_track_pt(s, "a5", 96);
    CHECK_INT(opus, 98);
    CHECK_INT(sdp_sub_track_pt(s, "a5", 63), 63);
    CHECK_INT(sdp_sub_track_pt(s, "v5", 111), 106); /* same H264 as v3: its types */
    CHECK_INT(sdp_sub_track_pt(s, "v5", 63), 107);
    CHECK_INT(sdp_sub_track_pt(s, "v5", 98), 99);  /* 98 is Opus's now */
    CHECK_INT(sdp_sub_track_pt(s, "v5", 99), 100); /* 99 was just taken by VP9 */
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(count_line(offer, "a=fmtp:63 98/98"), 1); /* RED names the subscriber's Opus */
    CHECK_INT(count_line(offer, "m=video 9 UDP/TLS/RTP/SAVPF 106 107 99 100"), 1);
    CHECK_INT(count_line(offer, "a=fmtp:100 apt=99"), 1);
    /* No payload type means two codecs on the connection. */
    for (size_t i = 0; i < parsed.nmedia; i++)
        for (size_t j = 0; j < parsed.nmedia; j++)
            for (size_t a = 0; a < parsed.media[i].ncodecs; a++) {
                const sdp_codec_t *c = &parsed.media[i].codecs[a];
                const sdp_codec_t *d = sdp_codec_by_pt(&parsed.media[j], c->pt);
                CHECK(!d || (!strcmp(c->name, d->name) && !strcmp(c->fmtp, d->fmtp)));
            }
    /* Across renegotiations: same types; a codec seen anew later gets a new one. */
    answer_for(offer, answer, sizeof answer);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK_INT(sdp_sub_remove_track(s, "v3"), 0);
    CHECK_INT(negotiate(s), 0);
    t = video_track("p6", "v6", 400);
    CHECK_INT(add(s, t), 0); /* v3's m-line was the first one: kept inactive, same mid */
    CHECK_INT(sdp_sub_track_pt(s, "v6", 96), 96);
    CHECK_INT(sdp_sub_track_pt(s, "v6", 106), 106);
    CHECK_INT(sdp_sub_track_pt(s, "a5", 96), opus);
    static const sdp_sub_codec_t opus_mono[] = {
        {.name = "opus",
         .clock = 48000,
         .channels = 2,
         .fmtp = "stereo=0",
         .pt = 111,
         .rtx_pt = -1},
    };
    t = audio_track("p7", "a7", 500);
    t.codecs = opus_mono;
    t.ncodecs = 1;
    CHECK_INT(add(s, t), 3);
    CHECK_INT(sdp_sub_track_pt(s, "a7", 111), 111); /* free, so kept */
    CHECK_INT(negotiate(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(count_line(offer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107"), 1);
    CHECK_STR(parsed.media[0].mid, "0");
    CHECK_STR(parsed.media[0].msid_track, "v6");
    CHECK_STR(parsed.media[3].mid, "3");
    sdp_sub_free(s);
}

/* Ended tracks: port 0 in the next offer, recycled by a later add of the same kind. */
static void test_remove_recycle(void)
{
    sdp_sub_t *s = three_tracks();
    CHECK_INT(negotiate(s), 0);
    CHECK(!sdp_sub_dirty(s));
    CHECK_INT(sdp_sub_remove_track(s, "p3-video"), 0);
    CHECK_INT(sdp_sub_remove_track(s, "p3-video"), SDP_ERR_INVAL);
    CHECK(sdp_sub_dirty(s));
    sdp_sub_track_info_t info;
    CHECK_INT(sdp_sub_track_info(s, "p3-video", &info), SDP_ERR_INVAL);
    /* Not recyclable before its end has been offered: a new m-line. */
    CHECK_INT(add(s, video_track("p4", "p4-video", 4001)), 3);
    CHECK_INT(sdp_sub_remove_track(s, "p4-video"), 0); /* never offered: gone for good */
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, 3);
    CHECK_INT(count_line(offer, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    CHECK_INT(count_line(offer, "a=group:BUNDLE 0 2"), 1);
    CHECK_STR(parsed.media[1].mid, "1");
    CHECK_INT(parsed.media[1].port, 0);
    CHECK_INT(parsed.media[1].dir, SDP_DIR_INACTIVE);
    CHECK_INT(parsed.media[1].nssrcs, 0);
    /* A closed section still names the transport and one codec: aiortc 1.4 refuses an
     * offer whose closed section lacks them (tests/e2e room_aiortc). */
    CHECK(parsed.media[1].ice_ufrag[0] && parsed.media[1].fingerprint[0]);
    CHECK(parsed.media[1].rtcp_mux);
    CHECK_INT(parsed.media[1].ncodecs, 1);
    CHECK_INT(count_prefix(offer, "a=msid:"), 2);
    CHECK_INT(count_prefix(offer, "a=end-of-candidates"), 2);
    /* A track added while the offer is pending waits for the next one... */
    CHECK_INT(add(s, video_track("p6", "p6-video", 6001)), 4);
    CHECK(sdp_sub_dirty(s));
    answer_for(offer, answer, sizeof answer);
    CHECK_INT(count_line(answer, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK(sdp_sub_dirty(s));
    /* ...and recycled the closed m-line since that offer closed it: place 1, new mid. */
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, 3);
    CHECK_STR(parsed.media[1].mid, "4");
    CHECK_INT(parsed.media[1].port, 9);
    CHECK_INT(parsed.media[1].dir, SDP_DIR_SENDONLY);
    CHECK_STR(parsed.media[1].msid_stream, "p6");
    CHECK_STR(parsed.media[1].msid_track, "p6-video");
    CHECK(parsed.media[1].fid[0].media == 6001);
    CHECK_INT(count_line(offer, "a=group:BUNDLE 0 4 2"), 1);
    CHECK_INT(count_line(offer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107"), 1);
    answer_for(offer, answer, sizeof answer);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK_INT(sdp_sub_track_info(s, "p6-video", &info), 0);
    CHECK(info.mid == 4 && info.answered && info.accepted);

    /* The first m-line holds the BUNDLE transport: inactive, not closed; recycled with
     * its mid. */
    CHECK_INT(sdp_sub_remove_track(s, "p3-audio"), 0);
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.media[0].port, 9);
    CHECK_INT(parsed.media[0].dir, SDP_DIR_INACTIVE);
    CHECK_INT(parsed.media[0].nssrcs, 0);
    CHECK_STR(parsed.media[0].msid_stream, "");
    CHECK_INT(count_line(offer, "a=group:BUNDLE 0 4 2"), 1);
    CHECK_INT(count_line(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63"), 1);
    answer_for(offer, answer, sizeof answer);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK_INT(add(s, audio_track("p8", "p8-audio", 8001)), 0);
    CHECK_INT(negotiate(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_STR(parsed.media[0].mid, "0");
    CHECK_INT(parsed.media[0].dir, SDP_DIR_SENDONLY);
    CHECK_STR(parsed.media[0].msid_stream, "p8");
    CHECK_INT(sdp_sub_track_info(s, "p8-audio", &info), 0);
    CHECK(info.accepted);

    /* A recycling nobody saw is undone: the closed m-line keeps its mid. */
    CHECK_INT(sdp_sub_remove_track(s, "p6-video"), 0);
    CHECK_INT(negotiate(s), 0);
    CHECK_INT(count_line(offer, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    CHECK_INT(add(s, video_track("p9", "p9-video", 9001)), 5);
    CHECK_INT(sdp_sub_remove_track(s, "p9-video"), 0);
    CHECK(!sdp_sub_dirty(s));
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_STR(parsed.media[1].mid, "4");
    CHECK_INT(parsed.media[1].port, 0);
    sdp_sub_free(s);
}

/* ---- answers --------------------------------------------------------------------- */

/* The fixtures answer the offer of three_tracks(). */
static void test_browser_answers(void)
{
    static const char *const names[] = {"chrome_answer", "firefox_answer"};
    for (size_t f = 0; f < 2; f++) {
        sdp_sub_t *s = three_tracks();
        CHECK_INT(make_offer(s), 0);
        size_t n = load(names[f], text, sizeof text);
        int rc = sdp_sub_apply_answer(s, text, n, err, sizeof err);
        if (rc) fprintf(stderr, "%s: %s\n", names[f], err);
        CHECK_INT(rc, 0);
        CHECK(!sdp_sub_pending(s));
        CHECK_STR(sdp_sub_remote_ufrag(s), f ? "3c9e1a7f" : "Xy7q");
        CHECK_STR(sdp_sub_remote_fingerprint(s), CLIENT_FP);
        CHECK(strlen(sdp_sub_remote_pwd(s)) >= 22);
        sdp_sub_track_info_t info;
        CHECK_INT(sdp_sub_track_info(s, "p3-audio", &info), 0);
        CHECK(info.answered && info.accepted);
        CHECK(info.codecs[0].accepted);       /* Opus */
        CHECK(info.codecs[1].accepted == !f); /* RED: Chrome yes, Firefox no */
        CHECK_INT(info.exts[0].sub_id, 1);    /* audio level */
        CHECK_INT(info.exts[1].sub_id, 4);    /* mid */
        CHECK_INT(sdp_sub_track_info(s, "p3-video", &info), 0);
        CHECK(info.accepted);
        CHECK(info.codecs[0].accepted && info.codecs[0].rtx_accepted); /* VP8 */
        CHECK(info.codecs[1].accepted == !f);                          /* H264 */
        CHECK_INT(info.exts[0].sub_id, f ? 0 : 2);                     /* abs-send-time */
        CHECK_INT(info.exts[1].sub_id, 13);
        CHECK_INT(info.exts[2].sub_id, 4);
        CHECK_INT(sdp_sub_track_info(s, "p5-audio", &info), 0);
        CHECK(info.accepted && info.codecs[0].accepted);
        sdp_sub_free(s);
    }
}

/* Chrome rejecting an m-line (no decoder): the track stays, not accepted, and the dead
 * m-line is shown closed until the track ends and a new one recycles it. */
static void test_rejected_by_client(void)
{
    sdp_sub_t *s = three_tracks();
    CHECK_INT(make_offer(s), 0);
    answer_for(offer, answer, sizeof answer);
    CHECK(replace(answer, sizeof answer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107",
                  "m=video 0 UDP/TLS/RTP/SAVPF 96 97 106 107"));
    CHECK(replace(answer, sizeof answer, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 2"));
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    sdp_sub_track_info_t info;
    CHECK_INT(sdp_sub_track_info(s, "p3-video", &info), 0);
    CHECK(info.answered && !info.accepted && !info.codecs[0].accepted);
    CHECK(!sdp_sub_dirty(s));
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(count_line(offer, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    answer_for(offer, answer, sizeof answer);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK_INT(sdp_sub_remove_track(s, "p3-video"), 0);
    CHECK_INT(add(s, video_track("p4", "p4-video", 4001)), 3);
    CHECK_INT(negotiate(s), 0);
    CHECK_INT(count_line(offer, "a=group:BUNDLE 0 3 2"), 1);
    sdp_sub_free(s);
}

static void test_answer_errors(void)
{
    static const struct {
        const char *from, *to;
        int rc;
        const char *msg;
    } cases[] = {
        {"a=mid:1", "a=mid:7", SDP_ERR_SYNTAX, "line 5: a=group:BUNDLE: mid '1' names no m-line"},
        {"a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 2 1", 0, NULL},
        {"a=rtcp-mux\r\n", "", SDP_ERR_UNSUPPORTED, "line M: mid '0': a=rtcp-mux is required"},
        {"a=recvonly", "a=sendrecv", SDP_ERR_UNSUPPORTED,
         "line M: mid '0': direction sendrecv (expected recvonly or inactive)"},
        {"a=recvonly", "a=sendonly", SDP_ERR_UNSUPPORTED,
         "line M: mid '0': direction sendonly (expected recvonly or inactive)"},
        {"a=recvonly", "a=inactive", 0, NULL},
        {"a=setup:active", "a=setup:passive", SDP_ERR_UNSUPPORTED,
         "line M: mid '0': a=setup:passive, but the server is the DTLS server (answer "
         "a=setup:active)"},
        {"a=setup:active", "a=setup:actpass", SDP_ERR_UNSUPPORTED,
         "line M: mid '0': a=setup:actpass, but the server is the DTLS server (answer "
         "a=setup:active)"},
        {"a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 2", SDP_ERR_UNSUPPORTED, NULL},
        {"a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/44100/2", SDP_ERR_UNSUPPORTED,
         "line M: mid '0': payload type 111 (opus) was not offered on this m-line"},
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0",
         SDP_ERR_UNSUPPORTED,
         "line M: mid '0': payload type 0 (PCMU) was not offered on this m-line"},
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=audio 9 UDP/TLS/RTP/SAVPF 63",
         SDP_ERR_UNSUPPORTED, "line M: mid '0': no codec accepted"},
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=video 9 UDP/TLS/RTP/SAVPF 111 63",
         SDP_ERR_UNSUPPORTED, "line M: mid '0': m=video, but the offer's is audio"},
        {"a=ice-ufrag:" CLIENT_UFRAG "\r\na=ice-pwd", "a=ice-ufrag:Other\r\na=ice-pwd",
         SDP_ERR_UNSUPPORTED, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sdp_sub_t *s = three_tracks();
        CHECK_INT(make_offer(s), 0);
        answer_for(offer, answer, sizeof answer);
        CHECK(replace(answer, sizeof answer, cases[i].from, cases[i].to));
        int rc = sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err);
        if (rc != cases[i].rc) fprintf(stderr, "case %zu: %s\n", i, err);
        CHECK_INT(rc, cases[i].rc);
        /* "line M": the line of the answer's first m-line, whose mid is '0'. */
        if (cases[i].msg && !strncmp(cases[i].msg, "line M:", 7)) {
            char want[SDP_ERR_MAX];
            snprintf(want, sizeof want, "line %d:%s", line_of(answer, "m="), cases[i].msg + 7);
            CHECK_STR(err, want);
        } else if (cases[i].msg) {
            CHECK_STR(err, cases[i].msg);
        }
        CHECK(sdp_sub_pending(s) == (rc != 0));
        sdp_sub_free(s);
    }

    sdp_sub_t *s = three_tracks();
    /* No offer pending. */
    CHECK_INT(sdp_sub_apply_answer(s, "v=0\r\n", 5, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "no offer is pending");
    CHECK_INT(make_offer(s), 0);
    answer_for(offer, answer, sizeof answer);
    /* Wrong number of m-lines: the last one dropped. */
    char *last = strstr(answer, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    CHECK(last != NULL);
    static char cut[SDP_SUB_MAX_LEN];
    snprintf(cut, sizeof cut, "%.*s", (int)(last - answer), answer);
    CHECK(replace(cut, sizeof cut, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1"));
    CHECK_INT(sdp_sub_apply_answer(s, cut, strlen(cut), err, sizeof err), SDP_ERR_UNSUPPORTED);
    CHECK_STR(err, "the answer has 2 m-lines, the offer 3");
    /* Mids swapped between two m-lines: the first mismatch is named. */
    snprintf(cut, sizeof cut, "%s", answer);
    CHECK(replace(cut, sizeof cut, "a=mid:1\r\n", "a=mid:X\r\n"));
    CHECK(replace(cut, sizeof cut, "a=mid:2\r\n", "a=mid:1\r\n"));
    CHECK(replace(cut, sizeof cut, "a=mid:X\r\n", "a=mid:2\r\n"));
    CHECK(replace(cut, sizeof cut, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 2 1"));
    CHECK_INT(sdp_sub_apply_answer(s, cut, strlen(cut), err, sizeof err), SDP_ERR_UNSUPPORTED);
    CHECK(strstr(err, "m-line 2: mid '2', but the offer's is '1'") != NULL);
    /* Not SDP at all: the parser's message. */
    CHECK_INT(sdp_sub_apply_answer(s, "hello", 5, err, sizeof err), SDP_ERR_SYNTAX);
    CHECK_STR(err, "line 1: expected <type>=<value> (a lower-case letter, '=')");
    CHECK(sdp_sub_pending(s));
    /* The good answer still applies after the bad ones. */
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), SDP_ERR_INVAL);

    /* A closed m-line accepted in the answer. */
    CHECK_INT(sdp_sub_remove_track(s, "p5-audio"), 0);
    CHECK_INT(make_offer(s), 0);
    answer_for(offer, answer, sizeof answer);
    CHECK(replace(answer, sizeof answer, "m=audio 0 UDP/TLS/RTP/SAVPF 111",
                  "m=audio 9 UDP/TLS/RTP/SAVPF 111"));
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err),
              SDP_ERR_UNSUPPORTED);
    CHECK(strstr(err, "mid '2': closed in the offer, the answer must reject it (port 0)") != NULL);
    sdp_sub_free(s);
}

/* ---- tracks ---------------------------------------------------------------------- */

static void test_add_errors(void)
{
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    CHECK_INT(add(s, audio_track("p3", "a3", 1)), 0);
    sdp_sub_track_t t = audio_track("p3", "a3", 2);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "track_id: 'a3' is already on mid '0'");
    t = audio_track("p4", "a4", 1);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "ssrc: 1 already used by track 'a3'");
    t = audio_track("p4 x", "a4", 5);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "peer_id: 1..16 token characters");
    t = audio_track("p4567890123456789", "a4", 5);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    t = audio_track("p4", "", 5);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "track_id: 1..64 token characters");
    t = audio_track("p4", "a4", 0);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    t = audio_track("p4", "a4", 5);
    t.kind = SDP_KIND_APPLICATION;
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "kind: audio or video");
    t = audio_track("p4", "a4", 5);
    t.ncodecs = 0;
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "codecs: 1..8");
    sdp_sub_codec_t c[2] = {audio_codecs[0], audio_codecs[1]};
    t.codecs = c;
    t.ncodecs = 2;
    c[1].fmtp = "110/110"; /* RED naming a codec the track lacks */
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "codecs[1]: red fmtp '110/110' names a payload type the track lacks");
    c[1] = audio_codecs[1];
    c[1].fmtp = "a=b\r\nx";
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "codecs[1]: fmtp: at most 255 printable characters");
    c[1] = audio_codecs[1];
    c[1].name = "rtx";
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    c[1] = audio_codecs[1];
    c[1].clock = 0;
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    c[1] = audio_codecs[1];
    sdp_sub_ext_t e = {"bad uri", 3};
    t.exts = &e;
    t.nexts = 1;
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_INVAL);
    CHECK_STR(err, "exts[0]: uri of 1..127 visible characters, id 1..255");
    CHECK(sdp_sub_dirty(s)); /* a3 is still unoffered; the failed adds changed nothing */

    /* a3 brought 2 URIs; 12 more fill the 14 one-byte ids, a 15th URI has none left and
     * nothing is kept of its track. */
    char uris[13][32];
    sdp_sub_ext_t many[13];
    for (int i = 0; i < 13; i++) {
        snprintf(uris[i], sizeof uris[i], "urn:x:%d", i);
        many[i] = (sdp_sub_ext_t){uris[i], (uint8_t)(i + 1)};
    }
    t = audio_track("p4", "a4", 5);
    t.exts = many;
    t.nexts = 12;
    CHECK_INT(add(s, t), 1);
    t = audio_track("p5", "a5", 6);
    t.exts = many + 1;
    t.nexts = 12; /* urn:x:12 is new */
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_LIMIT);
    CHECK_STR(err, "exts: more than 14 URIs on this connection");
    t.nexts = 11; /* urn:x:1..11: all known */
    CHECK_INT(add(s, t), 2);
    sdp_sub_track_info_t info;
    CHECK_INT(sdp_sub_track_info(s, "a4", &info), 0);
    CHECK_INT(info.nexts, 12);
    /* a3's audio level and mid took 1 and 4: urn:x:0 (publisher's 1) gets 2, and every
     * id is distinct. */
    CHECK_INT(info.exts[0].offer_id, 2);
    unsigned used = 1u << 1 | 1u << 4;
    for (size_t i = 0; i < info.nexts; i++) {
        CHECK(info.exts[i].offer_id >= 1 && info.exts[i].offer_id <= 14);
        CHECK(!(used & 1u << info.exts[i].offer_id));
        used |= 1u << info.exts[i].offer_id;
    }

    /* Slots run out at SDP_SUB_MAX_SLOTS. */
    for (int i = 3; i < SDP_SUB_MAX_SLOTS; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i);
        CHECK_INT(add(s, audio_track("p9", id, 100 + (uint32_t)i)), i);
    }
    t = audio_track("p9", "last", 999);
    CHECK_INT(sdp_sub_add_track(s, &t, err, sizeof err), SDP_ERR_LIMIT);
    CHECK_STR(err, "no m-line left on this connection (limit 128)");
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, SDP_SUB_MAX_SLOTS);
    answer_for(offer, answer, sizeof answer);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    CHECK_INT(sdp_sub_remove_track(s, NULL), SDP_ERR_INVAL);
    CHECK_INT(sdp_sub_add_track(NULL, &t, err, sizeof err), SDP_ERR_INVAL);
    sdp_sub_free(s);
}

/* A full connection, half audio half video as in a large video room: the offer and a
 * Chrome-like answer fit SDP_SUB_MAX_LEN, and the answer is applied. */
static void test_full_connection_size(void)
{
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    for (int i = 0; i < SDP_SUB_MAX_SLOTS / 2; i++) {
        char peer[16], a[32], v[32];
        snprintf(peer, sizeof peer, "peer%d", i);
        snprintf(a, sizeof a, "peer%d-audio", i);
        snprintf(v, sizeof v, "peer%d-video", i);
        CHECK_INT(add(s, audio_track(peer, a, 10000 + 4 * (uint32_t)i)), 2 * i);
        CHECK_INT(add(s, video_track(peer, v, 10002 + 4 * (uint32_t)i)), 2 * i + 1);
    }
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, SDP_SUB_MAX_SLOTS);
    answer_for(offer, answer, sizeof answer);
    printf("offer of %d m-lines: %zu bytes, answer: %zu bytes\n", SDP_SUB_MAX_SLOTS, strlen(offer),
           strlen(answer));
    CHECK(strlen(offer) < SDP_SUB_MAX_LEN / 2);
    CHECK_INT(sdp_sub_apply_answer(s, answer, strlen(answer), err, sizeof err), 0);
    sdp_sub_track_info_t info;
    CHECK_INT(sdp_sub_track_info(s, "peer63-video", &info), 0);
    CHECK(info.accepted);
    sdp_sub_free(s);
}

/* Payload types run out after 61 distinct codecs... or at 32 identities first. */
static void test_codec_limit(void)
{
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    char fmtps[40][16];
    sdp_sub_codec_t c[8];
    int added = 0, rc = 0;
    for (int k = 0; k < 5 && rc >= 0; k++) {
        for (int i = 0; i < 8; i++) {
            snprintf(fmtps[k * 8 + i], sizeof fmtps[0], "x=%d", k * 8 + i);
            c[i] = (sdp_sub_codec_t){
                .name = "VP8", .clock = 90000, .fmtp = fmtps[k * 8 + i], .pt = 96, .rtx_pt = 97};
        }
        char id[16];
        snprintf(id, sizeof id, "v%d", k);
        sdp_sub_track_t t = video_track("p", id, 10 + 2 * (uint32_t)k);
        t.codecs = c;
        t.ncodecs = 8;
        rc = sdp_sub_add_track(s, &t, err, sizeof err);
        added += rc >= 0;
    }
    /* 8 codecs + 8 RTX per track: 61 dynamic types hold three tracks and a half. */
    CHECK_INT(added, 3);
    CHECK_INT(rc, SDP_ERR_LIMIT);
    CHECK(strstr(err, "no payload type left") != NULL);
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(parse(offer), 0);
    CHECK_INT(parsed.nmedia, 3);
    sdp_sub_free(s);
}

static void test_codecs_from_media(void)
{
    static const char pub[] =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
        "a=fingerprint:" OUR_FP "\r\na=setup:passive\r\na=recvonly\r\na=rtcp-mux\r\n"
        "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
        "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
        "a=rtpmap:106 H264/90000\r\na=fmtp:106 " H264_FMTP "\r\n"
        "a=rtpmap:107 rtx/90000\r\na=fmtp:107 apt=106\r\n";
    CHECK_INT(parse(pub), 0);
    sdp_sub_codec_t c[8];
    size_t n = sdp_sub_codecs_from_media(&parsed.media[0], c, 8);
    CHECK_INT(n, 2);
    CHECK_STR(c[0].name, "VP8");
    CHECK_INT(c[0].pt, 96);
    CHECK_INT(c[0].rtx_pt, 97);
    CHECK_INT(c[0].fb, SDP_FB_NACK | SDP_FB_NACK_PLI);
    CHECK_STR(c[1].fmtp, H264_FMTP);
    CHECK_INT(c[1].rtx_pt, 107);
    CHECK_INT(sdp_sub_codecs_from_media(&parsed.media[0], c, 1), 1);
    sdp_sub_params_t p = params();
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    sdp_sub_track_t t = video_track("p1", "v1", 50);
    t.codecs = c;
    t.ncodecs = sdp_sub_codecs_from_media(&parsed.media[0], c, 8);
    CHECK_INT(add(s, t), 0);
    CHECK_INT(make_offer(s), 0);
    CHECK_INT(count_line(offer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107"), 1);
    sdp_sub_free(s);
}

/* Every capacity short of the offer fails cleanly, writes nothing past cap, and leaves no
 * offer pending. */
static void test_nospace(void)
{
    sdp_sub_t *s = three_tracks();
    CHECK_INT(make_offer(s), 0);
    size_t need = strlen(offer);
    static char full[SDP_SUB_MAX_LEN];
    memcpy(full, offer, need + 1);
    sdp_sub_free(s);
    s = three_tracks();
    static char buf[SDP_SUB_MAX_LEN];
    int failures = 0;
    for (size_t cap = 0; cap <= need; cap++) {
        memset(buf, '#', sizeof buf);
        int rc = sdp_sub_offer(s, buf, cap, err, sizeof err);
        bool ok = rc == SDP_ERR_NOSPACE && (cap == 0 || buf[0] == '\0') && !sdp_sub_pending(s);
        for (size_t k = cap; k < need + 16; k++)
            ok = ok && buf[k] == '#';
        failures += !ok;
    }
    CHECK_INT(failures, 0);
    char msg[64];
    snprintf(msg, sizeof msg, "offer does not fit in %zu bytes", need);
    CHECK_STR(err, msg);
    CHECK(sdp_sub_dirty(s));
    CHECK_INT(sdp_sub_offer(s, buf, need + 1, err, sizeof err), 0);
    CHECK_STR(buf, full);
    sdp_sub_free(s);
}

int main(void)
{
    test_params();
    test_empty_offer();
    test_one_track();
    test_three_tracks();
    test_payload_types();
    test_remove_recycle();
    test_browser_answers();
    test_rejected_by_client();
    test_answer_errors();
    test_add_errors();
    test_full_connection_size();
    test_codec_limit();
    test_codecs_from_media();
    test_nospace();
    TEST_END();
}
