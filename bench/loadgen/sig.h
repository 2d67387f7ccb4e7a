/* Signalling thread plumbing shared by the protocols (sig.c). Everything here runs on
 * the signalling thread. */
#ifndef SOBRE_LG_SIG_H
#define SOBRE_LG_SIG_H

#include "lg.h"

#include <jansson.h>

#define SIG_QCAP 64

typedef struct sig_part {
    struct lws *wsi;
    char *q[SIG_QCAP]; /* JSON texts waiting for WRITEABLE, owned */
    size_t qh, qt;
    char *rx; /* a message being reassembled from fragments */
    size_t rxlen, rxcap;
    bool have_sub; /* the subscribe transport was handed to the media thread */
    /* Janus. */
    uint64_t session, pub_handle, sub_handle, janus_id;
    uint64_t next_keepalive_ms;
    int tx;              /* transaction counter */
    uint64_t feeds[256]; /* feeds subscribed to */
    size_t nfeeds;
    bool sub_pending; /* a subscribe join awaits its offer */
} sig_part_t;

typedef struct sig_proto {
    const char *subprotocol;
    void (*on_open)(lg_t *lg, lg_part_t *p);
    void (*on_message)(lg_t *lg, lg_part_t *p, json_t *msg);  /* msg borrowed */
    void (*on_tick)(lg_t *lg, lg_part_t *p, uint64_t now_ms); /* may be NULL */
} sig_proto_t;

int sig_start(lg_t *lg, const sig_proto_t *proto);
void sig_stop(lg_t *lg);
sig_part_t *sig_of(lg_part_t *p);
/* Queues msg (consumed) for p's WebSocket. */
void sig_send(lg_part_t *p, json_t *msg);
/* Reports a signalling failure (counted; the check fails). */
void sig_error(lg_part_t *p, const char *what, const char *detail);
/* Hands a negotiated transport to the media thread, from an SDP of the server. Returns 0
 * or -1 (reported). */
int sig_transport(lg_t *lg, lg_part_t *p, bool is_pub, const char *sdp, bool we_offered);

#endif
