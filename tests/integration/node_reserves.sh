#!/usr/bin/env bash
# Proof of reserves on a real node (docs/reserves.md "On chain"): 5-block epochs, two clients
# deposit, the next epoch is published, the custodian attests (USD over-covered, AAPL short by
# one: insolvent, never netted), GET /v1/reserves/{epoch}, a client fetches its proof with a
# signed request, and `clearaudit verify-proof` checks it against the certified header that
# carries the root; a tampered proof fails; unsigned and other-account requests are refused.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-node-reserves-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --out "$work/net" --chain-id res-chain >/dev/null
sed -i 's/"reserves": {"epoch_blocks": 1000}/"reserves": {"epoch_blocks": 5}/' "$work/net/genesis.json"
grep -q '"epoch_blocks": 5' "$work/net/genesis.json" || fail "could not set epoch_blocks"
# an auditor member (no validator power) for the leaf export
aud=$("$bin/clearctl" keys new --dev --out "$work/auditor.key" 2>/dev/null | tail -1)
python3 - "$work/net/genesis.json" "$aud" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["members"].append({"name": "auditor0", "pubkey": sys.argv[2], "roles": ["auditor"]})
json.dump(g, open(sys.argv[1], "w"), indent=1)
PY
keys=$work/net/keys
ctl=$bin/clearctl
c0=$("$ctl" keys show "$keys/client0.key")
c1=$("$ctl" keys show "$keys/client1.key")
home=$work/home
# the consortium reserves key (docs/reserves.md): the same file for every member
printf 'a1%.0s' $(seq 1 32) > "$work/reserves.secret"
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$keys/member0.key" \
  --reserves-secret "$work/reserves.secret" >/dev/null
[ "$(stat -c %a "$home/reserves.secret")" = 600 ] || fail "reserves.secret mode"
start_node "$home" --block-interval-ms 50 --block-empty-interval-ms 100
export CLEARNODE_NODE=$node_url

for c in "$c0" "$c1"; do
  "$ctl" tx register-client --pubkey "$c" --label c --key "$keys/member0.key" --wait >/dev/null \
    || fail "register"
done
"$ctl" tx deposit --account "$c0" --asset USD --amount 5000000 --ref w-1 \
  --key "$keys/member0.key" --wait >/dev/null || fail "deposit 1"
"$ctl" tx deposit --account "$c0" --asset AAPL --amount 70 --ref w-2 \
  --key "$keys/member0.key" --wait >/dev/null || fail "deposit 2"
"$ctl" tx deposit --account "$c1" --asset USD --amount 2500000 --ref w-3 \
  --key "$keys/member0.key" --wait >/dev/null || fail "deposit 3"

# wait for the first epoch after the deposits to be published
h=$(height)
epoch=$(( h / 5 + 1 ))
wait_height $(( epoch * 5 + 2 ))
curl -sf "$node_url/v1/reserves/$epoch" > "$work/ep.json" || fail "GET /v1/reserves/$epoch"
grep -q '"USD":"7500000"' "$work/ep.json" || fail "USD total: $(cat "$work/ep.json")"
grep -q '"AAPL":"70"' "$work/ep.json" || fail "AAPL total: $(cat "$work/ep.json")"
grep -q '"leaf_count":2' "$work/ep.json" || fail "leaf count: $(cat "$work/ep.json")"
hh=$(sed -n 's/.*"header_height":\([0-9]*\).*/\1/p' "$work/ep.json")
[ "$hh" = $(( epoch * 5 + 1 )) ] || fail "header_height $hh"
"$ctl" query reserves "$epoch" --json | grep -q '"root"' || fail "clearctl query reserves"

# the custodian attests: USD covered many times over, AAPL short by 1 -> insolvent (per asset)
out=$("$ctl" tx reserve-attest --epoch "$epoch" --holding USD=900000000 --holding AAPL=69 \
  --key "$keys/member0.key") || fail "attest: $out"
hash=${out#accepted }
wait_receipt "$hash" > "$work/rcpt"
grep -q 'reserves.insolvent' "$work/rcpt" || fail "insolvent event: $(cat "$work/rcpt")"
grep -q '"shortfall"' "$work/rcpt" || fail "shortfall: $(cat "$work/rcpt")"
curl -sf "$node_url/v1/reserves/$epoch" > "$work/ep2.json"
grep -q '"solvent":{[^}]*"AAPL":false' "$work/ep2.json" || fail "AAPL insolvent: $(cat "$work/ep2.json")"
grep -q '"USD":true' "$work/ep2.json" || fail "USD solvent: $(cat "$work/ep2.json")"
# a non-custodian is refused
if "$ctl" tx reserve-attest --epoch "$epoch" --holding USD=1 --key "$keys/client0.key" > "$work/out" 2>&1; then
  fail "client attested"
fi
grep -q 'not_permitted' "$work/out" || fail "non-custodian: $(cat "$work/out")"

# proofs need a signed request
code=$(curl -s -o /dev/null -w '%{http_code}' "$node_url/v1/reserves/$epoch/proof/$c0")
[ "$code" = 403 ] || fail "unsigned proof request answered $code"
if "$ctl" query reserves-proof "$epoch" --key "$keys/client1.key" --account "$c0" \
  --out "$work/x.json" > "$work/out" 2>&1; then fail "another client's proof served"; fi
grep -q 'unauthorized' "$work/out" || fail "other client: $(cat "$work/out")"
"$ctl" query reserves-proof "$epoch" --key "$keys/client0.key" --out "$work/proof.json" >/dev/null \
  || fail "proof json"
"$ctl" query reserves-proof "$epoch" --key "$keys/client0.key" --proto --out "$work/proof.pb" >/dev/null \
  || fail "proof proto"
secret=$(sed -n 's/.*"secret": "\([0-9a-f]*\)".*/\1/p' "$work/proof.json")
[ ${#secret} = 64 ] || fail "no secret in the JSON proof"
# the secret is H_tag("clearnode/por/salt-secret", key || pubkey), never the key itself
[ "$secret" != "$(cat "$work/reserves.secret")" ] || fail "secret leaks the consortium key"

# the leaf export: auditors only; clearaudit rebuilds the whole tree and checks solvency
if "$ctl" query reserves-leaves "$epoch" --key "$keys/client0.key" --out "$work/l.txt" > "$work/out" 2>&1; then
  fail "a client got the leaf export"
fi
"$ctl" query reserves-leaves "$epoch" --key "$work/auditor.key" --out "$work/leaves.txt" >/dev/null \
  || fail "leaves"
root=$(sed -n 's/.*"root":"\([0-9a-f]*\)".*/\1/p' "$work/ep.json")
"$bin/clearaudit" verify-tree "$work/leaves.txt" --root "$root" > "$work/vt" || fail "verify-tree: $(cat "$work/vt")"
printf '{"chain_id":"res-chain","epoch":%s,"attestations":[{"custodian":"member0","holdings":{"USD":900000000,"AAPL":69}}]}' \
  "$epoch" > "$work/att.json"
if "$bin/clearaudit" verify-tree "$work/leaves.txt" --root "$root" --attestations "$work/att.json" > "$work/vt2" 2>&1; then
  fail "verify-tree accepted AAPL short by one"
fi
grep -q insolvent "$work/vt2" || fail "verify-tree insolvency: $(cat "$work/vt2")"

# the certified header carrying the root: block hh, and block hh+1 for its commit
wait_height $(( hh + 1 ))
curl -sf -o "$work/block.pb" "$node_url/v1/blocks/$hh?format=proto" || fail "block $hh"
curl -sf -o "$work/next.pb" "$node_url/v1/blocks/$(( hh + 1 ))?format=proto" || fail "block $(( hh + 1 ))"
"$bin/clearaudit" verify-proof "$work/proof.pb" --header "$work/block.pb" --next-block "$work/next.pb" \
  --validators "$work/net/genesis.json" > "$work/v1" || fail "verify-proof pb: $(cat "$work/v1")"
"$bin/clearaudit" verify-proof "$work/proof.json" --header "$work/block.pb" --next-block "$work/next.pb" \
  --validators "$work/net/genesis.json" --account "$c0" --secret "$secret" > "$work/v2" \
  || fail "verify-proof json: $(cat "$work/v2")"
grep -q VERIFIED "$work/v2" || fail "not verified"
# tampered: the balance raised by one
python3 - "$work/proof.json" "$work/bad.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["balances"][0] = int(p["balances"][0]) + 1
json.dump(p, open(sys.argv[2], "w"))
PY
if "$bin/clearaudit" verify-proof "$work/bad.json" --header "$work/block.pb" --next-block "$work/next.pb" \
  --validators "$work/net/genesis.json" > "$work/v3" 2>&1; then fail "tampered proof verified"; fi

stop_node
# an offline replay rebuilds the same trees (same reserves.secret) and app hashes
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" || fail "verify: $(cat "$work/verify")"
echo "node reserves: ok (epoch $epoch, root in header $hh; $(cat "$work/verify"))"
