#!/usr/bin/python3
"""Runs the Blob test files against Azurite instead of emberd (EMBER_BLOB_TARGET=azurite), to check the tests
themselves against Microsoft's emulator: each file starts its own Azurite from .deps/azurite (scripts/install-deps)
on a free port. Tests of features Azurite lacks skip with an "Azurite: ..." reason; test_blob_cross.py needs
Ember's S3 side and skips as a whole.

    /usr/bin/python3 tests/integration/blob_vs_azurite.py            # every test_blob_*.py
    /usr/bin/python3 tests/integration/blob_vs_azurite.py sdk rclone  # files whose name contains a word

Prints one line per file (ran / failures / errors / skipped) and the skip reasons; exits non-zero if any file
failed. Not registered with ctest: it tests the tests, not Ember.
"""

import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    sys.path.insert(0, HERE)
    import harness
    if not harness.azurite_bin():
        print("azurite not installed: run scripts/install-deps (it installs azurite into .deps/azurite)")
        return 2
    files = sorted(glob.glob(os.path.join(HERE, "test_blob_*.py")))
    words = sys.argv[1:]
    if words:
        files = [f for f in files if any(w in os.path.basename(f) for w in words)]
    env = dict(os.environ, EMBER_BLOB_TARGET="azurite", PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    bad = 0
    for f in files:
        try:
            p = subprocess.run([sys.executable, f], env=env, capture_output=True, timeout=900)
            out, rc = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"), p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace"), -1
        ran = re.search(r"^Ran (\d+) tests? in ([\d.]+)s", out, re.M)
        skips, current = [], None
        for line in out.splitlines():  # unittest -v: "test_x (__main__.Cls.test_x)[\n docstring] ... skipped 'why'"
            m = re.match(r"(test\w+) \(__main__\.(\w+)\.", line)
            if m:
                current = f"{m.group(2)}.{m.group(1)}"
            m = re.search(r"\.\.\. skipped (['\"])(.*)\1$", line)
            if m and current:
                skips.append((current, m.group(2)))
        fails = re.findall(r"^(FAIL|ERROR): (test\w+) \(__main__\.(\w+)\.", out, re.M)
        status = {0: "ok", 77: "skipped"}.get(rc, f"FAILED (exit {rc})")
        print(f"{os.path.basename(f):34s} {status:18s} ran={ran.group(1) if ran else '?':>3s} "
              f"failed={len(fails)} skipped={len(skips)}")
        for name, why in skips:
            print(f"    skip  {name}: {why}")
        for kind, name, cls in fails:
            print(f"    {kind.lower():5s} {cls}.{name}")
        if rc not in (0, 77):
            bad += 1
            if os.environ.get("VERBOSE"):
                print(out[-6000:])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
