/* RTCP compound walking, decoding and building; see rtcp.h. */
#include "rtcp.h"

#include <string.h>

#include "bytes.h"

#define SENDER_INFO_LEN  20
#define REPORT_BLOCK_LEN 24
#define FB_HEADER_LEN    8 /* sender SSRC and media SSRC */

static int32_t sign24(uint32_t v)
{
    return v & 0x800000u ? (int32_t)v - 0x1000000 : (int32_t)v;
}

/* ---- walking --------------------------------------------------------------------------- */

void rtcp_iter_init(rtcp_iter_t *it, const uint8_t *p, size_t len)
{
    it->p = p;
    it->len = p ? len : 0;
    it->off = 0;
}

int rtcp_next(rtcp_iter_t *it, rtcp_pkt_t *out)
{
    int err;
    size_t left = it->len - it->off;
    if (left == 0) return 0;
    const uint8_t *h = it->p + it->off;
    if (left < RTCP_HEADER_LEN) {
        err = RTCP_ERR_TRUNCATED;
        goto fail;
    }
    if (h[0] >> 6 != 2) {
        err = RTCP_ERR_VERSION;
        goto fail;
    }
    size_t len = 4 * ((size_t)rd16(h + 2) + 1);
    if (len > left) {
        err = RTCP_ERR_TRUNCATED;
        goto fail;
    }
    size_t body_len = len - RTCP_HEADER_LEN;
    if (h[0] & 0x20) {
        /* RFC 3550 appendix A.2: only the last packet of a compound packet is padded. */
        size_t pad = h[len - 1];
        if (len != left || pad == 0 || pad > body_len) {
            err = RTCP_ERR_PADDING;
            goto fail;
        }
        body_len -= pad;
    }
    *out = (rtcp_pkt_t){
        .pt = h[1],
        .count = h[0] & 0x1f,
        .ptr = h,
        .len = len,
        .body = h + RTCP_HEADER_LEN,
        .body_len = body_len,
    };
    it->off += len;
    return 1;
fail:
    it->off = it->len;
    return err;
}

int rtcp_validate(const uint8_t *p, size_t len)
{
    rtcp_iter_t it;
    rtcp_pkt_t pkt;
    int rc, n = 0;
    rtcp_iter_init(&it, p, len);
    while ((rc = rtcp_next(&it, &pkt)) > 0)
        n++;
    if (rc < 0) return rc;
    return n ? 0 : RTCP_ERR_TRUNCATED;
}

/* ---- decoding -------------------------------------------------------------------------- */

static void parse_blocks(const uint8_t *b, size_t n, rtcp_report_block_t *out)
{
    for (size_t i = 0; i < n; i++, b += REPORT_BLOCK_LEN)
        out[i] = (rtcp_report_block_t){
            .ssrc = rd32(b),
            .fraction_lost = b[4],
            .cumulative_lost = sign24(rd24(b + 5)),
            .highest_seq = rd32(b + 8),
            .jitter = rd32(b + 12),
            .lsr = rd32(b + 16),
            .dlsr = rd32(b + 20),
        };
}

int rtcp_parse_sr(const rtcp_pkt_t *pkt, rtcp_sr_t *out)
{
    if (pkt->pt != RTCP_PT_SR) return RTCP_ERR_TYPE;
    const uint8_t *b = pkt->body;
    /* Profile-specific extensions may follow the report blocks: ignored. */
    if (pkt->body_len < 4 + SENDER_INFO_LEN + (size_t)pkt->count * REPORT_BLOCK_LEN)
        return RTCP_ERR_LENGTH;
    out->ssrc = rd32(b);
    out->ntp = (uint64_t)rd32(b + 4) << 32 | rd32(b + 8);
    out->rtp_ts = rd32(b + 12);
    out->packet_count = rd32(b + 16);
    out->octet_count = rd32(b + 20);
    out->n_blocks = pkt->count;
    parse_blocks(b + 4 + SENDER_INFO_LEN, pkt->count, out->blocks);
    return 0;
}

int rtcp_parse_rr(const rtcp_pkt_t *pkt, rtcp_rr_t *out)
{
    if (pkt->pt != RTCP_PT_RR) return RTCP_ERR_TYPE;
    if (pkt->body_len < 4 + (size_t)pkt->count * REPORT_BLOCK_LEN) return RTCP_ERR_LENGTH;
    out->ssrc = rd32(pkt->body);
    out->n_blocks = pkt->count;
    parse_blocks(pkt->body + 4, pkt->count, out->blocks);
    return 0;
}

int rtcp_parse_bye(const rtcp_pkt_t *pkt, rtcp_bye_t *out)
{
    if (pkt->pt != RTCP_PT_BYE) return RTCP_ERR_TYPE;
    size_t n = pkt->count, off = 4 * n;
    if (pkt->body_len < off) return RTCP_ERR_LENGTH;
    out->reason = NULL;
    out->reason_len = 0;
    if (pkt->body_len > off) {
        size_t rlen = pkt->body[off];
        if (rlen > pkt->body_len - off - 1) return RTCP_ERR_LENGTH;
        out->reason = pkt->body + off + 1;
        out->reason_len = rlen;
    }
    out->n_ssrcs = n;
    for (size_t i = 0; i < n; i++)
        out->ssrcs[i] = rd32(pkt->body + 4 * i);
    return 0;
}

int rtcp_parse_fb(const rtcp_pkt_t *pkt, rtcp_fb_t *out)
{
    if (pkt->pt != RTCP_PT_RTPFB && pkt->pt != RTCP_PT_PSFB) return RTCP_ERR_TYPE;
    if (pkt->body_len < FB_HEADER_LEN) return RTCP_ERR_LENGTH;
    *out = (rtcp_fb_t){
        .pt = pkt->pt,
        .fmt = pkt->count,
        .sender_ssrc = rd32(pkt->body),
        .media_ssrc = rd32(pkt->body + 4),
        .fci = pkt->body + FB_HEADER_LEN,
        .fci_len = pkt->body_len - FB_HEADER_LEN,
    };
    return 0;
}

static bool is_fb(const rtcp_fb_t *fb, uint8_t pt, uint8_t fmt)
{
    return fb->pt == pt && fb->fmt == fmt;
}

int rtcp_nack_seqs(const rtcp_fb_t *fb, uint16_t *seqs, size_t cap)
{
    if (!is_fb(fb, RTCP_PT_RTPFB, RTCP_RTPFB_NACK)) return RTCP_ERR_TYPE;
    if (fb->fci_len == 0 || fb->fci_len % 4) return RTCP_ERR_LENGTH;
    size_t n = 0;
    for (size_t off = 0; off < fb->fci_len; off += 4) {
        uint16_t pid = rd16(fb->fci + off), blp = rd16(fb->fci + off + 2);
        if (n < cap) seqs[n] = pid;
        n++;
        for (unsigned bit = 0; bit < 16; bit++) {
            if (!(blp & (1u << bit))) continue;
            if (n < cap) seqs[n] = (uint16_t)(pid + bit + 1);
            n++;
        }
    }
    return (int)n; /* at most 17 per 4 bytes of a packet shorter than 256 KiB */
}

int rtcp_parse_twcc(const rtcp_fb_t *fb, rtcp_twcc_t *out)
{
    if (!is_fb(fb, RTCP_PT_RTPFB, RTCP_RTPFB_TWCC)) return RTCP_ERR_TYPE;
    if (fb->fci_len < 8) return RTCP_ERR_LENGTH;
    *out = (rtcp_twcc_t){
        .base_seq = rd16(fb->fci),
        .status_count = rd16(fb->fci + 2),
        .reference_time = sign24(rd24(fb->fci + 4)),
        .fb_count = fb->fci[7],
    };
    return 0;
}

int rtcp_fir_count(const rtcp_fb_t *fb)
{
    if (!is_fb(fb, RTCP_PT_PSFB, RTCP_PSFB_FIR)) return RTCP_ERR_TYPE;
    if (fb->fci_len == 0 || fb->fci_len % 8) return RTCP_ERR_LENGTH;
    return (int)(fb->fci_len / 8);
}

int rtcp_fir_entry(const rtcp_fb_t *fb, size_t i, uint32_t *ssrc, uint8_t *seq)
{
    int n = rtcp_fir_count(fb);
    if (n < 0) return n;
    if (i >= (size_t)n) return RTCP_ERR_INVAL;
    *ssrc = rd32(fb->fci + 8 * i);
    *seq = fb->fci[8 * i + 4];
    return 0;
}

int rtcp_parse_remb(const rtcp_fb_t *fb, rtcp_remb_t *out)
{
    if (!is_fb(fb, RTCP_PT_PSFB, RTCP_PSFB_AFB)) return RTCP_ERR_TYPE;
    if (fb->fci_len < 4 || memcmp(fb->fci, "REMB", 4) != 0) return RTCP_ERR_TYPE;
    if (fb->fci_len < 8) return RTCP_ERR_LENGTH;
    const uint8_t *f = fb->fci;
    size_t n = f[4];
    if (fb->fci_len < 8 + 4 * n) return RTCP_ERR_LENGTH;
    unsigned exp = f[5] >> 2;
    uint64_t mantissa = (uint64_t)(f[5] & 0x03) << 16 | rd16(f + 6);
    out->bitrate =
        mantissa && exp > 0 && mantissa > (UINT64_MAX >> exp) ? UINT64_MAX : mantissa << exp;
    out->n_ssrcs = n;
    for (size_t i = 0; i < n; i++)
        out->ssrcs[i] = rd32(f + 8 + 4 * i);
    return 0;
}

/* ---- building -------------------------------------------------------------------------- */

/* Writes the common header of a packet of len bytes (a multiple of 4). */
static void put_header(uint8_t *out, uint8_t count, uint8_t pt, size_t len)
{
    out[0] = (uint8_t)(0x80 | count);
    out[1] = pt;
    wr16(out + 2, (uint16_t)(len / 4 - 1));
}

static int put_fb_header(uint8_t *out, size_t cap, uint8_t pt, uint8_t fmt, uint32_t sender,
                         uint32_t media, size_t len)
{
    if (len > cap) return RTCP_ERR_NOSPACE;
    put_header(out, fmt, pt, len);
    wr32(out + 4, sender);
    wr32(out + 8, media);
    return (int)len;
}

int rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    return put_fb_header(out, cap, RTCP_PT_PSFB, RTCP_PSFB_PLI, sender_ssrc, media_ssrc, 12);
}

int rtcp_build_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t seq)
{
    int n = put_fb_header(out, cap, RTCP_PT_PSFB, RTCP_PSFB_FIR, sender_ssrc, 0, 20);
    if (n < 0) return n;
    wr32(out + 12, media_ssrc);
    wr32(out + 16, (uint32_t)seq << 24);
    return n;
}

int rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                    const uint16_t *seqs, size_t n)
{
    if (n == 0) return RTCP_ERR_INVAL;
    size_t len = 12; /* header, then one 4-byte item per new PID */
    uint16_t pid = 0, blp = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t d = (uint16_t)(seqs[i] - pid);
        if (i > 0 && d == 0) continue;
        if (i > 0 && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1));
            continue;
        }
        if (i > 0) wr16(out + len - 2, blp);
        if (len + 4 > cap || len + 4 > 4u * 65536) return RTCP_ERR_NOSPACE;
        pid = seqs[i], blp = 0;
        wr16(out + len, pid);
        len += 4;
    }
    wr16(out + len - 2, blp);
    return put_fb_header(out, cap, RTCP_PT_RTPFB, RTCP_RTPFB_NACK, sender_ssrc, media_ssrc, len);
}

static void put_blocks(uint8_t *b, const rtcp_report_block_t *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++, b += REPORT_BLOCK_LEN) {
        const rtcp_report_block_t *r = &blocks[i];
        int32_t lost = r->cumulative_lost;
        if (lost > 0x7fffff) lost = 0x7fffff;
        if (lost < -0x800000) lost = -0x800000;
        wr32(b, r->ssrc);
        wr32(b + 4, (uint32_t)r->fraction_lost << 24 | ((uint32_t)lost & 0xffffffu));
        wr32(b + 8, r->highest_seq);
        wr32(b + 12, r->jitter);
        wr32(b + 16, r->lsr);
        wr32(b + 20, r->dlsr);
    }
}

int rtcp_build_sr(uint8_t *out, size_t cap, const rtcp_sr_t *sr)
{
    if (sr->n_blocks > RTCP_MAX_BLOCKS) return RTCP_ERR_INVAL;
    size_t len = RTCP_HEADER_LEN + 4 + SENDER_INFO_LEN + sr->n_blocks * REPORT_BLOCK_LEN;
    if (len > cap) return RTCP_ERR_NOSPACE;
    put_header(out, (uint8_t)sr->n_blocks, RTCP_PT_SR, len);
    wr32(out + 4, sr->ssrc);
    wr32(out + 8, (uint32_t)(sr->ntp >> 32));
    wr32(out + 12, (uint32_t)sr->ntp);
    wr32(out + 16, sr->rtp_ts);
    wr32(out + 20, sr->packet_count);
    wr32(out + 24, sr->octet_count);
    put_blocks(out + 28, sr->blocks, sr->n_blocks);
    return (int)len;
}

int rtcp_build_rr(uint8_t *out, size_t cap, const rtcp_rr_t *rr)
{
    if (rr->n_blocks > RTCP_MAX_BLOCKS) return RTCP_ERR_INVAL;
    size_t len = RTCP_HEADER_LEN + 4 + rr->n_blocks * REPORT_BLOCK_LEN;
    if (len > cap) return RTCP_ERR_NOSPACE;
    put_header(out, (uint8_t)rr->n_blocks, RTCP_PT_RR, len);
    wr32(out + 4, rr->ssrc);
    put_blocks(out + 8, rr->blocks, rr->n_blocks);
    return (int)len;
}

int rtcp_build_bye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n)
{
    if (n == 0 || n > RTCP_MAX_BLOCKS) return RTCP_ERR_INVAL;
    size_t len = RTCP_HEADER_LEN + 4 * n;
    if (len > cap) return RTCP_ERR_NOSPACE;
    put_header(out, (uint8_t)n, RTCP_PT_BYE, len);
    for (size_t i = 0; i < n; i++)
        wr32(out + 4 + 4 * i, ssrcs[i]);
    return (int)len;
}

int rtcp_build_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                    const uint32_t *ssrcs, size_t n)
{
    if (n > RTCP_MAX_REMB_SSRCS) return RTCP_ERR_INVAL;
    unsigned exp = 0;
    while ((bitrate >> exp) > 0x3ffffu)
        exp++;
    uint32_t mantissa = (uint32_t)(bitrate >> exp);
    int len = put_fb_header(out, cap, RTCP_PT_PSFB, RTCP_PSFB_AFB, sender_ssrc, 0, 20 + 4 * n);
    if (len < 0) return len;
    memcpy(out + 12, "REMB", 4);
    wr32(out + 16, (uint32_t)n << 24 | exp << 18 | mantissa);
    for (size_t i = 0; i < n; i++)
        wr32(out + 20 + 4 * i, ssrcs[i]);
    return len;
}

const char *rtcp_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case RTCP_ERR_TRUNCATED:
        return "truncated RTCP packet";
    case RTCP_ERR_VERSION:
        return "RTCP version is not 2";
    case RTCP_ERR_PADDING:
        return "bad RTCP padding";
    case RTCP_ERR_LENGTH:
        return "RTCP length does not fit the content";
    case RTCP_ERR_TYPE:
        return "not an RTCP packet of that type";
    case RTCP_ERR_NOSPACE:
        return "output buffer too small";
    case RTCP_ERR_INVAL:
        return "invalid argument";
    default:
        return "unknown RTCP error";
    }
}
