/* srtp_conn: SRTP/SRTCP sessions on libsrtp2. See srtp_conn.h. */
#include "srtp_conn.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

_Static_assert(SRTP_CONN_TRAILER_ROOM >= SRTP_MAX_TRAILER_LEN + 4,
               "protect must leave libsrtp the room it documents");
_Static_assert(SRTP_CONN_MAX_OVERHEAD >= SRTP_MAX_TAG_LEN + 4, "tag plus SRTCP index");

#define RTP_HEADER_MIN  12
#define RTCP_HEADER_MIN 8
#define MASTER_MAX      (DTLS_SRTP_KEY_MAX + DTLS_SRTP_SALT_MAX)

struct srtp_conn {
    srtp_t in;  /* peer's key, ssrc_any_inbound */
    srtp_t out; /* our key, ssrc_any_outbound */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = SRTP_CONN_ERR_OTHER;

static void init_libsrtp(void)
{
    init_status = srtp_init() == srtp_err_status_ok ? 0 : SRTP_CONN_ERR_OTHER;
}

int srtp_conn_global_init(void)
{
    pthread_once(&init_once, init_libsrtp);
    return init_status;
}

static int map_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        return SRTP_CONN_ERR_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return SRTP_CONN_ERR_REPLAY;
    default:
        return SRTP_CONN_ERR_OTHER;
    }
}

/* Creates one session; the master key is key || salt, as libsrtp expects. */
static int make_session(srtp_t *out, const dtls_srtp_keys_t *k, int outbound)
{
    srtp_policy_t policy;
    uint8_t master[MASTER_MAX];
    memset(&policy, 0, sizeof policy);
    if (k->profile == DTLS_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&policy.rtp);
        srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
    }
    memcpy(master, outbound ? k->local_key : k->remote_key, k->key_len);
    memcpy(master + k->key_len, outbound ? k->local_salt : k->remote_salt, k->salt_len);
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = master;
    policy.window_size = 0;     /* libsrtp's default, 128 */
    policy.allow_repeat_tx = 0; /* see the header: retransmissions use RTX */
    policy.next = NULL;
    srtp_err_status_t st = srtp_create(out, &policy); /* copies the key */
    memset(master, 0, sizeof master);
    return st == srtp_err_status_ok ? 0 : SRTP_CONN_ERR_OTHER;
}

static int keys_valid(const dtls_srtp_keys_t *k)
{
    if (k->key_len != 16) return 0;
    if (k->profile == DTLS_SRTP_AEAD_AES_128_GCM) return k->salt_len == 12;
    if (k->profile == DTLS_SRTP_AES128_CM_SHA1_80) return k->salt_len == 14;
    return 0;
}

srtp_conn_t *srtp_conn_new(const dtls_srtp_keys_t *keys)
{
    srtp_conn_t *c = NULL;
    if (!keys || !keys_valid(keys) || srtp_conn_global_init() < 0) goto fail;
    c = calloc(1, sizeof *c);
    if (!c || make_session(&c->in, keys, 0) < 0 || make_session(&c->out, keys, 1) < 0) goto fail;
    return c;
fail:
    srtp_conn_free(c);
    return NULL;
}

void srtp_conn_free(srtp_conn_t *c)
{
    if (!c) return;
    if (c->in) srtp_dealloc(c->in);
    if (c->out) srtp_dealloc(c->out);
    free(c);
}

/* libsrtp counts in int; a sane packet is far below either limit. */
static int check_len(size_t len, size_t min)
{
    return len >= min && len <= INT_MAX - SRTP_CONN_TRAILER_ROOM;
}

int srtp_conn_unprotect_rtp(srtp_conn_t *c, uint8_t *pkt, size_t *len)
{
    if (!check_len(*len, RTP_HEADER_MIN)) return SRTP_CONN_ERR_OTHER;
    int n = (int)*len;
    int rc = map_status(srtp_unprotect(c->in, pkt, &n));
    if (rc == 0) *len = (size_t)n;
    return rc;
}

int srtp_conn_unprotect_rtcp(srtp_conn_t *c, uint8_t *pkt, size_t *len)
{
    if (!check_len(*len, RTCP_HEADER_MIN)) return SRTP_CONN_ERR_OTHER;
    int n = (int)*len;
    int rc = map_status(srtp_unprotect_rtcp(c->in, pkt, &n));
    if (rc == 0) *len = (size_t)n;
    return rc;
}

int srtp_conn_protect_rtp(srtp_conn_t *c, uint8_t *pkt, size_t *len, size_t cap)
{
    if (!check_len(*len, RTP_HEADER_MIN)) return SRTP_CONN_ERR_OTHER;
    if (cap < *len || cap - *len < SRTP_CONN_TRAILER_ROOM) return SRTP_CONN_ERR_SPACE;
    int n = (int)*len;
    int rc = map_status(srtp_protect(c->out, pkt, &n));
    if (rc == 0) *len = (size_t)n;
    return rc;
}

int srtp_conn_protect_rtcp(srtp_conn_t *c, uint8_t *pkt, size_t *len, size_t cap)
{
    if (!check_len(*len, RTCP_HEADER_MIN)) return SRTP_CONN_ERR_OTHER;
    if (cap < *len || cap - *len < SRTP_CONN_TRAILER_ROOM) return SRTP_CONN_ERR_SPACE;
    int n = (int)*len;
    int rc = map_status(srtp_protect_rtcp(c->out, pkt, &n));
    if (rc == 0) *len = (size_t)n;
    return rc;
}
