/* What bench/limit and the load generator's limit mode agree on, in place of signalling:
 * a hello datagram naming the room and the participant, and SRTP keys derived from the
 * participant's number (a benchmark on loopback, not a secret). */
#ifndef SOBRE_LIMIT_PROTO_H
#define SOBRE_LIMIT_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "dtls.h"

/* "LGHI", room (u32, big endian), participant (u32, big endian). The first byte, 'L', is
 * none of STUN, DTLS or RTP (RFC 7983). Sent every second; the relay learns the sender's
 * address from it and forwards it everything the others of its room send. */
#define LIMIT_HELLO_LEN 12

void limit_hello(uint8_t out[LIMIT_HELLO_LEN], uint32_t room, uint32_t part);
/* Returns 0 and the two numbers when p[0..len) is a hello, else -1. */
int limit_parse_hello(const uint8_t *p, size_t len, uint32_t *room, uint32_t *part);

/* AEAD_AES_128_GCM keys of participant part: the participant protects with "up" and
 * unprotects with "down"; relay_side swaps them. */
void limit_keys(uint32_t part, bool relay_side, dtls_srtp_keys_t *out);

#endif
