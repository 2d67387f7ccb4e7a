#include "msgq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct msgq {
    pthread_mutex_t lock;
    size_t capacity, item_size, head, count;
    unsigned char *items;
};

msgq_t *msgq_new(size_t capacity, size_t item_size)
{
    msgq_t *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    q->capacity = capacity;
    q->item_size = item_size;
    q->items = xcalloc(capacity, item_size);
    return q;
}

void msgq_free(msgq_t *q)
{
    if (!q) return;
    pthread_mutex_destroy(&q->lock);
    free(q->items);
    free(q);
}

int msgq_push(msgq_t *q, const void *item)
{
    int rc = -1;
    pthread_mutex_lock(&q->lock);
    if (q->count < q->capacity) {
        size_t tail = (q->head + q->count) % q->capacity;
        memcpy(q->items + tail * q->item_size, item, q->item_size);
        q->count++;
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int msgq_pop(msgq_t *q, void *item)
{
    int got = 0;
    pthread_mutex_lock(&q->lock);
    if (q->count > 0) {
        memcpy(item, q->items + q->head * q->item_size, q->item_size);
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        got = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}
