/* libFuzzer target: sdp_parse on arbitrary bytes. An offer that parses is answered (echo
 * mode, caps and video chosen from the input's length), and every answer built must parse
 * back with the same m-lines and mids, and must fail cleanly one byte short. */
#include "sdp.h"

#include <stdlib.h>
#include <string.h>

static sdp_t offer, answer;
static char out[SDP_MAX_LEN], err[SDP_ERR_MAX];

static void require(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sdp_parse((const char *)data, size, &offer, err, sizeof err) != 0) {
        require(err[0] != '\0');
        return 0;
    }
    static const char *const addrs[] = {"192.0.2.1", "2001:db8::1"};
    sdp_answer_params_t p = {
        .ice_ufrag = "fuzz",
        .ice_pwd = "fuzzfuzzfuzzfuzzfuzzfuzz",
        .fingerprint = "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
                       "44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
        .cand_addrs = addrs,
        .ncand = 2,
        .port = 40000,
        .session_id = size,
        .allow_video = (size & 1) == 0,
        .echo = (size & 2) != 0,
        .cname = "fuzz",
        .audio_kbps = (size & 4) ? 32 : 0,
        .video_kbps = (size & 4) ? 500 : 0,
    };
    for (size_t i = 0; i < SDP_MAX_MEDIA; i++) {
        p.echo_ssrc[i][0] = 100 + (uint32_t)i;
        p.echo_ssrc[i][1] = (size & 8) ? 0 : 200 + (uint32_t)i;
    }
    if (sdp_answer(&offer, &p, out, sizeof out, err, sizeof err) != 0) {
        require(err[0] != '\0');
        return 0;
    }
    size_t len = strlen(out);
    if (sdp_parse(out, len, &answer, err, sizeof err) != 0) abort();
    require(answer.ice_lite && answer.nmedia == offer.nmedia);
    for (size_t i = 0; i < offer.nmedia; i++) {
        require(strcmp(answer.media[i].mid, offer.media[i].mid) == 0);
        require(answer.media[i].port == 0 || answer.media[i].rtcp_mux);
    }
    require(sdp_answer(&offer, &p, out, len, err, sizeof err) == SDP_ERR_NOSPACE);
    require(out[0] == '\0');
    return 0;
}
