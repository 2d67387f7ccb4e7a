#include "tls.h"

#include <stdio.h>

#include <openssl/err.h>

/* OpenSSL's reason for the last failure, e.g. "no start line", then the queue cleared. */
static const char *reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "unknown error";
}

int tls_check_pair(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    int ret = -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "tls: cannot create a TLS context: %s", reason());
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1)
        snprintf(err, errlen, "tls.cert: %s: not a PEM certificate (%s)", cert_path, reason());
    else if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1)
        snprintf(err, errlen, "tls.key: %s: not a PEM private key for %s (%s)", key_path, cert_path,
                 reason());
    else if (SSL_CTX_check_private_key(ctx) != 1)
        snprintf(err, errlen, "tls.key: %s: not the key of the certificate %s", key_path,
                 cert_path);
    else
        ret = 0;
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return ret;
}

int tls_restrict_versions(SSL_CTX *ctx)
{
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 ? 0 : -1;
}
