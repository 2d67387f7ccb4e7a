"""Signalling over WebSocket, as a client sees it (docs: /work/shared/PROTOCOL.md).

Run: /usr/bin/python3 tests/integration/test_signaling.py SOBRE_BINARY WEB_DIR
"""

import asyncio
import os
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import Closed, ServerTestCase, check_peer  # noqa: E402

DEFAULT_LIMITS = {"max_participants": 8, "video_kbps": 300, "audio_kbps": 32, "video": True}

# A plausible browser publish offer; the server does not accept media yet.
OFFER_SDP = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
)


class JoinTest(ServerTestCase):

    async def test_joined_describes_self_room_and_limits(self):
        c = await self.client()
        self.assertEqual(c.ws.subprotocol, "sobre.v1")
        await c.send({"type": "join", "room": "assemblee", "name": "Camille"})
        joined = await c.expect("joined")
        check_peer(joined["self"])
        self.assertEqual(joined["self"]["name"], "Camille")
        self.assertEqual([joined["self"][k] for k in
                          ("audio", "video", "muted_audio", "muted_video")],
                         [False, False, False, False], "nothing published or muted yet")
        self.assertEqual(joined["room"], "assemblee")
        self.assertEqual(joined["peers"], [])
        self.assertEqual(joined["limits"], DEFAULT_LIMITS)
        self.assertIsInstance(joined["resume"], str)
        self.assertTrue(joined["resume"], "resume token is empty")

    async def test_room_config_shows_in_limits(self):
        _, petite = await self.joined_client("petite", "Ana")
        self.assertEqual(petite["limits"], dict(DEFAULT_LIMITS, max_participants=2))
        _, radio = await self.joined_client("radio", "Ben")
        self.assertEqual(radio["limits"], dict(DEFAULT_LIMITS, video=False))

    async def test_client_without_subprotocol_is_accepted(self):
        c = await self.client(subprotocol=None)
        self.assertIsNone(c.ws.subprotocol)
        joined = await c.join("assemblee", "Camille")
        self.assertEqual(joined["room"], "assemblee")

    async def test_join_echoes_id(self):
        c = await self.client()
        await c.send({"type": "join", "room": "r", "name": "Ana", "id": "j1"})
        await c.expect("joined", id="j1")

    async def test_second_joiner_sees_first_and_first_is_told(self):
        a, ja = await self.joined_client("assemblee", "Ana")
        b, jb = await self.joined_client("assemblee", "Ben")
        self.assertNotEqual(ja["self"]["id"], jb["self"]["id"])
        self.assertEqual(jb["peers"], [ja["self"]])
        told = await a.expect("peer_joined")
        self.assertEqual(check_peer(told["peer"]), jb["self"])
        await b.expect_silence()

    async def test_peer_ids_are_unique(self):
        ids = set()
        for i in range(6):
            _, j = await self.joined_client("r%d" % (i % 2), "P%d" % i)
            ids.add(j["self"]["id"])
        self.assertEqual(len(ids), 6)

    async def test_rooms_are_isolated(self):
        a, _ = await self.joined_client("one", "Ana")
        b, jb = await self.joined_client("two", "Ben")
        self.assertEqual(jb["peers"], [])
        await a.expect_silence()

    async def test_names_are_unicode_and_escaped_faithfully(self):
        names = ["Zoé", "é" * 64, "\U0001F600" * 64, 'say "hi" \\ <b>&amp;</b>', "李小龍"]
        a, ja = await self.joined_client("r", names[0])
        seen = [ja["self"]["name"]]
        for name in names[1:]:
            _, j = await self.joined_client("r", name)
            seen.append(j["self"]["name"])
            told = await a.expect("peer_joined")
            self.assertEqual(told["peer"]["name"], name)
        self.assertEqual(seen, names)

    async def test_room_names_at_the_limits_are_accepted(self):
        for room in ["a" * 64, "A-z_0.9", "x"]:
            _, j = await self.joined_client(room, "Ana")
            self.assertEqual(j["room"], room)

    async def test_full_room_refused_and_closed(self):
        await self.joined_client("petite", "Ana")
        b, _ = await self.joined_client("petite", "Ben")
        c = await self.client("third")
        await c.send({"type": "join", "room": "petite", "name": "Chloé", "id": 3})
        await c.expect_error("room_full", id=3)
        await c.expect_closed()
        await b.expect_silence()   # no peer_joined for the refused one

    async def test_full_room_has_a_place_again_after_a_leave(self):
        a, _ = await self.joined_client("petite", "Ana")
        b, _ = await self.joined_client("petite", "Ben")
        await a.expect("peer_joined")
        await a.send({"type": "leave"})
        await a.expect_closed(allow=("bye", "ok"))
        await b.expect("peer_left")
        c, j = await self.joined_client("petite", "Chloé")
        self.assertEqual([p["name"] for p in j["peers"]], ["Ben"])

    async def test_password(self):
        for extra in ({}, {"password": "wrong"}, {"password": ""}):
            c = await self.client("intruder")
            await c.send(dict({"type": "join", "room": "secret", "name": "Eve"}, **extra))
            await c.expect_error("unauthorized")
            await c.expect_closed()
        _, j = await self.joined_client("secret", "Ana", password="s3same")
        self.assertEqual(j["room"], "secret")

    async def test_second_join_is_refused_and_changes_nothing(self):
        a, ja = await self.joined_client("r1", "Ana")
        b, _ = await self.joined_client("r1", "Ben")
        await a.expect("peer_joined")
        watcher, _ = await self.joined_client("r2", "Watcher")
        await a.send({"type": "join", "room": "r2", "name": "Other", "id": "again"})
        await a.expect_error("bad_request", id="again")
        await b.expect_silence()
        await watcher.expect_silence()
        # Still Ana in r1.
        await a.send({"type": "chat", "text": "still here"})
        got = await b.expect("chat")
        self.assertEqual((got["from"], got["name"]), (ja["self"]["id"], "Ana"))
        await a.expect("chat")
        await watcher.expect_silence(0.1)


class JoinValidationTest(ServerTestCase):
    """A refused join: error bad_request naming the field, then the socket closes."""

    BAD_JOINS = [
        ({"name": "Ana"}, "room"),
        ({"room": "", "name": "Ana"}, "room"),
        ({"room": "a" * 65, "name": "Ana"}, "room"),
        ({"room": "has space", "name": "Ana"}, "room"),
        ({"room": "café", "name": "Ana"}, "room"),
        ({"room": "a/b", "name": "Ana"}, "room"),
        ({"room": 5, "name": "Ana"}, "room"),
        ({"room": None, "name": "Ana"}, "room"),
        ({"room": "r"}, "name"),
        ({"room": "r", "name": ""}, "name"),
        ({"room": "r", "name": "n" * 65}, "name"),
        ({"room": "r", "name": "é" * 65}, "name"),
        ({"room": "r", "name": 5}, "name"),
        ({"room": "r", "name": ["Ana"]}, "name"),
        ({"room": "r", "name": "new\nline"}, "name"),
        ({"room": "r", "name": "tab\there"}, "name"),
        ({"room": "r", "name": "esc\x1b[31m"}, "name"),
        ({"room": "r", "name": "del\x7f"}, "name"),
        ({"room": "secret", "name": "Ana", "password": 5}, "password"),
    ]

    async def test_bad_fields(self):
        watcher, _ = await self.joined_client("r", "Watcher")
        for i, (fields, field) in enumerate(self.BAD_JOINS):
            with self.subTest(join=fields):
                c = await self.client("bad%d" % i)
                await c.send(dict({"type": "join", "id": i}, **fields))
                await c.expect_error("bad_request", field, id=i)
                await c.expect_closed()
        await watcher.expect_silence()
        await self.joined_client("r", "Good")    # the server still takes joins

    async def test_unknown_extra_fields_are_ignored(self):
        _, j = await self.joined_client("r", "Ana", colour="blue", nested={"a": [1, 2]})
        self.assertEqual(j["self"]["name"], "Ana")


class BeforeJoinTest(ServerTestCase):

    async def test_requests_before_join_are_refused_but_session_stays(self):
        c = await self.client()
        for i, msg in enumerate([
                {"type": "chat", "text": "hello"},
                {"type": "mute", "kind": "audio", "muted": True},
                {"type": "prefs", "audio_only": True},
                {"type": "publish", "sdp": OFFER_SDP},
                {"type": "answer", "sdp": OFFER_SDP},
                {"type": "leave"}]):
            with self.subTest(msg=msg):
                await c.send(dict(msg, id=i))
                await c.expect_error("bad_request", "join", id=i)
        joined = await c.join("r", "Ana")
        self.assertEqual(joined["peers"], [])

    async def test_ping_before_join(self):
        c = await self.client()
        await c.send({"type": "ping", "id": 9})
        await c.expect("pong", id=9)
        await c.join("r", "Ana")

    async def test_malformed_before_join(self):
        c = await self.client()
        for raw in ["not json", "[1,2]", "{}", '{"type":5}']:
            with self.subTest(raw=raw):
                await c.send_raw(raw)
                await c.expect_error("bad_request")
        await c.join("r", "Ana")


class MessageValidationTest(ServerTestCase):
    """Bad requests after join: bad_request, the session stays open, nothing broadcast."""

    async def asyncSetUp(self):
        self.a, self.ja = await self.joined_client("r", "Ana")
        self.b, _ = await self.joined_client("r", "Ben")
        await self.a.expect("peer_joined")

    async def test_malformed_frames(self):
        for raw in ["not json", "{", '{"type":"chat","text":"x"', "[1,2]", "42", '"ping"',
                    "null", "{}", '{"type":5}', '{"type":null}', '{"type":["ping"]}',
                    '{"text":"no type"}']:
            with self.subTest(raw=raw):
                await self.a.send_raw(raw)
                await self.a.expect_error("bad_request")
        await self.a.assert_open()
        await self.b.expect_silence()

    async def test_unknown_type_is_named(self):
        await self.a.send({"type": "dance", "id": "d"})
        await self.a.expect_error("bad_request", "dance", id="d")
        await self.a.assert_open()

    async def test_unknown_extra_fields_are_ignored(self):
        await self.a.send({"type": "chat", "text": "hi", "colour": "blue", "x": {"y": [1]}})
        self.assertEqual((await self.b.expect("chat"))["text"], "hi")

    BAD_FIELDS = [
        ("mute", {"kind": "sideways", "muted": True}, "kind"),
        ("mute", {"kind": 5, "muted": True}, "kind"),
        ("mute", {"muted": True}, "kind"),
        ("mute", {"kind": "audio", "muted": "yes"}, "muted"),
        ("mute", {"kind": "audio", "muted": 1}, "muted"),
        ("mute", {"kind": "video"}, "muted"),
        ("chat", {}, "text"),
        ("chat", {"text": 5}, "text"),
        ("chat", {"text": None}, "text"),
        ("chat", {"text": ["hi"]}, "text"),
        ("chat", {"text": ""}, "text"),
        ("chat", {"text": "x" * 2001}, "text"),
        ("prefs", {"audio_only": "yes"}, "audio_only"),
        ("prefs", {"max_video_kbps": "300"}, "max_video_kbps"),
        ("prefs", {"last_n": True}, "last_n"),
        ("publish", {}, "sdp"),
        ("publish", {"sdp": 5}, "sdp"),
        ("answer", {}, "sdp"),
        ("answer", {"sdp": ["v=0"]}, "sdp"),
    ]

    async def test_wrong_fields_are_named(self):
        for i, (type_, fields, field) in enumerate(self.BAD_FIELDS):
            with self.subTest(type=type_, fields=fields):
                await self.a.send(dict({"type": type_, "id": i}, **fields))
                await self.a.expect_error("bad_request", field, id=i)
        await self.a.assert_open()
        await self.b.expect_silence()

    async def test_chat_length_is_counted_in_characters(self):
        for text in ["x" * 2000, "é" * 2000, "\U0001F600" * 2000]:
            await self.a.send({"type": "chat", "text": text})
            got = await self.b.expect("chat")
            self.assertEqual(got["text"], text)
            await self.a.expect("chat")
        await self.a.send({"type": "chat", "text": "é" * 2001})
        await self.a.expect_error("bad_request", "text")

    async def test_fragmented_message_is_one_message(self):
        # One WebSocket message sent as three frames (text + continuations).
        await self.a.ws.send(iter(['{"type":"chat",', '"text":"in ', 'pieces"}']))
        self.assertEqual((await self.b.expect("chat"))["text"], "in pieces")


class IdEchoTest(ServerTestCase):

    async def test_replies_echo_string_and_number_ids(self):
        a, _ = await self.joined_client("r", "Ana")
        for id_ in ["abc", 42, 0, -7, "", "é 😀"]:
            with self.subTest(id=id_):
                await a.send({"type": "ping", "id": id_})
                await a.expect("pong", id=id_)
                await a.send({"type": "mute", "kind": "audio", "muted": True, "id": id_})
                await a.expect("ok", id=id_)
                await a.send({"type": "prefs", "last_n": 2, "id": id_})
                await a.expect("ok", id=id_)
                await a.send({"type": "nope", "id": id_})
                await a.expect_error("bad_request", id=id_)

    async def test_no_id_no_ok(self):
        a, _ = await self.joined_client("r", "Ana")
        await a.send({"type": "mute", "kind": "audio", "muted": True})
        await a.send({"type": "prefs", "audio_only": True})
        await a.expect_silence()
        await a.send({"type": "ping"})
        pong = await a.expect("pong")
        self.assertNotIn("id", pong)

    async def test_chat_with_id_gets_ok_and_the_chat(self):
        a, _ = await self.joined_client("r", "Ana")
        await a.send({"type": "chat", "text": "hi", "id": 5})
        got = [await a.recv(), await a.recv()]
        types = sorted(m["type"] for m in got)
        self.assertEqual(types, ["chat", "ok"], got)
        self.assertEqual([m for m in got if m["type"] == "ok"][0]["id"], 5)


class MuteTest(ServerTestCase):

    async def test_mute_is_told_to_the_others_and_to_later_joiners(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        c, _ = await self.joined_client("r", "Chloé")
        await a.expect("peer_joined")
        await a.expect("peer_joined")
        await b.expect("peer_joined")
        a_id = ja["self"]["id"]

        await a.send({"type": "mute", "kind": "audio", "muted": True})
        for other in (b, c):
            up = await other.expect("peer_updated")
            peer = check_peer(up["peer"])
            self.assertEqual((peer["id"], peer["name"]), (a_id, "Ana"))
            self.assertEqual((peer["muted_audio"], peer["muted_video"]), (True, False))
        await a.expect_silence()   # the sender is not told about itself

        await a.send({"type": "mute", "kind": "video", "muted": True, "id": "v"})
        await a.expect("ok", id="v")
        for other in (b, c):
            peer = (await other.expect("peer_updated"))["peer"]
            self.assertEqual((peer["muted_audio"], peer["muted_video"]), (True, True))

        _, jd = await self.joined_client("r", "Dan")
        seen = {p["id"]: p for p in jd["peers"]}
        self.assertEqual(len(seen), 3)
        self.assertEqual((seen[a_id]["muted_audio"], seen[a_id]["muted_video"]), (True, True))

        await a.send({"type": "mute", "kind": "audio", "muted": False})
        await b.expect("peer_joined")
        peer = (await b.expect("peer_updated"))["peer"]
        self.assertEqual((peer["id"], peer["muted_audio"], peer["muted_video"]),
                         (a_id, False, True))

    async def test_mute_stays_in_the_room(self):
        a, _ = await self.joined_client("r", "Ana")
        other, _ = await self.joined_client("elsewhere", "Ben")
        await a.send({"type": "mute", "kind": "audio", "muted": True})
        await other.expect_silence()


class ChatTest(ServerTestCase):

    async def test_chat_reaches_everyone_in_the_room_including_sender(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        elsewhere, _ = await self.joined_client("other", "Zed")
        await a.expect("peer_joined")
        text = 'bonjour 👋 <b>"&"</b> \\ \n second line'
        before = time.time() * 1000
        await a.send({"type": "chat", "text": text})
        for c in (a, b):
            got = await c.expect("chat")
            self.assertEqual(got["from"], ja["self"]["id"])
            self.assertEqual(got["name"], "Ana")
            self.assertEqual(got["text"], text)
            self.assertIsInstance(got["ts"], int)
            self.assertNotIsInstance(got["ts"], bool)
            self.assertLess(abs(got["ts"] - before), 5000, "ts is ms since the epoch")
        await elsewhere.expect_silence()

    async def test_chats_arrive_in_order(self):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        for i in range(20):
            await a.send({"type": "chat", "text": "m%d" % i})
        got = [(await b.expect("chat"))["text"] for _ in range(20)]
        self.assertEqual(got, ["m%d" % i for i in range(20)])


class LeaveTest(ServerTestCase):

    async def test_leave_closes_and_tells_the_others(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        await a.send({"type": "leave"})
        await a.expect_closed(allow=("bye", "ok"))
        left = await b.expect("peer_left")
        self.assertEqual(left["id"], ja["self"]["id"])

    async def test_closing_the_socket_tells_the_others(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.close()
        self.assertEqual((await b.expect("peer_left"))["id"], ja["self"]["id"])

    async def test_dropped_connection_tells_the_others(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        a.ws.transport.abort()   # no close handshake, like a lost network
        self.assertEqual((await b.expect("peer_left"))["id"], ja["self"]["id"])

    async def test_empty_on_demand_room_is_forgotten(self):
        a, _ = await self.joined_client("ephemeral", "Ana")
        b, _ = await self.joined_client("ephemeral", "Ben")
        await a.expect("peer_joined")
        await a.send({"type": "leave"})
        await a.expect_closed(allow=("bye", "ok"))
        await b.close()
        await asyncio.sleep(0.3)
        _, j = await self.joined_client("ephemeral", "Chloé")
        self.assertEqual(j["peers"], [])

    async def test_leaver_is_not_in_later_peers(self):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await b.send({"type": "leave"})
        await b.expect_closed(allow=("bye", "ok"))
        await a.expect("peer_joined")
        await a.expect("peer_left")
        _, j = await self.joined_client("r", "Chloé")
        self.assertEqual([p["name"] for p in j["peers"]], ["Ana"])


class PingTest(ServerTestCase):

    async def test_ping_pong(self):
        a, _ = await self.joined_client("r", "Ana")
        await a.send({"type": "ping", "id": "p"})
        await a.expect("pong", id="p")
        await a.send({"type": "ping"})
        self.assertNotIn("id", await a.expect("pong"))


class MediaRequestsTest(ServerTestCase):
    """publish/answer/prefs with valid fields (the media side is in test_publish)."""

    async def test_publish_is_answered(self):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        await a.send({"type": "publish", "sdp": OFFER_SDP, "id": "pub"})
        ans = await a.expect("answer", id="pub")
        self.assertIn("a=recvonly", ans["sdp"])
        await a.assert_open()
        upd = await b.expect("peer_updated")
        self.assertEqual((upd["peer"]["audio"], upd["peer"]["video"]), (True, False))
        # This offer names no SSRC (a=ssrc), so there is no track to offer Ben yet.
        await b.expect_silence()

    async def test_answer_without_pending_offer(self):
        a, _ = await self.joined_client("r", "Ana")
        await a.send({"type": "answer", "sdp": OFFER_SDP, "id": 2})
        await a.expect_error("bad_request", id=2)
        await a.assert_open()

    async def test_prefs(self):
        a, _ = await self.joined_client("r", "Ana")
        await a.send({"type": "prefs", "audio_only": True, "max_video_kbps": 150,
                      "last_n": 2, "id": 3})
        await a.expect("ok", id=3)
        await a.send({"type": "prefs", "id": 4})
        await a.expect("ok", id=4)

    async def test_candidates_are_accepted_and_ignored(self):
        a, _ = await self.joined_client("r", "Ana")
        await a.send({"type": "candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
        await a.expect_silence()
        await a.assert_open()


class RobustnessTest(ServerTestCase):

    async def test_a_bad_client_does_not_disturb_the_others(self):
        a, ja = await self.joined_client("r", "Ana")
        b, jb = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")

        bad, _ = await self.joined_client("r", "Mallory")
        await a.expect("peer_joined")
        await b.expect("peer_joined")
        for raw in ["}{", "\ufeff{}", '{"type":"chat","text":' + "1" * 5000 + "}",
                    '{"type":"chat","text":"\\ud800"}', '{"type":"join"}',
                    '{"type":"mute","kind":"audio","muted":null}', '{"type":"" }']:
            await bad.send_raw(raw)
        await bad.ws.send(b'\x00\xff{"type":"ping"}')   # binary frame
        for _ in range(8):
            try:
                await bad.recv(timeout=1)
            except Closed:
                break
        bad.ws.transport.abort()
        await a.expect("peer_left")
        await b.expect("peer_left")

        for sender, receiver, jsender in ((a, b, ja), (b, a, jb)):
            await sender.send({"type": "chat", "text": "still fine"})
            got = await receiver.expect("chat")
            self.assertEqual((got["from"], got["text"]), (jsender["self"]["id"], "still fine"))
            self.assertEqual((await sender.expect("chat"))["text"], "still fine")

    async def test_invalid_utf8_is_never_relayed(self):
        # A browser drops its WebSocket on a text frame with invalid UTF-8, so one bad
        # client must not be able to make the server send such a frame to the others.
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        for payload in (b'{"type":"chat","text":"caf\xe9"}',
                        b'{"type":"chat","text":"\xed\xa0\x80"}',
                        '{"type":"chat","text":"\\ud800"}'.encode(),
                        '{"type":"chat","text":"x\\u0000y"}'.encode()):
            with self.subTest(payload=payload):
                await a.ws.write_frame(True, websockets.frames.Opcode.TEXT, payload)
                try:
                    msg = await a.recv()
                except Closed:          # closing (1007) is a fine answer too
                    a, _ = await self.joined_client("r", "Ana again")
                    await b.expect("peer_left")
                    await b.expect("peer_joined")
                    continue
                if msg["type"] == "chat":   # accepted: must be valid text now
                    self.assertNotIn("\ud800", msg["text"])
                    await b.expect("chat")
                else:
                    self.assertEqual((msg["type"], msg["code"]), ("error", "bad_request"))
        await b.expect_silence()
        await b.assert_open()

    async def test_slow_reader_does_not_stall_the_server(self):
        a, _ = await self.joined_client("r", "Ana")
        sleepy, _ = await self.joined_client("r", "Sleepy")   # never reads
        await a.expect("peer_joined")
        other, _ = await self.joined_client("elsewhere", "Olga")
        text = "z" * 1990
        for i in range(600):          # ~1.2 MB for Sleepy, under the 1000/s rate limit
            await a.send({"type": "chat", "text": text})
            if i % 100 == 99:
                await asyncio.sleep(0.1)
        await other.assert_open()
        # Ana reads her 600 chat echoes, then still gets her pong.
        for _ in range(600):
            await a.expect("chat")
        await a.assert_open()
        self.assert_server_alive()
        del sleepy

    async def test_churn_while_chatting(self):
        stayers = [(await self.joined_client("busy", "Stay%d" % i))[0] for i in range(3)]
        for round_ in range(5):
            goers = [(await self.joined_client("busy", "Go%d.%d" % (round_, i)))[0]
                     for i in range(4)]
            for g in goers:
                await g.send({"type": "chat", "text": "bye from a goer"})
            for i, g in enumerate(goers):
                if i % 2:
                    g.ws.transport.abort()
                else:
                    await g.send({"type": "leave"})
        await asyncio.sleep(0.3)
        self.assert_server_alive()
        # The room now holds only the three stayers.
        _, j = await self.joined_client("busy", "Last")
        self.assertEqual(sorted(p["name"] for p in j["peers"]), ["Stay0", "Stay1", "Stay2"])
        del stayers

    async def test_many_clients_join_at_once(self):
        clients = [await self.client("c%d" % i) for i in range(8)]
        await asyncio.gather(*(c.send({"type": "join", "room": "crowd", "name": "P%d" % i})
                               for i, c in enumerate(clients)))
        joined = [await c.expect("joined") for c in clients]
        ids = {j["self"]["id"] for j in joined}
        self.assertEqual(len(ids), 8)
        # Each client learns of the other seven, through peers or peer_joined.
        for c, j in zip(clients, joined):
            known = {p["id"] for p in j["peers"]}
            while len(known) < 7:
                known.add((await c.expect("peer_joined"))["peer"]["id"])
            self.assertEqual(known, ids - {j["self"]["id"]})
            await c.expect_silence(0.05)

    async def test_http_request_on_ws_path_without_upgrade(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=3)
        conn.request("GET", "/ws")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertNotEqual(resp.status, 101)
        c, _ = await self.joined_client("r", "Ana")
        await c.assert_open()


if __name__ == "__main__":
    harness.main()
