"""SIGHUP reloads the config file (README "Reloading the configuration"): new caps apply to
new joins while running rooms keep their media caps; a broken file is refused with its
error logged and the running config goes on serving; settings only a restart can change
are named in the log; the HTTPS certificate is read again (renewals) and only TLS 1.2 and
later are accepted.

Run: /usr/bin/python3 tests/integration/test_reload.py SOBRE_BINARY WEB_DIR
"""

import asyncio
import json
import os
import signal
import socket
import ssl
import tempfile
import subprocess
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import ServerTestCase  # noqa: E402


def stderr_of(server):
    with open(server.stderr_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


async def reload(server, marker, timeout=5.0):
    """Sends SIGHUP and waits (bounded) until one more log line contains `marker`;
    returns that line."""
    before = stderr_of(server).count(marker)
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [l for l in stderr_of(server).splitlines() if marker in l]
        if len(lines) > before:
            return lines[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no log line with %r within %.0f s of SIGHUP:\n%s"
                         % (marker, timeout, server.output()))


def rewrite(server, change):
    """Writes the server's config file again with `change` merged in."""
    server.config = harness.deep_merge(server.config, change)
    with open(server.config_path, "w") as f:
        json.dump(server.config, f, indent=2)


class ReloadTest(ServerTestCase):

    async def join_refused(self, room, code):
        c = await self.client("refused")
        await c.send({"type": "join", "room": room, "name": "Zoé", "id": "z"})
        await c.expect_error(code, id="z")
        await c.expect_closed()

    async def test_a_new_cap_applies_to_the_next_join(self):
        a, _ = await self.joined_client("petite", "Ana")
        b, _ = await self.joined_client("petite", "Ben")
        await a.expect("peer_joined")
        other, jo = await self.joined_client("ailleurs", "Omar")
        self.assertEqual(jo["limits"]["video_kbps"], 300)
        await self.join_refused("petite", "room_full")
        rewrite(self.server, {"rooms": {"petite": {"max_participants": 3}},
                              "room_defaults": {"video_kbps": 500}})
        await reload(self.server, "reload: configuration reloaded")
        # The running room admits a third; the others saw nothing but that join.
        c, jc = await self.joined_client("petite", "Chloé")
        self.assertEqual(jc["limits"]["max_participants"], 3)
        self.assertEqual([p["name"] for p in jc["peers"]], ["Ana", "Ben"])
        for x in (a, b):
            self.assertEqual((await x.expect("peer_joined"))["peer"]["name"], "Chloé")
        await self.join_refused("petite", "room_full")
        # A room opened after the reload has the new media caps; a running one keeps its.
        _, jn = await self.joined_client("nouvelle", "Nina")
        self.assertEqual(jn["limits"]["video_kbps"], 500)
        _, jo2 = await self.joined_client("ailleurs", "Olga")
        self.assertEqual(jo2["limits"]["video_kbps"], 300)
        await other.expect("peer_joined")
        for x in (a, b, c, other):
            await x.assert_open()

    async def test_a_broken_file_is_refused_and_the_old_config_serves(self):
        a, _ = await self.joined_client("petite", "Ana")
        with open(self.server.config_path) as f:
            good = f.read()
        bad = good.replace('"max_rooms": 16', '"max_rooms": "lots"')
        self.assertNotEqual(bad, good)
        with open(self.server.config_path, "w") as f:
            f.write(bad)
        line = await reload(self.server, "reload refused")
        self.assertIn("the running configuration stays", line)
        # file:line:column: key: what was expected
        lineno = bad[:bad.index('"max_rooms"')].count("\n") + 1
        self.assertRegex(line, r"sobre\.json:%d:\d+: limits\.max_rooms: expected an integer "
                               r"between 1 and 10000, got \"lots\"" % lineno)
        # Still the old config: petite holds 2, the password room wants its password.
        await self.joined_client("petite", "Ben")
        await a.expect("peer_joined")
        await self.join_refused("petite", "room_full")
        await self.join_refused("secret", "unauthorized")
        await a.assert_open()
        # Invalid JSON too.
        with open(self.server.config_path, "w") as f:
            f.write(good[:40])
        line = await reload(self.server, "reload refused")
        self.assertRegex(line, r"sobre\.json:\d+:\d+: invalid JSON")
        # A fixed file is taken again.
        rewrite(self.server, {"rooms": {"petite": {"max_participants": 3}}})
        await reload(self.server, "reload: configuration reloaded")
        await self.joined_client("petite", "Chloé")
        self.assertTrue(self.server.alive())

    async def test_a_new_password_applies_to_the_next_join(self):
        a, _ = await self.joined_client("secret", "Ana", password="s3same")
        rewrite(self.server, {"rooms": {"secret": {"password": "n0uveau"}}})
        await reload(self.server, "reload: configuration reloaded")
        c = await self.client("old password")
        await c.send({"type": "join", "room": "secret", "name": "Ben", "password": "s3same"})
        await c.expect_error("unauthorized", "wrong password")
        await self.joined_client("secret", "Ben", password="n0uveau")
        await a.expect("peer_joined")
        await a.assert_open()

    async def test_settings_that_need_a_restart_are_named(self):
        a, _ = await self.joined_client("r", "Ana")
        old_port = self.server.port
        rewrite(self.server, {"listen": {"port": harness.free_tcp_port()},
                              "media": {"workers": 2},
                              "rooms": {"petite": {"max_participants": 3}}})
        line = await reload(self.server, "only after a restart")
        self.assertIn("listen.port, media.workers changed", line)
        await reload(self.server, "reload: configuration reloaded")
        # Still on the old port, and the rest of the file applied.
        self.assertEqual(self.server.port, old_port)
        for name in ("Ben", "Chloé", "Dan"):
            await self.joined_client("petite", name)
        await a.assert_open()
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % old_port, timeout=5) as r:
            self.assertEqual(json.loads(r.read())["workers"], 1)


def make_cert(folder, name, days=30):
    """A self-signed certificate for localhost and its key (openssl), as file paths."""
    cert, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", str(days), "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def serial_of(pem_path):
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", pem_path],
                         check=True, capture_output=True, text=True, timeout=10).stdout
    return out.strip().split("=", 1)[1].upper()


def served_serial(port, **ctx_options):
    """The serial of the certificate a new TLS connection is given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in ctx_options.items():
        setattr(ctx, k, v)
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            der = s.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem, check=True,
                         capture_output=True, text=True, timeout=10).stdout
    return out.strip().split("=", 1)[1].upper()


class TlsReloadTest(ServerTestCase):

    def setUp(self):
        self.certs = tempfile.TemporaryDirectory(prefix="sobre-tls-")
        self.addCleanup(self.certs.cleanup)
        self.first = make_cert(self.certs.name, "first")
        self.second = make_cert(self.certs.name, "second")
        self.cert = os.path.join(self.certs.name, "live.crt")
        self.key = os.path.join(self.certs.name, "live.key")
        self.install(self.first)
        self.config = {"tls": {"cert": self.cert, "key": self.key}}
        # Without the system's OpenSSL config (Debian's sets MinProtocol = TLSv1.2 for
        # everyone), only sobre's own restriction can refuse TLS 1.0 and 1.1.
        saved = os.environ.get("OPENSSL_CONF")
        os.environ["OPENSSL_CONF"] = "/dev/null"
        try:
            super().setUp()
        finally:
            if saved is None:
                del os.environ["OPENSSL_CONF"]
            else:
                os.environ["OPENSSL_CONF"] = saved

    def install(self, pair):
        """What a certificate renewal does: new files at the same paths."""
        for src, dst in zip(pair, (self.cert, self.key)):
            with open(src, "rb") as f, open(dst + ".new", "wb") as g:
                g.write(f.read())
            os.replace(dst + ".new", dst)

    async def wss_join(self, room, name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.certs.name + "/second.crt")
        ctx.load_verify_locations(self.certs.name + "/first.crt")
        ws = await asyncio.wait_for(websockets.connect(
            "wss://localhost:%d/ws" % self.server.port, ssl=ctx, subprotocols=["sobre.v1"],
            ping_interval=None), 5)
        c = harness.Client(ws, name)
        self.clients.append(c)
        return c, await c.join(room, name)

    async def test_a_renewed_certificate_is_served_to_new_clients(self):
        port = self.server.port
        self.assertEqual(served_serial(port), serial_of(self.first[0]))
        a, _ = await self.wss_join("r", "Ana")
        self.install(self.second)
        await reload(self.server, "HTTPS certificate reloaded")
        self.assertEqual(served_serial(port), serial_of(self.second[0]))
        b, _ = await self.wss_join("r", "Ben")      # verifies the chain, joins
        self.assertEqual((await a.expect("peer_joined"))["peer"]["name"], "Ben")
        await a.assert_open()                        # the old connection goes on

        # A broken certificate is refused: the running one stays.
        with open(self.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        line = await reload(self.server, "reload refused")
        self.assertIn("tls.cert: %s: not a PEM certificate" % self.cert, line)
        self.assertEqual(served_serial(port), serial_of(self.second[0]))
        # A key that does not match the certificate too.
        self.install((self.first[0], self.second[1]))
        line = await reload(self.server, "reload refused")
        self.assertIn("tls.key: %s" % self.key, line)
        self.assertEqual(served_serial(port), serial_of(self.second[0]))
        await b.assert_open()

    async def test_only_tls_1_2_and_later(self):
        port = self.server.port
        self.assertEqual(served_serial(port, minimum_version=ssl.TLSVersion.TLSv1_2,
                                       maximum_version=ssl.TLSVersion.TLSv1_2),
                         serial_of(self.first[0]))
        self.assertEqual(served_serial(port, minimum_version=ssl.TLSVersion.TLSv1_3),
                         serial_of(self.first[0]))
        for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")   # let the client offer them at all
            ctx.minimum_version = old
            ctx.maximum_version = old
            with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
                with self.assertRaises(ssl.SSLError, msg="%s was accepted" % old) as cm:
                    ctx.wrap_socket(raw, server_hostname="localhost").close()
            # refused for its version (an unrestricted server fails it otherwise: no
            # signature algorithm at OpenSSL's default security level, "internal error")
            self.assertIn("PROTOCOL_VERSION", str(cm.exception).upper())


if __name__ == "__main__":
    harness.main()
