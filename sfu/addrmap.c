#include "addrmap.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* An address in a fixed form: IPv4 as v4-mapped IPv6, so both families share one key. */
typedef struct key {
    uint8_t ip[16];
    uint16_t port;
} key_t_;

typedef struct entry {
    key_t_ key;
    uint32_t value;
    bool used;
} entry_t;

struct addrmap {
    entry_t *slots;
    uint32_t cap, count; /* cap is a power of two */
};

static bool make_key(const struct sockaddr *a, key_t_ *k)
{
    memset(k, 0, sizeof *k);
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        k->ip[10] = k->ip[11] = 0xff;
        memcpy(k->ip + 12, &s->sin_addr, 4);
        k->port = s->sin_port;
        return true;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        memcpy(k->ip, &s->sin6_addr, 16);
        k->port = s->sin6_port;
        return true;
    }
    return false;
}

static uint32_t hash(const key_t_ *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < sizeof k->ip; i++)
        h = (h ^ k->ip[i]) * 16777619u;
    h = (h ^ (k->port & 0xff)) * 16777619u;
    h = (h ^ (k->port >> 8)) * 16777619u;
    return h;
}

static bool same(const key_t_ *a, const key_t_ *b)
{
    return a->port == b->port && memcmp(a->ip, b->ip, sizeof a->ip) == 0;
}

addrmap_t *addrmap_new(void)
{
    addrmap_t *m = xcalloc(1, sizeof *m);
    m->cap = 64;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void addrmap_free(addrmap_t *m)
{
    if (!m) return;
    free(m->slots);
    free(m);
}

static void insert(addrmap_t *m, const key_t_ *k, uint32_t value)
{
    uint32_t i = hash(k) & (m->cap - 1);
    while (m->slots[i].used && !same(&m->slots[i].key, k))
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].used) m->count++;
    m->slots[i] = (entry_t){.key = *k, .value = value, .used = true};
}

static void grow(addrmap_t *m)
{
    entry_t *old = m->slots;
    uint32_t old_cap = m->cap;
    m->cap *= 2;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    m->count = 0;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i].used) insert(m, &old[i].key, old[i].value);
    free(old);
}

void addrmap_put(addrmap_t *m, const struct sockaddr *addr, uint32_t value)
{
    key_t_ k;
    if (!make_key(addr, &k)) return;
    if ((m->count + 1) * 2 > m->cap) grow(m); /* load stays under one half */
    insert(m, &k, value);
}

int addrmap_get(const addrmap_t *m, const struct sockaddr *addr, uint32_t *value)
{
    key_t_ k;
    if (!make_key(addr, &k)) return -1;
    for (uint32_t i = hash(&k) & (m->cap - 1); m->slots[i].used; i = (i + 1) & (m->cap - 1)) {
        if (same(&m->slots[i].key, &k)) {
            *value = m->slots[i].value;
            return 0;
        }
    }
    return -1;
}

/* Deletion without tombstones: later entries of the probe run move back into the hole. */
static void delete_at(addrmap_t *m, uint32_t hole)
{
    uint32_t mask = m->cap - 1;
    m->slots[hole].used = false;
    m->count--;
    for (uint32_t j = (hole + 1) & mask; m->slots[j].used; j = (j + 1) & mask) {
        uint32_t home = hash(&m->slots[j].key) & mask;
        /* Move j into the hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        m->slots[hole] = m->slots[j];
        m->slots[j].used = false;
        hole = j;
    }
}

void addrmap_remove_value(addrmap_t *m, uint32_t value)
{
    for (uint32_t i = 0; i < m->cap;) {
        /* delete_at may pull a later entry into i: look at i again before moving on. */
        if (m->slots[i].used && m->slots[i].value == value)
            delete_at(m, i);
        else
            i++;
    }
}

uint32_t addrmap_count(const addrmap_t *m)
{
    return m->count;
}
