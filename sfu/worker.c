#include "worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addrmap.h"
#include "demux.h"
#include "log.h"
#include "mem.h"
#include "msgq.h"
#include "sendq.h"
#include "srtp_conn.h"
#include "stun.h"
#include "timers.h"

#define QUEUE_LEN          1024
#define RECV_BATCH         32 /* datagrams read per wake-up, as libuv does */
#define DATAGRAM_MAX       1500
#define SOCKET_BUFFER      (4 * 1024 * 1024) /* a burst of keyframes to many: ~2,700 datagrams */
#define TICK_MS            ROUTER_TICK_MS
#define ROUTER_STATS_WORDS (sizeof(router_stats_t) / sizeof(uint64_t))
_Static_assert(sizeof(router_stats_t) % sizeof(uint64_t) == 0, "router_stats_t: uint64_t only");

/* One participant's transport and what to do with its media. */
typedef struct endpoint {
    uint64_t id;
    uint32_t slot;
    transport_t *t;
    timers_node_t timer;
    bool up_sent;
    sendq_source_t local; /* our address its latest authenticated datagram was sent to */
    worker_usage_t usage; /* since its latest WORKER_EV_USAGE */
    uint64_t datagrams;   /* received and sent in that time: its share of the CPU time */
    bool echo;
    echo_map_t echo_map;
} endpoint_t;

struct worker {
    int index;
    int udp_fd, wake_fd, epoll_fd;
    dtls_cert_t *cert;
    pthread_t thread;
    atomic_bool stop;
    msgq_t *commands, *events;
    worker_notify_cb notify;
    void *notify_arg;
    _Atomic uint64_t datagrams_in, dropped_unknown, dropped_unverified, dropped_stun, dropped_srtp;
    _Atomic uint64_t datagrams_out, send_errors; /* copied from sendq after each flush */
    _Atomic uint32_t n_endpoints;
    /* Written by the worker alone (stat_add), read by worker_get_stats. */
    _Atomic uint64_t bytes_in, bytes_out, rtcp_in, rtcp_in_bytes, rtcp_out, rtcp_out_bytes;
    _Atomic uint64_t cpu_ns;
    _Atomic uint64_t router_stats[ROUTER_STATS_WORDS];
    /* Worker-thread state. */
    uint64_t drop_log_at, drops_unlogged; /* debug logs of drops: at most one a second */
    endpoint_t **eps;                     /* by slot; NULL when free */
    uint32_t eps_cap;
    addrmap_t *by_addr; /* verified address -> slot */
    router_t *router;   /* forwarding between this worker's endpoints (by slot) */
    timers_t timers;
    timers_node_t tick;  /* the router's periodic work */
    uint64_t usage_at;   /* when the next WORKER_EV_USAGE are due */
    uint32_t usage_next; /* the slot the next round of them starts at */
    uint64_t cpu_reported;
    sendq_t *sendq;
    /* Receive buffers, allocated once: nothing is allocated per packet. SRTP needs them
     * 32-bit aligned; DATAGRAM_MAX keeps every row so. */
    _Alignas(16) uint8_t bufs[RECV_BATCH][DATAGRAM_MAX];
    struct sockaddr_storage addrs[RECV_BATCH];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) +
                 CMSG_SPACE(sizeof(struct timespec))];
    } ctrl[RECV_BATCH];
    struct iovec iovs[RECV_BATCH];
    struct mmsghdr msgs[RECV_BATCH];
};

/* A counter with one writer, the worker: a relaxed load and store, no locked
 * instruction on the packet path; other threads read it with a relaxed load. */
static void stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static uint64_t stat_get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int bind_udp(int port, char *err, size_t errlen)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        /* Which of our addresses each datagram was sent to (IPv4 ones too, v4-mapped):
         * replies must leave from it. */
        int on = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
        /* When each datagram arrived: publishers' transport-cc feedback reports it. */
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0) return fd;
        if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT) goto fail;
        close(fd);
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    int on = 1;
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0) return fd;
fail:
    snprintf(err, errlen, "media.port: cannot bind UDP port %d: %s", port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

/* One of the media socket's buffers to SOCKET_BUFFER: forced past the kernel's ceiling
 * when permitted (CAP_NET_ADMIN), else as far as net.core.<sysctl> allows. Returns the
 * size the kernel reports (its count, twice the bytes asked). */
static int size_buffer(int fd, int force, int plain, const char *name, const char *sysctl, int port)
{
    int want = SOCKET_BUFFER, got = 0;
    socklen_t len = sizeof got;
    if (setsockopt(fd, SOL_SOCKET, force, &want, sizeof want) != 0)
        setsockopt(fd, SOL_SOCKET, plain, &want, sizeof want);
    getsockopt(fd, SOL_SOCKET, plain, &got, &len);
    if (got < want)
        log_warn("media port %d: %s buffer %d bytes, asked %d: datagrams will be dropped under "
                 "load; raise it with sysctl -w net.core.%s=%d (README, \"UDP buffers\")",
                 port, name, got, want, sysctl, want);
    return got;
}

static void size_buffers(int fd, int port)
{
    int rcv = size_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, "receive", "rmem_max", port);
    int snd = size_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, "send", "wmem_max", port);
    log_info("media port %d: socket buffers: receive %d bytes, send %d bytes", port, rcv, snd);
}

static void emit(worker_t *w, const worker_event_t *ev)
{
    if (msgq_push(w->events, ev) != 0) {
        log_warn("worker %d: event queue full, event dropped", w->index);
        return;
    }
    w->notify(w->notify_arg);
}

/* -- endpoints */

static endpoint_t *find_by_id(worker_t *w, uint64_t id)
{
    for (uint32_t i = 0; i < w->eps_cap; i++)
        if (w->eps[i] && w->eps[i]->id == id) return w->eps[i];
    return NULL;
}

static void emit_usage(worker_t *w, endpoint_t *ep)
{
    worker_event_t ev = {.kind = WORKER_EV_USAGE, .worker = w->index, .id = ep->id};
    ev.usage = ep->usage;
    emit(w, &ev);
    ep->usage = (worker_usage_t){0};
}

static void remove_endpoint(worker_t *w, endpoint_t *ep)
{
    if (ep->usage.bytes_in || ep->usage.bytes_out || ep->usage.cpu_ns) emit_usage(w, ep);
    router_remove_endpoint(w->router, ep->slot);
    addrmap_remove_value(w->by_addr, ep->slot);
    timers_cancel(&w->timers, &ep->timer);
    w->eps[ep->slot] = NULL;
    w->n_endpoints--;
    transport_free(ep->t);
    free(ep);
}

static void add_endpoint(worker_t *w, worker_transport_spec_t *spec)
{
    if (find_by_id(w, spec->id)) {
        log_warn("worker %d: transport %llu exists already", w->index,
                 (unsigned long long)spec->id);
        return;
    }
    transport_t *t = transport_new(&spec->params, w->cert);
    if (!t) {
        worker_event_t ev = {
            .kind = WORKER_EV_TRANSPORT_CLOSED, .worker = w->index, .id = spec->id};
        snprintf(ev.reason, sizeof ev.reason, "transport: bad parameters (fingerprint?)");
        emit(w, &ev);
        return;
    }
    uint32_t slot = 0;
    while (slot < w->eps_cap && w->eps[slot])
        slot++;
    if (slot == w->eps_cap) {
        uint32_t cap = w->eps_cap ? w->eps_cap * 2 : 16;
        w->eps = xrealloc(w->eps, cap * sizeof *w->eps);
        memset(w->eps + w->eps_cap, 0, (cap - w->eps_cap) * sizeof *w->eps);
        w->eps_cap = cap;
    }
    endpoint_t *ep = xcalloc(1, sizeof *ep);
    ep->id = spec->id;
    ep->slot = slot;
    ep->t = t;
    ep->echo = spec->echo != 0;
    ep->echo_map = spec->echo_map;
    timers_node_init(&ep->timer);
    w->eps[slot] = ep;
    w->n_endpoints++;
}

/* After anything that may change a transport: tell the signalling side, re-arm its timer. */
static void after_activity(worker_t *w, endpoint_t *ep)
{
    switch (transport_state(ep->t)) {
    case TRANSPORT_CONNECTED:
        if (!ep->up_sent) {
            ep->up_sent = true;
            worker_event_t ev = {.kind = WORKER_EV_TRANSPORT_UP, .worker = w->index, .id = ep->id};
            emit(w, &ev);
        }
        break;
    case TRANSPORT_CLOSED: {
        worker_event_t ev = {.kind = WORKER_EV_TRANSPORT_CLOSED, .worker = w->index, .id = ep->id};
        snprintf(ev.reason, sizeof ev.reason, "%s", transport_error(ep->t));
        log_debug("worker %d: transport %llu closed: %s", w->index, (unsigned long long)ep->id,
                  ev.reason);
        emit(w, &ev);
        remove_endpoint(w, ep);
        return;
    }
    case TRANSPORT_NEW:
        break;
    }
    uint64_t at = transport_next_timeout(ep->t);
    if (at == UINT64_MAX)
        timers_cancel(&w->timers, &ep->timer);
    else
        timers_schedule(&w->timers, &ep->timer, at);
}

/* -- commands */

void worker_cmd_release(worker_cmd_t *cmd)
{
    free(cmd->add);
    free(cmd->track_spec);
    free(cmd->sub);
    cmd->add = NULL;
    cmd->track_spec = NULL;
    cmd->sub = NULL;
}

static void router_command(worker_t *w, worker_cmd_t *cmd)
{
    uint64_t now = now_ms();
    endpoint_t *ep = find_by_id(w, cmd->id);
    switch (cmd->kind) {
    case WORKER_CMD_ADD_TRACK:
        if (!ep || !cmd->track_spec) break;
        cmd->track_spec->publisher = ep->slot;
        if (router_add_track(w->router, cmd->track_spec) != 0)
            log_warn("worker %d: track %u refused (duplicate id or SSRC)", w->index,
                     cmd->track_spec->id);
        break;
    case WORKER_CMD_REMOVE_TRACK:
        router_remove_track(w->router, cmd->track);
        break;
    case WORKER_CMD_SUBSCRIBE:
        if (!ep || !cmd->sub) break;
        cmd->sub->subscriber = ep->slot;
        router_subscribe(w->router, cmd->sub, now);
        break;
    case WORKER_CMD_UNSUBSCRIBE:
        if (ep) router_unsubscribe(w->router, cmd->track, ep->slot);
        break;
    case WORKER_CMD_MUTE:
        router_set_muted(w->router, cmd->track, cmd->muted, now);
        break;
    case WORKER_CMD_PAUSE:
        if (ep) router_set_paused(w->router, cmd->track, ep->slot, cmd->muted, now);
        break;
    case WORKER_CMD_WANT:
        if (ep) router_set_wanted(w->router, ep->slot, cmd->bps);
        break;
    case WORKER_CMD_SET_LAYER:
        if (ep) router_set_layer(w->router, cmd->track, ep->slot, cmd->spatial, cmd->temporal, now);
        break;
    default:
        break;
    }
}

static void handle_commands(worker_t *w)
{
    uint64_t n;
    if (read(w->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN) return;
    worker_cmd_t cmd;
    while (msgq_pop(w->commands, &cmd)) {
        switch (cmd.kind) {
        case WORKER_CMD_PING: {
            worker_event_t ev = {.kind = WORKER_EV_PONG, .worker = w->index, .cookie = cmd.cookie};
            emit(w, &ev);
            break;
        }
        case WORKER_CMD_ADD_TRANSPORT: {
            add_endpoint(w, cmd.add);
            endpoint_t *ep = find_by_id(w, cmd.add->id);
            if (ep) after_activity(w, ep);
            free(cmd.add);
            break;
        }
        case WORKER_CMD_RESTART_ICE: {
            endpoint_t *ep = find_by_id(w, cmd.add->id);
            if (!ep || transport_restart_ice(ep->t, &cmd.add->params) != 0)
                log_warn("worker %d: ICE restart of transport %llu refused", w->index,
                         (unsigned long long)cmd.add->id);
            free(cmd.add);
            break;
        }
        case WORKER_CMD_REMOVE_TRANSPORT: {
            endpoint_t *ep = find_by_id(w, cmd.id);
            if (ep) remove_endpoint(w, ep);
            break;
        }
        default:
            router_command(w, &cmd);
            worker_cmd_release(&cmd);
        }
    }
}

/* -- the router's output: straight into the send batch, protected in place */

static uint8_t *out_begin(void *arg, uint32_t to, size_t *cap)
{
    worker_t *w = arg;
    endpoint_t *ep = to < w->eps_cap ? w->eps[to] : NULL;
    if (!ep || !transport_can_send(ep->t)) return NULL;
    sendq_set_source(w->sendq, &ep->local);
    *cap = SENDQ_SLOT_SIZE - SRTP_CONN_TRAILER_ROOM;
    return sendq_slot(w->sendq);
}

static void out_end(void *arg, uint32_t to, size_t len, bool rtcp)
{
    worker_t *w = arg;
    endpoint_t *ep = w->eps[to];
    uint64_t before = sendq_committed_bytes(w->sendq);
    /* The slot is the one out_begin returned: nothing was queued in between. */
    transport_send_slot(ep->t, sendq_slot(w->sendq), len, rtcp, w->sendq);
    uint64_t sent = sendq_committed_bytes(w->sendq) - before;
    ep->usage.bytes_out += sent;
    ep->datagrams++;
    if (rtcp && sent) {
        stat_add(&w->rtcp_out, 1);
        stat_add(&w->rtcp_out_bytes, sent);
    }
}

static void out_speaking(void *arg, uint32_t track, bool speaking, uint8_t loudness)
{
    worker_t *w = arg;
    worker_event_t ev = {.kind = WORKER_EV_SPEAKING,
                         .worker = w->index,
                         .track = track,
                         .speaking = speaking,
                         .loudness = loudness};
    emit(w, &ev);
}

static void out_estimate(void *arg, uint32_t subscriber, uint32_t bps, int source)
{
    worker_t *w = arg;
    endpoint_t *ep = subscriber < w->eps_cap ? w->eps[subscriber] : NULL;
    if (!ep) return;
    worker_event_t ev = {.kind = WORKER_EV_ESTIMATE,
                         .worker = w->index,
                         .id = ep->id,
                         .bps = bps,
                         .source = (uint8_t)source};
    emit(w, &ev);
}

static void out_layer_rates(void *arg, uint32_t track, const router_rates_t *rates)
{
    worker_t *w = arg;
    worker_event_t ev = {.kind = WORKER_EV_LAYER_RATES, .worker = w->index, .track = track};
    ev.rates = *rates;
    emit(w, &ev);
}

/* -- datagrams */

/* ep's share of what crossed the socket: len bytes received (0: none), and what the
 * send batch took since `before` (sendq_committed_bytes). */
static void charge(worker_t *w, endpoint_t *ep, size_t len, uint64_t before)
{
    uint64_t sent = sendq_committed_bytes(w->sendq) - before;
    ep->usage.bytes_in += len;
    ep->usage.bytes_out += sent;
    ep->datagrams += (len > 0) + (sent > 0);
}

/* Garbage must not flood the log: one debug line a second at most, with the count of the
 * drops it stands for. */
static void note_drop(worker_t *w, const char *why, uint64_t now)
{
    w->drops_unlogged++;
    if (!log_enabled(LOG_DEBUG) || now < w->drop_log_at) return;
    log_debug("worker %d: dropped %llu datagram(s), latest: %s", w->index,
              (unsigned long long)w->drops_unlogged, why);
    w->drops_unlogged = 0;
    w->drop_log_at = now + 1000;
}

/* The local address datagram i was sent to, from its control messages. */
static sendq_source_t local_addr(worker_t *w, int i)
{
    sendq_source_t src = {0};
    struct msghdr *mh = &w->msgs[i].msg_hdr;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            src.family = AF_INET6;
            src.v6 = pi.ipi6_addr;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            src.family = AF_INET;
            src.v4 = pi.ipi_addr; /* the header's destination: the address the peer used */
        }
    }
    return src;
}

/* When datagram i arrived, in microseconds of the real-time clock: the kernel's stamp,
 * else now (a batch then shares one time). */
static int64_t arrival_us(worker_t *w, int i)
{
    struct msghdr *mh = &w->msgs[i].msg_hdr;
    struct timespec ts;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        }
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The transport a check is for: USERNAME is "<our ufrag>:<their ufrag>". */
static endpoint_t *find_by_username(worker_t *w, const uint8_t *pkt, size_t len)
{
    stun_msg_t m;
    if (stun_parse(pkt, len, &m) != 0 || !(m.present & STUN_HAS_USERNAME)) return NULL;
    const uint8_t *colon = memchr(m.username.ptr, ':', m.username.len);
    if (!colon) return NULL;
    size_t ulen = (size_t)(colon - m.username.ptr);
    for (uint32_t i = 0; i < w->eps_cap; i++) {
        endpoint_t *ep = w->eps[i];
        if (!ep) continue;
        const char *u = transport_local_ufrag(ep->t);
        if (strlen(u) == ulen && memcmp(u, m.username.ptr, ulen) == 0) return ep;
    }
    return NULL;
}

static void on_stun(worker_t *w, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                    socklen_t fromlen, const sendq_source_t *local, uint64_t now)
{
    endpoint_t *ep = find_by_username(w, pkt, len);
    if (!ep) {
        w->dropped_stun++; /* no reply: the sender proved nothing */
        note_drop(w, "STUN for no transport of this worker", now);
        return;
    }
    sendq_set_source(w->sendq, local); /* the reply leaves from the address checked */
    uint64_t before = sendq_committed_bytes(w->sendq);
    transport_on_stun(ep->t, pkt, len, from, fromlen, now, w->sendq);
    charge(w, ep, len, before);
    if (transport_knows(ep->t, from)) {
        addrmap_put(w->by_addr, from, ep->slot);
        ep->local = *local;
    }
    after_activity(w, ep);
}

static endpoint_t *find_by_addr(worker_t *w, const struct sockaddr *from)
{
    uint32_t slot;
    if (addrmap_get(w->by_addr, from, &slot) != 0 || slot >= w->eps_cap || !w->eps[slot])
        return NULL;
    endpoint_t *ep = w->eps[slot];
    /* The map may still hold an address ICE has since let go of. */
    return transport_knows(ep->t, from) ? ep : NULL;
}

static void forward(worker_t *w, endpoint_t *ep, uint8_t *pkt, size_t len, bool rtcp, uint64_t now,
                    int64_t arrival)
{
    if (!ep->echo) {
        if (rtcp)
            router_rtcp(w->router, ep->slot, pkt, len, now);
        else
            router_rtp(w->router, ep->slot, pkt, len, now, arrival);
        return;
    }
    int rc = rtcp ? echo_rtcp(&ep->echo_map, pkt, len) : echo_rtp(&ep->echo_map, pkt, len);
    uint64_t before = sendq_committed_bytes(w->sendq);
    if (rc == 0) transport_send(ep->t, pkt, len, rtcp, w->sendq);
    charge(w, ep, 0, before);
}

static void on_datagram(worker_t *w, int i, uint64_t now)
{
    uint8_t *pkt = w->bufs[i];
    size_t len = w->msgs[i].msg_len;
    const struct sockaddr *from = (const struct sockaddr *)&w->addrs[i];
    socklen_t fromlen = w->msgs[i].msg_hdr.msg_namelen;
    demux_kind_t kind =
        (w->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? DEMUX_UNKNOWN : demux_classify(pkt, len);
    if (kind == DEMUX_UNKNOWN) {
        w->dropped_unknown++;
        note_drop(w, "not STUN, DTLS or RTP (RFC 7983), or truncated", now);
        return;
    }
    sendq_source_t local = local_addr(w, i);
    if (kind == DEMUX_STUN) {
        on_stun(w, pkt, len, from, fromlen, &local, now);
        return;
    }
    endpoint_t *ep = find_by_addr(w, from);
    if (!ep) {
        w->dropped_unverified++;
        note_drop(w, "DTLS or SRTP from an address that passed no ICE check", now);
        return;
    }
    if (kind == DEMUX_DTLS) {
        ep->local = local; /* a verified sender: its handshake replies go back the same way */
        sendq_set_source(w->sendq, &ep->local);
        uint64_t before = sendq_committed_bytes(w->sendq);
        transport_on_dtls(ep->t, pkt, len, from, now, w->sendq);
        charge(w, ep, len, before);
        after_activity(w, ep);
        return;
    }
    bool rtcp = kind == DEMUX_RTCP;
    charge(w, ep, len, sendq_committed_bytes(w->sendq));
    if (rtcp) {
        stat_add(&w->rtcp_in, 1);
        stat_add(&w->rtcp_in_bytes, len);
    }
    int rc = transport_unprotect(ep->t, pkt, &len, rtcp, from, now);
    if (rc != 0) {
        w->dropped_srtp++;
        note_drop(w,
                  rc == SRTP_CONN_ERR_REPLAY ? "SRTP replay"
                  : rc == SRTP_CONN_ERR_AUTH ? "SRTP authentication failed"
                                             : "SRTP unprotect failed",
                  now);
        return;
    }
    ep->local = local;
    sendq_set_source(w->sendq, &ep->local);
    forward(w, ep, pkt, len, rtcp, now, rtcp ? 0 : arrival_us(w, i));
}

static void handle_datagrams(worker_t *w)
{
    for (int i = 0; i < RECV_BATCH; i++) {
        w->iovs[i] = (struct iovec){.iov_base = w->bufs[i], .iov_len = DATAGRAM_MAX};
        w->msgs[i].msg_hdr = (struct msghdr){.msg_name = &w->addrs[i],
                                             .msg_namelen = sizeof w->addrs[i],
                                             .msg_iov = &w->iovs[i],
                                             .msg_iovlen = 1,
                                             .msg_control = w->ctrl[i].buf,
                                             .msg_controllen = sizeof w->ctrl[i].buf};
    }
    int n = recvmmsg(w->udp_fd, w->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    w->datagrams_in += (uint64_t)n;
    uint64_t now = now_ms();
    for (int i = 0; i < n; i++) {
        stat_add(&w->bytes_in, w->msgs[i].msg_len);
        on_datagram(w, i, now);
    }
}

static void publish_router_stats(worker_t *w)
{
    router_stats_t rs;
    uint64_t words[ROUTER_STATS_WORDS];
    router_get_stats(w->router, &rs);
    memcpy(words, &rs, sizeof words);
    for (size_t i = 0; i < ROUTER_STATS_WORDS; i++)
        atomic_store_explicit(&w->router_stats[i], words[i], memory_order_relaxed);
}

/* The thread's CPU time since the previous call, split between the transports by the
 * datagrams each received and sent (worker.h, WORKER_EV_USAGE); then the reports of at
 * most WORKER_USAGE_EVENTS transports, round robin, so that many transports cannot fill
 * the event queue: the others' usage adds up until their turn. */
static void report_usage(worker_t *w)
{
    uint64_t cpu = thread_cpu_ns(), spent = cpu - w->cpu_reported, datagrams = 0;
    w->cpu_reported = cpu;
    atomic_store_explicit(&w->cpu_ns, cpu, memory_order_relaxed);
    for (uint32_t i = 0; i < w->eps_cap; i++)
        if (w->eps[i]) datagrams += w->eps[i]->datagrams;
    for (uint32_t i = 0; i < w->eps_cap; i++) {
        endpoint_t *ep = w->eps[i];
        if (!ep) continue;
        ep->usage.cpu_ns += datagrams ? spent * ep->datagrams / datagrams : 0;
        ep->datagrams = 0;
    }
    uint32_t n = 0, start = w->usage_next;
    for (uint32_t k = 0; k < w->eps_cap && n < WORKER_USAGE_EVENTS; k++) {
        uint32_t i = (start + k) % w->eps_cap;
        endpoint_t *ep = w->eps[i];
        if (!ep || (!ep->usage.bytes_in && !ep->usage.bytes_out && !ep->usage.cpu_ns)) continue;
        emit_usage(w, ep);
        w->usage_next = i + 1;
        n++;
    }
}

static void run_timers(worker_t *w)
{
    uint64_t now = now_ms();
    timers_node_t *node;
    while ((node = timers_pop_due(&w->timers, now))) {
        if (node == &w->tick) {
            router_tick(w->router, now);
            publish_router_stats(w);
            if (now >= w->usage_at) {
                report_usage(w);
                w->usage_at = now + WORKER_USAGE_MS;
            }
            timers_schedule(&w->timers, &w->tick, now + TICK_MS);
            continue;
        }
        endpoint_t *ep = (endpoint_t *)((char *)node - offsetof(endpoint_t, timer));
        sendq_set_source(w->sendq, &ep->local);
        uint64_t before = sendq_committed_bytes(w->sendq);
        transport_on_timeout(ep->t, now, w->sendq);
        charge(w, ep, 0, before);
        after_activity(w, ep);
    }
}

static int epoll_timeout(const worker_t *w)
{
    uint64_t next = timers_next(&w->timers);
    if (next == TIMERS_NEVER) return -1;
    uint64_t now = now_ms();
    if (next <= now) return 0;
    return next - now > 60000 ? 60000 : (int)(next - now);
}

static void *run(void *arg)
{
    worker_t *w = arg;
    struct epoll_event evs[4];
    while (!atomic_load(&w->stop)) {
        int n = epoll_wait(w->epoll_fd, evs, 4, epoll_timeout(w));
        if (n < 0 && errno != EINTR) {
            log_error("worker %d: epoll_wait: %s", w->index, strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == w->wake_fd)
                handle_commands(w);
            else
                handle_datagrams(w);
        }
        run_timers(w);
        sendq_flush(w->sendq);
        w->datagrams_out = sendq_sent(w->sendq);
        atomic_store_explicit(&w->bytes_out, sendq_committed_bytes(w->sendq), memory_order_relaxed);
        w->send_errors = sendq_dropped(w->sendq);
    }
    return NULL;
}

static int watch(int epoll_fd, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static void free_worker(worker_t *w)
{
    for (uint32_t i = 0; i < w->eps_cap; i++)
        if (w->eps[i]) remove_endpoint(w, w->eps[i]);
    free(w->eps);
    router_free(w->router);
    addrmap_free(w->by_addr);
    timers_release(&w->timers);
    sendq_free(w->sendq);
    worker_cmd_t cmd; /* payloads still queued belong to the worker */
    while (w->commands && msgq_pop(w->commands, &cmd))
        worker_cmd_release(&cmd);
    if (w->udp_fd >= 0) close(w->udp_fd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    if (w->epoll_fd >= 0) close(w->epoll_fd);
    msgq_free(w->commands);
    msgq_free(w->events);
    free(w);
}

int worker_start(const worker_params_t *p, worker_t **out, char *err, size_t errlen)
{
    worker_t *w = xcalloc(1, sizeof *w);
    w->index = p->index;
    w->cert = p->cert;
    w->notify = p->notify;
    w->notify_arg = p->notify_arg;
    w->wake_fd = w->epoll_fd = -1;
    w->commands = msgq_new(QUEUE_LEN, sizeof(worker_cmd_t));
    w->events = msgq_new(QUEUE_LEN, sizeof(worker_event_t));
    w->by_addr = addrmap_new();
    router_out_t rout = {.begin = out_begin,
                         .end = out_end,
                         .speaking = out_speaking,
                         .estimate = out_estimate,
                         .layer_rates = out_layer_rates,
                         .arg = w};
    w->router = router_new(&rout);
    timers_init(&w->timers);
    timers_node_init(&w->tick);
    timers_schedule(&w->timers, &w->tick, now_ms() + TICK_MS);
    w->udp_fd = bind_udp(p->port, err, errlen);
    if (w->udp_fd < 0) goto fail;
    size_buffers(w->udp_fd, p->port);
    w->sendq = sendq_new(w->udp_fd);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (w->wake_fd < 0 || w->epoll_fd < 0 || watch(w->epoll_fd, w->wake_fd) != 0 ||
        watch(w->epoll_fd, w->udp_fd) != 0) {
        snprintf(err, errlen, "worker %d: %s", p->index, strerror(errno));
        goto fail;
    }
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, errlen, "worker %d: cannot start thread", p->index);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    free_worker(w);
    *out = NULL;
    return -1;
}

static void wake(worker_t *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof one);
    (void)r; /* EAGAIN means the counter is already non-zero: the worker will wake */
}

int worker_post(worker_t *w, const worker_cmd_t *cmd)
{
    if (msgq_push(w->commands, cmd) != 0) return -1;
    wake(w);
    return 0;
}

int worker_next_event(worker_t *w, worker_event_t *ev)
{
    return msgq_pop(w->events, ev);
}

void worker_get_stats(const worker_t *w, worker_stats_t *out)
{
    *out = (worker_stats_t){
        .datagrams_in = w->datagrams_in,
        .dropped_unknown = w->dropped_unknown,
        .dropped_unverified = w->dropped_unverified,
        .dropped_stun = w->dropped_stun,
        .dropped_srtp = w->dropped_srtp,
        .datagrams_out = w->datagrams_out,
        .send_errors = w->send_errors,
        .bytes_in = stat_get(&w->bytes_in),
        .bytes_out = stat_get(&w->bytes_out),
        .rtcp_in = stat_get(&w->rtcp_in),
        .rtcp_in_bytes = stat_get(&w->rtcp_in_bytes),
        .rtcp_out = stat_get(&w->rtcp_out),
        .rtcp_out_bytes = stat_get(&w->rtcp_out_bytes),
        .cpu_ns = stat_get(&w->cpu_ns),
        .transports = w->n_endpoints,
    };
    uint64_t words[ROUTER_STATS_WORDS];
    for (size_t i = 0; i < ROUTER_STATS_WORDS; i++)
        words[i] = stat_get(&w->router_stats[i]);
    memcpy(&out->router, words, sizeof words);
}

void worker_stop(worker_t *w)
{
    if (!w) return;
    atomic_store(&w->stop, true);
    wake(w);
    pthread_join(w->thread, NULL);
    free_worker(w);
}
