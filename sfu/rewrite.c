/* Outgoing stream sequence/timestamp rewriting; see rewrite.h. */
#include "rewrite.h"

#include "mem.h"

#include <stdlib.h>

/* Extended sequence numbers start in cycle 1, so a packet older than the first one of a
 * source extends below it rather than to the cycle above. */
#define FIRST_CYCLE 0x10000u

struct rewrite {
    bool started;
    uint32_t ssrc;        /* current source */
    uint64_t base_in;     /* extended in seq of the source's first forwarded packet */
    uint64_t highest_in;  /* newest extended in seq seen (forwarded or dropped) */
    uint64_t base_out;    /* extended out seq of that first packet */
    uint64_t last_out;    /* highest extended out seq sent */
    uint32_t ts_offset;   /* out_ts = in_ts + ts_offset (mod 2^32) */
    uint32_t last_ts;     /* out timestamp of the newest frame sent */
    uint64_t last_ts_ms;  /* when its first packet was sent */
    uint64_t drops_total; /* drops accounted since the source started */
    uint64_t drops[REWRITE_DROP_HISTORY]; /* the latest ones, increasing; ring */
    size_t drops_head;                    /* next slot to write */
};

static uint64_t extend(uint64_t ref, uint16_t seq)
{
    uint16_t delta = (uint16_t)(seq - (uint16_t)ref);
    return delta < 0x8000 ? ref + delta : ref - (0x10000u - delta);
}

rewrite_t *rewrite_new(void)
{
    return xcalloc(1, sizeof(rewrite_t));
}

void rewrite_free(rewrite_t *r)
{
    free(r);
}

static void start_source(rewrite_t *r, uint16_t in_seq, uint32_t in_ts, uint32_t in_ssrc,
                         uint64_t now_ms, uint32_t clock_rate)
{
    uint32_t out_ts = in_ts;
    if (r->started) {
        uint64_t ms = now_ms > r->last_ts_ms ? now_ms - r->last_ts_ms : 0;
        uint64_t ticks = ms * clock_rate / 1000;
        out_ts = r->last_ts + (uint32_t)(ticks ? ticks : 1);
        r->base_out = r->last_out + 1;
    } else {
        r->base_out = FIRST_CYCLE + in_seq;
    }
    r->started = true;
    r->ssrc = in_ssrc;
    r->ts_offset = out_ts - in_ts;
    r->base_in = r->highest_in = FIRST_CYCLE + in_seq;
    r->drops_total = 0;
    r->drops_head = 0;
    r->last_out = r->base_out;
    r->last_ts = out_ts;
    r->last_ts_ms = now_ms;
}

/* Drops remembered: the ring holds min(total, history) of them. */
static size_t drops_kept(const rewrite_t *r)
{
    return r->drops_total < REWRITE_DROP_HISTORY ? (size_t)r->drops_total : REWRITE_DROP_HISTORY;
}

/* How many accounted drops are below e: 0 or more, or -1 when the history is too short
 * to tell, or -2 when e itself was dropped. */
static int64_t drops_below(const rewrite_t *r, uint64_t e)
{
    size_t kept = drops_kept(r), above = 0;
    for (size_t i = 0; i < kept; i++) {
        uint64_t d = r->drops[(r->drops_head + REWRITE_DROP_HISTORY - 1 - i) %
                              REWRITE_DROP_HISTORY]; /* newest first */
        if (d == e) return -2;
        if (d < e) return (int64_t)(r->drops_total - above);
        above++;
    }
    /* every remembered drop is above e: fine if they are all the drops there were */
    return kept == r->drops_total ? 0 : -1;
}

bool rewrite_packet(rewrite_t *r, uint16_t in_seq, uint32_t in_ts, uint32_t in_ssrc,
                    uint64_t now_ms, uint32_t clock_rate, uint16_t *out_seq, uint32_t *out_ts)
{
    if (!r->started || in_ssrc != r->ssrc) {
        start_source(r, in_seq, in_ts, in_ssrc, now_ms, clock_rate);
        *out_seq = (uint16_t)r->base_out;
        *out_ts = r->last_ts;
        return true;
    }
    uint64_t e = extend(r->highest_in, in_seq);
    if (e < r->base_in) return false;
    int64_t below = drops_below(r, e);
    if (below < 0) return false;
    if (e > r->highest_in) r->highest_in = e;
    uint64_t out = r->base_out + (e - r->base_in) - (uint64_t)below;
    uint32_t ts = in_ts + r->ts_offset;
    if (out > r->last_out) {
        r->last_out = out;
        if (ts != r->last_ts) { /* first packet of a newer frame */
            r->last_ts = ts;
            r->last_ts_ms = now_ms;
        }
    }
    *out_seq = (uint16_t)out;
    *out_ts = ts;
    return true;
}

bool rewrite_drop(rewrite_t *r, uint16_t in_seq, uint32_t in_ssrc)
{
    if (!r->started || in_ssrc != r->ssrc) return true;
    uint64_t e = extend(r->highest_in, in_seq);
    if (e < r->base_in) return true;
    if (e <= r->highest_in) return drops_below(r, e) == -2; /* repeated drop: fine */
    r->drops[r->drops_head] = e;
    r->drops_head = (r->drops_head + 1) % REWRITE_DROP_HISTORY;
    r->drops_total++;
    r->highest_in = e;
    return true;
}

bool rewrite_ts(const rewrite_t *r, uint32_t in_ssrc, uint32_t in_ts, uint32_t *out_ts)
{
    if (!r->started || in_ssrc != r->ssrc) return false;
    *out_ts = in_ts + r->ts_offset;
    return true;
}

bool rewrite_last_seq(const rewrite_t *r, uint16_t *out_seq)
{
    if (!r->started) return false;
    *out_seq = (uint16_t)r->last_out;
    return true;
}
