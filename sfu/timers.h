/* timers: a binary min-heap of deadlines for one worker's loop (STYLE.md rule 8).
 * Nodes are intrusive: the owner embeds a timers_node_t and gets it back when it fires,
 * so scheduling allocates nothing once the heap has grown to the number of timers in use.
 * Thread: the owning worker only. */
#ifndef SOBRE_TIMERS_H
#define SOBRE_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#define TIMERS_NEVER UINT64_MAX

typedef struct timers_node {
    uint64_t at; /* absolute deadline in ms; TIMERS_NEVER when not scheduled */
    size_t slot; /* position in the heap, maintained by this module */
} timers_node_t;

typedef struct timers {
    timers_node_t **heap;
    size_t len, cap;
} timers_t;

/* An empty heap (no allocation until the first schedule). */
void timers_init(timers_t *t);
/* Frees the heap's array; the nodes belong to their owners. */
void timers_release(timers_t *t);

/* Initialises a node as not scheduled. */
void timers_node_init(timers_node_t *n);

/* Schedules n at `at` (ms), or moves it there if it is already scheduled. */
void timers_schedule(timers_t *t, timers_node_t *n, uint64_t at);

/* Unschedules n; a no-op if it is not scheduled. */
void timers_cancel(timers_t *t, timers_node_t *n);

/* The earliest deadline, or TIMERS_NEVER when empty. */
uint64_t timers_next(const timers_t *t);

/* Removes and returns the earliest node if its deadline is <= now, else NULL. */
timers_node_t *timers_pop_due(timers_t *t, uint64_t now);

#endif
