/* addrlimit: what one client address may do (issue "limits"): WebSocket connections
 * open at once, and join attempts per minute (password guessing). Addresses are strings
 * (IPv4 or IPv6 text); an address with no connection and no recent attempt is forgotten.
 * Thread: signalling only. */
#ifndef SOBRE_ADDRLIMIT_H
#define SOBRE_ADDRLIMIT_H

typedef struct addrlimit addrlimit_t;

addrlimit_t *addrlimit_new(void);
void addrlimit_free(addrlimit_t *al); /* addrlimit_free(NULL) is a no-op */

/* Counts a new connection from ip at now_ms: 0, or -1 (not counted) when max are open
 * already. */
int addrlimit_connect(addrlimit_t *al, const char *ip, int max, long long now_ms);

/* A connection from ip closed (one that addrlimit_connect counted). */
void addrlimit_disconnect(addrlimit_t *al, const char *ip);

/* Counts a join attempt from ip at now_ms: 0, or -1 when per_minute attempts were made in
 * the last 60 s already (this one is not counted). */
int addrlimit_join(addrlimit_t *al, const char *ip, int per_minute, long long now_ms);

#endif
