// Media: the local devices and the two RTCPeerConnections of PROTOCOL.md.
//
// Publisher: this page offers, the server answers. At most one audio and one video
// transceiver, both sendonly; video is simulcast in two layers (half and full
// resolution, lowest first, VP8 temporal layers L1T3 where the browser has them), the
// top one capped at the room's video_kbps: the server forwards each subscriber the
// layer that fits.
// Turning the camera off stops the track and makes the video transceiver inactive (the
// others' tile shows initials); a screen share replaces the video sender's track.
// Subscriber: the server offers one m-line per forwarded track, labelled
// a=msid:<publisher's peer id>; every offer is answered in order.

export const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15 } };

export async function getTrack(kind, deviceId) {
  const c = kind === 'audio'
    ? { audio: deviceId ? { deviceId: { exact: deviceId } } : true }
    : { video: CAMERA };
  return (await navigator.mediaDevices.getUserMedia(c)).getTracks()[0];
}

export async function getScreen() {
  const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 10 } }, audio: false });
  return s.getVideoTracks()[0];
}

export async function microphones() {
  try {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
  } catch (e) {
    return [];
  }
}

// Calls draw(level 0..1) about 15 times a second with the track's loudness; returns stop().
export function meter(track, draw) {
  const ctx = new AudioContext();
  const an = ctx.createAnalyser();
  an.fftSize = 512;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
  const buf = new Float32Array(an.fftSize);
  // A page may not start audio before a click or a key: resume on the first one.
  const resume = () => ctx.state === 'suspended' && ctx.resume();
  addEventListener('pointerdown', resume, { once: true });
  addEventListener('keydown', resume, { once: true });
  const timer = setInterval(() => {
    an.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    draw(Math.min(1, Math.sqrt(sum / buf.length) * 4));
  }, 66);
  return () => { clearInterval(timer); ctx.close(); };
}

const PC = { iceServers: [], bundlePolicy: 'max-bundle' };

// Send encodings of a simulcast video under a cap of kbps (0: none).
function layers(kbps, temporal) {
  const cap = (k) => (kbps ? { maxBitrate: k * 1000 } : {});
  const t = temporal ? { scalabilityMode: 'L1T3' } : {};
  return [
    { rid: 'l', scaleResolutionDownBy: 2, ...cap(Math.max(30, Math.round(kbps / 4))), ...t },
    { rid: 'h', scaleResolutionDownBy: 1, ...cap(kbps), ...t },
  ];
}

export class Publisher {
  // videoKbps: the room's video cap (joined.limits.video_kbps), for the top layer.
  constructor(sig, onstate, videoKbps = 0) {
    this.sig = sig;
    this.videoKbps = videoKbps;
    this.pc = new RTCPeerConnection(PC);
    this.tx = {};
    this.queue = Promise.resolve();
    this.pc.onconnectionstatechange = () => onstate(this.pc.connectionState);
  }

  // Serialises negotiations: one publish at a time, in order.
  run(fn) {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  // Sends track as kind ('audio' or 'video'); null stops sending that kind.
  set(kind, track) {
    return this.run(async () => {
      const t = this.tx[kind];
      if (!t) {
        if (!track) return;
        this.tx[kind] = kind === 'video' ? this.addVideo(track)
          : this.pc.addTransceiver(track, { direction: 'sendonly' });
        return this.negotiate();
      }
      await t.sender.replaceTrack(track);
      const dir = track ? 'sendonly' : 'inactive';
      if (t.direction !== dir) {
        t.direction = dir;
        await this.negotiate();
      }
    });
  }

  // Simulcast, with temporal layers if the browser takes them (else it throws).
  addVideo(track) {
    for (const temporal of [true, false]) {
      try {
        const sendEncodings = layers(this.videoKbps, temporal);
        return this.pc.addTransceiver(track, { direction: 'sendonly', sendEncodings });
      } catch (e) {
        if (!temporal) throw e;
      }
    }
  }

  // `layers`: send only the simulcast encodings named (no one takes the others).
  setLayers(mid, rids) {
    const t = this.pc.getTransceivers().find((x) => x.mid === mid);
    if (!t || !Array.isArray(rids)) return;
    const p = t.sender.getParameters();
    for (const e of p.encodings || []) if (e.rid) e.active = rids.includes(e.rid);
    t.sender.setParameters(p).catch(() => {});
  }

  // ICE restart: a new offer with new credentials (a network change, a failed path).
  restart() {
    return this.run(() => {
      if (!this.pc.getTransceivers().length) return;
      this.pc.restartIce();
      return this.negotiate();
    });
  }

  async negotiate() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const r = await this.sig.request({ type: 'publish', sdp: this.pc.localDescription.sdp });
    if (r.type !== 'answer') {
      await this.pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      if (r.code === 'closed' || r.code === 'timeout') this.dirty = true;   // again after a resume
      throw r;
    }
    this.dirty = false;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
  }

  close() {
    this.pc.close();
  }
}

// The m-sections of an SDP: mid -> publisher's peer id, for the ones that send.
function senders(sdp) {
  const out = {};
  for (const sec of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    const mid = /^a=mid:(\S+)/m.exec(sec), msid = /^a=msid:(\S+)/m.exec(sec);
    if (mid && msid && !/^m=\S+ 0 /.test(sec) && !/^a=(inactive|recvonly)/m.test(sec))
      out[mid[1]] = msid[1];
  }
  return out;
}

export class Subscriber {
  // onchange(Map peer id -> { audio, video } tracks) after each answered offer.
  constructor(sig, onchange, onstate) {
    this.sig = sig;
    this.onchange = onchange;
    this.pc = new RTCPeerConnection(PC);
    this.queue = Promise.resolve();
    this.pc.onconnectionstatechange = () => onstate(this.pc.connectionState);
  }

  offer(sdp) {
    this.queue = this.queue.then(async () => {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.sig.send({ type: 'answer', sdp: this.pc.localDescription.sdp });
      this.onchange(this.tracks());
    }).catch((e) => console.warn('subscribe offer:', e));
  }

  tracks() {
    const from = senders(this.pc.remoteDescription ? this.pc.remoteDescription.sdp : '');
    const out = new Map();
    for (const t of this.pc.getTransceivers()) {
      const id = from[t.mid];
      if (!id || t.stopped) continue;
      if (!out.has(id)) out.set(id, {});
      out.get(id)[t.receiver.track.kind] = t.receiver;
    }
    return out;
  }

  close() {
    this.pc.close();
  }
}

// Loss (0..1: of the packets received since the last call, or the server's report on
// ours) and round-trip time (s) of the connections, from getStats().
export async function linkStats(pcs, prev = {}) {
  let lost = 0, got = 0, rtt = 0, up = 0;
  for (const pc of pcs) {
    if (!pc || pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') {
        lost += s.packetsLost || 0;
        got += s.packetsReceived || 0;
      } else if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime) {
        rtt = Math.max(rtt, s.currentRoundTripTime);
      } else if (s.type === 'remote-inbound-rtp') {
        up = Math.max(up, s.fractionLost || 0);   // what the server lost of ours
      }
    });
  }
  const dl = lost - (prev.lost || 0), dg = got - (prev.got || 0);
  return { lost, got, rtt, loss: Math.max(up, dl + dg > 0 ? Math.max(0, dl) / (dl + dg) : 0) };
}
