#!/usr/bin/env python3
"""Skipped tests, from ctest's JUnit file (ctest --output-junit FILE).

Lists every test that did not run (a GTEST_SKIP, a live test's "[  SKIPPED ]", or an
executable that was not built) with its reason. With CI=true, a skip fails the run
unless tests/skip-allowlist.txt lists the test (exact ctest name or a glob) with the
reason it may skip there. A skip is for a missing host capability only; a test whose
code under test failed must fail, never skip.

usage: check_skips.py JUNIT.xml ALLOWLIST.txt   (exit 1: unlisted skips in CI, or a bad list)
"""
import fnmatch
import os
import sys
import xml.etree.ElementTree as ET


def read_allowlist(path):
    entries, bad = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or not parts[1].strip():
                bad.append(f"{path}:{n}: '{line}' gives no reason (NAME  REASON)")
                continue
            entries.append((parts[0], parts[1].strip()))
    return entries, bad


def skip_reason(case):
    out = case.findtext("system-out") or ""
    # gtest prints the GTEST_SKIP message on the line(s) before "[  SKIPPED ]".
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("[  SKIPPED ]"):
            before = [l for l in lines[max(0, i - 3):i] if l.strip() and not l.startswith("[")]
            if before:
                return before[-1].strip()
    skipped = case.find("skipped")
    return skipped.get("message", "") if skipped is not None else ""


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    junit, allow_path = sys.argv[1], sys.argv[2]
    entries, bad = read_allowlist(allow_path)
    for b in bad:
        print(b, file=sys.stderr)
    root = ET.parse(junit).getroot()
    cases = root.iter("testcase")
    skipped = [c for c in cases if c.find("skipped") is not None or c.get("status") == "notrun"]
    ci = os.environ.get("CI", "").lower() == "true"
    unlisted = []
    for c in skipped:
        name = c.get("name", "")
        why = skip_reason(c)
        allowed = next((r for pat, r in entries if fnmatch.fnmatchcase(name, pat)), None)
        if allowed is None:
            unlisted.append(name)
            print(f"SKIPPED (not in {os.path.basename(allow_path)}): {name}: {why}")
        else:
            print(f"skipped (allowed: {allowed}): {name}: {why}")
    total = sum(1 for _ in root.iter("testcase"))
    print(f"{len(skipped)} of {total} tests skipped, {len(unlisted)} not on the allow-list")
    if bad:
        return 1
    if ci and unlisted:
        print(f"CI=true: {len(unlisted)} skipped test(s) not on {allow_path}; a skip is for a "
              "missing host capability only: list it there with the reason, or make it run",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
