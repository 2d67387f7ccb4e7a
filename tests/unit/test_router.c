/* router: what subscribers and publishers receive for given input packets: rewriting,
 * mute, keyframe gating and requests (throttled), NACK answered with RTX, sender reports,
 * BYE, endpoint removal, garbage. The output callbacks record every packet. */
#include <stdlib.h>

#include "router.h"
#include "rtcp.h"
#include "rtp.h"
#include "test.h"
#include "vp8.h"

#define PUB      1 /* endpoints */
#define SUB      2
#define SUB2     3
#define MAX_SENT 64

static struct {
    uint32_t to;
    bool rtcp;
    size_t len;
    uint8_t buf[1600];
} sent[MAX_SENT];
static size_t n_sent;
static uint8_t scratch[1600];
static uint32_t unreachable; /* an endpoint whose transport is not up: begin says so */

static uint8_t *begin(void *arg, uint32_t to, size_t *cap)
{
    (void)arg;
    if (to == unreachable) return NULL;
    *cap = sizeof scratch;
    return scratch;
}

static void end(void *arg, uint32_t to, size_t len, bool rtcp)
{
    (void)arg;
    if (n_sent == MAX_SENT) return;
    sent[n_sent].to = to;
    sent[n_sent].rtcp = rtcp;
    sent[n_sent].len = len;
    memcpy(sent[n_sent].buf, scratch, len);
    n_sent++;
}

static int speak_calls;
static bool speak_state;
static uint8_t speak_loudness;

static void speaking(void *arg, uint32_t track, bool on, uint8_t loudness)
{
    (void)arg;
    CHECK_INT(track, 10);
    speak_calls++;
    speak_state = on;
    speak_loudness = loudness;
}

static uint32_t est_ep, est_bps;
static int est_calls;

static void estimate(void *arg, uint32_t ep, uint32_t bps, int source)
{
    (void)arg;
    (void)source;
    est_calls++;
    est_ep = ep;
    est_bps = bps;
}

static const router_out_t OUT = {
    .begin = begin, .end = end, .speaking = speaking, .estimate = estimate};
static uint8_t ext_byte = 0x42; /* the one-byte extension element's data */

/* An RTP packet: pt, seq, ts, ssrc, a one-byte extension element (id 1, one byte: ext_byte)
 * and a payload. Returns its length. */
static size_t make_rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                       const uint8_t *payload, size_t plen)
{
    uint8_t h[] = {0x90,
                   pt,
                   (uint8_t)(seq >> 8),
                   (uint8_t)seq,
                   (uint8_t)(ts >> 24),
                   (uint8_t)(ts >> 16),
                   (uint8_t)(ts >> 8),
                   (uint8_t)ts,
                   (uint8_t)(ssrc >> 24),
                   (uint8_t)(ssrc >> 16),
                   (uint8_t)(ssrc >> 8),
                   (uint8_t)ssrc,
                   0xbe,
                   0xde,
                   0x00,
                   0x01,
                   0x10,
                   ext_byte,
                   0x00,
                   0x00};
    memcpy(p, h, sizeof h);
    memcpy(p + sizeof h, payload, plen);
    return sizeof h + plen;
}

static const uint8_t OPUS[] = {0xfc, 0x01, 0x02};
static const uint8_t VP8_KEY[] = {0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
static const uint8_t VP8_DELTA[] = {0x10, 0x01, 0x00, 0x00, 0x11};

static router_track_t audio_track(void)
{
    router_track_t t = {.id = 10, .publisher = PUB, .ssrc = 0xA0, .clock_rate = 48000};
    t.codec[111] = ROUTER_CODEC_OPUS;
    return t;
}

static router_track_t video_track(void)
{
    router_track_t t = {.id = 20,
                        .publisher = PUB,
                        .video = true,
                        .ssrc = 0xB0,
                        .rtx_ssrc = 0xB1,
                        .clock_rate = 90000};
    t.codec[96] = ROUTER_CODEC_VP8;
    t.codec[97] = ROUTER_CODEC_RTX;
    return t;
}

static router_sub_t sub_of(uint32_t track, uint32_t subscriber, uint32_t ssrc)
{
    router_sub_t s = {.track = track, .subscriber = subscriber, .ssrc = ssrc};
    memset(s.pt_map, ROUTER_PT_DROP, sizeof s.pt_map);
    s.pt_map[111] = 109; /* the subscriber's numbers differ */
    s.pt_map[96] = 100;
    s.ext_map[1] = 3;
    return s;
}

static void send_rtp(router_t *r, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                     const uint8_t *payload, size_t plen, uint64_t now)
{
    uint8_t *p = malloc(64 + plen); /* exact length: ASan sees any over-read */
    size_t len = make_rtp(p, pt, seq, ts, ssrc, payload, plen);
    router_rtp(r, PUB, p, len, now, (int64_t)now * 1000);
    free(p);
}

static void test_audio_forwarding_and_mute(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = audio_track();
    CHECK_INT(router_add_track(r, &t), 0);
    CHECK_INT(router_add_track(r, &t), -1); /* same id */
    router_sub_t s = sub_of(10, SUB, 0x5000);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    CHECK_INT(router_subscribe(r, &s, 0), -1);
    n_sent = 0;
    uint16_t want_seq = 0;
    for (uint16_t i = 0; i < 10; i++) {
        if (i == 3) router_set_muted(r, 10, true, 60);
        if (i == 6) router_set_muted(r, 10, false, 120);
        send_rtp(r, 111, (uint16_t)(1000 + i), 960u * i, 0xA0, OPUS, sizeof OPUS, 20u * i);
    }
    CHECK_INT(n_sent, 7); /* 3 muted packets not sent, no keyframe request for audio */
    for (size_t k = 0; k < n_sent; k++) {
        rtp_header_t h;
        CHECK_INT(rtp_parse(sent[k].buf, sent[k].len, &h), 0);
        CHECK_INT(sent[k].to, SUB);
        CHECK(!sent[k].rtcp);
        CHECK_INT(h.ssrc, 0x5000);
        CHECK_INT(h.pt, 109);
        if (k == 0) want_seq = h.seq;
        CHECK_INT(h.seq, (uint16_t)(want_seq + k)); /* gapless across the mute */
        const uint8_t *d;
        size_t dlen;
        CHECK_INT(rtp_ext_find(sent[k].buf, &h, 3, &d, &dlen), 0); /* id 1 became 3 */
        CHECK(dlen == 1 && d[0] == 0x42);
        CHECK(memcmp(sent[k].buf + h.payload_off, OPUS, sizeof OPUS) == 0);
    }
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.rtp_in, 10);
    CHECK_INT(st.rtp_out, 7);
    CHECK_INT(st.dropped_muted, 3);
    /* By kind (metrics): audio only; plain RTP bytes in, rewritten bytes out. */
    CHECK_INT(st.kind_in[0], 10);
    CHECK_INT(st.kind_in[1], 0);
    CHECK_INT(st.kind_out[0], 7);
    CHECK_INT(st.kind_out[1], 0);
    size_t out_bytes = 0;
    for (size_t k = 0; k < n_sent; k++)
        out_bytes += sent[k].len;
    CHECK_INT(st.kind_out_bytes[0], out_bytes);
    CHECK(st.kind_in_bytes[0] >= 10 * (12 + sizeof OPUS));
    CHECK_INT(st.tracks[0], 1);
    CHECK_INT(st.tracks[1], 0);
    CHECK_INT(st.subscriptions[0], 1);
    CHECK_INT(st.paused_video, 0);
    /* Unknown SSRC, unnegotiated payload type, garbage: nothing goes out. */
    n_sent = 0;
    send_rtp(r, 111, 1, 1, 0xDEAD, OPUS, sizeof OPUS, 300);
    send_rtp(r, 8, 1011, 9999, 0xA0, OPUS, sizeof OPUS, 300);
    uint8_t junk[7] = {0x80, 1, 2};
    router_rtp(r, PUB, junk, sizeof junk, 300, 300000);
    router_rtcp(r, SUB, junk, sizeof junk, 300);
    CHECK_INT(n_sent, 0);
    router_get_stats(r, &st);
    CHECK_INT(st.rtp_unknown, 2);
    CHECK_INT(st.dropped_pt, 1);
    router_free(r);
    router_free(NULL);
}

static int count_pli(uint32_t to, uint32_t media)
{
    int n = 0;
    for (size_t k = 0; k < n_sent; k++) {
        rtcp_iter_t it;
        rtcp_pkt_t p;
        rtcp_fb_t fb;
        if (!sent[k].rtcp || sent[k].to != to) continue;
        rtcp_iter_init(&it, sent[k].buf, sent[k].len);
        while (rtcp_next(&it, &p) == 1)
            if (p.pt == RTCP_PT_PSFB && rtcp_parse_fb(&p, &fb) == 0 && fb.fmt == RTCP_PSFB_PLI &&
                fb.media_ssrc == media)
                n++;
    }
    return n;
}

static void subscriber_rtcp(router_t *r, uint32_t from, const uint8_t *pkt, int len, uint64_t now)
{
    CHECK(len > 0);
    uint8_t *copy = malloc((size_t)len);
    memcpy(copy, pkt, (size_t)len);
    router_rtcp(r, from, copy, (size_t)len, now);
    free(copy);
}

static void test_video_keyframes(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    CHECK_INT(router_add_track(r, &t), 0);
    n_sent = 0;
    router_sub_t s = sub_of(20, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &s, 1000), 0);
    CHECK_INT(count_pli(PUB, 0xB0), 1); /* a new video subscriber asks for a keyframe */
    n_sent = 0;
    send_rtp(r, 96, 500, 3000, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 1010);
    send_rtp(r, 96, 501, 3000, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 1010);
    CHECK_INT(n_sent, 0); /* waiting for the keyframe */
    send_rtp(r, 96, 502, 6000, 0xB0, VP8_KEY, sizeof VP8_KEY, 1040);
    send_rtp(r, 96, 503, 6000, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 1040);
    CHECK_INT(n_sent, 2);
    rtp_header_t h0, h1;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h0), 0);
    CHECK_INT(rtp_parse(sent[1].buf, sent[1].len, &h1), 0);
    CHECK_INT(h0.ssrc, 0x6000);
    CHECK_INT(h0.pt, 100);
    CHECK_INT((uint16_t)(h1.seq - h0.seq), 1);
    CHECK(vp8_is_keyframe(sent[0].buf + h0.payload_off, h0.payload_len));

    /* PLI from the subscriber: one request to the publisher per 500 ms at most. */
    uint8_t pli[16];
    n_sent = 0;
    int n = rtcp_build_pli(pli, sizeof pli, 0x77, 0x6000);
    subscriber_rtcp(r, SUB, pli, n, 1100); /* 100 ms after the subscribe's own request */
    CHECK_INT(count_pli(PUB, 0xB0), 0);
    subscriber_rtcp(r, SUB, pli, n, 1500);
    subscriber_rtcp(r, SUB, pli, n, 1700);
    CHECK_INT(count_pli(PUB, 0xB0), 1);
    subscriber_rtcp(r, SUB, pli, n, 2001);
    CHECK_INT(count_pli(PUB, 0xB0), 2);
    /* Feedback about an SSRC that is not this subscriber's: ignored. */
    n = rtcp_build_pli(pli, sizeof pli, 0x77, 0xB0);
    subscriber_rtcp(r, SUB, pli, n, 9000);
    subscriber_rtcp(r, SUB2, pli, n, 9000);
    CHECK_INT(count_pli(PUB, 0xB0), 2);
    uint8_t fir[32];
    n = rtcp_build_fir(fir, sizeof fir, 0x77, 0x6000, 1);
    subscriber_rtcp(r, SUB, fir, n, 9000);
    CHECK_INT(count_pli(PUB, 0xB0), 3);

    /* Unmuting video restarts from a keyframe (requested). */
    router_set_muted(r, 20, true, 9100);
    n_sent = 0;
    router_set_muted(r, 20, false, 9600);
    CHECK_INT(count_pli(PUB, 0xB0), 1);
    n_sent = 0;
    send_rtp(r, 96, 504, 9000, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 9610);
    CHECK_INT(n_sent, 0);
    send_rtp(r, 96, 505, 12000, 0xB0, VP8_KEY, sizeof VP8_KEY, 9640);
    CHECK_INT(n_sent, 1);
    rtp_header_t h2;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h2), 0);
    CHECK_INT((uint16_t)(h2.seq - h1.seq), 1); /* still gapless */
    router_free(r);
}

static void test_nack_rtx(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(20, SUB, 0x6000);
    s.rtx_ssrc = 0x6001;
    s.rtx_pt[96] = 101;
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    router_sub_t s2 = sub_of(20, SUB2, 0x7000); /* no RTX negotiated */
    CHECK_INT(router_subscribe(r, &s2, 0), 0);
    n_sent = 0;
    send_rtp(r, 96, 700, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 10);
    send_rtp(r, 96, 701, 100, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 10);
    CHECK_INT(n_sent, 4);
    rtp_header_t first;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &first), 0);
    uint16_t lost = (uint16_t)(first.seq + 1);
    uint8_t nack[64];
    n_sent = 0;
    int n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x6000, &lost, 1);
    subscriber_rtcp(r, SUB, nack, n, 50);
    CHECK_INT(n_sent, 1);
    rtp_header_t h;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    CHECK_INT(h.ssrc, 0x6001);
    CHECK_INT(h.pt, 101);
    /* RFC 4588: the original sequence number, then the original payload. */
    const uint8_t *pl = sent[0].buf + h.payload_off;
    CHECK_INT((pl[0] << 8) | pl[1], lost);
    CHECK(h.payload_len == 2 + sizeof VP8_DELTA &&
          memcmp(pl + 2, VP8_DELTA, sizeof VP8_DELTA) == 0);
    /* A sequence never sent, and a subscriber without RTX: counted misses. */
    uint16_t never = (uint16_t)(first.seq + 40);
    n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x6000, &never, 1);
    subscriber_rtcp(r, SUB, nack, n, 60);
    n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x7000, &lost, 1);
    subscriber_rtcp(r, SUB2, nack, n, 60);
    CHECK_INT(n_sent, 1);
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.nacks_in, 3);
    CHECK_INT(st.retransmissions, 1);
    CHECK_INT(st.nack_misses, 2);
    router_free(r);
}

/* The cache holds about 1 s at the track's cap (not a fixed 256 x 1,500 bytes), whatever
 * the packets' sizes: at 200 kbit/s (the floor, 64 x 1,200 bytes), a 1,400-byte packet 10
 * packets back is retransmitted whole; one 100 packets (140 KB) back is gone. */
static void test_nack_cache_by_bytes(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    t.max_bps = 200000;
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(20, SUB, 0x6000);
    s.rtx_ssrc = 0x6001;
    s.rtx_pt[96] = 101;
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    static uint8_t big[1380];
    memcpy(big, VP8_DELTA, sizeof VP8_DELTA);
    for (size_t i = sizeof VP8_DELTA; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    send_rtp(r, 96, 1000, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 10);
    CHECK_INT(n_sent > 0, 1);
    rtp_header_t first;
    CHECK_INT(rtp_parse(sent[n_sent - 1].buf, sent[n_sent - 1].len, &first), 0);
    for (uint16_t i = 1; i <= 110; i++) {
        n_sent = 0;
        send_rtp(r, 96, (uint16_t)(1000 + i), 100 + 3000u * i, 0xB0, big, sizeof big, 10 + i);
    }
    uint16_t recent = (uint16_t)(first.seq + 100), old = (uint16_t)(first.seq + 1);
    uint8_t nack[64];
    n_sent = 0;
    int n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x6000, &recent, 1);
    subscriber_rtcp(r, SUB, nack, n, 200);
    CHECK_INT(n_sent, 1);
    rtp_header_t h;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    CHECK_INT(h.ssrc, 0x6001);
    const uint8_t *pl = sent[0].buf + h.payload_off;
    CHECK_INT((pl[0] << 8) | pl[1], recent);
    CHECK(h.payload_len == 2 + sizeof big && memcmp(pl + 2, big, sizeof big) == 0);
    n_sent = 0;
    n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x6000, &old, 1);
    subscriber_rtcp(r, SUB, nack, n, 210);
    CHECK_INT(n_sent, 0);
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.retransmissions, 1);
    CHECK_INT(st.nack_misses, 1);
    router_free(r);
}

static void test_sender_report_bye_and_removal(void)
{
    router_t *r = router_new(&OUT);
    router_track_t a = audio_track(), v = video_track();
    CHECK_INT(router_add_track(r, &a), 0);
    CHECK_INT(router_add_track(r, &v), 0);
    router_sub_t s = sub_of(10, SUB, 0x5000), s2 = sub_of(10, SUB2, 0x5100);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    CHECK_INT(router_subscribe(r, &s2, 0), 0);
    router_sub_t vs = sub_of(20, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &vs, 0), 0);
    send_rtp(r, 111, 1, 48000, 0xA0, OPUS, sizeof OPUS, 0);
    send_rtp(r, 111, 2, 48960, 0xA0, OPUS, sizeof OPUS, 20);
    n_sent = 0;
    rtcp_sr_t sr = {.ssrc = 0xA0,
                    .ntp = 0x1122334455667788ull,
                    .rtp_ts = 49920,
                    .packet_count = 99,
                    .octet_count = 9999};
    uint8_t buf[64];
    int n = rtcp_build_sr(buf, sizeof buf, &sr);
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, buf, (size_t)n);
    router_rtcp(r, PUB, copy, (size_t)n, 40);
    free(copy);
    CHECK_INT(n_sent, 2); /* one per subscriber, each with its own SSRC and counts */
    for (size_t k = 0; k < n_sent; k++) {
        rtcp_iter_t it;
        rtcp_pkt_t p;
        rtcp_sr_t got;
        rtcp_iter_init(&it, sent[k].buf, sent[k].len);
        CHECK_INT(rtcp_next(&it, &p), 1);
        CHECK_INT(rtcp_parse_sr(&p, &got), 0);
        CHECK_INT(got.ssrc, sent[k].to == SUB ? 0x5000 : 0x5100);
        CHECK(got.ntp == sr.ntp);
        CHECK_INT(got.rtp_ts, 49920); /* one source, no switch: the timeline is kept */
        CHECK_INT(got.packet_count, 2);
        CHECK_INT(got.octet_count, 2 * sizeof OPUS);
    }
    /* The publisher leaves: both tracks end, each subscriber's streams get a BYE, and
     * the subscriber SUB2 leaving first makes no difference to SUB. */
    router_remove_endpoint(r, SUB2);
    n_sent = 0;
    router_remove_endpoint(r, PUB);
    int byes = 0;
    for (size_t k = 0; k < n_sent; k++) {
        rtcp_iter_t it;
        rtcp_pkt_t p;
        rtcp_bye_t bye;
        rtcp_iter_init(&it, sent[k].buf, sent[k].len);
        CHECK_INT(sent[k].to, SUB);
        if (rtcp_next(&it, &p) == 1 && rtcp_parse_bye(&p, &bye) == 0) {
            CHECK(bye.ssrcs[0] == 0x5000 || bye.ssrcs[0] == 0x6000);
            byes++;
        }
    }
    CHECK_INT(byes, 2);
    n_sent = 0;
    send_rtp(r, 111, 3, 49920, 0xA0, OPUS, sizeof OPUS, 70);
    CHECK_INT(n_sent, 0);
    router_free(r);
}

/* A gap in what the publisher sends is NACKed upstream; its RTX repair is forwarded as
 * the original packet; receiver reports tell the publisher about loss and its SR. */
static void test_upstream_repair_and_receiver_reports(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    t.rtx_apt[97] = 96;
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(20, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    send_rtp(r, 96, 65534, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 10);
    n_sent = 0;
    send_rtp(r, 96, 1, 200, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 20); /* 65535 and 0 lost */
    CHECK_INT(n_sent, 2);
    size_t nack_at = sent[0].rtcp ? 0 : 1;
    CHECK_INT(sent[nack_at].to, PUB);
    rtcp_iter_t it;
    rtcp_pkt_t p;
    rtcp_fb_t fb;
    uint16_t seqs[8];
    rtcp_iter_init(&it, sent[nack_at].buf, sent[nack_at].len);
    CHECK_INT(rtcp_next(&it, &p), 1);
    CHECK_INT(rtcp_parse_fb(&p, &fb), 0);
    CHECK_INT(fb.fmt, RTCP_RTPFB_NACK);
    CHECK_INT(fb.media_ssrc, 0xB0);
    CHECK_INT(rtcp_nack_seqs(&fb, seqs, 8), 2);
    CHECK(seqs[0] == 65535 && seqs[1] == 0);
    /* The repair of 65535: RTX PT 97 on SSRC 0xB1, OSN first. */
    n_sent = 0;
    uint8_t rtx_payload[2 + sizeof VP8_DELTA] = {0xff, 0xff};
    memcpy(rtx_payload + 2, VP8_DELTA, sizeof VP8_DELTA);
    send_rtp(r, 97, 5000, 150, 0xB1, rtx_payload, sizeof rtx_payload, 30);
    CHECK_INT(n_sent, 1);
    rtp_header_t h;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    CHECK_INT(h.ssrc, 0x6000);
    CHECK_INT(h.pt, 100);
    CHECK(h.payload_len == sizeof VP8_DELTA &&
          memcmp(sent[0].buf + h.payload_off, VP8_DELTA, sizeof VP8_DELTA) == 0);
    /* An SR, then a receiver report: 4 expected (65534..1), 3 received. */
    rtcp_sr_t sr = {.ssrc = 0xB0, .ntp = 0x0000123456780000ull, .rtp_ts = 200};
    uint8_t buf[64];
    int n = rtcp_build_sr(buf, sizeof buf, &sr);
    subscriber_rtcp(r, PUB, buf, n, 1000);
    n_sent = 0;
    router_tick(r, 1500);
    CHECK_INT(n_sent, 1);
    rtcp_rr_t rr;
    rtcp_iter_init(&it, sent[0].buf, sent[0].len);
    CHECK_INT(rtcp_next(&it, &p), 1);
    CHECK_INT(p.pt, RTCP_PT_RR);
    CHECK_INT(rtcp_parse_rr(&p, &rr), 0);
    CHECK_INT(rr.n_blocks, 1);
    CHECK_INT(rr.blocks[0].ssrc, 0xB0);
    CHECK_INT(rr.blocks[0].cumulative_lost, 1);
    CHECK_INT(rr.blocks[0].fraction_lost, 64);      /* 1 of 4: 0.25 x 256 */
    CHECK_INT(rr.blocks[0].highest_seq, 65536 + 1); /* one cycle, seq 1 */
    CHECK_INT(rr.blocks[0].lsr, 0x12345678);
    CHECK_INT(rr.blocks[0].dlsr, 32768); /* 500 ms in 1/65536 s */
    n_sent = 0;
    router_tick(r, 1900); /* not yet a second later */
    CHECK_INT(n_sent, 0);
    router_free(r);
}

/* Audio-only mode: one subscriber's video paused, the other's not; resuming waits for a
 * keyframe (requested) and keeps the sequence gapless. */
static void test_pause_one_subscriber(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s1 = sub_of(20, SUB, 0x6000), s2 = sub_of(20, SUB2, 0x7000);
    CHECK_INT(router_subscribe(r, &s1, 0), 0);
    CHECK_INT(router_subscribe(r, &s2, 0), 0);
    send_rtp(r, 96, 10, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 10);
    router_set_paused(r, 20, SUB2, true, 20);
    n_sent = 0;
    send_rtp(r, 96, 11, 200, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 30);
    send_rtp(r, 96, 12, 300, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 40);
    CHECK_INT(n_sent, 2);
    CHECK(sent[0].to == SUB && sent[1].to == SUB);
    router_set_paused(r, 20, SUB2, false, 1000);
    CHECK_INT(count_pli(PUB, 0xB0), 1);
    n_sent = 0;
    send_rtp(r, 96, 13, 400, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 1010);
    CHECK_INT(n_sent, 1); /* SUB2 waits for the keyframe */
    send_rtp(r, 96, 14, 500, 0xB0, VP8_KEY, sizeof VP8_KEY, 1020);
    CHECK_INT(n_sent, 3);
    rtp_header_t h;
    CHECK_INT(rtp_parse(sent[2].buf, sent[2].len, &h), 0);
    CHECK_INT(sent[2].to, SUB2);
    CHECK_INT(h.seq, 11); /* 10 went out, 11..13 were not sent: the next number is 11 */
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.dropped_paused, 2);
    router_free(r);
}

/* The router restamps abs-send-time with its own send time (the subscriber's browser
 * estimates our downlink from it) and reports that browser's REMB when it moves. */
static void test_abs_send_time_and_estimates(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    t.abs_send_time_ext = 1;
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(20, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    n_sent = 0;
    ext_byte = 0x22; /* the publisher's value: one byte here, 3 in real packets */
    send_rtp(r, 96, 1, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 1500);
    ext_byte = 0x42;
    CHECK_INT(n_sent, 1);
    rtp_header_t h;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    const uint8_t *d;
    size_t dlen;
    CHECK_INT(rtp_ext_find(sent[0].buf, &h, 3, &d, &dlen), 0);
    CHECK_INT(d[0], 0x22); /* a 1-byte element cannot hold abs-send-time: left alone */
    /* A real 3-byte element gets our send time: 1.5 s in 6.18 fixed point. */
    uint8_t pkt[12 + 8 + sizeof VP8_DELTA] = {0x90, 96,   0,    2,    0, 0, 0,    200,  0,    0,
                                              0,    0xB0, 0xbe, 0xde, 0, 1, 0x12, 0x11, 0x22, 0x33};
    memcpy(pkt + 20, VP8_DELTA, sizeof VP8_DELTA);
    n_sent = 0;
    router_rtp(r, PUB, pkt, sizeof pkt, 1500, 1500000);
    CHECK_INT(n_sent, 1);
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    CHECK_INT(rtp_ext_find(sent[0].buf, &h, 3, &d, &dlen), 0);
    uint32_t ast = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
    CHECK_INT(ast, (1500u << 18) / 1000);
    /* REMB from the subscriber: reported, then only when it moves by 10% or more. */
    uint8_t buf[64];
    uint32_t media = 0x6000;
    int n = rtcp_build_remb(buf, sizeof buf, 0x77, 500000, &media, 1);
    subscriber_rtcp(r, SUB, buf, n, 2000);
    CHECK_INT(est_calls, 1);
    CHECK_INT(est_ep, SUB);
    CHECK(est_bps > 490000 && est_bps <= 500000);
    n = rtcp_build_remb(buf, sizeof buf, 0x77, 520000, &media, 1);
    subscriber_rtcp(r, SUB, buf, n, 2100);
    CHECK_INT(est_calls, 1);
    n = rtcp_build_remb(buf, sizeof buf, 0x77, 300000, &media, 1);
    subscriber_rtcp(r, SUB, buf, n, 2200);
    CHECK_INT(est_calls, 2);
    subscriber_rtcp(r, SUB2, buf, n, 2300); /* not a subscriber: ignored */
    CHECK_INT(est_calls, 2);
    router_free(r);
}

/* A capped video track: each second the publisher gets a REMB at the cap. */
static void test_remb_holds_the_cap(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    t.max_bps = 300000;
    CHECK_INT(router_add_track(r, &t), 0);
    send_rtp(r, 96, 1, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 10);
    n_sent = 0;
    router_tick(r, 1000);
    int rembs = 0;
    for (size_t k = 0; k < n_sent; k++) {
        rtcp_iter_t it;
        rtcp_pkt_t p;
        rtcp_fb_t fb;
        rtcp_remb_t remb;
        CHECK_INT(sent[k].to, PUB);
        rtcp_iter_init(&it, sent[k].buf, sent[k].len);
        while (rtcp_next(&it, &p) == 1) {
            if (p.pt != RTCP_PT_PSFB || rtcp_parse_fb(&p, &fb) != 0 || fb.fmt != RTCP_PSFB_AFB ||
                rtcp_parse_remb(&fb, &remb) != 0)
                continue;
            rembs++;
            CHECK(remb.bitrate <= 300000 && remb.bitrate > 290000); /* mantissa rounding */
            CHECK(remb.n_ssrcs == 1 && remb.ssrcs[0] == 0xB0);
        }
    }
    CHECK_INT(rembs, 1);
    router_free(r);
}

/* A keyframe request that could not be sent (the publisher's transport was not up) is
 * repeated by router_tick while a subscriber waits, within the 500 ms limit. */
static void test_keyframe_request_retried(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    CHECK_INT(router_add_track(r, &t), 0);
    unreachable = PUB;
    n_sent = 0;
    router_sub_t s = sub_of(20, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    CHECK_INT(n_sent, 0);
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.keyframe_requests, 0);
    unreachable = 0;
    router_tick(r, 100);
    CHECK_INT(count_pli(PUB, 0xB0), 1);
    router_tick(r, 400); /* within 500 ms of the last request */
    CHECK_INT(count_pli(PUB, 0xB0), 1);
    router_tick(r, 700);
    CHECK_INT(count_pli(PUB, 0xB0), 2);
    /* The keyframe comes while the subscriber's transport is not up: lost for it, so it
     * still waits, the next tick asks again, and the next keyframe starts it. */
    unreachable = SUB;
    send_rtp(r, 96, 1, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 710);
    unreachable = 0;
    n_sent = 0;
    send_rtp(r, 96, 2, 100, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 720);
    CHECK_INT(n_sent, 0);
    router_tick(r, 1300);
    CHECK_INT(count_pli(PUB, 0xB0), 1);
    send_rtp(r, 96, 3, 200, 0xB0, VP8_KEY, sizeof VP8_KEY, 1350);
    CHECK(n_sent >= 1 && sent[n_sent - 1].to == SUB && !sent[n_sent - 1].rtcp);
    n_sent = 0;
    router_tick(r, 1900); /* the subscriber has its keyframe: no more requests */
    CHECK_INT(count_pli(PUB, 0xB0), 0);
    router_free(r);
}

/* Speech from RFC 6464 levels: judged per tick on the share of loud packets (above
 * -50 dBov), with hysteresis; silence (DTX: no packets) ends it. */
static void test_speaking(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = audio_track();
    t.audio_level_ext = 1;
    CHECK_INT(router_add_track(r, &t), 0);
    static const struct {
        int loud; /* packets of 25 at -20 dBov, the others at -70; -1: no packets */
        int calls;
        bool state;
    } steps[] = {
        {0, 0, false},                 /* quiet room */
        {4, 0, false},                 /* 16% loud: not yet */
        {6, 1, true},                  /* 24%: speech */
        {3, 1, true},                  /* 12%: a pause between words */
        {2, 2, false},                 /* 8%: stopped */
        {4, 2, false},                 /* 16% does not start it again */
        {25, 3, true}, {-1, 4, false}, /* DTX silence */
    };
    uint16_t seq = 100;
    uint64_t now = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        for (int k = 0; steps[i].loud >= 0 && k < 25; k++) {
            ext_byte = (uint8_t)(0x80 | (k < steps[i].loud ? 20 : 70));
            send_rtp(r, 111, seq, 960u * seq, 0xA0, OPUS, sizeof OPUS, now);
            seq++;
        }
        now += ROUTER_TICK_MS;
        router_tick(r, now);
        CHECK_INT(speak_calls, steps[i].calls);
        CHECK_INT(speak_state, steps[i].state);
        if (speak_state) CHECK_INT(speak_loudness, 107);
    }
    /* Muted, the loud packets it still sends do not make it speak; unmuted, they do. */
    router_set_muted(r, 10, true, now);
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 25; k++) {
            ext_byte = 0x80 | 20;
            send_rtp(r, 111, seq, 960u * seq, 0xA0, OPUS, sizeof OPUS, now);
            seq++;
        }
        now += ROUTER_TICK_MS;
        router_tick(r, now);
        CHECK_INT(speak_state, round == 1);
        if (round == 0) router_set_muted(r, 10, false, now);
    }
    CHECK_INT(speak_calls, 5);
    ext_byte = 0x42;
    router_free(r);
}

/* Transport-wide numbers on everything a subscriber with transport-cc gets, and probe
 * padding on its video's RTX stream when more is wanted than its estimate. */
static void test_transport_cc_and_probing(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(20, SUB, 0x6000);
    s.rtx_ssrc = 0x6001;
    s.rtx_pt[96] = 101;
    s.twcc_ext = 5;
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    n_sent = 0;
    send_rtp(r, 96, 1, 100, 0xB0, VP8_KEY, sizeof VP8_KEY, 1000);
    CHECK_INT(n_sent, 1);
    rtp_header_t h;
    uint16_t tseq = 0xffff;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    CHECK_INT(rtp_ext_transport_seq(sent[0].buf, &h, 5, &tseq), 0);
    CHECK_INT(tseq, 0);
    const uint8_t *d;
    size_t dlen;
    CHECK_INT(rtp_ext_find(sent[0].buf, &h, 3, &d, &dlen), 0); /* the publisher's are kept */
    /* Its REMB says 100 kb/s; 1 Mb/s is wanted: the next packets bring padding. */
    uint8_t buf[64];
    uint32_t media = 0x6000;
    int n = rtcp_build_remb(buf, sizeof buf, 0x77, 100000, &media, 1);
    est_calls = 0;
    subscriber_rtcp(r, SUB, buf, n, 1100);
    CHECK_INT(est_calls, 1);
    CHECK(est_bps > 95000 && est_bps <= 100000);
    router_set_wanted(r, SUB, 1000000);
    n_sent = 0;
    for (uint16_t i = 0; i < 10; i++)
        send_rtp(r, 96, (uint16_t)(2 + i), 100, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 1200 + 30 * i);
    size_t media_n = 0, padding_n = 0;
    uint16_t expect = 1;
    for (size_t i = 0; i < n_sent; i++) {
        CHECK_INT(rtp_parse(sent[i].buf, sent[i].len, &h), 0);
        CHECK_INT(rtp_ext_transport_seq(sent[i].buf, &h, 5, &tseq), 0);
        CHECK_INT(tseq, expect);
        expect++;
        if (h.ssrc == 0x6000) {
            media_n++;
        } else {
            CHECK_INT(h.ssrc, 0x6001);
            CHECK_INT(h.pt, 101);
            CHECK(h.padding);
            CHECK_INT(h.payload_len, 0);
            padding_n++;
        }
    }
    CHECK_INT(media_n, 10);
    CHECK(padding_n > 0);
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.padding_out, padding_n);
    /* Nothing more wanted: no padding. */
    router_set_wanted(r, SUB, 0);
    n_sent = 0;
    for (uint16_t i = 0; i < 10; i++)
        send_rtp(r, 96, (uint16_t)(12 + i), 100, 0xB0, VP8_DELTA, sizeof VP8_DELTA, 20000 + 30 * i);
    CHECK_INT(n_sent, 10);
    router_free(r);
}

/* -- layers: simulcast and VP8 temporal layers */

#define RID_EXT  2
#define RRID_EXT 3
#define MID_EXT  4

/* A simulcast track: rids "lo" and "hi" (lowest first), mid "1". */
static router_track_t simulcast_track(void)
{
    router_track_t t = {.id = 30,
                        .publisher = PUB,
                        .video = true,
                        .clock_rate = 90000,
                        .nlayers = 2,
                        .rid_ext = RID_EXT,
                        .repaired_rid_ext = RRID_EXT,
                        .mid_ext = MID_EXT,
                        .mid = "1"};
    strcpy(t.rids[0], "lo");
    strcpy(t.rids[1], "hi");
    t.codec[96] = ROUTER_CODEC_VP8;
    t.codec[97] = ROUTER_CODEC_RTX;
    t.rtx_apt[97] = 96;
    return t;
}

/* A VP8 payload: descriptor with 15-bit PictureID, TL0PICIDX, TID and Y, then a payload
 * header byte (key frame or not) and two more bytes. */
static size_t vp8_payload(uint8_t *b, bool key, uint16_t pic, uint8_t tl0, uint8_t tid, bool y)
{
    uint8_t d[] = {0x90,
                   0xe0,
                   (uint8_t)(0x80 | pic >> 8),
                   (uint8_t)pic,
                   tl0,
                   (uint8_t)(tid << 6 | (y ? 0x20 : 0)),
                   key ? 0x50 : 0x51,
                   0x00,
                   0x00};
    memcpy(b, d, sizeof d);
    return sizeof d;
}

/* A packet with mid and rid (or repaired rid and rid) elements (when rid is not NULL). */
static void send_layer(router_t *r, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                       const char *rid, bool repaired, const uint8_t *payload, size_t plen,
                       uint64_t now)
{
    uint8_t ext[16] = {0};
    size_t n = 0;
    if (rid) {
        ext[n++] = MID_EXT << 4 | 0; /* "1" */
        ext[n++] = '1';
        ext[n++] = (uint8_t)((repaired ? RRID_EXT : RID_EXT) << 4 | (strlen(rid) - 1));
        memcpy(ext + n, rid, strlen(rid));
        n += strlen(rid);
        if (repaired) { /* with the rid too, as some senders do */
            ext[n++] = (uint8_t)(RID_EXT << 4 | (strlen(rid) - 1));
            memcpy(ext + n, rid, strlen(rid));
            n += strlen(rid);
        }
    }
    size_t words = (n + 3) / 4;
    uint8_t *p = malloc(16 + 4 * words + plen);
    size_t len = make_rtp(p, pt, seq, ts, ssrc, payload, 0);
    len -= 8; /* drop make_rtp's own extension block */
    if (words) {
        p[0] |= 0x10;
        uint8_t hdr[4] = {0xbe, 0xde, 0, (uint8_t)words};
        memcpy(p + len, hdr, 4);
        memcpy(p + len + 4, ext, 4 * words);
        len += 4 + 4 * words;
    } else {
        p[0] &= (uint8_t)~0x10;
    }
    memcpy(p + len, payload, plen);
    router_rtp(r, PUB, p, len + plen, now, (int64_t)now * 1000);
    free(p);
}

static void send_vp8(router_t *r, uint16_t seq, uint32_t ssrc, const char *rid, bool key,
                     uint16_t pic, uint8_t tl0, uint8_t tid, bool y, uint64_t now)
{
    uint8_t pl[16];
    size_t n = vp8_payload(pl, key, pic, tl0, tid, y);
    send_layer(r, 96, seq, 3000u * pic, ssrc, rid, false, pl, n, now);
}

/* What subscriber `to` got in sent[k]: seq, PictureID, TL0PICIDX. */
static bool got_vp8(size_t k, uint32_t to, uint16_t *seq, uint16_t *pic, uint8_t *tl0)
{
    rtp_header_t h;
    vp8_desc_t d;
    if (k >= n_sent || sent[k].to != to || sent[k].rtcp ||
        rtp_parse(sent[k].buf, sent[k].len, &h) != 0 ||
        vp8_parse(sent[k].buf + h.payload_off, h.payload_len, &d) != 0)
        return false;
    *seq = h.seq;
    *pic = d.picture_id;
    *tl0 = d.tl0picidx;
    return true;
}

static size_t count_to(uint32_t to)
{
    size_t n = 0;
    for (size_t k = 0; k < n_sent; k++)
        n += sent[k].to == to && !sent[k].rtcp;
    return n;
}

/* SSRCs learnt from rids; a subscriber starts on the first keyframe at or under its target
 * (the top layer by default), asks the top layer for a keyframe and switches there on
 * it; moved down, it switches on the low layer's keyframe. Across both switches its
 * sequence numbers and PictureIDs go on by one, TL0PICIDX too; a packet without rid
 * from an unknown SSRC is not forwarded. */
static void test_simulcast_switching(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = simulcast_track();
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(30, SUB, 0x6000);
    s.rtx_ssrc = 0x6001;
    s.rtx_pt[96] = 101;
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    n_sent = 0;
    send_vp8(r, 500, 0xC0, NULL, true, 10, 1, 0, false, 5); /* no rid: unknown */
    CHECK_INT(n_sent, 0);
    send_vp8(r, 100, 0xC0, "lo", true, 10, 1, 0, false, 10);
    send_vp8(r, 900, 0xC1, "hi", false, 7000, 50, 0, false, 12);
    send_vp8(r, 101, 0xC0, NULL, false, 11, 2, 0, false, 40); /* learnt: no rid needed */
    send_vp8(r, 901, 0xC1, NULL, false, 7001, 51, 0, false, 42);
    CHECK_INT(count_to(SUB), 2); /* the low layer's two */
    uint16_t seq0, pic0, seq, pic;
    uint8_t tl00, tl0;
    CHECK(got_vp8(0, SUB, &seq0, &pic0, &tl00));
    CHECK_INT(pic0, 10);
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.rtp_unknown, 1);

    n_sent = 0;
    router_tick(r, 600); /* the top layer's keyframe is asked for */
    CHECK_INT(count_pli(PUB, 0xC1), 1);
    n_sent = 0;
    send_vp8(r, 902, 0xC1, NULL, true, 7002, 52, 0, false, 650);
    send_vp8(r, 903, 0xC1, NULL, false, 7002, 52, 0, false, 651); /* same picture */
    send_vp8(r, 102, 0xC0, NULL, false, 12, 3, 0, false, 660);    /* not sent any more */
    send_vp8(r, 904, 0xC1, NULL, false, 7003, 53, 0, false, 680);
    CHECK_INT(count_to(SUB), 3);
    uint16_t want_pic[] = {12, 12, 13};
    uint8_t want_tl0[] = {3, 3, 4};
    for (size_t k = 0; k < 3; k++) {
        CHECK(got_vp8(k, SUB, &seq, &pic, &tl0));
        CHECK_INT(seq, (uint16_t)(seq0 + 2 + k));
        CHECK_INT(pic, want_pic[k]);
        CHECK_INT(tl0, want_tl0[k]);
    }

    /* Down to the low layer: asked at once, switched on its keyframe only. */
    n_sent = 0;
    router_set_layer(r, 30, SUB, 0, 2, 700);
    CHECK_INT(count_pli(PUB, 0xC0), 1);
    n_sent = 0;
    send_vp8(r, 103, 0xC0, NULL, false, 13, 4, 0, false, 710);
    send_vp8(r, 905, 0xC1, NULL, false, 7004, 54, 0, false, 712);
    send_vp8(r, 104, 0xC0, NULL, true, 14, 5, 0, false, 720);
    send_vp8(r, 906, 0xC1, NULL, false, 7005, 55, 0, false, 722);
    send_vp8(r, 105, 0xC0, NULL, false, 15, 6, 0, false, 750);
    CHECK_INT(count_to(SUB), 3); /* hi 7004, lo key 14, lo 15 */
    for (size_t k = 0; k < 3; k++) {
        CHECK(got_vp8(k, SUB, &seq, &pic, &tl0));
        CHECK_INT(seq, (uint16_t)(seq0 + 5 + k));
        CHECK_INT(pic, 14 + k);
        CHECK_INT(tl0, 5 + k);
    }
    router_get_stats(r, &st);
    CHECK_INT(st.layer_switches, 2);

    /* A NACK for a packet of the top layer, sent before the switch down: the current
     * layer's numbering no longer maps it (a miss); one of the low layer is resent with
     * the PictureID it went out with. */
    n_sent = 0;
    uint16_t lost = (uint16_t)(seq0 + 7);
    uint8_t nack[32];
    int n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x6000, &lost, 1);
    subscriber_rtcp(r, SUB, nack, n, 800);
    CHECK_INT(n_sent, 1);
    rtp_header_t h;
    vp8_desc_t d;
    CHECK_INT(rtp_parse(sent[0].buf, sent[0].len, &h), 0);
    CHECK_INT(h.ssrc, 0x6001);
    CHECK_INT(h.pt, 101);
    CHECK_INT(vp8_parse(sent[0].buf + h.payload_off + 2, h.payload_len - 2, &d), 0);
    CHECK_INT(d.picture_id, 16);
    lost = (uint16_t)(seq0 + 4);
    n = rtcp_build_nack(nack, sizeof nack, 0x77, 0x6000, &lost, 1);
    n_sent = 0;
    subscriber_rtcp(r, SUB, nack, n, 810);
    CHECK_INT(n_sent, 0);
    router_free(r);
}

/* Two subscribers of one simulcast track get different layers; out-of-range targets
 * clamp to the top; the publisher's RTX (repaired rid) repairs the layer it names. */
static void test_simulcast_two_subscribers(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = simulcast_track();
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s1 = sub_of(30, SUB, 0x6000), s2 = sub_of(30, SUB2, 0x7000);
    CHECK_INT(router_subscribe(r, &s1, 0), 0);
    CHECK_INT(router_subscribe(r, &s2, 0), 0);
    router_set_layer(r, 30, SUB, 0, 0, 0);
    router_set_layer(r, 30, SUB2, 99, 99, 0);
    n_sent = 0;
    send_vp8(r, 100, 0xC0, "lo", true, 10, 1, 0, false, 10);
    send_vp8(r, 900, 0xC1, "hi", true, 500, 1, 0, false, 10);
    send_vp8(r, 101, 0xC0, NULL, false, 11, 2, 0, false, 40);
    send_vp8(r, 901, 0xC1, NULL, false, 501, 2, 2, false, 40); /* TID 2: SUB2 wants it */
    /* SUB2 started on the low keyframe (the first it could use), then moved up. */
    CHECK_INT(count_to(SUB), 2);
    CHECK_INT(count_to(SUB2), 3);
    /* A gap on the top layer is NACKed upstream for its SSRC; the repair, on another SSRC
     * with the repaired rid, is learnt and forwarded as the original. */
    n_sent = 0;
    send_vp8(r, 903, 0xC1, NULL, false, 503, 3, 0, false, 80);
    CHECK_INT(count_to(SUB2), 1);
    uint8_t rtx[32] = {0x03, 0x86}; /* OSN 902 */
    size_t n = 2 + vp8_payload(rtx + 2, false, 502, 2, 1, false);
    send_layer(r, 97, 7, 3000u * 502, 0xC3, "hi", true, rtx, n, 90);
    CHECK_INT(count_to(SUB2), 2);
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.rtx_in, 1);
    CHECK(st.nacks_upstream >= 1);
    router_free(r);
}

/* H.264 simulcast: spatial switches on IDR pictures only, sequence numbers gapless. */
static void test_simulcast_h264(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = simulcast_track();
    t.codec[102] = ROUTER_CODEC_H264;
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(30, SUB, 0x6000);
    s.pt_map[102] = 102;
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x00}, delta[] = {0x41, 0x9a, 0x02, 0x00};
    n_sent = 0;
    send_layer(r, 102, 100, 0, 0xC0, "lo", false, delta, sizeof delta, 10); /* waits */
    send_layer(r, 102, 101, 3000, 0xC0, "lo", false, idr, sizeof idr, 20);
    send_layer(r, 102, 900, 3000, 0xC1, "hi", false, delta, sizeof delta, 20);
    send_layer(r, 102, 102, 6000, 0xC0, NULL, false, delta, sizeof delta, 40);
    send_layer(r, 102, 901, 6000, 0xC1, NULL, false, idr, sizeof idr, 40); /* switch */
    send_layer(r, 102, 103, 9000, 0xC0, NULL, false, delta, sizeof delta, 60);
    send_layer(r, 102, 902, 9000, 0xC1, NULL, false, delta, sizeof delta, 60);
    CHECK_INT(count_to(SUB), 4); /* lo 101, 102; hi 901, 902 */
    uint16_t first = 0;
    for (size_t k = 0; k < n_sent; k++) {
        rtp_header_t h;
        CHECK_INT(rtp_parse(sent[k].buf, sent[k].len, &h), 0);
        if (k == 0) first = h.seq;
        CHECK_INT(h.seq, (uint16_t)(first + k));
        CHECK_INT(h.ssrc, 0x6000);
        CHECK_INT(sent[k].buf[h.payload_off], k == 0 || k == 2 ? 0x65 : 0x41);
    }
    router_free(r);
}

/* A camera turned off and on again: the m-line's new track gets the SSRCs the ended one
 * learnt (the browser sends no more rids for them); another m-line does not. */
static void test_simulcast_track_restart(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = simulcast_track();
    CHECK_INT(router_add_track(r, &t), 0);
    send_vp8(r, 100, 0xC0, "lo", true, 10, 1, 0, false, 10);
    send_vp8(r, 900, 0xC1, "hi", true, 500, 1, 0, false, 10);
    router_remove_track(r, 30);
    router_track_t other = simulcast_track();
    other.id = 31;
    strcpy(other.mid, "2");
    CHECK_INT(router_add_track(r, &other), 0);
    t.id = 32;
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s1 = sub_of(32, SUB, 0x6000), s2 = sub_of(31, SUB2, 0x7000);
    CHECK_INT(router_subscribe(r, &s1, 20), 0);
    CHECK_INT(router_subscribe(r, &s2, 20), 0);
    n_sent = 0;
    send_vp8(r, 901, 0xC1, NULL, true, 501, 2, 0, false, 30);
    CHECK_INT(count_to(SUB), 1);
    CHECK_INT(count_to(SUB2), 0);
    router_free(r);
}

/* L1T3 (TID 0 2 1 2 0 ...) at temporal layer 0: only TID 0 goes out, with gapless
 * sequence numbers and PictureIDs; back up to 2, forwarding resumes at the next TID 0
 * (a TID 2 picture before it is not a sync point), or at a Y picture. */
static void test_temporal_layers(void)
{
    router_t *r = router_new(&OUT);
    router_track_t t = video_track();
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(20, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    static const uint8_t tids[] = {0, 2, 1, 2, 0, 2, 1, 2, 0, 2, 1, 2, 0};
    n_sent = 0;
    send_vp8(r, 100, 0xB0, NULL, true, 1000, 9, 0, false, 0);
    router_set_layer(r, 20, SUB, 0, 0, 1);
    uint8_t tl0 = 9;
    for (uint16_t i = 1; i < 9; i++) {
        tl0 = (uint8_t)(tl0 + (tids[i] == 0));
        send_vp8(r, (uint16_t)(100 + i), 0xB0, NULL, false, (uint16_t)(1000 + i), tl0, tids[i],
                 tids[i] != 0 && i < 4, 33u * i);
    }
    CHECK_INT(count_to(SUB), 3); /* pictures 1000, 1004, 1008 */
    for (size_t k = 0; k < 3; k++) {
        uint16_t seq, pic, seq0 = 0, pic0 = 0;
        uint8_t t0, t00;
        CHECK(got_vp8(k, SUB, &seq, &pic, &t0));
        CHECK(got_vp8(0, SUB, &seq0, &pic0, &t00));
        CHECK_INT(seq, (uint16_t)(seq0 + k));
        CHECK_INT(pic, (uint16_t)(pic0 + k));
        CHECK_INT(t0, (uint8_t)(t00 + k));
    }
    router_stats_t st;
    router_get_stats(r, &st);
    CHECK_INT(st.dropped_layer, 6);
    /* Up again: 1009 (TID 2, no Y) waits; 1010 (TID 1, Y) is a sync point for layer 1
     * only; 1011 (TID 2) still waits; 1012 (TID 0) opens every layer. */
    router_set_layer(r, 20, SUB, 0, 2, 300);
    n_sent = 0;
    send_vp8(r, 109, 0xB0, NULL, false, 1009, 11, 2, false, 300);
    send_vp8(r, 110, 0xB0, NULL, false, 1010, 11, 1, true, 333);
    send_vp8(r, 111, 0xB0, NULL, false, 1011, 11, 2, false, 366);
    send_vp8(r, 112, 0xB0, NULL, false, 1012, 12, 0, false, 400);
    send_vp8(r, 113, 0xB0, NULL, false, 1013, 12, 2, false, 433);
    CHECK_INT(count_to(SUB), 3); /* 1010, 1012, 1013 */
    uint16_t seq, pic, prev_seq = 0, prev_pic = 0;
    uint8_t t0;
    for (size_t k = 0; k < 3; k++) {
        CHECK(got_vp8(k, SUB, &seq, &pic, &t0));
        if (k) CHECK_INT(seq, (uint16_t)(prev_seq + 1));
        if (k) CHECK_INT(pic, (uint16_t)(prev_pic + 1));
        prev_seq = seq;
        prev_pic = pic;
    }
    router_free(r);
}

static router_rates_t last_rates;
static uint32_t rates_track;
static int rates_calls;

static void layer_rates(void *arg, uint32_t track, const router_rates_t *rates)
{
    (void)arg;
    rates_calls++;
    rates_track = track;
    last_rates = *rates;
}

/* Each layer's rate by temporal layer, cumulative, once a second when it moved. */
static void test_layer_rates(void)
{
    router_out_t out = OUT;
    out.layer_rates = layer_rates;
    router_t *r = router_new(&out);
    router_track_t t = simulcast_track();
    CHECK_INT(router_add_track(r, &t), 0);
    uint8_t pl[1000];
    vp8_payload(pl, true, 1, 0, 0, false);
    /* In one second: low layer 10 TID 0 packets and 10 TID 1; top layer 20 packets of
     * TID 0 only. */
    for (uint16_t i = 0; i < 20; i++) {
        pl[5] = (uint8_t)((i % 2) << 6);
        send_layer(r, 96, i, 0, 0xC0, "lo", false, pl, 1000 - 24, 50u * i);
        pl[5] = 0;
        send_layer(r, 96, i, 0, 0xC1, "hi", false, pl, 1000 - 24, 50u * i);
    }
    rates_calls = 0;
    router_tick(r, 500);
    CHECK_INT(rates_calls, 0);
    router_tick(r, 1000);
    CHECK_INT(rates_calls, 1);
    CHECK_INT(rates_track, 30);
    /* 10 packets of 1000 bytes (24 of header and rid) = 80 kbit in the second. */
    CHECK_INT(last_rates.kbps[0][0], 80);
    CHECK_INT(last_rates.kbps[0][1], 160);
    CHECK_INT(last_rates.kbps[0][2], 160);
    CHECK_INT(last_rates.kbps[1][0], 160);
    CHECK_INT(last_rates.kbps[1][2], last_rates.kbps[1][0]);
    CHECK_INT(last_rates.kbps[2][0], 0);
    /* The same rates a second later: not reported again; silence is. */
    for (uint16_t i = 20; i < 40; i++) {
        pl[5] = (uint8_t)((i % 2) << 6);
        send_layer(r, 96, i, 0, 0xC0, NULL, false, pl, 1000 - 30, 1000u + 50u * (i - 20));
        pl[5] = 0;
        send_layer(r, 96, i, 0, 0xC1, NULL, false, pl, 1000 - 30, 1000u + 50u * (i - 20));
    }
    router_tick(r, 2000);
    CHECK_INT(rates_calls, 1);
    router_tick(r, 3000);
    CHECK_INT(rates_calls, 2);
    CHECK_INT(last_rates.kbps[1][2], 0);
    router_free(r);
}

/* A sender listing its rids highest first: the widths of the VP8 key frames put the
 * layers in order (spatial 0 is the smallest picture), for targets and rates alike. */
static void test_simulcast_order_by_width(void)
{
    router_out_t out = OUT;
    out.layer_rates = layer_rates;
    router_t *r = router_new(&out);
    router_track_t t = simulcast_track();
    strcpy(t.rids[0], "hi");
    strcpy(t.rids[1], "lo");
    CHECK_INT(router_add_track(r, &t), 0);
    router_sub_t s = sub_of(30, SUB, 0x6000);
    CHECK_INT(router_subscribe(r, &s, 0), 0);
    router_set_layer(r, 30, SUB, 0, 2, 0);
    /* Key frames: descriptor, frame tag, start code, width and height (640x360, 320x180). */
    uint8_t big[] = {0x90, 0xe0, 0x80, 10,   1,    0x00, 0x50, 0x2a, 0x00, 0x9d,
                     0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 0x00, 0x00, 0x00, 0x00};
    uint8_t small[sizeof big];
    memcpy(small, big, sizeof big);
    small[12] = 0x40;
    small[13] = 0x01;
    small[14] = 0xb4;
    small[15] = 0x00;
    n_sent = 0;
    send_layer(r, 96, 900, 0, 0xC1, "hi", false, big, sizeof big, 10);
    send_layer(r, 96, 100, 0, 0xC0, "lo", false, small, sizeof small, 10);
    send_layer(r, 96, 901, 0, 0xC1, NULL, false, big, sizeof big, 40);
    send_layer(r, 96, 101, 0, 0xC0, NULL, false, small, sizeof small, 40);
    /* Until both widths are known the rids' order holds: the first key frame ("hi", then
     * spatial 0) starts the subscriber; "lo" then turns out smaller and becomes spatial 0:
     * its key frame switches the subscriber there, and it stays. */
    CHECK_INT(count_to(SUB), 3);
    rtp_header_t h;
    vp8_desc_t d;
    CHECK_INT(rtp_parse(sent[n_sent - 1].buf, sent[n_sent - 1].len, &h), 0);
    CHECK_INT(vp8_parse(sent[n_sent - 1].buf + h.payload_off, h.payload_len, &d), 0);
    CHECK_INT(d.width, 320);
    uint8_t delta[sizeof big];
    memcpy(delta, big, sizeof big);
    delta[6] = 0x51;
    send_layer(r, 96, 102, 0, 0xC0, NULL, false, delta, sizeof delta, 70);
    send_layer(r, 96, 103, 0, 0xC0, NULL, false, delta, sizeof delta, 70);
    rates_calls = 0;
    router_tick(r, 1000);
    CHECK_INT(rates_calls, 1);
    CHECK(last_rates.kbps[0][2] > last_rates.kbps[1][2]); /* "lo" sent twice as much */
    router_free(r);
}

int main(void)
{
    test_audio_forwarding_and_mute();
    test_video_keyframes();
    test_nack_rtx();
    test_nack_cache_by_bytes();
    test_sender_report_bye_and_removal();
    test_upstream_repair_and_receiver_reports();
    test_keyframe_request_retried();
    test_speaking();
    test_remb_holds_the_cap();
    test_pause_one_subscriber();
    test_abs_send_time_and_estimates();
    test_transport_cc_and_probing();
    test_simulcast_switching();
    test_simulcast_two_subscribers();
    test_simulcast_track_restart();
    test_simulcast_h264();
    test_simulcast_order_by_width();
    test_temporal_layers();
    test_layer_rates();
    TEST_END();
}
