/* Counters and a latency histogram for the load generator's reports (media thread). */
#ifndef SOBRE_LG_STATS_H
#define SOBRE_LG_STATS_H

#include <stdint.h>

#define LG_HIST_STEP_US 10
#define LG_HIST_BUCKETS 20000 /* 10 us steps up to 200 ms; later samples in the last */

typedef struct lg_hist {
    uint64_t n, max_us;
    uint32_t b[LG_HIST_BUCKETS];
} lg_hist_t;

typedef struct lg_counts {
    uint64_t sent_pkts, sent_bytes, recv_pkts, recv_bytes;
} lg_counts_t;

void lg_hist_add(lg_hist_t *h, int64_t us);
/* The q-quantile (0..1) in microseconds (upper edge of its bucket), 0 when empty. */
uint64_t lg_hist_quantile(const lg_hist_t *h, double q);
void lg_hist_merge(lg_hist_t *into, const lg_hist_t *h);

#endif
