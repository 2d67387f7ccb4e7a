/* sdp_write: what the SDP answer builder (sdp_answer.c) and the subscribe offer builder
 * (sdp_offer.c) share: a bounded text writer, the error helper, and the checks that make
 * the values they write parse back with sdp_parse. Internal to the sdp module.
 * Thread: any; no state. */
#ifndef SOBRE_SDP_WRITE_H
#define SOBRE_SDP_WRITE_H

#include <stdbool.h>
#include <stddef.h>

/* Appends to buf[0..cap); once something does not fit, `full` is set and nothing more is
 * written (buf stays NUL-terminated at the last whole write). */
typedef struct sdp_writer {
    char *buf;
    size_t cap, len;
    bool full;
} sdp_writer_t;

void sdp_put(sdp_writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the message into err (when given) and returns code. */
int sdp_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ICE ufrag/pwd characters ([A-Za-z0-9+/]), min..max of them. */
bool sdp_ice_string_ok(const char *s, size_t min, size_t max);

/* "sha-256 " and 32 upper-case hex bytes separated by colons. */
bool sdp_fingerprint_ok(const char *s);

/* Checks our own ICE credentials and fingerprint before they are written. Returns 0, or
 * SDP_ERR_INVAL with the field named in err. */
int sdp_check_local(const char *ufrag, const char *pwd, const char *fingerprint, char *err,
                    size_t errlen);

/* Visible ASCII, 1..max characters, none of them in except. */
bool sdp_visible_ok(const char *s, size_t max, const char *except);

#endif
