/* The signalling <-> worker boundary: commands in, events out, clean start and stop. */
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msgq.h"
#include "test.h"
#include "worker.h"

static atomic_int notified;

static void notify(void *arg)
{
    (void)arg;
    notified++;
}

static int free_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_msgq(void)
{
    msgq_t *q = msgq_new(2, sizeof(int));
    int v = 1, out = 0;
    CHECK_INT(msgq_pop(q, &out), 0);
    CHECK_INT(msgq_push(q, &v), 0);
    v = 2;
    CHECK_INT(msgq_push(q, &v), 0);
    CHECK_INT(msgq_push(q, &v), -1); /* full: refused, nothing lost */
    CHECK_INT(msgq_pop(q, &out), 1);
    CHECK_INT(out, 1);
    v = 3;
    CHECK_INT(msgq_push(q, &v), 0); /* wraps around */
    CHECK_INT(msgq_pop(q, &out), 1);
    CHECK_INT(out, 2);
    CHECK_INT(msgq_pop(q, &out), 1);
    CHECK_INT(out, 3);
    msgq_free(q);
    msgq_free(NULL);
}

static void test_ping_and_stats(void)
{
    int port = free_udp_port();
    worker_t *w;
    char err[256] = "";
    worker_params_t wp = {.index = 3, .port = port, .notify = notify};
    CHECK_INT(worker_start(&wp, &w, err, sizeof err), 0);
    if (!w) return;
    for (uint64_t i = 0; i < 5; i++) {
        worker_cmd_t cmd = {.kind = WORKER_CMD_PING, .cookie = 100 + i};
        CHECK_INT(worker_post(w, &cmd), 0);
    }
    worker_event_t ev;
    uint64_t want = 100;
    for (int tries = 0; tries < 200 && want < 105; tries++) {
        while (worker_next_event(w, &ev)) {
            CHECK_INT(ev.kind, WORKER_EV_PONG);
            CHECK_INT(ev.worker, 3);
            CHECK_INT(ev.cookie, want);
            want++;
        }
        poll(NULL, 0, 10);
    }
    CHECK_INT(want, 105);
    CHECK(notified >= 1);

    /* Datagrams are counted and dropped: garbage (first byte 0xff) and STUN for no transport. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uint8_t junk[20] = {0xff}, stun[20] = {0x00, 0x01};
    sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&to, sizeof to);
    sendto(fd, stun, sizeof stun, 0, (struct sockaddr *)&to, sizeof to);
    close(fd);
    worker_stats_t st = {0};
    for (int tries = 0; tries < 200 && st.datagrams_in < 2; tries++) {
        poll(NULL, 0, 10);
        worker_get_stats(w, &st);
    }
    CHECK_INT(st.datagrams_in, 2);
    CHECK_INT(st.dropped_unknown, 1);
    CHECK_INT(st.dropped_stun, 1);

    /* A second worker on the same port fails with a clear error. */
    worker_t *w2;
    wp.index = 4;
    CHECK_INT(worker_start(&wp, &w2, err, sizeof err), -1);
    CHECK(w2 == NULL);
    char want_err[128];
    snprintf(want_err, sizeof want_err,
             "media.port: cannot bind UDP port %d: Address already in use", port);
    CHECK_STR(err, want_err);
    worker_stop(w);
    worker_stop(NULL);
}

int main(void)
{
    test_msgq();
    test_ping_and_stats();
    TEST_END();
}
