#!/usr/bin/env bash
# HTTP API and clearctl against a real one-validator node on a loopback port:
# register, deposit, transfer and queries with clearctl, then a table of malformed requests
# sent with curl, each with its expected status and error code (docs/api.md).
set -euo pipefail
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
if [ ! -x "$bin/clearnode" ]; then
  echo "skipped: clearnode not built"
  exit 0
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
ctl="$bin/clearctl"
dir=$(mktemp -d /tmp/cn-api-XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -f "$dir/node.log" ] && tail -20 "$dir/node.log"
  exit 1
}

# --- a chain of one member, started on a free port ---------------------------------------
CLEARNODE_BIN=$bin bash "$here/testnet/gen.sh" -n 1 --out "$dir/net" --chain-id api-test \
  --clients 2 >/dev/null
"$bin/clearnode" init --home "$dir/home" --genesis "$dir/net/genesis.json" \
  --key "$dir/net/keys/member0.key" >/dev/null
port=
for _ in $(seq 1 50); do
  p=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768+)
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port"
"$bin/clearnode" start --home "$dir/home" --api-listen "127.0.0.1:$port" \
  --block-interval-ms 50 >"$dir/node.log" 2>&1 &
pid=$!
node="http://127.0.0.1:$port"
export CLEARNODE_NODE=$node
for _ in $(seq 1 100); do
  "$ctl" query status >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "node exited at start"
  sleep 0.1
done
"$ctl" query status --json | grep -q '"chain_id":"api-test"' || fail "status"

member="$dir/net/keys/member0.key"
c0key="$dir/net/keys/client0.key"
c0=$("$ctl" keys show "$c0key")
c1=$("$ctl" keys show "$dir/net/keys/client1.key")

# --- the flow with clearctl ---------------------------------------------------------------
"$ctl" tx register-client --pubkey "$c0" --label c0 --key "$member" --wait >"$dir/out" \
  || fail "register c0: $(cat "$dir/out")"
grep -q '^committed ' "$dir/out" || fail "register output: $(cat "$dir/out")"
"$ctl" tx register-client --pubkey "$c1" --label c1 --key "$member" --wait >/dev/null \
  || fail "register c1"
"$ctl" tx deposit --account "$c0" --asset USD --amount 1000 --ref dep-1 --key "$member" \
  --wait >/dev/null || fail "deposit"
hash=$("$ctl" tx transfer --to "$c1" --asset USD --amount 250 --key "$c0key" --wait --json \
  | tail -1 | sed -n 's/.*"hash":"\([0-9a-f]\{64\}\)".*/\1/p')
[ -n "$hash" ] || fail "transfer gave no receipt hash"
"$ctl" query account "$c1" --json | grep -q '"USD":"250"' || fail "c1 balance: $("$ctl" query account "$c1" --json)"
"$ctl" query account "$c0" --json | grep -q '"USD":"750"' || fail "c0 balance"
"$ctl" query tx "$hash" >/dev/null || fail "query tx"
"$ctl" query block 1 >/dev/null || fail "query block"
"$ctl" query block 1 --proto "$dir/b1.pb" >/dev/null && [ -s "$dir/b1.pb" ] || fail "raw block"
# An execution failure is a committed receipt with a nonzero code: exit 1.
if "$ctl" tx transfer --to "$c1" --asset USD --amount 999999 --key "$c0key" --wait \
    >/dev/null 2>"$dir/err"; then fail "overdraft succeeded"; fi
grep -q insufficient_funds "$dir/err" || fail "overdraft error: $(cat "$dir/err")"
# Offline sign, then send.
n=$(( $("$ctl" query account "$c0" --json | sed -n 's/.*"nonce":\([0-9]*\).*/\1/p') + 1 ))
"$ctl" tx sign transfer --to "$c1" --asset USD --amount 1 --key "$c0key" --chain-id api-test \
  --nonce "$n" --out "$dir/t1.pb" >/dev/null || fail "sign"
"$ctl" tx send "$dir/t1.pb" --wait >/dev/null || fail "send"
if "$ctl" query status --node "http://127.0.0.1:1" 2>/dev/null; then fail "unreachable ok"; fi
set +e; "$ctl" query status --node "http://127.0.0.1:1" 2>/dev/null; rc=$?; set -e
[ "$rc" = 3 ] || fail "unreachable exit code $rc"

# --- malformed requests: expected status and code ------------------------------------------
"$ctl" tx sign transfer --to "$c1" --asset USD --amount 1 --key "$c0key" --chain-id api-test \
  --nonce $((n + 1)) --out "$dir/good.pb" >/dev/null
"$ctl" tx sign transfer --to "$c1" --asset USD --amount 1 --key "$c0key" --chain-id other \
  --nonce $((n + 1)) --out "$dir/chain.pb" >/dev/null
"$ctl" tx sign transfer --to "$c1" --asset USD --amount 1 --key "$c0key" --chain-id api-test \
  --nonce "$n" --out "$dir/replay.pb" >/dev/null
"$ctl" keys new --dev --out "$dir/stranger.key" >/dev/null 2>&1
"$ctl" tx sign transfer --to "$c1" --asset USD --amount 1 --key "$dir/stranger.key" \
  --chain-id api-test --nonce 1 --out "$dir/stranger.pb" >/dev/null
head -c -5 "$dir/good.pb" >"$dir/trunc.pb"
last=$(tail -c 1 "$dir/good.pb" | od -An -tu1 | tr -d ' ')
{ head -c -1 "$dir/good.pb"; printf "\\$(printf %03o $(( last ^ 1 )))"; } >"$dir/badsig.pb"
head -c 200000 /dev/zero >"$dir/200k.bin"
head -c 400000 /dev/zero >"$dir/400k.bin"
printf '{"tx":' >"$dir/badjson"
printf '{"tx":"!!!!"}' >"$dir/badb64"
: >"$dir/empty"

# check NAME METHOD PATH CONTENT_TYPE BODY_FILE STATUS [CODE]
check() {
  local name=$1 method=$2 path=$3 ctype=$4 body=$5 want=$6 code=${7:-}
  local args=(-s -o "$dir/resp" -w '%{http_code}' -X "$method" --max-time 10)
  [ -n "$ctype" ] && args+=(-H "Content-Type: $ctype")
  [ -n "$body" ] && args+=(--data-binary "@$body")
  local got
  got=$(curl "${args[@]}" "$node$path" || true)
  [ "$got" = "$want" ] || fail "$name: status $got, want $want: $(head -c 300 "$dir/resp")"
  if [ -n "$code" ]; then
    grep -q "\"error\":{\"code\":\"$code\"" "$dir/resp" \
      || fail "$name: want code $code: $(head -c 300 "$dir/resp")"
  fi
  printf '  %-26s %s %s\n' "$name" "$want" "$code"
}
pb=application/x-protobuf
h64=$(printf '%064d' 0)
check "truncated protobuf" POST /v1/tx $pb "$dir/trunc.pb" 400 malformed
check "empty body"         POST /v1/tx $pb "$dir/empty" 400 malformed
check "wrong chain id"     POST /v1/tx $pb "$dir/chain.pb" 400 wrong_chain
check "replayed nonce"     POST /v1/tx $pb "$dir/replay.pb" 409 bad_nonce
check "wrong signature"    POST /v1/tx $pb "$dir/badsig.pb" 401 bad_signature
check "unknown signer"     POST /v1/tx $pb "$dir/stranger.pb" 403 unknown_signer
check "oversized tx"       POST /v1/tx $pb "$dir/200k.bin" 413 too_large
check "oversized body"     POST /v1/tx $pb "$dir/400k.bin" 413
check "invalid JSON"       POST /v1/tx application/json "$dir/badjson" 400 invalid_json
check "invalid base64"     POST /v1/tx application/json "$dir/badb64" 400 invalid_base64
check "no content type"    POST /v1/tx "" "$dir/good.pb" 415 unsupported_media_type
check "bad hash"           GET "/v1/tx/xyz" "" "" 400 invalid_hash
check "unknown tx"         GET "/v1/tx/$h64" "" "" 404 not_found
check "bad pubkey"         GET "/v1/accounts/0x12" "" "" 400 invalid_pubkey
check "huge height"        GET "/v1/blocks/99999999999999999999999" "" "" 400 invalid_height
check "height 0"           GET "/v1/blocks/0" "" "" 400 invalid_height
check "missing block"      GET "/v1/blocks/1000000" "" "" 404 not_found
check "bad format"         GET "/v1/blocks/1?format=xml" "" "" 400 invalid_query
check "wrong method"       DELETE /v1/status "" "" 405 method_not_allowed
check "unknown route"      GET /v1/nothing "" "" 404 not_found
check "good tx after all"  POST /v1/tx $pb "$dir/good.pb" 202
metrics=$(curl -s "$node/metrics") # not piped into grep -q: under pipefail, curl's SIGPIPE fails it
grep -q '^clearnode_rpc_requests_total{route="tx_submit",code="202"}' <<<"$metrics" \
  || fail "metrics"

# --- clean stop by PID ----------------------------------------------------------------------
kill "$pid"
wait "$pid" || fail "node exited with $? on SIGTERM"
pid=
echo "api node: ok"
