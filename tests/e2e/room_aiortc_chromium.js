'use strict';
// e2e.room_aiortc_chromium: audio content survives forwarding between an independent,
// non-browser client (aiortc, lib/aiortc_agent.py) and headless Chromium, both ways, in one
// ordinary room. Each participant publishes (Chromium its fake camera and microphone,
// aiortc a 440 Hz sine) and subscribes to the other (PROTOCOL.md's two connections).
//
//   aiortc -> Chromium   the track is labelled with aiortc's peer id (ontrack
//                        streams[0].id), inbound-rtp audio packetsReceived grows, and
//                        WebAudio identifies the tone: an AnalyserNode on a
//                        MediaStreamAudioSourceNode of the received track reads a dominant
//                        440 Hz (+-5 Hz) in at least 80% of its 100 ms readings over 3 s.
//                        Headless Chromium pulls a received audio track out of WebRTC's
//                        jitter buffer only for a media element: WebAudio alone reads
//                        silence (and inbound-rtp totalSamplesReceived does not move) unless
//                        the stream also plays in an <audio> element, muted or not; the
//                        test attaches a muted one while it listens.
//   Chromium -> aiortc   aiortc decodes 4 s of Chromium's fake microphone and finds what
//                        Chromium's fake audio device makes (media/audio/simple_sources.cc,
//                        BeepingSource): every 500 ms, 20 ms of a 400 Hz square wave, and
//                        silence between: beeps whose spectrum peaks at 400 Hz (+-10 Hz),
//                        onsets 500 ms apart, 20 dB above the gaps.
// See lib/room.js (Node side, AiortcAgent), lib/room_agent.js (in the page).
const { log } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, StageError, findRecv, num } = require('./lib/room');

const TONE_HZ = 440;
const TONE_TOLERANCE_HZ = 5;   // the AnalyserNode's bins are 2.7 Hz (44.1 kHz) or 2.9 Hz apart
const LISTEN_MS = 3000;
const BEEP_HZ = 400;           // kBeepFrequency; 44.1 kHz makes it 400.9 Hz (110-frame period)
const BEEP_TOLERANCE_HZ = 10;
const BEEP_PERIOD_MS = 500;    // kAutomaticBeepIntervalInMs
const ANALYSE_S = 4;

runRoomTest('room_aiortc_chromium', async (ctx) => {
    const b = await ctx.launch('chromium', launchChromium);
    const chrome = await ctx.participant(b, 'chromium');
    await chrome.connect();
    await chrome.publish();
    await chrome.waitConnected('pub');

    const ai = ctx.aiortc(`aiortc-${TONE_HZ}`, TONE_HZ);
    const joined = await ai.waitEvent('join', 'joined', 10000, (e) => e.event === 'joined');
    if (!joined.peers.includes(chrome.id)) {
        throw new StageError('join', `aiortc's joined.peers ${JSON.stringify(joined.peers)} ` +
                             `does not list chromium (${chrome.id})`);
    }
    await ai.waitEvent('publish answer', 'publish connection up', 25000,
                       (e) => e.event === 'published');
    await ai.waitEvent('subscribe offer', 'subscribe connection up', 25000,
                       (e) => e.event === 'subscribed');
    const offers = ai.events.filter((e) => e.event === 'offer');
    const last = offers[offers.length - 1];
    const live = last.sections.filter((s) => s.port !== 0 && s.direction === 'sendonly');
    log(`aiortc's subscribe offer #${last.n}: ${JSON.stringify(last.sections)}`);
    if (!['audio', 'video'].every((k) => live.filter((s) => s.kind === k && s.msid === chrome.id).length === 1)) {
        throw new StageError('subscribe offer', `aiortc's offer should carry one audio and one ` +
                             `video m-line labelled ${chrome.id}: ${JSON.stringify(last.sections)}`);
    }
    await chrome.waitSubscribed([ai], 15000, ['audio']);
    await chrome.waitConnected('sub');

    // Both directions at once: aiortc records Chromium's audio while Chromium listens.
    const from = ai.events.length;
    ai.command(`analyse ${chrome.id} ${ANALYSE_S}`);
    const s0 = await chrome.stats();
    const heard = await chrome.call('listen', { from: ai.id, ms: LISTEN_MS, element: true },
                                    LISTEN_MS + 15000);
    const s1 = await chrome.stats();
    const got = await ai.waitEvent('media', `${ANALYSE_S} s of chromium's audio analysed`,
                                   (ANALYSE_S + 15) * 1000,
                                   (e) => e.event === 'audio' && e.from === chrome.id, from);

    // aiortc -> Chromium
    const problems = [];
    const r0 = findRecv(s0, ai.id, 'audio'), r1 = findRecv(s1, ai.id, 'audio');
    const p0 = num(r0, 'packetsReceived'), p1 = num(r1, 'packetsReceived');
    const n0 = num(r0, 'totalSamplesReceived'), n1 = num(r1, 'totalSamplesReceived');
    log(`chromium <- aiortc over ${s1.at - s0.at} ms: packetsReceived ${p0} -> ${p1}, ` +
        `totalSamplesReceived ${n0} -> ${n1}, codec ${r1 && r1.codec}, labelled ${r1 && r1.from}`);
    if (!r1 || r1.from !== ai.id) problems.push(`chromium has no audio receiver labelled ${ai.id}`);
    if (p1 <= p0) problems.push(`chromium: packetsReceived of aiortc's audio did not grow (${p0} -> ${p1})`);
    if (!heard.ok) {
        problems.push(`chromium: WebAudio analysis failed: ${heard.message}`);
    } else {
        const rs = heard.readings.filter((r) => r.t >= 500);   // the element starts playing
        const good = rs.filter((r) => Math.abs(r.hz - TONE_HZ) <= TONE_TOLERANCE_HZ && r.rms > 0.02);
        const hz = rs.map((r) => r.hz.toFixed(1));
        log(`chromium: AudioContext ${heard.state} at ${heard.sampleRate} Hz, ${rs.length} ` +
            `readings of the AnalyserNode after 500 ms: dominant ${[...new Set(hz)].join(', ')} Hz, ` +
            `RMS ${Math.min(...rs.map((r) => r.rms)).toFixed(3)}..` +
            `${Math.max(...rs.map((r) => r.rms)).toFixed(3)}; ${good.length} at ${TONE_HZ} ` +
            `+-${TONE_TOLERANCE_HZ} Hz`);
        if (rs.length < 10 || good.length < 0.8 * rs.length) {
            problems.push(`chromium does not hear aiortc's ${TONE_HZ} Hz tone: ${good.length} of ` +
                          `${rs.length} readings: ${JSON.stringify(rs)}`);
        }
    }

    // Chromium -> aiortc
    if (got.error) {
        problems.push(`aiortc: ${got.error}`);
    } else {
        const a = got.analysis;
        log(`aiortc <- chromium (mid ${got.mid}, ${got.seconds} s): ${a.bursts} beeps at ` +
            `${JSON.stringify(a.onsets_ms)} ms, median period ${a.period_ms} ms ` +
            `(${Math.round(100 * a.periods_ok)}% within 500 +-30 ms), median length ` +
            `${a.duration_ms} ms, ${a.burst_hz} Hz, RMS ${a.burst_rms} in the beeps, ` +
            `${a.gap_rms} between; whole window: dominant ${JSON.stringify(got.dominant)}`);
        const want = [
            [a.bursts >= 0.75 * ANALYSE_S * 1000 / BEEP_PERIOD_MS, `at least ${0.75 * ANALYSE_S * 2} beeps`],
            [a.burst_hz !== null && Math.abs(a.burst_hz - BEEP_HZ) <= BEEP_TOLERANCE_HZ,
             `beeps at ${BEEP_HZ} +-${BEEP_TOLERANCE_HZ} Hz`],
            [a.period_ms !== null && Math.abs(a.period_ms - BEEP_PERIOD_MS) <= 25,
             `a median period of ${BEEP_PERIOD_MS} +-25 ms`],
            [a.periods_ok >= 0.6, 'most intervals within 500 +-30 ms'],
            [a.burst_rms >= 1000 && a.burst_rms >= 10 * a.gap_rms, 'beeps 20 dB above the gaps'],
        ];
        const miss = want.filter(([ok]) => !ok).map(([, what]) => what);
        if (miss.length) {
            problems.push(`aiortc does not find chromium's fake-microphone beeps: expected ` +
                          `${miss.join(', ')}; analysis ${JSON.stringify(got)}`);
        }
    }
    if (problems.length) throw new StageError('media', problems.join('; '));
});
