/* The media thread: every participant's UDP transports, sending, receiving, reports. */
#include "lg.h"

#include "demux.h"
#include "limit_proto.h"
#include "rtp.h"
#include "stats.h"
#include "vp8.h"

#include <opus/opus.h>

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* The stamp every payload carries in its RTP padding: magic "LG", kind, 0, publisher,
 * counter (per publisher and kind), send time (CLOCK_REALTIME us), then the count byte. */
#define STAMP_LEN   20
#define PAD_LEN     (STAMP_LEN + 1)
#define MAX_PAYLOAD 1100 /* video packetization, as browsers do (~1,200-byte datagrams) */
#define BUF_CAP     (1500 + SRTP_CONN_TRAILER_ROOM)
#define BATCH       32
#define CMD_CAP     4096

static pthread_mutex_t cmd_lock = PTHREAD_MUTEX_INITIALIZER;
static lg_cmd_t cmd_ring[CMD_CAP];
static size_t cmd_head, cmd_tail;

static lg_counts_t sec, total, at_window;
static lg_hist_t hist_sec, hist_window;
static bool in_window;
static bool trace; /* LG_TRACE: transport events on stderr */
static uint64_t dtls_failures, ice_failures, srtp_errors;
static uint64_t bad_payloads; /* received, but not a 20 ms Opus packet or a VP8 descriptor */

uint64_t lg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t lg_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void lg_push_cmd(lg_t *lg, const lg_cmd_t *c)
{
    pthread_mutex_lock(&cmd_lock);
    if (cmd_tail - cmd_head < CMD_CAP) cmd_ring[cmd_tail++ % CMD_CAP] = *c;
    pthread_mutex_unlock(&cmd_lock);
    uint64_t one = 1;
    if (write(lg->evfd, &one, sizeof one) < 0) perror("loadgen: eventfd");
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* -- sending */

static void send_raw(lg_conn_t *c, const uint8_t *p, size_t len)
{
    if (sendto(c->fd, p, len, 0, (const struct sockaddr *)&c->server, c->server_len) < 0 &&
        errno != EAGAIN)
        perror("loadgen: sendto");
}

static void flush_dtls(lg_conn_t *c)
{
    uint8_t buf[DTLS_MTU];
    size_t n;
    while (dtls_pop_datagram(c->dtls, buf, sizeof buf, &n) == 0 && n > 0)
        send_raw(c, buf, n);
}

/* Appends the stamp as RTP padding at p[len..], returns the new length. */
static size_t stamp(uint8_t *p, size_t len, int kind, int pub, uint32_t counter)
{
    p[0] |= 0x20;
    uint8_t *s = p + len;
    s[0] = 'L';
    s[1] = 'G';
    s[2] = (uint8_t)kind;
    s[3] = 0;
    put32(s + 4, (uint32_t)pub);
    put32(s + 8, counter);
    uint64_t t = lg_real_us();
    put32(s + 12, (uint32_t)(t >> 32));
    put32(s + 16, (uint32_t)t);
    s[STAMP_LEN] = PAD_LEN;
    return len + PAD_LEN;
}

static void send_rtp(lg_conn_t *c, uint8_t *p, size_t len)
{
    if (srtp_conn_protect_rtp(c->srtp, p, &len, BUF_CAP) != 0) {
        srtp_errors++;
        return;
    }
    send_raw(c, p, len);
    sec.sent_pkts++;
    sec.sent_bytes += len;
}

static size_t rtp_header(uint8_t *p, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                         uint32_t ssrc)
{
    p[0] = 0x80;
    p[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    put16(p + 2, seq);
    put32(p + 4, ts);
    put32(p + 8, ssrc);
    return 12;
}

static void send_audio(lg_t *lg, lg_part_t *pa, uint64_t now)
{
    size_t olen;
    uint8_t level;
    bool dtx;
    const uint8_t *opus = lg_source_audio(pa->audio_pos++, &olen, &level, &dtx);
    uint32_t ts = pa->audio_ts;
    pa->audio_ts += 960;
    /* DTX: silence goes out as one comfort-noise frame every 400 ms, as browsers do. */
    if (dtx && now - pa->last_audio_sent_ms < 400) {
        pa->audio_talking = false;
        return;
    }
    static uint8_t buf[BUF_CAP] __attribute__((aligned(16)));
    size_t n = rtp_header(buf, pa->audio_pt, !pa->audio_talking && !dtx, pa->audio_seq++, ts,
                          pa->audio_ssrc);
    pa->audio_talking = !dtx;
    if (pa->level_ext) {
        buf[0] |= 0x10;
        const uint8_t ext[8] = {0xBE,
                                0xDE,
                                0,
                                1,
                                (uint8_t)(pa->level_ext << 4),
                                (uint8_t)((level < 50 ? 0x80 : 0) | level),
                                0,
                                0};
        memcpy(buf + n, ext, sizeof ext);
        n += sizeof ext;
    }
    memcpy(buf + n, opus, olen);
    n = stamp(buf, n + olen, 0, pa->idx, pa->audio_count++);
    pa->last_audio_sent_ms = now;
    send_rtp(&pa->pub, buf, n);
    (void)lg;
}

/* One VP8 frame (RFC 7741) of stream l of size bytes: payload descriptor with a 15-bit
 * picture id (and TL0PICIDX, TID, Y with temporal layers), the frame's 3-byte tag (and, on
 * keyframes, start code and size) at the start of the first packet; with simulcast, the
 * mid and rid header extensions on every packet, as browsers send them. */
static void send_frame(lg_t *lg, lg_part_t *pa, int l, size_t size, bool key, uint8_t tid,
                       uint32_t ts)
{
    static uint8_t frame[256 * 1024];
    static const char rids[LG_LAYERS] = {'l', 'm', 'h'};
    lg_vstream_t *v = &pa->video[l];
    if (size > sizeof frame) size = sizeof frame;
    lg_source_fill(frame, size, pa->frame_no * 2654435761u + (uint32_t)(pa->idx * 3 + l));
    uint32_t part0 = (uint32_t)(size / 4);
    uint32_t tag = (part0 << 5) | (1u << 4) | (key ? 0u : 1u);
    frame[0] = (uint8_t)tag;
    frame[1] = (uint8_t)(tag >> 8);
    frame[2] = (uint8_t)(tag >> 16);
    if (key && size >= 10) {
        uint16_t w = (uint16_t)(640 >> (LG_LAYERS - 1 - l) * lg->o.simulcast),
                 h = (uint16_t)(360 >> (LG_LAYERS - 1 - l) * lg->o.simulcast);
        const uint8_t kf[7] = {
            0x9d, 0x01, 0x2a, (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)h, (uint8_t)(h >> 8)};
        memcpy(frame + 3, kf, sizeof kf);
    }
    if (tid == 0) v->tl0picidx++;
    v->picture_id = (uint16_t)((v->picture_id + 1) & 0x7fff);
    bool tl = lg->o.temporal_layers > 1, ext = lg->o.simulcast && pa->rid_ext;
    static uint8_t buf[BUF_CAP] __attribute__((aligned(16)));
    for (size_t off = 0; off < size;) {
        size_t chunk = size - off > MAX_PAYLOAD ? MAX_PAYLOAD : size - off;
        bool last = off + chunk == size;
        size_t n = rtp_header(buf, pa->video_pt, last, v->seq++, ts, v->ssrc);
        if (ext) { /* one-byte header extensions: mid "1", rid */
            buf[0] |= 0x10;
            const uint8_t e[8] = {0xBE,
                                  0xDE,
                                  0,
                                  1,
                                  (uint8_t)(pa->mid_ext << 4),
                                  '1',
                                  (uint8_t)(pa->rid_ext << 4),
                                  (uint8_t)rids[l]};
            memcpy(buf + n, e, sizeof e);
            n += sizeof e;
            if (!pa->mid_ext) buf[n - 4] = buf[n - 3] = 0; /* padding bytes */
        }
        buf[n++] = (uint8_t)(0x80 | (off == 0 ? 0x10 : 0)); /* X, S, PID 0 */
        buf[n++] = tl ? 0xE0 : 0x80;                        /* I, and L T */
        buf[n++] = (uint8_t)(0x80 | (v->picture_id >> 8));  /* M, 15-bit picture id */
        buf[n++] = (uint8_t)v->picture_id;
        if (tl) {
            buf[n++] = v->tl0picidx;
            buf[n++] = (uint8_t)(tid << 6 | (tid <= 1 ? 0x20 : 0)); /* TID, Y */
        }
        memcpy(buf + n, frame + off, chunk);
        n = stamp(buf, n + chunk, 1 + l, pa->idx, v->count++);
        send_rtp(&pa->pub, buf, n);
        off += chunk;
    }
}

/* One video frame: of each simulcast layer (1/8, 1/4, 5/8 of the bitrate), or of the one
 * stream. */
static void send_video(lg_t *lg, lg_part_t *pa, uint64_t now)
{
    static const unsigned share[LG_LAYERS] = {1, 2, 5}; /* eighths */
    bool key = pa->want_key || now >= pa->next_key_ms;
    if (key) {
        pa->want_key = false;
        pa->next_key_ms = now + (uint64_t)(lg->o.keyframe_s * 1000);
        pa->frame_no = 0; /* temporal layers start again */
    }
    /* Temporal layers: L1T2 0 1 0 1..., L1T3 0 2 1 2... */
    static const uint8_t l1t3[4] = {0, 2, 1, 2};
    int layers = lg->o.temporal_layers;
    uint8_t tid = layers == 3 ? l1t3[pa->frame_no % 4] : layers == 2 ? pa->frame_no % 2 : 0;
    uint32_t ts = pa->video_ts;
    size_t size = lg_source_video_size(key);
    if (!lg->o.simulcast)
        send_frame(lg, pa, 0, size, key, tid, ts);
    else
        for (int l = 0; l < LG_LAYERS; l++)
            send_frame(lg, pa, l, size * share[l] / 8, key, tid, ts);
    pa->video_ts += 90000u / (uint32_t)lg->o.fps;
    pa->frame_no++;
}

static void send_media(lg_t *lg, lg_part_t *pa, uint64_t now)
{
    if (!pa->pub.up) return;
    if (pa->next_audio_ms == 0) {
        /* Spread participants over the 20 ms of an audio frame. */
        pa->next_audio_ms = now + (uint64_t)(pa->idx % 20);
        pa->next_video_ms = pa->next_audio_ms;
        pa->next_key_ms = now;
        pa->audio_pos = (size_t)pa->idx * 37;
    }
    if (now > pa->next_audio_ms + 200) pa->next_audio_ms = now; /* we stalled: no burst */
    while (now >= pa->next_audio_ms) {
        send_audio(lg, pa, now);
        pa->next_audio_ms += 20;
    }
    if (!lg->o.video || !pa->video_pt) return;
    if (lg->o.simulcast && !pa->rid_ext && lg->o.mode != LG_MODE_LIMIT) return;
    uint64_t period = 1000u / (uint64_t)lg->o.fps;
    if (now > pa->next_video_ms + 200) pa->next_video_ms = now;
    while (now >= pa->next_video_ms) {
        send_video(lg, pa, now);
        pa->next_video_ms += period;
    }
}

/* -- receiving */

static void on_rtp(lg_t *lg, lg_conn_t *c, uint8_t *p, size_t len, uint64_t rx_us)
{
    if (srtp_conn_unprotect_rtp(c->srtp, p, &len) != 0) {
        srtp_errors++;
        return;
    }
    rtp_header_t h;
    if (rtp_parse(p, len, &h) != 0 || h.padding_len != PAD_LEN) return;
    const uint8_t *s = p + len - PAD_LEN;
    if (s[0] != 'L' || s[1] != 'G' || s[2] >= LG_KINDS) return;
    uint32_t pub = get32(s + 4), counter = get32(s + 8);
    uint64_t sent = (uint64_t)get32(s + 12) << 32 | get32(s + 16);
    if (pub >= (uint32_t)lg->n) return;
    /* What arrives must still be what was sent: real Opus, valid VP8 descriptors. */
    const uint8_t *payload = p + h.payload_off;
    if (s[2] == 0 ? opus_packet_get_nb_samples(payload, (opus_int32)h.payload_len, 48000) != 960
                  : vp8_parse(payload, h.payload_len, &(vp8_desc_t){0}) < 0)
        bad_payloads++;
    sec.recv_pkts++;
    sec.recv_bytes += len;
    int64_t lat = (int64_t)(rx_us - sent);
    lg_hist_add(&hist_sec, lat);
    if (in_window) lg_hist_add(&hist_window, lat);
    lg_rx_t *r = &c->owner->rx[pub * LG_KINDS + s[2]];
    if (!r->seen) {
        r->seen = true;
        r->first = r->max = counter;
    } else if ((int32_t)(counter - r->max) > 0) {
        r->max = counter;
    } else if ((int32_t)(counter - r->first) < 0) {
        r->first = counter; /* reordered ahead of the first one seen */
    }
    r->received++;
}

/* PLI (PSFB 1) or FIR (PSFB 4) from the server: the next video frame is a keyframe. */
static void on_rtcp(lg_conn_t *c, uint8_t *p, size_t len)
{
    if (srtp_conn_unprotect_rtcp(c->srtp, p, &len) != 0) return;
    for (size_t off = 0; off + 4 <= len;) {
        size_t plen = ((size_t)(p[off + 2] << 8 | p[off + 3]) + 1) * 4;
        if (p[off + 1] == 206 && ((p[off] & 0x1f) == 1 || (p[off] & 0x1f) == 4))
            c->owner->want_key = true;
        off += plen;
    }
}

static void start_dtls_srtp(lg_conn_t *c)
{
    dtls_srtp_keys_t keys;
    if (dtls_srtp_keys(c->dtls, &keys) != 0 || !(c->srtp = srtp_conn_new(&keys))) {
        dtls_failures++;
        return;
    }
    memset(&keys, 0, sizeof keys);
    c->up = true;
}

static void on_datagram(lg_t *lg, lg_conn_t *c, uint8_t *p, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, uint64_t rx_us,
                        uint64_t now)
{
    switch (demux_classify(p, len)) {
    case DEMUX_STUN: {
        int rc = c->ice ? ice_handle_response(c->ice, p, len, (const struct sockaddr *)from,
                                              fromlen, now)
                        : ICE_ERR_INVAL;
        if (rc == ICE_ERR_UNEXPECTED) { /* the peer's own check (libnice sends them) */
            uint8_t out[512];
            size_t outlen = 0;
            rc = ice_handle_stun(c->ice, p, len, (const struct sockaddr *)from, fromlen, now, out,
                                 sizeof out, &outlen);
            if (outlen) send_raw(c, out, outlen);
            if (rc == 0) break;
        }
        if (trace)
            fprintf(stderr, "lg%d %s: STUN: %s\n", c->owner->idx,
                    c == &c->owner->pub ? "pub" : "sub", ice_strerror(rc));
        if (rc == 0 && ice_state(c->ice) == ICE_STATE_CONNECTED && c->dtls &&
            c->next_dtls_ms == 0) {
            c->next_dtls_ms = 1;
            dtls_handle(c->dtls, NULL, 0, now); /* a client sends its ClientHello */
            flush_dtls(c);
        }
        break;
    }
    case DEMUX_DTLS:
        if (!c->dtls) break;
        if (c->next_dtls_ms == 0) c->next_dtls_ms = 1;
        dtls_handle(c->dtls, p, len, now);
        flush_dtls(c);
        if (!c->srtp && dtls_state(c->dtls) == DTLS_CONNECTED) {
            start_dtls_srtp(c);
            if (trace)
                fprintf(stderr, "lg%d: DTLS connected, SRTP %s\n", c->owner->idx,
                        c->up ? "up" : "failed");
        }
        if (dtls_state(c->dtls) == DTLS_FAILED && !c->owner->failed) {
            fprintf(stderr, "loadgen: participant %d: DTLS failed: %s\n", c->owner->idx,
                    dtls_error(c->dtls));
            c->owner->failed = true;
            dtls_failures++;
        }
        break;
    case DEMUX_RTP:
        if (c->srtp) on_rtp(lg, c, p, len, rx_us);
        break;
    case DEMUX_RTCP:
        if (c->srtp) on_rtcp(c, p, len);
        break;
    default:
        break;
    }
}

static void read_conn(lg_t *lg, lg_conn_t *c, uint64_t now)
{
    static uint8_t bufs[BATCH][BUF_CAP] __attribute__((aligned(16)));
    static struct sockaddr_storage from[BATCH];
    static char ctl[BATCH][64];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], BUF_CAP};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                              .msg_namelen = sizeof from[i],
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1,
                                              .msg_control = ctl[i],
                                              .msg_controllen = sizeof ctl[i]};
        }
        int n = recvmmsg(c->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        uint64_t fallback = lg_real_us();
        for (int i = 0; i < n; i++) {
            uint64_t rx_us = fallback;
            struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
            if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                rx_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
            }
            on_datagram(lg, c, bufs[i], msgs[i].msg_len, &from[i], msgs[i].msg_hdr.msg_namelen,
                        rx_us, now);
        }
        if (n < BATCH) return;
    }
}

/* -- transports */

static void start_conn(lg_t *lg, const lg_cmd_t *cmd)
{
    lg_part_t *pa = &lg->parts[cmd->part];
    lg_conn_t *c = cmd->is_pub ? &pa->pub : &pa->sub;
    if (c->ice) return; /* renegotiation: same transport */
    c->server = cmd->server;
    c->server_len = cmd->server_len;
    c->ice = ice_new(c->local_ufrag, c->local_pwd, cmd->remote_ufrag, cmd->remote_pwd);
    c->dtls = dtls_new(lg->cert, cmd->fingerprint, cmd->role);
    if (!c->ice || !c->dtls) {
        fprintf(stderr, "loadgen: participant %d: bad remote credentials or fingerprint\n",
                pa->idx);
        pa->failed = true;
        ice_failures++;
    }
}

static void drain_cmds(lg_t *lg)
{
    uint64_t v;
    if (read(lg->evfd, &v, sizeof v) < 0 && errno != EAGAIN) perror("loadgen: eventfd");
    for (;;) {
        lg_cmd_t cmd;
        pthread_mutex_lock(&cmd_lock);
        bool have = cmd_head != cmd_tail;
        if (have) cmd = cmd_ring[cmd_head++ % CMD_CAP];
        pthread_mutex_unlock(&cmd_lock);
        if (!have) return;
        start_conn(lg, &cmd);
    }
}

static void tick_conn(lg_conn_t *c, uint64_t now)
{
    if (c->ice && ice_state(c->ice) != ICE_STATE_CLOSED && now >= c->next_check_ms) {
        uint8_t buf[512];
        size_t n;
        bool connected = ice_state(c->ice) == ICE_STATE_CONNECTED;
        if (ice_build_check(c->ice, true, 0x10adu, buf, sizeof buf, &n) == 0) send_raw(c, buf, n);
        c->next_check_ms = now + (connected ? 2500 : 100); /* consent, or retry */
        if (ice_poll(c->ice, now) == ICE_EV_CONSENT_EXPIRED) ice_failures++;
    }
    if (c->dtls && c->next_dtls_ms && !c->up && dtls_next_timeout(c->dtls) <= now) {
        dtls_on_timeout(c->dtls, now);
        flush_dtls(c);
    }
}

static void limit_tick(lg_t *lg, lg_part_t *pa, uint64_t now)
{
    lg_conn_t *c = &pa->pub;
    if (now < lg->t0_ms + (uint64_t)(lg->o.ramp_s * 1000 * pa->idx / lg->n)) return;
    if (!c->srtp) {
        dtls_srtp_keys_t keys;
        limit_keys((uint32_t)pa->idx, false, &keys);
        c->srtp = srtp_conn_new(&keys);
        c->up = c->srtp != NULL;
        pa->joined = true;
        atomic_fetch_add(&lg->joined, 1);
    }
    if (now >= c->next_check_ms) {
        uint8_t hello[LIMIT_HELLO_LEN];
        limit_hello(hello, (uint32_t)pa->room, (uint32_t)pa->idx);
        send_raw(c, hello, sizeof hello);
        c->next_check_ms = now + 1000;
    }
}

/* -- reports */

typedef struct loss {
    uint64_t expected, lost, pairs, pairs_seen;
    uint64_t lost_kind[2], seen_kind[2]; /* audio, video */
} loss_t;

static loss_t count_loss(const lg_t *lg)
{
    loss_t l = {0};
    /* Pairs: (subscriber, publisher, audio or video); with simulcast the video pair is
     * seen when any layer is. Loss counts within each layer's received span. */
    int kinds = lg->o.video ? 2 : 1, layers = lg->o.simulcast ? LG_LAYERS : 1;
    for (int s = 0; s < lg->n; s++) {
        const lg_part_t *sub = &lg->parts[s];
        for (int p = 0; p < lg->n; p++) {
            if (p == s || lg->parts[p].room != sub->room) continue;
            for (int k = 0; k < kinds; k++) {
                bool seen = false;
                for (int j = 0; j < (k ? layers : 1); j++) {
                    const lg_rx_t *r = &sub->rx[p * LG_KINDS + k + j];
                    if (!r->seen) continue;
                    seen = true;
                    uint64_t exp = (uint64_t)(r->max - r->first) + 1;
                    uint64_t lost = exp > r->received ? exp - r->received : 0;
                    l.expected += exp;
                    l.lost += lost;
                    l.lost_kind[k] += lost;
                }
                l.pairs++;
                l.pairs_seen += seen;
                l.seen_kind[k] += seen;
            }
        }
    }
    return l;
}

static void add_counts(lg_counts_t *a, const lg_counts_t *b)
{
    a->sent_pkts += b->sent_pkts;
    a->sent_bytes += b->sent_bytes;
    a->recv_pkts += b->recv_pkts;
    a->recv_bytes += b->recv_bytes;
}

static int count_up(const lg_t *lg)
{
    int up = 0;
    for (int i = 0; i < lg->n; i++)
        up += lg->parts[i].pub.up && (lg->o.mode == LG_MODE_LIMIT || lg->parts[i].sub.up);
    return up;
}

static void report_second(lg_t *lg, double t, loss_t *prev)
{
    loss_t l = count_loss(lg);
    uint64_t lost = l.lost - prev->lost, exp = l.expected - prev->expected;
    if (!lg->o.quiet)
        printf("t=%5.1f up %d/%d sent %" PRIu64 " pkt %" PRIu64 " kB recv %" PRIu64 " pkt %" PRIu64
               " kB lost %" PRIu64 " (%.3f%%) latency p50 %" PRIu64 " us p99 %" PRIu64
               " us max %" PRIu64 " us\n",
               t, count_up(lg), lg->n, sec.sent_pkts, sec.sent_bytes / 1000, sec.recv_pkts,
               sec.recv_bytes / 1000, lost, exp ? 100.0 * (double)lost / (double)exp : 0.0,
               lg_hist_quantile(&hist_sec, 0.5), lg_hist_quantile(&hist_sec, 0.99),
               hist_sec.max_us);
    fflush(stdout);
    *prev = l;
    add_counts(&total, &sec);
    memset(&sec, 0, sizeof sec);
    memset(&hist_sec, 0, sizeof hist_sec);
}

static int summary(lg_t *lg, double window_s, const loss_t *l0)
{
    loss_t l = count_loss(lg);
    lg_counts_t w = total;
    w.sent_pkts -= at_window.sent_pkts;
    w.sent_bytes -= at_window.sent_bytes;
    w.recv_pkts -= at_window.recv_pkts;
    w.recv_bytes -= at_window.recv_bytes;
    uint64_t lost = l.lost - l0->lost, exp = l.expected - l0->expected;
    double loss_pct = exp ? 100.0 * (double)lost / (double)exp : 0.0;
    int up = count_up(lg);
    printf(
        "SUMMARY {\"participants\": %d, \"up\": %d, \"window_s\": %.1f, \"sent_pkts\": %" PRIu64
        ", \"recv_pkts\": %" PRIu64 ", \"recv_bytes\": %" PRIu64 ", \"recv_pps\": %.0f"
        ", \"sent_pps\": %.0f, \"lost\": %" PRIu64 ", \"expected\": %" PRIu64
        ", \"loss_pct\": %.4f, \"lost_audio\": %" PRIu64 ", \"lost_video\": %" PRIu64
        ", \"pairs\": %" PRIu64 ", \"pairs_seen\": %" PRIu64 ", \"pairs_seen_audio\": %" PRIu64
        ", \"pairs_seen_video\": %" PRIu64 ", \"latency_samples\": %" PRIu64
        ", \"p50_us\": %" PRIu64 ", \"p99_us\": %" PRIu64 ", \"max_us\": %" PRIu64
        ", \"bad_payloads\": %" PRIu64 ", \"dtls_failures\": %" PRIu64 ", \"srtp_errors\": %" PRIu64
        ", \"signalling_errors\": %d}\n",
        lg->n, up, window_s, w.sent_pkts, w.recv_pkts, w.recv_bytes, (double)w.recv_pkts / window_s,
        (double)w.sent_pkts / window_s, lost, exp, loss_pct, l.lost_kind[0] - l0->lost_kind[0],
        l.lost_kind[1] - l0->lost_kind[1], l.pairs, l.pairs_seen, l.seen_kind[0], l.seen_kind[1],
        hist_window.n, lg_hist_quantile(&hist_window, 0.5), lg_hist_quantile(&hist_window, 0.99),
        hist_window.max_us, bad_payloads, dtls_failures, srtp_errors, atomic_load(&lg->sig_errors));
    fflush(stdout);
    if (!lg->o.check) return 0;
    const char *why = up < lg->n                     ? "not every participant connected"
                      : l.pairs_seen < l.pairs       ? "someone did not receive everyone"
                      : lost != 0                    ? "packets were lost"
                      : bad_payloads != 0            ? "payloads arrived damaged"
                      : hist_window.n == 0           ? "no latency measured"
                      : atomic_load(&lg->sig_errors) ? "signalling errors"
                                                     : NULL;
    if (why) fprintf(stderr, "loadgen: check failed: %s\n", why);
    return why ? 1 : 0;
}

/* -- the loop */

int lg_media_run(lg_t *lg)
{
    trace = getenv("LG_TRACE") != NULL;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lg->evfd, &ev);
    for (int i = 0; i < lg->n; i++) {
        lg_conn_t *cs[2] = {&lg->parts[i].pub, &lg->parts[i].sub};
        for (int k = 0; k < 2; k++) {
            if (cs[k]->fd < 0) continue;
            ev.data.ptr = cs[k];
            epoll_ctl(ep, EPOLL_CTL_ADD, cs[k]->fd, &ev);
        }
    }
    double setup_s = lg->o.ramp_s + lg->o.warmup_s;
    uint64_t window_at = lg->t0_ms + (uint64_t)(setup_s * 1000);
    uint64_t end_at = window_at + (uint64_t)(lg->o.duration_s * 1000);
    uint64_t next_report = lg->t0_ms + 1000, next_tick = 0;
    loss_t prev = {0}, l0 = {0};
    for (;;) {
        uint64_t now = lg_now_ms();
        if (now >= end_at) break;
        if (!in_window && now >= window_at) {
            in_window = true;
            at_window = total;
            add_counts(&at_window, &sec);
            l0 = count_loss(lg);
            printf("WINDOW start\n");
            fflush(stdout);
        }
        if (now >= next_tick) {
            for (int i = 0; i < lg->n; i++) {
                lg_part_t *pa = &lg->parts[i];
                if (lg->o.mode == LG_MODE_LIMIT) limit_tick(lg, pa, now);
                tick_conn(&pa->pub, now);
                tick_conn(&pa->sub, now);
            }
            next_tick = now + 10;
        }
        for (int i = 0; i < lg->n; i++)
            send_media(lg, &lg->parts[i], now);
        if (now >= next_report) {
            report_second(lg, (double)(now - lg->t0_ms) / 1000, &prev);
            next_report += 1000;
        }
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 1);
        uint64_t rnow = lg_now_ms();
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr)
                drain_cmds(lg);
            else
                read_conn(lg, evs[i].data.ptr, rnow);
        }
    }
    add_counts(&total, &sec);
    atomic_store(&lg->stop, true);
    close(ep);
    return summary(lg, lg->o.duration_s, &l0);
}
