#include "config.h"

#include "auth.h"
#include "mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SOBRE_WEB_ROOT
#define SOBRE_WEB_ROOT "web"
#endif

#define FILE_MAX     (1024 * 1024)
#define PATH_DEPTH   4 /* rooms.NAME.key and media.announce[i] are the deepest */
#define STR_MAX      4096
#define ANNOUNCE_MAX 16
#define SHOWN_MAX    40 /* bytes of an offending value quoted in an error */
#define KEY_MAX      64 /* bytes of one key shown in a path */
#define COUNT(a)     (sizeof(a) / sizeof *(a))

const char config_default_json[] = "{\n"
                                   "    \"listen\": {\n"
                                   "        \"port\": 8080\n"
                                   "    },\n"
                                   "    \"media\": {\n"
                                   "        \"port\": 40000,\n"
                                   "        \"workers\": 1,\n"
                                   "        \"announce\": []\n"
                                   "    },\n"
                                   "    \"limits\": {\n"
                                   "        \"max_rooms\": 16,\n"
                                   "        \"max_participants\": 64,\n"
                                   "        \"uplink_kbps\": 10000,\n"
                                   "        \"messages_per_second\": 20,\n"
                                   "        \"resume_seconds\": 20,\n"
                                   "        \"connections_per_ip\": 16,\n"
                                   "        \"joins_per_minute_per_ip\": 30,\n"
                                   "        \"join_timeout_seconds\": 10\n"
                                   "    },\n"
                                   "    \"on_demand\": true,\n"
                                   "    \"room_defaults\": {\n"
                                   "        \"max_participants\": 8,\n"
                                   "        \"video\": true,\n"
                                   "        \"video_kbps\": 300,\n"
                                   "        \"audio_kbps\": 32,\n"
                                   "        \"last_n\": 4,\n"
                                   "        \"echo\": false\n"
                                   "    },\n"
                                   "    \"rooms\": {},\n"
                                   "    \"metrics\": {\n"
                                   "        \"access\": \"off\"\n"
                                   "    },\n"
                                   "    \"log\": {\n"
                                   "        \"level\": \"info\",\n"
                                   "        \"private_data\": false\n"
                                   "    },\n"
                                   "    \"footprint\": {\n"
                                   "        \"idle_watts\": 10,\n"
                                   "        \"watts_per_busy_core\": 10,\n"
                                   "        \"interval_seconds\": 10\n"
                                   "    }\n"
                                   "}\n";

typedef struct ctx {
    const char *text; /* the whole JSON text, for positions */
    size_t len;
    const char *name;
    char *err;
} ctx_t;

/* A key path; a NULL key means an array index. Keys are borrowed from the json_t tree. */
typedef struct path {
    struct {
        const char *key;
        size_t index;
    } seg[PATH_DEPTH];
    int depth;
} path_t;

/* Where a path sits in the text: the key (or element) position and the raw spans. */
typedef struct loc {
    int line, col;
    size_t key_start, key_end, val_start, val_end;
    int found;
} loc_t;

typedef struct scan {
    const char *p, *end;
    int line, col;
} scan_t;

enum kind { F_INT, F_NUM, F_ENUM, F_BOOL, F_STR, F_ADDR, F_ADDRS, F_OBJ, F_ROOM_DEFAULTS, F_ROOMS };

typedef struct table table_t;

/* F_ENUM fields name their list of accepted strings by index (field.lo); the value is
 * stored as the int index of the string given. */
enum { CHOICES_METRICS_ACCESS, CHOICES_LOG_LEVEL };
static const char *const *const choice_lists[] = {
    [CHOICES_METRICS_ACCESS] = (const char *const[]){"off", "loopback", "token", NULL},
    [CHOICES_LOG_LEVEL] = (const char *const[]){"error", "warn", "info", "debug", NULL},
};

typedef struct field {
    const char *key;
    enum kind kind;
    int lo, hi;
    size_t offset; /* into the base struct the table fills */
    const table_t *sub;
} field_t;

struct table {
    const field_t *fields;
    size_t n;
    int (*check)(const ctx_t *ctx, const path_t *path, json_t *obj, void *base);
};

/* ---- position locator: walks text already known to be valid JSON ---- */

static void advance(scan_t *s)
{
    unsigned char c = (unsigned char)*s->p++;
    if (c == '\n') {
        s->line++;
        s->col = 1;
    } else if ((c & 0xC0) != 0x80) { /* columns count characters, as jansson does */
        s->col++;
    }
}

static void skip_ws(scan_t *s)
{
    while (s->p < s->end && *s->p && strchr(" \t\r\n", *s->p))
        advance(s);
}

static void skip_string(scan_t *s)
{
    advance(s);
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' && s->p + 1 < s->end) advance(s);
        advance(s);
    }
    if (s->p < s->end) advance(s);
}

/* Iterative, so nesting depth costs nothing. */
static void skip_value(scan_t *s)
{
    int depth = 0;
    do {
        if (s->p >= s->end) return;
        char c = *s->p;
        if (c == '"') {
            skip_string(s);
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        else if (depth == 0) {
            while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
                advance(s);
            return;
        }
        advance(s);
    } while (depth > 0);
}

static int key_matches(const char *raw, size_t n, const char *key)
{
    if (n < 2) return 0;
    if (!memchr(raw, '\\', n)) return n - 2 == strlen(key) && memcmp(raw + 1, key, n - 2) == 0;
    json_t *decoded = json_loadb(raw, n, JSON_DECODE_ANY, NULL);
    int same = json_is_string(decoded) && json_string_length(decoded) == strlen(key) &&
               memcmp(json_string_value(decoded), key, strlen(key)) == 0;
    json_decref(decoded);
    return same;
}

/* Moves s from an object onto the value of `key`, recording the key in loc. */
static int find_member(scan_t *s, const char *key, loc_t *loc, const char *text)
{
    if (s->p >= s->end || *s->p != '{') return 0;
    advance(s);
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"') return 0;
        scan_t at = *s;
        skip_string(s);
        scan_t after = *s;
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') return 0;
        advance(s);
        skip_ws(s);
        if (key_matches(at.p, (size_t)(after.p - at.p), key)) {
            *loc = (loc_t){.line = at.line,
                           .col = at.col,
                           .key_start = (size_t)(at.p - text),
                           .key_end = (size_t)(after.p - text)};
            return 1;
        }
        skip_value(s);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ',') return 0;
        advance(s);
    }
}

static int find_element(scan_t *s, size_t index, loc_t *loc, const char *text)
{
    if (s->p >= s->end || *s->p != '[') return 0;
    advance(s);
    for (size_t i = 0;; i++) {
        skip_ws(s);
        if (s->p >= s->end || *s->p == ']') return 0;
        if (i == index) {
            size_t here = (size_t)(s->p - text);
            *loc = (loc_t){.line = s->line, .col = s->col, .key_start = here, .key_end = here};
            return 1;
        }
        skip_value(s);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ',') return 0;
        advance(s);
    }
}

/* Best effort: if a segment is not found, the deepest ancestor found is reported. */
static loc_t locate(const ctx_t *ctx, const path_t *path)
{
    scan_t s = {ctx->text, ctx->text + ctx->len, 1, 1};
    loc_t loc = {1, 1, 0, 0, 0, 0, 0};
    skip_ws(&s);
    for (int i = 0; i < path->depth; i++) {
        loc_t next;
        int ok = path->seg[i].key ? find_member(&s, path->seg[i].key, &next, ctx->text)
                                  : find_element(&s, path->seg[i].index, &next, ctx->text);
        if (!ok) return loc;
        loc = next;
    }
    loc.val_start = (size_t)(s.p - ctx->text);
    skip_value(&s);
    loc.val_end = (size_t)(s.p - ctx->text);
    loc.found = 1;
    return loc;
}

/* ---- error messages ---- */

/* Copies at most max bytes of s[0..n) without splitting a UTF-8 character, "..." if cut. */
static void clip(char *out, size_t size, const char *s, size_t n, size_t max)
{
    size_t cut = n;
    if (n > max) {
        cut = max;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    snprintf(out, size, "%.*s%s", (int)cut, s, cut < n ? "..." : "");
}

static void path_format(const path_t *path, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < path->depth && len < size; i++) {
        char key[KEY_MAX + 4];
        if (path->seg[i].key)
            clip(key, sizeof key, path->seg[i].key, strlen(path->seg[i].key), KEY_MAX);
        int n = path->seg[i].key ? snprintf(out + len, size - len, "%s%s", i ? "." : "", key)
                                 : snprintf(out + len, size - len, "[%zu]", path->seg[i].index);
        len += n > 0 ? (size_t)n : 0;
    }
}

static int vfail(const ctx_t *ctx, const loc_t *loc, const path_t *shown, const char *fmt,
                 va_list ap)
{
    char where[CONFIG_ERROR_MAX], msg[CONFIG_ERROR_MAX], line[3 * CONFIG_ERROR_MAX];
    path_format(shown, where, sizeof where);
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(line, sizeof line, "%s:%d:%d: %s%s%s", ctx->name, loc->line, loc->col, where,
             where[0] ? ": " : "", msg);
    for (char *c = line; *c; c++) /* keys may hold decoded control characters */
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    clip(ctx->err, CONFIG_ERROR_MAX, line, strlen(line), CONFIG_ERROR_MAX - 4);
    return -1;
}

static int fail_at(const ctx_t *ctx, const loc_t *loc, const path_t *shown, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ctx, loc, shown, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail(const ctx_t *ctx, const path_t *path, const char *fmt, ...)
{
    loc_t loc = locate(ctx, path);
    va_list ap;
    va_start(ap, fmt);
    vfail(ctx, &loc, path, fmt, ap);
    va_end(ap);
    return -1;
}

/* The offending value as written in the file: "300k", 1.5, true, an object. */
static void describe(const ctx_t *ctx, const loc_t *loc, json_t *v, char *out, size_t size)
{
    if (json_is_object(v)) {
        snprintf(out, size, "an object");
    } else if (json_is_array(v)) {
        snprintf(out, size, "an array");
    } else if (loc->found) {
        clip(out, size, ctx->text + loc->val_start, loc->val_end - loc->val_start, SHOWN_MAX);
    } else {
        char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        clip(out, size, dump ? dump : "?", dump ? strlen(dump) : 1, SHOWN_MAX);
        free(dump);
    }
}

static int fail_expect(const ctx_t *ctx, const path_t *path, json_t *v, const char *expected)
{
    char got[SHOWN_MAX + 8];
    loc_t loc = locate(ctx, path);
    describe(ctx, &loc, v, got, sizeof got);
    return fail_at(ctx, &loc, path, "expected %s, got %s", expected, got);
}

/* ---- values ---- */

static path_t path_key(const path_t *parent, const char *key)
{
    path_t p = *parent;
    if (p.depth < PATH_DEPTH) {
        p.seg[p.depth].key = key;
        p.seg[p.depth++].index = 0;
    }
    return p;
}

static path_t path_index(const path_t *parent, size_t index)
{
    path_t p = path_key(parent, NULL);
    p.seg[p.depth - 1].index = index;
    return p;
}

static int get_int(const ctx_t *ctx, const path_t *path, json_t *v, int lo, int hi, int *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
        *out = (int)json_integer_value(v);
        return 0;
    }
    char expected[64];
    snprintf(expected, sizeof expected, "an integer between %d and %d", lo, hi);
    return fail_expect(ctx, path, v, expected);
}

static int get_num(const ctx_t *ctx, const path_t *path, json_t *v, int lo, int hi, double *out)
{
    if (json_is_number(v) && json_number_value(v) >= lo && json_number_value(v) <= hi) {
        *out = json_number_value(v);
        return 0;
    }
    char expected[64];
    snprintf(expected, sizeof expected, "a number between %d and %d", lo, hi);
    return fail_expect(ctx, path, v, expected);
}

static int get_choice(const ctx_t *ctx, const path_t *path, json_t *v, const char *const *choices,
                      int *out)
{
    const char *str = json_string_value(v);
    char expected[128] = "one of";
    size_t len = strlen(expected);
    for (int i = 0; choices[i]; i++) {
        if (str && strcmp(str, choices[i]) == 0) {
            *out = i;
            return 0;
        }
        int n =
            snprintf(expected + len, sizeof expected - len, "%s \"%s\"", i ? "," : "", choices[i]);
        if (n > 0 && (size_t)n < sizeof expected - len) len += (size_t)n;
    }
    return fail_expect(ctx, path, v, expected);
}

static int get_bool(const ctx_t *ctx, const path_t *path, json_t *v, bool *out)
{
    if (!json_is_boolean(v)) return fail_expect(ctx, path, v, "true or false");
    *out = json_is_true(v);
    return 0;
}

static int set_str(const ctx_t *ctx, const path_t *path, json_t *v, int hi, char **slot)
{
    if (!json_is_string(v)) return fail_expect(ctx, path, v, "a string");
    size_t n = json_string_length(v);
    if (n < 1 || n > (size_t)hi) {
        char expected[64];
        snprintf(expected, sizeof expected, "a string of 1 to %d bytes", hi);
        return fail_expect(ctx, path, v, expected);
    }
    free(*slot);
    *slot = xstrdup(json_string_value(v));
    return 0;
}

static int is_address(json_t *v)
{
    unsigned char buf[sizeof(struct in6_addr)];
    const char *s = json_string_value(v);
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* null is allowed: every interface. */
static int set_addr(const ctx_t *ctx, const path_t *path, json_t *v, char **slot)
{
    if (!json_is_null(v) && !is_address(v)) return fail_expect(ctx, path, v, "an IP address");
    free(*slot);
    *slot = json_is_null(v) ? NULL : xstrdup(json_string_value(v));
    return 0;
}

static void free_announce(config_t *cfg)
{
    for (size_t i = 0; i < cfg->n_announce; i++)
        free(cfg->announce[i]);
    free(cfg->announce);
    cfg->announce = NULL;
    cfg->n_announce = 0;
}

static int set_announce(const ctx_t *ctx, const path_t *path, json_t *v, config_t *cfg)
{
    if (!json_is_array(v)) return fail_expect(ctx, path, v, "an array of IP addresses");
    size_t n = json_array_size(v);
    if (n > ANNOUNCE_MAX)
        return fail(ctx, path, "expected at most %d addresses, got %zu", ANNOUNCE_MAX, n);
    for (size_t i = 0; i < n; i++) {
        path_t at = path_index(path, i);
        if (!is_address(json_array_get(v, i)))
            return fail_expect(ctx, &at, json_array_get(v, i), "an IP address");
    }
    free_announce(cfg);
    cfg->announce = xcalloc(n, sizeof *cfg->announce);
    for (; cfg->n_announce < n; cfg->n_announce++)
        cfg->announce[cfg->n_announce] =
            xstrdup(json_string_value(json_array_get(v, cfg->n_announce)));
    return 0;
}

/* ---- objects ---- */

static int parse_fields(const ctx_t *ctx, const path_t *path, json_t *obj, const table_t *t,
                        void *base);

static const field_t room_fields[] = {
    {"max_participants", F_INT, 1, 1000, offsetof(config_room_t, max_participants), NULL},
    {"video", F_BOOL, 0, 0, offsetof(config_room_t, video), NULL},
    {"video_kbps", F_INT, 16, 10000, offsetof(config_room_t, video_kbps), NULL},
    {"audio_kbps", F_INT, 6, 510, offsetof(config_room_t, audio_kbps), NULL},
    {"last_n", F_INT, 0, 100, offsetof(config_room_t, last_n), NULL},
    {"password", F_STR, 1, CONFIG_PASSWORD_MAX, offsetof(config_room_t, password), NULL},
    {"echo", F_BOOL, 0, 0, offsetof(config_room_t, echo), NULL},
};
/* A password that looks like a hash must be one (`sobre passwd` writes them): a typo
 * in a pasted hash would otherwise become the password itself. */
static int check_room(const ctx_t *ctx, const path_t *path, json_t *obj, void *base)
{
    const config_room_t *room = base;
    if (!room->password || strncmp(room->password, "pbkdf2-", 7) != 0 ||
        auth_is_hash(room->password))
        return 0;
    path_t at = path_key(path, "password");
    (void)obj;
    return fail(ctx, &at, "not a valid password hash (expected what `sobre passwd` prints)");
}
static const table_t room_table = {room_fields, COUNT(room_fields), check_room};

static int parse_room(const ctx_t *ctx, const path_t *path, json_t *v, config_room_t *room)
{
    if (!json_is_object(v)) return fail_expect(ctx, path, v, "an object");
    if (parse_fields(ctx, path, v, &room_table, room) < 0) return -1;
    return room_table.check(ctx, path, v, room);
}

static int valid_room_name(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
    return n >= 1 && n <= CONFIG_ROOM_NAME_MAX && s[n] == '\0';
}

static int bad_room_name(const ctx_t *ctx, const path_t *rooms, const path_t *room)
{
    char got[SHOWN_MAX + 8];
    loc_t loc = locate(ctx, room);
    clip(got, sizeof got, ctx->text + loc.key_start, loc.key_end - loc.key_start, SHOWN_MAX);
    return fail_at(ctx, &loc, rooms,
                   "expected a room name of 1 to %d characters among A-Z a-z 0-9 _ . -, got %s",
                   CONFIG_ROOM_NAME_MAX, got);
}

static void free_rooms(config_t *cfg)
{
    for (size_t i = 0; i < cfg->n_rooms; i++)
        free(cfg->rooms[i].password);
    free(cfg->rooms);
    cfg->rooms = NULL;
    cfg->n_rooms = 0;
}

/* Each room starts as a copy of room_defaults, which apply_root parsed first. */
static int parse_rooms(const ctx_t *ctx, const path_t *path, json_t *v, config_t *cfg)
{
    const char *name;
    json_t *room;
    if (!json_is_object(v)) return fail_expect(ctx, path, v, "an object");
    free_rooms(cfg);
    cfg->rooms = xcalloc(json_object_size(v), sizeof *cfg->rooms);
    json_object_foreach(v, name, room)
    {
        path_t at = path_key(path, name);
        if (!valid_room_name(name)) return bad_room_name(ctx, path, &at);
        config_room_t *r = &cfg->rooms[cfg->n_rooms++];
        *r = cfg->room_defaults;
        r->password = r->password ? xstrdup(r->password) : NULL;
        memcpy(r->name, name, strlen(name) + 1);
        if (parse_room(ctx, &at, room, r) < 0) return -1;
    }
    return 0;
}

static int parse_field(const ctx_t *ctx, const path_t *path, const field_t *f, json_t *v,
                       void *base)
{
    void *slot = (char *)base + f->offset;
    switch (f->kind) {
    case F_INT:
        return get_int(ctx, path, v, f->lo, f->hi, slot);
    case F_NUM:
        return get_num(ctx, path, v, f->lo, f->hi, slot);
    case F_ENUM:
        return get_choice(ctx, path, v, choice_lists[f->lo], slot);
    case F_BOOL:
        return get_bool(ctx, path, v, slot);
    case F_STR:
        return set_str(ctx, path, v, f->hi, slot);
    case F_ADDR:
        return set_addr(ctx, path, v, slot);
    case F_ADDRS:
        return set_announce(ctx, path, v, base);
    case F_OBJ:
        if (!json_is_object(v)) return fail_expect(ctx, path, v, "an object");
        if (parse_fields(ctx, path, v, f->sub, base) < 0) return -1;
        return f->sub->check ? f->sub->check(ctx, path, v, base) : 0;
    case F_ROOM_DEFAULTS:
        return 0; /* already applied by apply_root: rooms need it first */
    case F_ROOMS:
        return parse_rooms(ctx, path, v, base);
    }
    return -1;
}

static int unknown_key(const ctx_t *ctx, const path_t *path, const table_t *t)
{
    char keys[CONFIG_ERROR_MAX] = "";
    size_t len = 0;
    for (size_t i = 0; i < t->n && len < sizeof keys; i++) {
        int n = snprintf(keys + len, sizeof keys - len, "%s%s", i ? ", " : "", t->fields[i].key);
        len += n > 0 ? (size_t)n : 0;
    }
    return fail(ctx, path, "unknown key (expected one of: %s)", keys);
}

/* Members are handled in file order, so the first error in the file is the one reported. */
static int parse_fields(const ctx_t *ctx, const path_t *path, json_t *obj, const table_t *t,
                        void *base)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        path_t at = path_key(path, key);
        const field_t *f = NULL;
        for (size_t i = 0; i < t->n && !f; i++)
            if (strcmp(t->fields[i].key, key) == 0) f = &t->fields[i];
        if (!f) return unknown_key(ctx, &at, t);
        if (parse_field(ctx, &at, f, v, base) < 0) return -1;
    }
    return 0;
}

static int check_tls(const ctx_t *ctx, const path_t *path, json_t *obj, void *base)
{
    static const char *const required[] = {"cert", "key"};
    (void)base;
    for (size_t i = 0; i < COUNT(required); i++)
        if (!json_object_get(obj, required[i]))
            return fail(ctx, path, "\"%s\" is required when \"tls\" is present", required[i]);
    return 0;
}

static int check_media(const ctx_t *ctx, const path_t *path, json_t *obj, void *base)
{
    const config_t *cfg = base;
    if (!cfg->dtls_cert != !cfg->dtls_key) {
        const char *missing = cfg->dtls_cert ? "dtls_key" : "dtls_cert";
        return fail(ctx, path, "\"%s\" is required when \"%s\" is present", missing,
                    cfg->dtls_cert ? "dtls_cert" : "dtls_key");
    }
    long last = (long)cfg->media_port + cfg->media_workers - 1;
    if (last <= 65535) return 0;
    path_t at = path_key(path, json_object_get(obj, "workers") ? "workers" : "port");
    return fail(ctx, &at, "%d workers from port %d need UDP ports up to %ld, above 65535",
                cfg->media_workers, cfg->media_port, last);
}

static const field_t listen_fields[] = {
    {"address", F_ADDR, 0, 0, offsetof(config_t, listen_address), NULL},
    {"port", F_INT, 1, 65535, offsetof(config_t, listen_port), NULL},
};
static const field_t tls_fields[] = {
    {"cert", F_STR, 1, STR_MAX, offsetof(config_t, tls_cert), NULL},
    {"key", F_STR, 1, STR_MAX, offsetof(config_t, tls_key), NULL},
};
static const field_t media_fields[] = {
    {"port", F_INT, 1024, 65535, offsetof(config_t, media_port), NULL},
    {"workers", F_INT, 1, 64, offsetof(config_t, media_workers), NULL},
    {"announce", F_ADDRS, 0, 0, offsetof(config_t, announce), NULL},
    {"dtls_cert", F_STR, 1, STR_MAX, offsetof(config_t, dtls_cert), NULL},
    {"dtls_key", F_STR, 1, STR_MAX, offsetof(config_t, dtls_key), NULL},
};
static const field_t limits_fields[] = {
    {"max_rooms", F_INT, 1, 10000, offsetof(config_t, max_rooms), NULL},
    {"max_participants", F_INT, 1, 100000, offsetof(config_t, max_participants), NULL},
    {"uplink_kbps", F_INT, 0, 10000000, offsetof(config_t, uplink_kbps), NULL},
    {"messages_per_second", F_INT, 1, 1000, offsetof(config_t, messages_per_second), NULL},
    {"resume_seconds", F_INT, 0, 300, offsetof(config_t, resume_seconds), NULL},
    {"connections_per_ip", F_INT, 1, 10000, offsetof(config_t, connections_per_ip), NULL},
    {"joins_per_minute_per_ip", F_INT, 1, 10000, offsetof(config_t, joins_per_minute_per_ip), NULL},
    {"join_timeout_seconds", F_INT, 1, 600, offsetof(config_t, join_timeout_seconds), NULL},
};
static const table_t listen_table = {listen_fields, COUNT(listen_fields), NULL};
static const table_t tls_table = {tls_fields, COUNT(tls_fields), check_tls};
static const field_t auth_fields[] = {
    {"token_secret", F_STR, 16, STR_MAX, offsetof(config_t, token_secret), NULL},
};
static int check_auth(const ctx_t *ctx, const path_t *path, json_t *obj, void *base)
{
    const config_t *cfg = base;
    (void)obj;
    if (!cfg->token_secret || strlen(cfg->token_secret) >= 16) return 0;
    path_t at = path_key(path, "token_secret");
    return fail(ctx, &at, "must be at least 16 characters (a long random string)");
}
static const table_t auth_table = {auth_fields, COUNT(auth_fields), check_auth};
static const table_t media_table = {media_fields, COUNT(media_fields), check_media};
static const table_t limits_table = {limits_fields, COUNT(limits_fields), NULL};
static const field_t metrics_fields[] = {
    {"access", F_ENUM, CHOICES_METRICS_ACCESS, 0, offsetof(config_t, metrics_access), NULL},
    {"token", F_STR, 16, STR_MAX, offsetof(config_t, metrics_token), NULL},
};
/* A token that would not be asked for, or an access that needs one without it, is a
 * mistake worth stopping for: /metrics would be open or closed against the intent. */
static int check_metrics(const ctx_t *ctx, const path_t *path, json_t *obj, void *base)
{
    const config_t *cfg = base;
    bool wants = cfg->metrics_access == CONFIG_METRICS_TOKEN;
    if (wants && !cfg->metrics_token)
        return fail(ctx, path, "\"token\" is required when \"access\" is \"token\"");
    if (!wants && cfg->metrics_token && json_object_get(obj, "token")) {
        path_t at = path_key(path, "token");
        return fail(ctx, &at, "only used when \"access\" is \"token\"");
    }
    if (cfg->metrics_token && strlen(cfg->metrics_token) < 16) {
        path_t at = path_key(path, "token");
        return fail(ctx, &at, "must be at least 16 characters (a long random string)");
    }
    return 0;
}
static const table_t metrics_table = {metrics_fields, COUNT(metrics_fields), check_metrics};
static const field_t log_fields[] = {
    {"level", F_ENUM, CHOICES_LOG_LEVEL, 0, offsetof(config_t, log_level), NULL},
    {"private_data", F_BOOL, 0, 0, offsetof(config_t, log_private_data), NULL},
};
static const table_t log_table = {log_fields, COUNT(log_fields), NULL};
static const field_t footprint_fields[] = {
    {"idle_watts", F_NUM, 0, 100000, offsetof(config_t, idle_watts), NULL},
    {"watts_per_busy_core", F_NUM, 0, 10000, offsetof(config_t, watts_per_core), NULL},
    {"interval_seconds", F_INT, 0, 3600, offsetof(config_t, footprint_seconds), NULL},
};
static const table_t footprint_table = {footprint_fields, COUNT(footprint_fields), NULL};
static const field_t root_fields[] = {
    {"listen", F_OBJ, 0, 0, 0, &listen_table},
    {"tls", F_OBJ, 0, 0, 0, &tls_table},
    {"web_root", F_STR, 1, STR_MAX, offsetof(config_t, web_root), NULL},
    {"media", F_OBJ, 0, 0, 0, &media_table},
    {"limits", F_OBJ, 0, 0, 0, &limits_table},
    {"on_demand", F_BOOL, 0, 0, offsetof(config_t, on_demand), NULL},
    {"room_defaults", F_ROOM_DEFAULTS, 0, 0, 0, NULL},
    {"rooms", F_ROOMS, 0, 0, 0, NULL},
    {"auth", F_OBJ, 0, 0, 0, &auth_table},
    {"metrics", F_OBJ, 0, 0, 0, &metrics_table},
    {"log", F_OBJ, 0, 0, 0, &log_table},
    {"footprint", F_OBJ, 0, 0, 0, &footprint_table},
};
static const table_t root_table = {root_fields, COUNT(root_fields), NULL};

static int apply_root(const ctx_t *ctx, json_t *root, config_t *cfg)
{
    const path_t top = {0};
    path_t at = path_key(&top, "room_defaults");
    json_t *defaults = json_object_get(root, "room_defaults");
    if (defaults && parse_room(ctx, &at, defaults, &cfg->room_defaults) < 0) return -1;
    return parse_fields(ctx, &top, root, &root_table, cfg);
}

static int apply_text(const ctx_t *ctx, config_t *cfg)
{
    json_error_t jerr;
    const path_t top = {0};
    json_t *root = json_loadb(ctx->text, ctx->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        loc_t loc = {.line = jerr.line > 0 ? jerr.line : 1,
                     .col = jerr.column > 0 ? jerr.column : 1};
        return fail_at(ctx, &loc, &top, "invalid JSON: %s", jerr.text);
    }
    int ret = json_is_object(root) ? apply_root(ctx, root, cfg)
                                   : fail_expect(ctx, &top, root, "an object");
    json_decref(root);
    return ret;
}

/* The built-in text is applied first, so it is the one statement of every default. */
static int parse_buffer(const char *text, size_t len, const char *name, config_t **out, char *err)
{
    config_t *cfg = xcalloc(1, sizeof *cfg);
    const ctx_t builtin = {config_default_json, strlen(config_default_json), "(built-in)", err};
    const ctx_t ctx = {text, len, name, err};
    *out = NULL;
    err[0] = '\0';
    cfg->web_root = xstrdup(SOBRE_WEB_ROOT);
    if (apply_text(&builtin, cfg) < 0) abort();
    if (apply_text(&ctx, cfg) < 0) {
        config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int config_parse(const char *text, const char *name, config_t **out, char *err)
{
    return parse_buffer(text, strlen(text), name, out, err);
}

static int read_file(const char *path, char **out, size_t *len, char *err)
{
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int ret = -1, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, CONFIG_ERROR_MAX, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, CONFIG_ERROR_MAX, "%s: cannot read: %s", path, strerror(errno));
            goto done;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > FILE_MAX) {
            snprintf(err, CONFIG_ERROR_MAX, "%s: file too large (more than 1 MiB)", path);
            goto done;
        }
    }
    *out = buf;
    *len = n;
    buf = NULL;
    ret = 0;
done:
    free(buf);
    close(fd);
    return ret;
}

int config_load(const char *path, config_t **out, char *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    if (read_file(path, &text, &len, err) < 0) return -1;
    int ret = parse_buffer(text, len, path, out, err);
    free(text);
    return ret;
}

config_t *config_default(void)
{
    char err[CONFIG_ERROR_MAX];
    config_t *cfg = NULL;
    if (config_parse(config_default_json, "(built-in)", &cfg, err) < 0) abort();
    return cfg;
}

void config_free(config_t *cfg)
{
    if (!cfg) return;
    free(cfg->listen_address);
    free(cfg->tls_cert);
    free(cfg->token_secret);
    free(cfg->metrics_token);
    free(cfg->dtls_cert);
    free(cfg->dtls_key);
    free(cfg->tls_key);
    free(cfg->web_root);
    free_announce(cfg);
    free(cfg->room_defaults.password);
    free_rooms(cfg);
    free(cfg);
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_announce(const config_t *a, const config_t *b)
{
    if (a->n_announce != b->n_announce) return false;
    for (size_t i = 0; i < a->n_announce; i++)
        if (strcmp(a->announce[i], b->announce[i]) != 0) return false;
    return true;
}

int config_restart_changes(const config_t *running, const config_t *next, char *out, size_t len)
{
    const struct {
        const char *key;
        bool same;
    } keys[] = {
        {"listen.address", same_str(running->listen_address, next->listen_address)},
        {"listen.port", running->listen_port == next->listen_port},
        {"tls.cert", same_str(running->tls_cert, next->tls_cert)},
        {"tls.key", same_str(running->tls_key, next->tls_key)},
        {"media.port", running->media_port == next->media_port},
        {"media.workers", running->media_workers == next->media_workers},
        {"media.announce", same_announce(running, next)},
        {"media.dtls_cert", same_str(running->dtls_cert, next->dtls_cert)},
        {"media.dtls_key", same_str(running->dtls_key, next->dtls_key)},
        {"log.level", running->log_level == next->log_level}, /* workers read it unlocked */
    };
    int n = 0;
    size_t used = 0;
    if (len > 0) out[0] = '\0';
    for (size_t i = 0; i < COUNT(keys); i++) {
        if (keys[i].same) continue;
        if (used < len) {
            int w = snprintf(out + used, len - used, "%s%s", n ? ", " : "", keys[i].key);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    return n;
}

const config_room_t *config_find_room(const config_t *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->n_rooms; i++)
        if (strcmp(cfg->rooms[i].name, name) == 0) return &cfg->rooms[i];
    return NULL;
}
