/* media_sub: one participant's subscribe connection (PROTOCOL.md: the server offers, the
 * client answers): which tracks of others it carries (sdp_offer.h keeps the m-lines),
 * the offer/answer cycle (one offer at a time, changes coalesced), and, once answered,
 * its transport and subscriptions on the room's worker. Knows nothing of sessions or
 * JSON. Thread: signalling only. */
#ifndef SOBRE_MEDIA_SUB_H
#define SOBRE_MEDIA_SUB_H

#include <stdbool.h>
#include <stddef.h>

#include "media.h"

typedef struct media_sub media_sub_t;

/* A subscribe connection for a participant of `room`. Aborts on OOM. */
media_sub_t *media_sub_new(media_t *m, const char *room);

/* Closes its transport (if any) and frees it; NULL is a no-op. */
void media_sub_free(media_t *m, media_sub_t *s);

/* Adds another participant's track: it is in the next offer. Returns 0 or -1 (with a
 * log line) when the connection can take no more. */
int media_sub_add(media_sub_t *s, const char *peer_id, const media_track_t *t);

/* Removes a track (its publisher left): stops forwarding it, closes its m-line in the
 * next offer. */
void media_sub_remove(media_t *m, media_sub_t *s, const media_track_t *t);

/* The next offer to send, when the tracks changed and no offer is unanswered: a heap
 * string to free(). NULL when there is nothing to send (or on an internal error,
 * logged). */
char *media_sub_offer(media_sub_t *s);

/* Whether the worker should hold back one of the tracks it carries (audio-only mode,
 * last_n): applied now, or when the track's subscription starts. */
void media_sub_set_paused(media_t *m, media_sub_t *s, uint32_t track, bool paused);

/* Which layer of a video track it should receive (DESIGN.md "Bandwidth"): spatial 0 is
 * the lowest simulcast layer, temporal 0 the lowest VP8 temporal layer; a value at or
 * above MEDIA_LAYER_TOP (or above what the track has) is the highest, the default.
 * Applied now (WORKER_CMD_SET_LAYER), or when the track's subscription starts. The
 * worker switches on the next keyframe of the layer (it asks for one); layer rates to
 * choose from are in media_track_t.rates. */
#define MEDIA_LAYER_TOP 255
void media_sub_set_layer(media_t *m, media_sub_t *s, uint32_t track, unsigned spatial,
                         unsigned temporal);
/* What this participant's allocation would use if its link allowed (bits per second):
 * the worker probes its downlink towards it (WORKER_CMD_WANT). Posted when it moves by
 * 10% or more, or to or from 0, and once the transport exists. */
void media_sub_set_wanted(media_t *m, media_sub_t *s, uint32_t bps);

/* The offer waiting for its answer (to send again after a resume), or NULL. */
const char *media_sub_pending_offer(const media_sub_t *s);

/* Whether an offer waits for its answer. */
bool media_sub_pending(const media_sub_t *s);

/* Applies the client's answer: the first one creates the transport; every track the
 * answer accepts starts being forwarded. Returns 0, or -1 with the reason in err (the
 * offer then stays unanswered). */
int media_sub_answer(media_t *m, media_sub_t *s, const char *sdp, size_t len, char *err,
                     size_t errlen);

/* Id of its transport (0 before the first answer), as in worker events. */
uint64_t media_sub_transport(const media_sub_t *s);

#endif
