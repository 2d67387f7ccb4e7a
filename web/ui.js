// UI: drawing the page from the state app.js holds. Nothing here talks to the server.
import { t, lang } from './i18n.js';

export const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

export function show(view) {
  for (const v of ['lobby', 'meeting', 'ended']) $(v).hidden = v !== view;
  document.body.dataset.view = view;
}

// The status line under the header: transient unless sticky.
let statusTimer;
export function status(text, sticky = false, warn = false) {
  const s = $('status');
  clearTimeout(statusTimer);
  s.textContent = text || '';
  s.hidden = !text;
  s.className = warn ? 'warn' : '';
  if (text && !sticky) statusTimer = setTimeout(() => { s.hidden = true; }, 5000);
}

// A paragraph showing text, hidden when there is none.
export function note(id, text) {
  $(id).textContent = text || '';
  $(id).hidden = !text;
}

// A toggle button: pressed state, and its label (aria-label and tooltip).
export function button(id, pressed, label) {
  const b = $(id);
  if (pressed !== null) b.setAttribute('aria-pressed', String(!!pressed));
  if (label) {
    b.dataset.tl = label;
    b.setAttribute('aria-label', t(label));
    b.title = t(label);
  }
}

export const initials = (name) =>
  name.trim().split(/\s+/).slice(0, 2).map((w) => [...w][0] || '').join('').toUpperCase() || '?';
const hue = (s) => [...s].reduce((h, c) => (h * 31 + c.codePointAt(0)) % 360, 11);

const label = (p) => (p.self ? `${p.name} ${t('you')}` : p.name);

// Sets a media element's source to track (or none), only when it changes.
function attach(media, track) {
  const cur = media.srcObject && media.srcObject.getTracks()[0];
  if (cur === (track || undefined)) return;
  media.srcObject = track ? new MediaStream([track]) : null;
  if (track) media.play().catch(() => {});
}

// One tile per participant, self first, kept in place across updates (keyed by peer id).
// p: { id, name, self, muted, speaking, video (MediaStreamTrack or null), mirror }
export function tiles(list) {
  const box = $('tiles');
  const old = new Map([...box.children].map((e) => [e.dataset.peer, e]));
  for (const p of list) {
    let f = old.get(p.id);
    old.delete(p.id);
    if (!f) {
      f = $('tile').content.firstElementChild.cloneNode(true);
      f.dataset.peer = p.id;
      box.append(f);
    }
    attach(f.querySelector('video'), p.video);
    f.dataset.name = p.name;
    f.classList.toggle('video', !!p.video);
    f.classList.toggle('mirror', !!p.mirror);
    f.classList.toggle('speaking', !!p.speaking);
    f.classList.toggle('muted', !!p.muted);
    const i = f.querySelector('.initials');
    i.textContent = initials(p.name);
    i.style.background = `hsl(${hue(p.name)} 40% 32%)`;
    f.querySelector('.who').textContent = label(p);
    f.querySelector('.mute').hidden = !p.muted;
    f.setAttribute('aria-label', [label(p), p.muted && t('micOff'), p.speaking && t('talking')]
      .filter(Boolean).join(', '));
  }
  for (const f of old.values()) f.remove();
  box.dataset.n = Math.min(list.length, 5);
}

export function people(list) {
  $('plist').replaceChildren(...list.map((p) => {
    const li = el('li', label(p));
    if (p.muted) li.append(' ', el('small', t('micOff')));
    return li;
  }));
}

// One <audio> per remote participant: map peer id -> audio track.
export function audios(map) {
  const box = $('audios');
  const old = new Map([...box.children].map((e) => [e.dataset.peer, e]));
  for (const [id, track] of map) {
    let a = old.get(id);
    old.delete(id);
    if (!a) {
      a = el('audio');
      a.autoplay = true;
      a.dataset.peer = id;
      box.append(a);
    }
    attach(a, track);
  }
  for (const a of old.values()) a.remove();
}

export function chatLine(m) {
  const li = el('li');
  const time = el('time', new Date(m.ts || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
  li.append(el('b', m.name), ' ', time, el('p', m.text));
  $('msgs').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

// Connection quality 1 (poor) to 3 (good); 0 hides the indicator.
export function quality(q) {
  const e = $('quality');
  e.hidden = !q;
  e.dataset.q = q;
  if (q) {
    e.setAttribute('aria-label', t('quality', { q: t('q' + q) }));
    e.title = e.getAttribute('aria-label');
  }
}

// What the meeting has cost the server so far (the server's latest `footprint`, or null).
export function footprint(m) {
  const e = $('footprint');
  e.hidden = !m;
  if (!m) return;
  const mb = m.bytes_relayed / 1e6;
  const n = (v, d) => v.toLocaleString(lang, { maximumFractionDigits: d });
  e.textContent = t('footprint', { mb: n(mb, mb < 10 ? 1 : 0), wh: n(m.energy_wh, m.energy_wh < 1 ? 2 : 1) });
}
