/* A transport-cc feedback FCI as a receiver writes it, for the tests of sfu/bwe and
 * sfu/downlink: build_fci encodes the statuses of seq .. seq+n-1 from arrival times in
 * microseconds of the receiver's clock (-1: lost). */
#ifndef SOBRE_TEST_TWCC_FCI_H
#define SOBRE_TEST_TWCC_FCI_H

#include <stddef.h>
#include <stdint.h>

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Encodes statuses of seq .. seq+n-1 (arrival -1: lost) as the receiver would: two-bit
 * status vectors, small deltas when they fit, reference time from the first arrival. */
static inline size_t build_fci(uint8_t *out, uint16_t seq, size_t n, const int64_t *arrival,
                               uint8_t fb_count)
{
    int64_t ref = -1;
    for (size_t i = 0; i < n && ref < 0; i++)
        if (arrival[i] >= 0) ref = arrival[i] / 64000;
    if (ref < 0) ref = 0;
    put16(out, seq);
    put16(out + 2, (uint16_t)n);
    uint32_t r = (uint32_t)ref & 0xffffff;
    out[4] = (uint8_t)(r >> 16);
    out[5] = (uint8_t)(r >> 8);
    out[6] = (uint8_t)r;
    out[7] = fb_count;
    size_t nchunks = (n + 6) / 7, off = 8 + 2 * nchunks;
    int64_t t = ref * 64000; /* the receiver's quantized clock */
    for (size_t c = 0; c < nchunks; c++) {
        uint16_t chunk = 0xc000;
        for (size_t j = 0; j < 7 && c * 7 + j < n; j++) {
            int64_t a = arrival[c * 7 + j];
            if (a < 0) continue;
            int64_t d = (a - t) / 250;
            unsigned sym = d >= 0 && d <= 255 ? 1 : 2;
            chunk |= (uint16_t)(sym << (12 - 2 * j));
            if (sym == 1) {
                out[off++] = (uint8_t)d;
            } else {
                if (d > 32767) d = 32767;
                if (d < -32768) d = -32768;
                put16(out + off, (uint16_t)(int16_t)d);
                off += 2;
            }
            t += d * 250;
        }
        put16(out + 8 + 2 * c, chunk);
    }
    while (off % 4)
        out[off++] = 0;
    return off;
}

#endif
