'use strict';
// e2e.room_h264: H264 forwarded between real browsers. Two pages of one headless Chromium
// in one ordinary room, each publishing its fake camera and microphone (sendonly) with the
// video transceiver limited by setCodecPreferences to H264 packetization-mode=1,
// constrained baseline 42e01f first (other baseline profiles next) and RTX; then a late
// third page doing the same.
//
//   codec   each publish answer and each subscribe offer carries H264 for the video
//           (their video rtpmap/fmtp lines are logged); the senders' outbound-rtp codec
//           and every receiver's inbound-rtp codec are video/H264;
//   rates   over one 5 s window (everyone's getStats() at its start and end), each
//           receiver's framesDecoded grows by at least 80% of the sender's framesEncoded;
//   late    the third decodes both remote H264 videos (framesDecoded > 0) within 2 s of
//           its subscribe connection being 'connected' (the server asks each publisher for
//           a key frame and finds it by its IDR/SPS NAL units); then all three decode each
//           other's H264 at >= 80% over another 5 s window.
// If Chromium offers no H264 (no encoder), the test fails at stage `codec` with
// RTCRtpSender/RTCRtpReceiver.getCapabilities('video') and chrome://gpu's video sections.
// See lib/room.js (Node side) and lib/room_agent.js (in the pages).
const { log, bounded } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, StageError, checkTracks, checkRates, findRecv } = require('./lib/room');

const RATE_WINDOW_MS = 5000;
const MIN_FRAME_RATIO = 0.8;
const LATE_FIRST_FRAME_MS = 2000;
const CODEC = { videoCodec: 'H264' };

// "pt name/clock fmtp" of each codec of each video m-section of an SDP.
function videoCodecs(sdp) {
    return (sdp || '').split(/\r?\n(?=m=)/).slice(1).filter((sec) => sec.startsWith('m=video'))
        .map((sec) => {
            const mid = (/^a=mid:(\S+)/m.exec(sec) || [])[1];
            const port = Number((/^m=video (\d+)/.exec(sec) || [])[1]);
            const codecs = [...sec.matchAll(/^a=rtpmap:(\d+) (\S+)\s*$/gm)].map(([, pt, name]) => {
                const f = new RegExp(`^a=fmtp:${pt} (.*?)\\s*$`, 'm').exec(sec);
                return `${pt} ${name}${f ? ` ${f[1]}` : ''}`;
            });
            return { mid, port, codecs };
        });
}

// The publish answer's video codecs must be H264 (and RTX); each live video m-line of the
// last subscribe offer must offer H264 first.
async function checkSdps(p) {
    const s = await p.call('sdps');
    const pub = videoCodecs(s.pubAnswer);
    log(`${p.name}: publish answer video codecs ${JSON.stringify(pub)}`);
    const problems = [];
    for (const m of pub) {
        const names = m.codecs.map((c) => c.split(' ')[1].split('/')[0].toLowerCase());
        if (!names.includes('h264') || names.some((n) => n !== 'h264' && n !== 'rtx')) {
            problems.push(`publish answer video mid ${m.mid}: ${JSON.stringify(m.codecs)} (H264 and RTX only expected)`);
        }
    }
    const last = s.sub.length ? s.sub[s.sub.length - 1] : null;
    const sub = videoCodecs(last && last.offer).filter((m) => m.port !== 0);
    log(`${p.name}: last subscribe offer video codecs ${JSON.stringify(sub)}; ` +
        `answered ${JSON.stringify(videoCodecs(last && last.answer).filter((m) => m.port !== 0))}`);
    for (const m of sub) {
        if (!m.codecs.length || !/ H264\/90000/i.test(m.codecs[0])) {
            problems.push(`subscribe offer video mid ${m.mid}: ${JSON.stringify(m.codecs)} (H264 first expected)`);
        }
    }
    if (problems.length) throw new StageError('codec', `${p.name}: ${problems.join('; ')}`);
}

// In the snapshot s (participant -> stats()), every sender's outbound video and every
// receiver's inbound video of the pairs must be H264.
function checkCodecs(ps, s) {
    const problems = [];
    for (const from of ps) {
        const c = (s.get(from).sent.video || {}).codec;
        log(`${from.name} sends video as ${c}`);
        if (!/^video\/H264$/i.test(c || '')) problems.push(`${from.name}'s outbound video codec is ${c}`);
        for (const rx of ps) {
            if (rx === from) continue;
            const r = findRecv(s.get(rx), from.id, 'video');
            const rc = r && r.codec;
            log(`${rx.name} <- ${from.name}: inbound video codec ${rc}`);
            if (!/^video\/H264\//i.test(rc || '')) problems.push(`${rx.name} <- ${from.name}: inbound video codec ${rc}`);
            else if (!/packetization-mode=1/.test(rc)) {
                problems.push(`${rx.name} <- ${from.name}: H264 without packetization-mode=1: ${rc}`);
            }
        }
    }
    if (problems.length) throw new StageError('codec', `not H264: ${problems.join('; ')}`);
}

// What the browser says about its video codecs, for a `codec` failure.
async function whyNoH264(ctx, b) {
    try {
        const page = await bounded(b.newPage(), 15000, 'chromium: new page');
        await bounded(page.goto('chrome://gpu'), 15000, 'chrome://gpu');
        await new Promise((r) => setTimeout(r, 1000));
        const text = await bounded(page.evaluate(() => {
            // The page is built in shadow DOM: walk it.
            const out = [];
            const walk = (n) => {
                if (n.shadowRoot) walk(n.shadowRoot);
                for (const c of n.childNodes || []) {
                    if (c.nodeType === 3 && c.textContent.trim()) out.push(c.textContent.trim());
                    else walk(c);
                }
            };
            walk(document.body);
            return out.join('\n');
        }), 10000, 'reading chrome://gpu');
        const lines = text.split('\n');
        const about = (l) => /video|decode|encode|h264|gpu|disabled|software/i.test(l || '');
        // A feature's name ("Video Decode:") is the line before its status.
        const keep = lines.filter((l, i) => about(l) || (/:$/.test(l) && about(lines[i + 1])));
        log(`chrome://gpu (lines about video, decode, encode, GPU):\n${keep.slice(0, 120).join('\n')}`);
        log(`user agent: ${await page.evaluate(() => navigator.userAgent)}`);
    } catch (e) {
        log(`chrome://gpu: ${e.message}`);
    }
}

runRoomTest('room_h264', async (ctx) => {
    const cb = await ctx.launch('chromium', launchChromium);
    const c1 = await ctx.participant(cb, 'chromium-1');
    const c2 = await ctx.participant(cb, 'chromium-2');
    const ps = [c1, c2];
    const others = (p, among) => among.filter((q) => q !== p);
    let explaining = null;   // once, and every failing publish waits for it
    const publish = async (p) => {
        try {
            await p.publish(CODEC);
        } catch (e) {
            if (e.stage === 'codec') await (explaining = explaining || whyNoH264(ctx, cb));
            throw e;
        }
    };

    // join, publish (H264), subscribe
    for (const p of ps) await p.connect();
    await Promise.all(ps.map(publish));
    await Promise.all(ps.map((p) => p.waitConnected('pub')));
    await Promise.all(ps.map((p) => p.waitSubscribed(others(p, ps))));
    await Promise.all(ps.map((p) => p.waitConnected('sub')));
    for (const p of ps) await checkSdps(p);
    for (const p of ps) await checkTracks(p, others(p, ps));
    checkCodecs(ps, await checkRates(ps, RATE_WINDOW_MS, MIN_FRAME_RATIO));

    // late: a third joins; its first frames are timed in its page from 'connected'.
    const late = await ctx.participant(cb, 'chromium-3');
    await late.connect();
    const firstFrames = late.call('firstFrames', { expect: ps.length, ms: 25000 }, 35000);
    firstFrames.catch(() => {});   // awaited below; not an unhandled rejection if publish throws
    await publish(late);
    const ff = await firstFrames;
    const times = ff.first.map((f) => `${late.label(f.from)}: ${f.ms} ms`).join(', ');
    log(`chromium-3: subscribe connection connected at ${ff.connectedAt} ms (page time); ` +
        `first decoded H264 frame of each remote video after: ${times}`);
    if (!ff.ok) {
        throw new StageError('media', `chromium-3: not every remote H264 video decoded within 25 s ` +
                             `of joining: ${JSON.stringify(ff)}`);
    }
    const slow = ff.first.filter((f) => f.ms > LATE_FIRST_FRAME_MS);
    if (slow.length) {
        throw new StageError('media', `chromium-3 (late joiner) decoded its first H264 frame later ` +
                             `than ${LATE_FIRST_FRAME_MS} ms after its subscribe connection was up: ` +
                             `${slow.map((f) => `${late.label(f.from)} ${f.ms} ms`).join(', ')}`);
    }
    await late.waitConnected('pub');
    await Promise.all(ps.map((p) => p.waitSubscribed([late])));
    const all = [...ps, late];
    for (const p of all) await checkSdps(p);
    for (const p of all) await checkTracks(p, others(p, all));
    checkCodecs(all, await checkRates(all, RATE_WINDOW_MS, MIN_FRAME_RATIO));
});
