/* RTP parsing, header extensions, RTX and codec descriptors; see rtp.h. */
#include "rtp.h"

#include <string.h>

#include "bytes.h"

int rtp_parse(const uint8_t *p, size_t len, rtp_header_t *out)
{
    if (!p || len < RTP_HEADER_LEN) return RTP_ERR_TRUNCATED;
    if (p[0] >> 6 != RTP_VERSION) return RTP_ERR_VERSION;
    rtp_header_t h = {
        .padding = p[0] & 0x20,
        .extension = p[0] & 0x10,
        .csrc_count = p[0] & 0x0f,
        .marker = p[1] & 0x80,
        .pt = p[1] & 0x7f,
        .seq = rd16(p + 2),
        .ts = rd32(p + 4),
        .ssrc = rd32(p + 8),
    };
    size_t off = RTP_HEADER_LEN + 4u * h.csrc_count;
    if (off > len) return RTP_ERR_TRUNCATED;
    if (h.extension) {
        if (off + 4 > len) return RTP_ERR_TRUNCATED;
        h.ext_profile = rd16(p + off);
        h.ext_len = 4u * rd16(p + off + 2);
        h.ext_off = off + 4;
        if (h.ext_len > len - h.ext_off) return RTP_ERR_TRUNCATED;
        off = h.ext_off + h.ext_len;
    }
    h.header_len = h.payload_off = off;
    size_t end = len;
    if (h.padding) {
        /* RFC 3550 section 5.1: the count includes itself, so it is at least 1. */
        h.padding_len = p[len - 1];
        if (h.padding_len == 0 || h.padding_len > len - off) return RTP_ERR_PADDING;
        end -= h.padding_len;
    }
    h.payload_len = end - off;
    *out = h;
    return 0;
}

void rtp_set_ssrc(uint8_t *p, uint32_t ssrc)
{
    wr32(p + 8, ssrc);
}

void rtp_set_seq(uint8_t *p, uint16_t seq)
{
    wr16(p + 2, seq);
}

void rtp_set_ts(uint8_t *p, uint32_t ts)
{
    wr32(p + 4, ts);
}

void rtp_set_pt(uint8_t *p, uint8_t pt)
{
    p[1] = (uint8_t)((p[1] & 0x80) | (pt & 0x7f));
}

void rtp_set_marker(uint8_t *p, bool marker)
{
    p[1] = (uint8_t)((p[1] & 0x7f) | (marker ? 0x80 : 0));
}

uint64_t rtp_seq_extend(uint64_t ref, uint16_t seq)
{
    uint16_t delta = (uint16_t)(seq - (uint16_t)ref);
    if (delta < 0x8000) return ref + delta;
    uint64_t back = 0x10000u - delta;
    return back <= ref ? ref - back : ref + delta;
}

/* ---- header extensions ----------------------------------------------------------------- */

void rtp_ext_iter_init(rtp_ext_iter_t *it, const uint8_t *p, const rtp_header_t *h)
{
    it->p = p;
    it->off = h->ext_off;
    it->end = h->ext_off + h->ext_len;
    it->two_byte = -1;
    if (!h->extension) return;
    if (h->ext_profile == RTP_EXT_PROFILE_ONE_BYTE)
        it->two_byte = 0;
    else if ((h->ext_profile & RTP_EXT_PROFILE_TWO_BYTE_MASK) == RTP_EXT_PROFILE_TWO_BYTE)
        it->two_byte = 1;
}

int rtp_ext_next(rtp_ext_iter_t *it, rtp_ext_t *out)
{
    if (it->two_byte < 0) return 0;
    /* Padding bytes (value 0) may sit anywhere between elements. */
    while (it->off < it->end && it->p[it->off] == 0)
        it->off++;
    if (it->off >= it->end) return 0;
    const uint8_t *e = it->p + it->off;
    size_t hlen, dlen;
    uint8_t id;
    if (it->two_byte) {
        if (it->end - it->off < 2) goto bad;
        id = e[0], hlen = 2, dlen = e[1];
    } else {
        id = e[0] >> 4, hlen = 1, dlen = (size_t)(e[0] & 0x0f) + 1;
        if (id == 15) { /* RFC 8285 section 4.2: stop processing here */
            it->off = it->end;
            return 0;
        }
        if (id == 0) goto bad; /* id 0 with a nonzero length is not padding */
    }
    if (dlen > it->end - it->off - hlen) goto bad;
    *out = (rtp_ext_t){.id = id, .data = e + hlen, .len = dlen, .off = it->off};
    it->off += hlen + dlen;
    return 1;
bad:
    it->off = it->end;
    return RTP_ERR_EXT;
}

int rtp_ext_find(const uint8_t *p, const rtp_header_t *h, uint8_t id, const uint8_t **data,
                 size_t *len)
{
    rtp_ext_iter_t it;
    rtp_ext_t e;
    int rc;
    rtp_ext_iter_init(&it, p, h);
    while ((rc = rtp_ext_next(&it, &e)) > 0) {
        if (e.id == id) {
            *data = e.data;
            *len = e.len;
            return 0;
        }
    }
    return rc < 0 ? rc : RTP_ERR_NOT_FOUND;
}

int rtp_ext_remap(uint8_t *p, size_t len, const rtp_header_t *h, const uint8_t map[256])
{
    if (h->ext_off + h->ext_len > len) return RTP_ERR_INVAL;
    rtp_ext_iter_t it;
    rtp_ext_t e;
    int rc;
    rtp_ext_iter_init(&it, p, h);
    if (it.two_byte < 0) return 0;
    /* Pass 1: validate, so that a bad block or map leaves the packet untouched. */
    while ((rc = rtp_ext_next(&it, &e)) > 0)
        if (!it.two_byte && map[e.id] > 14) return RTP_ERR_INVAL;
    if (rc < 0) return rc;
    rtp_ext_iter_init(&it, p, h);
    while (rtp_ext_next(&it, &e) > 0) {
        uint8_t *hdr = p + e.off;
        uint8_t to = map[e.id];
        if (to == 0)
            memset(hdr, 0, (size_t)(e.data - hdr) + e.len);
        else if (it.two_byte)
            hdr[0] = to;
        else
            hdr[0] = (uint8_t)(to << 4 | (hdr[0] & 0x0f));
    }
    return 0;
}

/* Finds element id of at least min bytes, as a writable pointer into p. */
static int find_min(const uint8_t *p, const rtp_header_t *h, uint8_t id, size_t min,
                    const uint8_t **data)
{
    size_t len;
    int rc = rtp_ext_find(p, h, id, data, &len);
    if (rc < 0) return rc;
    return len < min ? RTP_ERR_EXT : 0;
}

int rtp_ext_audio_level(const uint8_t *p, const rtp_header_t *h, uint8_t id, bool *voice,
                        uint8_t *level)
{
    const uint8_t *d;
    int rc = find_min(p, h, id, 1, &d);
    if (rc < 0) return rc;
    *voice = d[0] & 0x80;
    *level = d[0] & 0x7f;
    return 0;
}

int rtp_ext_abs_send_time(const uint8_t *p, const rtp_header_t *h, uint8_t id, uint32_t *ast)
{
    const uint8_t *d;
    int rc = find_min(p, h, id, 3, &d);
    if (rc < 0) return rc;
    *ast = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
    return 0;
}

int rtp_ext_set_abs_send_time(uint8_t *p, const rtp_header_t *h, uint8_t id, uint32_t ast)
{
    const uint8_t *d;
    int rc = find_min(p, h, id, 3, &d);
    if (rc < 0) return rc;
    uint8_t *w = p + (d - p);
    w[0] = (uint8_t)(ast >> 16), w[1] = (uint8_t)(ast >> 8), w[2] = (uint8_t)ast;
    return 0;
}

int rtp_ext_transport_seq(const uint8_t *p, const rtp_header_t *h, uint8_t id, uint16_t *seq)
{
    const uint8_t *d;
    int rc = find_min(p, h, id, 2, &d);
    if (rc < 0) return rc;
    *seq = rd16(d);
    return 0;
}

int rtp_ext_set_transport_seq(uint8_t *p, const rtp_header_t *h, uint8_t id, uint16_t seq)
{
    const uint8_t *d;
    int rc = find_min(p, h, id, 2, &d);
    if (rc < 0) return rc;
    wr16(p + (d - p), seq);
    return 0;
}

/* Makes room for grow bytes at offset at: what follows moves back. */
static int open_gap(uint8_t *p, size_t len, size_t cap, size_t at, size_t grow)
{
    if (grow > cap || len > cap - grow) return RTP_ERR_NOSPACE;
    memmove(p + at + grow, p + at, len - at);
    memset(p + at, 0, grow);
    return 0;
}

int rtp_ext_add(uint8_t *p, size_t len, size_t cap, const rtp_header_t *h, uint8_t id,
                const uint8_t *data, size_t dlen)
{
    if (h->ext_off + h->ext_len > len || (dlen && !data)) return RTP_ERR_INVAL;
    rtp_ext_iter_t it;
    rtp_ext_t e;
    int rc;
    rtp_ext_iter_init(&it, p, h);
    if (h->extension && it.two_byte < 0) return RTP_ERR_INVAL;
    bool two = it.two_byte == 1;
    if (id == 0 || (!two && (id > 14 || dlen < 1 || dlen > 16)) || dlen > 255) return RTP_ERR_INVAL;
    size_t need = (two ? 2 : 1) + dlen;
    size_t used = h->ext_off; /* end of the last element */
    if (!h->extension) {
        size_t at = RTP_HEADER_LEN + 4u * h->csrc_count;
        size_t words = (need + 3) / 4;
        if ((rc = open_gap(p, len, cap, at, 4 + 4 * words)) < 0) return rc;
        wr16(p + at, RTP_EXT_PROFILE_ONE_BYTE);
        wr16(p + at + 2, (uint16_t)words);
        p[0] |= 0x10;
        used = at + 4;
        len += 4 + 4 * words;
    } else {
        while ((rc = rtp_ext_next(&it, &e)) > 0)
            used = (size_t)(e.data - p) + e.len;
        if (rc < 0) return rc;
        size_t end = h->ext_off + h->ext_len;
        if (end - used < need) {
            size_t grow = (need - (end - used) + 3) / 4 * 4;
            if (h->ext_len / 4 + grow / 4 > 0xffff) return RTP_ERR_NOSPACE;
            if ((rc = open_gap(p, len, cap, end, grow)) < 0) return rc;
            wr16(p + h->ext_off - 2, (uint16_t)((h->ext_len + grow) / 4));
            len += grow;
        }
    }
    uint8_t *w = p + used;
    if (two) {
        *w++ = id;
        *w++ = (uint8_t)dlen;
    } else {
        *w++ = (uint8_t)(id << 4 | (dlen - 1));
    }
    if (dlen) memcpy(w, data, dlen);
    return (int)len;
}

int rtp_ext_string(const uint8_t *p, const rtp_header_t *h, uint8_t id, char *out, size_t cap)
{
    const uint8_t *d;
    size_t len;
    int rc = rtp_ext_find(p, h, id, &d, &len);
    if (rc < 0) return rc;
    if (len == 0) return RTP_ERR_INVAL;
    if (len >= cap) return RTP_ERR_NOSPACE;
    for (size_t i = 0; i < len; i++)
        if (d[i] < 0x21 || d[i] > 0x7e) return RTP_ERR_INVAL;
    memcpy(out, d, len);
    out[len] = '\0';
    return 0;
}

/* ---- RTX ------------------------------------------------------------------------------- */

int rtp_rtx_build(const uint8_t *pkt, size_t len, uint32_t rtx_ssrc, uint16_t rtx_seq,
                  uint8_t rtx_pt, uint8_t *out, size_t cap)
{
    rtp_header_t h;
    int rc = rtp_parse(pkt, len, &h);
    if (rc < 0) return rc;
    size_t n = h.header_len + 2 + h.payload_len;
    if (n > cap || n > INT32_MAX) return RTP_ERR_NOSPACE;
    memcpy(out, pkt, h.header_len);
    out[0] &= (uint8_t)~0x20; /* padding dropped */
    rtp_set_ssrc(out, rtx_ssrc);
    rtp_set_seq(out, rtx_seq);
    rtp_set_pt(out, rtx_pt);
    wr16(out + h.header_len, h.seq);
    memcpy(out + h.header_len + 2, pkt + h.payload_off, h.payload_len);
    return (int)n;
}

/* ---- codec payload descriptors --------------------------------------------------------- */

static bool h264_key_nal(uint8_t type)
{
    return type == 5 || type == 7; /* IDR slice, SPS */
}

bool rtp_h264_is_keyframe(const uint8_t *b, size_t len)
{
    if (!b || len < 1) return false;
    uint8_t type = b[0] & 0x1f;
    if (type >= 1 && type <= 23) return h264_key_nal(type);
    if (type == 24) { /* STAP-A: (16-bit size, NAL unit)* */
        bool key = false;
        size_t off = 1;
        while (off < len) {
            if (len - off < 2) return false;
            size_t n = rd16(b + off);
            off += 2;
            if (n == 0 || n > len - off) return false;
            key = key || h264_key_nal(b[off] & 0x1f);
            off += n;
        }
        return key;
    }
    if (type == 28) /* FU-A: FU header S bit and the fragmented NAL's type */
        return len >= 2 && (b[1] & 0x80) && h264_key_nal(b[1] & 0x1f);
    return false;
}

const char *rtp_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case RTP_ERR_TRUNCATED:
        return "truncated RTP packet";
    case RTP_ERR_VERSION:
        return "RTP version is not 2";
    case RTP_ERR_PADDING:
        return "bad RTP padding count";
    case RTP_ERR_EXT:
        return "malformed RTP header extension";
    case RTP_ERR_NOT_FOUND:
        return "no such RTP header extension";
    case RTP_ERR_INVAL:
        return "invalid argument";
    case RTP_ERR_NOSPACE:
        return "output buffer too small";
    case RTP_ERR_PAYLOAD:
        return "malformed codec payload descriptor";
    default:
        return "unknown RTP error";
    }
}
