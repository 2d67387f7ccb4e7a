#include "room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "mem.h"

struct room {
    char name[CONFIG_ROOM_NAME_MAX + 1];
    config_room_t caps; /* the caps it opened with (password: NULL, see hub_join) */
    peer_t **members;
    size_t n_members, cap_members;
    footprint_t footprint;
    room_t *next;
};

struct hub {
    const config_t *cfg;
    room_t *rooms;
    size_t n_rooms, n_participants;
    unsigned long long next_peer;
    hub_close_cb on_close;
    void *on_close_arg;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hub_t *hub_new(const config_t *cfg)
{
    hub_t *hub = xcalloc(1, sizeof *hub);
    hub->cfg = cfg;
    return hub;
}

static void room_free(room_t *r)
{
    free(r->members);
    free(r);
}

void hub_free(hub_t *hub)
{
    if (!hub) return;
    for (room_t *r = hub->rooms, *next; r; r = next) {
        next = r->next;
        room_free(r);
    }
    free(hub);
}

static room_t *find_room(hub_t *hub, const char *name)
{
    for (room_t *r = hub->rooms; r; r = r->next)
        if (strcmp(r->name, name) == 0) return r;
    return NULL;
}

void hub_set_config(hub_t *hub, const config_t *cfg)
{
    hub->cfg = cfg;
}

/* Who may enter `name` now: its entry in the current config, or room_defaults for a room
 * created on demand; NULL when the current config has no such room. */
static const config_room_t *admission(const hub_t *hub, const char *name)
{
    const config_room_t *caps = config_find_room(hub->cfg, name);
    return caps ? caps : hub->cfg->on_demand ? &hub->cfg->room_defaults : NULL;
}

static hub_status_t open_room(hub_t *hub, const char *name, const config_room_t *caps, room_t **out,
                              char *msg, size_t msglen)
{
    if (hub->n_rooms >= (size_t)hub->cfg->max_rooms) {
        snprintf(msg, msglen, "the server already hosts its maximum of %d rooms",
                 hub->cfg->max_rooms);
        return HUB_SERVER_FULL;
    }
    room_t *r = xcalloc(1, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->caps = *caps;
    r->caps.password = NULL; /* checked against the current config at each join */
    footprint_start(&r->footprint, now_ms());
    r->next = hub->rooms;
    hub->rooms = r;
    hub->n_rooms++;
    *out = r;
    return HUB_OK;
}

static void add_member(room_t *r, peer_t *peer)
{
    if (r->n_members == r->cap_members) {
        r->cap_members = r->cap_members ? 2 * r->cap_members : 4;
        r->members = xrealloc(r->members, r->cap_members * sizeof *r->members);
    }
    r->members[r->n_members++] = peer;
}

static void drop_room(hub_t *hub, room_t *r)
{
    for (room_t **pp = &hub->rooms; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            hub->n_rooms--;
            room_free(r);
            return;
        }
    }
}

hub_status_t hub_join(hub_t *hub, const char *room_name, const char *password, unsigned flags,
                      peer_t *peer, char *msg, size_t msglen)
{
    if (hub->n_participants >= (size_t)hub->cfg->max_participants) {
        snprintf(msg, msglen, "the server already hosts its maximum of %d participants",
                 hub->cfg->max_participants);
        return HUB_SERVER_FULL;
    }
    /* A reload (server_reload) applies to joins at once, running rooms included: the
     * room's password and size come from the current config, its media caps stay. */
    const config_room_t *admit = admission(hub, room_name);
    if (!admit) {
        snprintf(msg, msglen, "room \"%s\" does not exist on this server", room_name);
        return HUB_ROOM_UNKNOWN;
    }
    room_t *r = find_room(hub, room_name);
    bool created = false;
    if (!r) {
        hub_status_t st = open_room(hub, room_name, admit, &r, msg, msglen);
        if (st != HUB_OK) return st;
        created = true;
    }
    hub_status_t st = HUB_OK;
    if (!(flags & HUB_JOIN_AUTHORIZED) && !auth_password_ok(admit->password, password)) {
        snprintf(msg, msglen,
                 password && *password ? "wrong password for room \"%s\""
                                       : "room \"%s\" needs a password",
                 room_name);
        st = HUB_UNAUTHORIZED;
    } else if (r->n_members >= (size_t)admit->max_participants) {
        snprintf(msg, msglen, "room \"%s\" is full (%d participants)", room_name,
                 admit->max_participants);
        st = HUB_ROOM_FULL;
    }
    if (st != HUB_OK) {
        if (created) drop_room(hub, r);
        return st;
    }
    r->caps.max_participants = admit->max_participants;
    snprintf(peer->id, sizeof peer->id, "p%llu", ++hub->next_peer);
    peer->room = r;
    add_member(r, peer);
    hub->n_participants++;
    return HUB_OK;
}

void hub_leave(hub_t *hub, peer_t *peer)
{
    room_t *r = peer->room;
    if (!r) return;
    for (size_t i = 0; i < r->n_members; i++) {
        if (r->members[i] == peer) {
            memmove(&r->members[i], &r->members[i + 1],
                    (r->n_members - i - 1) * sizeof *r->members);
            r->n_members--;
            hub->n_participants--;
            break;
        }
    }
    peer->room = NULL;
    if (r->n_members > 0) return;
    if (hub->on_close) hub->on_close(hub->on_close_arg, r);
    drop_room(hub, r); /* rooms live while someone is in them */
}

void hub_set_close_cb(hub_t *hub, hub_close_cb cb, void *arg)
{
    hub->on_close = cb;
    hub->on_close_arg = arg;
}

room_t *hub_first_room(const hub_t *hub)
{
    return hub->rooms;
}

room_t *room_next(const room_t *room)
{
    return room->next;
}

footprint_t *room_footprint(room_t *room)
{
    return &room->footprint;
}

size_t hub_room_count(const hub_t *hub)
{
    return hub->n_rooms;
}

size_t hub_participant_count(const hub_t *hub)
{
    return hub->n_participants;
}

size_t room_members(const room_t *room, peer_t *const **peers)
{
    *peers = room->members;
    return room->n_members;
}

const char *room_name(const room_t *room)
{
    return room->name;
}

const config_room_t *room_caps(const room_t *room)
{
    return &room->caps;
}
