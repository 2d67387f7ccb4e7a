#include "downlink.h"

#include <stdlib.h>

#include "mem.h"
#include "rtp.h"

#define PROBE_US         500000  /* one burst */
#define PROBE_GAP_MIN_US 500000  /* after a burst that raised the estimate */
#define PROBE_GAP_MAX_US 8000000 /* after bursts that did not, doubling up to this */
#define PROBE_QUIET_US   2000000 /* no burst this soon after the link showed congestion */
#define PROBE_GENTLE_US                                                                            \
    10000000             /* this soon after it, bursts go to 1.5 x, not 2 x, for half as long */
#define SRTP_OVERHEAD 10 /* the auth tag of SRTP_AES128_CM_SHA1_80 */

struct downlink {
    bwe_t *bwe;
    uint8_t twcc_ext;
    uint16_t twcc_seq;
    downlink_source_t source;
    uint32_t remb_bps;
    bool rr_seen;
    uint32_t wanted_bps;
    /* probing */
    bool probing;
    int64_t probe_start_us, next_probe_us, probe_gap_us, probe_us;
    uint32_t probe_bps, probe_from_bps;
    uint64_t probe_sent; /* bytes sent since the burst started, padding and media */
};

downlink_t *downlink_new(void)
{
    downlink_t *d = xcalloc(1, sizeof *d);
    bwe_params_t p = {DOWNLINK_MIN_BPS, DOWNLINK_MAX_BPS, DOWNLINK_START_BPS};
    d->bwe = bwe_new(&p);
    if (!d->bwe) abort(); /* constant parameters */
    d->probe_gap_us = PROBE_GAP_MIN_US;
    return d;
}

void downlink_free(downlink_t *d)
{
    if (!d) return;
    bwe_free(d->bwe);
    free(d);
}

void downlink_set_twcc_ext(downlink_t *d, uint8_t id)
{
    d->twcc_ext = id;
}

size_t downlink_stamp(downlink_t *d, uint8_t *pkt, size_t len, size_t cap, int64_t now_us)
{
    if (d->probing) d->probe_sent += len + SRTP_OVERHEAD;
    if (!d->twcc_ext) return len;
    rtp_header_t h;
    uint8_t seq[2] = {(uint8_t)(d->twcc_seq >> 8), (uint8_t)d->twcc_seq};
    int n;
    if (rtp_parse(pkt, len, &h) != 0 ||
        (n = rtp_ext_add(pkt, len, cap, &h, d->twcc_ext, seq, 2)) < 0)
        return len;
    bwe_on_sent(d->bwe, d->twcc_seq++, (size_t)n + SRTP_OVERHEAD, now_us);
    if (d->probing) d->probe_sent += (size_t)n - len;
    return (size_t)n;
}

void downlink_on_twcc(downlink_t *d, const uint8_t *fci, size_t len, int64_t now_us)
{
    if (bwe_on_feedback(d->bwe, fci, len, now_us) > 0) d->source = DOWNLINK_TWCC;
}

void downlink_on_remb(downlink_t *d, uint32_t bps)
{
    if (d->source == DOWNLINK_TWCC) return; /* the better source wins */
    d->remb_bps = bps < DOWNLINK_MIN_BPS ? DOWNLINK_MIN_BPS : bps;
    d->source = DOWNLINK_REMB;
}

void downlink_on_loss(downlink_t *d, uint8_t fraction_lost, int64_t now_us)
{
    if (d->source == DOWNLINK_TWCC) return; /* its feedback says more about losses */
    bwe_on_receiver_report(d->bwe, fraction_lost, now_us);
    d->rr_seen = true;
    if (d->source == DOWNLINK_NONE) d->source = DOWNLINK_LOSS;
}

uint32_t downlink_estimate(const downlink_t *d)
{
    switch (d->source) {
    case DOWNLINK_TWCC:
    case DOWNLINK_LOSS:
        return bwe_estimate(d->bwe);
    case DOWNLINK_REMB: {
        /* A receiver-side estimator only grows with what it receives (aiortc's stays
         * near it): with little loss reported, the loss rule's rate is the floor. */
        uint32_t loss = d->rr_seen ? bwe_estimate(d->bwe) : 0;
        return loss > d->remb_bps ? loss : d->remb_bps;
    }
    case DOWNLINK_NONE:
        break;
    }
    return DOWNLINK_START_BPS;
}

downlink_source_t downlink_source(const downlink_t *d)
{
    return d->source;
}

const char *downlink_source_name(downlink_source_t s)
{
    switch (s) {
    case DOWNLINK_TWCC:
        return "transport-cc";
    case DOWNLINK_REMB:
        return "remb";
    case DOWNLINK_LOSS:
        return "loss";
    case DOWNLINK_NONE:
        break;
    }
    return "none";
}

void downlink_set_wanted(downlink_t *d, uint32_t bps)
{
    d->wanted_bps = bps;
}

size_t downlink_padding_due(downlink_t *d, int64_t now_us)
{
    uint32_t est = downlink_estimate(d);
    if (d->probing) {
        int64_t elapsed = now_us - d->probe_start_us;
        /* A burst that filled the link's queue (an overuse, or losses) has its answer:
         * going on would only lose more, audio included. */
        bool full = bwe_congested_at(d->bwe) > d->probe_start_us;
        if (elapsed < d->probe_us && !full) {
            uint64_t owed = (uint64_t)d->probe_bps * (uint64_t)elapsed / 8000000u;
            return owed > d->probe_sent ? (size_t)(owed - d->probe_sent) : 0;
        }
        d->probing = false;
        /* The estimate follows feedback about a round trip later: judged at the next. */
        d->next_probe_us = now_us + d->probe_gap_us;
        return 0;
    }
    if (d->source != DOWNLINK_TWCC && d->source != DOWNLINK_REMB) return 0;
    if (d->wanted_bps <= est || now_us < d->next_probe_us) return 0;
    /* A link that is losing packets or queueing them is full: probing it would only lose
     * more (audio too); the estimate recovers from the congestion first. */
    int64_t congested = bwe_congested_at(d->bwe);
    if (congested != INT64_MIN && now_us - congested < PROBE_QUIET_US) return 0;
    /* The previous burst's verdict: did the estimate grow since it started? */
    if (d->probe_from_bps) {
        bool grew = est >= d->probe_from_bps + (d->probe_bps - d->probe_from_bps) / 2;
        d->probe_gap_us = grew ? PROBE_GAP_MIN_US : d->probe_gap_us * 2;
        if (d->probe_gap_us > PROBE_GAP_MAX_US) d->probe_gap_us = PROBE_GAP_MAX_US;
    }
    /* Twice what the link is known to carry (three times at first, as browsers start):
     * the estimate, or what the subscriber showed it receives when that is more (audio
     * is sent whatever the estimate). */
    uint64_t base = bwe_acked_bps(d->bwe) > est ? bwe_acked_bps(d->bwe) : est;
    /* Near a rate where the link lately filled up, half as far past it: the overshoot
     * of a burst has to fit in the bottleneck's queue or it is lost. */
    bool gentle = congested != INT64_MIN && now_us - congested < PROBE_GENTLE_US;
    if (gentle)
        base = base * 3 / 2;
    else
        base *= d->probe_from_bps ? 2 : 3;
    d->probe_us = gentle ? PROBE_US / 2 : PROBE_US;
    /* Past the wish by half: what a burst shows is diluted by the time around it. */
    uint64_t want = (uint64_t)d->wanted_bps * 3 / 2;
    d->probing = true;
    d->probe_start_us = now_us;
    d->probe_from_bps = est;
    d->probe_bps = (uint32_t)(want < base ? want : base);
    d->probe_sent = 0;
    return 0;
}

bool downlink_probing(const downlink_t *d)
{
    return d->probing;
}
