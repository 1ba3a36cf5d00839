#!/usr/bin/env bash
# Bash completion (orchestrator/host/completion/testbed.bash), driven the way bash drives
# it: COMP_WORDS/COMP_CWORD set, the function registered by `complete` called, COMPREPLY
# read. Lab and node names come from a stand-in testbed that prints `lab status` output.
# Also: every option each verb's --help lists is offered. Usage: completion_test.sh TESTBED SRC
set -u
bin=$1
src=$2
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1
# shellcheck source=/dev/null
source orchestrator/host/completion/testbed.bash

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# complete WORD... : COMPREPLY for the command line WORD... (the last word is being typed).
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  local fn
  fn=$(complete -p "$1" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
  "$fn"
}
# expect "WORDS" WANT...: every WANT is offered.
expect() {
  local line=$1; shift
  # shellcheck disable=SC2086
  complete_words $line ""
  local got=" ${COMPREPLY[*]} " w
  for w in "$@"; do
    if [[ $got == *" $w "* ]]; then ok; else bad "'$line ' offers '${COMPREPLY[*]}', not '$w'"; fi
  done
}
# expect_typed "WORDS" CUR WANT...: the same with a partly typed last word.
expect_typed() {
  local line=$1 cur=$2; shift 2
  # shellcheck disable=SC2086
  complete_words $line "$cur"
  local got=" ${COMPREPLY[*]} " w
  for w in "$@"; do
    if [[ $got == *" $w "* ]]; then ok; else bad "'$line $cur' offers '${COMPREPLY[*]}', not '$w'"; fi
  done
}

[[ $(complete -p testbed) == "complete -o filenames -F _testbed testbed" ]] && ok ||
  bad "complete -p testbed: $(complete -p testbed)"

expect "testbed" run analyze report diff lab image validate gc prune nightly version
expect_typed "testbed" pr prune
expect_typed "testbed run" --ke --keep --keep-results
expect_typed "testbed run experiments/nmap7.yaml --baseline" lat latest latest-good
expect "testbed run" experiments/ci-smoke.yaml experiments/nmap7.yaml
expect_typed "testbed run" experiments/ci-sm experiments/ci-smoke.yaml
expect_typed "testbed validate" topology/two-subnet-sm topology/two-subnet-small.yaml
expect_typed "testbed lab up" topology/two-subnet-sm topology/two-subnet-small.yaml
expect "testbed lab" up status exec reset down graph capture
expect_typed "testbed lab capture" --c --count
expect "testbed lab graph topology/two-subnet.yaml --format" svg dot
expect "testbed nightly" install remove status
expect_typed "testbed nightly install experiments/nmap7.yaml" --a --at
expect_typed "testbed image build" scanner-nmap-7.8 scanner-nmap-7.80
expect_typed "testbed -q" ru run

# Lab and node names from `lab status` (a stand-in for the binary the user typed).
fake=$tmp/testbed
cat > "$fake" <<'FAKE'
#!/bin/sh
[ "$1 $2" = "lab status" ] || exit 2
if [ -z "$3" ]; then
  printf 'lab nmap7 (capture interface tb-x)\n  NODE  ROLE\n  router router\nlab ci-smoke (capture interface tb-y)\n  NODE  ROLE\n  router router\n  scanner scanner\n'
else
  printf 'lab %s (capture interface tb-y)\n  NODE         ROLE\n  router       router   router  running yes mgmt=10.250.0.2 scan=172.24.0.1\n  scanner      scanner  s  running yes mgmt=10.250.0.3 scan=172.24.0.10\n  target1      target\n' "$3"
fi
FAKE
chmod +x "$fake"
complete -F _testbed "$fake"
expect "$fake lab status" nmap7 ci-smoke
expect "$fake lab down" nmap7 ci-smoke
expect "$fake lab exec ci-smoke" router scanner target1
expect_typed "$fake lab reset ci-smoke" ta target1
expect "$fake lab capture" nmap7 ci-smoke
expect "$fake lab capture ci-smoke" scan mgmt router:scan scanner:scan scanner:mgmt
expect_typed "$fake lab capture ci-smoke" scanner: scanner:scan scanner:mgmt

# export: the versions of the results directory named before, the phases of the grouping.
mkdir -p "$tmp/res/7.80/1"
printf '{\n  "experiment": "x",\n  "scanners": [\n    {\n      "image": "scanner-nmap-7.80",\n      "label": "7.80"\n    },\n    {\n      "image": "scanner-nmap-7.93",\n      "label": "7.93"\n    }\n  ]\n}\n' >"$tmp/res/plan.json"
expect "testbed export $tmp/res --version" 7.80 7.93
expect "testbed -q export --fine $tmp/res -o x.pcap --version" 7.80 7.93
expect "testbed export $tmp/res --phase" horizontal strobe services other
expect "testbed export $tmp/res --fine --phase" discovery port-scan os script traceroute
expect_typed "testbed export $tmp/res" --rep --repetition
expect "testbed export $tmp/res --direction" sent all
expect "testbed export --direction all $tmp/res --version" 7.80 7.93
expect_typed "testbed export" "$tmp/re" "$tmp/res/"

# Every verb and subcommand the binary has is completed (from its own messages, so a new
# verb or subcommand without completion fails here).
verbs=$("$bin" 2>&1 | sed -n 's/.*name a command: \(.*\) (testbed --help).*/\1/p' | tr -d ',')
[[ -n $verbs ]] || bad "no verb list in testbed's message"
expect "testbed" $verbs
all=""
for v in $verbs; do
  subs=$("$bin" "$v" --help 2>&1 | awk '/^Subcommands:/ {f = 1; next} /^$/ {f = 0} f {print $1}')
  if [[ -z $subs ]]; then all+="$v|"; continue; fi
  # shellcheck disable=SC2086
  expect "testbed $v" $subs
  for s in $subs; do all+="$v $s|"; done
done

# Every option of every verb's --help is offered.
IFS='|' read -r -a every <<<"${all%|}"
for v in "${every[@]}"; do
  # shellcheck disable=SC2086
  help=$("$bin" $v --help 2>&1 | awk '/^Options:/ {f = 1; next} /^$/ {f = 0} f')
  var="_testbed_opts_${v// /_}"
  for o in $(grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z-]*' <<<"$help" | grep -oE -- '(-[a-zA-Z]|--[a-z][a-z-]*)' | sort -u); do
    [[ $o == -h ]] && continue
    [[ $o == --help ]] && continue
    if [[ " ${!var} " == *" $o "* ]]; then ok; else bad "$v: $o (in --help) is not in $var"; fi
  done
done

echo "$passed passed, $failed failed"
((failed == 0))
