/* config: the one JSON configuration file, parsed and checked.
 *
 * A config is plain read-only data once loaded: the signalling thread owns it and hands
 * copies of the numbers it needs to the media workers. Every error names the file, line,
 * column and key path at fault, e.g.
 *   sobre.json:14:7: rooms.assemblee.video_kbps: expected an integer between 16 and
 *   10000, got "300k"
 * Unknown keys are errors. The key reference is in README.md ("Configuration"). */
#ifndef SOBRE_CONFIG_H
#define SOBRE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_ROOM_NAME_MAX 64
#define CONFIG_PASSWORD_MAX  256
#define CONFIG_ERROR_MAX     512

/* Caps of one room. Keys a configured room omits come from `room_defaults`. */
typedef struct config_room {
    char name[CONFIG_ROOM_NAME_MAX + 1]; /* empty for room_defaults */
    int max_participants;                /* 1..1000 */
    bool video;                          /* false: audio-only room */
    int video_kbps;                      /* per publisher, 16..10000 */
    int audio_kbps;                      /* per publisher, 6..510 */
    int last_n;                          /* video of the N latest speakers, 0 = all */
    char *password;                      /* NULL: none; owned by the config */
    bool echo; /* test room: each participant receives its own media back */
} config_room_t;

/* metrics.access: who may read /metrics and /status. */
typedef enum {
    CONFIG_METRICS_OFF,      /* 404 */
    CONFIG_METRICS_LOOPBACK, /* from this host only, not through a proxy */
    CONFIG_METRICS_TOKEN,    /* from anywhere with "Authorization: Bearer <metrics.token>" */
} config_metrics_access_t;

typedef struct config {
    char *listen_address; /* NULL: every interface */
    int listen_port;      /* 1..65535 */
    char *tls_cert;       /* NULL or both set */
    char *tls_key;
    char *web_root; /* directory served over HTTP */

    int media_port;    /* first UDP port; worker i uses media_port + i */
    int media_workers; /* 1..64 */
    char **announce;   /* addresses written into ICE candidates; n_announce == 0: all */
    size_t n_announce;
    char *dtls_cert; /* PEM files of the DTLS certificate; NULL (both): generated */
    char *dtls_key;

    int max_rooms;               /* server-wide, 1..10000 */
    int max_participants;        /* server-wide, 1..100000 */
    int uplink_kbps;             /* host egress budget, 0 = unlimited */
    int messages_per_second;     /* per signalling session, 1..1000 */
    int resume_seconds;          /* a dropped socket's participant waits this long, 0..300 */
    int connections_per_ip;      /* WebSockets open at once from one address, 1..10000 */
    int joins_per_minute_per_ip; /* join attempts (password guessing), 1..10000 */
    int join_timeout_seconds;    /* a socket that has not joined by then is closed, 1..600 */

    bool on_demand;              /* rooms not listed in `rooms` are created on join */
    config_room_t room_defaults; /* template for on-demand rooms and omitted keys */
    config_room_t *rooms;        /* configured rooms, in file order */
    char *token_secret;          /* auth.token_secret: signs join tokens; NULL: none */

    int metrics_access;    /* config_metrics_access_t */
    char *metrics_token;   /* set (16+ bytes) exactly when metrics_access is TOKEN */
    int log_level;         /* log_level_t: 0 error .. 3 debug */
    bool log_private_data; /* names and addresses of participants in the log */
    double idle_watts;     /* footprint: the host's idle power charged to its rooms */
    double watts_per_core; /* footprint: power of one core kept busy */
    int footprint_seconds; /* period of `footprint` messages, 0: none */
    size_t n_rooms;
} config_t;

/* The embedded default config, as JSON text (what `sobre --default-config` prints). */
extern const char config_default_json[];

/* Parses `text` (NUL-terminated JSON). `name` is the file name used in errors.
 * On success returns 0 and sets *out (free with config_free). On failure returns -1,
 * writes one line (no trailing newline) into err[CONFIG_ERROR_MAX] and sets *out = NULL.
 * Thread: any; no global state. */
int config_parse(const char *text, const char *name, config_t **out, char *err);

/* Reads and parses the file at `path`; errors as config_parse (a file that cannot be read
 * gives "path: cannot read: <strerror>"). */
int config_load(const char *path, config_t **out, char *err);

/* Parses config_default_json; cannot fail (aborts if the embedded text is broken). */
config_t *config_default(void);

/* Frees everything; config_free(NULL) is a no-op. */
void config_free(config_t *cfg);

/* The settings a running server cannot change (listen address and port, TLS on or off and
 * the certificate's paths, the media ports, workers, announced addresses and DTLS
 * certificate) that differ between `running` and `next`: their key paths, comma-separated,
 * into out (empty if none). Returns how many differ. Thread: any. */
int config_restart_changes(const config_t *running, const config_t *next, char *out, size_t len);

/* The configured room called `name`, or NULL. Borrowed from cfg. */
const config_room_t *config_find_room(const config_t *cfg, const char *name);

#endif
