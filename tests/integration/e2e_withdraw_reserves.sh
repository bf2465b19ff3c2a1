#!/usr/bin/env bash
# End to end on a real node: a client's collateral from deposit to burn, and the proof of
# reserves that follows it (docs/custody.md, docs/margin.md, docs/reserves.md).
#   deposit (custodian) -> margin cash (contract deposit) -> open and close a position ->
#   withdraw_request (the part the ledger balance lacks comes out of margin cash through
#   withdraw_ok) -> two of three approvers sign -> the cooldown passes -> the tokens burn ->
#   the next epoch's reserves count the client's claim without them, its margin cash
#   included -> the client fetches its proof with a signed request and `clearaudit
#   verify-proof` checks it against the certified header fetched from the node.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-e2e-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT
ctl=$bin/clearctl

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --approvers 2 --tier0 2:2000 --clients 1 \
  --out "$work/net" --chain-id e2e-chain >/dev/null
"$bin/clearasm" build "$here/contracts/margin.cas" -o "$work/net/contracts/margin.bin" >/dev/null
jq '.contracts += [{"name": "margin", "path": "contracts/margin.bin"}]
    | .params.reserves.epoch_blocks = 5' "$work/net/genesis.json" > "$work/g.json"
mv "$work/g.json" "$work/net/genesis.json"
keys=$work/net/keys
m0=$keys/member0.key
c0=$("$ctl" keys show "$keys/client0.key")
home=$work/home
printf 'b2%.0s' $(seq 1 32) > "$work/reserves.secret"
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$m0" \
  --reserves-secret "$work/reserves.secret" >/dev/null
start_node "$home" --block-interval-ms 50 --block-empty-interval-ms 100
export CLEARNODE_NODE=$node_url
ok() { echo "$1" | grep -q '"code":0' || fail "$2: $1"; }
usd() { curl -sf "$node_url/v1/accounts/$c0" | sed -n 's/.*"USD":"\([0-9]*\)".*/\1/p'; }

"$ctl" tx register-client --pubkey "$c0" --label c0 --key "$m0" --wait >/dev/null || fail register
"$ctl" tx deposit --account "$c0" --asset USD --amount 10000000000 --ref wire-1 --key "$m0" \
  --wait >/dev/null || fail "deposit USD"
"$ctl" tx deposit --account "$c0" --asset AAPL --amount 700000 --ref wire-2 --key "$m0" \
  --wait >/dev/null || fail "deposit AAPL"
"$ctl" tx oracle-report --asset AAPL --price 100000000 --round 1 --key "$m0" --wait >/dev/null ||
  fail "price"

# trade: 5000 USD into margin cash, buy 10 AAPL at 100 USD and sell them (fee 1 USD each way)
ok "$("$ctl" tx call --contract margin --entry deposit --args 5000000000 --allow-asset USD \
  --allow-amount 5000000000 --key "$keys/client0.key" --wait --json 2>&1)" "margin deposit"
r=$("$ctl" tx open --asset AAPL --side long --quantity 100000 --key "$keys/client0.key" --wait --json 2>&1)
ok "$r" open; echo "$r" | grep -q '"type":"margin.open"' || fail "open event: $r"
r=$("$ctl" tx close --asset AAPL --side long --key "$keys/client0.key" --wait --json 2>&1)
ok "$r" close; echo "$r" | grep -q '"type":"margin.close"' || fail "close event: $r"
[ "$(usd)" = 5000000000 ] || fail "ledger USD after the margin deposit: $(usd)"

# withdraw 6000 USD: 5000 from the ledger balance, 1000 drawn from margin cash
"$ctl" tx propose --param custody.allowlist_delay_ms --value 0 --expiry +3600 --key "$m0" \
  --wait >/dev/null || fail "propose"
"$ctl" tx allowlist --destination bank:E2E-1 --key "$keys/client0.key" --wait >/dev/null ||
  fail allowlist
ok "$("$ctl" tx withdraw --asset USD --amount 6000000000 --destination bank:E2E-1 --expiry +600 \
  --key "$keys/client0.key" --wait --json 2>&1)" "withdraw"
id=1
curl -sf "$node_url/v1/withdrawals/$id" | grep -q '"status":"pending"' || fail "pending"
[ "$(usd)" = "" ] || [ "$(usd)" = 0 ] || fail "available USD after the lock: $(usd)"
r=$("$ctl" tx call --contract margin --entry cash --args "$(printf '%d,%d,%d,%d' \
  "$((16#${c0:0:16}))" "$((16#${c0:16:16}))" "$((16#${c0:32:16}))" "$((16#${c0:48:16}))")" \
  --key "$m0" --wait --json 2>&1)
mcash=3998000000
echo "$r" | grep -q "\"message\":\"ok: returned $mcash\"" || fail "margin cash 5000 - 1000 - fees: $r"

# an epoch while the withdrawal is pending: the locked 6000 USD is still the client's claim,
# and so is its margin cash (docs/reserves.md, "On chain")
h=$(height); e1=$(( h / 5 + 1 ))
wait_height $(( e1 * 5 + 1 ))
curl -sf "$node_url/v1/reserves/$e1" | grep -q "\"USD\":\"$(( 6000000000 + mcash ))\"" ||
  fail "pending epoch: $(curl -s "$node_url/v1/reserves/$e1")"

# two of the three approvers sign; the third does not
"$ctl" tx approve --request "$id" --key "$m0" --wait >/dev/null || fail "approve member0"
"$ctl" tx approve --request "$id" --key "$keys/approver1.key" --wait >/dev/null || fail "approve 2"
for _ in $(seq 1 100); do
  curl -sf "$node_url/v1/withdrawals/$id" | grep -q '"status":"executed"' && break
  sleep 0.1
done
curl -sf "$node_url/v1/withdrawals/$id" | grep -q '"status":"executed"' || fail "not executed"
hb=$(height)

# the next epoch after the burn: the burnt USD is gone, the margin cash remains; 70 AAPL
e2=$(( hb / 5 + 1 ))
wait_height $(( e2 * 5 + 2 ))
curl -sf "$node_url/v1/reserves/$e2" > "$work/ep.json" || fail "epoch $e2"
grep -q "\"USD\":\"$mcash\"" "$work/ep.json" ||
  fail "USD liabilities = the margin cash: $(cat "$work/ep.json")"
grep -q '"AAPL":"700000"' "$work/ep.json" || fail "AAPL claim: $(cat "$work/ep.json")"
hh=$(sed -n 's/.*"header_height":\([0-9]*\).*/\1/p' "$work/ep.json")

# the client's proof against the certified header carrying the root
"$ctl" query reserves-proof "$e2" --key "$keys/client0.key" --out "$work/proof.json" >/dev/null ||
  fail "proof"
"$ctl" query reserves-proof "$e2" --key "$keys/client0.key" --proto --out "$work/proof.pb" \
  >/dev/null || fail "proof proto"
secret=$(sed -n 's/.*"secret": "\([0-9a-f]*\)".*/\1/p' "$work/proof.json")
wait_height $(( hh + 1 ))
curl -sf -o "$work/block.pb" "$node_url/v1/blocks/$hh?format=proto" || fail "block $hh"
curl -sf -o "$work/next.pb" "$node_url/v1/blocks/$(( hh + 1 ))?format=proto" || fail "next block"
"$bin/clearaudit" verify-proof "$work/proof.json" --header "$work/block.pb" \
  --next-block "$work/next.pb" --validators "$work/net/genesis.json" --account "$c0" \
  --secret "$secret" > "$work/v" || fail "verify-proof: $(cat "$work/v")"
grep -q VERIFIED "$work/v" || fail "not verified: $(cat "$work/v")"
# the verified leaf carries the client's margin cash as its USD claim
grep -Eq "^  ok  USD +balance $mcash, total liabilities $mcash\$" "$work/v" ||
  fail "leaf USD is not the margin cash: $(cat "$work/v")"
[ "$(jq -r '.balances[.assets | index("USD")]' "$work/proof.json")" = "$mcash" ] ||
  fail "proof balances: $(cat "$work/proof.json")"
"$bin/clearaudit" verify-proof "$work/proof.pb" --header "$work/block.pb" \
  --next-block "$work/next.pb" --validators "$work/net/genesis.json" > "$work/v2" ||
  fail "verify-proof pb: $(cat "$work/v2")"
stop_node
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" || fail "replay: $(cat "$work/verify")"
echo "e2e withdraw and reserves: ok (burnt at height $hb, epoch $e2 proof verified)"
