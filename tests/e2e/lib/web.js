'use strict';
// Helpers of the web client test (tests/e2e/web_client.js): the shipped client (web/)
// driven the way a person uses it - clicks and typing - in headless Chromium (playwright)
// and Firefox (puppeteer), with the page's state read through window.sobre (app.js).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Sobre, bounded, finish, log, sleep, parseArgs, WATCHDOG_MS } = require('./harness');

class StageError extends Error {
    constructor(stage, message) {
        super(message);
        this.stage = stage;
    }
}

// Runs in the page: the client's state, and what the page shows and receives of the
// participant called `name` (its tile, and getStats() of its receivers). JSON text (see
// README: Firefox over BiDi).
async function probeInPage(name) {
    const S = window.sobre;
    const txt = (id) => {
        const e = document.getElementById(id);
        return e && !e.hidden ? e.textContent : null;
    };
    const out = {
        view: document.body.dataset.view, inSession: S.inSession, log: S.log,
        self: S.self && S.self.id, err: txt('err'), status: txt('status'),
        peers: [...S.peers.values()].map((p) => p.name), tiles: document.querySelectorAll('.tile').length,
        pub: S.pub && S.pub.pc.connectionState, sub: S.sub && S.sub.pc.connectionState,
        marker: window.__e2eMarker || null,
    };
    const p = name && [...S.peers.values()].find((x) => x.name === name);
    if (p) {
        out.id = p.id;
        out.peer = p;
        const tile = document.querySelector(`.tile[data-peer="${p.id}"]`);
        if (tile) {
            const v = tile.querySelector('video');
            out.tile = { video: tile.classList.contains('video'), muteIcon: !tile.querySelector('.mute').hidden,
                         vw: v.videoWidth, vt: v.currentTime, label: tile.getAttribute('aria-label') };
        }
        const r = S.recv.get(p.id) || {};
        for (const k of ['audio', 'video']) {
            if (!r[k]) continue;
            (await r[k].getStats()).forEach((s) => {
                if (s.type === 'inbound-rtp') out[k] = { bytes: s.bytesReceived || 0, frames: s.framesDecoded || 0, w: s.frameWidth || 0 };
            });
        }
    }
    return JSON.stringify(out);
}

// Runs in the page: the subscribe connection's transceivers and the m-sections of the
// server's last offer, for a failure report.
async function subscribeInPage() {
    const sub = window.sobre.sub;
    if (!sub) return JSON.stringify(null);
    const out = { transceivers: [], offer: [], packets: {} };
    for (const t of sub.pc.getTransceivers()) {
        out.transceivers.push([t.mid, t.direction, t.currentDirection, t.receiver.track.kind, t.stopped]);
    }
    const sdp = sub.pc.remoteDescription ? sub.pc.remoteDescription.sdp : '';
    for (const sec of sdp.split(/\r?\n(?=m=)/).slice(1)) {
        const g = (re) => (re.exec(sec) || [])[1];
        out.offer.push([g(/^m=(\S+ \d+)/m), g(/^a=mid:(\S+)/m), g(/^a=(sendonly|sendrecv|inactive|recvonly)/m),
                        g(/^a=msid:(\S+)/m), g(/^a=ssrc:(\d+)/m)]);
    }
    const first = (d) => (d ? d.sdp.split(/\r?\n(?=m=)/).slice(0, 2).join('\n') : null);
    out.firstOffered = first(sub.pc.remoteDescription);
    out.firstAnswered = first(sub.pc.localDescription);
    (await sub.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') out.packets[`${s.kind} ${s.mid || s.ssrc}`] = s.packetsReceived;
    });
    return JSON.stringify(out);
}

// Runs in a page: decodes a PNG (base64) on a canvas; the spread of its pixels.
async function pixelsInPage(b64) {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0, sum = 0, sq = 0;
    const colors = new Set();
    for (let i = 0; i < d.length; i += 4 * 7) {
        const y = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
        n++;
        sum += y;
        sq += y * y;
        if (colors.size < 5000) colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    const mean = sum / n;
    return JSON.stringify({ width: c.width, height: c.height, stddev: Math.sqrt(sq / n - mean * mean), colors: colors.size });
}

// A page of either browser, driven through the same few verbs.
class WebPage {
    constructor(ctx, page, name, kind) {
        this.ctx = ctx;
        this.page = page;
        this.name = name;
        this.kind = kind;   // 'chromium' (playwright) or 'firefox' (puppeteer)
        this.lines = [];
        page.on('console', (m) => this.note(`console: ${m.text()}`));
        page.on('pageerror', (e) => this.note(`page error: ${e && e.message ? e.message : e}`));
    }

    note(line) {
        this.lines.push(line);
        if (this.lines.length > 300) this.lines.shift();
    }

    async goto(url) {
        log(`${this.name}: open ${url}`);
        await bounded(this.page.goto(url), 15000, `${this.name}: loading ${url}`);
        await this.waitFor('load', 'the client started (window.sobre)', 10000, () => !!window.sobre);
    }

    async click(sel) {
        await bounded(this.page.click(sel), 10000, `${this.name}: click ${sel}`);
    }

    // Types text into an input, as a person would (after clearing it).
    async type(sel, text) {
        await this.page.evaluate((s) => { document.querySelector(s).value = ''; }, sel);
        if (this.kind === 'chromium') await bounded(this.page.fill(sel, text), 10000, `${this.name}: fill ${sel}`);
        else await bounded(this.page.type(sel, text), 10000, `${this.name}: type into ${sel}`);
    }

    async press(sel, key) {
        if (this.kind === 'chromium') await this.page.press(sel, key);
        else {
            await this.page.focus(sel);
            await this.page.keyboard.press(key);
        }
    }

    async eval(fn, arg = null) {
        const text = await bounded(this.page.evaluate(fn, arg), 10000, `${this.name}: evaluate`);
        return typeof text === 'string' ? JSON.parse(text) : text;
    }

    probe(name = null) {
        return this.eval(probeInPage, name);
    }

    // Polls a page function (returning something truthy when done) for at most ms.
    async waitFor(stage, what, ms, fn, arg = null) {
        const deadline = Date.now() + ms;
        let last;
        for (let i = 0; i < ms / 200 + 2; i++) {
            try {
                last = await bounded(this.page.evaluate(fn, arg), 5000, 'evaluate');
            } catch (e) {
                last = `(${e.message})`;
            }
            if (last && !/^\(/.test(String(last))) return last;
            if (Date.now() > deadline) break;
            await sleep(200);
        }
        throw new StageError(stage, `${this.name}: ${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
    }

    // Polls probe(name) until pred(probe) holds.
    async until(stage, what, ms, pred, name = null) {
        const deadline = Date.now() + ms;
        let st = null;
        for (let i = 0; i < ms / 250 + 2; i++) {
            st = await this.probe(name);
            if (pred(st)) return st;
            if (Date.now() > deadline) break;
            await sleep(250);
        }
        throw new StageError(stage, `${this.name}: ${what}: not within ${ms} ms; state: ${JSON.stringify(st)}`);
    }

    async viewport(width, height) {
        if (this.kind === 'chromium') await this.page.setViewportSize({ width, height });
        else await this.page.setViewport({ width, height });
    }

    // Saves a screenshot into the output folder and checks it is not blank.
    async screenshot(file) {
        const p = path.join(this.ctx.outDir, file);
        await bounded(this.page.screenshot({ path: p }), 15000, `${this.name}: screenshot ${file}`);
        const size = fs.statSync(p).size;
        const px = await this.ctx.judge.eval(pixelsInPage, fs.readFileSync(p).toString('base64'));
        log(`screenshot ${p}: ${size} bytes, ${px.width}x${px.height}, luminance stddev ` +
            `${px.stddev.toFixed(1)}, ${px.colors} colours (sampled)`);
        if (size < 3000 || px.stddev < 8 || px.colors < 20) {
            throw new StageError('screenshot', `${file} looks blank: ${size} bytes, ${JSON.stringify(px)}`);
        }
    }
}

// Starts sobre with `rooms` (and more top-level keys from `config`), runs body(ctx), reports the stage at fault with every page's
// state and console and the server's log, cleans up. ctx.outDir: screenshots.
async function runWebTest(testName, rooms, body, config = {}) {
    const args = parseArgs();
    const watchdog = setTimeout(() => {
        console.error(`[e2e] ${testName}: watchdog: more than ${WATCHDOG_MS / 1000} s, giving up`);
        process.exit(1);
    }, WATCHDOG_MS);
    watchdog.unref();
    const outDir = path.resolve(process.env.SOBRE_E2E_OUT || path.join(process.cwd(), `${testName}-output`));
    fs.mkdirSync(outDir, { recursive: true });
    const server = new Sobre(args.sobre, args.webRoot, { rooms, announce: ['127.0.0.1'], config });
    const browsers = [], profiles = [];
    const ctx = {
        server, outDir, pages: [], judge: null,
        async launch(kind, launcher) {
            const profile = fs.mkdtempSync(path.join(os.tmpdir(), `sobre-e2e-web-${kind}-`));
            profiles.push(profile);
            const b = await bounded(launcher(profile), 60000, `launching ${kind}`);
            b.kind = kind;
            b.used = false;
            browsers.push(b);
            return b;
        },
        async page(b, name) {
            const raw = b.used ? await bounded(b.newPage(), 15000, `${name}: new page`) : b.page;
            b.used = true;
            const p = new WebPage(ctx, raw, name, b.kind);
            ctx.pages.push(p);
            if (!ctx.judge && b.kind === 'chromium') ctx.judge = p;
            return p;
        },
    };
    let failure = null;
    try {
        await server.start();
        log(`screenshots go to ${outDir}`);
        await body(ctx);
    } catch (e) {
        failure = e instanceof StageError ? `FAILED at stage ${e.stage}: ${e.message}`
            : `FAILED: ${e && e.stack ? e.stack : e}`;
        log(`${testName}: ${failure}`);
        for (const p of ctx.pages) {
            log(`---- ${p.name} (${p.kind})`);
            try {
                log(`state: ${JSON.stringify(await bounded(p.probe(), 5000, 'probe'))}`);
            } catch (e2) {
                log(`state: ${e2.message}`);
            }
            try {
                log(`subscribe connection: ${JSON.stringify(await p.eval(subscribeInPage))}`);
            } catch (e2) {
                log(`subscribe connection: ${e2.message}`);
            }
            log(`console (last 60 lines):\n${p.lines.slice(-60).join('\n')}`);
        }
        log(`server log (last 120 lines):\n${server.output(120)}`);
    } finally {
        for (const b of browsers) b.label = b.kind;
        await finish({ name: testName, browsers, profiles, server, failure, watchdog,
                       prefix: 'FAILED: ' });
    }
}

module.exports = { runWebTest, WebPage, StageError };
