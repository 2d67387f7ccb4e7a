'use strict';
// e2e.web_client: the shipped web client (web/), used the way a person does, in headless
// Chromium and Firefox against the real sobre:
//
//   landing    `/` in Chromium: room and name typed, Join clicked (screenshot landing.png);
//   invite     Firefox opens the invite link shown in the meeting, types a name, joins;
//   media      both turn their camera on: each sees the other's tile with decoding video
//              and receives its audio (inbound bytes grow);
//   mute       Chromium mutes: its tile on Firefox shows the muted microphone and no more
//              audio bytes arrive; unmute: they flow again;
//   chat       a message typed on Chromium appears on Firefox, unread count first;
//   share      Chromium turns its camera off (Firefox: initials, no video) and shares its
//              screen: video from it again on Firefox;
//   three      a third participant (Chromium) joins by the link (screenshot meeting3.png),
//              then its page is narrowed to 360 px (phone.png, no horizontal scrolling);
//   reconnect  the test closes Chromium's WebSocket: the page shows "reconnecting",
//              resumes its session (same id, the others see nothing) without a reload,
//              media flows both ways; then a fresh session (what a media failure
//              triggers: new id, new peer connections), media again; then an ICE restart
//              of its publish connection;
//   audio-only Chloé asks for audio only: no more video frames, initials on the tile;
//   leave      Firefox leaves: its tile disappears on the others;
//   listen     a page whose microphone is refused says so, joins, sees and hears;
//   errors     room full, password asked / wrong / right, unknown room: the sentences.
// Screenshots go to $SOBRE_E2E_OUT or ./web_client-output (CTest: the build tree) and
// must not be blank. See lib/web.js.
const { log, sleep } = require('./lib/harness');
const { launchChromium, launchFirefox } = require('./lib/browsers');
const { runWebTest, StageError } = require('./lib/web');

const ROOMS = { salle: {}, petite: { max_participants: 1 }, secret: { password: 'sésame ouvre-toi' } };
const SAY = {
    need_password: 'This room is protected by a password: please enter it.',
    unauthorized: 'Wrong password: please try again.',
    room_full: 'This room is full: try again later.',
    room_full_fr: 'Cette salle est pleine : réessayez plus tard.',
    room_unknown: 'This room does not exist: check the link or the room name.',
};
const MEDIA_MS = 20000;

// rx decodes video from and receives audio of `name`: both counters grow.
async function flowing(rx, name, { video = true, audio = true, ms = MEDIA_MS } = {}) {
    const a = await rx.until('media', `tile and receivers of ${name}`, ms, (s) =>
        s.tile && (!video || (s.tile.video && s.video)) && (!audio || s.audio), name);
    const b = await rx.until('media', `${name}'s ${video ? 'video frames and ' : ''}audio bytes growing`,
                             ms, (s) => s.id === a.id && (!audio || (s.audio && s.audio.bytes > a.audio.bytes + 2000)) &&
        (!video || (s.video && s.tile && s.video.frames > a.video.frames + 10 && s.tile.vw > 0)), name);
    log(`${rx.name} <- ${name}: ${video ? `video ${a.video.frames} -> ${b.video.frames} frames ` +
        `(${b.tile.vw} px wide on the tile), ` : ''}audio ${audio ? `${a.audio.bytes} -> ${b.audio.bytes} bytes` : 'not checked'}`);
    return b;
}

async function joinAs(p, url, name, room = null) {
    await p.goto(url);
    if (room !== null) await p.type('#room', room);
    await p.type('#name', name);
    await p.click('#join');
}

async function inMeeting(p) {
    return p.until('join', 'in the meeting', 15000, (s) => s.view === 'meeting' && s.inSession);
}

async function errorShown(p, want) {
    const s = await p.until('errors', `the sentence "${want}"`, 10000, (x) => x.view === 'lobby' && x.err === want);
    log(`${p.name}: shows "${s.err}"`);
}

runWebTest('web_client', ROOMS, async (ctx) => {
    const http = ctx.server.httpUrl;
    const [cb, fb] = await Promise.all([ctx.launch('chromium', launchChromium), ctx.launch('firefox', launchFirefox)]);

    // landing -> name -> join
    const alice = await ctx.page(cb, 'alice (chromium)');
    await alice.goto(`${http}/`);
    await alice.waitFor('landing', 'microphone level meter running', 10000, () => !!window.sobre.mic);
    await alice.screenshot('landing.png');
    await alice.type('#room', 'salle');
    await alice.type('#name', 'Alice');
    await alice.click('#join');
    await inMeeting(alice);
    await alice.click('#bcam');
    const invite = await alice.eval(() => JSON.stringify({ link: document.getElementById('invite').value, url: location.href }));
    if (invite.link !== `${http}/r/salle` || invite.url !== invite.link) {
        throw new StageError('invite', `invite link ${JSON.stringify(invite)}, expected ${http}/r/salle`);
    }

    // the invite link, in Firefox
    const bob = await ctx.page(fb, 'bob (firefox)');
    await bob.goto(invite.link);
    const title = await bob.eval(() => JSON.stringify({ t: document.getElementById('title').textContent,
                                                        roomHidden: document.getElementById('roomrow').hidden }));
    if (!title.roomHidden || !title.t.includes('salle')) throw new StageError('invite', `lobby from the link: ${JSON.stringify(title)}`);
    await bob.type('#name', 'Bob');
    await bob.click('#join');
    await inMeeting(bob);
    await bob.click('#bcam');
    await Promise.all([flowing(alice, 'Bob'), flowing(bob, 'Alice')]);

    // mute
    await alice.click('#bmic');
    await bob.until('mute', 'Alice\'s tile shows her muted microphone', 5000, (s) => s.tile && s.tile.muteIcon && s.peer.muted_audio, 'Alice');
    await sleep(1000);
    const m0 = await bob.probe('Alice');
    await sleep(2500);
    const m1 = await bob.probe('Alice');
    log(`bob <- alice muted: audio bytes ${m0.audio.bytes} -> ${m1.audio.bytes} over 2.5 s`);
    if (m1.audio.bytes > m0.audio.bytes + 500) throw new StageError('mute', `audio from muted Alice still arrives: ${m0.audio.bytes} -> ${m1.audio.bytes}`);
    await alice.click('#bmic');
    await bob.until('mute', 'Alice unmuted on her tile', 5000, (s) => s.tile && !s.tile.muteIcon, 'Alice');
    await flowing(bob, 'Alice', { video: false });

    // chat
    await alice.click('#bchat');
    await alice.type('#chattext', 'Bonjour Bob, ça va ?');
    await alice.press('#chattext', 'Enter');
    await bob.waitFor('chat', 'unread count 1 on the chat button', 5000, () => {
        const u = document.getElementById('unread');
        return !u.hidden && u.textContent === '1';
    });
    await bob.click('#bchat');
    await bob.waitFor('chat', 'the message in the chat panel', 5000,
                      () => document.getElementById('msgs').textContent.includes('Bonjour Bob, ça va ?') &&
                            document.getElementById('unread').hidden);
    await bob.click('#bchat');

    // camera off, then screen share
    await alice.click('#bcam');
    await bob.until('share', 'Alice\'s tile without video once her camera is off', 10000, (s) => s.tile && !s.tile.video, 'Alice');
    await alice.click('#bshare');
    await alice.waitFor('share', 'sharing', 10000, () => !!window.sobre.screen);
    const shared = await flowing(bob, 'Alice', { audio: false });
    log(`bob decodes alice's screen: ${shared.video.w} px wide`);
    await alice.click('#bshare');
    await bob.until('share', 'Alice\'s tile without video after the share', 10000, (s) => s.tile && !s.tile.video, 'Alice');
    await alice.click('#bcam');
    await flowing(bob, 'Alice');

    // a third participant by the link; screenshots
    const chloe = await ctx.page(cb, 'chloe (chromium)');
    await joinAs(chloe, invite.link, 'Chloé');
    await inMeeting(chloe);
    await chloe.click('#bcam');
    await Promise.all([flowing(alice, 'Chloé'), flowing(bob, 'Chloé'), flowing(chloe, 'Alice'), flowing(chloe, 'Bob')]);
    await alice.screenshot('meeting3.png');
    await chloe.viewport(360, 740);
    await sleep(500);
    const narrow = await chloe.eval(() => JSON.stringify({ sw: document.documentElement.scrollWidth, w: innerWidth }));
    if (narrow.sw > narrow.w) throw new StageError('phone', `horizontal scrolling at 360 px: ${JSON.stringify(narrow)}`);
    await chloe.screenshot('phone.png');
    await chloe.viewport(1280, 720);

    // audio-only mode: no more video received, the tile shows initials; then video again
    await chloe.click('#baudio');
    await chloe.until('audio only', 'Alice\'s tile without video', 5000, (s) => s.tile && !s.tile.video, 'Alice');
    await sleep(1000);
    const v0 = await chloe.probe('Alice');
    await sleep(2000);
    const v1 = await chloe.probe('Alice');
    log(`chloe <- alice in audio-only mode: video frames ${v0.video.frames} -> ${v1.video.frames}, audio bytes ${v0.audio.bytes} -> ${v1.audio.bytes} over 2 s`);
    if (v1.video.frames > v0.video.frames + 2) throw new StageError('audio only', `video still decoded: ${v0.video.frames} -> ${v1.video.frames}`);
    if (v1.audio.bytes <= v0.audio.bytes) throw new StageError('audio only', 'the audio stopped too');
    await chloe.click('#baudio');
    await flowing(chloe, 'Alice');

    // reconnection: the socket dropped under the page; the server keeps the session for
    // a while, the page rejoins with its resume token: same peer id, same media.
    await alice.eval(() => { window.__e2eMarker = 'no reload'; return '1'; });
    const before = await alice.probe();
    const bobSaw = (await bob.probe('Alice')).id;
    await alice.eval(() => { window.sobre.sig.ws.close(); return '1'; });
    await alice.waitFor('reconnect', '"reconnecting" shown', 5000, () =>
        window.sobre.log.slice(-3).includes('reconnecting') && !document.getElementById('status').hidden);
    let back = await alice.until('reconnect', 'in the meeting again', 20000, (s) =>
        s.inSession && s.log.lastIndexOf('joined') > s.log.lastIndexOf('reconnecting'));
    if (back.marker !== 'no reload') throw new StageError('reconnect', 'the page was reloaded');
    log(`alice is back as ${back.self} (was ${before.self}) without a reload`);
    if (back.self !== before.self) throw new StageError('reconnect', `not resumed: new id ${back.self}, was ${before.self}`);
    await Promise.all([flowing(alice, 'Bob'), flowing(bob, 'Alice'), flowing(chloe, 'Alice')]);
    if ((await bob.probe('Alice')).id !== bobSaw) throw new StageError('reconnect', 'bob saw alice leave and come back');

    // a fresh session (what the page does when its media fails, or when the session
    // expired before the socket came back): new id, new peer connections.
    await alice.eval(() => { window.sobre.restart(); return '1'; });
    back = await alice.until('reconnect', 'in the meeting again in a new session', 20000, (s) =>
        s.inSession && s.self !== before.self && s.log.lastIndexOf('joined') > s.log.lastIndexOf('reconnecting'));
    log(`alice rejoined as ${back.self} (was ${before.self}) without a reload`);
    await Promise.all([flowing(alice, 'Bob'), flowing(chloe, 'Alice'), flowing(bob, 'Alice')]);
    await bob.until('reconnect', 'a single tile for Alice', 5000, (s) => s.peers.filter((n) => n === 'Alice').length === 1 && s.tiles === 3);
    // ICE restart of the publish connection (what a network change triggers)
    const r = await alice.eval(() => window.sobre.pub.restart().then(() => JSON.stringify({ ok: true }),
                                                                        (e) => JSON.stringify({ ok: false, e: e && (e.code || e.message) })));
    if (!r.ok) throw new StageError('reconnect', `ICE restart refused: ${r.e}`);
    await alice.until('reconnect', 'publish connection connected after the ICE restart', 10000, (s) => s.pub === 'connected');
    await Promise.all([flowing(chloe, 'Alice'), flowing(bob, 'Alice', { audio: false })]);

    // leave
    const bobId = (await alice.probe('Bob')).id;
    await bob.click('#bleave');
    await bob.waitFor('leave', 'the "you left" screen', 5000, () => document.body.dataset.view === 'ended');
    await alice.waitFor('leave', 'Bob\'s tile gone', 10000, (id) => !document.querySelector(`.tile[data-peer="${id}"]`), bobId);
    await chloe.waitFor('leave', 'Bob\'s tile gone', 10000, (id) => !document.querySelector(`.tile[data-peer="${id}"]`), bobId);

    // listen-only: no microphone allowed; the page says so, joins, hears and sees
    const lou = await ctx.page(cb, 'lou (chromium, microphone refused)');
    await lou.page.addInitScript(() => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('refused by the test', 'NotAllowedError'));
    });
    await lou.goto(invite.link);
    await lou.waitFor('listen-only', 'the microphone message', 5000, () => {
        const m = document.getElementById('micmsg');
        return !m.hidden && /listen-only/.test(m.textContent);
    });
    await lou.type('#name', 'Lou');
    await lou.click('#join');
    await inMeeting(lou);
    await flowing(lou, 'Alice');
    await alice.until('listen-only', 'Lou\'s tile with the microphone off', 5000, (s) => s.tile && s.tile.muteIcon && !s.tile.video, 'Lou');
    await lou.click('#bleave');

    // errors: room full (in English, then in French), password, unknown room
    const dora = await ctx.page(cb, 'dora (chromium)');
    await joinAs(dora, `${http}/r/petite`, 'Dora');
    await inMeeting(dora);
    const eve = await ctx.page(cb, 'eve (chromium)');
    await joinAs(eve, `${http}/?room=petite`, 'Eve');
    await errorShown(eve, SAY.room_full);
    await eve.click('#lang');
    await errorShown(eve, SAY.room_full_fr);
    await eve.click('#lang');
    await joinAs(eve, `${http}/r/secret`, 'Eve');
    await errorShown(eve, SAY.need_password);
    await eve.type('#password', 'sesame');
    await eve.click('#join');
    await errorShown(eve, SAY.unauthorized);
    await eve.type('#password', 'sésame ouvre-toi');
    await eve.click('#join');
    await inMeeting(eve);
    await joinAs(eve, `${http}/r/nulle-part`, 'Eve');
    await errorShown(eve, SAY.room_unknown);
});
