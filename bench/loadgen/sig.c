/* The signalling thread: one libwebsockets client per participant, connected at its
 * ramp-up time; JSON messages in and out go to the protocol of the mode (sobre's
 * PROTOCOL.md here, Janus VideoRoom in sig_janus.c). */
#include "sig.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lws_context *ctx;
static pthread_t thread;
static lws_sorted_usec_list_t sul;
static lg_t *the_lg;
static const sig_proto_t *proto;
static char host[128], path[256];
static int port;
static int next_connect;

sig_part_t *sig_of(lg_part_t *p)
{
    return p->sig;
}

void sig_send(lg_part_t *p, json_t *msg)
{
    sig_part_t *s = sig_of(p);
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text || s->qt - s->qh >= SIG_QCAP || !s->wsi) {
        free(text);
        atomic_fetch_add(&the_lg->sig_errors, 1);
        return;
    }
    s->q[s->qt++ % SIG_QCAP] = text;
    lws_callback_on_writable(s->wsi);
}

void sig_error(lg_part_t *p, const char *what, const char *detail)
{
    fprintf(stderr, "loadgen: participant %d: %s%s%s\n", p->idx, what, detail ? ": " : "",
            detail ? detail : "");
    atomic_fetch_add(&the_lg->sig_errors, 1);
}

static void on_text(lg_part_t *p, sig_part_t *s)
{
    json_error_t e;
    json_t *msg = json_loadb(s->rx, s->rxlen, 0, &e);
    if (getenv("LG_TRACE")) /* debugging a protocol: every message received */
        fprintf(stderr, "lg%d <- %.*s\n", p->idx, (int)s->rxlen, s->rx);
    s->rxlen = 0;
    if (!json_is_object(msg)) {
        sig_error(p, "unparsable message", e.text);
        json_decref(msg);
        return;
    }
    proto->on_message(the_lg, p, msg);
    json_decref(msg);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    lg_part_t *p = lws_get_opaque_user_data(wsi);
    sig_part_t *s = p ? sig_of(p) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        proto->on_open(the_lg, p);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (s->rxlen + len + 1 > s->rxcap) {
            s->rxcap = (s->rxlen + len + 1) * 2;
            s->rx = realloc(s->rx, s->rxcap);
            if (!s->rx) abort();
        }
        memcpy(s->rx + s->rxlen, in, len);
        s->rxlen += len;
        if (lws_is_final_fragment(wsi)) on_text(p, s);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (s->qh == s->qt) break;
        char *text = s->q[s->qh++ % SIG_QCAP];
        size_t n = strlen(text);
        unsigned char *buf = malloc(LWS_PRE + n);
        if (!buf) abort();
        memcpy(buf + LWS_PRE, text, n);
        int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
        free(buf);
        free(text);
        if (w < (int)n) return -1;
        if (s->qh != s->qt) lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (p) sig_error(p, "WebSocket connection failed", in ? (const char *)in : NULL);
        if (s) s->wsi = NULL;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s) s->wsi = NULL;
        if (p && !atomic_load(&the_lg->stop)) sig_error(p, "WebSocket closed by the server", NULL);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"lg", callback, 0, 1 << 16, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void connect_one(lg_part_t *p)
{
    struct lws_client_connect_info ci = {0};
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.protocol = proto->subprotocol;
    ci.local_protocol_name = "lg";
    ci.opaque_user_data = p;
    ci.pwsi = &sig_of(p)->wsi;
    if (!lws_client_connect_via_info(&ci))
        sig_error(p, "cannot start a WebSocket connection", NULL);
}

/* Every 10 ms: connect whoever's ramp-up time has come, and the protocol's timers. */
static void on_timer(lws_sorted_usec_list_t *u)
{
    uint64_t now = lg_now_ms();
    lg_t *lg = the_lg;
    while (next_connect < lg->n &&
           now >= lg->t0_ms + (uint64_t)(lg->o.ramp_s * 1000 * next_connect / lg->n))
        connect_one(&lg->parts[next_connect++]);
    if (proto->on_tick)
        for (int i = 0; i < next_connect; i++)
            proto->on_tick(lg, &lg->parts[i], now);
    if (!atomic_load(&lg->stop)) lws_sul_schedule(ctx, 0, u, on_timer, 10 * LWS_US_PER_MS);
}

static void *run(void *arg)
{
    (void)arg;
    while (!atomic_load(&the_lg->stop))
        if (lws_service(ctx, 0) < 0) break;
    return NULL;
}

int sig_start(lg_t *lg, const sig_proto_t *pr)
{
    the_lg = lg;
    proto = pr;
    char url[512];
    const char *prot, *addr, *pth;
    snprintf(url, sizeof url, "%s", lg->o.url);
    if (lws_parse_uri(url, &prot, &addr, &port, &pth) || strcmp(prot, "ws") != 0) {
        fprintf(stderr, "loadgen: --url %s: expected ws://host:port/path\n", lg->o.url);
        return -1;
    }
    snprintf(host, sizeof host, "%s", addr);
    snprintf(path, sizeof path, "/%s", pth);
    for (int i = 0; i < lg->n; i++)
        lg->parts[i].sig = calloc(1, sizeof(sig_part_t));
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info = {0};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned)(lg->n + 64);
    ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "loadgen: lws_create_context failed\n");
        return -1;
    }
    lws_sul_schedule(ctx, 0, &sul, on_timer, 1);
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        lws_context_destroy(ctx);
        return -1;
    }
    return 0;
}

void sig_stop(lg_t *lg)
{
    if (!ctx) return;
    atomic_store(&lg->stop, true);
    lws_cancel_service(ctx);
    pthread_join(thread, NULL);
    lws_context_destroy(ctx);
    ctx = NULL;
    for (int i = 0; i < lg->n; i++) {
        sig_part_t *s = lg->parts[i].sig;
        if (!s) continue;
        while (s->qh != s->qt)
            free(s->q[s->qh++ % SIG_QCAP]);
        free(s->rx);
        free(s);
        lg->parts[i].sig = NULL;
    }
}
