#include "addrlimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define WINDOW_MS 60000
#define IP_MAX    64

typedef struct entry {
    char ip[IP_MAX];
    int connections;
    int attempts;        /* join attempts since window_at */
    long long window_at; /* start of the current minute of attempts */
} entry_t;

struct addrlimit {
    entry_t *entries;
    size_t n, cap;
};

addrlimit_t *addrlimit_new(void)
{
    return xcalloc(1, sizeof(addrlimit_t));
}

void addrlimit_free(addrlimit_t *al)
{
    if (!al) return;
    free(al->entries);
    free(al);
}

static entry_t *find(addrlimit_t *al, const char *ip, int create)
{
    for (size_t i = 0; i < al->n; i++)
        if (!strcmp(al->entries[i].ip, ip)) return &al->entries[i];
    if (!create) return NULL;
    if (al->n == al->cap) {
        al->cap = al->cap ? 2 * al->cap : 16;
        al->entries = xrealloc(al->entries, al->cap * sizeof *al->entries);
    }
    entry_t *e = &al->entries[al->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->ip, sizeof e->ip, "%s", ip);
    return e;
}

/* Forgets the addresses that hold nothing: no connection, no attempt this minute. */
static void purge(addrlimit_t *al, long long now_ms)
{
    for (size_t i = 0; i < al->n;) {
        entry_t *e = &al->entries[i];
        if (e->connections == 0 && (e->attempts == 0 || now_ms - e->window_at >= WINDOW_MS))
            *e = al->entries[--al->n];
        else
            i++;
    }
}

int addrlimit_connect(addrlimit_t *al, const char *ip, int max, long long now_ms)
{
    purge(al, now_ms);
    entry_t *e = find(al, ip, 1);
    if (e->connections >= max) return -1;
    e->connections++;
    return 0;
}

void addrlimit_disconnect(addrlimit_t *al, const char *ip)
{
    entry_t *e = find(al, ip, 0);
    if (e && e->connections > 0) e->connections--;
}

int addrlimit_join(addrlimit_t *al, const char *ip, int per_minute, long long now_ms)
{
    purge(al, now_ms);
    entry_t *e = find(al, ip, 1);
    if (e->attempts == 0 || now_ms - e->window_at >= WINDOW_MS) {
        e->window_at = now_ms;
        e->attempts = 0;
    }
    if (e->attempts >= per_minute) return -1;
    e->attempts++;
    return 0;
}
