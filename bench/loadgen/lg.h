/* loadgen: many simulated participants in one process (see bench/README.md).
 *
 * Two threads. The signalling thread (sig_sobre.c, sig_janus.c) runs a libwebsockets
 * client per participant and hands each negotiated transport to the media thread through
 * a queue (lg_push_cmd). The media thread (media.c) owns every UDP socket, every ICE,
 * DTLS and SRTP state (sobre's own sfu modules in the client role), sends the synthetic
 * audio and video (source.c) and measures what comes back (stats.c). */
#ifndef SOBRE_LG_H
#define SOBRE_LG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dtls.h"
#include "ice.h"
#include "srtp_conn.h"

typedef enum { LG_MODE_SOBRE, LG_MODE_LIMIT, LG_MODE_JANUS } lg_mode_t;

typedef struct lg_opts {
    lg_mode_t mode;
    const char *url;    /* sobre: ws://host:port/ws; janus: ws://host:port/ */
    const char *target; /* limit: host:port of bench/limit */
    int rooms, participants;
    bool video, dtx;
    int video_kbps, fps;
    int temporal_layers; /* VP8 temporal layers: 1 (none), 2 (L1T2) or 3 (L1T3) */
    bool simulcast;      /* three VP8 streams (rids l, m, h) instead of one */
    double keyframe_s;   /* seconds between periodic keyframes */
    double duration_s, ramp_s, warmup_s;
    const char *room_prefix;
    bool check; /* exit status says whether everyone got media without loss */
    bool quiet; /* no per-second lines */
    int janus_room_base;
    const char *bind_addr; /* our UDP sockets' IPv4 address (default 127.0.0.1) */
} lg_opts_t;

/* One RTP stream received, keyed by (publisher, kind): loss from the stamp counters. */
typedef struct lg_rx {
    bool seen;
    uint32_t first, max;
    uint64_t received;
} lg_rx_t;

/* Stamp kinds: 0 audio, 1 + layer for video (one layer without simulcast). */
#define LG_KINDS  4
#define LG_LAYERS 3

/* One VP8 stream a participant sends (a simulcast layer, or the only one). */
typedef struct lg_vstream {
    uint32_t ssrc, count; /* count: stamp counter */
    uint16_t seq, picture_id;
    uint8_t tl0picidx;
} lg_vstream_t;

/* One UDP transport (a PeerConnection): publish or subscribe, or both in limit mode. */
typedef struct lg_conn {
    int fd;
    uint16_t port; /* our local port (for candidates) */
    struct sockaddr_storage server;
    socklen_t server_len;
    char local_ufrag[ICE_UFRAG_LEN + 1], local_pwd[ICE_PWD_LEN + 1];
    ice_t *ice;
    dtls_t *dtls;
    srtp_conn_t *srtp;
    uint64_t next_check_ms, next_dtls_ms;
    bool up; /* SRTP keys in place */
    struct lg_part *owner;
} lg_conn_t;

typedef struct lg_part {
    int idx, room;
    char name[32];
    lg_conn_t pub, sub;
    /* Set by the signalling thread: payload types and extension ids the answer accepted. */
    uint8_t audio_pt, video_pt, level_ext, mid_ext, rid_ext;
    /* Media state (media thread). */
    uint32_t audio_ssrc;
    uint16_t audio_seq;
    uint32_t audio_ts, video_ts;
    uint32_t audio_count; /* stamp counter */
    lg_vstream_t video[LG_LAYERS];
    size_t audio_pos;   /* position in the Opus loop */
    bool audio_talking; /* previous frame was sent (marker on restart) */
    uint64_t last_audio_sent_ms;
    uint64_t next_audio_ms, next_video_ms, next_key_ms;
    uint32_t frame_no;
    bool want_key;
    bool joined, published, failed;
    lg_rx_t *rx; /* [participants total * LG_KINDS] */
    /* Signalling (its thread). */
    void *sig;
} lg_part_t;

/* A transport handed from signalling to the media thread. */
typedef struct lg_cmd {
    int part;
    bool is_pub;
    dtls_role_t role;
    char remote_ufrag[ICE_MAX_CRED + 1], remote_pwd[ICE_MAX_CRED + 1];
    char fingerprint[DTLS_FINGERPRINT_MAX];
    struct sockaddr_storage server;
    socklen_t server_len;
} lg_cmd_t;

typedef struct lg {
    lg_opts_t o;
    int n; /* participants in total */
    lg_part_t *parts;
    dtls_cert_t *cert;
    uint64_t t0_ms; /* start (monotonic) */
    atomic_bool stop;
    atomic_int sig_errors;
    atomic_int joined;
    int evfd; /* wakes the media thread for commands */
    void *sig_ctx;
} lg_t;

/* Monotonic milliseconds, and real-time microseconds (what stamps carry). */
uint64_t lg_now_ms(void);
uint64_t lg_real_us(void);

/* Signalling thread -> media thread. Thread-safe. */
void lg_push_cmd(lg_t *lg, const lg_cmd_t *c);

/* The media thread's loop: runs until the duration is over. Returns the exit status. */
int lg_media_run(lg_t *lg);

/* Signalling threads: start returns 0 or -1 (message on stderr); stop joins. */
int lg_sig_sobre_start(lg_t *lg);
int lg_sig_janus_start(lg_t *lg);
void lg_sig_stop(lg_t *lg);

/* SDP text helpers (sdp_text.c). */
#define LG_SDP_MAX (256 * 1024) /* a subscribe answer of 128 m-lines */
/* The publish offer of participant p (audio, and video when asked). */
int lg_sdp_publish_offer(const lg_t *lg, const lg_part_t *p, char *out, size_t cap);
/* What a description says about its transport. Returns 0 or -1 when something is missing
 * (err says what). */
typedef struct lg_sdp_info {
    char ufrag[ICE_MAX_CRED + 1], pwd[ICE_MAX_CRED + 1];
    char fingerprint[DTLS_FINGERPRINT_MAX];
    char setup[16];
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int audio_pt, video_pt, level_ext, mid_ext, rid_ext; /* ext ids: -1 when absent */
} lg_sdp_info_t;
int lg_sdp_scan(const char *sdp, lg_sdp_info_t *out, char *err, size_t errlen);
/* A browser-like answer to a subscribe offer: every m-line recvonly, setup:active. */
int lg_sdp_answer(const lg_t *lg, const lg_conn_t *c, const char *offer, char *out, size_t cap);
/* The answer's DTLS role for us. */
dtls_role_t lg_sdp_role(const char *setup_of_peer, bool we_offered);

/* Sources (source.c): pre-encoded Opus loop and synthetic VP8 frames. */
int lg_source_init(const lg_opts_t *o);
void lg_source_free(void);
/* The Opus frame at pos (wrapping), its audio level (0..127 -dBov) and whether it is a DTX
 * frame (nothing is sent for those but every 400 ms). */
const uint8_t *lg_source_audio(size_t pos, size_t *len, uint8_t *level, bool *dtx);
/* Size of the next video frame. */
size_t lg_source_video_size(bool key);
/* Fills n bytes of pseudo-random compressed-looking data. */
void lg_source_fill(uint8_t *p, size_t n, uint32_t seed);

#endif
