/* RFC 7983 first-byte demultiplexing; see demux.h. */
#include "demux.h"

demux_kind_t demux_classify(const uint8_t *p, size_t len)
{
    if (!p || len == 0) return DEMUX_UNKNOWN;
    uint8_t b = p[0];
    if (b <= 3) return len >= DEMUX_MIN_STUN ? DEMUX_STUN : DEMUX_UNKNOWN;
    if (b >= 20 && b <= 63) return len >= DEMUX_MIN_DTLS ? DEMUX_DTLS : DEMUX_UNKNOWN;
    if (b >= 128 && b <= 191) {
        if (len < 2) return DEMUX_UNKNOWN;
        /* RFC 5761: RTCP packet types 192..223 never collide with RTP payload types
         * once the marker bit is included, because RTP avoids PTs 64..95. */
        if (p[1] >= 192 && p[1] <= 223) return len >= DEMUX_MIN_RTCP ? DEMUX_RTCP : DEMUX_UNKNOWN;
        return len >= DEMUX_MIN_RTP ? DEMUX_RTP : DEMUX_UNKNOWN;
    }
    return DEMUX_UNKNOWN;
}

const char *demux_kind_name(demux_kind_t kind)
{
    switch (kind) {
    case DEMUX_STUN:
        return "stun";
    case DEMUX_DTLS:
        return "dtls";
    case DEMUX_RTP:
        return "rtp";
    case DEMUX_RTCP:
        return "rtcp";
    case DEMUX_UNKNOWN:
        break;
    }
    return "unknown";
}
