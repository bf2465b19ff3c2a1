#!/usr/bin/env bash
# Fault scenarios on a fresh 4-validator network each (docs/operator.md, "Fault injection").
#
#   testnet/faults.sh [--netns] [--keep] SCENARIO... | all
#
# Scenarios:
#   kill9      SIGKILL one validator under load, restart it: it catches up
#   stop       SIGSTOP one validator for 100 blocks, then SIGCONT: it catches up
#   partition  2|2 partition: no progress and no fork; heal: progress within seconds
#   kill2      SIGKILL 2 of 4: the chain halts without forking; restart both: it goes on
#   lossy      200 ms delay and 5% loss (TCP retransmission delay) on every link: progress
#   skew       one validator's clock minutes ahead (libfaketime): progress, block times sane
# Each runs with a transaction load (clearload soak) across all nodes and ends with the checks:
# every node has the same block id and app hash at every common height, every transaction a
# node acknowledged (committed receipt) is committed on every node with the same result, and
# no validator was seen equivocating. --netns cuts real links (veth pairs, needs root) for
# the partition instead of the proxy; --keep leaves the last network's directory for a look.
# Exits 0 only if every scenario passed; prints one line per scenario.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${CLEARNODE_BIN:-$here/build/release/bin}
netns=0 keep=0 scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns=1; shift ;;
    --keep) keep=1; shift ;;
    all) scenarios+=(kill9 stop partition kill2 lossy skew); shift ;;
    kill9|stop|partition|kill2|lossy|skew) scenarios+=("$1"); shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "faults.sh: unknown scenario '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || { echo "faults.sh: name a scenario or 'all' (try --help)" >&2; exit 2; }
source "$here/testnet/lib.sh"

# Fast heights: short pauses, quick empty blocks, short timeouts for recovery.
node_flags=(--block-interval-ms 50 --block-empty-interval-ms 100 --log-level info
            --consensus-timeout-propose-ms 1000 --consensus-timeout-prevote-ms 500
            --consensus-timeout-precommit-ms 500 --mempool-nonce-window 10000)
dir= soak_pid=

say() { printf '   %s\n' "$*"; }

up() { # extra up.sh flags... (dir is made by the loop below, so cleanup can find it)
  CLEARNODE_BIN=$bin "$here/testnet/up.sh" -n 4 --dir "$dir" --clients 0 "$@" -- "${node_flags[@]}" >/dev/null
}

down() {
  if [ -n "$dir" ] && [ -f "$dir/soak.pid" ]; then
    kill "$(cat "$dir/soak.pid")" 2>/dev/null || true
    rm -f "$dir/soak.pid"
  fi
  [ -n "$dir" ] && [ -d "$dir" ] && CLEARNODE_BIN=$bin "$here/testnet/down.sh" --dir "$dir" >/dev/null || true
  if [ "$keep" = 0 ] && [ -n "$dir" ]; then rm -rf "$dir"; fi
}
trap down EXIT

urls() { local i out=; for ((i = 0; i < 4; i++)); do out+="${out:+,}$(tn_url "$i")"; done; echo "$out"; }

# Background load: ~40 tx/s across all nodes for about `secs` seconds.
soak_start() {
  local secs=$1
  "$bin/clearload" soak --nodes "$(urls)" --key "$dir/net/keys/member0.key" --clients 20 \
    --rate 40 --duration "$secs" --wait-s 120 --acked "$dir/acked" > "$dir/soak.log" 2>&1 &
  soak_pid=$!
  echo "$soak_pid" > "$dir/soak.pid"
}
soak_wait() {
  local rc=0
  wait "$soak_pid" || rc=$?
  soak_pid=
  rm -f "$dir/soak.pid"
  [ "$rc" = 0 ] || { echo "load: $(tail -5 "$dir/soak.log")" >&2; return 1; }
}

# The checks every scenario ends with.
verify() {
  local heights acked ev
  heights=$(tn_check_chains) || return 1
  "$bin/clearload" acked --nodes "$(urls)" --file "$dir/acked" > "$dir/acked.log" 2>&1 ||
    { echo "acknowledged transactions: $(tail -3 "$dir/acked.log")" >&2; return 1; }
  acked=$(grep -c . "$dir/acked" || true)
  ev=$(tn_evidence)
  [ "$ev" = 0 ] || { echo "$ev equivocations reported" >&2; return 1; }
  say "checked: $heights common heights identical on 4 nodes, $acked acknowledged txs on every node, no equivocation"
}

# progress_within SECONDS: the top height moves within that many seconds
progress_within() {
  local h0; h0=$(tn_max_height)
  for _ in $(seq 1 $(( $1 * 10 ))); do
    [ "$(tn_max_height)" -gt "$h0" ] && return 0
    sleep 0.1
  done
  echo "no progress in $1 s (height $h0)" >&2
  return 1
}

# no_progress SECONDS: no node commits anything for that long; the heights stay where they are
no_progress() {
  local before after; before=$(tn_heights)
  sleep "$1"
  after=$(tn_heights)
  [ "$before" = "$after" ] || { echo "heights moved while they should not: $before -> $after" >&2; return 1; }
}

sc_kill9() {
  up; soak_start 20
  tn_wait_all 5 30
  sleep 3
  tn_kill 2 KILL; say "node2 killed with SIGKILL at height $(tn_height 0)"
  sleep 5
  tn_restart 2; say "node2 restarted"
  local top; top=$(tn_max_height)
  tn_wait_height 2 "$top" 60; say "node2 caught up to $top"
  soak_wait
  verify
}

sc_stop() {
  up; soak_start 10
  tn_wait_all 3 30
  tn_kill 3 STOP
  local h0; h0=$(tn_height 0)
  say "node3 stopped (SIGSTOP) at height $h0"
  tn_wait_height 0 $((h0 + 100)) 120
  tn_kill 3 CONT; say "100 blocks later ($((h0 + 100))): SIGCONT"
  tn_wait_height 3 "$(tn_height 0)" 60; say "node3 caught up at $(tn_height 3)"
  soak_wait
  verify
}

cut_links() { # 1 to cut the 2|2 links, 0 to heal
  local i j
  if [ "$netns" = 1 ]; then
    for i in 0 1; do for j in 2 3; do
      local st; st=$([ "$1" = 1 ] && echo down || echo up)
      ip -n "$(tn_field "node$i" 5)" link set "v$i-$j" "$st"
      ip -n "$(tn_field "node$j" 5)" link set "v$j-$i" "$st"
    done; done
  else
    local ports=
    if [ "$1" = 1 ]; then
      for i in 0 1; do for j in 2 3; do
        ports+="${ports:+,}$(tn_proxy_port "$i" "$j"),$(tn_proxy_port "$j" "$i")"
      done; done
    fi
    echo "block = $ports" > "$dir/proxy.conf"
  fi
}

sc_partition() {
  if [ "$netns" = 1 ]; then up --netns; else up --proxy; fi
  soak_start 25
  tn_wait_all 3 30
  cut_links 1; say "partitioned {0,1} | {2,3} at height $(tn_max_height)"
  sleep 2
  no_progress 6; say "no progress while partitioned (heights $(tn_heights))"
  cut_links 0
  local t0; t0=$(date +%s%N)
  progress_within 20
  say "healed: progress after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  tn_wait_all "$(tn_max_height)" 60
  soak_wait
  verify
}

sc_kill2() {
  up; soak_start 25
  tn_wait_all 3 30
  tn_kill 2 KILL; tn_kill 3 KILL; say "node2 and node3 killed at height $(tn_max_height)"
  sleep 2
  no_progress 5; say "halted: 2 of 4 cannot reach a 2/3 quorum (node0 and node1 stay at $(tn_height 0) and $(tn_height 1))"
  tn_restart 2; tn_restart 3; say "restarted both"
  progress_within 30
  tn_wait_all "$(tn_max_height)" 60; say "all at $(tn_min_height)+"
  soak_wait
  verify
}

sc_lossy() {
  up --proxy
  printf 'delay_ms = 200\njitter_ms = 20\nloss_pct = 5\nrto_ms = 200\n' > "$dir/proxy.conf"
  soak_start 25
  local h0; h0=$(tn_max_height)
  sleep 25
  local h1; h1=$(tn_max_height)
  [ "$h1" -ge $((h0 + 5)) ] || { echo "only $((h1 - h0)) blocks in 25 s under delay and loss" >&2; return 1; }
  say "200 ms delay, 5% loss on every link: $((h1 - h0)) blocks in 25 s"
  : > "$dir/proxy.conf"
  soak_wait
  tn_wait_all "$(tn_max_height)" 60
  verify
}

sc_skew() {
  # libfaketime preloaded through env, which execs: the PID in DIR/nodes stays the node's own
  # (the faketime program would run the node as its child)
  local lib; lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
  [ -n "$lib" ] || { echo "libfaketime is not installed (make deps)" >&2; return 1; }
  up; tn_wait_all 3 30
  tn_kill 1 TERM
  tn_restart 1 env LD_PRELOAD="$lib" FAKETIME=+300s
  # the node's own log lines carry its clock: check the skew took
  local lt; lt=$(grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$dir/node1/node.log" | tail -1 | cut -d' ' -f1)
  local ahead=$(( $(date -d "$lt" +%s) - $(date +%s) ))
  [ "$ahead" -ge 250 ] || { echo "node1's clock is not ahead ($ahead s)" >&2; return 1; }
  say "node1 restarted with its clock $ahead s ahead"
  soak_start 15
  local h0; h0=$(tn_max_height)
  soak_wait
  [ "$(tn_max_height)" -ge $((h0 + 5)) ] || { echo "no progress with a skewed clock" >&2; return 1; }
  # BFT time is the weighted median of precommit times: one fast clock cannot drag it
  local h; h=$(tn_height 0)
  local bt; bt=$(curl -s "$(tn_url 0)/v1/blocks/$h" | sed -n 's/.*"time":\([0-9]*\).*/\1/p')
  local now; now=$(( $(date +%s%N) / 1000000 ))
  local d=$(( bt > now ? bt - now : now - bt ))
  [ "$d" -lt 30000 ] || { echo "block $h time is $d ms away from real time" >&2; return 1; }
  say "block $h time within $d ms of real time (the skewed clock is 300000 ms ahead)"
  verify
}

failed=0
for s in "${scenarios[@]}"; do
  printf '== %s\n' "$s"
  t0=$(date +%s)
  dir=$(mktemp -d /tmp/cn-faults-XXXXXX)
  # a subshell outside any condition, so that set -e stops the scenario at its first failure
  set +e
  ( set -e; "sc_$s" )
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    printf '%s: ok (%d s)\n' "$s" $(( $(date +%s) - t0 ))
  else
    printf '%s: FAILED (%d s); logs in %s\n' "$s" $(( $(date +%s) - t0 )) "${dir:-?}"
    failed=1
  fi
  keep_dir=$dir
  down
  [ "$keep" = 1 ] && echo "   kept $keep_dir"
done
exit "$failed"
