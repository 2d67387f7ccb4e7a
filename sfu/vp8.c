/* VP8 payload descriptor and picture numbering; see vp8.h. */
#include "vp8.h"

#include <stdlib.h>

#include "mem.h"

#define DROP_HISTORY 32         /* dropped pictures remembered (reordering across them) */
#define FIRST        (1u << 20) /* extended ids start here: a multiple of both widths */

int vp8_parse(const uint8_t *b, size_t len, vp8_desc_t *out)
{
    if (!b || len < 1) return VP8_ERR_PAYLOAD;
    vp8_desc_t v = {
        .x = b[0] & 0x80,
        .n = b[0] & 0x20,
        .s = b[0] & 0x10,
        .pid = b[0] & 0x07,
    };
    size_t off = 1;
    if (v.x) {
        if (off >= len) return VP8_ERR_PAYLOAD;
        uint8_t f = b[off++];
        v.has_picture_id = f & 0x80;
        v.has_tl0picidx = f & 0x40;
        v.has_tid = f & 0x20;
        v.has_keyidx = f & 0x10;
        if (v.has_picture_id) {
            if (off >= len) return VP8_ERR_PAYLOAD;
            v.picture_id_off = off;
            v.picture_id_15 = b[off] & 0x80;
            if (v.picture_id_15) {
                if (off + 1 >= len) return VP8_ERR_PAYLOAD;
                v.picture_id = (uint16_t)((b[off] & 0x7f) << 8 | b[off + 1]);
                off += 2;
            } else {
                v.picture_id = b[off] & 0x7f;
                off += 1;
            }
        }
        if (v.has_tl0picidx) {
            if (off >= len) return VP8_ERR_PAYLOAD;
            v.tl0picidx_off = off;
            v.tl0picidx = b[off++];
        }
        if (v.has_tid || v.has_keyidx) {
            if (off >= len) return VP8_ERR_PAYLOAD;
            uint8_t t = b[off++];
            if (v.has_tid) {
                v.tid = t >> 6;
                v.y = t & 0x20;
            }
            if (v.has_keyidx) v.keyidx = t & 0x1f;
        }
    }
    if (off >= len) return VP8_ERR_PAYLOAD; /* no VP8 payload */
    v.desc_len = off;
    v.keyframe = v.s && v.pid == 0 && !(b[off] & 0x01);
    /* Key frame header: 3 bytes of frame tag, start code 9d 01 2a, 14-bit width and height
     * (little-endian, 2 bits of scaling above each). */
    const uint8_t *k = b + off;
    if (v.keyframe && len - off >= 10 && k[3] == 0x9d && k[4] == 0x01 && k[5] == 0x2a) {
        v.width = (uint16_t)((k[6] | k[7] << 8) & 0x3fff);
        v.height = (uint16_t)((k[8] | k[9] << 8) & 0x3fff);
    }
    *out = v;
    return 0;
}

bool vp8_is_keyframe(const uint8_t *payload, size_t len)
{
    vp8_desc_t v;
    return vp8_parse(payload, len, &v) == 0 && v.keyframe;
}

void vp8_set_picture_id(uint8_t *payload, const vp8_desc_t *d, uint16_t picture_id)
{
    if (!d->has_picture_id) return;
    uint8_t *p = payload + d->picture_id_off;
    if (d->picture_id_15) {
        p[0] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7f));
        p[1] = (uint8_t)picture_id;
    } else {
        p[0] = picture_id & 0x7f;
    }
}

void vp8_set_tl0picidx(uint8_t *payload, const vp8_desc_t *d, uint8_t tl0picidx)
{
    if (d->has_tl0picidx) payload[d->tl0picidx_off] = tl0picidx;
}

struct vp8_munger {
    bool started;
    uint32_t ssrc;       /* current source */
    uint32_t mod;        /* its PictureID width: 128 or 32768 */
    uint64_t base_in;    /* extended id of its first forwarded picture */
    uint64_t highest_in; /* newest extended id seen (forwarded or dropped) */
    uint64_t base_out;   /* outgoing extended id of that first picture */
    uint64_t last_out;   /* newest outgoing extended id */
    uint8_t tl0_offset;  /* out = in + offset (mod 256) */
    bool tl0_sent;
    uint8_t last_tl0;             /* TL0PICIDX of the newest picture sent */
    uint64_t drops[DROP_HISTORY]; /* the latest dropped ids, increasing; ring */
    size_t drops_head;
    uint64_t drops_total;
};

vp8_munger_t *vp8_munger_new(void)
{
    return xcalloc(1, sizeof(vp8_munger_t));
}

void vp8_munger_free(vp8_munger_t *m)
{
    free(m);
}

static uint32_t width_of(const vp8_desc_t *d)
{
    return d->picture_id_15 ? 32768u : 128u;
}

static uint64_t extend(uint64_t ref, uint16_t id, uint32_t mod)
{
    uint32_t delta = (id + mod - (uint32_t)(ref % mod)) % mod;
    return delta < mod / 2 ? ref + delta : ref - (mod - delta);
}

static void start_source(vp8_munger_t *m, uint32_t ssrc, const vp8_desc_t *d)
{
    uint64_t in = FIRST + d->picture_id % width_of(d);
    m->base_out = m->started ? m->last_out + 1 : in;
    m->last_out = m->base_out;
    m->tl0_offset = m->tl0_sent && d->has_tl0picidx ? (uint8_t)(m->last_tl0 + 1 - d->tl0picidx) : 0;
    m->started = true;
    m->ssrc = ssrc;
    m->mod = width_of(d);
    m->base_in = m->highest_in = in;
    m->drops_head = 0;
    m->drops_total = 0;
}

/* Dropped pictures below e: 0 or more, -1 when the history is too short to tell, -2 when e
 * itself was dropped. */
static int64_t drops_below(const vp8_munger_t *m, uint64_t e)
{
    size_t kept = m->drops_total < DROP_HISTORY ? (size_t)m->drops_total : DROP_HISTORY;
    for (size_t i = 0; i < kept; i++) {
        uint64_t d = m->drops[(m->drops_head + DROP_HISTORY - 1 - i) % DROP_HISTORY];
        if (d == e) return -2;
        if (d < e) return (int64_t)(m->drops_total - i);
    }
    return kept == m->drops_total ? 0 : -1;
}

bool vp8_munger_forward(vp8_munger_t *m, uint32_t ssrc, uint8_t *payload, const vp8_desc_t *d)
{
    if (!d->has_picture_id) return true;
    if (!m->started || ssrc != m->ssrc) start_source(m, ssrc, d);
    uint64_t e = extend(m->highest_in, d->picture_id, m->mod);
    if (e < m->base_in) return false;
    int64_t below = drops_below(m, e);
    if (below < 0) return false;
    if (e > m->highest_in) m->highest_in = e;
    uint64_t out = m->base_out + (e - m->base_in) - (uint64_t)below;
    vp8_set_picture_id(payload, d, (uint16_t)(out % width_of(d)));
    if (d->has_tl0picidx) {
        uint8_t tl0 = (uint8_t)(d->tl0picidx + m->tl0_offset);
        vp8_set_tl0picidx(payload, d, tl0);
        if (out >= m->last_out) {
            m->last_tl0 = tl0;
            m->tl0_sent = true;
        }
    }
    if (out > m->last_out) m->last_out = out;
    return true;
}

void vp8_munger_drop(vp8_munger_t *m, uint32_t ssrc, const vp8_desc_t *d)
{
    if (!d->has_picture_id || !m->started || ssrc != m->ssrc) return;
    uint64_t e = extend(m->highest_in, d->picture_id, m->mod);
    if (e <= m->highest_in) return;
    m->drops[m->drops_head] = e;
    m->drops_head = (m->drops_head + 1) % DROP_HISTORY;
    m->drops_total++;
    m->highest_in = e;
}
