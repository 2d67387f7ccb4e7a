#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "http.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "room.h"
#include "session.h"
#include "tls.h"
#include "worker.h"

#define SHUTDOWN_GRACE_MS 1500
#define TICK_MS           50
#define FOOTPRINT_TICK_MS 1000

struct server {
    const config_t *cfg;     /* the running config: boot, or the last one reloaded */
    const config_t *boot;    /* borrowed: what the ports, TLS context and workers began with */
    config_t *reloaded;      /* owned: the config of the last successful reload, or NULL */
    const char *config_path; /* NULL: the embedded default, nothing to reload */
    atomic_bool reload;
    struct lws_context *ctx;
    char web_root[PATH_MAX];
    hub_t *hub;
    session_env_t env;
    media_t *media;
    atomic_bool stop;
    bool shutting_down;
    lws_sorted_usec_list_t tick;
    metrics_t *metrics;
    long long footprint_at, footprint_sent_at; /* footprint_tick, `footprint` messages */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Per-connection data lws allocates for us. */
typedef session_slot_t pss_t;

static void health_json(server_t *srv, char *buf, size_t len)
{
    snprintf(buf, len,
             "{\"status\":\"%s\",\"version\":\"%s\",\"rooms\":%zu,\"participants\":%zu,"
             "\"workers\":%d,\"workers_ready\":%d}\n",
             srv->shutting_down ? "stopping" : "ok", SOBRE_VERSION, hub_room_count(srv->hub),
             hub_participant_count(srv->hub), media_workers(srv->media),
             media_workers_ready(srv->media));
}

/* A transport's usage goes to the server's totals and to its participant's room. */
static void on_usage(server_t *srv, const worker_event_t *ev)
{
    metrics_add_usage(srv->metrics, &ev->usage);
    peer_t *peer = session_peer_of_transport(&srv->env, ev->id);
    if (!peer || !peer->room) return;
    footprint_add(room_footprint(peer->room), &ev->usage);
    footprint_add(&peer->usage, &ev->usage);
}

static void drain_worker_events(server_t *srv)
{
    worker_event_t ev;
    while (media_next_event(srv->media, &ev)) {
        if (ev.kind == WORKER_EV_USAGE) {
            on_usage(srv, &ev);
            continue;
        }
        if (ev.kind == WORKER_EV_ESTIMATE) metrics_observe_estimate(srv->metrics, ev.bps);
        session_on_media_event(&srv->env, &ev);
    }
}

static footprint_model_t footprint_model(const config_t *cfg)
{
    return (footprint_model_t){cfg->idle_watts, cfg->watts_per_core};
}

static void on_room_closed(void *arg, room_t *room)
{
    server_t *srv = arg;
    footprint_model_t model = footprint_model(srv->cfg);
    footprint_t *f = room_footprint(room);
    long long now = now_ms();
    footprint_tick(f, now, srv->cfg->idle_watts / (double)hub_room_count(srv->hub));
    metrics_room_closed(srv->metrics, f);
    char what[160];
    footprint_describe(f, &model, now, what, sizeof what);
    log_info("room %s closed after %s", room_name(room), what);
}

/* Once a second: each room's share of the idle power and its bitrates; every
 * footprint.interval_seconds, a `footprint` message to every participant. */
static void footprint_tick_all(server_t *srv, long long now)
{
    if (now - srv->footprint_at < FOOTPRINT_TICK_MS) return;
    srv->footprint_at = now;
    size_t n = hub_room_count(srv->hub);
    int every = srv->cfg->footprint_seconds;
    bool send = every > 0 && now - srv->footprint_sent_at >= every * 1000LL;
    if (send) srv->footprint_sent_at = now;
    footprint_model_t model = footprint_model(srv->cfg);
    for (room_t *r = hub_first_room(srv->hub); r; r = room_next(r)) {
        footprint_t *f = room_footprint(r);
        footprint_tick(f, now, srv->cfg->idle_watts / (double)n);
        peer_t *const *members;
        for (size_t i = 0, m = room_members(r, &members); i < m; i++)
            footprint_tick(&members[i]->usage, now, 0); /* its bitrates */
        if (!send) continue;
        session_room_broadcast(r, json_pack("{ss sI sI sf sf sI}", "type", "footprint",
                                            "bytes_relayed", (json_int_t)f->bytes_out,
                                            "bytes_received", (json_int_t)f->bytes_in,
                                            "cpu_seconds", footprint_cpu_seconds(f), "energy_wh",
                                            footprint_joules(f, &model) / 3600.0, "seconds",
                                            (json_int_t)((now - f->opened_ms) / 1000)));
    }
}

/* metrics.access (config.h): loopback means this host and not through a proxy, since a
 * proxy on this host would make every visitor look local. */
static bool may_read_metrics(const server_t *srv, struct lws *wsi)
{
    const config_t *cfg = srv->cfg;
    if (cfg->metrics_access == CONFIG_METRICS_TOKEN) {
        char auth[512];
        size_t n = strlen(cfg->metrics_token);
        int got = lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION);
        return got > 7 && (size_t)got == 7 + n && strncasecmp(auth, "Bearer ", 7) == 0 &&
               CRYPTO_memcmp(auth + 7, cfg->metrics_token, n) == 0;
    }
    if (cfg->metrics_access != CONFIG_METRICS_LOOPBACK) return false;
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof peer);
    bool local = !strcmp(peer, "127.0.0.1") || !strcmp(peer, "::1") ||
                 !strncmp(peer, "::ffff:127.", 11) || !strncmp(peer, "127.", 4);
    return local && lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) == 0 &&
           lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_X_REAL_IP) == 0 &&
           lws_hdr_custom_length(wsi, "forwarded:", 10) <= 0;
}

static int serve_metrics(server_t *srv, struct lws *wsi, bool status)
{
    if (!lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) &&
        !lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
        return http_reply(wsi, 405, "text/plain; charset=utf-8", "method not allowed\n", NULL,
                          NULL);
    if (srv->cfg->metrics_access == CONFIG_METRICS_OFF)
        return http_reply(wsi, 404, "text/plain; charset=utf-8",
                          "not found (metrics.access is \"off\")\n", NULL, NULL);
    if (!may_read_metrics(srv, wsi)) {
        if (srv->cfg->metrics_access == CONFIG_METRICS_TOKEN)
            return http_reply(wsi, 401, "text/plain; charset=utf-8",
                              "unauthorized: send \"Authorization: Bearer <metrics.token>\"\n",
                              "www-authenticate:", "Bearer realm=\"sobre\"");
        return http_reply(wsi, 403, "text/plain; charset=utf-8",
                          "forbidden: metrics.access is \"loopback\" (this host, no proxy)\n", NULL,
                          NULL);
    }
    metrics_sources_t src = {srv->cfg, srv->hub, srv->media, now_ms()};
    char *body;
    int rc;
    if (status) {
        char arg[32];
        const char *v = lws_get_urlarg_by_name(wsi, "names=", arg, sizeof arg);
        bool names = v && !strcmp(v, "1");
        body = metrics_status_json(srv->metrics, &src, names);
        rc = http_reply(wsi, 200, "application/json", body, NULL, NULL);
    } else {
        size_t len;
        body = metrics_render(srv->metrics, &src, &len);
        rc = http_reply(wsi, 200, "text/plain; version=0.0.4; charset=utf-8", body, NULL, NULL);
    }
    free(body);
    return rc;
}

static int on_http(server_t *srv, struct lws *wsi, const char *uri, size_t len)
{
    if (strcmp(uri, "/metrics") == 0 || strcmp(uri, "/status") == 0)
        return serve_metrics(srv, wsi, uri[1] == 's');
    char health[256];
    health_json(srv, health, sizeof health);
    return http_serve(wsi, srv->web_root, uri, len, health);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    server_t *srv = lws_context_user(lws_get_context(wsi));
    pss_t *pss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(srv, wsi, in, len);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        if (srv->shutting_down) return -1;
        session_new(wsi, &srv->env, pss);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return session_receive(pss->session, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return session_writable(pss->session);
    case LWS_CALLBACK_CLOSED:
        session_closed(pss->session, srv->shutting_down);
        pss->session = NULL;
        return 0;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        /* user is the vhost's SSL_CTX, made before any connection */
        if (tls_restrict_versions(user) != 0) {
            log_warn("tls: cannot restrict HTTPS to TLS 1.2 and later");
            return 1;
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (srv && srv->media) drain_worker_events(srv);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    /* protocols[0] also serves HTTP and clients that ask for no sub-protocol */
    {"sobre.v1", callback, sizeof(pss_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static bool log_addresses; /* log.private_data: lws's lines keep the addresses they name */

/* Replaces what looks like an IPv4 or IPv6 address (a run of hex digits, dots and colons
 * with 3 dots or 2 colons) with "<address>". */
static void scrub_addresses(const char *in, char *out, size_t len)
{
    size_t o = 0;
    while (*in && o + 1 < len) {
        size_t run = strspn(in, "0123456789abcdefABCDEF.:");
        int dots = 0, colons = 0;
        for (size_t i = 0; i < run; i++) {
            dots += in[i] == '.';
            colons += in[i] == ':';
        }
        if (run >= 7 && (dots == 3 || colons >= 2)) {
            o += (size_t)snprintf(out + o, len - o, "<address>");
            if (o >= len) o = len - 1;
            in += run;
        } else if (run > 0) {
            size_t take = run < len - 1 - o ? run : len - 1 - o;
            memcpy(out + o, in, take);
            o += take;
            in += run;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

static void lws_log_cb(int level, const char *line)
{
    char clean[1024];
    if (log_addresses)
        snprintf(clean, sizeof clean, "%s", line);
    else
        scrub_addresses(line, clean, sizeof clean);
    int n = (int)strlen(clean);
    while (n > 0 && (clean[n - 1] == '\n' || clean[n - 1] == '\r'))
        n--;
    log_msg(level == LLL_ERR ? LOG_WARN : LOG_DEBUG, "lws: %.*s", n, clean);
}

/* lws only logs that binding failed; try it first to tell the operator why. */
static int check_listen(const config_t *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    const char *addr = cfg->listen_address ? cfg->listen_address : "::";
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(cfg->listen_port);
        sl = sizeof *a6;
    } else if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(cfg->listen_port);
        sl = sizeof *a4;
    } else {
        return 0; /* an interface name: lws resolves it */
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0; /* no IPv6 on this host: let lws choose */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, sl);
    int e = errno;
    close(fd);
    if (rc == 0 || (e == EADDRNOTAVAIL && !cfg->listen_address)) return 0;
    snprintf(err, errlen, "listen: cannot listen on %s port %d: %s",
             cfg->listen_address ? cfg->listen_address : "every interface", cfg->listen_port,
             strerror(e));
    return -1;
}

static int check_tls_files(const config_t *cfg, char *err, size_t errlen)
{
    const char *keys[] = {"tls.cert", "tls.key"}, *paths[] = {cfg->tls_cert, cfg->tls_key};
    for (int i = 0; i < 2; i++) {
        if (paths[i] && access(paths[i], R_OK) != 0) {
            snprintf(err, errlen, "%s: %s: %s", keys[i], paths[i], strerror(errno));
            return -1;
        }
    }
    return cfg->tls_cert ? tls_check_pair(cfg->tls_cert, cfg->tls_key, err, errlen) : 0;
}

static void notify_cb(void *arg)
{
    server_t *srv = arg;
    lws_cancel_service(srv->ctx);
}

static void print_url(const config_t *cfg)
{
    const char *scheme = cfg->tls_cert ? "https" : "http";
    const char *host = cfg->listen_address;
    bool any = !host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
    bool v6 = !any && strchr(host, ':');
    printf("sobre %s: open %s://%s%s%s:%d/\n", SOBRE_VERSION, scheme, v6 ? "[" : "",
           any ? "localhost" : host, v6 ? "]" : "", cfg->listen_port);
    if (!cfg->tls_cert)
        printf("(browsers allow camera and microphone over plain HTTP only on localhost: "
               "configure tls to join from other machines)\n");
    fflush(stdout);
}

/* A browser that vanished (no close, no FIN) must not hold its place: PING a silent
 * socket after 8 s and hang up at 14 s. With limits.resume_seconds (20 by default) the
 * others learn it left within 35 s. */
static const lws_retry_bo_t idle_policy = {.secs_since_valid_ping = 8,
                                           .secs_since_valid_hangup = 14};

static struct lws_context *create_context(server_t *srv)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = srv->cfg->listen_port;
    info.iface = srv->cfg->listen_address;
    info.protocols = protocols;
    info.user = srv;
    info.vhost_name = "sobre";
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.retry_and_idle_policy = &idle_policy;
    if (srv->cfg->tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = srv->cfg->tls_cert;
        info.ssl_private_key_filepath = srv->cfg->tls_key;
    }
    return lws_create_context(&info);
}

int server_new(const config_t *cfg, const char *config_path, server_t **out, char *err,
               size_t errlen)
{
    *out = NULL;
    log_addresses = cfg->log_private_data;
    lws_set_log_level(LLL_ERR | (log_enabled(LOG_DEBUG) ? LLL_WARN | LLL_NOTICE : 0), lws_log_cb);
    server_t *srv = xcalloc(1, sizeof *srv);
    srv->cfg = srv->boot = cfg;
    srv->config_path = config_path;
    if (!realpath(cfg->web_root, srv->web_root)) {
        snprintf(err, errlen, "web_root: %s: %s", cfg->web_root, strerror(errno));
        goto fail;
    }
    if (check_tls_files(cfg, err, errlen) != 0 || check_listen(cfg, err, errlen) != 0) goto fail;
    srv->hub = hub_new(cfg);
    srv->metrics = metrics_new();
    srv->footprint_at = srv->footprint_sent_at = now_ms();
    hub_set_close_cb(srv->hub, on_room_closed, srv);
    srv->env = (session_env_t){.hub = srv->hub, .cfg = cfg, .addrs = addrlimit_new()};
    srv->ctx = create_context(srv);
    if (!srv->ctx) {
        snprintf(err, errlen, "listen: cannot start the HTTP%s server on port %d (see above)",
                 cfg->tls_cert ? "S" : "", cfg->listen_port);
        goto fail;
    }
    /* After the context exists: workers wake it from their threads. */
    if (media_new(cfg, notify_cb, srv, &srv->media, err, errlen) != 0) goto fail;
    srv->env.media = srv->media;
    print_url(cfg);
    *out = srv;
    return 0;
fail:
    server_free(srv);
    return -1;
}

/* Refuses the reload (err says why) unless the new certificate and key load. The vhost's
 * SSL_CTX was made from the boot paths; lws_tls_cert_updated reloads the files at those
 * paths into it, so connections from now on get the renewed certificate. */
static int reload_tls(server_t *srv, const config_t *next, char *err, size_t errlen)
{
    const config_t *boot = srv->boot;
    if (!boot->tls_cert || !next->tls_cert || strcmp(boot->tls_cert, next->tls_cert) != 0 ||
        strcmp(boot->tls_key, next->tls_key) != 0)
        return 0; /* TLS switched on or off, or other files: reported as needing a restart */
    if (check_tls_files(next, err, errlen) != 0) return -1;
    lws_tls_cert_updated(srv->ctx, boot->tls_cert, boot->tls_key, NULL, 0, NULL, 0);
    log_info("reload: HTTPS certificate reloaded from %s", boot->tls_cert);
    return 0;
}

/* SIGHUP: the config file again. A file that does not load, a web_root that does not
 * exist or a certificate that does not load refuse the whole reload: the running config
 * stays. Otherwise joins, limits and the web root follow the new file at once (rooms
 * already running keep their media caps: hub_set_config); what only a restart can change
 * is named in the log. */
static void server_reload(server_t *srv)
{
    char err[CONFIG_ERROR_MAX], web_root[PATH_MAX], changed[256];
    config_t *next;
    if (!srv->config_path) {
        log_warn("reload: sobre runs on the embedded default config (no -c FILE): "
                 "nothing to reload");
        return;
    }
    if (config_load(srv->config_path, &next, err) != 0) {
        log_warn("reload refused, the running configuration stays: %s", err);
        return;
    }
    if (!realpath(next->web_root, web_root)) {
        log_warn("reload refused, the running configuration stays: web_root: %s: %s",
                 next->web_root, strerror(errno));
        config_free(next);
        return;
    }
    if (reload_tls(srv, next, err, sizeof err) != 0) {
        log_warn("reload refused, the running configuration stays: %s", err);
        config_free(next);
        return;
    }
    if (config_restart_changes(srv->boot, next, changed, sizeof changed) > 0)
        log_warn("reload: %s changed in %s but take%s effect only after a restart; the "
                 "running values stay",
                 changed, srv->config_path, strchr(changed, ',') ? "" : "s");
    memcpy(srv->web_root, web_root, sizeof web_root);
    srv->cfg = srv->env.cfg = next;
    log_addresses = next->log_private_data;
    hub_set_config(srv->hub, next);
    config_free(srv->reloaded); /* nothing points into it any more */
    srv->reloaded = next;
    log_info("reload: configuration reloaded from %s", srv->config_path);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    server_t *srv = lws_container_of(sul, server_t, tick);
    if (atomic_exchange(&srv->reload, false)) server_reload(srv);
    session_reap(&srv->env, false);
    footprint_tick_all(srv, now_ms());
    lws_sul_schedule(srv->ctx, 0, &srv->tick, tick_cb, TICK_MS * LWS_US_PER_MS);
}

int server_run(server_t *srv)
{
    lws_sul_schedule(srv->ctx, 0, &srv->tick, tick_cb, TICK_MS * LWS_US_PER_MS);
    while (!atomic_load(&srv->stop))
        if (lws_service(srv->ctx, 0) < 0) break;
    log_info("shutting down: %zu sessions", srv->env.count);
    srv->shutting_down = true;
    session_close_all(&srv->env, "shutdown");
    long long deadline = now_ms() + SHUTDOWN_GRACE_MS;
    while (srv->env.count > 0 && now_ms() < deadline)
        if (lws_service(srv->ctx, 0) < 0) break;
    lws_sul_cancel(&srv->tick);
    return 0;
}

void server_request_stop(server_t *srv)
{
    atomic_store(&srv->stop, true);
    lws_cancel_service(srv->ctx);
}

void server_request_reload(server_t *srv)
{
    atomic_store(&srv->reload, true);
    lws_cancel_service(srv->ctx);
}

void server_free(server_t *srv)
{
    if (!srv) return;
    if (srv->ctx) lws_context_destroy(srv->ctx); /* closes sessions: they leave their rooms */
    session_reap(&srv->env, true);               /* and those waiting for a resume */
    addrlimit_free(srv->env.addrs);
    media_free(srv->media);
    hub_free(srv->hub);
    config_free(srv->reloaded);
    metrics_free(srv->metrics);
    free(srv);
}
