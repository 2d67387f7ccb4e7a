/* libFuzzer target: the VP8 payload descriptor (vp8_parse, the setters) and the picture
 * numbering of vp8_munger_t on arbitrary bytes.
 *
 * The input is read as a run of records: one control byte (bit 0: drop instead of
 * forward, bit 1: source 2 instead of 1, bits 2..7: the record's length) then that many
 * bytes of VP8 payload, all fed to one munger. Invariants that must hold for any input
 * abort the run when broken: a parsed descriptor lies inside its payload, rewriting keeps
 * its layout and writes back what was asked, and a forwarded picture id never repeats
 * for a newer picture of the same source. */
#include "vp8.h"

#include <stdlib.h>
#include <string.h>

static void require(int cond)
{
    if (!cond) abort();
}

static void check_setters(const uint8_t *data, size_t size)
{
    vp8_desc_t v, back;
    if (vp8_parse(data, size, &v) != 0) return;
    require(v.desc_len < size);
    if (v.has_picture_id) require(v.picture_id_off > 1 && v.picture_id_off < v.desc_len);
    if (v.has_tl0picidx) require(v.tl0picidx_off > 1 && v.tl0picidx_off < v.desc_len);
    require(v.keyframe == vp8_is_keyframe(data, size));
    require(v.width <= 0x3fff && v.height <= 0x3fff && (v.keyframe || v.width == 0));
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    uint16_t pid = (uint16_t)(v.picture_id * 7 + 3);
    vp8_set_picture_id(copy, &v, pid);
    vp8_set_tl0picidx(copy, &v, (uint8_t)(v.tl0picidx + 1));
    require(vp8_parse(copy, size, &back) == 0 && back.desc_len == v.desc_len);
    if (v.has_picture_id) require(back.picture_id == (pid & (v.picture_id_15 ? 0x7fff : 0x7f)));
    if (v.has_tl0picidx) require(back.tl0picidx == (uint8_t)(v.tl0picidx + 1));
    require(memcmp(copy + v.desc_len, data + v.desc_len, size - v.desc_len) == 0);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_setters(data, size);
    vp8_munger_t *m = vp8_munger_new();
    size_t off = 0;
    while (off < size) {
        uint8_t ctl = data[off++];
        size_t n = (size_t)(ctl >> 2);
        if (n > size - off) n = size - off;
        uint8_t buf[64];
        memcpy(buf, data + off, n);
        off += n;
        vp8_desc_t v, out;
        if (vp8_parse(buf, n, &v) != 0) continue;
        uint32_t ssrc = ctl & 2 ? 2 : 1;
        if (ctl & 1) {
            vp8_munger_drop(m, ssrc, &v);
        } else if (vp8_munger_forward(m, ssrc, buf, &v)) {
            require(vp8_parse(buf, n, &out) == 0 && out.desc_len == v.desc_len);
            require(out.has_picture_id == v.has_picture_id && out.tid == v.tid);
        }
    }
    vp8_munger_free(m);
    return 0;
}
