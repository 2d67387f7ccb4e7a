/* Tests for sfu/sendq: batching, flush through a real UDP socket pair on 127.0.0.1,
 * auto-flush when the slots run out, sent/dropped counters. */
#include "sendq.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A UDP socket bound to 127.0.0.1 on an ephemeral port; its address in *addr. */
static int udp_socket(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    CHECK_INT(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    int rcvbuf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (addr) *addr = sin;
    return fd;
}

/* Receives one pending datagram without waiting; returns its length or -1. Loopback
 * delivery is synchronous: what sendmmsg accepted is already queued at the receiver. */
static ssize_t recv_now(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from)
{
    socklen_t fl = sizeof *from;
    return recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
}

/* Queues one datagram of len bytes, each the value tag, to addr. */
static void queue(sendq_t *q, uint8_t tag, size_t len, const struct sockaddr *to, socklen_t tolen)
{
    uint8_t *slot = sendq_slot(q);
    CHECK(slot != NULL);
    memset(slot, tag, len);
    sendq_commit(q, len, to, tolen);
}

static bool is_datagram(const uint8_t *buf, ssize_t n, uint8_t tag, size_t len)
{
    if (n != (ssize_t)len) return false;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != tag) return false;
    return true;
}

static void test_flush_order(void)
{
    struct sockaddr_in from_addr, to_addr, src;
    int from = udp_socket(&from_addr), to = udp_socket(&to_addr);
    sendq_t *q = sendq_new(from);
    uint8_t buf[SENDQ_SLOT_SIZE + 1];
    const struct sockaddr *dst = (const struct sockaddr *)&to_addr;

    /* Nothing is sent before flush; an uncommitted slot is never sent. */
    sendq_slot(q);
    sendq_flush(q);
    CHECK_INT(sendq_sent(q), 0);
    queue(q, 1, 1, dst, sizeof to_addr);
    queue(q, 2, 100, dst, sizeof to_addr);
    queue(q, 3, SENDQ_SLOT_SIZE, dst, sizeof to_addr); /* a full slot */
    CHECK(recv_now(to, buf, sizeof buf, &src) < 0 && errno == EAGAIN);
    CHECK_INT(sendq_sent(q), 0);
    CHECK_INT(sendq_committed_bytes(q), 1 + 100 + SENDQ_SLOT_SIZE); /* counted when queued */
    sendq_flush(q);
    CHECK_INT(sendq_sent(q), 3);
    CHECK_INT(sendq_dropped(q), 0);
    static const size_t lens[] = {1, 100, SENDQ_SLOT_SIZE};
    for (int i = 0; i < 3; i++) {
        ssize_t n = recv_now(to, buf, sizeof buf, &src);
        CHECK(is_datagram(buf, n, (uint8_t)(i + 1), lens[i]));
        CHECK_INT(src.sin_port, from_addr.sin_port); /* sent from the queue's socket */
    }
    CHECK(recv_now(to, buf, sizeof buf, &src) < 0);

    /* Flushing an empty queue sends nothing; the queue is reusable after a flush. */
    sendq_flush(q);
    CHECK_INT(sendq_sent(q), 3);
    queue(q, 4, 10, dst, sizeof to_addr);
    sendq_flush(q);
    CHECK(is_datagram(buf, recv_now(to, buf, sizeof buf, &src), 4, 10));
    CHECK_INT(sendq_sent(q), 4);
    sendq_free(q);
    close(from);
    close(to);
}

/* Taking a slot when all SENDQ_SLOTS are queued sends them first, in order. */
static void test_auto_flush(void)
{
    struct sockaddr_in to_addr, src;
    int from = udp_socket(NULL), to = udp_socket(&to_addr);
    sendq_t *q = sendq_new(from);
    uint8_t buf[64];
    const struct sockaddr *dst = (const struct sockaddr *)&to_addr;
    for (int i = 0; i < SENDQ_SLOTS; i++)
        queue(q, (uint8_t)i, 8 + (size_t)i % 16, dst, sizeof to_addr);
    CHECK_INT(sendq_sent(q), 0);
    CHECK(recv_now(to, buf, sizeof buf, &src) < 0);
    queue(q, 0xee, 20, dst, sizeof to_addr); /* the 65th: flushes the first 64 */
    CHECK_INT(sendq_sent(q), SENDQ_SLOTS);
    int in_order = 0;
    for (int i = 0; i < SENDQ_SLOTS; i++)
        in_order +=
            is_datagram(buf, recv_now(to, buf, sizeof buf, &src), (uint8_t)i, 8 + (size_t)i % 16);
    CHECK_INT(in_order, SENDQ_SLOTS);
    CHECK(recv_now(to, buf, sizeof buf, &src) < 0); /* the 65th waits for the next flush */
    sendq_flush(q);
    CHECK(is_datagram(buf, recv_now(to, buf, sizeof buf, &src), 0xee, 20));
    CHECK_INT(sendq_sent(q), SENDQ_SLOTS + 1);
    CHECK_INT(sendq_dropped(q), 0);
    sendq_free(q);
    close(from);
    close(to);
}

/* Datagrams the kernel refuses are counted as dropped; the others in the same batch still
 * go out, in order. */
static void test_dropped(void)
{
    struct sockaddr_in to_addr, src;
    int from = udp_socket(NULL), to = udp_socket(&to_addr);
    sendq_t *q = sendq_new(from);
    uint8_t buf[64];
    struct sockaddr_in6 v6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct sockaddr_in port0 = to_addr;
    port0.sin_port = 0;
    const struct sockaddr *dst = (const struct sockaddr *)&to_addr;

    queue(q, 1, 10, dst, sizeof to_addr);
    queue(q, 2, 10, (const struct sockaddr *)&v6, sizeof v6); /* IPv6 on an IPv4 socket */
    queue(q, 3, 10, dst, sizeof to_addr);
    queue(q, 4, 10, (const struct sockaddr *)&port0, sizeof port0); /* port 0 */
    queue(q, 5, 10, dst, 3);                                        /* truncated address */
    queue(q, 6, 10, dst, sizeof to_addr);
    sendq_flush(q);
    CHECK_INT(sendq_sent(q), 3);
    CHECK_INT(sendq_dropped(q), 3);
    CHECK(is_datagram(buf, recv_now(to, buf, sizeof buf, &src), 1, 10));
    CHECK(is_datagram(buf, recv_now(to, buf, sizeof buf, &src), 3, 10));
    CHECK(is_datagram(buf, recv_now(to, buf, sizeof buf, &src), 6, 10));
    CHECK(recv_now(to, buf, sizeof buf, &src) < 0);

    /* A closed port is not a local refusal: an unconnected UDP socket gets no error from
     * the ICMP port unreachable, so these count as sent. */
    struct sockaddr_in closed_addr;
    int closed = udp_socket(&closed_addr);
    close(closed);
    for (int i = 0; i < 3; i++) {
        queue(q, 7, 10, (const struct sockaddr *)&closed_addr, sizeof closed_addr);
        sendq_flush(q);
    }
    CHECK_INT(sendq_sent(q), 6);
    CHECK_INT(sendq_dropped(q), 3);

    /* A socket that cannot send at all: everything is dropped, nothing loops forever. */
    sendq_t *bad = sendq_new(-1);
    for (int i = 0; i < 5; i++)
        queue(bad, 8, 10, dst, sizeof to_addr);
    sendq_flush(bad);
    CHECK_INT(sendq_sent(bad), 0);
    CHECK_INT(sendq_dropped(bad), 5);
    sendq_free(bad);
    sendq_free(q);
    sendq_free(NULL);
    close(from);
    close(to);
}

/* A host with several addresses answers from the one the peer wrote to: the source set
 * with sendq_set_source is the one the receiver sees, on IPv4 and dual-stack IPv6
 * sockets (v4-mapped), whatever the kernel would have picked. */
static void test_source(void)
{
    struct sockaddr_in rx_addr;
    int rx = udp_socket(&rx_addr);
    static const int families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        int tx = socket(families[f], SOCK_DGRAM, 0);
        CHECK(tx >= 0);
        struct sockaddr_in6 to6 = {.sin6_family = AF_INET6, .sin6_port = rx_addr.sin_port};
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &to6.sin6_addr);
        const struct sockaddr *to =
            families[f] == AF_INET ? (struct sockaddr *)&rx_addr : (struct sockaddr *)&to6;
        socklen_t tolen = families[f] == AF_INET ? sizeof rx_addr : sizeof to6;
        sendq_t *q = sendq_new(tx);
        static const char *const sources[] = {"127.0.0.2", "127.0.0.3", NULL};
        for (size_t i = 0; i < 3; i++) {
            sendq_source_t src = {.family = families[f]};
            if (sources[i] && families[f] == AF_INET) inet_pton(AF_INET, sources[i], &src.v4);
            if (sources[i] && families[f] == AF_INET6) {
                char mapped[32];
                snprintf(mapped, sizeof mapped, "::ffff:%s", sources[i]);
                inet_pton(AF_INET6, mapped, &src.v6);
            }
            sendq_set_source(q, sources[i] ? &src : NULL);
            queue(q, (uint8_t)i, 10, to, tolen);
        }
        sendq_flush(q);
        CHECK_INT(sendq_sent(q), 3);
        for (size_t i = 0; i < 3; i++) {
            uint8_t buf[64];
            struct sockaddr_in from;
            ssize_t n = recv_now(rx, buf, sizeof buf, &from);
            CHECK(is_datagram(buf, n, (uint8_t)i, 10));
            char got[INET_ADDRSTRLEN] = "";
            inet_ntop(AF_INET, &from.sin_addr, got, sizeof got);
            /* No source: the kernel's choice for a loopback destination, 127.0.0.1. */
            CHECK_STR(got, sources[i] ? sources[i] : "127.0.0.1");
        }
        sendq_free(q);
        close(tx);
    }
    close(rx);
}

int main(void)
{
    test_flush_order();
    test_auto_flush();
    test_dropped();
    test_source();
    TEST_END();
}
