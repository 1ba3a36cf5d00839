# bash completion for testbed: verbs, options, experiment/topology/recipe files, results
# directories (and the latest/latest-good pointers), lab and node names from `testbed lab
# status`, image names from images/*.yaml.
#   bash:  source orchestrator/host/completion/testbed.bash   (or copy it to
#          /etc/bash_completion.d/testbed)
#   zsh:   autoload -U +X bashcompinit && bashcompinit && source …/testbed.bash
# tests/cli/completion_test.sh checks it against every verb's --help.

_testbed_verbs="run analyze report export signatures fingerprint identify diff results lab image validate gc prune nightly history host version"
_testbed_global="-h --help --version -v --verbose -q --quiet --timestamps"

# The options of each verb (and of lab/image/nightly/host subverbs), as their --help lists them.
_testbed_opts_run="-o --output -r --repeat --resume --keep --keep-results --junit --metrics --stop-on-failure --baseline --allow-missing --lab-name"
_testbed_opts_analyze="--scanner-kind --label --phases --nmap-xml --nmap-log --scanner-ip --key-fields --tcp-similarity --udp-similarity --icmp-similarity --other-similarity --similar-same-dst --filter --from --to --json --csv --unique-limit"
_testbed_opts_report="--baseline --tolerance --allow-missing --unique-limit --junit --metrics --ids"
_testbed_opts_export="--version -o --output --repetition --phase --fine --direction"
_testbed_opts_signatures="--out"
_testbed_opts_fingerprint="-o --output --evaluate --other-lab --changelog --json"
_testbed_opts_identify="--model --scanner --json"
_testbed_opts_diff="--tolerance --fine --json --allow-missing --junit --metrics"
_testbed_opts_validate="--kind"
_testbed_opts_results="--json"
_testbed_opts_gc="-n --dry-run --uri --state-dir"
_testbed_opts_prune="--keep --dry-run --baseline"
_testbed_opts_history="--json -o --output"
_testbed_opts_version=""
_testbed_opts_lab="--uri"
_testbed_opts_lab_up="--name --backend --accel --reset --keep-states --cache --state-dir"
_testbed_opts_lab_status="--json --state-dir"
_testbed_opts_lab_down="--ignore-missing --state-dir"
_testbed_opts_lab_exec="-t --tty -n --no-stdin --state-dir"
_testbed_opts_lab_cp="--state-dir"
_testbed_opts_lab_reset="--image --boot --state-dir"
_testbed_opts_lab_graph="--format -o --output"
_testbed_opts_lab_capture="-w --write -c --count -d --duration -f --filter --state-dir"
_testbed_opts_image_build="--all --backend --rebuild --recipes --cache -j --jobs"
_testbed_opts_image_rm="--old-keys --cache"
_testbed_opts_image_list="--json --all-keys --cache"
_testbed_opts_nightly_install="--at -o --output --keep-results --metrics-dir --via --testbed --unit-dir --cron-dir"
_testbed_opts_nightly_remove="--unit-dir --cron-dir"
_testbed_opts_nightly_status="--unit-dir --cron-dir"
_testbed_opts_host_check="--accept-new-host-key --min-free"

# Files ending in .yaml/.yml and directories (to descend into), preferring DIR/ when the
# word is empty and DIR exists.
_testbed_yaml() {
  local cur=$1 dir=$2
  [[ -z $cur && -d $dir ]] && cur="$dir/"
  local IFS=$'\n'
  COMPREPLY+=($(compgen -f -X '!*.y?(a)ml' -- "$cur") $(compgen -d -S / -- "$cur"))
}

_testbed_dirs() {
  local IFS=$'\n'
  COMPREPLY+=($(compgen -d -S / -- "$1"))
}

# The scanner versions (plan.json labels) of results directory $1, or of the newest one
# (its `latest` pointer) when $1 is an experiment's folder of them.
_testbed_versions() {
  local plan=$1/plan.json
  [[ -f $plan ]] || plan=$1/latest/plan.json
  [[ -f $plan ]] && sed -n 's/.*"label": *"\([^"]*\)".*/\1/p' "$plan"
}

# Lab names (and with $1, that lab's node names) from `testbed lab status`.
_testbed_labs() {
  "$_testbed_bin" lab status ${1:+"$1"} 2>/dev/null | awk -v want="${1:+nodes}" '
    /^lab / { if (want == "") print $2; next }
    want != "" && /^  / && $1 != "NODE" { print $1 }'
}

# What `lab capture LAB` may open: the lab's networks and NODE:NETWORK, from the NET=ADDRESS
# fields of `testbed lab status LAB`.
_testbed_capture_targets() {
  "$_testbed_bin" lab status "$1" 2>/dev/null | awk '
    /^  / && $1 != "NODE" { for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) { nets[kv[1]]; print $1 ":" kv[1] } }
    END { for (n in nets) print n }'
}

_testbed() {
  local cur prev words cword
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  words=("${COMP_WORDS[@]}")
  cword=$COMP_CWORD
  _testbed_bin=${words[0]}
  COMPREPLY=()
  shopt -s extglob

  # The verb and subverb: the first words that are not options.
  local i verb="" sub="" nargs=0 w
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    [[ $w == -* ]] && continue
    case ${words[i-1]} in  # the value of an option that takes one
      -o|--output|--out|-r|--repeat|--resume|--keep-results|--junit|--metrics|--metrics-dir|--baseline|--lab-name|--tolerance|\
      --unique-limit|--label|--phases|--csv|--kind|--keep|--uri|--name|--backend|--accel|\
      --format|--at|--via|--testbed|--unit-dir|--cron-dir|--recipes|--state-dir|--cache|\
      --images|--image|--nmap-xml|--nmap-log|--scanner-ip|--key-fields|--tcp-similarity|\
      --udp-similarity|--icmp-similarity|--other-similarity|-j|--jobs|--scanner-kind|--model|\
      --scanner|--other-lab|--changelog|--repetition|--phase|--direction)
        continue ;;
      --version) [[ $verb == export ]] && continue ;;
    esac
    if [[ -z $verb ]]; then verb=$w
    elif [[ -z $sub && $verb =~ ^(lab|image|nightly|host)$ ]]; then sub=$w
    else nargs=$((nargs + 1)); fi
  done

  # Option values.
  if [[ $verb == export ]]; then
    local results_dir="" seen=""
    for ((i = 1; i < cword; i++)); do  # the first word after the verb that is no option's value
      [[ -z $seen ]] && { [[ ${words[i]} == export ]] && seen=1; continue; }
      [[ ${words[i]} != -* && ${words[i-1]} != @(-o|--output|--version|--repetition|--phase|--direction) ]] &&
        { results_dir=${words[i]}; break; }
    done
    case $prev in
      --version) COMPREPLY=($(compgen -W "$(_testbed_versions "$results_dir")" -- "$cur")); return ;;
      --phase)
        local phases="horizontal strobe services other"
        [[ " ${words[*]} " == *" --fine "* ]] && phases="discovery port-scan service os script traceroute other"
        COMPREPLY=($(compgen -W "$phases" -- "$cur")); return ;;
      --direction) COMPREPLY=($(compgen -W "sent all" -- "$cur")); return ;;
      --repetition) return ;;
    esac
  fi
  case $prev in
    --other-lab) _testbed_dirs "$cur"; return ;;
    --baseline)
      COMPREPLY=($(compgen -W "latest latest-good" -- "$cur")); _testbed_dirs "$cur"; return ;;
    -o|--output|--resume|--csv|--unit-dir|--cron-dir|--metrics-dir|--recipes|--state-dir|--cache|--images)
      [[ ($verb == lab && $sub == graph) || $verb =~ ^(history|fingerprint|export)$ ]] && { COMPREPLY=($(compgen -f -- "$cur")); return; }
      _testbed_dirs "$cur"; return ;;
    --junit|--metrics|--out|--testbed|--label|--phases|--nmap-xml|--nmap-log|--model|-w|--write)
      COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "svg dot" -- "$cur")); return ;;
    --via) COMPREPLY=($(compgen -W "auto systemd cron" -- "$cur")); return ;;
    --backend) COMPREPLY=($(compgen -W "lxc vm" -- "$cur")); return ;;
    --accel) COMPREPLY=($(compgen -W "auto kvm tcg" -- "$cur")); return ;;
    --reset) COMPREPLY=($(compgen -W "snapshot boot" -- "$cur")); return ;;
    --kind) COMPREPLY=($(compgen -W "experiment topology recipe" -- "$cur")); return ;;
    -r|--repeat|--keep-results|--keep|--tolerance|--unique-limit|--at|--lab-name|--name|--uri|\
    --image|--scanner-ip|--key-fields|--tcp-similarity|--udp-similarity|--icmp-similarity|\
    --other-similarity|-j|--jobs|--scanner|-c|--count|-d|--duration|-f|--filter|--min-free)
      return ;;
    --scanner-kind|--changelog) COMPREPLY=($(compgen -W "nmap masscan zmap" -- "$cur")); return ;;
  esac

  if [[ -z $verb ]]; then
    COMPREPLY=($(compgen -W "$_testbed_verbs $_testbed_global" -- "$cur")); return
  fi
  if [[ $verb =~ ^(lab|image|nightly|host)$ && -z $sub ]]; then
    local subs
    case $verb in
      lab) subs="up status exec cp reset down graph capture" ;;
      image) subs="build list rm" ;;
      nightly) subs="install remove status" ;;
      host) subs="check" ;;
    esac
    [[ $cur == -* ]] && subs="${_testbed_opts_lab:-} -h --help"
    COMPREPLY=($(compgen -W "$subs" -- "$cur")); return
  fi

  if [[ $cur == -* ]]; then
    local var="_testbed_opts_${verb}${sub:+_$sub}"
    COMPREPLY=($(compgen -W "${!var} -h --help" -- "$cur")); return
  fi

  case $verb${sub:+ $sub} in
    run|"nightly install") _testbed_yaml "$cur" experiments ;;
    "nightly remove"|"nightly status") _testbed_yaml "$cur" experiments ;;
    validate) _testbed_yaml "$cur" "" ;;
    "lab up"|"lab graph") _testbed_yaml "$cur" topology ;;
    "lab status"|"lab down")
      ((nargs == 0)) && COMPREPLY=($(compgen -W "$(_testbed_labs)" -- "$cur")) ;;
    "lab exec"|"lab reset"|"lab capture")
      local lab_name
      for ((i = 1; i < cword; i++)); do
        [[ ${words[i]} == "$sub" ]] && { lab_name=${words[i+1]}; break; }
      done
      if ((nargs == 0)); then COMPREPLY=($(compgen -W "$(_testbed_labs)" -- "$cur"))
      elif ((nargs == 1)) && [[ $sub == capture ]]; then
        COMPREPLY=($(compgen -W "$(_testbed_capture_targets "$lab_name")" -- "$cur"))
      elif ((nargs == 1)); then COMPREPLY=($(compgen -W "$(_testbed_labs "$lab_name")" -- "$cur"))
      fi ;;
    "lab cp")
      # The lab, then files (a node's side is written NODE:PATH by hand).
      if ((nargs == 0)); then COMPREPLY=($(compgen -W "$(_testbed_labs)" -- "$cur"))
      else local IFS=$'\n'; COMPREPLY=($(compgen -f -- "$cur"))
      fi ;;
    "image build"|"image rm")
      local names="" f
      for f in images/*.yaml; do [[ -e $f ]] && names+=" $(basename "$f" .yaml)"; done
      COMPREPLY=($(compgen -W "$names" -- "$cur")) ;;
    report|diff|prune|results|signatures|history|fingerprint|export) _testbed_dirs "$cur" ;;
    analyze|identify) local IFS=$'\n'; COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}

complete -o filenames -F _testbed testbed ./build/testbed build/testbed
