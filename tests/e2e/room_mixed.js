'use strict';
// e2e.room_mixed: real browsers of both kinds in one ordinary room, each publishing its
// fake camera and microphone (sendonly) and answering the server's subscribe offers on a
// second RTCPeerConnection (PROTOCOL.md): two pages of one headless Chromium and one
// headless Firefox page, then a late fourth (Chromium).
//
//   tracks  each of the three has exactly 2 live remote audio and 2 live remote video
//           tracks, ontrack streams[0].id = the right peer ids;
//   rates   over the same 10 s window (one getStats() snapshot of everyone at its start,
//           one at its end), for every receiver and sender: the receiver's framesDecoded
//           grow by at least 80% of the sender's outbound-rtp framesEncoded, and audio and
//           video packetsReceived grow;
//   late    a fourth participant (Chromium) joins and publishes: from the moment its
//           subscribe connection is 'connected', each of the three remote videos has
//           framesDecoded > 0 within 2 s (a key frame asked of each publisher); then the
//           three get its tracks (exactly 3 + 3 each) and all decode each other;
//   mute    Firefox sends {"type":"mute","kind":"audio","muted":true}: the others get
//           peer_updated (muted_audio), and after 1 s to settle, Firefox's audio
//           packetsReceived at each of them stay still for 2 s while its video packets
//           and frames grow; unmute: its audio packets grow again at each;
//   leave   chromium-1 sends {"type":"leave"}: the others get peer_left and a new offer
//           closing its m-lines (port 0, or inactive for the first m-line, which carries
//           the BUNDLE transport), answer it, and each receiver of chromium-1's tracks is
//           over, as both browsers show it: port 0, the track ended (the transceiver is
//           stopped and leaves getTransceivers()); inactive, currentDirection 'inactive'
//           and the track muted. Each then has exactly 2 + 2 live remote tracks again.
// See lib/room.js (Node side) and lib/room_agent.js (in the pages).
const { log, sleep } = require('./lib/harness');
const { launchChromium, launchFirefox } = require('./lib/browsers');
const {
    runRoomTest, StageError, waitFor, waitMessage, checkMedia, checkTracks, checkRates, snapshot,
    findRecv, num, mediaSections,
} = require('./lib/room');

const RATE_WINDOW_MS = 10000;
const MIN_FRAME_RATIO = 0.8;
const LATE_FIRST_FRAME_MS = 2000;
const SETTLE_MS = 1000;      // after a mute, packets in flight may still arrive
const MUTED_MS = 2000;       // then packetsReceived must not move for this long

// pairs [rx, from] -> { audio packets, video packets, video frames } of from at rx.
async function counters(rxs, from) {
    const s = await snapshot(rxs);
    const out = new Map();
    for (const rx of rxs) {
        const st = s.get(rx);
        const a = findRecv(st, from.id, 'audio'), v = findRecv(st, from.id, 'video');
        out.set(rx, { apkts: num(a, 'packetsReceived'), vpkts: num(v, 'packetsReceived'),
                      frames: num(v, 'framesDecoded') });
    }
    return out;
}

runRoomTest('room_mixed', async (ctx) => {
    const [cb, fb] = await Promise.all([
        ctx.launch('chromium', launchChromium),
        ctx.launch('firefox', launchFirefox),
    ]);
    const c1 = await ctx.participant(cb, 'chromium-1');
    const c2 = await ctx.participant(cb, 'chromium-2');
    const fox = await ctx.participant(fb, 'firefox');
    const ps = [c1, c2, fox];
    const others = (p, among) => among.filter((q) => q !== p);

    // join, publish, subscribe
    for (const p of ps) await p.connect();
    await Promise.all(ps.map((p) => p.publish()));
    await Promise.all(ps.map((p) => p.waitConnected('pub')));
    await Promise.all(ps.map((p) => p.waitSubscribed(others(p, ps))));
    await Promise.all(ps.map((p) => p.waitConnected('sub')));

    // tracks, rates
    for (const p of ps) await checkTracks(p, others(p, ps));
    await checkRates(ps, RATE_WINDOW_MS, MIN_FRAME_RATIO);

    // late: a fourth joins; its first frames are timed in its page from 'connected'.
    const late = await ctx.participant(cb, 'chromium-4');
    await late.connect();
    const firstFrames = late.call('firstFrames', { expect: ps.length, ms: 25000 }, 35000);
    firstFrames.catch(() => {});   // awaited below; not an unhandled rejection if publish throws
    await late.publish();
    const ff = await firstFrames;
    const times = ff.first.map((f) => `${late.label(f.from)}: ${f.ms} ms`).join(', ');
    log(`chromium-4: subscribe connection connected at ${ff.connectedAt} ms (page time); ` +
        `first decoded frame of each remote video after: ${times}`);
    if (!ff.ok) {
        throw new StageError('media', `chromium-4: not every remote video decoded within 25 s ` +
                             `of joining: ${JSON.stringify(ff)}`);
    }
    const slow = ff.first.filter((f) => f.ms > LATE_FIRST_FRAME_MS);
    if (slow.length) {
        throw new StageError('media', `chromium-4 (late joiner) decoded its first frame later than ` +
                             `${LATE_FIRST_FRAME_MS} ms after its subscribe connection was up: ` +
                             `${slow.map((f) => `${late.label(f.from)} ${f.ms} ms`).join(', ')}`);
    }
    await late.waitConnected('pub');
    await Promise.all(ps.map((p) => p.waitSubscribed([late])));
    const all = [...ps, late];
    for (const p of all) await checkTracks(p, others(p, all));
    const pairs = [];
    for (const rx of all) for (const from of others(rx, all)) pairs.push({ rx, from });
    await checkMedia(pairs, 3000);

    // mute: Firefox's microphone.
    const muter = fox;
    const listeners = others(muter, all);
    for (const muted of [true, false]) {
        const n = new Map();
        for (const p of listeners) n.set(p, (await p.state()).msgs.length);
        const r = await muter.call('request', { type: 'mute', kind: 'audio', muted });
        if (!r.ok) throw new StageError('mute', `${muter.name}: mute audio ${muted} refused: ${r.message}`);
        await Promise.all(listeners.map((p) => waitMessage('mute', p,
            `peer_updated for ${muter.name} with muted_audio ${muted}`, 5000, n.get(p),
            (m) => m.type === 'peer_updated' && m.peer && m.peer.id === muter.id &&
                m.peer.muted_audio === muted)));
        if (muted) {
            await sleep(SETTLE_MS);
            const m0 = await counters(listeners, muter);
            await sleep(MUTED_MS);
            const m1 = await counters(listeners, muter);
            const problems = [];
            for (const p of listeners) {
                const a = m0.get(p), b = m1.get(p);
                log(`${p.name} <- ${muter.name} muted, ${SETTLE_MS} ms after, over ${MUTED_MS} ms: ` +
                    `audio packets ${a.apkts} -> ${b.apkts}, video packets ${a.vpkts} -> ` +
                    `${b.vpkts}, frames ${a.frames} -> ${b.frames}`);
                if (b.apkts !== a.apkts) problems.push(`${p.name} still receives ${muter.name}'s audio: packetsReceived ${a.apkts} -> ${b.apkts}`);
                if (b.vpkts <= a.vpkts || b.frames <= a.frames) {
                    problems.push(`${p.name}: muting ${muter.name}'s microphone also stopped its ` +
                                  `video: packets ${a.vpkts} -> ${b.vpkts}, frames ${a.frames} -> ${b.frames}`);
                }
            }
            if (problems.length) throw new StageError('mute', problems.join('; '));
        } else {
            const m0 = await counters(listeners, muter);
            let m1 = m0;
            await waitFor('mute', `${muter.name}'s audio packets growing again at ` +
                          `${listeners.map((p) => p.name).join(', ')} after unmute`, 5000, async () => {
                m1 = await counters(listeners, muter);
                return listeners.every((p) => m1.get(p).apkts > m0.get(p).apkts + 10);
            }, async () => listeners.map((p) => `${p.name}: ${m0.get(p).apkts} -> ${m1.get(p).apkts}`).join(', '));
            log(`after unmute: ${listeners.map((p) => `${p.name} <- ${muter.name} audio packets ` +
                `${m0.get(p).apkts} -> ${m1.get(p).apkts}`).join(', ')}`);
        }
    }

    // leave: chromium-1.
    const gone = c1;
    const stay = others(gone, all);
    const before = new Map();
    for (const p of stay) {
        const st = await p.state();
        const sdps = await p.call('sdps');
        const mids = mediaSections(sdps.sub[sdps.sub.length - 1].offer)
            .filter((s) => s.msid === gone.id && s.port !== 0 && s.direction !== 'inactive')
            .map((s) => s.mid);
        if (mids.length !== 2) {
            throw new StageError('leave', `${p.name}'s last offer should hold ${gone.name}'s 2 ` +
                                 `tracks, found mids ${JSON.stringify(mids)}`);
        }
        before.set(p, { msgs: st.msgs.length, offers: st.offers.length, mids });
    }
    const r = await gone.call('leave');
    if (!r.ok) throw new StageError('leave', `${gone.name}: the server did not close the socket after leave`);
    log(`${gone.name} left; its socket closed: ${r.closed}`);
    gone.left = true;
    await Promise.all(stay.map(async (p) => {
        const b = before.get(p);
        await waitMessage('leave', p, `peer_left for ${gone.name} (${gone.id})`, 5000, b.msgs,
                          (m) => m.type === 'peer_left' && m.id === gone.id);
        let st = null;
        await waitFor('leave', `${p.name}: a new subscribe offer after ${gone.name} left, answered`,
                      10000, async () => {
            st = await p.state();
            const o = st.offers[st.offers.length - 1];
            if (o && o.error) throw new StageError('leave', `${p.name} refused offer #${o.n}: ${o.error}`);
            return st.offers.length > b.offers && o.answered && st.sub.signaling === 'stable';
        }, async () => `offers ${JSON.stringify(st && st.offers)}`);
        const sdps = await p.call('sdps');
        const secs = mediaSections(sdps.sub[sdps.sub.length - 1].offer);
        b.closed = secs.filter((s) => b.mids.includes(s.mid));
        const live = b.closed.filter((s) => s.port !== 0 && s.direction !== 'inactive');
        if (live.length) {
            throw new StageError('leave', `${p.name}'s new offer still sends ${gone.name}'s tracks: ` +
                                 `${JSON.stringify(live)}`);
        }
    }));
    // What ends a receiver: Chromium 156 and Firefox 153 agree. A port-0 m-line stops its
    // transceiver (gone from getTransceivers() once the answer is applied) and ends its
    // track ('ended'); the inactive first m-line keeps its transceiver, currentDirection
    // 'inactive', its track muted ('mute', and removed from its stream) but not ended.
    for (const p of stay) {
        const b = before.get(p);
        let st = null, ev = [];
        const verdict = (sec) => {
            const rx = st.recv.find((x) => x.mid === sec.mid);
            const evs = ev.filter((e) => e.mid === sec.mid).map((e) => e.what);
            const seen = `receiver ${rx ? JSON.stringify({ currentDirection: rx.currentDirection,
                stopped: rx.stopped, readyState: rx.readyState, muted: rx.muted }) : 'gone'}, ` +
                `track events ${JSON.stringify(evs)}`;
            const ok = sec.port === 0 ?
                evs.includes('ended') && (!rx || rx.readyState === 'ended') :
                rx && (rx.currentDirection === 'inactive' || rx.currentDirection === 'stopped' ||
                       rx.stopped) && (rx.muted || rx.readyState === 'ended');
            return { ok, seen };
        };
        await waitFor('leave', `${p.name}: the receivers of ${gone.name}'s tracks over (port 0: ` +
                      'track ended; inactive: currentDirection inactive and track muted)', 5000,
                      async () => {
            st = await p.stats();
            ev = (await p.state()).trackEvents;
            return b.closed.every((sec) => verdict(sec).ok);
        }, async () => b.closed.map((sec) => `${sec.kind} mid ${sec.mid} ` +
                                      `(${sec.port === 0 ? 'port 0' : sec.direction}): ` +
                                      `${verdict(sec).seen}`).join('; '));
        for (const sec of b.closed) {
            log(`${p.name} (${p.browserName}): ${gone.name}'s ${sec.kind} mid ${sec.mid}, offered ` +
                `${sec.port === 0 ? 'port 0' : sec.direction}: ${verdict(sec).seen}`);
        }
        await checkTracks(p, others(p, stay), st);
    }
});
