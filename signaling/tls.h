/* tls: the HTTPS certificate and key (config `tls`): checked before they are used, and
 * the protocol versions a server context accepts. Thread: any; no global state. */
#ifndef SOBRE_TLS_H
#define SOBRE_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Loads the PEM certificate chain at cert_path and the private key at key_path into a
 * scratch context and checks that they belong together. Returns 0, or -1 with one line
 * naming the key and file at fault in err ("tls.key: /etc/x.pem: ..."). */
int tls_check_pair(const char *cert_path, const char *key_path, char *err, size_t errlen);

/* Restricts a server context to TLS 1.2 and later. Returns 0, or -1 if OpenSSL refuses. */
int tls_restrict_versions(SSL_CTX *ctx);

#endif
