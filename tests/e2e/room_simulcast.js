'use strict';
// e2e.room_simulcast: one publisher sends simulcast video, two subscribers each get the
// layer the server chooses for them. Pages of one headless Chromium; the room's
// video_kbps is 1200.
//
//   publish     P publishes its fake camera (640x360) with two encodings, as the web
//               client does: rid "l" at half resolution (at most 250 kbps) and rid "h" at
//               full resolution, both VP8 with temporal layers (L1T3) when Chromium takes
//               them. The answer receives both (a=simulcast:recv l;h); within 30 s P
//               sends both layers (its outbound-rtp per rid), the top one above 200 kbps,
//               and S1 and S2 decode P's video at 640 wide (the top layer, the default).
//               The budgets below are chosen from the rates the server measures (its -v
//               log: "track tN measured kbps"), the browsers' per-rid stats being no
//               guide (they count probe padding).
//   down        S1 sends prefs max_video_kbps half way between the low and the top
//               layer's measured rates: within 10 s S1 decodes 320 wide
//               frames; over the next 3 s S1's framesDecoded grows (by at least 20) at 320
//               wide while S2's grows at 640 wide.
//   temporal    S1 sends max_video_kbps half way between the low layer's rate with
//               temporal layer 0 only and its full rate (Chromium sends L1T3 as asked,
//               Firefox two temporal layers of its own accord); within 10 s, over 3 s, S1
//               decodes at 320 wide at most 0.7 times S2's frame rate, and at least 5
//               frames (the picture ids it gets have no gaps, or its decoder would stall).
//   up          S1 sends max_video_kbps 0 (no limit): within 10 s S1 decodes at 640 wide
//               again, and over 3 s both grow at 640.
//   hold        S1 and S2 both limit themselves to the low layer: the server holds P
//               (a `layers` message) to the low layer only, and within 15 s P sends
//               its top layer at under 30 kbps (it stops encoding it) while both keep
//               decoding at 320.
//   release     both lift their limit: within 15 s both decode at 640 again (the server
//               asks P for all its layers: 1.3 s seen).
// Then the same with a Firefox page F publishing (P leaves).
// The switches happen on keyframes the server asks the publisher for (PLI on the layer's
// SSRC); sequence numbers and picture ids stay continuous (else the decoder would stall
// and framesDecoded would stop growing).
// See lib/room.js (Node side) and lib/room_agent.js (in the pages).
const { log, sleep } = require('./lib/harness');
const { launchChromium, launchFirefox } = require('./lib/browsers');
const { runRoomTest, StageError, waitFor, findRecv, num } = require('./lib/room');

const VIDEO_KBPS = 1200;
const CAMERA = { width: 640, height: 360, frameRate: 30 };
const ENCODINGS = [
    { rid: 'l', scaleResolutionDownBy: 2, maxBitrate: 100000, scalabilityMode: 'L1T3' },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: VIDEO_KBPS * 1000, scalabilityMode: 'L1T3' },
];
const TOP_MIN_KBPS = 200;
const START_MS = 30000;     // both layers up and the top one decoded
const SWITCH_MS = 10000;    // a switch (a keyframe asked and received) within this
const WINDOW_MS = 3000;
const HOLD_MS = 15000;      // a held publisher's browser drops its top layer
// ... and sends it again once asked (1.3 s seen; a REMB hold took 10 to 30 s)
const RELEASE_MS = 15000;
const HELD_KBPS = 30;       // a top layer "no longer sent": under this
const MIN_FRAMES = 20;      // frames decoded in a window, at least (15 fps or more sent)

// What rx decodes of P's video: frames and width.
async function video(rx, from) {
    const r = findRecv(await rx.stats(), from.id, 'video');
    return { frames: num(r, 'framesDecoded'), width: num(r, 'frameWidth') };
}

// P's outbound layers by rid: { rid: { bytes, width, at } }.
async function layers(p) {
    const st = await p.stats();
    const out = {};
    for (const l of st.layers || []) {
        out[l.rid] = { bytes: l.bytesSent || 0, width: l.frameWidth || 0, at: st.at,
                       mode: l.scalabilityMode || null };  // Firefox reports none
    }
    return out;
}

async function request(stage, p, msg) {
    const r = await p.call('request', msg);
    if (!r.ok) throw new StageError(stage, `${p.name}: ${JSON.stringify(msg)} refused: ${r.message}`);
    log(`${p.name}: ${JSON.stringify(msg)} acknowledged`);
}

// Waits until every receiver decodes P's video at the width it expects.
async function waitWidths(stage, P, want, ms) {
    const t0 = Date.now();
    const seen = new Map();
    await waitFor(stage, want.map(([rx, w]) => `${rx.name} decoding ${P.name} at ${w} wide`).join(', '),
                  ms, async () => {
        for (const [rx] of want) seen.set(rx, await video(rx, P));
        return want.every(([rx, w]) => seen.get(rx).width === w);
    }, async () => want.map(([rx]) => `${rx.name}: ${JSON.stringify(seen.get(rx))}`).join('; '));
    log(`${stage}: ${want.map(([rx, w]) => `${rx.name} at ${w}`).join(', ')} after ${Date.now() - t0} ms`);
}

// Over WINDOW_MS every receiver's framesDecoded grows by MIN_FRAMES at its width.
async function checkWindow(stage, P, want) {
    const before = new Map();
    for (const [rx] of want) before.set(rx, await video(rx, P));
    await sleep(WINDOW_MS);
    const problems = [];
    for (const [rx, w] of want) {
        const a = before.get(rx), b = await video(rx, P);
        log(`${stage}: ${rx.name} <- ${P.name}: ${b.frames - a.frames} frames in ${WINDOW_MS} ms at ${b.width} wide`);
        if (b.frames - a.frames < MIN_FRAMES) problems.push(`${rx.name}: ${b.frames - a.frames} frames decoded in ${WINDOW_MS} ms (want ${MIN_FRAMES})`);
        if (b.width !== w) problems.push(`${rx.name}: frames ${b.width} wide (want ${w})`);
    }
    if (problems.length) throw new StageError(stage, problems.join('; '));
}

// The latest rates the server measured for P's video (kbps[spatial][temporal]), from its
// log; null when none yet.
function serverRates(ctx, rx, P) {
    return rx.stats().then((st) => {
        const r = findRecv(st, P.id, 'video');
        if (!r) return null;
        const re = new RegExp(`track ${r.trackId} measured kbps \\(by temporal layer 0/1/2\\): ` +
                              'layer 0 (\\d+)/(\\d+)/(\\d+), layer 1 (\\d+)/(\\d+)/(\\d+), ' +
                              'layer 2 (\\d+)/(\\d+)/(\\d+)');
        for (let i = ctx.server.lines.length - 1; i >= 0; i--) {
            const m = re.exec(ctx.server.lines[i]);
            if (m) {
                const k = m.slice(1).map(Number);
                return [k.slice(0, 3), k.slice(3, 6), k.slice(6, 9)];
            }
        }
        return null;
    });
}

// A budget half way between two measured rates of P's video, once the server has
// measured `hi` above `lo` by 20% (pick(kbps) -> [lo, hi]).
async function budget(stage, ctx, rx, P, pick) {
    let k = null;
    await waitFor(stage, `the server's rates of ${P.name}'s video, two layers 20% apart`, START_MS,
                  async () => {
        k = await serverRates(ctx, rx, P);
        if (!k) return false;
        const [lo, hi] = pick(k);
        return lo > 0 && hi > 1.2 * lo;
    }, async () => `latest: ${JSON.stringify(k)}`);
    const [lo, hi] = pick(k);
    log(`${stage}: server's rates ${JSON.stringify(k)}: budget between ${lo} and ${hi} kbps`);
    return Math.round((lo + hi) / 2);
}

// kbps of each layer over ms.
async function rates(P, ms) {
    const a = await layers(P);
    await sleep(ms);
    const b = await layers(P);
    const rate = {};
    for (const rid of Object.keys(b))
        rate[rid] = a[rid] ? Math.round((b[rid].bytes - a[rid].bytes) * 8 / (b[rid].at - a[rid].at)) : 0;
    return rate;
}

// Over WINDOW_MS, S1's frame rate from P is at most 0.7 times S2's, S1 at 320 wide.
async function checkTemporal(P, S1, S2) {
    const stage = 'temporal';
    let last = '';
    await waitFor(stage, `${S1.name} decoding ${P.name} at a lower frame rate than ${S2.name}`, SWITCH_MS,
                  async () => {
        const a1 = await video(S1, P), a2 = await video(S2, P);
        await sleep(WINDOW_MS);
        const b1 = await video(S1, P), b2 = await video(S2, P);
        const f1 = b1.frames - a1.frames, f2 = b2.frames - a2.frames;
        last = `${S1.name}: ${f1} frames at ${b1.width} wide, ${S2.name}: ${f2} frames in ${WINDOW_MS} ms`;
        log(`${stage}: ${last}`);
        return b1.width === 320 && f1 >= 5 && f1 <= 0.7 * f2;
    }, async () => last);
}

// P publishes simulcast; S1 is moved down to the low layer and back up, S2 stays on top.
async function scenario(ctx, P, S1, S2) {
    await P.publish(Object.assign({ sendEncodings: ENCODINGS }, CAMERA));
    const sdp = await P.call('sdps');
    if (!/^a=simulcast:recv l;h\r?$/m.test(sdp.pubAnswer || ''))
        throw new StageError('publish answer', 'no a=simulcast:recv l;h in the answer');
    await P.waitConnected('pub');
    for (const s of [S1, S2]) {
        await s.waitSubscribed([P]);
        await s.waitConnected('sub');
    }

    // publish: both layers sent, the top one decoded by both, and fast enough that the
    // low budget below leaves it out.
    let rate = {};
    await waitFor('publish', `${P.name} sending both layers, the top one above ${TOP_MIN_KBPS} kbps`,
                  START_MS, async () => {
        rate = await rates(P, 2000);
        return rate.l > 0 && rate.h > TOP_MIN_KBPS;
    }, async () => `outbound kbps by rid: ${JSON.stringify(rate)}; ${JSON.stringify(await layers(P))}`);
    log(`publish: outbound kbps by rid ${JSON.stringify(rate)}; layers ${JSON.stringify(await layers(P))}`);
    await waitWidths('publish', P, [[S1, 640], [S2, 640]], START_MS);

    // down: S1 to the low layer, S2 stays on the top one.
    const down = await budget('down', ctx, S1, P, (k) => [k[0][2], k[1][2]]);
    await request('down', S1, { type: 'prefs', max_video_kbps: down });
    await waitWidths('down', P, [[S1, 320]], SWITCH_MS);
    await checkWindow('down', P, [[S1, 320], [S2, 640]]);

    // temporal: S1 on the low layer's lower temporal layers.
    const low = await budget('temporal', ctx, S1, P, (k) => [k[0][0], k[0][2]]);
    await request('temporal', S1, { type: 'prefs', max_video_kbps: low });
    await checkTemporal(P, S1, S2);

    // up: no limit, S1 back on the top layer.
    await request('up', S1, { type: 'prefs', max_video_kbps: 0 });
    await waitWidths('up', P, [[S1, 640]], SWITCH_MS);
    await checkWindow('up', P, [[S1, 640], [S2, 640]]);

    // hold: nobody takes the top layer, so the server holds P (REMB) under the low one
    // and P's browser stops sending the top one; released, it sends it again and both
    // subscribers get it back.
    for (const s of [S1, S2]) await request('hold', s, { type: 'prefs', max_video_kbps: down });
    await waitWidths('hold', P, [[S1, 320], [S2, 320]], SWITCH_MS);
    await waitFor('hold', `${P.name} no longer sending its top layer (under ${HELD_KBPS} kbps)`,
                  HOLD_MS, async () => {
        rate = await rates(P, 2000);
        log(`hold: outbound kbps by rid ${JSON.stringify(rate)}`);
        return (rate.h || 0) < HELD_KBPS && rate.l > 0;
    }, async () => `outbound kbps by rid: ${JSON.stringify(rate)}`);
    await checkWindow('hold', P, [[S1, 320], [S2, 320]]);
    for (const s of [S1, S2]) await request('release', s, { type: 'prefs', max_video_kbps: 0 });
    await waitWidths('release', P, [[S1, 640], [S2, 640]], RELEASE_MS);
    rate = await rates(P, 2000);
    log(`release: outbound kbps by rid ${JSON.stringify(rate)}`);
    await checkWindow('release', P, [[S1, 640], [S2, 640]]);
}

runRoomTest('room_simulcast', async (ctx) => {
    const cb = await ctx.launch('chromium', launchChromium);
    const P = await ctx.participant(cb, 'P');
    const S1 = await ctx.participant(cb, 'S1');
    const S2 = await ctx.participant(cb, 'S2');
    for (const p of [P, S1, S2]) await p.connect();
    await scenario(ctx, P, S1, S2);

    // The same with Firefox publishing (P leaves first).
    await P.call('leave');
    await P.call('close');
    P.left = true;
    const fb = await ctx.launch('firefox', launchFirefox);
    const F = await ctx.participant(fb, 'F');
    await F.connect();
    await scenario(ctx, F, S1, S2);
}, { room: { video_kbps: VIDEO_KBPS } });
