/* http: the web client's static files and /healthz over libwebsockets.
 * Thread: signalling only. */
#ifndef SOBRE_HTTP_H
#define SOBRE_HTTP_H

#include <stddef.h>

struct lws;

#define HTTP_PATH_MAX 4096

/* Maps a request path to a file under root_real (an absolute path without symlinks, as
 * realpath gives). "/" and invite links "/r/<room>" map to index.html. Refuses "." and
 * ".." segments, hidden files, backslashes, and anything whose real path leaves the root
 * (symlinks included). Returns 0 with the file's real path in out, -404 when there is no
 * such file, -403 when the path is refused. */
int http_resolve(const char *root_real, const char *uri, char *out, size_t outlen);

/* The Content-Type for a file name, from its extension. */
const char *http_mime_type(const char *path);

/* Answers the request with `body` (NUL-terminated) and, unless header is NULL, one more
 * header ("name:" and value). Returns what the lws callback must return. */
int http_reply(struct lws *wsi, int status, const char *type, const char *body, const char *header,
               const char *value);

/* Handles LWS_CALLBACK_HTTP for `uri`. `health_json` is the body of /healthz.
 * Returns what the lws callback must return. */
int http_serve(struct lws *wsi, const char *root_real, const char *uri, size_t uri_len,
               const char *health_json);

#endif
