// The web client: lobby (room, name, microphone, camera), meeting, reconnection.
// signal.js speaks PROTOCOL.md, media.js holds the devices and the two peer connections,
// ui.js draws, i18n.js translates. The whole state is S (window.sobre, for the console
// and the end-to-end tests).
import { t, apply, toggle as toggleLang, errorText, store } from './i18n.js';
import { Signal } from './signal.js';
import { getTrack, getScreen, microphones, meter, Publisher, Subscriber, linkStats } from './media.js';
import * as ui from './ui.js';

const $ = ui.$;
const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

const S = window.sobre = {
  room: '', name: '', password: '', fixedRoom: false,
  sig: null, pub: null, sub: null, inSession: false,
  self: null, peers: new Map(), recv: new Map(), limits: {},
  mic: null, cam: null, screen: null, micOn: true, audioOnly: false,
  inMeeting: false, leaving: false, busy: false, resume: null, retries: 0, retryTimer: null,
  err: null, micMsg: '', camMsg: '', needPassword: false,
  panel: null, unread: 0, speaking: new Set(), serverSpeaking: false, bw: null, link: {}, footprint: null,
  log: [],   // what happened: lobby, joined, reconnecting, left (for the tests)
  restart: () => restart(),
};

const roomFromUrl = () => {
  const m = /^\/r\/([^/]+)$/.exec(location.pathname);
  try {
    return m ? decodeURIComponent(m[1]) : new URLSearchParams(location.search).get('room') || '';
  } catch (e) {
    return '';
  }
};
const link = () => `${location.origin}/r/${encodeURIComponent(S.room)}`;

// ---- lobby ----

async function startMic(deviceId) {
  if (S.stopMeter) S.stopMeter();
  S.stopMeter = null;
  if (S.mic) S.mic.stop();
  S.mic = null;
  try {
    S.mic = await getTrack('audio', deviceId);
    S.micMsg = '';
    if (S.pub) S.pub.set('audio', S.mic).catch(mediaError);   // allowed after joining
    if (!S.inMeeting) {
      const bar = $('level'), m = bar.parentNode;
      S.stopMeter = meter(S.mic, (v) => {
        bar.style.width = `${Math.round(v * 100)}%`;
        m.setAttribute('aria-valuenow', Math.round(v * 100));
      });
    }
    const sel = $('mic'), id = S.mic.getSettings().deviceId;
    sel.replaceChildren(...(await microphones()).map((d, i) =>
      new Option(d.label || `${t('mic')} ${i + 1}`, d.deviceId, false, d.deviceId === id)));
  } catch (e) {
    S.micMsg = /NotFound|Overconstrained/.test(e.name) ? 'noMic' : 'micDenied';
  }
  refresh();
}

async function toggleCam() {
  if (S.cam) {
    S.cam.stop();
    S.cam = null;
  } else {
    try {
      S.cam = await getTrack('video');
      S.cam.onended = () => { S.cam = null; sendVideo(); };
      S.camMsg = '';
    } catch (e) {
      S.camMsg = /NotFound|Overconstrained/.test(e.name) ? 'noCam' : 'camDenied';
      if (S.inMeeting) ui.status(t(S.camMsg), false, true);
    }
  }
  sendVideo();
}

function submit(ev) {
  ev.preventDefault();
  const room = S.fixedRoom ? S.room : $('room').value.trim();
  const name = $('name').value.trim();
  S.err = null;
  if (!ROOM_RE.test(room)) {
    S.err = { code: 'room_name' };
    refresh();
    $('room').focus();
    return;
  }
  if (!name) {
    $('name').focus();
    return;
  }
  store('sobre.name', name);
  Object.assign(S, { room, name, password: $('password').value, busy: true, resume: null });
  refresh();
  connect();
}

// Back to the lobby with the sentence for an error code.
function lobbyError(code, message) {
  if (S.inMeeting) endMeeting();
  S.busy = false;
  S.err = { code, message };
  if (code === 'unauthorized') {
    if (!S.needPassword && !S.password) S.err.code = 'need_password';
    S.needPassword = true;
  }
  ui.show('lobby');
  S.log.push('lobby');
  refresh();
  (S.needPassword ? $('password') : $('join')).focus();
}

// ---- session ----

async function connect() {
  S.retryTimer = null;
  S.inSession = false;
  const sig = S.sig = new Signal((m) => sig === S.sig && onMessage(m), () => dropped(sig));
  try {
    await sig.open();
  } catch (e) {
    if (sig !== S.sig) return;
    if (S.inMeeting) retry();
    else lobbyError('connect');
    return;
  }
  const join = { type: 'join', room: S.room, name: S.name };
  if (S.password) join.password = S.password;
  if (S.resume) join.resume = S.resume;
  sig.send(join);
}

function onMessage(m) {
  switch (m.type) {
  case 'joined': return joined(m);
  case 'offer': if (S.sub) S.sub.offer(m.sdp); return;
  case 'peer_joined': case 'peer_updated':
    if (m.peer) S.peers.set(m.peer.id, m.peer);
    break;
  case 'peer_left': S.peers.delete(m.id); break;
  case 'speaking':
    S.serverSpeaking = true;
    S.speaking = new Set(m.ids || []);
    break;
  case 'chat':
    ui.chatLine(m);
    if (S.panel !== 'chat') S.unread++;
    break;
  case 'bandwidth': S.bw = m; return;
  case 'layers': if (S.pub) S.pub.setLayers(m.mid, m.rids); return;
  case 'footprint': S.footprint = m; break;
  case 'bye': ui.status(t('e_bye'), true, true); return;
  case 'error': return onError(m);
  default: return;
  }
  refresh();
}

function onError(m) {
  if (!S.inSession) {
    // The join was refused; the server closes the socket.
    S.sig.close();
    const transient = /room_full|server_full|rate_limited/.test(m.code);
    if (S.inMeeting && transient) retry();   // a fresh join (the old session expired) may wait
    else lobbyError(m.code, m.message);
    return;
  }
  if (m.code === 'media_failed') return restart();
  if (m.code === 'video_disabled') {
    S.limits.video = false;
    if (S.cam) S.cam.stop();
    if (S.screen) S.screen.stop();
    S.cam = S.screen = null;
    sendVideo();
  }
  ui.status(errorText(m.code, m.message), false, true);
}

// A joined: the first one, a resumed session (same id: both peer connections lived on),
// or a new session after a drop (new id: new peer connections).
function joined(m) {
  const again = S.inMeeting;
  const resumed = again && S.pub && S.self && m.self.id === S.self.id;
  if (!resumed) teardown();
  if (!again) S.footprint = null;   // another meeting's figures are not this one's
  Object.assign(S, {
    inSession: true, inMeeting: true, busy: false, retries: 0, err: null, self: m.self,
    limits: m.limits || {}, resume: m.resume, speaking: new Set(),
    peers: new Map((m.peers || []).map((p) => [p.id, p])),
  });
  S.log.push('joined');
  if (!again) {
    if (S.stopMeter) S.stopMeter();
    S.stopMeter = null;
    if (!S.fixedRoom) history.replaceState(null, '', link());
    ui.show('meeting');
    $('bmic').focus();
  }
  document.body.classList.remove('reconnecting');
  ui.status(again ? t('reconnected') : '');
  if (resumed) resync();
  else startMedia();
  refresh();
}

// After a resume: the new socket carries on; what was sent meanwhile is sent again.
function resync() {
  S.pub.sig = S.sub.sig = S.sig;
  S.recv = S.sub.tracks();
  if (S.pub.dirty) S.pub.run(() => S.pub.negotiate()).catch(mediaError);
  if (S.mic) S.sig.send({ type: 'mute', kind: 'audio', muted: !S.micOn });
  if (S.audioOnly) S.sig.send({ type: 'prefs', audio_only: true });
  if (S.pub.pc.connectionState !== 'connected') S.pub.restart().catch(mediaError);
}

function startMedia() {
  const sig = S.sig, sub = S.sub = new Subscriber(sig, (recv) => {
    if (sub === S.sub) {
      S.recv = recv;
      refresh();
    }
  }, (st) => { if (st === 'failed' && sub === S.sub) restart(); });
  S.pub = new Publisher(sig, pubState, S.limits.video_kbps || 0);
  S.pubRestarts = 0;
  if (S.limits.video === false && S.cam) {
    S.cam.stop();
    S.cam = null;
  }
  if (S.mic) {
    S.mic.enabled = S.micOn;
    S.pub.set('audio', S.mic).then(() => {
      if (!S.micOn) sig.send({ type: 'mute', kind: 'audio', muted: true });
    }, mediaError);
  }
  sendVideo();
  if (S.audioOnly) sig.send({ type: 'prefs', audio_only: true });
}

function mediaError(e) {
  if (e && (e.code === 'closed' || (e.code === 'timeout' && !S.inSession))) return;
  console.warn('publish:', e);
  ui.status(errorText(e && e.code ? e.code : 'internal', e && e.message), false, true);
}

// The publish connection: ICE restart when its path fails (a network change), a fresh
// session after three restarts in a row.
function pubState(st) {
  const pub = S.pub;
  if (st === 'connected') S.pubRestarts = 0;
  if (st === 'failed' || st === 'disconnected') {
    setTimeout(() => {
      if (pub !== S.pub || !/failed|disconnected/.test(pub.pc.connectionState)) return;
      if (S.pubRestarts++ >= 3) restart();
      else pub.restart().catch(mediaError);
    }, st === 'failed' ? 0 : 3000);
  }
}

function sendVideo() {
  refresh();
  if (S.pub) S.pub.set('video', S.screen || S.cam).catch(mediaError);
}

function teardown() {
  if (S.pub) S.pub.close();
  if (S.sub) S.sub.close();
  S.pub = S.sub = null;
  S.recv = new Map();
  S.inSession = false;
}

// The socket dropped (server closed it, network lost): rejoin with the resume token.
// The server keeps the session and its media for a while (docs/protocol-notes.md), so
// the peer connections are kept too; if the session is gone, joined() makes new ones.
function dropped(sig) {
  if (sig !== S.sig || S.leaving) return;
  if (S.inMeeting) retry();
  else if (S.busy) lobbyError('connect');
}

// The media of this session failed: leave it and start a fresh one (others see a
// leave and a join).
function restart() {
  S.resume = null;
  if (S.sig) {
    S.sig.send({ type: 'leave' });
    S.sig.close();
  }
  teardown();
  retry();
}

// Rejoins after a growing delay (0.5 s, 1 s, 2 s... at most 10 s). The local tracks
// are kept.
function retry() {
  S.inSession = false;
  S.log.push('reconnecting');
  document.body.classList.add('reconnecting');
  ui.status(t('reconnecting'), true, true);
  clearTimeout(S.retryTimer);
  S.retryTimer = setTimeout(connect, Math.min(10000, 500 * 2 ** S.retries++));
  refresh();
}

// A network change: retry at once, or restart ICE if the socket survived.
function networkChanged() {
  if (!S.inMeeting) return;
  if (S.retryTimer) {
    clearTimeout(S.retryTimer);
    connect();
  } else if (S.pub) {
    S.pub.restart().catch(mediaError);
  }
}

function stopLocal() {
  for (const tr of [S.mic, S.cam, S.screen]) if (tr) tr.stop();
  S.mic = S.cam = S.screen = null;
  if (S.stopMeter) S.stopMeter();
}

function endMeeting() {
  clearTimeout(S.retryTimer);
  teardown();
  S.inMeeting = false;
  document.body.classList.remove('reconnecting');
  ui.status('');
  ui.quality(0);
}

function leave() {
  S.leaving = true;
  if (S.sig) {
    S.sig.send({ type: 'leave' });
    S.sig.close();
  }
  endMeeting();
  stopLocal();
  S.log.push('left');
  ui.note('endmsg', t('left'));
  ui.show('ended');
  $('again').focus();
}

// ---- meeting controls ----

async function toggleMic() {
  if (!S.mic) {
    S.micOn = true;
    await startMic();
    if (!S.mic) return ui.status(t(S.micMsg), false, true);
  } else {
    S.micOn = !S.micOn;
  }
  S.mic.enabled = S.micOn;
  if (S.sig) S.sig.send({ type: 'mute', kind: 'audio', muted: !S.micOn });
  refresh();
}

async function toggleShare() {
  if (S.screen) {
    S.screen.stop();
    S.screen = null;
  } else {
    try {
      const tr = await getScreen();
      tr.onended = () => { if (S.screen === tr) { S.screen = null; sendVideo(); } };
      S.screen = tr;
    } catch (e) {
      return ui.status(t('shareDenied'), false, true);
    }
  }
  sendVideo();
}

function toggleAudioOnly() {
  S.audioOnly = !S.audioOnly;
  if (S.sig) S.sig.send({ type: 'prefs', audio_only: S.audioOnly });
  refresh();
}

function panel(which) {
  S.panel = S.panel === which ? null : which;
  if (S.panel === 'chat') S.unread = 0;
  refresh();
  if (S.panel === 'chat') $('chattext').focus();
}

async function invite() {
  try {
    await navigator.clipboard.writeText(link());
    ui.status(t('copied'));
  } catch (e) {
    S.panel = 'people';
    refresh();
    $('invite').select();
  }
}

function sendChat(ev) {
  ev.preventDefault();
  const text = $('chattext').value.trim();
  if (!text || !S.sig || !S.sig.up) return;
  S.sig.send({ type: 'chat', text });
  $('chattext').value = '';
}

// ---- drawing ----

function refresh() {
  ui.note('err', S.err && (S.err.code === 'room_name' ? t('e_room_name') : errorText(S.err.code, S.err.message)));
  ui.note('micmsg', S.micMsg && t(S.micMsg));
  ui.note('cammsg', S.camMsg && t(S.camMsg));
  $('title').textContent = S.fixedRoom ? t('joinRoom', { room: S.room }) : t('welcome');
  $('pwrow').hidden = !S.needPassword;
  ui.footprint(S.inMeeting && S.footprint);
  $('join').disabled = S.busy;
  $('join').textContent = t(S.busy ? 'joining' : 'join');
  const cam = !!S.cam, video = S.screen || S.cam;
  ui.button('precam', cam, null);
  $('precam').lastChild.textContent = t(cam ? 'camOff' : 'camOn');
  const pv = $('preview');
  pv.hidden = !cam;
  if (cam && (!pv.srcObject || pv.srcObject.getTracks()[0] !== S.cam)) pv.srcObject = new MediaStream([S.cam]);
  if (!S.inMeeting || !S.self) return;

  $('roomname').textContent = S.room;
  const talking = S.mic && S.micOn;
  ui.button('bmic', talking, talking ? 'mute' : 'unmute');
  ui.button('bcam', cam, S.limits.video === false ? 'videoOff' : cam ? 'camOff' : 'camOn');
  ui.button('bshare', !!S.screen, S.screen ? 'stopShare' : 'share');
  $('bcam').disabled = $('bshare').disabled = S.limits.video === false;
  ui.button('baudio', S.audioOnly);
  ui.button('bpeople', S.panel === 'people');
  ui.button('bchat', S.panel === 'chat', null);
  const unread = $('unread');
  unread.hidden = !S.unread;
  unread.textContent = S.unread;
  $('bchat').setAttribute('aria-label', t('chat') + (S.unread ? `, ${t('unread', { n: S.unread })}` : ''));
  $('panel').hidden = !S.panel;
  $('peoplebox').hidden = S.panel !== 'people';
  $('chatbox').hidden = S.panel !== 'chat';
  $('invite').value = link();
  $('alone').hidden = S.peers.size > 0;

  const list = [{ id: S.self.id, name: S.name, self: true, muted: !talking, video,
    mirror: !S.screen && cam, speaking: S.speaking.has(S.self.id) }];
  const audio = new Map();
  for (const p of S.peers.values()) {
    const r = S.recv.get(p.id) || {};
    if (r.audio) audio.set(p.id, r.audio.track);
    // A video the server pauses (last_n, bandwidth) mutes its track: initials then.
    const track = r.video && r.video.track;
    if (track) track.onmute = track.onunmute = refresh;
    const v = !S.audioOnly && p.video && !p.muted_video && track && !track.muted ? track : null;
    list.push({ id: p.id, name: p.name, muted: !p.audio || p.muted_audio, video: v,
      speaking: S.speaking.has(p.id) });
  }
  ui.tiles(list);
  ui.people(list);
  ui.audios(audio);
}

// Until the server sends `speaking`, who speaks is read from the received audio levels.
function localSpeaking() {
  if (S.serverSpeaking || !S.sub) return;
  const now = new Set();
  for (const [id, r] of S.recv) {
    const src = r.audio && r.audio.getSynchronizationSources ? r.audio.getSynchronizationSources() : [];
    const p = S.peers.get(id);
    if (src.some((s) => s.audioLevel > 0.05) && p && !p.muted_audio) now.add(id);
  }
  if ([...now].join() !== [...S.speaking].join()) {
    S.speaking = now;
    refresh();
  }
}

// Connection quality from getStats (loss, round trip) and the server's `bandwidth`.
async function measure() {
  if (!S.inMeeting) return;
  if (!S.inSession) return ui.quality(1);
  const l = S.link = await linkStats([S.pub && S.pub.pc, S.sub && S.sub.pc], S.link);
  let q = l.loss < 0.02 && l.rtt < 0.3 ? 3 : l.loss < 0.08 && l.rtt < 0.8 ? 2 : 1;
  if (S.bw) q = Math.min(q, { full: 3, reduced: 2, paused: 1 }[S.bw.video] || 3);
  ui.quality(q);
}

// ---- start ----

function init() {
  apply();
  S.room = roomFromUrl();
  S.fixedRoom = ROOM_RE.test(S.room);
  if (!S.fixedRoom) S.room = '';
  $('roomrow').hidden = S.fixedRoom;
  $('room').value = S.room;
  $('name').value = store('sobre.name') || '';
  $('lang').onclick = () => { toggleLang(); refresh(); };
  $('lobby').onsubmit = submit;
  $('mic').onchange = () => startMic($('mic').value);
  $('precam').onclick = toggleCam;
  $('bmic').onclick = toggleMic;
  $('bcam').onclick = toggleCam;
  $('bshare').onclick = toggleShare;
  $('bshare').hidden = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  $('baudio').onclick = toggleAudioOnly;
  $('bpeople').onclick = () => panel('people');
  $('bchat').onclick = () => panel('chat');
  $('binvite').onclick = invite;
  $('bleave').onclick = leave;
  $('again').onclick = () => location.reload();
  $('chatform').onsubmit = sendChat;
  addEventListener('keydown', (e) => { if (e.key === 'Escape' && S.panel) panel(S.panel); });
  addEventListener('online', networkChanged);
  if (navigator.connection) navigator.connection.addEventListener('change', networkChanged);
  setInterval(localSpeaking, 400);
  setInterval(measure, 2000);
  ui.show('lobby');
  S.log.push('lobby');
  refresh();
  (S.fixedRoom ? $('name') : $('room')).focus();
  startMic();
}

init();
