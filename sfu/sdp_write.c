#include "sdp_write.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"

void sdp_put(sdp_writer_t *w, const char *fmt, ...)
{
    if (w->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->full = true;
        w->buf[w->len] = '\0';
        return;
    }
    w->len += (size_t)n;
}

int sdp_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

bool sdp_ice_string_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return true;
}

bool sdp_fingerprint_ok(const char *s)
{
    if (!s || strncmp(s, "sha-256 ", 8) != 0 || strlen(s) != 8 + 95) return false;
    for (size_t i = 0; i < 95; i++) {
        char c = s[8 + i];
        if (i % 3 == 2 ? c != ':' : !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

bool sdp_visible_ok(const char *s, size_t max, const char *except)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || strchr(except, s[i]))
            return false;
    return true;
}

int sdp_check_local(const char *ufrag, const char *pwd, const char *fingerprint, char *err,
                    size_t errlen)
{
    if (!sdp_ice_string_ok(ufrag, 4, 64))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "ice_ufrag: 4..64 characters of [A-Za-z0-9+/]");
    if (!sdp_ice_string_ok(pwd, 22, 128))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "ice_pwd: 22..128 characters of [A-Za-z0-9+/]");
    if (!sdp_fingerprint_ok(fingerprint))
        return sdp_fail(err, errlen, SDP_ERR_INVAL, "fingerprint: expected \"sha-256 AB:CD:...\"");
    return 0;
}
