'use strict';
// e2e.room_chromium_firefox: a headless Chromium page and a headless Firefox page in one
// ordinary room, each publishing its fake camera and microphone (sendonly) and answering
// the server's subscribe offers on a second RTCPeerConnection (PROTOCOL.md).
//
//   media   each decodes the other's video (framesDecoded grows over 5 s) and receives
//           its audio (bytesReceived grows), ontrack streams[0].id = the other's peer id;
//   mute    Chromium sends {"type":"mute","kind":"video","muted":true}: Firefox gets
//           peer_updated muted_video true and, after 1 s to settle, decodes no more of
//           Chromium's video while its audio still flows; unmute: frames again;
//   leave   Firefox sends {"type":"leave"}: Chromium gets peer_left and a new offer in
//           which Firefox's m-lines are inactive, port 0 or gone, and answers it.
// See lib/room.js (Node side) and lib/room_agent.js (in the pages).
const { log, sleep } = require('./lib/harness');
const { launchChromium, launchFirefox } = require('./lib/browsers');
const { runRoomTest, StageError, waitFor, waitMessage, checkMedia, findRecv, num, mediaSections } =
    require('./lib/room');

const SETTLE_MS = 1000;   // after a mute, frames in flight may still be decoded
const MUTED_MS = 3000;    // then framesDecoded must not move for this long

async function framesFrom(rx, from) {
    const st = await rx.stats();
    const v = findRecv(st, from.id, 'video'), a = findRecv(st, from.id, 'audio');
    return { frames: num(v, 'framesDecoded'), vbytes: num(v, 'bytesReceived'),
             abytes: num(a, 'bytesReceived') };
}

runRoomTest('room_chromium_firefox', async (ctx) => {
    const [cb, fb] = await Promise.all([
        ctx.launch('chromium', launchChromium),
        ctx.launch('firefox', launchFirefox),
    ]);
    const chrome = await ctx.participant(cb, 'chromium');
    const fox = await ctx.participant(fb, 'firefox');

    // join: Chromium first, so that it sees Firefox arrive.
    await chrome.connect();
    const nChrome = (await chrome.state()).msgs.length;
    const joinedFox = await fox.connect();
    if (!(joinedFox.peers || []).some((p) => p.id === chrome.id)) {
        throw new StageError('join', `firefox's joined.peers ${JSON.stringify(joinedFox.peers)} ` +
                             `does not list chromium (${chrome.id})`);
    }
    await waitMessage('join', chrome, `peer_joined for firefox (${fox.id})`, 5000, nChrome,
                      (m) => m.type === 'peer_joined' && m.peer && m.peer.id === fox.id);

    // publish: both at once.
    await Promise.all([chrome.publish(), fox.publish()]);
    await Promise.all([chrome.waitConnected('pub'), fox.waitConnected('pub')]);

    // subscribe: each gets an offer with the other's two tracks, answers it, connects.
    await Promise.all([chrome.waitSubscribed([fox]), fox.waitSubscribed([chrome])]);
    await Promise.all([chrome.waitConnected('sub'), fox.waitConnected('sub')]);

    // media
    await checkMedia([{ rx: chrome, from: fox }, { rx: fox, from: chrome }]);

    // mute: Chromium's video.
    const nFox = (await fox.state()).msgs.length;
    let r = await chrome.call('request', { type: 'mute', kind: 'video', muted: true });
    if (!r.ok) throw new StageError('mute', `chromium: mute video refused: ${r.message}`);
    const upd = await waitMessage('mute', fox, 'peer_updated for chromium with muted_video true',
                                  5000, nFox, (m) => m.type === 'peer_updated' && m.peer &&
                                  m.peer.id === chrome.id && m.peer.muted_video === true);
    log(`firefox got ${JSON.stringify(upd)}`);
    await sleep(SETTLE_MS);
    const m0 = await framesFrom(fox, chrome);
    await sleep(MUTED_MS);
    const m1 = await framesFrom(fox, chrome);
    log(`firefox <- chromium while muted, over ${MUTED_MS} ms: video framesDecoded ` +
        `${m0.frames} -> ${m1.frames}, video bytes ${m0.vbytes} -> ${m1.vbytes}, ` +
        `audio bytes ${m0.abytes} -> ${m1.abytes}`);
    if (m1.frames > m0.frames) {
        throw new StageError('mute', `firefox kept decoding chromium's video ${SETTLE_MS} ms after ` +
                             `the mute: framesDecoded ${m0.frames} -> ${m1.frames} over ${MUTED_MS} ms`);
    }
    if (m1.abytes <= m0.abytes) {
        throw new StageError('mute', `muting chromium's video also stopped its audio: ` +
                             `bytesReceived ${m0.abytes} -> ${m1.abytes}`);
    }

    // unmute: frames again (the server asks the publisher for a key frame).
    const nFox2 = (await fox.state()).msgs.length;
    r = await chrome.call('request', { type: 'mute', kind: 'video', muted: false });
    if (!r.ok) throw new StageError('mute', `chromium: unmute video refused: ${r.message}`);
    await waitMessage('mute', fox, 'peer_updated for chromium with muted_video false', 5000, nFox2,
                      (m) => m.type === 'peer_updated' && m.peer && m.peer.id === chrome.id &&
                      m.peer.muted_video === false);
    let m2 = m1;
    await waitFor('mute', 'firefox decoding chromium\'s video again after unmute (10 frames more)',
                  10000, async () => {
        m2 = await framesFrom(fox, chrome);
        return m2.frames >= m1.frames + 10;
    }, async () => `framesDecoded ${m1.frames} -> ${m2.frames}, video bytes ${m1.vbytes} -> ${m2.vbytes}`);
    log(`firefox <- chromium after unmute: framesDecoded ${m1.frames} -> ${m2.frames}`);

    // leave: Firefox.
    const before = await chrome.state();
    const nOffers = before.offers.length;
    const sdps = await chrome.call('sdps');
    const foxMids = mediaSections(sdps.sub[nOffers - 1].offer)
        .filter((s) => s.msid === fox.id && s.port !== 0 && s.direction !== 'inactive')
        .map((s) => s.mid);
    if (foxMids.length !== 2) {
        throw new StageError('leave', `chromium's last offer should hold firefox's 2 tracks, ` +
                             `found mids ${JSON.stringify(foxMids)}`);
    }
    r = await fox.call('leave');
    if (!r.ok) throw new StageError('leave', `firefox: the server did not close the socket after leave`);
    log(`firefox left; its socket closed: ${r.closed}`);
    await waitMessage('leave', chrome, `peer_left for firefox (${fox.id})`, 5000, before.msgs.length,
                      (m) => m.type === 'peer_left' && m.id === fox.id);
    let st = null;
    await waitFor('leave', 'chromium: a new subscribe offer after firefox left, answered', 10000,
                  async () => {
        st = await chrome.state();
        const o = st.offers[st.offers.length - 1];
        if (o && o.error) throw new StageError('leave', `chromium refused offer #${o.n}: ${o.error}`);
        return st.offers.length > nOffers && o.answered && st.sub.signaling === 'stable';
    }, async () => `offers ${JSON.stringify(st && st.offers)}`);
    const after = await chrome.call('sdps');
    const last = after.sub[after.sub.length - 1].offer;
    const secs = mediaSections(last);
    const stillLive = secs.filter((s) => (foxMids.includes(s.mid) || s.msid === fox.id) &&
                                  s.port !== 0 && s.direction !== 'inactive');
    log(`chromium's offer after the leave: ${JSON.stringify(secs)}`);
    if (stillLive.length) {
        throw new StageError('leave', `chromium's new offer still sends firefox's tracks: ` +
                             `${JSON.stringify(stillLive)}`);
    }
    // The answer was accepted: no error from the server, and chromium stays connected.
    await sleep(1000);
    st = await chrome.state();
    const errs = st.msgs.slice(before.msgs.length).filter((m) => m.type === 'error');
    if (errs.length) throw new StageError('leave', `the server answered: ${JSON.stringify(errs)}`);
    if (st.sub.connection !== 'connected') {
        throw new StageError('leave', `chromium's subscribe connection is ${st.sub.connection} ` +
                             'after the renegotiation');
    }
    log('chromium: firefox\'s tracks removed from its subscribe connection, renegotiated');
});
