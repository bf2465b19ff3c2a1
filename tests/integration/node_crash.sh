#!/usr/bin/env bash
# Crash test: under load, SIGKILL the node at random moments 20 times. After each kill the
# offline verifier checks the stored chain (block links, commit certificates, receipts for
# every tx, app hash chain, supply = sum of balances per asset); after each restart every tx
# that had a committed receipt before the kill still has it at the same height. At the end the
# whole chain is replayed from genesis and must give identical app hashes and state.
# CLEARNODE_CRASH_ROUNDS overrides the number of kills (default 20).
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-node-crash-XXXXXX)
node_pid= load_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; [ -n "$load_pid" ] && kill -9 "$load_pid" 2>/dev/null; rm -rf "$work"' EXIT
rounds=${CLEARNODE_CRASH_ROUNDS:-20}

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --out "$work/net" --chain-id crash-chain >/dev/null
home=$work/home
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$work/net/keys/member0.key" >/dev/null
flags=(--block-interval-ms 50 --mempool-nonce-window 100000 --log-level warn)
: > "$work/committed"
for round in $(seq 1 "$rounds"); do
  start_node "$home" "${flags[@]}"
  # Every receipt seen before earlier kills is still there, at the same height (one curl for
  # all of them: a missing receipt leaves its line out and the comparison names it).
  if [ -s "$work/committed" ]; then
    awk -v u="$node_url" '{print "url = \"" u "/v1/tx/" $1 "\""}' "$work/committed" > "$work/urls"
    curl -s -K "$work/urls" | jq -r '"\(.hash) \(.height)"' | sort > "$work/seen"
    sort "$work/committed" | diff - "$work/seen" > "$work/lost" ||
      fail "round $round: receipts lost or moved (< before the kill, > now): $(cat "$work/lost")"
  fi
  before=$(height)
  "$bin/clearload" run --node "$node_url" --key "$work/net/keys/member0.key" \
    --clients 20 --txs 4000 --threads 2 >/dev/null 2>&1 &
  load_pid=$!
  sleep "0.$(( 3 + RANDOM % 12 ))"
  # Record the receipts of the last committed block, then kill at once.
  h=$(height)
  if [ "$h" -gt 0 ]; then
    curl -sf "$node_url/v1/blocks/$h" | grep -o '"txs":\[[^]]*\]' | grep -o '[0-9a-f]\{64\}' | head -20 |
      while read -r tx; do
        curl -sf "$node_url/v1/tx/$tx" >/dev/null && echo "$tx $h"
      done >> "$work/committed" || true
  fi
  kill_node
  kill -9 "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; load_pid=
  "$bin/clearnode" verify --home "$home" > "$work/verify" 2>&1 || fail "round $round: $(cat "$work/verify")"
  after=$(sed -n 's/.*height \([0-9]*\),.*/\1/p' "$work/verify")
  [ "$after" -ge "$h" ] || fail "round $round: height $h seen, $after after the kill"
done
[ "$after" -gt 0 ] || fail "no block was ever committed"
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" 2>&1 || fail "replay: $(cat "$work/verify")"
echo "node crash: ok, $rounds kills, $(wc -l < "$work/committed") receipts tracked ($(cat "$work/verify"))"
