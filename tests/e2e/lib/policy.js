'use strict';
// Helpers of e2e.room_video_policy (speaking, prefs.audio_only, last_n): the `speaking`
// messages a page received (lib/room_agent.js keeps them in window.__e2e.msgs, which
// Participant.state() leaves out) and per-publisher inbound counters.
const { log, sleep } = require('./harness');
const { StageError, waitFor, snapshot, findRecv, num, describeStats } = require('./room');

// Every message of `type` p received, oldest first, with at (ms, page time) and wall
// (Date.now() of the Node side's clock: all pages run on this host).
async function messagesOf(p, type) {
    const text = await p.page.evaluate((t) => JSON.stringify({
        t0: window.__e2e.t0,
        list: window.__e2e.msgs.filter((m) => m.type === t),
    }), type);
    const { t0, list } = JSON.parse(text);
    return list.map((m) => Object.assign({ wall: t0 + m.at }, m));
}

// Every `speaking` message p received: { at, wall, ids }.
function speakingOf(p) {
    return messagesOf(p, 'speaking');
}

// The `bandwidth` messages each receiver got (the server's video verdict for it), and
// its speaking messages, for a failure message.
async function verdicts(rxs) {
    const lines = [];
    for (const p of rxs) {
        try {
            const bw = await messagesOf(p, 'bandwidth');
            const last = bw[bw.length - 1];
            if (last && last.video !== 'full') {
                lines.push(`NOTE: ${p.name}'s latest bandwidth verdict is "${last.video}" ` +
                           `(estimate ${last.kbps} kbps): the downlink-estimate allocator, not ` +
                           `audio_only or last_n, holds back video sent to it`);
            }
            const sp = await speakingOf(p);
            lines.push(`${p.name}: bandwidth messages (page ms): ` +
                       `${JSON.stringify(bw.map((m) => [m.at, m.kbps, m.video]))}; speaking: ` +
                       `${JSON.stringify(sp.map((m) => [m.at, m.ids]))}`);
        } catch (e) {
            lines.push(`${p.name}: ${e.message}`);
        }
    }
    return lines.join('\n');
}

// Enables or disables p's microphone track (what the web client does besides sending
// "mute": a disabled track sends silence). Returns how many audio tracks it set.
async function setMicTrack(p, on) {
    return p.page.evaluate((enabled) => {
        const s = window.__e2e.stream;
        const ts = s ? s.getAudioTracks() : [];
        for (const t of ts) t.enabled = enabled;
        return ts.length;
    }, on);
}

// "name [ids as names] +ms" lines of a speaking timeline, relative to wall time `since`.
function describeSpeaking(p, list, since) {
    return list.map((m) => `${m.wall - since >= 0 ? '+' : ''}${m.wall - since} ms ` +
                    `[${m.ids.map((id) => p.label(id)).join(', ')}]`).join('; ') || '(none)';
}

// Inbound counters of every { rx, from } pair's receivers, in one snapshot of the rxs:
// Map key `${rx.name}<-${from.name}` -> { apkts, vpkts, frames }; .stats the snapshot.
async function counters(pairs) {
    const rxs = [...new Set(pairs.map((x) => x.rx))];
    const s = await snapshot(rxs);
    const out = new Map();
    for (const { rx, from } of pairs) {
        const st = s.get(rx);
        const a = findRecv(st, from.id, 'audio'), v = findRecv(st, from.id, 'video');
        out.set(`${rx.name}<-${from.name}`, {
            apkts: num(a, 'packetsReceived'), vpkts: num(v, 'packetsReceived'),
            frames: num(v, 'framesDecoded'), hasVideo: !!v,
        });
    }
    out.stats = s;
    return out;
}

function key(pair) {
    return `${pair.rx.name}<-${pair.from.name}`;
}

// The stats of every receiver of the pairs, for a failure message.
function evidence(snap) {
    if (!snap || !snap.stats) return '';
    return '\n' + [...snap.stats.entries()].map(([p, st]) => describeStats(p, st)).join('\n');
}

// Waits (bounded, ms) until the video of each pair decodes new frames compared with
// `base` (counters()). Returns the last counters.
async function waitVideoGrows(stage, what, pairs, base, ms) {
    let last = null;
    await waitFor(stage, what, ms, async () => {
        last = await counters(pairs);
        return pairs.every((x) => last.get(key(x)).frames > base.get(key(x)).frames &&
                           last.get(key(x)).vpkts > base.get(key(x)).vpkts);
    }, async () => pairs.map((x) => `${key(x)}: frames ${base.get(key(x)).frames} -> ` +
                           `${last.get(key(x)).frames}, video packets ${base.get(key(x)).vpkts} -> ` +
                           `${last.get(key(x)).vpkts}`).join('; ') + evidence(last) + '\n' +
                           await verdicts([...new Set(pairs.map((x) => x.rx))]));
    return last;
}

// Over windowMs: the video of each pair in `flowing` grows (packets and frames), that of
// each pair in `still` does not (packets and frames unchanged), the audio of each pair in
// `audio` grows. Logs every pair; throws StageError(stage) listing what is wrong.
async function checkWindow(stage, windowMs, { flowing = [], still = [], audio = [] }) {
    const all = [...flowing, ...still, ...audio];
    const c0 = await counters(all);
    await sleep(windowMs);
    const c1 = await counters(all);
    const problems = [];
    const line = (x) => {
        const a = c0.get(key(x)), b = c1.get(key(x));
        return `${key(x)}: video packets ${a.vpkts} -> ${b.vpkts}, frames ${a.frames} -> ` +
            `${b.frames}; audio packets ${a.apkts} -> ${b.apkts}`;
    };
    for (const x of flowing) {
        const a = c0.get(key(x)), b = c1.get(key(x));
        log(`${stage}: video should flow: ${line(x)} over ${windowMs} ms`);
        if (b.frames <= a.frames || b.vpkts <= a.vpkts) problems.push(`video should grow: ${line(x)}`);
    }
    for (const x of still) {
        const a = c0.get(key(x)), b = c1.get(key(x));
        log(`${stage}: video should be still: ${line(x)} over ${windowMs} ms`);
        if (b.frames !== a.frames || b.vpkts !== a.vpkts) problems.push(`video should not grow: ${line(x)}`);
    }
    for (const x of audio) {
        const a = c0.get(key(x)), b = c1.get(key(x));
        log(`${stage}: audio should flow: ${line(x)} over ${windowMs} ms`);
        if (b.apkts <= a.apkts) problems.push(`audio should grow: ${line(x)}`);
    }
    if (problems.length) {
        throw new StageError(stage, `over ${windowMs} ms: ${problems.join('; ')}${evidence(c1)}\n` +
                             await verdicts([...new Set(all.map((x) => x.rx))]));
    }
    return c1;
}

module.exports = { messagesOf, verdicts, speakingOf, setMicTrack, describeSpeaking, counters, checkWindow, waitVideoGrows, key, evidence };
