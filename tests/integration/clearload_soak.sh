#!/usr/bin/env bash
# clearload soak and clearload acked on four validators, one of which is SIGKILLed and
# restarted in the middle of the load: every transfer must still commit with code 0 (the ones
# the killed validator had taken are resent to the others), and afterwards every committed
# transfer must have the same receipt on all four nodes, the restarted one included. Also
# checks that `acked` notices an id that no node has and refuses a malformed file, and that
# `soak` fails when no node answers.
set -euo pipefail
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/cn-soak-test-XXXXXX)
tn=$work/tn
soak_pid=
cleanup() {
  if [ -n "$soak_pid" ]; then kill -9 "$soak_pid" 2>/dev/null || true; fi
  CLEARNODE_BIN=$bin "$here/testnet/down.sh" --dir "$tn" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/soak.out "$work"/soak.err "$tn"/node*/node.log; do
    [ -f "$f" ] && { echo "-- $f"; tail -8 "$f"; }
  done
  exit 1
}
field() { grep -o "\"$1\":[0-9]*" "$work/soak.out" | head -1 | cut -d: -f2; }

CLEARNODE_BIN=$bin "$here/testnet/up.sh" -n 4 --dir "$tn" -- --block-interval-ms 50 > "$work/up.log" 2>&1 ||
  fail "testnet/up.sh: $(tail -3 "$work/up.log")"
nodes=$(awk '$1 ~ /^node/ {print $3}' "$tn/nodes" | paste -sd, -)
key=$tn/net/keys/member0.key
url0=$(awk '$1 == "node0" {print $3}' "$tn/nodes")

"$bin/clearload" soak --nodes "$nodes" --key "$key" --clients 20 --txs 600 --rate 100 --batch 10 \
  --resubmit-ms 1000 --wait-s 120 --acked "$work/acked" --json > "$work/soak.out" 2> "$work/soak.err" &
soak_pid=$!

# Kill once the transfers flow (40 setup transactions, then the first transfers).
for t in $(seq 1 600); do
  c=$(curl -s --max-time 2 "$url0/metrics" | sed -n 's/^clearnode_txs_committed_total \([0-9]*\)$/\1/p')
  [ -n "$c" ] && [ "$c" -ge 140 ] && break
  kill -0 "$soak_pid" 2>/dev/null || fail "soak ended before the kill"
  [ "$t" = 600 ] && fail "no transfers committed within 60 s"
  sleep 0.1
done
victim=$(awk '$1 == "node1" {print $2}' "$tn/nodes")
kill -KILL "$victim"
for _ in $(seq 1 100); do kill -0 "$victim" 2>/dev/null || break; sleep 0.05; done
kill -0 "$victim" 2>/dev/null && fail "node1 ($victim) survived SIGKILL"
sleep 1.5
"$bin/clearnode" start --home "$tn/node1" --block-interval-ms 50 >> "$tn/node1/node.log" 2>&1 &
restarted=$!
awk -v p="$restarted" '$1 == "node1" {$2 = p} {print}' "$tn/nodes" > "$tn/nodes.tmp"
mv "$tn/nodes.tmp" "$tn/nodes"

rc=0
wait "$soak_pid" || rc=$?
soak_pid=
[ "$rc" = 0 ] || fail "soak exited with $rc"
grep -q '"ok":true' "$work/soak.out" || fail "soak did not report ok"
[ "$(field committed)" = 600 ] || fail "committed $(field committed) of 600"
[ "$(field never_committed)" = 0 ] || fail "$(field never_committed) never committed"
[ "$(wc -l < "$work/acked")" = 600 ] || fail "acked file has $(wc -l < "$work/acked") lines"
# The soak noticed the dead validator (node1 is the second entry of "nodes").
left_out=$(grep -o '"left_out":[0-9]*' "$work/soak.out" | sed -n 2p | cut -d: -f2)
[ "${left_out:-0}" -ge 1 ] || fail "the soak never left the killed node out"

"$bin/clearload" acked --nodes "$nodes" --file "$work/acked" --wait-s 60 > "$work/acked.out" ||
  fail "acked: $(cat "$work/acked.out")"
grep -q '^acked: 600 transactions have the same receipt on all 4 nodes' "$work/acked.out" ||
  fail "acked said: $(cat "$work/acked.out")"

# An id no node has is named, with its line; a malformed line is refused.
bogus=$(printf '%064d' 7)
{ head -3 "$work/acked"; echo "$bogus"; tail -2 "$work/acked"; } > "$work/acked.bad"
rc=0
"$bin/clearload" acked --nodes "$nodes" --file "$work/acked.bad" --wait-s 0 > "$work/acked.out" || rc=$?
[ "$rc" = 1 ] || fail "acked with an unknown id exited $rc"
grep -q "FAILED: $bogus (line 4) on http://.*: no receipt" "$work/acked.out" ||
  fail "acked did not name the unknown id: $(cat "$work/acked.out")"
echo "not-a-hash" > "$work/acked.bad"
rc=0
"$bin/clearload" acked --nodes "$nodes" --file "$work/acked.bad" 2> "$work/acked.err" || rc=$?
[ "$rc" = 2 ] || fail "acked with a malformed file exited $rc"
grep -q 'acked.bad:1: not a transaction id' "$work/acked.err" || fail "$(cat "$work/acked.err")"

# No node answering: the soak gives up with status 1, and bad usage is status 2.
rc=0
"$bin/clearload" soak --nodes http://127.0.0.1:1 --key "$key" --txs 10 > /dev/null 2> "$work/soak.err" || rc=$?
[ "$rc" = 1 ] || fail "soak with no node exited $rc"
grep -q 'no node answered' "$work/soak.err" || fail "$(cat "$work/soak.err")"
rc=0
"$bin/clearload" soak --nodes "$nodes" --key "$key" --txs 10 --duration 5 2> /dev/null || rc=$?
[ "$rc" = 2 ] || fail "soak with --txs and --duration exited $rc"

echo "clearload soak: ok ($(field committed) committed across a validator kill, p99 $(grep -o '"p99":[0-9]*' "$work/soak.out" | cut -d: -f2) ms, $(field resubmitted) resent; acked on 4 nodes)"
