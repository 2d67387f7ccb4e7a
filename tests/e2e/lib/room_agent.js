'use strict';
// The in-page participant of the room tests (tests/e2e/room_*.js).
//
// installAgent() is serialised into a page served by sobre (playwright and puppeteer send
// its source text: it must be self-contained) and leaves window.__e2e there: a
// participant holding the WebSocket and the two RTCPeerConnections of PROTOCOL.md:
//
// - publish: the page offers its fake camera and microphone (sendonly), the server answers;
// - subscribe: the server offers (one m-line per forwarded track), the page answers every
//   offer as it comes, in order: setRemoteDescription(offer), createAnswer,
//   setLocalDescription, {"type":"answer"} - renegotiations included.
//
// Node drives it step by step (lib/room.js: Participant.call): each method is async,
// never throws and returns a plain object; Node judges. Every wait here is bounded.
function installAgent() {
    if (window.__e2e) return 'present';
    const A = {
        name: '', selfId: null, ws: null, wsClosed: null, t0: Date.now(),
        msgs: [],        // every server message, SDPs replaced by their length, with .at (ms)
        inbox: [],       // messages not consumed yet by next() (offers are handled apart)
        stream: null,
        pub: null, pubOffer: null, pubAnswer: null, pubStates: [],
        sub: null, subStates: [],
        subOffers: [],   // { at, offer, answer, error } per server offer, in order
        tracks: [],      // ontrack on the subscribe connection: { at, kind, mid, trackId, streams }
        trackEvents: [], // ended, mute, unmute, removetrack of those tracks: { at, what, kind, mid, from }
        streamOf: {},    // track id -> streams[0].id
        chain: Promise.resolve(),
        wake: null,
        seq: 0,
    };
    const now = () => Date.now() - A.t0;
    const plog = (...a) => console.log(`[page ${A.name}] ` + a.join(' '));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const bounded = (p, ms, what) => {
        let timer;
        const t = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
        });
        return Promise.race([p, t]).finally(() => clearTimeout(timer));
    };
    const errText = (e) => `${(e && e.name) || 'Error'}: ${(e && e.message) || e}`;
    const send = (obj) => {
        A.ws.send(JSON.stringify(obj));
        const brief = Object.assign({}, obj);
        if (typeof brief.sdp === 'string') brief.sdp = `<${brief.sdp.length} bytes>`;
        plog('->', JSON.stringify(brief));
    };
    // The next message satisfying pred (others stay in the inbox).
    const next = async (pred, ms, what) => {
        const deadline = Date.now() + ms;
        for (;;) {
            const i = A.inbox.findIndex(pred);
            if (i >= 0) return A.inbox.splice(i, 1)[0];
            if (A.wsClosed) throw new Error(`the server closed the WebSocket (${A.wsClosed}) ` +
                                            `while waiting for ${what}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
            await new Promise((r) => {
                A.wake = r;
                setTimeout(r, Math.min(left, 200));
            });
        }
    };
    const pcState = (pc, states) => {
        if (!pc) return null;
        const tr = pc.getTransceivers();
        let dtls = 'n/a';
        for (const t of tr) {
            const transport = (t.sender && t.sender.transport) || (t.receiver && t.receiver.transport);
            if (transport) {
                dtls = transport.state;
                break;
            }
        }
        const s = {
            at: now(), signaling: pc.signalingState, ice: pc.iceConnectionState,
            connection: pc.connectionState, dtls,
        };
        if (states) {
            const last = states[states.length - 1];
            if (!last || last.ice !== s.ice || last.connection !== s.connection ||
                last.dtls !== s.dtls || last.signaling !== s.signaling) states.push(s);
        }
        return s;
    };
    const watch = (pc, label, states) => {
        const on = () => plog(label, JSON.stringify(pcState(pc, states)));
        pc.oniceconnectionstatechange = on;
        pc.onconnectionstatechange = on;
        pc.onsignalingstatechange = on;
    };
    const pick = (s, keys) => {
        const o = {};
        for (const k of keys) if (s[k] !== undefined) o[k] = s[k];
        return o;
    };
    const IN_KEYS = ['ssrc', 'packetsReceived', 'bytesReceived', 'packetsLost', 'jitter',
        'framesReceived', 'framesDecoded', 'framesDropped', 'keyFramesDecoded', 'frameWidth',
        'frameHeight', 'framesPerSecond', 'nackCount', 'pliCount', 'firCount',
        'totalSamplesReceived', 'concealedSamples', 'audioLevel', 'totalAudioEnergy',
        'totalSamplesDuration', 'trackIdentifier'];
    const OUT_KEYS = ['ssrc', 'packetsSent', 'bytesSent', 'framesEncoded', 'frameWidth',
        'frameHeight', 'nackCount', 'pliCount', 'firCount', 'qualityLimitationReason', 'rid',
        'scalabilityMode', 'framesPerSecond'];

    // A server offer on the subscribe connection: answered in order, one at a time.
    const onOffer = (sdp) => {
        const rec = { at: now(), offer: sdp, answer: null, error: null };
        A.subOffers.push(rec);
        A.chain = A.chain.then(async () => {
            try {
                if (!A.sub) {
                    A.sub = new RTCPeerConnection({ iceServers: [] });
                    watch(A.sub, 'subscribe', A.subStates);
                    A.sub.ontrack = (ev) => {
                        const t = {
                            at: now(), kind: ev.track.kind, trackId: ev.track.id,
                            mid: ev.transceiver ? ev.transceiver.mid : null,
                            streams: ev.streams.map((s) => s.id),
                        };
                        A.tracks.push(t);
                        A.streamOf[ev.track.id] = t.streams[0];
                        plog('ontrack', JSON.stringify(t));
                        // What the browser does when the server closes the m-line.
                        const track = ev.track;
                        const note = (what) => {
                            A.trackEvents.push({ at: now(), what, kind: track.kind, mid: t.mid,
                                                 from: t.streams[0] });
                            plog('track', what, track.kind, 'mid', t.mid, 'of', t.streams[0]);
                        };
                        track.addEventListener('ended', () => note('ended'));
                        track.addEventListener('mute', () => note('mute'));
                        track.addEventListener('unmute', () => note('unmute'));
                        for (const s of ev.streams) {
                            s.addEventListener('removetrack', (e) => {
                                if (e.track === track) note('removetrack');
                            });
                        }
                    };
                }
                await A.sub.setRemoteDescription({ type: 'offer', sdp });
                const answer = await A.sub.createAnswer();
                await A.sub.setLocalDescription(answer);
                rec.answer = A.sub.localDescription.sdp;
                send({ type: 'answer', sdp: rec.answer });
                pcState(A.sub, A.subStates);
            } catch (e) {
                rec.error = errText(e);
                plog('subscribe offer refused:', rec.error);
            }
        });
    };

    // { ok, stage, message, self, peers }
    A.connect = async ({ wsUrl, room, name }) => {
        A.name = name;
        try {
            A.ws = new WebSocket(wsUrl, 'sobre.v1');
        } catch (e) {
            return { ok: false, stage: 'join', message: `WebSocket: ${errText(e)}` };
        }
        // `layers`: send only the simulcast encodings named (as the web client does).
        const setLayers = (m) => {
            const t = A.pub && A.pub.getTransceivers().find((x) => x.mid === m.mid);
            if (!t || !Array.isArray(m.rids)) return;
            const p = t.sender.getParameters();
            for (const e of p.encodings || []) if (e.rid) e.active = m.rids.includes(e.rid);
            t.sender.setParameters(p).catch((e) => plog('setParameters:', errText(e)));
        };
        A.ws.onmessage = (ev) => {
            let m;
            try {
                m = JSON.parse(ev.data);
            } catch (e) {
                m = { type: 'invalid-json', data: String(ev.data).slice(0, 200) };
            }
            const brief = Object.assign({ at: now() }, m);
            if (typeof brief.sdp === 'string') brief.sdp = `<${brief.sdp.length} bytes>`;
            A.msgs.push(brief);
            if (m.type !== 'speaking' && m.type !== 'bandwidth') plog('<-', JSON.stringify(brief));
            if (m.type === 'offer' && typeof m.sdp === 'string') onOffer(m.sdp);
            else if (m.type === 'layers') setLayers(m);
            else A.inbox.push(m);
            if (A.wake) A.wake();
        };
        A.ws.onclose = (ev) => {
            A.wsClosed = `code ${ev.code} ${ev.reason || ''}`.trim();
            plog('WebSocket closed:', A.wsClosed);
            if (A.wake) A.wake();
        };
        try {
            await bounded(new Promise((ok, ko) => {
                A.ws.onopen = ok;
                A.ws.onerror = () => ko(new Error('WebSocket error'));
            }), 5000, 'WebSocket open');
        } catch (e) {
            return { ok: false, stage: 'join', message: `cannot open ${wsUrl}: ${e.message}` };
        }
        send({ type: 'join', room, name });
        let m;
        try {
            m = await next((x) => x.type === 'joined' || x.type === 'error', 5000, 'joined');
        } catch (e) {
            return { ok: false, stage: 'join', message: e.message };
        }
        if (m.type === 'error') return { ok: false, stage: 'join', message: `${m.code}: ${m.message}` };
        A.selfId = m.self && m.self.id;
        return { ok: true, stage: 'join', self: m.self, peers: m.peers, limits: m.limits };
    };

    // The video codec preferences for `want` ('H264': packetization-mode 1, constrained
    // baseline 42e01f first, then the other packetization-mode 1 baseline ones, then RTX;
    // nothing else, so that the publisher cannot fall back to another codec), from
    // RTCRtpSender.getCapabilities('video'). { codecs } or { error, capabilities }.
    const videoPreferences = (want) => {
        const caps = (RTCRtpSender.getCapabilities('video') || { codecs: [] }).codecs;
        const fmtp = (c, k) => {
            const m = new RegExp(`(?:^|;)\\s*${k}=([^;]*)`).exec(c.sdpFmtpLine || '');
            return m ? m[1].toLowerCase() : null;
        };
        const mime = `video/${want}`.toLowerCase();
        const rank = (c) => {
            if (c.mimeType.toLowerCase() !== mime) return 0;
            if (mime !== 'video/h264') return 1;
            if (fmtp(c, 'packetization-mode') !== '1') return 0;
            const plid = fmtp(c, 'profile-level-id') || '';
            if (plid === '42e01f') return 3;
            return plid.startsWith('42') ? 2 : 0;
        };
        const main = caps.filter((c) => rank(c) > 0).sort((a, b) => rank(b) - rank(a));
        const describe = (c) => `${c.mimeType}${c.sdpFmtpLine ? ` ${c.sdpFmtpLine}` : ''}`;
        if (!main.length) return { error: `no ${want} codec in RTCRtpSender.getCapabilities('video')`,
                                   capabilities: caps.map(describe) };
        const rtx = caps.filter((c) => c.mimeType.toLowerCase() === 'video/rtx');
        return { codecs: [...main, ...rtx], described: [...main, ...rtx].map(describe) };
    };

    // getUserMedia, then the publish offer (sendonly) and the server's answer. With
    // videoCodec (e.g. 'H264'), the video transceiver is limited to that codec (and RTX)
    // with setCodecPreferences; with sendEncodings, video is sent with them (simulcast),
    // without their scalabilityMode if the browser refuses it.
    // { ok, stage, message, videoPreferences }
    A.publish = async ({ width, height, frameRate, videoCodec, sendEncodings }) => {
        try {
            A.stream = await bounded(navigator.mediaDevices.getUserMedia(
                { audio: true, video: { width, height, frameRate } }), 10000, 'getUserMedia');
        } catch (e) {
            return { ok: false, stage: 'getUserMedia', message: `fake devices: ${errText(e)}` };
        }
        try {
            A.pub = new RTCPeerConnection({ iceServers: [] });
            watch(A.pub, 'publish', A.pubStates);
            for (const track of [...A.stream.getAudioTracks(), ...A.stream.getVideoTracks()]) {
                const init = { direction: 'sendonly', streams: [A.stream] };
                let t;
                if (track.kind === 'video' && sendEncodings) {
                    try {
                        t = A.pub.addTransceiver(track, Object.assign({ sendEncodings }, init));
                    } catch (e) {
                        console.log(`sendEncodings refused (${errText(e)}): without scalabilityMode`);
                        const plain = sendEncodings.map((e) => Object.assign({}, e, { scalabilityMode: undefined }));
                        t = A.pub.addTransceiver(track, Object.assign({ sendEncodings: plain }, init));
                    }
                } else {
                    t = A.pub.addTransceiver(track, init);
                }
                if (track.kind !== 'video' || !videoCodec) continue;
                const prefs = videoPreferences(videoCodec);
                if (prefs.error) {
                    return { ok: false, stage: 'codec', message: prefs.error,
                             capabilities: prefs.capabilities,
                             receiverCapabilities: ((RTCRtpReceiver.getCapabilities('video') ||
                                 { codecs: [] }).codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine || ''}`) };
                }
                t.setCodecPreferences(prefs.codecs);
                A.videoPreferences = prefs.described;
            }
            await A.pub.setLocalDescription(await A.pub.createOffer());
            // A complete offer (host candidates included) reads better in the logs; ICE-lite
            // needs none. Bounded: 3 s.
            const gatherDeadline = Date.now() + 3000;
            while (A.pub.iceGatheringState !== 'complete' && Date.now() < gatherDeadline)
                await sleep(50);
            A.pubOffer = A.pub.localDescription.sdp;
        } catch (e) {
            return { ok: false, stage: 'publish answer', message: `creating the offer: ${errText(e)}` };
        }
        const id = `publish-${++A.seq}`;
        send({ type: 'publish', id, sdp: A.pubOffer });
        let m;
        try {
            m = await next((x) => (x.type === 'answer' || x.type === 'error') && x.id === id,
                           10000, `answer to ${id}`);
        } catch (e) {
            return { ok: false, stage: 'publish answer', message: e.message };
        }
        if (m.type === 'error') {
            return { ok: false, stage: 'publish answer', code: m.code,
                     message: `publish refused: ${m.code}: ${m.message}` };
        }
        A.pubAnswer = m.sdp;
        try {
            await A.pub.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        } catch (e) {
            return { ok: false, stage: 'publish answer',
                     message: `setRemoteDescription(answer) refused it: ${errText(e)}` };
        }
        pcState(A.pub, A.pubStates);
        return { ok: true, stage: 'publish answer', videoPreferences: A.videoPreferences || null };
    };

    // A request that gets {"type":"ok"} back (mute, prefs, chat): { ok, message }
    A.request = async (obj) => {
        const id = `req-${++A.seq}`;
        try {
            send(Object.assign({}, obj, { id }));
            const m = await next((x) => (x.type === 'ok' || x.type === 'error') && x.id === id,
                                 5000, `reply to ${id}`);
            if (m.type === 'error') return { ok: false, message: `${m.code}: ${m.message}` };
            return { ok: true };
        } catch (e) {
            return { ok: false, message: e.message };
        }
    };

    // {"type":"leave"}, then the server closes the socket: { ok, closed }
    A.leave = async () => {
        try {
            send({ type: 'leave' });
        } catch (e) {
            return { ok: false, message: errText(e) };
        }
        const deadline = Date.now() + 5000;
        while (!A.wsClosed && Date.now() < deadline) await sleep(50);
        return { ok: !!A.wsClosed, closed: A.wsClosed };
    };

    // What happened so far, small enough to poll.
    A.state = async () => ({
        name: A.name, selfId: A.selfId, wsClosed: A.wsClosed,
        msgs: A.msgs.filter((m) => m.type !== 'speaking' && m.type !== 'bandwidth'),
        pub: pcState(A.pub, A.pubStates), sub: pcState(A.sub, A.subStates),
        pubStates: A.pubStates, subStates: A.subStates, tracks: A.tracks,
        trackEvents: A.trackEvents,
        offers: A.subOffers.map((o, i) => ({ n: i, at: o.at, answered: !!o.answer, error: o.error })),
    });

    // Every SDP of this participant, for a failure report.
    A.sdps = async () => ({
        pubOffer: A.pubOffer, pubAnswer: A.pubAnswer,
        sub: A.subOffers.map((o) => ({ at: o.at, offer: o.offer, answer: o.answer, error: o.error })),
    });

    // The subscribe connection receiver by receiver (with the publisher's id from ontrack
    // streams[0].id) and the publish connection's outbound streams.
    A.stats = async () => {
        const out = { at: now(), recv: [], sent: {} };
        if (A.sub) {
            for (const t of A.sub.getTransceivers()) {
                const track = t.receiver.track;
                const r = {
                    mid: t.mid, kind: track.kind, direction: t.direction,
                    currentDirection: t.currentDirection, trackId: track.id,
                    from: A.streamOf[track.id] || null, readyState: track.readyState,
                    muted: track.muted, stopped: t.stopped,
                    inbound: null, codec: null,
                };
                try {
                    const report = await t.receiver.getStats();
                    const byId = new Map();
                    report.forEach((s) => byId.set(s.id, s));
                    report.forEach((s) => {
                        if (s.type === 'inbound-rtp' && !s.isRemote && s.kind === track.kind) {
                            r.inbound = pick(s, IN_KEYS);
                            const c = s.codecId && byId.get(s.codecId);
                            if (c) r.codec = `${c.mimeType}/${c.clockRate}` +
                                (c.sdpFmtpLine ? ` ${c.sdpFmtpLine}` : '');
                        }
                    });
                } catch (e) {
                    r.error = errText(e);
                }
                out.recv.push(r);
            }
            // Transport totals: packets that reached the connection, whichever stream
            // (or none) the browser gave them to, to tell "never sent" from "dropped here".
            try {
                const report = await A.sub.getStats();
                report.forEach((s) => {
                    if (s.type === 'candidate-pair' && s.state === 'succeeded' &&
                        (s.nominated || s.selected)) {
                        out.subPair = pick(s, ['packetsReceived', 'bytesReceived', 'packetsSent',
                            'bytesSent', 'currentRoundTripTime']);
                    }
                });
            } catch (e) {
                out.subPairError = errText(e);
            }
        }
        if (A.pub) {
            try {
                const report = await A.pub.getStats();
                const byId = new Map();
                report.forEach((s) => byId.set(s.id, s));
                report.forEach((s) => {
                    if (s.type === 'outbound-rtp' && !s.isRemote) {
                        const o = pick(s, OUT_KEYS);
                        const c = s.codecId && byId.get(s.codecId);
                        if (c) o.codec = c.mimeType;
                        // Simulcast gives several per kind: each in `layers`, bytes summed.
                        if (s.rid) (out.layers = out.layers || []).push(Object.assign({}, o));
                        const prev = out.sent[s.kind];
                        if (prev) prev.bytesSent = (prev.bytesSent || 0) + (o.bytesSent || 0);
                        else out.sent[s.kind] = o;
                    }
                });
            } catch (e) {
                out.sentError = errText(e);
            }
        }
        return out;
    };

    // getStats() of every receiver every `every` ms for `ms` (bounded in count too), in
    // this page so that the sampling period holds: [{ at, recv: [{ from, kind, pkts,
    // lost, bytes, frames, width, fps }] }] (the bandwidth tests judge gaps from these).
    A.sample = async ({ ms, every }) => {
        const out = [];
        const t0 = Date.now();
        for (let i = 0; i <= ms / every + 1 && Date.now() - t0 <= ms; i++) {
            const st = await A.stats();
            out.push({ at: st.at, recv: st.recv.filter((r) => r.inbound).map((r) => ({
                from: r.from, kind: r.kind, dir: r.currentDirection,
                pkts: r.inbound.packetsReceived || 0, lost: r.inbound.packetsLost || 0,
                bytes: r.inbound.bytesReceived || 0, frames: r.inbound.framesDecoded || 0,
                width: r.inbound.frameWidth || 0, fps: r.inbound.framesPerSecond || 0,
            })) });
            const next = t0 + (i + 1) * every;
            if (next > Date.now()) await sleep(next - Date.now());
        }
        return out;
    };

    // The active receivers (currentDirection recvonly) of `kind`, each with its publisher.
    const activeReceivers = (kind) => (A.sub ? A.sub.getTransceivers() : []).filter((t) =>
        t.receiver.track.kind === kind && t.currentDirection === 'recvonly');

    // Times to the first decoded frame of every active video receiver, counted from the
    // moment the subscribe connection became 'connected' (its state change event), polling
    // getStats() every 50 ms for at most ms. { ok, connectedAt, first: [{ mid, from, ms }],
    // missing: [{ mid, from, framesDecoded, bytesReceived }], message }
    A.firstFrames = async ({ expect, ms }) => {
        const deadline = Date.now() + ms;
        const first = new Map();
        let connectedAt = null, rx = [];
        for (let round = 0; round < ms / 50 + 2 && Date.now() < deadline; round++) {
            const c = A.subStates.find((s) => s.connection === 'connected');
            if (c) connectedAt = c.at;
            rx = activeReceivers('video');
            for (const t of rx) {
                if (first.has(t.mid)) continue;
                const report = await t.receiver.getStats();
                let frames = 0;
                report.forEach((s) => {
                    if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0;
                });
                if (frames > 0) first.set(t.mid, { mid: t.mid, from: A.streamOf[t.receiver.track.id], at: now() });
            }
            if (connectedAt !== null && rx.length >= expect && rx.every((t) => first.has(t.mid))) break;
            await sleep(50);
        }
        const out = { connectedAt, receivers: rx.length, first: [], missing: [] };
        for (const t of rx) {
            const f = first.get(t.mid);
            if (f) out.first.push({ mid: f.mid, from: f.from, ms: connectedAt === null ? null : f.at - connectedAt });
            else out.missing.push({ mid: t.mid, from: A.streamOf[t.receiver.track.id] });
        }
        out.ok = connectedAt !== null && rx.length >= expect && out.missing.length === 0;
        return out;
    };

    // Listens to the audio received from peer `from` through WebAudio: an AudioContext, a
    // MediaStreamAudioSourceNode of that track and an AnalyserNode, read every 100 ms for
    // ms. With `element`, the stream also plays in a muted <audio> element.
    // { ok, message, state, sampleRate, readings: [{ t, rms, hz, db }] }
    A.listen = async ({ from, ms, element }) => {
        const t = activeReceivers('audio').find((x) => A.streamOf[x.receiver.track.id] === from);
        if (!t) return { ok: false, message: `no active audio receiver from ${from}` };
        const out = { ok: true, readings: [] };
        let ctx = null, el = null;
        try {
            const stream = new MediaStream([t.receiver.track]);
            if (element) {
                el = document.createElement('audio');
                el.muted = true;
                el.srcObject = stream;
                document.body.appendChild(el);
                try {
                    await bounded(el.play(), 2000, 'audio element play()');
                } catch (e) {
                    out.elementError = errText(e);
                }
            }
            ctx = new AudioContext();
            out.initialState = ctx.state;
            try {
                await bounded(ctx.resume(), 2000, 'AudioContext.resume()');
            } catch (e) {
                out.resumeError = errText(e);
            }
            out.state = ctx.state;
            out.sampleRate = ctx.sampleRate;
            const src = ctx.createMediaStreamSource(stream);
            const an = ctx.createAnalyser();
            an.fftSize = 16384;
            an.smoothingTimeConstant = 0;
            src.connect(an);
            const td = new Float32Array(an.fftSize);
            const fd = new Float32Array(an.frequencyBinCount);
            const t0 = Date.now();
            for (let i = 0; i < ms / 100 + 1 && Date.now() - t0 < ms; i++) {
                await sleep(100);
                an.getFloatTimeDomainData(td);
                an.getFloatFrequencyData(fd);
                let sum = 0;
                for (const v of td) sum += v * v;
                let peak = 0;
                for (let k = 1; k < fd.length; k++) if (fd[k] > fd[peak] || peak === 0) peak = k;
                out.readings.push({ t: Date.now() - t0, rms: Math.sqrt(sum / td.length),
                                    hz: peak * ctx.sampleRate / an.fftSize, db: fd[peak],
                                    ctxTime: ctx.currentTime });
            }
            out.endState = ctx.state;
        } catch (e) {
            out.ok = false;
            out.message = errText(e);
        } finally {
            if (ctx) ctx.close().catch(() => {});
            if (el) {
                el.srcObject = null;
                el.remove();
            }
        }
        return out;
    };

    A.close = async () => {
        try {
            if (A.ws && A.ws.readyState === WebSocket.OPEN) A.ws.close();
            if (A.pub) A.pub.close();
            if (A.sub) A.sub.close();
            if (A.stream) A.stream.getTracks().forEach((t) => t.stop());
        } catch (e) {
            // best effort: the browser is closed right after
        }
        return { ok: true };
    };

    window.__e2e = A;
    return 'installed';
}

module.exports = { installAgent };
