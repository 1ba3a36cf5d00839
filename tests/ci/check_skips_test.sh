#!/usr/bin/env bash
# check_skips.py on a JUnit file with one GTEST_SKIP, one unbuilt executable, one pass.
set -u
script=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/j.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="(empty)" tests="3" failures="0" disabled="0" skipped="2">
  <testcase name="Live.Lab" classname="Live.Lab" time="0" status="notrun">
    <skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>
    <system-out>[ RUN      ] Live.Lab
x_test.cc:9: Skipped
needs root
[  SKIPPED ] Live.Lab (0 ms)</system-out>
  </testcase>
  <testcase name="Gone.Binary" classname="Gone.Binary" time="0" status="notrun">
    <skipped message="Unable to find executable"/>
  </testcase>
  <testcase name="Fine.Test" classname="Fine.Test" time="0" status="run"></testcase>
</testsuite>
XML
fail=0
expect() {  # expect RC ALLOWLIST-TEXT CI
  printf '%b' "$2" > "$tmp/allow.txt"
  out=$(CI=$3 python3 "$script" "$tmp/j.xml" "$tmp/allow.txt" 2>&1); rc=$?
  if [ "$rc" != "$1" ]; then echo "want exit $1, got $rc (CI=$3, list: $2):"; echo "$out"; fail=1; fi
  echo "$out"
}
expect 1 '' true                                           # both skips unlisted
expect 0 '' false                                          # outside CI: listed, not fatal
expect 1 'Live.*  no root here\n' true                     # one still unlisted
expect 0 'Live.*  no root here\nGone.Binary  not built on purpose\n' true
expect 1 'Live.*\nGone.Binary  x\n' true                   # an entry without a reason
out=$(CI=false python3 "$script" "$tmp/j.xml" /dev/null)
grep -q "Live.Lab: needs root" <<<"$out" || { echo "the skip reason is not shown: $out"; fail=1; }
exit $fail
