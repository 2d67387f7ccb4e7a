/* room: who is in which room, and the operator's caps that admit them (config.h).
 * Knows nothing of sockets or JSON: sessions embed a peer_t and join it to a room here.
 * Thread: signalling only. */
#ifndef SOBRE_ROOM_H
#define SOBRE_ROOM_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "footprint.h"

typedef struct hub hub_t;   /* every room of the server */
typedef struct room room_t; /* one room */

#define PEER_ID_MAX 16

/* A participant as others see it (PROTOCOL.md "peer"). Owned by its session. */
typedef struct peer {
    char id[PEER_ID_MAX];
    char name[4 * 64 + 1]; /* up to 64 UTF-8 characters */
    bool audio, video;     /* publishes that kind */
    bool muted_audio, muted_video;
    room_t *room;      /* NULL until joined */
    void *owner;       /* the session, for broadcasts */
    footprint_t usage; /* its transports' traffic and CPU share (footprint.h), for /status */
} peer_t;

typedef enum {
    HUB_OK = 0,
    HUB_ROOM_FULL = -1,
    HUB_UNAUTHORIZED = -2,
    HUB_ROOM_UNKNOWN = -3,
    HUB_SERVER_FULL = -4,
} hub_status_t;

/* cfg is borrowed and must outlive the hub (or its replacement by hub_set_config). */
hub_t *hub_new(const config_t *cfg);

/* A reloaded config: joins are admitted by it from now on (room existence, password,
 * room and server sizes). A running room keeps the media caps it opened with (video,
 * video_kbps, audio_kbps, last_n, echo) until it empties; no pointer into the previous
 * config is kept, so the caller may free it. */
void hub_set_config(hub_t *hub, const config_t *cfg);
void hub_free(hub_t *hub); /* rooms must be empty; hub_free(NULL) is a no-op */

/* Admits peer into `room_name` (created on demand when the config allows it), checking
 * server-wide limits, the room's size and password (NULL = none given), and assigns
 * peer->id. Returns HUB_OK, or a negative status with a sentence for the person in msg. */
#define HUB_JOIN_AUTHORIZED (1u << 0) /* a signed token let it in: no password asked */

hub_status_t hub_join(hub_t *hub, const char *room_name, const char *password, unsigned flags,
                      peer_t *peer, char *msg, size_t msglen);

/* Removes peer from its room; a room that empties is forgotten. */
void hub_leave(hub_t *hub, peer_t *peer);

/* Called when a room closes (its last member left), before it is forgotten. */
typedef void (*hub_close_cb)(void *arg, room_t *room);
void hub_set_close_cb(hub_t *hub, hub_close_cb cb, void *arg);

/* The open rooms, most recently opened first: for (r = hub_first_room(h); r; r =
 * room_next(r)). Borrowed until the next join or leave. */
room_t *hub_first_room(const hub_t *hub);
room_t *room_next(const room_t *room);

/* What the room has cost so far (footprint.h); owned by the room. */
footprint_t *room_footprint(room_t *room);

size_t hub_room_count(const hub_t *hub);
size_t hub_participant_count(const hub_t *hub);

/* The members of a room in join order: *peers is borrowed until the next join or leave. */
size_t room_members(const room_t *room, peer_t *const **peers);
const char *room_name(const room_t *room);
/* The room's caps: media caps as it opened, max_participants as of the last join;
 * password is always NULL (the current config's is checked at each join). */
const config_room_t *room_caps(const room_t *room);

#endif
