"""Access control against the real binary: hashed room passwords (`sobre passwd`),
signed join tokens (`sobre token`), roles: a listener cannot publish, a moderator may
kick and mute others."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import ServerTestCase, check_peer  # noqa: E402

SECRET = "a-secret-of-the-association-42"


def sobre(*args, stdin=None):
    return subprocess.run([harness.SOBRE, *args], input=stdin, capture_output=True, text=True,
                          timeout=20)


def token(config_path, room, name, role=None):
    args = ["token", "-c", config_path, room, name] + ([role] if role else [])
    r = sobre(*args)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


# The config below needs a hash made by this very binary: take its path now (main()
# would set it only after the classes are defined).
if len(sys.argv) > 1 and harness.SOBRE is None:
    harness.SOBRE = os.path.abspath(sys.argv[1])
HASH = sobre("passwd", stdin="s3same\n").stdout.strip()


class AuthTest(ServerTestCase):
    config = {"auth": {"token_secret": SECRET},
              "rooms": {"hashed": {"password": HASH}, "plain": {}}}

    def test_passwd_prints_a_hash_the_config_takes(self):
        self.assertTrue(HASH.startswith("pbkdf2-sha256$"), HASH)
        r = sobre("passwd", stdin="")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no password", r.stderr)

    async def test_hashed_password(self):
        inside, _ = await self.joined_client("hashed", "Ana", password="s3same")
        other, _ = await self.joined_client("plain", "Omar")
        for pw, word in (("nope", "wrong password"), (None, "needs a password")):
            c = await self.client("wrong")
            await c.send(dict({"type": "join", "room": "hashed", "name": "Eve"},
                              **({"password": pw} if pw else {})))
            await c.expect_error("unauthorized", word)
            await c.expect_closed()
        for x in (inside, other):             # nobody saw Eve
            await x.expect_silence()
            await x.assert_open()
        c = await self.client("right")
        await c.send({"type": "join", "room": "hashed", "name": "Ben", "password": "s3same"})
        await c.expect("joined")
        self.assertEqual((await inside.expect("peer_joined"))["peer"]["name"], "Ben")

    async def test_tokens(self):
        cfg = self.server.config_path
        t = token(cfg, "hashed", "Camille")
        holder = c = await self.client("token")   # no password needed; the token's name
        await c.send({"type": "join", "room": "hashed", "name": "Whoever", "token": t})
        j = await c.expect("joined")
        self.assertEqual(j["self"]["name"], "Camille")
        self.assertEqual(check_peer(j["self"])["role"], "participant")
        for bad, word in ((t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "signature"),
                          ("v1.garbage", "malformed")):
            c = await self.client("bad")
            await c.send({"type": "join", "room": "hashed", "name": "X", "token": bad})
            await c.expect_error("unauthorized", word)
            await c.expect_closed()
        c = await self.client("elsewhere")   # a token is for its room only
        await c.send({"type": "join", "room": "plain", "name": "X", "token": t})
        await c.expect_error("unauthorized", "hashed")
        await holder.expect_silence()          # refused tokens touched nobody inside
        await holder.assert_open()
        r = sobre("token", "-c", cfg, "hashed", "X", "admin")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown role", r.stderr)

    async def test_roles(self):
        cfg = self.server.config_path
        mod, jm = await self.joined_client("plain", "M", token=token(cfg, "plain", "Mod", "moderator"))
        lis, jl = await self.joined_client("plain", "L", token=token(cfg, "plain", "Lis", "listener"))
        ana, ja = await self.joined_client("plain", "Ana")
        self.assertEqual(jm["self"]["role"], "moderator")
        self.assertEqual(jl["self"]["role"], "listener")
        for _ in range(2):
            await mod.expect("peer_joined")
        await lis.expect("peer_joined")
        # A listener cannot publish.
        await lis.send({"type": "publish", "id": 1, "sdp": "v=0\r\n"})
        await lis.expect_error("unauthorized", "listener", id=1)
        # Only a moderator acts on others.
        await ana.send({"type": "kick", "id": 2, "peer": jl["self"]["id"]})
        await ana.expect_error("unauthorized", "moderator", id=2)
        await ana.send({"type": "mute", "id": 3, "kind": "audio", "muted": True,
                        "peer": jl["self"]["id"]})
        await ana.expect_error("unauthorized", "moderator", id=3)
        # The moderator mutes Ana: everyone, Ana included, sees it.
        await mod.send({"type": "mute", "id": 4, "kind": "audio", "muted": True,
                        "peer": ja["self"]["id"]})
        for who in (ana, lis, mod):
            upd = await who.expect("peer_updated")
            self.assertEqual((upd["peer"]["id"], upd["peer"]["muted_audio"]),
                             (ja["self"]["id"], True))
        await mod.expect("ok", id=4)
        await mod.send({"type": "mute", "id": 5, "kind": "audio", "muted": False,
                        "peer": ja["self"]["id"]})
        await mod.expect_error("unauthorized", "unmute", id=5)
        # The moderator kicks the listener: bye, closed, gone for the others at once.
        await mod.send({"type": "kick", "id": 6, "peer": jl["self"]["id"]})
        self.assertEqual((await lis.expect("bye"))["reason"], "kicked")
        await lis.expect_closed()
        self.assertEqual((await ana.expect("peer_left"))["id"], jl["self"]["id"])
        await mod.expect("peer_left")
        await mod.expect("ok", id=6)
        await mod.send({"type": "kick", "id": 7, "peer": "p99"})
        await mod.expect_error("bad_request", "nobody", id=7)


if __name__ == "__main__":
    harness.main()
