/* The few SDP texts a load client writes and reads. Deliberately not sfu/sdp.c: that
 * parser holds at most SDP_MAX_MEDIA m-lines, and Janus's offers are read here too. */
#include "lg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t cap, len;
    bool full;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

static void put_transport(out_t *o, const lg_t *lg, const lg_conn_t *c, const char *setup)
{
    put(o,
        "c=IN IP4 %s\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
        "a=fingerprint:%s\r\na=setup:%s\r\n"
        "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n",
        lg->o.bind_addr, c->local_ufrag, c->local_pwd, dtls_cert_fingerprint(lg->cert), setup,
        lg->o.bind_addr, c->port);
}

int lg_sdp_publish_offer(const lg_t *lg, const lg_part_t *p, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0, false};
    put(&o, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0%s\r\n",
        1000u + (unsigned)p->idx, lg->o.video ? " 1" : "");
    put(&o, "a=msid-semantic: WMS lg%d\r\n", p->idx);
    put(&o, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    put_transport(&o, lg, &p->pub, "actpass");
    put(&o,
        "a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendonly\r\n"
        "a=msid:lg%d a%d\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1%s\r\na=ssrc:%u cname:lg%d\r\n",
        p->idx, p->idx, lg->o.dtx ? ";usedtx=1" : "", p->audio_ssrc, p->idx);
    if (lg->o.video) {
        put(&o, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
        put_transport(&o, lg, &p->pub, "actpass");
        put(&o,
            "a=mid:1\r\na=sendonly\r\na=msid:lg%d v%d\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
            "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\n"
            "a=rtcp-fb:96 nack pli\r\n",
            p->idx, p->idx);
        if (lg->o.simulcast) /* as browsers offer it: rids, no a=ssrc */
            put(&o, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                    "a=rid:l send\r\na=rid:m send\r\na=rid:h send\r\na=simulcast:send l;m;h\r\n");
        else
            put(&o, "a=ssrc:%u cname:lg%d\r\n", p->video[0].ssrc, p->idx);
    }
    return o.full ? -1 : (int)o.len;
}

/* The value of line after prefix, up to the line end, copied into dst[cap]. */
static void copy_value(const char *line, size_t prefix, char *dst, size_t cap)
{
    size_t n = strcspn(line + prefix, "\r\n");
    if (n >= cap) n = cap - 1;
    memcpy(dst, line + prefix, n);
    dst[n] = '\0';
}

static bool starts(const char *line, const char *prefix)
{
    return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* An IPv4 UDP candidate line into *out. */
static bool candidate(const char *line, struct sockaddr_storage *out, socklen_t *len)
{
    char proto[8], ip[64];
    unsigned port;
    if (sscanf(line, "a=candidate:%*s %*u %7s %*u %63s %u typ host", proto, ip, &port) != 3 ||
        strcasecmp(proto, "udp") != 0 || port == 0 || port > 65535)
        return false;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) return false;
    memset(out, 0, sizeof *out);
    memcpy(out, &sin, sizeof sin);
    *len = sizeof sin;
    return true;
}

int lg_sdp_scan(const char *sdp, lg_sdp_info_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->audio_pt = out->video_pt = out->level_ext = out->mid_ext = out->rid_ext = -1;
    int kind = -1; /* of the current m-line: 0 audio, 1 video */
    bool lo = false;
    for (const char *l = sdp; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (starts(l, "m=")) {
            unsigned port = 0, pt = 0;
            char k[16];
            kind = -1;
            if (sscanf(l, "m=%15s %u %*s %u", k, &port, &pt) == 3 && port != 0) {
                if (!strcmp(k, "audio") && out->audio_pt < 0) out->audio_pt = (int)pt;
                if (!strcmp(k, "video") && out->video_pt < 0) out->video_pt = (int)pt;
                kind = !strcmp(k, "audio") ? 0 : !strcmp(k, "video") ? 1 : -1;
            }
        } else if (starts(l, "a=ice-ufrag:") && !out->ufrag[0]) {
            copy_value(l, 12, out->ufrag, sizeof out->ufrag);
        } else if (starts(l, "a=ice-pwd:") && !out->pwd[0]) {
            copy_value(l, 10, out->pwd, sizeof out->pwd);
        } else if (starts(l, "a=fingerprint:") && !out->fingerprint[0]) {
            copy_value(l, 14, out->fingerprint, sizeof out->fingerprint);
        } else if (starts(l, "a=setup:") && !out->setup[0]) {
            copy_value(l, 8, out->setup, sizeof out->setup);
        } else if (starts(l, "a=candidate:") && !lo) {
            /* Prefer loopback: the benchmark runs there. */
            struct sockaddr_storage a;
            socklen_t alen;
            if (candidate(l, &a, &alen) && (out->addr_len == 0 || strstr(l, " 127.0.0.1 "))) {
                out->addr = a;
                out->addr_len = alen;
                lo = strstr(l, " 127.0.0.1 ") != NULL;
            }
        } else if (kind == 0 && starts(l, "a=extmap:") && out->level_ext < 0 &&
                   strstr(l, "ssrc-audio-level")) {
            out->level_ext = atoi(l + 9);
        } else if (kind == 1 && starts(l, "a=extmap:") && out->mid_ext < 0 &&
                   strstr(l, "sdes:mid")) {
            out->mid_ext = atoi(l + 9);
        } else if (kind == 1 && starts(l, "a=extmap:") && out->rid_ext < 0 &&
                   strstr(l, "sdes:rtp-stream-id")) {
            out->rid_ext = atoi(l + 9);
        }
    }
    const char *missing = !out->ufrag[0]         ? "a=ice-ufrag"
                          : !out->pwd[0]         ? "a=ice-pwd"
                          : !out->fingerprint[0] ? "a=fingerprint"
                          : out->addr_len == 0   ? "an IPv4 UDP host a=candidate"
                                                 : NULL;
    if (missing) {
        snprintf(err, errlen, "the SDP has no %s", missing);
        return -1;
    }
    return 0;
}

dtls_role_t lg_sdp_role(const char *setup_of_peer, bool we_offered)
{
    if (!strcmp(setup_of_peer, "active")) return DTLS_SERVER;
    if (!strcmp(setup_of_peer, "passive")) return DTLS_CLIENT;
    return we_offered ? DTLS_SERVER : DTLS_CLIENT; /* they said actpass: we choose active */
}

int lg_sdp_answer(const lg_t *lg, const lg_conn_t *c, const char *offer, char *buf, size_t cap)
{
    static const char *const keep[] = {
        "a=mid:", "a=rtcp-mux", "a=rtpmap:", "a=fmtp:", "a=rtcp-fb:", "a=extmap:", "a=rtcp-rsize"};
    out_t o = {buf, cap, 0, false};
    bool media = false;
    for (const char *l = offer; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        size_t n = strcspn(l, "\r\n");
        if (n == 0) continue;
        if (starts(l, "m=")) {
            media = true;
            put(&o, "%.*s\r\n", (int)n, l);
            put_transport(&o, lg, c, "active");
            continue;
        }
        if (!media) {
            if (starts(l, "v=") || starts(l, "o=") || starts(l, "s=") || starts(l, "t=") ||
                starts(l, "a=group:"))
                put(&o, "%.*s\r\n", (int)n, l);
            continue;
        }
        if (starts(l, "a=sendonly") || starts(l, "a=sendrecv")) put(&o, "a=recvonly\r\n");
        if (starts(l, "a=inactive")) put(&o, "a=inactive\r\n");
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            if (starts(l, keep[i])) put(&o, "%.*s\r\n", (int)n, l);
    }
    return o.full ? -1 : (int)o.len;
}
