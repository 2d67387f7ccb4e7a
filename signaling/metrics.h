/* metrics: what the operator reads at /metrics (the Prometheus text exposition format,
 * version 0.0.4) and /status (JSON): rooms, participants, streams, packets and bytes by
 * kind, drops by reason, NACKs, retransmissions, keyframe requests, a histogram of the
 * downlink estimates, paused video, each worker's CPU time, the process's CPU time and
 * memory, and each room's footprint. The counters live in the workers (worker_get_stats,
 * read without locks); this module keeps what the signalling side observes (estimates,
 * server-wide footprint totals) and renders. Thread: signalling only. */
#ifndef SOBRE_METRICS_H
#define SOBRE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "footprint.h"
#include "media.h"
#include "room.h"
#include "session.h"

typedef struct metrics metrics_t;

/* Aborts on allocation failure. */
metrics_t *metrics_new(void);
void metrics_free(metrics_t *m); /* metrics_free(NULL) is a no-op */

/* A subscriber's new downlink estimate (WORKER_EV_ESTIMATE). */
void metrics_observe_estimate(metrics_t *m, uint32_t bps);

/* A transport's usage report (WORKER_EV_USAGE), whether or not its room is known. */
void metrics_add_usage(metrics_t *m, const worker_usage_t *u);

/* A room closed: its share of idle power stays in the server-wide energy total. */
void metrics_room_closed(metrics_t *m, const footprint_t *f);

/* What the renderers read; all borrowed. */
typedef struct metrics_sources {
    const config_t *cfg;
    const hub_t *hub;
    const media_t *media;
    long long now_ms; /* monotonic */
} metrics_sources_t;

/* The /metrics body: heap text (free() it), *len its length. */
char *metrics_render(const metrics_t *m, const metrics_sources_t *src, size_t *len);

/* The /status body (JSON, heap text): rooms with participant counts, bitrates,
 * estimates and footprint, workers. Participants' names only when `names`. */
char *metrics_status_json(const metrics_t *m, const metrics_sources_t *src, bool names);

#endif
