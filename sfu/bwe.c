/* bwe: transport-cc downlink estimate (see bwe.h). The structure and constants follow
 * libwebrtc's GCC (InterArrival, TrendlineEstimator, AimdRateControl,
 * SendSideBandwidthEstimation), with the probing, the RTT, the ALR and the Bayesian
 * throughput estimator left out. */
#include "bwe.h"

#include "mem.h"
#include "rtp.h"

#include <stdlib.h>

/* ---- FCI decoder ----------------------------------------------------------------------- */

#define DELTA_US 250 /* receive delta unit */
#define REF_US   64000

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static int32_t sign24(uint32_t v)
{
    v &= 0xffffff;
    return (v & 0x800000) ? (int32_t)v - 0x1000000 : (int32_t)v;
}

/* Statuses a packet chunk carries: a run length, 14 one-bit or 7 two-bit symbols. */
static uint32_t chunk_count(uint16_t c)
{
    if (!(c & 0x8000)) return c & 0x1fff;
    return (c & 0x4000) ? 7 : 14;
}

/* Symbol i of a chunk: 0 not received, 1 small delta, 2 large delta, 3 reserved. */
static unsigned chunk_symbol(uint16_t c, uint32_t i)
{
    if (!(c & 0x8000)) return (c >> 13) & 3;
    if (c & 0x4000) return (c >> (12 - 2 * i)) & 3;
    return (c >> (13 - i)) & 1;
}

int bwe_fci_init(bwe_fci_t *f, const uint8_t *fci, size_t len)
{
    if (len < 8) return BWE_ERR_TRUNCATED;
    uint16_t count = rd16(fci + 2);
    if (count == 0) return BWE_ERR_EMPTY;
    /* First pass: the chunks up to status_count statuses (the last chunk may carry more,
     * which are not looked at), the delta bytes they announce. */
    size_t off = 8, delta_bytes = 0, received = 0;
    uint32_t covered = 0;
    while (covered < count) {
        if (len - off < 2) return BWE_ERR_TRUNCATED;
        uint16_t c = rd16(fci + off);
        off += 2;
        uint32_t n = chunk_count(c);
        if (n > count - covered) n = count - covered;
        if (!(c & 0x8000)) {
            unsigned sym = chunk_symbol(c, 0);
            if (n && sym == 3) return BWE_ERR_SYMBOL;
            delta_bytes += (size_t)sym * n;
            if (sym) received += n;
        } else {
            for (uint32_t i = 0; i < n; i++) {
                unsigned sym = chunk_symbol(c, i);
                if (sym == 3) return BWE_ERR_SYMBOL;
                delta_bytes += sym;
                if (sym) received++;
            }
        }
        covered += n;
    }
    if (len - off < delta_bytes) return BWE_ERR_TRUNCATED;
    if (len - off - delta_bytes > 3) return BWE_ERR_TRAILING;
    *f = (bwe_fci_t){
        .base_seq = rd16(fci),
        .status_count = count,
        .reference_time = sign24((uint32_t)fci[4] << 16 | (uint32_t)fci[5] << 8 | fci[6]),
        .fb_count = fci[7],
        .n_received = received,
        .p = fci,
        .chunk_off = 8,
        .delta_off = off,
    };
    f->arrival_us = (int64_t)f->reference_time * REF_US;
    return 0;
}

int bwe_fci_next(bwe_fci_t *f, bwe_fci_pkt_t *out)
{
    if (f->index >= f->status_count) return 0;
    while (f->chunk_left == 0) { /* bwe_fci_init checked that the chunks cover the count */
        f->chunk = rd16(f->p + f->chunk_off);
        f->chunk_off += 2;
        f->chunk_left = chunk_count(f->chunk);
    }
    unsigned sym = chunk_symbol(f->chunk, chunk_count(f->chunk) - f->chunk_left);
    f->chunk_left--;
    if (sym == 1) {
        f->arrival_us += (int64_t)f->p[f->delta_off] * DELTA_US;
        f->delta_off += 1;
    } else if (sym == 2) {
        f->arrival_us += (int64_t)(int16_t)rd16(f->p + f->delta_off) * DELTA_US;
        f->delta_off += 2;
    }
    *out = (bwe_fci_pkt_t){
        .seq = (uint16_t)(f->base_seq + f->index),
        .received = sym != 0,
        .arrival_us = sym ? f->arrival_us : 0,
    };
    f->index++;
    return 1;
}

/* ---- estimator ------------------------------------------------------------------------- */

#define GROUP_US          5000 /* burst grouping by send time */
#define BURST_ARRIVAL_US  5000 /* ... and by arrival, for packets queued back to back */
#define BURST_MAX_US      100000
#define TREND_WINDOW      20
#define TREND_SMOOTHING   0.9
#define TREND_GAIN        4.0
#define TREND_MAX_DELTAS  60
#define THRESH_INITIAL_MS 12.5
#define THRESH_MIN_MS     6.0
#define THRESH_MAX_MS     600.0
#define THRESH_K_UP       0.01
#define THRESH_K_DOWN     0.00018
#define THRESH_MAX_OFFSET 15.0 /* a trend this far above the threshold does not move it */
#define OVERUSE_TIME_MS   10.0
#define BETA              0.85
#define DECREASE_GAP_US   200000 /* libwebrtc cuts at most once an RTT; RTT unknown here */
#define RESPONSE_TIME_S   0.3    /* default RTT 200 ms + 100 ms */
#define ACKED_WINDOW_US   250000
#define LOSS_MIN_PACKETS  20
#define LOSS_DECREASE_GAP 300000 /* kBweDecreaseInterval (+ RTT) */

typedef struct sent {
    int64_t send_us;
    uint32_t ext; /* low 32 bits of the extended sequence number: whose slot this is */
    uint16_t size;
    uint8_t used, acked;
} sent_t;

typedef struct group {
    int64_t first_send_us, send_us, first_arrival_us, arrival_us;
    bool used;
} group_t;

enum { RC_HOLD, RC_INCREASE, RC_DECREASE };

struct bwe {
    double min_bps, max_bps;
    sent_t *ring;
    bool have_sent;
    uint64_t last_ext;

    bool twcc_seen, have_ref;
    int64_t ref_unwrapped;
    int32_t last_ref;

    group_t cur, prev;

    /* trendline */
    double acc_delay_ms, smoothed_ms, trend, prev_trend;
    double hist_x[TREND_WINDOW], hist_y[TREND_WINDOW];
    int n_hist, hist_head, num_deltas;
    bool have_first_arrival;
    int64_t first_arrival_us;

    /* overuse detector */
    double threshold_ms, time_over_ms;
    int overuse_count;
    bool thresh_updated;
    int64_t thresh_update_us;
    bwe_usage_t usage;

    /* AIMD */
    int rc_state;
    double delay_bps;
    bool have_change, have_decrease;
    int64_t last_change_us, last_decrease_us;
    bool lc_valid; /* link capacity: acked rate at overuse, kbps */
    double lc_kbps, lc_dev;

    /* acknowledged rate */
    bool win_started;
    int64_t win_start_us;
    uint64_t win_bytes;
    double acked_bps;
    double acked_sample_bps; /* the latest window alone */

    /* loss-based */
    double loss_bps, last_loss;
    uint32_t loss_expected, loss_lost;
    bool have_loss_update, have_loss_decrease;
    int64_t loss_update_us, loss_decrease_us;

    uint32_t estimate;
};

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double sqrt_pos(double v)
{
    if (v <= 0) return 0;
    double x = v > 1 ? v : 1;
    for (int i = 0; i < 40; i++)
        x = 0.5 * (x + v / x);
    return x;
}

bwe_t *bwe_new(const bwe_params_t *p)
{
    if (!p || p->min_bps == 0 || p->max_bps < p->min_bps) return NULL;
    bwe_t *b = xcalloc(1, sizeof *b);
    b->ring = xcalloc(BWE_RING_SIZE, sizeof *b->ring);
    b->min_bps = p->min_bps;
    b->max_bps = p->max_bps;
    double start = clampd(p->start_bps, b->min_bps, b->max_bps);
    b->delay_bps = b->loss_bps = start;
    b->estimate = (uint32_t)start;
    b->threshold_ms = THRESH_INITIAL_MS;
    b->time_over_ms = -1;
    b->rc_state = RC_INCREASE;
    b->lc_dev = 0.4;
    return b;
}

void bwe_free(bwe_t *b)
{
    if (!b) return;
    free(b->ring);
    free(b);
}

void bwe_on_sent(bwe_t *b, uint16_t twcc_seq, size_t size_bytes, int64_t now_us)
{
    uint64_t ext = b->have_sent ? rtp_seq_extend(b->last_ext, twcc_seq) : twcc_seq;
    if (!b->have_sent || ext > b->last_ext) b->last_ext = ext;
    b->have_sent = true;
    sent_t *s = &b->ring[ext % BWE_RING_SIZE];
    *s = (sent_t){
        .send_us = now_us,
        .ext = (uint32_t)ext,
        .size = size_bytes > UINT16_MAX ? UINT16_MAX : (uint16_t)size_bytes,
        .used = 1,
    };
}

/* ---- delay-based: trendline and overuse detector ---- */

static void update_threshold(bwe_t *b, double modified, int64_t arrival_us)
{
    if (!b->thresh_updated) {
        b->thresh_updated = true;
        b->thresh_update_us = arrival_us;
    }
    double m = modified < 0 ? -modified : modified;
    /* A spike (e.g. a route change) far above the threshold does not drag it up. */
    if (m > b->threshold_ms + THRESH_MAX_OFFSET) {
        b->thresh_update_us = arrival_us;
        return;
    }
    double k = m < b->threshold_ms ? THRESH_K_DOWN : THRESH_K_UP;
    double dt_ms = clampd((double)(arrival_us - b->thresh_update_us) / 1000.0, 0, 100);
    b->threshold_ms =
        clampd(b->threshold_ms + k * (m - b->threshold_ms) * dt_ms, THRESH_MIN_MS, THRESH_MAX_MS);
    b->thresh_update_us = arrival_us;
}

static void detect(bwe_t *b, double send_delta_ms, int64_t arrival_us)
{
    if (b->num_deltas < 2) {
        b->usage = BWE_NORMAL;
        return;
    }
    int n = b->num_deltas < TREND_MAX_DELTAS ? b->num_deltas : TREND_MAX_DELTAS;
    double modified = n * b->trend * TREND_GAIN;
    if (modified > b->threshold_ms) {
        b->time_over_ms = b->time_over_ms < 0 ? send_delta_ms / 2 : b->time_over_ms + send_delta_ms;
        b->overuse_count++;
        if (b->time_over_ms > OVERUSE_TIME_MS && b->overuse_count > 1 &&
            b->trend >= b->prev_trend) {
            b->time_over_ms = 0;
            b->overuse_count = 0;
            b->usage = BWE_OVERUSING;
        }
    } else {
        b->time_over_ms = -1;
        b->overuse_count = 0;
        b->usage = modified < -b->threshold_ms ? BWE_UNDERUSING : BWE_NORMAL;
    }
    b->prev_trend = b->trend;
    update_threshold(b, modified, arrival_us);
}

/* Least-squares slope of the smoothed delay over the window; keeps the last trend when
 * the arrival times do not spread. */
static void fit_trend(bwe_t *b)
{
    double sx = 0, sy = 0;
    for (int i = 0; i < b->n_hist; i++) {
        sx += b->hist_x[i];
        sy += b->hist_y[i];
    }
    double mx = sx / b->n_hist, my = sy / b->n_hist, num = 0, den = 0;
    for (int i = 0; i < b->n_hist; i++) {
        num += (b->hist_x[i] - mx) * (b->hist_y[i] - my);
        den += (b->hist_x[i] - mx) * (b->hist_x[i] - mx);
    }
    if (den != 0) b->trend = num / den;
}

static void trendline(bwe_t *b, double recv_delta_ms, double send_delta_ms, int64_t arrival_us)
{
    if (b->num_deltas < 1000) b->num_deltas++;
    b->acc_delay_ms += recv_delta_ms - send_delta_ms;
    b->smoothed_ms = TREND_SMOOTHING * b->smoothed_ms + (1 - TREND_SMOOTHING) * b->acc_delay_ms;
    if (!b->have_first_arrival) {
        b->have_first_arrival = true;
        b->first_arrival_us = arrival_us;
    }
    b->hist_x[b->hist_head] = (double)(arrival_us - b->first_arrival_us) / 1000.0;
    b->hist_y[b->hist_head] = b->smoothed_ms;
    b->hist_head = (b->hist_head + 1) % TREND_WINDOW;
    if (b->n_hist < TREND_WINDOW) b->n_hist++;
    if (b->n_hist == TREND_WINDOW) fit_trend(b);
    detect(b, send_delta_ms, arrival_us);
}

static bool belongs_to_burst(const group_t *g, int64_t send_us, int64_t arrival_us)
{
    int64_t send_delta = send_us - g->send_us, arrival_delta = arrival_us - g->arrival_us;
    if (send_delta == 0) return true;
    return arrival_delta - send_delta < 0 && arrival_delta <= BURST_ARRIVAL_US &&
           arrival_us - g->first_arrival_us < BURST_MAX_US;
}

static group_t new_group(int64_t send_us, int64_t arrival_us)
{
    return (group_t){send_us, send_us, arrival_us, arrival_us, true};
}

/* Inter-arrival: a packet into the current group, or closing it against the previous one
 * and handing the delay variation between the two to the trendline. */
static void inter_arrival(bwe_t *b, int64_t send_us, int64_t arrival_us)
{
    group_t *g = &b->cur;
    if (!g->used) {
        *g = new_group(send_us, arrival_us);
        return;
    }
    if (send_us < g->first_send_us) return; /* sent before this group: reordered report */
    if (belongs_to_burst(g, send_us, arrival_us) || send_us - g->first_send_us <= GROUP_US) {
        if (send_us > g->send_us) g->send_us = send_us;
        g->arrival_us = arrival_us;
        return;
    }
    if (b->prev.used) {
        int64_t send_delta = g->send_us - b->prev.send_us;
        int64_t recv_delta = g->arrival_us - b->prev.arrival_us;
        if (recv_delta < 0) { /* reordered arrivals: start over */
            b->prev.used = false;
            *g = new_group(send_us, arrival_us);
            return;
        }
        trendline(b, (double)recv_delta / 1000.0, (double)send_delta / 1000.0, arrival_us);
    }
    b->prev = *g;
    *g = new_group(send_us, arrival_us);
}

/* ---- delay-based: AIMD rate control ---- */

static void link_capacity_overuse(bwe_t *b, double acked_bps)
{
    double sample = acked_bps / 1000.0;
    b->lc_kbps = b->lc_valid ? 0.95 * b->lc_kbps + 0.05 * sample : sample;
    b->lc_valid = true;
    double norm = b->lc_kbps > 1 ? b->lc_kbps : 1, err = b->lc_kbps - sample;
    b->lc_dev = clampd(0.95 * b->lc_dev + 0.05 * err * err / norm, 0.4, 2.5);
}

static double link_capacity_spread_bps(const bwe_t *b)
{
    return 3 * sqrt_pos(b->lc_dev * b->lc_kbps) * 1000.0;
}

/* About one packet per response time: the additive increase near the last congestion. */
static double additive_increase(double bps, double dt_s)
{
    double bits_per_frame = bps / 30.0;
    uint64_t packets = ((uint64_t)bits_per_frame + 1200 * 8 - 1) / (1200 * 8); /* 30 fps */
    if (packets == 0) packets = 1;
    double rate = bits_per_frame / (double)packets / RESPONSE_TIME_S;
    if (rate < 4000) rate = 4000;
    return rate * dt_s;
}

static void aimd(bwe_t *b, int64_t now_us)
{
    double acked = b->acked_bps, bps = b->delay_bps;
    switch (b->usage) {
    case BWE_NORMAL:
        if (b->rc_state == RC_HOLD) b->rc_state = RC_INCREASE;
        break;
    case BWE_OVERUSING:
        /* Cut once per (assumed) RTT, or at once when far above what gets through. */
        if (b->have_decrease && now_us - b->last_decrease_us < DECREASE_GAP_US &&
            !(acked > 0 && acked < bps / 2))
            return;
        b->rc_state = RC_DECREASE;
        break;
    case BWE_UNDERUSING:
        b->rc_state = RC_HOLD;
        break;
    }
    double dt_s = b->have_change ? clampd((double)(now_us - b->last_change_us) / 1e6, 0, 1) : 0;
    if (b->rc_state == RC_INCREASE) {
        if (b->lc_valid && acked > b->lc_kbps * 1000.0 + link_capacity_spread_bps(b))
            b->lc_valid = false; /* the link got faster: back to multiplicative */
        double inc = b->lc_valid ? additive_increase(bps, dt_s) : bps * 0.08 * dt_s;
        if (!b->lc_valid && inc < 1000 * dt_s) inc = 1000 * dt_s;
        double next = bps + inc;
        /* More got through than the estimate without queues growing: the server sent
         * padding to find out (a probe), and the link carries at least that. */
        if (acked > next) next = acked;
        /* Never far above what the subscriber shows it receives. */
        if (acked > 0 && next > 1.5 * acked + 10000)
            next = bps > 1.5 * acked + 10000 ? bps : 1.5 * acked + 10000;
        bps = next;
    } else if (b->rc_state == RC_DECREASE) {
        /* What gets through now: the smoothed rate lags a link that just got slower by
         * a second or more (it halves the gap every 250 ms); cutting to it would leave
         * the queue growing meanwhile, and growing back to it would refill it. */
        if (b->acked_sample_bps > 0 && b->acked_sample_bps < acked)
            acked = b->acked_bps = b->acked_sample_bps;
        double cut = acked > 0 ? BETA * acked : bps / 2;
        if (acked > 0 && cut > bps && b->lc_valid) cut = BETA * b->lc_kbps * 1000.0;
        if (cut < bps) {
            if (acked > 0) {
                if (b->lc_valid && acked < b->lc_kbps * 1000.0 - link_capacity_spread_bps(b))
                    b->lc_valid = false;
                link_capacity_overuse(b, acked);
            }
            bps = cut;
        }
        b->have_decrease = true;
        b->last_decrease_us = now_us;
        b->rc_state = RC_HOLD;
    }
    b->delay_bps = clampd(bps, b->min_bps, b->max_bps);
    b->have_change = true;
    b->last_change_us = now_us;
}

/* ---- loss-based, and the combination ---- */

static void combine(bwe_t *b)
{
    /* The loss-based rate grows from the current estimate, not past it. */
    if (b->twcc_seen) {
        if (b->loss_bps > b->delay_bps) b->loss_bps = b->delay_bps;
        /* With little loss, a rate the subscriber showed it receives (a probe's result
         * among others) is no reason for the loss rule to stay under it. */
        double shown = b->acked_bps < b->delay_bps ? b->acked_bps : b->delay_bps;
        if (b->last_loss < 0.02 && b->loss_bps < shown) b->loss_bps = shown;
    }
    b->estimate = (uint32_t)clampd(b->loss_bps, b->min_bps, b->max_bps);
}

static void loss_rule(bwe_t *b, double loss, int64_t now_us)
{
    b->last_loss = loss;
    if (loss < 0.02) {
        double dt_s =
            b->have_loss_update ? clampd((double)(now_us - b->loss_update_us) / 1e6, 0, 1) : 0;
        b->loss_bps *= 1 + 0.08 * dt_s;
    } else if (loss > 0.10) {
        if (!b->have_loss_decrease || now_us - b->loss_decrease_us >= LOSS_DECREASE_GAP) {
            b->loss_bps = (double)b->estimate * (1 - 0.5 * loss);
            b->have_loss_decrease = true;
            b->loss_decrease_us = now_us;
        }
    }
    b->loss_bps = clampd(b->loss_bps, b->min_bps, b->max_bps);
    b->have_loss_update = true;
    b->loss_update_us = now_us;
}

static void acked_add(bwe_t *b, int64_t arrival_us, unsigned size)
{
    if (!b->win_started) {
        b->win_started = true;
        b->win_start_us = arrival_us;
        b->win_bytes = size;
        return;
    }
    int64_t span = arrival_us - b->win_start_us;
    if (span < ACKED_WINDOW_US) {
        b->win_bytes += size;
        return;
    }
    double sample = (double)b->win_bytes * 8e6 / (double)span;
    b->acked_sample_bps = sample;
    b->acked_bps = b->acked_bps > 0 ? 0.5 * b->acked_bps + 0.5 * sample : sample;
    b->win_start_us = arrival_us;
    b->win_bytes = size;
}

/* The sent-ring slot of a reported sequence number, or NULL when not ours or too old. */
static sent_t *lookup(bwe_t *b, uint64_t ext)
{
    if (!b->have_sent || ext > b->last_ext || b->last_ext - ext >= BWE_RING_SIZE) return NULL;
    sent_t *s = &b->ring[ext % BWE_RING_SIZE];
    return s->used && s->ext == (uint32_t)ext ? s : NULL;
}

int bwe_on_feedback(bwe_t *b, const uint8_t *fci, size_t len, int64_t now_us)
{
    bwe_fci_t f;
    int rc = bwe_fci_init(&f, fci, len);
    if (rc < 0) return rc;
    /* The reference time is the receiver's clock in 64 ms steps, 24 bits: unwrap it. */
    if (!b->have_ref) {
        b->have_ref = true;
        b->ref_unwrapped = f.reference_time;
    } else {
        b->ref_unwrapped += sign24((uint32_t)(f.reference_time - b->last_ref));
    }
    b->last_ref = f.reference_time;
    int64_t offset_us = (b->ref_unwrapped - f.reference_time) * REF_US;

    uint64_t ext = b->have_sent ? rtp_seq_extend(b->last_ext, f.base_seq) : f.base_seq;
    bwe_fci_pkt_t pkt;
    int matched = 0;
    uint32_t lost = 0, expected = 0, received = 0;
    while (bwe_fci_next(&f, &pkt) == 1) {
        sent_t *s = lookup(b, ext++);
        if (!s || s->acked) continue;
        matched++;
        /* The loss rule judges the rate it set: packets sent before its last decrease
         * were lost to the queue that decrease answered, and count no more (else one
         * congestion episode cuts again and again while its losses are reported). */
        bool fresh = !b->have_loss_decrease || s->send_us >= b->loss_decrease_us;
        expected += fresh;
        if (!pkt.received) {
            lost += fresh;
            continue;
        }
        received++;
        s->acked = 1;
        int64_t arrival = pkt.arrival_us + offset_us;
        acked_add(b, arrival, s->size);
        inter_arrival(b, s->send_us, arrival);
    }
    if (!matched) return 0;
    b->twcc_seen = true;
    if (received) aimd(b, now_us);
    b->loss_expected += expected;
    b->loss_lost += lost;
    if (b->loss_expected >= LOSS_MIN_PACKETS) {
        loss_rule(b, (double)b->loss_lost / b->loss_expected, now_us);
        b->loss_expected = b->loss_lost = 0;
    }
    combine(b);
    return matched;
}

void bwe_on_receiver_report(bwe_t *b, uint8_t fraction_lost, int64_t now_us)
{
    loss_rule(b, fraction_lost / 256.0, now_us);
    combine(b);
}

uint32_t bwe_estimate(const bwe_t *b)
{
    return b->estimate;
}

int64_t bwe_congested_at(const bwe_t *b)
{
    int64_t at = b->have_decrease ? b->last_decrease_us : INT64_MIN;
    if (b->have_loss_decrease && b->loss_decrease_us > at) at = b->loss_decrease_us;
    return at;
}

uint32_t bwe_acked_bps(const bwe_t *b)
{
    return (uint32_t)clampd(b->acked_bps, 0, UINT32_MAX);
}

bwe_usage_t bwe_state(const bwe_t *b)
{
    return b->usage;
}

const char *bwe_usage_name(bwe_usage_t u)
{
    switch (u) {
    case BWE_NORMAL:
        return "normal";
    case BWE_OVERUSING:
        return "overusing";
    case BWE_UNDERUSING:
        return "underusing";
    }
    return "unknown";
}

const char *bwe_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case BWE_ERR_TRUNCATED:
        return "transport-cc feedback truncated";
    case BWE_ERR_SYMBOL:
        return "transport-cc feedback: reserved status symbol";
    case BWE_ERR_EMPTY:
        return "transport-cc feedback: packet status count 0";
    case BWE_ERR_TRAILING:
        return "transport-cc feedback: bytes after the receive deltas";
    case BWE_ERR_INVAL:
        return "invalid bandwidth estimator parameters";
    }
    return "unknown error";
}
