/* Tests for sfu/rewrite: table-driven scripts of packets and drops with the expected
 * outgoing sequence numbers and timestamps: transparency, wraparound of both, source
 * switches (new SSRC, back and forth, at the wrap), reordering, duplicates, drops and
 * their edge cases, the drop history limit. */
#include "rewrite.h"
#include "test.h"

#include <stdlib.h>

enum { END, PKT, DROP };

#define A 0xaaaa0001u
#define B 0xbbbb0002u

typedef struct {
    int op;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint64_t now;
    bool send; /* PKT: expected to be sent; DROP: expected return */
    uint16_t out_seq;
    uint32_t out_ts;
} step_t;

typedef struct {
    const char *name;
    uint32_t rate;
    step_t steps[16];
} script_t;

/* clang-format off */
static const script_t scripts[] = {
    {"transparent", 90000, {
        {PKT, 100, 1000, A, 0, true, 100, 1000},
        {PKT, 101, 1000, A, 5, true, 101, 1000},
        {PKT, 102, 4000, A, 33, true, 102, 4000},
    }},
    {"seq and ts wrap", 90000, {
        {PKT, 65534, 0xfffffff0u, A, 0, true, 65534, 0xfffffff0u},
        {PKT, 65535, 0xfffffff0u, A, 0, true, 65535, 0xfffffff0u},
        {PKT, 0, 0x10, A, 33, true, 0, 0x10},
        {PKT, 1, 0x10, A, 33, true, 1, 0x10},
        {PKT, 65535, 0xfffffff0u, A, 34, true, 65535, 0xfffffff0u}, /* late, same mapping */
    }},
    {"switch continues seq and ts", 90000, {
        {PKT, 1000, 90000, A, 0, true, 1000, 90000},
        {PKT, 1001, 93000, A, 33, true, 1001, 93000},
        {PKT, 1002, 93000, A, 40, true, 1002, 93000},
        {PKT, 5, 777, B, 133, true, 1003, 93000 + 9000},   /* 100 ms after the frame */
        {PKT, 6, 777, B, 134, true, 1004, 102000},
        {PKT, 7, 3777, B, 166, true, 1005, 105000},
        {PKT, 4, 777, B, 167, false, 0, 0},                        /* older than B's first */
        {PKT, 1003, 93000, A, 168, true, 1006, 93000 + 9000 + 3000 + 2 * 90},
    }},
    {"switch at the out wrap", 48000, {
        {PKT, 65534, 0, A, 0, true, 65534, 0},
        {PKT, 65535, 960, A, 20, true, 65535, 960},
        {PKT, 300, 5, B, 40, true, 0, 960 + 960},
        {PKT, 301, 965, B, 60, true, 1, 960 + 960 + 960},
    }},
    {"switch in the same millisecond: one tick", 90000, {
        {PKT, 10, 500, A, 7, true, 10, 500},
        {PKT, 20, 100, B, 7, true, 11, 501},
    }},
    {"switch with the clock going back: one tick", 90000, {
        {PKT, 10, 500, A, 70, true, 10, 500},
        {PKT, 20, 100, B, 7, true, 11, 501},
    }},
    {"reorder and duplicates", 90000, {
        {PKT, 10, 0, A, 0, true, 10, 0},
        {PKT, 12, 0, A, 0, true, 12, 0},
        {PKT, 11, 0, A, 0, true, 11, 0},
        {PKT, 12, 0, A, 0, true, 12, 0},
        {PKT, 9, 0, A, 0, false, 0, 0},                      /* older than the first */
    }},
    {"drops close the hole", 90000, {
        {PKT, 10, 0, A, 0, true, 10, 0},
        {PKT, 11, 0, A, 0, true, 11, 0},
        {DROP, 12, 0, A, 0, true, 0, 0},
        {PKT, 13, 3000, A, 33, true, 12, 3000},
        {DROP, 14, 0, A, 0, true, 0, 0},
        {DROP, 15, 0, A, 0, true, 0, 0},
        {PKT, 16, 6000, A, 66, true, 13, 6000},
        {PKT, 11, 0, A, 67, true, 11, 0},              /* duplicate before the drops */
        {PKT, 13, 3000, A, 67, true, 12, 3000},        /* duplicate between them */
        {PKT, 12, 0, A, 67, false, 0, 0},                    /* a dropped one comes again */
        {DROP, 12, 0, A, 67, true, 0, 0},                    /* dropped again: nothing to do */
    }},
    {"reordered around a drop", 90000, {
        {PKT, 10, 0, A, 0, true, 10, 0},
        {DROP, 12, 0, A, 0, true, 0, 0},
        {PKT, 11, 0, A, 0, true, 11, 0},               /* below the drop: not shifted */
        {PKT, 13, 0, A, 0, true, 12, 0},
        {DROP, 16, 0, A, 0, true, 0, 0},                     /* 14 and 15 not seen yet */
        {PKT, 15, 0, A, 0, true, 14, 0},
        {PKT, 14, 0, A, 0, true, 13, 0},
        {PKT, 17, 0, A, 0, true, 15, 0},
    }},
    {"late drop refused", 90000, {
        {PKT, 10, 0, A, 0, true, 10, 0},
        {PKT, 12, 0, A, 0, true, 12, 0},
        {DROP, 11, 0, A, 0, false, 0, 0},                    /* 12 went out: 11 is reserved */
        {PKT, 11, 0, A, 0, true, 11, 0},
    }},
    {"drops of another source", 90000, {
        {DROP, 5, 0, A, 0, true, 0, 0},                      /* nothing started yet */
        {PKT, 10, 0, A, 0, true, 10, 0},
        {DROP, 11, 0, B, 0, true, 0, 0},                     /* not the current source */
        {PKT, 11, 0, A, 0, true, 11, 0},
        {DROP, 3, 0, A, 0, true, 0, 0},                      /* before the source's first */
        {PKT, 12, 0, A, 0, true, 12, 0},
    }},
    {"drops across the wrap, then a switch", 90000, {
        {PKT, 65534, 100, A, 0, true, 65534, 100},
        {DROP, 65535, 0, A, 0, true, 0, 0},
        {DROP, 0, 0, A, 0, true, 0, 0},
        {PKT, 1, 200, A, 10, true, 65535, 200},
        {PKT, 2, 300, A, 20, true, 0, 300},
        {PKT, 9, 0, B, 30, true, 1, 300 + 900},
        {DROP, 10, 0, B, 30, true, 0, 0},
        {PKT, 11, 90, B, 40, true, 2, 1290},
    }},
};
/* clang-format on */

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        const script_t *s = &scripts[i];
        rewrite_t *r = rewrite_new();
        for (size_t k = 0; k < 16 && s->steps[k].op != END; k++) {
            const step_t *st = &s->steps[k];
            int before = test_failed;
            if (st->op == DROP) {
                CHECK_INT(rewrite_drop(r, st->seq, st->ssrc), st->send);
            } else {
                uint16_t seq = 0;
                uint32_t ts = 0;
                bool send =
                    rewrite_packet(r, st->seq, st->ts, st->ssrc, st->now, s->rate, &seq, &ts);
                CHECK_INT(send, st->send);
                if (send && st->send) {
                    CHECK_INT(seq, st->out_seq);
                    CHECK_INT(ts, st->out_ts);
                }
            }
            if (test_failed != before) fprintf(stderr, "  in %s, step %zu\n", s->name, k);
        }
        rewrite_free(r);
    }
    rewrite_free(NULL);
}

static void test_accessors(void)
{
    rewrite_t *r = rewrite_new();
    uint16_t seq;
    uint32_t ts;
    CHECK(!rewrite_last_seq(r, &seq));
    CHECK(!rewrite_ts(r, A, 1, &ts));
    CHECK(rewrite_packet(r, 500, 1000, A, 0, 90000, &seq, &ts));
    CHECK(rewrite_packet(r, 501, 4000, A, 33, 90000, &seq, &ts));
    CHECK(rewrite_packet(r, 7, 50, B, 133, 90000, &seq, &ts));
    CHECK_INT(seq, 502);
    CHECK_INT(ts, 4000 + 9000);
    CHECK(rewrite_packet(r, 6, 0, B, 134, 90000, &seq, &ts) == false);
    CHECK(rewrite_last_seq(r, &seq));
    CHECK_INT(seq, 502);
    CHECK(!rewrite_ts(r, A, 1000, &ts)); /* no longer the current source */
    CHECK(rewrite_ts(r, B, 50 + 90000, &ts));
    CHECK_INT(ts, 4000 + 9000 + 90000);
    rewrite_free(r);
}

/* A long run with every other packet dropped (a temporal layer) across several wraps:
 * the out sequence is contiguous; reordering within the drop history maps consistently,
 * beyond it the packet is refused. */
static void test_long_drops(void)
{
    rewrite_t *r = rewrite_new();
    uint16_t seq, prev = 0;
    uint32_t ts;
    int bad = 0;
    for (uint32_t i = 0; i < 300000; i++) {
        uint16_t in = (uint16_t)(60000 + i);
        if (i % 2) {
            bad += !rewrite_drop(r, in, A);
            continue;
        }
        bad += !rewrite_packet(r, in, i * 10, A, i, 90000, &seq, &ts);
        if (i > 0) bad += seq != (uint16_t)(prev + 1);
        bad += ts != i * 10;
        prev = seq;
    }
    CHECK_INT(bad, 0);
    /* the newest sent was in = 60000 + 299998, out = prev */
    uint16_t newest = (uint16_t)(60000 + 299998);
    CHECK(rewrite_packet(r, newest, 0, A, 0, 90000, &seq, &ts));
    CHECK_INT(seq, prev);
    /* the loop ended with a drop (newest + 1); the 64 remembered drops are newest + 1,
     * newest - 1, ..., newest - 125 */
    CHECK(rewrite_packet(r, (uint16_t)(newest - 2), 0, A, 0, 90000, &seq, &ts));
    CHECK_INT(seq, (uint16_t)(prev - 1));
    CHECK(rewrite_packet(r, (uint16_t)(newest - 124), 0, A, 0, 90000, &seq, &ts));
    CHECK_INT(seq, (uint16_t)(prev - 62));
    /* older than every remembered drop: cannot be numbered */
    CHECK(!rewrite_packet(r, (uint16_t)(newest - 126), 0, A, 0, 90000, &seq, &ts));
    CHECK(!rewrite_packet(r, (uint16_t)(newest - 1000), 0, A, 0, 90000, &seq, &ts));
    CHECK(!rewrite_drop(r, (uint16_t)(newest - 1000), A));
    rewrite_free(r);
}

int main(void)
{
    test_scripts();
    test_accessors();
    test_long_drops();
    TEST_END();
}
