/* transport: one participant's secure media transport on a worker's UDP port: ICE-lite
 * (ice.h) picks the address, DTLS (dtls.h) authenticates the peer and yields the keys,
 * SRTP (srtp_conn.h) protects the media. It never touches the socket: replies go into
 * the worker's send batch. Thread: the owning worker only. */
#ifndef SOBRE_TRANSPORT_H
#define SOBRE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dtls.h"
#include "sendq.h"

typedef struct transport transport_t;

#define TRANSPORT_UFRAG_MAX 64
#define TRANSPORT_PWD_MAX   128

typedef struct transport_params {
    char local_ufrag[TRANSPORT_UFRAG_MAX + 1];
    char local_pwd[TRANSPORT_PWD_MAX + 1];
    char remote_ufrag[TRANSPORT_UFRAG_MAX + 1];
    char remote_pwd[TRANSPORT_PWD_MAX + 1];
    char remote_fingerprint[DTLS_FINGERPRINT_MAX]; /* "sha-256 AB:CD:..." from the SDP */
} transport_params_t;

typedef enum {
    TRANSPORT_NEW,       /* waiting for ICE and DTLS */
    TRANSPORT_CONNECTED, /* SRTP keys in place: media flows */
    TRANSPORT_CLOSED,    /* consent expired, DTLS failed or closed: transport_error says */
} transport_state_t;

typedef struct transport_stats {
    uint64_t srtp_in, srtp_auth_fail, srtp_replay, srtp_other_fail;
    uint64_t srtp_out, dtls_in, unverified_dropped;
} transport_stats_t;

/* cert is borrowed (shared read-only by every transport of the process). Returns NULL
 * when the remote fingerprint does not parse. */
transport_t *transport_new(const transport_params_t *p, dtls_cert_t *cert);
void transport_free(transport_t *t); /* transport_free(NULL) is a no-op */

/* ICE restart: new local and remote ICE credentials from p (its fingerprint must be the
 * same: DTLS and SRTP go on). Returns 0, or -1 when they are invalid (nothing changed). */
int transport_restart_ice(transport_t *t, const transport_params_t *p);

/* Our ICE ufrag: the worker routes STUN checks on it. */
const char *transport_local_ufrag(const transport_t *t);

/* Whether addr has passed an ICE check: only such addresses may send DTLS or SRTP. */
bool transport_knows(const transport_t *t, const struct sockaddr *addr);

/* A STUN datagram whose USERNAME names this transport. A reply, if any, goes to q. */
void transport_on_stun(transport_t *t, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                       socklen_t fromlen, uint64_t now_ms, sendq_t *q);

/* A DTLS datagram from a known address; handshake replies go to q. */
void transport_on_dtls(transport_t *t, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                       uint64_t now_ms, sendq_t *q);

/* Unprotects an SRTP or SRTCP datagram from a known address in place. Returns 0 with
 * *len the plain length, or a negative SRTP_CONN_ERR_* (counted; the packet is dropped). */
int transport_unprotect(transport_t *t, uint8_t *pkt, size_t *len, bool rtcp,
                        const struct sockaddr *from, uint64_t now_ms);

/* Protects a plain RTP or RTCP packet into a slot of q, addressed to the selected address.
 * Returns 0, or -1 when the transport is not connected or the packet does not fit. */
int transport_send(transport_t *t, const uint8_t *pkt, size_t len, bool rtcp, sendq_t *q);

/* As transport_send, for a packet already written into the slot sendq_slot(q) returned
 * (no copy): protects it there and commits it. */
int transport_send_slot(transport_t *t, uint8_t *slot, size_t len, bool rtcp, sendq_t *q);

/* Whether transport_send can send now (connected, an address selected). */
bool transport_can_send(const transport_t *t);

/* When transport_on_timeout next needs to run (absolute ms), or UINT64_MAX. */
uint64_t transport_next_timeout(const transport_t *t);

/* Retransmits DTLS flights and checks consent; may move the transport to CLOSED. */
void transport_on_timeout(transport_t *t, uint64_t now_ms, sendq_t *q);

transport_state_t transport_state(const transport_t *t);
const char *transport_error(const transport_t *t); /* why it closed, or "" */
void transport_get_stats(const transport_t *t, transport_stats_t *out);

#endif
