#include "config.h"
#include "test.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CMake defines SOBRE_TEST_DATA for tests and SOBRE_WEB_ROOT for config.c only. */
#ifndef SOBRE_TEST_DATA
#define SOBRE_TEST_DATA "tests/data"
#define BUILT_BY_HAND
#endif
#define DATA SOBRE_TEST_DATA "/config/"

#define CFG(f)  offsetof(config_t, f)
#define ROOM(f) offsetof(config_room_t, f)

#define ROOT_KEYS                                                                                  \
    "listen, tls, web_root, media, limits, on_demand, room_defaults, rooms, auth, metrics, log, "  \
    "footprint"
#define ROOM_KEYS "max_participants, video, video_kbps, audio_kbps, last_n, password, echo"

static config_t *parse_ok(const char *json)
{
    char err[CONFIG_ERROR_MAX] = "unset";
    config_t *cfg = NULL;
    int ret = config_parse(json, "t.json", &cfg, err);
    CHECK_INT(ret, 0);
    CHECK(cfg != NULL);
    CHECK_STR(err, "");
    if (ret != 0) fprintf(stderr, "  input: %.200s\n  error: %s\n", json, err);
    return cfg;
}

static void expect_err(const char *json, const char *want)
{
    char err[CONFIG_ERROR_MAX];
    config_t sentinel, *cfg = &sentinel; /* must be reset to NULL */
    CHECK_INT(config_parse(json, "t.json", &cfg, err), -1);
    CHECK(cfg == NULL);
    if (cfg && cfg != &sentinel) config_free(cfg);
    CHECK_STR(err, want);
    CHECK(strchr(err, '\n') == NULL);
}

/* For errors whose text belongs to jansson: check the start and a fragment. */
static void expect_err_part(const char *json, const char *start, const char *part)
{
    char err[CONFIG_ERROR_MAX];
    config_t sentinel, *cfg = &sentinel;
    CHECK_INT(config_parse(json, "t.json", &cfg, err), -1);
    CHECK(cfg == NULL);
    if (cfg && cfg != &sentinel) config_free(cfg);
    CHECK(strncmp(err, start, strlen(start)) == 0);
    CHECK(strstr(err, part) != NULL);
    if (strncmp(err, start, strlen(start)) != 0 || !strstr(err, part))
        fprintf(stderr, "  got: %s\n  want: %s...%s\n", err, start, part);
}

static void check_default_values(const config_t *c)
{
    CHECK(c->listen_address == NULL);
    CHECK_INT(c->listen_port, 8080);
    CHECK(c->tls_cert == NULL);
    CHECK(c->tls_key == NULL);
    CHECK(c->web_root != NULL && c->web_root[0] != '\0');
#if defined(SOBRE_WEB_ROOT)
    CHECK_STR(c->web_root, SOBRE_WEB_ROOT);
#elif defined(BUILT_BY_HAND)
    CHECK_STR(c->web_root, "web"); /* neither file got SOBRE_WEB_ROOT */
#endif
    CHECK_INT(c->media_port, 40000);
    CHECK_INT(c->media_workers, 1);
    CHECK_INT(c->n_announce, 0);
    CHECK_INT(c->max_rooms, 16);
    CHECK_INT(c->max_participants, 64);
    CHECK_INT(c->uplink_kbps, 10000);
    CHECK_INT(c->messages_per_second, 20);
    CHECK_INT(c->resume_seconds, 20);
    CHECK_INT(c->connections_per_ip, 16);
    CHECK_INT(c->joins_per_minute_per_ip, 30);
    CHECK_INT(c->join_timeout_seconds, 10);
    CHECK(c->on_demand);
    CHECK_STR(c->room_defaults.name, "");
    CHECK_INT(c->room_defaults.max_participants, 8);
    CHECK(c->room_defaults.video);
    CHECK_INT(c->room_defaults.video_kbps, 300);
    CHECK_INT(c->room_defaults.audio_kbps, 32);
    CHECK_INT(c->room_defaults.last_n, 4);
    CHECK(c->room_defaults.password == NULL);
    CHECK_INT(c->n_rooms, 0);
}

static void test_defaults(void)
{
    config_t *def = config_default();
    CHECK(def != NULL);
    check_default_values(def);

    config_t *empty = parse_ok("{}");
    check_default_values(empty);
    CHECK_STR(empty->web_root, def->web_root);
    config_free(empty);

    config_t *spaced = parse_ok(" \r\n\t{ } \n");
    check_default_values(spaced);
    config_free(spaced);

    config_t *again = parse_ok(config_default_json);
    check_default_values(again);
    config_free(again);

    /* Readable, explicit, and silent about what has no fixed default. */
    CHECK(strstr(config_default_json, "{\n    \"listen\": {\n        \"port\": 8080") != NULL);
    CHECK(strstr(config_default_json, "\"rooms\": {}") != NULL);
    CHECK(strstr(config_default_json, "web_root") == NULL);
    CHECK(strstr(config_default_json, "address") == NULL);
    CHECK(strstr(config_default_json, "tls") == NULL);

    config_free(def);
    config_free(NULL);
}

static void check_full(const config_t *c)
{
    CHECK_STR(c->listen_address, "127.0.0.1");
    CHECK_INT(c->listen_port, 8443);
    CHECK_STR(c->tls_cert, "/etc/ssl/sobre.pem");
    CHECK_STR(c->tls_key, "/etc/ssl/sobre.key");
    CHECK_STR(c->web_root, "/srv/sobre/web");
    CHECK_INT(c->media_port, 50000);
    CHECK_INT(c->media_workers, 4);
    CHECK_INT(c->n_announce, 2);
    if (c->n_announce == 2) {
        CHECK_STR(c->announce[0], "192.0.2.10");
        CHECK_STR(c->announce[1], "2001:db8::1");
    }
    CHECK_INT(c->max_rooms, 100);
    CHECK_INT(c->max_participants, 500);
    CHECK_INT(c->uplink_kbps, 0);
    CHECK_INT(c->messages_per_second, 50);
    CHECK(!c->on_demand);

    const config_room_t *d = &c->room_defaults;
    CHECK_STR(d->name, "");
    CHECK_INT(d->max_participants, 12);
    CHECK(d->video);
    CHECK_INT(d->video_kbps, 200);
    CHECK_INT(d->audio_kbps, 24);
    CHECK_INT(d->last_n, 6);
    CHECK_STR(d->password, "shared");
}

static void check_full_rooms(const config_t *c)
{
    CHECK_INT(c->n_rooms, 3);
    if (c->n_rooms != 3) return;
    const config_room_t *z = &c->rooms[0], *a = &c->rooms[1], *o = &c->rooms[2];
    /* File order, not sorted. */
    CHECK_STR(z->name, "zeta");
    CHECK_STR(a->name, "assemblee");
    CHECK_STR(o->name, "audio.only-1");
    /* Everything inherited, although room_defaults comes after rooms in the file. */
    CHECK_INT(z->max_participants, 12);
    CHECK(z->video);
    CHECK_INT(z->video_kbps, 200);
    CHECK_INT(z->audio_kbps, 24);
    CHECK_INT(z->last_n, 6);
    CHECK_STR(z->password, "shared");
    CHECK(z->password != c->room_defaults.password);
    CHECK_INT(a->max_participants, 30);
    CHECK_INT(a->video_kbps, 500);
    CHECK_INT(a->audio_kbps, 24);
    CHECK_STR(a->password, "secret");
    CHECK(!o->video);
    CHECK_INT(o->audio_kbps, 64);
    CHECK_INT(o->last_n, 0);
    CHECK_INT(o->max_participants, 12);
    CHECK_STR(o->password, "shared");
}

static char *read_fixture(const char *path)
{
    FILE *f = fopen(path, "rb");
    static const size_t cap = 1 << 16;
    char *buf = calloc(1, cap);
    CHECK(f != NULL);
    if (f) {
        size_t n = fread(buf, 1, cap - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static void test_full(void)
{
    char err[CONFIG_ERROR_MAX];
    config_t *c = NULL;
    CHECK_INT(config_load(DATA "full.json", &c, err), 0);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  error: %s\n", err);
        return;
    }
    check_full(c);
    check_full_rooms(c);
    config_free(c);

    char *text = read_fixture(DATA "full.json");
    c = parse_ok(text);
    if (c) {
        check_full(c);
        check_full_rooms(c);
    }
    config_free(c);
    free(text);
}

static void test_inheritance(void)
{
    /* room_defaults first this time; a room may drop nothing but override anything. */
    config_t *c = parse_ok("{\"room_defaults\": {\"video\": false, \"last_n\": 0},"
                           " \"rooms\": {\"b\": {\"video\": true, \"password\": \"p\"},"
                           " \"a\": {}}}");
    if (!c) return;
    CHECK_INT(c->n_rooms, 2);
    CHECK(!c->room_defaults.video);
    CHECK(c->room_defaults.password == NULL);
    CHECK_STR(c->rooms[0].name, "b");
    CHECK(c->rooms[0].video);
    CHECK_INT(c->rooms[0].last_n, 0);
    CHECK_STR(c->rooms[0].password, "p");
    CHECK_STR(c->rooms[1].name, "a");
    CHECK(!c->rooms[1].video);
    CHECK_INT(c->rooms[1].video_kbps, 300);
    CHECK(c->rooms[1].password == NULL);
    config_free(c);

    /* A room's password replaces an inherited one (ASan: the inherited copy is freed). */
    c = parse_ok("{\"rooms\": {\"r\": {\"password\": \"own\"}},"
                 " \"room_defaults\": {\"password\": \"shared\"}}");
    if (c && c->n_rooms == 1) CHECK_STR(c->rooms[0].password, "own");
    config_free(c);

    c = parse_ok("{\"listen\": {\"address\": null}, \"media\": {\"announce\": []}}");
    if (c) {
        CHECK(c->listen_address == NULL);
        CHECK_INT(c->n_announce, 0);
    }
    config_free(c);
}

static void test_find_room(void)
{
    char *text = read_fixture(DATA "full.json");
    config_t *c = parse_ok(text);
    free(text);
    if (!c) return;
    const config_room_t *r = config_find_room(c, "assemblee");
    CHECK(r == &c->rooms[1]);
    CHECK(config_find_room(c, "zeta") == &c->rooms[0]);
    CHECK(config_find_room(c, "audio.only-1") == &c->rooms[2]);
    CHECK(config_find_room(c, "Assemblee") == NULL);
    CHECK(config_find_room(c, "assemble") == NULL);
    CHECK(config_find_room(c, "") == NULL);
    CHECK(config_find_room(c, NULL) == NULL);
    CHECK(config_find_room(NULL, "zeta") == NULL);
    config_free(c);

    c = config_default();
    CHECK(config_find_room(c, "anything") == NULL);
    config_free(c);
}

static void test_restart_changes(void)
{
    config_t *a = parse_ok("{\"media\":{\"announce\":[\"192.0.2.1\"]}}");
    config_t *same = parse_ok("{\"media\":{\"announce\":[\"192.0.2.1\"]},"
                              "\"limits\":{\"max_rooms\":3},\"web_root\":\"/tmp\"}");
    config_t *b = parse_ok("{\"listen\":{\"port\":8443,\"address\":\"127.0.0.1\"},"
                           "\"tls\":{\"cert\":\"c.pem\",\"key\":\"k.pem\"},"
                           "\"media\":{\"port\":41000,\"workers\":2,"
                           "\"announce\":[\"192.0.2.2\"],"
                           "\"dtls_cert\":\"d.pem\",\"dtls_key\":\"e.pem\"}}");
    CHECK(a && same && b);
    if (a && same && b) {
        char out[256];
        CHECK_INT(config_restart_changes(a, same, out, sizeof out), 0);
        CHECK_STR(out, "");
        CHECK_INT(config_restart_changes(a, b, out, sizeof out), 9);
        CHECK_STR(out, "listen.address, listen.port, tls.cert, tls.key, media.port, "
                       "media.workers, media.announce, media.dtls_cert, media.dtls_key");
        char small[12];
        CHECK_INT(config_restart_changes(b, a, small, sizeof small), 9); /* cut, counted */
        CHECK_STR(small, "listen.addr");
    }
    config_free(a);
    config_free(same);
    config_free(b);
}

/* Builds {"a": {"b": {"KEY": VALUE EXTRA}}} for section "a.b" (section "" is the top
 * level) and returns the column of "KEY". */
static int make_doc(char *doc, size_t size, const char *section, const char *key, const char *value,
                    const char *extra)
{
    char prefix[128] = "{", closing[16] = "}";
    const char *s = section;
    while (*s) {
        size_t n = strcspn(s, ".");
        snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "\"%.*s\": {", (int)n, s);
        strcat(closing, "}");
        s += n + (s[n] == '.');
    }
    snprintf(doc, size, "%s\"%s\": %s%s%s", prefix, key, value, extra, closing);
    return (int)strlen(prefix) + 1;
}

static void want_expected(char *want, size_t size, int col, const char *section, const char *key,
                          const char *expected, const char *got)
{
    snprintf(want, size, "t.json:1:%d: %s%s%s: expected %s, got %s", col, section,
             section[0] ? "." : "", key, expected, got);
}

/* The struct a section's keys land in. */
static char *section_base(config_t *c, const char *section)
{
    if (strcmp(section, "room_defaults") == 0) return (char *)&c->room_defaults;
    if (strncmp(section, "rooms.", 6) == 0) return c->n_rooms ? (char *)&c->rooms[0] : NULL;
    return (char *)c;
}

typedef struct int_case {
    const char *section, *key;
    int lo, hi;
    size_t offset;
} int_case_t;

static const int_case_t int_cases[] = {
    {"listen", "port", 1, 65535, CFG(listen_port)},
    {"media", "port", 1024, 65535, CFG(media_port)},
    {"media", "workers", 1, 64, CFG(media_workers)},
    {"limits", "max_rooms", 1, 10000, CFG(max_rooms)},
    {"limits", "max_participants", 1, 100000, CFG(max_participants)},
    {"limits", "uplink_kbps", 0, 10000000, CFG(uplink_kbps)},
    {"limits", "messages_per_second", 1, 1000, CFG(messages_per_second)},
    {"limits", "resume_seconds", 0, 300, CFG(resume_seconds)},
    {"limits", "connections_per_ip", 1, 10000, CFG(connections_per_ip)},
    {"limits", "joins_per_minute_per_ip", 1, 10000, CFG(joins_per_minute_per_ip)},
    {"limits", "join_timeout_seconds", 1, 600, CFG(join_timeout_seconds)},
    {"room_defaults", "max_participants", 1, 1000, ROOM(max_participants)},
    {"room_defaults", "video_kbps", 16, 10000, ROOM(video_kbps)},
    {"room_defaults", "audio_kbps", 6, 510, ROOM(audio_kbps)},
    {"room_defaults", "last_n", 0, 100, ROOM(last_n)},
    {"rooms.r1", "max_participants", 1, 1000, ROOM(max_participants)},
    {"rooms.r1", "video_kbps", 16, 10000, ROOM(video_kbps)},
    {"rooms.r1", "audio_kbps", 6, 510, ROOM(audio_kbps)},
    {"rooms.r1", "last_n", 0, 100, ROOM(last_n)},
};

/* Wrong types and non-integers, each with how the error quotes it. */
static const char *const not_ints[][2] = {
    {"\"300k\"", "\"300k\""}, {"\"12\"", "\"12\""}, {"true", "true"},    {"false", "false"},
    {"null", "null"},         {"1.5", "1.5"},       {"300.0", "300.0"},  {"1e2", "1e2"},
    {"-0.0", "-0.0"},         {"[1]", "an array"},  {"{}", "an object"},
};

static void test_int_fields(void)
{
    char doc[256], want[CONFIG_ERROR_MAX], value[32], expected[64];
    for (size_t i = 0; i < sizeof int_cases / sizeof *int_cases; i++) {
        const int_case_t *t = &int_cases[i];
        snprintf(expected, sizeof expected, "an integer between %d and %d", t->lo, t->hi);
        long bad[] = {(long)t->lo - 1, (long)t->hi + 1, -2147483648L, 99999999999L};
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            snprintf(value, sizeof value, "%ld", bad[j]);
            int col = make_doc(doc, sizeof doc, t->section, t->key, value, "");
            want_expected(want, sizeof want, col, t->section, t->key, expected, value);
            expect_err(doc, want);
        }
        for (size_t j = 0; j < sizeof not_ints / sizeof *not_ints; j++) {
            int col = make_doc(doc, sizeof doc, t->section, t->key, not_ints[j][0], "");
            want_expected(want, sizeof want, col, t->section, t->key, expected, not_ints[j][1]);
            expect_err(doc, want);
        }
        int good[] = {t->lo, t->hi};
        for (size_t j = 0; j < 2; j++) {
            snprintf(value, sizeof value, "%d", good[j]);
            make_doc(doc, sizeof doc, t->section, t->key, value, "");
            config_t *c = parse_ok(doc);
            char *base = c ? section_base(c, t->section) : NULL;
            CHECK(base != NULL);
            if (base) CHECK_INT(*(int *)(base + t->offset), good[j]);
            config_free(c);
        }
    }
}

typedef struct bool_case {
    const char *section, *key;
    size_t offset;
} bool_case_t;

static void test_bool_fields(void)
{
    static const bool_case_t cases[] = {
        {"", "on_demand", CFG(on_demand)},  {"room_defaults", "video", ROOM(video)},
        {"rooms.r1", "video", ROOM(video)}, {"room_defaults", "echo", ROOM(echo)},
        {"rooms.r1", "echo", ROOM(echo)},
    };
    static const char *const bad[][2] = {
        {"1", "1"},       {"0", "0"},         {"\"true\"", "\"true\""},
        {"null", "null"}, {"[]", "an array"}, {"{\"a\": 1}", "an object"},
        {"0.0", "0.0"},
    };
    char doc[256], want[CONFIG_ERROR_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bool_case_t *t = &cases[i];
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            int col = make_doc(doc, sizeof doc, t->section, t->key, bad[j][0], "");
            want_expected(want, sizeof want, col, t->section, t->key, "true or false", bad[j][1]);
            expect_err(doc, want);
        }
        for (int v = 0; v < 2; v++) {
            make_doc(doc, sizeof doc, t->section, t->key, v ? "true" : "false", "");
            config_t *c = parse_ok(doc);
            char *base = c ? section_base(c, t->section) : NULL;
            if (base) CHECK_INT(*(bool *)(base + t->offset), v);
            config_free(c);
        }
    }
}

typedef struct str_case {
    const char *section, *key;
    int max;
    size_t offset;
    const char *extra; /* the rest of the object, so that only this key is at fault */
} str_case_t;

static void test_string_fields(void)
{
    static const str_case_t cases[] = {
        {"", "web_root", 4096, CFG(web_root), ""},
        {"tls", "cert", 4096, CFG(tls_cert), ", \"key\": \"/k\""},
        {"tls", "key", 4096, CFG(tls_key), ", \"cert\": \"/c\""},
        {"room_defaults", "password", 256, ROOM(password), ""},
        {"rooms.r1", "password", 256, ROOM(password), ""},
    };
    static const char *const not_strings[][2] = {
        {"1", "1"},          {"null", "null"}, {"true", "true"}, {"[\"a\"]", "an array"},
        {"{}", "an object"},
    };
    char doc[8192], want[CONFIG_ERROR_MAX], expected[64], value[4200];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const str_case_t *t = &cases[i];
        for (size_t j = 0; j < sizeof not_strings / sizeof *not_strings; j++) {
            int col = make_doc(doc, sizeof doc, t->section, t->key, not_strings[j][0], t->extra);
            want_expected(want, sizeof want, col, t->section, t->key, "a string",
                          not_strings[j][1]);
            expect_err(doc, want);
        }
        snprintf(expected, sizeof expected, "a string of 1 to %d bytes", t->max);
        int col = make_doc(doc, sizeof doc, t->section, t->key, "\"\"", t->extra);
        want_expected(want, sizeof want, col, t->section, t->key, expected, "\"\"");
        expect_err(doc, want);

        /* One byte too long: the value is quoted, cut after 40 bytes. */
        snprintf(value, sizeof value, "\"%0*d\"", t->max + 1, 0);
        col = make_doc(doc, sizeof doc, t->section, t->key, value, t->extra);
        want_expected(want, sizeof want, col, t->section, t->key, expected,
                      "\"000000000000000000000000000000000000000...");
        expect_err(doc, want);

        snprintf(value, sizeof value, "\"%0*d\"", t->max, 7);
        make_doc(doc, sizeof doc, t->section, t->key, value, t->extra);
        config_t *c = parse_ok(doc);
        char *base = c ? section_base(c, t->section) : NULL;
        if (base) {
            const char *got = *(char **)(base + t->offset);
            CHECK(got && strlen(got) == (size_t)t->max && got[t->max - 1] == '7');
        }
        config_free(c);
    }
}

static void test_object_fields(void)
{
    static const char *const sections[] = {
        "listen", "tls", "media", "limits", "room_defaults", "rooms", "rooms.r1",
    };
    static const char *const bad[][2] = {
        {"1", "1"}, {"null", "null"}, {"\"x\"", "\"x\""}, {"[]", "an array"}, {"false", "false"},
    };
    char doc[256], want[CONFIG_ERROR_MAX];
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        /* "rooms.r1": the value of key r1 inside rooms. */
        const char *dot = strchr(sections[i], '.');
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            int col = dot ? make_doc(doc, sizeof doc, "rooms", dot + 1, bad[j][0], "")
                          : make_doc(doc, sizeof doc, "", sections[i], bad[j][0], "");
            snprintf(want, sizeof want, "t.json:1:%d: %s: expected an object, got %s", col,
                     sections[i], bad[j][1]);
            expect_err(doc, want);
        }
    }
}

static void test_addresses(void)
{
    static const char *const good[] = {
        "0.0.0.0", "127.0.0.1", "192.0.2.10", "::", "::1", "2001:db8::1", "::ffff:192.0.2.1",
    };
    static const char *const bad[] = {
        "\"\"",    "\"foo\"",      "\"1.2.3\"",     "\"256.1.1.1\"",
        "\"::g\"", "\"1.2.3.4 \"", "\"localhost\"", "\"fe80::1%eth0\"",
        "1",       "true",
    };
    char doc[512], want[CONFIG_ERROR_MAX], value[64];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        snprintf(value, sizeof value, "\"%s\"", good[i]);
        make_doc(doc, sizeof doc, "listen", "address", value, "");
        config_t *c = parse_ok(doc);
        if (c) CHECK_STR(c->listen_address, good[i]);
        config_free(c);
        snprintf(doc, sizeof doc, "{\"media\": {\"announce\": [\"192.0.2.1\", \"%s\"]}}", good[i]);
        c = parse_ok(doc);
        if (c && c->n_announce == 2) CHECK_STR(c->announce[1], good[i]);
        config_free(c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int col = make_doc(doc, sizeof doc, "listen", "address", bad[i], "");
        want_expected(want, sizeof want, col, "listen", "address", "an IP address", bad[i]);
        expect_err(doc, want);
        /* {"media": {"announce": ["::1", BAD]}}: BAD starts at column 32. */
        snprintf(doc, sizeof doc, "{\"media\": {\"announce\": [\"::1\", %s]}}", bad[i]);
        snprintf(want, sizeof want,
                 "t.json:1:32: media.announce[1]: expected an IP address, got %s", bad[i]);
        expect_err(doc, want);
    }
    expect_err("{\"media\": {\"announce\": \"192.0.2.1\"}}",
               "t.json:1:12: media.announce: expected an array of IP addresses, got \"192.0.2.1\"");
    expect_err("{\"media\": {\"announce\": {}}}",
               "t.json:1:12: media.announce: expected an array of IP addresses, got an object");
    expect_err("{\"media\": {\"announce\": [[\"::1\"]]}}",
               "t.json:1:25: media.announce[0]: expected an IP address, got an array");
    expect_err("{\"media\": {\"announce\": [null]}}",
               "t.json:1:25: media.announce[0]: expected an IP address, got null");

    char list[512] = "[";
    for (int i = 1; i <= 17; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"192.0.2.%d\"",
                 i > 1 ? ", " : "", i);
    strcat(list, "]");
    make_doc(doc, sizeof doc, "media", "announce", list, "");
    expect_err(doc, "t.json:1:12: media.announce: expected at most 16 addresses, got 17");
    strcpy(strrchr(list, ','), "]"); /* 16 is fine */
    make_doc(doc, sizeof doc, "media", "announce", list, "");
    config_t *c = parse_ok(doc);
    if (c) {
        CHECK_INT(c->n_announce, 16);
        CHECK_STR(c->announce[15], "192.0.2.16");
    }
    config_free(c);
}

static void test_room_names(void)
{
    static const char *const good[] = {
        "a",          "Z",  "0", "assemblee",
        "A-Z_a.z-09", "..", "_", "0123456789012345678901234567890123456789012345678901234567890123",
    };
    /* {"rooms": {NAME: {}}}: NAME starts at column 12. */
    static const char *const bad[][2] = {
        {"", "\"\""},
        {"bad name", "\"bad name\""},
        {"a/b", "\"a/b\""},
        {"caf\\u00e9", "\"caf\\u00e9\""},
        {"café", "\"café\""},
        {"a\\nb", "\"a\\nb\""},
        {"01234567890123456789012345678901234567890123456789012345678901234",
         "\"012345678901234567890123456789012345678..."},
    };
    char doc[512], want[CONFIG_ERROR_MAX];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        snprintf(doc, sizeof doc, "{\"rooms\": {\"%s\": {}}}", good[i]);
        config_t *c = parse_ok(doc);
        if (c && c->n_rooms == 1) {
            CHECK_STR(c->rooms[0].name, good[i]);
            CHECK(config_find_room(c, good[i]) == &c->rooms[0]);
        }
        config_free(c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(doc, sizeof doc, "{\"rooms\": {\"%s\": {}}}", bad[i][0]);
        snprintf(want, sizeof want,
                 "t.json:1:12: rooms: expected a room name of 1 to 64 characters among "
                 "A-Z a-z 0-9 _ . -, got %s",
                 bad[i][1]);
        expect_err(doc, want);
    }
}

/* Unknown keys at every level, with the keys that were expected. */
static void test_unknown_keys(void)
{
    static const struct {
        const char *json, *prefix, *keys;
    } cases[] = {
        {"{\"foo\": 1}", "t.json:1:2: foo", ROOT_KEYS},
        {"{\"listen\": {\"port\": 80, \"prot\": 8080}}", "t.json:1:25: listen.prot",
         "address, port"},
        {"{\"tls\": {\"cert\": \"/c\", \"key\": \"/k\", \"ca\": \"/x\"}}", "t.json:1:37: tls.ca",
         "cert, key"},
        {"{\"media\": {\"ports\": 1}}", "t.json:1:12: media.ports",
         "port, workers, announce, dtls_cert, dtls_key"},
        {"{\"limits\": {\"max_room\": 1}}", "t.json:1:13: limits.max_room",
         "max_rooms, max_participants, uplink_kbps, messages_per_second, resume_seconds, "
         "connections_per_ip, joins_per_minute_per_ip, join_timeout_seconds"},
        {"{\"room_defaults\": {\"name\": \"x\"}}", "t.json:1:20: room_defaults.name", ROOM_KEYS},
        {"{\"rooms\": {\"a\": {\"vidoe\": true}}}", "t.json:1:18: rooms.a.vidoe", ROOM_KEYS},
        {"{\"Listen\": {}}", "t.json:1:2: Listen", ROOT_KEYS},
        {"{\"y\\n\": 1}", "t.json:1:2: y?", ROOT_KEYS},
    };
    char want[CONFIG_ERROR_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(want, sizeof want, "%s: unknown key (expected one of: %s)", cases[i].prefix,
                 cases[i].keys);
        expect_err(cases[i].json, want);
    }

    /* A long key is cut in the path; the line stays within CONFIG_ERROR_MAX. */
    char doc[2048], key[1001];
    memset(key, 'k', 1000);
    key[1000] = '\0';
    snprintf(doc, sizeof doc, "{\"%s\": 1}", key);
    snprintf(want, sizeof want, "t.json:1:2: %.64s...: unknown key (expected one of: %s)", key,
             ROOT_KEYS);
    expect_err(doc, want);
}

static void test_cross_field(void)
{
    expect_err("{\"tls\": {}}", "t.json:1:2: tls: \"cert\" is required when \"tls\" is present");
    expect_err("{\"tls\": {\"cert\": \"/c\"}}",
               "t.json:1:2: tls: \"key\" is required when \"tls\" is present");
    expect_err("{\"web_root\": \"/w\",\n  \"tls\": {\"key\": \"/k\"}}",
               "t.json:2:3: tls: \"cert\" is required when \"tls\" is present");
    expect_err("{\"media\": {\"port\": 65535, \"workers\": 2}}",
               "t.json:1:27: media.workers: 2 workers from port 65535 need UDP ports up to "
               "65536, above 65535");
    expect_err("{\"media\": {\"workers\": 64, \"port\": 65473}}",
               "t.json:1:12: media.workers: 64 workers from port 65473 need UDP ports up to "
               "65536, above 65535");
    expect_err("{\"media\": {\"dtls_cert\": \"/c.pem\"}}",
               "t.json:1:2: media: \"dtls_key\" is required when \"dtls_cert\" is present");
    expect_err("{\"media\": {\"dtls_key\": \"/k.pem\"}}",
               "t.json:1:2: media: \"dtls_cert\" is required when \"dtls_key\" is present");
    config_t *d = parse_ok("{\"media\": {\"dtls_cert\": \"/c.pem\", \"dtls_key\": \"/k.pem\"}}");
    if (d) {
        CHECK_STR(d->dtls_cert, "/c.pem");
        CHECK_STR(d->dtls_key, "/k.pem");
        config_free(d);
    }
    /* Access control: a token secret of 16 characters at least; a pasted password hash
     * that is not one is refused (it would become the password itself). */
    expect_err("{\"auth\": {\"token_secret\": \"short\"}}",
               "t.json:1:11: auth.token_secret: must be at least 16 characters (a long random "
               "string)");
    config_t *a = parse_ok("{\"auth\": {\"token_secret\": \"0123456789abcdef\"}}");
    if (a) {
        CHECK_STR(a->token_secret, "0123456789abcdef");
        config_free(a);
    }
    expect_err("{\"rooms\": {\"r\": {\"password\": \"pbkdf2-sha256$1$00$00\"}}}",
               "t.json:1:18: rooms.r.password: not a valid password hash (expected what `sobre "
               "passwd` prints)");
    config_t *c = parse_ok("{\"media\": {\"port\": 65472, \"workers\": 64}}");
    if (c) CHECK_INT(c->media_port + c->media_workers - 1, 65535);
    config_free(c);
    c = parse_ok("{\"media\": {\"port\": 65535, \"workers\": 1}}");
    config_free(c);
}

static void test_syntax(void)
{
    expect_err("[]", "t.json:1:1: expected an object, got an array");
    expect_err("42", "t.json:1:1: expected an object, got 42");
    expect_err("\"sobre\"", "t.json:1:1: expected an object, got \"sobre\"");
    expect_err("\n\n  null", "t.json:1:1: expected an object, got null");
    expect_err_part("", "t.json:1:", ": invalid JSON: ");
    expect_err_part("   \n", "t.json:", ": invalid JSON: ");
    expect_err_part("{\"listen\": {\"port\": 80,}}", "t.json:1:", ": invalid JSON: ");
    expect_err_part("{\n  \"on_demand\": tru\n}", "t.json:2:", ": invalid JSON: ");
    expect_err_part("{\n  \"web_root\": \"abc\n}", "t.json:2:", ": invalid JSON: ");
    expect_err_part("{\n  \"media\": {}\n", "t.json:", ": invalid JSON: ");
    expect_err_part("{} {}", "t.json:1:", ": invalid JSON: ");
    expect_err_part("{\"listen\": {\"port\": 99999999999999999999999}}",
                    "t.json:1:", ": invalid JSON: ");
    expect_err_part("{\"a\": 1, // no comments\n}", "t.json:1:", ": invalid JSON: ");
    expect_err_part("{\"web_root\": \"\\u0000\"}", "t.json:1:", ": invalid JSON: ");
    expect_err_part("{\"web_root\": \"\xff\"}", "t.json:1:", ": invalid JSON: ");
    /* Duplicates, at any depth. */
    expect_err_part("{\"on_demand\": true,\n \"on_demand\": false}",
                    "t.json:2:", "invalid JSON: duplicate object key");
    expect_err_part("{\"rooms\": {\"a\": {},\n\n  \"a\": {}}}",
                    "t.json:3:", "invalid JSON: duplicate object key");
    expect_err_part("{\"room_defaults\": {\"last_n\": 1, \"last_n\": 2}}",
                    "t.json:1:", "invalid JSON: duplicate object key");
}

static void expect_named(const char *json, const char *name, const char *want)
{
    char err[CONFIG_ERROR_MAX];
    config_t sentinel, *cfg = &sentinel;
    CHECK_INT(config_parse(json, name, &cfg, err), -1);
    CHECK(cfg == NULL);
    if (cfg && cfg != &sentinel) config_free(cfg);
    CHECK_STR(err, want);
}

/* The locator must not be fooled by what strings, escapes and nesting hold. */
static void test_positions(void)
{
    char *text = read_fixture(DATA "sobre.json");
    expect_named(text, "sobre.json",
                 "sobre.json:14:7: rooms.assemblee.video_kbps: expected an integer between 16 "
                 "and 10000, got \"300k\"");
    free(text);

    expect_err("{\"web_root\": \"a\\\"}{[,:\\\\\",\n"
               " \"rooms\": {\"x\": {\"password\": \"\\\"{}\\\"\"}},\n"
               " \"media\": {\"announce\": [\n"
               "   \"192.0.2.1\",\n"
               "   \"x\"]}}",
               "t.json:5:4: media.announce[1]: expected an IP address, got \"x\"");
    expect_err("{\"room_defaults\": {\"last_n\": 1},\n"
               " \"rooms\": {\"last_n\": {\"last_n\": 2},\n"
               "           \"b\": {\"last_n\": 101}}}",
               "t.json:3:18: rooms.b.last_n: expected an integer between 0 and 100, got 101");
    expect_err("{\"l\\u0069sten\": {\"p\\u006frt\": 0}}",
               "t.json:1:18: listen.port: expected an integer between 1 and 65535, got 0");
    expect_err("{\"web_root\": \"\xc3\xa9t\xc3\xa9\", \"bad\": 1}",
               "t.json:1:21: bad: unknown key (expected one of: listen, tls, web_root, media, "
               "limits, on_demand, room_defaults, rooms, auth, metrics, log, footprint)");
    expect_err("{\r\n\t\"listen\": {\r\n\t\t\"port\": -1}}",
               "t.json:3:3: listen.port: expected an integer between 1 and 65535, got -1");
    expect_err("{\"rooms\": {\"a\": {}, \"b\": {\"video\": true}}, \"media\": {\"announce\": "
               "[\"::1\", []]}}",
               "t.json:1:74: media.announce[1]: expected an IP address, got an array");
    expect_err("{\"on_demand\": [1, [2, {\"x\": \"]\"}]]}",
               "t.json:1:2: on_demand: expected true or false, got an array");
    expect_err("{\"listen\": {\"port\": \"a\\\"b\"}}",
               "t.json:1:13: listen.port: expected an integer between 1 and 65535, got "
               "\"a\\\"b\"");
    expect_err("{\"listen\": {\"port\":8080.0}}",
               "t.json:1:13: listen.port: expected an integer between 1 and 65535, got 8080.0");
    expect_err("{\"listen\"\n:\n{\"port\"\n:\n-5\n}\n}",
               "t.json:3:2: listen.port: expected an integer between 1 and 65535, got -5");
    /* 30 two-byte characters: cut at 40 bytes without splitting one. */
    char doc[256] = "{\"on_demand\": \"",
         want[CONFIG_ERROR_MAX] = "t.json:1:2: on_demand: expected true or false, got \"";
    for (int i = 0; i < 30; i++)
        strcat(doc, "\xc3\xa9");
    strcat(doc, "\"}");
    for (int i = 0; i < 19; i++)
        strcat(want, "\xc3\xa9");
    strcat(want, "...");
    expect_err(doc, want);
}

static void test_long_error(void)
{
    char name[700], err[CONFIG_ERROR_MAX];
    config_t *cfg = NULL;
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    CHECK_INT(config_parse("{\"x\": 1}", name, &cfg, err), -1);
    CHECK_INT(strlen(err), CONFIG_ERROR_MAX - 1);
    CHECK(strncmp(err, "nnnn", 4) == 0);
    CHECK(strcmp(err + strlen(err) - 3, "...") == 0);
}

/* A temporary file holding `n` bytes: `head` then spaces. */
static void make_file(char *path, const char *head, size_t n)
{
    strcpy(path, "/tmp/sobre_test_config_XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    char *buf = malloc(n + 1);
    memset(buf, ' ', n);
    memcpy(buf, head, strlen(head) < n ? strlen(head) : n);
    CHECK_INT(write(fd, buf, n), n);
    free(buf);
    close(fd);
}

static void load_err(const char *path, const char *want)
{
    char err[CONFIG_ERROR_MAX];
    config_t sentinel, *cfg = &sentinel;
    CHECK_INT(config_load(path, &cfg, err), -1);
    CHECK(cfg == NULL);
    if (cfg && cfg != &sentinel) config_free(cfg);
    CHECK_STR(err, want);
}

static void test_load(void)
{
    char want[CONFIG_ERROR_MAX], path[64], err[CONFIG_ERROR_MAX];
    config_t *cfg = NULL;

    snprintf(want, sizeof want, "%s: cannot read: %s", DATA "missing.json", strerror(ENOENT));
    load_err(DATA "missing.json", want);
    snprintf(want, sizeof want, "%s: cannot read: %s", DATA, strerror(EISDIR));
    load_err(DATA, want);

    snprintf(want, sizeof want,
             DATA "sobre.json:14:7: rooms.assemblee.video_kbps: expected an "
                  "integer between 16 and 10000, got \"300k\"");
    load_err(DATA "sobre.json", want);

    make_file(path, "{\"on_demand\": false}", 1024 * 1024);
    CHECK_INT(config_load(path, &cfg, err), 0);
    CHECK(cfg && !cfg->on_demand);
    config_free(cfg);
    unlink(path);

    make_file(path, "{}", 1024 * 1024 + 1);
    snprintf(want, sizeof want, "%s: file too large (more than 1 MiB)", path);
    load_err(path, want);
    unlink(path);

    make_file(path, "{}", 3);
    /* The third byte is a space: make it a NUL, which a C string would hide. */
    FILE *f = fopen(path, "r+b");
    if (f) {
        fseek(f, 2, SEEK_SET);
        fputc('\0', f);
        fclose(f);
    }
    CHECK_INT(config_load(path, &cfg, err), -1);
    CHECK(strncmp(err, path, strlen(path)) == 0 && strstr(err, ": invalid JSON: "));
    unlink(path);

    make_file(path, "", 0);
    CHECK_INT(config_load(path, &cfg, err), -1);
    CHECK(strstr(err, ": invalid JSON: ") != NULL);
    if (geteuid() != 0) { /* root reads anything */
        chmod(path, 0);
        snprintf(want, sizeof want, "%s: cannot read: %s", path, strerror(EACCES));
        load_err(path, want);
    }
    unlink(path);
}

/* metrics, log and footprint (issue 9): choices, the token rule, numbers. */
static void test_operations(void)
{
    config_t *c = parse_ok("{}");
    if (c) {
        CHECK_INT(c->metrics_access, CONFIG_METRICS_OFF);
        CHECK(c->metrics_token == NULL);
        CHECK_INT(c->log_level, 2);
        CHECK(!c->log_private_data);
        CHECK(c->idle_watts == 10 && c->watts_per_core == 10);
        CHECK_INT(c->footprint_seconds, 10);
    }
    config_free(c);
    c = parse_ok("{\"metrics\": {\"access\": \"token\", \"token\": \"0123456789abcdefXYZ\"},"
                 " \"log\": {\"level\": \"debug\", \"private_data\": true},"
                 " \"footprint\": {\"idle_watts\": 2.7, \"watts_per_busy_core\": 0.9,"
                 " \"interval_seconds\": 0}}");
    if (c) {
        CHECK_INT(c->metrics_access, CONFIG_METRICS_TOKEN);
        CHECK_STR(c->metrics_token, "0123456789abcdefXYZ");
        CHECK_INT(c->log_level, 3);
        CHECK(c->log_private_data);
        CHECK(c->idle_watts == 2.7 && c->watts_per_core == 0.9);
        CHECK_INT(c->footprint_seconds, 0);
    }
    config_free(c);
    expect_err("{\"metrics\": {\"access\": \"public\"}}",
               "t.json:1:14: metrics.access: expected one of \"off\", \"loopback\", \"token\", "
               "got \"public\"");
    expect_err("{\"metrics\": {\"access\": \"token\"}}",
               "t.json:1:2: metrics: \"token\" is required when \"access\" is \"token\"");
    expect_err("{\"metrics\": {\"access\": \"token\", \"token\": \"short\"}}",
               "t.json:1:33: metrics.token: must be at least 16 characters (a long random string)");
    expect_err("{\"metrics\": {\"access\": \"loopback\", \"token\": \"0123456789abcdefXYZ\"}}",
               "t.json:1:36: metrics.token: only used when \"access\" is \"token\"");
    expect_err("{\"log\": {\"level\": 3}}",
               "t.json:1:10: log.level: expected one of \"error\", \"warn\", \"info\", \"debug\", "
               "got 3");
    expect_err("{\"footprint\": {\"idle_watts\": -1}}",
               "t.json:1:16: footprint.idle_watts: expected a number between 0 and 100000, got -1");
}

int main(void)
{
    test_operations();
    test_defaults();
    test_full();
    test_inheritance();
    test_find_room();
    test_restart_changes();
    test_int_fields();
    test_bool_fields();
    test_string_fields();
    test_object_fields();
    test_addresses();
    test_room_names();
    test_unknown_keys();
    test_cross_field();
    test_syntax();
    test_positions();
    test_long_error();
    test_load();
    TEST_END();
}
