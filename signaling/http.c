#include "http.h"

#include <errno.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *ext, *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
};

const char *http_mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
            if (strcasecmp(dot, mime_types[i].ext) == 0) return mime_types[i].type;
    return "application/octet-stream";
}

/* Every segment must be a plain name: no ".", "..", hidden files, "%" (lws has already
 * decoded the path once; a remaining "%" is a double-encoding trick) or backslash. */
static bool safe_path(const char *uri)
{
    if (uri[0] != '/' || strpbrk(uri, "\\%")) return false;
    for (const char *p = uri; *p; p++)
        if (p[0] == '/' && p[1] == '.') return false;
    return true;
}

static bool is_invite(const char *uri)
{
    return strncmp(uri, "/r/", 3) == 0 && uri[3] && !strchr(uri + 3, '/');
}

int http_resolve(const char *root_real, const char *uri, char *out, size_t outlen)
{
    if (!safe_path(uri)) return -403;
    if (strcmp(uri, "/") == 0 || is_invite(uri)) uri = "/index.html";
    char joined[HTTP_PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", root_real, uri) >= sizeof joined)
        return -404;
    char real[PATH_MAX];
    if (!realpath(joined, real)) return errno == ENOENT || errno == ENOTDIR ? -404 : -403;
    size_t rl = strlen(root_real);
    if (strncmp(real, root_real, rl) != 0 || real[rl] != '/') return -403;
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) return -404;
    if ((size_t)snprintf(out, outlen, "%s", real) >= outlen) return -404;
    return 0;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static int finish(struct lws *wsi)
{
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http_reply(struct lws *wsi, int status, const char *type, const char *body, const char *header,
               const char *value)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    size_t len = strlen(body);
    if (lws_add_http_common_headers(wsi, (unsigned)status, type, len, &p, end) ||
        add_header(wsi, "cache-control:", "no-store", &p, end) ||
        (header && add_header(wsi, header, value, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (len && !lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) &&
        lws_write(wsi, (unsigned char *)body, len, LWS_WRITE_HTTP_FINAL) < 0)
        return -1;
    return finish(wsi);
}

static int send_body(struct lws *wsi, int status, const char *type, const char *body)
{
    return http_reply(wsi, status, type, body, NULL, NULL);
}

static int send_status(struct lws *wsi, int status, const char *text)
{
    return send_body(wsi, status, "text/plain; charset=utf-8", text);
}

static int not_modified(struct lws *wsi, const char *etag)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_NOT_MODIFIED, NULL,
                                    LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
        add_header(wsi, "etag:", etag, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return finish(wsi);
}

/* Files are revalidated on every load (no build step, so names carry no hash) and the
 * ETag turns a revalidation into a 304 without a body: cheap on a weak link. */
static int serve_file(struct lws *wsi, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return send_status(wsi, 404, "not found\n");
    char etag[64], inm[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
             (unsigned long long)st.st_size);
    if (lws_hdr_copy(wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        strcmp(inm, etag) == 0)
        return not_modified(wsi, etag);
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    if (add_header(wsi, "cache-control:", "no-cache", &p, end) ||
        add_header(wsi, "etag:", etag, &p, end) ||
        add_header(wsi, "x-content-type-options:", "nosniff", &p, end))
        return -1;
    int n =
        lws_serve_http_file(wsi, path, http_mime_type(path), (const char *)start, (int)(p - start));
    if (n < 0) return -1;
    return n > 0 ? finish(wsi) : 0;
}

int http_serve(struct lws *wsi, const char *root_real, const char *uri, size_t uri_len,
               const char *health_json)
{
    if (!lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) &&
        !lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
        return send_status(wsi, 405, "method not allowed\n");
    /* lws has percent-decoded the path: "%00" left a NUL that would cut it short. */
    if (strnlen(uri, uri_len) != uri_len) return send_status(wsi, 400, "bad request\n");
    if (strcmp(uri, "/healthz") == 0) return send_body(wsi, 200, "application/json", health_json);
    char path[HTTP_PATH_MAX];
    int rc = http_resolve(root_real, uri, path, sizeof path);
    if (rc == -403) return send_status(wsi, 403, "forbidden\n");
    if (rc != 0) return send_status(wsi, 404, "not found\n");
    return serve_file(wsi, path);
}
