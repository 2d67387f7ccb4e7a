/* rewrite: the sequence-number and timestamp rewriting of one outgoing stream, so that a
 * subscriber sees one continuous RTP stream while what feeds it changes: a publisher that
 * restarts with a new SSRC, a switch between simulcast layers, packets the forwarding
 * path chooses not to send (dropped temporal layers).
 *
 * Rules:
 *  - Transparent until something changes: the first source's packets keep their sequence
 *    numbers and timestamps.
 *  - A source switch (a packet whose SSRC is not the current source's) starts the new
 *    source at the last sequence number sent + 1, and at a timestamp that continues the
 *    last frame's by the wall time elapsed since it (at least one tick), at the clock
 *    rate given. Packets of the new source older than its first forwarded one are not
 *    sent (their numbers would collide with the old source's).
 *  - Within a source, out = in + offset, so reordered packets and duplicates map
 *    consistently; each packet accounted by rewrite_drop shifts the packets after it down
 *    by one, so the outgoing sequence has no hole where a dropped packet was.
 *  - A reordered packet older than some drops maps below them too: the last
 *    REWRITE_DROP_HISTORY drops are remembered for that; a packet older than all of them
 *    (when more drops happened) cannot be numbered and is not sent.
 *  - A drop can only be accounted for a packet newer than every packet seen from the
 *    source: a packet older than one already numbered has its number reserved, so
 *    rewrite_drop refuses it and the caller should forward it instead (rewrite_packet
 *    gives it that number) or accept a hole (the receiver then NACKs it).
 *
 * Sans-I/O: time is a parameter (milliseconds, any monotonic origin).
 * Thread: a rewrite_t belongs to one worker; no locking. */
#ifndef SOBRE_REWRITE_H
#define SOBRE_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many of the latest drops of the current source are remembered. */
#define REWRITE_DROP_HISTORY 64

typedef struct rewrite rewrite_t;

/* A fresh state: the first packet given to rewrite_packet becomes the first source.
 * Aborts on allocation failure (control plane). Free with rewrite_free. */
rewrite_t *rewrite_new(void);

/* Frees r; NULL is a no-op. */
void rewrite_free(rewrite_t *r);

/* Maps one packet of source in_ssrc to be sent: returns true with *out_seq and *out_ts
 * set, or false when the packet must not be sent (older than its source's first
 * forwarded packet, a duplicate of a dropped packet, or older than the drop history).
 * now_ms and clock_rate (Hz, e.g. 90000 or 48000) only matter on a source switch. */
bool rewrite_packet(rewrite_t *r, uint16_t in_seq, uint32_t in_ts, uint32_t in_ssrc,
                    uint64_t now_ms, uint32_t clock_rate, uint16_t *out_seq, uint32_t *out_ts);

/* Accounts packet in_seq of in_ssrc as intentionally not forwarded, so later packets
 * close the hole. Returns true when accounted, or when there is nothing to account (a
 * source other than the current one, a packet older than the source's first one, a
 * repeated drop); false when the packet is older than one already numbered (see above:
 * forward it rather than leave a hole). */
bool rewrite_drop(rewrite_t *r, uint16_t in_seq, uint32_t in_ssrc);

/* Maps an RTP timestamp of the current source (e.g. from its sender report) into the
 * outgoing timeline. Returns false when in_ssrc is not the current source. */
bool rewrite_ts(const rewrite_t *r, uint32_t in_ssrc, uint32_t in_ts, uint32_t *out_ts);

/* The last (highest) sequence number sent; false before any packet. */
bool rewrite_last_seq(const rewrite_t *r, uint16_t *out_seq);

#endif
