'use strict';
// Helpers of the bandwidth tests (room_video_kbps, room_shaped_link, room_uplink): rates
// from getStats() samples, the `bandwidth` messages a page received, audio continuity,
// a child network namespace with a shaped veth link, and nftables byte counters.
const child_process = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { log, sleep } = require('./harness');
const { StageError, waitFor, findRecv } = require('./room');
const { messagesOf } = require('./policy');

// Runs a command (argv), throwing with its stderr when it fails. Bounded: 10 s.
function run(argv) {
    try {
        return child_process.execFileSync(argv[0], argv.slice(1), {
            encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'],
        });
    } catch (e) {
        throw new Error(`${argv.join(' ')}: ${(e.stderr || '').trim() || e.message}`);
    }
}

// kbps between two counters of bytes taken at ms times.
function kbps(bytes0, bytes1, at0, at1) {
    return at1 > at0 ? Math.round((bytes1 - bytes0) * 8 / (at1 - at0)) : 0;
}

// The `bandwidth` messages p received: [{ at, wall, kbps, video }].
function bandwidthOf(p) {
    return messagesOf(p, 'bandwidth');
}

// Waits (ms at most) for a `bandwidth` message to p received at or after Node time
// `since` whose `video` is in `states`; returns it.
async function waitBandwidth(stage, p, states, since, ms) {
    let list = [];
    return waitFor(stage, `${p.name}: a bandwidth message saying ${states.join(' or ')}`, ms,
                   async () => {
        list = await bandwidthOf(p);
        return list.find((m) => m.wall >= since && states.includes(m.video));
    }, async () => `its bandwidth messages (kbps, video, ms after the wait began): ` +
       JSON.stringify(list.map((m) => [m.kbps, m.video, m.wall - since])));
}

// The latest bandwidth message p received (null if none).
async function lastBandwidth(p) {
    const list = await bandwidthOf(p);
    return list.length ? list[list.length - 1] : null;
}

// p's receivers sampled every `every` ms over ms (lib/room_agent.js A.sample).
function sample(p, ms, every = 200) {
    return p.call('sample', { ms, every }, ms + 15000);
}

// The series of one receiver (publisher fromId, kind) in samples: [{ at, ...counters }].
function series(samples, fromId, kind) {
    const out = [];
    for (const s of samples) {
        const r = s.recv.filter((x) => x.from === fromId && x.kind === kind &&
                                (x.dir === 'recvonly' || x.dir === 'sendrecv')).pop();
        if (r) out.push(Object.assign({ at: s.at }, r));
    }
    return out;
}

// Audio continuity of one series: packets and loss over it, and the longest stretch
// without a new packet (every sample window of 1 s must see packetsReceived grow; the
// stall is measured between samples, so it is known to `every` ms).
function audioVerdict(ser) {
    if (ser.length < 2) return { ok: false, why: 'no samples' };
    const a = ser[0], b = ser[ser.length - 1];
    const pkts = b.pkts - a.pkts, lost = b.lost - a.lost;
    let stall = 0, since = a.at;
    for (let i = 1; i < ser.length; i++) {
        if (ser[i].pkts > ser[i - 1].pkts) since = ser[i].at;
        stall = Math.max(stall, ser[i].at - since);
    }
    const lossPct = pkts + lost > 0 ? 100 * lost / (pkts + lost) : 100;
    // When the losses happened: [ms into the series, packets lost since the sample before].
    const losses = [];
    for (let i = 1; i < ser.length; i++)
        if (ser[i].lost > ser[i - 1].lost) losses.push([ser[i].at - a.at, ser[i].lost - ser[i - 1].lost]);
    return { pkts, lost, lossPct, stallMs: stall, ms: b.at - a.at, losses };
}

// What a series of video says: kbps, frames decoded per second, width at the end,
// whether frames were decoded in its last `tailMs`.
function videoVerdict(ser, tailMs = 2000) {
    if (ser.length < 2) return { kbps: 0, fps: 0, width: 0, flowing: false };
    const a = ser[0], b = ser[ser.length - 1];
    const tail = ser.find((x) => x.at >= b.at - tailMs) || a;
    return {
        kbps: kbps(a.bytes, b.bytes, a.at, b.at),
        fps: Math.round(10 * 1000 * (b.frames - a.frames) / (b.at - a.at)) / 10,
        width: b.width, flowing: b.frames > tail.frames,
    };
}

// The server's end of a veth pair to a child network namespace of the test's one, held by
// a sleeping process; the browser in it is started by a wrapper script (nsenter).
//   hostAddr/peerAddr: 10.77.0.1 (here) and 10.77.0.2 (in the child).
class ChildNetns {
    constructor(hostAddr = '10.77.0.1', peerAddr = '10.77.0.2') {
        this.hostAddr = hostAddr;
        this.peerAddr = peerAddr;
        this.dev = 'sbw0';
        this.holder = null;
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sobre-e2e-netns-'));
    }

    async create() {
        // The namespace lives as long as this process (or a process inside it) does.
        this.holder = child_process.spawn('unshare', ['-n', 'sleep', '600'],
                                          { stdio: 'ignore' });
        const pid = this.holder.pid;
        // unshare execs sleep once the namespace exists: wait until it differs from ours.
        const ours = fs.readlinkSync('/proc/self/ns/net');
        const deadline = Date.now() + 5000;
        for (let i = 0; i < 100; i++) {
            let ns = null;
            try {
                ns = fs.readlinkSync(`/proc/${pid}/ns/net`);
            } catch (e) {
                // not there yet
            }
            if (ns && ns !== ours) break;
            if (Date.now() > deadline) throw new Error('unshare -n: no new network namespace within 5 s');
            await sleep(50);
        }
        const inNs = (...argv) => run(['nsenter', '-t', String(pid), '-n', ...argv]);
        run(['ip', 'link', 'add', this.dev, 'type', 'veth', 'peer', 'name', 'sbw1', 'netns', String(pid)]);
        run(['ip', 'addr', 'add', `${this.hostAddr}/24`, 'dev', this.dev]);
        run(['ip', 'link', 'set', this.dev, 'up']);
        inNs('ip', 'link', 'set', 'lo', 'up');
        inNs('ip', 'addr', 'add', `${this.peerAddr}/24`, 'dev', 'sbw1');
        inNs('ip', 'link', 'set', 'sbw1', 'up');
        this.wrapper = path.join(this.dir, 'chromium-in-netns');
        fs.writeFileSync(this.wrapper,
                         `#!/bin/sh\nexec nsenter -t ${pid} -n /usr/bin/chromium "$@"\n`, { mode: 0o755 });
        // Up and reachable (the veth's carrier comes up asynchronously).
        await waitFor('network', `ping ${this.peerAddr} from the test's namespace`, 5000, async () => {
            try {
                run(['ping', '-c', '1', '-W', '1', this.peerAddr]);
                return true;
            } catch (e) {
                return false;
            }
        }).catch(() => {});   // ping may be missing: the browser's connection tells anyway
        log(`child network namespace (pid ${pid}): ${this.peerAddr} <-> ${this.hostAddr} on ${this.dev}`);
        return this;
    }

    // tbf at rate (e.g. '250kbit') on the egress towards the child namespace.
    shape(rate, burst = '3000', latency = '250ms') {
        run(['tc', 'qdisc', 'replace', 'dev', this.dev, 'root', 'tbf', 'rate', rate, 'burst', burst,
             'latency', latency]);
        log(`${this.dev}: ${run(['tc', 'qdisc', 'show', 'dev', this.dev]).trim()}`);
    }

    unshape() {
        run(['tc', 'qdisc', 'del', 'dev', this.dev, 'root']);
        log(`${this.dev}: ${run(['tc', 'qdisc', 'show', 'dev', this.dev]).trim()}`);
    }

    // tbf statistics (sent, dropped, overlimits), for the logs.
    stats() {
        try {
            return run(['tc', '-s', 'qdisc', 'show', 'dev', this.dev]).replace(/\s+/g, ' ').trim();
        } catch (e) {
            return e.message;
        }
    }

    destroy() {
        if (this.holder && this.holder.exitCode === null) this.holder.kill('SIGKILL');
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

// Counts the bytes (IP datagrams, headers included) sobre sends from its media port, with
// an nftables counter on the output hook of the test's network namespace.
class EgressCounter {
    constructor(port) {
        this.port = port;
    }

    create() {
        run(['nft', 'add', 'table', 'inet', 'sobre_e2e']);
        run(['nft', 'add', 'chain', 'inet', 'sobre_e2e', 'out',
             '{ type filter hook output priority 0 ; policy accept ; }']);
        run(['nft', 'add', 'rule', 'inet', 'sobre_e2e', 'out', 'udp', 'sport', String(this.port),
             'counter']);
        return this;
    }

    // { bytes, packets, at } now.
    read() {
        const text = run(['nft', 'list', 'chain', 'inet', 'sobre_e2e', 'out']);
        const m = /counter packets (\d+) bytes (\d+)/.exec(text);
        if (!m) throw new Error(`no counter in: ${text}`);
        return { packets: Number(m[1]), bytes: Number(m[2]), at: Date.now() };
    }

    destroy() {
        try {
            run(['nft', 'delete', 'table', 'inet', 'sobre_e2e']);
        } catch (e) {
            // the namespace goes with the test anyway
        }
    }
}

// The server's estimate lines for a peer (sobre -v: "session pN: downlink estimate X kb/s
// (source)") since line index `from`, for the logs.
function estimateLines(server, from = 0) {
    return server.lines.slice(from).filter((l) => /downlink estimate/.test(l));
}

module.exports = {
    run, kbps, bandwidthOf, waitBandwidth, lastBandwidth, sample, series, audioVerdict,
    videoVerdict, ChildNetns, EgressCounter, estimateLines, findRecv, StageError,
};
