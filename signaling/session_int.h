/* session_int.h: what the session module's files share (session.c: the WebSocket
 * session and the protocol; session_video.c: who receives which video). Not for other
 * modules: they see session.h only. Thread: the signalling thread. */
#ifndef SOBRE_SESSION_INT_H
#define SOBRE_SESSION_INT_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "media_sub.h"
#include "session.h"

typedef struct outmsg outmsg_t;

struct session {
    struct lws *wsi; /* NULL while detached (socket dropped, waiting for a resume) */
    char ip[64];     /* the client's address (X-Forwarded-For behind a local proxy) */
    bool counted;    /* its connection counts in env->addrs */
    long long opened_us;
    long long detached_at_us;
    bool absorbed; /* its connection went to the session it resumed: free it */
    session_env_t *env;
    session_t *next, *prev;
    peer_t peer;
    char resume[33];
    /* reassembly of one message */
    char *rx;
    size_t rx_len, rx_cap;
    /* rate limit: a token bucket of messages_per_second, refilled continuously */
    double tokens;
    long long tokens_at_us;
    /* outgoing frames */
    outmsg_t *queue[SESSION_QUEUE_MAX];
    size_t q_head, q_len;
    bool closing; /* close once the queue is flushed; ignore further input */
    enum lws_close_status close_status;
    media_publisher_t pub; /* the publish connection and its tracks */
    media_sub_t *sub;      /* the subscribe connection: others' tracks (not in echo rooms) */
    bool speaking;         /* its audio carries speech (the worker judges) */
    uint64_t spoke;        /* env->speech_clock when it last started speaking; 0: never */
    auth_role_t role;      /* from its join token; participant without one */
    uint32_t est_bps;      /* its downlink estimate (from its browser), 0: none yet */
    uint32_t sent_kbps;    /* the last `bandwidth` it was sent */
    const char *sent_video;
    uint8_t loudness;
    struct {
        bool audio_only;
        int max_video_kbps, last_n;
    } prefs;
};

/* Queues obj (owned) for s. */
void session_send_json(session_t *s, json_t *obj);

/* Decides again which videos every subscriber receives, at which layer (session_video.c,
 * DESIGN.md "Bandwidth"), and tells those whose verdict changed (`bandwidth`). Call on
 * anything that changes it: joins and leaves, publishing, mute, prefs, speakers,
 * estimates. */
void session_video_update(session_env_t *env);

#endif
