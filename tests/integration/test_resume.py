"""Resuming after a dropped WebSocket (limits.resume_seconds): the participant keeps its
place, id and media for the grace period; the others see nothing; a pending subscribe
offer is sent again; without a resume it leaves when the grace period ends."""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import ServerTestCase  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sdp")


def fixture(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


class ResumeTest(ServerTestCase):
    config = {"limits": {"resume_seconds": 2}}

    async def test_resume_keeps_the_place(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        a.ws.transport.abort()               # the network drops, no leave
        await b.expect_silence(0.8)          # nobody is told
        a2 = await self.client("Ana again")
        await a2.send({"type": "join", "room": "r", "name": "Ana", "resume": ja["resume"],
                       "id": "back"})
        j2 = await a2.expect("joined", id="back")
        self.assertEqual(j2["self"]["id"], ja["self"]["id"])
        self.assertEqual([p["name"] for p in j2["peers"]], ["Ben"])
        self.assertNotEqual(j2["resume"], ja["resume"])   # a fresh token each time
        await b.expect_silence(0.3)
        await a2.send({"type": "chat", "text": "back"})
        got = await b.expect("chat")
        self.assertEqual((got["from"], got["text"]), (ja["self"]["id"], "back"))
        await a2.expect("chat")                # chat comes back to its sender too
        # Past the grace period nothing happens either: Ana is attached again.
        await asyncio.sleep(2.3)
        await b.expect_silence(0.2)
        await a2.assert_open()

    async def test_without_resume_the_participant_leaves_after_the_grace(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        start = time.monotonic()
        a.ws.transport.abort()
        left = await b.expect("peer_left", timeout=4)
        waited = time.monotonic() - start
        self.assertEqual(left["id"], ja["self"]["id"])
        self.assertGreater(waited, 1.5)
        self.assertLess(waited, 3.5)
        # The token is dead now: a join with it is an ordinary join, under a new id.
        c = await self.client("late")
        await c.send({"type": "join", "room": "r", "name": "Ana", "resume": ja["resume"]})
        j = await c.expect("joined")
        self.assertNotEqual(j["self"]["id"], ja["self"]["id"])

    async def test_a_token_serves_once_and_leave_is_immediate(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        a.ws.transport.abort()
        await asyncio.sleep(0.2)
        a2 = await self.client("Ana 2")
        await a2.send({"type": "join", "room": "r", "name": "Ana", "resume": ja["resume"]})
        self.assertEqual((await a2.expect("joined"))["self"]["id"], ja["self"]["id"])
        a3 = await self.client("Ana 3")       # the same token again: a newcomer
        await a3.send({"type": "join", "room": "r", "name": "Ana", "resume": ja["resume"]})
        self.assertNotEqual((await a3.expect("joined"))["self"]["id"], ja["self"]["id"])
        await b.expect("peer_joined")
        await a2.send({"type": "leave"})      # leave: no grace
        self.assertEqual((await b.expect("peer_left", timeout=1))["id"], ja["self"]["id"])

    async def test_a_vanished_browser_leaves(self):
        """No close, no FIN: the socket just goes silent. The server pings it, hangs up
        at 14 s, then waits the grace period (2 s here): 35 s at most by default."""
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        start = time.monotonic()
        a.ws.transport.pause_reading()        # reads nothing, answers no ping
        left = await b.expect("peer_left", timeout=25)
        waited = time.monotonic() - start
        self.assertEqual(left["id"], ja["self"]["id"])
        self.assertGreater(waited, 10)
        self.assertLess(waited, 20)

    async def test_a_pending_offer_is_sent_again(self):
        a, _ = await self.joined_client("r", "Ana")
        b, jb = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        await a.send({"type": "publish", "sdp": fixture("chrome_publish.sdp")})
        await a.expect("answer")
        await b.expect("peer_updated")
        offer = (await b.expect("offer"))["sdp"]
        b.ws.transport.abort()                # before answering
        await asyncio.sleep(0.2)
        b2 = await self.client("Ben again")
        await b2.send({"type": "join", "room": "r", "name": "Ben", "resume": jb["resume"]})
        await b2.expect("joined")
        self.assertEqual((await b2.expect("offer"))["sdp"], offer)


if __name__ == "__main__":
    harness.main()
