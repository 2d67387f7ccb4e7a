'use strict';
// Node side of the room tests (tests/e2e/room_*.js): real forwarding between participants.
//
// A test is run by tests/e2e/run inside a fresh network namespace (only loopback) as
//     node tests/e2e/room_<name>.js <path-to-sobre> <web-root>
// runRoomTest() starts sobre (-v) with an ordinary room, gives the test body a context to
// launch browsers and open participants (lib/room_agent.js in a page served by sobre),
// and on failure prints the stage at fault - join, publish answer, subscribe offer, ICE,
// DTLS, media, mute, leave - then every participant's messages, connection states, tracks,
// getStats() and SDPs, and the server's -v log tail.
//
// Every wait is bounded in time and in iterations; a watchdog ends the process if anything
// hangs anyway.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Sobre, bounded, log, sleep, parseArgs, WATCHDOG_MS, MEDIA_WINDOW_MS } = require('./harness');
const { installAgent } = require('./room_agent');

const ROOM = 'salle';
const VIDEO = { width: 320, height: 240, frameRate: 15 };
const CONNECT_MS = 20000;      // ICE then DTLS, per connection
const FIRST_MEDIA_MS = 20000;  // first packets and first decoded frame (key frame) per track
const POLL_MS = 250;

class StageError extends Error {
    constructor(stage, message) {
        super(message);
        this.stage = stage;
    }
}

// Polls probe() (async, returns a truthy value when done) every POLL_MS for at most ms.
// On timeout: StageError(stage) saying what did not happen, plus explain()'s text.
async function waitFor(stage, what, ms, probe, explain) {
    const deadline = Date.now() + ms;
    const maxRounds = Math.ceil(ms / POLL_MS) + 2;
    for (let round = 0; round < maxRounds; round++) {
        const v = await probe();
        if (v) return v;
        if (Date.now() >= deadline) break;
        await sleep(POLL_MS);
    }
    const why = explain ? await explain() : '';
    throw new StageError(stage, `${what}: not within ${ms} ms${why ? `: ${why}` : ''}`);
}

// One participant: an agent in one page.
class Participant {
    constructor(ctx, page, name, browserName) {
        this.ctx = ctx;
        this.page = page;
        this.name = name;
        this.browserName = browserName;
        this.id = null;
        this.left = false;
    }

    async call(method, arg = null, ms = 15000) {
        const text = await bounded(this.page.evaluate(
            ({ m, a }) => window.__e2e[m](a).then((r) => JSON.stringify(r)), { m: method, a: arg }),
        ms, `${this.name}: ${method}`);
        return JSON.parse(text);
    }

    state() {
        return this.call('state');
    }

    stats() {
        return this.call('stats');
    }

    label(id) {
        const p = this.ctx.participants.find((x) => x.id === id);
        return p ? `${p.name} (${id})` : `${id}`;
    }

    async connect() {
        const res = await this.call('connect', { wsUrl: this.ctx.server.wsUrl, room: ROOM, name: this.name });
        if (!res.ok) throw new StageError('join', `${this.name}: ${res.message}`);
        this.id = res.self.id;
        log(`${this.name} joined as ${this.id}; peers already there: ` +
            `${JSON.stringify((res.peers || []).map((p) => p.id))}; limits ${JSON.stringify(res.limits)}`);
        return res;
    }

    async publish() {
        const res = await this.call('publish', VIDEO, 30000);
        if (!res.ok) {
            let msg = `${this.name}: ${res.message}`;
            if (res.code === 'sdp_rejected' && /not supported/.test(res.message)) {
                msg += ' <-- this sobre does not forward between participants yet ' +
                    '(publish in an ordinary room is refused until signaling/ and sfu/ ' +
                    'implement publish/subscribe)';
            }
            throw new StageError(res.stage, msg);
        }
        log(`${this.name}: publish answered`);
    }

    // ICE then DTLS of the publish ('pub') or subscribe ('sub') connection.
    async waitConnected(which) {
        const conn = which === 'pub' ? 'publish' : 'subscribe';
        const t0 = Date.now();
        let iceUp = false, last = null;
        try {
            await waitFor('ICE', `${this.name}: ${conn} connection`, CONNECT_MS, async () => {
                last = (await this.state())[which];
                if (!last) return false;
                if (last.ice === 'connected' || last.ice === 'completed') iceUp = true;
                if (last.connection === 'failed') {
                    throw new StageError(iceUp ? 'DTLS' : 'ICE',
                        `${this.name}: ${conn} connection failed after ${Date.now() - t0} ms ` +
                        `(${JSON.stringify(last)})`);
                }
                return last.connection === 'connected';
            });
        } catch (e) {
            if (e.stage === 'ICE' && /not within/.test(e.message)) {
                if (!last) {
                    throw new StageError('subscribe offer', `${this.name}: no ${conn} connection ` +
                                         'at all (no server offer was applied)');
                }
                if (iceUp) {
                    throw new StageError('DTLS', `${this.name}: ${conn}: ICE connected but DTLS ` +
                        `did not complete within ${CONNECT_MS} ms (${JSON.stringify(last)})`);
                }
                throw new StageError('ICE', `${this.name}: ${conn}: no ICE connectivity with the ` +
                    `server's candidate within ${CONNECT_MS} ms (${JSON.stringify(last)})`);
            }
            throw e;
        }
        log(`${this.name}: ${conn} connection up after ${Date.now() - t0} ms`);
    }

    // Waits until the subscribe connection carries audio and video of each of `from`
    // (participants): an offer applied and answered, ontrack for both kinds with
    // streams[0].id = the publisher's peer id.
    async waitSubscribed(from, ms = 15000) {
        let st = null;
        await waitFor('subscribe offer', `${this.name}: subscribe offer with the tracks of ` +
                      `${from.map((p) => p.name).join(', ')}`, ms, async () => {
            st = await this.state();
            const bad = st.offers.find((o) => o.error);
            if (bad) {
                throw new StageError('subscribe offer', `${this.name}: server offer #${bad.n} ` +
                                     `refused by the browser: ${bad.error}`);
            }
            const err = st.msgs.find((m) => m.type === 'error' && m.code !== 'media_failed');
            if (err) {
                throw new StageError('subscribe offer', `${this.name}: server error ` +
                                     `${err.code}: ${err.message}`);
            }
            if (st.offers.length === 0 || !st.offers.every((o) => o.answered)) return false;
            if (!st.sub || st.sub.signaling !== 'stable') return false;
            return from.every((p) => ['audio', 'video'].every((k) =>
                st.tracks.some((t) => t.kind === k && t.streams[0] === p.id)));
        }, async () => {
            if (!st) return 'no state';
            if (st.offers.length === 0) return 'the server sent no offer at all';
            return `${st.offers.length} offer(s) (${JSON.stringify(st.offers)}), ontrack: ` +
                JSON.stringify(st.tracks.map((t) => `${t.kind} mid ${t.mid} streams ` +
                                             `${JSON.stringify(t.streams)}`));
        });
        log(`${this.name}: subscribed to ${from.map((p) => p.name).join(', ')} ` +
            `(${st.offers.length} offer(s) answered)`);
    }
}

// The receiver of `kind` from publisher `fromId` in a stats() result: the active one if
// several (a recycled m-line), else the last one.
function findRecv(stats, fromId, kind) {
    const all = stats.recv.filter((r) => r.from === fromId && r.kind === kind);
    const active = all.filter((r) => r.currentDirection === 'recvonly' || r.currentDirection === 'sendrecv');
    return active.length ? active[active.length - 1] : all[all.length - 1] || null;
}

function num(r, key) {
    return (r && r.inbound && typeof r.inbound[key] === 'number') ? r.inbound[key] : 0;
}

// One line per receiver, for the logs.
function describeStats(p, st) {
    const lines = [];
    for (const r of st.recv) {
        const i = r.inbound || {};
        const what = r.kind === 'video' ?
            `${i.framesDecoded || 0} frames decoded (${i.keyFramesDecoded || 0} key) ` +
            `${i.frameWidth || '?'}x${i.frameHeight || '?'}, pli ${i.pliCount || 0} ` +
            `nack ${i.nackCount || 0}` :
            `${i.totalSamplesReceived || 0} samples, concealed ${i.concealedSamples || 0}`;
        lines.push(`  ${p.name} <- ${r.from ? p.label(r.from) : '?'} ${r.kind} mid ${r.mid} ` +
                   `${r.currentDirection}: ${i.bytesReceived || 0} B ${i.packetsReceived || 0} pkts ` +
                   `lost ${i.packetsLost || 0}, ${what}, codec ${r.codec || '?'}, ssrc ${i.ssrc}`);
    }
    if (st.subPair) {
        const inPkts = st.recv.reduce((n, r) => n + ((r.inbound && r.inbound.packetsReceived) || 0), 0);
        lines.push(`  ${p.name} subscribe transport: ${st.subPair.packetsReceived === undefined ? "?" : st.subPair.packetsReceived} packets ` +
                   `${st.subPair.bytesReceived} B received (RTP and RTCP; the receivers above ` +
                   `counted ${inPkts} RTP packets)`);
    }
    for (const [kind, o] of Object.entries(st.sent)) {
        lines.push(`  ${p.name} -> server ${kind}: ${o.bytesSent || 0} B ${o.packetsSent || 0} pkts` +
                   (o.framesEncoded !== undefined ? ` ${o.framesEncoded} frames encoded` : '') +
                   `, codec ${o.codec || '?'}, pli ${o.pliCount || 0}, nack ${o.nackCount || 0}`);
    }
    return lines.join('\n');
}

// Each rx must receive audio (bytesReceived grows) and video (framesDecoded grows) of
// each of its `from` over windowMs, after a bounded wait for the first packets and frame.
async function checkMedia(pairs, windowMs = MEDIA_WINDOW_MS) {
    const rxs = [...new Set(pairs.map((x) => x.rx))];
    const started = (stats) => pairs.every(({ rx, from }) => {
        const st = stats.get(rx);
        return num(findRecv(st, from.id, 'audio'), 'bytesReceived') > 0 &&
            num(findRecv(st, from.id, 'video'), 'framesDecoded') > 0;
    });
    const snapshot = async () => {
        const m = new Map();
        for (const rx of rxs) m.set(rx, await rx.stats());
        return m;
    };
    let s0 = null;
    await waitFor('media', 'first audio bytes and first decoded video frame of every forwarded ' +
                  'track', FIRST_MEDIA_MS, async () => {
        s0 = await snapshot();
        return started(s0);
    }, async () => pairs.map(({ rx, from }) => {
        const st = s0.get(rx);
        const a = findRecv(st, from.id, 'audio'), v = findRecv(st, from.id, 'video');
        return `${rx.name} <- ${from.name}: audio ${a ? `${num(a, 'bytesReceived')} B` : 'no receiver'}, ` +
            `video ${v ? `${num(v, 'bytesReceived')} B ${num(v, 'framesDecoded')} frames` : 'no receiver'}`;
    }).join('; '));
    await sleep(windowMs);
    const s1 = await snapshot();
    const problems = [];
    for (const rx of rxs) log(`stats after a ${windowMs} ms window:\n${describeStats(rx, s1.get(rx))}`);
    for (const { rx, from } of pairs) {
        const a0 = num(findRecv(s0.get(rx), from.id, 'audio'), 'bytesReceived');
        const a1 = num(findRecv(s1.get(rx), from.id, 'audio'), 'bytesReceived');
        const v0 = num(findRecv(s0.get(rx), from.id, 'video'), 'framesDecoded');
        const v1 = num(findRecv(s1.get(rx), from.id, 'video'), 'framesDecoded');
        const ca = (findRecv(s1.get(rx), from.id, 'audio') || {}).codec;
        const cv = (findRecv(s1.get(rx), from.id, 'video') || {}).codec;
        log(`${rx.name} <- ${from.name}: audio bytesReceived ${a0} -> ${a1} (${ca}), ` +
            `video framesDecoded ${v0} -> ${v1} (${cv}) over ${windowMs} ms`);
        if (a1 <= a0) problems.push(`${rx.name} <- ${from.name}: audio bytesReceived did not grow (${a0} -> ${a1})`);
        if (v1 <= v0) problems.push(`${rx.name} <- ${from.name}: video framesDecoded did not grow (${v0} -> ${v1})`);
    }
    if (problems.length) throw new StageError('media', problems.join('; '));
    return s1;
}

// The m-sections of an SDP: { mid, port, direction, msid (stream id) }.
function mediaSections(sdp) {
    return sdp.split(/\r?\n(?=m=)/).slice(1).map((sec) => {
        const m = /^m=(\S+) (\d+)/.exec(sec);
        const get = (re) => {
            const x = re.exec(sec);
            return x ? x[1] : null;
        };
        const direction = get(/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m) || 'sendrecv';
        return { kind: m && m[1], port: m ? Number(m[2]) : null, mid: get(/^a=mid:(\S+)/m),
                 direction, msid: get(/^a=msid:(\S+)/m) };
    });
}

// Runs body(ctx) against a fresh sobre with one ordinary room, then cleans up everything.
async function runRoomTest(testName, body, opts = {}) {
    const args = parseArgs();
    const watchdog = setTimeout(() => {
        console.error(`[e2e] ${testName}: watchdog: the test took more than ` +
                      `${WATCHDOG_MS / 1000} s, giving up`);
        process.exit(1);
    }, WATCHDOG_MS);
    watchdog.unref();
    const server = new Sobre(args.sobre, args.webRoot, {
        // An ordinary room with the default caps.
        rooms: { [ROOM]: opts.room || {} },
        announce: ['127.0.0.1'],
    });
    const browsers = [];
    const profiles = [];
    const ctx = {
        server,
        participants: [],
        // launch(userDataDir) from lib/browsers.js; returns its handle.
        async launch(browserName, launch) {
            const profile = fs.mkdtempSync(path.join(os.tmpdir(), `sobre-e2e-${browserName}-`));
            profiles.push(profile);
            const b = await bounded(launch(profile), 60000, `launching ${browserName}`);
            b.name = browserName;
            b.firstPageUsed = false;
            browsers.push(b);
            return b;
        },
        // A participant in a page of browser b (its first page, then new ones).
        async participant(b, name) {
            let page = b.page;
            if (b.firstPageUsed) page = await bounded(b.newPage(), 15000, `${b.name}: new page`);
            b.firstPageUsed = true;
            page.on('console', (msg) => console.log(msg.text()));
            await bounded(page.goto(`${server.httpUrl}/healthz`), 15000,
                          `${name}: loading ${server.httpUrl}/healthz`);
            await bounded(page.evaluate(installAgent), 10000, `${name}: installing the agent`);
            const p = new Participant(ctx, page, name, b.name);
            ctx.participants.push(p);
            return p;
        },
    };
    let failure = null;
    try {
        await server.start();
        await body(ctx);
    } catch (e) {
        if (e instanceof StageError) failure = `FAILED at stage ${e.stage}: ${e.message}`;
        else failure = `FAILED: ${e && e.stack ? e.stack : e}`;
        log(`${testName}: ${failure}`);
        await dumpDiagnostics(ctx);
    } finally {
        for (const p of ctx.participants) {
            try {
                await p.call('close', null, 5000);
            } catch (e) {
                // the page may be gone already
            }
        }
        for (const b of browsers) {
            try {
                await bounded(b.close(), 15000, `closing ${b.name}`);
            } catch (e) {
                log(`${e.message}; killing it`);
                if (b.kill) b.kill();
            }
        }
        for (const profile of profiles) fs.rmSync(profile, { recursive: true, force: true });
        if (!server.alive()) {
            failure = (failure ? `${failure}\n[e2e] ` : 'FAILED: ') +
                `sobre died during the test (${JSON.stringify(server.exit)}):\n${server.output(80)}`;
        }
        const exit = await server.stop();
        const san = server.sanitizerReport();
        if (san && !failure) failure = `FAILED: sanitizer report from sobre:\n${san}`;
        log(`sobre exited: ${JSON.stringify(exit)}`);
    }
    clearTimeout(watchdog);
    if (failure) {
        console.error(`[e2e] ${testName}: ${failure}`);
        process.exit(1);
    }
    log(`${testName}: PASSED`);
    process.exit(0);
}

// Everything a failing CI log needs, each part bounded so that a wedged page cannot hide
// the server log.
async function dumpDiagnostics(ctx) {
    for (const p of ctx.participants) {
        log(`---- ${p.name} (${p.browserName}, peer ${p.id})`);
        try {
            const st = await p.call('state', null, 5000);
            log(`messages from the server: ${JSON.stringify(st.msgs)}`);
            log(`WebSocket closed: ${st.wsClosed}`);
            log(`publish connection states: ${JSON.stringify(st.pubStates)}`);
            log(`subscribe connection states: ${JSON.stringify(st.subStates)}`);
            log(`subscribe offers: ${JSON.stringify(st.offers)}`);
            log(`ontrack (subscribe): ${JSON.stringify(st.tracks)}`);
        } catch (e) {
            log(`state: ${e.message}`);
        }
        try {
            const st = await p.call('stats', null, 5000);
            log(`getStats:\n${describeStats(p, st)}`);
            log(`getStats (raw): ${JSON.stringify(st)}`);
        } catch (e) {
            log(`stats: ${e.message}`);
        }
        try {
            const s = await p.call('sdps', null, 5000);
            if (s.pubOffer) log(`publish offer sent by ${p.name}:\n${s.pubOffer}`);
            if (s.pubAnswer) log(`publish answer received by ${p.name}:\n${s.pubAnswer}`);
            s.sub.forEach((o, i) => {
                log(`subscribe offer #${i} received by ${p.name} at ${o.at} ms:\n${o.offer}`);
                if (o.answer) log(`subscribe answer #${i} sent by ${p.name}:\n${o.answer}`);
                if (o.error) log(`subscribe offer #${i} refused: ${o.error}`);
            });
        } catch (e) {
            log(`sdps: ${e.message}`);
        }
    }
    log(`server log (last 150 lines):\n${ctx.server.output(150)}`);
}

module.exports = {
    runRoomTest, Participant, StageError, waitFor, checkMedia, findRecv, num, describeStats,
    mediaSections, ROOM,
};
