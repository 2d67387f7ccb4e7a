/* Latency histogram: fixed 10 us buckets, quantiles by walking the counts. */
#include "stats.h"

#include <string.h>

void lg_hist_add(lg_hist_t *h, int64_t us)
{
    if (us < 0) us = 0; /* clock steps between two reads of CLOCK_REALTIME */
    uint64_t b = (uint64_t)us / LG_HIST_STEP_US;
    h->b[b < LG_HIST_BUCKETS ? b : LG_HIST_BUCKETS - 1]++;
    h->n++;
    if ((uint64_t)us > h->max_us) h->max_us = (uint64_t)us;
}

uint64_t lg_hist_quantile(const lg_hist_t *h, double q)
{
    if (h->n == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
    if (want >= h->n) want = h->n - 1;
    for (size_t i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > want) {
            uint64_t edge = (uint64_t)(i + 1) * LG_HIST_STEP_US;
            return edge < h->max_us ? edge : h->max_us;
        }
    }
    return h->max_us;
}

void lg_hist_merge(lg_hist_t *into, const lg_hist_t *h)
{
    for (size_t i = 0; i < LG_HIST_BUCKETS; i++)
        into->b[i] += h->b[i];
    into->n += h->n;
    if (h->max_us > into->max_us) into->max_us = h->max_us;
}
