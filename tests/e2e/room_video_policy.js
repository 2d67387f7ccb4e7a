'use strict';
// e2e.room_video_policy: what the server decides to send, seen from real browsers: the
// `speaking` messages, prefs.audio_only and the room's last_n. Pages of one headless
// Chromium, each publishing its fake camera and microphone (the microphone beeps: 20 ms
// of 400 Hz every 500 ms) and answering the subscribe offers.
//
//   speaking    A, B, C in an ordinary room (last_n 4 by default: everyone's video):
//               each of them receives `speaking` messages naming each of A, B, C
//               (within 15 s); B mutes its microphone ({"type":"mute","kind":"audio",
//               "muted":true}): where B was listed, a `speaking` without B arrives
//               within 1 s, and no `speaking` lists B while it stays muted (4 s) though
//               its page goes on sending the beeps; then B unmutes;
//   audio_only  B sends {"type":"prefs","audio_only":true}: from 1 s after, over 2 s,
//               B's inbound video from A and C stays still (packetsReceived and
//               framesDecoded) while its audio from them grows, and A <- C, C <- A video
//               grows; {"type":"prefs","audio_only":false}: B decodes A's and C's video
//               again within 2 s (the server asks the publishers for a keyframe);
//   last_n      three new pages join a room configured with "last_n": 1, in the order
//               B, C, A (so that the join order alone, "those who never spoke rank by
//               join order", would show C B's video and B C's); B and C mute their
//               microphones before publishing, A does not: once A is announced in
//               `speaking`, C decodes A's video and not B's, B decodes A's video and not
//               C's (2 s windows); then A mutes and B unmutes: once `speaking` names B,
//               C decodes B's video within 2 s, and A's video at C stops.
// See lib/policy.js, lib/room.js (Node side) and lib/room_agent.js (in the pages).
const { log, sleep } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, StageError, waitFor, checkMedia } = require('./lib/room');
const {
    speakingOf, setMicTrack, verdicts, describeSpeaking, counters, checkWindow, waitVideoGrows, key,
} = require('./lib/policy');

const LAST_N_ROOM = 'last-n-1';
const SPEAKING_MS = 15000;     // every publisher named in `speaking` within this
const AT_ONCE_MS = 1000;       // a muted speaker leaves `speaking` within this
const MUTED_MS = 4000;         // and is not named while muted for this long
const SETTLE_MS = 1000;        // packets in flight after a change of policy
const STILL_MS = 2000;         // then counters must not move for this long
const RESUME_MS = 2000;        // video again (from a keyframe) within this

// The last_n room's cameras: the downlink-estimate allocator (bandwidth messages) pauses a
// subscriber's video when its estimate less the audio is under 100 kbps; Chromium's REMB
// follows what it receives, so the videos must be big enough to keep it above that.
const LAST_N_VIDEO = { width: 640, height: 480, frameRate: 30 };

const others = (p, among) => among.filter((q) => q !== p);

async function join(ps, room) {
    for (const p of ps) await p.connect(room);
}

async function request(stage, p, msg) {
    const r = await p.call('request', msg);
    if (!r.ok) throw new StageError(stage, `${p.name}: ${JSON.stringify(msg)} refused: ${r.message}`);
    log(`${p.name}: ${JSON.stringify(msg)} acknowledged`);
}

// afterPublish(): right after the publish answers, before waiting for the connections.
async function publishAll(ps, afterPublish = async () => {}, video = {}) {
    await Promise.all(ps.map((p) => p.publish(video)));
    await afterPublish();
    await Promise.all(ps.map((p) => p.waitConnected('pub')));
    await Promise.all(ps.map((p) => p.waitSubscribed(others(p, ps))));
    await Promise.all(ps.map((p) => p.waitConnected('sub')));
}

// Waits until each of rxs has received, after wall time `since`, a `speaking` naming
// `who`. Returns the wall time at which the last of them got it.
async function waitNamed(stage, rxs, who, since, ms) {
    const t0 = Date.now();
    const lists = new Map();
    await waitFor(stage, `${rxs.map((p) => p.name).join(', ')}: a speaking message naming ` +
                  `${who.name} (${who.id})`, ms, async () => {
        for (const p of rxs) lists.set(p, await speakingOf(p));
        return rxs.every((p) => lists.get(p).some((m) => m.wall > since && m.ids.includes(who.id)));
    }, async () => rxs.map((p) => `${p.name} received: ` +
                           describeSpeaking(p, lists.get(p) || [], since)).join(' | '));
    let last = since;
    for (const p of rxs) {
        const m = lists.get(p).find((x) => x.wall > since && x.ids.includes(who.id));
        log(`${p.name}: speaking names ${who.name} (received ${m.wall - t0} ms after the ` +
            `start of the wait)`);
        last = Math.max(last, m.wall);
    }
    return last;
}

// `who` mutes its microphone: at each of rxs, where `who` was named by the latest
// `speaking`, one without it within AT_ONCE_MS; none names it during holdMs (messages
// received more than 200 ms after the acknowledgement). track false: only the "mute"
// message, the page goes on sending its beeps; true: as the web client does, the track
// is disabled first (it then sends silence).
async function muteLeavesSpeaking(stage, rxs, who, holdMs, track) {
    const before = new Map();
    for (const p of rxs) before.set(p, await speakingOf(p));
    const tReq = Date.now();
    if (track) await setMicTrack(who, false);
    await request(stage, who, { type: 'mute', kind: 'audio', muted: true });
    const tOk = Date.now();
    await sleep(holdMs);
    const problems = [];
    for (const p of rxs) {
        const prev = before.get(p);
        const wasNamed = prev.length > 0 && prev[prev.length - 1].ids.includes(who.id);
        const after = (await speakingOf(p)).slice(prev.length);
        log(`${stage}: ${p.name} (${who.name} ${wasNamed ? 'named' : 'not named'} by the ` +
            `latest speaking before the mute): speaking since the mute request: ` +
            describeSpeaking(p, after, tReq));
        if (wasNamed) {
            const first = after.find((m) => !m.ids.includes(who.id));
            if (!first || first.wall - tReq > AT_ONCE_MS) {
                problems.push(`${p.name}: no speaking without ${who.name} within ${AT_ONCE_MS} ms ` +
                              `of the mute (${first ? `${first.wall - tReq} ms` : 'none at all'})`);
            } else {
                log(`${stage}: ${p.name}: ${who.name} left speaking ${first.wall - tReq} ms after the mute request`);
            }
        }
        const late = after.filter((m) => m.wall > tOk + 200 && m.ids.includes(who.id));
        if (late.length) {
            problems.push(`${p.name}: ${late.length} speaking message(s) name ${who.name} while ` +
                          `it is muted: ${describeSpeaking(p, late, tReq)}`);
        }
    }
    if (problems.length) throw new StageError(stage, problems.join('; '));
}

runRoomTest('room_video_policy', async (ctx) => {
    const cb = await ctx.launch('chromium', launchChromium);
    const A = await ctx.participant(cb, 'A');
    const B = await ctx.participant(cb, 'B');
    const C = await ctx.participant(cb, 'C');
    const ps = [A, B, C];
    await join(ps);
    await publishAll(ps);
    const pairs = [];
    for (const rx of ps) for (const from of others(rx, ps)) pairs.push({ rx, from });
    await checkMedia(pairs, 2000);

    // speaking
    const t0 = Date.now();
    for (const who of ps) await waitNamed('speaking', ps, who, 0, SPEAKING_MS);
    log(`speaking: every publisher named at every participant (waited ${Date.now() - t0} ms); ` +
        `A's timeline: ${describeSpeaking(A, await speakingOf(A), t0)}`);
    await muteLeavesSpeaking('speaking', ps, B, MUTED_MS, false);
    const tUnmute = Date.now();
    await request('speaking', B, { type: 'mute', kind: 'audio', muted: false });
    // Not asserted: whether B is named again once unmuted. Its beeps never stopped, so the
    // media worker may never see it start speaking again (last_n below mutes as the web
    // client does, the track disabled, which makes a new start after the unmute).
    await sleep(3000);
    log(`speaking: 3 s after B unmuted (mute message only), A received: ` +
        describeSpeaking(A, (await speakingOf(A)).filter((m) => m.wall > tUnmute), tUnmute));

    // audio_only
    const bIn = others(B, ps).map((from) => ({ rx: B, from }));
    const rest = [{ rx: A, from: C }, { rx: C, from: A }];
    await request('audio_only', B, { type: 'prefs', audio_only: true });
    await sleep(SETTLE_MS);
    await checkWindow('audio_only', STILL_MS, { flowing: rest, still: bIn, audio: bIn });
    const base = await counters(bIn);
    const tResume = Date.now();
    await request('audio_only', B, { type: 'prefs', audio_only: false });
    await waitVideoGrows('audio_only', `B decoding A's and C's video again after audio_only false`,
                         bIn, base, RESUME_MS);
    log(`audio_only: B decodes A's and C's video again ${Date.now() - tResume} ms after audio_only false`);

    log(`speaking, audio_only: the server's video verdicts:\n${await verdicts(ps)}`);

    // last_n: the first room's pages leave and close (three pages of video at most).
    for (const p of ps) {
        await p.call('leave');
        await p.call('close');
        p.left = true;
    }
    await Promise.all(ps.map((p) => p.page.close().catch(() => {})));
    ctx.participants.splice(0, ctx.participants.length);
    const A3 = await ctx.participant(cb, 'A3');
    const B3 = await ctx.participant(cb, 'B3');
    const C3 = await ctx.participant(cb, 'C3');
    const ps3 = [A3, B3, C3];
    await B3.connect(LAST_N_ROOM);
    await request('last_n', B3, { type: 'mute', kind: 'audio', muted: true });
    await C3.connect(LAST_N_ROOM);
    await request('last_n', C3, { type: 'mute', kind: 'audio', muted: true });
    await A3.connect(LAST_N_ROOM);
    const tPub = Date.now();
    // B3 and C3 muted as the web client does: the track disabled too, once it exists.
    await publishAll(ps3, async () => {
        for (const p of [B3, C3]) await setMicTrack(p, false);
    }, LAST_N_VIDEO);
    await waitNamed('last_n', ps3, A3, tPub, SPEAKING_MS);
    await sleep(SETTLE_MS);
    for (const p of ps3) {
        log(`last_n: ${p.name} received speaking: ${describeSpeaking(p, await speakingOf(p), tPub)}`);
    }
    {
        await waitVideoGrows('last_n', `C3 and B3 decoding A3's video (A3 the latest speaker)`,
                             [{ rx: C3, from: A3 }, { rx: B3, from: A3 }],
                             new Map([[key({ rx: C3, from: A3 }), { frames: 0, vpkts: 0 }],
                                      [key({ rx: B3, from: A3 }), { frames: 0, vpkts: 0 }]]),
                             5000);
    }
    await checkWindow('last_n', STILL_MS, {
        flowing: [{ rx: C3, from: A3 }, { rx: B3, from: A3 }],
        still: [{ rx: C3, from: B3 }, { rx: B3, from: C3 }],
    });
    // A3 mutes, B3 unmutes: once B3 is named, C3 gets B3's video and not A3's.
    await muteLeavesSpeaking('last_n', ps3, A3, AT_ONCE_MS + 500, true);
    const tB = Date.now();
    const cBase = await counters([{ rx: C3, from: B3 }]);
    await setMicTrack(B3, true);
    await request('last_n', B3, { type: 'mute', kind: 'audio', muted: false });
    const named = await waitNamed('last_n', [C3], B3, tB, SPEAKING_MS);
    log(`last_n: B3 named in speaking at C3 ${named - tB} ms after its unmute`);
    const tNamed = Date.now();
    await waitVideoGrows('last_n', `C3 decoding B3's video once B3 is the latest speaker`,
                         [{ rx: C3, from: B3 }], cBase, RESUME_MS);
    log(`last_n: C3 decodes B3's video ${Date.now() - tNamed} ms after B3 was seen named`);
    await sleep(SETTLE_MS);
    await checkWindow('last_n', STILL_MS, {
        flowing: [{ rx: C3, from: B3 }],
        still: [{ rx: C3, from: A3 }],
    });
    log(`last_n: the server's video verdicts:\n${await verdicts(ps3)}`);
}, { rooms: { [LAST_N_ROOM]: { last_n: 1 } } });
