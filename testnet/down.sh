#!/usr/bin/env bash
# Stops the network testnet/up.sh started (docs/operator.md, "Test networks").
#
#   testnet/down.sh [--dir DIR] [--clean]
#
# Sends SIGTERM to exactly the processes listed in DIR/nodes (validators and the proxy),
# waits up to 10 s for each, then SIGKILLs what is left; removes the network namespaces it
# created; --clean also deletes DIR. Exits 0 when nothing of the network is left running.
set -uo pipefail
dir=${TMPDIR:-/tmp}/clearnode-testnet clean=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --clean) clean=1; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "down.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -f "$dir/nodes" ] || { echo "down.sh: no network in $dir (no $dir/nodes)"; exit 0; }
# Only our own processes: the command line must name this network's directory (a PID may
# have been reused since).
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "$dir"; }
pids=()
while read -r name pid _; do
  [ -n "$pid" ] && ours "$pid" && { kill -TERM "$pid" 2>/dev/null; pids+=("$pid"); }
done < "$dir/nodes"
for pid in "${pids[@]}"; do
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "down.sh: $pid did not stop, killing it"; kill -KILL "$pid" 2>/dev/null; }
done
awk '$5 != "-" && $5 != "" {print $5}' "$dir/nodes" | while read -r ns; do
  ip netns del "$ns" 2>/dev/null || true
  ip link del "cnh${ns#cn}" 2>/dev/null || true
done
rm -f "$dir/nodes"
[ "$clean" = 1 ] && rm -rf "$dir"
echo "testnet: stopped ${#pids[@]} processes"
