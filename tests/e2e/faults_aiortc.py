"""e2e.faults_aiortc: a meeting of real WebRTC clients (aiortc, lib/aiortc_agent.py: each
publishes a tone and subscribes to the others) goes on through faults (issue 8):

- vanished: two participants' processes vanish in the middle of the call, one killed
  (SIGKILL: the kernel closes its socket, no leave) and one frozen (SIGSTOP: no leave, no
  close, no reply to anything, like a suspended laptop or a dead network). A third
  participant gets `peer_left` for each within 35 s (limits.resume_seconds 20, the
  server's 8 s ping and 14 s hang-up, ICE consent expiry at 30 s).
- resume: a participant's WebSocket drops (aborted, no leave) and a new one joins with
  its resume token 2 s later: same id, the others see neither `peer_left` nor
  `peer_joined`, and its tone reaches the listener in every 0.5 s window across the drop
  (dominant 440 +- 5 Hz, over half the energy, RMS > 500); the other direction plays too.
- flood: during a call, FLOOD_PPS random UDP datagrams a second (about 50 times the
  publisher's 50 packets a second) for FLOOD_S seconds from 8 loopback sockets hit the
  media port: random bytes, STUN-, DTLS-, RTP- and RTCP-looking datagrams, and RTP with
  the publisher's own SSRC. The listener's audio packetsReceived rate during the flood
  must stay >= 90% of its rate before, every 0.5 s window of the audio must be the tone,
  and the server must not answer a single flood datagram (no amplification).
- SIGTERM: then the server is stopped: every participant gets `bye` (reason
  "shutdown") and sobre exits 0.

Run by tests/e2e/run inside a fresh network namespace as

    /usr/bin/python3 tests/e2e/faults_aiortc.py <path-to-sobre> <path-to-web-dir>
"""

import asyncio
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from e2e_aiortc import TOLERANCE_HZ, Peer, harness  # noqa: E402
from aiortc_agent import Agent, AgentTestCase  # noqa: E402

ROOM = "salle"
VANISH_LIMIT_S = 35.0
FLOOD_PPS = 2500
FLOOD_S = 4.0
MIN_RATE_SHARE = 0.9

# The flood, in its own process so that it does not take the test's interpreter from
# aiortc. argv: port, pps, seconds, ssrc. Prints {"sent": n, "replies": n}.
FLOOD = r"""
import json, os, random, socket, struct, sys, time
port, pps, seconds, ssrc = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(8)
socks = []
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.%d" % (1 + i % 2), 0))
    s.setblocking(False)
    socks.append(s)
def datagram():
    kind = rng.randrange(6)
    body = rng.randbytes(rng.randrange(0, 1200))
    if kind == 0:   # STUN binding request, random attributes
        return struct.pack("!HHI", 1, len(body) & ~3, 0x2112A442) + rng.randbytes(12) + body[:len(body) & ~3]
    if kind == 1:   # DTLS handshake record
        return bytes([22, 254, 253]) + rng.randbytes(10) + struct.pack("!H", len(body)) + body
    if kind == 2:   # RTP, Opus payload type, the publisher's SSRC
        return struct.pack("!BBHII", 0x80, 111, rng.randrange(65536), rng.randrange(2**32), ssrc) + body
    if kind == 3:   # RTCP (SR .. APP)
        return struct.pack("!BBH", 0x80, rng.randrange(200, 205), len(body) // 4) + rng.randbytes(4) + body
    if kind == 4:   # RTP, random SSRC
        return struct.pack("!BBHII", 0x80 | rng.randrange(64), rng.randrange(256), 0, 0, rng.randrange(2**32)) + body
    return rng.randbytes(rng.randrange(1, 1200))
def drain():
    n = 0
    for s in socks:
        try:
            while s.recv(2048):
                n += 1
        except OSError:
            pass
    return n
sent = replies = 0
start = time.monotonic()
while True:
    elapsed = time.monotonic() - start
    if elapsed >= seconds:
        break
    while sent < elapsed * pps:
        try:
            socks[sent % len(socks)].sendto(datagram(), ("127.0.0.1", port))
        except OSError:
            pass
        sent += 1
    replies += drain()
    time.sleep(0.005)
time.sleep(0.3)
replies += drain()
print(json.dumps({"sent": sent, "replies": replies}), flush=True)
"""


def say(*args):
    print("[faults]", *args, flush=True)


def tone_ok(window, freq):
    peak, share, rms = window
    return abs(peak - freq) <= TOLERANCE_HZ and share > 0.5 and rms > 500


class FaultTest(AgentTestCase):
    # The default grace period for a resume (20 s), not the harness's 0.
    config = {"limits": {"resume_seconds": 20}}

    def setUp(self):
        super().setUp()
        self.watchers = []
        self.procs = []

    async def asyncTearDown(self):
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                await asyncio.wait_for(proc.wait(), 5)
        for w in self.watchers:
            await w.close()
        await super().asyncTearDown()

    def fail_with(self, stage, message):
        lines = ["faults: FAILED at stage %s: %s" % (stage, message)]
        for w in self.watchers:
            lines.append("%s messages: %s" % (w.name, json.dumps(w.msgs)))
        for a in self.agents:
            lines.append("%s (%s) messages: %s" % (a.name, a.peer and a.peer.id,
                                                   json.dumps(a.peer.msgs if a.peer else [])))
        lines.append(self.server_log())
        self.fail("\n".join(lines))

    async def watcher(self, name):
        """A participant that only listens to the signalling (and answers pings)."""
        client = await harness.Client.connect(self.server, name)
        peer = Peer(client, name)
        self.watchers.append(peer)
        await client.send({"type": "join", "room": ROOM, "name": name})
        msg = await peer.expect(lambda m: m["type"] in ("joined", "error"), 5, "joined")
        if msg is None or msg["type"] != "joined":
            self.fail_with("join", "%s: expected joined, got %r" % (name, msg))
        peer.id = msg["self"]["id"]
        return peer

    async def agent(self, name, tone):
        a = Agent(self.server.ws_url, ROOM, name, tone)
        self.agents.append(a)
        if not await a.join() or not await a.publish():
            self.fail_with("publish", "%s could not join and publish" % name)
        return a

    async def subscribed(self, *agents):
        for a in agents:
            if not await a.subscribed():
                self.fail_with("subscribe", "%s: no subscribe connection" % a.name)

    async def alive(self, peer):
        await peer.client.send({"type": "ping", "id": "alive?"})
        if await peer.expect(lambda m: m["type"] == "pong", 3, "pong") is None:
            self.fail_with("alive", "%s: no pong" % peer.name)

    def check_tone(self, result, freq, what):
        if "error" in result:
            self.fail_with("media", "%s: %s" % (what, result["error"]))
        bad = [(i * 0.5, w) for i, w in enumerate(result["windows"]) if not tone_ok(w, freq)]
        say("%s: %d windows of 0.5 s, %d not the %d Hz tone: %r"
            % (what, len(result["windows"]), len(bad), freq, bad))
        if bad or not result["windows"]:
            self.fail_with("media", "%s: windows (start s, (peak Hz, share, RMS)) that are "
                           "not the %d Hz tone: %r" % (what, freq, bad))

    # ---- a browser vanishes

    async def spawn(self, name, tone):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, os.path.join(HERE, "lib", "aiortc_agent.py"), self.server.ws_url,
            ROOM, name, str(tone), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        self.procs.append(proc)
        return proc

    async def event(self, proc, name, wanted, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = await asyncio.wait_for(proc.stdout.readline(),
                                              max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            print("[%s] %s" % (name, text), flush=True)
            if text.startswith("@e2e "):
                ev = json.loads(text[5:])
                if ev["event"] == "failed":
                    self.fail_with(ev["stage"], "%s: %s" % (name, ev["message"]))
                if ev["event"] == wanted:
                    return ev
        self.fail_with("agent", "%s: no %r event within %.0f s" % (name, wanted, timeout))

    async def test_vanished_participants_are_removed_within_35_s(self):
        watcher = await self.watcher("watcher")
        killed, frozen = await self.spawn("killed", 440), await self.spawn("frozen", 660)
        ids = {}
        for proc, name in ((killed, "killed"), (frozen, "frozen")):
            ids[name] = (await self.event(proc, name, "joined", 10))["id"]
            await self.event(proc, name, "published", 30)
        for proc, name in ((killed, "killed"), (frozen, "frozen")):
            await self.event(proc, name, "subscribed", 30)
        # Media flows both ways: the meeting is on. Now both vanish at once.
        start = time.monotonic()
        killed.kill()
        frozen.send_signal(signal.SIGSTOP)
        say("killed %s (SIGKILL), froze %s (SIGSTOP)" % (ids["killed"], ids["frozen"]))
        gone = {}
        while len(gone) < 2 and time.monotonic() - start < VANISH_LIMIT_S + 5:
            msg = await watcher.expect(lambda m: m["type"] == "peer_left", 1, "peer_left")
            if msg is not None:
                gone[msg["id"]] = time.monotonic() - start
                say("peer_left %s after %.1f s" % (msg["id"], gone[msg["id"]]))
        for name, pid in ids.items():
            if pid not in gone:
                self.fail_with("vanished", "no peer_left for the %s participant %s within "
                               "%.0f s" % (name, pid, VANISH_LIMIT_S + 5))
            if gone[pid] > VANISH_LIMIT_S:
                self.fail_with("vanished", "the %s participant %s left after %.1f s, more "
                               "than %.0f s" % (name, pid, gone[pid], VANISH_LIMIT_S))
        await self.alive(watcher)            # the one who stayed is unaffected
        self.assertTrue(self.server.alive(), self.server.output())

    # ---- a WebSocket drops and resumes

    async def test_a_dropped_socket_resumes_with_media_going_on(self):
        watcher = await self.watcher("watcher")
        dropper = await self.agent("dropper", 440)
        listener = await self.agent("listener", 660)
        await self.subscribed(dropper, listener)
        old_id = dropper.peer.id
        seen = {p.name: len(p.msgs) for p in (watcher, listener.peer)}
        # 6 s of the dropper's tone at the listener, the drop 1 s in, the resume at 3 s.
        analysis = asyncio.ensure_future(listener.analyse(old_id, 6.0))
        await asyncio.sleep(1.0)
        dropper.drop()
        say("dropped %s's WebSocket" % old_id)
        await asyncio.sleep(2.0)
        joined = await dropper.resume()
        if joined is None or joined["self"]["id"] != old_id:
            self.fail_with("resume", "expected joined with id %s, got %r" % (old_id, joined))
        if "%s: socket dropped" % old_id not in self.server.output():
            self.fail_with("resume", "the server never saw the socket drop")
        names = sorted(p["name"] for p in joined["peers"])
        self.assertEqual(names, ["listener", "watcher"], joined)
        self.check_tone(await analysis, 440, "listener <- dropper across the drop")
        for p in (watcher, listener.peer):
            told = [m for m in p.msgs[seen[p.name]:]
                    if m["type"] in ("peer_left", "peer_joined") and
                    (m.get("id") == old_id or m.get("peer", {}).get("id") == old_id)]
            if told:
                self.fail_with("resume", "%s was told %r" % (p.name, told))
        # The dropper still hears the listener, and its new socket works.
        self.check_tone(await dropper.analyse(listener.peer.id, 2.0), 660,
                        "dropper <- listener after the resume")
        await self.alive(dropper.peer)
        await self.alive(watcher)

    # ---- a UDP flood, then SIGTERM

    async def test_a_udp_flood_does_not_interrupt_the_audio_then_sigterm(self):
        talker = await self.agent("talker", 440)
        listener = await self.agent("listener", 660)
        await self.subscribed(talker, listener)
        ssrc = next(int(line.split(":")[1].split()[0])
                    for line in talker.pub.localDescription.sdp.splitlines()
                    if line.startswith("a=ssrc:"))

        async def packets():
            return sum((await listener.inbound_audio_stats()).values())

        await asyncio.sleep(1.0)
        p0, t0 = await packets(), time.monotonic()
        await asyncio.sleep(3.0)
        p1, t1 = await packets(), time.monotonic()
        calm = (p1 - p0) / (t1 - t0)
        flood = await asyncio.create_subprocess_exec(
            sys.executable, "-c", FLOOD, str(self.server.media_port), str(FLOOD_PPS),
            str(FLOOD_S), str(ssrc), stdout=asyncio.subprocess.PIPE)
        self.procs.append(flood)
        await asyncio.sleep(0.25)
        p2, t2 = await packets(), time.monotonic()
        result = await listener.analyse(talker.peer.id, FLOOD_S - 0.75)
        p3, t3 = await packets(), time.monotonic()
        out, _ = await asyncio.wait_for(flood.communicate(), FLOOD_S + 10)
        counts = json.loads(out.decode().strip().splitlines()[-1])
        during = (p3 - p2) / (t3 - t2)
        say("flood: %s datagrams in %.1f s (%d/s asked) from 8 sockets; listener's audio "
            "packets/s: %.1f before, %.1f during (%.0f%%); replies to the flood: %d"
            % (counts["sent"], FLOOD_S, FLOOD_PPS, calm, during,
               100 * during / calm if calm else 0, counts["replies"]))
        if counts["sent"] < 0.8 * FLOOD_PPS * FLOOD_S:
            self.fail_with("flood", "only %d datagrams sent" % counts["sent"])
        if calm < 40:
            self.fail_with("media", "only %.1f audio packets/s before the flood" % calm)
        if during < MIN_RATE_SHARE * calm:
            self.fail_with("flood", "audio packets/s fell from %.1f to %.1f during the flood"
                           % (calm, during))
        self.check_tone(result, 440, "listener <- talker during the flood")
        if counts["replies"]:
            self.fail_with("flood", "the server answered %d flood datagrams" % counts["replies"])
        drops = [l for l in self.server.output().split("\n") if "drop" in l.lower()]
        say("server lines about drops: %d, last: %s" % (len(drops), drops[-3:]))

        # SIGTERM in the middle of the call: everyone gets bye, sobre exits 0.
        self.server.signal(signal.SIGTERM)
        for a in (talker, listener):
            bye = await a.peer.expect(lambda m: m["type"] == "bye", 3, "bye")
            if bye is None or bye.get("reason") != "shutdown":
                self.fail_with("sigterm", "%s: expected bye (shutdown), got %r" % (a.name, bye))
        status = await asyncio.get_running_loop().run_in_executor(None, self.server.wait, 5)
        self.assertEqual(status, 0, self.server.output())


if __name__ == "__main__":
    harness.main()
