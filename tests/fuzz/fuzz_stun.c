/* libFuzzer target: stun_parse, the integrity and fingerprint checks, the builders and
 * ice_handle_stun on arbitrary bytes.
 *
 * Random bytes almost never carry a valid MESSAGE-INTEGRITY, so each input that parses
 * is also re-signed (MAC and CRC recomputed with the ICE password) and fed to ICE again:
 * that reaches the nomination and address-change code. The credentials are those of the
 * RFC 5769 vectors, so the seed corpus authenticates as is. Invariants that must hold
 * for any input abort the run when broken. */
#include "ice.h"
#include "stun.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define UFRAG_LOCAL  "evtj"
#define UFRAG_REMOTE "h6vY"
#define PASSWORD     "VOkJxbRl1RmTxUk/WvJxBt"

static void require(int cond)
{
    if (!cond) abort();
}

static void check_views(const uint8_t *p, size_t len, const stun_msg_t *m)
{
    const stun_view_t *views[] = {&m->username, &m->realm, &m->nonce, &m->software,
                                  &m->error_reason};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        if (views[i]->ptr)
            require(views[i]->ptr >= p && views[i]->len <= len &&
                    (size_t)(views[i]->ptr - p) <= len - views[i]->len);
    if (m->present & STUN_HAS_INTEGRITY)
        require(m->integrity_off >= STUN_HEADER_LEN && m->integrity_off + 24 <= len);
    if (m->present & STUN_HAS_FINGERPRINT) require(m->fingerprint_off + 8 == len);
}

/* Recomputes MESSAGE-INTEGRITY and FINGERPRINT of a parsed message in place. */
static void resign(uint8_t *p, const stun_msg_t *m)
{
    if (m->present & STUN_HAS_INTEGRITY) {
        size_t mi = m->integrity_off, body = mi + 24 - STUN_HEADER_LEN;
        uint8_t saved[2] = {p[2], p[3]};
        p[2] = (uint8_t)(body >> 8), p[3] = (uint8_t)body;
        unsigned n = 0;
        HMAC(EVP_sha1(), PASSWORD, (int)strlen(PASSWORD), p, mi, p + mi + 4, &n);
        p[2] = saved[0], p[3] = saved[1];
    }
    if (m->present & STUN_HAS_FINGERPRINT) {
        size_t fp = m->fingerprint_off;
        uint32_t crc = stun_crc32(0, p, fp) ^ STUN_FINGERPRINT_XOR;
        p[fp + 4] = (uint8_t)(crc >> 24), p[fp + 5] = (uint8_t)(crc >> 16);
        p[fp + 6] = (uint8_t)(crc >> 8), p[fp + 7] = (uint8_t)crc;
    }
}

/* Builds one of a few source addresses from a selector byte. */
static socklen_t pick_addr(uint8_t sel, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (sel & 1) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)(5000 + (sel >> 1 & 3)));
        s6->sin6_addr.s6_addr[0] = 0x20, s6->sin6_addr.s6_addr[1] = 0x01;
        s6->sin6_addr.s6_addr[15] = (uint8_t)(sel >> 3 & 1);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)(5000 + (sel >> 1 & 3)));
    s4->sin_addr.s_addr = htonl(0xc0000201u + (sel >> 3 & 1));
    return sizeof *s4;
}

/* Every response ICE builds must parse, carry the right transaction and be sound. */
static void check_reply(const uint8_t *req, const uint8_t *out, size_t outlen, int rc)
{
    if (!outlen) return;
    stun_msg_t r;
    require(stun_parse(out, outlen, &r) == 0);
    require(memcmp(r.txid, req + 8, STUN_TXID_LEN) == 0);
    require(stun_check_fingerprint(out, outlen, &r) == 0);
    require((rc == 0) == (r.cls == STUN_CLASS_SUCCESS));
    if (r.present & STUN_HAS_INTEGRITY)
        require(stun_check_integrity(out, outlen, &r, (const uint8_t *)PASSWORD,
                                     strlen(PASSWORD)) == 0);
}

static void feed_ice(ice_t *ice, const uint8_t *p, size_t len, uint8_t sel, uint64_t now)
{
    struct sockaddr_storage from;
    socklen_t fromlen = pick_addr(sel, &from);
    uint8_t out[STUN_MAX_MSG_LEN];
    size_t outlen = 0;
    int rc = ice_handle_stun(ice, p, len, (struct sockaddr *)&from, fromlen, now, out, sizeof out,
                             &outlen);
    check_reply(p, out, outlen, rc);
    if (rc == 0 && outlen) require(ice_addr_verified(ice, (struct sockaddr *)&from));
    ice_note_rx(ice, (struct sockaddr *)&from, now);
    if (ice_state(ice) == ICE_STATE_CONNECTED) {
        struct sockaddr_storage s;
        require(ice_selected_addr(ice, &s) == 0);
        require(ice_addr_verified(ice, (struct sockaddr *)&s));
    }
}

static void round_trip(const stun_msg_t *m)
{
    uint8_t out[STUN_MAX_MSG_LEN];
    stun_msg_t r;
    if (m->present & STUN_HAS_XOR_MAPPED) {
        int n = stun_build_binding_success(out, sizeof out, m->txid,
                                           (const struct sockaddr *)&m->xor_mapped,
                                           (const uint8_t *)PASSWORD, strlen(PASSWORD));
        require(n > 0 && stun_parse(out, (size_t)n, &r) == 0);
    }
    if (m->present & STUN_HAS_ERROR_CODE) {
        int n = stun_build_error(
            out, sizeof out, m->method, m->txid, m->error_code, NULL, m->unknown_types,
            m->unknown_count < STUN_MAX_UNKNOWN ? m->unknown_count : STUN_MAX_UNKNOWN, NULL, 0);
        require(n > 0 && stun_parse(out, (size_t)n, &r) == 0 && r.error_code == m->error_code);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stun_msg_t m;
    int rc = stun_parse(data, size, &m);
    ice_t *ice = ice_new(UFRAG_LOCAL, PASSWORD, UFRAG_REMOTE, NULL);
    require(ice != NULL);
    uint8_t sel = size ? data[size - 1] : 0;
    feed_ice(ice, data, size, sel, 1000);
    if (rc == 0) {
        check_views(data, size, &m);
        stun_check_integrity(data, size, &m, (const uint8_t *)PASSWORD, strlen(PASSWORD));
        stun_check_fingerprint(data, size, &m);
        round_trip(&m);
        uint8_t copy[STUN_MAX_MSG_LEN];
        memcpy(copy, data, size);
        resign(copy, &m);
        stun_msg_t m2;
        require(stun_parse(copy, size, &m2) == 0);
        if (m2.present & STUN_HAS_INTEGRITY)
            require(stun_check_integrity(copy, size, &m2, (const uint8_t *)PASSWORD,
                                         strlen(PASSWORD)) == 0);
        if (m2.present & STUN_HAS_FINGERPRINT)
            require(stun_check_fingerprint(copy, size, &m2) == 0);
        /* The same check from several addresses over time: selection and consent. */
        for (uint8_t i = 0; i < 4; i++)
            feed_ice(ice, copy, size, (uint8_t)(sel + i * 3), 1000 + (uint64_t)i * 1500);
    }
    require(ice_poll(ice, 1000 + ICE_CONSENT_TIMEOUT_MS + 5000) == ICE_EV_NONE ||
            ice_state(ice) == ICE_STATE_CLOSED);
    ice_free(ice);
    return 0;
}
