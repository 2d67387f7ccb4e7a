/* session: one WebSocket connection speaking PROTOCOL.md: reassembly of frames, the
 * message rate limit, validation (message.h), the handlers, and a bounded queue of
 * outgoing frames written only when libwebsockets says the socket is writable.
 * Thread: signalling only. */
#ifndef SOBRE_SESSION_H
#define SOBRE_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "addrlimit.h"
#include "config.h"
#include "media.h"
#include "message.h"
#include "room.h"

struct lws;
typedef struct session session_t;

#define SESSION_FRAME_MAX (64 * 1024) /* PROTOCOL.md: larger frames -> too_large */
/* ... except an answer (docs/protocol-notes.md): its SDP, JSON-escaped, and some room. */
#define SESSION_ANSWER_FRAME_MAX (MESSAGE_ANSWER_SDP_MAX * 5 / 4)
#define SESSION_QUEUE_MAX        256 /* queued frames before a non-reading client is dropped */

/* What every session shares: owned by the server, outlives all sessions. */
typedef struct session_env {
    hub_t *hub;
    const config_t *cfg; /* replaced by a reload (server.h): read it at each use, keep no
                            pointer into it */
    media_t *media;
    addrlimit_t *addrs;    /* per client address limits */
    session_t *all;        /* every open session (list head, maintained by this module) */
    uint64_t speech_clock; /* counts starts of speech: orders the latest speakers */
    size_t count;
} session_env_t;

/* What libwebsockets keeps per connection (the protocol's per-session data): the
 * session it belongs to. A `join` with `resume` moves the connection to the session it
 * resumes, so only this module writes it. */
typedef struct session_slot {
    session_t *session;
} session_slot_t;

/* A session for a newly established WebSocket, recorded in its slot. Never fails
 * (aborts on OOM). */
session_t *session_new(struct lws *wsi, session_env_t *env, session_slot_t *slot);

/* The socket is closed. A participant that did not leave stays in its room, media
 * flowing, for limits.resume_seconds, waiting for a `join` with its `resume` token;
 * otherwise (and on shutdown: `now_leave`) it leaves (others get peer_left) and the
 * session is freed. */
void session_closed(session_t *s, bool now_leave);

/* Leaves and frees detached sessions whose grace period is over, and closes sockets
 * that did not join in time. Call it often (about every 50 ms); `all`: every detached
 * session (shutdown). */
void session_reap(session_env_t *env, bool all);

/* A chunk of a received frame (LWS_CALLBACK_RECEIVE). Returns 0, or -1 to close now. */
int session_receive(session_t *s, const void *in, size_t len);

/* The socket can take one frame (LWS_CALLBACK_SERVER_WRITEABLE). Returns 0, or -1 to
 * close the connection now (after a refused join, leave, bye or too_large). */
int session_writable(session_t *s);

/* A worker event about a transport (WORKER_EV_TRANSPORT_*): the session that owns it is
 * told when it closed. */
void session_on_media_event(session_env_t *env, const worker_event_t *ev);

/* The participant whose publish or subscribe transport this is, or NULL. */
peer_t *session_peer_of_transport(const session_env_t *env, uint64_t transport);

/* Sends obj (a JSON object, owned) to every member of room. */
void session_room_broadcast(const room_t *room, json_t *obj);

/* A participant's downlink estimate (its browser's, WORKER_EV_ESTIMATE), 0: none yet. */
uint32_t session_estimate_bps(const peer_t *peer);

/* Sends `bye` with reason to every session and closes each once its queue is flushed. */
void session_close_all(session_env_t *env, const char *reason);

#endif
