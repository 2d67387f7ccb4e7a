/* session: one WebSocket connection speaking PROTOCOL.md: reassembly of frames, the
 * message rate limit, validation (message.h), the handlers, and a bounded queue of
 * outgoing frames written only when libwebsockets says the socket is writable.
 * Thread: signalling only. */
#ifndef SOBRE_SESSION_H
#define SOBRE_SESSION_H

#include <stddef.h>

#include "config.h"
#include "media.h"
#include "room.h"

struct lws;
typedef struct session session_t;

#define SESSION_FRAME_MAX (64 * 1024) /* PROTOCOL.md: larger frames -> too_large */
#define SESSION_QUEUE_MAX 256         /* queued frames before a non-reading client is dropped */

/* What every session shares: owned by the server, outlives all sessions. */
typedef struct session_env {
    hub_t *hub;
    const config_t *cfg;
    media_t *media;
    session_t *all; /* every open session (list head, maintained by this module) */
    size_t count;
} session_env_t;

/* A session for a newly established WebSocket. Never fails (aborts on OOM). */
session_t *session_new(struct lws *wsi, session_env_t *env);

/* The socket is closed: leaves the room (others get peer_left) and frees everything.
 * session_free(NULL) is a no-op. */
void session_free(session_t *s);

/* A chunk of a received frame (LWS_CALLBACK_RECEIVE). Returns 0, or -1 to close now. */
int session_receive(session_t *s, const void *in, size_t len);

/* The socket can take one frame (LWS_CALLBACK_SERVER_WRITEABLE). Returns 0, or -1 to
 * close the connection now (after a refused join, leave, bye or too_large). */
int session_writable(session_t *s);

/* A worker event about a transport (WORKER_EV_TRANSPORT_*): the session that owns it is
 * told when it closed. */
void session_on_media_event(session_env_t *env, const worker_event_t *ev);

/* Sends `bye` with reason to every session and closes each once its queue is flushed. */
void session_close_all(session_env_t *env, const char *reason);

#endif
