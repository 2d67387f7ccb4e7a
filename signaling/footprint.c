#include "footprint.h"

#include <stdio.h>

void footprint_start(footprint_t *f, long long now_ms)
{
    *f = (footprint_t){.opened_ms = now_ms, .tick_ms = now_ms};
}

void footprint_add(footprint_t *f, const worker_usage_t *u)
{
    f->bytes_in += u->bytes_in;
    f->bytes_out += u->bytes_out;
    f->cpu_ns += u->cpu_ns;
}

void footprint_tick(footprint_t *f, long long now_ms, double idle_watts_share)
{
    long long dt = now_ms - f->tick_ms;
    if (dt <= 0) return;
    f->idle_joules += idle_watts_share * (double)dt / 1000.0;
    f->kbps_in = (uint32_t)((f->bytes_in - f->tick_in) * 8 / (uint64_t)dt);
    f->kbps_out = (uint32_t)((f->bytes_out - f->tick_out) * 8 / (uint64_t)dt);
    f->tick_in = f->bytes_in;
    f->tick_out = f->bytes_out;
    f->tick_ms = now_ms;
}

double footprint_cpu_seconds(const footprint_t *f)
{
    return (double)f->cpu_ns / 1e9;
}

double footprint_joules(const footprint_t *f, const footprint_model_t *m)
{
    return f->idle_joules + footprint_cpu_seconds(f) * m->watts_per_core;
}

void footprint_describe(const footprint_t *f, const footprint_model_t *m, long long now_ms,
                        char *out, size_t len)
{
    long long secs = (now_ms - f->opened_ms) / 1000;
    snprintf(out, len, "%lld min %lld s, %.1f MB relayed (%.1f MB received), %.2f CPU s, %.3f Wh",
             secs / 60, secs % 60, (double)f->bytes_out / 1e6, (double)f->bytes_in / 1e6,
             footprint_cpu_seconds(f), footprint_joules(f, m) / 3600.0);
}
