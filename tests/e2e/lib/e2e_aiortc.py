"""Shared helpers of the aiortc end-to-end tests (tests/e2e/echo_aiortc.py,
tests/e2e/room_aiortc.py): a paced sine track, the dominant frequency of received audio,
the integration harness's server run with -v, and small aiortc utilities.

aiortc 1.4 (Debian's python3-aiortc) quirks these tests rely on:
- RTCConfiguration(iceServers=[]): without it aiortc asks a public STUN server.
- aioice gathers every interface address except exactly 127.0.0.1, so in a namespace with
  only loopback it would offer no candidate at all; tests/e2e/run adds 127.0.0.2/32 to lo,
  which it does offer. Nothing leaves lo.
- aioice accepts a STUN response only from the address it sent the request to: sobre must
  answer from the address each check was sent to (IP_PKTINFO).
"""

import asyncio
import fractions
import json
import os
import sys
import time

import numpy
from av import AudioFrame

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration"))
import sobre_harness as harness  # noqa: E402

from aiortc import MediaStreamTrack  # noqa: E402

RATE = 48000
FRAME = 960                 # 20 ms at 48 kHz
WARMUP = 1.0                # seconds of echoed audio ignored (codec and jitter start-up)
ANALYSED = 3.0              # seconds of echoed audio analysed after the warm-up
WINDOW = 0.5                # analysis window, seconds (2 Hz FFT resolution)
TOLERANCE_HZ = 5.0
ANNOUNCE = os.environ.get("SOBRE_E2E_AIORTC_ANNOUNCE", "127.0.0.1")


class ToneTrack(MediaStreamTrack):
    """A mono sine at `freq` Hz, 20 ms AudioFrames paced in real time."""

    kind = "audio"

    def __init__(self, freq, amplitude=0.3):
        super().__init__()
        self.freq = freq
        self.amplitude = amplitude
        self.pts = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.pts / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        n = numpy.arange(self.pts, self.pts + FRAME)
        samples = (self.amplitude * 32767 *
                   numpy.sin(2 * numpy.pi * self.freq * n / RATE)).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.pts += FRAME
        return frame


def dominant_frequency(mono):
    """(peak frequency in Hz, share of the energy within 20 Hz of the peak, RMS)."""
    x = mono.astype(numpy.float64)
    rms = float(numpy.sqrt(numpy.mean(x * x)))
    spectrum = numpy.abs(numpy.fft.rfft(x * numpy.hanning(len(x)))) ** 2
    freqs = numpy.fft.rfftfreq(len(x), 1.0 / RATE)
    spectrum[freqs < 50] = 0          # ignore DC and rumble
    peak = int(numpy.argmax(spectrum))
    near = numpy.abs(freqs - freqs[peak]) <= 20
    total = float(spectrum.sum()) or 1.0
    return float(freqs[peak]), float(spectrum[near].sum()) / total, rms


def to_mono(frame):
    """Channel 0 of a decoded frame as int16 samples (aiortc decodes to s16 stereo)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        return data[0]
    return data.reshape(-1)[0::channels]


def beep_analysis(mono, block_ms=5):
    """Bursts of sound in `mono` (int16 at RATE), such as Chromium's fake microphone makes
    (media/audio/simple_sources.cc, BeepingSource: every 500 ms, 20 ms of a 400 Hz square
    wave, silence between). Returns {bursts, onsets_ms (first 12), period_ms (median onset
    interval), periods_ok (share of intervals within 500 +- 30 ms), duration_ms (median),
    burst_hz (dominant frequency of the bursts' averaged spectrum), burst_rms, gap_rms}."""
    x = mono.astype(numpy.float64)
    block = int(RATE * block_ms / 1000)
    n = len(x) // block
    if n < 10:
        return {"bursts": 0}
    env = numpy.sqrt(numpy.mean(x[:n * block].reshape(n, block) ** 2, axis=1))
    floor = float(numpy.median(env))
    top = float(numpy.percentile(env, 99.5))
    threshold = max(3 * floor, 0.2 * top, 30.0)
    loud = env > threshold
    runs = []           # [first block, last block] of each burst, gaps < 20 ms merged
    for i in numpy.flatnonzero(loud):
        if runs and i - runs[-1][1] <= 20 // block_ms:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    onsets = [int(r[0]) * block_ms for r in runs]
    intervals = numpy.diff(onsets) if len(onsets) > 1 else numpy.array([])
    spectrum = None
    inside = numpy.zeros(n, dtype=bool)
    for a, b in runs:
        inside[a:b + 1] = True
        seg = x[a * block:(b + 1) * block]
        s = numpy.abs(numpy.fft.rfft(seg * numpy.hanning(len(seg)), RATE)) ** 2   # 1 Hz bins
        spectrum = s if spectrum is None else spectrum + s
    burst_hz = None
    if spectrum is not None:
        spectrum[:50] = 0
        burst_hz = int(numpy.argmax(spectrum))
    rms = lambda sel: float(numpy.sqrt(numpy.mean(env[sel] ** 2))) if sel.any() else 0.0
    # Blocks next to a burst are neither burst nor gap (codec and jitter smear).
    near = numpy.convolve(inside.astype(int), numpy.ones(9, dtype=int), "same") > 0
    return {
        "bursts": len(runs),
        "onsets_ms": onsets[:12],
        "period_ms": float(numpy.median(intervals)) if len(intervals) else None,
        "periods_ok": (round(float(numpy.mean(numpy.abs(intervals - 500) <= 30)), 3)
                       if len(intervals) else 0.0),
        "duration_ms": float(numpy.median([(b - a + 1) * block_ms for a, b in runs]))
        if runs else None,
        "burst_hz": burst_hz,
        "burst_rms": round(rms(inside)),
        "gap_rms": round(rms(~near)),
    }


class Server(harness.Server):
    """The integration harness's server, run with -v so that a failure shows the
    server's side of the story."""

    def start(self, timeout=5.0):
        real = harness.SOBRE
        try:
            # harness.Server.start runs [SOBRE, "-c", path]; a wrapper adds -v.
            wrapper = os.path.join(self.tmp.name, "sobre-v")
            with open(wrapper, "w") as f:
                f.write('#!/bin/sh\nexec "%s" -v "$@"\n' % real)
            os.chmod(wrapper, 0o755)
            harness.SOBRE = wrapper
            return super().start(timeout)
        finally:
            harness.SOBRE = real


async def pump(track, queue):
    """Moves the echoed track's frames into `queue`; an exception is queued too."""
    try:
        while True:
            await queue.put(await track.recv())
    except Exception as e:  # MediaStreamError when the track ends
        await queue.put(e)


CONNECT_S = 20.0  # how long a peer connection may take to connect


async def wait_connected(pc, limit_s=CONNECT_S, step_s=0.05):
    """Waits (bounded) until pc is connected or failed. Returns (connected, ice_up,
    seconds taken): ice_up says whether ICE got through, to tell an ICE failure from a
    DTLS one."""
    t0 = time.monotonic()
    ice_up = False
    while time.monotonic() - t0 < limit_s:
        ice_up = ice_up or pc.iceConnectionState == "completed"
        if pc.connectionState in ("connected", "failed"):
            break
        await asyncio.sleep(step_s)
    return pc.connectionState == "connected", ice_up, time.monotonic() - t0


def dtls_state(pc):
    for t in pc.getTransceivers():
        transport = t.sender.transport
        if transport is not None:
            return transport.state
    return "n/a"


def save_sdp(name, sdp):
    folder = os.environ.get("SOBRE_E2E_SDP_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "w") as f:
            f.write(sdp)


def tone_windows(audio, freq, label):
    """Checks every WINDOW of `audio` (int16 mono at RATE, warm-up already cut) for a
    dominant `freq` (within TOLERANCE_HZ, over half the energy, audible), printing one
    line per window. Returns the failing windows as (peak Hz, energy share, RMS)."""
    step = int(WINDOW * RATE)
    bad = []
    for i in range(0, len(audio) - step + 1, step):
        peak, share, rms = dominant_frequency(audio[i:i + step])
        ok = abs(peak - freq) <= TOLERANCE_HZ and share > 0.5 and rms > 500
        print("[aiortc] %s: sent %d Hz, window %.1f s: dominant %.1f Hz, %.0f%% of the energy "
              "near it, RMS %.0f%s" % (label, freq, WARMUP + i / RATE, peak, 100 * share, rms,
                                       "" if ok else "  <-- wrong"), flush=True)
        if not ok:
            bad.append((round(peak, 1), round(share, 2), round(rms)))
    return bad


def media_sections(sdp):
    """[{mid, port, direction, msid (stream id), kind}] of an SDP."""
    out = []
    for sec in sdp.replace("\r\n", "\n").split("\nm=")[1:]:
        lines = sec.split("\n")
        first = lines[0].split()
        s = {"kind": first[0], "port": int(first[1]), "mid": None, "msid": None,
             "direction": "sendrecv"}
        for line in lines[1:]:
            if line.startswith("a=mid:"):
                s["mid"] = line[6:].strip()
            elif line.startswith("a=msid:"):
                s["msid"] = line[7:].split()[0]
            elif line.strip() in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"):
                s["direction"] = line.strip()[2:]
        out.append(s)
    return out


class Peer:
    """A signalling client whose messages are read all the time (a publisher that does not
    read would let the server's queue for it fill up): offers go to on_offer, in order;
    everything else to a queue that expect() searches."""

    def __init__(self, client, name):
        self.client = client
        self.name = name
        self.id = None
        self.msgs = []
        self.inbox = []
        self.event = asyncio.Event()
        self.on_offer = None
        self.closed = None
        self.task = asyncio.ensure_future(self._read())

    async def _read(self):
        while True:
            try:
                raw = await self.client.ws.recv()
            except Exception as e:  # ConnectionClosed, or cancelled at the end
                self.closed = repr(e)
                self.event.set()
                return
            msg = json.loads(raw)
            brief = dict(msg)
            if isinstance(brief.get("sdp"), str):
                brief["sdp"] = "<%d bytes>" % len(brief["sdp"])
            self.msgs.append(brief)
            if msg.get("type") not in ("speaking", "bandwidth"):
                print("[aiortc] %s <- %s" % (self.name, json.dumps(brief)), flush=True)
            if msg.get("type") == "offer" and self.on_offer is not None:
                await self.on_offer(msg["sdp"])
            else:
                self.inbox.append(msg)
                self.event.set()

    async def expect(self, pred, timeout, what):
        """The first message satisfying pred, within timeout seconds; None otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                return None
            self.event.clear()
            try:
                await asyncio.wait_for(self.event.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def close(self):
        self.task.cancel()
        try:
            await self.task
        except BaseException:
            pass
        await self.client.close()
