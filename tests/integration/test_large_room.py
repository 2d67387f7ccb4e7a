"""Large rooms against the real binary (recorded Chrome publish offers, no media): how many
tracks one subscribe connection carries (README, room `max_participants`).

* 20 publishers of audio and video: a newcomer is offered all 40 tracks in one offer
  (more than the 16 m-lines a publish offer may have) and its answer is taken.
* 49 publishers of audio and video (98 tracks): audio first: the newcomer is offered the
  audio of all 49 and the video of 48 (a connection keeps its last 32 of 128 m-lines for
  audio), and the server logs the video it leaves out.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import ServerTestCase  # noqa: E402
from test_publish import browser_answer, fixture  # noqa: E402


async def until(client, type_, limit=200, **fields):
    """The first message of that type (and fields), skipping others (peer_joined, the
    offers of the publishers before it...), at most limit messages."""
    for _ in range(limit):
        msg = await client.recv()
        if msg["type"] == type_ and all(msg.get(k) == v for k, v in fields.items()):
            return msg
    raise AssertionError("%s: no %r within %d messages" % (client.label, type_, limit))


def kinds(offer):
    """(audio, video) counts of the open m-lines (port not 0) of an SDP."""
    a = v = 0
    for line in offer.splitlines():
        if line.startswith("m=") and line.split()[1] != "0":
            a += line.startswith("m=audio")
            v += line.startswith("m=video")
    return a, v


class LargeRoomTest(ServerTestCase):
    config = {"limits": {"max_participants": 100, "connections_per_ip": 100,
                         "joins_per_minute_per_ip": 200, "uplink_kbps": 0},
              "rooms": {"big": {"max_participants": 60, "last_n": 0}}}

    async def asyncTearDown(self):
        # At once: each client holds unread messages, and its close may wait out its
        # timeout (2 s) on them.
        await asyncio.gather(*(c.close() for c in self.clients))
        self.clients = []
        await super().asyncTearDown()

    async def publishers(self, n):
        offer = fixture("chrome_publish.sdp")
        for i in range(n):
            c, _ = await self.joined_client("big", "P%d" % i)
            await c.send({"type": "publish", "id": "pub", "sdp": offer})
            msg = await until(c, "answer", id="pub")
            self.assertIn("m=video", msg["sdp"])

    async def test_forty_tracks_in_one_offer(self):
        await self.publishers(20)
        z, _ = await self.joined_client("big", "Zoe")
        offer = (await z.expect("offer"))["sdp"]
        self.assertEqual(kinds(offer), (20, 20))
        await z.send({"type": "answer", "id": "ans", "sdp": browser_answer(offer)})
        await z.expect("ok", id="ans")

    async def test_audio_first_past_the_video_limit(self):
        await self.publishers(49)
        z, _ = await self.joined_client("big", "Zoe")
        offer = (await z.expect("offer", timeout=20))["sdp"]
        self.assertEqual(kinds(offer), (49, 48))
        self.assertGreater(len(offer.encode()), 65536)  # more than a publish may have
        await z.send({"type": "answer", "id": "ans", "sdp": browser_answer(offer)})
        await z.expect("ok", id="ans")
        self.assertIn("keeps its last 32 tracks for audio", self.server.output())


if __name__ == "__main__":
    harness.main()
