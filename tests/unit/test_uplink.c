/* Tests for sfu/uplink: the transport-cc feedback a publisher gets, read back with
 * sfu/bwe's decoder (itself tested against hand-built feedback): every packet reported
 * once, in order, lost ones as lost, arrival times within the 250 us quantum. */
#include "bwe.h"
#include "rtcp.h"
#include "test.h"
#include "uplink.h"

#include <stdlib.h>
#include <string.h>

#define N 4000

static int64_t arrival[N]; /* by index from seq0; -1: lost */
static int reported[N];

/* Decodes one feedback packet; checks it against arrival[] (indices from seq0). Returns
 * how many packets it reported. */
static int check_feedback(const uint8_t *pkt, size_t len, uint16_t seq0, uint8_t want_count)
{
    CHECK_INT(rtcp_validate(pkt, len), 0);
    rtcp_iter_t it;
    rtcp_pkt_t p;
    rtcp_fb_t fb;
    rtcp_iter_init(&it, pkt, len);
    CHECK_INT(rtcp_next(&it, &p), 1);
    CHECK_INT(p.pt, RTCP_PT_RTPFB);
    CHECK_INT(rtcp_parse_fb(&p, &fb), 0);
    CHECK_INT(fb.fmt, RTCP_RTPFB_TWCC);
    CHECK_INT(fb.sender_ssrc, 1);
    CHECK_INT(fb.media_ssrc, 0xabc);
    bwe_fci_t f;
    uint8_t *copy = malloc(fb.fci_len); /* exact length: ASan sees an over-read */
    memcpy(copy, fb.fci, fb.fci_len);
    CHECK_INT(bwe_fci_init(&f, copy, fb.fci_len), 0);
    CHECK_INT(f.fb_count, want_count);
    bwe_fci_pkt_t k;
    int n = 0;
    while (bwe_fci_next(&f, &k) == 1) {
        int i = (uint16_t)(k.seq - seq0);
        if (i < 0 || i >= N) {
            CHECK(0);
            break;
        }
        reported[i]++;
        CHECK_INT(k.received, arrival[i] >= 0);
        if (k.received && arrival[i] >= 0) {
            int64_t err = k.arrival_us - arrival[i];
            if (err < -125 || err > 125)
                fprintf(stderr, "seq +%d: off by %lld us\n", i, (long long)err);
            CHECK(err >= -125 && err <= 125);
        }
        n++;
    }
    free(copy);
    return n;
}

/* Packets every 2 ms (jittered), some lost, some reordered, a pause of 10 s, the
 * sequence wrapping; feedback every 100 ms. */
static void test_stream(uint16_t seq0)
{
    memset(reported, 0, sizeof reported);
    uplink_t *u = uplink_new();
    uint8_t out[UPLINK_FEEDBACK_MAX];
    uint32_t rng = 7;
    int64_t t = 5000000;
    int fbs = 0;
    for (int i = 0; i < N; i++) {
        rng = rng * 1103515245u + 12345u;
        t += 2000 + (int64_t)((rng >> 16) % 700);
        if (i == 2000) t += 10000000; /* a pause: a delta past 16 bits of 250 us */
        bool lost = (rng >> 8) % 50 == 0;
        arrival[i] = lost ? -1 : t;
        if (!lost) uplink_on_packet(u, (uint16_t)(seq0 + i), t);
        /* A straggler: packet i-3 arrives now (it was counted lost above). */
        if (i % 97 == 0 && i >= 3 && arrival[i - 3] < 0) {
            arrival[i - 3] = t;
            uplink_on_packet(u, (uint16_t)(seq0 + i - 3), t);
        }
        size_t len = uplink_feedback(u, t, 1, 0xabc, out, sizeof out);
        if (len) {
            check_feedback(out, len, seq0, (uint8_t)fbs);
            fbs++;
        }
    }
    size_t len = uplink_feedback(u, t + 200000, 1, 0xabc, out, sizeof out);
    if (len) check_feedback(out, len, seq0, (uint8_t)fbs++);
    /* Each packet reported exactly once (the last lost ones, after the last arrival,
     * not at all). */
    int last = N - 1;
    while (arrival[last] < 0)
        last--;
    for (int i = 0; i <= last; i++) {
        if (reported[i] != 1) fprintf(stderr, "seq +%d reported %d times\n", i, reported[i]);
        CHECK_INT(reported[i], 1);
    }
    CHECK(fbs > 60); /* every 100 ms or so over ~20 s */
    uplink_free(u);
}

static void test_edges(void)
{
    uplink_t *u = uplink_new();
    uint8_t out[UPLINK_FEEDBACK_MAX];
    CHECK_INT(uplink_feedback(u, 0, 1, 2, out, sizeof out), 0); /* nothing yet */
    uplink_on_packet(u, 10, 1000);
    CHECK_INT(uplink_feedback(u, 1000, 1, 2, out, 10), 0); /* too small a buffer */
    CHECK(uplink_feedback(u, 1000, 1, 2, out, sizeof out) > 0);
    uplink_on_packet(u, 11, 2000);
    CHECK(!uplink_due(u, 50000));
    CHECK_INT(uplink_feedback(u, 50000, 1, 2, out, sizeof out), 0); /* not 100 ms yet */
    CHECK(uplink_due(u, 101000));
    CHECK(uplink_feedback(u, 101000, 1, 2, out, sizeof out) > 0);
    /* A packet already reported: ignored, nothing new to say. */
    uplink_on_packet(u, 10, 3000);
    CHECK(!uplink_due(u, 300000));
    CHECK_INT(uplink_feedback(u, 300000, 1, 2, out, sizeof out), 0);
    uplink_free(u);
    uplink_free(NULL);
}

int main(void)
{
    test_stream(0);
    test_stream(65000); /* wraps */
    test_edges();
    TEST_END();
}
