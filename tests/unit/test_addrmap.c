/* addrmap: IPv4 and IPv6 keys, replacement, removal by value, growth, against a
 * brute-force model under random churn. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "addrmap.h"
#include "test.h"

static struct sockaddr_in v4(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, int port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static void test_basic(void)
{
    addrmap_t *m = addrmap_new();
    struct sockaddr_in a = v4("192.0.2.1", 5000), b = v4("192.0.2.1", 5001);
    struct sockaddr_in6 c = v6("2001:db8::1", 5000);
    struct sockaddr_in6 mapped = v6("::ffff:192.0.2.1", 5000);
    uint32_t v = 99;
    CHECK_INT(addrmap_get(m, (struct sockaddr *)&a, &v), -1);
    addrmap_put(m, (struct sockaddr *)&a, 1);
    addrmap_put(m, (struct sockaddr *)&b, 2);
    addrmap_put(m, (struct sockaddr *)&c, 1);
    CHECK_INT(addrmap_count(m), 3);
    CHECK_INT(addrmap_get(m, (struct sockaddr *)&a, &v), 0);
    CHECK_INT(v, 1);
    CHECK_INT(addrmap_get(m, (struct sockaddr *)&b, &v), 0);
    CHECK_INT(v, 2);
    /* A v4-mapped IPv6 source (dual-stack socket) is the same peer as its IPv4 form. */
    CHECK_INT(addrmap_get(m, (struct sockaddr *)&mapped, &v), 0);
    CHECK_INT(v, 1);
    addrmap_put(m, (struct sockaddr *)&a, 7); /* replaces */
    CHECK_INT(addrmap_count(m), 3);
    CHECK_INT(addrmap_get(m, (struct sockaddr *)&a, &v), 0);
    CHECK_INT(v, 7);
    addrmap_remove_value(m, 1); /* only c held 1 now */
    CHECK_INT(addrmap_count(m), 2);
    CHECK_INT(addrmap_get(m, (struct sockaddr *)&c, &v), -1);
    struct sockaddr other = {.sa_family = AF_UNIX};
    addrmap_put(m, &other, 3); /* ignored */
    CHECK_INT(addrmap_get(m, &other, &v), -1);
    CHECK_INT(addrmap_count(m), 2);
    addrmap_free(m);
    addrmap_free(NULL);
}

#define KEYS 600

static void test_model(void)
{
    static int model[KEYS]; /* value + 1, 0 when absent */
    addrmap_t *m = addrmap_new();
    srand(7);
    for (int round = 0; round < 20000; round++) {
        int k = rand() % KEYS;
        struct sockaddr_in a = v4("10.0.0.1", 1000 + k);
        int op = rand() % 10;
        if (op < 6) {
            uint32_t val = (uint32_t)(rand() % 40);
            addrmap_put(m, (struct sockaddr *)&a, val);
            model[k] = (int)val + 1;
        } else if (op < 7) {
            uint32_t val = (uint32_t)(rand() % 40);
            addrmap_remove_value(m, val);
            for (int i = 0; i < KEYS; i++)
                if (model[i] == (int)val + 1) model[i] = 0;
        } else {
            uint32_t v;
            int rc = addrmap_get(m, (struct sockaddr *)&a, &v);
            if (model[k]) {
                if (rc != 0 || (int)v + 1 != model[k]) {
                    CHECK(!"lookup disagrees with the model");
                    break;
                }
            } else if (rc != -1) {
                CHECK(!"found a removed address");
                break;
            }
        }
    }
    uint32_t n = 0;
    for (int i = 0; i < KEYS; i++)
        n += model[i] != 0;
    CHECK_INT(addrmap_count(m), n);
    addrmap_free(m);
}

int main(void)
{
    test_basic();
    test_model();
    TEST_END();
}
