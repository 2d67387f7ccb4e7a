"""e2e.aiortc: an aiortc client publishes a pure tone into an echo room and must hear
the same tone back, through the server, on the same RTCPeerConnection.

Run by tests/e2e/run inside a fresh network namespace as

    /usr/bin/python3 tests/e2e/echo_aiortc.py <path-to-sobre> <path-to-web-dir>

Two runs, 440 Hz and 660 Hz, each against a fresh server: the received audio's dominant
frequency must follow what was sent, so a hard-coded or looped-back-elsewhere result
cannot pass.

aiortc 1.4 (Debian's python3-aiortc) quirks this relies on:
- RTCConfiguration(iceServers=[]): without it aiortc asks a public STUN server.
- aioice gathers every interface address except exactly 127.0.0.1, so in a namespace with
  only loopback it would offer no candidate at all; tests/e2e/run adds 127.0.0.2/32 to lo,
  which it does offer. Nothing leaves lo.
- aioice accepts a STUN response only from the address it sent the request to. The server
  announces 127.0.0.1 (ANNOUNCE) while aiortc sends from 127.0.0.2: sobre's one wildcard
  UDP socket must answer from the address each check was sent to (IP_PKTINFO), not from
  the kernel's default source (127.0.0.2 here) - the case of any host with several
  addresses. This test is the regression test for that.
"""

import asyncio
import os
import sys

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from e2e_aiortc import (ANALYSED, ANNOUNCE, RATE, WARMUP, Server, ToneTrack,  # noqa: E402
                        dtls_state, harness, pump, save_sdp, to_mono, tone_windows,
                        wait_connected)

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402


class EchoToneTest(harness.unittest.IsolatedAsyncioTestCase):

    def setUp(self):
        self.server = Server({"on_demand": False, "rooms": {"echo": {"echo": True}},
                              "media": {"announce": [ANNOUNCE]}})
        self.addCleanup(self.server.stop)
        self.server.start()

    def fail_with(self, stage, message, pc=None):
        lines = ["aiortc: FAILED at stage %s: %s" % (stage, message)]
        if pc is not None:
            lines.append("states: ice %s, connection %s, dtls %s" % (
                pc.iceConnectionState, pc.connectionState, dtls_state(pc)))
        lines.append(self.server.output())
        self.fail("\n".join(lines))

    async def run_tone(self, freq):
        client = await harness.Client.connect(self.server, "aiortc")
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            await self.exchange(client, pc, freq)
        finally:
            await pc.close()
            await client.close()
        self.assertTrue(self.server.alive(), "sobre died:\n" + self.server.output())

    async def exchange(self, client, pc, freq):
        await client.join("echo", "aiortc-%d" % freq)
        received = asyncio.Queue()
        tracks = []

        @pc.on("track")
        def on_track(track):
            tracks.append(track.kind)
            print("[aiortc] ontrack: %s" % track.kind, flush=True)
            if track.kind == "audio":
                asyncio.ensure_future(pump(track, received))

        pc.addTransceiver(ToneTrack(freq), direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        save_sdp("aiortc-offer.sdp", offer)
        await client.send({"type": "publish", "id": 1, "sdp": offer})
        msg = await client.recv(timeout=10)
        if msg["type"] == "error":
            self.fail_with("signalling", "publish refused: %s: %s"
                           % (msg.get("code"), msg.get("message")))
        if msg["type"] != "answer" or msg.get("id") != 1:
            self.fail_with("signalling", "expected the answer to publish id 1, got %r" % msg)
        save_sdp("aiortc-answer.sdp", msg["sdp"])
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="answer"))
        except Exception as e:  # aiortc raises several types for a bad SDP
            self.fail_with("signalling", "setRemoteDescription(answer) refused it: %r\n%s"
                           % (e, msg["sdp"]))

        ok, ice_up, took = await wait_connected(pc)
        if not ok:
            if not ice_up:
                self.fail_with("ICE", "no ICE connectivity with the server's candidate "
                               "(gave up after %.1f s of at most 20)" % took, pc)
            self.fail_with("DTLS", "ICE completed but DTLS did not (after %.1f s)" % took, pc)
        print("[aiortc] connected (%d Hz)" % freq, flush=True)

        # Media: collect WARMUP + ANALYSED seconds of echoed audio, every wait bounded.
        need = int((WARMUP + ANALYSED) * RATE)
        chunks, got = [], 0
        while got < need:
            try:
                frame = await asyncio.wait_for(received.get(), 5)
            except asyncio.TimeoutError:
                self.fail_with("media", "%s: no echoed audio frame for 5 s after %.2f s of "
                               "audio (tracks: %r)" % (freq, got / RATE, tracks), pc)
            if isinstance(frame, Exception):
                self.fail_with("media", "the echoed track ended: %r" % frame, pc)
            mono = to_mono(frame)
            chunks.append(mono)
            got += len(mono)
        audio = numpy.concatenate(chunks)[int(WARMUP * RATE):need]

        bad = tone_windows(audio, freq, "echo")
        if bad:
            self.fail_with("media", "the echoed audio is not the %d Hz tone sent: "
                           "(peak Hz, energy share, RMS) of the failing windows: %r"
                           % (freq, bad), pc)

    async def test_440_hz_comes_back(self):
        await self.run_tone(440)

    async def test_660_hz_comes_back(self):
        await self.run_tone(660)


if __name__ == "__main__":
    harness.main()
