#!/usr/bin/env bash
# `make demo` end to end (testnet/demo.sh, about a minute): four validators, the clearing
# scenario with its own checks, the network stopped and every store verified offline. Here:
# the demo exits 0, its main milestones are in its output, and it leaves nothing behind (its
# temporary directory is removed, none of its validators still runs).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
out=$(mktemp /tmp/cn-demo-smoke-XXXXXX)
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*"; tail -40 "$out"; exit 1; }

rc=0
CLEARNODE_BIN=$bin timeout 300 bash "$here/testnet/demo.sh" > "$out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "testnet/demo.sh exited with $rc"
for m in \
  'every node: 3 peers connected, consensus of 4 validators' \
  'the same receipt (height [0-9]*, code ok) on node0, node1, node2 and node3' \
  'AAPL halted: ' \
  'market-wide level [1-3] halt' \
  'bad debt booked ' \
  '= the margin deposits = conserved()' \
  '^ *VERIFIED: account included in epoch [0-9]* reserves' \
  'still pending, approvals 1 of 2' \
  'burnt' \
  'stopped 4 processes' \
  'replay identical' \
  'all four nodes hold the same block ids and app hashes'; do
  grep -q -- "$m" "$out" || fail "not in the demo's output: $m"
done
work=$(sed -n 's/^   WORK=\([^ ]*\) .*/\1/p' "$out")
[ -n "$work" ] || fail "the demo did not name its directory"
[ ! -e "$work" ] || fail "$work was left behind"
if pgrep -f -- "$work/" >/dev/null; then fail "processes of $work still run: $(pgrep -af -- "$work/")"; fi
echo "demo smoke: ok ($(grep -c '^== ' "$out") steps, $(grep -c '✓' "$out") checks shown)"
