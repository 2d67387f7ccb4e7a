/* worker: one media worker thread (DESIGN.md "The process"): its own epoll loop and UDP
 * socket (port media.port + index). The signalling thread talks to it only through
 * worker_post (commands) and worker_next_event (events); nothing else crosses threads. */
#ifndef SOBRE_WORKER_H
#define SOBRE_WORKER_H

#include <stddef.h>
#include <stdint.h>

typedef struct worker worker_t;

typedef enum {
    WORKER_CMD_PING, /* answered by WORKER_EV_PONG with the same cookie */
} worker_cmd_kind_t;

typedef struct worker_cmd {
    worker_cmd_kind_t kind;
    uint64_t cookie;
} worker_cmd_t;

typedef enum {
    WORKER_EV_PONG,
} worker_event_kind_t;

typedef struct worker_event {
    worker_event_kind_t kind;
    int worker; /* index of the worker that sent it */
    uint64_t cookie;
} worker_event_t;

/* Called on the worker thread after it queued an event: it must only wake the signalling
 * loop (e.g. lws_cancel_service), never call back into the worker. */
typedef void (*worker_notify_cb)(void *arg);

typedef struct worker_stats {
    uint64_t datagrams_in;
    uint64_t dropped_unknown;   /* first byte matches no protocol (RFC 7983) */
    uint64_t dropped_unhandled; /* valid kind, but no transport handles it yet */
} worker_stats_t;

/* Binds UDP `port` on every interface (IPv6 dual-stack, else IPv4) and starts the thread.
 * Returns 0 and sets *out, or -1 with a message in err (e.g. the port is in use).
 * Thread: signalling. */
int worker_start(int index, int port, worker_notify_cb notify, void *notify_arg, worker_t **out,
                 char *err, size_t errlen);

/* Queues a command and wakes the worker. Returns 0, or -1 if its queue is full.
 * Thread: signalling. */
int worker_post(worker_t *w, const worker_cmd_t *cmd);

/* Takes the oldest pending event: 1 when one was written into *ev, 0 when none.
 * Thread: signalling. */
int worker_next_event(worker_t *w, worker_event_t *ev);

/* A snapshot of the counters (read without locking: values may lag). */
void worker_get_stats(const worker_t *w, worker_stats_t *out);

/* Stops the thread, joins it and frees everything. worker_stop(NULL) is a no-op.
 * Thread: signalling. */
void worker_stop(worker_t *w);

#endif
