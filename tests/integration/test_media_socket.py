"""The media socket's buffers (README, "UDP buffers"): sobre asks for 4 MB each way and
logs what the kernel gave at start.

* With CAP_NET_ADMIN (root, as CI runs) the size is forced past net.core.rmem_max and
  wmem_max: the kernel reports twice 4 MB.
* Without it (setpriv drops the capability, as DynamicUser would have none), the size is
  what the sysctls allow: twice min(4 MB, the ceiling); a warning naming the sysctl to
  raise appears exactly when that is less than 4 MB.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sobre_harness as harness  # noqa: E402
from sobre_harness import Server  # noqa: E402

WANT = 4 * 1024 * 1024
LINE = re.compile(r"socket buffers: receive (\d+) bytes, send (\d+) bytes")


def sysctl(name):
    with open("/proc/sys/net/core/" + name) as f:
        return int(f.read())


def has_net_admin():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 12))  # CAP_NET_ADMIN
    return False


def start_log(prefix=()):
    """Runs sobre (under prefix) until it logs its socket buffers; returns its log."""
    server = Server()
    proc = subprocess.Popen(list(prefix) + [harness.SOBRE, "-c", server.config_path],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    lines = []
    deadline = time.monotonic() + 10
    try:
        for raw in proc.stderr:
            lines.append(raw.decode("utf-8", "replace"))
            if LINE.search(lines[-1]) or time.monotonic() > deadline or len(lines) > 50:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()
        server.tmp.cleanup()
    return "".join(lines)


class MediaSocketTest(unittest.TestCase):
    def sizes(self, log):
        m = LINE.search(log)
        self.assertIsNotNone(m, log)
        return int(m.group(1)), int(m.group(2))

    @unittest.skipUnless(has_net_admin(), "needs CAP_NET_ADMIN (root)")
    def test_forced_with_net_admin(self):
        log = start_log()
        self.assertEqual(self.sizes(log), (2 * WANT, 2 * WANT), log)
        self.assertNotIn("warn", log)

    @unittest.skipUnless(has_net_admin() and shutil.which("setpriv"),
                         "needs CAP_NET_ADMIN to drop, and setpriv")
    def test_capped_by_the_sysctls_without_net_admin(self):
        log = start_log(["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin"])
        rmem, wmem = sysctl("rmem_max"), sysctl("wmem_max")
        self.assertEqual(self.sizes(log), (2 * min(WANT, rmem), 2 * min(WANT, wmem)), log)
        self.assertEqual("net.core.rmem_max" in log, 2 * rmem < WANT, log)
        self.assertEqual("net.core.wmem_max" in log, 2 * wmem < WANT, log)


if __name__ == "__main__":
    harness.main()
