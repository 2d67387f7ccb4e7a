/* sobre's signalling (PROTOCOL.md): join, publish an offer, answer every subscribe offer. */
#include "sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sig_transport(lg_t *lg, lg_part_t *p, bool is_pub, const char *sdp, bool we_offered)
{
    lg_sdp_info_t info;
    char err[128];
    if (lg_sdp_scan(sdp, &info, err, sizeof err) != 0) {
        sig_error(p, is_pub ? "publish answer" : "subscribe offer", err);
        return -1;
    }
    if (is_pub) {
        p->audio_pt = (uint8_t)(info.audio_pt > 0 ? info.audio_pt : 111);
        p->video_pt = (uint8_t)(info.video_pt > 0 ? info.video_pt : 0);
        p->level_ext = (uint8_t)(info.level_ext > 0 && info.level_ext < 15 ? info.level_ext : 0);
        p->mid_ext = (uint8_t)(info.mid_ext > 0 && info.mid_ext < 15 ? info.mid_ext : 0);
        p->rid_ext = (uint8_t)(info.rid_ext > 0 && info.rid_ext < 15 ? info.rid_ext : 0);
    }
    lg_cmd_t c = {.part = p->idx, .is_pub = is_pub};
    c.role = lg_sdp_role(info.setup, we_offered);
    snprintf(c.remote_ufrag, sizeof c.remote_ufrag, "%s", info.ufrag);
    snprintf(c.remote_pwd, sizeof c.remote_pwd, "%s", info.pwd);
    snprintf(c.fingerprint, sizeof c.fingerprint, "%s", info.fingerprint);
    c.server = info.addr;
    c.server_len = info.addr_len;
    lg_push_cmd(lg, &c);
    return 0;
}

static void on_open(lg_t *lg, lg_part_t *p)
{
    char room[96];
    snprintf(room, sizeof room, "%s%d", lg->o.room_prefix, p->room);
    sig_send(p, json_pack("{s:s, s:s, s:s}", "type", "join", "room", room, "name", p->name));
}

static void publish(lg_t *lg, lg_part_t *p)
{
    char *sdp = malloc(LG_SDP_MAX);
    if (!sdp || lg_sdp_publish_offer(lg, p, sdp, LG_SDP_MAX) < 0) {
        sig_error(p, "publish offer too long", NULL);
        free(sdp);
        return;
    }
    sig_send(p, json_pack("{s:s, s:s, s:s}", "type", "publish", "id", "pub", "sdp", sdp));
    free(sdp);
}

static void on_offer(lg_t *lg, lg_part_t *p, const char *offer)
{
    sig_part_t *s = sig_of(p);
    char *sdp = malloc(LG_SDP_MAX);
    if (!sdp || lg_sdp_answer(lg, &p->sub, offer, sdp, LG_SDP_MAX) < 0) {
        sig_error(p, "subscribe answer too long", NULL);
        free(sdp);
        return;
    }
    sig_send(p, json_pack("{s:s, s:s}", "type", "answer", "sdp", sdp));
    free(sdp);
    if (!s->have_sub && sig_transport(lg, p, false, offer, false) == 0) s->have_sub = true;
}

static void on_message(lg_t *lg, lg_part_t *p, json_t *msg)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    const char *sdp = json_string_value(json_object_get(msg, "sdp"));
    if (!type) {
        sig_error(p, "message without type", NULL);
    } else if (!strcmp(type, "joined")) {
        p->joined = true;
        atomic_fetch_add(&lg->joined, 1);
        publish(lg, p);
    } else if (!strcmp(type, "answer") && sdp) {
        p->published = true;
        sig_transport(lg, p, true, sdp, true);
    } else if (!strcmp(type, "offer") && sdp) {
        on_offer(lg, p, sdp);
    } else if (!strcmp(type, "error")) {
        const char *code = json_string_value(json_object_get(msg, "code"));
        const char *text = json_string_value(json_object_get(msg, "message"));
        char detail[512];
        snprintf(detail, sizeof detail, "%s: %s", code ? code : "?", text ? text : "");
        sig_error(p, "server error", detail);
    } else if (!strcmp(type, "bye")) {
        if (!atomic_load(&lg->stop)) sig_error(p, "server said bye", NULL);
    }
}

static const sig_proto_t sobre_proto = {"sobre.v1", on_open, on_message, NULL};

int lg_sig_sobre_start(lg_t *lg)
{
    return sig_start(lg, &sobre_proto);
}

void lg_sig_stop(lg_t *lg)
{
    sig_stop(lg);
}
