/* auth: who may enter a room. Password hashes for the config file (PBKDF2-HMAC-SHA256,
 * "pbkdf2-sha256$<iterations>$<salt hex>$<key hex>", printed by `sobre passwd`), and
 * signed join tokens (HMAC-SHA256 over room, name, expiry and role with the config's
 * auth.token_secret, minted by `sobre token`) so that a host's own site can hand out
 * links. Every comparison of secrets is constant-time. Thread: any; no state. */
#ifndef SOBRE_AUTH_H
#define SOBRE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_MAX  160
#define AUTH_TOKEN_MAX 512

typedef enum {
    AUTH_ROLE_PARTICIPANT = 0,
    AUTH_ROLE_LISTENER,  /* may not publish */
    AUTH_ROLE_MODERATOR, /* may kick and mute others */
} auth_role_t;

/* Hashes password with a random salt into out (AUTH_HASH_MAX). Returns 0 or -1. */
int auth_hash_password(const char *password, char *out, size_t outlen);

/* Whether s has the form of a hash auth_hash_password writes. */
bool auth_is_hash(const char *s);

/* Whether given matches configured (a hash, or for old configs the plain password). */
bool auth_password_ok(const char *configured, const char *given);

typedef struct auth_token {
    char room[65];
    char name[4 * 64 + 1];
    long long expires; /* seconds since the epoch */
    auth_role_t role;
} auth_token_t;

/* Writes a token for t signed with secret into out (AUTH_TOKEN_MAX). Returns 0 or -1
 * (a field that does not fit). */
int auth_token_mint(const char *secret, const auth_token_t *t, char *out, size_t outlen);

/* Checks token's signature and expiry at now (seconds). Returns 0 with *out filled, or
 * -1 with the reason in err ("malformed", "bad signature", "expired"). */
int auth_token_check(const char *secret, const char *token, long long now, auth_token_t *out,
                     char *err, size_t errlen);

const char *auth_role_name(auth_role_t role);
int auth_role_parse(const char *name, auth_role_t *out); /* 0, or -1 if unknown */

#endif
