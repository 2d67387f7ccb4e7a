/* server: the signalling thread (DESIGN.md): one libwebsockets loop serving the web
 * client, /healthz and the WebSocket protocol, and the media workers it starts and stops
 * through their queues. */
#ifndef SOBRE_SERVER_H
#define SOBRE_SERVER_H

#include <stddef.h>

#include "config.h"

typedef struct server server_t;

/* Binds the HTTP(S) port and the media ports, starts the workers and prints the URL to
 * open on stdout. cfg is borrowed and must outlive the server; config_path (borrowed too)
 * is the file it came from, read again by server_request_reload, or NULL. Returns 0 and
 * sets *out, or -1 with a one-line reason in err. Thread: the one that will call
 * server_run. */
int server_new(const config_t *cfg, const char *config_path, server_t **out, char *err,
               size_t errlen);

/* Serves until server_request_stop; then sends `bye` to every session, waits up to 1.5 s
 * for them to flush, and returns 0. */
int server_run(server_t *srv);

/* Asks server_run to finish. Thread: any (not a signal handler). */
void server_request_stop(server_t *srv);

/* Asks the server to read its config file again (SIGHUP), soon, on its own thread. A file
 * that fails to load (or names a certificate or web root that does not) is refused with
 * the error logged, and the running config stays. Otherwise new joins follow the new
 * caps and limits at once, rooms already running keep their media caps (video,
 * video_kbps, audio_kbps, last_n, echo) until they empty, the HTTPS certificate and key
 * are read again from their files, and settings only a restart can change (listen, TLS
 * paths, media ports, workers, announce, DTLS certificate) are logged as such and keep
 * their running values. Thread: any (not a signal handler). */
void server_request_reload(server_t *srv);

/* Stops the workers and frees everything; server_free(NULL) is a no-op. */
void server_free(server_t *srv);

#endif
