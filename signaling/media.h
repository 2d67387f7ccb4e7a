/* media: the signalling side of the media plane. Owns the media workers and the DTLS
 * certificate, knows the addresses written into ICE candidates, and turns a client's
 * publish offer into an answer plus a transport on the room's worker (DESIGN.md "The
 * boundary"). Knows nothing of sessions or JSON. Thread: signalling only. */
#ifndef SOBRE_MEDIA_H
#define SOBRE_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ice.h"
#include "sdp.h"
#include "worker.h"

typedef struct media media_t;

/* Loads or generates the DTLS certificate, finds the candidate addresses and starts the
 * workers; `notify` wakes the signalling loop when a worker has events. Returns 0 and
 * sets *out, or -1 with a sentence in err naming what failed. cfg must outlive it. */
int media_new(const config_t *cfg, worker_notify_cb notify, void *notify_arg, media_t **out,
              char *err, size_t errlen);
void media_free(media_t *m); /* stops the workers; media_free(NULL) is a no-op */

/* A track a participant publishes, as the worker forwards it and subscribers are offered
 * it. Plain data: owned by the publisher's session. */
typedef struct media_track {
    uint32_t id;       /* unique in the server; the worker's track id */
    char track_id[16]; /* the msid track id subscribers see */
    int worker;
    sdp_kind_t kind;
    char mid[33];            /* its m-line on the publish connection */
    uint32_t in_ssrc;        /* what the publisher sends it under (simulcast: 0) */
    uint32_t ssrc, rtx_ssrc; /* what every subscriber receives (rtx 0: none) */
    sdp_media_t media;       /* the publisher's m-line as answered: codecs, extensions */
    size_t nlayers;          /* video: simulcast layers (1: none), lowest first */
    router_rates_t rates;    /* video: the worker's latest measured rates (kbps per spatial
                                layer and cumulative temporal layer; WORKER_EV_LAYER_RATES) */
    router_rates_t seen;     /* video: the last nonzero rate of each layer measured while all
                                were asked for (one the publisher stopped is still known) */
    size_t active;           /* video: simulcast layers its publisher is asked to send (the
                                lowest ones; `layers` message), nlayers: all */
} media_track_t;

#define MEDIA_MAX_TRACKS 4 /* per publisher: audio, video, and room to grow */

/* One participant's publish connection: what media_publish needs to answer its next
 * offer (a renegotiation). Zero it before the first publish; owned by the session. */
typedef struct media_publisher {
    uint64_t transport; /* 0 until the first publish */
    int worker;
    char ufrag[ICE_UFRAG_LEN + 1], pwd[ICE_PWD_LEN + 1]; /* ours */
    char remote_ufrag[65];
    media_track_t *tracks; /* MEDIA_MAX_TRACKS entries, ntracks in use */
    size_t ntracks;
} media_publisher_t;

/* What a publish changed. */
typedef struct media_publish_result {
    char *answer;        /* the SDP answer, heap-allocated: free() it */
    bool audio, video;   /* accepted media kinds */
    bool video_rejected; /* the offer had video and the room takes none */
    size_t nadded;       /* new tracks: indices into the publisher's tracks */
    size_t added[MEDIA_MAX_TRACKS];
    size_t nended;        /* tracks that ended (the worker was told): copies */
    media_track_t *ended; /* heap array of nended: free() it */
} media_publish_result_t;

/* Answers peer_id's publish offer (its first, or a renegotiation of the same
 * connection) in a room with these caps: creates the transport on the room's worker the
 * first time, and starts and ends tracks as the offer's m-lines say. Returns 0, or -1
 * with the reason in err (e.g. the SDP line at fault); then nothing changed. */
int media_publish(media_t *m, const char *room, const char *peer_id, const config_room_t *caps,
                  media_publisher_t *pub, const char *offer, size_t offer_len,
                  media_publish_result_t *out, char *err, size_t errlen);

/* Closes the publish connection and forgets its tracks (end them first: media_end_track). */
void media_publisher_release(media_t *m, media_publisher_t *pub);

/* Closes a transport media_publish created (no event follows). */
void media_close(media_t *m, int worker, uint64_t transport);

/* The track ended (its publisher left): its subscribers get a BYE. */
void media_end_track(media_t *m, const media_track_t *t);

/* Stops or resumes forwarding a track. */
void media_mute_track(media_t *m, const media_track_t *t, bool muted);

/* For the subscribe side (media_sub.h). */
int media_post(media_t *m, int worker, worker_cmd_t *cmd); /* releases cmd on failure */
uint64_t media_next_transport_id(media_t *m);
int media_worker_for(const media_t *m, const char *room);
int media_port(const media_t *m, int worker);
uint32_t media_random_ssrc(void);

/* Takes the next event of any worker (WORKER_EV_TRANSPORT_*): 1 when one was written,
 * 0 when none. Pongs are consumed here (they count ready workers). */
int media_next_event(media_t *m, worker_event_t *ev);

int media_workers(const media_t *m);
/* Worker i's counters (worker_get_stats), 0 <= worker < media_workers. */
void media_worker_stats(const media_t *m, int worker, worker_stats_t *out);
int media_workers_ready(const media_t *m);
const char *media_fingerprint(const media_t *m);

/* The candidate addresses (announce, or every interface's), for logs and tests. */
size_t media_addresses(const media_t *m, const char *const **addrs);

#endif
