#include "message.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef enum { F_STRING, F_BOOL, F_INT, F_ANY } field_kind_t;

/* String rules beyond length. */
typedef enum { S_ANY, S_BYTES, S_ROOM, S_NAME, S_KIND } string_rule_t;

typedef struct field {
    const char *name;
    field_kind_t kind;
    bool required;
    long long min, max; /* characters for strings (bytes for sdp), value for integers */
    string_rule_t rule;
} field_t;

typedef struct spec {
    const char *type;
    message_type_t id;
    field_t fields[6];
} spec_t;

static const spec_t specs[] = {
    {"join",
     MSG_JOIN,
     {{"room", F_STRING, true, 1, MESSAGE_ROOM_MAX, S_ROOM},
      {"name", F_STRING, true, 1, MESSAGE_NAME_MAX, S_NAME},
      {"password", F_STRING, false, 0, 256, S_ANY},
      {"token", F_STRING, false, 1, 4096, S_ANY},
      {"resume", F_STRING, false, 1, 256, S_ANY}}},
    {"publish", MSG_PUBLISH, {{"sdp", F_STRING, true, 1, MESSAGE_SDP_MAX, S_BYTES}}},
    {"answer", MSG_ANSWER, {{"sdp", F_STRING, true, 1, MESSAGE_ANSWER_SDP_MAX, S_BYTES}}},
    {"candidate", MSG_CANDIDATE, {{0}}},
    {"mute",
     MSG_MUTE,
     {{"kind", F_STRING, true, 5, 5, S_KIND},
      {"muted", F_BOOL, true, 0, 0, S_ANY},
      {"peer", F_STRING, false, 1, 16, S_ANY}}},
    {"prefs",
     MSG_PREFS,
     {{"audio_only", F_BOOL, false, 0, 0, S_ANY},
      {"max_video_kbps", F_INT, false, 0, 100000, S_ANY},
      {"last_n", F_INT, false, 0, 100, S_ANY}}},
    {"chat", MSG_CHAT, {{"text", F_STRING, true, 1, MESSAGE_CHAT_MAX, S_ANY}}},
    {"leave", MSG_LEAVE, {{0}}},
    {"ping", MSG_PING, {{0}}},
    {"kick", MSG_KICK, {{"peer", F_STRING, true, 1, 16, S_ANY}}},
};

size_t message_utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static bool room_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static const char *string_rule_error(string_rule_t rule, const char *s)
{
    switch (rule) {
    case S_ROOM:
        for (const char *p = s; *p; p++)
            if (!room_char((unsigned char)*p)) return "may only hold A-Z a-z 0-9 _ . -";
        return NULL;
    case S_NAME:
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            if (*p < 0x20 || *p == 0x7f) return "may not hold control characters";
        return NULL;
    case S_KIND:
        return strcmp(s, "audio") && strcmp(s, "video") ? "must be \"audio\" or \"video\"" : NULL;
    case S_ANY:
    case S_BYTES:
        return NULL;
    }
    return NULL;
}

static int check_string(const spec_t *sp, const field_t *f, const json_t *v, char *err,
                        size_t errlen)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v)) {
        snprintf(err, errlen, "%s: field \"%s\" must be a string%s", sp->type, f->name,
                 s ? " without NUL characters" : "");
        return -1;
    }
    size_t n = f->rule == S_BYTES ? strlen(s) : message_utf8_length(s);
    if (f->rule != S_KIND && ((long long)n < f->min || (long long)n > f->max)) {
        snprintf(err, errlen, "%s: field \"%s\" must be %lld to %lld %s, got %zu", sp->type,
                 f->name, f->min, f->max, f->rule == S_BYTES ? "bytes" : "characters", n);
        return -1;
    }
    const char *why = string_rule_error(f->rule, s);
    if (why) {
        snprintf(err, errlen, "%s: field \"%s\" %s", sp->type, f->name, why);
        return -1;
    }
    return 0;
}

static int check_field(const spec_t *sp, const field_t *f, const json_t *v, char *err,
                       size_t errlen)
{
    switch (f->kind) {
    case F_STRING:
        return check_string(sp, f, v, err, errlen);
    case F_BOOL:
        if (json_is_boolean(v)) return 0;
        snprintf(err, errlen, "%s: field \"%s\" must be true or false", sp->type, f->name);
        return -1;
    case F_INT:
        if (json_is_integer(v) && json_integer_value(v) >= f->min &&
            json_integer_value(v) <= f->max)
            return 0;
        snprintf(err, errlen, "%s: field \"%s\" must be an integer between %lld and %lld", sp->type,
                 f->name, f->min, f->max);
        return -1;
    case F_ANY:
        return 0;
    }
    return 0;
}

static const spec_t *find_spec(const char *type)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].type, type) == 0) return &specs[i];
    return NULL;
}

#define TYPE_SHOWN_MAX 64 /* bytes of an unknown type quoted in the error */

/* The error is one line sent back as a JSON string: the quoted type is cut at a character
 * boundary (a cut UTF-8 sequence would make json_string() refuse the whole reason) and its
 * control characters are shown as '?'. */
static void show_type(char out[TYPE_SHOWN_MAX + 1], const char *t)
{
    size_t n = strlen(t), cut = n;
    if (n > TYPE_SHOWN_MAX) {
        cut = TYPE_SHOWN_MAX;
        while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
            cut--;
    }
    for (size_t i = 0; i < cut; i++)
        out[i] = (unsigned char)t[i] < 0x20 || t[i] == 0x7f ? '?' : t[i];
    out[cut] = '\0';
}

int message_validate(const json_t *msg, message_type_t *type, char *err, size_t errlen)
{
    if (!json_is_object(msg)) {
        snprintf(err, errlen, "a message must be a JSON object");
        return -1;
    }
    const char *t = json_string_value(json_object_get(msg, "type"));
    if (!t) {
        snprintf(err, errlen, "field \"type\" must be a string");
        return -1;
    }
    const spec_t *sp = find_spec(t);
    if (!sp) {
        char shown[TYPE_SHOWN_MAX + 1];
        show_type(shown, t);
        snprintf(err, errlen, "unknown message type \"%s\"", shown);
        return -1;
    }
    const json_t *id = json_object_get(msg, "id");
    if (id && !json_is_number(id) && !(json_is_string(id) && json_string_length(id) <= 64)) {
        snprintf(err, errlen, "%s: field \"id\" must be a number or a string of at most 64 bytes",
                 t);
        return -1;
    }
    for (const field_t *f = sp->fields; f->name; f++) {
        const json_t *v = json_object_get(msg, f->name);
        if (!v) {
            if (!f->required) continue;
            snprintf(err, errlen, "%s: field \"%s\" is required", t, f->name);
            return -1;
        }
        if (check_field(sp, f, v, err, errlen) != 0) return -1;
    }
    *type = sp->id;
    return 0;
}
