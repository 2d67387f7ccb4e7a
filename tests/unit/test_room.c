/* hub_join/hub_leave: caps, passwords, on-demand rooms, server-wide limits. */
#include "config.h"
#include "room.h"
#include "test.h"

static config_t *load(const char *json)
{
    config_t *cfg;
    char err[CONFIG_ERROR_MAX];
    if (config_parse(json, "test.json", &cfg, err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    return cfg;
}

static int closed;
static char closed_name[80];

static void on_close(void *arg, room_t *room)
{
    CHECK(arg == &closed);
    closed++;
    snprintf(closed_name, sizeof closed_name, "%s", room_name(room));
    CHECK(room_footprint(room)->bytes_out == 1234); /* still there when it closes */
}

/* The close callback runs when the last member leaves (not on a refused join), and the
 * open rooms can be walked with their footprint. */
static void test_close_callback_and_walk(void)
{
    config_t *cfg = load("{\"rooms\":{\"secret\":{\"password\":\"s3same\"}}}");
    CHECK(cfg != NULL);
    if (!cfg) return;
    hub_t *hub = hub_new(cfg);
    hub_set_close_cb(hub, on_close, &closed);
    peer_t a = {0}, b = {0}, c = {0};
    char msg[256];
    CHECK_INT(hub_join(hub, "secret", "nope", 0, &c, msg, sizeof msg), HUB_UNAUTHORIZED);
    CHECK_INT(closed, 0);
    CHECK_INT(hub_join(hub, "atelier", NULL, 0, &a, msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "atelier", NULL, 0, &b, msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "radio", NULL, 0, &c, msg, sizeof msg), HUB_OK);
    int n = 0;
    for (room_t *r = hub_first_room(hub); r; r = room_next(r))
        n++;
    CHECK_INT(n, 2);
    footprint_t *f = room_footprint(a.room);
    CHECK(f->bytes_out == 0 && f->cpu_ns == 0 && f->opened_ms > 0);
    f->bytes_out = 1234;
    hub_leave(hub, &a);
    CHECK_INT(closed, 0);
    hub_leave(hub, &b);
    CHECK_INT(closed, 1);
    CHECK_STR(closed_name, "atelier");
    room_footprint(c.room)->bytes_out = 1234;
    hub_leave(hub, &c);
    CHECK_INT(closed, 2);
    CHECK(hub_first_room(hub) == NULL);
    hub_free(hub);
    config_free(cfg);
}

static void test_caps_and_password(void)
{
    config_t *cfg = load("{\"rooms\":{\"petite\":{\"max_participants\":2},"
                         "\"secret\":{\"password\":\"s3same\"}}}");
    CHECK(cfg != NULL);
    if (!cfg) return;
    hub_t *hub = hub_new(cfg);
    peer_t a = {0}, b = {0}, c = {0}, d = {0};
    char msg[256];
    CHECK_INT(hub_join(hub, "petite", NULL, 0, &a, msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "petite", NULL, 0, &b, msg, sizeof msg), HUB_OK);
    CHECK(strcmp(a.id, b.id) != 0);
    CHECK_INT(hub_join(hub, "petite", NULL, 0, &c, msg, sizeof msg), HUB_ROOM_FULL);
    CHECK_STR(msg, "room \"petite\" is full (2 participants)");
    CHECK(c.room == NULL);
    peer_t *const *members;
    CHECK_INT(room_members(a.room, &members), 2);
    CHECK(members[0] == &a && members[1] == &b);

    CHECK_INT(hub_join(hub, "secret", NULL, 0, &c, msg, sizeof msg), HUB_UNAUTHORIZED);
    CHECK_STR(msg, "room \"secret\" needs a password");
    CHECK_INT(hub_join(hub, "secret", "s3sam", 0, &c, msg, sizeof msg), HUB_UNAUTHORIZED);
    CHECK_STR(msg, "wrong password for room \"secret\"");
    CHECK_INT(hub_join(hub, "secret", "s3same!", 0, &c, msg, sizeof msg), HUB_UNAUTHORIZED);
    CHECK_INT(hub_room_count(hub), 1); /* refused joins leave no empty room behind */
    CHECK_INT(hub_join(hub, "secret", "s3same", 0, &c, msg, sizeof msg), HUB_OK);
    CHECK_INT(room_caps(c.room)->max_participants, 8);
    CHECK_STR(room_name(c.room), "secret");
    CHECK_INT(hub_join(hub, "ailleurs", NULL, 0, &d, msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_room_count(hub), 3);
    CHECK_INT(hub_participant_count(hub), 4);

    hub_leave(hub, &a);
    CHECK(a.room == NULL);
    CHECK_INT(room_members(b.room, &members), 1);
    CHECK(members[0] == &b);
    hub_leave(hub, &a); /* twice is harmless */
    hub_leave(hub, &b);
    hub_leave(hub, &c);
    hub_leave(hub, &d);
    CHECK_INT(hub_room_count(hub), 0);
    CHECK_INT(hub_participant_count(hub), 0);
    hub_free(hub);
    config_free(cfg);
}

static void test_server_limits(void)
{
    config_t *cfg = load("{\"on_demand\":false,\"limits\":{\"max_rooms\":1,"
                         "\"max_participants\":3},\"rooms\":{\"a\":{},\"b\":{}}}");
    CHECK(cfg != NULL);
    if (!cfg) return;
    hub_t *hub = hub_new(cfg);
    peer_t p[4];
    memset(p, 0, sizeof p);
    char msg[256];
    CHECK_INT(hub_join(hub, "nowhere", NULL, 0, &p[0], msg, sizeof msg), HUB_ROOM_UNKNOWN);
    CHECK_STR(msg, "room \"nowhere\" does not exist on this server");
    CHECK_INT(hub_join(hub, "a", NULL, 0, &p[0], msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "b", NULL, 0, &p[1], msg, sizeof msg), HUB_SERVER_FULL);
    CHECK_STR(msg, "the server already hosts its maximum of 1 rooms");
    CHECK_INT(hub_join(hub, "a", NULL, 0, &p[1], msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "a", NULL, 0, &p[2], msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "a", NULL, 0, &p[3], msg, sizeof msg), HUB_SERVER_FULL);
    CHECK_STR(msg, "the server already hosts its maximum of 3 participants");
    for (int i = 0; i < 3; i++)
        hub_leave(hub, &p[i]);
    CHECK_INT(hub_join(hub, "b", NULL, 0, &p[0], msg, sizeof msg), HUB_OK);
    hub_leave(hub, &p[0]);
    hub_free(hub);
    config_free(cfg);
}

/* A reloaded config admits by its own rules at once; running rooms keep their media caps,
 * and the previous config can be freed while they run. */
static void test_reload(void)
{
    config_t *old = load("{\"room_defaults\":{\"video_kbps\":300},"
                         "\"rooms\":{\"petite\":{\"max_participants\":1},"
                         "\"secret\":{\"password\":\"un\"},\"gone\":{}}}");
    config_t *next = load("{\"on_demand\":false,\"room_defaults\":{\"video_kbps\":500},"
                          "\"rooms\":{\"petite\":{\"max_participants\":2},"
                          "\"secret\":{\"password\":\"deux\"},\"neuve\":{}}}");
    CHECK(old && next);
    if (!old || !next) return;
    hub_t *hub = hub_new(old);
    peer_t p[6];
    memset(p, 0, sizeof p);
    char msg[256];
    CHECK_INT(hub_join(hub, "petite", NULL, 0, &p[0], msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "petite", NULL, 0, &p[1], msg, sizeof msg), HUB_ROOM_FULL);
    CHECK_INT(hub_join(hub, "secret", "un", 0, &p[1], msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "gone", NULL, 0, &p[2], msg, sizeof msg), HUB_OK);
    hub_set_config(hub, next);
    config_free(old); /* nothing may point into it now */
    CHECK_INT(room_caps(p[0].room)->video_kbps, 300);
    CHECK_INT(hub_join(hub, "petite", NULL, 0, &p[3], msg, sizeof msg), HUB_OK);
    CHECK_INT(room_caps(p[0].room)->max_participants, 2);
    CHECK_INT(room_caps(p[0].room)->video_kbps, 300); /* running: its caps stay */
    CHECK(room_caps(p[0].room)->password == NULL);
    CHECK_INT(hub_join(hub, "secret", "un", 0, &p[4], msg, sizeof msg), HUB_UNAUTHORIZED);
    CHECK_INT(hub_join(hub, "secret", "deux", 0, &p[4], msg, sizeof msg), HUB_OK);
    CHECK_INT(hub_join(hub, "gone", NULL, 0, &p[5], msg, sizeof msg), HUB_ROOM_UNKNOWN);
    CHECK_STR(msg, "room \"gone\" does not exist on this server");
    CHECK_INT(hub_join(hub, "neuve", NULL, 0, &p[5], msg, sizeof msg), HUB_OK);
    CHECK_INT(room_caps(p[5].room)->video_kbps, 500);
    peer_t *const *members;
    CHECK_INT(room_members(p[2].room, &members), 1); /* refused for newcomers, still there */
    for (int i = 0; i < 6; i++)
        hub_leave(hub, &p[i]);
    CHECK_INT(hub_room_count(hub), 0);
    hub_free(hub);
    config_free(next);
}

int main(void)
{
    test_close_callback_and_walk();
    test_caps_and_password();
    test_server_limits();
    test_reload();
    hub_free(NULL);
    TEST_END();
}
