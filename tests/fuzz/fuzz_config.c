/* libFuzzer target: config_parse on arbitrary bytes (a NUL-terminated copy). A config it
 * accepts has every value within the range README.md documents, paired keys both set or
 * both absent, valid announce addresses and distinct valid room names; it is then freed.
 * A refusal leaves *out NULL and writes one line "fuzz.json:<line>:<col>: <reason>" with
 * line and column inside the text, into an exactly sized heap buffer (ASan sees overruns). */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.json"

static void require(int cond)
{
    if (!cond) abort();
}

static bool in(long v, long lo, long hi)
{
    return v >= lo && v <= hi;
}

static bool is_address(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static void check_room(const config_room_t *r)
{
    require(in(r->max_participants, 1, 1000));
    require(in(r->video_kbps, 16, 10000));
    require(in(r->audio_kbps, 6, 510));
    require(in(r->last_n, 0, 100));
    require(!r->password || in((long)strlen(r->password), 1, CONFIG_PASSWORD_MAX));
    require(memchr(r->name, '\0', sizeof r->name) != NULL);
}

static void check_config(const config_t *c)
{
    require(in(c->listen_port, 1, 65535));
    require(!c->listen_address || is_address(c->listen_address));
    require(!c->tls_cert == !c->tls_key);
    require(!c->dtls_cert == !c->dtls_key);
    require(c->web_root && c->web_root[0]);
    require(in(c->media_port, 1024, 65535) && in(c->media_workers, 1, 64));
    require(c->media_port + c->media_workers - 1 <= 65535);
    require(c->n_announce <= 16 && (c->n_announce == 0 || c->announce));
    for (size_t i = 0; i < c->n_announce; i++)
        require(is_address(c->announce[i]));
    require(in(c->max_rooms, 1, 10000));
    require(in(c->max_participants, 1, 100000));
    require(in(c->uplink_kbps, 0, 10000000));
    require(in(c->messages_per_second, 1, 1000));
    require(in(c->resume_seconds, 0, 300));
    require(in(c->connections_per_ip, 1, 10000));
    require(in(c->joins_per_minute_per_ip, 1, 10000));
    require(in(c->join_timeout_seconds, 1, 600));
    check_room(&c->room_defaults);
    require(c->room_defaults.name[0] == '\0');
    require(c->n_rooms == 0 || c->rooms);
    for (size_t i = 0; i < c->n_rooms; i++) {
        const config_room_t *r = &c->rooms[i];
        check_room(r);
        size_t n = strlen(r->name);
        require(in((long)n, 1, CONFIG_ROOM_NAME_MAX));
        require(strspn(r->name,
                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n);
        require(config_find_room(c, r->name) == r); /* names are distinct */
    }
}

/* "fuzz.json:<line>:<col>: <reason>", one line, the position inside the text. */
static void check_error(const char *text, const char *err)
{
    size_t n = strlen(err);
    require(n > 0 && n < CONFIG_ERROR_MAX);
    for (const char *c = err; *c; c++)
        require((unsigned char)*c >= 0x20 && *c != 0x7f);
    require(strncmp(err, NAME ":", sizeof NAME) == 0);
    char *end;
    const char *p = err + sizeof NAME;
    long line = strtol(p, &end, 10);
    require(end > p && *end == ':' && line >= 1);
    p = end + 1;
    long col = strtol(p, &end, 10);
    require(end > p && end[0] == ':' && end[1] == ' ' && col >= 1);
    require(end[2] != '\0');
    const char *at = text; /* the start of line `line`, which must exist */
    for (long i = 1; i < line; i++) {
        at = strchr(at, '\n');
        require(at != NULL);
        at++;
    }
    long chars = 0; /* columns count characters */
    for (const char *c = at; *c && *c != '\n'; c++)
        chars += ((unsigned char)*c & 0xC0) != 0x80;
    require(col <= chars + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *err = malloc(CONFIG_ERROR_MAX);
    require(text && err);
    memcpy(text, data, size);
    text[size] = '\0';
    config_t *cfg = (config_t *)text; /* must be overwritten either way */
    int ret = config_parse(text, NAME, &cfg, err);
    if (ret == 0) {
        require(cfg != NULL);
        check_config(cfg);
        config_free(cfg);
    } else {
        require(ret == -1 && cfg == NULL);
        check_error(text, err);
    }
    free(err);
    free(text);
    return 0;
}
