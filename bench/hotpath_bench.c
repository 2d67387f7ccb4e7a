/* hotpath_bench: the per-packet pieces of forwarding other than SRTP (srtp_bench has
 * those), on one thread:
 *
 *   rtp_parse       parse an RTP header with a one-byte extension block (audio, 100 B)
 *   rewrite         what each outgoing copy costs before protect: copy the packet, take
 *                   a number from rewrite_packet, set SSRC, sequence number, timestamp
 *                   and payload type, remap extension ids (rtp_ext_remap)
 *   router xN       router_rtp of one publisher's packet (audio 100 B, or VP8 1,200 B)
 *                   with N subscribers: parse, account, levels, N rewritten copies into
 *                   the output buffers (no SRTP: the callbacks only count)
 *
 *   hotpath_bench [iterations [runs [case]]]     (defaults: 200000 7, every case)
 *
 * case (parse, rewrite, router-audio-N, router-video-N for N = 1, 10, 50) runs that one
 * alone and without warm-up, for instruction counts:
 *
 * Times are the median over runs, in ns per call and, for the router, per forwarded
 * copy. Every case checks its result (parse succeeds, N copies come out), so a broken
 * build cannot look fast. Where the shared machine's noise matters, count instructions
 * instead: each case is its own function (case_*), so
 *   valgrind --tool=callgrind --toggle-collect='case_*' build/bench/hotpath_bench 20000 1 parse
 *   callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep case_
 * gives the instructions of 20,000 calls (router cases: plus one first keyframe call). */
#include "rewrite.h"
#include "router.h"
#include "rtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 31

static const char *only; /* run this case alone, no warm-up */

static bool wanted(const char *name)
{
    return !only || strcmp(only, name) == 0;
}
#define MAX_SUBS 64

static uint8_t out_buf[1500];
static uint64_t copies;

static uint8_t *out_begin(void *arg, uint32_t to, size_t *cap)
{
    (void)arg;
    (void)to;
    *cap = sizeof out_buf;
    return out_buf;
}

static void out_end(void *arg, uint32_t to, size_t len, bool rtcp)
{
    (void)arg;
    (void)to;
    (void)len;
    copies += !rtcp;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* An RTP packet: V=2, X with a one-byte extension block (audio level, id 1), pt, seq. */
static size_t make_packet(uint8_t *p, size_t len, uint8_t pt, uint32_t ssrc, bool vp8_key)
{
    memset(p, 0xab, len);
    p[0] = 0x90;
    p[1] = pt;
    p[2] = p[3] = 0;
    memset(p + 4, 0, 4);
    p[8] = (uint8_t)(ssrc >> 24);
    p[9] = (uint8_t)(ssrc >> 16);
    p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
    const uint8_t ext[8] = {0xBE, 0xDE, 0, 1, 0x10, 0x85, 0, 0};
    memcpy(p + 12, ext, sizeof ext);
    if (vp8_key) { /* X, S, PID 0; I with a 15-bit picture id; keyframe tag */
        const uint8_t d[7] = {0x90, 0x80, 0x80, 0x01, 0x10, 0x02, 0x00};
        memcpy(p + 20, d, sizeof d);
    }
    return len;
}

static void set_seq(uint8_t *p, uint16_t seq, uint32_t ts)
{
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24);
    p[5] = (uint8_t)(ts >> 16);
    p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
}

__attribute__((noinline)) static int case_rtp_parse(const uint8_t *p, size_t len, long n)
{
    int bad = 0;
    rtp_header_t h;
    for (long i = 0; i < n; i++) {
        bad += rtp_parse(p, len, &h) != 0 || h.payload_len == 0;
        __asm__ volatile("" ::: "memory");
    }
    return bad;
}

__attribute__((noinline)) static int case_rewrite(uint8_t *p, size_t len, long n, rewrite_t *rw,
                                                  const uint8_t map[256])
{
    static uint16_t seq0;
    int bad = 0;
    rtp_header_t h;
    uint8_t out[1500];
    for (long i = 0; i < n; i++) {
        uint16_t seq = (uint16_t)(seq0 + i), oseq;
        uint32_t ts = (uint32_t)(seq * 960u), ots;
        set_seq(p, seq, ts);
        if (rtp_parse(p, len, &h) != 0) return -1;
        memcpy(out, p, len);
        if (!rewrite_packet(rw, seq, ts, 0x1234, (uint64_t)i / 50, 48000, &oseq, &ots)) bad++;
        rtp_set_ssrc(out, 0x5678);
        rtp_set_seq(out, oseq);
        rtp_set_ts(out, ots);
        rtp_set_pt(out, 109);
        rtp_ext_remap(out, len, &h, map);
        __asm__ volatile("" ::: "memory");
    }
    seq0 = (uint16_t)(seq0 + n);
    return bad;
}

__attribute__((noinline)) static void case_router(router_t *r, uint8_t *p, size_t len, long n,
                                                  uint32_t *seq, uint32_t ts_step)
{
    for (long i = 0; i < n; i++) {
        uint32_t s = (*seq)++;
        set_seq(p, (uint16_t)s, s * ts_step);
        router_rtp(r, 1000, p, len, 1000 + s / 50, (int64_t)(1000 + s / 50) * 1000);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

/* A router with one track (audio or video) of publisher 1000 and nsubs subscribers. */
static router_t *make_router(bool video, int nsubs)
{
    router_out_t out = {.begin = out_begin, .end = out_end};
    router_t *r = router_new(&out);
    router_track_t t = {.id = 1,
                        .publisher = 1000,
                        .video = video,
                        .ssrc = 0x1234,
                        .clock_rate = video ? 90000 : 48000,
                        .audio_level_ext = video ? 0 : 1};
    uint8_t pt = video ? 96 : 111;
    t.codec[pt] = video ? ROUTER_CODEC_VP8 : ROUTER_CODEC_OPUS;
    if (router_add_track(r, &t) != 0) return NULL;
    for (int i = 0; i < nsubs; i++) {
        router_sub_t s = {.track = 1, .subscriber = (uint32_t)i + 1, .ssrc = 0x5000u + (uint32_t)i};
        memset(s.pt_map, ROUTER_PT_DROP, sizeof s.pt_map);
        s.pt_map[pt] = pt;
        s.ext_map[1] = 1;
        if (router_subscribe(r, &s, 1000) != 0) return NULL;
    }
    return r;
}

static int bench_router(bool video, int nsubs, long n, int runs)
{
    char name[32];
    snprintf(name, sizeof name, "router-%s-%d", video ? "video" : "audio", nsubs);
    if (!wanted(name)) return 0;
    router_t *r = make_router(video, nsubs);
    if (!r) return -1;
    uint8_t pkt[1500];
    size_t len = make_packet(pkt, video ? 1200 : 100, video ? 96 : 111, 0x1234, video);
    uint32_t seq = 1, ts_step = video ? 3000 : 960;
    case_router(r, pkt, len, 1, &seq, ts_step); /* video: the keyframe starts everyone */
    if (video) pkt[24] |= 0x01;                 /* then delta frames (the P bit of the frame tag) */
    double t[MAX_RUNS];
    if (!only) case_router(r, pkt, len, n / 10, &seq, ts_step); /* warm-up */
    for (int k = 0; k < runs; k++) {
        copies = 0;
        double t0 = now_ns();
        case_router(r, pkt, len, n, &seq, ts_step);
        t[k] = (now_ns() - t0) / (double)n;
        if (copies != (uint64_t)n * (uint64_t)nsubs) {
            fprintf(stderr, "router x%d: %llu copies, expected %ld\n", nsubs,
                    (unsigned long long)copies, n * nsubs);
            router_free(r);
            return -1;
        }
    }
    double m = median(t, runs);
    printf("| router_rtp, %s, %2d subscribers | %8.0f ns | %6.1f ns |\n",
           video ? "VP8 1200 B" : "Opus 100 B", nsubs, m, m / nsubs);
    router_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    only = argc > 3 ? argv[3] : NULL;
    if (n < 10 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: hotpath_bench [iterations >= 10 [runs 1..%d]]\n", MAX_RUNS);
        return 2;
    }
    uint8_t pkt[1500];
    size_t len = make_packet(pkt, 100, 111, 0x1234, false);
    double t[MAX_RUNS];
    printf("| case | per call | per forwarded copy |\n|---|--:|--:|\n");
    if (!only) case_rtp_parse(pkt, len, n / 10);
    for (int k = 0; k < runs && wanted("parse"); k++) {
        double t0 = now_ns();
        if (case_rtp_parse(pkt, len, n) != 0) {
            fprintf(stderr, "rtp_parse failed\n");
            return 1;
        }
        t[k] = (now_ns() - t0) / (double)n;
    }
    if (wanted("parse"))
        printf("| rtp_parse, Opus 100 B with extension | %8.1f ns | |\n", median(t, runs));
    rewrite_t *rw = rewrite_new();
    uint8_t map[256] = {0};
    map[1] = 3;
    if (!only) case_rewrite(pkt, len, n / 10, rw, map);
    for (int k = 0; k < runs && wanted("rewrite"); k++) {
        double t0 = now_ns();
        if (case_rewrite(pkt, len, n, rw, map) != 0) {
            fprintf(stderr, "rewrite failed\n");
            return 1;
        }
        t[k] = (now_ns() - t0) / (double)n;
    }
    rewrite_free(rw);
    if (wanted("rewrite"))
        printf("| copy + rewrite_packet + set SSRC/seq/ts/PT + ext remap, 100 B | %8.1f ns | |\n",
               median(t, runs));
    static const int subs[] = {1, 10, 50};
    for (int v = 0; v < 2; v++)
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
            if (bench_router(v == 1, subs[i], only ? n : n / subs[i] + 10, runs) != 0) return 1;
    return 0;
}
