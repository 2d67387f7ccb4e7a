/* loadgen: flags, participants and their sockets, the two threads. See bench/README.md. */
#include "lg.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: loadgen [options]\n"
        "  --mode sobre|limit|janus  target (default sobre)\n"
        "  --url URL                 sobre: ws://127.0.0.1:8080/ws; janus: ws://127.0.0.1:8188/\n"
        "  --target HOST:PORT        limit: the relay's UDP address\n"
        "  --rooms N                 rooms (default 1)\n"
        "  --participants N          participants per room (default 3)\n"
        "  --video                   publish VP8 video too (default audio only)\n"
        "  --video-kbps N            video bitrate (default 300)\n"
        "  --fps N                   video frame rate (default 30)\n"
        "  --keyframe-interval S     seconds between keyframes (default 3)\n"
        "  --dtx                     Opus DTX (silence sends a frame every 400 ms)\n"
        "  --ramp S                  join over S seconds (default 1)\n"
        "  --warmup S                after the ramp, seconds not measured (default 2)\n"
        "  --duration S              measured seconds (default 10)\n"
        "  --room-prefix P           room names P0, P1... (default lg)\n"
        "  --janus-room N            first Janus room number (default 1000)\n"
        "  --check                   exit 1 unless everyone got everyone's media,\n"
        "                            without loss, with latency measured\n"
        "  --quiet                   no per-second lines, only the SUMMARY\n");
}

static int parse_opts(int argc, char **argv, lg_opts_t *o)
{
    enum {
        O_MODE = 256,
        O_URL,
        O_TARGET,
        O_ROOMS,
        O_PARTS,
        O_VIDEO,
        O_KBPS,
        O_FPS,
        O_KEY,
        O_DTX,
        O_RAMP,
        O_WARM,
        O_DUR,
        O_PREFIX,
        O_JROOM,
        O_BIND,
        O_TL,
        O_SIM,
        O_CHECK,
        O_QUIET,
        O_HELP
    };
    static const struct option longs[] = {
        {"mode", 1, 0, O_MODE},
        {"url", 1, 0, O_URL},
        {"target", 1, 0, O_TARGET},
        {"rooms", 1, 0, O_ROOMS},
        {"participants", 1, 0, O_PARTS},
        {"video", 0, 0, O_VIDEO},
        {"video-kbps", 1, 0, O_KBPS},
        {"fps", 1, 0, O_FPS},
        {"keyframe-interval", 1, 0, O_KEY},
        {"dtx", 0, 0, O_DTX},
        {"ramp", 1, 0, O_RAMP},
        {"warmup", 1, 0, O_WARM},
        {"duration", 1, 0, O_DUR},
        {"room-prefix", 1, 0, O_PREFIX},
        {"janus-room", 1, 0, O_JROOM},
        {"bind", 1, 0, O_BIND},
        {"temporal-layers", 1, 0, O_TL},
        {"simulcast", 0, 0, O_SIM},
        {"check", 0, 0, O_CHECK},
        {"quiet", 0, 0, O_QUIET},
        {"help", 0, 0, O_HELP},
        {0, 0, 0, 0},
    };
    *o = (lg_opts_t){.mode = LG_MODE_SOBRE,
                     .url = "ws://127.0.0.1:8080/ws",
                     .rooms = 1,
                     .participants = 3,
                     .video_kbps = 300,
                     .fps = 30,
                     .keyframe_s = 3,
                     .duration_s = 10,
                     .ramp_s = 1,
                     .warmup_s = 2,
                     .room_prefix = "lg",
                     .janus_room_base = 1000,
                     .temporal_layers = 1,
                     .bind_addr = "127.0.0.1"};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case O_MODE:
            if (!strcmp(optarg, "sobre"))
                o->mode = LG_MODE_SOBRE;
            else if (!strcmp(optarg, "limit"))
                o->mode = LG_MODE_LIMIT;
            else if (!strcmp(optarg, "janus"))
                o->mode = LG_MODE_JANUS;
            else {
                fprintf(stderr, "loadgen: --mode %s: expected sobre, limit or janus\n", optarg);
                return -1;
            }
            break;
        case O_URL:
            o->url = optarg;
            break;
        case O_TARGET:
            o->target = optarg;
            break;
        case O_ROOMS:
            o->rooms = atoi(optarg);
            break;
        case O_PARTS:
            o->participants = atoi(optarg);
            break;
        case O_VIDEO:
            o->video = true;
            break;
        case O_KBPS:
            o->video_kbps = atoi(optarg);
            break;
        case O_FPS:
            o->fps = atoi(optarg);
            break;
        case O_KEY:
            o->keyframe_s = atof(optarg);
            break;
        case O_DTX:
            o->dtx = true;
            break;
        case O_RAMP:
            o->ramp_s = atof(optarg);
            break;
        case O_WARM:
            o->warmup_s = atof(optarg);
            break;
        case O_DUR:
            o->duration_s = atof(optarg);
            break;
        case O_PREFIX:
            o->room_prefix = optarg;
            break;
        case O_SIM:
            o->simulcast = true;
            break;
        case O_TL:
            o->temporal_layers = atoi(optarg);
            break;
        case O_BIND:
            o->bind_addr = optarg;
            break;
        case O_JROOM:
            o->janus_room_base = atoi(optarg);
            break;
        case O_CHECK:
            o->check = true;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    const char *bad = o->rooms < 1 || o->rooms > 1000                ? "--rooms: 1..1000"
                      : o->participants < 2 || o->participants > 500 ? "--participants: 2..500"
                      : o->rooms * o->participants > 2000 ? "rooms x participants: at most 2000"
                      : o->video_kbps < 10 || o->video_kbps > 20000      ? "--video-kbps: 10..20000"
                      : o->fps < 1 || o->fps > 60                        ? "--fps: 1..60"
                      : o->temporal_layers < 1 || o->temporal_layers > 3 ? "--temporal-layers: 1..3"
                      : o->keyframe_s < 0.1                    ? "--keyframe-interval: >= 0.1"
                      : o->duration_s <= 0                     ? "--duration: > 0"
                      : o->ramp_s < 0 || o->warmup_s < 0       ? "--ramp, --warmup: >= 0"
                      : o->mode == LG_MODE_LIMIT && !o->target ? "--mode limit needs --target"
                                                               : NULL;
    if (bad) {
        fprintf(stderr, "loadgen: %s\n", bad);
        return -1;
    }
    return 0;
}

static int resolve_target(const char *hp, struct sockaddr_storage *out, socklen_t *len)
{
    char host[64];
    unsigned port;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    if (sscanf(hp, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535 ||
        inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        fprintf(stderr, "loadgen: --target %s: expected IPv4:port\n", hp);
        return -1;
    }
    sin.sin_port = htons((uint16_t)port);
    memset(out, 0, sizeof *out);
    memcpy(out, &sin, sizeof sin);
    *len = sizeof sin;
    return 0;
}

static int open_socket(lg_conn_t *c, const char *addr)
{
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "loadgen: --bind %s: not an IPv4 address\n", addr);
        return -1;
    }
    socklen_t sl = sizeof sin;
    int one = 1, rcvbuf = 4 << 20;
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(c->fd, (struct sockaddr *)&sin, &sl) < 0) {
        perror("loadgen: UDP socket");
        return -1;
    }
    setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    c->port = ntohs(sin.sin_port);
    return ice_gen_credentials(c->local_ufrag, c->local_pwd) == 0 ? 0 : -1;
}

static void close_conn(lg_conn_t *c)
{
    if (c->fd >= 0) close(c->fd);
    ice_free(c->ice);
    dtls_free(c->dtls);
    srtp_conn_free(c->srtp);
}

int main(int argc, char **argv)
{
    static lg_t lg;
    if (parse_opts(argc, argv, &lg.o) < 0) return 2;
    lg.n = lg.o.rooms * lg.o.participants;
    lg.parts = calloc((size_t)lg.n, sizeof *lg.parts);
    lg.cert = dtls_cert_new();
    lg.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!lg.parts || !lg.cert || lg.evfd < 0 || lg_source_init(&lg.o) < 0 ||
        srtp_conn_global_init() != 0) {
        fprintf(stderr, "loadgen: setup failed\n");
        return 1;
    }
    struct sockaddr_storage target;
    socklen_t target_len = 0;
    if (lg.o.mode == LG_MODE_LIMIT && resolve_target(lg.o.target, &target, &target_len) < 0)
        return 2;
    int status = 1;
    for (int i = 0; i < lg.n; i++)
        lg.parts[i].pub.fd = lg.parts[i].sub.fd = -1;
    for (int i = 0; i < lg.n; i++) {
        lg_part_t *p = &lg.parts[i];
        p->idx = i;
        p->room = i / lg.o.participants;
        snprintf(p->name, sizeof p->name, "lg%d", i);
        p->audio_ssrc = 0x10000000u + (uint32_t)i * 2;
        for (int l = 0; l < LG_LAYERS; l++)
            p->video[l].ssrc = p->audio_ssrc + 1 + ((uint32_t)l << 20);
        p->pub.owner = p->sub.owner = p;
        p->rx = calloc((size_t)lg.n * LG_KINDS, sizeof *p->rx);
        if (!p->rx || open_socket(&p->pub, lg.o.bind_addr) < 0 ||
            (lg.o.mode != LG_MODE_LIMIT && open_socket(&p->sub, lg.o.bind_addr) < 0))
            goto out;
        if (lg.o.mode == LG_MODE_LIMIT) {
            p->pub.server = target;
            p->pub.server_len = target_len;
            p->audio_pt = 111;
            p->video_pt = lg.o.video ? 96 : 0;
        }
    }
    lg.t0_ms = lg_now_ms();
    if (lg.o.mode == LG_MODE_SOBRE && lg_sig_sobre_start(&lg) < 0) goto out;
    if (lg.o.mode == LG_MODE_JANUS && lg_sig_janus_start(&lg) < 0) goto out;
    status = lg_media_run(&lg);
    lg_sig_stop(&lg);
out:
    for (int i = 0; i < lg.n; i++) {
        close_conn(&lg.parts[i].pub);
        close_conn(&lg.parts[i].sub);
        free(lg.parts[i].rx);
    }
    free(lg.parts);
    dtls_cert_free(lg.cert);
    lg_source_free();
    close(lg.evfd);
    return status;
}
