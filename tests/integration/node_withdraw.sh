#!/usr/bin/env bash
# Multisig withdrawal on a real node (docs/custody.md): a genesis with three approvers
# (member0 + two approver-only members) and a first tier of 2 approvals and a 2 s cooldown.
# A client deposits, allow-lists a destination (after governance sets the allow-list delay
# to 0), requests a withdrawal, two of the three approvers sign with `clearctl tx approve`,
# the cooldown passes, the tokens burn; queries, a refused duplicate approval, and an
# offline `clearnode verify` (supply = balances + locked) at the end.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-node-withdraw-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --approvers 2 --tier0 2:2000 \
  --out "$work/net" --chain-id wd-chain >/dev/null
keys=$work/net/keys
ctl=$bin/clearctl
c0=$("$ctl" keys show "$keys/client0.key")
home=$work/home
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$keys/member0.key" >/dev/null
start_node "$home" --block-interval-ms 50 --block-empty-interval-ms 200
export CLEARNODE_NODE=$node_url

"$ctl" tx register-client --pubkey "$c0" --label c0 --key "$keys/member0.key" --wait >/dev/null \
  || fail "register"
"$ctl" tx deposit --account "$c0" --asset USD --amount 5000000 --ref wire-1 \
  --key "$keys/member0.key" --wait >/dev/null || fail "deposit"
# one governor (threshold 1): the proposal executes at once
"$ctl" tx propose --param custody.allowlist_delay_ms --value 0 --expiry +3600 \
  --key "$keys/member0.key" --wait > "$work/out" || fail "propose: $(cat "$work/out")"
grep -q 'governance.executed' "$work/out" || fail "proposal not executed: $(cat "$work/out")"
curl -sf "$node_url/v1/governance/proposals/1" | grep -q '"status":"executed"' || fail "proposal query"
"$ctl" tx allowlist --destination bank:CH93-0000 --key "$keys/client0.key" --wait >/dev/null \
  || fail "allowlist"
# not allow-listed: refused with its code
if "$ctl" tx withdraw --asset USD --amount 1 --destination bank:OTHER --expiry +600 \
  --key "$keys/client0.key" --wait > "$work/out" 2>&1; then fail "withdraw to an unlisted destination"; fi
grep -q 'not_allowlisted' "$work/out" || fail "unlisted: $(cat "$work/out")"
"$ctl" tx withdraw --asset USD --amount 2000000 --destination bank:CH93-0000 --expiry +600 \
  --key "$keys/client0.key" --wait >/dev/null || fail "withdraw"
w=$(curl -sf "$node_url/v1/withdrawals/1")
echo "$w" | grep -q '"status":"pending"' || fail "withdrawal 1 pending: $w"
curl -sf "$node_url/v1/accounts/$c0" | grep -q '"USD":"3000000"' || fail "balance after lock"
"$ctl" tx approve --request 1 --key "$keys/member0.key" --wait >/dev/null || fail "approve 1"
if "$ctl" tx approve --request 1 --key "$keys/member0.key" --wait > "$work/out" 2>&1; then
  fail "duplicate approval accepted"
fi
grep -q 'duplicate_approval' "$work/out" || fail "duplicate: $(cat "$work/out")"
"$ctl" tx approve --request 1 --key "$keys/approver0.key" --wait >/dev/null || fail "approve 2"
"$ctl" query withdrawal 1 --json | grep -q '"approvals_counted":2' || fail "two approvals counted"
# cooldown 2 s from the second approval, then the burn at the end of a block
for _ in $(seq 1 100); do
  curl -sf "$node_url/v1/withdrawals/1" | grep -q '"status":"executed"' && break
  sleep 0.1
done
curl -sf "$node_url/v1/withdrawals/1" | grep -q "\"status\":\"executed\"" || fail "not executed: $(curl -s "$node_url/v1/withdrawals/1") at $(curl -s "$node_url/v1/status")"
curl -sf "$node_url/v1/accounts/$c0/withdrawals" | grep -q '"id":1' || fail "account list"
curl -sf "$node_url/v1/accounts/$c0" | grep -q '"USD":"3000000"' || fail "balance after burn"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$node_url/v1/withdrawals/99")" = 404 ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$node_url/v1/withdrawals/x")" = 400 ] || fail "400"
stop_node
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" || fail "verify: $(cat "$work/verify")"
echo "node withdraw: ok ($(cat "$work/verify"))"
