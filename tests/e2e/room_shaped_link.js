'use strict';
// e2e.room_shaped_link: a participant behind a slow link (issue 6, "constrained
// subscriber"). A and B, pages of a Chromium in the test's network namespace, publish
// their 640x360 cameras as simulcast (rid "l" at half resolution and at most 100 kbps,
// rid "h" at full resolution and at most 600 kbps, VP8 L1T3); C, the page of a second
// Chromium that runs in a child network namespace (lib/bw.js ChildNetns: a veth pair,
// 10.77.0.2 there, 10.77.0.1 here, where sobre listens and which it announces), publishes
// its own camera and subscribes to both. C's getStats() is sampled every 200 ms.
//
//   full       unshaped: within 30 s C decodes A's and B's video 640 wide (the top
//              layer) and its latest `bandwidth` message says `full`.
//   shaped     tc tbf at 250 kbit/s on the veth's egress towards C (queue: 250 ms):
//              within 20 s C gets a `bandwidth` saying `reduced` or `paused`; then over
//              15 s: the audio from A and from B loses under 1% (packetsLost /
//              (packetsReceived + packetsLost) deltas) and packetsReceived grows in every
//              1 s (no stall over 1 s between 200 ms samples); each video is paused (no
//              frame decoded in the last 2 s) or lower (narrower than 640, or under 0.7
//              times its frame rate in `full`); no `bandwidth` says `full`, and among
//              those in force over the last 2 s one says `paused` if both are paused,
//              else `reduced`.
//   lifted     the tbf removed: within 15 s C decodes both videos 640 wide again and its
//              latest `bandwidth` says `full`.
// On failure: the tbf's statistics and the server's estimate lines (sobre -v).
const { log, sleep } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, StageError, waitFor, findRecv, num, describeStats } = require('./lib/room');
const { ChildNetns, bandwidthOf, waitBandwidth, lastBandwidth, sample, series, audioVerdict,
        videoVerdict, estimateLines } = require('./lib/bw');

const VIDEO_KBPS = 600;
const CAMERA = { width: 640, height: 360, frameRate: 24 };
const ENCODINGS = [
    { rid: 'l', scaleResolutionDownBy: 2, maxBitrate: 100000, scalabilityMode: 'L1T3' },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: VIDEO_KBPS * 1000, scalabilityMode: 'L1T3' },
];
const TOP_WIDTH = 640;
const RATE = '250kbit';
const FULL_MS = 30000;     // both layers up and C on the top ones
const ADAPT_MS = 20000;    // the shaped link seen and the verdict sent
const WINDOW_MS = 15000;   // audio and video judged over this, shaped
const RECOVER_MS = 15000;  // full video back after the shaping is lifted
const MAX_LOSS_PCT = 1;
const MAX_STALL_MS = 1000;
const SLOWER = 0.7;        // a lower temporal layer: at most this share of the frame rate

// Widths and frame counts C decodes of each publisher's video.
async function videos(C, pubs) {
    const st = await C.stats();
    return { st, v: pubs.map((p) => {
        const r = findRecv(st, p.id, 'video');
        return { name: p.name, width: num(r, 'frameWidth'), frames: num(r, 'framesDecoded') };
    }) };
}

// Waits until C decodes every publisher 640 wide (frames growing) and its latest bandwidth
// message (if fresh, one received after `since`) says full.
async function waitFull(stage, C, pubs, since, ms, fresh) {
    let last = null, bw = null, prev = null;
    await waitFor(stage, `${C.name} decoding ${pubs.map((p) => p.name).join(' and ')} ` +
                  `${TOP_WIDTH} wide with bandwidth "full"`, ms, async () => {
        last = await videos(C, pubs);
        bw = await lastBandwidth(C);
        const growing = prev && last.v.every((x, i) => x.frames > prev.v[i].frames);
        prev = last;
        return growing && last.v.every((x) => x.width === TOP_WIDTH) && bw && bw.video === 'full' &&
            (!fresh || bw.wall >= since);
    }, async () => `videos ${JSON.stringify(last && last.v)}, latest bandwidth ` +
       `${JSON.stringify(bw)}\n${last ? describeStats(C, last.st) : ''}`);
    log(`${stage}: ${C.name} decodes ${pubs.map((p) => p.name).join(' and ')} ${TOP_WIDTH} wide, ` +
        `bandwidth ${JSON.stringify(bw && [bw.kbps, bw.video])}, after ${Date.now() - since} ms`);
}

runRoomTest('room_shaped_link', async (ctx) => {
    const netns = await new ChildNetns().create();
    try {
        const port = ctx.server.port;
        const cb = await ctx.launch('chromium', launchChromium);
        const nb = await ctx.launch('chromium-shaped', (dir) => launchChromium(dir, {
            executablePath: netns.wrapper,
            // Pages there reach sobre at 10.77.0.1: a secure context for getUserMedia.
            args: [`--unsafely-treat-insecure-origin-as-secure=http://${netns.hostAddr}:${port}`],
        }));
        const A = await ctx.participant(cb, 'A');
        const B = await ctx.participant(cb, 'B');
        const C = await ctx.participant(nb, 'C', netns.hostAddr);
        for (const p of [A, B, C]) await p.connect();
        const pubs = [A, B];
        for (const p of pubs) await p.publish(Object.assign({ sendEncodings: ENCODINGS }, CAMERA));
        await C.publish();
        for (const p of [A, B, C]) await p.waitConnected('pub');
        await C.waitSubscribed(pubs);
        await C.waitConnected('sub');

        // full
        let t = Date.now();
        await waitFull('full', C, pubs, t, FULL_MS, false);
        const before = await sample(C, 3000);
        const fullFps = pubs.map((p) => videoVerdict(series(before, p.id, 'video')));
        log(`full: ${pubs.map((p, i) => `${p.name}: ${JSON.stringify(fullFps[i])}`).join('; ')}`);

        // shaped
        const mark = ctx.server.lines.length;
        t = Date.now();
        netns.shape(RATE);
        const verdict = await waitBandwidth('shaped', C, ['reduced', 'paused'], t, ADAPT_MS);
        log(`shaped: bandwidth ${JSON.stringify([verdict.kbps, verdict.video])} after ${verdict.wall - t} ms`);
        const w0 = Date.now();
        const s = await sample(C, WINDOW_MS);
        const w1 = Date.now();
        const problems = [];
        const audio = pubs.map((p) => audioVerdict(series(s, p.id, 'audio')));
        const video = pubs.map((p) => videoVerdict(series(s, p.id, 'video')));
        let paused = 0;
        pubs.forEach((p, i) => {
            const a = audio[i], v = video[i];
            log(`shaped: ${C.name} <- ${p.name}: audio ${a.pkts} packets, ${a.lost} lost ` +
                `(${a.lossPct !== undefined ? a.lossPct.toFixed(2) : '?'}%: [ms, lost] ` +
                `${JSON.stringify(a.losses)}), longest stall ${a.stallMs} ms; ` +
                `video ${JSON.stringify(v)} (full: ${fullFps[i].fps} fps)`);
            if (a.why || !(a.lossPct < MAX_LOSS_PCT)) {
                problems.push(`${p.name}'s audio: ${a.why || `${a.lossPct.toFixed(2)}% lost`} ` +
                              `(want < ${MAX_LOSS_PCT}%)`);
            }
            if (!(a.stallMs <= MAX_STALL_MS)) {
                problems.push(`${p.name}'s audio: no packet for ${a.stallMs} ms (want <= ${MAX_STALL_MS})`);
            }
            if (!v.flowing) paused++;
            else if (v.width >= TOP_WIDTH && v.fps >= SLOWER * fullFps[i].fps) {
                problems.push(`${p.name}'s video still full: ${v.width} wide at ${v.fps} fps ` +
                              `(${fullFps[i].fps} fps before the shaping)`);
            }
        });
        const bw = (await bandwidthOf(C)).filter((m) => m.wall >= t);
        const want = paused === pubs.length ? 'paused' : 'reduced';
        log(`shaped: bandwidth messages since the shaping (kbps, video, ms): ` +
            `${JSON.stringify(bw.map((m) => [m.kbps, m.video, m.wall - t]))}; ${paused} video(s) ` +
            `paused; window ${w0 - t}..${w1 - t} ms`);
        const full = bw.filter((m) => m.wall >= w0 && m.video === 'full');
        if (full.length) problems.push(`bandwidth said "full" during the window: ${JSON.stringify(full)}`);
        // What C decodes over the last 2 s (paused: no frame in them) is among the
        // verdicts in force then (the one 2 s before the end and any later: the server
        // may move between paused and reduced as its estimate moves).
        const inForce = bw.filter((m) => m.wall <= w1 - 2000).pop();
        const judged = [...(inForce ? [inForce] : []), ...bw.filter((m) => m.wall > w1 - 2000)];
        if (!judged.some((m) => m.video === want)) {
            problems.push(`the bandwidth verdicts in force over the last 2 s say ` +
                          `${JSON.stringify(judged.map((m) => m.video))}, the videos are ${want}`);
        }
        log(`shaped: ${netns.stats()}`);
        log(`shaped: server estimates:\n${estimateLines(ctx.server, mark).join('\n')}`);
        if (problems.length) throw new StageError('shaped', problems.join('; '));

        // lifted
        const mark3 = ctx.server.lines.length;
        t = Date.now();
        netns.unshape();
        try {
            await waitFull('lifted', C, pubs, t, RECOVER_MS, true);
        } finally {
            log(`lifted: server estimates:\n${estimateLines(ctx.server, mark3).join('\n')}`);
        }
        await sleep(0);
    } finally {
        netns.destroy();
    }
}, { listen: '0.0.0.0', announce: ['127.0.0.1', '10.77.0.1'], room: { video_kbps: VIDEO_KBPS } });
