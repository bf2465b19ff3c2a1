#!/usr/bin/env bash
# Mango Markets, 2022, with trading and withdrawals wired (docs/oracle.md, docs/margin.md):
# a client holds 100 AAPL bought at 100 USD; every oracle source then reports twice the price.
# The band breaker halts AAPL and keeps 100 USD as its price, so the pumped "gains" can be
# neither withdrawn nor borrowed against while the halt lasts:
#   - margin cash cannot leave (the contract's withdraw, and a custody withdraw_request that
#     must draw on margin cash, are refused: a position is in a halted asset);
#   - a new position elsewhere is judged on equity at the unpumped price (refused: margin);
#   - the halted position cannot be increased or closed at any price.
# Conservation holds to the micro-USD.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
source "$(dirname "$0")/lib/margin_lib.sh"
work=$(mktemp -d /tmp/cn-margin-mango-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

margin_chain 1 '{"initial_floor_bps": 5000, "maintenance_floor_bps": 2500}'
price AAPL 100000000; price MSFT 100000000
clients_setup 1 6000000000
r=$(trade 0 open --asset AAPL --side long --quantity 1000000)
echo "$r" | grep -q '"code":0' || fail "open: $r"
# custody: destinations need no waiting in this test
"$ctl" tx propose --param custody.allowlist_delay_ms --value 0 --expiry +3600 --key "$m0" \
  --wait > "$work/out" || fail "propose: $(cat "$work/out")"
m0_nonce=$((m0_nonce + 1))
"$ctl" tx allowlist --destination bank:MANGO --key "$keys/client0.key" --wait >/dev/null ||
  fail "allowlist"

# before the pump: 900 USD can leave (equity 6000 less the 10 USD fee, initial 5000)
r=$("$ctl" tx withdraw --asset USD --amount 900000000 --destination bank:MANGO --expiry +600 \
  --key "$keys/client0.key" --wait --json 2>&1 || true)
echo "$r" | grep -q '"code":0' || fail "withdrawal above initial margin refused: $r"
margin_out=$((margin_out + 900000000))

price AAPL 200000000   # all sources x2 (quorum 1: the one source is every source)
curl -sf "$node_url/v1/oracle/AAPL" | grep -q '"state":"halted"' || fail "x2 did not halt AAPL"
curl -sf "$node_url/v1/oracle/AAPL" | grep -q '"price":"100000000"' || fail "the pump was published"

r=$("$ctl" tx call --contract margin --entry withdraw --args 1 --key "$keys/client0.key" --wait --json 2>&1 || true)
echo "$r" | grep -q 'reverted with code 22' || fail "margin cash left during the halt: $r"
r=$("$ctl" tx withdraw --asset USD --amount 1 --destination bank:MANGO --expiry +600 \
  --key "$keys/client0.key" --wait --json 2>&1 || true)
echo "$r" | grep -q '"code_name":"margin"' && echo "$r" | grep -q 'AAPL, halted' ||
  fail "withdraw_request against the halted position: $r"
# borrowing against the pump: 10 000 USD of MSFT needs 5000 USD of initial margin on top of
# AAPL's 5000; equity at the frozen 100 USD is 5000 (at the pumped 200 it would be 15 000)
r=$(trade 0 open --asset MSFT --side long --quantity 1000000)
echo "$r" | grep -q '"code_name":"margin"' || fail "borrowed against the pumped price: $r"
r=$(trade 0 open --asset AAPL --side long --quantity 10000)
echo "$r" | grep -q '"code_name":"halted"' || fail "increased a halted position: $r"
r=$(trade 0 close --asset AAPL --side long)
echo "$r" | grep -q '"code_name":"halted"' || fail "closed at a halted price: $r"
view position "$(words "${pub[0]}"),1,0"
[ "$V" = 100000000 ] || fail "position changed during the halt: $V"
check_conservation 1
stop_node
echo "margin Mango halt: ok"
