#include "alloc.h"

static uint32_t cost(const alloc_stream_t *st)
{
    return st->layer == ALLOC_PAUSED ? 0 : st->layers[st->layer].bps;
}

void alloc_run(alloc_sub_t *s)
{
    uint64_t used = 0, wanted = 0;
    for (size_t i = 0; i < s->n; i++) {
        alloc_stream_t *st = &s->streams[i];
        if (!st->video) {
            used += st->bps;
            wanted += st->bps;
        } else {
            st->layer = ALLOC_PAUSED;
            if (st->wanted && st->n_layers) wanted += st->layers[st->n_layers - 1].bps;
        }
    }
    /* Every wanted video at its lowest layer, most important first... */
    for (size_t i = 0; i < s->n; i++) {
        alloc_stream_t *st = &s->streams[i];
        if (!st->video || !st->wanted || st->n_layers == 0) continue;
        if (used + st->layers[0].bps > s->budget_bps) continue;
        st->layer = 0;
        used += st->layers[0].bps;
    }
    /* ... then each as high as what is left allows, most important first. */
    for (size_t i = 0; i < s->n; i++) {
        alloc_stream_t *st = &s->streams[i];
        if (!st->video || st->layer == ALLOC_PAUSED) continue;
        int best = st->layer;
        for (int l = best + 1; l < (int)st->n_layers; l++)
            if (used - cost(st) + st->layers[l].bps <= s->budget_bps) best = l;
        used = used - cost(st) + st->layers[best].bps;
        st->layer = best;
    }
    s->used_bps = used;
    s->wanted_bps = wanted;
}

/* Takes one step from s: its least important video that is shown drops a layer, or
 * pauses from its lowest. Returns false when s shows no video. */
static bool step_down(alloc_sub_t *s)
{
    for (size_t i = s->n; i-- > 0;) {
        alloc_stream_t *st = &s->streams[i];
        if (!st->video || st->layer == ALLOC_PAUSED) continue;
        uint32_t before = cost(st);
        st->layer--;
        s->used_bps = s->used_bps - before + cost(st);
        return true;
    }
    return false;
}

static uint64_t video_bps(const alloc_sub_t *s)
{
    uint64_t v = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->streams[i].video) v += cost(&s->streams[i]);
    return v;
}

uint64_t alloc_fit_uplink(alloc_sub_t *subs, size_t n, uint64_t budget_bps)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += subs[i].used_bps;
    while (total > budget_bps) {
        alloc_sub_t *largest = NULL;
        uint64_t most = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = video_bps(&subs[i]);
            if (v > most) most = v, largest = &subs[i];
        }
        if (!largest) break; /* audio only: never taken */
        uint64_t before = largest->used_bps;
        if (!step_down(largest)) break;
        total = total - before + largest->used_bps;
    }
    return total;
}

const char *alloc_verdict(const alloc_sub_t *s)
{
    size_t wanted = 0, shown = 0, top = 0;
    for (size_t i = 0; i < s->n; i++) {
        const alloc_stream_t *st = &s->streams[i];
        if (!st->video || !st->wanted) continue;
        wanted++;
        if (st->layer == ALLOC_PAUSED) continue;
        shown++;
        top += st->layer == (int)st->n_layers - 1;
    }
    if (wanted == 0 || top == wanted) return "full";
    return shown == 0 ? "paused" : "reduced";
}
