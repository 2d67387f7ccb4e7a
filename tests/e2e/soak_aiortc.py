"""e2e.soak_aiortc: participants with media join and leave, again and again, in several
rooms; afterwards the server is back where it started (issue 8).

ROOMS rooms of PER_ROOM aiortc participants (lib/aiortc_agent.py: each publishes a tone
and subscribes to the others) per round. In a round every participant joins, publishes,
gets its subscribe connection up and must receive audio packets from the others; then
they go, in rotating ways: a `leave`, a closed WebSocket, a dropped one (no close at all:
the server waits limits.resume_seconds, 2 s here), and the round ends once /healthz says
no participant and no room is left.

Memory: sobre's resident set (VmRSS) is read once idle after WARMUP_ROUNDS rounds, the
baseline, then once idle after ROUNDS more rounds: it must be within 10% of the baseline.
The warm-up puts in the baseline what the allocator keeps for reuse once meetings have
happened, which is not a leak: glibc's malloc gives each thread (signalling, worker) its
own arena and keeps freed memory in it for the next allocations, and an arena's heap
reaches its working size only after a meeting or two (measured here: idle RSS 13.6 MB
after one round, 14.5 MB after two, then a plateau at 15.2 MB from round 20 to 30; with
MALLOC_ARENA_MAX=1 the second round adds 0.3 MB instead of 1 MB). Two warm-up rounds
leave a few percent of settling, a leak of a few KiB per participant would show over the
rounds. The peak during each round and the idle RSS after it are logged. Under the Sanitize build the RSS check is skipped (AddressSanitizer
keeps freed memory in quarantine on purpose, so RSS does not come back) and the leak check
takes its place: the harness fails the test if sobre's stderr holds a LeakSanitizer (or
any sanitizer) report when it exits on SIGTERM.

Run by tests/e2e/run inside a fresh network namespace as

    /usr/bin/python3 tests/e2e/soak_aiortc.py <path-to-sobre> <path-to-web-dir>
"""

import asyncio
import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from e2e_aiortc import harness  # noqa: E402
from aiortc_agent import Agent, AgentTestCase  # noqa: E402

ROOMS = ("soak-a", "soak-b", "soak-c")
PER_ROOM = 3
WARMUP_ROUNDS = 2
ROUNDS = int(os.environ.get("SOBRE_SOAK_ROUNDS", "10"))  # after the warm-up
RSS_MARGIN = 0.10
LEAVES = ("leave", "close", "drop")


def say(*args):
    print("[soak]", *args, flush=True)


class SoakTest(AgentTestCase):
    config = {"limits": {"resume_seconds": 2}}

    def fail_with(self, stage, message):
        self.fail("soak: FAILED at stage %s: %s\n%s" % (stage, message, self.server_log()))

    def rss_kib(self):
        with open("/proc/%d/status" % self.server.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        self.fail_with("rss", "no VmRSS for sobre")

    def sanitized(self):
        with open("/proc/%d/maps" % self.server.proc.pid) as f:
            return "libasan" in f.read()

    def health(self):
        url = "http://127.0.0.1:%d/healthz" % self.server.port
        with urllib.request.urlopen(url, timeout=3) as r:
            return json.loads(r.read())

    async def until_empty(self, limit_s=8.0):
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            h = await loop.run_in_executor(None, self.health)
            if h["participants"] == 0 and h["rooms"] == 0:
                return
            await asyncio.sleep(0.2)
        self.fail_with("empty", "still %r %.0f s after everyone went" % (h, limit_s))

    async def enter(self, room, i, n):
        a = Agent(self.server.ws_url, room, "%s-%d-%d" % (room, n, i), 300 + 110 * i)
        self.agents.append(a)
        if not await a.join() or not await a.publish():
            self.fail_with("publish", "round %d: %s could not join and publish" % (n, a.name))
        return a

    async def round(self, n):
        t0 = time.monotonic()
        # Joins one after the other in each room, the rooms at once.
        groups = await asyncio.gather(*(self.room_joins(room, n) for room in ROOMS))
        agents = [a for g in groups for a in g]
        for a in agents:
            if not await a.subscribed():
                self.fail_with("subscribe", "round %d: %s has no subscribe connection"
                               % (n, a.name))
        start = [sum((await a.inbound_audio_stats()).values()) for a in agents]
        await asyncio.sleep(1.5)
        for a, before in zip(agents, start):
            got = sum((await a.inbound_audio_stats()).values()) - before
            if got < 25:
                self.fail_with("media", "round %d: %s received %d audio packets in 1.5 s"
                               % (n, a.name, got))
        peak = self.rss_kib()
        for k, a in enumerate(agents):
            how = LEAVES[(k + n) % len(LEAVES)]
            if how == "leave":
                await a.peer.client.send({"type": "leave"})
            elif how == "drop":
                a.drop()
            await a.close()
            self.agents.remove(a)
        await self.until_empty()
        say("round %d: %d participants in %d rooms, %.1f s, RSS %d KiB with them, %d KiB "
            "after" % (n, len(agents), len(ROOMS), time.monotonic() - t0, peak, self.rss_kib()))
        return peak

    async def room_joins(self, room, n):
        return [await self.enter(room, i, n) for i in range(PER_ROOM)]

    async def test_churn_returns_to_the_baseline(self):
        idle0 = self.rss_kib()
        for n in range(WARMUP_ROUNDS):
            await self.round(n)
        await asyncio.sleep(1.0)
        base = self.rss_kib()
        peaks = [await self.round(n) for n in range(WARMUP_ROUNDS, WARMUP_ROUNDS + ROUNDS)]
        await asyncio.sleep(1.0)
        end = self.rss_kib()
        say("RSS: %d KiB at start, %d KiB idle after %d warm-up rounds (baseline), peaks %r, "
            "%d KiB idle after %d more rounds (%+.1f%%)"
            % (idle0, base, WARMUP_ROUNDS, peaks, end, ROUNDS, 100.0 * (end - base) / base))
        if self.sanitized():
            say("Sanitize build: RSS not compared (ASan quarantines freed memory); "
                "LeakSanitizer checks the exit")
            return
        if end > base * (1 + RSS_MARGIN):
            self.fail_with("rss", "RSS %d KiB after %d rounds, more than %d%% above the "
                           "baseline %d KiB" % (end, ROUNDS, 100 * RSS_MARGIN, base))


if __name__ == "__main__":
    harness.main()
