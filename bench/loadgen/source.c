/* Synthetic media: a loop of real Opus encoded once at startup from a speech-like signal,
 * and VP8-shaped frame sizes for a target bitrate. */
#include "lg.h"

#include <math.h>
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE        48000
#define FRAME       960 /* 20 ms */
#define LOOP_FRAMES 500 /* 10 s */
#define MAX_OPUS    400

typedef struct frame {
    uint8_t data[MAX_OPUS];
    size_t len;
    uint8_t level;
    bool dtx;
} frame_t;

static frame_t *frames;
static double video_delta_bytes, video_key_bytes;
static uint32_t rng = 2463534242u;
static uint8_t pool[65536]; /* what video payloads are copied from */

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Speech-like: talkspurts of 0.6..2.5 s separated by 0.3..1.5 s pauses; voiced sound is a
 * glottal pulse train (pitch drifting 90..220 Hz) through three formant resonators whose
 * centres move syllable by syllable (about 4 per second), under a syllabic envelope. */
static void synth(float *pcm, size_t n)
{
    uint32_t s = 12345;
    double phase = 0, pitch = 140;
    double y1[3] = {0}, y2[3] = {0};
    double f[3] = {500, 1500, 2500};
    size_t seg_left = 0, syl_left = 0;
    bool talking = false;
    for (size_t i = 0; i < n; i++) {
        if (seg_left == 0) {
            talking = !talking;
            seg_left = (size_t)(RATE * (talking ? 0.6 + (xorshift(&s) % 1900) / 1000.0
                                                : 0.3 + (xorshift(&s) % 1200) / 1000.0));
        }
        seg_left--;
        if (syl_left == 0) {
            syl_left = RATE / 4 + xorshift(&s) % (RATE / 8);
            f[0] = 300 + xorshift(&s) % 600;
            f[1] = 900 + xorshift(&s) % 1500;
            f[2] = 2200 + xorshift(&s) % 800;
            pitch = 90 + xorshift(&s) % 130;
        }
        syl_left--;
        double env = talking ? sin(M_PI * (double)(syl_left % (RATE / 4)) / (RATE / 4)) : 0.0;
        phase += pitch / RATE;
        double x = 0;
        if (phase >= 1.0) {
            phase -= 1.0;
            x = 1.0;
        }
        x += ((double)(xorshift(&s) % 2001) / 1000.0 - 1.0) * 0.02; /* breath */
        double out = 0;
        for (int k = 0; k < 3; k++) {
            double r = 0.97, w = 2 * M_PI * f[k] / RATE;
            double y = x + 2 * r * cos(w) * y1[k] - r * r * y2[k];
            y2[k] = y1[k];
            y1[k] = y;
            out += y / (k + 1);
        }
        pcm[i] = (float)(0.05 * env * out + 0.00003 * ((double)(xorshift(&s) % 2001) / 1000.0 - 1));
    }
}

/* RFC 6464 level: -dBov of the frame, 0 (loud) .. 127 (silence). */
static uint8_t level_of(const float *pcm, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += (double)pcm[i] * pcm[i];
    double rms = sqrt(e / (double)n);
    double db = rms > 0 ? -20 * log10(rms) : 127;
    return db > 127 ? 127 : db < 0 ? 0 : (uint8_t)db;
}

int lg_source_init(const lg_opts_t *o)
{
    int err;
    float *pcm = malloc(sizeof(float) * FRAME * LOOP_FRAMES);
    frames = calloc(LOOP_FRAMES, sizeof *frames);
    OpusEncoder *enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
    if (!pcm || !frames || !enc) {
        fprintf(stderr, "loadgen: opus encoder: %s\n", enc ? "out of memory" : opus_strerror(err));
        free(pcm);
        opus_encoder_destroy(enc);
        return -1;
    }
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(enc, OPUS_SET_DTX(o->dtx ? 1 : 0));
    synth(pcm, (size_t)FRAME * LOOP_FRAMES);
    for (size_t i = 0; i < LOOP_FRAMES; i++) {
        const float *x = pcm + i * FRAME;
        opus_int32 n = opus_encode_float(enc, x, FRAME, frames[i].data, MAX_OPUS);
        if (n < 0) {
            fprintf(stderr, "loadgen: opus_encode_float: %s\n", opus_strerror(n));
            free(pcm);
            opus_encoder_destroy(enc);
            return -1;
        }
        frames[i].len = (size_t)n;
        frames[i].level = level_of(x, FRAME);
        frames[i].dtx = o->dtx && n <= 2; /* RFC 7587: DTX frames are 1-2 bytes */
    }
    free(pcm);
    opus_encoder_destroy(enc);
    uint32_t s = 88172645u;
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (uint8_t)xorshift(&s);
    /* Video: one keyframe per keyframe interval, 4x the size of a delta frame, the rest
     * sized so that the interval averages the bitrate. */
    if (o->video) {
        double per_interval = o->video_kbps * 1000.0 / 8 * o->keyframe_s;
        double frames_per = o->fps * o->keyframe_s;
        video_delta_bytes = per_interval / (frames_per - 1 + 4);
        video_key_bytes = 4 * video_delta_bytes;
    }
    return 0;
}

void lg_source_free(void)
{
    free(frames);
    frames = NULL;
}

const uint8_t *lg_source_audio(size_t pos, size_t *len, uint8_t *level, bool *dtx)
{
    const frame_t *f = &frames[pos % LOOP_FRAMES];
    *len = f->len;
    *level = f->level;
    *dtx = f->dtx;
    return f->data;
}

size_t lg_source_video_size(bool key)
{
    double base = key ? video_key_bytes : video_delta_bytes;
    double jitter = 0.8 + (xorshift(&rng) % 401) / 1000.0; /* +-20 % */
    size_t n = (size_t)(base * jitter);
    return n < 30 ? 30 : n;
}

void lg_source_fill(uint8_t *p, size_t n, uint32_t seed)
{
    if (n > sizeof pool) n = sizeof pool;
    memcpy(p, pool + (seed * 7919u) % (sizeof pool - n + 1), n);
}
