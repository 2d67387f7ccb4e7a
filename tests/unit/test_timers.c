/* timers: ordering, rescheduling, cancelling, against a brute-force model. */
#include <stdlib.h>

#include "test.h"
#include "timers.h"

#define N 200

static void test_basic(void)
{
    timers_t t;
    timers_init(&t);
    timers_node_t a, b, c;
    timers_node_init(&a);
    timers_node_init(&b);
    timers_node_init(&c);
    CHECK(timers_next(&t) == TIMERS_NEVER);
    CHECK(timers_pop_due(&t, 1000) == NULL);
    timers_schedule(&t, &a, 30);
    timers_schedule(&t, &b, 10);
    timers_schedule(&t, &c, 20);
    CHECK_INT(timers_next(&t), 10);
    timers_schedule(&t, &b, 40); /* moved later */
    CHECK_INT(timers_next(&t), 20);
    timers_cancel(&t, &c);
    timers_cancel(&t, &c); /* twice is harmless */
    CHECK(timers_pop_due(&t, 29) == NULL);
    CHECK(timers_pop_due(&t, 30) == &a);
    CHECK(a.at == TIMERS_NEVER);
    CHECK(timers_pop_due(&t, 100) == &b);
    CHECK(timers_pop_due(&t, 100) == NULL);
    timers_release(&t);
}

/* Random schedules, moves and cancels; pops must come out in deadline order, and exactly
 * the nodes still scheduled must come out. */
static void test_random(void)
{
    timers_t t;
    timers_init(&t);
    timers_node_t nodes[N];
    for (int i = 0; i < N; i++)
        timers_node_init(&nodes[i]);
    srand(7);
    for (int step = 0; step < 5000; step++) {
        timers_node_t *n = &nodes[rand() % N];
        if (rand() % 4 == 0)
            timers_cancel(&t, n);
        else
            timers_schedule(&t, n, (uint64_t)(rand() % 100000));
    }
    int scheduled = 0;
    for (int i = 0; i < N; i++)
        scheduled += nodes[i].at != TIMERS_NEVER;
    uint64_t prev = 0;
    int popped = 0, out_of_order = 0;
    for (uint64_t at = timers_next(&t); timers_pop_due(&t, at); at = timers_next(&t)) {
        out_of_order += at < prev;
        prev = at;
        popped++;
    }
    CHECK_INT(popped, scheduled);
    CHECK_INT(out_of_order, 0);
    for (int i = 0; i < N; i++)
        CHECK(nodes[i].at == TIMERS_NEVER);
    timers_release(&t);
}

static void test_order(void)
{
    timers_t t;
    timers_init(&t);
    timers_node_t nodes[N];
    srand(11);
    for (int i = 0; i < N; i++) {
        timers_node_init(&nodes[i]);
        timers_schedule(&t, &nodes[i], (uint64_t)(rand() % 1000));
    }
    for (int i = 0; i < N; i += 3)
        timers_schedule(&t, &nodes[i], (uint64_t)(rand() % 1000));
    uint64_t prev = 0;
    int bad = 0, count = 0;
    for (;;) {
        uint64_t at = timers_next(&t);
        timers_node_t *n = timers_pop_due(&t, 1000);
        if (!n) break;
        if (at < prev) bad++;
        prev = at;
        count++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(count, N);
    timers_release(&t);
}

int main(void)
{
    test_basic();
    test_random();
    test_order();
    TEST_END();
}
