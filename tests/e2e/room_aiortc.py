"""e2e.room_aiortc: audio content survives forwarding between participants.

Two aiortc publishers in one ordinary room send a pure tone each (440 Hz and 660 Hz) on
their publish connection; an aiortc subscriber joins afterwards, answers the server's
subscribe offer (which must carry both tracks, each labelled a=msid:<publisher's peer id>)
and must hear, on each received track, the tone of the publisher that track is labelled
with: the dominant frequency (within 5 Hz) of every 0.5 s window of 3 s of audio. Two
distinct tones catch a track forwarded under the wrong publisher's label. Then the
publisher of the last m-line leaves: the subscriber gets peer_left and a new offer (that
track port 0 or inactive) which aiortc must accept, and the other tone must go on.
aiortc 1.4 checks a closed (port 0) m-section like a live one: it refuses the offer unless
the section carries a=ice-ufrag and a=ice-pwd ("ICE username fragment or password is
missing"), a=fingerprint and a=setup ("'NoneType' object has no attribute 'role'"),
a=rtcp-mux ("RTCP mux is not enabled") and an a=rtpmap. JSEP does not require them there,
but with all of them written into the closed section aiortc accepts the offer and the
remaining track plays on (tried by editing the offer in the client).

Run by tests/e2e/run inside a fresh network namespace as

    /usr/bin/python3 tests/e2e/room_aiortc.py <path-to-sobre> <path-to-web-dir>

See lib/e2e_aiortc.py for the aiortc quirks (RTCConfiguration(iceServers=[]), 127.0.0.2).
"""

import asyncio
import json
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from e2e_aiortc import (ANALYSED, ANNOUNCE, RATE, WARMUP, Peer, Server,  # noqa: E402
                        ToneTrack, dtls_state, harness, media_sections, pump, save_sdp,
                        to_mono, tone_windows, wait_connected)

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402

ROOM = "salle"
TONES = {"aiortc-440": 440, "aiortc-660": 660}


class RoomToneTest(harness.unittest.IsolatedAsyncioTestCase):

    def setUp(self):
        # An ordinary room with the default caps.
        self.server = Server({"on_demand": False, "rooms": {ROOM: {}},
                              "media": {"announce": [ANNOUNCE]}})
        self.addCleanup(self.server.stop)
        self.server.start()
        self.peers = []
        self.pcs = []
        self.sub_offers = []   # {offer, answer, error}
        self.pub_sdps = {}     # name -> (offer, answer)

    async def asyncTearDown(self):
        # Sockets first: an offer arriving while the connections close would be refused.
        for p in self.peers:
            await p.close()
        for pc in self.pcs:
            await pc.close()

    def fail_with(self, stage, message):
        lines = ["room_aiortc: FAILED at stage %s: %s" % (stage, message)]
        for p, pc in zip(self.peers, self.pcs):
            lines.append("---- %s (%s): ice %s, connection %s, dtls %s; socket closed: %s"
                         % (p.name, p.id, pc.iceConnectionState, pc.connectionState,
                            dtls_state(pc), p.closed))
            lines.append("messages: %s" % json.dumps(p.msgs))
        for name, (offer, answer) in self.pub_sdps.items():
            lines.append("publish offer of %s:\n%s" % (name, offer))
            lines.append("publish answer to %s:\n%s" % (name, answer))
        for i, o in enumerate(self.sub_offers):
            lines.append("subscribe offer #%d:\n%s" % (i, o["offer"]))
            lines.append("subscribe answer #%d:\n%s" % (i, o["answer"]))
            if o["error"]:
                lines.append("subscribe offer #%d refused: %s" % (i, o["error"]))
        out = self.server.output().split("\n")
        lines.append("server log (last 150 lines):\n" + "\n".join(out[-150:]))
        self.fail("\n".join(lines))

    async def join(self, name):
        client = await harness.Client.connect(self.server, name)
        peer = Peer(client, name)
        self.peers.append(peer)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)
        await client.send({"type": "join", "room": ROOM, "name": name})
        msg = await peer.expect(lambda m: m["type"] in ("joined", "error"), 5, "joined")
        if msg is None or msg["type"] != "joined":
            self.fail_with("join", "%s: expected joined, got %r" % (name, msg))
        peer.id = msg["self"]["id"]
        print("[aiortc] %s joined as %s" % (name, peer.id), flush=True)
        return peer, pc

    async def wait_connected(self, pc, what):
        ok, ice_up, took = await wait_connected(pc)
        if not ok:
            if not ice_up:
                self.fail_with("ICE", "%s: no ICE connectivity with the server's candidate "
                               "(gave up after %.1f s)" % (what, took))
            self.fail_with("DTLS", "%s: ICE completed but DTLS did not (after %.1f s)"
                           % (what, took))
        print("[aiortc] %s connected after %.2f s" % (what, took), flush=True)

    async def publish(self, peer, pc, freq):
        pc.addTransceiver(ToneTrack(freq), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        save_sdp("room-%s-offer.sdp" % peer.name, offer)
        await peer.client.send({"type": "publish", "id": "pub", "sdp": offer})
        msg = await peer.expect(lambda m: m["type"] in ("answer", "error") and
                                m.get("id") == "pub", 10, "answer")
        self.pub_sdps[peer.name] = (offer, msg and msg.get("sdp"))
        if msg is None:
            self.fail_with("publish answer", "%s: no answer to publish within 10 s" % peer.name)
        if msg["type"] == "error":
            hint = ""
            if msg.get("code") == "sdp_rejected" and "not supported" in msg.get("message", ""):
                hint = (" <-- this sobre does not forward between participants yet (publish "
                        "in an ordinary room is refused)")
            self.fail_with("publish answer", "%s: publish refused: %s: %s%s"
                           % (peer.name, msg.get("code"), msg.get("message"), hint))
        save_sdp("room-%s-answer.sdp" % peer.name, msg["sdp"])
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="answer"))
        except Exception as e:  # aiortc raises several types for a bad SDP
            self.fail_with("publish answer", "%s: setRemoteDescription(answer) refused it: %r"
                           % (peer.name, e))
        await self.wait_connected(pc, "%s publish connection" % peer.name)

    async def test_each_tone_reaches_the_subscriber(self):
        publishers = []
        for name, freq in TONES.items():
            peer, pc = await self.join(name)
            publishers.append((peer, pc, freq))
        for peer, pc, freq in publishers:
            await self.publish(peer, pc, freq)

        # The subscriber joins once both publish: the server must offer it their tracks.
        sub, pc = await self.join("aiortc-subscriber")
        queues = {}   # RemoteStreamTrack -> queue of its frames

        @pc.on("track")
        def on_track(track):
            print("[aiortc] subscriber: ontrack %s %s" % (track.kind, track.id), flush=True)
            if track.kind == "audio":
                queues[track] = asyncio.Queue()
                asyncio.ensure_future(pump(track, queues[track]))

        async def on_offer(sdp):
            rec = {"offer": sdp, "answer": None, "error": None}
            self.sub_offers.append(rec)
            save_sdp("room-subscriber-offer-%d.sdp" % len(self.sub_offers), sdp)
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                rec["answer"] = pc.localDescription.sdp
                save_sdp("room-subscriber-answer-%d.sdp" % len(self.sub_offers), rec["answer"])
                await sub.client.send({"type": "answer", "sdp": rec["answer"]})
            except Exception as e:  # noqa: BLE001 - reported below
                rec["error"] = repr(e)
                print("[aiortc] subscriber: offer refused: %r" % e, flush=True)

        sub.on_offer = on_offer
        # Offers that arrived before on_offer was set (none expected: join just returned).
        for m in [m for m in sub.inbox if m["type"] == "offer"]:
            sub.inbox.remove(m)
            await on_offer(m["sdp"])

        ids = {p.id: (p, f) for p, _, f in publishers}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(o["error"] for o in self.sub_offers):
                break
            if self.sub_offers and self.sub_offers[-1]["answer"]:
                live = [s for s in media_sections(self.sub_offers[-1]["offer"])
                        if s["port"] != 0 and s["direction"] == "sendonly"]
                if sorted(s["msid"] for s in live if s["kind"] == "audio") == sorted(ids):
                    break
            await asyncio.sleep(0.1)
        bad = [o["error"] for o in self.sub_offers if o["error"]]
        if bad:
            self.fail_with("subscribe offer", "aiortc refused the server's offer: %s" % bad[0])
        if not self.sub_offers:
            self.fail_with("subscribe offer", "no subscribe offer within 10 s of joining")
        sections = media_sections(self.sub_offers[-1]["offer"])
        print("[aiortc] subscribe offer sections: %s" % json.dumps(sections), flush=True)
        msid_of = {s["mid"]: s["msid"] for s in sections
                   if s["port"] != 0 and s["direction"] == "sendonly" and s["kind"] == "audio"}
        if sorted(msid_of.values()) != sorted(ids):
            self.fail_with("subscribe offer", "the offer's live audio m-lines are labelled %r, "
                           "expected one per publisher %r" % (msid_of, sorted(ids)))
        await self.wait_connected(pc, "subscriber's subscribe connection")

        # Which received track is whose (mid -> msid of the offer), then 4 s of each.
        tracks = []   # in m-line order
        for t in pc.getTransceivers():
            track = t.receiver.track
            if t.mid in msid_of and track is not None and track in queues:
                peer, freq = ids[msid_of[t.mid]]
                tracks.append((peer, freq, t.mid, queues[track]))
        if len(tracks) != len(ids):
            self.fail_with("subscribe offer", "received audio tracks %r, expected one per "
                           "publisher" % [(p.name, mid) for p, _, mid, _ in tracks])

        async def collect(peer, freq, mid, queue, warmup=WARMUP):
            need = int((warmup + ANALYSED) * RATE)
            chunks, got = [], 0
            while got < need:
                try:
                    frame = await asyncio.wait_for(queue.get(), 5)
                except asyncio.TimeoutError:
                    return "no audio frame from %s (mid %s) for 5 s after %.2f s of audio" % (
                        peer.name, mid, got / RATE)
                if isinstance(frame, Exception):
                    return "the track of %s ended: %r" % (peer.name, frame)
                mono = to_mono(frame)
                chunks.append(mono)
                got += len(mono)
            return numpy.concatenate(chunks)[int(warmup * RATE):need]

        results = await asyncio.gather(*(collect(*t) for t in tracks))
        problems = []
        for (peer, freq, mid, _), audio in zip(tracks, results):
            if isinstance(audio, str):
                problems.append(audio)
                continue
            bad = tone_windows(audio, freq, "subscriber <- %s (mid %s)" % (peer.name, mid))
            if bad:
                problems.append("the track labelled %s (%s) is not its %d Hz tone: (peak Hz, "
                                "energy share, RMS) of the failing windows: %r"
                                % (peer.name, peer.id, freq, bad))
        if problems:
            self.fail_with("media", "; ".join(problems))

        # leave: the publisher of the last m-line leaves (not the first: sobre keeps that one
        # as the BUNDLE tag, inactive with its port, and closes the others with port 0); the
        # subscriber gets peer_left and a new offer, which aiortc must accept, and the other
        # tone goes on.
        gone = tracks[-1][0]
        n = len(self.sub_offers)
        await gone.client.send({"type": "leave"})
        if await sub.expect(lambda m: m["type"] == "peer_left" and m.get("id") == gone.id,
                            5, "peer_left") is None:
            self.fail_with("leave", "no peer_left for %s within 5 s" % gone.id)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
                len(self.sub_offers) > n and (self.sub_offers[-1]["answer"] or
                                              self.sub_offers[-1]["error"])):
            await asyncio.sleep(0.1)
        if len(self.sub_offers) <= n:
            self.fail_with("leave", "no new subscribe offer within 10 s of %s leaving" % gone.name)
        last = self.sub_offers[-1]
        print("[aiortc] offer after the leave: %s" % json.dumps(media_sections(last["offer"])),
              flush=True)
        if last["error"]:
            self.fail_with("leave", "aiortc refused the offer sent after %s left: %s"
                           % (gone.name, last["error"]))
        for s in media_sections(last["offer"]):
            if s["msid"] == gone.id and s["port"] != 0 and s["direction"] != "inactive":
                self.fail_with("leave", "the offer after the leave still sends %s's track: %r"
                               % (gone.name, s))
        stay = [t for t in tracks if t[0] is not gone][0]
        while not stay[3].empty():
            stay[3].get_nowait()
        audio = await collect(*stay, warmup=0.5)
        if isinstance(audio, str):
            self.fail_with("leave", "after %s left: %s" % (gone.name, audio))
        bad = tone_windows(audio, stay[1], "after the leave, subscriber <- %s" % stay[0].name)
        if bad:
            self.fail_with("leave", "after %s left, %s's track is not its %d Hz tone: %r"
                           % (gone.name, stay[0].name, stay[1], bad))
        self.assertTrue(self.server.alive(), "sobre died:\n" + self.server.output())


if __name__ == "__main__":
    harness.main()
