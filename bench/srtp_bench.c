/* srtp_bench: per-packet cost of SRTP protect and unprotect through srtp_conn, for both
 * DTLS-SRTP profiles and for audio- and video-sized RTP packets, on one thread.
 *
 *   srtp_bench [iterations per run [runs]]     (defaults: 200000 7)
 *
 * Each run times two loops of N packets over fresh sequence numbers:
 *   protect:  copy the plain packet into an aligned buffer, protect it (what
 *             transport_send does);
 *   pair:     the same, then unprotect it on the receiving connection (one packet in
 *             and one out, what forwarding costs an SFU).
 * unprotect is estimated as pair - protect. The median over runs is reported, as ns per
 * packet and packets per second on one core. Results are checked (every unprotect must
 * succeed and give back the plain length), so a broken build cannot look fast. */
#include "srtp_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 31

typedef struct {
    srtp_conn_t *tx, *rx;
    uint32_t buf[512]; /* 2048 bytes, 32-bit aligned for libsrtp */
    uint8_t plain[1500];
    size_t len;
    uint32_t seq; /* continues across runs, wrapping the 16-bit RTP field */
} bench_t;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int make_conns(bench_t *b, dtls_srtp_profile_t profile)
{
    dtls_srtp_keys_t tx = {.profile = profile,
                           .key_len = 16,
                           .salt_len = profile == DTLS_SRTP_AEAD_AES_128_GCM ? 12 : 14};
    for (int i = 0; i < DTLS_SRTP_KEY_MAX; i++) {
        tx.local_key[i] = (uint8_t)(i * 3 + 1);
        tx.remote_key[i] = (uint8_t)(i * 5 + 2);
    }
    for (int i = 0; i < DTLS_SRTP_SALT_MAX; i++) {
        tx.local_salt[i] = (uint8_t)(i * 7 + 3);
        tx.remote_salt[i] = (uint8_t)(i * 11 + 4);
    }
    dtls_srtp_keys_t rx = tx;
    memcpy(rx.local_key, tx.remote_key, sizeof rx.local_key);
    memcpy(rx.remote_key, tx.local_key, sizeof rx.remote_key);
    memcpy(rx.local_salt, tx.remote_salt, sizeof rx.local_salt);
    memcpy(rx.remote_salt, tx.local_salt, sizeof rx.remote_salt);
    b->tx = srtp_conn_new(&tx);
    b->rx = srtp_conn_new(&rx);
    return b->tx && b->rx ? 0 : -1;
}

static void make_plain(bench_t *b, size_t len)
{
    static const uint8_t hdr[12] = {0x80, 96, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
    memcpy(b->plain, hdr, sizeof hdr);
    for (size_t i = sizeof hdr; i < len; i++)
        b->plain[i] = (uint8_t)(i * 31);
    b->len = len;
}

/* Copies the plain packet with the next sequence number and timestamp, SSRC ssrc. */
static uint8_t *next_packet(bench_t *b, uint8_t ssrc_low)
{
    uint8_t *p = (uint8_t *)b->buf;
    uint32_t seq = b->seq++;
    memcpy(p, b->plain, b->len);
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    uint32_t ts = seq * 960;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[11] = ssrc_low;
    return p;
}

/* Returns ns per packet for protect only (SSRC ...01, never unprotected). */
static double run_protect(bench_t *b, long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        uint8_t *p = next_packet(b, 0x01);
        size_t len = b->len;
        if (srtp_conn_protect_rtp(b->tx, p, &len, sizeof b->buf) != 0) {
            fprintf(stderr, "protect failed\n");
            exit(1);
        }
    }
    return (now_ns() - t0) / (double)n;
}

/* Returns ns per packet for protect + unprotect (SSRC ...02). */
static double run_pair(bench_t *b, long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        uint8_t *p = next_packet(b, 0x02);
        size_t len = b->len;
        if (srtp_conn_protect_rtp(b->tx, p, &len, sizeof b->buf) != 0 ||
            srtp_conn_unprotect_rtp(b->rx, p, &len) != 0 || len != b->len) {
            fprintf(stderr, "round trip failed\n");
            exit(1);
        }
    }
    return (now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    if (n <= 0 || runs <= 0 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: srtp_bench [iterations>0 [runs 1..%d]]\n", MAX_RUNS);
        return 2;
    }
    static const struct {
        dtls_srtp_profile_t profile;
        const char *name;
    } profiles[] = {{DTLS_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM"},
                    {DTLS_SRTP_AES128_CM_SHA1_80, "AES128_CM_SHA1_80"}};
    static const size_t sizes[] = {100, 1200};
    double pair_ns[2][2];

    printf("srtp_bench: %ld packets per loop, median of %d runs\n", n, runs);
    printf("%-18s %5s %10s %10s %12s | %9s %9s %9s | %s\n", "profile", "bytes", "protect",
           "unprotect", "prot+unprot", "prot/s", "unprot/s", "pairs/s", "prot+unprot min-max");
    for (int pi = 0; pi < 2; pi++) {
        for (int si = 0; si < 2; si++) {
            bench_t *b = calloc(1, sizeof *b);
            if (!b || make_conns(b, profiles[pi].profile) != 0) {
                fprintf(stderr, "srtp_conn_new failed\n");
                return 1;
            }
            make_plain(b, sizes[si]);
            run_pair(b, n / 10 + 1); /* warm-up: streams created, caches and clocks up */
            run_protect(b, n / 10 + 1);
            double prot[MAX_RUNS], pair[MAX_RUNS], unprot[MAX_RUNS];
            for (int r = 0; r < runs; r++) {
                prot[r] = run_protect(b, n);
                pair[r] = run_pair(b, n);
                unprot[r] = pair[r] - prot[r];
            }
            double mp = median(prot, runs), mu = median(unprot, runs);
            double mpair = median(pair, runs); /* sorts pair: min and max at the ends */
            pair_ns[pi][si] = mpair;
            printf("%-18s %5zu %7.0f ns %7.0f ns %9.0f ns | %8.0fk %8.0fk %8.0fk | %.0f-%.0f ns\n",
                   profiles[pi].name, sizes[si], mp, mu, mpair, 1e6 / mp, 1e6 / mu, 1e6 / mpair,
                   pair[0], pair[runs - 1]);
            srtp_conn_free(b->tx);
            srtp_conn_free(b->rx);
            free(b);
        }
    }
    printf("GCM/CM ratio (protect+unprotect): %zu B %.2f, %zu B %.2f\n", sizes[0],
           pair_ns[0][0] / pair_ns[1][0], sizes[1], pair_ns[0][1] / pair_ns[1][1]);
    return 0;
}
