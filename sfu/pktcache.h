/* pktcache: the recent packets of one stream, kept to answer NACKs (RFC 4585) with
 * retransmissions. A ring of a fixed number of slots over a fixed ring of bytes where
 * packets lie back to back, whatever their size, all allocated once by pktcache_new
 * (control plane); put and get copy nothing but the packet and allocate nothing (packet
 * path, STYLE.md rule 7; Galene's packetcache, sized by bytes rather than by slots of the
 * largest packet).
 *
 * Packets are keyed by a 16-bit RTP sequence number (for a forwarded stream: the
 * outgoing, rewritten one), extended internally to 64 bits relative to the newest put, so
 * wraparound (65535 -> 0) is seamless. A packet is found while fewer than `entries`
 * sequence numbers separate it from the newest one, no other packet took its slot, and
 * the packets put after it have not filled the byte ring over it.
 *
 * Thread: a cache belongs to one worker; no locking. */
#ifndef SOBRE_PKTCACHE_H
#define SOBRE_PKTCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pktcache pktcache_t;

enum {
    PKTCACHE_ERR_MISS = -1,    /* get: never stored, overwritten, or too old */
    PKTCACHE_ERR_TOO_BIG = -2, /* put: the packet is longer than the byte ring */
    PKTCACHE_ERR_OLD = -3,     /* put: older than everything the ring still holds */
};

/* Creates a cache of `entries` slots over `bytes` bytes of packets (e.g. 256 slots over
 * 1 s of the stream's bytes). Returns NULL when either is 0; aborts on allocation failure
 * (xmalloc). Free with pktcache_free. Control plane: allocates about bytes + 24 x entries
 * bytes. */
pktcache_t *pktcache_new(size_t entries, size_t bytes);

/* Frees the cache; NULL is a no-op. Views from pktcache_get become invalid. */
void pktcache_free(pktcache_t *c);

/* Forgets every packet (e.g. when the stream restarts from another sequence space). */
void pktcache_reset(pktcache_t *c);

/* Copies pkt[0..len) into the slot of seq, replacing whatever was there (a packet put
 * twice under the same seq keeps the latest copy). Returns 0, PKTCACHE_ERR_TOO_BIG or
 * PKTCACHE_ERR_OLD (nothing stored then). */
int pktcache_put(pktcache_t *c, uint16_t seq, const uint8_t *pkt, size_t len);

/* Looks seq up. Returns 0 with *pkt, *len viewing the cached copy (valid until the next
 * put or reset on this cache), or PKTCACHE_ERR_MISS. */
int pktcache_get(const pktcache_t *c, uint16_t seq, const uint8_t **pkt, size_t *len);

/* Slot count and byte ring size given at creation. */
size_t pktcache_entries(const pktcache_t *c);
size_t pktcache_bytes(const pktcache_t *c);

#endif
