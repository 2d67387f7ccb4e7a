/* uplink: transport-wide congestion control feedback to a publisher
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01). The publisher numbers every
 * packet it sends with a transport-wide sequence number; the server notes when each
 * arrived (uplink_on_packet) and, about every 100 ms, tells it which arrived and when
 * (uplink_feedback: one RTPFB FMT 15 packet). The publisher's browser then runs its own
 * send-side estimator, with probing: far quicker to climb back than on REMB alone (a
 * browser held low by REMB took 10 to 30 s to send its top simulcast layer again), and
 * REMB still caps it.
 *
 * Sans-I/O: times are microseconds of one clock (arrival times: the kernel's receive
 * time of each datagram, where the worker has it). uplink_new allocates; nothing else
 * does. Thread: the owning worker only. */
#ifndef SOBRE_UPLINK_H
#define SOBRE_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPLINK_RING         1024   /* arrivals remembered (feedback every 100 ms) */
#define UPLINK_INTERVAL_US  100000 /* between two feedback packets */
#define UPLINK_MAX_STATUS   512    /* packets reported by one feedback packet at most */
#define UPLINK_FEEDBACK_MAX (20 + 2 * ((UPLINK_MAX_STATUS + 6) / 7) + 2 * UPLINK_MAX_STATUS + 4)

typedef struct uplink uplink_t;

/* Aborts on memory exhaustion. Free with uplink_free (NULL: no-op). */
uplink_t *uplink_new(void);
void uplink_free(uplink_t *u);

/* The packet numbered seq arrived at arrival_us. Numbers far behind what was reported
 * (reordered after their feedback) are ignored. */
void uplink_on_packet(uplink_t *u, uint16_t seq, int64_t arrival_us);

/* Whether a feedback is due at now_us: something arrived since the last one, which was
 * UPLINK_INTERVAL_US ago or more. */
bool uplink_due(const uplink_t *u, int64_t now_us);

/* When a feedback is due (now_us at least UPLINK_INTERVAL_US after the last) and
 * something arrived since: writes one compound-ready RTCP transport-cc feedback packet
 * (sender_ssrc: the server's, media_ssrc: one of the publisher's) into out[0..cap),
 * cap >= UPLINK_FEEDBACK_MAX, and returns its length; else 0. */
size_t uplink_feedback(uplink_t *u, int64_t now_us, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint8_t *out, size_t cap);

#endif
