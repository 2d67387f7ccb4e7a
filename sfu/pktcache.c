/* Packet cache ring; see pktcache.h. */
#include "pktcache.h"

#include "mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Extended sequence numbers start in cycle 1 so that a packet slightly older than the
 * first one put still extends below it instead of wrapping to the cycle above. */
#define FIRST_CYCLE 0x10000u

typedef struct slot {
    uint64_t ext; /* extended seq stored here; 0: empty (real ones are >= 0x8000) */
    uint64_t pos; /* where its bytes start in the stream of bytes put (buf[pos % size]) */
    size_t len;
} slot_t;

struct pktcache {
    size_t n, size;
    bool any;
    uint64_t highest; /* newest extended seq put */
    uint64_t head;    /* bytes put so far (with the ends skipped where a packet wrapped) */
    slot_t *slots;
    uint8_t *buf; /* size bytes */
};

/* The 64-bit value nearest to ref with the low 16 bits of seq. */
static uint64_t extend(uint64_t ref, uint16_t seq)
{
    uint16_t delta = (uint16_t)(seq - (uint16_t)ref);
    return delta < 0x8000 ? ref + delta : ref - (0x10000u - delta);
}

pktcache_t *pktcache_new(size_t entries, size_t bytes)
{
    if (entries == 0 || bytes == 0) return NULL;
    pktcache_t *c = xcalloc(1, sizeof *c);
    c->n = entries;
    c->size = bytes;
    c->slots = xcalloc(entries, sizeof *c->slots);
    c->buf = xmalloc(bytes);
    return c;
}

void pktcache_free(pktcache_t *c)
{
    if (!c) return;
    free(c->slots);
    free(c->buf);
    free(c);
}

void pktcache_reset(pktcache_t *c)
{
    memset(c->slots, 0, c->n * sizeof *c->slots);
    c->any = false;
    c->highest = 0;
}

int pktcache_put(pktcache_t *c, uint16_t seq, const uint8_t *pkt, size_t len)
{
    if (len > c->size) return PKTCACHE_ERR_TOO_BIG;
    uint64_t ext;
    if (!c->any) {
        ext = c->highest = FIRST_CYCLE + seq;
        c->any = true;
    } else {
        ext = extend(c->highest, seq);
        if (ext > c->highest) c->highest = ext;
        if (ext + c->n <= c->highest) return PKTCACHE_ERR_OLD;
    }
    /* Back to back; a packet that would straddle the end starts over at 0. */
    uint64_t pos = c->head, off = pos % c->size;
    if (off + len > c->size) pos += c->size - off;
    c->head = pos + len;
    slot_t *s = &c->slots[ext % c->n];
    s->ext = ext;
    s->pos = pos;
    s->len = len;
    memcpy(c->buf + pos % c->size, pkt, len);
    return 0;
}

int pktcache_get(const pktcache_t *c, uint16_t seq, const uint8_t **pkt, size_t *len)
{
    if (!c->any) return PKTCACHE_ERR_MISS;
    uint64_t ext = extend(c->highest, seq);
    if (ext > c->highest || ext + c->n <= c->highest) return PKTCACHE_ERR_MISS;
    const slot_t *s = &c->slots[ext % c->n];
    if (s->ext != ext || c->head - s->pos > c->size) return PKTCACHE_ERR_MISS; /* overwritten */
    *pkt = c->buf + s->pos % c->size;
    *len = s->len;
    return 0;
}

size_t pktcache_entries(const pktcache_t *c)
{
    return c->n;
}

size_t pktcache_bytes(const pktcache_t *c)
{
    return c->size;
}
