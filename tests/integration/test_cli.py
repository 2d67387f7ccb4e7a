"""The command line: --version, --help, unknown options, --check-config, -c with a bad
config, and a listen port already in use.

Run: /usr/bin/python3 tests/integration/test_cli.py SOBRE_BINARY WEB_DIR
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import base_config, free_tcp_port, free_udp_port  # noqa: E402


def run(*args, timeout=5):
    """Runs sobre with these arguments; returns (status, stdout, stderr)."""
    p = subprocess.run([harness.SOBRE] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# Config files with a located error: (text, line, column, key path in the message).
# Line and column are 1-based and point at the key whose value is at fault (or at the
# offending token for a syntax error).
BAD_CONFIGS = {
    "bad_type.json": (
        '{\n'
        '  "listen": {"port": 8080},\n'
        '  "rooms": {\n'
        '    "assemblee": {\n'
        '      "video_kbps": "300k"\n'
        '    }\n'
        '  }\n'
        '}\n', 5, 7, "rooms.assemblee.video_kbps"),
    "out_of_range.json": (
        '{\n'
        '  "limits": {\n'
        '    "messages_per_second": 0\n'
        '  }\n'
        '}\n', 3, 5, "limits.messages_per_second"),
    "unknown_key.json": (
        '{\n'
        '  "listen": {\n'
        '    "port": 8080,\n'
        '    "prot": 8081\n'
        '  }\n'
        '}\n', 4, 5, "listen.prot"),
    "syntax.json": (
        '{\n'
        '  "listen": {\n'
        '    "port": 8080,\n'
        '  }\n'
        '}\n', 4, 3, None),
}


class CliTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sobre-cli-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_version(self):
        status, out, _ = run("--version")
        self.assertEqual(status, 0)
        self.assertEqual(out.strip(), "sobre 0.1.0")

    def test_help(self):
        for flag in ("--help", "-h"):
            with self.subTest(flag=flag):
                status, out, _ = run(flag)
                self.assertEqual(status, 0)
                self.assertIn("usage", out.lower())
                for option in ("--check-config", "--version", "-c"):
                    self.assertIn(option, out)

    def test_unknown_option(self):
        status, out, err = run("--bogus")
        self.assertEqual(status, 2)
        self.assertIn("--bogus", err)
        self.assertEqual(out, "", "errors go to stderr")

    def test_check_valid_config(self):
        cfg = base_config(free_tcp_port(), free_udp_port())
        cfg["limits"]["messages_per_second"] = 20
        path = self.write("good.json", json.dumps(cfg, indent=2))
        status, _, err = run("--check-config", path)
        self.assertEqual(status, 0, err)

    def test_check_example_from_docs(self):
        # The config shown to users, verbatim.
        path = self.write("example.json", json.dumps({
            "listen": {"address": "127.0.0.1", "port": 8080},
            "web_root": self.tmp.name,
            "media": {"port": 40000, "workers": 1, "announce": ["127.0.0.1"]},
            "limits": {"max_rooms": 16, "max_participants": 64, "uplink_kbps": 10000,
                       "messages_per_second": 20},
            "on_demand": True,
            "room_defaults": {"max_participants": 8, "video": True, "video_kbps": 300,
                              "audio_kbps": 32, "last_n": 4},
            "rooms": {"petite": {"max_participants": 2}, "secret": {"password": "s3same"},
                      "radio": {"video": False}}}))
        status, _, err = run("--check-config", path)
        self.assertEqual(status, 0, err)

    def test_check_empty_object_is_valid(self):
        status, _, err = run("--check-config", self.write("empty.json", "{}"))
        self.assertEqual(status, 0, err)

    def check_located_error(self, err, path, line, col, key):
        prefix = "%s:%d:%d: " % (path, line, col)
        self.assertIn(prefix, err)
        if key:
            self.assertIn(prefix + key + ":", err)

    def test_check_bad_configs(self):
        for name, (text, line, col, key) in BAD_CONFIGS.items():
            with self.subTest(config=name):
                path = self.write(name, text)
                status, out, err = run("--check-config", path)
                self.assertEqual(status, 1, err)
                self.check_located_error(err, path, line, col, key)

    def test_bad_type_message_says_what_was_expected(self):
        text, *_ = BAD_CONFIGS["bad_type.json"]
        path = self.write("bad_type.json", text)
        _, _, err = run("--check-config", path)
        self.assertIn("expected an integer between 16 and 10000", err)
        self.assertIn('"300k"', err)

    def test_check_missing_file(self):
        path = os.path.join(self.tmp.name, "nope.json")
        status, _, err = run("--check-config", path)
        self.assertEqual(status, 1)
        self.assertIn(path, err)

    def test_run_with_bad_config_fails_the_same_way(self):
        for name, (text, line, col, key) in BAD_CONFIGS.items():
            with self.subTest(config=name):
                path = self.write(name, text)
                status, _, err = run("-c", path)
                self.assertEqual(status, 1, err)
                self.check_located_error(err, path, line, col, key)
        status, _, err = run("-c", os.path.join(self.tmp.name, "nope.json"))
        self.assertEqual(status, 1, err)

    def test_unreadable_dtls_certificate(self):
        cfg = base_config(free_tcp_port(), free_udp_port())
        cert = os.path.join(self.tmp.name, "no-cert.pem")
        cfg["media"].update({"dtls_cert": cert,
                             "dtls_key": os.path.join(self.tmp.name, "no-key.pem")})
        status, _, err = run("-c", self.write("dtls.json", json.dumps(cfg)))
        self.assertEqual(status, 1, err)
        self.assertIn(cert, err)

    def test_token_refuses_bad_arguments(self):
        path = self.write("plain.json", json.dumps(base_config(free_tcp_port(), free_udp_port())))
        status, out, err = run("token", "-c", path, "r", "Ana")
        self.assertEqual((status, out), (1, ""))
        self.assertIn("auth.token_secret", err)
        cfg = base_config(free_tcp_port(), free_udp_port())
        cfg["auth"] = {"token_secret": "0123456789abcdefghij"}
        path = self.write("auth.json", json.dumps(cfg))
        for args, word in ((["r", "Ana", "participant", "0"], "HOURS"),
                           (["r", "Ana", "root"], "unknown role"),
                           (["r"], "usage"),
                           (["r", "x" * 70], "64 characters")):
            with self.subTest(args=args):
                status, out, err = run("token", "-c", path, *args)
                self.assertEqual((status, out), (2, ""))
                self.assertIn(word, err)
        status, out, _ = run("token", "-c", path, "r", "Ana", "listener", "2")
        self.assertEqual(status, 0)
        self.assertTrue(out.startswith("v1."), out)

    def test_port_in_use(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            path = self.write("busy.json", json.dumps(base_config(port, free_udp_port())))
            status, out, err = run("-c", path)
        self.assertNotEqual(status, 0)
        self.assertRegex(out + err, r"\b%d\b" % port, "the message names the port")
        self.assertTrue(re.search(r"in use|address already|cannot", err, re.I),
                        "the message says why: %r" % err)


if __name__ == "__main__":
    harness.main()
