#!/usr/bin/env bash
# POST /v1/txs on a real one-validator node: a batch of registrations, deposits and transfers
# (several per signer, out of nonce order within the batch) is admitted in order with one
# verdict per tx; bad entries (wrong signature, replayed nonce, duplicate) get their own codes
# without stopping the others; framing errors, an empty body and a wrong content type reject
# the whole request; everything accepted commits with code 0 and the balances add up.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-node-batch-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --out "$work/net" --chain-id batch-chain >/dev/null
keys=$work/net/keys
c0=$("$bin/clearctl" keys show "$keys/client0.key")
c1=$("$bin/clearctl" keys show "$keys/client1.key")
home=$work/home
"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$keys/member0.key" >/dev/null
start_node "$home" --block-interval-ms 50

sign() { "$bin/clearload" sign --chain-id batch-chain "$@"; }
# frame OUT FILE... : length-delimited (varint length + bytes) concatenation
frame() {
  python3 - "$@" <<'PY'
import sys
out = open(sys.argv[1], 'wb')
for p in sys.argv[2:]:
    b = open(p, 'rb').read(); n = len(b); v = bytearray()
    while n >= 0x80: v.append((n & 0x7f) | 0x80); n >>= 7
    v.append(n); out.write(bytes(v) + b)
PY
}
post_batch() { # file -> "status body"
  local st
  st=$(curl -s -o "$work/resp" -w '%{http_code}' -H "Content-Type: ${2:-application/x-protobuf}" \
       --data-binary @"$1" "$node_url/v1/txs")
  echo "$st $(cat "$work/resp")"
}

sign --key "$keys/member0.key" --nonce 1 register-client "$c0" alice > "$work/a1"
sign --key "$keys/member0.key" --nonce 2 register-client "$c1" bob > "$work/a2"
sign --key "$keys/member0.key" --nonce 3 deposit "$c0" USD 1000 ref-1 > "$work/a3"
frame "$work/b1" "$work/a1" "$work/a2" "$work/a3"
r=$(post_batch "$work/b1")
[[ $r == 200* ]] || fail "batch 1: $r"
echo "$r" | grep -q '"accepted":3' || fail "batch 1 accepted: $r"
h3=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])["results"][2]["hash"])' "$r")
wait_receipt "$h3" | grep -q '"code":0' || fail "deposit receipt"

# Transfers 2 and 1 of client0 (out of order), a bad signature, a replay of the register,
# and the same transfer twice.
sign --key "$keys/client0.key" --nonce 1 transfer "$c1" USD 100 > "$work/t1"
sign --key "$keys/client0.key" --nonce 2 transfer "$c1" USD 50 > "$work/t2"
sign --key "$keys/client0.key" --nonce 3 transfer "$c1" USD 7 > "$work/bad"
python3 - "$work/bad" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[-1] ^= 1; open(p, 'wb').write(b)
PY
frame "$work/b2" "$work/t2" "$work/t1" "$work/bad" "$work/a1" "$work/t1"
r=$(post_batch "$work/b2")
[[ $r == 200* ]] || fail "batch 2: $r"
codes=$(python3 -c 'import json,sys; print(" ".join(x["code"] for x in json.loads(sys.argv[1].split(" ",1)[1])["results"]))' "$r")
[ "$codes" = "ok ok bad_signature duplicate duplicate" ] || fail "batch 2 codes: $codes ($r)"
echo "$r" | grep -q '"accepted":2' || fail "batch 2 accepted: $r"
echo "$r" | grep -q '"rejected":3' || fail "batch 2 rejected: $r"
h2=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])["results"][0]["hash"])' "$r")
wait_receipt "$h2" | grep -q '"code":0' || fail "transfer 2 receipt"
curl -sf "$node_url/v1/accounts/$c0" | grep -q '"USD":"850"' || fail "client0 balance"
curl -sf "$node_url/v1/accounts/$c1" | grep -q '"USD":"150"' || fail "client1 balance"

# Whole-request errors.
expect_batch() { # name file status code [content-type]
  local r
  r=$(post_batch "$2" "${5:-application/x-protobuf}")
  [[ $r == "$3 "* ]] || fail "$1: $r"
  echo "$r" | grep -q "\"code\":\"$4\"" || fail "$1: $r"
}
: > "$work/empty"
expect_batch "empty body" "$work/empty" 400 invalid_batch
head -c 40 "$work/b2" > "$work/trunc"
expect_batch "truncated frame" "$work/trunc" 400 invalid_batch
printf '\x00' > "$work/zero"
expect_batch "zero length" "$work/zero" 400 invalid_batch
printf '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01' > "$work/longvar"
expect_batch "overlong varint" "$work/longvar" 400 invalid_batch
expect_batch "JSON body" "$work/b2" 415 unsupported_media_type application/json
curl -s -o "$work/resp" -w '%{http_code}' "$node_url/v1/txs" | grep -q 405 || fail "GET /v1/txs"
# A malformed entry inside a good frame only fails that entry.
head -c 20 "$work/t1" > "$work/cut"
frame "$work/b3" "$work/cut"
r=$(post_batch "$work/b3")
echo "$r" | grep -q '"code":"malformed"' || fail "malformed entry: $r"
curl -sf "$node_url/v1/status" >/dev/null || fail "node died"
stop_node
echo "node_batch: ok"
