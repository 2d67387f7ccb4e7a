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
