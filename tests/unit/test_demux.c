/* RFC 7983 demultiplexing: a table of first bytes, second bytes and lengths. */
#include "demux.h"
#include "test.h"

#include <stdint.h>

struct demux_case {
    uint8_t b0, b1;
    size_t len;
    demux_kind_t want;
};

static const struct demux_case cases[] = {
    /* STUN: first byte 0..3, at least a 20-byte header. */
    {0x00, 0x01, 20, DEMUX_STUN},
    {0x01, 0x01, 100, DEMUX_STUN},
    {0x03, 0xff, 20, DEMUX_STUN},
    {0x00, 0x01, 19, DEMUX_UNKNOWN},
    {0x04, 0x00, 20, DEMUX_UNKNOWN},
    /* ZRTP 16..19: not ours. */
    {16, 0, 100, DEMUX_UNKNOWN},
    {19, 0, 100, DEMUX_UNKNOWN},
    /* DTLS: 20..63, at least a 13-byte record header. */
    {20, 0xfe, 13, DEMUX_DTLS},
    {22, 0xfe, 200, DEMUX_DTLS},
    {63, 0, 13, DEMUX_DTLS},
    {22, 0xfe, 12, DEMUX_UNKNOWN},
    /* TURN channels 64..79 and the rest up to 127. */
    {64, 0, 100, DEMUX_UNKNOWN},
    {79, 0, 100, DEMUX_UNKNOWN},
    {127, 0, 100, DEMUX_UNKNOWN},
    /* RTP: 128..191 with a second byte outside 192..223, at least 12 bytes. */
    {0x80, 0x60, 12, DEMUX_RTP},
    {0x90, 0xe0, 1200, DEMUX_RTP}, /* marker set, PT 96 */
    {0xbf, 0x6f, 12, DEMUX_RTP},
    {0x80, 191, 12, DEMUX_RTP},
    {0x80, 224, 12, DEMUX_RTP},
    {0x80, 0x60, 11, DEMUX_UNKNOWN},
    /* RTCP: second byte 192..223 (SR 200, RR 201, RTPFB 205, PSFB 206), at least 8. */
    {0x80, 200, 8, DEMUX_RTCP},
    {0x81, 201, 32, DEMUX_RTCP},
    {0x8f, 206, 12, DEMUX_RTCP},
    {0x80, 192, 8, DEMUX_RTCP},
    {0x80, 223, 8, DEMUX_RTCP},
    {0x80, 200, 7, DEMUX_UNKNOWN},
    /* Beyond RTP's version 2. */
    {192, 200, 100, DEMUX_UNKNOWN},
    {0xff, 0xff, 100, DEMUX_UNKNOWN},
};

static void test_table(void)
{
    uint8_t buf[1500] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct demux_case *c = &cases[i];
        buf[0] = c->b0;
        buf[1] = c->b1;
        demux_kind_t got = demux_classify(buf, c->len);
        if (got != c->want)
            fprintf(stderr, "case %zu: first byte %u, second %u, len %zu\n", i, c->b0, c->b1,
                    c->len);
        CHECK_INT(got, c->want);
    }
}

static void test_short(void)
{
    uint8_t one[1] = {0x80};
    CHECK_INT(demux_classify(NULL, 0), DEMUX_UNKNOWN);
    CHECK_INT(demux_classify(one, 0), DEMUX_UNKNOWN);
    CHECK_INT(demux_classify(one, 1), DEMUX_UNKNOWN);
}

static void test_every_first_byte(void)
{
    /* Long enough for every kind: only the first byte decides. */
    uint8_t buf[64] = {0};
    for (int b = 0; b < 256; b++) {
        buf[0] = (uint8_t)b;
        buf[1] = 0x60;
        demux_kind_t want = DEMUX_UNKNOWN;
        if (b <= 3)
            want = DEMUX_STUN;
        else if (b >= 20 && b <= 63)
            want = DEMUX_DTLS;
        else if (b >= 128 && b <= 191)
            want = DEMUX_RTP;
        CHECK_INT(demux_classify(buf, sizeof buf), want);
    }
}

/* Found by fuzz_demux: bytes that parse as STUN (method 0x581, first byte 22) are DTLS by
 * RFC 7983, which gives STUN only the first bytes 0..3. */
static void test_stun_shaped_dtls(void)
{
    static const uint8_t p[24] = {0x16, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42,
                                  0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
                                  0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x00};
    CHECK_INT(demux_classify(p, sizeof p), DEMUX_DTLS);
}

static void test_names(void)
{
    CHECK_STR(demux_kind_name(DEMUX_STUN), "stun");
    CHECK_STR(demux_kind_name(DEMUX_DTLS), "dtls");
    CHECK_STR(demux_kind_name(DEMUX_RTP), "rtp");
    CHECK_STR(demux_kind_name(DEMUX_RTCP), "rtcp");
    CHECK_STR(demux_kind_name(DEMUX_UNKNOWN), "unknown");
    CHECK_STR(demux_kind_name((demux_kind_t)42), "unknown");
}

int main(void)
{
    test_table();
    test_short();
    test_every_first_byte();
    test_stun_shaped_dtls();
    test_names();
    TEST_END();
}
