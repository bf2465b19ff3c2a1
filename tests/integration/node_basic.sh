#!/usr/bin/env bash
# A real one-validator node on loopback: init (and its refusals), start, register a client,
# deposit, transfer, queries, a table of bad requests with their status and code, raw block
# bytes, mdb_stat on the data directory, clean stop, restart resuming, offline verify.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-node-basic-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --out "$work/net" --chain-id basic-chain >/dev/null
keys=$work/net/keys
member=$("$bin/clearctl" keys show "$keys/member0.key")
c0=$("$bin/clearctl" keys show "$keys/client0.key")
c1=$("$bin/clearctl" keys show "$keys/client1.key")
home=$work/home

# init refuses an invalid genesis with the field named, and a second init.
sed 's/"decimals": 6/"decimals": 60/' "$work/net/genesis.json" > "$work/bad.json"
if "$bin/clearnode" init --home "$work/badhome" --genesis "$work/bad.json" --dev-key 2>"$work/err"; then
  fail "init accepted an invalid genesis"
fi
grep -q 'assets\[0\].decimals: 60 is outside 0..18' "$work/err" || fail "init error: $(cat "$work/err")"
[ ! -e "$work/badhome/genesis.json" ] || fail "init wrote files for an invalid genesis"
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$keys/member0.key" >/dev/null
if "$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --dev-key 2>/dev/null; then
  fail "second init succeeded"
fi
[ "$("$bin/clearnode" keys show --home "$home")" = "$member" ] || fail "keys show"
help=$("$bin/clearnode" start --help); grep -q -- '--block-interval-ms' <<<"$help" || fail "start --help"

start_node "$home" --block-interval-ms 50
status=$(curl -sf "$node_url/v1/status")
echo "$status" | grep -q '"chain_id":"basic-chain"' || fail "status: $status"

sign() { "$bin/clearload" sign --chain-id basic-chain "$@"; }
sign --key "$keys/member0.key" --nonce 1 register-client "$c0" alice > "$work/t1"
sign --key "$keys/member0.key" --nonce 2 register-client "$c1" bob > "$work/t2"
sign --key "$keys/member0.key" --nonce 3 deposit "$c0" USD 5000000 wire-0001 > "$work/t3"
for t in t1 t2 t3; do
  r=$(post_tx "$work/$t")
  [[ $r == 20[02]* ]] || fail "submit $t: $r"
done
h3=$(echo "$r" | json_field hash)
wait_receipt "$h3" | grep -q '"code":0' || fail "deposit receipt: $(cat "$work/receipt")"
sign --key "$keys/client0.key" --nonce 1 transfer "$c1" USD 1250000 > "$work/t4"
r=$(post_tx "$work/t4"); [[ $r == 20[02]* ]] || fail "transfer: $r"
h4=$(echo "$r" | json_field hash)
rc=$(wait_receipt "$h4")
echo "$rc" | grep -q '"code":0' || fail "transfer receipt: $rc"
echo "$rc" | grep -q '"type":"ledger.transfer"' || fail "transfer event: $rc"
acct=$(curl -sf "$node_url/v1/accounts/$c0")
echo "$acct" | grep -q '"USD":"3750000"' || fail "client0 balance: $acct"
echo "$acct" | grep -q '"nonce":1' || fail "client0 nonce: $acct"
curl -sf "$node_url/v1/accounts/$c1" | grep -q '"USD":"1250000"' || fail "client1 balance"
curl -sf "$node_url/v1/accounts/$member" | grep -q '"validator"' || fail "member roles"

# Bad requests: status and code for each.
expect() { # name status code file [content-type]
  local got
  got=$(curl -s -o "$work/resp" -w '%{http_code}' -H "Content-Type: ${5:-application/x-protobuf}" \
        --data-binary @"$4" "$node_url/v1/tx")
  [ "$got" = "$2" ] || fail "$1: HTTP $got, want $2: $(cat "$work/resp")"
  grep -q "\"code\":\"$3\"" "$work/resp" || fail "$1: body $(cat "$work/resp"), want code $3"
}
head -c 20 "$work/t4" > "$work/trunc"
expect "truncated protobuf" 400 malformed "$work/trunc"
"$bin/clearload" sign --chain-id other-chain --key "$keys/client0.key" --nonce 2 transfer "$c1" USD 1 > "$work/wrongchain"
expect "wrong chain id" 400 wrong_chain "$work/wrongchain"
sign --key "$keys/client0.key" --nonce 1 transfer "$c1" USD 7 > "$work/replay"
expect "replayed nonce" 409 bad_nonce "$work/replay"
expect "same bytes again" 409 duplicate "$work/t4"
sign --key "$keys/client0.key" --nonce 2 transfer "$c1" USD 7 > "$work/badsig"
python3 - "$work/badsig" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[-1] ^= 1; open(p, 'wb').write(b)
PY
expect "wrong signature" 401 bad_signature "$work/badsig"
"$bin/clearctl" keys new --dev --out "$work/stranger.key" >/dev/null 2>&1
sign --key "$work/stranger.key" --nonce 1 transfer "$c1" USD 7 > "$work/stranger"
expect "unknown signer" 403 unknown_signer "$work/stranger"
sign --key "$keys/client0.key" --nonce 2 deposit "$c0" USD 7 ref > "$work/notperm"
expect "role not permitted" 403 not_permitted "$work/notperm"
head -c 300000 /dev/zero > "$work/big"
got=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$work/big" -H 'Content-Type: application/x-protobuf' "$node_url/v1/tx")
[ "$got" = 413 ] || fail "oversized body: HTTP $got"
printf '{"tx": ' > "$work/badjson"
got=$(curl -s -o "$work/resp" -w '%{http_code}' --data-binary @"$work/badjson" -H 'Content-Type: application/json' "$node_url/v1/tx")
[ "$got" = 400 ] || fail "invalid JSON: HTTP $got"
# The JSON form of a valid tx is accepted.
b64=$("$bin/clearload" sign --chain-id basic-chain --key "$keys/client0.key" --nonce 2 --b64 transfer "$c1" USD 1)
got=$(curl -s -o "$work/resp" -w '%{http_code}' -H 'Content-Type: application/json' -d "{\"tx\":\"$b64\"}" "$node_url/v1/tx")
[[ $got == 20[02] ]] || fail "JSON submit: HTTP $got $(cat "$work/resp")"
wait_receipt "$(json_field hash < "$work/resp")" >/dev/null
curl -s "$node_url/v1/status" | grep -q '"height"' || fail "node died after bad input"

# Blocks: JSON and raw bytes; mdb_stat on the data directory.
curl -sf "$node_url/v1/blocks/1" | grep -q '"proposer":"'"$member"'"' || fail "block 1"
curl -sf -o "$work/b1.pb" "$node_url/v1/blocks/1?format=proto" || fail "raw block"
[ -s "$work/b1.pb" ] || fail "raw block empty"
mdb_stat -a "$home/data" | grep -q "Status of state" || fail "mdb_stat"

# Clean stop, restart resumes, receipts survive; offline verify with replay.
h=$(height)
stop_node
grep -q "stopped at height $h" "$node_log" || fail "no clean stop line"
"$bin/clearnode" verify --home "$home" --replay >/dev/null || fail "verify"
start_node "$home" --block-interval-ms 50
[ "$(height)" -ge "$h" ] || fail "restart lost height"
curl -sf "$node_url/v1/tx/$h4" | grep -q '"code":0' || fail "receipt lost on restart"
sign --key "$keys/client0.key" --nonce 3 transfer "$c1" USD 1 > "$work/t5"
r=$(post_tx "$work/t5"); [[ $r == 20[02]* ]] || fail "after restart: $r"
wait_receipt "$(echo "$r" | json_field hash)" | grep -q '"code":0' || fail "post-restart receipt"
curl -sf "$node_url/metrics" | grep -q '^clearnode_height ' || fail "metrics"
stop_node
"$bin/clearnode" verify --home "$home" > "$work/verify" || fail "verify after restart"
echo "node basic: ok ($(cat "$work/verify"))"
