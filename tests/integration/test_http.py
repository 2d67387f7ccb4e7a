"""The static web server: content types, caching headers, invite links, health check,
and refusal of every path that leads out of web_root.

Run: /usr/bin/python3 tests/integration/test_http.py SOBRE_BINARY WEB_DIR
"""

import json
import os
import socket
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import Server  # noqa: E402

SECRET = b"TOP-SECRET-5f3a9c: this file is outside web_root"

FILES = {
    "index.html": b"<!doctype html><title>sobre test</title><p>index-marker</p>\n",
    "app.js": b"console.log('app-marker');\n",
    "style.css": b"body { color: black; } /* css-marker */\n",
    "a.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n',
    "data.json": b'{"json": "marker"}\n',
    "pixel.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    "font.woff2": b"wOF2" + b"\x00" * 32,
    "favicon.ico": b"\x00\x00\x01\x00" + b"\x00" * 16,
    "sub/page.txt": b"sub-marker\n",
}

EXPECTED_TYPES = {
    "/": "text/html",
    "/index.html": "text/html",
    "/app.js": "text/javascript",
    "/style.css": "text/css",
    "/a.svg": "image/svg+xml",
    "/data.json": "application/json",
    "/pixel.png": "image/png",
    "/font.woff2": "font/woff2",
    "/sub/page.txt": "text/plain",
}


def make_site(top):
    """top/secret.txt, top/outside/secret.txt, and the web root top/www with files,
    a symlink to the secret and a symlinked directory leading out of the root."""
    with open(os.path.join(top, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.mkdir(os.path.join(top, "outside"))
    with open(os.path.join(top, "outside", "secret.txt"), "wb") as f:
        f.write(SECRET)
    root = os.path.join(top, "www")
    for name, data in FILES.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.symlink(os.path.join(top, "secret.txt"), os.path.join(root, "link.txt"))
    os.symlink(os.path.join(top, "outside"), os.path.join(root, "outdir"))
    return root


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # lower-case name -> value (last one wins)
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:80])


def raw_request(port, method, target, headers=None, body=b"", timeout=3.0,
                allow_no_response=False):
    """Sends exactly ``method target HTTP/1.1`` (no normalisation of the target) and
    reads the whole response (Connection: close). With allow_no_response, a connection
    closed without a byte gives None (a refusal at the HTTP parser)."""
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1:%d" % port,
             "Connection: close"]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    if body:
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break           # some servers keep the socket; what we have is enough
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if method != "HEAD" and _complete(b"".join(chunks)):
                break
            if method == "HEAD" and b"\r\n\r\n" in b"".join(chunks):
                break
    raw = b"".join(chunks)
    if not raw and allow_no_response:
        return None
    if b"\r\n\r\n" not in raw:
        raise AssertionError("%s %s: incomplete response %r" % (method, target, raw[:200]))
    head, body = raw.split(b"\r\n\r\n", 1)
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split()[1])
    hdrs = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        hdrs[name.strip().lower()] = value.strip()
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in hdrs and method != "HEAD":
        body = body[:int(hdrs["content-length"])]
    return Response(status, hdrs, body)


def _complete(raw):
    if b"\r\n\r\n" not in raw:
        return False
    head, body = raw.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return body.endswith(b"0\r\n\r\n")
    status = head.split(b" ", 2)[1:2]
    return status in ([b"304"], [b"204"])


def _dechunk(body):
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


class HttpTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="sobre-http-")
        cls.root = make_site(cls.tmp.name)
        cls.server = Server(web_root=cls.root)
        try:
            cls.server.start()
        except Exception:
            cls.server.stop()
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def tearDown(self):
        if not self.server.alive():
            self.fail("sobre died:\n" + self.server.output())

    def get(self, target, **kw):
        return raw_request(self.server.port, "GET", target, **kw)

    def test_files_have_the_right_content_type_and_body(self):
        for target, ctype in EXPECTED_TYPES.items():
            with self.subTest(target=target):
                r = self.get(target)
                self.assertEqual(r.status, 200, r)
                got = (r.header("content-type") or "").split(";")[0].strip().lower()
                self.assertEqual(got, ctype, r)
                name = "index.html" if target == "/" else target[1:]
                self.assertEqual(r.body, FILES[name])

    def test_every_file_response_has_cache_control(self):
        for target in EXPECTED_TYPES:
            with self.subTest(target=target):
                self.assertTrue(self.get(target).header("cache-control"))

    def test_etag_revalidation(self):
        for target in ("/", "/app.js", "/style.css"):
            with self.subTest(target=target):
                first = self.get(target)
                etag = first.header("etag")
                if not etag:
                    self.skipTest("no ETag sent")
                again = self.get(target, headers={"If-None-Match": etag})
                self.assertEqual(again.status, 304, again)
                self.assertEqual(again.body, b"")
                other = self.get(target, headers={"If-None-Match": '"not-the-etag"'})
                self.assertEqual(other.status, 200, other)

    def test_invite_links_serve_the_client(self):
        for target in ("/r/assemblee", "/r/a.b-c_9"):
            with self.subTest(target=target):
                r = self.get(target)
                self.assertEqual(r.status, 200, r)
                self.assertIn("text/html", r.header("content-type"))
                self.assertEqual(r.body, FILES["index.html"])

    def test_healthz(self):
        r = self.get("/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/json", r.header("content-type"))
        doc = json.loads(r.body)
        self.assertIsInstance(doc, dict)
        self.assertEqual(doc.get("status"), "ok")

    def test_missing_file_is_404(self):
        for target in ("/nope.html", "/sub/nope.txt", "/nodir/x.js"):
            with self.subTest(target=target):
                self.assertEqual(self.get(target).status, 404)

    def test_head(self):
        r = raw_request(self.server.port, "HEAD", "/")
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.header("content-type"))
        self.assertEqual(r.body, b"")
        self.assertEqual(self.get("/").status, 200)

    def test_other_methods_are_refused(self):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                r = raw_request(self.server.port, method, "/index.html", body=b"x=1")
                self.assertNotEqual(r.status, 200, r)
                self.assertIn(r.status, (400, 404, 405), r)
        self.assertEqual(self.get("/app.js").status, 200)

    TRAVERSALS = [
        "/../secret.txt",
        "/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/./../secret.txt",
        "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/etc/passwd",
        # ("/%00" alone reaches the server as "/": lws ends the decoded path at the NUL,
        #  so it gets the index page, which is inside the root.)
        "/%00/x",
        "/index.html%00.js",
        "/link.txt%00.html",
        "/secret.txt%00",
        "/link.txt",
        "/outdir/secret.txt",
        "/outdir/../secret.txt",
        "/r/../../secret.txt",
        "/r/%2e%2e/%2e%2e/secret.txt",
        "secret.txt",
        "../secret.txt",
        "http://127.0.0.1/../secret.txt",
    ]

    def test_nothing_outside_web_root_is_served(self):
        with open("/etc/passwd", "rb") as f:
            passwd = f.read(64)
        for target in self.TRAVERSALS:
            with self.subTest(target=target):
                r = self.get(target, allow_no_response=True)
                if r is None:
                    continue    # dropped by the HTTP parser: refused, nothing leaked
                self.assertNotIn(SECRET, r.body, "%s leaked the secret" % target)
                self.assertNotIn(passwd, r.body, "%s leaked /etc/passwd" % target)
                self.assertIn(r.status, (400, 403, 404), r)
        self.assertEqual(self.get("/").status, 200, "the server still answers")

    def test_malformed_requests_do_not_kill_the_server(self):
        port = self.server.port
        for junk in (b"\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                     b"GET " + b"/a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"y" * 20000 + b"\r\n\r\n",
                     b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64):
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                try:
                    s.sendall(junk)
                    s.recv(4096)
                except (socket.timeout, ConnectionResetError, BrokenPipeError):
                    pass
        self.assertEqual(self.get("/").status, 200)


if __name__ == "__main__":
    harness.main()
