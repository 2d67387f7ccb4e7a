'use strict';
// e2e.web_footprint: the footprint of a meeting (issue 9), with real media between two
// pages of the shipped web client (web/) in headless Chromium:
//
//   media      Alice and Bob join room "salle" and turn their cameras on; each decodes
//              the other's video;
//   flow       10 s of audio and video both ways; then both stop sending (their senders'
//              tracks replaced by none: only RTCP goes on) and 2.5 s pass, so that the
//              server's per-second usage reports have caught up;
//   bytes      the room's bytes relayed (/status, footprint.bytes_relayed) match, within
//              5%, the sum of the bytes both pages' four peer connections received (the
//              `transport` entries of getStats());
//   cpu        the room's CPU seconds are positive and at most the process's CPU time;
//   display    each page shows "This meeting so far: N MB relayed, W Wh on the server"
//              (#footprint) with N the relayed megabytes of the latest footprint message
//              (rounded as shown) and W > 0; screenshot footprint.png; in French
//              after the language switch ("Cette réunion jusqu’ici : 0,6 Mo relayés...").
const http = require('http');
const { log, sleep } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runWebTest, StageError } = require('./lib/web');

const FLOW_MS = 10000;

function getJson(url) {
    return new Promise((resolve, reject) => {
        const req = http.get(url, (res) => {
            let body = '';
            res.on('data', (c) => { body += c; });
            res.on('end', () => {
                if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}: ${body}`));
                else resolve(JSON.parse(body));
            });
        });
        req.setTimeout(5000, () => req.destroy(new Error(`${url}: no answer within 5 s`)));
        req.on('error', reject);
    });
}

// Runs in the page: bytes received by both peer connections (transport stats), and the
// footprint line as shown.
async function receivedInPage() {
    const S = window.sobre;
    let bytes = 0;
    const per = [];
    for (const pc of [S.pub && S.pub.pc, S.sub && S.sub.pc]) {
        if (!pc) continue;
        (await pc.getStats()).forEach((s) => {
            if (s.type === 'transport') {
                bytes += s.bytesReceived || 0;
                per.push(s.bytesReceived || 0);
            }
        });
    }
    const e = document.getElementById('footprint');
    return JSON.stringify({ bytes, per, shown: e && !e.hidden ? e.textContent : null });
}

async function stopSendingInPage() {
    const S = window.sobre;
    for (const s of S.pub.pc.getSenders()) if (s.track) await s.replaceTrack(null);
    return JSON.stringify(S.pub.pc.getSenders().length);
}

runWebTest('web_footprint', { salle: {} }, async (ctx) => {
    const status = `${ctx.server.httpUrl}/status`;
    const b = await ctx.launch('chromium', launchChromium);
    const alice = await ctx.page(b, 'alice');
    const bob = await ctx.page(b, 'bob');
    for (const [p, name] of [[alice, 'Alice'], [bob, 'Bob']]) {
        await p.goto(`${ctx.server.httpUrl}/`);
        await p.type('#room', 'salle');
        await p.type('#name', name);
        await p.click('#join');
        await p.until('join', 'in the meeting', 15000, (s) => s.view === 'meeting' && s.inSession);
        await p.click('#bcam');
    }
    for (const [rx, name] of [[alice, 'Bob'], [bob, 'Alice']]) {
        const s = await rx.until('media', `${name}'s video decoding`, 20000,
                                 (x) => x.video && x.video.frames > 10 && x.audio && x.audio.bytes > 0, name);
        log(`${rx.name} <- ${name}: ${s.video.frames} frames, ${s.audio.bytes} audio bytes`);
    }

    log(`media flows for ${FLOW_MS / 1000} s`);
    await sleep(FLOW_MS);
    for (const p of [alice, bob]) log(`${p.name}: ${await p.eval(stopSendingInPage)} senders stopped`);
    await sleep(2500);

    const st = await getJson(status);
    const got = [await alice.eval(receivedInPage), await bob.eval(receivedInPage)];
    const room = st.rooms.find((r) => r.name === 'salle');
    if (!room) throw new StageError('bytes', `/status has no room "salle": ${JSON.stringify(st)}`);
    const f = room.footprint;
    const received = got[0].bytes + got[1].bytes;
    const diff = Math.abs(f.bytes_relayed - received) / received;
    log(`room footprint: ${JSON.stringify(f)}; the pages received ${received} bytes ` +
        `(${JSON.stringify(got.map((g) => g.per))}): ${(100 * diff).toFixed(2)}% apart`);
    if (received < 200000) throw new StageError('bytes', `only ${received} bytes received in ${FLOW_MS} ms of video`);
    if (diff > 0.05) {
        throw new StageError('bytes', `the room relayed ${f.bytes_relayed} bytes, the pages received ` +
                             `${received}: ${(100 * diff).toFixed(1)}% apart (more than 5%)`);
    }

    log(`CPU: room ${f.cpu_seconds} s, process ${st.process.cpu_seconds} s`);
    if (!(f.cpu_seconds > 0) || f.cpu_seconds > st.process.cpu_seconds) {
        throw new StageError('cpu', `room CPU ${f.cpu_seconds} s: expected > 0 and <= the process's ` +
                             `${st.process.cpu_seconds} s`);
    }

    // The pages show the latest footprint message (every footprint.interval_seconds).
    const want = /^This meeting so far: ([\d.,]+) MB relayed, ([\d.,]+) Wh on the server$/;
    await sleep(2500);
    const now = (await getJson(status)).rooms.find((r) => r.name === 'salle').footprint;
    for (const p of [alice, bob]) {
        const shown = (await p.eval(receivedInPage)).shown;
        const m = want.exec(shown || '');
        if (!m) throw new StageError('display', `${p.name} shows ${JSON.stringify(shown)}`);
        const mb = parseFloat(m[1].replace(/,/g, '')), wh = parseFloat(m[2]);
        const exact = now.bytes_relayed / 1e6;
        log(`${p.name} shows "${shown}" (room: ${exact.toFixed(3)} MB, ${now.energy_wh.toFixed(4)} Wh)`);
        if (Math.abs(mb - exact) > Math.max(0.05 * exact, 0.06) || !(wh > 0)) {
            throw new StageError('display', `${p.name} shows ${mb} MB and ${wh} Wh; the room is at ` +
                                 `${exact} MB, ${now.energy_wh} Wh`);
        }
    }
    await alice.screenshot('footprint.png');
    // In French at once (the language switch redraws it), with a decimal comma.
    await bob.click('#lang');
    const fr = (await bob.eval(receivedInPage)).shown;
    log(`${bob.name} in French: "${fr}"`);
    if (!/^Cette réunion jusqu’ici : \d+(,\d)? Mo relayés, \d+(,\d+)? Wh sur le serveur$/.test(fr || '')) {
        throw new StageError('display', `${bob.name} in French shows ${JSON.stringify(fr)}`);
    }
}, { footprint: { interval_seconds: 2 }, metrics: { access: 'loopback' } });
