#include "timers.h"

#include <stdlib.h>

#include "mem.h"

void timers_init(timers_t *t)
{
    t->heap = NULL;
    t->len = t->cap = 0;
}

void timers_release(timers_t *t)
{
    free(t->heap);
    timers_init(t);
}

void timers_node_init(timers_node_t *n)
{
    n->at = TIMERS_NEVER;
    n->slot = SIZE_MAX;
}

static void place(timers_t *t, timers_node_t *n, size_t slot)
{
    t->heap[slot] = n;
    n->slot = slot;
}

static void sift_up(timers_t *t, size_t i)
{
    timers_node_t *n = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (t->heap[parent]->at <= n->at) break;
        place(t, t->heap[parent], i);
        i = parent;
    }
    place(t, n, i);
}

static void sift_down(timers_t *t, size_t i)
{
    timers_node_t *n = t->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->len) break;
        if (child + 1 < t->len && t->heap[child + 1]->at < t->heap[child]->at) child++;
        if (n->at <= t->heap[child]->at) break;
        place(t, t->heap[child], i);
        i = child;
    }
    place(t, n, i);
}

void timers_schedule(timers_t *t, timers_node_t *n, uint64_t at)
{
    if (n->slot != SIZE_MAX) {
        uint64_t old = n->at;
        n->at = at;
        if (at < old)
            sift_up(t, n->slot);
        else
            sift_down(t, n->slot);
        return;
    }
    if (t->len == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->heap = xrealloc(t->heap, t->cap * sizeof *t->heap);
    }
    n->at = at;
    place(t, n, t->len++);
    sift_up(t, n->slot);
}

void timers_cancel(timers_t *t, timers_node_t *n)
{
    if (n->slot == SIZE_MAX) return;
    size_t i = n->slot;
    timers_node_t *last = t->heap[--t->len];
    timers_node_init(n);
    if (last == n) return;
    place(t, last, i);
    sift_down(t, i);
    sift_up(t, last->slot);
}

uint64_t timers_next(const timers_t *t)
{
    return t->len ? t->heap[0]->at : TIMERS_NEVER;
}

timers_node_t *timers_pop_due(timers_t *t, uint64_t now)
{
    if (!t->len || t->heap[0]->at > now) return NULL;
    timers_node_t *n = t->heap[0];
    timers_cancel(t, n);
    return n;
}
