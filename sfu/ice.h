/* ice: the ICE-lite side of one transport (RFC 8445 section 2.5), sans-I/O.
 *
 * The server never sends connectivity checks; it answers the browser's Binding requests
 * and learns from them which 5-tuple to use. One ice_t per transport:
 *
 *   - a Binding request is accepted when USERNAME is "<local ufrag>:<remote ufrag>"
 *     (the sender puts OUR ufrag first), MESSAGE-INTEGRITY verifies with OUR password
 *     and FINGERPRINT, when present, is right; it is answered with XOR-MAPPED-ADDRESS,
 *     MESSAGE-INTEGRITY and FINGERPRINT, and the source address becomes verified;
 *   - USE-CANDIDATE on an accepted check selects its source address (state CONNECTED);
 *   - selection rule for later checks (network change, RFC 8445 section 8.1.1 lets the
 *     controlling agent renominate): a valid check WITH USE-CANDIDATE from another
 *     address always moves the selected address there; a valid check WITHOUT
 *     USE-CANDIDATE from another address moves it only when the selected address has
 *     been silent for more than ICE_SILENCE_MS, silence meaning neither a valid check nor
 *     traffic reported with ice_note_rx() (so a backup pair being probed never steals a
 *     working path);
 *   - consent (RFC 7675): once CONNECTED, when the selected address has passed no check
 *     for ICE_CONSENT_TIMEOUT_MS, ice_poll() reports ICE_EV_CONSENT_EXPIRED once and the
 *     transport is CLOSED for good (it then answers nothing);
 *   - the agent is always controlled: a check carrying ICE-CONTROLLED (the peer thinks
 *     it is controlled too) gets 487 Role Conflict;
 *   - refusals: a wrong USERNAME or MESSAGE-INTEGRITY gets 401, a request without
 *     USERNAME or MESSAGE-INTEGRITY, with malformed attributes or of a method other than
 *     Binding gets 400, unknown comprehension-required attributes get 420; none of them
 *     changes any state. Datagrams that are not a STUN request with a valid header
 *     (garbage, responses, bad FINGERPRINT) are dropped without an answer. Binding
 *     indications (keepalives) are ignored.
 *
 * Packets from an address that never passed a check must be dropped by the caller
 * (ice_addr_verified): no answer to DTLS or SRTP from a spoofed source.
 *
 * Thread: ice_new, ice_free and ice_gen_credentials may run on the control plane (they
 * allocate or draw randomness); every other call on a given ice_t comes from the one
 * media worker thread that owns it. Time is always a parameter (monotonic ms). */
#ifndef SOBRE_ICE_H
#define SOBRE_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct ice ice_t;

typedef enum ice_state {
    ICE_STATE_NEW = 0,   /* no nomination yet */
    ICE_STATE_CONNECTED, /* a selected address exists */
    ICE_STATE_CLOSED,    /* consent expired: the transport is dead */
} ice_state_t;

/* Generated credential lengths and the limits accepted (RFC 8839 section 5.4). */
#define ICE_UFRAG_LEN 8
#define ICE_PWD_LEN   24
#define ICE_MIN_UFRAG 4
#define ICE_MIN_PWD   22
#define ICE_MAX_CRED  256

#define ICE_CONSENT_TIMEOUT_MS 30000 /* RFC 7675 */
#define ICE_SILENCE_MS         2000  /* see the selection rule above */
#define ICE_MAX_ADDRS          8     /* verified addresses remembered per transport */

/* ice_poll events. */
#define ICE_EV_NONE            0
#define ICE_EV_CONSENT_EXPIRED 1

/* ice_handle_stun and friends: negative codes. Whether a response was built is told by
 * *outlen, never by the code. */
enum {
    ICE_ERR_NOT_STUN = -1,        /* not a STUN message: dropped */
    ICE_ERR_NOT_REQUEST = -2,     /* a response, or an indication of another method: dropped */
    ICE_ERR_BAD_REQUEST = -3,     /* 400 built */
    ICE_ERR_BAD_USERNAME = -4,    /* 401 built */
    ICE_ERR_BAD_INTEGRITY = -5,   /* 401 built */
    ICE_ERR_BAD_FINGERPRINT = -6, /* dropped (RFC 8489 section 14.7: not STUN) */
    ICE_ERR_UNKNOWN_ATTR = -7,    /* 420 built */
    ICE_ERR_ROLE_CONFLICT = -8,   /* 487 built */
    ICE_ERR_CLOSED = -9,          /* consent expired earlier: dropped */
    ICE_ERR_NOSPACE = -10,        /* the output buffer cannot hold the response */
    ICE_ERR_INVAL = -11,          /* bad argument (NULL, unsupported address family...) */
    ICE_ERR_RAND = -12,           /* RAND_bytes failed */
    ICE_ERR_NO_ADDR = -13,        /* no selected address yet */
    ICE_ERR_UNEXPECTED = -14,     /* controlling side: not a response to our pending check */
    ICE_ERR_CHECK_FAILED = -15,   /* controlling side: the peer answered with an error */
};

/* Per-transport counters, by outcome. */
typedef struct ice_stats {
    uint64_t checks;          /* valid Binding requests answered with success */
    uint64_t nominations;     /* of which carried USE-CANDIDATE */
    uint64_t addr_changes;    /* times the selected address moved */
    uint64_t indications;     /* Binding indications ignored */
    uint64_t not_stun;        /* dropped: not STUN */
    uint64_t not_request;     /* dropped: responses, other indications */
    uint64_t bad_request;     /* 400 */
    uint64_t bad_username;    /* 401, wrong USERNAME */
    uint64_t bad_integrity;   /* 401, wrong MESSAGE-INTEGRITY */
    uint64_t bad_fingerprint; /* dropped */
    uint64_t unknown_attr;    /* 420 */
    uint64_t role_conflict;   /* 487 */
    uint64_t after_close;     /* dropped after consent expiry */
} ice_stats_t;

/* Creates the ICE state of one transport. local_ufrag/local_pwd are ours (as put in our
 * SDP), remote_ufrag/remote_pwd the browser's; remote ones may be NULL when not known
 * yet (set them with ice_set_remote): until then any "<local ufrag>:<non-empty>"
 * USERNAME is accepted, MESSAGE-INTEGRITY still authenticating the peer. Strings are
 * copied. ufrags need 4..256 and passwords 22..256 ice-chars ([A-Za-z0-9+/]).
 * Returns NULL on invalid credentials or out of memory. */
ice_t *ice_new(const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
               const char *remote_pwd);

/* Frees ice; ice_free(NULL) is a no-op. */
void ice_free(ice_t *ice);

/* Sets or replaces the remote credentials (e.g. when the answer arrives after the first
 * checks). Returns 0 or ICE_ERR_INVAL (ice unchanged). */
int ice_set_remote(ice_t *ice, const char *remote_ufrag, const char *remote_pwd);

/* ICE restart (RFC 8445 section 9): both sides' credentials change. The selected
 * address and the addresses already verified stay usable (media goes on while the peer
 * checks with the new credentials); checks with the old ones fail from now on.
 * Returns 0 or ICE_ERR_INVAL (ice unchanged). */
int ice_restart(ice_t *ice, const char *local_ufrag, const char *local_pwd,
                const char *remote_ufrag, const char *remote_pwd);

/* Fills ufrag with ICE_UFRAG_LEN and pwd with ICE_PWD_LEN random ice-chars (OpenSSL
 * RAND_bytes), NUL-terminated. Thread-safe. Returns 0 or ICE_ERR_RAND. */
int ice_gen_credentials(char ufrag[ICE_UFRAG_LEN + 1], char pwd[ICE_PWD_LEN + 1]);

/* Handles one datagram pkt[0..len) that demux classified as STUN, received at now_ms
 * from from/fromlen (AF_INET, AF_INET6). When an answer is due it is written to
 * out[0..outcap) and its length stored in *outlen (0 otherwise); the caller sends it to
 * from. Returns 0 for an accepted check (or an ignored indication), else a negative
 * ICE_ERR_* saying why it was refused or dropped (see the header comment). */
int ice_handle_stun(ice_t *ice, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                    socklen_t fromlen, uint64_t now_ms, uint8_t *out, size_t outcap,
                    size_t *outlen);

/* Advances timers to now_ms. Returns ICE_EV_CONSENT_EXPIRED once, when consent has just
 * expired (the state is then CLOSED), else ICE_EV_NONE. Also forgets verified addresses
 * that passed no check for ICE_CONSENT_TIMEOUT_MS. */
int ice_poll(ice_t *ice, uint64_t now_ms);

/* When ice_poll next has something to do (absolute ms), or UINT64_MAX if nothing. */
uint64_t ice_next_timeout(const ice_t *ice);

/* Tells ICE that an authenticated packet (DTLS, SRTP after unprotect) came from addr at
 * now_ms; only used to judge whether the selected address has gone silent. Unverified
 * addresses are ignored. addr points to a full sockaddr_in or sockaddr_in6. */
void ice_note_rx(ice_t *ice, const struct sockaddr *addr, uint64_t now_ms);

/* Copies the selected address into *out. Returns 0, or ICE_ERR_NO_ADDR when nothing is
 * selected (state NEW or CLOSED). */
int ice_selected_addr(const ice_t *ice, struct sockaddr_storage *out);

/* Whether addr (a full sockaddr_in or sockaddr_in6) has passed a check and may send
 * DTLS/SRTP; always false once CLOSED. */
bool ice_addr_verified(const ice_t *ice, const struct sockaddr *addr);

ice_state_t ice_state(const ice_t *ice);

/* Copies the counters. */
void ice_get_stats(const ice_t *ice, ice_stats_t *out);

/* ---- Controlling side (load generators and tests; the server never calls these) ----
 *
 * The same ice_t seen from the other end of the pair, as a browser is: it sends the
 * checks (USERNAME "<remote ufrag>:<local ufrag>", MESSAGE-INTEGRITY keyed with the
 * REMOTE password) and learns from their success responses which address works. One
 * check is outstanding at a time; retransmitting is the caller's business (build a new
 * one). A success response refreshes consent for ice_poll like a check does on the
 * controlled side, so a controlling caller must keep checking (RFC 7675: every few
 * seconds). Once an agent has built a check it is controlling for good: ice_handle_stun
 * then answers the peer's own checks (a full agent, or libnice even in lite mode, sends
 * triggered checks) when they carry ICE-CONTROLLED, and gives 487 to ICE-CONTROLLING. */

/* Builds a connectivity check as the controlling agent (RFC 8445 section 7.1.3) into
 * out[0..outcap): PRIORITY, ICE-CONTROLLING with tiebreaker, USE-CANDIDATE when nominate,
 * MESSAGE-INTEGRITY and FINGERPRINT, under a fresh random transaction id that replaces any
 * pending one. Returns 0 with *outlen set; ICE_ERR_INVAL when the remote credentials are
 * unknown, ICE_ERR_CLOSED, ICE_ERR_NOSPACE, or ICE_ERR_RAND. */
int ice_build_check(ice_t *ice, bool nominate, uint64_t tiebreaker, uint8_t *out, size_t outcap,
                    size_t *outlen);

/* Handles a STUN response received at now_ms from from/fromlen. It counts only when it
 * answers the pending check, carries a valid FINGERPRINT and MESSAGE-INTEGRITY keyed with
 * the remote password: then from becomes verified, and the selected address (state
 * CONNECTED) when the check nominated. Returns 0 for such a success response, else
 * ICE_ERR_NOT_STUN, ICE_ERR_UNEXPECTED (no pending check, other transaction, a request),
 * ICE_ERR_BAD_FINGERPRINT, ICE_ERR_BAD_INTEGRITY, ICE_ERR_CHECK_FAILED (an authentic
 * error response: the check is over, nothing selected), ICE_ERR_CLOSED or ICE_ERR_INVAL;
 * none of these changes the selection. */
int ice_handle_response(ice_t *ice, const uint8_t *pkt, size_t len, const struct sockaddr *from,
                        socklen_t fromlen, uint64_t now_ms);

/* A static English name for an ICE_ERR_* code, and for a state. */
const char *ice_strerror(int err);
const char *ice_state_name(ice_state_t state);

#endif
