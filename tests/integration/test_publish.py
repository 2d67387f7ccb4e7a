"""publish in an echo room, against the real binary: the SDP answer, the errors that name
the line at fault, and the media port's ICE-lite behaviour seen from a raw UDP socket
(checks answered only with the right credentials, nothing sent to unverified senders).
Browsers and aiortc exercise DTLS and SRTP in tests/e2e."""

import asyncio
import hmac
import os
import socket
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import ServerTestCase, check_peer  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sdp")


def fixture(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def sdp_attr(sdp, name):
    """Values of every a=<name>: line."""
    prefix = "a=%s:" % name
    return [line[len(prefix):] for line in sdp.splitlines() if line.startswith(prefix)]


def browser_answer(offer):
    """What a browser answers to a subscribe offer: every m-line accepted recvonly with
    the offered codecs, setup:active, its own ICE credentials and certificate."""
    out, media = [], False
    fp = ":".join(["AB"] * 32)
    for line in offer.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        if line.startswith("m="):
            media = True
            out.append(line)
            out += ["c=IN IP4 0.0.0.0", "a=ice-ufrag:br0w", "a=ice-pwd:browserpassword1234567890",
                    "a=fingerprint:sha-256 " + fp, "a=setup:active", "a=recvonly"]
            continue
        if not media:
            if line.startswith(("v=", "o=", "s=", "t=", "a=group:")):
                out.append(line)
            continue
        if line.startswith(("a=mid:", "a=rtcp-mux", "a=rtpmap:", "a=fmtp:", "a=rtcp-fb:",
                            "a=extmap:")):
            out.append(line)
    return "\r\n".join(out) + "\r\n"


def stun_request(username, key, use_candidate=True, txid=None):
    """A Binding request with USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE,
    MESSAGE-INTEGRITY and FINGERPRINT (RFC 8489, RFC 8445)."""
    txid = txid or os.urandom(12)

    def attr(t, v):
        pad = (4 - len(v) % 4) % 4
        return struct.pack("!HH", t, len(v)) + v + b"\0" * pad

    body = attr(0x0006, username.encode())
    body += attr(0x0024, struct.pack("!I", 0x6E7F1EFF))
    body += attr(0x802A, os.urandom(8))
    if use_candidate:
        body += attr(0x0025, b"")
    head = lambda extra: struct.pack("!HHI", 0x0001, len(body) + extra, 0x2112A442) + txid
    mac = hmac.new(key.encode(), head(24) + body, "sha1").digest()
    body += attr(0x0008, mac)
    crc = (zlib.crc32(head(8) + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += attr(0x8028, struct.pack("!I", crc))
    return head(0) + body, txid


def stun_type_and_attrs(pkt):
    mtype, length, cookie = struct.unpack("!HHI", pkt[:8])
    attrs, off = {}, 20
    while off + 4 <= 20 + length:
        t, n = struct.unpack("!HH", pkt[off:off + 4])
        attrs.setdefault(t, pkt[off + 4:off + 4 + n])
        off += 4 + n + (4 - n % 4) % 4
    return mtype, attrs


class PublishTest(ServerTestCase):
    config = {"rooms": {"echo": {"echo": True, "max_participants": 32},
                        "echo-radio": {"echo": True, "video": False}}}

    async def publish(self, client, sdp, id_=1):
        await client.send({"type": "publish", "id": id_, "sdp": sdp})
        return await client.recv()

    async def test_answer_for_a_chrome_offer(self):
        a, ja = await self.joined_client("echo", "Ana")
        b, _ = await self.joined_client("echo", "Ben")
        await a.expect("peer_joined")
        msg = await self.publish(a, fixture("chrome_sendrecv.sdp"), "pub")
        self.assertEqual((msg["type"], msg["id"]), ("answer", "pub"), msg)
        sdp = msg["sdp"]
        self.assertIn("a=ice-lite", sdp.splitlines())
        self.assertEqual(set(sdp_attr(sdp, "setup")), {"passive"})
        fps = set(sdp_attr(sdp, "fingerprint"))
        self.assertEqual(len(fps), 1)
        self.assertRegex(fps.pop(), r"^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        cands = set(sdp_attr(sdp, "candidate"))
        self.assertEqual(cands, {"1 1 udp 2130706431 127.0.0.1 %d typ host"
                                 % self.server.media_port}, sdp)
        self.assertEqual(sdp_attr(sdp, "group"), ["BUNDLE 0 1"])
        self.assertEqual(sdp_attr(sdp, "mid"), ["0", "1", "2"])
        self.assertIn("m=application 0 ", sdp)   # the data channel is refused
        self.assertEqual(sdp.count("a=sendrecv"), 2)
        # PROTOCOL.md: a forwarded track's stream id is the publishing peer's id.
        self.assertEqual(sdp_attr(sdp, "msid"), ["%s 0" % ja["self"]["id"], "%s 1" % ja["self"]["id"]])
        # Echoed streams come back under the server's own SSRCs, never the client's.
        offered = {line.split()[0] for line in sdp_attr(fixture("chrome_sendrecv.sdp"), "ssrc")}
        ours = {line.split()[0] for line in sdp_attr(sdp, "ssrc")}
        self.assertTrue(ours and not ours & offered, (ours, offered))
        # Ben learns that Ana now publishes audio and video.
        upd = await b.expect("peer_updated")
        check_peer(upd["peer"])
        self.assertEqual((upd["peer"]["audio"], upd["peer"]["video"]), (True, True))

    async def test_every_fixture_gets_an_answer(self):
        for name in sorted(n for n in os.listdir(DATA) if n.endswith(".sdp")):
            with self.subTest(fixture=name):
                c, _ = await self.joined_client("echo", name[:60])
                msg = await self.publish(c, fixture(name))
                self.assertEqual(msg["type"], "answer", msg)
                self.assertIn("a=ice-lite", msg["sdp"])

    async def test_audio_only_room_refuses_the_video(self):
        a, _ = await self.joined_client("echo-radio", "Ana")
        msg = await self.publish(a, fixture("chrome_sendrecv.sdp"))
        self.assertEqual(msg["type"], "answer", msg)
        self.assertIn("m=video 0 ", msg["sdp"])
        self.assertIn("m=audio 9 ", msg["sdp"])
        await a.expect_error("video_disabled", "audio-only")

    async def test_bad_offers_name_what_is_wrong(self):
        a, _ = await self.joined_client("echo", "Ana")
        good = fixture("chrome_sendrecv.sdp")
        cases = [
            ("hello", "line 1"),
            (good.replace("a=rtcp-mux\r\n", "").replace("a=rtcp-mux\n", ""), "rtcp-mux"),
            (good.replace("a=ice-ufrag:", "a=x-ufrag:"), "ice-ufrag"),
            (good.replace("a=fingerprint:sha-256", "a=fingerprint:sha-1"), "sha-256"),
            (good.replace("a=setup:actpass", "a=setup:passive"), "setup"),
        ]
        for i, (sdp, word) in enumerate(cases):
            with self.subTest(word=word):
                msg = await self.publish(a, sdp, i)
                self.assertEqual((msg["type"], msg.get("code"), msg.get("id")),
                                 ("error", "sdp_rejected", i), msg)
                self.assertIn("publish: ", msg["message"])
                self.assertIn(word, msg["message"])
        await a.assert_open()   # errors leave the session usable
        msg = await self.publish(a, good, "ok")
        self.assertEqual(msg["type"], "answer", msg)

    async def test_subscribe_offers_follow_the_room(self):
        """Publishing in an ordinary room: the others get a subscribe offer with one
        sendonly m-line per track (msid = publisher id); an answer is taken; a newcomer
        is offered what is already published; a leaving publisher's m-lines close."""
        a, ja = await self.joined_client("plain", "Ana")
        b, _ = await self.joined_client("plain", "Ben")
        await a.expect("peer_joined")
        msg = await self.publish(a, fixture("chrome_publish.sdp"), "pub")
        self.assertEqual(msg["type"], "answer", msg)
        self.assertIn("a=recvonly", msg["sdp"])
        await a.expect_silence()   # nothing to receive yet: no offer for Ana
        upd = await b.expect("peer_updated")
        self.assertEqual((upd["peer"]["audio"], upd["peer"]["video"]), (True, True))
        offer = (await b.expect("offer"))["sdp"]
        ana = ja["self"]["id"]
        self.assertEqual([m.split()[0] for m in sdp_attr(offer, "msid")], [ana, ana])
        self.assertEqual(offer.count("a=sendonly"), 2)
        self.assertIn("a=ice-lite", offer)
        self.assertEqual(set(sdp_attr(offer, "setup")), {"actpass"})
        # Answers: garbage is refused and the offer stays pending; a proper one is taken.
        await b.send({"type": "answer", "id": "bad", "sdp": "v=0"})
        await b.expect_error("sdp_rejected", "answer", id="bad")
        await b.send({"type": "answer", "id": "good", "sdp": browser_answer(offer)})
        await b.expect("ok", id="good")
        await b.send({"type": "answer", "id": "again", "sdp": browser_answer(offer)})
        await b.expect_error("bad_request", "no subscribe offer", id="again")
        # A newcomer gets Ana's tracks at once.
        c, _ = await self.joined_client("plain", "Cleo")
        offer_c = (await c.expect("offer"))["sdp"]
        await b.expect("peer_joined")
        self.assertEqual([m.split()[0] for m in sdp_attr(offer_c, "msid")], [ana, ana])
        # Ana leaves: Ben and Cleo get an offer closing her m-lines.
        await a.send({"type": "leave"})
        for who in (b, c):
            await who.expect("peer_left")
        reoffer = (await b.expect("offer"))["sdp"]
        self.assertEqual(sdp_attr(reoffer, "msid"), [])
        self.assertNotIn("a=sendonly", reoffer)
        await c.send({"type": "answer", "sdp": browser_answer(offer_c)})
        self.assertEqual(sdp_attr((await c.expect("offer"))["sdp"], "msid"), [])

    async def test_simulcast_publish(self):
        """A simulcast offer (Chrome's, rids h, m, l) in an ordinary room: the answer
        receives the three streams with their rid extensions; the others are offered one
        video m-line, one stream, without rids (the server switches layers for them)."""
        a, ja = await self.joined_client("plain", "Ana")
        b, _ = await self.joined_client("plain", "Ben")
        await a.expect("peer_joined")
        msg = await self.publish(a, fixture("chrome_simulcast.sdp"), "pub")
        self.assertEqual(msg["type"], "answer", msg)
        sdp = msg["sdp"]
        self.assertEqual(sdp_attr(sdp, "simulcast"), ["recv h;m;l"])
        self.assertEqual(sdp_attr(sdp, "rid"), ["h recv", "m recv", "l recv"])
        exts = [e.split()[1] for e in sdp_attr(sdp, "extmap")]
        self.assertIn("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", exts)
        self.assertIn("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", exts)
        self.assertIn("urn:ietf:params:rtp-hdrext:sdes:mid", exts)
        upd = await b.expect("peer_updated")
        self.assertEqual((upd["peer"]["audio"], upd["peer"]["video"]), (True, True))
        offer = (await b.expect("offer"))["sdp"]
        self.assertEqual([m.split()[0] for m in sdp_attr(offer, "msid")], [ja["self"]["id"]] * 2)
        self.assertEqual(offer.count("m=video"), 1)
        self.assertEqual(sdp_attr(offer, "simulcast"), [])
        self.assertEqual(sdp_attr(offer, "rid"), [])
        self.assertNotIn("rtp-stream-id", offer)
        video = offer[offer.index("m=video"):]
        self.assertEqual(len(sdp_attr(video, "ssrc-group")), 1)   # one stream and its RTX

    async def test_publish_renegotiation(self):
        """A new publish on the same connection: a track whose m-line stops sending
        ends for the others, a new sending m-line starts one; an ICE restart is refused
        for now."""
        a, ja = await self.joined_client("plain", "Ana")
        b, _ = await self.joined_client("plain", "Ben")
        await a.expect("peer_joined")
        full = fixture("chrome_publish.sdp")
        video_at = full.index("m=video")
        no_video = full[:video_at] + full[video_at:].replace("a=sendonly", "a=inactive")
        self.assertEqual((await self.publish(a, no_video, 1))["type"], "answer")
        await b.expect("peer_updated")
        offer = (await b.expect("offer"))["sdp"]
        self.assertEqual(offer.count("m=audio 9"), 1)
        self.assertNotIn("m=video", offer)
        await b.send({"type": "answer", "sdp": browser_answer(offer)})
        # The camera comes on: same ICE credentials, the video m-line now sends.
        ans = await self.publish(a, full, 2)
        self.assertEqual(ans["type"], "answer", ans)
        self.assertIn("m=video 9 ", ans["sdp"])
        upd = await b.expect("peer_updated")
        self.assertEqual((upd["peer"]["audio"], upd["peer"]["video"]), (True, True))
        offer2 = (await b.expect("offer"))["sdp"]
        self.assertEqual([m.split()[0] for m in sdp_attr(offer2, "msid")], [ja["self"]["id"]] * 2)
        self.assertIn("m=video 9 ", offer2)
        await b.send({"type": "answer", "sdp": browser_answer(offer2)})
        # And off again: the video track ends, its m-line closes.
        self.assertEqual((await self.publish(a, no_video, 3))["type"], "answer")
        await b.expect("peer_updated")
        offer3 = (await b.expect("offer"))["sdp"]
        self.assertEqual(len(sdp_attr(offer3, "msid")), 1)
        self.assertIn("m=video 0 ", offer3)
        # An ICE restart (the client's new credentials): ours change too, the tracks stay.
        restarted = no_video.replace("a=ice-ufrag:", "a=ice-ufrag:zz")
        msg = await self.publish(a, restarted, 4)
        self.assertEqual(msg["type"], "answer", msg)
        self.assertNotEqual(sdp_attr(msg["sdp"], "ice-ufrag"), sdp_attr(ans["sdp"], "ice-ufrag"))
        self.assertNotEqual(sdp_attr(msg["sdp"], "ice-pwd"), sdp_attr(ans["sdp"], "ice-pwd"))
        await b.expect_silence()

    async def test_ice_restart_on_the_media_port(self):
        """After an ICE restart the old credentials are refused, the new ones answered."""
        a, _ = await self.joined_client("plain", "Ana")
        offer = fixture("chrome_publish.sdp")
        sdp1 = (await self.publish(a, offer, 1))["sdp"]
        their = sdp_attr(offer, "ice-ufrag")[0]
        sdp2 = (await self.publish(a, offer.replace("a=ice-ufrag:" + their,
                                                    "a=ice-ufrag:new" + their), 2))["sdp"]
        old = (sdp_attr(sdp1, "ice-ufrag")[0], sdp_attr(sdp1, "ice-pwd")[0])
        new = (sdp_attr(sdp2, "ice-ufrag")[0], sdp_attr(sdp2, "ice-pwd")[0])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        server = ("127.0.0.1", self.server.media_port)
        await asyncio.sleep(0.1)   # the worker applies the restart
        sock.sendto(stun_request("%s:new%s" % (old[0], their), old[1])[0], server)
        sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            sock.recv(2048)
        sock.settimeout(2)
        req, txid = stun_request("%s:new%s" % (new[0], their), new[1])
        sock.sendto(req, server)
        resp = sock.recv(2048)
        self.assertEqual(stun_type_and_attrs(resp)[0], 0x0101)
        self.assertEqual(resp[8:20], txid)

    async def test_second_publish_in_an_echo_room_is_refused(self):
        a, _ = await self.joined_client("echo", "Ana")
        self.assertEqual((await self.publish(a, fixture("chrome_sendrecv.sdp")))["type"],
                         "answer")
        msg = await self.publish(a, fixture("chrome_sendrecv.sdp"), 2)
        self.assertEqual((msg["type"], msg["code"]), ("error", "sdp_rejected"))
        self.assertIn("renegotiat", msg["message"])

    async def test_ice_lite_on_the_media_port(self):
        a, _ = await self.joined_client("echo", "Ana")
        offer = fixture("chrome_sendrecv.sdp")
        sdp = (await self.publish(a, offer))["sdp"]
        ufrag, pwd = sdp_attr(sdp, "ice-ufrag")[0], sdp_attr(sdp, "ice-pwd")[0]
        their = sdp_attr(offer, "ice-ufrag")[0]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2)
        server = ("127.0.0.1", self.server.media_port)

        def silent(pkt, what):
            sock.sendto(pkt, server)
            sock.settimeout(0.3)
            try:
                got = sock.recv(2048)
            except socket.timeout:
                return
            finally:
                sock.settimeout(2)
            self.fail("%s got a reply: %r" % (what, got[:40]))

        # Before any check: DTLS and SRTP from this address are dropped without a word.
        silent(b"\x16\xfe\xfd" + b"\0" * 60, "DTLS from an unverified address")
        silent(b"\x80\x60" + b"\0" * 40, "RTP from an unverified address")
        silent(os.urandom(100), "garbage")
        # A check for a transport that does not exist: no reply either.
        silent(stun_request("nobody:" + their, pwd)[0], "a check for an unknown ufrag")

        # Wrong password: 401, from a properly formed error response.
        req, txid = stun_request("%s:%s" % (ufrag, their), "wrong-password-here-123")
        sock.sendto(req, server)
        mtype, attrs = stun_type_and_attrs(sock.recv(2048))
        self.assertEqual(mtype, 0x0111)
        code = attrs[0x0009]
        self.assertEqual(code[2] * 100 + code[3], 401)

        # Right credentials: success with our address in XOR-MAPPED-ADDRESS.
        req, txid = stun_request("%s:%s" % (ufrag, their), pwd)
        sock.sendto(req, server)
        resp = sock.recv(2048)
        mtype, attrs = stun_type_and_attrs(resp)
        self.assertEqual(mtype, 0x0101)
        self.assertEqual(resp[8:20], txid)
        xma = attrs[0x0020]
        port = struct.unpack("!H", xma[2:4])[0] ^ 0x2112
        ip = bytes(b ^ m for b, m in zip(xma[4:8], struct.pack("!I", 0x2112A442)))
        self.assertEqual((socket.inet_ntoa(ip), port), sock.getsockname())
        # The response is authenticated with the server's password.
        mi_off = resp.index(struct.pack("!HH", 0x0008, 20))
        head = resp[:2] + struct.pack("!H", mi_off + 24 - 20) + resp[4:mi_off]
        self.assertEqual(hmac.new(pwd.encode(), head, "sha1").digest(), resp[mi_off + 4:mi_off + 24])

        await a.assert_open()


if __name__ == "__main__":
    harness.main()
