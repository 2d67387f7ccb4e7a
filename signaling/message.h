/* message: the client -> server messages of PROTOCOL.md, checked against a table of
 * expected fields and types before anything acts on them. Thread: signalling. */
#ifndef SOBRE_MESSAGE_H
#define SOBRE_MESSAGE_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    MSG_JOIN,
    MSG_PUBLISH,
    MSG_ANSWER,
    MSG_CANDIDATE,
    MSG_MUTE,
    MSG_PREFS,
    MSG_CHAT,
    MSG_LEAVE,
    MSG_PING,
    MSG_KICK, /* a moderator removes a participant (sobre's extension: protocol-notes) */
} message_type_t;

#define MESSAGE_NAME_MAX 64    /* characters in `name` */
#define MESSAGE_ROOM_MAX 64    /* characters in `room` */
#define MESSAGE_CHAT_MAX 2000  /* characters in chat `text` */
#define MESSAGE_SDP_MAX  65536 /* bytes in a publish `sdp` */
#define MESSAGE_ANSWER_SDP_MAX                                                                     \
    (256 * 1024) /* bytes in an answer's `sdp` (SDP_SUB_MAX_LEN: 128 m-lines) */

/* Checks that msg is an object with a known string `type`, that `id` (if any) is a string
 * or a number, and that every field of that type has the expected JSON type and range.
 * Unknown extra fields are ignored (PROTOCOL.md). Returns 0 and sets *type, or -1 with a
 * one-line reason naming the field and the rule in err (e.g. "chat: field \"text\" must
 * be 1 to 2000 characters"). */
int message_validate(const json_t *msg, message_type_t *type, char *err, size_t errlen);

/* Number of Unicode characters in valid UTF-8 `s` (jansson guarantees validity). */
size_t message_utf8_length(const char *s);

#endif
