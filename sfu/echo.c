#include "echo.h"

#include <stdbool.h>

#include "bytes.h"

/* Maps the SSRC at p in the given direction; unknown SSRCs are left alone. */
static void map_at(const echo_map_t *map, uint8_t *p, bool to_out)
{
    uint32_t v = rd32(p);
    for (size_t i = 0; i < map->n; i++) {
        uint32_t from = to_out ? map->streams[i].in : map->streams[i].out;
        if (v == from) {
            wr32(p, to_out ? map->streams[i].out : map->streams[i].in);
            return;
        }
    }
}

int echo_rtp(const echo_map_t *map, uint8_t *pkt, size_t len)
{
    if (len < 12) return -1;
    uint32_t ssrc = rd32(pkt + 8);
    for (size_t i = 0; i < map->n; i++) {
        if (map->streams[i].in == ssrc) {
            wr32(pkt + 8, map->streams[i].out);
            return 0;
        }
    }
    return -1;
}

/* Report blocks (24 bytes each) start at `off` in an SR or RR. */
static void map_blocks(const echo_map_t *map, uint8_t *p, size_t off, unsigned count, size_t len)
{
    for (unsigned i = 0; i < count && off + 24 <= len; i++, off += 24)
        map_at(map, p + off, false);
}

static void mirror_one(const echo_map_t *map, uint8_t *p, size_t len)
{
    unsigned count = p[0] & 0x1f;
    switch (p[1]) {
    case 200: /* SR: sender SSRC, 20 bytes of sender info, report blocks */
        map_at(map, p + 4, true);
        map_blocks(map, p, 28, count, len);
        break;
    case 201: /* RR: the reporter's SSRC is the participant's, mapped like an SR's lest it
               * come back as its own SSRC (a collision, RFC 3550 section 8.2) */
        map_at(map, p + 4, true);
        map_blocks(map, p, 8, count, len);
        break;
    case 202: /* SDES: the first chunk's SSRC (browsers send one chunk) */
        if (count > 0) map_at(map, p + 4, true);
        break;
    case 203: /* BYE: count SSRCs, all the participant's */
        for (size_t off = 4; count > 0 && off + 4 <= len; count--, off += 4)
            map_at(map, p + off, true);
        break;
    case 205: /* RTPFB (NACK...) and PSFB (PLI, FIR...): the sender SSRC is the
               * participant's, like an RR's; the media source SSRC is one we send */
    case 206:
        map_at(map, p + 4, true);
        if (len >= 12) map_at(map, p + 8, false);
        if (p[1] == 206 && count == 4) /* FIR: the SSRC is in each FCI entry */
            for (size_t off = 12; off + 8 <= len; off += 8)
                map_at(map, p + off, false);
        break;
    }
}

int echo_rtcp(const echo_map_t *map, uint8_t *pkt, size_t len)
{
    size_t off = 0;
    if (len == 0) return -1; /* a compound packet holds at least one packet */
    while (off < len) {
        if (len - off < 4 || (pkt[off] >> 6) != 2) return -1;
        size_t plen = 4 * ((size_t)(pkt[off + 2] << 8 | pkt[off + 3]) + 1);
        if (plen > len - off || plen < 8) return -1;
        mirror_one(map, pkt + off, plen);
        off += plen;
    }
    return 0;
}
