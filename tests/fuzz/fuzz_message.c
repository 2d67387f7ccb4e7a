/* libFuzzer target: arbitrary bytes as one WebSocket text frame, parsed as
 * signaling/session.c's handle_message does (json_loadb with JSON_REJECT_DUPLICATES), then
 * message_validate. An accepted message is an object whose string `type` names the kind
 * returned, and whose fields are re-checked here against PROTOCOL.md independently of the
 * table in message.c. A refusal is one non-empty line of valid UTF-8 (it becomes the JSON
 * "message" of an error reply) naming the field at fault. The error
 * buffer is a heap block of the exact size passed, so ASan sees any overrun. */
#include "message.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ERR_LEN 256 /* what session.c passes */

static void require(int cond)
{
    if (!cond) abort();
}

typedef struct kind {
    const char *type;
    message_type_t id;
    const char *fields[6]; /* the fields an error may name, besides "id" */
} kind_t;

static const kind_t kinds[] = {
    {"join", MSG_JOIN, {"room", "name", "password", "token", "resume"}},
    {"publish", MSG_PUBLISH, {"sdp"}},
    {"answer", MSG_ANSWER, {"sdp"}},
    {"candidate", MSG_CANDIDATE, {0}},
    {"mute", MSG_MUTE, {"kind", "muted", "peer"}},
    {"prefs", MSG_PREFS, {"audio_only", "max_video_kbps", "last_n"}},
    {"chat", MSG_CHAT, {"text"}},
    {"leave", MSG_LEAVE, {0}},
    {"ping", MSG_PING, {0}},
    {"kick", MSG_KICK, {"peer"}},
};

static const kind_t *find_kind(const char *type)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].type, type) == 0) return &kinds[i];
    return NULL;
}

/* A string field without NUL characters, of lo..hi characters (bytes when `bytes`). */
static bool string_ok(const json_t *msg, const char *key, bool required, size_t lo, size_t hi,
                      bool bytes)
{
    const json_t *v = json_object_get(msg, key);
    if (!v) return !required;
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v)) return false;
    size_t n = bytes ? strlen(s) : message_utf8_length(s);
    return n >= lo && n <= hi;
}

static bool int_ok(const json_t *msg, const char *key, json_int_t lo, json_int_t hi)
{
    const json_t *v = json_object_get(msg, key);
    return !v || (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi);
}

static bool bool_ok(const json_t *msg, const char *key, bool required)
{
    const json_t *v = json_object_get(msg, key);
    return v ? json_is_boolean(v) : !required;
}

static void check_accepted(const json_t *msg, message_type_t type)
{
    require(json_is_object(msg));
    const char *t = json_string_value(json_object_get(msg, "type"));
    require(t != NULL);
    const kind_t *k = find_kind(t);
    require(k != NULL && k->id == type);
    const json_t *id = json_object_get(msg, "id");
    require(!id || json_is_number(id) || (json_is_string(id) && json_string_length(id) <= 64));
    switch (type) {
    case MSG_JOIN: {
        require(string_ok(msg, "room", true, 1, MESSAGE_ROOM_MAX, false));
        require(string_ok(msg, "name", true, 1, MESSAGE_NAME_MAX, false));
        require(string_ok(msg, "password", false, 0, 256, false));
        require(string_ok(msg, "token", false, 1, 4096, false));
        require(string_ok(msg, "resume", false, 1, 256, false));
        const char *room = json_string_value(json_object_get(msg, "room"));
        require(strspn(room, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                strlen(room));
        for (const unsigned char *p =
                 (const unsigned char *)json_string_value(json_object_get(msg, "name"));
             *p; p++)
            require(*p >= 0x20 && *p != 0x7f);
        break;
    }
    case MSG_PUBLISH:
    case MSG_ANSWER:
        require(string_ok(msg, "sdp", true, 1, MESSAGE_SDP_MAX, true));
        break;
    case MSG_MUTE: {
        const char *kind = json_string_value(json_object_get(msg, "kind"));
        require(kind && (strcmp(kind, "audio") == 0 || strcmp(kind, "video") == 0));
        require(bool_ok(msg, "muted", true));
        require(string_ok(msg, "peer", false, 1, 16, false));
        break;
    }
    case MSG_KICK:
        require(string_ok(msg, "peer", true, 1, 16, false));
        break;
    case MSG_PREFS:
        require(bool_ok(msg, "audio_only", false));
        require(int_ok(msg, "max_video_kbps", 0, 100000));
        require(int_ok(msg, "last_n", 0, 100));
        break;
    case MSG_CHAT:
        require(string_ok(msg, "text", true, 1, MESSAGE_CHAT_MAX, false));
        break;
    case MSG_CANDIDATE:
    case MSG_LEAVE:
    case MSG_PING:
        break;
    }
}

/* `err` names what is wrong: the object, its type, or `<type>: field "<known field>"`. */
static void check_refused(const json_t *msg, const char *err)
{
    size_t n = strlen(err);
    require(n > 0 && n < ERR_LEN);
    for (const char *c = err; *c; c++) /* one line */
        require((unsigned char)*c >= 0x20 && *c != 0x7f);
    json_t *as_json = json_string(err); /* session.c sends it as the error's "message" */
    require(as_json != NULL);
    json_decref(as_json);
    if (!json_is_object(msg)) {
        require(strstr(err, "JSON object") != NULL);
        return;
    }
    const char *t = json_string_value(json_object_get(msg, "type"));
    const kind_t *k = t ? find_kind(t) : NULL;
    if (!k) {
        require(strstr(err, "type") != NULL);
        return;
    }
    size_t tl = strlen(k->type);
    require(strncmp(err, k->type, tl) == 0 && strncmp(err + tl, ": field \"", 9) == 0);
    const char *field = err + tl + 9, *end = strchr(field, '"');
    require(end != NULL);
    size_t fl = (size_t)(end - field);
    bool known = fl == 2 && memcmp(field, "id", 2) == 0;
    for (const char *const *f = k->fields; *f && !known; f++)
        known = strlen(*f) == fl && memcmp(field, *f, fl) == 0;
    require(known);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *msg = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        require(jerr.text[0] != '\0');
        return 0;
    }
    char *err = malloc(ERR_LEN);
    require(err != NULL);
    err[0] = '\0';
    message_type_t type = (message_type_t)-1;
    int ret = message_validate(msg, &type, err, ERR_LEN);
    require(ret == 0 || ret == -1);
    if (ret == 0)
        check_accepted(msg, type);
    else
        check_refused(msg, err);

    /* Same verdict with a short buffer (exactly sized, so an overrun is caught), and the
     * reason cut to a prefix of the full one. */
    size_t small = 1 + size % 32;
    char *short_err = malloc(small);
    require(short_err != NULL);
    short_err[0] = '\0';
    message_type_t again = (message_type_t)-1;
    require(message_validate(msg, &again, short_err, small) == ret);
    if (ret == 0)
        require(again == type);
    else
        require(strlen(short_err) < small && strncmp(short_err, err, strlen(short_err)) == 0);
    free(short_err);
    free(err);
    json_decref(msg);
    return 0;
}
