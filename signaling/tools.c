#include "tools.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "mem.h"
#include "message.h"

#define STATUS_MAX (4 * 1024 * 1024) /* a /status answer larger than this is refused */

int tools_passwd(FILE *in, FILE *out, FILE *err)
{
    struct termios old, quiet;
    int tty = isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;
    if (tty) {
        fputs("password: ", err);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(in), TCSAFLUSH, &quiet);
    }
    char line[CONFIG_PASSWORD_MAX + 2];
    char *got = fgets(line, sizeof line, in);
    if (tty) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fputs("\n", err);
    }
    if (!got) {
        fputs("sobre passwd: no password given\n", err);
        return 1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || strlen(line) > CONFIG_PASSWORD_MAX) {
        fprintf(err, "sobre passwd: a password has 1 to %d bytes\n", CONFIG_PASSWORD_MAX);
        return 1;
    }
    char hash[AUTH_HASH_MAX];
    if (auth_hash_password(line, hash, sizeof hash) != 0) {
        fputs("sobre passwd: cannot hash (no randomness?)\n", err);
        return 1;
    }
    fprintf(out, "%s\n", hash);
    return 0;
}

/* The config at path (NULL: the embedded one), or NULL after saying why. */
static config_t *load_config(const char *path, const char *cmd, FILE *err)
{
    config_t *cfg = NULL;
    char cerr[CONFIG_ERROR_MAX];
    if (!path) return config_default();
    if (config_load(path, &cfg, cerr) != 0) fprintf(err, "sobre %s: %s\n", cmd, cerr);
    return cfg;
}

int tools_token(int argc, char **argv, FILE *out, FILE *err)
{
    const char *config_path = NULL;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-c")) {
        config_path = argv[i + 1];
        i += 2;
    }
    if (argc - i < 2 || argc - i > 4) {
        fputs("usage: sobre token [-c FILE] ROOM NAME [participant|listener|moderator] [HOURS]\n",
              err);
        return 2;
    }
    auth_token_t t = {.role = AUTH_ROLE_PARTICIPANT};
    const char *room = argv[i], *name = argv[i + 1];
    if (strlen(room) >= sizeof t.room || strlen(name) >= sizeof t.name || !*room || !*name ||
        message_utf8_length(name) > MESSAGE_NAME_MAX) {
        fputs("sobre token: ROOM and NAME must be 1 to 64 characters\n", err);
        return 2;
    }
    strcpy(t.room, room);
    strcpy(t.name, name);
    if (argc - i >= 3 && auth_role_parse(argv[i + 2], &t.role) != 0) {
        fprintf(err, "sobre token: unknown role \"%s\" (participant, listener, moderator)\n",
                argv[i + 2]);
        return 2;
    }
    long hours = 24;
    if (argc - i == 4) {
        char *end;
        hours = strtol(argv[i + 3], &end, 10);
        if (*end || hours < 1 || hours > 24 * 366) {
            fputs("sobre token: HOURS must be 1 to 8784\n", err);
            return 2;
        }
    }
    config_t *cfg = load_config(config_path, "token", err);
    if (!cfg) return 1;
    int rc = 1;
    char tok[AUTH_TOKEN_MAX];
    if (!cfg->token_secret) {
        fprintf(err, "sobre token: %s has no auth.token_secret\n",
                config_path ? config_path : "the embedded config");
    } else {
        t.expires = (long long)time(NULL) + hours * 3600;
        if (auth_token_mint(cfg->token_secret, &t, tok, sizeof tok) == 0) {
            fprintf(out, "%s\n", tok);
            rc = 0;
        } else {
            fputs("sobre token: ROOM or NAME does not fit in a token\n", err);
        }
    }
    config_free(cfg);
    return rc;
}

/* ---- sobre status ---- */

/* A TCP connection to this host's listen port, 5 s timeouts. Returns the socket or -1. */
static int connect_local(const config_t *cfg, FILE *err)
{
    const char *host = cfg->listen_address;
    if (!host || !strcmp(host, "0.0.0.0")) host = "127.0.0.1";
    if (!strcmp(host, "::")) host = "::1";
    char port[8];
    snprintf(port, sizeof port, "%d", cfg->listen_port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(err, "sobre status: cannot use address %s\n", host);
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 5};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(err, "sobre status: cannot connect to %s port %s: %s (is sobre running?)\n", host,
                port, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Sends req and reads the whole answer (the server closes: Connection: close) into a
 * heap buffer, over TLS when ssl is not NULL. Returns its length, or -1. */
static long exchange(int fd, SSL *ssl, const char *req, char **out)
{
    size_t len = strlen(req), cap = 65536, n = 0;
    if ((ssl ? SSL_write(ssl, req, (int)len) : (int)send(fd, req, len, MSG_NOSIGNAL)) != (int)len)
        return -1;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= STATUS_MAX) break;
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        int r = ssl ? SSL_read(ssl, buf + n, (int)(cap - n)) : (int)recv(fd, buf + n, cap - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    return (long)n;
}

/* GET path from the running server; the body (heap) and the HTTP status. */
static char *fetch(const config_t *cfg, const char *path, int *status, FILE *err)
{
    int fd = connect_local(cfg, err);
    if (fd < 0) return NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    char *resp = NULL, *body = NULL;
    if (cfg->tls_cert) { /* our own server on this host: its certificate is not checked */
        ctx = SSL_CTX_new(TLS_client_method());
        ssl = ctx ? SSL_new(ctx) : NULL;
        if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1) {
            fprintf(err, "sobre status: TLS handshake with port %d failed\n", cfg->listen_port);
            goto done;
        }
    }
    char req[1024];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s%s%s\r\n", path,
             cfg->metrics_token ? "Authorization: Bearer " : "",
             cfg->metrics_token ? cfg->metrics_token : "", cfg->metrics_token ? "\r\n" : "");
    if (strlen(req) >= sizeof req - 1 || exchange(fd, ssl, req, &resp) < 0) {
        fprintf(err, "sobre status: no answer from port %d\n", cfg->listen_port);
        goto done;
    }
    char *start = strstr(resp, "\r\n\r\n");
    if (sscanf(resp, "HTTP/1.%*d %d", status) != 1 || !start) {
        fprintf(err, "sobre status: port %d does not answer HTTP\n", cfg->listen_port);
        goto done;
    }
    body = xstrdup(start + 4);
done:
    free(resp);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return body;
}

static void print_room(json_t *room, bool names, FILE *out)
{
    json_t *f = json_object_get(room, "footprint");
    long long secs = json_integer_value(json_object_get(f, "seconds"));
    fprintf(out,
            "room %s: %lld participant(s), %lld kbit/s in, %lld kbit/s out; open %lld min, "
            "%.1f MB relayed, %.2f CPU s, %.3f Wh\n",
            json_string_value(json_object_get(room, "name")),
            json_integer_value(json_object_get(room, "participants")),
            json_integer_value(json_object_get(room, "kbps_in")),
            json_integer_value(json_object_get(room, "kbps_out")), secs / 60,
            (double)json_integer_value(json_object_get(f, "bytes_relayed")) / 1e6,
            json_number_value(json_object_get(f, "cpu_seconds")),
            json_number_value(json_object_get(f, "energy_wh")));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(room, "peers"), i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        bool audio = json_is_true(json_object_get(p, "audio"));
        bool video = json_is_true(json_object_get(p, "video"));
        fprintf(out,
                "  %s%s%s%s: publishes %s, %lld kbit/s in, %lld kbit/s out, downlink "
                "estimate %lld kbit/s\n",
                json_string_value(json_object_get(p, "id")), names && name ? " (" : "",
                names && name ? name : "", names && name ? ")" : "",
                audio && video ? "audio and video"
                : audio        ? "audio"
                : video        ? "video"
                               : "nothing",
                json_integer_value(json_object_get(p, "kbps_in")),
                json_integer_value(json_object_get(p, "kbps_out")),
                json_integer_value(json_object_get(p, "estimate_kbps")));
    }
}

int tools_status(int argc, char **argv, FILE *out, FILE *err)
{
    const char *config_path = NULL;
    bool names = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "--names")) {
            names = true;
        } else {
            fputs("usage: sobre status [-c FILE] [--names]\n", err);
            return 2;
        }
    }
    config_t *cfg = load_config(config_path, "status", err);
    if (!cfg) return 1;
    int rc = 1, status = 0;
    char *body = NULL;
    json_t *root = NULL;
    if (cfg->metrics_access == CONFIG_METRICS_OFF) {
        fprintf(err,
                "sobre status: metrics.access is \"off\" in %s: set it to \"loopback\" or "
                "\"token\"\n",
                config_path ? config_path : "the embedded config");
        goto done;
    }
    body = fetch(cfg, names ? "/status?names=1" : "/status", &status, err);
    if (!body) goto done;
    if (status != 200) {
        fprintf(err, "sobre status: the server answered %d: %s", status, body);
        goto done;
    }
    root = json_loads(body, 0, NULL);
    if (!json_is_object(root)) {
        fputs("sobre status: the server's /status is not JSON\n", err);
        goto done;
    }
    fprintf(out, "sobre %s: %lld room(s), %lld participant(s), %.0f MB resident\n",
            json_string_value(json_object_get(root, "version")),
            json_integer_value(json_object_get(root, "rooms_open")),
            json_integer_value(json_object_get(root, "participants")),
            (double)json_integer_value(
                json_object_get(json_object_get(root, "process"), "resident_memory_bytes")) /
                1e6);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(root, "workers"), i, x)
        fprintf(out, "worker %lld: %lld transport(s), %.2f CPU s\n",
                json_integer_value(json_object_get(x, "index")),
                json_integer_value(json_object_get(x, "transports")),
                json_number_value(json_object_get(x, "cpu_seconds")));
    json_array_foreach(json_object_get(root, "rooms"), i, x) print_room(x, names, out);
    rc = 0;
done:
    json_decref(root);
    free(body);
    config_free(cfg);
    return rc;
}
