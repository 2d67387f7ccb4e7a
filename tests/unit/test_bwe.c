/* Tests for sfu/bwe: the transport-cc FCI decoder against hand-built feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1), every truncation of
 * it from a heap buffer of exact size, and the estimator on a simulated bottleneck (time
 * is a parameter: a simulated minute runs in milliseconds). */
#include "bwe.h"
#include "test.h"
#include "twcc_fci.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (n) memcpy(c, p, n);
    return c;
}

/* ---- FCI known answers ------------------------------------------------------------------ */

typedef struct {
    uint32_t index; /* which reported packet */
    uint16_t seq;
    bool received;
    int64_t arrival_us;
} want_pkt_t;

typedef struct {
    const char *name;
    const uint8_t *p;
    size_t len;
    size_t body; /* bytes without the trailing zero padding: every shorter prefix fails */
    int rc;
    uint16_t base_seq, status_count;
    int32_t reference_time;
    uint8_t fb_count;
    size_t n_received;
    want_pkt_t pkts[8]; /* index 0xffffffff ends */
} fci_case_t;

#define END                                                                                        \
    {                                                                                              \
        0xffffffffu, 0, false, 0                                                                   \
    }

/* Run-length chunk: 3 packets received, small deltas 1 ms, 2 ms, 0; 3 bytes of padding. */
static const uint8_t run_small[] = {
    0x00, 0x64, 0x00, 0x03, 0x00, 0x00, 0x01, 0x05, /* base 100, count 3, ref 64 ms, fb 5 */
    0x20, 0x03,                                     /* run length, symbol 01, length 3 */
    0x04, 0x08, 0x00, 0x00, 0x00, 0x00,             /* deltas, zero padding */
};

/* One-bit status vector across the sequence wrap: 65534 R, 65535 N, 0 R, 1 R, 2 N (the
 * chunk's 9 unused symbols are ignored); reference time 1 x 64 ms. */
static const uint8_t vec1_wrap[] = {
    0xff, 0xfe, 0x00, 0x05, 0x00, 0x00, 0x01, 0xff, /* base 65534, count 5, ref 1, fb 255 */
    0xac, 0x00,                                     /* 1 0 | 1 0 1 1 0 0 0 0 0 0 0 0 0 0 */
    0x01, 0xff, 0x00, 0x00,                         /* 250 us, 63.75 ms, 0; pad */
};

/* Two-bit status vector: small, large, not received, large, small, not received, small;
 * the large deltas are -4 ms and +64 ms; reference time -1 (-64 ms). */
static const uint8_t vec2_large[] = {
    0x01, 0x00, 0x00, 0x07, 0xff, 0xff, 0xff, 0x00, /* base 256, count 7, ref -1, fb 0 */
    0xd8, 0x91,                                     /* 1 1 | 01 10 00 10 01 00 01 */
    0x10, 0xff, 0xf0, 0x01, 0x00, 0x02, 0x04,       /* 4 ms, -4 ms, 64 ms, 0.5 ms, 1 ms */
    0x00,                                           /* pad */
};

/* Run of 300 lost, then a run of 2 received (small deltas), then a two-bit chunk of which
 * only the first symbol counts (the reserved symbols after it are not looked at). */
static const uint8_t runs_lost[] = {
    0x00, 0x0a, 0x01, 0x2f, 0x7f, 0xff, 0xff, 0x01, /* base 10, count 303, ref max */
    0x01, 0x2c,                                     /* run, symbol 00, length 300 */
    0x20, 0x02,                                     /* run, symbol 01, length 2 */
    0xdf, 0xff,                                     /* 1 1 | 01 11 11 11 11 11 11 */
    0xff, 0x00, 0x01,                               /* 63.75 ms, 0, 0.25 ms */
};

/* A run-length chunk of length 0 (carries nothing, even with the reserved symbol), then a
 * run of 8191 "not received": the largest run. */
static const uint8_t run_max[] = {
    0x12, 0x34, 0x1f, 0xff, 0x00, 0x00, 0x00, 0x00, /* base 0x1234, count 8191 */
    0x60, 0x00, 0x1f, 0xff,                         /* run 11 x 0, run 00 x 8191 */
};

/* Large delta of exactly -8192 ms (0x8000) for the only packet. */
static const uint8_t large_min[] = {
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x10, 0x00, /* ref 16 x 64 ms = 1024 ms */
    0x40, 0x01, 0x80, 0x00,                         /* run, symbol 10, length 1 */
};

/* clang-format off */
static const fci_case_t fci_cases[] = {
    {"run-length small", run_small, sizeof run_small, 13, 0, 100, 3, 1, 5, 3,
     {{0, 100, true, 65000}, {1, 101, true, 67000}, {2, 102, true, 67000}, END}},
    {"1-bit vector, seq wrap", vec1_wrap, sizeof vec1_wrap, 13, 0, 65534, 5, 1, 255, 3,
     {{0, 65534, true, 64250}, {1, 65535, false, 0}, {2, 0, true, 128000},
      {3, 1, true, 128000}, {4, 2, false, 0}, END}},
    {"2-bit vector, large deltas", vec2_large, sizeof vec2_large, 17, 0, 256, 7, -1, 0, 5,
     {{0, 256, true, -60000}, {1, 257, true, -64000}, {2, 258, false, 0},
      {3, 259, true, 0}, {4, 260, true, 500}, {5, 261, false, 0}, {6, 262, true, 1500}, END}},
    {"runs, 300 lost", runs_lost, sizeof runs_lost, 17, 0, 10, 303, 0x7fffff, 1, 3,
     {{0, 10, false, 0}, {299, 309, false, 0}, {300, 310, true, 0x7fffffLL * 64000 + 63750},
      {301, 311, true, 0x7fffffLL * 64000 + 63750},
      {302, 312, true, 0x7fffffLL * 64000 + 64000}, END}},
    {"run 8191 lost", run_max, sizeof run_max, 12, 0, 0x1234, 8191, 0, 0, 0,
     {{0, 0x1234, false, 0}, {8190, 0x1234 + 8190, false, 0}, END}},
    {"large delta -8192 ms", large_min, sizeof large_min, 12, 0, 0, 1, 16, 0, 1,
     {{0, 0, true, 1024000 - 8192000}, END}},
    /* malformed */
    {"header only", run_small, 8, 8, BWE_ERR_TRUNCATED, 0, 0, 0, 0, 0, {END}},
    {"empty", (const uint8_t[]){0, 1, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0x04}, 11, 11,
     BWE_ERR_EMPTY, 0, 0, 0, 0, 0, {END}},
    {"reserved run symbol", (const uint8_t[]){0, 1, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0x04}, 11, 11,
     BWE_ERR_SYMBOL, 0, 0, 0, 0, 0, {END}},
    {"reserved vector symbol", (const uint8_t[]){0, 1, 0, 2, 0, 0, 0, 0, 0xf0, 0x00, 0x04, 0x04},
     12, 12, BWE_ERR_SYMBOL, 0, 0, 0, 0, 0, {END}},
    {"4 bytes after deltas",
     (const uint8_t[]){0, 1, 0, 1, 0, 0, 0, 0, 0x20, 0x01, 0x04, 0, 0, 0, 0},
     15, 15, BWE_ERR_TRAILING, 0, 0, 0, 0, 0, {END}},
    {"chunks short of count", (const uint8_t[]){0, 1, 0, 15, 0, 0, 0, 0, 0x80, 0x00, 0, 0}, 12, 12,
     BWE_ERR_TRUNCATED, 0, 0, 0, 0, 0, {END}},
};
/* clang-format on */

static void check_packets(const fci_case_t *c, bwe_fci_t *f)
{
    bwe_fci_pkt_t pkt;
    const want_pkt_t *w = c->pkts;
    uint32_t i = 0;
    size_t received = 0;
    while (bwe_fci_next(f, &pkt) == 1) {
        CHECK_INT(pkt.seq, (uint16_t)(c->base_seq + i));
        received += pkt.received;
        if (w->index == i) {
            CHECK_INT(pkt.received, w->received);
            CHECK_INT(pkt.arrival_us, w->arrival_us);
            w++;
        }
        i++;
    }
    CHECK_INT(i, c->status_count);
    CHECK_INT(w->index, 0xffffffffu); /* every listed packet was seen */
    CHECK_INT(received, c->n_received);
    CHECK_INT(bwe_fci_next(f, &pkt), 0);
}

static void test_fci_known_answers(void)
{
    for (size_t k = 0; k < sizeof fci_cases / sizeof fci_cases[0]; k++) {
        const fci_case_t *c = &fci_cases[k];
        uint8_t *p = dup(c->p, c->len);
        bwe_fci_t f;
        int rc = bwe_fci_init(&f, p, c->len);
        if (rc != c->rc) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(rc, c->rc);
        if (rc == 0) {
            CHECK_INT(f.base_seq, c->base_seq);
            CHECK_INT(f.status_count, c->status_count);
            CHECK_INT(f.reference_time, c->reference_time);
            CHECK_INT(f.fb_count, c->fb_count);
            CHECK_INT(f.n_received, c->n_received);
            check_packets(c, &f);
        }
        free(p);
    }
}

/* Every prefix of every valid FCI: those that cut into the chunks or deltas are rejected,
 * those that only drop padding decode the same; read from exact-size heap copies. */
static void test_fci_truncations(void)
{
    for (size_t k = 0; k < sizeof fci_cases / sizeof fci_cases[0]; k++) {
        const fci_case_t *c = &fci_cases[k];
        if (c->rc != 0) continue;
        for (size_t n = 0; n < c->len; n++) {
            uint8_t *p = dup(c->p, n);
            bwe_fci_t f;
            int rc = bwe_fci_init(&f, n ? p : NULL, n);
            if (n < c->body) {
                if (rc != BWE_ERR_TRUNCATED) fprintf(stderr, "case %s, %zu bytes\n", c->name, n);
                CHECK_INT(rc, BWE_ERR_TRUNCATED);
            } else {
                CHECK_INT(rc, 0);
                if (rc == 0) check_packets(c, &f);
            }
            free(p);
        }
    }
}

/* ---- simulated link -------------------------------------------------------------------- */

#define PKT_BYTES 1200
#define SIM_RING  16384
#define FB_US     100000 /* feedback interval, receiver clock */
#define PROP_US   20000  /* one-way propagation delay, each direction */

typedef struct sim {
    bwe_t *bwe;
    double capacity_bps; /* bottleneck */
    double offered_bps;  /* what the sender has to send; it sends min(this, estimate) */
    bool follow;         /* send at min(offered, estimate), like the allocator; else offered */
    uint32_t loss_permille;
    int64_t queue_us;     /* the bottleneck's queue: a packet that would wait longer is lost */
    int64_t rx_offset_us; /* receiver clock - sender clock, a multiple of 64 ms */
    uint32_t rng;
    uint16_t next_seq;         /* next transport-wide seq to send */
    uint16_t report_seq;       /* first seq not reported yet */
    uint32_t unreported;       /* packets sent and not reported */
    int64_t link_free_us;      /* when the bottleneck has sent its queue */
    int64_t arrival[SIM_RING]; /* by seq: receiver-clock arrival, -1 lost */
    uint8_t fb_count;
    bool saw_overuse;
    int feedback_errors;
    /* The sender follows the estimate of lag feedback intervals ago (0: the current one),
     * as the server's video does: a layer switch waits for a key frame. */
    int lag;
    uint32_t past[16]; /* estimates after the latest feedbacks, newest first */
    /* Sent whatever the estimate (audio), on top of what follows it. */
    double fixed_bps;
} sim_t;

static uint32_t rnd(sim_t *s)
{
    s->rng = s->rng * 1103515245u + 12345u;
    return (s->rng >> 8) % 1000;
}

/* Feedback at sender time now: everything up to the last packet arrived by then. */
static void sim_feedback(sim_t *s, int64_t now)
{
    int64_t rx_now = now - PROP_US; /* the receiver sent it one propagation delay ago */
    size_t n = 0, last = 0;
    static int64_t arr[SIM_RING];
    for (size_t i = 0; i < s->unreported; i++) {
        int64_t a = s->arrival[(uint16_t)(s->report_seq + i) % SIM_RING];
        if (a >= 0 && a - s->rx_offset_us > rx_now) break;
        arr[i] = a;
        n = i + 1;
        if (a >= 0) last = n;
    }
    n = last; /* lost packets after the last arrival are not known lost yet */
    if (n == 0) return;
    static uint8_t fci[8 + 2 * SIM_RING / 7 + 2 * SIM_RING + 8];
    size_t len = build_fci(fci, s->report_seq, n, arr, s->fb_count++);
    uint8_t *p = dup(fci, len);
    if (bwe_on_feedback(s->bwe, p, len, now) < 0) s->feedback_errors++;
    free(p);
    if (bwe_state(s->bwe) == BWE_OVERUSING) s->saw_overuse = true;
    memmove(s->past + 1, s->past, sizeof s->past - sizeof s->past[0]);
    s->past[0] = bwe_estimate(s->bwe);
    s->report_seq = (uint16_t)(s->report_seq + n);
    s->unreported -= (uint32_t)n;
}

/* Runs the link from sender time *t for dur_us; returns the mean estimate over its last
 * half. Packets are paced evenly at the sending rate. */
static double sim_run(sim_t *s, int64_t *t, int64_t dur_us)
{
    int64_t end = *t + dur_us, next_fb = *t + FB_US, next_pkt = *t;
    double sum = 0;
    long samples = 0;
    while (*t < end) {
        if (next_pkt <= next_fb) {
            *t = next_pkt;
            double rate = s->offered_bps;
            uint32_t est = s->lag && s->past[s->lag] ? s->past[s->lag] : bwe_estimate(s->bwe);
            if (s->follow && est < rate) rate = est;
            rate += s->fixed_bps;
            uint16_t seq = s->next_seq++;
            bwe_on_sent(s->bwe, seq, PKT_BYTES, *t);
            int64_t start = *t + PROP_US > s->link_free_us ? *t + PROP_US : s->link_free_us;
            int64_t a = -1;
            if (start - (*t + PROP_US) < s->queue_us && rnd(s) >= s->loss_permille) {
                s->link_free_us = start + (int64_t)(PKT_BYTES * 8 * 1e6 / s->capacity_bps);
                a = s->link_free_us + s->rx_offset_us;
            }
            s->arrival[seq % SIM_RING] = a;
            s->unreported++;
            next_pkt = *t + (int64_t)(PKT_BYTES * 8 * 1e6 / rate);
        } else {
            *t = next_fb;
            sim_feedback(s, *t);
            next_fb += FB_US;
            if (*t >= end - dur_us / 2) {
                sum += bwe_estimate(s->bwe);
                samples++;
            }
        }
    }
    return samples ? sum / samples : 0;
}

static sim_t *sim_new(uint32_t start_bps, double capacity, double offered, bool follow)
{
    sim_t *s = calloc(1, sizeof *s);
    s->bwe =
        bwe_new(&(bwe_params_t){.min_bps = 30000, .max_bps = 10000000, .start_bps = start_bps});
    s->capacity_bps = capacity;
    s->offered_bps = offered;
    s->follow = follow;
    s->queue_us = 2000000;
    s->rng = 1;
    return s;
}

static void sim_free(sim_t *s)
{
    bwe_free(s->bwe);
    free(s);
}

typedef struct {
    const char *name;
    uint32_t start_bps;
    double capacity, offered;
    bool follow;
    uint32_t loss_permille;
    int64_t dur_us;
    double lo, hi; /* mean estimate over the last half must lie in [lo, hi] */
    bool overuse;  /* the detector must have said overusing at least once */
} link_case_t;

/* clang-format off */
static const link_case_t link_cases[] = {
    /* more to send than the bottleneck carries: near capacity, +-30 % */
    {"1 Mb/s link, from below", 300000, 1e6, 3e6, true, 0, 60000000, 0.7e6, 1.3e6, true},
    {"1 Mb/s link, from above", 2000000, 1e6, 3e6, true, 0, 60000000, 0.7e6, 1.3e6, true},
    {"4 Mb/s link", 300000, 4e6, 8e6, true, 0, 90000000, 2.8e6, 5.2e6, true},
    {"300 kb/s link", 1000000, 3e5, 2e6, true, 0, 60000000, 2.1e5, 3.9e5, true},
    /* capacity to spare: grows, to about 1.5 x what is sent */
    {"ample, 5 Mb/s sent", 300000, 50e6, 5e6, true, 0, 40000000, 3e6, 10e6, false},
    {"ample, 1 Mb/s sent", 300000, 50e6, 1e6, false, 0, 40000000, 1.1e6, 1.6e6, false},
    /* random loss on an ample link */
    {"20 % loss", 1000000, 50e6, 5e6, true, 200, 20000000, 30000, 300000, false},
    {"1 % loss", 1000000, 50e6, 5e6, true, 10, 20000000, 1.5e6, 10e6, false},
};
/* clang-format on */

static void test_links(void)
{
    for (size_t k = 0; k < sizeof link_cases / sizeof link_cases[0]; k++) {
        const link_case_t *c = &link_cases[k];
        sim_t *s = sim_new(c->start_bps, c->capacity, c->offered, c->follow);
        s->loss_permille = c->loss_permille;
        int64_t t = 1000000;
        double mean = sim_run(s, &t, c->dur_us);
        bool ok = mean >= c->lo && mean <= c->hi && (!c->overuse || s->saw_overuse);
        fprintf(ok ? stdout : stderr, "link %-26s mean %8.0f b/s, end %8u, acked %8u%s\n", c->name,
                mean, bwe_estimate(s->bwe), bwe_acked_bps(s->bwe),
                s->saw_overuse ? ", overused" : "");
        CHECK(mean >= c->lo);
        CHECK(mean <= c->hi);
        if (c->overuse) CHECK(s->saw_overuse);
        CHECK_INT(s->feedback_errors, 0);
        sim_free(s);
    }
}

/* A link that drops what does not fit in a short queue (a tbf: 250 ms): one congestion
 * episode is one loss-based decrease, not one per feedback reporting the losses of the
 * packets that were queued when it started. The sender has much more to send and follows
 * the estimate half a second late (the server's video waits for key frames), with 60 kb/s
 * of audio on top: the estimate never falls under half the capacity and averages near
 * it. */
static void test_tail_drop(void)
{
    sim_t *s = sim_new(1500000, 250000, 1200000, true);
    s->queue_us = 250000;
    s->lag = 5;           /* 500 ms */
    s->fixed_bps = 60000; /* audio */
    int64_t t = 1000000;
    sim_run(s, &t, 2000000); /* the first drop: from 1.5 Mb/s */
    uint32_t lowest = bwe_estimate(s->bwe);
    double sum = 0;
    int n = 0;
    for (int i = 0; i < 150; i++) {
        sim_run(s, &t, 100000);
        uint32_t e = bwe_estimate(s->bwe);
        if (e < lowest) lowest = e;
        sum += e;
        n++;
    }
    printf("tail drop, 250 kb/s link, 250 ms queue: lowest %u b/s, mean %.0f b/s\n", lowest,
           sum / n);
    CHECK(lowest >= 110000);
    CHECK(sum / n >= 150000);
    CHECK(sum / n <= 300000);
    CHECK_INT(s->feedback_errors, 0);
    sim_free(s);
}

/* The same link seen through a receiver clock whose 24-bit reference time wraps (at the
 * signed boundary and at 0xffffff -> 0) and transport-wide numbers that wrap
 * 65535 -> 0: the estimator must do exactly what it does without the wraps. */
static void test_wraps(void)
{
    const int64_t offsets[] = {0, (0x7fffffLL - 50) * 64000, (0xffffffLL - 50) * 64000};
    const uint16_t seqs[] = {0, 65000, 65535};
    uint32_t want[40];
    for (size_t o = 0; o < 3; o++) {
        for (size_t q = 0; q < 3; q++) {
            sim_t *s = sim_new(300000, 1e6, 3e6, true);
            s->rx_offset_us = offsets[o];
            s->next_seq = s->report_seq = seqs[q];
            int64_t t = 1000000;
            for (int i = 0; i < 40; i++) {
                sim_run(s, &t, 500000);
                uint32_t e = bwe_estimate(s->bwe);
                if (o == 0 && q == 0)
                    want[i] = e;
                else
                    CHECK_INT(e, want[i]);
            }
            CHECK_INT(s->feedback_errors, 0);
            sim_free(s);
        }
    }
}

/* Feedback that matches nothing sent, repeated or malformed feedback change nothing. */
static void test_feedback_matching(void)
{
    bwe_t *b = bwe_new(&(bwe_params_t){30000, 10000000, 500000});
    uint8_t *p = dup(run_small, sizeof run_small); /* seqs 100..102 */
    CHECK_INT(bwe_on_feedback(b, p, sizeof run_small, 1000), 0);
    CHECK_INT(bwe_estimate(b), 500000);
    for (uint16_t seq = 0; seq < 101; seq++)
        bwe_on_sent(b, seq, 1000, 2000 + seq);
    CHECK_INT(bwe_on_feedback(b, p, sizeof run_small, 3000), 1); /* 100 only: 101 not sent */
    bwe_on_sent(b, 101, 1000, 3000);
    bwe_on_sent(b, 102, 1000, 3000);
    CHECK_INT(bwe_on_feedback(b, p, sizeof run_small, 4000), 2); /* 100 already acked */
    CHECK_INT(bwe_on_feedback(b, p, sizeof run_small, 5000), 0);
    CHECK_INT(bwe_on_feedback(b, p, 12, 6000), BWE_ERR_TRUNCATED);
    CHECK_INT(bwe_estimate(b), 500000);
    CHECK_INT(bwe_state(b), BWE_NORMAL);
    free(p);
    /* packets older than the ring are not matched */
    for (uint32_t i = 103; i < 103 + BWE_RING_SIZE; i++)
        bwe_on_sent(b, (uint16_t)i, 1000, 10000);
    uint8_t late[] = {0x00, 0x66, 0x00, 0x01, 0, 0, 0, 0, 0x20, 0x01, 0x00}; /* seq 102 */
    CHECK_INT(bwe_on_feedback(b, late, sizeof late, 20000), 0);
    bwe_free(b);
}

/* Receiver reports only (no transport-cc): the loss rule alone. */
static void test_receiver_reports(void)
{
    bwe_t *b = bwe_new(&(bwe_params_t){30000, 10000000, 300000});
    int64_t t = 0;
    for (int i = 0; i <= 10; i++, t += 1000000)
        bwe_on_receiver_report(b, 0, t);
    uint32_t grown = bwe_estimate(b);
    CHECK(grown > 600000 && grown < 700000); /* 300k x 1.08 ^ 10 = 648k */
    for (int i = 0; i < 5; i++, t += 1000000)
        bwe_on_receiver_report(b, 13, t); /* 5 %: hold */
    CHECK_INT(bwe_estimate(b), grown);
    bwe_on_receiver_report(b, 51, t); /* 19.9 %: x (1 - 0.5 x 51 / 256) */
    uint32_t cut = (uint32_t)(grown * (1 - 0.5 * 51 / 256.0));
    CHECK(bwe_estimate(b) + 1 >= cut && bwe_estimate(b) <= cut + 1);
    t += 100000;
    bwe_on_receiver_report(b, 51, t); /* within 300 ms of the last cut: held */
    CHECK(bwe_estimate(b) + 1 >= cut && bwe_estimate(b) <= cut + 1);
    for (int i = 0; i < 60; i++, t += 1000000)
        bwe_on_receiver_report(b, 255, t);
    CHECK_INT(bwe_estimate(b), 30000); /* floor */
    for (int i = 0; i < 200; i++, t += 1000000)
        bwe_on_receiver_report(b, 0, t);
    CHECK_INT(bwe_estimate(b), 10000000); /* ceiling */
    CHECK_INT(bwe_acked_bps(b), 0);
    bwe_free(b);
}

static void test_params(void)
{
    CHECK(bwe_new(&(bwe_params_t){0, 1000, 500}) == NULL);
    CHECK(bwe_new(&(bwe_params_t){2000, 1000, 1500}) == NULL);
    CHECK(bwe_new(NULL) == NULL);
    bwe_free(NULL);
    bwe_t *b = bwe_new(&(bwe_params_t){30000, 100000, 5000000});
    CHECK_INT(bwe_estimate(b), 100000); /* start clamped */
    bwe_free(b);
    CHECK_STR(bwe_usage_name(BWE_OVERUSING), "overusing");
    CHECK_STR(bwe_strerror(BWE_ERR_SYMBOL), "transport-cc feedback: reserved status symbol");
}

/* A link that changes under a sender that follows the estimate: a step down is followed
 * within seconds, a step up within the time multiplicative growth needs, and a burst of
 * loss costs rate only while it lasts. */
static void test_steps(void)
{
    sim_t *s = sim_new(1500000, 2e6, 3e6, true);
    int64_t t = 1000000;
    double before = sim_run(s, &t, 20000000);
    s->capacity_bps = 500000;
    sim_run(s, &t, 5000000);
    uint32_t down = bwe_estimate(s->bwe);
    s->capacity_bps = 2e6;
    int64_t up_at = -1, t0 = t;
    for (int i = 0; i < 60 && up_at < 0; i++) {
        sim_run(s, &t, 500000);
        if (bwe_estimate(s->bwe) >= 1500000) up_at = t - t0;
    }
    printf("steps: %.0f b/s on 2 Mb/s, %u 5 s after a step to 500 kb/s, back over 1.5 Mb/s "
           "%.1f s after the step up\n",
           before, down, (double)up_at / 1e6);
    CHECK(before > 1.4e6 && before < 2.6e6);
    CHECK(down < 700000);
    CHECK(up_at >= 0);
    CHECK(up_at <= 25000000);
    /* 2 s of 30% loss on the ample link: the estimate falls, then comes back. */
    sim_run(s, &t, 10000000);
    uint32_t steady = bwe_estimate(s->bwe);
    s->loss_permille = 300;
    sim_run(s, &t, 2000000);
    uint32_t lossy = bwe_estimate(s->bwe);
    s->loss_permille = 0;
    int64_t back_at = -1;
    t0 = t;
    for (int i = 0; i < 60 && back_at < 0; i++) {
        sim_run(s, &t, 500000);
        if (bwe_estimate(s->bwe) >= 0.8 * steady) back_at = t - t0;
    }
    printf("loss burst: %u before, %u after 2 s of 30%% loss, back to 80%% %.1f s later\n", steady,
           lossy, (double)back_at / 1e6);
    CHECK(lossy < 0.9 * steady);
    CHECK(back_at >= 0);
    CHECK(back_at <= 25000000);
    CHECK_INT(s->feedback_errors, 0);
    sim_free(s);
}

int main(void)
{
    test_fci_known_answers();
    test_fci_truncations();
    test_feedback_matching();
    test_receiver_reports();
    test_params();
    test_links();
    test_steps();
    test_tail_drop();
    test_wraps();
    TEST_END();
}
