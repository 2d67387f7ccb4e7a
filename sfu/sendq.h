/* sendq: one worker's batch of outgoing datagrams, sent with one sendmmsg per loop
 * iteration (STYLE.md rule 8). Slots are allocated once; taking a slot when the batch is
 * full flushes it first. Thread: the owning worker only. */
#ifndef SOBRE_SENDQ_H
#define SOBRE_SENDQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SENDQ_SLOTS 64
#define SENDQ_SLOT_SIZE 2048 /* a 1500-byte datagram plus the SRTP trailer room */

typedef struct sendq sendq_t;

/* A batch sending on the datagram socket fd (borrowed). */
sendq_t *sendq_new(int fd);
void sendq_free(sendq_t *q); /* sendq_free(NULL) is a no-op; unsent datagrams are lost */

/* The buffer of the next slot (SENDQ_SLOT_SIZE bytes). Nothing is queued until commit. */
uint8_t *sendq_slot(sendq_t *q);

/* Queues the slot sendq_slot returned, holding len bytes, for address to. */
void sendq_commit(sendq_t *q, size_t len, const struct sockaddr *to, socklen_t tolen);

/* Sends everything queued. Datagrams the kernel refuses are dropped and counted. */
void sendq_flush(sendq_t *q);

/* Datagrams sent and dropped so far. */
uint64_t sendq_sent(const sendq_t *q);
uint64_t sendq_dropped(const sendq_t *q);

#endif
