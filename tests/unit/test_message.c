/* message_validate against the table of PROTOCOL.md: every type, every field rule. */
#include <jansson.h>

#include "message.h"
#include "test.h"

typedef struct {
    const char *json;
    int ok;              /* 1: accepted */
    message_type_t type; /* when accepted */
    const char *error;   /* exact reason when refused */
} case_t;

static const case_t cases[] = {
    {"{\"type\":\"join\",\"room\":\"assemblee\",\"name\":\"Camille\"}", 1, MSG_JOIN, NULL},
    {"{\"type\":\"join\",\"room\":\"a.b-c_9\",\"name\":\"\xc3\xa9\",\"password\":\"x\","
     "\"token\":\"t\",\"resume\":\"r\",\"id\":7,\"extra\":[1]}",
     1, MSG_JOIN, NULL},
    {"{\"type\":\"join\",\"name\":\"Camille\"}", 0, 0, "join: field \"room\" is required"},
    {"{\"type\":\"join\",\"room\":5,\"name\":\"Camille\"}", 0, 0,
     "join: field \"room\" must be a string"},
    {"{\"type\":\"join\",\"room\":\"\",\"name\":\"Camille\"}", 0, 0,
     "join: field \"room\" must be 1 to 64 characters, got 0"},
    {"{\"type\":\"join\",\"room\":\"a/b\",\"name\":\"Camille\"}", 0, 0,
     "join: field \"room\" may only hold A-Z a-z 0-9 _ . -"},
    {"{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\u0007b\"}", 0, 0,
     "join: field \"name\" may not hold control characters"},
    {"{\"type\":\"join\",\"room\":\"r\",\"name\":\"a\\u0000b\"}", 0, 0,
     "join: field \"name\" must be a string without NUL characters"},
    {"{\"type\":\"join\",\"room\":\"r\",\"name\":\"Camille\",\"password\":1}", 0, 0,
     "join: field \"password\" must be a string"},
    {"{\"type\":\"publish\",\"sdp\":\"v=0\"}", 1, MSG_PUBLISH, NULL},
    {"{\"type\":\"publish\"}", 0, 0, "publish: field \"sdp\" is required"},
    {"{\"type\":\"answer\",\"sdp\":\"\"}", 0, 0,
     "answer: field \"sdp\" must be 1 to 262144 bytes, got 0"},
    {"{\"type\":\"candidate\",\"candidate\":{}}", 1, MSG_CANDIDATE, NULL},
    {"{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":true}", 1, MSG_MUTE, NULL},
    {"{\"type\":\"mute\",\"kind\":\"screen\",\"muted\":true}", 0, 0,
     "mute: field \"kind\" must be \"audio\" or \"video\""},
    {"{\"type\":\"mute\",\"kind\":\"video\",\"muted\":\"yes\"}", 0, 0,
     "mute: field \"muted\" must be true or false"},
    {"{\"type\":\"prefs\"}", 1, MSG_PREFS, NULL},
    {"{\"type\":\"prefs\",\"audio_only\":true,\"max_video_kbps\":300,\"last_n\":3}", 1, MSG_PREFS,
     NULL},
    {"{\"type\":\"prefs\",\"last_n\":101}", 0, 0,
     "prefs: field \"last_n\" must be an integer between 0 and 100"},
    {"{\"type\":\"prefs\",\"max_video_kbps\":1.5}", 0, 0,
     "prefs: field \"max_video_kbps\" must be an integer between 0 and 100000"},
    {"{\"type\":\"chat\",\"text\":\"bonjour\"}", 1, MSG_CHAT, NULL},
    {"{\"type\":\"chat\",\"text\":\"\"}", 0, 0,
     "chat: field \"text\" must be 1 to 2000 characters, got 0"},
    {"{\"type\":\"chat\",\"text\":[\"x\"]}", 0, 0, "chat: field \"text\" must be a string"},
    {"{\"type\":\"leave\"}", 1, MSG_LEAVE, NULL},
    {"{\"type\":\"ping\",\"id\":\"abc\"}", 1, MSG_PING, NULL},
    {"{\"type\":\"ping\",\"id\":{}}", 0, 0,
     "ping: field \"id\" must be a number or a string of at most 64 bytes"},
    {"{\"type\":\"dance\"}", 0, 0, "unknown message type \"dance\""},
    /* fuzz_message: the quoted type stays one line of valid UTF-8 (it becomes the JSON
     * "message" of the error reply): control characters shown as '?', cut at 64 bytes on a
     * character boundary. */
    {"{\"type\":\"publish\\r\\nv=0\\u007f\"}", 0, 0, "unknown message type \"publish??v=0?\""},
    {"{\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\"}",
     0, 0,
     "unknown message type \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""},
    {"{\"type\":3}", 0, 0, "field \"type\" must be a string"},
    {"{}", 0, 0, "field \"type\" must be a string"},
    {"[1,2]", 0, 0, "a message must be a JSON object"},
    {"\"join\"", 0, 0, "a message must be a JSON object"},
};

static void check_case(const case_t *c)
{
    json_t *msg = json_loads(c->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    CHECK(msg != NULL);
    char err[256] = "";
    message_type_t type = (message_type_t)-1;
    int rc = message_validate(msg, &type, err, sizeof err);
    if (c->ok) {
        CHECK_INT(rc, 0);
        CHECK_INT(type, c->type);
        if (rc) fprintf(stderr, "  for %s: %s\n", c->json, err);
    } else {
        CHECK_INT(rc, -1);
        CHECK_STR(err, c->error);
    }
    json_decref(msg);
}

/* Lengths count characters, not bytes: 2000 two-byte characters are a valid chat. */
static void test_lengths(void)
{
    char text[2001 * 2 + 1];
    for (int i = 0; i < 2001; i++)
        memcpy(text + 2 * i, "\xc3\xa9", 2);
    text[2000 * 2] = 0;
    json_t *msg = json_pack("{ss ss}", "type", "chat", "text", text);
    message_type_t type;
    char err[256];
    CHECK_INT(message_validate(msg, &type, err, sizeof err), 0);
    json_decref(msg);
    memcpy(text + 2000 * 2, "\xc3\xa9", 2);
    text[2001 * 2] = 0;
    msg = json_pack("{ss ss}", "type", "chat", "text", text);
    CHECK_INT(message_validate(msg, &type, err, sizeof err), -1);
    CHECK_STR(err, "chat: field \"text\" must be 1 to 2000 characters, got 2001");
    json_decref(msg);
    CHECK_INT(message_utf8_length("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xb5"), 4);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
    test_lengths();
    TEST_END();
}
