#include "sendq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct sendq {
    int fd;
    size_t len;
    uint64_t sent, dropped;
    uint64_t committed_bytes;
    struct mmsghdr msgs[SENDQ_SLOTS];
    struct iovec iovs[SENDQ_SLOTS];
    struct sockaddr_storage addrs[SENDQ_SLOTS];
    sendq_source_t src;
    /* One control message per slot: the source address (IP_PKTINFO or IPV6_PKTINFO). */
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    } ctrl[SENDQ_SLOTS];
    uint8_t bufs[SENDQ_SLOTS][SENDQ_SLOT_SIZE];
};

sendq_t *sendq_new(int fd)
{
    sendq_t *q = xcalloc(1, sizeof *q);
    q->fd = fd;
    return q;
}

void sendq_free(sendq_t *q)
{
    free(q);
}

uint8_t *sendq_slot(sendq_t *q)
{
    if (q->len == SENDQ_SLOTS) sendq_flush(q);
    return q->bufs[q->len];
}

void sendq_set_source(sendq_t *q, const sendq_source_t *src)
{
    if (src)
        q->src = *src;
    else
        q->src.family = 0;
}

/* Fills slot i's control buffer with the current source; returns its length. */
static size_t put_source(sendq_t *q, size_t i)
{
    struct msghdr mh = {.msg_control = q->ctrl[i].buf, .msg_controllen = sizeof q->ctrl[i].buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    memset(q->ctrl[i].buf, 0, sizeof q->ctrl[i].buf);
    if (q->src.family == AF_INET6) {
        /* ifindex 0: the source address only; routing still picks the interface. */
        struct in6_pktinfo pi = {.ipi6_addr = q->src.v6};
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return CMSG_SPACE(sizeof pi);
    }
    if (q->src.family == AF_INET) {
        struct in_pktinfo pi = {.ipi_spec_dst = q->src.v4};
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        return CMSG_SPACE(sizeof pi);
    }
    return 0;
}

void sendq_commit(sendq_t *q, size_t len, const struct sockaddr *to, socklen_t tolen)
{
    size_t i = q->len++;
    q->committed_bytes += len;
    memcpy(&q->addrs[i], to, tolen);
    q->iovs[i] = (struct iovec){.iov_base = q->bufs[i], .iov_len = len};
    size_t clen = put_source(q, i);
    q->msgs[i].msg_hdr = (struct msghdr){.msg_name = &q->addrs[i],
                                         .msg_namelen = tolen,
                                         .msg_iov = &q->iovs[i],
                                         .msg_iovlen = 1,
                                         .msg_control = clen ? q->ctrl[i].buf : NULL,
                                         .msg_controllen = clen};
}

void sendq_flush(sendq_t *q)
{
    size_t done = 0;
    while (done < q->len) {
        int n = sendmmsg(q->fd, q->msgs + done, (unsigned)(q->len - done), MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
            q->sent += (uint64_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            /* Full socket buffer or an unreachable address: drop this one, go on. */
            done++;
            q->dropped++;
        }
    }
    q->len = 0;
}

uint64_t sendq_sent(const sendq_t *q)
{
    return q->sent;
}

uint64_t sendq_dropped(const sendq_t *q)
{
    return q->dropped;
}

uint64_t sendq_committed_bytes(const sendq_t *q)
{
    return q->committed_bytes;
}
