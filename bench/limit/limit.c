/* bench/limit: the floor of this machine for an SFU. A bare UDP relay doing only what any
 * SFU must do per packet: batched receive (recvmmsg), SRTP unprotect, for each other
 * participant of the room SRTP protect, batched send (sendmmsg). No ICE, no DTLS, no RTP
 * rewriting, no feedback, no congestion control: participants announce themselves with a
 * hello datagram and use keys both sides derive (limit_proto.h). Driven by
 * `loadgen --mode limit`.
 *
 * usage: limit [--port N] [--rcvbuf BYTES]
 *   --port    0 or absent: any free port; the port is printed
 *   --rcvbuf  socket receive and send buffers (default 8 MiB, capped by the kernel at
 *             net.core.rmem_max/wmem_max; 0: the system default, net.core.rmem_default) */
#include "limit_proto.h"
#include "srtp_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH     32
#define OUT_BATCH 256
#define BUF_CAP   (1500 + SRTP_CONN_TRAILER_ROOM)
#define MAX_PEERS 4096
#define HASH_SIZE 8192 /* power of two, > 2 x MAX_PEERS */
#define MAX_ROOM  64

typedef struct peer {
    struct sockaddr_in addr;
    int room; /* index into rooms */
    uint32_t part;
    srtp_conn_t *srtp;
} peer_t;

typedef struct room {
    uint32_t id;
    int members[MAX_ROOM];
    int n;
} room_t;

static peer_t peers[MAX_PEERS];
static int n_peers;
static int hash[HASH_SIZE]; /* peer index + 1, 0 empty */
static room_t rooms[MAX_PEERS];
static int n_rooms;
static volatile sig_atomic_t stop;
static uint64_t rx, tx, dropped;

static uint8_t in_buf[BATCH][BUF_CAP] __attribute__((aligned(16)));
static uint8_t out_buf[OUT_BATCH][BUF_CAP] __attribute__((aligned(16)));
static struct mmsghdr out_msgs[OUT_BATCH];
static struct iovec out_iov[OUT_BATCH];
static int n_out;

static uint32_t addr_hash(const struct sockaddr_in *a)
{
    uint32_t h = a->sin_addr.s_addr * 2654435761u ^ (uint32_t)a->sin_port * 40503u;
    return h & (HASH_SIZE - 1);
}

static int find_peer(const struct sockaddr_in *a)
{
    for (uint32_t h = addr_hash(a);; h = (h + 1) & (HASH_SIZE - 1)) {
        int i = hash[h] - 1;
        if (i < 0) return -1;
        if (peers[i].addr.sin_addr.s_addr == a->sin_addr.s_addr &&
            peers[i].addr.sin_port == a->sin_port)
            return i;
    }
}

static room_t *room_of(uint32_t id)
{
    for (int i = 0; i < n_rooms; i++)
        if (rooms[i].id == id) return &rooms[i];
    if (n_rooms == MAX_PEERS) return NULL;
    rooms[n_rooms].id = id;
    return &rooms[n_rooms++];
}

static void on_hello(const struct sockaddr_in *from, uint32_t room_id, uint32_t part)
{
    if (find_peer(from) >= 0) return; /* hellos repeat */
    room_t *room = room_of(room_id);
    if (n_peers == MAX_PEERS || !room || room->n == MAX_ROOM) {
        fprintf(stderr, "limit: participant %" PRIu32 " refused: table full\n", part);
        return;
    }
    dtls_srtp_keys_t keys;
    limit_keys(part, true, &keys);
    peer_t *p = &peers[n_peers];
    if (!(p->srtp = srtp_conn_new(&keys))) {
        fprintf(stderr, "limit: srtp_conn_new failed\n");
        return;
    }
    p->addr = *from;
    p->room = (int)(room - rooms);
    p->part = part;
    uint32_t h = addr_hash(from);
    while (hash[h])
        h = (h + 1) & (HASH_SIZE - 1);
    hash[h] = n_peers + 1;
    room->members[room->n++] = n_peers++;
}

static void flush(int fd)
{
    for (int done = 0; done < n_out;) {
        int n = sendmmsg(fd, out_msgs + done, (unsigned)(n_out - done), 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            dropped += (uint64_t)(n_out - done);
            break;
        }
        tx += (uint64_t)n;
        done += n;
    }
    n_out = 0;
}

/* One SRTP packet from peer i: unprotect, then protect a copy for every other member. */
static void relay(int fd, int i, uint8_t *pkt, size_t len)
{
    peer_t *from = &peers[i];
    if (pkt[0] < 128 || pkt[0] > 191 || (pkt[1] >= 192 && pkt[1] <= 223)) return; /* RTP only */
    if (srtp_conn_unprotect_rtp(from->srtp, pkt, &len) != 0) {
        dropped++;
        return;
    }
    room_t *room = &rooms[from->room];
    for (int m = 0; m < room->n; m++) {
        peer_t *to = &peers[room->members[m]];
        if (to == from) continue;
        if (n_out == OUT_BATCH) flush(fd);
        uint8_t *out = out_buf[n_out];
        size_t n = len;
        memcpy(out, pkt, len);
        if (srtp_conn_protect_rtp(to->srtp, out, &n, BUF_CAP) != 0) {
            dropped++;
            continue;
        }
        out_iov[n_out] = (struct iovec){out, n};
        out_msgs[n_out].msg_hdr = (struct msghdr){.msg_name = &to->addr,
                                                  .msg_namelen = sizeof to->addr,
                                                  .msg_iov = &out_iov[n_out],
                                                  .msg_iovlen = 1};
        n_out++;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    int port = 0, buf = 8 << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--rcvbuf") && i + 1 < argc) {
            buf = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: limit [--port N] [--rcvbuf BYTES]\n");
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "limit: --port %d: expected 0..65535\n", port);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: recvmmsg returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &sl) < 0 || srtp_conn_global_init() != 0) {
        perror("limit: socket");
        return 1;
    }
    if (buf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    }
    printf("limit: listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
    fflush(stdout);
    static struct sockaddr_in from[BATCH];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    while (!stop) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){in_buf[i], BUF_CAP};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                              .msg_namelen = sizeof from[i],
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("limit: recvmmsg");
            break;
        }
        for (int i = 0; i < n; i++) {
            uint32_t room, part;
            size_t len = msgs[i].msg_len;
            if (from[i].sin_family != AF_INET) continue;
            rx++;
            if (limit_parse_hello(in_buf[i], len, &room, &part) == 0) {
                on_hello(&from[i], room, part);
                continue;
            }
            int p = find_peer(&from[i]);
            if (p >= 0) relay(fd, p, in_buf[i], len);
        }
        flush(fd);
    }
    printf("limit: received %" PRIu64 ", sent %" PRIu64 ", dropped %" PRIu64 "\n", rx, tx, dropped);
    for (int i = 0; i < n_peers; i++)
        srtp_conn_free(peers[i].srtp);
    close(fd);
    return 0;
}
