/* libFuzzer target: rtcp_next over a whole compound packet and every decoder on every
 * packet; what decodes is built again and must decode to the same values. Invariants
 * that must hold for any input abort the run when broken. */
#include "rtcp.h"

#include <stdlib.h>
#include <string.h>

static void require(int cond)
{
    if (!cond) abort();
}

static uint8_t out[4 * 65536 + 64];

static bool same_blocks(const rtcp_report_block_t *a, const rtcp_report_block_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].ssrc != b[i].ssrc || a[i].fraction_lost != b[i].fraction_lost ||
            a[i].cumulative_lost != b[i].cumulative_lost || a[i].highest_seq != b[i].highest_seq ||
            a[i].jitter != b[i].jitter || a[i].lsr != b[i].lsr || a[i].dlsr != b[i].dlsr)
            return false;
    return true;
}

/* Walks a built packet: exactly one packet of n bytes. */
static void one(int n, rtcp_pkt_t *pkt)
{
    require(n > 0);
    rtcp_iter_t it;
    rtcp_iter_init(&it, out, (size_t)n);
    require(rtcp_next(&it, pkt) == 1 && pkt->len == (size_t)n);
    require(rtcp_next(&it, pkt) == 0);
}

static void reports(const rtcp_pkt_t *pkt)
{
    static rtcp_sr_t sr, sr2;
    static rtcp_rr_t rr, rr2;
    rtcp_pkt_t b;
    if (rtcp_parse_sr(pkt, &sr) == 0) {
        require(sr.n_blocks <= RTCP_MAX_BLOCKS);
        one(rtcp_build_sr(out, sizeof out, &sr), &b);
        require(rtcp_parse_sr(&b, &sr2) == 0 && sr2.ntp == sr.ntp && sr2.ssrc == sr.ssrc);
        require(sr2.n_blocks == sr.n_blocks && same_blocks(sr.blocks, sr2.blocks, sr.n_blocks));
    }
    if (rtcp_parse_rr(pkt, &rr) == 0) {
        one(rtcp_build_rr(out, sizeof out, &rr), &b);
        require(rtcp_parse_rr(&b, &rr2) == 0 && rr2.n_blocks == rr.n_blocks);
        require(same_blocks(rr.blocks, rr2.blocks, rr.n_blocks));
    }
    rtcp_bye_t bye, bye2;
    if (rtcp_parse_bye(pkt, &bye) == 0) {
        if (bye.reason)
            require(bye.reason > pkt->body &&
                    bye.reason + bye.reason_len <= pkt->body + pkt->body_len);
        if (bye.n_ssrcs) {
            one(rtcp_build_bye(out, sizeof out, bye.ssrcs, bye.n_ssrcs), &b);
            require(rtcp_parse_bye(&b, &bye2) == 0 && bye2.n_ssrcs == bye.n_ssrcs);
            require(!memcmp(bye.ssrcs, bye2.ssrcs, 4 * bye.n_ssrcs));
        }
    }
}

static void feedback(const rtcp_pkt_t *pkt)
{
    rtcp_fb_t fb, fb2;
    rtcp_pkt_t b;
    if (rtcp_parse_fb(pkt, &fb) != 0) return;
    require(fb.fci >= pkt->body && fb.fci + fb.fci_len == pkt->body + pkt->body_len);
    static uint16_t seqs[20000], seqs2[20000];
    int n = rtcp_nack_seqs(&fb, seqs, 20000);
    if (n > 0 && n <= 20000) {
        one(rtcp_build_nack(out, sizeof out, fb.sender_ssrc, fb.media_ssrc, seqs, (size_t)n), &b);
        require(rtcp_parse_fb(&b, &fb2) == 0);
        int m = rtcp_nack_seqs(&fb2, seqs2, 20000);
        require(m > 0 && m <= n); /* duplicates are merged */
    }
    rtcp_twcc_t tw;
    rtcp_parse_twcc(&fb, &tw);
    int firs = rtcp_fir_count(&fb);
    for (int i = 0; i < firs; i++) {
        uint32_t ssrc;
        uint8_t seq;
        require(rtcp_fir_entry(&fb, (size_t)i, &ssrc, &seq) == 0);
        one(rtcp_build_fir(out, sizeof out, fb.sender_ssrc, ssrc, seq), &b);
    }
    static rtcp_remb_t remb, remb2;
    if (rtcp_parse_remb(&fb, &remb) == 0) {
        one(rtcp_build_remb(out, sizeof out, fb.sender_ssrc, remb.bitrate, remb.ssrcs,
                            remb.n_ssrcs),
            &b);
        require(rtcp_parse_fb(&b, &fb2) == 0 && rtcp_parse_remb(&fb2, &remb2) == 0);
        require(remb2.bitrate <= remb.bitrate && remb2.n_ssrcs == remb.n_ssrcs);
        if (remb.bitrate != UINT64_MAX) require(remb2.bitrate == remb.bitrate);
    }
    if (fb.pt == RTCP_PT_PSFB && fb.fmt == RTCP_PSFB_PLI)
        one(rtcp_build_pli(out, sizeof out, fb.sender_ssrc, fb.media_ssrc), &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtcp_iter_t it;
    rtcp_pkt_t pkt;
    int rc;
    size_t walked = 0;
    rtcp_iter_init(&it, data, size);
    while ((rc = rtcp_next(&it, &pkt)) > 0) {
        require(pkt.ptr == data + walked && pkt.len >= 4 && pkt.len % 4 == 0);
        require(pkt.body_len <= pkt.len - 4);
        walked += pkt.len;
        require(walked <= size);
        reports(&pkt);
        feedback(&pkt);
    }
    require(rtcp_next(&it, &pkt) == 0);
    require((rtcp_validate(data, size) == 0) == (rc == 0 && walked == size && size > 0));
    return 0;
}
