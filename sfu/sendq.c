#include "sendq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct sendq {
    int fd;
    size_t len;
    uint64_t sent, dropped;
    struct mmsghdr msgs[SENDQ_SLOTS];
    struct iovec iovs[SENDQ_SLOTS];
    struct sockaddr_storage addrs[SENDQ_SLOTS];
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

void sendq_commit(sendq_t *q, size_t len, const struct sockaddr *to, socklen_t tolen)
{
    size_t i = q->len++;
    memcpy(&q->addrs[i], to, tolen);
    q->iovs[i] = (struct iovec){.iov_base = q->bufs[i], .iov_len = len};
    q->msgs[i].msg_hdr = (struct msghdr){
        .msg_name = &q->addrs[i], .msg_namelen = tolen, .msg_iov = &q->iovs[i], .msg_iovlen = 1};
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
