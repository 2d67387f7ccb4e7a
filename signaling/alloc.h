/* alloc: the bandwidth allocator (DESIGN.md "Bandwidth"), pure arithmetic on tables.
 *
 * Per subscriber (alloc_run): every audio stream first, whatever it costs; then the
 * wanted video streams in priority order (the latest speakers first), each at its lowest
 * layer while that fits; then, again in priority order, each raised to the highest layer
 * that still fits. A video that does not fit at its lowest layer is paused.
 *
 * Server-wide (alloc_fit_uplink): while the sum over every subscriber exceeds the host's
 * egress budget, the subscriber using the most for video gives up a step (its least
 * important stream drops a layer, or pauses from its lowest); audio is never touched.
 *
 * No allocation, no state: the caller owns every table. Thread: any. */
#ifndef SOBRE_ALLOC_H
#define SOBRE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALLOC_MAX_LAYERS 9 /* 3 spatial x 3 temporal */
#define ALLOC_PAUSED     (-1)

typedef struct alloc_layer {
    uint8_t spatial, temporal;
    uint32_t bps; /* what forwarding this layer costs, overhead included */
} alloc_layer_t;

typedef struct alloc_stream {
    uint32_t track;
    bool video;
    bool wanted;     /* video: the subscriber wants it (prefs, last_n); audio: ignored */
    uint32_t bps;    /* audio: its cost */
    size_t n_layers; /* video: 1..ALLOC_MAX_LAYERS */
    alloc_layer_t layers[ALLOC_MAX_LAYERS]; /* by cost, lowest first */
    int layer;                              /* out, video: index into layers, or ALLOC_PAUSED */
} alloc_stream_t;

/* One subscriber's streams, in priority order (most important first), and its budget. */
typedef struct alloc_sub {
    alloc_stream_t *streams;
    size_t n;
    uint32_t budget_bps; /* its downlink estimate (or its own cap, if lower) */
    /* out */
    uint64_t used_bps;   /* audio and video as allocated */
    uint64_t wanted_bps; /* audio and every wanted video at its top layer */
} alloc_sub_t;

/* Chooses a layer for each video stream of s within s->budget_bps; fills used_bps and
 * wanted_bps. Streams with n_layers 0 are paused. */
void alloc_run(alloc_sub_t *s);

/* Lowers allocations (see above) until the sum of used_bps over subs[0..n) is at most
 * budget_bps, or only audio is left. Returns the sum. */
uint64_t alloc_fit_uplink(alloc_sub_t *subs, size_t n, uint64_t budget_bps);

/* Whether every wanted video of s got its top layer ("full"), some got less or nothing
 * ("reduced"), or none is shown while some is wanted ("paused"); "full" when none is
 * wanted. */
const char *alloc_verdict(const alloc_sub_t *s);

#endif
