#include "metrics.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mem.h"

/* Downlink estimates, bits per second: from a phone on a poor link to a fast LAN. */
static const double estimate_buckets[] = {64e3, 128e3, 256e3, 512e3, 1e6,
                                          2e6,  4e6,   8e6,   16e6,  32e6};
#define N_BUCKETS (sizeof estimate_buckets / sizeof estimate_buckets[0])

struct metrics {
    uint64_t est_buckets[N_BUCKETS]; /* not cumulative: rendered cumulative */
    uint64_t est_count;
    double est_sum;
    worker_usage_t usage;      /* every transport's, since the start */
    double closed_idle_joules; /* idle share charged to rooms since closed */
};

metrics_t *metrics_new(void)
{
    return xcalloc(1, sizeof(metrics_t));
}

void metrics_free(metrics_t *m)
{
    free(m);
}

void metrics_observe_estimate(metrics_t *m, uint32_t bps)
{
    size_t i = 0;
    while (i < N_BUCKETS && (double)bps > estimate_buckets[i])
        i++;
    if (i < N_BUCKETS) m->est_buckets[i]++;
    m->est_count++;
    m->est_sum += bps;
}

void metrics_add_usage(metrics_t *m, const worker_usage_t *u)
{
    m->usage.bytes_in += u->bytes_in;
    m->usage.bytes_out += u->bytes_out;
    m->usage.cpu_ns += u->cpu_ns;
}

void metrics_room_closed(metrics_t *m, const footprint_t *f)
{
    m->closed_idle_joules += f->idle_joules;
}

/* ---- text ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

__attribute__((format(printf, 2, 3))) static void put(buf_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (n > 0 ? (size_t)n : 0);
        b->p = xrealloc(b->p, b->cap);
    }
}

static void family(buf_t *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One unlabelled sample with its family header. */
static void single(buf_t *b, const char *name, const char *type, const char *help, double v)
{
    family(b, name, type, help);
    put(b, "%s %.17g\n", name, v);
}

/* Every worker's counters added up (router fields included, as arrays of uint64_t). */
static void sum_workers(const media_t *media, worker_stats_t *sum)
{
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < media_workers(media); i++) {
        worker_stats_t w;
        media_worker_stats(media, i, &w);
        sum->datagrams_in += w.datagrams_in;
        sum->dropped_unknown += w.dropped_unknown;
        sum->dropped_unverified += w.dropped_unverified;
        sum->dropped_stun += w.dropped_stun;
        sum->dropped_srtp += w.dropped_srtp;
        sum->datagrams_out += w.datagrams_out;
        sum->send_errors += w.send_errors;
        sum->bytes_in += w.bytes_in;
        sum->bytes_out += w.bytes_out;
        sum->rtcp_in += w.rtcp_in;
        sum->rtcp_in_bytes += w.rtcp_in_bytes;
        sum->rtcp_out += w.rtcp_out;
        sum->rtcp_out_bytes += w.rtcp_out_bytes;
        sum->cpu_ns += w.cpu_ns;
        sum->transports += w.transports;
        uint64_t a[sizeof(router_stats_t) / sizeof(uint64_t)], c[sizeof a / sizeof a[0]];
        memcpy(a, &sum->router, sizeof a);
        memcpy(c, &w.router, sizeof c);
        for (size_t k = 0; k < sizeof a / sizeof a[0]; k++)
            a[k] += c[k];
        memcpy(&sum->router, a, sizeof a);
    }
}

static void by_kind(buf_t *b, const char *name, const char *help, uint64_t audio, uint64_t video,
                    uint64_t rtcp)
{
    family(b, name, "counter", help);
    put(b, "%s{kind=\"audio\"} %llu\n%s{kind=\"video\"} %llu\n%s{kind=\"rtcp\"} %llu\n", name,
        (unsigned long long)audio, name, (unsigned long long)video, name, (unsigned long long)rtcp);
}

static void traffic(buf_t *b, const worker_stats_t *s)
{
    const router_stats_t *r = &s->router;
    by_kind(b, "sobre_packets_received_total",
            "Media packets received from publishers (RTP by kind, and SRTCP datagrams).",
            r->kind_in[0], r->kind_in[1], s->rtcp_in);
    by_kind(b, "sobre_bytes_received_total",
            "Bytes of those packets (RTP header and payload; SRTCP datagrams whole).",
            r->kind_in_bytes[0], r->kind_in_bytes[1], s->rtcp_in_bytes);
    by_kind(b, "sobre_packets_sent_total",
            "Media packets sent to subscribers (RTP by kind, retransmissions included; "
            "SRTCP datagrams).",
            r->kind_out[0], r->kind_out[1], s->rtcp_out);
    by_kind(b, "sobre_bytes_sent_total", "Bytes of those packets (as sobre_bytes_received_total).",
            r->kind_out_bytes[0], r->kind_out_bytes[1], s->rtcp_out_bytes);
    single(b, "sobre_udp_datagrams_received_total", "counter",
           "UDP datagrams received on the media ports.", (double)s->datagrams_in);
    single(b, "sobre_udp_datagrams_sent_total", "counter",
           "UDP datagrams sent from the media ports.", (double)s->datagrams_out);
    single(b, "sobre_udp_bytes_received_total", "counter",
           "UDP payload bytes received on the media ports.", (double)s->bytes_in);
    single(b, "sobre_udp_bytes_sent_total", "counter",
           "UDP payload bytes queued for sending on the media ports.", (double)s->bytes_out);
}

static void drops(buf_t *b, const worker_stats_t *s)
{
    const router_stats_t *r = &s->router;
    const struct {
        const char *reason;
        uint64_t n;
    } rows[] = {
        {"not_webrtc", s->dropped_unknown},
        {"unverified_address", s->dropped_unverified},
        {"stun_no_transport", s->dropped_stun},
        {"srtp_failed", s->dropped_srtp},
        {"send_failed", s->send_errors},
        {"unknown_ssrc", r->rtp_unknown},
        {"muted", r->dropped_muted},
        {"paused", r->dropped_paused},
        {"waiting_keyframe", r->dropped_waiting_keyframe},
        {"payload_type", r->dropped_pt},
        {"temporal_layer", r->dropped_layer},
    };
    family(b, "sobre_packets_dropped_total", "counter",
           "Datagrams or packet copies not forwarded, by reason.");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        put(b, "sobre_packets_dropped_total{reason=\"%s\"} %llu\n", rows[i].reason,
            (unsigned long long)rows[i].n);
}

static void feedback(buf_t *b, const router_stats_t *r)
{
    family(b, "sobre_nacks_total", "counter",
           "Sequence numbers NACKed: by subscribers (received) and by sobre to publishers (sent).");
    put(b, "sobre_nacks_total{direction=\"received\"} %llu\n", (unsigned long long)r->nacks_in);
    put(b, "sobre_nacks_total{direction=\"sent\"} %llu\n", (unsigned long long)r->nacks_upstream);
    single(b, "sobre_retransmissions_total", "counter",
           "Packets retransmitted to subscribers (RTX) from the packet cache.",
           (double)r->retransmissions);
    single(b, "sobre_retransmission_misses_total", "counter",
           "NACKed packets that could not be retransmitted (not cached, no RTX).",
           (double)r->nack_misses);
    single(b, "sobre_keyframe_requests_total", "counter",
           "Keyframe requests (PLI) sent to publishers.", (double)r->keyframe_requests);
    single(b, "sobre_layer_switches_total", "counter",
           "Simulcast layer switches done for subscribers.", (double)r->layer_switches);
    single(b, "sobre_transport_cc_feedback_total", "counter",
           "Transport-wide congestion control feedback packets received from subscribers.",
           (double)r->twcc_in);
    single(b, "sobre_probe_padding_packets_total", "counter",
           "Padding packets sent to probe a subscriber's downlink.", (double)r->padding_out);
}

static void estimates(buf_t *b, const metrics_t *m)
{
    const char *name = "sobre_downlink_estimate_bits_per_second";
    family(b, name, "histogram", "Subscribers' downlink estimates, each change observed.");
    uint64_t cum = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cum += m->est_buckets[i];
        put(b, "%s_bucket{le=\"%.17g\"} %llu\n", name, estimate_buckets[i],
            (unsigned long long)cum);
    }
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name,
        (unsigned long long)m->est_count, name, m->est_sum, name, (unsigned long long)m->est_count);
}

static void workers(buf_t *b, const media_t *media)
{
    int n = media_workers(media);
    family(b, "sobre_worker_cpu_seconds_total", "counter",
           "CPU time of each media worker thread (its load: rate() of this).");
    for (int i = 0; i < n; i++) {
        worker_stats_t w;
        media_worker_stats(media, i, &w);
        put(b, "sobre_worker_cpu_seconds_total{worker=\"%d\"} %.9f\n", i, (double)w.cpu_ns / 1e9);
    }
    family(b, "sobre_worker_transports", "gauge", "Media transports on each worker.");
    for (int i = 0; i < n; i++) {
        worker_stats_t w;
        media_worker_stats(media, i, &w);
        put(b, "sobre_worker_transports{worker=\"%d\"} %u\n", i, w.transports);
    }
}

static double process_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double process_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f) return 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : 0;
}

static footprint_model_t model(const config_t *cfg)
{
    return (footprint_model_t){cfg->idle_watts, cfg->watts_per_core};
}

static void rooms(buf_t *b, const metrics_t *m, const metrics_sources_t *src)
{
    footprint_model_t fm = model(src->cfg);
    static const struct {
        const char *name, *type, *help;
    } fams[] = {
        {"sobre_room_participants", "gauge", "Participants in each open room."},
        {"sobre_room_relayed_bytes_total", "counter",
         "UDP payload bytes sent to each open room's participants."},
        {"sobre_room_received_bytes_total", "counter",
         "UDP payload bytes received from each open room's participants."},
        {"sobre_room_cpu_seconds_total", "counter",
         "Media worker CPU time spent on each open room (README: the footprint of a meeting)."},
        {"sobre_room_energy_joules_total", "counter",
         "Energy estimate of each open room from the footprint power model."},
    };
    for (size_t k = 0; k < sizeof fams / sizeof fams[0]; k++) {
        family(b, fams[k].name, fams[k].type, fams[k].help);
        for (room_t *r = hub_first_room(src->hub); r; r = room_next(r)) {
            const footprint_t *f = room_footprint(r);
            peer_t *const *members;
            double v[] = {(double)room_members(r, &members), (double)f->bytes_out,
                          (double)f->bytes_in, footprint_cpu_seconds(f), footprint_joules(f, &fm)};
            put(b, "%s{room=\"%s\"} %.17g\n", fams[k].name, room_name(r), v[k]);
        }
    }
    double idle = m->closed_idle_joules;
    for (room_t *r = hub_first_room(src->hub); r; r = room_next(r))
        idle += room_footprint(r)->idle_joules;
    single(b, "sobre_relayed_bytes_total", "counter",
           "UDP payload bytes sent to participants of every room since the start.",
           (double)m->usage.bytes_out);
    single(b, "sobre_media_cpu_seconds_total", "counter",
           "Media worker CPU time charged to rooms since the start.",
           (double)m->usage.cpu_ns / 1e9);
    single(b, "sobre_energy_joules_total", "counter",
           "Energy estimate of every room since the start (footprint power model).",
           idle + (double)m->usage.cpu_ns / 1e9 * fm.watts_per_core);
}

char *metrics_render(const metrics_t *m, const metrics_sources_t *src, size_t *len)
{
    buf_t b = {xmalloc(16384), 0, 16384};
    worker_stats_t s;
    sum_workers(src->media, &s);
    const router_stats_t *r = &s.router;
    family(&b, "sobre_info", "gauge", "sobre's version.");
    put(&b, "sobre_info{version=\"%s\"} 1\n", SOBRE_VERSION);
    single(&b, "sobre_rooms", "gauge", "Open rooms.", (double)hub_room_count(src->hub));
    single(&b, "sobre_participants", "gauge", "Participants in rooms.",
           (double)hub_participant_count(src->hub));
    family(&b, "sobre_published_streams", "gauge", "Tracks publishers send, by kind.");
    put(&b,
        "sobre_published_streams{kind=\"audio\"} %llu\nsobre_published_streams{kind=\"video\"} "
        "%llu\n",
        (unsigned long long)r->tracks[0], (unsigned long long)r->tracks[1]);
    family(&b, "sobre_forwarded_streams", "gauge", "Copies of tracks forwarded to subscribers.");
    put(&b,
        "sobre_forwarded_streams{kind=\"audio\"} %llu\nsobre_forwarded_streams{kind=\"video\"} "
        "%llu\n",
        (unsigned long long)r->subscriptions[0], (unsigned long long)r->subscriptions[1]);
    single(&b, "sobre_paused_video_streams", "gauge",
           "Video copies paused for their subscriber (audio-only, last_n, bandwidth).",
           (double)r->paused_video);
    traffic(&b, &s);
    drops(&b, &s);
    feedback(&b, r);
    estimates(&b, m);
    workers(&b, src->media);
    rooms(&b, m, src);
    single(&b, "process_cpu_seconds_total", "counter", "User and system CPU time of the process.",
           process_cpu_seconds());
    single(&b, "process_resident_memory_bytes", "gauge", "Resident memory of the process.",
           process_rss_bytes());
    *len = b.len;
    return b.p;
}

/* ---- /status ---- */

static json_t *room_json(room_t *r, const metrics_sources_t *src, bool names)
{
    footprint_model_t fm = model(src->cfg);
    const footprint_t *f = room_footprint(r);
    peer_t *const *members;
    size_t n = room_members(r, &members);
    json_t *peers = json_array();
    for (size_t i = 0; i < n; i++) {
        const peer_t *p = members[i];
        json_t *pj =
            json_pack("{ss sb sb sI sI sI}", "id", p->id, "audio", p->audio, "video", p->video,
                      "estimate_kbps", (json_int_t)(session_estimate_bps(p) / 1000), "kbps_in",
                      (json_int_t)p->usage.kbps_in, "kbps_out", (json_int_t)p->usage.kbps_out);
        if (names) json_object_set_new(pj, "name", json_string(p->name));
        json_array_append_new(peers, pj);
    }
    return json_pack("{ss sI sI sI so s{sI sI sf sf sI}}", "name", room_name(r), "participants",
                     (json_int_t)n, "kbps_in", (json_int_t)f->kbps_in, "kbps_out",
                     (json_int_t)f->kbps_out, "peers", peers, "footprint", "bytes_relayed",
                     (json_int_t)f->bytes_out, "bytes_received", (json_int_t)f->bytes_in,
                     "cpu_seconds", footprint_cpu_seconds(f), "energy_wh",
                     footprint_joules(f, &fm) / 3600.0, "seconds",
                     (json_int_t)((src->now_ms - f->opened_ms) / 1000));
}

char *metrics_status_json(const metrics_t *m, const metrics_sources_t *src, bool names)
{
    json_t *rooms_j = json_array();
    for (room_t *r = hub_first_room(src->hub); r; r = room_next(r))
        json_array_append_new(rooms_j, room_json(r, src, names));
    json_t *workers_j = json_array();
    for (int i = 0; i < media_workers(src->media); i++) {
        worker_stats_t w;
        media_worker_stats(src->media, i, &w);
        json_array_append_new(workers_j, json_pack("{si sI sf}", "index", i, "transports",
                                                   (json_int_t)w.transports, "cpu_seconds",
                                                   (double)w.cpu_ns / 1e9));
    }
    json_t *obj = json_pack("{ss sI sI so so s{sI sf sf}}", "version", SOBRE_VERSION, "rooms_open",
                            (json_int_t)hub_room_count(src->hub), "participants",
                            (json_int_t)hub_participant_count(src->hub), "rooms", rooms_j,
                            "workers", workers_j, "process", "resident_memory_bytes",
                            (json_int_t)process_rss_bytes(), "cpu_seconds", process_cpu_seconds(),
                            "media_cpu_seconds_charged", (double)m->usage.cpu_ns / 1e9);
    char *text = json_dumps(obj, JSON_INDENT(1));
    json_decref(obj);
    if (!text) abort();
    return text;
}
