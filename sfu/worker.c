#include "worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demux.h"
#include "log.h"
#include "mem.h"
#include "msgq.h"

#define QUEUE_LEN    1024
#define RECV_BATCH   32 /* datagrams read per wake-up, as libuv does */
#define DATAGRAM_MAX 1500

struct worker {
    int index;
    int udp_fd, wake_fd, epoll_fd;
    pthread_t thread;
    atomic_bool stop;
    msgq_t *commands, *events;
    worker_notify_cb notify;
    void *notify_arg;
    _Atomic uint64_t datagrams_in, dropped_unknown, dropped_unhandled;
    /* Receive buffers, allocated once: nothing is allocated per packet. */
    uint8_t bufs[RECV_BATCH][DATAGRAM_MAX];
    struct sockaddr_storage addrs[RECV_BATCH];
    struct iovec iovs[RECV_BATCH];
    struct mmsghdr msgs[RECV_BATCH];
};

static int bind_udp(int port, char *err, size_t errlen)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0) return fd;
        if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT) goto fail;
        close(fd);
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0) return fd;
fail:
    snprintf(err, errlen, "media.port: cannot bind UDP port %d: %s", port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

static void emit(worker_t *w, const worker_event_t *ev)
{
    if (msgq_push(w->events, ev) != 0) {
        log_warn("worker %d: event queue full, event dropped", w->index);
        return;
    }
    w->notify(w->notify_arg);
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
        }
    }
}

static void handle_datagrams(worker_t *w)
{
    for (int i = 0; i < RECV_BATCH; i++) {
        w->iovs[i] = (struct iovec){.iov_base = w->bufs[i], .iov_len = DATAGRAM_MAX};
        w->msgs[i].msg_hdr = (struct msghdr){.msg_name = &w->addrs[i],
                                             .msg_namelen = sizeof w->addrs[i],
                                             .msg_iov = &w->iovs[i],
                                             .msg_iovlen = 1};
    }
    int n = recvmmsg(w->udp_fd, w->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    w->datagrams_in += (uint64_t)n;
    for (int i = 0; i < n; i++) {
        uint8_t first = w->bufs[i][0];
        /* RFC 7983: STUN 0-3, DTLS 20-63, RTP/RTCP 128-191. */
        int known = w->msgs[i].msg_len > 0 &&
                    (first <= 3 || (first >= 20 && first <= 63) || (first >= 128 && first <= 191));
        if (known)
            w->dropped_unhandled++;
        else
            w->dropped_unknown++;
    }
}

static void *run(void *arg)
{
    worker_t *w = arg;
    struct epoll_event evs[4];
    while (!atomic_load(&w->stop)) {
        int n = epoll_wait(w->epoll_fd, evs, 4, -1);
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
    }
    return NULL;
}

static int watch(int epoll_fd, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int worker_start(int index, int port, worker_notify_cb notify, void *notify_arg, worker_t **out,
                 char *err, size_t errlen)
{
    worker_t *w = xcalloc(1, sizeof *w);
    w->index = index;
    w->notify = notify;
    w->notify_arg = notify_arg;
    w->wake_fd = w->epoll_fd = -1;
    w->commands = msgq_new(QUEUE_LEN, sizeof(worker_cmd_t));
    w->events = msgq_new(QUEUE_LEN, sizeof(worker_event_t));
    w->udp_fd = bind_udp(port, err, errlen);
    if (w->udp_fd < 0) goto fail;
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (w->wake_fd < 0 || w->epoll_fd < 0 || watch(w->epoll_fd, w->wake_fd) != 0 ||
        watch(w->epoll_fd, w->udp_fd) != 0) {
        snprintf(err, errlen, "worker %d: %s", index, strerror(errno));
        goto fail;
    }
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, errlen, "worker %d: cannot start thread", index);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    if (w->udp_fd >= 0) close(w->udp_fd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    if (w->epoll_fd >= 0) close(w->epoll_fd);
    msgq_free(w->commands);
    msgq_free(w->events);
    free(w);
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
    out->datagrams_in = w->datagrams_in;
    out->dropped_unknown = w->dropped_unknown;
    out->dropped_unhandled = w->dropped_unhandled;
}

void worker_stop(worker_t *w)
{
    if (!w) return;
    atomic_store(&w->stop, true);
    wake(w);
    pthread_join(w->thread, NULL);
    close(w->udp_fd);
    close(w->wake_fd);
    close(w->epoll_fd);
    msgq_free(w->commands);
    msgq_free(w->events);
    free(w);
}
