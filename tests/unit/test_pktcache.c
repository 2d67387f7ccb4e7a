/* Tests for sfu/pktcache: table-driven sequences of puts and gets (wraparound,
 * overwrite, reordering, old packets, jumps), then long runs across many wraps. Packets
 * are put from heap buffers of exactly their length, so that an over-read shows under
 * ASan. */
#include "pktcache.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* A packet whose length and content derive from its sequence number (and a version, to
 * tell a replaced copy from the first one). */
static size_t make(uint16_t seq, uint8_t version, uint8_t *out)
{
    size_t len = 12 + seq % 50;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(seq + i * 7 + version);
    return len;
}

static int put(pktcache_t *c, uint16_t seq, uint8_t version)
{
    uint8_t tmp[64];
    size_t len = make(seq, version, tmp);
    uint8_t *p = malloc(len);
    memcpy(p, tmp, len);
    int rc = pktcache_put(c, seq, p, len);
    free(p);
    return rc;
}

/* 0 when seq is cached with the content of that version, else the error or -100. */
static int get(const pktcache_t *c, uint16_t seq, uint8_t version)
{
    const uint8_t *p;
    size_t len;
    int rc = pktcache_get(c, seq, &p, &len);
    if (rc < 0) return rc;
    uint8_t want[64];
    size_t wlen = make(seq, version, want);
    return len == wlen && !memcmp(p, want, len) ? 0 : -100;
}

enum { END, PUT, GET, RESET }; /* END: a zeroed step ends a script */

typedef struct {
    int op;
    uint16_t seq;
    uint8_t version;
    int rc;
} step_t;

#define MISS PKTCACHE_ERR_MISS
#define OLD  PKTCACHE_ERR_OLD

typedef struct {
    const char *name;
    size_t entries;
    step_t steps[24];
} script_t;

static const script_t scripts[] = {
    {"empty", 4, {{GET, 0, 0, MISS}, {GET, 65535, 0, MISS}}},
    {"basic", 4, {{PUT, 7, 0, 0}, {GET, 7, 0, 0}, {GET, 6, 0, MISS}, {GET, 8, 0, MISS}}},
    {"overwrite by the ring",
     4,
     {{PUT, 0, 0, 0},
      {PUT, 1, 0, 0},
      {PUT, 2, 0, 0},
      {PUT, 3, 0, 0},
      {GET, 0, 0, 0},
      {PUT, 4, 0, 0},
      {GET, 0, 0, MISS},
      {GET, 1, 0, 0},
      {PUT, 5, 0, 0},
      {GET, 1, 0, MISS},
      {GET, 2, 0, 0},
      {GET, 5, 0, 0}}},
    {"wraparound",
     8,
     {{PUT, 65533, 0, 0},
      {PUT, 65534, 0, 0},
      {PUT, 65535, 0, 0},
      {PUT, 0, 0, 0},
      {PUT, 1, 0, 0},
      {GET, 65533, 0, 0},
      {GET, 65535, 0, 0},
      {GET, 0, 0, 0},
      {GET, 1, 0, 0},
      {GET, 2, 0, MISS},
      {GET, 65532, 0, MISS}}},
    {"reordered across the wrap",
     8,
     {{PUT, 0, 0, 0},
      {PUT, 65535, 0, 0}, /* older, arrives after */
      {PUT, 2, 0, 0},
      {PUT, 1, 0, 0},
      {GET, 65535, 0, 0},
      {GET, 0, 0, 0},
      {GET, 1, 0, 0},
      {GET, 2, 0, 0}}},
    {"older than the first put",
     8,
     {{PUT, 3, 0, 0}, {PUT, 65534, 0, 0}, {GET, 65534, 0, 0}, {GET, 3, 0, 0}}},
    {"too old to store",
     4,
     {{PUT, 100, 0, 0},
      {PUT, 103, 0, 0},
      {PUT, 99, 0, OLD},
      {GET, 99, 0, MISS},
      {PUT, 100, 1, 0}, /* still in the window: replaced */
      {GET, 100, 1, 0},
      {GET, 103, 0, 0}}},
    {"same slot, stale entry",
     4,
     {{PUT, 10, 0, 0},
      {PUT, 12, 0, 0},
      {PUT, 14, 0, 0}, /* 10's slot untouched, but 10 is out of the window */
      {GET, 10, 0, MISS},
      {GET, 11, 0, MISS},
      {GET, 12, 0, 0}}},
    {"jump ahead", 16, {{PUT, 10, 0, 0}, {PUT, 1010, 0, 0}, {GET, 10, 0, MISS}, {GET, 1010, 0, 0}}},
    {"half-range jump reads as old",
     16,
     {{PUT, 10, 0, 0}, {PUT, 10 + 32769, 0, OLD}, {GET, 10, 0, 0}}},
    {"reset",
     4,
     {{PUT, 5, 0, 0}, {RESET, 0, 0, 0}, {GET, 5, 0, MISS}, {PUT, 40000, 0, 0}, {GET, 40000, 0, 0}}},
};

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        const script_t *s = &scripts[i];
        pktcache_t *c = pktcache_new(s->entries, s->entries * 64 + 64); /* bytes never run out */
        for (size_t k = 0; k < 24; k++) {
            const step_t *st = &s->steps[k];
            if (k > 0 && st->op == PUT && st->seq == 0 && st->rc == 0 &&
                s->steps[k - 1].op == PUT && s->steps[k - 1].seq == 0)
                break;
            int rc = 0;
            if (st->op == PUT) rc = put(c, st->seq, st->version);
            if (st->op == GET) rc = get(c, st->seq, st->version);
            if (st->op == RESET) pktcache_reset(c);
            if (rc != st->rc) fprintf(stderr, "%s: step %zu\n", s->name, k);
            CHECK_INT(rc, st->rc);
        }
        pktcache_free(c);
    }
}

static void test_limits(void)
{
    CHECK(pktcache_new(0, 1500) == NULL);
    CHECK(pktcache_new(512, 0) == NULL);
    pktcache_free(NULL);
    pktcache_t *c = pktcache_new(512, 1500);
    CHECK_INT(pktcache_entries(c), 512);
    CHECK_INT(pktcache_bytes(c), 1500);
    static uint8_t big[1501];
    CHECK_INT(pktcache_put(c, 1, big, 1501), PKTCACHE_ERR_TOO_BIG);
    CHECK_INT(pktcache_put(c, 1, big, 1500), 0);
    CHECK_INT(pktcache_put(c, 2, big, 0), 0);
    const uint8_t *p;
    size_t len;
    CHECK_INT(pktcache_get(c, 1, &p, &len), 0);
    CHECK_INT(len, 1500);
    CHECK_INT(pktcache_get(c, 2, &p, &len), 0);
    CHECK_INT(len, 0);
    pktcache_free(c);
}

/* Sequential puts across several wraps, with a window check every so often. */
static void test_long_run(void)
{
    static const size_t sizes[] = {1, 3, 512, 1000};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        pktcache_t *c = pktcache_new(n, n * 64 + 64); /* room for the skipped end too */
        uint16_t start = 65000;
        int bad = 0;
        for (uint32_t i = 0; i < 200000; i++) {
            uint16_t seq = (uint16_t)(start + i);
            bad += put(c, seq, 0) != 0;
            if (i % 997 == 0 || (uint16_t)(seq + 1) == 0) {
                bad += get(c, seq, 0) != 0;
                if (i + 1 >= n) bad += get(c, (uint16_t)(seq - (n - 1)), 0) != 0;
                bad += get(c, (uint16_t)(seq - n), 0) != MISS;
                bad += get(c, (uint16_t)(seq + 1), 0) != MISS;
            }
        }
        CHECK_INT(bad, 0);
        pktcache_free(c);
    }
}

/* Bytes run out before slots: a packet is gone once those put after it filled the ring
 * over it; packets of any size up to the ring's (1,400 bytes and more, as browsers may
 * send) are kept whole across the ring's end. */
static void test_bytes(void)
{
    pktcache_t *c = pktcache_new(64, 3000);
    static uint8_t pkt[3001];
    const uint8_t *p;
    size_t len;
    for (uint16_t seq = 1; seq <= 3; seq++) {
        memset(pkt, seq, 1200);
        CHECK_INT(pktcache_put(c, seq, pkt, 1200), 0);
    }
    /* 1 at 0..1200, 2 at 1200..2400, 3 would straddle 3000: at 0..1200, over 1. */
    CHECK_INT(pktcache_get(c, 1, &p, &len), MISS);
    CHECK_INT(pktcache_get(c, 2, &p, &len), 0);
    CHECK(len == 1200 && p[0] == 2 && p[1199] == 2);
    CHECK_INT(pktcache_get(c, 3, &p, &len), 0);
    CHECK(len == 1200 && p[0] == 3 && p[1199] == 3);
    /* A 1,400-byte packet at 1200..2600: over 2. */
    memset(pkt, 4, 1400);
    CHECK_INT(pktcache_put(c, 4, pkt, 1400), 0);
    CHECK_INT(pktcache_get(c, 2, &p, &len), MISS);
    CHECK_INT(pktcache_get(c, 3, &p, &len), 0);
    CHECK_INT(pktcache_get(c, 4, &p, &len), 0);
    CHECK(len == 1400 && p[0] == 4 && p[1399] == 4);
    /* Small packets: many fit, the slots are the limit again. */
    for (uint16_t seq = 5; seq < 5 + 20; seq++) {
        memset(pkt, seq, 100);
        CHECK_INT(pktcache_put(c, seq, pkt, 100), 0);
    }
    CHECK_INT(pktcache_get(c, 5, &p, &len), 0);
    CHECK(len == 100 && p[0] == 5 && p[99] == 5);
    CHECK_INT(pktcache_get(c, 24, &p, &len), 0);
    CHECK(len == 100 && p[0] == 24);
    /* As large as the ring: kept, alone; larger: refused. */
    memset(pkt, 9, 3000);
    CHECK_INT(pktcache_put(c, 30, pkt, 3000), 0);
    CHECK_INT(pktcache_get(c, 30, &p, &len), 0);
    CHECK(len == 3000 && p[0] == 9 && p[2999] == 9);
    CHECK_INT(pktcache_get(c, 24, &p, &len), MISS);
    CHECK_INT(pktcache_put(c, 31, pkt, 3001), PKTCACHE_ERR_TOO_BIG);
    pktcache_free(c);
}

int main(void)
{
    test_scripts();
    test_limits();
    test_bytes();
    test_long_run();
    TEST_END();
}
