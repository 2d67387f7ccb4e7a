'use strict';
// e2e.room_uplink: the server's egress budget (limits.uplink_kbps, issue 6). Four pages of
// one Chromium each publish their 640x360 camera as simulcast (rid "l" at half resolution
// and at most 100 kbps, rid "h" at full resolution, VP8 L1T3) and subscribe to the three
// others: full video for everyone would need about 4 Mb/s, the budget is 1,500 kb/s.
//
//   ramp       within 30 s every participant receives the three others' audio and some
//              video flows; then 5 s.
//   budget     over 10 s, the bytes sobre sends from its media port (an nftables counter
//              on the output hook of the test's network namespace: IP datagrams, headers
//              included) stay under the budget plus 10% (RTCP, and what the allocator's
//              accounting leaves out); at least one participant's latest `bandwidth`
//              says `reduced` or `paused` (not everyone can have full video);
//   audio      over the same 10 s, every participant receives every other one's audio:
//              each of the 12 inbound audio streams grows, and loses under 1%
//              (packetsLost / (packetsReceived + packetsLost) deltas).
// The figures (egress, the server's own count from /metrics, each verdict) are logged.
const http = require('http');
const { log, sleep } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, StageError, waitFor, snapshot, findRecv, num, describeStats } = require('./lib/room');
const { EgressCounter, kbps, bandwidthOf } = require('./lib/bw');

const UPLINK_KBPS = 1500;
const TOLERANCE = 1.1;
const CAMERA = { width: 640, height: 360, frameRate: 15 };
const ENCODINGS = [
    { rid: 'l', scaleResolutionDownBy: 2, maxBitrate: 100000, scalabilityMode: 'L1T3' },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 600000, scalabilityMode: 'L1T3' },
];
const START_MS = 30000;
const RAMP_MS = 5000;
const WINDOW_MS = 10000;
const MAX_LOSS_PCT = 1;

// sobre_udp_bytes_sent_total and sobre_probe_padding_packets_total from /metrics
// (metrics.access loopback), for the logs: { bytes, padding } (null when unknown).
function serverCounts(server) {
    return new Promise((resolve) => {
        const req = http.get(`${server.httpUrl}/metrics`, { timeout: 5000 }, (res) => {
            let body = '';
            res.on('data', (c) => { body += c; });
            res.on('end', () => {
                const get = (name) => {
                    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
                    return m ? Number(m[1]) : null;
                };
                resolve({ bytes: get('sobre_udp_bytes_sent_total'),
                          padding: get('sobre_probe_padding_packets_total') });
            });
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve({ bytes: null, padding: null }));
    });
}

runRoomTest('room_uplink', async (ctx) => {
    const counter = new EgressCounter(ctx.server.mediaPort).create();
    try {
        const cb = await ctx.launch('chromium', launchChromium);
        const ps = [];
        for (const name of ['A', 'B', 'C', 'D']) ps.push(await ctx.participant(cb, name));
        for (const p of ps) await p.connect();
        for (const p of ps) await p.publish(Object.assign({ sendEncodings: ENCODINGS }, CAMERA));
        for (const p of ps) {
            const others = ps.filter((q) => q !== p);
            await p.waitSubscribed(others);
            await p.waitConnected('sub');
        }

        // ramp: everyone hears everyone, and someone's video flows (the budget may pause
        // the least important videos of every subscriber).
        let s = null;
        await waitFor('media', 'every participant receiving the three others\' audio, and video',
                      START_MS, async () => {
            s = await snapshot(ps);
            return ps.every((rx) => ps.every((from) => rx === from ||
                num(findRecv(s.get(rx), from.id, 'audio'), 'packetsReceived') > 0)) &&
                ps.some((rx) => ps.some((from) => rx !== from &&
                    num(findRecv(s.get(rx), from.id, 'video'), 'framesDecoded') > 0));
        }, async () => [...s.entries()].map(([p, st]) => describeStats(p, st)).join('\n'));
        log(`ramp: everyone hears everyone; ${RAMP_MS} ms more`);
        await sleep(RAMP_MS);

        // budget and audio, over one window.
        const s0 = await snapshot(ps);
        const c0 = counter.read();
        const m0 = await serverCounts(ctx.server);
        await sleep(WINDOW_MS);
        const c1 = counter.read();
        const m1 = await serverCounts(ctx.server);
        const s1 = await snapshot(ps);
        const egress = kbps(c0.bytes, c1.bytes, c0.at, c1.at);
        const own = m0.bytes !== null && m1.bytes !== null ? kbps(m0.bytes, m1.bytes, c0.at, c1.at) : null;
        const padding = m0.padding !== null && m1.padding !== null ? m1.padding - m0.padding : null;
        log(`budget: sobre sent ${egress} kb/s from its media port over ${c1.at - c0.at} ms ` +
            `(${c1.packets - c0.packets} datagrams, ${padding} of them probe padding; its own ` +
            `count of UDP payload: ${own} kb/s); ` +
            `budget ${UPLINK_KBPS} kb/s, at most ${Math.round(UPLINK_KBPS * TOLERANCE)}`);
        const problems = [];
        if (egress > UPLINK_KBPS * TOLERANCE) {
            problems.push(`egress ${egress} kb/s over the budget ${UPLINK_KBPS} kb/s + ` +
                          `${Math.round((TOLERANCE - 1) * 100)}%`);
        }
        const verdicts = [];
        for (const rx of ps) {
            const bw = await bandwidthOf(rx);
            const last = bw[bw.length - 1];
            verdicts.push(last ? last.video : null);
            const widths = ps.filter((q) => q !== rx).map((q) => {
                const v = findRecv(s1.get(rx), q.id, 'video');
                return `${q.name} ${num(v, 'frameWidth')}w ` +
                    `${num(v, 'framesDecoded') - num(findRecv(s0.get(rx), q.id, 'video'), 'framesDecoded')}f`;
            });
            log(`budget: ${rx.name}: bandwidth ${JSON.stringify(bw.map((m) => [m.kbps, m.video]))}; ` +
                `video over the window: ${widths.join(', ')}`);
        }
        if (!verdicts.some((v) => v === 'reduced' || v === 'paused')) {
            problems.push(`every latest bandwidth verdict is ${JSON.stringify(verdicts)}: the budget ` +
                          'held nobody back');
        }
        for (const rx of ps) {
            for (const from of ps) {
                if (rx === from) continue;
                const a0 = findRecv(s0.get(rx), from.id, 'audio'), a1 = findRecv(s1.get(rx), from.id, 'audio');
                const pkts = num(a1, 'packetsReceived') - num(a0, 'packetsReceived');
                const lost = num(a1, 'packetsLost') - num(a0, 'packetsLost');
                const pct = pkts + lost > 0 ? 100 * lost / (pkts + lost) : 100;
                log(`audio: ${rx.name} <- ${from.name}: ${pkts} packets, ${lost} lost (${pct.toFixed(2)}%)`);
                if (pkts <= 0) problems.push(`${rx.name} <- ${from.name}: no audio packet over the window`);
                else if (pct >= MAX_LOSS_PCT) problems.push(`${rx.name} <- ${from.name}: ${pct.toFixed(2)}% audio lost`);
            }
        }
        if (problems.length) {
            throw new StageError('budget', `${problems.join('; ')}\n` +
                                 ps.map((p) => describeStats(p, s1.get(p))).join('\n'));
        }
    } finally {
        counter.destroy();
    }
}, {
    config: {
        limits: { connections_per_ip: 1000, joins_per_minute_per_ip: 1000, uplink_kbps: UPLINK_KBPS },
        metrics: { access: 'loopback' },
    },
});
