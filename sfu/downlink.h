/* downlink: what one subscriber's link can carry (DESIGN.md "Bandwidth"), and how to find
 * out when it carries more than the server sends.
 *
 * The estimate comes from the best source the subscriber gives:
 *   1. transport-wide congestion control: every RTP packet sent to the subscriber gets a
 *      transport-wide sequence number (downlink_stamp adds the header extension, id as the
 *      subscriber negotiated it) and its feedback goes to bwe (downlink_on_twcc);
 *   2. else its REMB (a client that negotiated goog-remb and abs-send-time only), with
 *      the loss its receiver reports as a floor: a receiver-side estimator grows only
 *      with what it receives, and would keep a paused video paused;
 *   3. else the loss in its receiver reports (bwe's loss rule alone).
 *
 * Probing: an estimate can only grow on traffic that was actually sent, so a subscriber
 * whose video was paused for a weak link would never get it back. When the allocator
 * wants more than the estimate (downlink_set_wanted), the downlink asks for short bursts
 * of padding (downlink_padding_due) up to twice the estimate (three times the first
 * time), 500 ms at a time; a burst that raised the estimate is followed by another half
 * a second later, one that did not by one after a longer pause (doubling up to 8 s), so
 * that a link that really is weak pays for few probes. A link that showed congestion
 * (bwe_congested_at: an overuse or a loss-based decrease) is not probed for 2 s after,
 * then for 10 s only to 1.5 times and for 250 ms (the overshoot must fit in the
 * bottleneck's queue, or audio is lost with the padding), and a burst ends as soon as it
 * causes congestion.
 *
 * Sans-I/O: times are microseconds of the caller's monotonic clock. downlink_new
 * allocates (control plane); nothing else does. Thread: the owning worker only. */
#ifndef SOBRE_DOWNLINK_H
#define SOBRE_DOWNLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bwe.h"

/* Before any feedback, and where the estimator starts: a modest home link. Lower, a late
 * joiner would wait seconds of probing for the videos of a small room; a weaker link
 * shows in the first second of feedback, and the estimate comes down. */
#define DOWNLINK_START_BPS 1500000u
#define DOWNLINK_MIN_BPS   30000u /* one Opus stream */
#define DOWNLINK_MAX_BPS   50000000u

typedef struct downlink downlink_t;

/* Where the estimate comes from. */
typedef enum downlink_source {
    DOWNLINK_NONE = 0, /* no feedback yet: DOWNLINK_START_BPS */
    DOWNLINK_TWCC,
    DOWNLINK_REMB,
    DOWNLINK_LOSS,
} downlink_source_t;

/* Aborts on memory exhaustion. Free with downlink_free (NULL: no-op). */
downlink_t *downlink_new(void);
void downlink_free(downlink_t *d);

/* The subscriber's id for the transport-wide sequence number extension (1..255), or 0
 * when it did not negotiate it (then downlink_stamp leaves packets alone). */
void downlink_set_twcc_ext(downlink_t *d, uint8_t id);

/* An RTP packet pkt[0..len) (plain, in a buffer of cap bytes) is about to be sent to the
 * subscriber: numbers it and records it as sent. Returns the packet's new length (len
 * when it is not numbered: no extension negotiated, or no room in cap). */
size_t downlink_stamp(downlink_t *d, uint8_t *pkt, size_t len, size_t cap, int64_t now_us);

/* Feedback from the subscriber: a transport-cc FCI, a REMB bitrate, or a receiver
 * report's fraction lost (1/256) about a stream the server sends it. */
void downlink_on_twcc(downlink_t *d, const uint8_t *fci, size_t len, int64_t now_us);
void downlink_on_remb(downlink_t *d, uint32_t bps);
void downlink_on_loss(downlink_t *d, uint8_t fraction_lost, int64_t now_us);

/* The current estimate in bits per second, and its source. */
uint32_t downlink_estimate(const downlink_t *d);
downlink_source_t downlink_source(const downlink_t *d);
/* "none", "transport-cc", "remb" or "loss", for logs. */
const char *downlink_source_name(downlink_source_t s);

/* What the subscriber's full allocation would use, bits per second (0: nothing more). */
void downlink_set_wanted(downlink_t *d, uint32_t bps);

/* Bytes of padding to send now (0 outside a probe burst). The caller sends padding-only
 * packets, each through downlink_stamp (which counts them in the burst), until the
 * amount is reached or it has no more room. Probing needs transport-cc feedback or REMB:
 * without either it never starts. */
size_t downlink_padding_due(downlink_t *d, int64_t now_us);

/* A probe burst is under way (since the last downlink_padding_due). */
bool downlink_probing(const downlink_t *d);

#endif
