# bash completion for ctsim: subcommands, each subcommand's options (read
# from `ctsim <command> --help`, so they cannot drift), scenario files
# (*.json) for run, check, export, kernel-run and verify, captures (*.pcap, *.pcapng) for replay, traces (*.jsonl) for diff,
# directories for plot and --plots, sweep's actions, sweep files (*.json) and folders, and the fixed
# values of the options that take one.
# Installed as share/bash-completion/completions/ctsim.
_ctsim() {
  local cur prev cmd
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "run replay export check diff plot sweep kernels kernel-run verify --help --version" -- "$cur"))
    return 0
  fi
  cmd="${COMP_WORDS[1]}"
  case "$prev" in
    --snapshots-format) COMPREPLY=($(compgen -W "conntrack proc" -- "$cur")); return 0 ;;
    --kernel) COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" kernels --names 2>/dev/null)" -- "$cur")); return 0 ;;
    --trace-gc) COMPREPLY=($(compgen -W "reaping all" -- "$cur")); return 0 ;;
    --pcap-out-format|--pcap-format) COMPREPLY=($(compgen -W "pcapng pcap" -- "$cur")); return 0 ;;
    --path) COMPREPLY=($(compgen -W "forward input output" -- "$cur")); return 0 ;;
    --cpu) COMPREPLY=($(compgen -W "rss round-robin mac" -- "$cur")); return 0 ;;
    --pcap-out|--pcap) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --netns|--filter|--cpus|--offset|--speed|--burst|--kernel-setting|--until) return 0 ;;
    --plots|--out) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --trace|--events|--snapshots|--explain|--series|--stats|--html|--report|--kernel-events|--kernel-trace) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --series-every|--check-every|--max-duration|--from|--to|--context|--ignore-field|--ignore-kind|--jobs|--index|--throttle|--pilot) return 0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    local opts
    opts=$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return 0
  fi
  case "$cmd" in
    run|check|export|kernel-run|verify) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -S / -- "$cur")) ;;
    replay) COMPREPLY=($(compgen -f -X '!*.pcap*' -- "$cur") $(compgen -d -S / -- "$cur")) ;;
    diff) COMPREPLY=($(compgen -f -X '!*.jsonl' -- "$cur") $(compgen -d -S / -- "$cur")) ;;
    plot) COMPREPLY=($(compgen -d -- "$cur")) ;;
    sweep)
      if [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=($(compgen -W "plan run run-one collect" -- "$cur"))
      elif [ "${COMP_WORDS[2]}" = collect ]; then
        COMPREPLY=($(compgen -d -- "$cur"))
      else
        COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -S / -- "$cur"))
      fi
      ;;
  esac
  return 0
}
complete -o filenames -F _ctsim ctsim
