/* addrlimit: connections per address, join attempts per minute, forgetting. */
#include "addrlimit.h"
#include "test.h"

static void test_connections(void)
{
    addrlimit_t *al = addrlimit_new();
    CHECK_INT(addrlimit_connect(al, "192.0.2.1", 2, 0), 0);
    CHECK_INT(addrlimit_connect(al, "192.0.2.1", 2, 0), 0);
    CHECK_INT(addrlimit_connect(al, "192.0.2.1", 2, 0), -1); /* the third is refused */
    CHECK_INT(addrlimit_connect(al, "2001:db8::1", 2, 0), 0);  /* another address */
    addrlimit_disconnect(al, "192.0.2.1");
    CHECK_INT(addrlimit_connect(al, "192.0.2.1", 2, 0), 0);
    addrlimit_disconnect(al, "203.0.113.9"); /* unknown: harmless */
    addrlimit_free(al);
    addrlimit_free(NULL);
}

static void test_join_attempts(void)
{
    addrlimit_t *al = addrlimit_new();
    for (int i = 0; i < 3; i++) CHECK_INT(addrlimit_join(al, "192.0.2.1", 3, 1000 + i), 0);
    CHECK_INT(addrlimit_join(al, "192.0.2.1", 3, 5000), -1);
    CHECK_INT(addrlimit_join(al, "192.0.2.2", 3, 5000), 0);
    /* Reconnecting does not reset the count: the guesser waits out the minute. */
    CHECK_INT(addrlimit_connect(al, "192.0.2.1", 5, 6000), 0);
    addrlimit_disconnect(al, "192.0.2.1");
    CHECK_INT(addrlimit_join(al, "192.0.2.1", 3, 30000), -1);
    CHECK_INT(addrlimit_join(al, "192.0.2.1", 3, 61000), 0); /* a new minute */
    addrlimit_free(al);
}

int main(void)
{
    test_connections();
    test_join_attempts();
    TEST_END();
}
