// i18n: the interface's sentences in English and French. The language follows the
// browser's unless the person switches (remembered in localStorage). In the page,
// data-t="key" sets an element's text, data-tl="key" its aria-label and title,
// data-tp="key" its placeholder.
const S = {
  en: {
    welcome: 'Join a meeting', joinRoom: 'Join the room “{room}”',
    intro: 'Audio first: your camera stays off unless you turn it on.',
    room: 'Room name', roomHint: 'letters, digits, dot, dash, underscore',
    name: 'Your name', password: 'Room password', join: 'Join', joining: 'Joining…',
    mic: 'Microphone', level: 'Microphone level', preview: 'Camera preview',
    camOn: 'Turn camera on', camOff: 'Turn camera off',
    noMic: 'No microphone found: you will join listen-only.',
    micDenied: 'Microphone access was refused: you will join listen-only. Allow it in the browser to speak.',
    noCam: 'No camera found.', camDenied: 'Camera access was refused.',
    shareDenied: 'Screen sharing was cancelled or refused.',
    mute: 'Mute microphone', unmute: 'Unmute microphone', share: 'Share screen',
    stopShare: 'Stop sharing', audioOnly: 'Audio-only mode (receive no video)',
    people: 'Participants', chat: 'Chat', invite: 'Copy invite link', inviteLink: 'Invite link',
    copied: 'Invite link copied.', leave: 'Leave', send: 'Send', message: 'Message',
    you: '(you)', micOff: 'microphone off', talking: 'speaking', unread: '{n} unread',
    alone: 'Nobody else is here yet: send them the invite link.',
    left: 'You left the meeting.', again: 'Join again',
    reconnecting: 'Connection lost: reconnecting…', reconnected: 'Reconnected.',
    footprint: 'This meeting so far: {mb} MB relayed, {wh} Wh on the server',
    quality: 'Connection quality: {q}', q3: 'good', q2: 'fair', q1: 'poor',
    videoOff: 'Video is turned off in this room.', lang: 'Français', langName: 'Changer de langue',
    e_room_name: 'A room name is 1 to 64 letters, digits, dots, dashes or underscores.',
    e_bad_request: 'The server did not understand a request from this page: reload it and try again.',
    e_too_large: 'A message was too large for the server.',
    e_rate_limited: 'Too many actions at once: wait a moment and try again.',
    e_unauthorized: 'Wrong password: please try again.',
    e_need_password: 'This room is protected by a password: please enter it.',
    e_room_full: 'This room is full: try again later.',
    e_room_unknown: 'This room does not exist: check the link or the room name.',
    e_video_disabled: 'Video is turned off in this room: you take part with audio only.',
    e_sdp_rejected: 'The server could not use this browser’s audio or video settings.',
    e_server_full: 'The server is full: try again later.',
    e_internal: 'The server ran into an internal error.',
    e_media_failed: 'The audio and video connection was lost: reconnecting…',
    e_connect: 'Cannot reach the server: check your connection and try again.',
    e_bye: 'The server ended the meeting.', e_other: 'Error: {m}',
  },
  fr: {
    welcome: 'Rejoindre une réunion', joinRoom: 'Rejoindre la salle « {room} »',
    intro: 'L’audio d’abord : votre caméra reste éteinte sauf si vous l’allumez.',
    room: 'Nom de la salle', roomHint: 'lettres, chiffres, point, tiret, tiret bas',
    name: 'Votre nom', password: 'Mot de passe de la salle', join: 'Rejoindre', joining: 'Connexion…',
    mic: 'Micro', level: 'Niveau du micro', preview: 'Aperçu de la caméra',
    camOn: 'Allumer la caméra', camOff: 'Éteindre la caméra',
    noMic: 'Aucun micro trouvé : vous rejoindrez en écoute seule.',
    micDenied: 'L’accès au micro a été refusé : vous rejoindrez en écoute seule. Autorisez-le dans le navigateur pour parler.',
    noCam: 'Aucune caméra trouvée.', camDenied: 'L’accès à la caméra a été refusé.',
    shareDenied: 'Le partage d’écran a été annulé ou refusé.',
    mute: 'Couper le micro', unmute: 'Rétablir le micro', share: 'Partager l’écran',
    stopShare: 'Arrêter le partage', audioOnly: 'Mode audio seul (ne recevoir aucune vidéo)',
    people: 'Participants', chat: 'Discussion', invite: 'Copier le lien d’invitation',
    inviteLink: 'Lien d’invitation', copied: 'Lien d’invitation copié.', leave: 'Quitter',
    send: 'Envoyer', message: 'Message', you: '(vous)', micOff: 'micro coupé', talking: 'parle',
    unread: '{n} non lus', alone: 'Personne d’autre pour l’instant : envoyez le lien d’invitation.',
    left: 'Vous avez quitté la réunion.', again: 'Rejoindre à nouveau',
    reconnecting: 'Connexion perdue : reconnexion…', reconnected: 'Reconnecté.',
    footprint: 'Cette réunion jusqu’ici : {mb} Mo relayés, {wh} Wh sur le serveur',
    quality: 'Qualité de connexion : {q}', q3: 'bonne', q2: 'moyenne', q1: 'mauvaise',
    videoOff: 'La vidéo est désactivée dans cette salle.', lang: 'English', langName: 'Change language',
    e_room_name: 'Un nom de salle compte 1 à 64 lettres, chiffres, points, tirets ou tirets bas.',
    e_bad_request: 'Le serveur n’a pas compris une demande de cette page : rechargez-la et réessayez.',
    e_too_large: 'Un message était trop gros pour le serveur.',
    e_rate_limited: 'Trop d’actions à la fois : patientez un instant et réessayez.',
    e_unauthorized: 'Mot de passe incorrect : réessayez.',
    e_need_password: 'Cette salle est protégée par un mot de passe : saisissez-le.',
    e_room_full: 'Cette salle est pleine : réessayez plus tard.',
    e_room_unknown: 'Cette salle n’existe pas : vérifiez le lien ou le nom de la salle.',
    e_video_disabled: 'La vidéo est désactivée dans cette salle : vous participez en audio seul.',
    e_sdp_rejected: 'Le serveur n’a pas pu utiliser les réglages audio ou vidéo de ce navigateur.',
    e_server_full: 'Le serveur est plein : réessayez plus tard.',
    e_internal: 'Le serveur a rencontré une erreur interne.',
    e_media_failed: 'La connexion audio et vidéo a été perdue : reconnexion…',
    e_connect: 'Impossible de joindre le serveur : vérifiez votre connexion et réessayez.',
    e_bye: 'Le serveur a mis fin à la réunion.', e_other: 'Erreur : {m}',
  },
};

const store = (k, v) => { try { if (v === undefined) return localStorage.getItem(k); localStorage.setItem(k, v); } catch (e) { /* private mode */ } return null; };
export { store };

export let lang = store('sobre.lang') || ((navigator.language || 'en').startsWith('fr') ? 'fr' : 'en');

export function t(key, vars = {}) {
  const s = S[lang][key] ?? S.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, n) => vars[n] ?? '');
}

// The sentence for an error code of PROTOCOL.md (or media_failed, connect, bye).
export const errorText = (code, message) =>
  S.en['e_' + code] ? t('e_' + code) : t('e_other', { m: message || code });

export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll('[data-tl]')) {
    el.setAttribute('aria-label', t(el.dataset.tl));
    el.title = t(el.dataset.tl);
  }
  for (const el of root.querySelectorAll('[data-tp]')) el.placeholder = t(el.dataset.tp);
  const b = document.getElementById('lang');
  if (b) b.lang = lang === 'fr' ? 'en' : 'fr';   // the switch speaks the other language
}

export function toggle() {
  lang = lang === 'fr' ? 'en' : 'fr';
  store('sobre.lang', lang);
  apply();
}
