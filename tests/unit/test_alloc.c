/* Tests for signaling/alloc: tables of (budget, streams) -> (layers, paused, verdict),
 * and the server-wide uplink budget taken from the largest consumers, never audio. */
#include "alloc.h"
#include "test.h"

#include <string.h>

/* A simulcast video: 3 spatial layers (150, 500, 1200 kb/s), or a single layer. */
static alloc_stream_t video(uint32_t track, bool simulcast)
{
    alloc_stream_t s = {.track = track, .video = true, .wanted = true};
    if (simulcast) {
        s.n_layers = 3;
        s.layers[0] = (alloc_layer_t){0, 2, 150000};
        s.layers[1] = (alloc_layer_t){1, 2, 500000};
        s.layers[2] = (alloc_layer_t){2, 2, 1200000};
    } else {
        s.n_layers = 1;
        s.layers[0] = (alloc_layer_t){0, 0, 300000};
    }
    return s;
}

static alloc_stream_t audio(uint32_t track)
{
    return (alloc_stream_t){.track = track, .bps = 40000};
}

typedef struct {
    const char *name;
    uint32_t budget;
    bool simulcast[3]; /* the three videos, in priority order */
    bool wanted[3];
    int layers[3]; /* expected */
    const char *verdict;
    uint64_t used;
} case_t;

#define P ALLOC_PAUSED
/* Two audio streams (80 kb/s) always; three videos. */
/* clang-format off */
static const case_t cases[] = {
    {"ample",                  5000000, {1, 1, 1}, {1, 1, 1}, {2, 2, 2}, "full",    80000 + 3600000},
    {"the speaker gets the top", 2000000, {1, 1, 1}, {1, 1, 1}, {2, 1, 0}, "reduced", 80000 + 1850000},
    {"all at the lowest, raise the first", 900000, {1, 1, 1}, {1, 1, 1}, {1, 0, 0}, "reduced", 80000 + 800000},
    {"only the speaker fits", 300000, {1, 1, 1}, {1, 1, 1}, {0, P, P}, "reduced", 80000 + 150000},
    {"audio only fits",        200000, {1, 1, 1}, {1, 1, 1}, {P, P, P}, "paused",  80000},
    {"under the audio",         50000, {1, 1, 1}, {1, 1, 1}, {P, P, P}, "paused",  80000},
    {"single-layer videos",    700000, {0, 0, 0}, {1, 1, 1}, {0, 0, P}, "reduced", 80000 + 600000},
    {"unwanted are paused",   5000000, {1, 0, 1}, {1, 0, 0}, {2, P, P}, "full",    80000 + 1200000},
    {"a cheaper one fits after a dearer one did not", 480000, {1, 0, 1}, {1, 1, 1}, {0, P, 0}, "reduced", 80000 + 300000},
    {"nothing wanted",          30000, {1, 1, 1}, {0, 0, 0}, {P, P, P}, "full",    80000},
};
/* clang-format on */

static void build(alloc_stream_t *streams, const case_t *c)
{
    streams[0] = audio(1);
    streams[4] = audio(2);
    for (int i = 0; i < 3; i++) {
        streams[1 + i] = video(10 + (uint32_t)i, c->simulcast[i]);
        streams[1 + i].wanted = c->wanted[i];
    }
}

static void test_table(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const case_t *c = &cases[k];
        alloc_stream_t streams[5];
        build(streams, c);
        alloc_sub_t s = {.streams = streams, .n = 5, .budget_bps = c->budget};
        alloc_run(&s);
        bool ok = s.used_bps == c->used && !strcmp(alloc_verdict(&s), c->verdict);
        for (int i = 0; i < 3; i++)
            ok &= streams[1 + i].layer == c->layers[i];
        if (!ok)
            fprintf(stderr, "case %s: layers %d %d %d, %s, used %llu\n", c->name, streams[1].layer,
                    streams[2].layer, streams[3].layer, alloc_verdict(&s),
                    (unsigned long long)s.used_bps);
        CHECK(ok);
        CHECK(s.used_bps <= c->budget || s.used_bps == 80000); /* audio is never refused */
    }
    /* wanted_bps: what probing aims for. */
    alloc_stream_t streams[5];
    build(streams, &cases[1]);
    alloc_sub_t s = {.streams = streams, .n = 5, .budget_bps = 300000};
    alloc_run(&s);
    CHECK_INT(s.wanted_bps, 80000 + 3 * 1200000);
    /* A video whose rates are unknown yet has no layer: paused. */
    streams[1].n_layers = 0;
    alloc_run(&s);
    CHECK_INT(streams[1].layer, ALLOC_PAUSED);
}

static void test_uplink(void)
{
    /* Three subscribers on ample links: A shows 3 top layers (3.6 Mb/s of video), B one
     * (1.2), C only audio. A 3 Mb/s host budget: A gives up steps (least important
     * stream first) until the total fits; B then C are not touched while A uses more. */
    alloc_stream_t a[5], b[5], c[2];
    case_t full = cases[0];
    build(a, &full);
    build(b, &full);
    b[2].wanted = b[3].wanted = false;
    c[0] = audio(1);
    c[1] = audio(2);
    alloc_sub_t subs[3] = {
        {.streams = a, .n = 5, .budget_bps = 10000000},
        {.streams = b, .n = 5, .budget_bps = 10000000},
        {.streams = c, .n = 2, .budget_bps = 10000000},
    };
    for (int i = 0; i < 3; i++)
        alloc_run(&subs[i]);
    CHECK_INT(subs[0].used_bps + subs[1].used_bps + subs[2].used_bps, 3 * 80000 + 4800000);
    uint64_t total = alloc_fit_uplink(subs, 3, 3000000);
    CHECK(total <= 3000000);
    CHECK_INT(total, subs[0].used_bps + subs[1].used_bps + subs[2].used_bps);
    /* A: 2.7 Mb/s over budget would take it far down; it stops being the largest once
     * under B's 1.2 Mb/s, then they alternate. */
    fprintf(stdout, "uplink: A %d %d %d, B %d, total %llu\n", a[1].layer, a[2].layer, a[3].layer,
            b[1].layer, (unsigned long long)total);
    CHECK(a[1].layer >= a[3].layer); /* the speaker keeps the most */
    CHECK_INT(subs[2].used_bps, 80000);
    /* Audio alone over the budget: nothing to take, audio stays. */
    total = alloc_fit_uplink(subs, 3, 1000);
    CHECK_INT(total, 3 * 80000);
    for (int i = 1; i < 4; i++)
        CHECK_INT(a[i].layer, ALLOC_PAUSED);
    CHECK_INT(b[1].layer, ALLOC_PAUSED);
}

int main(void)
{
    test_table();
    test_uplink();
    TEST_END();
}
