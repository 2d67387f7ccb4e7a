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
const child_process = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Sobre, bounded, finish, log, sleep, parseArgs, WATCHDOG_MS, MEDIA_WINDOW_MS } = require('./harness');
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

// The first message satisfying pred that p received after its index `from` (p.state().msgs).
async function waitMessage(stage, p, what, ms, from, pred) {
    let st = null;
    return waitFor(stage, `${p.name}: ${what}`, ms, async () => {
        st = await p.state();
        return st.msgs.slice(from).find(pred);
    }, async () => `messages since: ${JSON.stringify(st ? st.msgs.slice(from) : [])}`);
}

// One participant: an agent in one page.
class Participant {
    constructor(ctx, page, name, browserName, host = '127.0.0.1') {
        this.ctx = ctx;
        this.host = host;   // the server's address as this page reaches it
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
        const p = [...this.ctx.participants, ...this.ctx.agents].find((x) => x.id === id);
        return p ? `${p.name} (${id})` : `${id}`;
    }

    // room: one of runRoomTest's opts.rooms (default: the test's ordinary room).
    async connect(room = ROOM) {
        const wsUrl = `ws://${this.host}:${this.ctx.server.port}/ws`;
        const res = await this.call('connect', { wsUrl, room, name: this.name });
        if (!res.ok) throw new StageError('join', `${this.name}: ${res.message}`);
        this.id = res.self.id;
        log(`${this.name} joined as ${this.id}; peers already there: ` +
            `${JSON.stringify((res.peers || []).map((p) => p.id))}; limits ${JSON.stringify(res.limits)}`);
        return res;
    }

    // opts.videoCodec ('H264'): the video transceiver is limited to that codec (and RTX)
    // with setCodecPreferences (lib/room_agent.js).
    async publish(opts = {}) {
        const res = await this.call('publish', Object.assign({}, VIDEO, opts), 30000);
        if (!res.ok) {
            let msg = `${this.name}: ${res.message}`;
            if (res.capabilities) {
                msg += `; RTCRtpSender.getCapabilities('video'): ${JSON.stringify(res.capabilities)}` +
                    `; RTCRtpReceiver.getCapabilities('video'): ${JSON.stringify(res.receiverCapabilities)}`;
            }
            if (res.code === 'sdp_rejected' && /not supported/.test(res.message)) {
                msg += ' <-- this sobre does not forward between participants yet ' +
                    '(publish in an ordinary room is refused until signaling/ and sfu/ ' +
                    'implement publish/subscribe)';
            }
            throw new StageError(res.stage, msg);
        }
        log(`${this.name}: publish answered` + (res.videoPreferences ? `; video codec ` +
            `preferences ${JSON.stringify(res.videoPreferences)}` : ''));
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

    // Waits until the subscribe connection carries audio and video (`kinds`) of each of
    // `from` (participants, or anything with .id and .name): an offer applied and answered,
    // ontrack for each kind with streams[0].id = the publisher's peer id.
    async waitSubscribed(from, ms = 15000, kinds = ['audio', 'video']) {
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
            return from.every((p) => kinds.every((k) =>
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

// An aiortc participant (lib/aiortc_agent.py) run as a child process: it joins, publishes
// a tone, answers the subscribe offers and analyses the audio it receives on request. Its
// reports ("@e2e {json}" lines) are collected in .events; everything else it prints is
// logged.
class AiortcAgent {
    constructor(ctx, name, toneHz) {
        this.ctx = ctx;
        this.name = name;
        this.toneHz = toneHz;
        this.id = null;
        this.events = [];
        this.exit = null;
        const script = path.join(__dirname, 'aiortc_agent.py');
        this.proc = child_process.spawn('/usr/bin/python3',
            [script, ctx.server.wsUrl, ROOM, name, String(toneHz)],
            { stdio: ['pipe', 'pipe', 'pipe'] });
        for (const stream of [this.proc.stdout, this.proc.stderr]) {
            let rest = '';
            stream.on('data', (chunk) => {
                const parts = (rest + chunk.toString('utf8')).split('\n');
                rest = parts.pop();
                for (const line of parts) this.onLine(line);
            });
        }
        this.proc.on('exit', (code, signal) => {
            this.exit = { code, signal };
            log(`${this.name}: aiortc agent exited ${JSON.stringify(this.exit)}`);
        });
        this.proc.stdin.on('error', () => {});   // it may be gone already
    }

    onLine(line) {
        if (!line.startsWith('@e2e ')) {
            console.log(`[${this.name}] ${line}`);
            return;
        }
        let ev;
        try {
            ev = JSON.parse(line.slice(5));
        } catch (e) {
            ev = { event: 'invalid', line };
        }
        ev.at = Date.now();
        this.events.push(ev);
        const brief = JSON.stringify(ev);
        console.log(`[${this.name}] ${brief.length > 600 ? `${brief.slice(0, 600)}...` : brief}`);
        if (ev.event === 'joined') this.id = ev.id;
    }

    command(text) {
        if (this.exit === null) this.proc.stdin.write(`${text}\n`);
    }

    // The first event satisfying pred (after index `from`), within ms; a 'failed' event,
    // or the agent's exit, ends the wait with its stage.
    async waitEvent(stage, what, ms, pred, from = 0) {
        return waitFor(stage, `${this.name}: ${what}`, ms, async () => {
            const evs = this.events.slice(from);
            const bad = evs.find((e) => e.event === 'failed');
            if (bad) throw new StageError(bad.stage, `${this.name}: ${bad.message}`);
            const ev = evs.find(pred);
            if (ev) return ev;
            if (this.exit !== null) {
                throw new StageError(stage, `${this.name}: the aiortc agent exited ` +
                                     `(${JSON.stringify(this.exit)}) before ${what}`);
            }
            return null;
        }, async () => `its reports so far: ${JSON.stringify(this.events.slice(from))}`);
    }

    async stop() {
        if (this.exit !== null) return;
        try {
            this.proc.stdin.end('quit\n');
        } catch (e) {
            // gone already
        }
        const deadline = Date.now() + 8000;
        while (this.exit === null && Date.now() < deadline) await sleep(50);
        if (this.exit === null) {
            log(`${this.name}: the aiortc agent did not exit within 8 s; killing it`);
            this.proc.kill('SIGKILL');
        }
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

// getStats() of every participant in ps at once (so that senders and receivers are seen
// at nearly the same moment): Map participant -> stats().
async function snapshot(ps) {
    const all = await Promise.all(ps.map((p) => p.stats()));
    return new Map(ps.map((p, i) => [p, all[i]]));
}

// Waits (bounded) for the first audio bytes and the first decoded video frame of every
// { rx, from } pair; returns the last snapshot of the receivers.
async function waitFirstMedia(pairs) {
    const rxs = [...new Set(pairs.map((x) => x.rx))];
    let s0 = null;
    await waitFor('media', 'first audio bytes and first decoded video frame of every forwarded ' +
                  'track', FIRST_MEDIA_MS, async () => {
        s0 = await snapshot(rxs);
        return pairs.every(({ rx, from }) => {
            const st = s0.get(rx);
            return num(findRecv(st, from.id, 'audio'), 'bytesReceived') > 0 &&
                num(findRecv(st, from.id, 'video'), 'framesDecoded') > 0;
        });
    }, async () => pairs.map(({ rx, from }) => {
        const st = s0.get(rx);
        const a = findRecv(st, from.id, 'audio'), v = findRecv(st, from.id, 'video');
        return `${rx.name} <- ${from.name}: audio ${a ? `${num(a, 'bytesReceived')} B` : 'no receiver'}, ` +
            `video ${v ? `${num(v, 'bytesReceived')} B ${num(v, 'framesDecoded')} frames` : 'no receiver'}`;
    }).join('; '));
    return s0;
}

// Each rx must receive audio (bytesReceived grows) and video (framesDecoded grows) of
// each of its `from` over windowMs, after a bounded wait for the first packets and frame.
async function checkMedia(pairs, windowMs = MEDIA_WINDOW_MS) {
    const rxs = [...new Set(pairs.map((x) => x.rx))];
    const s0 = await waitFirstMedia(pairs);
    await sleep(windowMs);
    const s1 = await snapshot(rxs);
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

// The receivers of p's subscribe connection that are live (currentDirection recvonly,
// track not ended) must be exactly one audio and one video per participant of `from`,
// each labelled (ontrack streams[0].id) with that participant's peer id.
async function checkTracks(p, from, stats = null) {
    const st = stats || await p.stats();
    const live = st.recv.filter((r) => (r.currentDirection === 'recvonly' ||
                                        r.currentDirection === 'sendrecv') && r.readyState === 'live');
    const problems = [];
    for (const kind of ['audio', 'video']) {
        const got = live.filter((r) => r.kind === kind).map((r) => r.from).sort();
        const want = from.map((q) => q.id).sort();
        if (JSON.stringify(got) !== JSON.stringify(want)) {
            problems.push(`${got.length} live remote ${kind} track(s) labelled ` +
                          `${JSON.stringify(got)}, expected ${want.length}: ${JSON.stringify(want)}`);
        }
    }
    const all = st.recv.map((r) => `${r.kind} mid ${r.mid} ${r.currentDirection} ` +
                            `${r.readyState} from ${r.from}`);
    if (problems.length) {
        throw new StageError('subscribe offer', `${p.name}: ${problems.join('; ')} ` +
                             `(receivers: ${JSON.stringify(all)})`);
    }
    log(`${p.name}: exactly ${from.length} remote audio and ${from.length} remote video ` +
        `tracks, labelled ${from.map((q) => `${q.name}=${q.id}`).join(', ')}`);
}

// Every participant of ps receives every other one over windowMs: for each pair, audio
// and video packetsReceived grow, and the video framesDecoded grow by at least minRatio
// of what the sender's outbound-rtp framesEncoded grew over the same window (one
// snapshot of everyone at the start, one at the end). Logs every ratio.
async function checkRates(ps, windowMs, minRatio) {
    const pairs = [];
    for (const rx of ps) for (const from of ps) if (rx !== from) pairs.push({ rx, from });
    await waitFirstMedia(pairs);
    const s0 = await snapshot(ps);
    await sleep(windowMs);
    const s1 = await snapshot(ps);
    for (const p of ps) log(`stats after a ${windowMs} ms window:\n${describeStats(p, s1.get(p))}`);
    const problems = [];
    const sent = (s, p) => ((s.get(p).sent.video || {}).framesEncoded || 0);
    for (const { rx, from } of pairs) {
        const d = (key, kind) => num(findRecv(s1.get(rx), from.id, kind), key) -
            num(findRecv(s0.get(rx), from.id, kind), key);
        const encoded = sent(s1, from) - sent(s0, from);
        const decoded = d('framesDecoded', 'video');
        const secs = (s1.get(from).at - s0.get(from).at) / 1000;
        const ratio = encoded > 0 ? decoded / encoded : 0;
        log(`${rx.name} <- ${from.name}: video ${decoded} frames decoded / ${encoded} encoded by ` +
            `the sender (${(encoded / secs).toFixed(1)} fps) = ${(100 * ratio).toFixed(1)}%, ` +
            `${d('packetsReceived', 'video')} packets; audio ${d('packetsReceived', 'audio')} ` +
            `packets, over ${windowMs} ms`);
        if (encoded <= 0) problems.push(`${from.name} encoded no video frame over the window`);
        else if (ratio < minRatio) {
            problems.push(`${rx.name} decoded ${decoded} frames of ${from.name}'s ${encoded} ` +
                          `(${(100 * ratio).toFixed(1)}% < ${100 * minRatio}%)`);
        }
        for (const kind of ['audio', 'video']) {
            if (d('packetsReceived', kind) <= 0) {
                problems.push(`${rx.name} <- ${from.name}: ${kind} packetsReceived did not grow`);
            }
        }
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
        // plus opts.rooms (name -> room object), e.g. one with another last_n.
        rooms: Object.assign({ [ROOM]: opts.room || {} }, opts.rooms || {}),
        announce: opts.announce || ['127.0.0.1'],
        listen: opts.listen,      // default 127.0.0.1
        config: opts.config,      // more top-level keys (limits, metrics...)
    });
    const browsers = [];
    const profiles = [];
    const ctx = {
        server,
        participants: [],
        agents: [],      // AiortcAgent
        // An aiortc participant publishing a toneHz sine (lib/aiortc_agent.py).
        aiortc(name, toneHz) {
            const a = new AiortcAgent(ctx, name, toneHz);
            ctx.agents.push(a);
            return a;
        },
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
        // A participant in a page of browser b (its first page, then new ones), reaching
        // the server at `host` (an address sobre listens on).
        async participant(b, name, host = '127.0.0.1') {
            let page = b.page;
            if (b.firstPageUsed) page = await bounded(b.newPage(), 15000, `${b.name}: new page`);
            b.firstPageUsed = true;
            page.on('console', (msg) => console.log(msg.text()));
            const url = `http://${host}:${server.port}/healthz`;
            await bounded(page.goto(url), 15000, `${name}: loading ${url}`);
            await bounded(page.evaluate(installAgent), 10000, `${name}: installing the agent`);
            const p = new Participant(ctx, page, name, b.name, host);
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
        for (const a of ctx.agents) await a.stop();
        for (const p of ctx.participants) {
            try {
                await p.call('close', null, 5000);
            } catch (e) {
                // the page may be gone already
            }
        }
        for (const b of browsers) b.label = b.name;
        await finish({ name: testName, browsers, profiles, server, failure, watchdog,
                       prefix: 'FAILED: ' });
    }
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
    for (const a of ctx.agents) {
        log(`---- ${a.name} (aiortc agent, peer ${a.id}, exit ${JSON.stringify(a.exit)}): ` +
            `reports ${JSON.stringify(a.events)}`);
    }
    log(`server log (last 150 lines):\n${ctx.server.output(150)}`);
}

module.exports = {
    runRoomTest, Participant, StageError, waitFor, waitMessage, checkMedia, checkTracks, checkRates, snapshot,
    findRecv, num, describeStats,
    mediaSections, ROOM, VIDEO, AiortcAgent,
};
