"""The install layout (CTest install.layout).

1. `cmake --install BUILD` with DESTDIR set to a temporary folder: the binary, every file
   of web/, the example config, both man pages and the systemd unit are in place; the
   installed sobre accepts the installed config (--check-config); the config and the unit
   name the paths the files went to; the binary's compiled-in web root is the installed
   one, not the source tree's; the installed binary serves the installed web client; the
   man pages render without a warning and document every option and command of --help
   and every config key of README.md; `systemd-analyze verify` accepts the unit (skipped
   when systemd-analyze is missing); a second install keeps a config the operator
   changed.
2. `cmake --install BUILD --prefix TMP/usr` (no DESTDIR): the example config and the unit
   follow the install-time prefix, and sobre runs from there on that config.

Run: /usr/bin/python3 tests/install/test_layout.py --build BUILD --source SRC
     --prefix PREFIX --bindir DIR --datadir DIR --sysconfdir DIR --mandir DIR
     --unitdir DIR --web-root DIR   (CTest passes them; see tests/install/CMakeLists.txt)
"""

import argparse
import filecmp
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def skip(what):
    print("skip " + what, flush=True)


def run(cmd, env=None, timeout=60):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def full(prefix, d):
    return d if os.path.isabs(d) else os.path.join(prefix, d)


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relative_files(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def readme_keys(readme):
    """Config keys of README.md's two reference tables (server keys and room keys)."""
    text = open(readme, encoding="utf-8").read()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, re.M)


def serve_check(sobre, cfg, what):
    """Runs sobre on cfg (a dict; ports replaced by free loopback ones); checks that GET /
    returns index.html of cfg's web_root and that SIGTERM stops it with status 0."""
    cfg = json.loads(json.dumps(cfg))
    port = free_port(socket.SOCK_STREAM)
    cfg["listen"] = {"address": "127.0.0.1", "port": port}
    cfg.setdefault("media", {})["port"] = free_port(socket.SOCK_DGRAM)
    cfg["media"]["announce"] = ["127.0.0.1"]
    with tempfile.TemporaryDirectory(prefix="sobre-install-run-") as tmp:
        path = os.path.join(tmp, "sobre.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        log = open(os.path.join(tmp, "stderr"), "w+")
        proc = subprocess.Popen([sobre, "-c", path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=log)
        body = None
        try:
            deadline = time.time() + 10
            while time.time() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2) as r:
                        body = r.read()
                    break
                except OSError:
                    time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                status = proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = proc.wait()
            log.seek(0)
            output = log.read()
            log.close()
        with open(os.path.join(cfg["web_root"], "index.html"), "rb") as f:
            index = f.read()
        check(body == index, what + ": GET / is the installed index.html" +
              ("" if body == index else "\n" + output))
        check(status == 0, what + ": SIGTERM stops it with status 0 (got %s)" % status)


def check_man(page, must_mention):
    if not shutil.which("man"):
        skip("%s: man is not installed (Debian: man-db)" % page)
        return
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    status, out, err = run(["man", "--warnings", "-l", page], env=env)
    check(status == 0 and err.strip() == "",
          "%s renders with no warning%s" % (page, "" if not err.strip() else ":\n" + err))
    # Rendered text: join words hyphenated across lines, drop formatting.
    text = re.sub(r"[\u2010-]\n\s*", "", out)
    missing = [m for m in must_mention if m not in text]
    check(not missing, "%s documents %d names%s" % (
        os.path.basename(page), len(must_mention), "" if not missing else
        "; missing: " + ", ".join(missing)))


def check_unit(unit, staged, man_dir, tmp):
    """systemd-analyze verify on a copy of the unit whose paths point into DESTDIR (so
    that ExecStart= names an existing program); Documentation=man:... is looked up among
    the installed pages."""
    if not shutil.which("systemd-analyze"):
        skip("systemd-analyze verify: systemd-analyze is not installed")
        return
    text = open(staged(unit)).read()
    for path in re.findall(r"^Exec\w+=(\S+) -c (\S+)$", text, re.M)[0]:
        text = text.replace(path, staged(path))
    copy = os.path.join(tmp, "verify", "sobre.service")
    os.makedirs(os.path.dirname(copy), exist_ok=True)
    with open(copy, "w") as f:
        f.write(text)
    env = dict(os.environ, MANPATH=man_dir, SYSTEMD_LOG_COLOR="0")
    status, out, err = run(["systemd-analyze", "verify", copy], env=env)
    lines = [l for l in (out + err).splitlines() if l.strip()]
    check(status == 0 and not lines, "systemd-analyze verify %s%s" % (
        os.path.basename(unit), "" if not lines else ":\n" + "\n".join(lines)))


def main():
    ap = argparse.ArgumentParser()
    for opt in ("build", "source", "prefix", "bindir", "datadir", "sysconfdir", "mandir",
                "unitdir", "web-root"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sobre-install-")
    try:
        destdir_install(a, tmp)
        prefix_install(a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("\n%d check(s) failed" % len(FAILURES))
        return 1
    print("\nall install checks passed")
    return 0


def destdir_install(a, tmp):
    root = os.path.join(tmp, "root")
    env = dict(os.environ, DESTDIR=root)
    status, out, err = run(["cmake", "--install", a.build], env=env)
    if not check(status == 0, "DESTDIR=%s cmake --install %s" % (root, a.build)):
        print(out + err)
        return

    def staged(p):
        return root + p

    bindir = full(a.prefix, a.bindir)
    datadir = full(a.prefix, a.datadir)
    mandir = full(a.prefix, a.mandir)
    sysconf = full(a.prefix, a.sysconfdir)
    unitdir = full(a.prefix, a.unitdir)
    sobre = staged(os.path.join(bindir, "sobre"))
    web = os.path.join(datadir, "sobre", "web")
    conf = os.path.join(sysconf, "sobre", "sobre.json")
    unit = os.path.join(unitdir, "sobre.service")
    man1 = staged(os.path.join(mandir, "man1", "sobre.1"))
    man5 = staged(os.path.join(mandir, "man5", "sobre.json.5"))

    check(os.path.isfile(sobre) and os.access(sobre, os.X_OK), "executable " + sobre)
    src_web = os.path.join(a.source, "web")
    want = relative_files(src_web)
    got = relative_files(staged(web)) if os.path.isdir(staged(web)) else set()
    same = want == got and all(
        filecmp.cmp(os.path.join(src_web, f), os.path.join(staged(web), f), shallow=False)
        for f in want)
    check(same, "%s holds web/ (%d files)%s" % (staged(web), len(want), "" if same else
          ": missing %s, extra %s" % (sorted(want - got), sorted(got - want))))
    for f in (staged(conf), man1, man5, staged(unit)):
        check(os.path.isfile(f), "file " + f)
    if FAILURES:
        return
    manifest = open(os.path.join(a.build, "install_manifest.txt")).read().split()
    check(conf in manifest and unit in manifest,
          "install_manifest.txt lists the config and the unit")

    status, out, err = run([sobre, "--version"])
    check(status == 0 and out.startswith("sobre "), "installed sobre --version: " + out.strip())
    status, out, err = run([sobre, "--check-config", staged(conf)])
    check(status == 0, "installed sobre --check-config %s%s" % (
        staged(conf), "" if status == 0 else ": " + err.strip()))
    cfg = json.load(open(staged(conf)))
    check(cfg.get("web_root") == web, "the example config's web_root is %s (got %s)"
          % (web, cfg.get("web_root")))

    # The installed binary's default web root: the installed web client, never the
    # source tree (checked in its bytes, and by running it on a config without web_root).
    blob = open(sobre, "rb").read()
    check(a.web_root == web, "compiled-in web root %s is the installed one" % a.web_root)
    check((a.web_root + "\0").encode() in blob, "the installed binary holds " + a.web_root)
    check((src_web + "\0").encode() not in blob,
          "the installed binary does not hold the source tree's " + src_web)
    if not os.path.exists(a.web_root):
        no_root = {k: v for k, v in cfg.items() if k != "web_root"}
        no_root["listen"] = {"address": "127.0.0.1", "port": free_port(socket.SOCK_STREAM)}
        no_root["media"] = {"port": free_port(socket.SOCK_DGRAM), "announce": ["127.0.0.1"]}
        path = os.path.join(tmp, "no_web_root.json")
        json.dump(no_root, open(path, "w"))
        status, out, err = run([sobre, "-c", path], timeout=10)
        check(status == 1 and ("web_root: %s:" % a.web_root) in err,
              "run without web_root, the installed sobre looks for %s (%s)"
              % (a.web_root, err.strip()))
    else:
        skip("%s exists on this host: not run without web_root" % a.web_root)
    staged_cfg = dict(cfg, web_root=staged(web))
    serve_check(sobre, staged_cfg, "installed sobre on the installed config")

    # The unit names the installed binary and config.
    text = open(staged(unit)).read()
    check("ExecStart=%s -c %s\n" % (os.path.join(bindir, "sobre"), conf) in text,
          "the unit runs %s -c %s" % (os.path.join(bindir, "sobre"), conf))
    for key in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                "PrivateTmp=yes", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
                "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK"):
        check(key + "\n" in text, "the unit has " + key)
    check_unit(unit, staged, staged(mandir), tmp)

    # The man pages: every option of --help, every key of README's reference tables.
    status, help_text, _ = run([sobre, "--help"])
    options = sorted(set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", help_text)))
    options += sorted(set("sobre " + c for c in re.findall(r"^\s+sobre ([a-z]+)\b", help_text, re.M)))
    check_man(man1, options + ["SIGINT", "SIGTERM", "SIGHUP", "/etc/sobre/sobre.json"])
    keys = readme_keys(os.path.join(a.source, "README.md"))
    check(len(keys) >= 25, "README.md's reference tables list %d keys" % len(keys))
    check_man(man5, keys)

    # A config the operator changed survives the next install.
    with open(staged(conf), "a") as f:
        f.write("\n")
    mark = open(staged(conf)).read()
    status, out, err = run(["cmake", "--install", a.build], env=env)
    check(status == 0 and open(staged(conf)).read() == mark,
          "a second install keeps the existing config")


def prefix_install(a, tmp):
    if any(os.path.isabs(d) for d in (a.bindir, a.datadir, a.sysconfdir, a.unitdir)):
        skip("cmake --install --prefix: an install directory is absolute (it would not "
             "go under the temporary prefix)")
        return
    prefix = os.path.join(tmp, "usr")
    status, out, err = run(["cmake", "--install", a.build, "--prefix", prefix],
                           env={k: v for k, v in os.environ.items() if k != "DESTDIR"})
    if not check(status == 0, "cmake --install %s --prefix %s" % (a.build, prefix)):
        print(out + err)
        return
    sobre = os.path.join(prefix, a.bindir, "sobre")
    web = os.path.join(prefix, a.datadir, "sobre", "web")
    conf = os.path.join(prefix, a.sysconfdir, "sobre", "sobre.json")
    cfg = json.load(open(conf))
    check(cfg.get("web_root") == web, "--prefix: the config's web_root is " + web)
    unit = open(os.path.join(prefix, a.unitdir, "sobre.service")).read()
    check("ExecStart=%s -c %s\n" % (sobre, conf) in unit,
          "--prefix: the unit runs %s -c %s" % (sobre, conf))
    status, out, err = run([sobre, "--check-config", conf])
    check(status == 0, "--prefix: sobre --check-config " + conf)
    serve_check(sobre, cfg, "--prefix: installed sobre on the installed config")


if __name__ == "__main__":
    sys.exit(main())
