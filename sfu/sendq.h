/* sendq: one worker's batch of outgoing datagrams, sent with one sendmmsg per loop
 * iteration (STYLE.md rule 8). Slots are allocated once; taking a slot when the batch is
 * full flushes it first. Thread: the owning worker only. */
#ifndef SOBRE_SENDQ_H
#define SOBRE_SENDQ_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SENDQ_SLOTS     64
#define SENDQ_SLOT_SIZE 2048 /* a 1500-byte datagram plus the SRTP trailer room */

typedef struct sendq sendq_t;

/* The local address a datagram leaves from. A host with several addresses must answer
 * from the one the peer wrote to (ICE checks a pair of addresses), so the worker records
 * it on receipt (IP_PKTINFO, IPV6_PKTINFO) and sets it here. family 0: the kernel picks. */
typedef struct sendq_source {
    int family; /* 0, AF_INET (v4) or AF_INET6 (v6; v4-mapped on a dual-stack socket) */
    struct in_addr v4;
    struct in6_addr v6;
} sendq_source_t;

/* A batch sending on the datagram socket fd (borrowed). */
sendq_t *sendq_new(int fd);
void sendq_free(sendq_t *q); /* sendq_free(NULL) is a no-op; unsent datagrams are lost */

/* The buffer of the next slot (SENDQ_SLOT_SIZE bytes). Nothing is queued until commit. */
uint8_t *sendq_slot(sendq_t *q);

/* The source of the datagrams committed from now on (copied); NULL: the kernel picks. */
void sendq_set_source(sendq_t *q, const sendq_source_t *src);

/* Queues the slot sendq_slot returned, holding len bytes, for address to, from the
 * current source. */
void sendq_commit(sendq_t *q, size_t len, const struct sockaddr *to, socklen_t tolen);

/* Sends everything queued. Datagrams the kernel refuses are dropped and counted. */
void sendq_flush(sendq_t *q);

/* Datagrams sent and dropped so far. */
uint64_t sendq_sent(const sendq_t *q);
uint64_t sendq_dropped(const sendq_t *q);

/* Bytes of every datagram committed so far (sent or not yet): the worker charges the
 * difference across a call to the transport it sent for. */
uint64_t sendq_committed_bytes(const sendq_t *q);

#endif
