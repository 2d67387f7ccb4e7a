#include "session_int.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "downlink.h"
#include "log.h"
#include "media_sub.h"
#include "mem.h"
#include "message.h"

/* One serialized frame, shared by every recipient of a broadcast. */
struct outmsg {
    unsigned refs;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of room for lws, then the JSON text */
};

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_error(session_t *s, const json_t *id, const char *code, const char *message);
static void close_after_flush(session_t *s, enum lws_close_status status);

/* The client's address: the peer's, or behind a proxy on this host (README "Behind a
 * reverse proxy") the last address of X-Forwarded-For, the one the proxy itself saw, so
 * that per-address limits still see the browsers. Earlier entries come from the client
 * (a proxy appends to what it received) and would let it pick its own address. */
static void client_address(struct lws *wsi, char *out, size_t len)
{
    snprintf(out, len, "?");
    lws_get_peer_simple(wsi, out, len);
    bool local =
        !strcmp(out, "127.0.0.1") || !strcmp(out, "::1") || !strcmp(out, "::ffff:127.0.0.1");
    char fwd[256];
    if (!local || lws_hdr_copy(wsi, fwd, sizeof fwd, WSI_TOKEN_X_FORWARDED_FOR) <= 0) return;
    char *last = strrchr(fwd, ',');
    last = last ? last + 1 : fwd;
    last += strspn(last, " \t");
    last[strcspn(last, " \t")] = '\0';
    size_t n = strlen(last);
    if (n == 0 || n >= len) return; /* no address, or not one */
    memcpy(out, last, n + 1);
}

session_t *session_new(struct lws *wsi, session_env_t *env, session_slot_t *slot)
{
    session_t *s = xcalloc(1, sizeof *s);
    s->wsi = wsi;
    slot->session = s;
    s->env = env;
    s->peer.owner = s;
    s->tokens = env->cfg->messages_per_second;
    s->tokens_at_us = s->opened_us = now_us();
    s->next = env->all;
    if (env->all) env->all->prev = s;
    env->all = s;
    env->count++;
    client_address(wsi, s->ip, sizeof s->ip);
    if (addrlimit_connect(env->addrs, s->ip, env->cfg->connections_per_ip, s->opened_us / 1000)) {
        char why[128];
        snprintf(why, sizeof why, "too many connections from your address (limit %d)",
                 env->cfg->connections_per_ip);
        send_error(s, NULL, "rate_limited", why);
        close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
    } else {
        s->counted = true;
    }
    return s;
}

/* ---- outgoing frames ---- */

static outmsg_t *outmsg_new(json_t *obj, unsigned refs)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text) abort(); /* jansson only fails on OOM for the objects we build */
    size_t len = strlen(text);
    outmsg_t *m = xmalloc(sizeof *m + LWS_PRE + len);
    m->refs = refs;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    free(text);
    return m;
}

static void outmsg_unref(outmsg_t *m)
{
    if (--m->refs == 0) free(m);
}

static void enqueue(session_t *s, outmsg_t *m)
{
    if (!s->wsi) { /* detached: a resume sends the state afresh */
        outmsg_unref(m);
        return;
    }
    if (s->q_len == SESSION_QUEUE_MAX) {
        /* The client stopped reading: drop it rather than grow without bound. */
        outmsg_unref(m);
        if (!s->closing) log_info("session %s: send queue full, disconnecting", s->peer.id);
        s->closing = true;
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        return;
    }
    s->queue[(s->q_head + s->q_len++) % SESSION_QUEUE_MAX] = m;
    lws_callback_on_writable(s->wsi);
}

/* Takes ownership of obj. */
void session_send_json(session_t *s, json_t *obj)
{
    enqueue(s, outmsg_new(obj, 1));
}

/* Sends obj (owned) to every member of s's room, except s itself unless with_self. */
static void broadcast(session_t *s, json_t *obj, bool with_self)
{
    peer_t *const *members;
    size_t n = room_members(s->peer.room, &members);
    unsigned refs = (unsigned)(with_self ? n : n - 1);
    if (refs == 0) {
        json_decref(obj);
        return;
    }
    outmsg_t *m = outmsg_new(obj, refs);
    for (size_t i = 0; i < n; i++)
        if (with_self || members[i] != &s->peer) enqueue(members[i]->owner, m);
}

static json_t *reply(const char *type, const json_t *id)
{
    json_t *obj = json_pack("{ss}", "type", type);
    if (id) json_object_set(obj, "id", (json_t *)id);
    return obj;
}

static void send_error(session_t *s, const json_t *id, const char *code, const char *message)
{
    json_t *obj = reply("error", id);
    json_object_set_new(obj, "code", json_string(code));
    json_object_set_new(obj, "message", json_string(message));
    session_send_json(s, obj);
}

static void close_after_flush(session_t *s, enum lws_close_status status)
{
    if (!s->wsi) return;
    s->closing = true;
    s->close_status = status;
    lws_callback_on_writable(s->wsi);
}

int session_writable(session_t *s)
{
    if (s->q_len > 0) {
        outmsg_t *m = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % SESSION_QUEUE_MAX;
        s->q_len--;
        int n = lws_write(s->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        outmsg_unref(m);
        if (n < (int)0) return -1;
        if (s->q_len > 0 || s->closing) lws_callback_on_writable(s->wsi);
        return 0;
    }
    if (!s->closing) return 0;
    lws_close_reason(s->wsi, s->close_status, NULL, 0);
    return -1;
}

/* ---- membership ---- */

static json_t *peer_json(const peer_t *p)
{
    const session_t *owner = p->owner;
    return json_pack("{ss ss sb sb sb sb ss}", "id", p->id, "name", p->name, "audio", p->audio,
                     "video", p->video, "muted_audio", p->muted_audio, "muted_video",
                     p->muted_video, "role", auth_role_name(owner->role));
}

/* The room's speakers, loudest first, to everyone in it. */
static void broadcast_speaking(session_t *s)
{
    peer_t *const *members;
    size_t n = room_members(s->peer.room, &members);
    session_t **order = xcalloc(n ? n : 1, sizeof *order);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        session_t *o = members[i]->owner;
        if (!o->speaking) continue;
        size_t j = k++;
        while (j > 0 && order[j - 1]->loudness < o->loudness) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = o;
    }
    json_t *ids = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(ids, json_string(order[i]->peer.id));
    free(order);
    broadcast(s, json_pack("{ss so}", "type", "speaking", "ids", ids), true);
}

/* s stops counting as a speaker (muted, leaving). */
static void stop_speaking(session_t *s)
{
    if (!s->speaking || !s->peer.room) return;
    s->speaking = false;
    broadcast_speaking(s);
}

/* ---- media: tracks and subscribe offers ---- */

/* Sends the next subscribe offer if the tracks changed and none is unanswered. */
static void offer_if_needed(session_t *s)
{
    char *sdp = s->sub ? media_sub_offer(s->sub) : NULL;
    if (!sdp) return;
    json_t *obj = json_pack("{ss ss}", "type", "offer", "sdp", sdp);
    free(sdp);
    session_send_json(s, obj);
}

/* Tells every other member of s's room what s's publish changed: tracks that ended
 * leave their subscribe connections, new ones join them; then the offers. */
static void offer_changes_to_others(session_t *s, const media_publish_result_t *res)
{
    peer_t *const *members;
    size_t n = room_members(s->peer.room, &members);
    for (size_t i = 0; i < n; i++) {
        session_t *o = members[i]->owner;
        if (o == s || !o->sub) continue;
        for (size_t t = 0; t < res->nended; t++)
            media_sub_remove(s->env->media, o->sub, &res->ended[t]);
        for (size_t t = 0; t < res->nadded; t++)
            media_sub_add(o->sub, s->peer.id, &s->pub.tracks[res->added[t]]);
        offer_if_needed(o);
    }
}

/* Offers a newcomer the tracks everyone else already publishes. */
static void offer_others_tracks(session_t *s)
{
    peer_t *const *members;
    size_t n = room_members(s->peer.room, &members);
    for (size_t i = 0; i < n; i++) {
        session_t *o = members[i]->owner;
        if (o == s) continue;
        for (size_t t = 0; t < o->pub.ntracks; t++)
            media_sub_add(s->sub, o->peer.id, &o->pub.tracks[t]);
    }
    offer_if_needed(s);
}

/* s's tracks end: the worker stops them (BYE), the others' next offers close them. */
static void end_tracks(session_t *s)
{
    if (!s->pub.ntracks) return;
    peer_t *const *members;
    size_t n = s->peer.room ? room_members(s->peer.room, &members) : 0;
    for (size_t i = 0; i < n; i++) {
        session_t *o = members[i]->owner;
        if (o == s || !o->sub) continue;
        for (size_t t = 0; t < s->pub.ntracks; t++)
            media_sub_remove(s->env->media, o->sub, &s->pub.tracks[t]);
        offer_if_needed(o);
    }
    for (size_t t = 0; t < s->pub.ntracks; t++)
        media_end_track(s->env->media, &s->pub.tracks[t]);
    s->pub.ntracks = 0;
}

static void close_transport(session_t *s)
{
    end_tracks(s);
    media_sub_free(s->env->media, s->sub);
    s->sub = NULL;
    media_publisher_release(s->env->media, &s->pub);
}

static void leave_room(session_t *s)
{
    /* peer_left first, then the offers that close the leaver's tracks. */
    if (s->peer.room)
        broadcast(s, json_pack("{ss ss}", "type", "peer_left", "id", s->peer.id), false);
    stop_speaking(s);
    close_transport(s);
    session_video_update(s->env); /* its video no longer takes a last_n place */
    if (s->peer.room) hub_leave(s->env->hub, &s->peer);
}

static void drop_queue(session_t *s)
{
    while (s->q_len > 0) {
        outmsg_unref(s->queue[s->q_head]);
        s->q_head = (s->q_head + 1) % SESSION_QUEUE_MAX;
        s->q_len--;
    }
    s->q_head = 0;
}

static void free_session(session_t *s)
{
    if (s->counted) addrlimit_disconnect(s->env->addrs, s->ip);
    leave_room(s);
    drop_queue(s);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->env->all = s->next;
    if (s->next) s->next->prev = s->prev;
    s->env->count--;
    free(s->rx);
    free(s);
}

void session_closed(session_t *s, bool now_leave)
{
    if (!s) return;
    int grace = s->env->cfg->resume_seconds;
    if (now_leave || s->closing || !s->peer.room || grace == 0) {
        free_session(s);
        return;
    }
    log_info("session %s: socket dropped, kept %d s for a resume", s->peer.id, grace);
    if (s->counted) addrlimit_disconnect(s->env->addrs, s->ip);
    s->counted = false;
    s->wsi = NULL;
    s->detached_at_us = now_us();
    s->rx_len = 0;
    drop_queue(s);
}

void session_reap(session_env_t *env, bool all)
{
    long long now = now_us();
    session_t *next;
    for (session_t *s = env->all; s; s = next) {
        next = s->next;
        if (s->wsi && !s->peer.room && !s->closing &&
            now - s->opened_us >= env->cfg->join_timeout_seconds * 1000000LL) {
            char why[96];
            snprintf(why, sizeof why, "send \"join\" within %d s of connecting",
                     env->cfg->join_timeout_seconds);
            send_error(s, NULL, "bad_request", why);
            close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
            continue;
        }
        if (s->wsi) continue;
        if (!all && now - s->detached_at_us < env->cfg->resume_seconds * 1000000LL) continue;
        log_info("session %s: not resumed, leaves", s->peer.id);
        free_session(s);
    }
}

void session_close_all(session_env_t *env, const char *reason)
{
    session_reap(env, true);
    for (session_t *s = env->all; s; s = s->next) {
        if (s->closing) continue;
        session_send_json(s, json_pack("{ss ss}", "type", "bye", "reason", reason));
        close_after_flush(s, LWS_CLOSE_STATUS_GOINGAWAY);
    }
}

/* ---- handlers ---- */

static const char *const hub_codes[] = {"", "room_full", "unauthorized", "room_unknown",
                                        "server_full"};

static void joined(session_t *s, const json_t *id)
{
    const room_t *room = s->peer.room;
    const config_room_t *caps = room_caps(room);
    json_t *peers = json_array();
    peer_t *const *members;
    size_t n = room_members(room, &members);
    for (size_t i = 0; i < n; i++)
        if (members[i] != &s->peer) json_array_append_new(peers, peer_json(members[i]));
    unsigned char raw[16];
    RAND_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        sprintf(&s->resume[2 * i], "%02x", raw[i]);
    json_t *obj = reply("joined", id);
    json_object_set_new(obj, "self", peer_json(&s->peer));
    json_object_set_new(obj, "room", json_string(room_name(room)));
    json_object_set_new(obj, "peers", peers);
    json_object_set_new(obj, "limits",
                        json_pack("{si si si sb}", "max_participants", caps->max_participants,
                                  "video_kbps", caps->video_kbps, "audio_kbps", caps->audio_kbps,
                                  "video", caps->video));
    json_object_set_new(obj, "resume", json_string(s->resume));
    session_send_json(s, obj);
}

/* The detached session a resume token names (compared in constant time). */
static session_t *detached_by_token(session_env_t *env, const char *token)
{
    size_t n = strlen(token);
    for (session_t *o = env->all; o; o = o->next)
        if (!o->wsi && n == strlen(o->resume) && CRYPTO_memcmp(o->resume, token, n) == 0) return o;
    return NULL;
}

/* s's connection takes over the detached session old: same peer, room, media; the
 * others see nothing. old gets a fresh `joined` (new resume token, current peers) and
 * the subscribe offer its client may have missed. */
static void reattach(session_t *s, session_t *old, const json_t *id)
{
    old->wsi = s->wsi;
    old->detached_at_us = 0;
    old->counted = s->counted; /* the connection's place in the address limit moves too */
    s->counted = false;
    snprintf(old->ip, sizeof old->ip, "%s", s->ip);
    old->tokens = s->tokens;
    old->tokens_at_us = s->tokens_at_us;
    session_slot_t *slot = lws_wsi_user(s->wsi);
    slot->session = old;
    s->absorbed = true;
    log_info("session %s resumed", old->peer.id);
    joined(old, id);
    const char *offer = old->sub ? media_sub_pending_offer(old->sub) : NULL;
    if (offer) session_send_json(old, json_pack("{ss ss}", "type", "offer", "sdp", offer));
}

static void on_join(session_t *s, const json_t *msg, const json_t *id)
{
    if (s->peer.room) {
        char why[128];
        snprintf(why, sizeof why, "join: already in room \"%s\"", room_name(s->peer.room));
        send_error(s, id, "bad_request", why);
        return;
    }
    long long now_ms = now_us() / 1000;
    if (addrlimit_join(s->env->addrs, s->ip, s->env->cfg->joins_per_minute_per_ip, now_ms)) {
        char why[128];
        snprintf(why, sizeof why, "too many join attempts from your address (limit %d a minute)",
                 s->env->cfg->joins_per_minute_per_ip);
        send_error(s, id, "rate_limited", why);
        close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        return;
    }
    const char *resume = json_string_value(json_object_get(msg, "resume"));
    session_t *old = resume ? detached_by_token(s->env, resume) : NULL;
    if (old) {
        reattach(s, old, id);
        return;
    }
    const char *room = json_string_value(json_object_get(msg, "room"));
    const char *password = json_string_value(json_object_get(msg, "password"));
    const char *token = json_string_value(json_object_get(msg, "token"));
    snprintf(s->peer.name, sizeof s->peer.name, "%s",
             json_string_value(json_object_get(msg, "name")));
    char why[256];
    unsigned flags = 0;
    if (token) {
        auth_token_t t;
        char err[64];
        const char *secret = s->env->cfg->token_secret;
        if (!secret || auth_token_check(secret, token, wall_ms() / 1000, &t, err, sizeof err)) {
            snprintf(why, sizeof why, "join: %s", secret ? err : "this server takes no tokens");
            send_error(s, id, "unauthorized", why);
            close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
            return;
        }
        if (strcmp(t.room, room) != 0) {
            snprintf(why, sizeof why, "join: the token is for room \"%.64s\"", t.room);
            send_error(s, id, "unauthorized", why);
            close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
            return;
        }
        snprintf(s->peer.name, sizeof s->peer.name, "%s", t.name); /* the name it was given */
        s->role = t.role;
        flags |= HUB_JOIN_AUTHORIZED;
    }
    hub_status_t st = hub_join(s->env->hub, room, password, flags, &s->peer, why, sizeof why);
    if (st != HUB_OK) {
        send_error(s, id, hub_codes[-st], why);
        close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        return;
    }
    if (s->env->cfg->log_private_data) /* the operator asked for names and addresses */
        log_info("session %s joined room %s: name \"%s\", address %s", s->peer.id, room,
                 s->peer.name, s->ip);
    else
        log_info("session %s joined room %s", s->peer.id, room);
    joined(s, id);
    broadcast(s, json_pack("{ss so}", "type", "peer_joined", "peer", peer_json(&s->peer)), false);
    if (!room_caps(s->peer.room)->echo) {
        s->sub = media_sub_new(s->env->media, room);
        offer_others_tracks(s);
        session_video_update(s->env);
    }
}

/* The member of s's room with that peer id, or NULL. */
static session_t *member(const session_t *s, const char *peer_id)
{
    peer_t *const *members;
    size_t n = room_members(s->peer.room, &members);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(members[i]->id, peer_id)) return members[i]->owner;
    return NULL;
}

/* Applies a mute to s (by itself or by a moderator). */
static void set_muted(session_t *s, bool audio, bool muted)
{
    if (audio && muted) stop_speaking(s);
    if (audio)
        s->peer.muted_audio = muted;
    else
        s->peer.muted_video = muted;
    sdp_kind_t kind = audio ? SDP_KIND_AUDIO : SDP_KIND_VIDEO;
    for (size_t t = 0; t < s->pub.ntracks; t++)
        if (s->pub.tracks[t].kind == kind)
            media_mute_track(s->env->media, &s->pub.tracks[t], muted);
    if (!audio) session_video_update(s->env); /* a muted camera takes no one's budget */
}

/* Returns false (after an error reply) unless s may act on others. */
static bool moderator(session_t *s, const json_t *id, const char *what)
{
    if (s->role == AUTH_ROLE_MODERATOR) return true;
    char why[96];
    snprintf(why, sizeof why, "%s: only a moderator may do that", what);
    send_error(s, id, "unauthorized", why);
    return false;
}

/* A mute of its own tracks, or by a moderator of someone else's. Returns false after an
 * error reply. */
static bool on_mute(session_t *s, const json_t *msg, const json_t *id)
{
    bool muted = json_is_true(json_object_get(msg, "muted"));
    bool audio = strcmp(json_string_value(json_object_get(msg, "kind")), "audio") == 0;
    const char *peer = json_string_value(json_object_get(msg, "peer"));
    session_t *target = s;
    if (peer && strcmp(peer, s->peer.id) != 0) {
        if (!moderator(s, id, "mute")) return false;
        if (!muted) {
            send_error(s, id, "unauthorized", "mute: only a participant may unmute itself");
            return false;
        }
        if (!(target = member(s, peer))) {
            send_error(s, id, "bad_request", "mute: field \"peer\" names nobody in this room");
            return false;
        }
    }
    set_muted(target, audio, muted);
    /* The target learns it was muted from its own peer_updated. */
    broadcast(target,
              json_pack("{ss so}", "type", "peer_updated", "peer", peer_json(&target->peer)),
              target != s);
    return true;
}

static bool on_kick(session_t *s, const json_t *msg, const json_t *id)
{
    if (!moderator(s, id, "kick")) return false;
    const char *peer = json_string_value(json_object_get(msg, "peer"));
    session_t *target = member(s, peer);
    if (!target || target == s) {
        send_error(s, id, "bad_request",
                   target ? "kick: a moderator cannot kick itself (send leave)"
                          : "kick: field \"peer\" names nobody in this room");
        return false;
    }
    log_info("session %s kicked by %s", target->peer.id, s->peer.id);
    session_send_json(target, json_pack("{ss ss}", "type", "bye", "reason", "kicked"));
    leave_room(target); /* at once: no grace period for a kicked participant */
    close_after_flush(target, LWS_CLOSE_STATUS_POLICY_VIOLATION);
    return true;
}

static void on_prefs(session_t *s, const json_t *msg)
{
    const json_t *v;
    if ((v = json_object_get(msg, "audio_only"))) s->prefs.audio_only = json_is_true(v);
    if ((v = json_object_get(msg, "max_video_kbps")))
        s->prefs.max_video_kbps = (int)json_integer_value(v);
    if ((v = json_object_get(msg, "last_n"))) s->prefs.last_n = (int)json_integer_value(v);
    session_video_update(s->env);
}

static void on_publish(session_t *s, const json_t *msg, const json_t *id)
{
    if (s->role == AUTH_ROLE_LISTENER) {
        send_error(s, id, "unauthorized",
                   "publish: a listener cannot publish (its join token says so)");
        return;
    }
    const config_room_t *caps = room_caps(s->peer.room);
    const json_t *sdp = json_object_get(msg, "sdp");
    media_publish_result_t res;
    char why[256], msgbuf[300];
    if (media_publish(s->env->media, room_name(s->peer.room), s->peer.id, caps, &s->pub,
                      json_string_value(sdp), json_string_length(sdp), &res, why,
                      sizeof why) != 0) {
        snprintf(msgbuf, sizeof msgbuf, "publish: %s", why);
        send_error(s, id, "sdp_rejected", msgbuf);
        return;
    }
    json_t *ans = reply("answer", id);
    json_object_set_new(ans, "sdp", json_string(res.answer));
    free(res.answer);
    session_send_json(s, ans);
    if (res.video_rejected)
        send_error(s, NULL, "video_disabled",
                   "publish: this room is audio-only: the video was not accepted");
    if (res.audio != s->peer.audio || res.video != s->peer.video) {
        s->peer.audio = res.audio;
        s->peer.video = res.video;
        broadcast(s, json_pack("{ss so}", "type", "peer_updated", "peer", peer_json(&s->peer)),
                  false);
    }
    log_info("session %s publishes (audio %d, video %d; %zu new track(s), %zu ended) on worker "
             "%d",
             s->peer.id, res.audio, res.video, res.nadded, res.nended, s->pub.worker);
    for (size_t t = 0; t < res.nadded; t++) {
        media_track_t *tr = &s->pub.tracks[res.added[t]];
        if (tr->kind == SDP_KIND_AUDIO ? s->peer.muted_audio : s->peer.muted_video)
            media_mute_track(s->env->media, tr, true);
    }
    offer_changes_to_others(s, &res);
    session_video_update(s->env);
    free(res.ended);
}

static void on_answer(session_t *s, const json_t *msg, const json_t *id)
{
    if (!s->sub || !media_sub_pending(s->sub)) {
        send_error(s, id, "bad_request", "answer: no subscribe offer is pending");
        return;
    }
    const json_t *sdp = json_object_get(msg, "sdp");
    char why[256], msgbuf[300];
    if (media_sub_answer(s->env->media, s->sub, json_string_value(sdp), json_string_length(sdp),
                         why, sizeof why) != 0) {
        snprintf(msgbuf, sizeof msgbuf, "answer: %s", why);
        send_error(s, id, "sdp_rejected", msgbuf);
        return;
    }
    if (id) session_send_json(s, reply("ok", id));
    offer_if_needed(s); /* changes made while the offer was out */
}

/* A video track's measured layer rates: kept with the track, and the layers its
 * subscribers get are chosen again. */
static void on_layer_rates(session_env_t *env, const worker_event_t *ev)
{
    for (session_t *s = env->all; s; s = s->next) {
        for (size_t t = 0; t < s->pub.ntracks; t++) {
            if (s->pub.tracks[t].id != ev->track) continue;
            media_track_t *mt = &s->pub.tracks[t];
            mt->rates = ev->rates;
            /* Not while held: a layer the browser is stopping sends less and less, and
             * its last trickle would make it look cheap enough to lift the hold for
             * (the hold and its release then alternate every other second). */
            for (size_t sp = 0; sp < ROUTER_MAX_LAYERS && mt->active >= mt->nlayers; sp++)
                for (size_t tp = 0; tp < ROUTER_MAX_TEMPORAL; tp++)
                    if (ev->rates.kbps[sp][tp]) mt->seen.kbps[sp][tp] = ev->rates.kbps[sp][tp];
            const uint32_t(*k)[ROUTER_MAX_TEMPORAL] = ev->rates.kbps;
            log_debug("session %s: track %s measured kbps (by temporal layer 0/1/2): layer 0 "
                      "%u/%u/%u, layer 1 %u/%u/%u, layer 2 %u/%u/%u",
                      s->peer.id, s->pub.tracks[t].track_id, k[0][0], k[0][1], k[0][2], k[1][0],
                      k[1][1], k[1][2], k[2][0], k[2][1], k[2][2]);
            session_video_update(env);
            return;
        }
    }
}

static void on_speaking(session_env_t *env, const worker_event_t *ev)
{
    for (session_t *s = env->all; s; s = s->next) {
        for (size_t t = 0; t < s->pub.ntracks; t++) {
            if (s->pub.tracks[t].id != ev->track) continue;
            if (!s->peer.room || s->peer.muted_audio) return;
            s->speaking = ev->speaking;
            s->loudness = ev->loudness;
            broadcast_speaking(s);
            if (ev->speaking) {
                s->spoke = ++env->speech_clock;
                session_video_update(s->env); /* last_n follows the speakers */
            }
            return;
        }
    }
}

void session_on_media_event(session_env_t *env, const worker_event_t *ev)
{
    if (ev->kind == WORKER_EV_SPEAKING) {
        on_speaking(env, ev);
        return;
    }
    if (ev->kind == WORKER_EV_LAYER_RATES) {
        on_layer_rates(env, ev);
        return;
    }
    if (ev->kind == WORKER_EV_ESTIMATE) {
        for (session_t *s = env->all; s; s = s->next) {
            if (!s->sub || media_sub_transport(s->sub) != ev->id) continue;
            s->est_bps = ev->bps;
            log_debug("session %s: downlink estimate %u kb/s (%s)", s->peer.id, ev->bps / 1000,
                      downlink_source_name(ev->source));
            session_video_update(s->env);
        }
        return;
    }
    session_t *s = env->all;
    while (s && s->pub.transport != ev->id && !(s->sub && media_sub_transport(s->sub) == ev->id))
        s = s->next;
    if (!s) return;
    bool publish = s->pub.transport == ev->id;
    if (ev->kind == WORKER_EV_TRANSPORT_UP) {
        log_info("session %s: %s connection up", s->peer.id, publish ? "publish" : "subscribe");
        return;
    }
    if (ev->kind != WORKER_EV_TRANSPORT_CLOSED) return;
    log_info("session %s: %s connection closed: %s", s->peer.id, publish ? "publish" : "subscribe",
             ev->reason);
    if (!s->wsi) {
        /* Its socket dropped and now its media stopped too (consent expired): the browser
         * is gone, no need to wait out the rest of the grace period. */
        log_info("session %s: socket and media gone, leaves", s->peer.id);
        free_session(s);
        return;
    }
    char why[200];
    snprintf(why, sizeof why, "%smedia connection closed: %s", publish ? "" : "subscribe ",
             ev->reason);
    send_error(s, NULL, "media_failed", why);
    if (!publish) return;
    end_tracks(s);
    media_publisher_release(s->env->media, &s->pub); /* the next publish starts afresh */
    session_video_update(s->env);
    if (s->peer.audio || s->peer.video) {
        s->peer.audio = s->peer.video = false;
        broadcast(s, json_pack("{ss so}", "type", "peer_updated", "peer", peer_json(&s->peer)),
                  false);
    }
}

static void on_chat(session_t *s, const json_t *msg)
{
    broadcast(s,
              json_pack("{ss ss ss sO sI}", "type", "chat", "from", s->peer.id, "name",
                        s->peer.name, "text", json_object_get(msg, "text"), "ts",
                        (json_int_t)wall_ms()),
              true);
}

/* Acts on a validated message. */
static void dispatch(session_t *s, message_type_t type, const json_t *msg, const json_t *id)
{
    if (!s->peer.room && type != MSG_JOIN && type != MSG_PING) {
        send_error(s, id, "bad_request", "send \"join\" first");
        return;
    }
    switch (type) {
    case MSG_JOIN:
        on_join(s, msg, id);
        return;
    case MSG_PING:
        session_send_json(s, reply("pong", id));
        return;
    case MSG_LEAVE:
        leave_room(s);
        close_after_flush(s, LWS_CLOSE_STATUS_NORMAL);
        return;
    case MSG_PUBLISH:
        on_publish(s, msg, id);
        return;
    case MSG_ANSWER:
        on_answer(s, msg, id);
        return;
    case MSG_MUTE:
        if (!on_mute(s, msg, id)) return;
        break;
    case MSG_KICK:
        if (!on_kick(s, msg, id)) return;
        break;
    case MSG_PREFS:
        on_prefs(s, msg);
        break;
    case MSG_CHAT:
        on_chat(s, msg);
        break;
    case MSG_CANDIDATE: /* ICE-lite: the server needs no trickled candidates */
        break;
    }
    if (id) session_send_json(s, reply("ok", id));
}

/* The `id` to echo, when the message has a usable one. */
static const json_t *request_id(const json_t *msg)
{
    const json_t *id = json_object_get(msg, "id");
    if (json_is_number(id) || (json_is_string(id) && json_string_length(id) <= 64)) return id;
    return NULL;
}

static bool take_token(session_t *s)
{
    long long now = now_us();
    double rate = s->env->cfg->messages_per_second;
    s->tokens += (double)(now - s->tokens_at_us) * rate / 1e6;
    if (s->tokens > rate) s->tokens = rate;
    s->tokens_at_us = now;
    if (s->tokens < 1.0) return false;
    s->tokens -= 1.0;
    return true;
}

static void handle_message(session_t *s, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        char why[256];
        snprintf(why, sizeof why, "invalid JSON at character %d: %s", jerr.position, jerr.text);
        send_error(s, NULL, "bad_request", why);
        return;
    }
    const json_t *id = json_is_object(msg) ? request_id(msg) : NULL;
    char why[256];
    message_type_t type;
    if (!take_token(s)) {
        snprintf(why, sizeof why, "more than %d messages per second",
                 s->env->cfg->messages_per_second);
        send_error(s, id, "rate_limited", why);
    } else if (message_validate(msg, &type, why, sizeof why) != 0) {
        send_error(s, id, "bad_request", why);
        if (!s->peer.room && json_is_object(msg) && json_is_string(json_object_get(msg, "type")) &&
            strcmp(json_string_value(json_object_get(msg, "type")), "join") == 0)
            close_after_flush(s, LWS_CLOSE_STATUS_POLICY_VIOLATION); /* a refused join */
    } else {
        dispatch(s, type, msg, id);
    }
    json_decref(msg);
}

static void refuse_large(session_t *s)
{
    char why[96];
    snprintf(why, sizeof why, "frames are limited to %d bytes", SESSION_FRAME_MAX);
    send_error(s, NULL, "too_large", why);
    close_after_flush(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
}

/* A frame larger than SESSION_FRAME_MAX is only allowed for an answer (a subscribe
 * connection of many tracks, docs/protocol-notes.md). */
static bool is_answer(const char *text, size_t len)
{
    json_t *msg = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    bool yes = type && strcmp(type, "answer") == 0;
    json_decref(msg);
    return yes;
}

int session_receive(session_t *s, const void *in, size_t len)
{
    if (s->closing) return 0;
    if (s->rx_len + len > SESSION_ANSWER_FRAME_MAX) {
        refuse_large(s);
        return 0;
    }
    if (s->rx_len + len > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 1024;
        while (cap < s->rx_len + len)
            cap *= 2;
        s->rx = xrealloc(s->rx, cap);
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (!lws_is_final_fragment(s->wsi)) return 0;
    size_t n = s->rx_len;
    s->rx_len = 0;
    if (lws_frame_is_binary(s->wsi)) {
        send_error(s, NULL, "bad_request", "frames must be text (one JSON object each)");
        return 0;
    }
    if (n > SESSION_FRAME_MAX && !is_answer(s->rx, n)) {
        refuse_large(s);
        return 0;
    }
    handle_message(s, s->rx, n);
    if (n > SESSION_FRAME_MAX && !s->absorbed) {
        /* Rare (a large room's answer): not kept for the session's life. */
        free(s->rx);
        s->rx = NULL;
        s->rx_cap = 0;
    }
    if (s->absorbed) free_session(s); /* its connection now belongs to the resumed one */
    return 0;
}

/* ---- for the server: usage, footprint messages, status ---- */

peer_t *session_peer_of_transport(const session_env_t *env, uint64_t transport)
{
    for (session_t *s = env->all; s; s = s->next)
        if (s->pub.transport == transport || (s->sub && media_sub_transport(s->sub) == transport))
            return &s->peer;
    return NULL;
}

void session_room_broadcast(const room_t *room, json_t *obj)
{
    peer_t *const *members;
    if (room_members(room, &members) == 0) {
        json_decref(obj);
        return;
    }
    broadcast(members[0]->owner, obj, true);
}

uint32_t session_estimate_bps(const peer_t *peer)
{
    const session_t *s = peer->owner;
    return s->est_bps;
}
