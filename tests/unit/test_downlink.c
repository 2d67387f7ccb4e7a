/* Tests for sfu/downlink: transport-wide numbering of outgoing packets, the choice of
 * estimate source, and probing: on a simulated bottleneck, a subscriber that was sent
 * little gets its estimate up to what the allocator wants when the link carries it, and
 * a weak link is probed less and less often. */
#include "downlink.h"
#include "rtp.h"
#include "test.h"
#include "twcc_fci.h"

#include <stdlib.h>
#include <string.h>

#define TWCC_ID 5

static size_t make_packet(uint8_t *p, size_t payload)
{
    memset(p, 0, 12 + payload);
    p[0] = 0x80;
    p[1] = 96;
    return 12 + payload;
}

static void test_stamp(void)
{
    downlink_t *d = downlink_new();
    uint8_t buf[1500];
    size_t len = make_packet(buf, 100);
    /* No extension negotiated: untouched. */
    CHECK_INT(downlink_stamp(d, buf, len, sizeof buf, 0), len);
    downlink_set_twcc_ext(d, TWCC_ID);
    for (uint16_t i = 0; i < 3; i++) {
        len = make_packet(buf, 100);
        size_t n = downlink_stamp(d, buf, len, sizeof buf, 1000 * i);
        CHECK_INT(n, len + 8); /* a one-byte block with the element */
        rtp_header_t h;
        uint16_t seq = 0xffff;
        CHECK_INT(rtp_parse(buf, n, &h), 0);
        CHECK_INT(rtp_ext_transport_seq(buf, &h, TWCC_ID, &seq), 0);
        CHECK_INT(seq, i);
    }
    /* No room: sent as it is, not numbered (the next one takes number 3). */
    len = make_packet(buf, 100);
    CHECK_INT(downlink_stamp(d, buf, len, len + 4, 0), len);
    downlink_free(d);
    downlink_free(NULL);
}

static void test_sources(void)
{
    downlink_t *d = downlink_new();
    CHECK_INT(downlink_source(d), DOWNLINK_NONE);
    CHECK_INT(downlink_estimate(d), DOWNLINK_START_BPS);
    downlink_on_remb(d, 250000);
    CHECK_INT(downlink_source(d), DOWNLINK_REMB);
    CHECK_INT(downlink_estimate(d), 250000);
    downlink_on_remb(d, 10); /* never under one audio stream */
    CHECK_INT(downlink_estimate(d), DOWNLINK_MIN_BPS);
    /* Receiver reports without loss: their rule is the floor under a low REMB. */
    downlink_on_loss(d, 0, 1000);
    CHECK_INT(downlink_source(d), DOWNLINK_REMB);
    CHECK_INT(downlink_estimate(d), DOWNLINK_START_BPS);
    /* Heavy loss brings that floor down; then REMB says more. */
    for (int i = 0; i < 8; i++)
        downlink_on_loss(d, 128, 1000 + 1000000 * (i + 1));
    CHECK(downlink_estimate(d) < 300000);
    downlink_on_remb(d, 400000);
    CHECK_INT(downlink_estimate(d), 400000);
    downlink_t *l = downlink_new();
    downlink_on_loss(l, 0, 1000);
    CHECK_INT(downlink_source(l), DOWNLINK_LOSS);
    downlink_free(l);
    /* Without transport-cc feedback there is no probing at all. */
    downlink_t *q = downlink_new();
    downlink_set_wanted(q, 2000000);
    for (int64_t t = 0; t < 10000000; t += 20000)
        CHECK_INT(downlink_padding_due(q, t), 0);
    downlink_free(q);
    /* transport-cc feedback wins over REMB from then on. */
    downlink_set_twcc_ext(d, TWCC_ID);
    uint8_t buf[1500];
    size_t len = make_packet(buf, 1000);
    downlink_stamp(d, buf, len, sizeof buf, 0);
    int64_t arrival[1] = {20000};
    uint8_t fci[64];
    size_t n = build_fci(fci, 0, 1, arrival, 0);
    downlink_on_twcc(d, fci, n, 100000);
    CHECK_INT(downlink_source(d), DOWNLINK_TWCC);
    uint32_t est = downlink_estimate(d);
    downlink_on_remb(d, 3000000);
    CHECK_INT(downlink_estimate(d), est);
    downlink_free(d);
}

/* ---- a simulated bottleneck ------------------------------------------------------------ */

#define PROP_US  20000
#define FB_US    100000
#define MAX_PKTS 65536
#define QUEUE_US 300000 /* a tbf-like queue: what waits longer is dropped */

typedef struct sim {
    downlink_t *d;
    double capacity_bps;
    int64_t link_free_us;
    int64_t arrival[MAX_PKTS]; /* by transport seq, -1 lost */
    uint32_t sent, reported;
    uint8_t fb_count;
    uint64_t padding_bytes;
    int64_t burst_starts[64];
    int n_bursts;
    bool in_burst;
    bool allocate; /* media as an allocator sends it: video only when the estimate has room */
    bool fill;     /* media at 90% of the estimate (up to 1.2 Mb/s) */
    uint32_t media_sent, media_lost; /* 1,000-byte packets */
    uint32_t media_lost_probing;     /* ... lost while a burst was under way */
} sim_t;

static void sim_send(sim_t *s, size_t payload, int64_t now)
{
    uint8_t buf[1500];
    size_t len = make_packet(buf, payload);
    size_t n = downlink_stamp(s->d, buf, len, sizeof buf, now);
    if (s->sent == MAX_PKTS) return;
    int64_t start = now + PROP_US > s->link_free_us ? now + PROP_US : s->link_free_us;
    int64_t a = -1;
    if (start - (now + PROP_US) < QUEUE_US) {
        s->link_free_us = start + (int64_t)((double)(n + 10) * 8e6 / s->capacity_bps);
        a = s->link_free_us;
    }
    if (payload == 1000) {
        s->media_sent++;
        s->media_lost += a < 0;
        s->media_lost_probing += a < 0 && s->in_burst;
    }
    s->arrival[s->sent++] = a;
}

static void sim_feedback(sim_t *s, int64_t now)
{
    uint32_t n = 0, last = 0;
    while (s->reported + n < s->sent) {
        int64_t a = s->arrival[s->reported + n];
        if (a >= 0 && a > now - PROP_US) break;
        n++;
        if (a >= 0) last = n;
    }
    if (last == 0) return;
    static uint8_t fci[8 + 2 * MAX_PKTS];
    size_t len =
        build_fci(fci, (uint16_t)s->reported, last, s->arrival + s->reported, s->fb_count++);
    downlink_on_twcc(s->d, fci, len, now);
    s->reported += last;
}

/* Media at media_bps in 1,000-byte packets, probe padding in 250-byte ones, for dur_us
 * from *t. */
static void sim_run(sim_t *s, double media_bps, int64_t *t, int64_t dur_us)
{
    int64_t end = *t + dur_us, next_media = *t, next_fb = *t + FB_US;
    for (; *t < end; *t += 1000) {
        if (*t >= next_media) {
            sim_send(s, 1000, *t);
            double rate = media_bps;
            if (s->allocate) rate = downlink_estimate(s->d) >= 1200000 ? 1200000 : 120000;
            if (s->fill) { /* layers fine enough to fill 90% of the estimate */
                rate = 0.9 * downlink_estimate(s->d);
                rate = rate > 1200000 ? 1200000 : rate < 60000 ? 60000 : rate;
            }
            next_media += (int64_t)(1012 * 8e6 / rate);
        }
        size_t due = downlink_padding_due(s->d, *t);
        bool burst = downlink_probing(s->d);
        if (burst && !s->in_burst && s->n_bursts < 64) s->burst_starts[s->n_bursts++] = *t;
        s->in_burst = burst;
        for (int i = 0; due > 0 && i < 8; i++) {
            sim_send(s, 250, *t);
            s->padding_bytes += 262;
            due = due > 262 ? due - 262 : 0;
        }
        if (*t >= next_fb) {
            sim_feedback(s, *t);
            next_fb += FB_US;
        }
    }
}

static sim_t *sim_new(double capacity)
{
    sim_t *s = calloc(1, sizeof *s);
    s->d = downlink_new();
    downlink_set_twcc_ext(s->d, TWCC_ID);
    s->capacity_bps = capacity;
    return s;
}

static void sim_free(sim_t *s)
{
    downlink_free(s->d);
    free(s);
}

static void test_probing_finds_a_fast_link(void)
{
    /* A 200 kb/s link with more to send: the estimate comes down to it. Then the link
     * gets fast (the limit is lifted) but only 100 kb/s is sent: without a wish, the
     * estimate stays where it was and nothing is padded. */
    sim_t *s = sim_new(200000);
    int64_t t = 1000000;
    sim_run(s, 400000, &t, 3000000);
    sim_run(s, 100000, &t, 7000000);
    uint32_t low = downlink_estimate(s->d);
    s->capacity_bps = 5e6;
    sim_run(s, 100000, &t, 5000000);
    uint32_t idle = downlink_estimate(s->d);
    printf("fast link after a weak one, nothing wanted: %u then %u b/s, padding %llu bytes\n", low,
           idle, (unsigned long long)s->padding_bytes);
    CHECK(low < 300000);
    CHECK(idle < 300000);
    CHECK_INT(s->padding_bytes, 0);
    /* The allocator wants 1.2 Mb/s: probes take the estimate there within 15 s. */
    downlink_set_wanted(s->d, 1200000);
    int64_t t0 = t, reached = -1;
    for (int i = 0; i < 30 && reached < 0; i++) {
        sim_run(s, 100000, &t, 500000);
        if (downlink_estimate(s->d) >= 1200000) reached = t - t0;
    }
    printf("fast link, 1.2 Mb/s wanted: %u b/s after %.1f s, %d bursts\n", downlink_estimate(s->d),
           (double)(reached < 0 ? t - t0 : reached) / 1e6, s->n_bursts);
    CHECK(reached >= 0);
    CHECK(reached <= 15000000);
    /* There: no more probing. */
    int bursts = s->n_bursts;
    sim_run(s, 1200000, &t, 5000000);
    CHECK_INT(s->n_bursts, bursts);
    sim_free(s);
}

static void test_probing_backs_off_on_a_weak_link(void)
{
    /* The allocator sends everything (1.2 Mb/s) while the estimate allows, else audio. */
    sim_t *s = sim_new(250000);
    s->allocate = true;
    downlink_set_wanted(s->d, 1200000);
    int64_t t = 1000000;
    sim_run(s, 0, &t, 40000000);
    uint32_t est = downlink_estimate(s->d);
    printf("weak link: %u b/s, %d bursts, last gap %.1f s\n", est, s->n_bursts,
           s->n_bursts > 1
               ? (double)(s->burst_starts[s->n_bursts - 1] - s->burst_starts[s->n_bursts - 2]) / 1e6
               : 0.0);
    CHECK(est < 400000);
    CHECK(s->n_bursts >= 2);
    if (s->n_bursts >= 2)
        CHECK(s->burst_starts[s->n_bursts - 1] - s->burst_starts[s->n_bursts - 2] >= 4000000);
    sim_free(s);
}

static void test_probing_spares_a_full_link(void)
{
    /* Media filling 90% of the estimate on a 250 kb/s link with a short queue, and the
     * allocator wanting 1.2 Mb/s: the probes find no room, and the media packets lost
     * while they run must stay under 2% of all sent (bursts gentle and short near where
     * the link filled up, ended when they fill it; 2x bursts of 500 ms lost 4%). The
     * estimate's own overshoot loses some more, counted apart. */
    sim_t *s = sim_new(250000);
    s->fill = true;
    downlink_set_wanted(s->d, 1200000);
    int64_t t = 1000000;
    sim_run(s, 200000, &t, 5000000);
    s->media_sent = s->media_lost = s->media_lost_probing = 0;
    int bursts = s->n_bursts;
    sim_run(s, 200000, &t, 20000000);
    printf("full link, 1.2 Mb/s wanted: %u of %u media packets lost in 20 s (%u during bursts), "
           "%d bursts, estimate %u b/s\n",
           s->media_lost, s->media_sent, s->media_lost_probing, s->n_bursts - bursts,
           downlink_estimate(s->d));
    CHECK(s->media_lost_probing * 50 < s->media_sent);
    CHECK(s->n_bursts > bursts); /* it does probe */
    sim_free(s);
}

int main(void)
{
    test_stamp();
    test_sources();
    test_probing_finds_a_fast_link();
    test_probing_backs_off_on_a_weak_link();
    test_probing_spares_a_full_link();
    TEST_END();
}
