/* msgq: a bounded queue of fixed-size messages between two threads (the boundary of
 * DESIGN.md: signalling thread <-> media worker). Control-plane rate only: a mutex, no
 * allocation after msgq_new. */
#ifndef SOBRE_MSGQ_H
#define SOBRE_MSGQ_H

#include <stddef.h>

typedef struct msgq msgq_t;

/* A queue of at most `capacity` messages of `item_size` bytes. Free with msgq_free. */
msgq_t *msgq_new(size_t capacity, size_t item_size);
void msgq_free(msgq_t *q);

/* Copies item in. Returns 0, or -1 when the queue is full (nothing is queued). */
int msgq_push(msgq_t *q, const void *item);

/* Copies the oldest message out. Returns 1 when one was taken, 0 when empty. */
int msgq_pop(msgq_t *q, void *item);

#endif
