/* addrmap: UDP source address -> small integer (a worker's transport slot), so the packet
 * path finds the transport of a DTLS or SRTP datagram in O(1) without allocating.
 * Open addressing with linear probing; entries are added when an address passes an ICE
 * check (control rate) and the table grows then, never on a lookup.
 * Thread: the owning worker only. */
#ifndef SOBRE_ADDRMAP_H
#define SOBRE_ADDRMAP_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct addrmap addrmap_t;

addrmap_t *addrmap_new(void);
void addrmap_free(addrmap_t *m); /* addrmap_free(NULL) is a no-op */

/* Maps addr (AF_INET or AF_INET6; other families are ignored) to value, replacing any
 * previous value. */
void addrmap_put(addrmap_t *m, const struct sockaddr *addr, uint32_t value);

/* 0 with *value set when addr is mapped, else -1. */
int addrmap_get(const addrmap_t *m, const struct sockaddr *addr, uint32_t *value);

/* Removes every address mapped to value (a closed transport may have several). */
void addrmap_remove_value(addrmap_t *m, uint32_t value);

/* Number of addresses mapped. */
uint32_t addrmap_count(const addrmap_t *m);

#endif
