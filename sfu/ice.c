/* ICE-lite connectivity checks, nomination and consent; see ice.h. */
#include "ice.h"

#include "stun.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A transport address reduced to what identifies it: IPv4-mapped IPv6 addresses (from a
 * dual-stack socket) compare equal to plain IPv4 ones. */
typedef struct addr_key {
    uint8_t family; /* 4 or 6 */
    uint16_t port;
    uint32_t scope;
    uint8_t ip[16];
} addr_key_t;

/* An address that passed a check. */
typedef struct peer {
    bool used;
    addr_key_t key;
    struct sockaddr_storage sa; /* as the socket reported it, to send back to */
    uint64_t last_check_ms;     /* last valid check */
    uint64_t last_rx_ms;        /* last ice_note_rx */
} peer_t;

struct ice {
    char local_ufrag[ICE_MAX_CRED + 1];
    char local_pwd[ICE_MAX_CRED + 1];
    char remote_ufrag[ICE_MAX_CRED + 1]; /* "" when not known yet */
    char remote_pwd[ICE_MAX_CRED + 1];
    size_t local_ufrag_len, local_pwd_len, remote_ufrag_len;
    ice_state_t state;
    int selected; /* index into peers, or -1 */
    peer_t peers[ICE_MAX_ADDRS];
    ice_stats_t stats;
    /* Controlling side only: set by the first ice_build_check; the check awaiting its
     * response. */
    bool controlling, check_pending, check_nominate;
    uint8_t check_txid[STUN_TXID_LEN];
};

static const char ice_chars[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- credentials ------------------------------------------------------------------ */

/* Copies s into dst when it is min..ICE_MAX_CRED ice-chars; returns its length or -1. */
static int copy_cred(char dst[ICE_MAX_CRED + 1], const char *s, size_t min)
{
    if (!s) return -1;
    size_t n = strnlen(s, ICE_MAX_CRED + 1);
    if (n < min || n > ICE_MAX_CRED) return -1;
    for (size_t i = 0; i < n; i++)
        if (!memchr(ice_chars, s[i], sizeof ice_chars)) return -1;
    memcpy(dst, s, n + 1);
    return (int)n;
}

ice_t *ice_new(const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
               const char *remote_pwd)
{
    ice_t *ice = calloc(1, sizeof *ice);
    if (!ice) return NULL;
    int u = copy_cred(ice->local_ufrag, local_ufrag, ICE_MIN_UFRAG);
    int p = copy_cred(ice->local_pwd, local_pwd, ICE_MIN_PWD);
    if (u < 0 || p < 0 || ice_set_remote(ice, remote_ufrag, remote_pwd) < 0) {
        ice_free(ice);
        return NULL;
    }
    ice->local_ufrag_len = (size_t)u;
    ice->local_pwd_len = (size_t)p;
    ice->state = ICE_STATE_NEW;
    ice->selected = -1;
    return ice;
}

void ice_free(ice_t *ice)
{
    if (!ice) return;
    OPENSSL_cleanse(ice, sizeof *ice); /* passwords */
    free(ice);
}

int ice_set_remote(ice_t *ice, const char *remote_ufrag, const char *remote_pwd)
{
    char ufrag[ICE_MAX_CRED + 1] = "", pwd[ICE_MAX_CRED + 1] = "";
    int u = 0;
    if (!ice) return ICE_ERR_INVAL;
    if (remote_ufrag && (u = copy_cred(ufrag, remote_ufrag, ICE_MIN_UFRAG)) < 0)
        return ICE_ERR_INVAL;
    if (remote_pwd && copy_cred(pwd, remote_pwd, ICE_MIN_PWD) < 0) return ICE_ERR_INVAL;
    memcpy(ice->remote_ufrag, ufrag, sizeof ufrag);
    memcpy(ice->remote_pwd, pwd, sizeof pwd);
    ice->remote_ufrag_len = (size_t)u;
    return 0;
}

int ice_restart(ice_t *ice, const char *local_ufrag, const char *local_pwd,
                const char *remote_ufrag, const char *remote_pwd)
{
    char ufrag[ICE_MAX_CRED + 1], pwd[ICE_MAX_CRED + 1];
    int u, p;
    if (!ice || (u = copy_cred(ufrag, local_ufrag, ICE_MIN_UFRAG)) < 0 ||
        (p = copy_cred(pwd, local_pwd, ICE_MIN_PWD)) < 0)
        return ICE_ERR_INVAL;
    /* ice_set_remote changes nothing when it fails. */
    if (ice_set_remote(ice, remote_ufrag, remote_pwd) != 0) return ICE_ERR_INVAL;
    memcpy(ice->local_ufrag, ufrag, sizeof ufrag);
    memcpy(ice->local_pwd, pwd, sizeof pwd);
    ice->local_ufrag_len = (size_t)u;
    ice->local_pwd_len = (size_t)p;
    return 0;
}

int ice_gen_credentials(char ufrag[ICE_UFRAG_LEN + 1], char pwd[ICE_PWD_LEN + 1])
{
    unsigned char r[ICE_UFRAG_LEN + ICE_PWD_LEN];
    if (!ufrag || !pwd || RAND_bytes(r, (int)sizeof r) != 1) return ICE_ERR_RAND;
    /* 64 symbols: the low six bits of a random byte pick one without bias. */
    for (size_t i = 0; i < ICE_UFRAG_LEN; i++)
        ufrag[i] = ice_chars[r[i] & 63];
    for (size_t i = 0; i < ICE_PWD_LEN; i++)
        pwd[i] = ice_chars[r[ICE_UFRAG_LEN + i] & 63];
    ufrag[ICE_UFRAG_LEN] = '\0';
    pwd[ICE_PWD_LEN] = '\0';
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

/* ---- addresses ---------------------------------------------------------------------- */

static int make_key(const struct sockaddr *sa, socklen_t salen, addr_key_t *k)
{
    memset(k, 0, sizeof *k);
    if (!sa) return ICE_ERR_INVAL;
    if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        k->family = 4;
        k->port = sin.sin_port;
        memcpy(k->ip, &sin.sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        k->port = sin6.sin6_port;
        if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
            k->family = 4;
            memcpy(k->ip, sin6.sin6_addr.s6_addr + 12, 4);
        } else {
            k->family = 6;
            k->scope = sin6.sin6_scope_id;
            memcpy(k->ip, sin6.sin6_addr.s6_addr, 16);
        }
        return 0;
    }
    return ICE_ERR_INVAL;
}

/* The length a full address of sa's family has (for callers that give none). */
static socklen_t full_len(const struct sockaddr *sa)
{
    if (sa && sa->sa_family == AF_INET) return sizeof(struct sockaddr_in);
    if (sa && sa->sa_family == AF_INET6) return sizeof(struct sockaddr_in6);
    return 0;
}

static bool key_eq(const addr_key_t *a, const addr_key_t *b)
{
    return a->family == b->family && a->port == b->port && a->scope == b->scope &&
           memcmp(a->ip, b->ip, sizeof a->ip) == 0;
}

static int find_peer(const ice_t *ice, const addr_key_t *k)
{
    for (int i = 0; i < ICE_MAX_ADDRS; i++)
        if (ice->peers[i].used && key_eq(&ice->peers[i].key, k)) return i;
    return -1;
}

/* Returns the slot for k: its own, a free one, or the least recently checked one that is
 * not selected. */
static int claim_peer(ice_t *ice, const addr_key_t *k, const struct sockaddr *sa, socklen_t salen)
{
    int i = find_peer(ice, k);
    if (i >= 0) return i;
    int victim = -1;
    for (i = 0; i < ICE_MAX_ADDRS; i++) {
        if (!ice->peers[i].used) {
            victim = i;
            break;
        }
        if (i != ice->selected &&
            (victim < 0 || ice->peers[i].last_check_ms < ice->peers[victim].last_check_ms))
            victim = i;
    }
    peer_t *p = &ice->peers[victim];
    memset(p, 0, sizeof *p);
    p->used = true;
    p->key = *k;
    memcpy(&p->sa, sa, (size_t)salen < sizeof p->sa ? (size_t)salen : sizeof p->sa);
    return victim;
}

/* ---- checks ------------------------------------------------------------------------- */

/* Builds an error response into out; returns the ICE code given, or ICE_ERR_NOSPACE. */
static int reply_error(ice_t *ice, const stun_msg_t *m, int code, int ice_err, bool sign,
                       uint8_t *out, size_t outcap, size_t *outlen)
{
    size_t n_unknown = 0;
    if (code == STUN_CODE_UNKNOWN_ATTR)
        n_unknown = m->unknown_count < STUN_MAX_UNKNOWN ? m->unknown_count : STUN_MAX_UNKNOWN;
    const uint8_t *key = sign ? (const uint8_t *)ice->local_pwd : NULL;
    int n = stun_build_error(out, outcap, m->method, m->txid, code, NULL, m->unknown_types,
                             n_unknown, key, ice->local_pwd_len);
    if (n < 0) return ICE_ERR_NOSPACE;
    *outlen = (size_t)n;
    return ice_err;
}

/* What to do with a datagram stun_parse refused: answer 400 only to a request whose
 * header was valid; anything else may not even be STUN and gets no answer. */
static int on_parse_error(ice_t *ice, int rc, const stun_msg_t *m, uint8_t *out, size_t outcap,
                          size_t *outlen)
{
    bool header_ok = rc <= STUN_ERR_ATTR_OVERRUN && rc >= STUN_ERR_AFTER_FINGERPRINT;
    if (!header_ok) {
        ice->stats.not_stun++;
        return ICE_ERR_NOT_STUN;
    }
    if (m->cls != STUN_CLASS_REQUEST) {
        ice->stats.not_request++;
        return ICE_ERR_NOT_REQUEST;
    }
    ice->stats.bad_request++;
    return reply_error(ice, m, STUN_CODE_BAD_REQUEST, ICE_ERR_BAD_REQUEST, false, out, outcap,
                       outlen);
}

static bool username_ok(const ice_t *ice, const stun_msg_t *m)
{
    const uint8_t *u = m->username.ptr;
    size_t n = m->username.len, l = ice->local_ufrag_len;
    if (n <= l + 1 || memcmp(u, ice->local_ufrag, l) != 0 || u[l] != ':') return false;
    if (ice->remote_ufrag_len == 0) /* remote not known yet: integrity decides */
        return true;
    return n - l - 1 == ice->remote_ufrag_len &&
           memcmp(u + l + 1, ice->remote_ufrag, ice->remote_ufrag_len) == 0;
}

/* Short-term credential checks (RFC 8489 section 9.1.3), FINGERPRINT first since a bad
 * one means the datagram is not STUN. Returns 0 when the request is authentic. */
static int authenticate(ice_t *ice, const uint8_t *pkt, size_t len, const stun_msg_t *m,
                        uint8_t *out, size_t outcap, size_t *outlen)
{
    if ((m->present & STUN_HAS_FINGERPRINT) && stun_check_fingerprint(pkt, len, m) < 0) {
        ice->stats.bad_fingerprint++;
        return ICE_ERR_BAD_FINGERPRINT;
    }
    if (!(m->present & STUN_HAS_USERNAME) || !(m->present & STUN_HAS_INTEGRITY)) {
        ice->stats.bad_request++;
        return reply_error(ice, m, STUN_CODE_BAD_REQUEST, ICE_ERR_BAD_REQUEST, false, out, outcap,
                           outlen);
    }
    if (!username_ok(ice, m)) {
        ice->stats.bad_username++;
        return reply_error(ice, m, STUN_CODE_UNAUTHORIZED, ICE_ERR_BAD_USERNAME, false, out, outcap,
                           outlen);
    }
    if (stun_check_integrity(pkt, len, m, (const uint8_t *)ice->local_pwd, ice->local_pwd_len) <
        0) {
        ice->stats.bad_integrity++;
        return reply_error(ice, m, STUN_CODE_UNAUTHORIZED, ICE_ERR_BAD_INTEGRITY, false, out,
                           outcap, outlen);
    }
    return 0;
}

static uint64_t last_heard(const peer_t *p)
{
    return p->last_check_ms > p->last_rx_ms ? p->last_check_ms : p->last_rx_ms;
}

/* Applies the selection rule of ice.h to a valid check from peer i. */
static void select_peer(ice_t *ice, int i, bool use_candidate, uint64_t now_ms)
{
    if (ice->selected == i) return;
    if (!use_candidate) {
        if (ice->selected < 0) return; /* only a nomination selects the first address */
        uint64_t heard = last_heard(&ice->peers[ice->selected]);
        if (now_ms <= heard || now_ms - heard <= ICE_SILENCE_MS) return;
    }
    if (ice->selected >= 0) ice->stats.addr_changes++;
    ice->selected = i;
    ice->state = ICE_STATE_CONNECTED;
}

static int on_valid_check(ice_t *ice, const stun_msg_t *m, const struct sockaddr *from,
                          socklen_t fromlen, const addr_key_t *k, uint64_t now_ms, uint8_t *out,
                          size_t outcap, size_t *outlen)
{
    int n = stun_build_binding_success(out, outcap, m->txid, from, (const uint8_t *)ice->local_pwd,
                                       ice->local_pwd_len);
    if (n < 0) return ICE_ERR_NOSPACE;
    *outlen = (size_t)n;
    int i = claim_peer(ice, k, from, fromlen);
    ice->peers[i].last_check_ms = now_ms;
    ice->stats.checks++;
    bool use_candidate = (m->present & STUN_HAS_USE_CANDIDATE) != 0;
    if (use_candidate) ice->stats.nominations++;
    select_peer(ice, i, use_candidate, now_ms);
    return 0;
}

int ice_handle_stun(ice_t *ice, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                    socklen_t fromlen, uint64_t now_ms, uint8_t *out, size_t outcap, size_t *outlen)
{
    addr_key_t k;
    if (outlen) *outlen = 0;
    if (!ice || !outlen || !out || make_key(from, fromlen, &k) < 0) return ICE_ERR_INVAL;
    if (ice->state == ICE_STATE_CLOSED) {
        ice->stats.after_close++;
        return ICE_ERR_CLOSED;
    }
    stun_msg_t m;
    int rc = stun_parse(pkt, len, &m);
    if (rc < 0) return on_parse_error(ice, rc, &m, out, outcap, outlen);
    if (m.cls == STUN_CLASS_INDICATION && m.method == STUN_METHOD_BINDING) {
        ice->stats.indications++;
        return 0;
    }
    if (m.cls != STUN_CLASS_REQUEST) {
        ice->stats.not_request++;
        return ICE_ERR_NOT_REQUEST;
    }
    if (m.method != STUN_METHOD_BINDING) {
        ice->stats.bad_request++;
        return reply_error(ice, &m, STUN_CODE_BAD_REQUEST, ICE_ERR_BAD_REQUEST, false, out, outcap,
                           outlen);
    }
    rc = authenticate(ice, pkt, len, &m, out, outcap, outlen);
    if (rc < 0) return rc;
    if (m.unknown_count) {
        ice->stats.unknown_attr++;
        return reply_error(ice, &m, STUN_CODE_UNKNOWN_ATTR, ICE_ERR_UNKNOWN_ATTR, true, out, outcap,
                           outlen);
    }
    if (m.present & (ice->controlling ? STUN_HAS_ICE_CONTROLLING : STUN_HAS_ICE_CONTROLLED)) {
        /* Both sides claim the same role; a lite agent cannot take the controlling role,
         * and a controlling one (load generator) keeps it. */
        ice->stats.role_conflict++;
        return reply_error(ice, &m, STUN_CODE_ROLE_CONFLICT, ICE_ERR_ROLE_CONFLICT, true, out,
                           outcap, outlen);
    }
    return on_valid_check(ice, &m, from, fromlen, &k, now_ms, out, outcap, outlen);
}

/* ---- controlling side ----------------------------------------------------------------- */

int ice_build_check(ice_t *ice, bool nominate, uint64_t tiebreaker, uint8_t *out, size_t outcap,
                    size_t *outlen)
{
    char user[2 * ICE_MAX_CRED + 2];
    if (outlen) *outlen = 0;
    if (!ice || !out || !outlen || ice->remote_ufrag_len == 0 || !ice->remote_pwd[0])
        return ICE_ERR_INVAL;
    if (ice->state == ICE_STATE_CLOSED) return ICE_ERR_CLOSED;
    snprintf(user, sizeof user, "%s:%s", ice->remote_ufrag, ice->local_ufrag);
    stun_binding_request_t req = {
        .username = user,
        /* RFC 8445 section 5.1.2.1: a host candidate, local preference 65535, RTP. */
        .priority = (126u << 24) | (65535u << 8) | 255u,
        .role = STUN_ROLE_CONTROLLING,
        .tiebreaker = tiebreaker,
        .use_candidate = nominate,
        .key = (const uint8_t *)ice->remote_pwd,
        .keylen = strlen(ice->remote_pwd),
    };
    if (RAND_bytes(req.txid, (int)sizeof req.txid) != 1) return ICE_ERR_RAND;
    int n = stun_build_binding_request(out, outcap, &req);
    if (n < 0) return ICE_ERR_NOSPACE;
    memcpy(ice->check_txid, req.txid, sizeof req.txid);
    ice->controlling = true;
    ice->check_pending = true;
    ice->check_nominate = nominate;
    *outlen = (size_t)n;
    return 0;
}

int ice_handle_response(ice_t *ice, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                        socklen_t fromlen, uint64_t now_ms)
{
    addr_key_t k;
    stun_msg_t m;
    if (!ice || make_key(from, fromlen, &k) < 0) return ICE_ERR_INVAL;
    if (ice->state == ICE_STATE_CLOSED) return ICE_ERR_CLOSED;
    if (stun_parse(pkt, len, &m) < 0) return ICE_ERR_NOT_STUN;
    if (!ice->check_pending || m.method != STUN_METHOD_BINDING ||
        (m.cls != STUN_CLASS_SUCCESS && m.cls != STUN_CLASS_ERROR) ||
        memcmp(m.txid, ice->check_txid, sizeof m.txid) != 0)
        return ICE_ERR_UNEXPECTED;
    if ((m.present & STUN_HAS_FINGERPRINT) && stun_check_fingerprint(pkt, len, &m) < 0)
        return ICE_ERR_BAD_FINGERPRINT;
    /* RFC 8489: 400 and 401 answer requests the peer could not authenticate, unsigned. */
    if (m.cls == STUN_CLASS_ERROR && !(m.present & STUN_HAS_INTEGRITY)) {
        ice->check_pending = false;
        return ICE_ERR_CHECK_FAILED;
    }
    if (stun_check_integrity(pkt, len, &m, (const uint8_t *)ice->remote_pwd,
                             strlen(ice->remote_pwd)) < 0)
        return ICE_ERR_BAD_INTEGRITY;
    ice->check_pending = false;
    if (m.cls == STUN_CLASS_ERROR) return ICE_ERR_CHECK_FAILED;
    int i = claim_peer(ice, &k, from, fromlen);
    ice->peers[i].last_check_ms = now_ms;
    ice->stats.checks++;
    if (ice->check_nominate) {
        ice->stats.nominations++;
        select_peer(ice, i, true, now_ms);
    }
    return 0;
}

/* ---- timers and queries --------------------------------------------------------------- */

static bool expired(uint64_t since_ms, uint64_t now_ms)
{
    return now_ms >= since_ms && now_ms - since_ms >= ICE_CONSENT_TIMEOUT_MS;
}

int ice_poll(ice_t *ice, uint64_t now_ms)
{
    if (!ice || ice->state == ICE_STATE_CLOSED) return ICE_EV_NONE;
    for (int i = 0; i < ICE_MAX_ADDRS; i++)
        if (i != ice->selected && ice->peers[i].used &&
            expired(ice->peers[i].last_check_ms, now_ms))
            ice->peers[i].used = false;
    if (ice->state != ICE_STATE_CONNECTED ||
        !expired(ice->peers[ice->selected].last_check_ms, now_ms))
        return ICE_EV_NONE;
    ice->state = ICE_STATE_CLOSED;
    ice->selected = -1;
    memset(ice->peers, 0, sizeof ice->peers);
    return ICE_EV_CONSENT_EXPIRED;
}

uint64_t ice_next_timeout(const ice_t *ice)
{
    if (!ice || ice->state == ICE_STATE_CLOSED) return UINT64_MAX;
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < ICE_MAX_ADDRS; i++) {
        uint64_t t = ice->peers[i].last_check_ms + ICE_CONSENT_TIMEOUT_MS;
        if (ice->peers[i].used && t < next) next = t;
    }
    return next;
}

void ice_note_rx(ice_t *ice, const struct sockaddr *addr, uint64_t now_ms)
{
    addr_key_t k;
    if (!ice || make_key(addr, full_len(addr), &k) < 0) return;
    int i = find_peer(ice, &k);
    if (i >= 0 && now_ms > ice->peers[i].last_rx_ms) ice->peers[i].last_rx_ms = now_ms;
}

int ice_selected_addr(const ice_t *ice, struct sockaddr_storage *out)
{
    if (!ice || !out || ice->selected < 0) return ICE_ERR_NO_ADDR;
    *out = ice->peers[ice->selected].sa;
    return 0;
}

bool ice_addr_verified(const ice_t *ice, const struct sockaddr *addr)
{
    addr_key_t k;
    if (!ice || ice->state == ICE_STATE_CLOSED || make_key(addr, full_len(addr), &k) < 0)
        return false;
    return find_peer(ice, &k) >= 0;
}

ice_state_t ice_state(const ice_t *ice)
{
    return ice ? ice->state : ICE_STATE_CLOSED;
}

void ice_get_stats(const ice_t *ice, ice_stats_t *out)
{
    if (!out) return;
    if (ice)
        *out = ice->stats;
    else
        memset(out, 0, sizeof *out);
}

const char *ice_strerror(int err)
{
    static const char *const names[] = {
        "ok",
        "not a STUN message",
        "not a STUN request",
        "bad request (400)",
        "wrong USERNAME (401)",
        "wrong MESSAGE-INTEGRITY (401)",
        "wrong FINGERPRINT",
        "unknown comprehension-required attribute (420)",
        "role conflict (487)",
        "transport closed: consent expired",
        "output buffer too small",
        "invalid argument",
        "RAND_bytes failed",
        "no selected address",
        "not a response to the pending check",
        "the check was answered with an error",
    };
    if (err > 0 || -err >= (int)(sizeof names / sizeof names[0])) return "unknown ICE error";
    return names[-err];
}

const char *ice_state_name(ice_state_t state)
{
    switch (state) {
    case ICE_STATE_NEW:
        return "new";
    case ICE_STATE_CONNECTED:
        return "connected";
    case ICE_STATE_CLOSED:
        return "closed";
    }
    return "unknown";
}
