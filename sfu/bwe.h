/* bwe: one subscriber's downlink estimate from transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01), after Chrome's GCC, simplified.
 *
 * The server numbers every packet it sends to the subscriber with a transport-wide
 * sequence number (rtp_ext_set_transport_seq) and tells bwe_on_sent; the subscriber's
 * transport-cc feedback (the FCI of an RTPFB FMT 15 message, rtcp_parse_fb) goes to
 * bwe_on_feedback. Two controllers run on it:
 *   - delay-based: packets sent within 5 ms form a group; the growth of the one-way delay
 *     variation between groups is smoothed and its slope fitted over 20 groups
 *     (trendline); an adaptive threshold classifies the slope as overuse, underuse or
 *     normal; an AIMD controller then grows the rate (8 %/s far from the last congested
 *     rate, about a packet per response time near it), jumps to the acknowledged rate
 *     when more got through than the estimate (the result of a probe: padding the
 *     server sent to find out, see downlink.h), or cuts it to 0.85 x the acknowledged
 *     rate on overuse;
 *   - loss-based: over at least 20 reported packets, under 2 % loss lets the rate grow
 *     (8 %/s), 2-10 % holds it, over 10 % multiplies it by (1 - loss / 2); after such a
 *     decrease only packets sent after it count (those queued before it are lost to the
 *     congestion it answered: counting them would cut again and again).
 * The estimate is the smaller of the two, clamped to [min_bps, max_bps]. A client without
 * transport-cc feeds the loss-based rule from its receiver reports (bwe_on_receiver_report)
 * and then the estimate is that rule alone.
 *
 * Sans-I/O: time is a parameter (microseconds of the caller's monotonic clock); nothing
 * here reads a clock or touches a socket. bwe_new allocates the sent-packet ring (4096
 * entries, 64 KiB); nothing else allocates.
 *
 * Thread: a bwe_t belongs to the worker that owns the subscriber's transport and only that
 * thread may call the functions taking one. bwe_fci_* and bwe_strerror are reentrant.
 *
 * Error convention: 0 (or a count) on success, a negative BWE_ERR_* on failure. */
#ifndef SOBRE_BWE_H
#define SOBRE_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BWE_RING_SIZE 4096 /* sent packets remembered; older ones are not matched */

enum {
    BWE_ERR_TRUNCATED = -1, /* the header, a packet chunk or a receive delta runs past len */
    BWE_ERR_SYMBOL = -2,    /* a status symbol 3 (reserved) for a reported packet */
    BWE_ERR_EMPTY = -3,     /* packet status count 0 */
    BWE_ERR_TRAILING = -4,  /* more than 3 bytes (zero padding) after the last delta */
    BWE_ERR_INVAL = -5,     /* bwe_new: bad parameters */
};

/* ---- transport-cc FCI decoder -------------------------------------------------------- */

/* One reported packet, in sequence order. */
typedef struct bwe_fci_pkt {
    uint16_t seq;
    bool received;
    /* Received only: receive time in microseconds of the feedback sender's clock, that is
     * reference_time x 64 ms plus the receive deltas so far (250 us units). */
    int64_t arrival_us;
} bwe_fci_pkt_t;

/* Decoder of one FCI: the header fields, and the iteration state (private: use
 * bwe_fci_next). Caller-owned; borrows the FCI bytes. */
typedef struct bwe_fci {
    uint16_t base_seq;
    uint16_t status_count;  /* packets reported, >= 1 */
    int32_t reference_time; /* 24-bit signed, multiples of 64 ms */
    uint8_t fb_count;       /* feedback packet count, wraps */
    size_t n_received;      /* packets reported received */
    /* private */
    const uint8_t *p;
    size_t chunk_off, delta_off;
    uint32_t index, chunk_left;
    uint16_t chunk;
    int64_t arrival_us;
} bwe_fci_t;

/* Decodes and validates the whole FCI fci[0..len) (no read outside it): 0 and fills *f,
 * or BWE_ERR_TRUNCATED / _SYMBOL / _EMPTY / _TRAILING. Up to 3 bytes of zero padding may
 * follow the last receive delta. */
int bwe_fci_init(bwe_fci_t *f, const uint8_t *fci, size_t len);

/* Next reported packet of an FCI that bwe_fci_init accepted: 1 and fills *out, or 0 after
 * the status_count-th. */
int bwe_fci_next(bwe_fci_t *f, bwe_fci_pkt_t *out);

/* ---- estimator ----------------------------------------------------------------------- */

typedef struct bwe bwe_t;

typedef struct bwe_params {
    uint32_t min_bps;   /* e.g. 30000; > 0 */
    uint32_t max_bps;   /* e.g. 10000000; >= min_bps */
    uint32_t start_bps; /* e.g. 300000; clamped to [min_bps, max_bps] */
} bwe_params_t;

/* The delay-based detector's last verdict (overusing: queues are growing). */
typedef enum bwe_usage {
    BWE_NORMAL = 0,
    BWE_OVERUSING,
    BWE_UNDERUSING,
} bwe_usage_t;

/* A new estimator at p->start_bps, or NULL when p is out of range (min_bps 0, max_bps
 * under min_bps). Aborts on memory exhaustion (xmalloc). Free with bwe_free. Control
 * plane only (it allocates). */
bwe_t *bwe_new(const bwe_params_t *p);
/* Frees b; bwe_free(NULL) does nothing. */
void bwe_free(bwe_t *b);

/* Records a packet of size_bytes (the whole UDP payload, SRTP included) sent to the
 * subscriber at now_us with transport-wide sequence number twcc_seq (16-bit on the wire,
 * extended here; numbers must be handed out in sending order). */
void bwe_on_sent(bwe_t *b, uint16_t twcc_seq, size_t size_bytes, int64_t now_us);

/* Takes one transport-cc feedback FCI (rtcp_fb_t.fci, fci_len) received at now_us.
 * Returns the number of reported packets matched to sent ones (>= 0), or the negative
 * bwe_fci_init error, in which case b is unchanged. Packets not in the sent ring (never
 * sent, or more than BWE_RING_SIZE ago) and packets already reported received are
 * ignored; a packet reported lost again counts as lost again. */
int bwe_on_feedback(bwe_t *b, const uint8_t *fci, size_t len, int64_t now_us);

/* Loss from an RTCP receiver report block about the subscriber's stream (fraction_lost
 * in 1/256) at now_us, for clients without transport-cc: feeds the loss-based rule. */
void bwe_on_receiver_report(bwe_t *b, uint8_t fraction_lost, int64_t now_us);

/* The downlink estimate in bits per second, in [min_bps, max_bps]. */
uint32_t bwe_estimate(const bwe_t *b);
/* The rate the subscriber acknowledged receiving (transport-cc only), bits per second
 * over windows of at least 250 ms of receive time; 0 until known. */
uint32_t bwe_acked_bps(const bwe_t *b);
/* When the link last showed congestion: the latest overuse the delay-based controller
 * answered or loss-based decrease, in the caller's microseconds (INT64_MIN: never). */
int64_t bwe_congested_at(const bwe_t *b);
/* The delay-based detector's last verdict, for logs. */
bwe_usage_t bwe_state(const bwe_t *b);
/* "normal", "overusing" or "underusing". */
const char *bwe_usage_name(bwe_usage_t u);

/* A static English name for a BWE_ERR_* code. */
const char *bwe_strerror(int err);

#endif
