/* libFuzzer target: arbitrary bytes applied as the answer to a subscribe offer of two
 * tracks (audio, video with RTX). A refused answer leaves the offer pending with a reason;
 * an accepted one must leave consistent track state, and the offer after it (the video
 * track ended) must parse back with the same mids, closed where it should be; the input is
 * then applied to that offer too. */
#include "sdp_offer.h"

#include <stdlib.h>
#include <string.h>

static sdp_t parsed;
static char offer[SDP_MAX_LEN], err[SDP_ERR_MAX];

static void require(int cond)
{
    if (!cond) abort();
}

static const sdp_sub_codec_t audio[] = {
    {.name = "opus",
     .clock = 48000,
     .channels = 2,
     .fmtp = "minptime=10;useinbandfec=1",
     .pt = 111,
     .rtx_pt = -1},
    {.name = "red", .clock = 48000, .channels = 2, .fmtp = "111/111", .pt = 63, .rtx_pt = -1},
};
static const sdp_sub_codec_t video[] = {
    {.name = "VP8", .clock = 90000, .pt = 96, .rtx_pt = 97, .fb = SDP_FB_NACK | SDP_FB_NACK_PLI},
    {.name = "H264",
     .clock = 90000,
     .fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
     .pt = 106,
     .rtx_pt = 107,
     .fb = SDP_FB_NACK | SDP_FB_NACK_PLI},
};
static const sdp_sub_ext_t audio_exts[] = {{SDP_EXT_AUDIO_LEVEL, 1}, {SDP_EXT_MID, 4}};
static const sdp_sub_ext_t video_exts[] = {
    {SDP_EXT_ABS_SEND_TIME, 2}, {SDP_EXT_VIDEO_ORIENT, 13}, {SDP_EXT_MID, 4}};

/* What an accepted answer must have left for this track. */
static void check_track(const sdp_sub_t *s, const char *id)
{
    sdp_sub_track_info_t info;
    require(sdp_sub_track_info(s, id, &info) == 0);
    require(info.offered && info.answered);
    for (size_t i = 0; i < info.ncodecs; i++) {
        require(info.accepted || !info.codecs[i].accepted);
        require(info.codecs[i].sub_rtx >= 0 || !info.codecs[i].rtx_accepted);
        require(sdp_sub_track_pt(s, id, info.codecs[i].pub_pt) == info.codecs[i].sub_pt);
    }
    for (size_t i = 0; i < info.nexts; i++)
        require(info.accepted || info.exts[i].sub_id == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const addrs[] = {"192.0.2.10"};
    sdp_sub_params_t p = {
        .ice_ufrag = "sobreSub",
        .ice_pwd = "sobreSubPasswordOf24Chr",
        .fingerprint = "sha-256 F5:F7:9F:2B:49:34:AF:87:F5:52:0B:69:B9:4B:0D:98:2E:85:BB:55:"
                       "B6:72:A8:72:63:7A:CD:74:66:FC:B6:0E",
        .cand_addrs = addrs,
        .ncand = 1,
        .port = 40000,
        .session_id = 7,
    };
    sdp_sub_t *s = sdp_sub_new(&p, err, sizeof err);
    require(s != NULL);
    sdp_sub_track_t a = {SDP_KIND_AUDIO, "p3", "p3-audio", 1001, 0, audio, 2, audio_exts, 2};
    sdp_sub_track_t v = {SDP_KIND_VIDEO, "p3", "p3-video", 2001, 2002, video, 2, video_exts, 3};
    require(sdp_sub_add_track(s, &a, err, sizeof err) == 0);
    require(sdp_sub_add_track(s, &v, err, sizeof err) == 1);
    require(sdp_sub_offer(s, offer, sizeof offer, err, sizeof err) == 0);

    if (sdp_sub_apply_answer(s, (const char *)data, size, err, sizeof err) != 0) {
        require(err[0] != '\0' && sdp_sub_pending(s));
        goto out;
    }
    require(!sdp_sub_pending(s) && !sdp_sub_dirty(s));
    check_track(s, "p3-audio");
    check_track(s, "p3-video");
    if (sdp_sub_remote_ufrag(s)[0])
        require(strncmp(sdp_sub_remote_fingerprint(s), "sha-256 ", 8) == 0);

    require(sdp_sub_remove_track(s, "p3-video") == 0);
    require(sdp_sub_offer(s, offer, sizeof offer, err, sizeof err) == 0);
    require(sdp_parse(offer, strlen(offer), &parsed, err, sizeof err) == 0);
    require(parsed.nmedia == 2);
    require(strcmp(parsed.media[0].mid, "0") == 0 && strcmp(parsed.media[1].mid, "1") == 0);
    require(parsed.media[1].port == 0);
    if (sdp_sub_apply_answer(s, (const char *)data, size, err, sizeof err) != 0)
        require(err[0] != '\0' && sdp_sub_pending(s));
out:
    sdp_sub_free(s);
    return 0;
}
