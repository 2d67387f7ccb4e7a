/* worker: one media worker thread (DESIGN.md "The process"): its own epoll loop, UDP
 * socket (port media.port + index), timer heap and send batch, and the transports of the
 * participants of its rooms. The signalling thread talks to it only through worker_post
 * (commands) and worker_next_event (events); nothing else crosses threads. */
#ifndef SOBRE_WORKER_H
#define SOBRE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls.h"
#include "echo.h"
#include "router.h"
#include "transport.h"

typedef struct worker worker_t;

typedef enum {
    WORKER_CMD_PING,             /* answered by WORKER_EV_PONG with the same cookie */
    WORKER_CMD_ADD_TRANSPORT,    /* takes ownership of `add` */
    WORKER_CMD_REMOVE_TRANSPORT, /* closes transport `id` (no event follows) */
    WORKER_CMD_ADD_TRACK,        /* transport `id` publishes `track_spec` (owned; its publisher
                                    field is filled in by the worker) */
    WORKER_CMD_REMOVE_TRACK,     /* track `track` ended: its subscribers get a BYE */
    WORKER_CMD_SUBSCRIBE,        /* transport `id` receives `sub` (owned; subscriber filled in) */
    WORKER_CMD_UNSUBSCRIBE,      /* transport `id` stops receiving track `track` */
    WORKER_CMD_MUTE,             /* track `track` muted or not (`muted`) */
    WORKER_CMD_PAUSE,            /* transport `id` (a subscriber) pauses track `track` or not
                                    (`muted`) */
    WORKER_CMD_RESTART_ICE,      /* transport `add->id` takes add->params' ICE credentials */
    WORKER_CMD_WANT,             /* transport `id` (a subscriber) would use `bps` if its link
                                    allowed: the worker probes towards it (downlink.h) */
    WORKER_CMD_SET_LAYER,        /* transport `id` (a subscriber) should receive layer
                                    (`spatial`, `temporal`) of video track `track`: 0 the
                                    lowest; larger than exists: the highest (the default);
                                    see router_set_layer */
} worker_cmd_kind_t;

/* What a new transport needs: ICE credentials, the peer's certificate fingerprint, and
 * how its media are forwarded (for now: echoed back, or dropped). */
typedef struct worker_transport_spec {
    uint64_t id; /* chosen by the signalling side, unique per worker */
    transport_params_t params;
    int echo; /* non-zero: media come back to the sender under echo's SSRCs */
    echo_map_t echo_map;
} worker_transport_spec_t;

/* Heap-allocated payloads (add, track_spec, sub) belong to the worker once posted. */
typedef struct worker_cmd {
    worker_cmd_kind_t kind;
    uint64_t cookie;           /* PING */
    uint64_t id;               /* the transport concerned */
    uint32_t track;            /* REMOVE_TRACK, UNSUBSCRIBE, MUTE, PAUSE, SET_LAYER */
    bool muted;                /* MUTE */
    uint32_t bps;              /* WANT */
    uint8_t spatial, temporal; /* SET_LAYER */
    worker_transport_spec_t *add;
    router_track_t *track_spec;
    router_sub_t *sub;
} worker_cmd_t;

/* Frees a command's payload (for a caller whose worker_post failed). */
void worker_cmd_release(worker_cmd_t *cmd);

typedef enum {
    WORKER_EV_PONG,
    WORKER_EV_TRANSPORT_UP,     /* ICE and DTLS done: SRTP flows */
    WORKER_EV_TRANSPORT_CLOSED, /* consent expired, DTLS failed...: reason says; freed */
    WORKER_EV_SPEAKING,         /* audio track `track` started or stopped carrying speech */
    WORKER_EV_ESTIMATE,         /* transport `id`'s downlink estimate is now `bps` */
    WORKER_EV_LAYER_RATES,      /* video track `track`'s measured `rates` (kbps by spatial
                                   and cumulative temporal layer), at most once a second,
                                   when they moved by 10% or a layer started or stopped */
    WORKER_EV_USAGE,            /* what transport `id` cost since its previous USAGE */
} worker_event_kind_t;

/* A transport's share of the worker, reported each WORKER_USAGE_MS while it has traffic
 * (WORKER_USAGE_EVENTS transports at most each time, in turn: with more, each is reported
 * every few periods, its usage adding up meanwhile), and once more when it goes: UDP payload bytes
 * received from and sent to its peer, and the worker thread's CPU time of that period split between
 * the transports in proportion to the datagrams each received and sent (the per-packet work of
 * SRTP, copies and system calls dominates the cost of forwarding). */
#define WORKER_USAGE_MS     1000
#define WORKER_USAGE_EVENTS 32
typedef struct worker_usage {
    uint64_t bytes_in, bytes_out;
    uint64_t cpu_ns;
} worker_usage_t;

typedef struct worker_event {
    worker_event_kind_t kind;
    int worker; /* index of the worker that sent it */
    uint64_t cookie;
    uint64_t id;
    char reason[128];
    uint32_t track;       /* SPEAKING */
    bool speaking;        /* SPEAKING */
    uint8_t loudness;     /* SPEAKING: 0..127, 127 - dBov */
    uint32_t bps;         /* ESTIMATE */
    uint8_t source;       /* ESTIMATE: a downlink_source_t */
    router_rates_t rates; /* LAYER_RATES */
    worker_usage_t usage; /* USAGE */
} worker_event_t;

/* Called on the worker thread after it queued an event: it must only wake the signalling
 * loop (e.g. lws_cancel_service), never call back into the worker. */
typedef void (*worker_notify_cb)(void *arg);

typedef struct worker_params {
    int index;
    int port;          /* UDP port, bound on every interface */
    dtls_cert_t *cert; /* borrowed, shared read-only by every worker; must outlive them */
    worker_notify_cb notify;
    void *notify_arg;
} worker_params_t;

typedef struct worker_stats {
    uint64_t datagrams_in;
    uint64_t dropped_unknown;    /* first byte matches no protocol (RFC 7983) */
    uint64_t dropped_unverified; /* DTLS or SRTP from an address that passed no ICE check */
    uint64_t dropped_stun;       /* STUN that names no transport of this worker */
    uint64_t dropped_srtp;       /* SRTP that failed authentication, replay or parsing */
    uint64_t datagrams_out, send_errors;
    uint64_t bytes_in, bytes_out; /* UDP payload bytes, every datagram */
    uint64_t rtcp_in, rtcp_in_bytes, rtcp_out, rtcp_out_bytes; /* SRTCP datagrams */
    uint64_t cpu_ns;                                           /* the worker thread's CPU time */
    uint32_t transports;
    router_stats_t router; /* as of the latest router tick (ROUTER_TICK_MS) */
} worker_stats_t;

/* Binds the UDP port (IPv6 dual-stack, else IPv4) and starts the thread. Returns 0 and
 * sets *out, or -1 with a message in err (e.g. the port is in use). Thread: signalling. */
int worker_start(const worker_params_t *p, worker_t **out, char *err, size_t errlen);

/* Queues a command and wakes the worker. Returns 0, or -1 if its queue is full (then an
 * ADD_TRANSPORT's spec still belongs to the caller). Thread: signalling. */
int worker_post(worker_t *w, const worker_cmd_t *cmd);

/* Takes the oldest pending event: 1 when one was written into *ev, 0 when none.
 * Thread: signalling. */
int worker_next_event(worker_t *w, worker_event_t *ev);

/* A snapshot of the counters (read without locking: values may lag). */
void worker_get_stats(const worker_t *w, worker_stats_t *out);

/* Stops the thread, joins it and frees everything, transports included.
 * worker_stop(NULL) is a no-op. Thread: signalling. */
void worker_stop(worker_t *w);

#endif
