/* auth: password hashes (round trip, wrong password, plain passwords, malformed hashes)
 * and join tokens (round trip, tampering, expiry, wrong secret, malformed). */
#include <string.h>

#include "auth.h"
#include "test.h"

static void test_passwords(void)
{
    char h[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];
    CHECK_INT(auth_hash_password("s3same", h, sizeof h), 0);
    CHECK(strncmp(h, "pbkdf2-sha256$60000$", 20) == 0);
    CHECK(auth_is_hash(h));
    CHECK_INT(auth_hash_password("s3same", h2, sizeof h2), 0);
    CHECK(strcmp(h, h2) != 0); /* salted */
    CHECK(auth_password_ok(h, "s3same"));
    CHECK(!auth_password_ok(h, "s3sam"));
    CHECK(!auth_password_ok(h, ""));
    CHECK(!auth_password_ok(h, NULL));
    CHECK(auth_password_ok(NULL, NULL)); /* no password configured */
    CHECK(auth_password_ok("plain", "plain"));
    CHECK(!auth_password_ok("plain", "plai"));
    CHECK(!auth_is_hash("plain"));
    CHECK(!auth_is_hash("pbkdf2-sha256$60000$zz$00"));
    CHECK(!auth_is_hash("pbkdf2-sha256$10$00000000000000000000000000000000$"
                        "0000000000000000000000000000000000000000000000000000000000000000"));
    char tiny[20];
    CHECK_INT(auth_hash_password("x", tiny, sizeof tiny), -1);
}

static void test_tokens(void)
{
    auth_token_t t = {.room = "assemblee",
                      .name = "Camille Dupré",
                      .expires = 2000000000,
                      .role = AUTH_ROLE_MODERATOR};
    char tok[AUTH_TOKEN_MAX], err[64];
    CHECK_INT(auth_token_mint("a long enough secret", &t, tok, sizeof tok), 0);
    CHECK(strncmp(tok, "v1.", 3) == 0);
    CHECK(strpbrk(tok, "+/= ") == NULL); /* fits in a URL as is */
    auth_token_t got;
    CHECK_INT(auth_token_check("a long enough secret", tok, 1900000000, &got, err, sizeof err), 0);
    CHECK_STR(got.room, "assemblee");
    CHECK_STR(got.name, "Camille Dupré");
    CHECK_INT(got.role, AUTH_ROLE_MODERATOR);
    CHECK(got.expires == 2000000000);
    CHECK_INT(auth_token_check("a long enough secret", tok, 2000000000, &got, err, sizeof err), -1);
    CHECK_STR(err, "expired token");
    CHECK_INT(auth_token_check("another secret", tok, 0, &got, err, sizeof err), -1);
    CHECK_STR(err, "bad token signature");
    /* Tampering with any character of the payload breaks the signature (or the form). */
    for (size_t i = 3; i < strlen(tok); i++) {
        char bad[AUTH_TOKEN_MAX];
        strcpy(bad, tok);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (auth_token_check("a long enough secret", bad, 0, &got, err, sizeof err) == 0 &&
            strcmp(bad, tok) != 0) {
            CHECK(!"a tampered token passed");
            break;
        }
    }
    static const char *const malformed[] = {"",       "v1.",        "v2.abc.def",
                                            "v1.abc", "v1.!!!.###", "v1.YQ.YQ"};
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
        CHECK_INT(auth_token_check("s", malformed[i], 0, &got, err, sizeof err), -1);
    auth_role_t r;
    CHECK_INT(auth_role_parse("listener", &r), 0);
    CHECK_INT(r, AUTH_ROLE_LISTENER);
    CHECK_INT(auth_role_parse("admin", &r), -1);
    CHECK_STR(auth_role_name(AUTH_ROLE_PARTICIPANT), "participant");
}

int main(void)
{
    test_passwords();
    test_tokens();
    TEST_END();
}
