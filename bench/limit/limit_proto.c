/* See limit_proto.h. */
#include "limit_proto.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void limit_hello(uint8_t out[LIMIT_HELLO_LEN], uint32_t room, uint32_t part)
{
    memcpy(out, "LGHI", 4);
    put32(out + 4, room);
    put32(out + 8, part);
}

int limit_parse_hello(const uint8_t *p, size_t len, uint32_t *room, uint32_t *part)
{
    if (len != LIMIT_HELLO_LEN || memcmp(p, "LGHI", 4) != 0) return -1;
    *room = get32(p + 4);
    *part = get32(p + 8);
    return 0;
}

static void derive(uint32_t part, uint8_t tag, uint8_t *key, uint8_t *salt)
{
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(part * 131u + (uint32_t)i * 17u + tag);
    for (int i = 0; i < 12; i++)
        salt[i] = (uint8_t)(part * 7u + (uint32_t)i * 29u + tag);
}

void limit_keys(uint32_t part, bool relay_side, dtls_srtp_keys_t *out)
{
    memset(out, 0, sizeof *out);
    out->profile = DTLS_SRTP_AEAD_AES_128_GCM;
    out->key_len = 16;
    out->salt_len = 12;
    uint8_t *up_key = relay_side ? out->remote_key : out->local_key;
    uint8_t *up_salt = relay_side ? out->remote_salt : out->local_salt;
    uint8_t *down_key = relay_side ? out->local_key : out->remote_key;
    uint8_t *down_salt = relay_side ? out->local_salt : out->remote_salt;
    derive(part, 0x55, up_key, up_salt);
    derive(part, 0xaa, down_key, down_salt);
}
