#!/usr/bin/env bash
# The oracle on a real one-validator node: clearctl tx oracle-report (accepted, out of bounds,
# stale round), the price published at the end of the block, GET /v1/oracle/{asset} through
# clearctl query oracle and curl (400, 404), and the oracle metrics. docs/oracle.md.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-oracle-node-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --out "$work/net" --chain-id oracle-chain >/dev/null
keys=$work/net/keys
home=$work/home
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$keys/member0.key" >/dev/null
start_node "$home" --block-interval-ms 50

report() { "$bin/clearctl" tx oracle-report --key "$keys/member0.key" --node "$node_url" --wait "$@"; }
report --asset AAPL --price 190000000 --round 1 > "$work/r1" || fail "report: $(cat "$work/r1")"
grep -q 'oracle.report' "$work/r1" || fail "report event: $(cat "$work/r1")"
# 100x the reference price is the upper bound; one more unit is invalid, never clamped.
if report --asset AAPL --price 19000000001 --round 2 > "$work/r2" 2>&1; then
  fail "out-of-bounds price accepted: $(cat "$work/r2")"
fi
grep -q 'outside the bounds \[1900000, 19000000000\] of AAPL' "$work/r2" || fail "bounds: $(cat "$work/r2")"
if report --asset AAPL --price 190000000 --round 1 > "$work/r3" 2>&1; then
  fail "repeated round accepted"
fi
grep -q 'is not above this source' "$work/r3" || fail "round: $(cat "$work/r3")"

"$bin/clearctl" query oracle AAPL --node "$node_url" --json > "$work/q"
grep -q '"price": *"190000000"' "$work/q" || fail "query oracle: $(cat "$work/q")"
grep -q '"state": *"live"' "$work/q" || fail "breaker state: $(cat "$work/q")"
code=$(curl -s -o "$work/e" -w '%{http_code}' "$node_url/v1/oracle/aapl")
[ "$code" = 400 ] && grep -q '"invalid_asset"' "$work/e" || fail "lower-case symbol: $code $(cat "$work/e")"
code=$(curl -s -o "$work/e" -w '%{http_code}' "$node_url/v1/oracle/NOPE")
[ "$code" = 404 ] || fail "unknown asset: $code"
curl -sf "$node_url/metrics" > "$work/m"
grep -q '^clearnode_oracle_flagged_reports_total 0' "$work/m" || fail "flag metric"
grep -q '^clearnode_oracle_asset_halted{asset="AAPL"} 0' "$work/m" || fail "AAPL gauge"
grep -q '^clearnode_oracle_asset_halted{asset="MSFT"} 1' "$work/m" || fail "MSFT gauge"
stop_node
echo "oracle node: ok"
