/* vp8: the payload descriptor (RFC 7741 section 4.2) parsed from a table of descriptors
 * and from Chrome's, PictureID and TL0PICIDX rewritten in place in both widths, and the
 * munger's numbering across dropped pictures, reordering and source switches: the
 * subscriber sees no gap. */
#include <stdlib.h>

#include "test.h"
#include "vp8.h"

static uint8_t *dup(const uint8_t *b, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, b, n);
    return p;
}

typedef struct {
    const char *name;
    uint8_t b[12];
    size_t len;
    int rc;
    bool key;
    uint16_t picture_id;
    bool pid15;
    int tl0; /* -1 absent */
    int tid; /* -1 absent */
    size_t desc_len;
} vp8_case_t;

static const vp8_case_t vp8_cases[] = {
    {"minimal key", {0x10, 0x50}, 2, 0, true, 0, false, -1, -1, 1},
    {"minimal delta", {0x10, 0x51}, 2, 0, false, 0, false, -1, -1, 1},
    {"not start", {0x00, 0x50}, 2, 0, false, 0, false, -1, -1, 1},
    {"pid 1", {0x11, 0x50}, 2, 0, false, 0, false, -1, -1, 1},
    {"7-bit pid", {0x90, 0x80, 0x45, 0x50}, 4, 0, true, 0x45, false, -1, -1, 3},
    {"15-bit pid", {0x90, 0x80, 0xff, 0xfe, 0x50}, 5, 0, true, 0x7ffe, true, -1, -1, 4},
    {"all fields", {0x90, 0xf0, 0x81, 0x23, 0x07, 0xbf, 0x50}, 7, 0, true, 0x123, true, 7, 2, 6},
    {"keyidx only", {0x90, 0x10, 0x1f, 0x50}, 4, 0, true, 0, false, -1, -1, 3},
    {.name = "no payload", .b = {0x10}, .len = 1, .rc = VP8_ERR_PAYLOAD},
    {.name = "empty", .b = {0}, .len = 0, .rc = VP8_ERR_PAYLOAD},
    {.name = "x cut", .b = {0x90}, .len = 1, .rc = VP8_ERR_PAYLOAD},
    {.name = "pid cut", .b = {0x90, 0x80}, .len = 2, .rc = VP8_ERR_PAYLOAD},
    {.name = "pid15 cut", .b = {0x90, 0x80, 0x81}, .len = 3, .rc = VP8_ERR_PAYLOAD},
    {.name = "tl0 cut", .b = {0x90, 0x40}, .len = 2, .rc = VP8_ERR_PAYLOAD},
    {.name = "tid cut", .b = {0x90, 0x20}, .len = 2, .rc = VP8_ERR_PAYLOAD},
    {.name = "descriptor only",
     .b = {0x90, 0xe0, 0x81, 0x23, 0x07, 0x60},
     .len = 6,
     .rc = VP8_ERR_PAYLOAD},
};

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof vp8_cases / sizeof vp8_cases[0]; i++) {
        const vp8_case_t *c = &vp8_cases[i];
        uint8_t *p = dup(c->b, c->len);
        vp8_desc_t v;
        int rc = vp8_parse(p, c->len, &v);
        if (rc != c->rc) fprintf(stderr, "case %s\n", c->name);
        CHECK_INT(rc, c->rc);
        CHECK_INT(vp8_is_keyframe(p, c->len), c->key);
        if (rc == 0) {
            CHECK_INT(v.picture_id, c->picture_id);
            CHECK_INT(v.picture_id_15, c->pid15);
            CHECK_INT(v.has_tl0picidx, c->tl0 >= 0);
            if (c->tl0 >= 0) {
                CHECK_INT(v.tl0picidx, c->tl0);
                CHECK_INT(p[v.tl0picidx_off], c->tl0);
            }
            CHECK_INT(v.has_tid, c->tid >= 0);
            if (c->tid >= 0) CHECK_INT(v.tid, c->tid);
            CHECK_INT(v.desc_len, c->desc_len);
        }
        free(p);
    }
}

/* Chrome's key frame start: X S; I L T; M pid 0x0123; TL0PICIDX 7; TID 1 Y; payload. */
static const uint8_t chrome[] = {0x90, 0xe0, 0x81, 0x23, 0x07, 0x60, 0x50, 0x2a,
                                 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};

static void test_chrome(void)
{
    vp8_desc_t v;
    CHECK_INT(vp8_parse(chrome, sizeof chrome, &v), 0);
    CHECK(v.x && v.s && !v.n && v.has_picture_id && v.has_tl0picidx && v.has_tid);
    CHECK(!v.has_keyidx && v.y && v.keyframe);
    CHECK_INT(v.tid, 1);
    CHECK_INT(v.picture_id, 0x123);
    CHECK_INT(v.picture_id_off, 2);
    CHECK_INT(v.tl0picidx, 7);
    CHECK_INT(v.desc_len, 6);
    CHECK_INT(v.width, 640);
    CHECK_INT(v.height, 480);
    /* Cut before the height, a bad start code, a delta frame: no size. */
    CHECK_INT(vp8_parse(chrome, sizeof chrome - 1, &v), 0);
    CHECK_INT(v.width, 0);
    uint8_t p[sizeof chrome];
    memcpy(p, chrome, sizeof p);
    p[10] = 0x2b;
    CHECK_INT(vp8_parse(p, sizeof p, &v), 0);
    CHECK(v.keyframe && v.width == 0 && v.height == 0);
    memcpy(p, chrome, sizeof p);
    p[6] |= 1;
    CHECK_INT(vp8_parse(p, sizeof p, &v), 0);
    CHECK(!v.keyframe && v.width == 0);
}

/* Rewriting writes exactly the field, in its width, and parses back. */
static void test_set(void)
{
    static const struct {
        const char *name;
        uint8_t b[8];
        size_t len;
        uint16_t pid;
        uint8_t tl0;
        uint8_t want[8];
    } cases[] = {
        {"15-bit",
         {0x90, 0xc0, 0x81, 0x23, 0x07, 0x50},
         6,
         0x7abc,
         9,
         {0x90, 0xc0, 0xfa, 0xbc, 0x09, 0x50}},
        {"15-bit wraps",
         {0x90, 0x80, 0x81, 0x23, 0x50},
         5,
         0x8001,
         0,
         {0x90, 0x80, 0x80, 0x01, 0x50}},
        {"7-bit", {0x90, 0xc0, 0x05, 0x07, 0x50}, 5, 0x1ff, 200, {0x90, 0xc0, 0x7f, 200, 0x50}},
        {"no fields", {0x10, 0x50}, 2, 77, 5, {0x10, 0x50}},
        {"tl0 only", {0x90, 0x40, 0x07, 0x50}, 4, 77, 5, {0x90, 0x40, 0x05, 0x50}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[8];
        memcpy(p, cases[i].b, sizeof p);
        vp8_desc_t v, back;
        CHECK_INT(vp8_parse(p, cases[i].len, &v), 0);
        vp8_set_picture_id(p, &v, cases[i].pid);
        vp8_set_tl0picidx(p, &v, cases[i].tl0);
        if (memcmp(p, cases[i].want, cases[i].len)) fprintf(stderr, "case %s\n", cases[i].name);
        CHECK(!memcmp(p, cases[i].want, cases[i].len));
        CHECK_INT(vp8_parse(p, cases[i].len, &back), 0);
        CHECK_INT(back.desc_len, v.desc_len);
    }
}

/* One step of a munger script: a packet of source ssrc with picture id and TL0PICIDX,
 * forwarded (want: the outgoing ids, or -1 for "not sent") or dropped. */
typedef struct {
    uint32_t ssrc;
    uint16_t pid;
    uint8_t tl0;
    bool drop;
    int want_pid, want_tl0;
} step_t;

static void run_script(const char *name, const step_t *s, size_t n, bool pid15)
{
    vp8_munger_t *m = vp8_munger_new();
    for (size_t i = 0; i < n; i++) {
        uint8_t p[6] = {0x90, 0xc0, 0, 0, 0, 0x50};
        size_t len = pid15 ? 6 : 5;
        if (pid15) {
            p[2] = (uint8_t)(0x80 | (s[i].pid >> 8));
            p[3] = (uint8_t)s[i].pid;
            p[4] = s[i].tl0;
        } else {
            p[2] = s[i].pid & 0x7f;
            p[3] = s[i].tl0;
            p[4] = 0x50;
        }
        vp8_desc_t v;
        CHECK_INT(vp8_parse(p, len, &v), 0);
        if (s[i].drop) {
            vp8_munger_drop(m, s[i].ssrc, &v);
            continue;
        }
        bool sent = vp8_munger_forward(m, s[i].ssrc, p, &v);
        vp8_desc_t out;
        CHECK_INT(vp8_parse(p, len, &out), 0);
        int got_pid = sent ? out.picture_id : -1, got_tl0 = sent ? out.tl0picidx : -1;
        if (got_pid != s[i].want_pid || got_tl0 != s[i].want_tl0)
            fprintf(stderr, "%s step %zu: pid %d tl0 %d, want %d %d\n", name, i, got_pid, got_tl0,
                    s[i].want_pid, s[i].want_tl0);
        CHECK_INT(got_pid, s[i].want_pid);
        CHECK_INT(got_tl0, s[i].want_tl0);
    }
    vp8_munger_free(m);
}

static void test_munger(void)
{
    /* L1T3 (TID 0 2 1 2 ...) with TID 2 dropped: ids close up, TL0PICIDX is untouched. */
    static const step_t temporal[] = {
        {1, 100, 5, false, 100, 5}, {1, 100, 5, false, 100, 5}, /* two packets of a picture */
        {1, 101, 5, true, 0, 0},    {1, 101, 5, true, 0, 0},    {1, 102, 5, false, 101, 5},
        {1, 103, 5, true, 0, 0},    {1, 104, 6, false, 102, 6}, {1, 105, 6, true, 0, 0},
        {1, 106, 6, false, 103, 6}, {1, 104, 6, false, 102, 6}, /* late packet of a sent picture:
                                                                   same id */
        {1, 105, 6, false, -1, -1}, /* a packet of a dropped picture is not sent */
    };
    run_script("temporal", temporal, sizeof temporal / sizeof temporal[0], true);
    /* A switch to another source continues both numbers; its late packets are not sent;
     * the old source's packets start it again. */
    static const step_t sw[] = {
        {1, 32766, 250, false, 32766, 250}, {1, 32767, 251, false, 32767, 251},
        {2, 9, 40, false, 0, 252},          {2, 10, 41, false, 1, 253},
        {2, 8, 39, false, -1, -1},          {1, 0, 252, false, 2, 254},
        {1, 1, 253, false, 3, 255},         {1, 2, 254, false, 4, 0},
    };
    run_script("switch", sw, sizeof sw / sizeof sw[0], true);
    /* 7-bit ids wrap at 128, drops included. */
    static const step_t narrow[] = {
        {1, 126, 0, false, 126, 0}, {1, 127, 0, true, 0, 0}, {1, 0, 1, false, 127, 1},
        {1, 1, 1, true, 0, 0},      {1, 2, 1, false, 0, 1},
    };
    run_script("7-bit", narrow, sizeof narrow / sizeof narrow[0], false);
    /* A drop before any forwarded picture, or of another source, changes nothing. */
    static const step_t idle[] = {
        {1, 50, 0, true, 0, 0},
        {1, 51, 0, false, 51, 0},
        {2, 52, 0, true, 0, 0},
        {1, 52, 0, false, 52, 0},
    };
    run_script("idle", idle, sizeof idle / sizeof idle[0], true);
}

int main(void)
{
    test_parse();
    test_chrome();
    test_set();
    test_munger();
    TEST_END();
}
