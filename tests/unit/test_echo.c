/* Tests for sfu/echo: RTP SSRC rewriting and RTCP mirroring, table-driven. Every RTCP
 * input is copied into a heap buffer of exactly its length, so that a read past the end
 * shows under ASan. */
#include "echo.h"
#include "test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The participant sends 0x11111111 (audio) and 0x22222222 (video); the server echoes
 * them as 0xaaaaaaaa and 0xbbbbbbbb. */
#define IN_A  0x11, 0x11, 0x11, 0x11
#define IN_V  0x22, 0x22, 0x22, 0x22
#define OUT_A 0xaa, 0xaa, 0xaa, 0xaa
#define OUT_V 0xbb, 0xbb, 0xbb, 0xbb
#define OTHER 0x33, 0x33, 0x33, 0x33

static const echo_map_t map = {2, {{0x11111111, 0xaaaaaaaa}, {0x22222222, 0xbbbbbbbb}}};

/* Runs fn on an exact-size heap copy of in[0..len); returns its result, the output in out. */
static int run(int (*fn)(const echo_map_t *, uint8_t *, size_t), const uint8_t *in, size_t len,
               uint8_t *out)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, in, len);
    int rc = fn(&map, p, len);
    memcpy(out, p, len);
    free(p);
    return rc;
}

/* ---- RTP ------------------------------------------------------------------------------- */

static void test_rtp(void)
{
    uint8_t pkt[40] = {0x90, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, IN_V, /* X bit, M */
                       0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00};      /* extension */
    for (size_t i = 20; i < sizeof pkt; i++)
        pkt[i] = (uint8_t)i;
    uint8_t out[40], want[40];
    memcpy(want, pkt, sizeof pkt);
    memset(want + 8, 0xbb, 4);
    CHECK_INT(run(echo_rtp, pkt, sizeof pkt, out), 0);
    CHECK(!memcmp(out, want, sizeof pkt)); /* only the SSRC changed */

    memcpy(pkt + 8, (uint8_t[]){IN_A}, 4);
    memset(want + 8, 0xaa, 4);
    CHECK_INT(run(echo_rtp, pkt, 12, out), 0); /* header only */
    CHECK(!memcmp(out, want, 12));

    /* Unknown SSRCs, including an outbound one, are not echoed and not touched. */
    static const uint8_t unknown[][4] = {{OTHER}, {OUT_A}, {0, 0, 0, 0}};
    for (size_t i = 0; i < 3; i++) {
        memcpy(pkt + 8, unknown[i], 4);
        CHECK_INT(run(echo_rtp, pkt, sizeof pkt, out), -1);
        CHECK(!memcmp(out, pkt, sizeof pkt));
    }
    memcpy(pkt + 8, (uint8_t[]){IN_A}, 4);
    for (size_t len = 0; len < 12; len++) {
        CHECK_INT(run(echo_rtp, pkt, len, out), -1);
        CHECK(!memcmp(out, pkt, len));
    }
    echo_map_t empty = {0};
    CHECK_INT(echo_rtp(&empty, pkt, sizeof pkt), -1);
}

/* ---- RTCP ------------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    uint8_t in[96];
    uint8_t want[96];
    size_t len;
} rtcp_case_t;

/* Report block: media SSRC, then 20 bytes of statistics (kept as they are). */
#define BLOCK_STATS 0x05, 0x00, 0x00, 0x03, 0, 0, 0x12, 0x34, 0, 0, 0, 9, 1, 2, 3, 4, 0, 0, 0, 7

static const rtcp_case_t rtcp_cases[] = {
    {"SR with two blocks",
     {0x82, 200, 0,  18, IN_V, 1,  2,  3,  4,  5,  6,     7,           8,     9,          10,
      11,   12,  13, 14, 15,   16, 17, 18, 19, 20, OUT_A, BLOCK_STATS, OTHER, BLOCK_STATS},
     {0x82, 200, 0,  18, OUT_V, 1,  2,  3,  4,  5,  6,    7,           8,     9,          10,
      11,   12,  13, 14, 15,    16, 17, 18, 19, 20, IN_A, BLOCK_STATS, OTHER, BLOCK_STATS},
     76},
    {"RR with two blocks",
     {0x82, 201, 0, 13, IN_A, OUT_V, BLOCK_STATS, OUT_A, BLOCK_STATS},
     {0x82, 201, 0, 13, OUT_A, IN_V, BLOCK_STATS, IN_A, BLOCK_STATS},
     56},
    {"RR from a receive-only SSRC",
     {0x81, 201, 0, 7, 0, 0, 0, 1, OUT_V, BLOCK_STATS},
     {0x81, 201, 0, 7, 0, 0, 0, 1, IN_V, BLOCK_STATS},
     32},
    {"SDES CNAME",
     {0x81, 202, 0, 5, IN_V, 1, 10, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 0, 0, 0, 0},
     {0x81, 202, 0, 5, OUT_V, 1, 10, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 0, 0, 0, 0},
     24},
    {"BYE with two SSRCs and a reason",
     {0x82, 203, 0, 4, IN_A, IN_V, 3, 'b', 'y', 'e', 0, 0, 0, 0},
     {0x82, 203, 0, 4, OUT_A, OUT_V, 3, 'b', 'y', 'e', 0, 0, 0, 0},
     20},
    {"PLI", {0x81, 206, 0, 2, IN_A, OUT_V}, {0x81, 206, 0, 2, OUT_A, IN_V}, 12},
    {"NACK",
     {0x81, 205, 0, 3, IN_V, OUT_V, 0x12, 0x34, 0x00, 0x05},
     {0x81, 205, 0, 3, OUT_V, IN_V, 0x12, 0x34, 0x00, 0x05},
     16},
    {"FIR with two entries",
     {0x84, 206, 0, 6, IN_V, 0, 0, 0, 0, OUT_V, 7, 0, 0, 0, OUT_A, 8, 0, 0, 0},
     {0x84, 206, 0, 6, OUT_V, 0, 0, 0, 0, IN_V, 7, 0, 0, 0, IN_A, 8, 0, 0, 0},
     28},
    {"feedback from a receive-only SSRC about an unknown stream",
     {0x81, 206, 0, 2, 0, 0, 0, 1, OTHER},
     {0x81, 206, 0, 2, 0, 0, 0, 1, OTHER},
     12},
    {"compound: RR, SDES, PLI, BYE",
     {0x81, 201, 0, 7, IN_A, OUT_A, BLOCK_STATS,                       /* RR */
      0x81, 202, 0, 3, IN_A, 1,     2,           'x', 'y', 0, 0, 0, 0, /* SDES */
      0x81, 206, 0, 2, IN_A, OUT_V,                                    /* PLI */
      0x81, 203, 0, 1, IN_A},                                          /* BYE */
     {0x81, 201, 0, 7, OUT_A, IN_A, BLOCK_STATS,                       /* RR */
      0x81, 202, 0, 3, OUT_A, 1,    2,           'x', 'y', 0, 0, 0, 0, /* SDES */
      0x81, 206, 0, 2, OUT_A, IN_V,                                    /* PLI */
      0x81, 203, 0, 1, OUT_A},                                         /* BYE */
     32 + 16 + 12 + 8},
    {"unknown packet type (APP) left alone",
     {0x80, 204, 0, 2, IN_A, 'n', 'a', 'm', 'e'},
     {0x80, 204, 0, 2, IN_A, 'n', 'a', 'm', 'e'},
     12},
};

static void test_rtcp_cases(void)
{
    for (size_t i = 0; i < sizeof rtcp_cases / sizeof rtcp_cases[0]; i++) {
        const rtcp_case_t *c = &rtcp_cases[i];
        uint8_t out[96];
        int rc = run(echo_rtcp, c->in, c->len, out);
        bool same = memcmp(out, c->want, c->len) == 0;
        if (rc != 0 || !same) fprintf(stderr, "echo_rtcp case \"%s\"\n", c->name);
        CHECK_INT(rc, 0);
        CHECK(same);
    }
}

/* Every cut of a compound packet that falls inside a packet is malformed; cuts on a packet
 * boundary leave a shorter, valid compound packet. */
static void test_rtcp_truncated(void)
{
    const rtcp_case_t *c = &rtcp_cases[9]; /* the compound one */
    size_t bounds[] = {32, 48, 60, 68};
    uint8_t out[96];
    CHECK_INT(run(echo_rtcp, c->in, 0, out), -1);
    for (size_t cut = 1; cut < c->len; cut++) {
        bool boundary = false;
        for (size_t j = 0; j < 4; j++)
            boundary |= cut == bounds[j];
        int rc = run(echo_rtcp, c->in, cut, out);
        if (rc != (boundary ? 0 : -1)) fprintf(stderr, "echo_rtcp cut at %zu: %d\n", cut, rc);
        CHECK_INT(rc, boundary ? 0 : -1);
    }
}

static void test_rtcp_malformed(void)
{
    static const struct {
        const char *name;
        uint8_t in[40];
        size_t len;
    } bad[] = {
        {"length past the end", {0x81, 201, 0, 7, IN_A, OUT_A}, 12},
        {"length 65535", {0x81, 201, 0xff, 0xff, IN_A}, 8},
        {"second packet's length past the end",
         {0x81, 206, 0, 2, IN_A, OUT_V, 0x81, 206, 0, 3, IN_A, OUT_V},
         24},
        {"length 0 (4-byte packet)", {0x80, 201, 0, 0, 0x80, 201, 0, 0}, 8},
        {"version 0", {0x01, 201, 0, 1, IN_A}, 8},
        {"version 3", {0xc1, 201, 0, 1, IN_A}, 8},
        {"second packet version 1", {0x80, 201, 0, 1, IN_A, 0x41, 201, 0, 1, IN_A}, 16},
        {"trailing bytes", {0x80, 201, 0, 1, IN_A, 0x80, 201}, 10},
        {"header only", {0x80, 201, 0, 1}, 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[40];
        int rc = run(echo_rtcp, bad[i].in, bad[i].len, out);
        if (rc != -1) fprintf(stderr, "echo_rtcp malformed \"%s\": %d\n", bad[i].name, rc);
        CHECK_INT(rc, -1);
    }

    /* Counts that claim more than the packet holds: bounded by the length, no overread.
     * (Tolerated: the packet is framed correctly, only its count lies.) */
    static const struct {
        uint8_t in[12];
        size_t len;
    } liars[] = {
        {{0x9f, 200, 0, 1, IN_A}, 8},         /* SR, 31 blocks, no sender info */
        {{0x9f, 201, 0, 1, IN_A}, 8},         /* RR, 31 blocks */
        {{0x9f, 203, 0, 1, IN_A}, 8},         /* BYE, 31 SSRCs */
        {{0x84, 206, 0, 1, IN_A}, 8},         /* FIR without media SSRC or entries */
        {{0x81, 205, 0, 1, IN_A}, 8},         /* NACK without media SSRC */
        {{0x84, 206, 0, 2, IN_A, OUT_A}, 12}, /* FIR without entries */
    };
    for (size_t i = 0; i < sizeof liars / sizeof liars[0]; i++) {
        uint8_t out[12];
        CHECK_INT(run(echo_rtcp, liars[i].in, liars[i].len, out), 0);
        CHECK(!memcmp(out + 4, (uint8_t[]){OUT_A}, 4));
    }
}

int main(void)
{
    test_rtp();
    test_rtcp_cases();
    test_rtcp_truncated();
    test_rtcp_malformed();
    TEST_END();
}
