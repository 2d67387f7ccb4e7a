/* libFuzzer target: arbitrary bytes as a transport-cc FCI, first into the decoder, then
 * into an estimator that has sent packets around the decoded base sequence number.
 * Invariants that must hold for any input abort the run when broken: the decoder yields
 * exactly status_count packets in sequence order, n_received of them received, and the
 * estimate stays within the estimator's bounds. */
#include "bwe.h"

#include <stdlib.h>

static void require(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bwe_fci_t f;
    int rc = bwe_fci_init(&f, data, size);
    require(rc <= 0 && rc >= BWE_ERR_TRAILING);
    if (rc == 0) {
        bwe_fci_pkt_t pkt;
        size_t n = 0, received = 0;
        while (bwe_fci_next(&f, &pkt) == 1) {
            require(pkt.seq == (uint16_t)(f.base_seq + n));
            received += pkt.received;
            n++;
        }
        require(n == f.status_count && received == f.n_received);
        require(bwe_fci_next(&f, &pkt) == 0);
    }

    static bwe_t *b;
    if (!b) b = bwe_new(&(bwe_params_t){30000, 10000000, 300000});
    /* Packets sent from a little before the base on, 1 ms apart; the same bytes are fed
     * again 100 ms later (received ones are then repeats and not matched). */
    uint16_t base = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
    static int64_t now = 1000000;
    for (uint16_t i = 0; i < 600; i++)
        bwe_on_sent(b, (uint16_t)(base - 100 + i), 200 + i, now + 1000 * i);
    now += 700000;
    int matched = bwe_on_feedback(b, data, size, now);
    require(rc < 0 ? matched == rc : matched >= 0 && matched <= (int)f.status_count);
    int again = bwe_on_feedback(b, data, size, now + 100000); /* lost ones count again */
    require(rc < 0 ? again == rc : again >= 0 && again <= matched);
    if (size) bwe_on_receiver_report(b, data[size - 1], now);
    require(bwe_estimate(b) >= 30000 && bwe_estimate(b) <= 10000000);
    require(bwe_state(b) <= BWE_UNDERUSING);
    now += 200000;
    return 0;
}
