/* libFuzzer target: demux_classify on arbitrary bytes, checked against the RFC 7983
 * ranges and the minimum lengths; datagrams classified as STUN also go through
 * stun_parse, as in the worker. */
#include "demux.h"
#include "stun.h"

#include <stdlib.h>
#include <string.h>

static void require(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    demux_kind_t k = demux_classify(data, size);
    require(demux_kind_name(k) != NULL);
    switch (k) {
    case DEMUX_STUN:
        require(size >= DEMUX_MIN_STUN && data[0] <= 3);
        break;
    case DEMUX_DTLS:
        require(size >= DEMUX_MIN_DTLS && data[0] >= 20 && data[0] <= 63);
        break;
    case DEMUX_RTP:
        require(size >= DEMUX_MIN_RTP && data[0] >= 128 && data[0] <= 191);
        require(data[1] < 192 || data[1] > 223);
        break;
    case DEMUX_RTCP:
        require(size >= DEMUX_MIN_RTCP && data[0] >= 128 && data[0] <= 191);
        require(data[1] >= 192 && data[1] <= 223);
        break;
    case DEMUX_UNKNOWN:
        break;
    }
    /* A message stun_parse accepts with a first byte of 0..3 is routed to STUN. Larger
     * first bytes (STUN methods >= 0x100 would need them) belong to DTLS and others by
     * RFC 7983, even when the bytes happen to parse as STUN. */
    stun_msg_t m;
    if (stun_parse(data, size, &m) == 0 && data[0] <= 3) require(k == DEMUX_STUN);
    return 0;
}
