/* Janus VideoRoom over Janus's WebSocket API (sub-protocol janus-protocol), for the side
 * by side comparison: create a session, attach a publisher handle, create the room (an
 * "already exists" answer is fine), join as publisher, configure with our offer; attach a
 * subscriber handle and, once every other participant of the room has published, join
 * as a multistream subscriber to all their feeds at once and answer Janus's offer with
 * "start". Membership is fixed in a benchmark, so no renegotiation is needed. */
#include "sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN "janus.plugin.videoroom"

static void janus_send(lg_part_t *p, const char *janus, const char *tx, uint64_t handle,
                       json_t *body, json_t *jsep)
{
    sig_part_t *s = sig_of(p);
    json_t *m = json_pack("{s:s, s:s}", "janus", janus, "transaction", tx);
    if (s->session) json_object_set_new(m, "session_id", json_integer((json_int_t)s->session));
    if (handle) json_object_set_new(m, "handle_id", json_integer((json_int_t)handle));
    if (body) json_object_set_new(m, "body", body);
    if (jsep) json_object_set_new(m, "jsep", jsep);
    sig_send(p, m);
}

static void attach(lg_part_t *p, const char *tx)
{
    sig_part_t *s = sig_of(p);
    sig_send(p, json_pack("{s:s, s:s, s:I, s:s}", "janus", "attach", "transaction", tx,
                          "session_id", (json_int_t)s->session, "plugin", PLUGIN));
}

static json_int_t room_id(const lg_t *lg, const lg_part_t *p)
{
    return (json_int_t)lg->o.janus_room_base + p->room;
}

static void trickle_done(lg_part_t *p, uint64_t handle)
{
    sig_part_t *s = sig_of(p);
    json_t *m = json_pack("{s:s, s:s, s:I, s:I, s:{s:b}}", "janus", "trickle", "transaction",
                          "trickle", "session_id", (json_int_t)s->session, "handle_id",
                          (json_int_t)handle, "candidate", "completed", 1);
    sig_send(p, m);
}

static void on_open(lg_t *lg, lg_part_t *p)
{
    (void)lg;
    janus_send(p, "create", "create", 0, NULL, NULL);
}

static void add_feeds(lg_part_t *p, json_t *publishers)
{
    sig_part_t *s = sig_of(p);
    size_t i;
    json_t *pub;
    json_array_foreach(publishers, i, pub)
    {
        uint64_t id = (uint64_t)json_integer_value(json_object_get(pub, "id"));
        bool known = id == 0 || id == s->janus_id;
        for (size_t k = 0; k < s->nfeeds && !known; k++)
            known = s->feeds[k] == id;
        if (!known && s->nfeeds < sizeof s->feeds / sizeof s->feeds[0]) s->feeds[s->nfeeds++] = id;
    }
}

static void maybe_subscribe(lg_t *lg, lg_part_t *p)
{
    sig_part_t *s = sig_of(p);
    if (!s->sub_handle || s->sub_pending || s->have_sub ||
        s->nfeeds < (size_t)lg->o.participants - 1)
        return;
    json_t *streams = json_array();
    for (size_t k = 0; k < s->nfeeds; k++)
        json_array_append_new(streams, json_pack("{s:I}", "feed", (json_int_t)s->feeds[k]));
    janus_send(p, "message", "subjoin", s->sub_handle,
               json_pack("{s:s, s:s, s:I, s:o}", "request", "join", "ptype", "subscriber", "room",
                         room_id(lg, p), "streams", streams),
               NULL);
    s->sub_pending = true;
}

static void publish(lg_t *lg, lg_part_t *p)
{
    sig_part_t *s = sig_of(p);
    char *sdp = malloc(LG_SDP_MAX);
    if (!sdp || lg_sdp_publish_offer(lg, p, sdp, LG_SDP_MAX) < 0) {
        sig_error(p, "publish offer too long", NULL);
        free(sdp);
        return;
    }
    janus_send(
        p, "message", "configure", s->pub_handle,
        json_pack("{s:s, s:b, s:b}", "request", "configure", "audio", 1, "video", lg->o.video),
        json_pack("{s:s, s:s}", "type", "offer", "sdp", sdp));
    free(sdp);
    trickle_done(p, s->pub_handle);
}

static void answer_offer(lg_t *lg, lg_part_t *p, const char *offer)
{
    sig_part_t *s = sig_of(p);
    char *sdp = malloc(LG_SDP_MAX);
    if (!sdp || lg_sdp_answer(lg, &p->sub, offer, sdp, LG_SDP_MAX) < 0) {
        sig_error(p, "subscribe answer too long", NULL);
        free(sdp);
        return;
    }
    janus_send(p, "message", "start", s->sub_handle,
               json_pack("{s:s, s:I}", "request", "start", "room", room_id(lg, p)),
               json_pack("{s:s, s:s}", "type", "answer", "sdp", sdp));
    free(sdp);
    trickle_done(p, s->sub_handle);
    if (sig_transport(lg, p, false, offer, false) == 0) s->have_sub = true;
    s->sub_pending = false;
}

/* "success" answers to create, attach and the synchronous room creation. */
static void on_success(lg_t *lg, lg_part_t *p, const char *tx, json_t *msg)
{
    sig_part_t *s = sig_of(p);
    uint64_t id = (uint64_t)json_integer_value(json_object_get(json_object_get(msg, "data"), "id"));
    if (!strcmp(tx, "create")) {
        s->session = id;
        attach(p, "attach-pub");
    } else if (!strcmp(tx, "attach-pub")) {
        s->pub_handle = id;
        janus_send(p, "message", "room", s->pub_handle,
                   json_pack("{s:s, s:I, s:i, s:s, s:s, s:i}", "request", "create", "room",
                             room_id(lg, p), "publishers", lg->o.participants + 1, "audiocodec",
                             "opus", "videocodec", "vp8", "bitrate", 0),
                   NULL);
        attach(p, "attach-sub");
    } else if (!strcmp(tx, "attach-sub")) {
        s->sub_handle = id;
        maybe_subscribe(lg, p);
    } else if (!strcmp(tx, "room")) {
        /* Created, or error 427: another participant created it first. Either way. */
        janus_send(p, "message", "join", s->pub_handle,
                   json_pack("{s:s, s:s, s:I, s:s}", "request", "join", "ptype", "publisher",
                             "room", room_id(lg, p), "display", p->name),
                   NULL);
    }
}

static void on_event(lg_t *lg, lg_part_t *p, json_t *msg)
{
    sig_part_t *s = sig_of(p);
    json_t *data = json_object_get(json_object_get(msg, "plugindata"), "data");
    json_t *jsep = json_object_get(msg, "jsep");
    const char *vr = json_string_value(json_object_get(data, "videoroom"));
    const char *jtype = json_string_value(json_object_get(jsep, "type"));
    const char *sdp = json_string_value(json_object_get(jsep, "sdp"));
    if (json_object_get(data, "error")) {
        sig_error(p, "VideoRoom error", json_string_value(json_object_get(data, "error")));
        return;
    }
    if (vr && !strcmp(vr, "joined")) {
        s->janus_id = (uint64_t)json_integer_value(json_object_get(data, "id"));
        p->joined = true;
        atomic_fetch_add(&lg->joined, 1);
        publish(lg, p);
    }
    if (json_is_array(json_object_get(data, "publishers")))
        add_feeds(p, json_object_get(data, "publishers"));
    if (jtype && sdp && !strcmp(jtype, "answer")) {
        p->published = true;
        sig_transport(lg, p, true, sdp, true);
    } else if (jtype && sdp && !strcmp(jtype, "offer")) {
        answer_offer(lg, p, sdp);
    }
    maybe_subscribe(lg, p);
}

static void on_message(lg_t *lg, lg_part_t *p, json_t *msg)
{
    const char *janus = json_string_value(json_object_get(msg, "janus"));
    const char *tx = json_string_value(json_object_get(msg, "transaction"));
    if (!janus) {
        sig_error(p, "message without \"janus\"", NULL);
    } else if (!strcmp(janus, "success") && tx) {
        json_t *data = json_object_get(json_object_get(msg, "plugindata"), "data");
        if (json_object_get(data, "error") &&
            json_integer_value(json_object_get(data, "error_code")) != 427)
            sig_error(p, "VideoRoom error", json_string_value(json_object_get(data, "error")));
        else
            on_success(lg, p, tx, msg);
    } else if (!strcmp(janus, "event")) {
        on_event(lg, p, msg);
    } else if (!strcmp(janus, "error")) {
        sig_error(p, "Janus error",
                  json_string_value(json_object_get(json_object_get(msg, "error"), "reason")));
    } else if (!strcmp(janus, "hangup") && !atomic_load(&lg->stop)) {
        sig_error(p, "Janus hung up", json_string_value(json_object_get(msg, "reason")));
    }
    /* ack, keepalive, webrtcup, media, slowlink: nothing to do. */
}

static void on_tick(lg_t *lg, lg_part_t *p, uint64_t now)
{
    (void)lg;
    sig_part_t *s = sig_of(p);
    if (!s->session || now < s->next_keepalive_ms) return;
    if (s->next_keepalive_ms) janus_send(p, "keepalive", "keepalive", 0, NULL, NULL);
    s->next_keepalive_ms = now + 25000;
}

static const sig_proto_t janus_proto = {"janus-protocol", on_open, on_message, on_tick};

int lg_sig_janus_start(lg_t *lg)
{
    return sig_start(lg, &janus_proto);
}
