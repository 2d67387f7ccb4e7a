#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_PREFIX  "pbkdf2-sha256$"
#define ITERATIONS   60000 /* about 50 ms on a Raspberry Pi 4: cheap for one join */
#define SALT_LEN     16
#define KEY_LEN      32
#define TOKEN_PREFIX "v1."

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static int from_hex(const char *in, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(in + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

static int derive(const char *password, const unsigned char *salt, int iterations,
                  unsigned char key[KEY_LEN])
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SALT_LEN, iterations,
                             EVP_sha256(), KEY_LEN, key) == 1
               ? 0
               : -1;
}

int auth_hash_password(const char *password, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    char salt_hex[2 * SALT_LEN + 1], key_hex[2 * KEY_LEN + 1];
    if (RAND_bytes(salt, sizeof salt) != 1 || derive(password, salt, ITERATIONS, key) != 0)
        return -1;
    to_hex(salt, SALT_LEN, salt_hex);
    to_hex(key, KEY_LEN, key_hex);
    int n = snprintf(out, outlen, HASH_PREFIX "%d$%s$%s", ITERATIONS, salt_hex, key_hex);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Splits a hash into its parts; -1 when it is not one. */
static int parse_hash(const char *s, int *iterations, unsigned char salt[SALT_LEN],
                      unsigned char key[KEY_LEN])
{
    if (strncmp(s, HASH_PREFIX, strlen(HASH_PREFIX)) != 0) return -1;
    s += strlen(HASH_PREFIX);
    char *end;
    long it = strtol(s, &end, 10);
    if (end == s || *end != '$' || it < 1000 || it > 10000000) return -1;
    s = end + 1;
    if (strlen(s) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || s[2 * SALT_LEN] != '$') return -1;
    if (from_hex(s, SALT_LEN, salt) != 0 || from_hex(s + 2 * SALT_LEN + 1, KEY_LEN, key) != 0)
        return -1;
    *iterations = (int)it;
    return 0;
}

bool auth_is_hash(const char *s)
{
    int it;
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    return s && parse_hash(s, &it, salt, key) == 0;
}

bool auth_password_ok(const char *configured, const char *given)
{
    if (!configured) return true;
    if (!given) return false;
    int it;
    unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
    if (parse_hash(configured, &it, salt, want) == 0)
        return derive(given, salt, it, got) == 0 && CRYPTO_memcmp(want, got, KEY_LEN) == 0;
    /* A plain password: compare digests, so the time depends on neither length. */
    unsigned char a[32], b[32];
    unsigned int la = 0, lb = 0;
    EVP_Digest(configured, strlen(configured), a, &la, EVP_sha256(), NULL);
    EVP_Digest(given, strlen(given), b, &lb, EVP_sha256(), NULL);
    return la == 32 && lb == 32 && CRYPTO_memcmp(a, b, 32) == 0;
}

/* ---- tokens: v1.<payload b64url>.<hmac b64url>, payload "room\nname\nexpires\nrole" */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        if (i + 1 < n) out[o++] = b64url[v >> 6 & 63];
        if (i + 2 < n) out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* Decodes in[0..n) into out (cap bytes); returns the length or -1. */
static int decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(b64url, in[i], 64);
        if (!p || in[i] == '\0') return -1;
        v = v << 6 | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap) return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return (int)o;
}

static void sign(const char *secret, const unsigned char *msg, size_t n, unsigned char mac[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, mac, &len);
}

int auth_token_mint(const char *secret, const auth_token_t *t, char *out, size_t outlen)
{
    char payload[400];
    int n = snprintf(payload, sizeof payload, "%s\n%s\n%lld\n%s", t->room, t->name, t->expires,
                     auth_role_name(t->role));
    if (n <= 0 || (size_t)n >= sizeof payload || strchr(t->name, '\n') || strchr(t->room, '\n'))
        return -1;
    unsigned char mac[32];
    sign(secret, (const unsigned char *)payload, (size_t)n, mac);
    char p64[(sizeof payload + 2) / 3 * 4 + 1], m64[45];
    encode((const unsigned char *)payload, (size_t)n, p64);
    encode(mac, sizeof mac, m64);
    int w = snprintf(out, outlen, TOKEN_PREFIX "%s.%s", p64, m64);
    return w > 0 && (size_t)w < outlen ? 0 : -1;
}

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

int auth_token_check(const char *secret, const char *token, long long now, auth_token_t *out,
                     char *err, size_t errlen)
{
    if (strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
        return fail(err, errlen, "malformed token");
    const char *p = token + strlen(TOKEN_PREFIX), *dot = strchr(p, '.');
    if (!dot) return fail(err, errlen, "malformed token");
    unsigned char payload[400], mac[40], want[32];
    int pn = decode(p, (size_t)(dot - p), payload, sizeof payload - 1);
    int mn = decode(dot + 1, strlen(dot + 1), mac, sizeof mac);
    if (pn <= 0 || mn != 32) return fail(err, errlen, "malformed token");
    sign(secret, payload, (size_t)pn, want);
    if (CRYPTO_memcmp(want, mac, 32) != 0) return fail(err, errlen, "bad token signature");
    payload[pn] = '\0';
    char *fields[4], *save = NULL, *s = (char *)payload;
    for (int i = 0; i < 4; i++) {
        fields[i] = strtok_r(i ? NULL : s, "\n", &save);
        if (!fields[i]) return fail(err, errlen, "malformed token");
    }
    memset(out, 0, sizeof *out);
    char *end;
    out->expires = strtoll(fields[2], &end, 10);
    if (*end || strlen(fields[0]) >= sizeof out->room || strlen(fields[1]) >= sizeof out->name ||
        auth_role_parse(fields[3], &out->role) != 0)
        return fail(err, errlen, "malformed token");
    if (out->expires <= now) return fail(err, errlen, "expired token");
    snprintf(out->room, sizeof out->room, "%s", fields[0]);
    snprintf(out->name, sizeof out->name, "%s", fields[1]);
    return 0;
}

static const char *const roles[] = {"participant", "listener", "moderator"};

const char *auth_role_name(auth_role_t role)
{
    return (unsigned)role < 3 ? roles[role] : "participant";
}

int auth_role_parse(const char *name, auth_role_t *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, roles[i])) {
            *out = (auth_role_t)i;
            return 0;
        }
    return -1;
}
