"""An aiortc participant of a room, driven by a Node test (tests/e2e/room_aiortc_chromium.js)
as a child process:

    /usr/bin/python3 tests/e2e/lib/aiortc_agent.py WS_URL ROOM NAME TONE_HZ

It joins ROOM, publishes a TONE_HZ sine (sendonly, lib/e2e_aiortc.py's ToneTrack) on its
publish connection, answers every subscribe offer of the server (PROTOCOL.md) and records
the decoded audio of every track it receives, labelled with the offer's a=msid (the
publisher's peer id). It reports on stdout, one line each, prefixed "@e2e ":

    {"event": "joined", "id": ..., "peers": [...]}
    {"event": "published", "seconds": ...}          publish connection up
    {"event": "offer", "n": ..., "sections": [...]} a subscribe offer, answered (or "error")
    {"event": "subscribed", "seconds": ...}         subscribe connection up
    {"event": "audio", "from": PEER, "mid": ..., "seconds": ..., "analysis": {...}}
                                                    on request (stdin "analyse PEER SECONDS"):
                                                    that much audio received from PEER from
                                                    now on, run through beep_analysis() and
                                                    dominant_frequency()
    {"event": "failed", "stage": ..., "message": ...}

and reads commands on stdin: "analyse PEER SECONDS", "leave" (sends {"type":"leave"}),
"quit" or end of input (closes everything and exits). Every wait is bounded, and the
agent exits by itself after LIFETIME_S whatever happens.
"""

import asyncio
import json
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_aiortc import (ANNOUNCE, CONNECT_S, RATE, WINDOW, Peer, Server,  # noqa: E402
                        ToneTrack, beep_analysis, dominant_frequency, dtls_state, harness,
                        media_sections, save_sdp, to_mono, wait_connected)

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402

LIFETIME_S = 180.0
SAMPLE_DIR = os.environ.get("SOBRE_E2E_AUDIO_DIR")   # saves analysed audio as .npy


def report(event, **fields):
    fields["event"] = event
    print("@e2e " + json.dumps(fields), flush=True)


def say(*args):
    print("[aiortc-agent]", *args, flush=True)


class _Endpoint:
    """What harness.Client.connect needs of a server."""

    def __init__(self, ws_url):
        self.ws_url = ws_url


class Agent:
    def __init__(self, ws_url, room, name, tone):
        self.ws_url = ws_url
        self.room = room
        self.name = name
        self.tone = tone
        self.peer = None
        self.joined = None     # the last `joined` message (its resume token)
        self.pub = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.sub = None
        self.offers = []       # {offer, answer, error}
        self.msid_of = {}      # mid -> publisher id (latest offer, live m-lines)
        self.tracks = {}       # mid -> RemoteStreamTrack (audio)
        self.listeners = {}    # mid -> list of queues fed with that track's mono samples
        self.pumps = []

    async def connected(self, pc, what):
        ok, ice_up, took = await wait_connected(pc)
        if not ok:
            stage = "DTLS" if ice_up else "ICE"
            report("failed", stage=stage, message="%s: %s did not connect within %.1f s "
                   "(ice %s, connection %s, dtls %s)" % (self.name, what, took,
                                                          pc.iceConnectionState,
                                                          pc.connectionState, dtls_state(pc)))
            return None
        return took

    async def join(self):
        client = await harness.Client.connect(_Endpoint(self.ws_url), self.name)
        self.peer = Peer(client, self.name)
        self.peer.on_offer = self.on_offer
        await client.send({"type": "join", "room": self.room, "name": self.name})
        msg = await self.peer.expect(lambda m: m["type"] in ("joined", "error"), 5, "joined")
        if msg is None or msg["type"] != "joined":
            report("failed", stage="join", message="expected joined, got %r" % (msg,))
            return False
        self.peer.id = msg["self"]["id"]
        self.joined = msg
        report("joined", id=self.peer.id, peers=[p["id"] for p in msg.get("peers", [])])
        return True

    def drop(self):
        """The network drops the WebSocket: no leave, no close handshake. The peer
        connections (media) go on."""
        self.peer.client.ws.transport.abort()

    async def resume(self):
        """A new WebSocket joining with the resume token of the dropped one. Returns the
        `joined` message (same id expected), or None with a `failed` report."""
        await self.peer.close()
        client = await harness.Client.connect(_Endpoint(self.ws_url), self.name)
        peer = Peer(client, self.name)
        peer.on_offer = self.on_offer
        await client.send({"type": "join", "room": self.room, "name": self.name,
                           "resume": self.joined["resume"]})
        msg = await peer.expect(lambda m: m["type"] in ("joined", "error"), 5, "joined")
        if msg is None or msg["type"] != "joined":
            report("failed", stage="resume", message="expected joined, got %r" % (msg,))
            return None
        peer.id = msg["self"]["id"]
        self.peer, self.joined = peer, msg
        return msg

    async def publish(self):
        self.pub.addTransceiver(ToneTrack(self.tone), direction="sendonly")
        await self.pub.setLocalDescription(await self.pub.createOffer())
        offer = self.pub.localDescription.sdp
        save_sdp("%s-publish-offer.sdp" % self.name, offer)
        await self.peer.client.send({"type": "publish", "id": "pub", "sdp": offer})
        msg = await self.peer.expect(lambda m: m["type"] in ("answer", "error") and
                                     m.get("id") == "pub", 10, "answer")
        if msg is None or msg["type"] != "answer":
            report("failed", stage="publish answer", message="publish: %r" % (msg,))
            return False
        save_sdp("%s-publish-answer.sdp" % self.name, msg["sdp"])
        try:
            await self.pub.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"],
                                                                      type="answer"))
        except Exception as e:  # noqa: BLE001 - aiortc raises several types
            report("failed", stage="publish answer",
                   message="setRemoteDescription(answer) refused it: %r" % e)
            return False
        took = await self.connected(self.pub, "publish connection")
        if took is None:
            return False
        report("published", seconds=round(took, 3))
        return True

    def on_track(self, track):
        say("ontrack", track.kind, track.id)

    async def pump(self, mid, track):
        """Feeds the decoded samples of `track` to whoever listens to `mid`."""
        try:
            while True:
                frame = await track.recv()
                mono = to_mono(frame)
                for q in self.listeners.get(mid, []):
                    q.put_nowait(mono)
        except Exception as e:  # noqa: BLE001 - MediaStreamError when the track ends
            say("track of mid %s ended: %r" % (mid, e))
            for q in self.listeners.get(mid, []):
                q.put_nowait(e)

    async def on_offer(self, sdp):
        rec = {"offer": sdp, "answer": None, "error": None}
        self.offers.append(rec)
        n = len(self.offers)
        save_sdp("%s-subscribe-offer-%d.sdp" % (self.name, n), sdp)
        sections = media_sections(sdp)
        try:
            if self.sub is None:
                self.sub = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                self.sub.on("track", self.on_track)
            await self.sub.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await self.sub.setLocalDescription(await self.sub.createAnswer())
            rec["answer"] = self.sub.localDescription.sdp
            save_sdp("%s-subscribe-answer-%d.sdp" % (self.name, n), rec["answer"])
            await self.peer.client.send({"type": "answer", "sdp": rec["answer"]})
        except Exception as e:  # noqa: BLE001 - reported
            rec["error"] = repr(e)
            report("offer", n=n, sections=sections, error=rec["error"])
            return
        self.msid_of = {s["mid"]: s["msid"] for s in sections
                        if s["port"] != 0 and s["direction"] == "sendonly"}
        for t in self.sub.getTransceivers():
            track = t.receiver.track if t.receiver else None
            if (t.kind == "audio" and t.mid in self.msid_of and track is not None and
                    self.tracks.get(t.mid) is not track):
                self.tracks[t.mid] = track
                self.pumps.append(asyncio.ensure_future(self.pump(t.mid, track)))
        report("offer", n=n, sections=sections)

    async def analyse(self, from_id, seconds):
        """That much audio received from `from_id` from now on, analysed: a dict with
        "error", or "seconds", "dominant" (whole), "windows" ((peak Hz, energy share, RMS)
        of each 0.5 s) and "analysis" (beep_analysis)."""
        mids = [mid for mid, msid in self.msid_of.items()
                if msid == from_id and mid in self.tracks]
        if not mids:
            return {"from": from_id, "error": "no audio track received from %s "
                    "(live m-lines: %r)" % (from_id, self.msid_of)}
        mid = mids[-1]
        q = asyncio.Queue()
        self.listeners.setdefault(mid, []).append(q)
        need = int(seconds * RATE)
        chunks, got, err = [], 0, None
        try:
            while got < need:
                try:
                    x = await asyncio.wait_for(q.get(), 5)
                except asyncio.TimeoutError:
                    err = "no audio frame for 5 s after %.2f s of audio" % (got / RATE)
                    break
                if isinstance(x, Exception):
                    err = "the track ended after %.2f s of audio: %r" % (got / RATE, x)
                    break
                chunks.append(x)
                got += len(x)
        finally:
            self.listeners[mid].remove(q)
        if err:
            return {"from": from_id, "mid": mid, "error": err}
        audio = numpy.concatenate(chunks)[:need]
        if SAMPLE_DIR:
            os.makedirs(SAMPLE_DIR, exist_ok=True)
            numpy.save(os.path.join(SAMPLE_DIR, "%s-from-%s.npy" % (self.name, from_id)), audio)
        peak, share, rms = dominant_frequency(audio)
        step = int(WINDOW * RATE)
        windows = [tuple(round(v, 3) for v in dominant_frequency(audio[i:i + step]))
                   for i in range(0, len(audio) - step + 1, step)]
        return {"from": from_id, "mid": mid, "seconds": round(got / RATE, 3),
                "dominant": {"hz": round(peak, 1), "share": round(share, 3), "rms": round(rms)},
                "windows": windows, "analysis": beep_analysis(audio)}

    async def inbound_audio_stats(self):
        """{mid: packetsReceived} of the subscribe connection's audio receivers."""
        out = {}
        if self.sub is None:
            return out
        for t in self.sub.getTransceivers():
            if t.kind != "audio" or t.mid not in self.tracks:
                continue
            stats = await t.receiver.getStats()
            for st in stats.values():
                if st.type == "inbound-rtp":
                    out[t.mid] = st.packetsReceived
        return out

    async def analyse_reporting(self, from_id, seconds):
        try:
            report("audio", **await self.analyse(from_id, seconds))
        except Exception as e:  # noqa: BLE001 - a bug here must not look like a silence
            report("failed", stage="agent", message="analyse %s: %r" % (from_id, e))

    async def commands(self):
        loop = asyncio.get_event_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            words = line.decode().split()
            if not words:
                continue
            if words[0] == "quit":
                return
            if words[0] == "leave":
                await self.peer.client.send({"type": "leave"})
                report("left")
            elif words[0] == "analyse" and len(words) == 3:
                asyncio.ensure_future(self.analyse_reporting(words[1], float(words[2])))
            else:
                say("unknown command: %r" % line)

    async def subscribed(self):
        """Waits (bounded) for a subscribe offer and its connection; reports `subscribed`
        and returns True once it is up."""
        deadline = time.monotonic() + CONNECT_S
        while self.sub is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.sub is None:
            return False
        took = await self.connected(self.sub, "subscribe connection")
        if took is not None:
            report("subscribed", seconds=round(took, 3))
        return took is not None

    async def run(self):
        if not await self.join() or not await self.publish():
            return
        await self.subscribed()
        await self.commands()

    async def close(self):
        for t in self.pumps:
            t.cancel()
        if self.peer is not None:
            await self.peer.close()
        await self.pub.close()
        if self.sub is not None:
            await self.sub.close()


class AgentTestCase(harness.unittest.IsolatedAsyncioTestCase):
    """A test with in-process Agents: a server (lib/e2e_aiortc.py's, the harness config
    with `config` merged in and the aiortc announce address) started for each test, and
    every Agent made with agent() closed afterwards, even on failure."""

    config = {}

    def setUp(self):
        self.server = Server(harness.deep_merge(self.config, {"media": {"announce": [ANNOUNCE]}}))
        self.addCleanup(self.server.stop)
        self.server.start()
        self.agents = []

    async def asyncTearDown(self):
        for a in self.agents:
            try:
                await asyncio.wait_for(a.close(), 5)
            except Exception as e:  # noqa: BLE001 - teardown goes on
                say("close %s: %r" % (a.name, e))

    def server_log(self, lines=120):
        return "server log (last %d lines):\n%s" % (
            lines, "\n".join(self.server.output().split("\n")[-lines:]))


async def main(ws_url, room, name, tone):
    agent = Agent(ws_url, room, name, tone)
    try:
        await asyncio.wait_for(agent.run(), LIFETIME_S)
    except asyncio.TimeoutError:
        say("lifetime of %d s over" % LIFETIME_S)
    except Exception as e:  # noqa: BLE001 - reported, then exit
        report("failed", stage="agent", message=repr(e))
    finally:
        try:
            await asyncio.wait_for(agent.close(), 5)
        except Exception as e:  # noqa: BLE001
            say("close: %r" % e)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write("usage: aiortc_agent.py WS_URL ROOM NAME TONE_HZ\n")
        sys.exit(2)
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
