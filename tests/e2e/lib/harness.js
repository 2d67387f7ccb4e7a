'use strict';
// Shared helpers of the browser end-to-end tests (tests/e2e/echo_*.js).
//
// Each test is run by tests/e2e/run inside a fresh network namespace (only loopback) as
//     node tests/e2e/echo_<browser>.js <path-to-sobre> <web-root>
// It starts the real sobre on a temporary config with an echo room, launches a real
// headless browser (the Debian package, never a downloaded one), runs echoInPage() in a
// page served by sobre (http://127.0.0.1:<port>/healthz, a secure context, so that
// getUserMedia works), prints a getStats() summary and fails naming the stage at fault:
// websocket, join, getUserMedia, signalling (answer), ICE, DTLS or media.
//
// Every wait is bounded; a watchdog ends the process if anything hangs anyway.

const child_process = require('child_process');
const dgram = require('dgram');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOM = 'echo';
const WATCHDOG_MS = 200 * 1000;   // below the CTest TIMEOUT (240 s)
const MEDIA_WINDOW_MS = 5000;     // the media assertions look at this long a window

function log(...args) {
    console.log('[e2e]', ...args);
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// Resolves with p's value, or rejects naming `what` after ms milliseconds.
function bounded(p, ms, what) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function parseArgs() {
    const [sobre, webRoot] = process.argv.slice(2);
    if (!sobre || !webRoot) {
        console.error(`usage: ${path.basename(process.argv[1])} SOBRE_BINARY WEB_ROOT`);
        process.exit(2);
    }
    try {
        fs.accessSync(sobre, fs.constants.X_OK);
    } catch (e) {
        console.error(`not an executable: ${sobre}`);
        process.exit(2);
    }
    return { sobre: path.resolve(sobre), webRoot: path.resolve(webRoot) };
}

// Requires an npm module of tests/e2e, or explains how to install it.
function requireModule(name) {
    try {
        return require(name);
    } catch (e) {
        console.error(`cannot load ${name} (${e.message}); run: tests/e2e/run install`);
        process.exit(1);
    }
}

function freePort(kind) {
    return new Promise((resolve, reject) => {
        if (kind === 'tcp') {
            const s = net.createServer();
            s.once('error', reject);
            s.listen(0, '127.0.0.1', () => {
                const port = s.address().port;
                s.close(() => resolve(port));
            });
        } else {
            const s = dgram.createSocket('udp4');
            s.once('error', reject);
            s.bind(0, '127.0.0.1', () => {
                const port = s.address().port;
                s.close(() => resolve(port));
            });
        }
    });
}

function tcpConnects(port) {
    return new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        const done = (ok) => {
            s.destroy();
            resolve(ok);
        };
        s.setTimeout(300, () => done(false));
        s.once('connect', () => done(true));
        s.once('error', () => done(false));
    });
}

// One sobre process, run with -v on free loopback ports. Its rooms are opts.rooms (by
// default one echo room), its announced addresses opts.announce (default 127.0.0.1), its
// HTTP listening address opts.listen (default 127.0.0.1; the URLs below stay on it).
class Sobre {
    constructor(binary, webRoot, opts = {}) {
        this.binary = binary;
        this.webRoot = webRoot;
        this.rooms = opts.rooms || { [ROOM]: { echo: true } };
        this.announce = opts.announce || ['127.0.0.1'];
        this.listen = opts.listen || '127.0.0.1';
        this.extra = opts.config || {};   // more top-level config keys (metrics, footprint...)
        this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sobre-e2e-'));
        this.lines = [];
        this.proc = null;
        this.exit = null;
    }

    get httpUrl() {
        return `http://127.0.0.1:${this.port}`;
    }

    get wsUrl() {
        return `ws://127.0.0.1:${this.port}/ws`;
    }

    async start() {
        this.port = await freePort('tcp');
        this.mediaPort = await freePort('udp');
        this.config = {
            listen: { address: this.listen, port: this.port },
            web_root: this.webRoot,
            media: { port: this.mediaPort, workers: 1, announce: this.announce },
            on_demand: false,
            rooms: this.rooms,
            // Every test client comes from 127.0.0.1: per-address limits must not bite.
            limits: { connections_per_ip: 1000, joins_per_minute_per_ip: 1000 },
            ...this.extra,
        };
        const cfgPath = path.join(this.tmp, 'sobre.json');
        fs.writeFileSync(cfgPath, JSON.stringify(this.config, null, 2));
        this.proc = child_process.spawn(this.binary, ['-v', '-c', cfgPath], {
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        for (const stream of [this.proc.stdout, this.proc.stderr]) {
            let rest = '';
            stream.on('data', (chunk) => {
                const parts = (rest + chunk.toString('utf8')).split('\n');
                rest = parts.pop();
                this.lines.push(...parts);
            });
        }
        this.proc.on('exit', (code, signal) => {
            this.exit = { code, signal };
        });
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
            if (this.exit) {
                throw new Error(`sobre exited at startup (${JSON.stringify(this.exit)}):\n` +
                                this.output());
            }
            if (await tcpConnects(this.port)) {
                log(`sobre listening on ${this.httpUrl}, media UDP port ${this.mediaPort}`);
                return this;
            }
            await sleep(50);
        }
        throw new Error(`sobre did not listen on port ${this.port} within 5 s:\n${this.output()}`);
    }

    alive() {
        return this.proc !== null && this.exit === null;
    }

    output(last = 0) {
        const lines = last > 0 ? this.lines.slice(-last) : this.lines;
        return lines.join('\n');
    }

    // SIGTERM, then SIGKILL after 3 s. Returns the exit status.
    async stop() {
        if (this.alive()) {
            this.proc.kill('SIGTERM');
            const deadline = Date.now() + 3000;
            while (this.alive() && Date.now() < deadline) await sleep(50);
            if (this.alive()) {
                this.proc.kill('SIGKILL');
                const d2 = Date.now() + 2000;
                while (this.alive() && Date.now() < d2) await sleep(50);
            }
        }
        fs.rmSync(this.tmp, { recursive: true, force: true });
        // For a person debugging a test: the server's whole log, kept.
        if (process.env.SOBRE_E2E_SERVER_LOG)
            fs.writeFileSync(process.env.SOBRE_E2E_SERVER_LOG, this.output() + '\n');
        return this.exit;
    }

    sanitizerReport() {
        const text = this.output();
        return /ERROR: (Address|Leak)Sanitizer|runtime error:/.test(text) ? text : null;
    }
}

// Runs in the page (serialised by playwright/puppeteer: it must be self-contained).
// Joins the echo room, publishes the fake camera and microphone on sendrecv
// transceivers, waits for the connection and samples getStats(). Never throws: returns
// the JSON text of { ok, stage, message, ... }: what was observed, for Node to judge.
async function echoInPage(opts) {
    const plog = (...a) => console.log('[page] ' + a.join(' '));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const bounded = (p, ms, what) => {
        let timer;
        const t = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
        });
        return Promise.race([p, t]).finally(() => clearTimeout(timer));
    };
    const res = {
        ok: false, stage: 'websocket', message: '', userAgent: navigator.userAgent,
        received: [], offer: null, answer: null, tracks: [], states: [], samples: [],
    };
    const fail = (stage, message) => {
        res.stage = stage;
        res.message = message;
        return res;
    };
    let ws = null, pc = null, stream = null;
    const inbox = [];
    let wake = null;
    let closed = null;
    // The next message whose type is in `types` (others are kept in res.received).
    const next = async (types, ms) => {
        const deadline = Date.now() + ms;
        for (;;) {
            const i = inbox.findIndex((m) => types.includes(m.type));
            if (i >= 0) return inbox.splice(i, 1)[0];
            if (closed) throw new Error(`the server closed the WebSocket (${closed})`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no ${types.join(' or ')} message within ${ms} ms`);
            await new Promise((r) => {
                wake = r;
                setTimeout(r, Math.min(left, 200));
            });
        }
    };
    const statsSummary = async () => {
        const report = await pc.getStats();
        const byId = new Map();
        report.forEach((s) => byId.set(s.id, s));
        const out = { inbound: {}, outbound: {}, pair: null, transport: null };
        const pick = (s, keys) => {
            const o = {};
            for (const k of keys) if (s[k] !== undefined) o[k] = s[k];
            return o;
        };
        report.forEach((s) => {
            if (s.type === 'inbound-rtp' && !s.isRemote) {
                const codec = s.codecId && byId.get(s.codecId);
                out.inbound[s.kind] = Object.assign(pick(s, [
                    'ssrc', 'mid', 'packetsReceived', 'bytesReceived', 'packetsLost', 'jitter',
                    'framesReceived', 'framesDecoded', 'framesDropped', 'keyFramesDecoded',
                    'frameWidth', 'frameHeight', 'nackCount', 'pliCount', 'firCount',
                    'totalSamplesReceived', 'concealedSamples', 'audioLevel']),
                { codec: codec ? codec.mimeType : undefined });
            } else if (s.type === 'outbound-rtp' && !s.isRemote) {
                out.outbound[s.kind] = pick(s, ['ssrc', 'mid', 'packetsSent', 'bytesSent',
                    'framesEncoded', 'nackCount', 'pliCount']);
            } else if (s.type === 'transport') {
                out.transport = pick(s, ['dtlsState', 'iceState', 'srtpCipher', 'tlsVersion',
                    'dtlsRole', 'selectedCandidatePairId']);
            } else if (s.type === 'candidate-pair' && (s.selected || s.nominated) &&
                       s.state === 'succeeded') {
                const l = byId.get(s.localCandidateId) || {};
                const r = byId.get(s.remoteCandidateId) || {};
                out.pair = {
                    local: `${l.address || l.ip}:${l.port} ${l.candidateType}`,
                    remote: `${r.address || r.ip}:${r.port} ${r.candidateType}`,
                    bytesSent: s.bytesSent, bytesReceived: s.bytesReceived,
                };
            }
        });
        return out;
    };
    const state = () => ({
        t: Date.now(),
        signaling: pc.signalingState, ice: pc.iceConnectionState,
        connection: pc.connectionState, gathering: pc.iceGatheringState,
        dtls: (pc.getSenders()[0] && pc.getSenders()[0].transport) ?
            pc.getSenders()[0].transport.state : 'n/a',
    });
    // Returned as JSON text: WebDriver BiDi (puppeteer with Firefox) turns an object
    // reached twice in the result (a stats sample shared by two fields) into {}.
    return JSON.stringify(await (async () => { try {
        ws = new WebSocket(opts.wsUrl, 'sobre.v1');
        ws.onmessage = (ev) => {
            let m;
            try {
                m = JSON.parse(ev.data);
            } catch (e) {
                m = { type: 'invalid-json', data: String(ev.data).slice(0, 200) };
            }
            const brief = Object.assign({}, m);
            if (typeof brief.sdp === 'string') brief.sdp = `<${brief.sdp.length} bytes>`;
            res.received.push(brief);
            if (m.type !== 'speaking' && m.type !== 'bandwidth') plog('<-', JSON.stringify(brief));
            inbox.push(m);
            if (wake) wake();
        };
        ws.onclose = (ev) => {
            closed = `code ${ev.code} ${ev.reason || ''}`.trim();
            if (wake) wake();
        };
        try {
            await bounded(new Promise((ok, ko) => {
                ws.onopen = ok;
                ws.onerror = () => ko(new Error('WebSocket error'));
            }), 5000, 'WebSocket open');
        } catch (e) {
            return fail('websocket', `cannot open ${opts.wsUrl}: ${e.message}`);
        }

        res.stage = 'join';
        ws.send(JSON.stringify({ type: 'join', room: opts.room, name: opts.name }));
        let m;
        try {
            m = await next(['joined', 'error'], 5000);
        } catch (e) {
            return fail('join', e.message);
        }
        if (m.type === 'error') return fail('join', `join refused: ${m.code}: ${m.message}`);
        const selfId = m.self && m.self.id;

        res.stage = 'getUserMedia';
        try {
            stream = await bounded(navigator.mediaDevices.getUserMedia(
                { audio: true, video: { width: 320, height: 240 } }), 10000, 'getUserMedia');
        } catch (e) {
            return fail('getUserMedia', `fake devices: ${e.name || ''} ${e.message}`);
        }

        res.stage = 'signalling';
        pc = new RTCPeerConnection({ iceServers: [] });
        pc.ontrack = (ev) => {
            const t = { kind: ev.track.kind, mid: ev.transceiver ? ev.transceiver.mid : null,
                streams: ev.streams.map((s) => s.id) };
            res.tracks.push(t);
            plog('ontrack', JSON.stringify(t));
        };
        const onState = () => {
            const s = state();
            res.states.push(s);
            plog('state', JSON.stringify(s));
        };
        pc.oniceconnectionstatechange = onState;
        pc.onconnectionstatechange = onState;
        for (const track of [...stream.getAudioTracks(), ...stream.getVideoTracks()])
            pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
        await pc.setLocalDescription(await pc.createOffer());
        // Send a complete offer (host candidates included); ICE-lite needs none, but it
        // makes the offer self-describing in the logs. Bounded: 3 s.
        const gatherDeadline = Date.now() + 3000;
        while (pc.iceGatheringState !== 'complete' && Date.now() < gatherDeadline) await sleep(50);
        res.offer = pc.localDescription.sdp;
        ws.send(JSON.stringify({ type: 'publish', id: 1, sdp: res.offer }));
        try {
            m = await next(['answer', 'error'], 10000);
        } catch (e) {
            return fail('signalling', `publish: ${e.message}`);
        }
        if (m.type === 'error') {
            return fail('signalling', `publish refused: ${m.code}: ${m.message}`);
        }
        if (m.id !== 1) return fail('signalling', `answer carries id ${JSON.stringify(m.id)}, not 1`);
        res.answer = m.sdp;
        try {
            await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        } catch (e) {
            return fail('signalling', `setRemoteDescription(answer) refused it: ${e.message}`);
        }
        onState();

        // Connectivity: ICE first, then DTLS (connectionState 'connected' needs both).
        res.stage = 'ICE';
        const t0 = Date.now();
        let iceUp = false;
        while (Date.now() - t0 < 20000) {
            if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed')
                iceUp = true;
            if (pc.connectionState === 'connected' || pc.connectionState === 'failed') break;
            await sleep(100);
        }
        onState();
        if (pc.connectionState !== 'connected') {
            res.stats = await statsSummary();
            if (!iceUp) {
                return fail('ICE', `ICE did not connect (iceConnectionState ` +
                            `${pc.iceConnectionState} after ${Date.now() - t0} ms of at most ` +
                            `20000): no STUN binding success with the server's candidate`);
            }
            return fail('DTLS', `ICE connected but the DTLS handshake did not complete ` +
                        `(connectionState ${pc.connectionState}, DTLS transport ` +
                        `${state().dtls}, after ${Date.now() - t0} ms)`);
        }
        plog(`connected after ${Date.now() - t0} ms`);

        // Media: wait (bounded) for the first echoed packets, then watch a window.
        res.stage = 'media';
        const hasMedia = (s) => s.inbound.audio && s.inbound.audio.bytesReceived > 0 &&
            s.inbound.video && s.inbound.video.bytesReceived > 0;
        let s0 = await statsSummary();
        const t1 = Date.now();
        while (!hasMedia(s0) && Date.now() - t1 < 10000) {
            await sleep(250);
            s0 = await statsSummary();
        }
        res.samples.push(Object.assign({ t: 0 }, s0));
        const tw = Date.now();
        let s1 = s0;
        while (Date.now() - tw < opts.windowMs) {
            await sleep(1000);
            s1 = await statsSummary();
            res.samples.push(Object.assign({ t: Date.now() - tw }, s1));
        }
        res.stats = s1;
        const num = (o, k) => (o && typeof o[k] === 'number') ? o[k] : 0;
        const problems = [];
        const sentA = num(s1.outbound.audio, 'bytesSent'), sentV = num(s1.outbound.video, 'bytesSent');
        if (sentA === 0 || sentV === 0) {
            problems.push(`the browser itself sent nothing (outbound bytesSent audio ${sentA}, ` +
                          `video ${sentV})`);
        }
        const a0 = num(s0.inbound.audio, 'bytesReceived'), a1 = num(s1.inbound.audio, 'bytesReceived');
        if (!s1.inbound.audio) problems.push('no inbound-rtp audio at all (nothing echoed on the audio m-line)');
        else if (a1 <= a0) problems.push(`audio bytesReceived did not grow over ${opts.windowMs} ms (${a0} -> ${a1})`);
        const v0 = num(s0.inbound.video, 'framesDecoded'), v1 = num(s1.inbound.video, 'framesDecoded');
        if (!s1.inbound.video) {
            problems.push('no inbound-rtp video at all (nothing echoed on the video m-line)');
        } else if (v1 <= v0) {
            problems.push(`video framesDecoded did not grow over ${opts.windowMs} ms (${v0} -> ${v1}; ` +
                          `bytesReceived ${num(s0.inbound.video, 'bytesReceived')} -> ` +
                          `${num(s1.inbound.video, 'bytesReceived')}, keyFramesDecoded ` +
                          `${num(s1.inbound.video, 'keyFramesDecoded')}, pliCount ` +
                          `${num(s1.inbound.video, 'pliCount')})`);
        }
        if (res.tracks.length < 2) {
            problems.push(`ontrack fired ${res.tracks.length} time(s) on the publish connection, ` +
                          `expected audio and video`);
        }
        // PROTOCOL.md: a forwarded track's stream id is its publisher's peer id.
        for (const t of res.tracks) {
            if (t.streams[0] !== selfId) {
                problems.push(`the echoed ${t.kind} track's stream is ${JSON.stringify(t.streams)}, ` +
                              `expected the publisher's peer id ${selfId}`);
            }
        }
        if (problems.length) return fail('media', problems.join('; '));

        // Closing the connection ends its DTLS session (close_notify): the worker closes
        // the transport and the signalling side tells the session, which stays joined.
        res.stage = 'close';
        pc.close();
        try {
            m = await next(['error'], 5000);
        } catch (e) {
            return fail('close', `no media_failed notice after pc.close(): ${e.message}`);
        }
        if (m.code !== 'media_failed' || !/closed/.test(m.message)) {
            return fail('close', `after pc.close(): ${m.code}: ${m.message}, expected media_failed`);
        }
        res.ok = true;
        res.stage = 'done';
        res.message = `audio bytesReceived ${a0} -> ${a1}, video framesDecoded ${v0} -> ${v1}, ` +
            `stream id = peer id, media_failed after pc.close(), ` +
            `over ${opts.windowMs} ms`;
        return res;
    } catch (e) {
        return fail(res.stage, `unexpected exception: ${e && e.stack ? e.stack : e}`);
    } finally {
        try {
            if (pc) res.finalState = state();
            if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'leave' }));
            if (pc) pc.close();
            if (stream) stream.getTracks().forEach((t) => t.stop());
            if (ws) ws.close();
        } catch (e) {
            // Cleanup is best effort; the browser is closed right after.
        }
    } })());
}

// Prints what the page observed, in a form that a failing CI log explains on its own.
function report(browserName, res, server) {
    log(`${browserName}: ${res.userAgent}`);
    log(`tracks on the publish connection: ${JSON.stringify(res.tracks)}`);
    log(`connection states: ${JSON.stringify(res.states.map((s) =>
        `${s.ice}/${s.connection}/dtls:${s.dtls}`))}`);
    for (const s of res.samples) {
        const ia = s.inbound.audio || {}, iv = s.inbound.video || {};
        const oa = s.outbound.audio || {}, ov = s.outbound.video || {};
        log(`stats t=${String(s.t).padStart(5)} ms: in audio ${ia.bytesReceived || 0} B ` +
            `ssrc ${ia.ssrc}, in video ${iv.bytesReceived || 0} B ${iv.framesDecoded || 0} frames ` +
            `decoded ssrc ${iv.ssrc}; out audio ${oa.bytesSent || 0} B ssrc ${oa.ssrc}, ` +
            `out video ${ov.bytesSent || 0} B ssrc ${ov.ssrc}`);
    }
    if (res.stats) log(`getStats summary: ${JSON.stringify(res.stats)}`);
    if (!res.ok) {
        log(`messages from the server: ${JSON.stringify(res.received)}`);
        if (res.offer) log(`offer sent:\n${res.offer}`);
        if (res.answer) log(`answer received:\n${res.answer}`);
        log(`server log (last 80 lines):\n${server.output(80)}`);
    }
}

// Saves the offer and answer when SOBRE_E2E_SDP_DIR names a folder (for debugging).
function saveSdp(browserName, res) {
    const dir = process.env.SOBRE_E2E_SDP_DIR;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    if (res.offer) fs.writeFileSync(path.join(dir, `${browserName}-offer.sdp`), res.offer);
    if (res.answer) fs.writeFileSync(path.join(dir, `${browserName}-answer.sdp`), res.answer);
}

// The whole test for one browser. `launch(userDataDir)` returns
// { page, close() } for a fresh browser; `page` has goto, evaluate and on('console').
async function runEchoTest(browserName, launch) {
    const args = parseArgs();
    const watchdog = setTimeout(() => {
        console.error(`[e2e] ${browserName}: watchdog: the test took more than ` +
                      `${WATCHDOG_MS / 1000} s, giving up`);
        process.exit(1);
    }, WATCHDOG_MS);
    watchdog.unref();
    const server = new Sobre(args.sobre, args.webRoot);
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), `sobre-e2e-${browserName}-`));
    let browser = null;
    let failure = null;
    try {
        await server.start();
        browser = await bounded(launch(profile), 60000, `launching ${browserName}`);
        browser.page.on('console', (msg) => console.log(msg.text()));
        await bounded(browser.page.goto(`${server.httpUrl}/healthz`), 15000,
                      `loading ${server.httpUrl}/healthz`);
        const res = JSON.parse(await bounded(browser.page.evaluate(echoInPage, {
            wsUrl: server.wsUrl, room: ROOM, name: `e2e-${browserName}`,
            windowMs: MEDIA_WINDOW_MS,
        }), 120000, 'the in-page test'));
        saveSdp(browserName, res);
        report(browserName, res, server);
        if (!res.ok) failure = `${browserName}: FAILED at stage ${res.stage}: ${res.message}`;
        else log(`${browserName}: PASSED: ${res.message}`);
    } catch (e) {
        failure = `${browserName}: FAILED: ${e && e.stack ? e.stack : e}`;
        log(`server log (last 80 lines):\n${server.output(80)}`);
    } finally {
        if (browser) browser.label = browserName;
        await finish({ name: null, browsers: browser ? [browser] : [], profiles: [profile], server,
                       failure, watchdog, prefix: `${browserName}: FAILED: ` });
    }
}

// The end of every e2e test: closes the browsers (killing what does not close), removes
// their profiles, stops sobre (a crash or a sanitizer report fails the test) and exits
// with the verdict. `failure` is null or the message; `prefix` starts a failure line.
async function finish({ name, browsers, profiles, server, failure, watchdog, prefix }) {
    for (const b of browsers) {
        try {
            await bounded(b.close(), 15000, `closing ${b.label}`);
        } catch (e) {
            log(`${e.message}; killing it`);
            if (b.kill) b.kill();
        }
    }
    for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
    if (!server.alive()) {
        failure = (failure ? `${failure}\n[e2e] ` : prefix) +
            `sobre died during the test (${JSON.stringify(server.exit)}):\n${server.output(80)}`;
    }
    const exit = await server.stop();
    const san = server.sanitizerReport();
    if (san && !failure) failure = `${prefix}sanitizer report from sobre:\n${san}`;
    log(`sobre exited: ${JSON.stringify(exit)}`);
    clearTimeout(watchdog);
    if (failure) {
        console.error(`[e2e] ${name ? `${name}: ` : ''}${failure}`);
        process.exit(1);
    }
    if (name) log(`${name}: PASSED`);
    process.exit(0);
}

module.exports = {
    finish, runEchoTest, requireModule, bounded, log, sleep, parseArgs, echoInPage, Sobre,
    WATCHDOG_MS, MEDIA_WINDOW_MS,
};
