"""Smoke run of the benchmark tools (bench/README.md), part of the normal test run.

    smoke_test.py SOBRE WEB_DIR      (LOADGEN and LIMIT binaries from the environment)

* loadgen with 3 participants (audio, and VP8 video with 3 temporal layers) for 3 s
  against a sobre on loopback:
  everyone receives everyone's audio and video, nothing is lost, latency is measured;
* the same traffic through bench/limit, the bare SRTP relay;
* 20 participants with audio and video: each subscribe connection carries 38 tracks,
  every one arrives, audio whole.
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import sobre_harness as harness  # noqa: E402

LOADGEN = os.environ.get("LOADGEN", "")
LIMIT = os.environ.get("LIMIT", "")
ARGS = ["--participants", "3", "--video", "--temporal-layers", "3", "--ramp", "0.5",
        "--warmup", "1.5", "--duration", "3", "--check", "--quiet"]


def run_loadgen(args, timeout=60):
    """Runs loadgen; returns (exit status, its SUMMARY as a dict, all output)."""
    p = subprocess.run([LOADGEN] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    summary = None
    for line in out.splitlines():
        if line.startswith("SUMMARY "):
            summary = json.loads(line[len("SUMMARY "):])
    return p.returncode, summary, out


class Smoke(unittest.TestCase):
    def check_summary(self, rc, s, out):
        self.assertIsNotNone(s, out)
        self.assertEqual(rc, 0, out)
        self.assertEqual((s["up"], s["participants"]), (3, 3), out)
        # 3 participants, each receiving the 2 others' audio and video.
        self.assertEqual((s["pairs_seen"], s["pairs"]), (12, 12), out)
        self.assertEqual(s["lost"], 0, out)
        # Each receives 2 x (50 audio + ~30 video packets/s): well over 300 packets/s.
        self.assertGreater(s["recv_pps"], 300, out)
        self.assertGreater(s["latency_samples"], 0, out)
        self.assertEqual(s["bad_payloads"], 0, out)  # Opus and VP8 arrive intact
        self.assertGreater(s["p50_us"], 0, out)
        self.assertLessEqual(s["p50_us"], s["p99_us"], out)
        self.assertLessEqual(s["p99_us"], s["max_us"], out)

    def test_loadgen_against_sobre(self):
        server = harness.Server({"room_defaults": {"last_n": 8}})
        server.start()
        self.addCleanup(server.stop)
        rc, s, out = run_loadgen(["--url", server.ws_url] + ARGS)
        self.check_summary(rc, s, out + server.output())
        self.assertTrue(server.alive(), server.output())

    def test_dtx_sends_less_and_loses_nothing(self):
        """Opus DTX: silence goes out as one frame every 400 ms; the stamps still count
        every packet sent, so loss stays 0."""
        server = harness.Server({"room_defaults": {"last_n": 8}})
        server.start()
        self.addCleanup(server.stop)
        rc, s, out = run_loadgen(["--url", server.ws_url, "--participants", "3", "--dtx",
                                  "--ramp", "0.5", "--warmup", "1.5", "--duration", "3",
                                  "--check", "--quiet"])
        self.assertEqual(rc, 0, out + server.output())
        self.assertEqual((s["pairs_seen"], s["lost"], s["bad_payloads"]), (6, 0, 0), out)
        # Without DTX: 3 participants x 50 packets/s x 3 s = 450.
        self.assertLess(s["sent_pkts"], 440, out)
        self.assertGreater(s["sent_pkts"], 150, out)

    def test_simulcast_reaches_everyone(self):
        """Three VP8 streams told apart by rid (as browsers send them): every subscriber
        gets one layer of every publisher, nothing lost within it."""
        server = harness.Server({"room_defaults": {"last_n": 8}})
        server.start()
        self.addCleanup(server.stop)
        rc, s, out = run_loadgen(["--url", server.ws_url, "--participants", "3", "--video",
                                  "--simulcast", "--ramp", "0.5", "--warmup", "1.5",
                                  "--duration", "3", "--check", "--quiet"])
        self.assertEqual(rc, 0, out + server.output())
        self.assertEqual((s["pairs_seen"], s["pairs"], s["lost"], s["bad_payloads"]),
                         (12, 12, 0, 0), out)
        # Each subscriber gets one layer of each publisher, not all three: fewer packets
        # arrive than the 2 x 3 layers x frames would give.
        self.assertLess(s["recv_pkts"], 2 * s["sent_pkts"], out)

    def test_twenty_publishers_reach_everyone(self):
        """20 participants with audio and video: each subscribe connection carries the 38
        tracks of the 19 others (more than the 16 m-lines of a publish offer), and every
        stream arrives, nothing lost."""
        server = harness.Server({"limits": {"max_participants": 40, "uplink_kbps": 0},
                                 "room_defaults": {"max_participants": 20, "last_n": 0,
                                                   "video_kbps": 30}})
        server.start()
        self.addCleanup(server.stop)
        rc, s, out = run_loadgen(["--url", server.ws_url, "--participants", "20", "--video",
                                  "--video-kbps", "30", "--fps", "10", "--ramp", "2",
                                  "--warmup", "3", "--duration", "3", "--quiet"])
        self.assertIsNotNone(s, out + server.output())
        # 20 subscribers x 19 publishers x (audio, video): every stream arrives; audio
        # whole. Video may lose some when the machine is busy: each subscriber's downlink
        # estimate then holds some of its 19 videos back (audio first), not this test's
        # subject.
        self.assertEqual((s["up"], s["pairs"]), (20, 760), out)
        self.assertEqual((s["pairs_seen_audio"], s["pairs_seen_video"]), (380, 380), out)
        self.assertEqual((s["lost_audio"], s["bad_payloads"]), (0, 0), out)
        self.assertTrue(server.alive(), server.output())

    def test_limit_relays_the_same_traffic(self):
        relay = subprocess.Popen([LIMIT, "--port", "0"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
        self.addCleanup(relay.kill)
        first = relay.stdout.readline().decode()
        self.assertIn("listening on 127.0.0.1:", first)
        port = first.strip().rsplit(":", 1)[1]
        rc, s, out = run_loadgen(["--mode", "limit", "--target", "127.0.0.1:" + port] + ARGS)
        self.check_summary(rc, s, out)
        relay.terminate()
        tail = relay.communicate(timeout=10)[0].decode()
        self.assertEqual(relay.returncode, 0, tail)
        self.assertIn("dropped 0", tail)

    def test_check_fails_without_a_server(self):
        """--check is not a rubber stamp: nobody to talk to means exit status 1."""
        port = harness.free_tcp_port()
        rc, s, out = run_loadgen(["--url", "ws://127.0.0.1:%d/ws" % port,
                                  "--participants", "2", "--ramp", "0", "--warmup", "0.5",
                                  "--duration", "1", "--check", "--quiet"])
        self.assertEqual(rc, 1, out)
        self.assertIn("check failed", out)
        self.assertEqual(s["up"], 0, out)


if __name__ == "__main__":
    if not (os.access(LOADGEN, os.X_OK) and os.access(LIMIT, os.X_OK)):
        sys.stderr.write("set LOADGEN and LIMIT to the built binaries\n")
        sys.exit(2)
    harness.main()
