"""Operating sobre (issue 9), against the real binary, without media (tests/e2e
metrics_aiortc and footprint_chromium cover the counters with live media):

* /metrics and /status follow metrics.access: "off" answers 404; "loopback" serves this
  host but refuses a request that came through a proxy (X-Forwarded-For, Forwarded,
  X-Real-IP); "token" refuses a missing or wrong bearer token (401) and serves the right
  one. /metrics parses with the Prometheus client library's own text parser; /status
  names nobody unless asked (?names=1).
* `sobre status` prints the rooms and participants of the running server of a config
  (ids only; names with --names), over TLS and with the token when the config says so;
  it says why when metrics.access is "off" or nothing listens.
* Logs: a session with a room password, a join token and names produces a log (at debug
  level, -v) holding neither the password, the token, the token secret, the names nor
  the client address; with log.private_data the names and address do appear (so the
  first check can fail); log.level "warn" silences info lines, -v brings debug back;
  a room that closes leaves one line with its footprint.
"""

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import Server, ServerTestCase  # noqa: E402

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

TOKEN = "metrics-token-0123456789"
SECRET = "a-secret-of-the-association-42"
PASSWORD = "mot-de-passe-tres-secret"


def get(server, path, headers=None):
    """(status, headers, body) of GET http://127.0.0.1:port/path."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (server.port, path),
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def families(text):
    """name -> Metric, by the Prometheus client library's parser (raises on bad text)."""
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(fams, family, name=None, **labels):
    for s in fams[family].samples:
        if s.name == (name or family) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError("no sample %s%r in %s" % (name or family, labels, family))


class MetricsOffTest(ServerTestCase):
    async def test_off_by_default(self):
        for path in ("/metrics", "/status"):
            status, _, body = get(self.server, path)
            self.assertEqual(status, 404, body)
            self.assertIn("metrics.access", body)


class MetricsLoopbackTest(ServerTestCase):
    config = {"metrics": {"access": "loopback"}}

    async def test_this_host_but_not_through_a_proxy(self):
        status, headers, body = get(self.server, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        fams = families(body)
        for name, kind in [("sobre_rooms", "gauge"), ("sobre_participants", "gauge"),
                           ("sobre_packets_received", "counter"),
                           ("sobre_bytes_sent", "counter"),
                           ("sobre_packets_dropped", "counter"),
                           ("sobre_downlink_estimate_bits_per_second", "histogram"),
                           ("sobre_worker_cpu_seconds", "counter"),
                           ("process_cpu_seconds", "counter"),
                           ("process_resident_memory_bytes", "gauge")]:
            self.assertIn(name, fams)
            self.assertEqual(fams[name].type, kind, name)
        self.assertGreater(sample(fams, "process_resident_memory_bytes"), 1e6)
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            status, _, body = get(self.server, "/metrics", {header: "203.0.113.9"})
            self.assertEqual(status, 403, "%s: %s" % (header, body))

    async def test_rooms_and_participants_without_names(self):
        await self.joined_client("atelier", "Camille")
        await self.joined_client("atelier", "Dominique")
        await self.joined_client("radio", "Eli")
        fams = families(get(self.server, "/metrics")[2])
        self.assertEqual(sample(fams, "sobre_rooms"), 2)
        self.assertEqual(sample(fams, "sobre_participants"), 3)
        self.assertEqual(sample(fams, "sobre_room_participants", room="atelier"), 2)
        status, headers, body = get(self.server, "/status")
        self.assertEqual(status, 200, body)
        st = json.loads(body)
        rooms = {r["name"]: r for r in st["rooms"]}
        self.assertEqual(rooms["atelier"]["participants"], 2)
        self.assertEqual(rooms["radio"]["participants"], 1)
        for word in ("Camille", "Dominique", "Eli"):
            self.assertNotIn(word, body)
        self.assertIn("footprint", rooms["atelier"])
        named = json.loads(get(self.server, "/status?names=1")[2])
        names = sorted(p["name"] for r in named["rooms"] for p in r["peers"])
        self.assertEqual(names, ["Camille", "Dominique", "Eli"])


class MetricsTokenTest(ServerTestCase):
    config = {"metrics": {"access": "token", "token": TOKEN}}

    async def test_token(self):
        for path in ("/metrics", "/status"):
            status, headers, body = get(self.server, path)
            self.assertEqual(status, 401, body)
            self.assertIn("Bearer", headers.get("WWW-Authenticate", ""))
            for wrong in ("Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x", "Bearer",
                          "Basic " + TOKEN, TOKEN):
                status, _, body = get(self.server, path, {"Authorization": wrong})
                self.assertEqual(status, 401, "%r: %s" % (wrong, body))
            status, _, body = get(self.server, path, {"Authorization": "Bearer " + TOKEN})
            self.assertEqual(status, 200, body)
        families(get(self.server, "/metrics", {"Authorization": "Bearer " + TOKEN})[2])

    def test_config_errors(self):
        path = os.path.join(self.server.tmp.name, "bad.json")
        for cfg, words in [({"metrics": {"access": "token"}}, "\"token\" is required"),
                           ({"metrics": {"access": "public"}}, "metrics.access: expected one of"),
                           ({"metrics": {"access": "token", "token": "short"}},
                            "at least 16 characters")]:
            with open(path, "w") as f:
                json.dump(cfg, f)
            r = subprocess.run([harness.SOBRE, "--check-config", path], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn(words, r.stderr)


def status_cmd(config_path, *args):
    return subprocess.run([harness.SOBRE, "status", "-c", config_path, *args],
                          capture_output=True, text=True, timeout=20)


class StatusCommandTest(ServerTestCase):
    """`sobre status` asks the running server of a config for its /status."""

    config = {"metrics": {"access": "loopback"}}

    async def test_rooms_and_participants(self):
        a, ja = await self.joined_client("atelier", "Camille")
        await self.joined_client("atelier", "Dominique")
        r = status_cmd(self.server.config_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 room(s), 2 participant(s)", r.stdout)
        self.assertRegex(r.stdout, r"room atelier: 2 participant\(s\), \d+ kbit/s in")
        self.assertIn("  %s: publishes nothing" % ja["self"]["id"], r.stdout)
        self.assertNotIn("Camille", r.stdout)
        r = status_cmd(self.server.config_path, "--names")
        self.assertIn("%s (Camille): publishes nothing" % ja["self"]["id"], r.stdout)
        self.assertIn("(Dominique)", r.stdout)
        r = status_cmd(self.server.config_path, "--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: sobre status", r.stderr)

    def test_off_or_not_running(self):
        path = os.path.join(self.server.tmp.name, "off.json")
        with open(path, "w") as f:
            json.dump(dict(self.server.config, metrics={"access": "off"}), f)
        r = status_cmd(path)
        self.assertEqual(r.returncode, 1)
        self.assertIn('metrics.access is "off"', r.stderr)
        cfg = dict(self.server.config, listen={"address": "127.0.0.1",
                                               "port": harness.free_tcp_port()})
        with open(path, "w") as f:
            json.dump(cfg, f)
        r = status_cmd(path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to 127.0.0.1", r.stderr)


class StatusCommandTokenTlsTest(harness.unittest.IsolatedAsyncioTestCase):
    async def test_token_over_tls(self):
        import tempfile
        certs = tempfile.TemporaryDirectory(prefix="sobre-tls-")
        self.addCleanup(certs.cleanup)
        cert, key = (os.path.join(certs.name, "s.crt"), os.path.join(certs.name, "s.key"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True, timeout=30)
        server = Server({"tls": {"cert": cert, "key": key},
                         "metrics": {"access": "token", "token": TOKEN}})
        server.start()
        try:
            r = status_cmd(server.config_path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("0 room(s), 0 participant(s)", r.stdout)
            cfg = dict(server.config, metrics={"access": "token", "token": TOKEN + "-wrong"})
            path = os.path.join(server.tmp.name, "wrong.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            r = status_cmd(path)
            self.assertEqual(r.returncode, 1)
            self.assertIn("answered 401", r.stderr)
        finally:
            server.stop()


def make_token(config_path, room, name):
    r = subprocess.run([harness.SOBRE, "token", "-c", config_path, room, name],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class LogPrivacyTest(harness.unittest.IsolatedAsyncioTestCase):
    CONFIG = {"auth": {"token_secret": SECRET},
              "rooms": {"conseil": {"password": PASSWORD}}}

    async def session(self, overrides, args=()):
        """A meeting with a password, a token and names; returns (log, token)."""
        server = Server(dict(self.CONFIG, **overrides), args=args)
        server.start()
        try:
            token = make_token(server.config_path, "conseil", "Bérénice Lenom")
            a = await harness.Client.connect(server, "a")
            await a.join("conseil", "Anatole Secretnom", password=PASSWORD)
            b = await harness.Client.connect(server, "b")
            await b.join("conseil", "ignored", token=token)
            w = await harness.Client.connect(server, "w")
            await w.send({"type": "join", "room": "conseil", "name": "Wrong", "password": "nope"})
            await w.expect_error("unauthorized")
            await a.send({"type": "chat", "text": "bonjour"})
            await b.expect("chat")
            for c in (a, b):
                await c.send({"type": "leave"})
                await c.close()
            await w.close()
            await asyncio.sleep(0.3)
        finally:
            log = server.output()
            server.stop()
        return log.split("--- stderr ---", 1)[1], token

    async def test_private_by_default(self):
        log, token = await self.session({"log": {"level": "debug"}})
        self.assertIn("joined room conseil", log)   # the log is there, at debug level
        self.assertIn("debug:", log)
        for secret in (PASSWORD, token, token.split(".")[-1], SECRET, "Anatole", "Secretnom",
                       "Bérénice", "Lenom", "127.0.0.1", "::1"):
            self.assertNotIn(secret, log, "%r is in the log:\n%s" % (secret, log))
        self.assertRegex(log, r"room conseil closed after \d+ min \d+ s, [\d.]+ MB relayed")

    async def test_private_data_when_the_operator_asks(self):
        log, token = await self.session({"log": {"private_data": True}})
        self.assertIn("Anatole Secretnom", log)
        self.assertIn("Bérénice Lenom", log)
        self.assertIn("127.0.0.1", log)
        for secret in (PASSWORD, token, SECRET):   # never these
            self.assertNotIn(secret, log)

    async def test_levels(self):
        log, _ = await self.session({"log": {"level": "warn"}})
        self.assertNotIn("info:", log)
        self.assertNotIn("joined room", log)
        log, _ = await self.session({"log": {"level": "warn"}}, args=["-v"])
        self.assertIn("debug:", log)
        self.assertIn("joined room conseil", log)


if __name__ == "__main__":
    harness.main()
