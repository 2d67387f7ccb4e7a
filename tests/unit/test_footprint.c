#include "footprint.h"
#include "test.h"

#include <math.h>
#include <string.h>

static int near(double a, double b)
{
    return fabs(a - b) < 1e-9 * (fabs(a) + fabs(b) + 1);
}

/* Usage reports add up; the bitrates are those of the latest tick period. */
static void test_usage_and_bitrates(void)
{
    footprint_t f;
    footprint_start(&f, 1000);
    worker_usage_t a = {.bytes_in = 100000, .bytes_out = 250000, .cpu_ns = 30000000};
    worker_usage_t b = {.bytes_in = 25000, .bytes_out = 0, .cpu_ns = 20000000};
    footprint_add(&f, &a);
    footprint_add(&f, &b);
    CHECK(f.bytes_in == 125000 && f.bytes_out == 250000 && f.cpu_ns == 50000000);
    CHECK(near(footprint_cpu_seconds(&f), 0.05));
    footprint_tick(&f, 2000, 0); /* 1 s: 125 kB in = 1000 kbit/s, 250 kB out = 2000 kbit/s */
    CHECK_INT((int)f.kbps_in, 1000);
    CHECK_INT((int)f.kbps_out, 2000);
    footprint_tick(&f, 4000, 0); /* nothing new in 2 s */
    CHECK_INT((int)f.kbps_in, 0);
    CHECK_INT((int)f.kbps_out, 0);
    footprint_tick(&f, 4000, 5); /* no time passed: nothing changes */
    CHECK(f.idle_joules == 0);
}

/* Energy: the idle share accrues with time, CPU seconds cost watts_per_core each. */
static void test_energy(void)
{
    footprint_t f;
    footprint_model_t m = {.idle_watts = 10, .watts_per_core = 8};
    footprint_start(&f, 0);
    footprint_tick(&f, 3600 * 1000, 10.0 / 4); /* an hour, one of 4 rooms: 2.5 Wh */
    CHECK(near(footprint_joules(&f, &m), 2.5 * 3600));
    worker_usage_t u = {.cpu_ns = 450ull * 1000000000ull}; /* 450 CPU s x 8 W = 1 Wh */
    footprint_add(&f, &u);
    CHECK(near(footprint_joules(&f, &m) / 3600, 3.5));
    char line[160];
    f.bytes_out = 84100000;
    f.bytes_in = 80200000;
    footprint_describe(&f, &m, 42 * 60 * 1000 + 5000, line, sizeof line);
    CHECK_STR(line, "42 min 5 s, 84.1 MB relayed (80.2 MB received), 450.00 CPU s, 3.500 Wh");
}

int main(void)
{
    test_usage_and_bitrates();
    test_energy();
    TEST_END();
}
