'use strict';
// e2e.room_large: one Chromium page in a room of 20 simulated participants
// (bench/loadgen, next to the sobre binary: build/bench/loadgen), each publishing Opus
// audio and VP8-shaped video. The page only subscribes. Within 30 s its subscribe
// connection carries all 40 tracks: the latest offer has 40 m-lines with a port, Chromium
// answers it accepting all 40 (no error setting either description), and every one of
// the 40 receivers counts packets (inbound-rtp packetsReceived > 0, 20 audio and 20
// video, from 20 distinct publishers). Before sobre raised its limit, a subscribe
// connection stopped at 16 m-lines. Logs the offer's and answer's sizes.
const path = require('path');
const { spawn } = require('child_process');
const { log } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');
const { runRoomTest, StageError, waitFor, mediaSections } = require('./lib/room');

const LOADGEN = path.join(path.dirname(path.resolve(process.argv[2])), 'bench', 'loadgen');
const PUBLISHERS = 20;
const ROOM = 'big0';   // loadgen's --room-prefix big, room 0

runRoomTest('room_large', async (ctx) => {
    const cb = await ctx.launch('chromium', launchChromium);
    const C = await ctx.participant(cb, 'C');
    await C.connect(ROOM);
    const lg = spawn(LOADGEN, ['--url', `ws://127.0.0.1:${ctx.server.port}/ws`,
        '--room-prefix', 'big', '--participants', String(PUBLISHERS), '--video',
        '--video-kbps', '30', '--fps', '10', '--ramp', '2', '--warmup', '1',
        '--duration', '60', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lgOut = '';
    lg.stdout.on('data', (d) => { lgOut += d; });
    lg.stderr.on('data', (d) => { lgOut += d; });
    try {
        let st = null, sdps = null;
        await waitFor('media', `${C.name} receiving the ${2 * PUBLISHERS} tracks of ` +
                      `${PUBLISHERS} loadgen participants`, 30000, async () => {
            st = await C.stats();
            const live = st.recv.filter((r) => r.currentDirection === 'recvonly' &&
                                        r.inbound && r.inbound.packetsReceived > 0);
            return live.length >= 2 * PUBLISHERS;
        }, async () => {
            const live = st ? st.recv.filter((r) => r.inbound && r.inbound.packetsReceived > 0) : [];
            return `${live.length} of ${st ? st.recv.length : 0} receivers count packets; ` +
                `loadgen: ${lgOut.slice(-2000)}`;
        });
        sdps = await C.call('sdps');
        const last = sdps.sub.filter((o) => o.answer).pop();
        const errors = sdps.sub.filter((o) => o.error).map((o) => o.error);
        const offered = mediaSections(last.offer).filter((m) => m.port !== 0);
        const accepted = mediaSections(last.answer).filter((m) => m.port !== 0);
        log(`latest subscribe offer: ${mediaSections(last.offer).length} m-lines ` +
            `(${offered.length} open), ${last.offer.length} bytes; answer ${last.answer.length} bytes, ` +
            `${accepted.length} accepted`);
        const live = st.recv.filter((r) => r.currentDirection === 'recvonly' && r.inbound &&
                                    r.inbound.packetsReceived > 0);
        const from = new Set(live.map((r) => r.from));
        const kinds = { audio: live.filter((r) => r.kind === 'audio').length,
                        video: live.filter((r) => r.kind === 'video').length };
        log(`receivers with packets: ${JSON.stringify(kinds)} from ${from.size} publishers`);
        const problems = [];
        if (errors.length) problems.push(`subscribe offers refused by Chromium: ${JSON.stringify(errors)}`);
        if (offered.length < 2 * PUBLISHERS || accepted.length < 2 * PUBLISHERS) {
            problems.push(`${offered.length} m-lines offered, ${accepted.length} accepted ` +
                          `(want ${2 * PUBLISHERS} each)`);
        }
        if (kinds.audio !== PUBLISHERS || kinds.video !== PUBLISHERS || from.size !== PUBLISHERS) {
            problems.push(`receivers with packets: ${JSON.stringify(kinds)} from ${from.size} ` +
                          `publishers (want ${PUBLISHERS} of each kind from ${PUBLISHERS})`);
        }
        if (problems.length) throw new StageError('media', problems.join('; '));
    } finally {
        lg.kill('SIGTERM');
    }
}, {
    rooms: { [ROOM]: { max_participants: PUBLISHERS + 1, last_n: 0, video_kbps: 30 } },
    config: {
        limits: { connections_per_ip: 1000, joins_per_minute_per_ip: 1000,
                  max_participants: 100, uplink_kbps: 0 },
    },
});
