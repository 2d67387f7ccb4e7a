/* Tests for sfu/rtp: header parsing, extensions (iteration, find, remap, the helpers),
 * RTX building and the VP8/H.264 descriptors, table-driven. Every packet is parsed from
 * a heap buffer of exactly its length, so that a read past the end shows under ASan. */
#include "rtp.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    memcpy(c, p, n);
    return c;
}

/* A Chrome Opus packet: extmap ids of tests/data/sdp/chrome_publish.sdp (1 audio level,
 * 2 abs-send-time, 3 transport-wide cc, 4 mid), one padding byte ending the block. */
static const uint8_t chrome_opus[] = {
    0x90, 0x6f, 0x5a, 0x3c, 0x00, 0x01, 0xe2, 0x40, 0x1f, 0x2e, 0x3d, 0x4c, /* header */
    0xbe, 0xde, 0x00, 0x03,                                                 /* 3 words */
    0x10, 0x9e,                   /* id 1: voice, -30 dBov */
    0x22, 0x0a, 0xbc, 0xde,       /* id 2: abs-send-time 0x0abcde */
    0x31, 0x01, 0x2c,             /* id 3: transport seq 300 */
    0x40, 0x30,                   /* id 4: mid "0" */
    0x00,                         /* padding */
    0x78, 0x0b, 0xe4, 0xc1, 0x36, /* Opus TOC and frame */
};

/* A Chrome VP8 key frame start: marker clear, X/S descriptor with a 15-bit PictureID,
 * TL0PICIDX and TID, then the VP8 payload header (P bit 0) and start code. */
static const uint8_t chrome_vp8[] = {
    0x90, 0x60, 0xff, 0xff, 0x12, 0x34, 0x56, 0x78, 0xca, 0xfe, 0xba, 0xbe, /* header */
    0xbe, 0xde, 0x00, 0x02,                                                 /* 2 words */
    0x22, 0x01, 0x02, 0x03,                                                 /* abs-send-time */
    0x31, 0xff, 0xff,                   /* transport seq 65535 */
    0x00,                               /* padding */
    0x90, 0xe0, 0x81, 0x23, 0x07, 0x60, /* X S; I L T; M pid 0x0123; tl0 7; tid 1 y */
    0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
};

/* Two-byte form (profile 0x1000) with a 0-length element, padding and a 17-byte one. */
static const uint8_t two_byte[] = {
    0x90, 0x00, 0x00, 0x01, 0,    0,    0,    1,    0,   0,
    0,    2,    0x10, 0x00, 0x00, 0x06, 0x05, 0x00, /* id 5, empty */
    0x00,                                           /* padding */
    0xf0, 0x11, 'a',  'b',  'c',  'd',  'e',  'f',  'g', 'h',
    'i',  'j',  'k',  'l',  'm',  'n',  'o',  'p',  'q', /* id 240, 17 bytes */
    0x00, 0x00,                                          /* padding to 24 */
    0xaa,
};

/* CSRCs, extension with another profile, padding of 3 (count byte included). */
static const uint8_t csrc_pad[] = {
    0xb2, 0x80, 0x00, 0x02, 0,    0,    0,    2,    0,    0, 0, 3, 0, 0, 0,
    0x11, 0,    0,    0,    0x12, 0xab, 0xcd, 0x00, 0x01, 1, 2, 3, 4, /* profile 0xabcd: no elements
                                                                       */
    0xde, 0xad, 0x00, 0x00, 0x03,
};

/* Padding only: a bandwidth probe. */
static const uint8_t probe[] = {0xa0, 0x60, 0, 9, 0, 0, 0, 9, 0, 0, 0, 9,
                                0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 12};

typedef struct {
    const char *name;
    const uint8_t *pkt;
    size_t len;
    int rc;
    bool marker, padding, extension;
    uint8_t pt, cc;
    uint16_t seq;
    uint32_t ts, ssrc;
    size_t header_len, payload_len;
    uint16_t profile;
    size_t ext_len;
} parse_case_t;

#define PKT(a) a, sizeof a

static const parse_case_t parse_cases[] = {
    {"chrome opus", PKT(chrome_opus), 0, false, false, true, 111, 0, 0x5a3c, 0x0001e240, 0x1f2e3d4c,
     28, 5, 0xbede, 12},
    {"chrome vp8", PKT(chrome_vp8), 0, false, false, true, 96, 0, 0xffff, 0x12345678, 0xcafebabe,
     24, 16, 0xbede, 8},
    {"two-byte", PKT(two_byte), 0, false, false, true, 0, 0, 1, 1, 2, 40, 1, 0x1000, 24},
    {"csrc pad", PKT(csrc_pad), 0, true, true, true, 0, 2, 2, 2, 3, 28, 2, 0xabcd, 4},
    {"probe", PKT(probe), 0, false, true, false, 96, 0, 9, 9, 9, 12, 0, 0, 0},
    {.name = "version 1",
     .pkt = (const uint8_t[]){0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     .len = 12,
     .rc = RTP_ERR_VERSION},
    {.name = "version 0",
     .pkt = (const uint8_t[]){0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     .len = 12,
     .rc = RTP_ERR_VERSION},
    {.name = "short",
     .pkt = (const uint8_t[]){0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     .len = 11,
     .rc = RTP_ERR_TRUNCATED},
    {.name = "padding 0",
     .pkt = (const uint8_t[]){0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
     .len = 14,
     .rc = RTP_ERR_PADDING},
    {.name = "padding too long",
     .pkt = (const uint8_t[]){0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3},
     .len = 14,
     .rc = RTP_ERR_PADDING},
    {"padding exact", (const uint8_t[]){0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2}, 14, 0, false,
     true, false, 0, 0, 0, 0, 0, 12, 0, 0, 0},
    {.name = "csrc overrun",
     .pkt = (const uint8_t[]){0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3},
     .len = 15,
     .rc = RTP_ERR_TRUNCATED},
    {.name = "ext overrun",
     .pkt = (const uint8_t[]){0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 1, 0x10, 0, 0},
     .len = 19,
     .rc = RTP_ERR_TRUNCATED},
    {.name = "ext header cut",
     .pkt = (const uint8_t[]){0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0},
     .len = 15,
     .rc = RTP_ERR_TRUNCATED},
    {.name = "padding into ext",
     .pkt = (const uint8_t[]){0xb0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 1, 0, 0, 0, 2},
     .len = 20,
     .rc = RTP_ERR_PADDING},
};

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const parse_case_t *c = &parse_cases[i];
        uint8_t *p = dup(c->pkt, c->len);
        rtp_header_t h;
        int rc = rtp_parse(p, c->len, &h);
        if (rc != c->rc) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(rc, c->rc);
        if (rc == 0 && c->rc == 0) {
            CHECK_INT(h.marker, c->marker);
            CHECK_INT(h.padding, c->padding);
            CHECK_INT(h.extension, c->extension);
            CHECK_INT(h.pt, c->pt);
            CHECK_INT(h.csrc_count, c->cc);
            CHECK_INT(h.seq, c->seq);
            CHECK_INT(h.ts, c->ts);
            CHECK_INT(h.ssrc, c->ssrc);
            CHECK_INT(h.header_len, c->header_len);
            CHECK_INT(h.payload_off, c->header_len);
            CHECK_INT(h.payload_len, c->payload_len);
            CHECK_INT(h.payload_off + h.payload_len + h.padding_len, c->len);
            CHECK_INT(h.ext_profile, c->profile);
            CHECK_INT(h.ext_len, c->ext_len);
        }
        free(p);
    }
    CHECK_INT(rtp_parse(NULL, 0, &(rtp_header_t){0}), RTP_ERR_TRUNCATED);
}

/* Walks all elements; returns the count or the error. */
static int walk(const uint8_t *p, const rtp_header_t *h, rtp_ext_t *els, size_t cap)
{
    rtp_ext_iter_t it;
    rtp_ext_t e;
    int rc, n = 0;
    rtp_ext_iter_init(&it, p, h);
    while ((rc = rtp_ext_next(&it, &e)) > 0) {
        if ((size_t)n < cap) els[n] = e;
        n++;
        if (e.data < p + h->ext_off || e.data + e.len > p + h->ext_off + h->ext_len) return -100;
    }
    return rc < 0 ? rc : n;
}

/* Every prefix of every valid packet: rtp_parse never reads past it, and what it
 * accepts is consistent; element iteration stays inside the block. */
static void test_truncations(void)
{
    const uint8_t *pkts[] = {chrome_opus, chrome_vp8, two_byte, csrc_pad, probe};
    size_t lens[] = {sizeof chrome_opus, sizeof chrome_vp8, sizeof two_byte, sizeof csrc_pad,
                     sizeof probe};
    for (size_t i = 0; i < 5; i++) {
        rtp_header_t full;
        CHECK_INT(rtp_parse(pkts[i], lens[i], &full), 0);
        for (size_t n = 0; n < lens[i]; n++) {
            uint8_t *p = dup(pkts[i], n);
            rtp_header_t h;
            int rc = rtp_parse(p, n, &h);
            if (n < full.header_len) CHECK(rc < 0);
            if (rc == 0) {
                CHECK(h.payload_off + h.payload_len + h.padding_len == n);
                rtp_ext_t els[16];
                CHECK(walk(p, &h, els, 16) >= 0);
                rtp_h264_is_keyframe(p + h.payload_off, h.payload_len);
            }
            free(p);
        }
    }
}

static void test_setters(void)
{
    uint8_t *p = dup(chrome_opus, sizeof chrome_opus);
    rtp_set_ssrc(p, 0x01020304);
    rtp_set_seq(p, 0xfffe);
    rtp_set_ts(p, 0xa0b0c0d0);
    rtp_set_marker(p, true);
    rtp_set_pt(p, 0xff); /* only 7 bits taken */
    rtp_header_t h;
    CHECK_INT(rtp_parse(p, sizeof chrome_opus, &h), 0);
    CHECK_INT(h.ssrc, 0x01020304);
    CHECK_INT(h.seq, 0xfffe);
    CHECK_INT(h.ts, 0xa0b0c0d0);
    CHECK(h.marker);
    CHECK_INT(h.pt, 127);
    rtp_set_pt(p, 96);
    rtp_set_marker(p, false);
    CHECK_INT(rtp_parse(p, sizeof chrome_opus, &h), 0);
    CHECK(!h.marker);
    CHECK_INT(h.pt, 96);
    CHECK(!memcmp(p + 12, chrome_opus + 12, sizeof chrome_opus - 12));
    CHECK_INT(p[0], 0x90);
    free(p);
}

static void test_seq_extend(void)
{
    static const struct {
        uint64_t ref;
        uint16_t seq;
        uint64_t want;
    } cases[] = {
        {0, 0, 0},
        {0, 1, 1},
        {0, 0xffff, 0xffff}, /* never below 0 */
        {0x10000, 0xffff, 0xffff},
        {0xffff, 0, 0x10000},
        {0xfff0, 0x0010, 0x10010},
        {0x10010, 0xfff0, 0xfff0},
        {0x1234, 0x1234 + 0x7fff, 0x1234 + 0x7fff},
        {0x20000, 0x8000, 0x18000}, /* exactly half way back */
        {100, 50, 50},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(rtp_seq_extend(cases[i].ref, cases[i].seq), cases[i].want);
}

static void test_ext(void)
{
    rtp_header_t h;
    rtp_ext_t els[8];
    uint8_t *p = dup(chrome_opus, sizeof chrome_opus);
    CHECK_INT(rtp_parse(p, sizeof chrome_opus, &h), 0);
    CHECK_INT(walk(p, &h, els, 8), 4);
    static const uint8_t ids[] = {1, 2, 3, 4}, lens[] = {1, 3, 2, 1};
    for (int i = 0; i < 4; i++) {
        CHECK_INT(els[i].id, ids[i]);
        CHECK_INT(els[i].len, lens[i]);
    }
    bool voice;
    uint8_t level;
    CHECK_INT(rtp_ext_audio_level(p, &h, 1, &voice, &level), 0);
    CHECK(voice);
    CHECK_INT(level, 30);
    uint32_t ast;
    CHECK_INT(rtp_ext_abs_send_time(p, &h, 2, &ast), 0);
    CHECK_INT(ast, 0x0abcde);
    uint16_t tseq;
    CHECK_INT(rtp_ext_transport_seq(p, &h, 3, &tseq), 0);
    CHECK_INT(tseq, 300);
    char mid[17];
    CHECK_INT(rtp_ext_string(p, &h, 4, mid, sizeof mid), 0);
    CHECK_STR(mid, "0");
    CHECK_INT(rtp_ext_string(p, &h, 4, mid, 1), RTP_ERR_NOSPACE);
    CHECK_INT(rtp_ext_string(p, &h, 3, mid, sizeof mid), RTP_ERR_INVAL); /* 0x01 0x2c */
    CHECK_INT(rtp_ext_transport_seq(p, &h, 1, &tseq), RTP_ERR_EXT);      /* 1 byte only */
    CHECK_INT(rtp_ext_abs_send_time(p, &h, 9, &ast), RTP_ERR_NOT_FOUND);
    CHECK_INT(rtp_ext_set_transport_seq(p, &h, 3, 0xbeef), 0);
    CHECK_INT(rtp_ext_set_abs_send_time(p, &h, 2, 0x123456), 0);
    CHECK_INT(rtp_ext_transport_seq(p, &h, 3, &tseq), 0);
    CHECK_INT(tseq, 0xbeef);
    CHECK_INT(rtp_ext_abs_send_time(p, &h, 2, &ast), 0);
    CHECK_INT(ast, 0x123456);
    CHECK_INT(rtp_ext_set_transport_seq(p, &h, 7, 1), RTP_ERR_NOT_FOUND);
    free(p);

    p = dup(two_byte, sizeof two_byte);
    CHECK_INT(rtp_parse(p, sizeof two_byte, &h), 0);
    CHECK_INT(walk(p, &h, els, 8), 2);
    CHECK_INT(els[0].id, 5);
    CHECK_INT(els[0].len, 0);
    CHECK_INT(els[1].id, 240);
    CHECK_INT(els[1].len, 17);
    CHECK_INT(rtp_ext_string(p, &h, 240, mid, sizeof mid), RTP_ERR_NOSPACE);
    char rid[18];
    CHECK_INT(rtp_ext_string(p, &h, 240, rid, sizeof rid), 0);
    CHECK_STR(rid, "abcdefghijklmnopq");
    CHECK_INT(rtp_ext_string(p, &h, 5, rid, sizeof rid), RTP_ERR_INVAL); /* empty */
    free(p);

    /* No extension, or a profile without elements: nothing to find. */
    p = dup(csrc_pad, sizeof csrc_pad);
    CHECK_INT(rtp_parse(p, sizeof csrc_pad, &h), 0);
    CHECK_INT(walk(p, &h, els, 8), 0);
    CHECK_INT(rtp_ext_audio_level(p, &h, 1, &voice, &level), RTP_ERR_NOT_FOUND);
    free(p);
}

/* Extension blocks as iteration sees them: bytes after the 4-byte extension header. */
typedef struct {
    const char *name;
    uint16_t profile;
    uint8_t block[16];
    size_t len;
    int n; /* elements, or the error */
} block_case_t;

static const block_case_t block_cases[] = {
    {"all padding", 0xbede, {0}, 8, 0},
    {"id 15 stops", 0xbede, {0x10, 1, 0xf3, 0x20, 1, 0, 0, 0}, 8, 1},
    {"one-byte overrun", 0xbede, {0, 0, 0, 0x13, 1, 2, 3, 0}, 4, RTP_ERR_EXT},
    {"one-byte exact", 0xbede, {0x12, 1, 2, 3}, 4, 1},
    {"id 0 with length", 0xbede, {0x10, 1, 0x01, 0, 0, 0, 0, 0}, 8, RTP_ERR_EXT},
    {"two-byte overrun", 0x1001, {1, 3, 1, 2}, 4, RTP_ERR_EXT},
    {"two-byte header cut", 0x100f, {1, 0, 0, 7}, 4, RTP_ERR_EXT},
    {"two-byte exact", 0x1000, {1, 2, 1, 2, 0xff, 0, 0, 0}, 8, 2},
    {"other profile", 0x1010, {1, 2, 1, 2}, 4, 0},
};

static void test_ext_blocks(void)
{
    for (size_t i = 0; i < sizeof block_cases / sizeof block_cases[0]; i++) {
        const block_case_t *c = &block_cases[i];
        uint8_t buf[32] = {0x90,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           (uint8_t)(c->profile >> 8),
                           (uint8_t)c->profile,
                           0,
                           (uint8_t)(c->len / 4)};
        memcpy(buf + 16, c->block, c->len);
        uint8_t *p = dup(buf, 16 + c->len);
        rtp_header_t h;
        CHECK_INT(rtp_parse(p, 16 + c->len, &h), 0);
        rtp_ext_t els[8];
        int n = walk(p, &h, els, 8);
        if (n != c->n) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(n, c->n);
        /* remap with an identity map: succeeds exactly when iteration does, changes nothing */
        uint8_t map[256];
        for (int k = 0; k < 256; k++)
            map[k] = (uint8_t)k;
        map[15] = 14; /* would be invalid in one-byte form, but 15 is never an element */
        int rc = rtp_ext_remap(p, 16 + c->len, &h, map);
        CHECK_INT(rc, c->n < 0 ? c->n : 0);
        CHECK(!memcmp(p, buf, 16 + c->len));
        free(p);
    }
}

static void test_remap(void)
{
    uint8_t map[256] = {0};
    map[1] = 5;  /* audio level -> 5 */
    map[2] = 0;  /* abs-send-time dropped */
    map[3] = 14; /* transport seq -> 14 */
    map[4] = 1;  /* mid -> 1 */
    uint8_t *p = dup(chrome_opus, sizeof chrome_opus);
    rtp_header_t h;
    CHECK_INT(rtp_parse(p, sizeof chrome_opus, &h), 0);
    CHECK_INT(rtp_ext_remap(p, sizeof chrome_opus, &h, map), 0);
    static const uint8_t want_block[] = {0x50, 0x9e, 0, 0, 0, 0, 0xe1, 0x01, 0x2c, 0x10, 0x30, 0};
    CHECK(!memcmp(p + 16, want_block, sizeof want_block));
    CHECK(!memcmp(p + 28, chrome_opus + 28, sizeof chrome_opus - 28));
    rtp_header_t h2;
    CHECK_INT(rtp_parse(p, sizeof chrome_opus, &h2), 0);
    rtp_ext_t els[8];
    CHECK_INT(walk(p, &h2, els, 8), 3);
    uint16_t tseq;
    CHECK_INT(rtp_ext_transport_seq(p, &h2, 14, &tseq), 0);
    CHECK_INT(tseq, 300);
    uint32_t ast;
    CHECK_INT(rtp_ext_abs_send_time(p, &h2, 2, &ast), RTP_ERR_NOT_FOUND);
    free(p);

    /* An id invalid for the one-byte form: nothing written. */
    map[3] = 15;
    p = dup(chrome_opus, sizeof chrome_opus);
    CHECK_INT(rtp_ext_remap(p, sizeof chrome_opus, &h, map), RTP_ERR_INVAL);
    CHECK(!memcmp(p, chrome_opus, sizeof chrome_opus));
    free(p);

    /* Two-byte form: any id up to 255; a dropped element becomes padding. */
    memset(map, 0, sizeof map);
    map[240] = 200;
    p = dup(two_byte, sizeof two_byte);
    CHECK_INT(rtp_parse(p, sizeof two_byte, &h), 0);
    CHECK_INT(rtp_ext_remap(p, sizeof two_byte, &h, map), 0);
    CHECK_INT(p[16], 0);
    CHECK_INT(p[17], 0);
    CHECK_INT(p[19], 200);
    CHECK_INT(walk(p, &h, els, 8), 1);
    CHECK_INT(els[0].id, 200);
    CHECK_INT(els[0].len, 17);
    free(p);

    /* Dropping everything leaves a block of padding: still a valid packet. */
    memset(map, 0, sizeof map);
    p = dup(chrome_vp8, sizeof chrome_vp8);
    CHECK_INT(rtp_parse(p, sizeof chrome_vp8, &h), 0);
    CHECK_INT(rtp_ext_remap(p, sizeof chrome_vp8, &h, map), 0);
    for (size_t i = 16; i < 24; i++)
        CHECK_INT(p[i], 0);
    CHECK_INT(walk(p, &h, els, 8), 0);
    CHECK_INT(rtp_ext_remap(p, 10, &h, map), RTP_ERR_INVAL); /* len smaller than parsed */
    free(p);
}

static void test_rtx(void)
{
    uint8_t out[64];
    int n = rtp_rtx_build(chrome_vp8, sizeof chrome_vp8, 0x0badf00d, 7, 97, out, sizeof out);
    CHECK_INT(n, sizeof chrome_vp8 + 2);
    rtp_header_t h;
    CHECK_INT(rtp_parse(out, (size_t)n, &h), 0);
    CHECK_INT(h.ssrc, 0x0badf00d);
    CHECK_INT(h.seq, 7);
    CHECK_INT(h.pt, 97);
    CHECK_INT(h.ts, 0x12345678);
    CHECK_INT(h.payload_len, 16 + 2);
    CHECK_INT(out[h.payload_off], 0xff); /* OSN 65535 */
    CHECK_INT(out[h.payload_off + 1], 0xff);
    CHECK(!memcmp(out + h.payload_off + 2, chrome_vp8 + 24, 16));
    CHECK(!memcmp(out + 12, chrome_vp8 + 12, 12)); /* extensions kept */
    uint16_t tseq;
    CHECK_INT(rtp_ext_transport_seq(out, &h, 3, &tseq), 0);

    /* Padding is not retransmitted; the marker bit is kept. */
    n = rtp_rtx_build(csrc_pad, sizeof csrc_pad, 1, 2, 98, out, sizeof out);
    CHECK_INT(n, 28 + 2 + 2);
    CHECK_INT(rtp_parse(out, (size_t)n, &h), 0);
    CHECK(!h.padding);
    CHECK(h.marker);
    CHECK_INT(h.csrc_count, 2);
    CHECK_INT(out[28], 0x00);
    CHECK_INT(out[29], 0x02);
    CHECK_INT(out[30], 0xde);
    CHECK_INT(out[31], 0xad);

    for (size_t cap = 0; cap < 32; cap++) {
        uint8_t *o = malloc(cap ? cap : 1);
        CHECK_INT(rtp_rtx_build(csrc_pad, sizeof csrc_pad, 1, 2, 98, o, cap), RTP_ERR_NOSPACE);
        free(o);
    }
    CHECK_INT(rtp_rtx_build(csrc_pad, 5, 1, 2, 98, out, sizeof out), RTP_ERR_TRUNCATED);
}

typedef struct {
    const char *name;
    uint8_t b[16];
    size_t len;
    bool key;
} h264_case_t;

static const h264_case_t h264_cases[] = {
    {"idr", {0x65, 0x88}, 2, true},
    {"sps", {0x67, 0x42}, 2, true},
    {"pps", {0x68, 0xce}, 2, false},
    {"non-idr", {0x41, 0x9a}, 2, false},
    {"stap-a sps pps", {0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, 9, true},
    {"stap-a pps only", {0x78, 0, 2, 0x68, 0xce, 0, 1, 0x06}, 8, false},
    {"stap-a idr last", {0x78, 0, 1, 0x06, 0, 2, 0x65, 0x88}, 8, true},
    {"stap-a overrun", {0x78, 0, 9, 0x67, 0x42}, 5, false},
    {"stap-a size cut", {0x78, 0, 2, 0x67, 0x42, 0}, 6, false},
    {"stap-a zero size", {0x78, 0, 0, 0, 1, 0x67}, 6, false},
    {"fu-a idr start", {0x7c, 0x85, 0x88}, 3, true},
    {"fu-a idr middle", {0x7c, 0x05, 0x88}, 3, false},
    {"fu-a non-idr start", {0x7c, 0x81, 0x9a}, 3, false},
    {"fu-a cut", {0x7c}, 1, false},
    {"empty", {0}, 0, false},
    {"stap-b", {0x79, 0, 0, 0, 2, 0x67, 0x42}, 7, false},
};

static void test_h264(void)
{
    for (size_t i = 0; i < sizeof h264_cases / sizeof h264_cases[0]; i++) {
        const h264_case_t *c = &h264_cases[i];
        uint8_t *p = dup(c->b, c->len);
        bool key = rtp_h264_is_keyframe(p, c->len);
        if (key != c->key) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(key, c->key);
        free(p);
    }
    CHECK(!rtp_h264_is_keyframe(NULL, 0));
}

/* rtp_ext_add: into the block's padding, by growing the block, by creating one, in the
 * two-byte form; the payload (and its padding) must come out intact behind it. */
static void check_added(const uint8_t *p, size_t n, uint8_t id, uint16_t want_seq,
                        const uint8_t *payload, size_t plen)
{
    rtp_header_t h;
    uint16_t seq = 0;
    CHECK_INT(rtp_parse(p, n, &h), 0);
    CHECK_INT(rtp_ext_transport_seq(p, &h, id, &seq), 0);
    CHECK_INT(seq, want_seq);
    CHECK_INT(h.payload_len, plen);
    CHECK(memcmp(p + h.payload_off, payload, plen) == 0);
}

static void test_ext_add(void)
{
    static const uint8_t seq2[] = {0x01, 0x2d};
    uint8_t buf[256];
    rtp_header_t h;
    const uint8_t *opus = chrome_opus + sizeof chrome_opus - 5;

    /* Chrome's packet ends its block with 1 padding byte: the block grows by a word. */
    memcpy(buf, chrome_opus, sizeof chrome_opus);
    CHECK_INT(rtp_parse(buf, sizeof chrome_opus, &h), 0);
    int n = rtp_ext_add(buf, sizeof chrome_opus, sizeof buf, &h, 5, seq2, 2);
    CHECK_INT(n, (int)sizeof chrome_opus + 4);
    check_added(buf, (size_t)n, 5, 301, opus, 5);
    CHECK_INT(rtp_parse(buf, (size_t)n, &h), 0);
    uint16_t old = 0;
    CHECK_INT(rtp_ext_transport_seq(buf, &h, 3, &old), 0); /* the others are kept */
    CHECK_INT(old, 300);

    /* 2 trailing padding bytes are too few for 3: one more word. */
    static const uint8_t roomy[] = {0x90, 0x6f, 0x00, 0x01, 0,    0,    0,    1, 0, 0,    0,
                                    2,    0xbe, 0xde, 0x00, 0x01, 0x10, 0x9e, 0, 0, 0xaa, 0xbb};
    memcpy(buf, roomy, sizeof roomy);
    CHECK_INT(rtp_parse(buf, sizeof roomy, &h), 0);
    n = rtp_ext_add(buf, sizeof roomy, sizeof buf, &h, 3, seq2, 2);
    CHECK_INT(n, (int)sizeof roomy + 4);
    check_added(buf, (size_t)n, 3, 301, roomy + 20, 2);
    static const uint8_t roomier[] = {0x90, 0x6f, 0x00, 0x01, 0,    0,    0,    1, 0, 0,    0,
                                      2,    0xbe, 0xde, 0x00, 0x01, 0x00, 0x00, 0, 0, 0xaa, 0xbb};
    /* A block of 4 padding bytes takes the element in place. */
    memcpy(buf, roomier, sizeof roomier);
    CHECK_INT(rtp_parse(buf, sizeof roomier, &h), 0);
    n = rtp_ext_add(buf, sizeof roomier, sizeof buf, &h, 3, seq2, 2);
    CHECK_INT(n, (int)sizeof roomier);
    check_added(buf, (size_t)n, 3, 301, roomier + 20, 2);

    /* No extension, two CSRCs and RTP padding: a one-byte block appears after the CSRCs,
     * the padding stays at the end. */
    static const uint8_t plain[] = {0xa2, 0x6f, 0x00, 0x01, 0, 0, 0, 1,    0,    0, 0, 2, 0,
                                    0,    0,    3,    0,    0, 0, 4, 0xaa, 0xbb, 0, 0, 3};
    memcpy(buf, plain, sizeof plain);
    CHECK_INT(rtp_parse(buf, sizeof plain, &h), 0);
    n = rtp_ext_add(buf, sizeof plain, sizeof buf, &h, 3, seq2, 2);
    CHECK_INT(n, (int)sizeof plain + 8);
    check_added(buf, (size_t)n, 3, 301, plain + 20, 2);
    CHECK_INT(rtp_parse(buf, (size_t)n, &h), 0);
    CHECK_INT(h.csrc_count, 2);
    CHECK_INT(h.padding_len, 3);

    /* Two-byte form: a two-byte header, id above 14 allowed. */
    static const uint8_t two[] = {0x90, 0x6f, 0x00, 0x01, 0,    0,    0,    1,    0, 0,   0,
                                  2,    0x10, 0x00, 0x00, 0x01, 0x01, 0x01, 0x9e, 0, 0xaa};
    memcpy(buf, two, sizeof two);
    CHECK_INT(rtp_parse(buf, sizeof two, &h), 0);
    n = rtp_ext_add(buf, sizeof two, sizeof buf, &h, 20, seq2, 2);
    CHECK_INT(n, (int)sizeof two + 4);
    check_added(buf, (size_t)n, 20, 301, two + 20, 1);

    /* Refusals: no room, an id the form cannot carry, another profile. */
    memcpy(buf, plain, sizeof plain);
    CHECK_INT(rtp_parse(buf, sizeof plain, &h), 0);
    CHECK_INT(rtp_ext_add(buf, sizeof plain, sizeof plain + 7, &h, 3, seq2, 2), RTP_ERR_NOSPACE);
    CHECK(memcmp(buf, plain, sizeof plain) == 0);
    CHECK_INT(rtp_ext_add(buf, sizeof plain, sizeof buf, &h, 15, seq2, 2), RTP_ERR_INVAL);
    CHECK_INT(rtp_ext_add(buf, sizeof plain, sizeof buf, &h, 0, seq2, 2), RTP_ERR_INVAL);
    static const uint8_t other[] = {0x90, 0x6f, 0x00, 0x01, 0,    0, 0, 1, 0, 0,   0,
                                    2,    0x12, 0x34, 0x00, 0x01, 1, 2, 3, 4, 0xaa};
    memcpy(buf, other, sizeof other);
    CHECK_INT(rtp_parse(buf, sizeof other, &h), 0);
    CHECK_INT(rtp_ext_add(buf, sizeof other, sizeof buf, &h, 3, seq2, 2), RTP_ERR_INVAL);
}

int main(void)
{
    test_parse();
    test_truncations();
    test_setters();
    test_seq_extend();
    test_ext();
    test_ext_blocks();
    test_remap();
    test_ext_add();
    test_rtx();
    test_h264();
    CHECK_STR(rtp_strerror(RTP_ERR_EXT), "malformed RTP header extension");
    TEST_END();
}
