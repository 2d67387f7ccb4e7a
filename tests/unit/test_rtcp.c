/* Tests for sfu/rtcp: compound walking, the decoders and the builders, table-driven.
 * Every datagram is walked from a heap buffer of exactly its length, so that a read past
 * the end shows under ASan; every truncation of every valid datagram is tried. */
#include "rtcp.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    memcpy(c, p, n);
    return c;
}

#define SSRC_A 0x1f, 0x2e, 0x3d, 0x4c
#define SSRC_1 0x00, 0x00, 0x00, 0x01

/* Chrome sender: SR without report blocks, then SDES with a 16-character CNAME. */
static const uint8_t sr_sdes[] = {
    0x80, 0xc8, 0x00, 0x06,   SSRC_A, 0xe8, 0x5c, 0x2d, 0x3a, 0x8f, 0x5c, 0x28, 0xf6, /* NTP */
    0x00, 0x01, 0xe2, 0x40,   0x00,   0x00, 0x01, 0x2c, 0x00, 0x00, 0x9c, 0x40, 0x81,
    0xca, 0x00, 0x06, SSRC_A, 0x01,   0x10, 'a',  'b',  'c',  'd',  'e',  'f',  'g',
    'h',  'i',  'j',  'k',    'l',    'm',  'n',  'o',  'p',  0x00, 0x00,
};

/* Chrome receiver: RR with one report block, then REMB of 1 Mb/s for one SSRC. */
static const uint8_t rr_remb[] = {
    0x81, 0xc9, 0x00, 0x07, SSRC_1, SSRC_A, 0x0a, 0xff, 0xff,   0xfb, /* lost -5 */
    0x00, 0x01, 0xff, 0xfe, 0x00,   0x00,   0x00, 0x20, 0x2d,   0x3a,   0x8f, 0x5c,
    0x00, 0x01, 0x80, 0x00, 0x8f,   0xce,   0x00, 0x05, SSRC_1, 0,      0,    0,
    0,    'R',  'E',  'M',  'B',    0x01,   0x0b, 0xd0, 0x90,   SSRC_A,
};

/* Generic NACK: PID 0x1234 with BLP bits 0, 2 and 15; PID 0xfffe with bits 0 and 1. */
static const uint8_t nack[] = {
    0x81, 0xcd, 0x00, 0x04, SSRC_1, SSRC_A, 0x12, 0x34, 0x80, 0x05, 0xff, 0xfe, 0x00, 0x03,
};

/* PLI, FIR and transport-cc feedback in one compound, then a BYE with a reason, padded. */
static const uint8_t feedback[] = {
    0x81, 0xce, 0x00, 0x02, SSRC_1, SSRC_A,                                          /* PLI */
    0x84, 0xce, 0x00, 0x04, SSRC_1, 0,      0,    0,    0,    SSRC_A, 0x05, 0, 0, 0, /* FIR seq 5 */
    0x8f, 0xcd, 0x00, 0x06, SSRC_1, SSRC_A, 0x00, 0x01, 0x00, 0x03,   0xff,          /* TWCC */
    0xff, 0xfe, 0x07, 0x20, 0x03,   0x04,   0x08, 0x0c, 0x00, 0x00,   0x00, /* chunk, deltas */
    0xa1, 0xcb, 0x00, 0x04, SSRC_A, 0x04,   'd',  'o',  'n',  'e',    0,    0, 0, 0,
    0,    0,    4, /* BYE */
};

typedef struct {
    const char *name;
    const uint8_t *p;
    size_t len;
    int rc;            /* rtcp_validate */
    uint8_t pts[5];    /* packet types in order, 0 ends */
    uint8_t counts[5]; /* RC/SC/FMT */
    size_t lens[5];    /* packet lengths */
} walk_case_t;

#define PKT(a) a, sizeof a

/* clang-format off */
static const walk_case_t walk_cases[] = {
    {"sr+sdes", PKT(sr_sdes), 0, {200, 202}, {0, 1}, {28, 28}},
    {"rr+remb", PKT(rr_remb), 0, {201, 206}, {1, 15}, {32, 24}},
    {"nack", PKT(nack), 0, {205}, {1}, {20}},
    {"feedback+bye", PKT(feedback), 0, {206, 206, 205, 203}, {1, 4, 15, 1}, {12, 20, 28, 20}},
    {"empty", (const uint8_t[]){0}, 0, RTCP_ERR_TRUNCATED, {0}, {0}, {0}},
    {"version 1", (const uint8_t[]){0x40, 0xc9, 0, 1, SSRC_1}, 8, RTCP_ERR_VERSION,
     {0}, {0}, {0}},
    {"short header", (const uint8_t[]){0x80, 0xc9, 0}, 3, RTCP_ERR_TRUNCATED, {0}, {0}, {0}},
    {"length past end", (const uint8_t[]){0x80, 0xc9, 0, 2, SSRC_1}, 8, RTCP_ERR_TRUNCATED,
     {0}, {0}, {0}},
    /* the packets before the error are walked */
    {"trailing bytes", (const uint8_t[]){0x80, 0xc9, 0, 1, SSRC_1, 0x80}, 9, RTCP_ERR_TRUNCATED,
     {201}, {0}, {8}},
    {"padding not last", (const uint8_t[]){0xa0, 0xc9, 0, 1, 0, 0, 0, 4, 0x80, 0xc9, 0, 1, SSRC_1},
     16, RTCP_ERR_PADDING, {0}, {0}, {0}},
    {"padding 0", (const uint8_t[]){0xa0, 0xc9, 0, 1, 0, 0, 0, 0}, 8, RTCP_ERR_PADDING,
     {0}, {0}, {0}},
    {"padding past body", (const uint8_t[]){0xa0, 0xc9, 0, 1, 0, 0, 0, 5}, 8, RTCP_ERR_PADDING,
     {0}, {0}, {0}},
    {"padding whole body", (const uint8_t[]){0xa0, 0xc9, 0, 1, 0, 0, 0, 4}, 8, 0,
     {201}, {0}, {8}},
};
/* clang-format on */

static void test_walk(void)
{
    for (size_t i = 0; i < sizeof walk_cases / sizeof walk_cases[0]; i++) {
        const walk_case_t *c = &walk_cases[i];
        uint8_t *p = dup(c->p, c->len);
        int rc = rtcp_validate(p, c->len);
        if (rc != c->rc) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(rc, c->rc);
        rtcp_iter_t it;
        rtcp_pkt_t pkt;
        rtcp_iter_init(&it, p, c->len);
        size_t k = 0;
        while (rtcp_next(&it, &pkt) > 0 && k < 5) {
            CHECK_INT(pkt.pt, c->pts[k]);
            CHECK_INT(pkt.count, c->counts[k]);
            CHECK_INT(pkt.len, c->lens[k]);
            CHECK(pkt.body == pkt.ptr + 4 && pkt.body_len <= pkt.len - 4);
            k++;
        }
        if (c->rc == 0) CHECK_INT(c->pts[k], 0);
        CHECK_INT(rtcp_next(&it, &pkt), 0); /* stays at the end, after an error too */
        free(p);
    }
    CHECK_INT(rtcp_validate(NULL, 0), RTCP_ERR_TRUNCATED);
}

/* Runs every decoder on every packet of p; returns how many packets were walked. */
static int decode_all(const uint8_t *p, size_t len)
{
    rtcp_iter_t it;
    rtcp_pkt_t pkt;
    int n = 0;
    rtcp_iter_init(&it, p, len);
    while (rtcp_next(&it, &pkt) > 0) {
        n++;
        rtcp_sr_t sr;
        rtcp_rr_t rr;
        rtcp_bye_t bye;
        rtcp_fb_t fb;
        rtcp_parse_sr(&pkt, &sr);
        rtcp_parse_rr(&pkt, &rr);
        if (rtcp_parse_bye(&pkt, &bye) == 0 && bye.reason)
            CHECK(bye.reason + bye.reason_len <= pkt.body + pkt.body_len);
        if (rtcp_parse_fb(&pkt, &fb) == 0) {
            uint16_t seqs[64];
            rtcp_twcc_t tw;
            rtcp_remb_t remb;
            uint32_t ssrc;
            uint8_t seq;
            rtcp_nack_seqs(&fb, seqs, 64);
            rtcp_parse_twcc(&fb, &tw);
            rtcp_parse_remb(&fb, &remb);
            int firs = rtcp_fir_count(&fb);
            for (int k = 0; k < firs; k++)
                CHECK_INT(rtcp_fir_entry(&fb, (size_t)k, &ssrc, &seq), 0);
        }
    }
    return n;
}

static void test_truncations(void)
{
    const uint8_t *pkts[] = {sr_sdes, rr_remb, nack, feedback};
    size_t lens[] = {sizeof sr_sdes, sizeof rr_remb, sizeof nack, sizeof feedback};
    for (size_t i = 0; i < 4; i++) {
        /* packet boundaries: a prefix ending on one is a valid (shorter) compound */
        size_t bounds[8], nb = 0;
        rtcp_iter_t it;
        rtcp_pkt_t pkt;
        rtcp_iter_init(&it, pkts[i], lens[i]);
        while (rtcp_next(&it, &pkt) > 0)
            bounds[nb++] = (size_t)(pkt.ptr - pkts[i]) + pkt.len;
        for (size_t n = 0; n < lens[i]; n++) {
            uint8_t *p = dup(pkts[i], n);
            bool boundary = false;
            for (size_t b = 0; b < nb; b++)
                boundary |= bounds[b] == n;
            CHECK_INT(rtcp_validate(p, n) == 0, boundary);
            decode_all(p, n);
            free(p);
        }
    }
}

static void test_decode(void)
{
    rtcp_iter_t it;
    rtcp_pkt_t pkt;
    uint8_t *p = dup(sr_sdes, sizeof sr_sdes);
    rtcp_iter_init(&it, p, sizeof sr_sdes);
    CHECK_INT(rtcp_next(&it, &pkt), 1);
    rtcp_sr_t sr;
    CHECK_INT(rtcp_parse_sr(&pkt, &sr), 0);
    CHECK_INT(sr.ssrc, 0x1f2e3d4c);
    CHECK(sr.ntp == 0xe85c2d3a8f5c28f6ull);
    CHECK_INT(sr.rtp_ts, 123456);
    CHECK_INT(sr.packet_count, 300);
    CHECK_INT(sr.octet_count, 40000);
    CHECK_INT(sr.n_blocks, 0);
    rtcp_rr_t rr;
    CHECK_INT(rtcp_parse_rr(&pkt, &rr), RTCP_ERR_TYPE);
    CHECK_INT(rtcp_next(&it, &pkt), 1);
    CHECK_INT(rtcp_parse_sr(&pkt, &sr), RTCP_ERR_TYPE);
    rtcp_fb_t fb;
    CHECK_INT(rtcp_parse_fb(&pkt, &fb), RTCP_ERR_TYPE);
    free(p);

    p = dup(rr_remb, sizeof rr_remb);
    rtcp_iter_init(&it, p, sizeof rr_remb);
    CHECK_INT(rtcp_next(&it, &pkt), 1);
    CHECK_INT(rtcp_parse_rr(&pkt, &rr), 0);
    CHECK_INT(rr.ssrc, 1);
    CHECK_INT(rr.n_blocks, 1);
    const rtcp_report_block_t *b = &rr.blocks[0];
    CHECK_INT(b->ssrc, 0x1f2e3d4c);
    CHECK_INT(b->fraction_lost, 10);
    CHECK_INT(b->cumulative_lost, -5);
    CHECK_INT(b->highest_seq, 0x1fffe);
    CHECK_INT(b->jitter, 32);
    CHECK_INT(b->lsr, 0x2d3a8f5c);
    CHECK_INT(b->dlsr, 0x18000);
    CHECK_INT(rtcp_next(&it, &pkt), 1);
    CHECK_INT(rtcp_parse_fb(&pkt, &fb), 0);
    CHECK_INT(fb.fmt, RTCP_PSFB_AFB);
    rtcp_remb_t remb;
    CHECK_INT(rtcp_parse_remb(&fb, &remb), 0);
    CHECK_INT(remb.bitrate, 1000000);
    CHECK_INT(remb.n_ssrcs, 1);
    CHECK_INT(remb.ssrcs[0], 0x1f2e3d4c);
    uint16_t seqs[4];
    CHECK_INT(rtcp_nack_seqs(&fb, seqs, 4), RTCP_ERR_TYPE);
    free(p);

    p = dup(nack, sizeof nack);
    rtcp_iter_init(&it, p, sizeof nack);
    CHECK_INT(rtcp_next(&it, &pkt), 1);
    CHECK_INT(rtcp_parse_fb(&pkt, &fb), 0);
    CHECK_INT(fb.sender_ssrc, 1);
    CHECK_INT(fb.media_ssrc, 0x1f2e3d4c);
    uint16_t all[16];
    static const uint16_t want[] = {0x1234, 0x1235, 0x1237, 0x1244, 0xfffe, 0xffff, 0x0000};
    CHECK_INT(rtcp_nack_seqs(&fb, all, 16), 7);
    CHECK(!memcmp(all, want, sizeof want));
    memset(all, 0, sizeof all);
    CHECK_INT(rtcp_nack_seqs(&fb, all, 3), 7); /* cut at cap, total reported */
    CHECK(!memcmp(all, want, 3 * sizeof want[0]));
    CHECK_INT(all[3], 0);
    free(p);

    p = dup(feedback, sizeof feedback);
    rtcp_iter_init(&it, p, sizeof feedback);
    CHECK_INT(rtcp_next(&it, &pkt), 1); /* PLI */
    CHECK_INT(rtcp_parse_fb(&pkt, &fb), 0);
    CHECK(fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_PSFB_PLI && fb.fci_len == 0);
    CHECK_INT(fb.media_ssrc, 0x1f2e3d4c);
    CHECK_INT(rtcp_fir_count(&fb), RTCP_ERR_TYPE);
    CHECK_INT(rtcp_next(&it, &pkt), 1); /* FIR */
    CHECK_INT(rtcp_parse_fb(&pkt, &fb), 0);
    CHECK_INT(rtcp_fir_count(&fb), 1);
    uint32_t ssrc;
    uint8_t seq;
    CHECK_INT(rtcp_fir_entry(&fb, 0, &ssrc, &seq), 0);
    CHECK_INT(ssrc, 0x1f2e3d4c);
    CHECK_INT(seq, 5);
    CHECK_INT(rtcp_fir_entry(&fb, 1, &ssrc, &seq), RTCP_ERR_INVAL);
    CHECK_INT(rtcp_next(&it, &pkt), 1); /* TWCC */
    CHECK_INT(rtcp_parse_fb(&pkt, &fb), 0);
    rtcp_twcc_t tw;
    CHECK_INT(rtcp_parse_twcc(&fb, &tw), 0);
    CHECK_INT(tw.base_seq, 1);
    CHECK_INT(tw.status_count, 3);
    CHECK_INT(tw.reference_time, -2);
    CHECK_INT(tw.fb_count, 7);
    CHECK_INT(rtcp_nack_seqs(&fb, seqs, 4), RTCP_ERR_TYPE);
    CHECK_INT(rtcp_next(&it, &pkt), 1); /* BYE, padded */
    rtcp_bye_t bye;
    CHECK_INT(rtcp_parse_bye(&pkt, &bye), 0);
    CHECK_INT(bye.n_ssrcs, 1);
    CHECK_INT(bye.ssrcs[0], 0x1f2e3d4c);
    CHECK_INT(bye.reason_len, 4);
    CHECK(bye.reason && !memcmp(bye.reason, "done", 4));
    CHECK_INT(pkt.body_len, 12);
    CHECK_INT(rtcp_next(&it, &pkt), 0);
    free(p);
}

/* Single packets whose length field is valid but too short for their content. */
typedef struct {
    const char *name;
    uint8_t p[32];
    size_t len;
    int rc;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"sr missing block", {0x81, 0xc8, 0, 6, SSRC_A}, 28, RTCP_ERR_LENGTH},
    {"sr short", {0x80, 0xc8, 0, 1, SSRC_A}, 8, RTCP_ERR_LENGTH},
    {"rr missing block", {0x81, 0xc9, 0, 1, SSRC_A}, 8, RTCP_ERR_LENGTH},
    {"rr no ssrc", {0x80, 0xc9, 0, 0}, 4, RTCP_ERR_LENGTH},
    {"bye missing ssrc", {0x82, 0xcb, 0, 1, SSRC_A}, 8, RTCP_ERR_LENGTH},
    {"bye reason overrun", {0x81, 0xcb, 0, 2, SSRC_A, 4, 'a', 'b', 'c'}, 12, RTCP_ERR_LENGTH},
    {"fb short", {0x81, 0xcd, 0, 1, SSRC_A}, 8, RTCP_ERR_LENGTH},
    {"nack empty", {0x81, 0xcd, 0, 2, SSRC_1, SSRC_A}, 12, RTCP_ERR_LENGTH},
    {"fir empty", {0x84, 0xce, 0, 2, SSRC_1, SSRC_A}, 12, RTCP_ERR_LENGTH},
    {"fir half entry", {0x84, 0xce, 0, 3, SSRC_1, SSRC_A, SSRC_A}, 16, RTCP_ERR_LENGTH},
    {"twcc short", {0x8f, 0xcd, 0, 3, SSRC_1, SSRC_A, 0, 1, 0, 3}, 16, RTCP_ERR_LENGTH},
    {"remb short", {0x8f, 0xce, 0, 3, SSRC_1, 0, 0, 0, 0, 'R', 'E', 'M', 'B'}, 16, RTCP_ERR_LENGTH},
    {"remb ssrcs overrun",
     {0x8f, 0xce, 0, 4, SSRC_1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 2, 0, 0, 1},
     20,
     RTCP_ERR_LENGTH},
    {"afb not remb",
     {0x8f, 0xce, 0, 4, SSRC_1, 0, 0, 0, 0, 'R', 'E', 'M', 'X', 0, 0, 0, 1},
     20,
     RTCP_ERR_TYPE},
};

static int decode_one(const rtcp_pkt_t *pkt)
{
    static rtcp_sr_t sr;
    static rtcp_rr_t rr;
    static rtcp_bye_t bye;
    static rtcp_remb_t remb;
    rtcp_fb_t fb;
    rtcp_twcc_t tw;
    uint16_t seqs[4];
    int rc;
    switch (pkt->pt) {
    case RTCP_PT_SR:
        return rtcp_parse_sr(pkt, &sr);
    case RTCP_PT_RR:
        return rtcp_parse_rr(pkt, &rr);
    case RTCP_PT_BYE:
        return rtcp_parse_bye(pkt, &bye);
    default:
        if ((rc = rtcp_parse_fb(pkt, &fb)) < 0) return rc;
        if (fb.pt == RTCP_PT_RTPFB && fb.fmt == RTCP_RTPFB_NACK)
            return rtcp_nack_seqs(&fb, seqs, 4);
        if (fb.pt == RTCP_PT_RTPFB) return rtcp_parse_twcc(&fb, &tw);
        if (fb.fmt == RTCP_PSFB_FIR) return rtcp_fir_count(&fb);
        return rtcp_parse_remb(&fb, &remb);
    }
}

static void test_bad_content(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case_t *c = &bad_cases[i];
        uint8_t *p = dup(c->p, c->len);
        rtcp_iter_t it;
        rtcp_pkt_t pkt;
        rtcp_iter_init(&it, p, c->len);
        CHECK_INT(rtcp_next(&it, &pkt), 1);
        int rc = decode_one(&pkt);
        if (rc != c->rc) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(rc, c->rc);
        free(p);
    }
}

/* Walks a built packet: exactly one packet of n bytes. */
static bool one_packet(const uint8_t *p, int n, rtcp_pkt_t *pkt)
{
    if (n <= 0) return false;
    rtcp_iter_t it;
    rtcp_iter_init(&it, p, (size_t)n);
    rtcp_pkt_t end;
    return rtcp_next(&it, pkt) == 1 && pkt->len == (size_t)n && rtcp_next(&it, &end) == 0;
}

static void test_build_feedback(void)
{
    uint8_t out[1200];
    rtcp_pkt_t pkt;
    rtcp_fb_t fb;
    int n = rtcp_build_pli(out, sizeof out, 1, 0x1f2e3d4c);
    CHECK_INT(n, 12);
    CHECK(!memcmp(out, feedback, 12)); /* the PLI of the known packet */
    CHECK(one_packet(out, n, &pkt) && rtcp_parse_fb(&pkt, &fb) == 0);

    n = rtcp_build_fir(out, sizeof out, 1, 0x1f2e3d4c, 5);
    CHECK_INT(n, 20);
    CHECK(!memcmp(out, feedback + 12, 20));

    static const uint16_t lost[] = {0x1234, 0x1235, 0x1237, 0x1244, 0xfffe, 0xffff, 0x0000};
    n = rtcp_build_nack(out, sizeof out, 1, 0x1f2e3d4c, lost, 7);
    CHECK_INT(n, sizeof nack);
    CHECK(!memcmp(out, nack, sizeof nack));

    /* Round trips of NACK lists: unsorted, duplicates, wrap, long runs. */
    static const struct {
        uint16_t in[40];
        size_t n;
        size_t items;
    } lists[] = {
        {{5}, 1, 1},
        {{5, 5, 6}, 3, 1},
        {{65530, 65535, 0, 10, 11}, 5, 2},
        {{100, 117}, 2, 2},
        {{100, 116}, 2, 1},
        {{10, 9}, 2, 2},
        {{0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
          18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35},
         36,
         3},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        n = rtcp_build_nack(out, sizeof out, 7, 8, lists[i].in, lists[i].n);
        CHECK_INT(n, 12 + 4 * lists[i].items);
        CHECK(one_packet(out, n, &pkt) && rtcp_parse_fb(&pkt, &fb) == 0);
        uint16_t got[64];
        int m = rtcp_nack_seqs(&fb, got, 64);
        CHECK(m > 0);
        /* same set: every input listed, nothing else */
        for (size_t k = 0; k < lists[i].n; k++) {
            bool found = false;
            for (int j = 0; j < m; j++)
                found |= got[j] == lists[i].in[k];
            CHECK(found);
        }
        for (int j = 0; j < m; j++) {
            bool found = false;
            for (size_t k = 0; k < lists[i].n; k++)
                found |= got[j] == lists[i].in[k];
            CHECK(found);
        }
    }
    CHECK_INT(rtcp_build_nack(out, sizeof out, 1, 2, lost, 0), RTCP_ERR_INVAL);

    static const uint32_t ssrcs[] = {0x1f2e3d4c, 2, 3};
    n = rtcp_build_remb(out, sizeof out, 1, 1000000, ssrcs, 1);
    CHECK_INT(n, 24);
    CHECK(!memcmp(out, rr_remb + 32, 24));
    static const uint64_t rates[] = {0,     1,       0x3ffff,    0x40000,   0x40001,
                                     30000, 2500000, 1ull << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        n = rtcp_build_remb(out, sizeof out, 1, rates[i], ssrcs, 3);
        CHECK_INT(n, 32);
        rtcp_remb_t remb;
        CHECK(one_packet(out, n, &pkt) && rtcp_parse_fb(&pkt, &fb) == 0);
        CHECK_INT(rtcp_parse_remb(&fb, &remb), 0);
        CHECK(remb.bitrate <= rates[i]);
        CHECK(remb.bitrate >= rates[i] - rates[i] / 0x20000); /* < 2^-17 relative */
        CHECK_INT(remb.n_ssrcs, 3);
        CHECK_INT(remb.ssrcs[2], 3);
    }
    /* exponent 63 on the wire: saturates */
    uint8_t big[] = {0x8f, 0xce, 0, 4, SSRC_1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 0, 0xff, 0xff, 0xff};
    rtcp_remb_t remb;
    CHECK(one_packet(big, sizeof big, &pkt) && rtcp_parse_fb(&pkt, &fb) == 0);
    CHECK_INT(rtcp_parse_remb(&fb, &remb), 0);
    CHECK(remb.bitrate == UINT64_MAX);

    /* Capacity: every size below the needed one fails, on an exact-size heap buffer. */
    for (size_t cap = 0; cap < 32; cap++) {
        uint8_t *o = malloc(cap ? cap : 1);
        if (cap < 12) CHECK_INT(rtcp_build_pli(o, cap, 1, 2), RTCP_ERR_NOSPACE);
        if (cap < 20) CHECK_INT(rtcp_build_fir(o, cap, 1, 2, 3), RTCP_ERR_NOSPACE);
        if (cap < 20) CHECK_INT(rtcp_build_nack(o, cap, 1, 2, lost, 7), RTCP_ERR_NOSPACE);
        if (cap < 24) CHECK_INT(rtcp_build_remb(o, cap, 1, 5, ssrcs, 1), RTCP_ERR_NOSPACE);
        if (cap < 16) CHECK_INT(rtcp_build_bye(o, cap, ssrcs, 3), RTCP_ERR_NOSPACE);
        free(o);
    }
}

static void test_build_reports(void)
{
    static rtcp_sr_t sr, got_sr;
    static rtcp_rr_t rr, got_rr;
    uint8_t out[1500];
    rtcp_pkt_t pkt;
    sr = (rtcp_sr_t){.ssrc = 0x1f2e3d4c,
                     .ntp = 0xe85c2d3a8f5c28f6ull,
                     .rtp_ts = 123456,
                     .packet_count = 300,
                     .octet_count = 40000};
    int n = rtcp_build_sr(out, sizeof out, &sr);
    CHECK_INT(n, 28);
    CHECK(!memcmp(out, sr_sdes, 28));

    static const int32_t losses[] = {0, -5, 0x7fffff, -0x800000, 0x1000000, -0x1000000};
    for (size_t nb = 0; nb <= RTCP_MAX_BLOCKS; nb += 5) {
        sr.n_blocks = rr.n_blocks = nb;
        rr.ssrc = 77;
        for (size_t i = 0; i < nb; i++)
            sr.blocks[i] = rr.blocks[i] =
                (rtcp_report_block_t){.ssrc = (uint32_t)i + 1,
                                      .fraction_lost = (uint8_t)(i * 8),
                                      .cumulative_lost = losses[i % 6],
                                      .highest_seq = 0x10000 + (uint32_t)i,
                                      .jitter = (uint32_t)i * 3,
                                      .lsr = 0xabcdef01,
                                      .dlsr = 65536};
        n = rtcp_build_sr(out, sizeof out, &sr);
        CHECK_INT(n, 28 + 24 * nb);
        CHECK(one_packet(out, n, &pkt) && rtcp_parse_sr(&pkt, &got_sr) == 0);
        CHECK(got_sr.ssrc == sr.ssrc && got_sr.ntp == sr.ntp && got_sr.rtp_ts == sr.rtp_ts);
        CHECK_INT(got_sr.n_blocks, nb);
        n = rtcp_build_rr(out, sizeof out, &rr);
        CHECK_INT(n, 8 + 24 * nb);
        CHECK(one_packet(out, n, &pkt) && rtcp_parse_rr(&pkt, &got_rr) == 0);
        CHECK_INT(got_rr.ssrc, 77);
        CHECK_INT(got_rr.n_blocks, nb);
        for (size_t i = 0; i < nb; i++) {
            const rtcp_report_block_t *a = &rr.blocks[i], *b = &got_rr.blocks[i];
            int32_t want = a->cumulative_lost > 0x7fffff    ? 0x7fffff
                           : a->cumulative_lost < -0x800000 ? -0x800000
                                                            : a->cumulative_lost;
            CHECK(a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost &&
                  want == b->cumulative_lost && a->highest_seq == b->highest_seq &&
                  a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr);
            CHECK(!memcmp(&got_sr.blocks[i], b, sizeof *b));
        }
    }
    sr.n_blocks = 32;
    CHECK_INT(rtcp_build_sr(out, sizeof out, &sr), RTCP_ERR_INVAL);
    rr.n_blocks = 1;
    CHECK_INT(rtcp_build_rr(out, 31, &rr), RTCP_ERR_NOSPACE);
    CHECK_INT(rtcp_build_rr(out, 32, &rr), 32);

    static const uint32_t ssrcs[31] = {1, 2, 3};
    n = rtcp_build_bye(out, sizeof out, ssrcs, 3);
    CHECK_INT(n, 16);
    rtcp_bye_t bye;
    CHECK(one_packet(out, n, &pkt) && rtcp_parse_bye(&pkt, &bye) == 0);
    CHECK_INT(bye.n_ssrcs, 3);
    CHECK_INT(bye.ssrcs[2], 3);
    CHECK(bye.reason == NULL);
    CHECK_INT(rtcp_build_bye(out, sizeof out, ssrcs, 31), 128);
    CHECK_INT(rtcp_build_bye(out, sizeof out, ssrcs, 32), RTCP_ERR_INVAL);
    CHECK_INT(rtcp_build_bye(out, sizeof out, ssrcs, 0), RTCP_ERR_INVAL);

    /* A compound built by concatenation walks back. */
    size_t len = 0;
    sr.n_blocks = 1;
    len += (size_t)rtcp_build_sr(out, sizeof out, &sr);
    len += (size_t)rtcp_build_pli(out + len, sizeof out - len, 1, 2);
    len += (size_t)rtcp_build_bye(out + len, sizeof out - len, ssrcs, 1);
    CHECK_INT(rtcp_validate(out, len), 0);
    CHECK_INT(decode_all(out, len), 3);
}

int main(void)
{
    test_walk();
    test_truncations();
    test_decode();
    test_bad_content();
    test_build_feedback();
    test_build_reports();
    CHECK_STR(rtcp_strerror(RTCP_ERR_PADDING), "bad RTCP padding");
    TEST_END();
}
