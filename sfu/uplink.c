#include "uplink.h"

#include <stdbool.h>
#include <stdlib.h>

#include "bytes.h"
#include "mem.h"
#include "rtcp.h"
#include "rtp.h"

#define SEQ_BASE 65536u /* extended numbers start one cycle in: early reordering fits */
#define REF_US   64000  /* the reference time's unit */
#define DELTA_US 250    /* the receive deltas' unit */

typedef struct arrival {
    uint64_t ext;
    int64_t at_us;
    bool used;
} arrival_t;

struct uplink {
    bool started;
    uint64_t next, max; /* first number not reported yet; highest seen */
    int64_t last_us;    /* of the last feedback; INT64_MIN: none */
    uint8_t fb_count;
    arrival_t ring[UPLINK_RING];
};

uplink_t *uplink_new(void)
{
    uplink_t *u = xcalloc(1, sizeof *u);
    u->last_us = INT64_MIN;
    return u;
}

void uplink_free(uplink_t *u)
{
    free(u);
}

void uplink_on_packet(uplink_t *u, uint16_t seq, int64_t arrival_us)
{
    uint64_t ext = u->started ? rtp_seq_extend(u->max, seq) : SEQ_BASE + seq;
    if (!u->started) {
        u->started = true;
        u->next = u->max = ext;
    }
    if (ext < u->next) return; /* reported (as lost) already */
    if (ext > u->max) u->max = ext;
    /* A jump past the ring: what lies before it is not known any more. */
    if (u->max - u->next >= UPLINK_RING) u->next = u->max - UPLINK_RING + 1;
    u->ring[ext % UPLINK_RING] = (arrival_t){ext, arrival_us, true};
}

static const arrival_t *lookup(const uplink_t *u, uint64_t ext)
{
    const arrival_t *a = &u->ring[ext % UPLINK_RING];
    return a->used && a->ext == ext ? a : NULL;
}

/* A delta in 250 us units, rounded to the nearest. */
static int64_t quantize(int64_t us)
{
    return us >= 0 ? (us + DELTA_US / 2) / DELTA_US : -((-us + DELTA_US / 2) / DELTA_US);
}

bool uplink_due(const uplink_t *u, int64_t now_us)
{
    return u->started && u->next <= u->max &&
           (u->last_us == INT64_MIN || now_us - u->last_us >= UPLINK_INTERVAL_US);
}

size_t uplink_feedback(uplink_t *u, int64_t now_us, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint8_t *out, size_t cap)
{
    if (cap < UPLINK_FEEDBACK_MAX || !uplink_due(u, now_us)) return 0;
    uint64_t base = u->next;
    uint64_t count = u->max - base + 1;
    if (count > UPLINK_MAX_STATUS) count = UPLINK_MAX_STATUS;
    const arrival_t *first = NULL;
    for (uint64_t i = 0; i < count && !first; i++)
        first = lookup(u, base + i);
    if (!first) { /* nothing of it is known any more (a jump past the ring): skip it */
        u->next = base + count;
        return 0;
    }
    int64_t ref =
        first->at_us >= 0 ? first->at_us / REF_US : -((-first->at_us + REF_US - 1) / REF_US);
    /* Symbols and deltas; a delta too large for 16 bits ends the report there. */
    uint8_t symbols[UPLINK_MAX_STATUS];
    uint8_t *deltas = out + 20 + 2 * ((count + 6) / 7);
    size_t dlen = 0;
    int64_t prev = ref * REF_US;
    uint64_t n = 0, reported = 0;
    for (; n < count; n++) {
        const arrival_t *a = lookup(u, base + n);
        if (!a) {
            symbols[n] = 0;
            continue;
        }
        int64_t q = quantize(a->at_us - prev);
        if (q < INT16_MIN || q > INT16_MAX) break;
        if (q >= 0 && q <= 255) {
            symbols[n] = 1;
            deltas[dlen++] = (uint8_t)q;
        } else {
            symbols[n] = 2;
            wr16(deltas + dlen, (uint16_t)(int16_t)q);
            dlen += 2;
        }
        prev += q * DELTA_US;
        reported = n + 1; /* end on a received packet: the rest may still come */
    }
    count = reported;
    size_t nchunks = (count + 6) / 7;
    /* The deltas were written for the chunk count of the whole range: move them up. */
    uint8_t *chunks = out + 20;
    uint8_t *dst = chunks + 2 * nchunks;
    for (size_t i = 0; i < dlen; i++)
        dst[i] = deltas[i];
    for (size_t c = 0; c < nchunks; c++) {
        uint16_t chunk = 0xc000; /* status vector, two-bit symbols */
        for (size_t j = 0; j < 7 && c * 7 + j < count; j++)
            chunk |= (uint16_t)(symbols[c * 7 + j] << (12 - 2 * j));
        wr16(chunks + 2 * c, chunk);
    }
    size_t len = 20 + 2 * nchunks + dlen;
    while (len % 4)
        out[len++] = 0; /* zero padding after the deltas, as the draft allows */
    out[0] = 0x80 | RTCP_RTPFB_TWCC;
    out[1] = RTCP_PT_RTPFB;
    wr16(out + 2, (uint16_t)(len / 4 - 1));
    wr32(out + 4, sender_ssrc);
    wr32(out + 8, media_ssrc);
    wr16(out + 12, (uint16_t)base);
    wr16(out + 14, (uint16_t)count);
    uint32_t r24 = (uint32_t)ref & 0xffffff;
    out[16] = (uint8_t)(r24 >> 16);
    out[17] = (uint8_t)(r24 >> 8);
    out[18] = (uint8_t)r24;
    out[19] = u->fb_count++;
    u->next = base + count;
    u->last_us = now_us;
    return len;
}
