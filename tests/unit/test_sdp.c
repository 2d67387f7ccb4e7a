/* SDP: browser offers from tests/data/sdp, every parse error, the answer's rules checked
 * line by line and by parsing the answer back. */
#include "sdp.h"
#include "sdp_text.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SOBRE_TEST_DATA
#define SOBRE_TEST_DATA "tests/data"
#endif
#define DATA SOBRE_TEST_DATA "/sdp/"

/* Large value types: one of each, reused. */
static sdp_t offer, ans;
static char text[SDP_MAX_LEN + 2];
static char out[SDP_MAX_LEN];
static char err[SDP_ERR_MAX];

#define FP_A                                                                                       \
    "A5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:D9:1E:3F:72:1F:CB:19:71:17:44:94:D6:49:"      \
    "3C:9D:5C"
#define OUR_FP                                                                                     \
    "sha-256 F5:F7:9F:2B:49:34:AF:87:F5:52:0B:69:B9:4B:0D:98:2E:85:BB:55:B6:72:A8:72:63:7A:"       \
    "CD:74:66:FC:B6:0E"
#define OUR_UFRAG "sobreU"
#define OUR_PWD   "sobrePasswordOf24Chars00"
#define CAND1     "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host"
#define CAND2     "a=candidate:2 1 udp 2130706175 2001:db8::10 40000 typ host"

static const char *const addrs[] = {"192.0.2.10", "2001:db8::10"};

static sdp_answer_params_t params(void)
{
    return (sdp_answer_params_t){
        .ice_ufrag = OUR_UFRAG,
        .ice_pwd = OUR_PWD,
        .fingerprint = OUR_FP,
        .cand_addrs = addrs,
        .ncand = 2,
        .port = 40000,
        .session_id = 42,
        .allow_video = true,
        .twcc = true,
    };
}

static size_t load(const char *name)
{
    return load_sdp(DATA, name, text, sizeof text);
}

static int parse_text(const char *s, sdp_t *dst)
{
    return sdp_parse(s, strlen(s), dst, err, sizeof err);
}

/* ---- fixtures -------------------------------------------------------------------- */

static const struct fixture {
    const char *name;
    uint64_t session_id;
    const char *ufrag;
    size_t nmedia;
    sdp_kind_t kind[3];
    sdp_dir_t dir[3];
    size_t ncodecs[3];
    size_t nextmaps[3];
    size_t nssrcs[3];
    size_t nfid[3];
    /* The answer's m= lines (default parameters). */
    const char *answer_m[3];
} fixtures[] = {
    {"chrome_publish",
     4215775240449105457ull,
     "Fk3b",
     2,
     {SDP_KIND_AUDIO, SDP_KIND_VIDEO},
     {SDP_DIR_SENDONLY, SDP_DIR_SENDONLY},
     {8, 25},
     {4, 11},
     {1, 2},
     {0, 1},
     {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107"}},
    {"chrome_sendrecv",
     8036541137125539771ull,
     "Zq7T",
     3,
     {SDP_KIND_AUDIO, SDP_KIND_VIDEO, SDP_KIND_APPLICATION},
     {SDP_DIR_SENDRECV, SDP_DIR_SENDRECV, SDP_DIR_SENDRECV},
     {8, 25, 0},
     {4, 11, 0},
     {1, 2, 0},
     {0, 1, 0},
     {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107",
      "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"}},
    {"chrome_simulcast",
     2749513245818563102ull,
     "pW8x",
     2,
     {SDP_KIND_AUDIO, SDP_KIND_VIDEO},
     {SDP_DIR_SENDONLY, SDP_DIR_SENDONLY},
     {8, 11},
     {4, 11},
     {1, 0},
     {0, 0},
     {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=video 9 UDP/TLS/RTP/SAVPF 96 97 106 107"}},
    {"firefox_publish",
     5143578627929385410ull,
     "3c9e1a7f",
     2,
     {SDP_KIND_AUDIO, SDP_KIND_VIDEO},
     {SDP_DIR_SENDRECV, SDP_DIR_SENDRECV},
     {5, 11},
     {3, 5},
     {1, 2},
     {0, 1},
     {"m=audio 9 UDP/TLS/RTP/SAVPF 109", "m=video 9 UDP/TLS/RTP/SAVPF 120 124 126 127"}},
    {"safari_publish",
     6102345987721234567ull,
     "mQ4v",
     2,
     {SDP_KIND_AUDIO, SDP_KIND_VIDEO},
     {SDP_DIR_SENDONLY, SDP_DIR_SENDONLY},
     {8, 12},
     {4, 11},
     {1, 2},
     {0, 1},
     {"m=audio 9 UDP/TLS/RTP/SAVPF 111 63", "m=video 9 UDP/TLS/RTP/SAVPF 98 99 127 125"}},
    {"aiortc_offer",
     3899874285ull,
     "k7Qm",
     2,
     {SDP_KIND_AUDIO, SDP_KIND_VIDEO},
     {SDP_DIR_SENDRECV, SDP_DIR_SENDRECV},
     {3, 6},
     {2, 2},
     {1, 2},
     {0, 1},
     {"m=audio 9 UDP/TLS/RTP/SAVPF 96", "m=video 9 UDP/TLS/RTP/SAVPF 97 98 101 102"}},
};

#define NFIXTURES (sizeof fixtures / sizeof fixtures[0])

static void test_fixture_table(void)
{
    for (size_t f = 0; f < NFIXTURES; f++) {
        const struct fixture *fx = &fixtures[f];
        size_t n = load(fx->name);
        int rc = sdp_parse(text, n, &offer, err, sizeof err);
        if (rc) fprintf(stderr, "%s: %s\n", fx->name, err);
        CHECK_INT(rc, 0);
        CHECK(offer.session_id == fx->session_id);
        CHECK_STR(offer.ice_ufrag, fx->ufrag);
        CHECK_INT(strlen(offer.ice_pwd) >= 22, 1);
        CHECK_INT(strncmp(offer.fingerprint, "sha-256 ", 8), 0);
        CHECK_STR(offer.setup, "actpass");
        CHECK(!offer.ice_lite);
        CHECK_INT(offer.nmedia, fx->nmedia);
        CHECK_INT(offer.nbundle, fx->nmedia);
        for (size_t i = 0; i < fx->nmedia; i++) {
            const sdp_media_t *m = &offer.media[i];
            char mid[24];
            snprintf(mid, sizeof mid, "%zu", i);
            CHECK_STR(m->mid, mid);
            CHECK_STR(offer.bundle[i], mid);
            CHECK_INT(m->kind, fx->kind[i]);
            CHECK_INT(m->dir, fx->dir[i]);
            CHECK_INT(m->port, 9);
            CHECK_INT(m->ncodecs, fx->ncodecs[i]);
            CHECK_INT(m->nextmaps, fx->nextmaps[i]);
            CHECK_INT(m->nssrcs, fx->nssrcs[i]);
            CHECK_INT(m->nfid, fx->nfid[i]);
            CHECK_INT(m->rtcp_mux, m->kind != SDP_KIND_APPLICATION);
            CHECK(m->line > 0);
            if (m->kind != SDP_KIND_APPLICATION) CHECK(m->msid_stream[0] && m->msid_track[0]);
            CHECK(sdp_find_mid(&offer, mid) == m);
        }
    }
}

static void test_chrome_publish(void)
{
    size_t n = load("chrome_publish");
    CHECK_INT(sdp_parse(text, n, &offer, err, sizeof err), 0);
    CHECK_STR(offer.ice_pwd, "rS9bwN0Gq2cXf7uTzLp4Kd1e");
    CHECK_STR(offer.fingerprint, "sha-256 " FP_A);
    const sdp_media_t *a = &offer.media[0], *v = &offer.media[1];
    CHECK_INT(a->line, 8);
    CHECK_INT(v->line, 38);
    CHECK_STR(a->proto, "UDP/TLS/RTP/SAVPF");
    CHECK_STR(a->kind_name, "audio");
    CHECK_STR(a->ice_ufrag, "Fk3b");
    CHECK_STR(a->fingerprint, "sha-256 " FP_A);
    CHECK(a->rtcp_rsize);
    CHECK_INT(a->codecs[0].pt, 111);
    CHECK_STR(a->codecs[0].name, "opus");
    CHECK_INT(a->codecs[0].clock, 48000);
    CHECK_INT(a->codecs[0].channels, 2);
    CHECK_STR(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    CHECK_INT(a->codecs[0].fb, SDP_FB_TRANSPORT_CC);
    CHECK_INT(a->codecs[0].apt, -1);
    CHECK_INT(sdp_find_codec(a, "RED"), 1);
    CHECK_STR(a->codecs[1].fmtp, "111/111");
    CHECK_STR(sdp_codec_by_pt(a, 0)->name, "PCMU");
    CHECK_INT(sdp_codec_by_pt(a, 0)->clock, 8000);
    CHECK(sdp_codec_by_pt(a, 96) == NULL);
    CHECK_INT(sdp_ext_id(a, SDP_EXT_AUDIO_LEVEL), 1);
    CHECK_INT(sdp_ext_id(a, SDP_EXT_MID), 4);
    CHECK_INT(sdp_ext_id(a, SDP_EXT_VIDEO_ORIENT), 0);
    CHECK(a->ssrcs[0] == 3735928559u);
    CHECK_STR(a->msid_stream, "5f3d7c1e-8a2b-4c6d-9e0f-1a2b3c4d5e6f");
    CHECK_STR(a->msid_track, "0b9c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e");

    CHECK_INT(sdp_find_codec(v, "vp8"), 0);
    CHECK_INT(v->codecs[0].fb, SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_GOOG_REMB |
                                   SDP_FB_TRANSPORT_CC);
    CHECK_STR(sdp_codec_by_pt(v, 97)->name, "rtx");
    CHECK_INT(sdp_codec_by_pt(v, 97)->apt, 96);
    CHECK_INT(sdp_codec_by_pt(v, 97)->fb, 0);
    CHECK_STR(sdp_codec_by_pt(v, 106)->fmtp,
              "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    CHECK_INT(sdp_codec_by_pt(v, 118)->apt, -1);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_ABS_SEND_TIME), 2);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_VIDEO_ORIENT), 13);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_REPAIRED_RID), 11);
    CHECK(!v->extmaps[0].dir_set);
    CHECK(v->fid[0].media == 2882400001u && v->fid[0].rtx == 2882400002u);
    CHECK(v->ssrcs[0] == 2882400001u && v->ssrcs[1] == 2882400002u);
    CHECK_STR(v->msid_track, "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f");
    CHECK_INT(v->nrids, 0);
    CHECK(!v->simulcast);

    /* The same offer with LF line ends parses to the same thing. */
    static sdp_t lf;
    char *w = text;
    for (const char *r = text; *r; r++)
        if (*r != '\r') *w++ = *r;
    *w = '\0';
    CHECK_INT(sdp_parse(text, strlen(text), &lf, err, sizeof err), 0);
    CHECK(memcmp(&lf, &offer, sizeof lf) == 0);
}

static void test_other_fixtures(void)
{
    CHECK_INT(parse_text((load("chrome_sendrecv"), text), &offer), 0);
    const sdp_media_t *d = &offer.media[2];
    CHECK_STR(d->kind_name, "application");
    CHECK_STR(d->proto, "UDP/DTLS/SCTP");
    CHECK_STR(d->fmt0, "webrtc-datachannel");
    CHECK_INT(d->line, 169);

    CHECK_INT(parse_text((load("chrome_simulcast"), text), &offer), 0);
    const sdp_media_t *v = &offer.media[1];
    CHECK(v->simulcast);
    CHECK_INT(v->nrids, 3);
    CHECK_STR(v->rids[0].id, "h");
    CHECK_STR(v->rids[1].id, "m");
    CHECK_STR(v->rids[2].id, "l");
    CHECK(v->rids[0].send && v->rids[1].send && v->rids[2].send);
    CHECK_INT(sdp_ext_id(v, SDP_EXT_RID), 10);
    CHECK_INT(v->nsim_send, 3);
    CHECK_INT(v->nsim_recv, 0);
    CHECK_STR(v->sim_send[0], "h");
    CHECK_STR(v->sim_send[2], "l");

    /* Firefox: session-level fingerprint and direction, extmap with a direction. */
    CHECK_INT(parse_text((load("firefox_publish"), text), &offer), 0);
    const sdp_media_t *a = &offer.media[0];
    v = &offer.media[1];
    CHECK_STR(a->fingerprint, "");
    CHECK_STR(offer.fingerprint,
              "sha-256 27:A0:AE:B3:FE:E9:23:2F:8A:F2:21:1F:9E:E4:91:C5:B1:0B:EC:B5:56:3B:FC:"
              "1E:6F:93:42:7E:CB:C8:FE:29");
    CHECK_STR(offer.ice_pwd, "6bd2a7b4d9e5f1c3a8b0e2d4f6a1c3e5");
    CHECK(a->extmaps[1].dir_set && a->extmaps[1].dir == SDP_DIR_RECVONLY);
    CHECK_INT(a->extmaps[1].id, 2);
    CHECK_STR(a->codecs[0].name, "opus");
    CHECK_STR(a->codecs[1].name, "G722");
    CHECK_INT(a->codecs[1].channels, 1);
    CHECK_STR(a->msid_stream, "{4c3e2a1b-0f9d-4e8c-b7a6-958473625140}");
    CHECK_INT(v->codecs[0].pt, 120);
    CHECK_INT(sdp_codec_by_pt(v, 124)->apt, 120);
    CHECK_INT(sdp_codec_by_pt(v, 119)->apt, 122);
    CHECK_STR(sdp_codec_by_pt(v, 121)->name, "VP9");
    CHECK_STR(sdp_codec_by_pt(v, 97)->fmtp, "profile-level-id=42e01f;level-asymmetry-allowed=1");
    CHECK(v->ssrcs[0] == 1856734021u && v->ssrcs[1] == 3321459087u);
    CHECK(v->fid[0].media == 1856734021u && v->fid[0].rtx == 3321459087u);
    CHECK(v->extmaps[3].dir_set && v->extmaps[3].dir == SDP_DIR_RECVONLY);

    CHECK_INT(parse_text((load("safari_publish"), text), &offer), 0);
    v = &offer.media[1];
    CHECK_STR(v->codecs[0].name, "H264");
    CHECK_STR(v->codecs[4].name, "H265");
    CHECK_INT(sdp_find_codec(v, "VP8"), 6);
    CHECK(!offer.media[0].rtcp_rsize);

    /* aiortc: sha-256 among three fingerprints, candidates and end-of-candidates. */
    CHECK_INT(parse_text((load("aiortc_offer"), text), &offer), 0);
    CHECK_STR(offer.media[0].fingerprint,
              "sha-256 CC:C9:35:F6:CD:1F:61:22:6A:E1:53:38:AE:1A:34:00:4D:33:BA:0D:24:6A:C0:"
              "4C:81:B1:BA:F2:3E:3B:F9:EE");
    CHECK_STR(offer.ice_pwd, "Tq2Wx5Yz8Ab1Cd4Ef7Gh0J");
    CHECK_STR(offer.media[0].codecs[1].name, "PCMU");
    CHECK_INT(offer.media[0].codecs[0].channels, 2);
}

/* ---- parse errors ---------------------------------------------------------------- */

/* A minimal valid offer: m= on line 6, a=rtpmap on line 14. */
#define HDR    "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\na=group:BUNDLE 0\n"
#define MHEAD  "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:0\na=rtcp-mux\n"
#define UFRAG  "a=ice-ufrag:abcd\n"
#define PWD    "a=ice-pwd:abcdefghijklmnopqrstuv\n"
#define FPLINE "a=fingerprint:sha-256 " FP_A "\n"
#define SETUP  "a=setup:actpass\n"
#define ICE    UFRAG PWD FPLINE SETUP
#define OPUS   "a=rtpmap:111 opus/48000/2\n"
#define AUDIO  MHEAD ICE OPUS
#define LONG16 "abcdefghijklmnop"
#define LONG64 LONG16 LONG16 LONG16 LONG16

static const struct bad {
    const char *sdp;
    int code;
    const char *msg;
} bad[] = {
    {"", SDP_ERR_MISSING, "empty description (no v= line)"},
    {"\r\n\n", SDP_ERR_MISSING, "empty description (no v= line)"},
    {"s=-\n", SDP_ERR_SYNTAX, "line 1: the first line must be v=0"},
    {"v=1\n", SDP_ERR_UNSUPPORTED, "line 1: v=: version must be 0"},
    {"v=0\nhello\n", SDP_ERR_SYNTAX, "line 2: expected <type>=<value> (a lower-case letter, '=')"},
    {"v=0\nS=x\n", SDP_ERR_SYNTAX, "line 2: expected <type>=<value> (a lower-case letter, '=')"},
    {"v=0\ns=a\001b\n", SDP_ERR_SYNTAX, "line 2: control character 0x01"},
    {"v=0\ns=a\rb\n", SDP_ERR_SYNTAX, "line 2: control character 0x0d"},
    {"v=0\ns=-\n", SDP_ERR_MISSING, "missing o= line"},
    {"v=0\no=-\n", SDP_ERR_SYNTAX, "line 2: o=: expected <username> <session id> ..."},
    {"v=0\no=- abc 2 IN IP4 0.0.0.0\n", SDP_ERR_SYNTAX,
     "line 2: o=: session id 'abc' is not a number below 2^64"},
    {"v=0\no=- 18446744073709551616 2 IN IP4 0.0.0.0\n", SDP_ERR_SYNTAX,
     "line 2: o=: session id '18446744073709551616' is not a number below 2^64"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF\n", SDP_ERR_SYNTAX,
     "line 6: m=: expected <media> <port> <proto> <format>..."},
    {HDR "m=audio 70000 UDP/TLS/RTP/SAVPF 111\n", SDP_ERR_SYNTAX,
     "line 6: m=: port '70000' is not a number in 0..65535"},
    {HDR "m=audio -1 UDP/TLS/RTP/SAVPF 111\n", SDP_ERR_SYNTAX,
     "line 6: m=: port '-1' is not a number in 0..65535"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111 300\n", SDP_ERR_LIMIT,
     "line 6: m=: payload type 300 out of range 0..127"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF opus\n", SDP_ERR_SYNTAX,
     "line 6: m=: payload type 'opus' is not a number"},
    {HDR "m=" LONG16 " 9 UDP/TLS/RTP/SAVPF 0\n", SDP_ERR_LIMIT,
     "line 6: m=: media type: too long (16 bytes, limit 15)"},
    {HDR "m=audio 9 " LONG16 LONG16 " 0\n", SDP_ERR_LIMIT,
     "line 6: m=: protocol: too long (32 bytes, limit 31)"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=rtcp-mux\n" ICE OPUS,
     SDP_ERR_MISSING, "line 6: m-line 1 (audio): missing a=mid"},
    {HDR AUDIO "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:0\n", SDP_ERR_SYNTAX,
     "line 16: a=mid: '0' already used by m-line 1"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:" LONG16 LONG16 "x\n",
     SDP_ERR_LIMIT, "line 8: a=mid: too long (33 bytes, limit 32)"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:a\"b\n", SDP_ERR_SYNTAX,
     "line 8: a=mid: invalid character"},
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:\n", SDP_ERR_SYNTAX,
     "line 8: a=mid: empty value"},
    {"v=0\no=- 1 2 IN IP4 127.0.0.1\na=group:BUNDLE 0 x\n" AUDIO, SDP_ERR_SYNTAX,
     "line 3: a=group:BUNDLE: mid 'x' names no m-line"},
    {"v=0\no=- 1 2 IN IP4 127.0.0.1\na=group:BUNDLE 0 1 2 3 4 5 6 7 8 9 a b c d e f g\n",
     SDP_ERR_LIMIT, "line 3: a=group:BUNDLE: too many mids (limit 16)"},
    {HDR MHEAD PWD FPLINE SETUP OPUS, SDP_ERR_MISSING, "missing a=ice-ufrag"},
    {HDR MHEAD "a=ice-ufrag:abc\n", SDP_ERR_SYNTAX,
     "line 10: a=ice-ufrag: too short (3 chars, minimum 4)"},
    {HDR MHEAD "a=ice-ufrag:" LONG64 "x\n", SDP_ERR_LIMIT,
     "line 10: a=ice-ufrag: too long (65 bytes, limit 64)"},
    {HDR MHEAD "a=ice-ufrag:ab:cd\n", SDP_ERR_SYNTAX, "line 10: a=ice-ufrag: invalid character"},
    {HDR MHEAD UFRAG FPLINE SETUP OPUS, SDP_ERR_MISSING, "missing a=ice-pwd"},
    {HDR MHEAD UFRAG "a=ice-pwd:abcdefghijklmnopqrstu\n", SDP_ERR_SYNTAX,
     "line 11: a=ice-pwd: too short (21 chars, minimum 22)"},
    {HDR MHEAD UFRAG "a=ice-pwd:" LONG64 LONG64 "x\n", SDP_ERR_LIMIT,
     "line 11: a=ice-pwd: too long (129 bytes, limit 128)"},
    {HDR MHEAD UFRAG PWD SETUP OPUS, SDP_ERR_MISSING, "missing a=fingerprint"},
    {HDR MHEAD UFRAG PWD
     "a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\n" SETUP OPUS,
     SDP_ERR_UNSUPPORTED, "line 12: fingerprint must be sha-256 (got sha-1)"},
    {HDR MHEAD UFRAG PWD "a=fingerprint:sha-256 A5:4D:CA\n", SDP_ERR_SYNTAX,
     "line 12: a=fingerprint: malformed sha-256 value (expected 32 hex bytes separated by "
     "colons)"},
    {HDR MHEAD UFRAG PWD
     "a=fingerprint:sha-256 "
     "G5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:D9:1E:3F:72:1F:CB:19:71:17:44:94:D6:49:"
     "3C:9D:5C\n",
     SDP_ERR_SYNTAX,
     "line 12: a=fingerprint: malformed sha-256 value (expected 32 hex bytes separated by "
     "colons)"},
    {HDR MHEAD UFRAG PWD "a=fingerprint:sha-256\n", SDP_ERR_SYNTAX,
     "line 12: a=fingerprint: expected <hash function> <value>"},
    {HDR MHEAD UFRAG PWD FPLINE "a=setup:server\n", SDP_ERR_SYNTAX,
     "line 13: a=setup: unknown role 'server'"},
    {HDR MHEAD ICE "a=rtpmap:300 opus/48000/2\n", SDP_ERR_LIMIT,
     "line 14: a=rtpmap: payload type 300 out of range 0..127"},
    {HDR MHEAD ICE "a=rtpmap:111 opus\n", SDP_ERR_SYNTAX,
     "line 14: a=rtpmap: expected <pt> <name>/<clock>[/<channels>]"},
    {HDR MHEAD ICE "a=rtpmap:111 opus/0/2\n", SDP_ERR_SYNTAX,
     "line 14: a=rtpmap: clock rate '0' is not a number in 1..4294967295"},
    {HDR MHEAD ICE "a=rtpmap:111 opus/4294967296\n", SDP_ERR_SYNTAX,
     "line 14: a=rtpmap: clock rate '4294967296' is not a number in 1..4294967295"},
    {HDR MHEAD ICE "a=rtpmap:111 opus/48000/256\n", SDP_ERR_SYNTAX,
     "line 14: a=rtpmap: channel count '256' is not a number in 1..255"},
    {HDR MHEAD ICE "a=rtpmap:111 " LONG16 "/48000\n", SDP_ERR_LIMIT,
     "line 14: a=rtpmap: encoding name: too long (16 bytes, limit 15)"},
    {HDR AUDIO "a=fmtp:111 " LONG64 LONG64 LONG64 LONG64 "\n", SDP_ERR_LIMIT,
     "line 15: a=fmtp: parameters: too long (256 bytes, limit 255)"},
    {HDR AUDIO "a=fmtp:111 apt=200\n", SDP_ERR_LIMIT,
     "line 15: a=fmtp: apt: payload type 200 out of range 0..127"},
    {HDR AUDIO "a=fmtp:\n", SDP_ERR_SYNTAX, "line 15: a=fmtp: expected <pt> <parameters>"},
    {HDR AUDIO "a=fmtp:x y\n", SDP_ERR_SYNTAX, "line 15: a=fmtp: payload type 'x' is not a number"},
    {HDR AUDIO "a=rtcp-fb:111\n", SDP_ERR_SYNTAX,
     "line 15: a=rtcp-fb: expected <pt> <type> [<parameter>]"},
    {HDR AUDIO "a=rtcp-fb:128 nack\n", SDP_ERR_LIMIT,
     "line 15: a=rtcp-fb: payload type 128 out of range 0..127"},
    {HDR AUDIO "a=extmap:1\n", SDP_ERR_SYNTAX,
     "line 15: a=extmap: expected <id>[/<direction>] <uri>"},
    {HDR AUDIO "a=extmap:0 " SDP_EXT_MID "\n", SDP_ERR_LIMIT,
     "line 15: a=extmap: id 0 out of range 1..255"},
    {HDR AUDIO "a=extmap:256 " SDP_EXT_MID "\n", SDP_ERR_LIMIT,
     "line 15: a=extmap: id 256 out of range 1..255"},
    {HDR AUDIO "a=extmap:x " SDP_EXT_MID "\n", SDP_ERR_SYNTAX,
     "line 15: a=extmap: id 'x' is not a number"},
    {HDR AUDIO "a=extmap:1/sideways " SDP_EXT_MID "\n", SDP_ERR_SYNTAX,
     "line 15: a=extmap: unknown direction 'sideways'"},
    {HDR AUDIO "a=extmap:1 " SDP_EXT_MID "\na=extmap:1 " SDP_EXT_AUDIO_LEVEL "\n", SDP_ERR_SYNTAX,
     "line 16: a=extmap: id 1 used twice"},
    {HDR AUDIO "a=extmap:1 urn:" LONG64 LONG64 "\n", SDP_ERR_LIMIT,
     "line 15: a=extmap: URI: too long (132 bytes, limit 127)"},
    {HDR AUDIO "a=ssrc:4294967296 cname:x\n", SDP_ERR_SYNTAX,
     "line 15: a=ssrc: SSRC '4294967296' is not a number in 0..4294967295"},
    {HDR AUDIO "a=ssrc:\n", SDP_ERR_SYNTAX, "line 15: a=ssrc: expected <ssrc> <attribute>"},
    {HDR AUDIO "a=ssrc:1 a\na=ssrc:2 a\na=ssrc:3 a\na=ssrc:4 a\na=ssrc:5 a\na=ssrc:6 a\n"
               "a=ssrc:7 a\na=ssrc:8 a\na=ssrc:8 b\na=ssrc:9 a\n",
     SDP_ERR_LIMIT, "line 24: a=ssrc: too many SSRCs (limit 8)"},
    {HDR AUDIO "a=ssrc-group:FID 1\n", SDP_ERR_SYNTAX,
     "line 15: a=ssrc-group:FID: expected <media ssrc> <rtx ssrc>"},
    {HDR AUDIO "a=ssrc-group:FID 1 x\n", SDP_ERR_SYNTAX,
     "line 15: a=ssrc-group:FID: SSRC 'x' is not a number in 0..4294967295"},
    {HDR AUDIO "a=ssrc-group:FID 1 2\na=ssrc-group:FID 1 2\na=ssrc-group:FID 1 2\n"
               "a=ssrc-group:FID 1 2\na=ssrc-group:FID 1 2\na=ssrc-group:FID 1 2\n"
               "a=ssrc-group:FID 1 2\na=ssrc-group:FID 1 2\na=ssrc-group:FID 1 2\n",
     SDP_ERR_LIMIT, "line 23: a=ssrc-group:FID: too many groups (limit 8)"},
    {HDR AUDIO "a=rid:a send\na=rid:b send\na=rid:c send\na=rid:d send\na=rid:e send\n",
     SDP_ERR_LIMIT, "line 19: a=rid: too many (limit 4)"},
    {HDR AUDIO "a=rid:a sideways\n", SDP_ERR_SYNTAX,
     "line 15: a=rid: direction must be send or recv"},
    {HDR AUDIO "a=rid:a\n", SDP_ERR_SYNTAX, "line 15: a=rid: expected <id> send|recv"},
    {HDR AUDIO "a=rid:" LONG16 "x send\n", SDP_ERR_LIMIT,
     "line 15: a=rid: id: too long (17 bytes, limit 16)"},
    {HDR AUDIO "a=rid:a.b send\n", SDP_ERR_SYNTAX, "line 15: a=rid: id: invalid character"},
    {HDR AUDIO "a=rid:a send\na=rid:a send\n", SDP_ERR_SYNTAX, "line 16: a=rid: id 'a' used twice"},
    {HDR AUDIO "a=simulcast:send\n", SDP_ERR_SYNTAX,
     "line 15: a=simulcast: expected send|recv <streams>"},
    {HDR AUDIO "a=simulcast:both a;b\n", SDP_ERR_SYNTAX,
     "line 15: a=simulcast: direction must be send or recv"},
    {HDR AUDIO "a=simulcast:send a;b;c;d;e\n", SDP_ERR_LIMIT,
     "line 15: a=simulcast: too many streams (limit 4)"},
    {HDR AUDIO "a=simulcast:send a;;b\n", SDP_ERR_SYNTAX, "line 15: a=simulcast: rid: empty value"},
    {HDR AUDIO "a=simulcast:send a;b.c\n", SDP_ERR_SYNTAX,
     "line 15: a=simulcast: rid: invalid character"},
    {HDR AUDIO "a=msid:" LONG64 "x t\n", SDP_ERR_LIMIT,
     "line 15: a=msid: too long (65 bytes, limit 64)"},
    {HDR AUDIO "a=msid:s " LONG64 "x\n", SDP_ERR_LIMIT,
     "line 15: a=msid: too long (65 bytes, limit 64)"},
    {HDR AUDIO "a=msid:\n", SDP_ERR_SYNTAX, "line 15: a=msid: expected <stream id>"},
    {HDR AUDIO "a=ssrc:1 msid:" LONG64 "x\n", SDP_ERR_LIMIT,
     "line 15: a=ssrc: msid: too long (65 bytes, limit 64)"},
};

/* a=simulcast: alternatives (the first is kept), paused streams, the older "rid=" form. */
static void test_parse_simulcast(void)
{
    CHECK_INT(parse_text(HDR AUDIO "a=simulcast:send rid=lo,x;~mid;hi recv r1\n", &offer), 0);
    const sdp_media_t *v = &offer.media[0];
    CHECK_INT(v->nsim_send, 3);
    CHECK_STR(v->sim_send[0], "lo");
    CHECK_STR(v->sim_send[1], "mid");
    CHECK_STR(v->sim_send[2], "hi");
    CHECK_INT(v->nsim_recv, 1);
    CHECK_STR(v->sim_recv[0], "r1");
}

static void test_parse_errors(void)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(err, 'x', sizeof err);
        int rc = parse_text(bad[i].sdp, &offer);
        if (rc != bad[i].code || strcmp(err, bad[i].msg) != 0)
            fprintf(stderr, "bad[%zu]: rc %d, \"%s\"\n", i, rc, err);
        CHECK_INT(rc, bad[i].code);
        CHECK_STR(err, bad[i].msg);
    }
    /* The minimal offer itself is fine. */
    CHECK_INT(parse_text(HDR AUDIO, &offer), 0);
    CHECK_STR(err, "");
}

static void test_parse_limits(void)
{
    /* 17 m-lines: the message counts them all. */
    size_t n = (size_t)snprintf(text, sizeof text, HDR);
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "m=audio 9 RTP/SAVPF 0\na=mid:%d\n", i);
    CHECK_INT(parse_text(text, &offer), SDP_ERR_LIMIT);
    CHECK_STR(err, "too many m-lines (20, limit 16)");

    /* Too long; and exactly the limit (a long ignored line) is fine. */
    n = (size_t)snprintf(text, sizeof text, HDR AUDIO "a=x-pad:");
    memset(text + n, 'p', SDP_MAX_LEN - n - 1);
    text[SDP_MAX_LEN - 1] = '\n';
    CHECK_INT(sdp_parse(text, SDP_MAX_LEN, &offer, err, sizeof err), 0);
    text[SDP_MAX_LEN] = '\n';
    CHECK_INT(sdp_parse(text, SDP_MAX_LEN + 1, &offer, err, sizeof err), SDP_ERR_LIMIT);
    CHECK_STR(err, "description too long (65537 bytes, limit 65536)");

    /* A short error buffer gets a truncated, terminated message; NULL is allowed. */
    char small[8];
    CHECK_INT(sdp_parse("v=1\n", 4, &offer, small, sizeof small), SDP_ERR_UNSUPPORTED);
    CHECK_STR(small, "line 1:");
    CHECK_INT(sdp_parse("v=1\n", 4, &offer, NULL, 0), SDP_ERR_UNSUPPORTED);
    CHECK_INT(sdp_parse(NULL, 4, &offer, err, sizeof err), SDP_ERR_INVAL);
    CHECK_INT(sdp_parse("v=0\n", 4, NULL, err, sizeof err), SDP_ERR_INVAL);
    /* Not NUL-terminated: only len bytes are read. */
    CHECK_INT(sdp_parse(HDR AUDIO "garbage", strlen(HDR AUDIO), &offer, err, sizeof err), 0);
}

static void test_parse_lenient(void)
{
    /* Blank lines, trailing blanks, runs of spaces, unknown attributes and lines, a
     * candidate, no final newline, lower-case fingerprint, port/count, rtcp-fb:*. */
    static const char *const sdp =
        "v=0\r\n\r\no=- 7 2 IN IP4 127.0.0.1  \r\ns=-\r\nt=0 0\r\nz=whatever\r\n"
        "a=group:BUNDLE 0\r\na=group:BUNDLE 9\r\na=recvonly\r\na=x-unknown:1 2 3\r\n"
        "a=ice-lite\r\n"
        "m=audio 9/2 UDP/TLS/RTP/SAVPF   111  0 111\r\nc=IN IP4 0.0.0.0\r\nb=AS:64\r\n"
        "a=mid:0\r\na=rtcp-mux\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
        "a=fingerprint:SHA-256 a5:4d:ca:18:25:30:bb:1d:6d:13:2c:de:d6:23:7b:2e:d9:1e:3f:72:"
        "1f:cb:19:71:17:44:94:d6:49:3c:9d:5c\r\n"
        "a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"
        "a=setup:ACTIVE\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:112 nothere/8000\r\n"
        "a=rtcp-fb:* nack\r\na=rtcp-fb:111 nack pli\r\na=rtcp-fb:111 unknown-fb\r\n"
        "a=fmtp:111  useinbandfec=1 ; apt = 5 \r\na=fmtp:112 apt=1\r\n"
        "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n"
        "a=ssrc:5 msid:from-ssrc t\r\na=msid:explicit track\r\na=ssrc:6 msid:late t\r\n"
        "a=ssrc-group:SIM 1 2 3\r\na=simulcast:send a;b\r\na=x-flag\r\na=sendrecv";
    CHECK_INT(parse_text(sdp, &offer), 0);
    CHECK_STR(err, "");
    CHECK(offer.ice_lite);
    CHECK(offer.session_id == 7);
    CHECK_INT(offer.nbundle, 1);
    const sdp_media_t *m = &offer.media[0];
    CHECK_INT(m->port, 9);
    CHECK_INT(m->line, 12);
    CHECK_INT(m->ncodecs, 2);
    CHECK_INT(m->dir, SDP_DIR_SENDRECV);
    CHECK_STR(offer.fingerprint, "sha-256 " FP_A);
    CHECK_STR(offer.setup, "active");
    CHECK_INT(m->codecs[0].fb, SDP_FB_NACK | SDP_FB_NACK_PLI);
    CHECK_INT(m->codecs[1].fb, SDP_FB_NACK);
    CHECK_STR(m->codecs[0].fmtp, "useinbandfec=1 ; apt = 5");
    CHECK_INT(m->codecs[0].apt, 5);
    CHECK_STR(m->codecs[1].name, "PCMU");
    CHECK_STR(m->msid_stream, "explicit");
    CHECK_STR(m->msid_track, "track");
    CHECK_INT(m->nssrcs, 2);
    CHECK(m->simulcast);
    CHECK_INT(m->nfid, 0);

    /* Session-level direction is inherited; a=ssrc msid fills in for a missing a=msid. */
    CHECK_INT(parse_text(HDR "a=inactive\n" AUDIO "a=ssrc:5 msid:s t\n", &offer), 0);
    CHECK_INT(offer.media[0].dir, SDP_DIR_INACTIVE);
    CHECK_STR(offer.media[0].msid_stream, "s");
    CHECK_STR(offer.media[0].msid_track, "t");

    /* More than SDP_MAX_CODECS payload types or SDP_MAX_EXTMAPS extensions: the first ones
     * are kept. */
    size_t n = (size_t)snprintf(text, sizeof text, HDR "m=video 9 UDP/TLS/RTP/SAVPF");
    for (int pt = 90; pt < 127; pt++)
        n += (size_t)snprintf(text + n, sizeof text - n, " %d", pt);
    n += (size_t)snprintf(text + n, sizeof text - n, "\na=mid:0\n" ICE);
    for (int id = 1; id <= 20; id++)
        n += (size_t)snprintf(text + n, sizeof text - n, "a=extmap:%d urn:x:%d\n", id, id);
    CHECK_INT(parse_text(text, &offer), 0);
    CHECK_INT(offer.media[0].ncodecs, SDP_MAX_CODECS);
    CHECK_INT(offer.media[0].codecs[31].pt, 121);
    CHECK_INT(offer.media[0].nextmaps, SDP_MAX_EXTMAPS);

    /* No active m-line: no transport attributes needed. An empty session is valid. */
    CHECK_INT(parse_text(HDR "m=audio 0 UDP/TLS/RTP/SAVPF 0\na=mid:0\n", &offer), 0);
    CHECK_INT(parse_text("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", &offer), 0);
    CHECK_INT(offer.nmedia, 0);
    /* But a bundle-only m-line (port 0) is active. */
    CHECK_INT(parse_text(HDR "m=audio 0 UDP/TLS/RTP/SAVPF 0\na=mid:0\na=bundle-only\n", &offer),
              SDP_ERR_MISSING);
    CHECK_STR(err, "missing a=ice-ufrag");

    /* Session-level credentials are resolved from the first bundled m-line. */
    CHECK_INT(parse_text(HDR AUDIO, &offer), 0);
    CHECK_STR(offer.ice_ufrag, "abcd");
    CHECK_STR(offer.ice_pwd, "abcdefghijklmnopqrstuv");
    CHECK_STR(offer.setup, "actpass");
}

static void test_names(void)
{
    CHECK_STR(sdp_kind_name(SDP_KIND_AUDIO), "audio");
    CHECK_STR(sdp_kind_name(SDP_KIND_VIDEO), "video");
    CHECK_STR(sdp_kind_name(SDP_KIND_APPLICATION), "application");
    CHECK_STR(sdp_kind_name(SDP_KIND_OTHER), "other");
    CHECK_STR(sdp_dir_name(SDP_DIR_SENDRECV), "sendrecv");
    CHECK_STR(sdp_dir_name(SDP_DIR_SENDONLY), "sendonly");
    CHECK_STR(sdp_dir_name(SDP_DIR_RECVONLY), "recvonly");
    CHECK_STR(sdp_dir_name(SDP_DIR_INACTIVE), "inactive");
    for (int e = 0; e >= SDP_ERR_INVAL; e--)
        CHECK(strcmp(sdp_strerror(e), "unknown error") != 0);
    CHECK_STR(sdp_strerror(-100), "unknown error");
}

/* ---- answers --------------------------------------------------------------------- */

/* The rid extensions only where the answer receives simulcast. */
/* Transport-wide congestion control is accepted outside echo rooms (the server sends the
 * publisher transport-cc feedback). */
static bool accepted_uri(const char *uri, bool simulcast, bool echo)
{
    return !strcmp(uri, SDP_EXT_MID) || !strcmp(uri, SDP_EXT_AUDIO_LEVEL) ||
           !strcmp(uri, SDP_EXT_VIDEO_ORIENT) || !strcmp(uri, SDP_EXT_ABS_SEND_TIME) ||
           (!echo && !strcmp(uri, SDP_EXT_TRANSPORT_CC)) ||
           (simulcast && (!strcmp(uri, SDP_EXT_RID) || !strcmp(uri, SDP_EXT_REPAIRED_RID)));
}

static sdp_dir_t expected_dir(sdp_dir_t offered, bool echo)
{
    if (offered == SDP_DIR_SENDONLY) return SDP_DIR_RECVONLY;
    if (offered == SDP_DIR_SENDRECV) return echo ? SDP_DIR_SENDRECV : SDP_DIR_RECVONLY;
    return SDP_DIR_INACTIVE;
}

/* The rules every answer follows, checked on the text and on the answer parsed back. */
static void check_answer(const sdp_t *o, const sdp_answer_params_t *p, const char *a)
{
    bool twcc = p->twcc && !p->echo;
    CHECK(strncmp(a, "v=0\r\no=- ", 9) == 0);
    CHECK_INT(count_line(a, "a=ice-lite"), 1);
    if (strstr(a, "\r\nm=")) CHECK(strstr(a, "\r\na=ice-lite\r\n") < strstr(a, "\r\nm="));
    int rc = parse_text(a, &ans);
    if (rc) fprintf(stderr, "answer does not parse back: %s\n%s", err, a);
    CHECK_INT(rc, 0);
    CHECK(ans.ice_lite);
    CHECK(ans.session_id == p->session_id);
    CHECK_INT(ans.nmedia, o->nmedia);
    size_t naccepted = 0;
    for (size_t i = 0; i < o->nmedia && i < ans.nmedia; i++) {
        const sdp_media_t *om = &o->media[i], *am = &ans.media[i];
        CHECK_STR(am->mid, om->mid);
        CHECK_STR(am->kind_name, om->kind_name);
        if (am->port == 0) {
            CHECK_STR(am->proto, om->proto);
            CHECK_STR(am->fmt0, om->fmt0);
            continue;
        }
        CHECK_INT(am->port, 9);
        CHECK(naccepted < ans.nbundle && !strcmp(ans.bundle[naccepted], am->mid));
        naccepted++;
        CHECK_STR(am->proto, "UDP/TLS/RTP/SAVPF");
        CHECK(am->rtcp_mux);
        CHECK_INT(am->rtcp_rsize, om->rtcp_rsize);
        CHECK_STR(am->setup, "passive");
        CHECK_STR(am->ice_ufrag, p->ice_ufrag);
        CHECK_STR(am->ice_pwd, p->ice_pwd);
        CHECK_STR(am->fingerprint, p->fingerprint);
        CHECK_INT(am->dir, expected_dir(om->dir, p->echo));
        CHECK(am->ncodecs > 0);
        for (size_t k = 0; k < am->ncodecs; k++) {
            const sdp_codec_t *ac = &am->codecs[k];
            const sdp_codec_t *oc = sdp_codec_by_pt(om, ac->pt);
            CHECK(oc != NULL);
            if (!oc) continue;
            CHECK_STR(ac->name, oc->name);
            CHECK_INT(ac->clock, oc->clock);
            CHECK(!strcasecmp(ac->name, "opus") || !strcasecmp(ac->name, "red") ||
                  !strcasecmp(ac->name, "VP8") || !strcasecmp(ac->name, "H264") ||
                  !strcasecmp(ac->name, "rtx"));
            if (!twcc) CHECK(!(ac->fb & SDP_FB_TRANSPORT_CC));
            CHECK_INT(ac->fb & ~oc->fb, 0);
            CHECK_INT(ac->fb, strcasecmp(ac->name, "rtx")
                                  ? oc->fb & ~(twcc ? 0u : SDP_FB_TRANSPORT_CC)
                                  : 0);
            if (!strcasecmp(ac->name, "rtx")) {
                CHECK_INT(ac->apt, oc->apt);
                CHECK(sdp_codec_by_pt(am, (unsigned)ac->apt) != NULL);
            }
            if (!strcasecmp(ac->name, "H264")) CHECK_STR(ac->fmtp, oc->fmtp);
        }
        for (size_t k = 0; k < am->nextmaps; k++) {
            CHECK(accepted_uri(am->extmaps[k].uri, am->nsim_recv > 0, !twcc));
            CHECK_INT(am->extmaps[k].id, sdp_ext_id(om, am->extmaps[k].uri));
        }
        for (size_t k = 0; k < om->nextmaps; k++)
            if (accepted_uri(om->extmaps[k].uri, am->nsim_recv > 0, !twcc))
                CHECK_INT(sdp_ext_id(am, om->extmaps[k].uri), om->extmaps[k].id);
        if (!(p->echo && am->dir == SDP_DIR_SENDRECV)) {
            CHECK_INT(am->nssrcs, 0);
            CHECK_STR(am->msid_stream, "");
        }
    }
    CHECK_INT(ans.nbundle, naccepted);
    CHECK_INT(count_prefix(a, "a=group:BUNDLE"), naccepted ? 1 : 0);
    CHECK_INT(count_prefix(a, "a=end-of-candidates"), (int)naccepted);
    CHECK_INT(count_prefix(a, "a=candidate:"), (int)(naccepted * p->ncand));
    CHECK_INT(count_prefix(a, "a=setup:passive"), (int)naccepted);
    CHECK_INT(count_prefix(a, "c=IN IP4 0.0.0.0"), (int)o->nmedia);
    if (p->ncand == 2 && p->port == 40000) {
        CHECK_INT(count_line(a, CAND1), (int)naccepted);
        CHECK_INT(count_line(a, CAND2), (int)naccepted);
    }
    if (!twcc) CHECK(strstr(a, "transport-cc") == NULL);
    CHECK(strstr(a, "VP9") == NULL && strstr(a, "AV1") == NULL);
}

static int answer(const sdp_t *o, const sdp_answer_params_t *p)
{
    return sdp_answer(o, p, out, sizeof out, err, sizeof err);
}

static void test_answer_fixtures(void)
{
    for (size_t f = 0; f < NFIXTURES; f++) {
        const struct fixture *fx = &fixtures[f];
        size_t n = load(fx->name);
        CHECK_INT(sdp_parse(text, n, &offer, err, sizeof err), 0);
        for (int echo = 0; echo < 2; echo++) {
            sdp_answer_params_t p = params();
            p.echo = echo;
            for (size_t i = 0; i < SDP_MAX_MEDIA; i++) {
                p.echo_ssrc[i][0] = 1000 + (uint32_t)i;
                p.echo_ssrc[i][1] = 2000 + (uint32_t)i;
            }
            int rc = answer(&offer, &p);
            if (rc) fprintf(stderr, "%s: %s\n", fx->name, err);
            CHECK_INT(rc, 0);
            CHECK_STR(err, "");
            check_answer(&offer, &p, out);
            for (size_t i = 0; i < fx->nmedia; i++)
                CHECK_INT(count_line(out, fx->answer_m[i]), 1);
        }
    }
}

/* The whole answer to aiortc's offer, line by line. */
static void test_answer_golden(void)
{
    static const char *const want =
        "v=0\r\n"
        "o=- 42 2 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "t=0 0\r\n"
        "a=ice-lite\r\n"
        "a=group:BUNDLE 0 1\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "b=AS:32\r\n"
        "b=TIAS:32000\r\n"
        "a=mid:0\r\n"
        "a=ice-ufrag:" OUR_UFRAG "\r\n"
        "a=ice-pwd:" OUR_PWD "\r\n"
        "a=fingerprint:" OUR_FP "\r\n"
        "a=setup:passive\r\n"
        "a=recvonly\r\n"
        "a=rtcp-mux\r\n"
        "a=rtpmap:96 opus/48000/2\r\n"
        "a=fmtp:96 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=32000\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" CAND1 "\r\n" CAND2 "\r\n"
        "a=end-of-candidates\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 97 98 101 102\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "b=AS:300\r\n"
        "b=TIAS:300000\r\n"
        "a=mid:1\r\n"
        "a=ice-ufrag:" OUR_UFRAG "\r\n"
        "a=ice-pwd:" OUR_PWD "\r\n"
        "a=fingerprint:" OUR_FP "\r\n"
        "a=setup:passive\r\n"
        "a=recvonly\r\n"
        "a=rtcp-mux\r\n"
        "a=rtpmap:97 VP8/90000\r\n"
        "a=rtcp-fb:97 goog-remb\r\n"
        "a=rtcp-fb:97 nack\r\n"
        "a=rtcp-fb:97 nack pli\r\n"
        "a=rtpmap:98 rtx/90000\r\n"
        "a=fmtp:98 apt=97\r\n"
        "a=rtpmap:101 H264/90000\r\n"
        "a=rtcp-fb:101 goog-remb\r\n"
        "a=rtcp-fb:101 nack\r\n"
        "a=rtcp-fb:101 nack pli\r\n"
        "a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
        "a=rtpmap:102 rtx/90000\r\n"
        "a=fmtp:102 apt=101\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n" CAND1
        "\r\n" CAND2 "\r\n"
        "a=end-of-candidates\r\n";
    load("aiortc_offer");
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    p.audio_kbps = 32;
    p.video_kbps = 300;
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_STR(out, want);
    check_answer(&offer, &p, out);
}

static void test_answer_chrome_details(void)
{
    load("chrome_publish");
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "a=rtpmap:63 red/48000/2"), 1);
    CHECK_INT(count_line(out, "a=fmtp:63 111/111"), 1);
    CHECK_INT(count_line(out, "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1"), 1);
    CHECK_INT(count_line(out, "a=rtcp-rsize"), 2);
    CHECK_INT(count_line(out, "a=recvonly"), 2);
    CHECK_INT(count_line(out, "a=rtcp-fb:96 ccm fir"), 1);
    CHECK_INT(count_line(out, "a=extmap:13 urn:3gpp:video-orientation"), 1);
    CHECK_INT(count_line(out, "a=extmap:2 " SDP_EXT_ABS_SEND_TIME), 2);
    CHECK_INT(count_line(out, "a=extmap:3 " SDP_EXT_TRANSPORT_CC), 2);
    CHECK_INT(count_line(out, "a=rtcp-fb:111 transport-cc"), 1);
    CHECK_INT(count_line(out, "a=rtcp-fb:96 transport-cc"), 1);
    CHECK_INT(count_prefix(out, "a=extmap:"), 8);
    CHECK_INT(count_prefix(out, "b="), 0);
    CHECK(strstr(out, "maxaveragebitrate") == NULL);
    CHECK(strstr(out, "a=ssrc") == NULL);

    /* Audio-only room: the video m-line is rejected, its mid kept, out of BUNDLE. */
    p.allow_video = false;
    CHECK_INT(answer(&offer, &p), 0);
    check_answer(&offer, &p, out);
    CHECK_INT(count_line(out, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    CHECK_INT(count_line(out, "a=mid:1"), 1);
    CHECK_INT(count_line(out, "a=group:BUNDLE 0"), 1);
    CHECK_INT(ans.media[1].port, 0);

    /* Firefox: the extmap direction is mirrored; csrc-audio-level is dropped. */
    load("firefox_publish");
    CHECK_INT(parse_text(text, &offer), 0);
    p = params();
    CHECK_INT(answer(&offer, &p), 0);
    CHECK(strstr(out, "csrc-audio-level") == NULL);
    CHECK(strstr(out, "playout-delay") == NULL);
    CHECK_INT(count_line(out, "a=fmtp:109 minptime=10;useinbandfec=1;usedtx=1"), 1);
    CHECK_INT(count_line(out, "a=fmtp:124 apt=120"), 1);
    CHECK(strstr(out, "a=fmtp:120") == NULL); /* VP8's max-fs/max-fr are the sender's */
    CHECK_INT(count_line(out, "a=extmap:1 " SDP_EXT_AUDIO_LEVEL), 1);
}

/* Chrome's three-layer offer: received as sent (h;m;l), with the rid extensions; the
 * audio m-line and an echo room get none of it; a lone rid is no simulcast. */
static void test_answer_simulcast(void)
{
    load("chrome_simulcast");
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "a=rid:h recv"), 1);
    CHECK_INT(count_line(out, "a=rid:m recv"), 1);
    CHECK_INT(count_line(out, "a=rid:l recv"), 1);
    CHECK_INT(count_line(out, "a=simulcast:recv h;m;l"), 1);
    CHECK_INT(count_prefix(out, "a=simulcast"), 1);
    CHECK(strstr(out, "a=extmap:10 " SDP_EXT_RID "\r\n") != NULL);
    CHECK(strstr(out, SDP_EXT_REPAIRED_RID) != NULL);
    static sdp_t ans;
    CHECK_INT(sdp_parse(out, strlen(out), &ans, err, sizeof err), 0);
    CHECK_INT(ans.media[0].nsim_recv, 0);
    CHECK_INT(ans.media[1].nsim_recv, 3);
    CHECK_INT(ans.media[1].nrids, 3);
    CHECK(!ans.media[1].rids[0].send);

    p.echo = true;
    p.echo_ssrc[0][0] = p.echo_ssrc[1][0] = 5;
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_prefix(out, "a=simulcast"), 0);
    CHECK(strstr(out, SDP_EXT_RID) == NULL);

    /* Four offered: the first three; a stream without its a=rid send line is skipped. */
    char *sim = strstr(text, "a=rid:h send");
    CHECK(sim != NULL);
    if (!sim) return;
    strcpy(sim, "a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=rid:d send\r\n"
                "a=simulcast:send a;b;c;d\r\n");
    CHECK_INT(parse_text(text, &offer), 0);
    p.echo = false;
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "a=simulcast:recv a;b;c"), 1);
    CHECK_INT(count_prefix(out, "a=rid:"), 3);
    strcpy(sim, "a=rid:a send\r\na=rid:b send\r\na=simulcast:send a;x;b\r\n");
    CHECK_INT(parse_text(text, &offer), 0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "a=simulcast:recv a;b"), 1);
    strcpy(sim, "a=rid:a send\r\na=simulcast:send a\r\n");
    CHECK_INT(parse_text(text, &offer), 0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_prefix(out, "a=simulcast"), 0);
    CHECK_INT(count_prefix(out, "a=rid:"), 0);
}

static void test_answer_echo(void)
{
    load("chrome_sendrecv");
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    p.echo = true;
    p.cname = "sobre-test";
    p.echo_ssrc[0][0] = 1111;
    p.echo_ssrc[0][1] = 1112; /* audio: no RTX accepted, so not announced */
    p.echo_ssrc[1][0] = 2222;
    p.echo_ssrc[1][1] = 3333;
    CHECK_INT(answer(&offer, &p), 0);
    check_answer(&offer, &p, out);
    CHECK_INT(count_line(out, "a=sendrecv"), 2);
    CHECK_INT(count_line(out, "a=msid:sobre-echo 0"), 1);
    CHECK_INT(count_line(out, "a=msid:sobre-echo 1"), 1);
    CHECK_INT(count_line(out, "a=ssrc:1111 cname:sobre-test"), 1);
    CHECK(strstr(out, "1112") == NULL);
    CHECK_INT(count_line(out, "a=ssrc-group:FID 2222 3333"), 1);
    CHECK_INT(count_line(out, "a=ssrc:2222 cname:sobre-test"), 1);
    CHECK_INT(count_line(out, "a=ssrc:3333 cname:sobre-test"), 1);
    CHECK_INT(count_line(out, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"), 1);
    CHECK_INT(ans.media[0].nssrcs, 1);
    CHECK(ans.media[0].ssrcs[0] == 1111);
    CHECK_STR(ans.media[1].msid_stream, "sobre-echo");
    CHECK_STR(ans.media[1].msid_track, "1");
    CHECK_INT(ans.media[1].nfid, 1);
    CHECK(ans.media[1].fid[0].media == 2222 && ans.media[1].fid[0].rtx == 3333);
    /* With the publisher's peer id as the stream (PROTOCOL.md: streams[0].id). */
    p.stream_id = "p7";
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "a=msid:p7 0"), 1);
    CHECK_INT(count_line(out, "a=msid:p7 1"), 1);
    p.stream_id = "bad id";
    CHECK_INT(answer(&offer, &p), SDP_ERR_INVAL);
    p.stream_id = NULL;

    /* No RTX SSRC, default cname. */
    p.echo_ssrc[1][1] = 0;
    p.cname = NULL;
    CHECK_INT(answer(&offer, &p), 0);
    CHECK(strstr(out, "a=ssrc-group") == NULL);
    CHECK_INT(count_line(out, "a=ssrc:2222 cname:sobre"), 1);

    /* A media SSRC of 0 on an m-line answered sendrecv is a caller error. */
    p.echo_ssrc[1][0] = 0;
    CHECK_INT(answer(&offer, &p), SDP_ERR_INVAL);
    CHECK_STR(err, "echo_ssrc[1]: media SSRC is 0");

    /* Echo with a sendonly offer: recvonly, nothing announced. */
    load("chrome_publish");
    CHECK_INT(parse_text(text, &offer), 0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "a=recvonly"), 2);
    CHECK(strstr(out, "a=ssrc") == NULL && strstr(out, "a=msid") == NULL);
}

static void test_answer_caps(void)
{
    load("chrome_publish");
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    p.audio_kbps = 1;
    p.video_kbps = 2500;
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(
        count_line(out, "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=6000"),
        1);
    CHECK_INT(count_line(out, "b=AS:1"), 1);
    CHECK_INT(count_line(out, "b=TIAS:1000"), 1);
    CHECK_INT(count_line(out, "b=AS:2500"), 1);
    CHECK_INT(count_line(out, "b=TIAS:2500000"), 1);
    p.audio_kbps = 1000;
    p.video_kbps = 0;
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(
        count_line(out, "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=510000"),
        1);
    CHECK_INT(count_prefix(out, "b=AS:"), 1);
}

/* A video m-line offering these codecs (rtx for each, pts from 96), answered. */
static int answer_video(const char *const *rtpmaps, const char *const *fmtps, size_t n)
{
    size_t len = (size_t)snprintf(text, sizeof text, "%s", HDR "m=video 9 UDP/TLS/RTP/SAVPF");
    for (size_t i = 0; i < 2 * n; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, " %zu", 96 + i);
    len += (size_t)snprintf(text + len, sizeof text - len, "\na=mid:0\na=rtcp-mux\n" ICE);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "a=rtpmap:%zu %s\na=fmtp:%zu %s\na=rtpmap:%zu rtx/90000\n"
                                "a=fmtp:%zu apt=%zu\n",
                                96 + 2 * i, rtpmaps[i], 96 + 2 * i, fmtps[i], 97 + 2 * i,
                                97 + 2 * i, 96 + 2 * i);
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    int rc = answer(&offer, &p);
    if (rc == 0) check_answer(&offer, &p, out);
    return rc;
}

static void test_answer_h264_choice(void)
{
    static const char *const h264[] = {"H264/90000", "H264/90000", "H264/90000", "H264/90000",
                                       "H264/90000"};
    static const char *const pick[] = {
        "packetization-mode=1;profile-level-id=4d001f", /* main: no */
        "packetization-mode=1;profile-level-id=42001f",
        "packetization-mode=0;profile-level-id=42e01f", /* mode 0: no */
        "profile-level-id=42E01F;level-asymmetry-allowed=1;packetization-mode=1",
        "packetization-mode=1;profile-level-id=42e034",
    };
    CHECK_INT(answer_video(h264, pick, 5), 0);
    CHECK_INT(count_line(out, "m=video 9 UDP/TLS/RTP/SAVPF 102 103"), 1);
    CHECK_INT(count_line(out, "a=fmtp:102 "
                              "profile-level-id=42E01F;level-asymmetry-allowed=1;"
                              "packetization-mode=1"),
              1);
    /* Without 42e01f, 42001f; then another baseline level. */
    CHECK_INT(answer_video(h264, pick, 3), 0);
    CHECK_INT(count_line(out, "m=video 9 UDP/TLS/RTP/SAVPF 98 99"), 1);
    static const char *const other[] = {"packetization-mode=1;profile-level-id=640c1f",
                                        "packetization-mode=1;profile-level-id=42c015"};
    CHECK_INT(answer_video(h264, other, 2), 0);
    CHECK_INT(count_line(out, "m=video 9 UDP/TLS/RTP/SAVPF 98 99"), 1);
    /* High profile only, VP9 and AV1 only: rejected. */
    CHECK_INT(answer_video(h264, other, 1), 0);
    CHECK_INT(count_line(out, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    CHECK(strstr(out, "a=group:BUNDLE") == NULL);
    static const char *const vp9av1[] = {"VP9/90000", "AV1/90000"};
    static const char *const nofmtp[] = {"profile-id=0", "profile=0"};
    CHECK_INT(answer_video(vp9av1, nofmtp, 2), 0);
    CHECK_INT(count_line(out, "m=video 0 UDP/TLS/RTP/SAVPF 96"), 1);
    /* VP8 and H264 both, in the offer's order. */
    static const char *const both[] = {"H264/90000", "VP8/90000"};
    static const char *const bothf[] = {"packetization-mode=1;profile-level-id=42e01f", "x=1"};
    CHECK_INT(answer_video(both, bothf, 2), 0);
    CHECK_INT(count_line(out, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99"), 1);
}

static void test_answer_audio_choice(void)
{
    /* RED naming something other than Opus is not accepted; PCMU alone is rejected. */
    CHECK_INT(parse_text(HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\nc=IN IP4 0.0.0.0\na=mid:0\n"
                             "a=rtcp-mux\n" ICE OPUS "a=rtpmap:63 red/48000/2\na=fmtp:63 111/0\n",
                         &offer),
              0);
    sdp_answer_params_t p = params();
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), 1);
    CHECK_INT(parse_text(HDR "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\nc=IN IP4 0.0.0.0\na=mid:0\n"
                             "a=rtcp-mux\n" ICE,
                         &offer),
              0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "m=audio 0 UDP/TLS/RTP/SAVPF 0"), 1);
    check_answer(&offer, &p, out);
    /* Opus must be 48000/2. */
    CHECK_INT(parse_text(HDR MHEAD ICE "a=rtpmap:111 opus/48000\n", &offer), 0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "m=audio 0 UDP/TLS/RTP/SAVPF 111"), 1);
}

static void test_answer_directions(void)
{
    static const struct {
        const char *attr;
        bool echo;
        const char *want;
    } cases[] = {
        {"a=sendonly\n", false, "a=recvonly"}, {"a=sendonly\n", true, "a=recvonly"},
        {"a=sendrecv\n", false, "a=recvonly"}, {"", false, "a=recvonly"},
        {"a=sendrecv\n", true, "a=sendrecv"},  {"a=recvonly\n", false, "a=inactive"},
        {"a=recvonly\n", true, "a=inactive"},  {"a=inactive\n", true, "a=inactive"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "%s", HDR AUDIO);
        strcat(text, cases[i].attr);
        CHECK_INT(parse_text(text, &offer), 0);
        sdp_answer_params_t p = params();
        p.echo = cases[i].echo;
        p.echo_ssrc[0][0] = 7;
        CHECK_INT(answer(&offer, &p), 0);
        CHECK_INT(count_line(out, cases[i].want), 1);
        check_answer(&offer, &p, out);
    }
}

static void test_answer_rejections(void)
{
    sdp_answer_params_t p = params();
    /* Port 0 in the offer (not bundle-only), an unknown media type, a non-DTLS profile. */
    CHECK_INT(parse_text(HDR "m=audio 0 UDP/TLS/RTP/SAVPF 111\na=mid:0\n" OPUS
                             "m=text 9 RTP/AVP 98\na=mid:1\n"
                             "m=audio 9 RTP/AVP 111\na=mid:2\na=rtcp-mux\n" ICE OPUS,
                         &offer),
              0);
    CHECK_INT(answer(&offer, &p), 0);
    check_answer(&offer, &p, out);
    CHECK_INT(count_line(out, "m=audio 0 UDP/TLS/RTP/SAVPF 111"), 1);
    CHECK_INT(count_line(out, "m=text 0 RTP/AVP 98"), 1);
    CHECK_INT(count_line(out, "m=audio 0 RTP/AVP 111"), 1);
    CHECK(strstr(out, "a=ice-ufrag") == NULL && strstr(out, "a=group") == NULL);

    /* Bundle-only (port 0) is accepted. */
    CHECK_INT(parse_text(HDR "m=audio 0 UDP/TLS/RTP/SAVPF 111\na=mid:0\na=bundle-only\n"
                             "a=rtcp-mux\n" ICE OPUS,
                         &offer),
              0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_INT(count_line(out, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), 1);
    check_answer(&offer, &p, out);

    /* No m-lines: an answer all the same. */
    CHECK_INT(parse_text("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", &offer), 0);
    CHECK_INT(answer(&offer, &p), 0);
    CHECK_STR(out, "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n");
    check_answer(&offer, &p, out);
}

static const struct bad_answer {
    const char *sdp;
    int code;
    const char *msg;
} bad_answers[] = {
    {HDR "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:0\n" ICE OPUS,
     SDP_ERR_UNSUPPORTED, "line 6: m-line 1 (audio): a=rtcp-mux is required"},
    {HDR MHEAD UFRAG PWD FPLINE "a=setup:passive\n" OPUS, SDP_ERR_UNSUPPORTED,
     "line 6: m-line 1 (audio): a=setup:passive, but the server is the DTLS server (offer "
     "actpass or active)"},
    {HDR "a=setup:holdconn\n" MHEAD UFRAG PWD FPLINE OPUS, SDP_ERR_UNSUPPORTED,
     "line 7: m-line 1 (audio): a=setup:holdconn, but the server is the DTLS server (offer "
     "actpass or active)"},
    {"v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n" AUDIO, SDP_ERR_UNSUPPORTED,
     "no a=group:BUNDLE in the offer (BUNDLE is required)"},
    {HDR AUDIO "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:1\na=rtcp-mux\na=rtpmap:96 VP8/90000\n",
     SDP_ERR_UNSUPPORTED, "line 15: m-line 2 (video): mid '1' is not in the BUNDLE group"},
};

static void test_answer_errors(void)
{
    for (size_t i = 0; i < sizeof bad_answers / sizeof bad_answers[0]; i++) {
        CHECK_INT(parse_text(bad_answers[i].sdp, &offer), 0);
        sdp_answer_params_t p = params();
        CHECK_INT(answer(&offer, &p), bad_answers[i].code);
        CHECK_STR(err, bad_answers[i].msg);
    }
    /* Setup active, or absent (RFC 4145: active), is fine. */
    CHECK_INT(parse_text(HDR MHEAD UFRAG PWD FPLINE OPUS, &offer), 0);
    sdp_answer_params_t p = params();
    CHECK_INT(answer(&offer, &p), 0);
    /* A video m-line outside BUNDLE is no error when video is not allowed anyway. */
    CHECK_INT(parse_text(bad_answers[4].sdp, &offer), 0);
    p.allow_video = false;
    CHECK_INT(answer(&offer, &p), 0);

    /* Bad parameters. */
    CHECK_INT(parse_text(HDR AUDIO, &offer), 0);
    static const struct {
        const char *ufrag, *pwd, *fp, *addr, *cname;
        const char *msg;
    } params_bad[] = {
        {"abc", OUR_PWD, OUR_FP, "192.0.2.1", NULL, "ice_ufrag: 4..64 characters of [A-Za-z0-9+/]"},
        {"ab:cd", OUR_PWD, OUR_FP, "192.0.2.1", NULL,
         "ice_ufrag: 4..64 characters of [A-Za-z0-9+/]"},
        {NULL, OUR_PWD, OUR_FP, "192.0.2.1", NULL, "ice_ufrag: 4..64 characters of [A-Za-z0-9+/]"},
        {OUR_UFRAG, "short", OUR_FP, "192.0.2.1", NULL,
         "ice_pwd: 22..128 characters of [A-Za-z0-9+/]"},
        {OUR_UFRAG, OUR_PWD, "sha-1 AB", "192.0.2.1", NULL,
         "fingerprint: expected \"sha-256 AB:CD:...\""},
        {OUR_UFRAG, OUR_PWD, "sha-256 " FP_A "\r\na=x", "192.0.2.1", NULL,
         "fingerprint: expected \"sha-256 AB:CD:...\""},
        {OUR_UFRAG, OUR_PWD, OUR_FP, "example.com", NULL,
         "cand_addrs[0]: not a numeric IP address"},
        {OUR_UFRAG, OUR_PWD, OUR_FP, "192.0.2.1\r\n", NULL,
         "cand_addrs[0]: not a numeric IP address"},
        {OUR_UFRAG, OUR_PWD, OUR_FP, "192.0.2.1", "a b", "cname: 1..64 visible ASCII characters"},
        {OUR_UFRAG, OUR_PWD, OUR_FP, "192.0.2.1", "", "cname: 1..64 visible ASCII characters"},
    };
    for (size_t i = 0; i < sizeof params_bad / sizeof params_bad[0]; i++) {
        const char *a[1] = {params_bad[i].addr};
        p = params();
        p.ice_ufrag = params_bad[i].ufrag;
        p.ice_pwd = params_bad[i].pwd;
        p.fingerprint = params_bad[i].fp;
        p.cand_addrs = a;
        p.ncand = 1;
        p.cname = params_bad[i].cname;
        CHECK_INT(answer(&offer, &p), SDP_ERR_INVAL);
        CHECK_STR(err, params_bad[i].msg);
    }
    p = params();
    p.port = 0;
    CHECK_INT(answer(&offer, &p), SDP_ERR_INVAL);
    CHECK_STR(err, "candidates: at most 32, with a port");
    p = params();
    p.ncand = 0; /* no candidates: allowed (end-of-candidates only) */
    CHECK_INT(answer(&offer, &p), 0);
    check_answer(&offer, &p, out);
    CHECK_INT(sdp_answer(NULL, &p, out, sizeof out, err, sizeof err), SDP_ERR_INVAL);
    CHECK_INT(sdp_answer(&offer, NULL, out, sizeof out, err, sizeof err), SDP_ERR_INVAL);
}

/* Every capacity short of the answer's length fails cleanly and writes nothing past cap. */
static void test_answer_nospace(void)
{
    load("chrome_sendrecv");
    CHECK_INT(parse_text(text, &offer), 0);
    sdp_answer_params_t p = params();
    p.echo = true;
    p.echo_ssrc[0][0] = 1;
    p.echo_ssrc[1][0] = 2;
    p.echo_ssrc[1][1] = 3;
    CHECK_INT(answer(&offer, &p), 0);
    size_t need = strlen(out);
    static char full[SDP_MAX_LEN];
    memcpy(full, out, need + 1);
    static char buf[SDP_MAX_LEN];
    int failures = 0;
    for (size_t cap = 0; cap <= need; cap++) {
        memset(buf, '#', sizeof buf);
        int rc = sdp_answer(&offer, &p, buf, cap, err, sizeof err);
        bool ok = rc == SDP_ERR_NOSPACE && (cap == 0 || buf[0] == '\0');
        for (size_t k = cap; k < need + 16; k++)
            ok = ok && buf[k] == '#';
        failures += !ok;
    }
    CHECK_INT(failures, 0);
    char msg[64];
    snprintf(msg, sizeof msg, "answer does not fit in %zu bytes", need);
    CHECK_STR(err, msg);
    CHECK_INT(sdp_answer(&offer, &p, buf, need + 1, err, sizeof err), 0);
    CHECK_STR(buf, full);
}

/* Offers captured from the browsers and aiortc of this machine (tests/e2e saves them:
 * SOBRE_E2E_SDP_DIR), answered as in an echo room and as a publish. */
static void test_answer_captured(void)
{
    static const struct {
        const char *name;
        bool video, fid;
    } cap[] = {{"captured_chromium156", true, true},
               {"captured_firefox_esr", true, true},
               {"captured_aiortc14", false, false}};
    for (size_t i = 0; i < sizeof cap / sizeof cap[0]; i++) {
        size_t n = load(cap[i].name);
        int rc = sdp_parse(text, n, &offer, err, sizeof err);
        if (rc) fprintf(stderr, "%s: %s\n", cap[i].name, err);
        CHECK_INT(rc, 0);
        CHECK_INT(offer.media[0].kind, SDP_KIND_AUDIO);
        CHECK(offer.media[0].nssrcs >= 1);
        if (cap[i].video) CHECK_INT(offer.media[1].kind, SDP_KIND_VIDEO);
        if (cap[i].fid) CHECK_INT(offer.media[1].nfid, 1);
        for (int echo = 0; echo < 2; echo++) {
            sdp_answer_params_t p = params();
            p.echo = echo;
            p.echo_ssrc[0][0] = 11, p.echo_ssrc[0][1] = 12;
            p.echo_ssrc[1][0] = 21, p.echo_ssrc[1][1] = 22;
            CHECK_INT(answer(&offer, &p), 0);
            check_answer(&offer, &p, out);
            CHECK(ans.media[0].port != 0 && sdp_find_codec(&ans.media[0], "opus") >= 0);
            if (cap[i].video)
                CHECK(ans.media[1].port != 0 && sdp_find_codec(&ans.media[1], "VP8") >= 0);
        }
    }
}

int main(void)
{
    test_fixture_table();
    test_chrome_publish();
    test_other_fixtures();
    test_parse_simulcast();
    test_parse_errors();
    test_parse_limits();
    test_parse_lenient();
    test_names();
    test_answer_fixtures();
    test_answer_golden();
    test_answer_chrome_details();
    test_answer_simulcast();
    test_answer_echo();
    test_answer_caps();
    test_answer_h264_choice();
    test_answer_audio_choice();
    test_answer_directions();
    test_answer_rejections();
    test_answer_errors();
    test_answer_nospace();
    test_answer_captured();
    TEST_END();
}
