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
    router_rtp(r, PUB, p, len, now);
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
    /* Unknown SSRC, unnegotiated payload type, garbage: nothing goes out. */
    n_sent = 0;
    send_rtp(r, 111, 1, 1, 0xDEAD, OPUS, sizeof OPUS, 300);
    send_rtp(r, 8, 1011, 9999, 0xA0, OPUS, sizeof OPUS, 300);
    uint8_t junk[7] = {0x80, 1, 2};
    router_rtp(r, PUB, junk, sizeof junk, 300);
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
    router_rtp(r, PUB, pkt, sizeof pkt, 1500);
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

int main(void)
{
    test_audio_forwarding_and_mute();
    test_video_keyframes();
    test_nack_rtx();
    test_sender_report_bye_and_removal();
    test_upstream_repair_and_receiver_reports();
    test_keyframe_request_retried();
    test_speaking();
    test_remb_holds_the_cap();
    test_pause_one_subscriber();
    test_abs_send_time_and_estimates();
    test_transport_cc_and_probing();
    TEST_END();
}
