/* libFuzzer target: rtp_parse, extension iteration and lookup, rtp_ext_remap on a copy,
 * RTX building and the H.264 key-frame test on arbitrary bytes (VP8: fuzz_vp8).
 *
 * The remap table is taken from the input's first byte, so both keeping, renumbering and
 * dropping elements are reached. Invariants that must hold for any input abort the run
 * when broken. */
#include "rtp.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PKT 2048

static void require(int cond)
{
    if (!cond) abort();
}

/* Walks the elements; checks each lies inside the block. Returns the count or error. */
static int walk(const uint8_t *p, const rtp_header_t *h, uint8_t ids[64], size_t lens[64])
{
    rtp_ext_iter_t it;
    rtp_ext_t e;
    int rc, n = 0;
    rtp_ext_iter_init(&it, p, h);
    while ((rc = rtp_ext_next(&it, &e)) > 0) {
        require(e.id != 0);
        require(e.data >= p + h->ext_off && e.data + e.len <= p + h->ext_off + h->ext_len);
        require(p + e.off < e.data);
        if (n < 64) ids[n] = e.id, lens[n] = e.len;
        n++;
    }
    require(rtp_ext_next(&it, &e) == 0); /* the end stays the end */
    return rc < 0 ? rc : n;
}

static void helpers(const uint8_t *p, const rtp_header_t *h, uint8_t id)
{
    bool voice;
    uint8_t level;
    uint32_t ast;
    uint16_t seq;
    char s[20];
    rtp_ext_audio_level(p, h, id, &voice, &level);
    rtp_ext_abs_send_time(p, h, id, &ast);
    rtp_ext_transport_seq(p, h, id, &seq);
    if (rtp_ext_string(p, h, id, s, sizeof s) == 0) require(strlen(s) > 0 && strlen(s) < 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtp_header_t h;
    if (rtp_parse(data, size, &h) != 0) {
        /* Payloads on their own: descriptors must not read outside [data, data+size). */
        rtp_h264_is_keyframe(data, size);
        return 0;
    }
    require(h.payload_off == h.header_len && h.header_len >= RTP_HEADER_LEN);
    require(h.payload_off + h.payload_len + h.padding_len == size);
    require(!h.extension || h.ext_off + h.ext_len <= h.header_len);

    uint8_t ids[64];
    size_t lens[64];
    int n = walk(data, &h, ids, lens);
    for (int i = 0; i < (n < 64 ? n : 0); i++) {
        const uint8_t *d;
        size_t len;
        require(rtp_ext_find(data, &h, ids[i], &d, &len) == 0);
    }
    helpers(data, &h, size > 1 ? data[1] & 0x0f : 1);
    helpers(data, &h, 3);

    if (size > MAX_PKT) return 0;
    uint8_t copy[MAX_PKT];
    memcpy(copy, data, size);
    uint8_t map[256];
    uint8_t k = size ? data[size - 1] : 0;
    for (int i = 0; i < 256; i++)
        map[i] = (uint8_t)((i * (k | 1) + k) % 15); /* 0..14: some dropped */
    int rc = rtp_ext_remap(copy, size, &h, map);
    if (n < 0) {
        require(rc == n && memcmp(copy, data, size) == 0);
    } else {
        require(rc == 0);
        rtp_header_t h2;
        require(rtp_parse(copy, size, &h2) == 0 && h2.header_len == h.header_len);
        uint8_t ids2[64];
        size_t lens2[64];
        int n2 = walk(copy, &h2, ids2, lens2);
        require(n2 >= 0 && n2 <= n);
        require(memcmp(copy + h.header_len, data + h.header_len, size - h.header_len) == 0);
    }
    rtp_set_seq(copy, 1);
    rtp_set_ts(copy, 2);
    rtp_set_ssrc(copy, 3);
    rtp_set_pt(copy, 96);
    rtp_set_marker(copy, true);
    rtp_ext_set_transport_seq(copy, &h, 3, 0xffff);
    rtp_ext_set_abs_send_time(copy, &h, 2, 0xffffff);

    uint8_t rtx[MAX_PKT + 2];
    int m = rtp_rtx_build(data, size, 9, 8, 97, rtx, sizeof rtx);
    require(m == (int)(h.header_len + 2 + h.payload_len));
    rtp_header_t hr;
    require(rtp_parse(rtx, (size_t)m, &hr) == 0 && hr.payload_len == h.payload_len + 2);

    const uint8_t *pl = data + h.payload_off;
    rtp_h264_is_keyframe(pl, h.payload_len);
    return 0;
}
