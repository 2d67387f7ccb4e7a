'use strict';
// e2e.room_three_chromium: three pages of one headless Chromium in one ordinary room, each
// publishing its fake camera and microphone and answering the server's subscribe offers:
// each must receive the two others' audio and decode their video, with ontrack
// streams[0].id = the publisher's peer id. Then a fourth page joins: the server must offer
// it the tracks of everyone already publishing (it decodes all three), and offer the three
// the newcomer's tracks (renegotiation: they decode it too).
// See lib/room.js (Node side) and lib/room_agent.js (in the pages).
const { log } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, checkMedia } = require('./lib/room');

runRoomTest('room_three_chromium', async (ctx) => {
    const b = await ctx.launch('chromium', launchChromium);
    const ps = [];
    for (const name of ['chromium-1', 'chromium-2', 'chromium-3']) ps.push(await ctx.participant(b, name));
    for (const p of ps) await p.connect();
    await Promise.all(ps.map((p) => p.publish()));
    await Promise.all(ps.map((p) => p.waitConnected('pub')));
    await Promise.all(ps.map((p) => p.waitSubscribed(ps.filter((q) => q !== p))));
    await Promise.all(ps.map((p) => p.waitConnected('sub')));
    const pairs = [];
    for (const rx of ps) for (const from of ps) if (rx !== from) pairs.push({ rx, from });
    await checkMedia(pairs);
    log('the three receive each other; a fourth joins');

    const late = await ctx.participant(b, 'chromium-4');
    await late.connect();
    await late.publish();
    await late.waitConnected('pub');
    await late.waitSubscribed(ps);
    await late.waitConnected('sub');
    await checkMedia(ps.map((from) => ({ rx: late, from })));
    log('the late joiner receives the three already publishing; now the three receive it');
    await Promise.all(ps.map((p) => p.waitSubscribed([late])));
    await checkMedia(ps.map((rx) => ({ rx, from: late })));
});
