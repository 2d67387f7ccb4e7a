"""Limits and lifecycle: frame size, message rate, server-wide capacity, rooms not
created on demand, and shutdown on SIGTERM/SIGINT (docs: /work/shared/PROTOCOL.md).

Run: /usr/bin/python3 tests/integration/test_limits.py SOBRE_BINARY WEB_DIR
"""

import asyncio
import json
import os
import signal
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sdp")
from sobre_harness import ServerTestCase  # noqa: E402


async def eventually_join(test, room, name, timeout=2.0):
    """Joins, retrying on a fresh socket while the server still refuses with
    server_full: freeing a place after a disconnect may take a moment."""
    deadline = time.monotonic() + timeout
    while True:
        c = await test.client(name)
        await c.send({"type": "join", "room": room, "name": name})
        msg = await c.recv()
        if msg["type"] == "joined":
            return c, msg
        if msg["type"] != "error" or msg["code"] != "server_full" \
                or time.monotonic() > deadline:
            test.fail("join %s as %s: expected joined, got %r" % (room, name, msg))
        await c.close()
        await asyncio.sleep(0.1)


class FrameSizeTest(ServerTestCase):

    async def test_oversized_chat_is_refused_and_closes_the_session(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        await a.send({"type": "chat", "text": "x" * 70000, "id": "big"})
        await a.expect_error("too_large")
        await a.expect_closed()
        # Ben sees Ana leave, never the chat.
        self.assertEqual((await b.expect("peer_left"))["id"], ja["self"]["id"])
        await b.expect_silence()

    async def test_oversized_garbage_before_join(self):
        other, _ = await self.joined_client("ailleurs", "Omar")
        c = await self.client()
        await c.send_raw("y" * 70000)
        await c.expect_error("too_large")
        await c.expect_closed()
        await self.joined_client("r", "Ana")
        await other.expect_silence()
        await other.assert_open()

    async def test_oversized_sdp_closes_only_its_session(self):
        a, ja = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        other, _ = await self.joined_client("ailleurs", "Omar")
        await a.expect("peer_joined")
        sdp = "v=0\r\n" + "a=x-pad:" + "p" * 70000 + "\r\n"
        await a.send({"type": "publish", "id": "big", "sdp": sdp})
        await a.expect_error("too_large", "65536")
        await a.expect_closed()
        self.assertEqual((await b.expect("peer_left"))["id"], ja["self"]["id"])
        await b.assert_open()
        await other.expect_silence()
        await other.assert_open()

    async def test_large_answer_frame_is_read_other_large_frames_are_not(self):
        """An answer may exceed 64 KiB (a subscribe connection of 128 m-lines,
        docs/protocol-notes.md): it is read, here refused for having no offer pending, and
        the session stays open; a chat frame of the same size is too_large."""
        a, _ = await self.joined_client("r", "Ana")
        sdp = "v=0\r\n" + ("a=x-pad:" + "p" * 1000 + "\r\n") * 100
        await a.send({"type": "answer", "id": "big", "sdp": sdp})
        msg = await a.expect("error")
        self.assertNotEqual(msg["code"], "too_large", msg)
        await a.assert_open()
        await a.send_raw(json.dumps({"type": "chat", "text": "x", "pad": "p" * 100000}))
        await a.expect_error("too_large", "65536")
        await a.expect_closed()

    async def test_too_many_m_lines_are_refused(self):
        """More than 16 m-lines (SDP_MAX_MEDIA) in one offer: sdp_rejected naming the
        count and the limit; the session and the others go on."""
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        with open(os.path.join(DATA, "chrome_publish.sdp")) as f:
            good = f.read().replace("\r\n", "\n")
        head, first = good.split("\nm=")[0], good.split("\nm=")[1]
        mid = [l for l in first.split("\n") if l.startswith("a=mid:")][0]
        sections = ["m=" + first.replace(mid, "a=mid:x%d" % i).rstrip("\n") for i in range(17)]
        sdp = "\r\n".join([head] + sections).replace("\n", "\r\n") + "\r\n"
        await a.send({"type": "publish", "id": "many", "sdp": sdp})
        msg = await a.expect_error("sdp_rejected", "too many m-lines", "17", "16", id="many")
        await a.assert_open()
        await b.expect_silence()
        await b.assert_open()
        del msg

    async def test_60k_frame_with_too_long_text_is_a_plain_bad_request(self):
        a, _ = await self.joined_client("r", "Ana")
        frame = json.dumps({"type": "chat", "text": "x" * 2001, "pad": "p" * 58000, "id": 1})
        self.assertGreater(len(frame), 60000)
        self.assertLess(len(frame), 65536)
        await a.send_raw(frame)
        await a.expect_error("bad_request", "text", id=1)
        await a.assert_open()

    async def test_large_legal_frame_is_read_whole(self):
        # Just under 64 KiB: more than one read for most servers' receive buffers.
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        frame = json.dumps({"type": "chat", "text": "end", "pad": "p" * 65000})
        self.assertLess(len(frame.encode()), 65536)
        await a.send_raw(frame)
        self.assertEqual((await b.expect("chat"))["text"], "end")
        self.assertEqual((await a.expect("chat"))["text"], "end")


class RateLimitTest(ServerTestCase):
    config = {"limits": {"messages_per_second": 5}}

    async def test_burst_is_limited_then_the_session_recovers(self):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        await asyncio.sleep(1.2)    # let the join's token come back

        for i in range(30):
            await a.send({"type": "ping", "id": i})
        replies = []
        while True:
            try:
                replies.append(await a.recv(timeout=0.7))
            except AssertionError:      # no message within the timeout: done
                break
        pongs = [m for m in replies if m["type"] == "pong"]
        limited = [m for m in replies if m["type"] == "error"]
        self.assertEqual(len(pongs) + len(limited), len(replies), replies)
        self.assertTrue(all(m["code"] == "rate_limited" for m in limited), limited)
        self.assertGreaterEqual(len(limited), 1, "no rate_limited error for 30 pings")
        self.assertGreaterEqual(len(pongs), 1, "the burst allowance gave no pong")
        self.assertLessEqual(len(pongs), 7, "the limit of 5/s was not applied")
        self.assertTrue(all(m.get("id") in range(30) for m in replies),
                        "every reply echoes its request's id")

        await asyncio.sleep(1.5)
        await a.assert_open()
        await a.send({"type": "chat", "text": "back"})
        self.assertEqual((await b.expect("chat"))["text"], "back")

    async def test_limited_chats_are_not_broadcast(self):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        await asyncio.sleep(1.2)
        for i in range(30):
            await a.send({"type": "chat", "text": "spam %d" % i})
        got = []
        while True:
            try:
                got.append(await b.recv(timeout=0.7))
            except AssertionError:
                break
        self.assertTrue(all(m["type"] == "chat" for m in got), got)
        self.assertGreaterEqual(len(got), 1)
        self.assertLessEqual(len(got), 7, "Ben received %d of 30 chats at 5/s" % len(got))

    async def test_limit_is_per_session(self):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        await a.expect("peer_joined")
        for i in range(30):
            await a.send({"type": "ping", "id": i})
        await b.assert_open()


class RoomUnknownTest(ServerTestCase):
    config = {"on_demand": False}

    async def test_unconfigured_room_is_refused(self):
        c = await self.client()
        await c.send({"type": "join", "room": "nowhere", "name": "Ana", "id": 1})
        await c.expect_error("room_unknown", id=1)
        await c.expect_closed()
        _, j = await self.joined_client("petite", "Ana")
        self.assertEqual(j["room"], "petite")
        # Those already in a room saw nothing of the refusal.
        other, _ = await self.joined_client("radio", "Ben")
        c = await self.client()
        await c.send({"type": "join", "room": "nowhere", "name": "Eve", "id": 2})
        await c.expect_error("room_unknown", id=2)
        await other.expect_silence()
        await other.assert_open()


class ServerFullParticipantsTest(ServerTestCase):
    config = {"limits": {"max_participants": 2}}

    async def test_server_wide_participant_limit(self):
        a, _ = await self.joined_client("r1", "Ana")
        await self.joined_client("r2", "Ben")
        for room in ("r3", "r1"):
            c = await self.client()
            await c.send({"type": "join", "room": room, "name": "Chloé", "id": room})
            await c.expect_error("server_full", id=room)
            await c.expect_closed()
        for x in self.clients[:2]:                # the two inside saw nothing of it
            await x.expect_silence()
            await x.assert_open()
        await a.send({"type": "leave"})
        await a.expect_closed(allow=("bye", "ok"))
        await eventually_join(self, "r3", "Dan")


class ServerFullRoomsTest(ServerTestCase):
    config = {"limits": {"max_rooms": 2}, "rooms": None}

    async def test_server_wide_room_limit(self):
        a, _ = await self.joined_client("r1", "Ana")
        await self.joined_client("r2", "Ben")
        c = await self.client()
        await c.send({"type": "join", "room": "r3", "name": "Chloé"})
        await c.expect_error("server_full")
        await c.expect_closed()
        # Joining an existing room is fine.
        _, j = await self.joined_client("r1", "Dan")
        self.assertEqual([p["name"] for p in j["peers"]], ["Ana"])
        await a.expect("peer_joined")
        # Once r1 is empty it is forgotten, which frees a room.
        await a.close()
        await self.clients[-1].close()
        await eventually_join(self, "r3", "Eve")


class PerAddressTest(ServerTestCase):
    """Per client address: connections open at once, join attempts a minute, and the
    time a socket has to join."""
    config = {"limits": {"connections_per_ip": 3, "joins_per_minute_per_ip": 4,
                         "join_timeout_seconds": 1},
              "rooms": {"secret": {"password": "s3same"}}}

    async def test_connections_per_address(self):
        held = [await self.client("c%d" % i) for i in range(3)]
        extra = await self.client("extra")
        msg = await extra.recv()
        self.assertEqual((msg["type"], msg["code"]), ("error", "rate_limited"))
        self.assertIn("connections", msg["message"])
        self.assertIn("3", msg["message"])
        await extra.expect_closed()
        for h in held:                         # the open ones are unaffected
            await h.assert_open()
        await held[0].close()                  # a place frees up
        await asyncio.sleep(0.2)
        again = await self.client("again")
        await again.assert_open()

    async def test_a_local_proxy_forwards_the_address(self):
        """Behind a reverse proxy on this host every browser comes from 127.0.0.1: the
        last X-Forwarded-For address, the one the proxy saw, is the one counted. Earlier
        entries are the client's own (a proxy appends to them): a browser cannot pick
        its address with them."""
        async def via_proxy(addr, claimed="10.0.0.1"):
            ws = await websockets.connect(self.server.ws_url, subprotocols=["sobre.v1"],
                                          extra_headers={"X-Forwarded-For":
                                                         claimed + ", " + addr})
            self.addAsyncCleanup(ws.close)
            return ws
        held = [await via_proxy("192.0.2.1", "10.0.0.%d" % i) for i in range(3)]
        refused = await via_proxy("192.0.2.1", "10.0.0.9")
        msg = json.loads(await asyncio.wait_for(refused.recv(), 3))
        self.assertEqual((msg["type"], msg["code"]), ("error", "rate_limited"))
        other = await via_proxy("192.0.2.2")   # another browser behind the same proxy
        await other.send(json.dumps({"type": "ping", "id": "x"}))
        self.assertEqual(json.loads(await asyncio.wait_for(other.recv(), 3))["type"], "pong")
        # Without the header the proxy itself is the address: not 192.0.2.1's count.
        plain = await self.client("direct")
        await plain.assert_open()
        del held

    async def test_password_guessing_is_slowed(self):
        lobby = await self.client("lobby")     # connected from the same address
        for i in range(4):
            c = await self.client("guess%d" % i)
            await c.send({"type": "join", "room": "secret", "name": "G",
                          "password": "guess%d" % i})
            await c.expect_error("unauthorized")
            await c.expect_closed()
        c = await self.client("guess5")        # even the right password, now
        await c.send({"type": "join", "room": "secret", "name": "G", "password": "s3same"})
        msg = await c.expect_error("rate_limited", "join attempts", "4")
        await c.expect_closed()
        del msg
        await lobby.assert_open()
        # Another address (behind the local proxy) joins with the password at once.
        ws = await websockets.connect(self.server.ws_url, subprotocols=["sobre.v1"],
                                      extra_headers={"X-Forwarded-For": "192.0.2.7"})
        self.addAsyncCleanup(ws.close)
        await ws.send(json.dumps({"type": "join", "room": "secret", "name": "H",
                                  "password": "s3same"}))
        self.assertEqual(json.loads(await asyncio.wait_for(ws.recv(), 3))["type"], "joined")

    async def test_a_socket_that_never_joins_is_closed(self):
        c = await self.client("idle")
        start = time.monotonic()
        msg = await c.expect_error("bad_request", "join", timeout=3)
        await c.expect_closed()
        self.assertGreater(time.monotonic() - start, 0.8)
        del msg
        j = await self.client("joiner")         # one that joins in time stays
        await j.join("r", "J")
        await asyncio.sleep(1.3)
        await j.assert_open()


class ShutdownTest(ServerTestCase):
    server_may_exit = True

    async def check_shutdown(self, signum):
        a, _ = await self.joined_client("r", "Ana")
        b, _ = await self.joined_client("r", "Ben")
        lobby = await self.client("not joined")
        await lobby.assert_open()
        await a.expect("peer_joined")
        started = time.monotonic()
        self.server.signal(signum)
        for c in (a, b, lobby):
            await c.expect("bye", reason="shutdown")
            await c.expect_closed(allow=("peer_left",))
        status = await asyncio.get_running_loop().run_in_executor(
            None, self.server.wait, 2.5 - (time.monotonic() - started))
        self.assertIsNotNone(status, "sobre still running 2 s after the signal")
        self.assertEqual(status, 0, self.server.output())
        self.assertLess(time.monotonic() - started, 2.0)

    async def test_sigterm(self):
        await self.check_shutdown(signal.SIGTERM)

    async def test_sigint(self):
        await self.check_shutdown(signal.SIGINT)

    async def test_sighup_does_not_stop_the_meeting(self):
        a, _ = await self.joined_client("r", "Ana")
        self.server.signal(signal.SIGHUP)
        await asyncio.sleep(0.3)
        self.assert_server_alive()
        await a.assert_open()
        self.assertIn("SIGHUP", self.server.output())
        self.server.signal(signal.SIGTERM)
        await a.expect("bye")
        status = await asyncio.get_running_loop().run_in_executor(None, self.server.wait, 2)
        self.assertEqual(status, 0, self.server.output())

    async def test_sigterm_when_idle(self):
        self.server.signal(signal.SIGTERM)
        status = await asyncio.get_running_loop().run_in_executor(None, self.server.wait, 2)
        self.assertEqual(status, 0, self.server.output())


if __name__ == "__main__":
    harness.main()
