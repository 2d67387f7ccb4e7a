#include "transport.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice.h"
#include "mem.h"
#include "srtp_conn.h"

struct transport {
    transport_params_t params;
    ice_t *ice;
    dtls_t *dtls;
    srtp_conn_t *srtp;
    transport_state_t state;
    char error[128];
    transport_stats_t stats;
};

transport_t *transport_new(const transport_params_t *p, dtls_cert_t *cert)
{
    if (dtls_fingerprint_check(p->remote_fingerprint) != 0) return NULL;
    transport_t *t = xcalloc(1, sizeof *t);
    t->params = *p;
    t->ice = ice_new(p->local_ufrag, p->local_pwd, p->remote_ufrag, p->remote_pwd);
    t->dtls = dtls_new(cert, p->remote_fingerprint, DTLS_SERVER);
    if (!t->ice || !t->dtls) {
        transport_free(t);
        return NULL;
    }
    return t;
}

void transport_free(transport_t *t)
{
    if (!t) return;
    ice_free(t->ice);
    dtls_free(t->dtls);
    srtp_conn_free(t->srtp);
    free(t);
}

int transport_restart_ice(transport_t *t, const transport_params_t *p)
{
    if (strcmp(p->remote_fingerprint, t->params.remote_fingerprint) != 0 ||
        ice_restart(t->ice, p->local_ufrag, p->local_pwd, p->remote_ufrag, p->remote_pwd) != 0)
        return -1;
    t->params = *p;
    return 0;
}

const char *transport_local_ufrag(const transport_t *t)
{
    return t->params.local_ufrag;
}

bool transport_knows(const transport_t *t, const struct sockaddr *addr)
{
    return t->state != TRANSPORT_CLOSED && ice_addr_verified(t->ice, addr);
}

/* The worker checks transport_knows() before handing over DTLS or SRTP; checking again
 * here keeps a spoofed source from ever reaching OpenSSL or libsrtp, or getting an answer
 * (no amplification), whatever the caller does, and is what unverified_dropped counts. */
static bool from_verified(transport_t *t, const struct sockaddr *from)
{
    if (ice_addr_verified(t->ice, from)) return true;
    t->stats.unverified_dropped++;
    return false;
}

static void close_transport(transport_t *t, const char *why)
{
    if (t->state == TRANSPORT_CLOSED) return;
    t->state = TRANSPORT_CLOSED;
    snprintf(t->error, sizeof t->error, "%s", why);
}

static socklen_t addr_len(const struct sockaddr *a)
{
    return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

void transport_on_stun(transport_t *t, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                       socklen_t fromlen, uint64_t now_ms, sendq_t *q)
{
    if (t->state == TRANSPORT_CLOSED) return;
    uint8_t *out = sendq_slot(q);
    size_t outlen = 0;
    ice_handle_stun(t->ice, pkt, len, from, fromlen, now_ms, out, SENDQ_SLOT_SIZE, &outlen);
    /* ICE builds a reply only to a well-formed request (success, 400, 401, 420, 487). */
    if (outlen > 0) sendq_commit(q, outlen, from, fromlen);
}

/* DTLS datagrams go to the selected address once there is one, else to the sender. */
static void flush_dtls(transport_t *t, const struct sockaddr *to, sendq_t *q)
{
    struct sockaddr_storage sel;
    if (ice_selected_addr(t->ice, &sel) == 0) to = (struct sockaddr *)&sel;
    for (;;) {
        uint8_t *slot = sendq_slot(q);
        size_t n = 0;
        if (dtls_pop_datagram(t->dtls, slot, SENDQ_SLOT_SIZE, &n) != 0 || n == 0) break;
        sendq_commit(q, n, to, addr_len(to));
    }
}

static void on_dtls_connected(transport_t *t)
{
    dtls_srtp_keys_t keys;
    if (dtls_srtp_keys(t->dtls, &keys) != 0 || !(t->srtp = srtp_conn_new(&keys))) {
        close_transport(t, "dtls: no SRTP keys");
        return;
    }
    t->state = TRANSPORT_CONNECTED;
}

void transport_on_dtls(transport_t *t, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                       uint64_t now_ms, sendq_t *q)
{
    if (t->state == TRANSPORT_CLOSED || !from_verified(t, from)) return;
    t->stats.dtls_in++;
    ice_note_rx(t->ice, from, now_ms);
    dtls_handle(t->dtls, pkt, len, now_ms);
    flush_dtls(t, from, q);
    switch (dtls_state(t->dtls)) {
    case DTLS_CONNECTED:
        if (t->state == TRANSPORT_NEW) on_dtls_connected(t);
        break;
    case DTLS_FAILED:
        close_transport(t, dtls_error(t->dtls));
        break;
    case DTLS_CLOSED:
        close_transport(t, "dtls: the peer closed the connection");
        break;
    case DTLS_HANDSHAKING:
        break;
    }
}

int transport_unprotect(transport_t *t, uint8_t *pkt, size_t *len, bool rtcp,
                        const struct sockaddr *from, uint64_t now_ms)
{
    if (t->state != TRANSPORT_CONNECTED || !from_verified(t, from)) return SRTP_CONN_ERR_OTHER;
    int rc = rtcp ? srtp_conn_unprotect_rtcp(t->srtp, pkt, len)
                  : srtp_conn_unprotect_rtp(t->srtp, pkt, len);
    switch (rc) {
    case 0:
        t->stats.srtp_in++;
        ice_note_rx(t->ice, from, now_ms);
        break;
    case SRTP_CONN_ERR_AUTH:
        t->stats.srtp_auth_fail++;
        break;
    case SRTP_CONN_ERR_REPLAY:
        t->stats.srtp_replay++;
        break;
    default:
        t->stats.srtp_other_fail++;
    }
    return rc;
}

int transport_send(transport_t *t, const uint8_t *pkt, size_t len, bool rtcp, sendq_t *q)
{
    if (len + SRTP_CONN_TRAILER_ROOM > SENDQ_SLOT_SIZE) return -1;
    uint8_t *slot = sendq_slot(q);
    memcpy(slot, pkt, len);
    return transport_send_slot(t, slot, len, rtcp, q);
}

int transport_send_slot(transport_t *t, uint8_t *slot, size_t len, bool rtcp, sendq_t *q)
{
    struct sockaddr_storage to;
    if (t->state != TRANSPORT_CONNECTED || ice_selected_addr(t->ice, &to) != 0) return -1;
    if (len + SRTP_CONN_TRAILER_ROOM > SENDQ_SLOT_SIZE) return -1;
    int rc = rtcp ? srtp_conn_protect_rtcp(t->srtp, slot, &len, SENDQ_SLOT_SIZE)
                  : srtp_conn_protect_rtp(t->srtp, slot, &len, SENDQ_SLOT_SIZE);
    if (rc != 0) return -1;
    sendq_commit(q, len, (struct sockaddr *)&to, addr_len((struct sockaddr *)&to));
    t->stats.srtp_out++;
    return 0;
}

bool transport_can_send(const transport_t *t)
{
    struct sockaddr_storage to;
    return t->state == TRANSPORT_CONNECTED && ice_selected_addr(t->ice, &to) == 0;
}

uint64_t transport_next_timeout(const transport_t *t)
{
    if (t->state == TRANSPORT_CLOSED) return UINT64_MAX;
    uint64_t a = ice_next_timeout(t->ice), b = dtls_next_timeout(t->dtls);
    return a < b ? a : b;
}

void transport_on_timeout(transport_t *t, uint64_t now_ms, sendq_t *q)
{
    if (t->state == TRANSPORT_CLOSED) return;
    if (ice_poll(t->ice, now_ms) == ICE_EV_CONSENT_EXPIRED) {
        close_transport(t, "ice: consent expired (no check for 30 s)");
        return;
    }
    if (dtls_next_timeout(t->dtls) <= now_ms) {
        dtls_on_timeout(t->dtls, now_ms);
        struct sockaddr_storage sel;
        if (ice_selected_addr(t->ice, &sel) == 0) flush_dtls(t, (struct sockaddr *)&sel, q);
        if (dtls_state(t->dtls) == DTLS_FAILED) close_transport(t, dtls_error(t->dtls));
    }
}

transport_state_t transport_state(const transport_t *t)
{
    return t->state;
}

const char *transport_error(const transport_t *t)
{
    return t->error;
}

void transport_get_stats(const transport_t *t, transport_stats_t *out)
{
    *out = t->stats;
}
