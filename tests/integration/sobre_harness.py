"""Shared helpers for sobre's integration tests.

Each test script is run as

    /usr/bin/python3 tests/integration/test_X.py <path-to-sobre> <path-to-web-dir>

and calls ``harness.main()``, which takes those two arguments off sys.argv and runs
the script's unittest cases. Only the standard library and python3-websockets are used.

* ``Server``: writes a config into a temporary directory, starts ``sobre -c``, waits
  (bounded) until it listens, and always kills it on ``stop()``.
* ``Client``: a WebSocket client speaking the signalling protocol (docs: PROTOCOL.md),
  with bounded waits everywhere.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import websockets

SOBRE = None      # path of the sobre binary (argv[1])
WEB_DIR = None    # path of the source web dir (argv[2])

TIMEOUT = 3.0     # default bound for any single wait, in seconds

# Messages the server may push at any time, unrelated to what a test is waiting for.
UNSOLICITED = {"speaking", "bandwidth", "footprint"}


def main():
    """Entry point of every test script: sobre binary and web dir come from argv."""
    global SOBRE, WEB_DIR
    if len(sys.argv) < 3:
        sys.stderr.write("usage: %s SOBRE_BINARY WEB_DIR [unittest args]\n" % sys.argv[0])
        sys.exit(2)
    SOBRE = os.path.abspath(sys.argv[1])
    WEB_DIR = os.path.abspath(sys.argv[2])
    if not os.access(SOBRE, os.X_OK):
        sys.stderr.write("not an executable: %s\n" % SOBRE)
        sys.exit(2)
    argv = [sys.argv[0]] + sys.argv[3:]
    unittest.main(argv=argv, verbosity=2)


# ---------------------------------------------------------------------------
# Ports and configs

def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deep_merge(base, extra):
    """Returns base updated with extra, recursing into objects."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def base_config(port, media_port, web_root=None):
    """A config for tests: loopback only, generous message rate so that validation
    tests which send many messages quickly are not rate limited."""
    cfg = {
        "listen": {"address": "127.0.0.1", "port": port},
        "media": {"port": media_port, "workers": 1, "announce": ["127.0.0.1"]},
        "limits": {"max_rooms": 16, "max_participants": 64, "uplink_kbps": 10000,
                   "messages_per_second": 1000,
                   # A dropped socket leaves at once unless a test is about resuming.
                   "resume_seconds": 0,
                   # Generous per-address limits: every test client comes from 127.0.0.1.
                   "connections_per_ip": 1000, "joins_per_minute_per_ip": 1000},
        "on_demand": True,
        "room_defaults": {"max_participants": 8, "video": True, "video_kbps": 300,
                          "audio_kbps": 32, "last_n": 4},
        "rooms": {"petite": {"max_participants": 2},
                  "secret": {"password": "s3same"},
                  "radio": {"video": False}},
    }
    if web_root is not None:
        cfg["web_root"] = web_root
    return cfg


# ---------------------------------------------------------------------------
# The server process

class Server:
    """One sobre process on free loopback ports.

    ``overrides`` is merged into the base config (objects merged key by key); a key
    set to None is removed. Use as a context manager or call start()/stop(); stop()
    always leaves no process behind.
    """

    def __init__(self, overrides=None, web_root=None, args=()):
        self.args = list(args)   # more command-line arguments, e.g. ["-v"]
        self.tmp = tempfile.TemporaryDirectory(prefix="sobre-it-")
        self.port = free_tcp_port()
        self.media_port = free_udp_port()
        cfg = base_config(self.port, self.media_port, web_root)
        if overrides:
            cfg = deep_merge(cfg, overrides)
        cfg = {k: v for k, v in cfg.items() if v is not None}
        self.config = cfg
        self.config_path = os.path.join(self.tmp.name, "sobre.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=2)
        self.proc = None
        self.stdout_lines = []
        self.stderr_path = os.path.join(self.tmp.name, "stderr.log")
        self._ready = threading.Event()
        self._reader = None

    @property
    def ws_url(self):
        return "ws://127.0.0.1:%d/ws" % self.port

    def start(self, timeout=5.0):
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([SOBRE, "-c", self.config_path] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sobre exited with status %d at startup:\n%s"
                                   % (self.proc.returncode, self.output()))
            if self._ready.is_set() or self._tcp_connects():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sobre did not listen on 127.0.0.1:%d within %.0f s:\n%s"
                           % (self.port, timeout, self.output()))

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stdout_lines.append(line)
            if "open http" in line:
                self._ready.set()

    def _tcp_connects(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def output(self):
        """stdout and stderr so far, for failure messages."""
        try:
            with open(self.stderr_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")
        except OSError:
            err = ""
        return "--- stdout ---\n%s\n--- stderr ---\n%s" % ("\n".join(self.stdout_lines), err)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """Stops the server with SIGTERM (SIGKILL after 5 s) and fails when it did not
        stop cleanly or its stderr holds a sanitizer report (ASan, UBSan, LeakSanitizer:
        the Sanitize build must run every test with zero reports)."""
        problem = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
                    problem = "sobre did not stop within 5 s of SIGTERM"
            if self.proc.stdout:
                self.proc.stdout.close()
            if self._reader:
                self._reader.join(timeout=1)
            self._stderr.close()
            with open(self.stderr_path, "rb") as f:
                err = f.read().decode("utf-8", "replace")
            for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if mark in err:
                    problem = "sanitizer report in sobre's stderr:\n" + err[max(0, err.index(mark) - 200):][:6000]
                    break
            self.proc = None
        self.tmp.cleanup()
        if problem:
            raise AssertionError(problem)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------
# The WebSocket client

class Closed(Exception):
    """The server closed the socket while we were waiting for a message."""


class Client:
    """A signalling client. All waits are bounded by ``timeout`` seconds."""

    def __init__(self, ws, label):
        self.ws = ws
        self.label = label
        self.errors = []     # every error message received, for global checks

    @classmethod
    async def connect(cls, server, label="client", subprotocol="sobre.v1"):
        kwargs = dict(open_timeout=TIMEOUT, close_timeout=1, ping_interval=None,
                      max_size=None)
        if subprotocol is not None:
            kwargs["subprotocols"] = [subprotocol]
        ws = await asyncio.wait_for(websockets.connect(server.ws_url, **kwargs), TIMEOUT)
        return cls(ws, label)

    # -- sending

    async def send(self, obj):
        await self.send_raw(json.dumps(obj, ensure_ascii=False))

    async def send_raw(self, data):
        await asyncio.wait_for(self.ws.send(data), TIMEOUT)

    # -- receiving

    async def recv_any(self, timeout=TIMEOUT):
        """The next message of any type, parsed. Raises Closed or TimeoutError."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as e:
            raise Closed("%s: socket closed (code %s) while waiting for a message"
                         % (self.label, e.code)) from None
        except asyncio.TimeoutError:
            raise AssertionError("%s: no message within %.1f s" % (self.label, timeout)) \
                from None
        if not isinstance(raw, str):
            raise AssertionError("%s: expected a text frame, got %r" % (self.label, raw[:80]))
        try:
            msg = json.loads(raw)
        except ValueError:
            raise AssertionError("%s: server sent invalid JSON: %r" % (self.label, raw[:200]))
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise AssertionError("%s: server sent a frame without a string type: %r"
                                 % (self.label, raw[:200]))
        if msg["type"] == "error":
            check_error_shape(msg)
            self.errors.append(msg)
        return msg

    async def recv(self, timeout=TIMEOUT):
        """The next message, skipping unsolicited notices (speaking, bandwidth)."""
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.recv_any(max(0.01, deadline - time.monotonic()))
            if msg["type"] not in UNSOLICITED:
                return msg

    async def expect(self, type_, timeout=TIMEOUT, **fields):
        """The next (solicited) message, which must have this type and these fields."""
        msg = await self.recv(timeout)
        if msg["type"] != type_:
            raise AssertionError("%s: expected %r, got %r" % (self.label, type_, msg))
        for key, value in fields.items():
            if msg.get(key) != value:
                raise AssertionError("%s: expected %s=%r in %r"
                                     % (self.label, key, value, msg))
        return msg

    async def expect_error(self, code, *words, timeout=TIMEOUT, **fields):
        """The next message must be an error with this code whose message contains
        each of ``words`` (case-insensitive)."""
        msg = await self.expect("error", timeout, code=code, **fields)
        for word in words:
            if word.lower() not in msg["message"].lower():
                raise AssertionError("%s: error message should name %r: %r"
                                     % (self.label, word, msg))
        return msg

    async def expect_silence(self, duration=0.3):
        """Nothing (except unsolicited notices) arrives for ``duration`` seconds."""
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                return
            except websockets.ConnectionClosed:
                raise AssertionError("%s: socket closed, expected it to stay open"
                                     % self.label) from None
            msg = json.loads(raw)
            if msg.get("type") not in UNSOLICITED:
                raise AssertionError("%s: expected no message, got %r" % (self.label, msg))

    async def expect_closed(self, timeout=TIMEOUT, allow=()):
        """The server closes the socket within ``timeout``; messages before the close
        (other than unsolicited notices and types in ``allow``) are an error."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: server did not close the socket within %.1f s"
                                     % (self.label, timeout))
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                continue
            except websockets.ConnectionClosed:
                return
            msg = json.loads(raw)
            if msg.get("type") not in UNSOLICITED and msg.get("type") not in allow:
                raise AssertionError("%s: expected the socket to close, got %r"
                                     % (self.label, msg))

    async def assert_open(self):
        """A ping still gets its pong: the session is alive and responsive."""
        await self.send({"type": "ping", "id": "alive?"})
        await self.expect("pong", id="alive?")

    # -- protocol shortcuts

    async def join(self, room, name, **extra):
        """Joins and returns the ``joined`` message (asserting its type)."""
        await self.send(dict({"type": "join", "room": room, "name": name}, **extra))
        return await self.expect("joined")

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 2)
        except Exception:
            pass


def check_error_shape(msg):
    """Every error has a string code and a non-empty string message."""
    if not isinstance(msg.get("code"), str) or not msg["code"]:
        raise AssertionError("error without a string code: %r" % msg)
    if not isinstance(msg.get("message"), str) or not msg["message"].strip():
        raise AssertionError("error without a non-empty message: %r" % msg)


PEER_FIELDS = {"id": str, "name": str, "audio": bool, "video": bool,
               "muted_audio": bool, "muted_video": bool}


def check_peer(peer):
    """A peer object as PROTOCOL.md defines it."""
    if not isinstance(peer, dict):
        raise AssertionError("peer is not an object: %r" % (peer,))
    for key, kind in PEER_FIELDS.items():
        if not isinstance(peer.get(key), kind):
            raise AssertionError("peer.%s should be a %s: %r" % (key, kind.__name__, peer))
    if not peer["id"]:
        raise AssertionError("peer.id is empty: %r" % peer)
    return peer


class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts a fresh server for each test (``config`` is merged into the base
    config) and tears it and every client down afterwards, even on failure."""

    config = None
    server_may_exit = False   # set by tests that stop the server on purpose

    def setUp(self):
        self.server = Server(self.config)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.clients = []

    async def asyncTearDown(self):
        for c in self.clients:
            await c.close()
        # A crash anywhere in a test fails it, even if the test did not notice.
        if not self.server_may_exit:
            self.assert_server_alive()

    def assert_server_alive(self):
        if not self.server.alive():
            self.fail("sobre died (status %s):\n%s"
                      % (self.server.proc.returncode, self.server.output()))

    async def client(self, label=None, subprotocol="sobre.v1"):
        c = await Client.connect(self.server, label or "client%d" % len(self.clients),
                                 subprotocol)
        self.clients.append(c)
        return c

    async def joined_client(self, room, name, **extra):
        """A client that has joined; returns (client, joined message)."""
        c = await self.client(name)
        joined = await c.join(room, name, **extra)
        return c, joined
