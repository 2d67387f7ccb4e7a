/* footprint: what a meeting costs the server, live: bytes relayed, CPU time and an
 * energy estimate (README "The footprint of a meeting"). Plain data and arithmetic: the
 * worker measures (WORKER_EV_USAGE), the room holds one footprint_t, the server adds
 * to it and shows it. Thread: signalling only. */
#ifndef SOBRE_FOOTPRINT_H
#define SOBRE_FOOTPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "worker.h"

/* The host's power model: idle power (the share charged to meetings) plus this much per
 * core kept busy. */
typedef struct footprint_model {
    double idle_watts, watts_per_core;
} footprint_model_t;

typedef struct footprint {
    uint64_t bytes_in;  /* UDP payload bytes received from the room's participants */
    uint64_t bytes_out; /* ... and sent to them: "relayed" */
    uint64_t cpu_ns;    /* the media workers' CPU time spent on it */
    double idle_joules; /* its share of the host's idle power so far */
    long long opened_ms;
    /* bitrates over the latest footprint_tick period */
    uint64_t tick_in, tick_out;
    long long tick_ms;
    uint32_t kbps_in, kbps_out;
} footprint_t;

/* A fresh footprint for a room opened at now_ms (monotonic). */
void footprint_start(footprint_t *f, long long now_ms);

/* Adds a transport's usage report. */
void footprint_add(footprint_t *f, const worker_usage_t *u);

/* Call about once a second: charges idle_watts_share (the idle power divided between the
 * rooms open now) for the time since the previous call, and updates the bitrates. */
void footprint_tick(footprint_t *f, long long now_ms, double idle_watts_share);

double footprint_cpu_seconds(const footprint_t *f);

/* Energy so far: idle share plus CPU seconds x watts per busy core, in joules. */
double footprint_joules(const footprint_t *f, const footprint_model_t *m);

/* One line for the log, e.g. "42 min, 84.1 MB relayed, 12.5 CPU s, 0.21 Wh". */
void footprint_describe(const footprint_t *f, const footprint_model_t *m, long long now_ms,
                        char *out, size_t len);

#endif
