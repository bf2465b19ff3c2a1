#!/usr/bin/env bash
# clearaudit against a real one-validator node on a loopback port: verify-chain over the blocks
# the node made, a wrong validator set refused, verify-proof's header path fed with the
# encoded blocks the node serves (GET /v1/blocks/{h}?format=proto), and a validator power
# change followed through GET /v1/validators/{h}.
set -euo pipefail
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
if [ ! -x "$bin/clearnode" ] || [ ! -x "$bin/clearctl" ]; then
  echo "skipped: clearnode not built"
  exit 0
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
ctl="$bin/clearctl"
dir=$(mktemp -d /tmp/cn-audit-chain-XXXXXX)
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

CLEARNODE_BIN=$bin bash "$here/testnet/gen.sh" -n 1 --out "$dir/net" --chain-id audit-test \
  --clients 1 >/dev/null
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

# A few blocks.
member="$dir/net/keys/member0.key"
c0=$("$ctl" keys show "$dir/net/keys/client0.key")
"$ctl" tx register-client --pubkey "$c0" --label c0 --key "$member" --wait >/dev/null \
  || fail "register"
for i in 1 2 3; do
  "$ctl" tx deposit --account "$c0" --asset USD --amount 1000 --ref "dep-$i" --key "$member" \
    --wait >/dev/null || fail "deposit $i"
done

"$bin/clearaudit" verify-chain --node "$node" --validators "$dir/net/genesis.json" \
  >"$dir/out" || fail "verify-chain: $(cat "$dir/out")"
grep -q '^VERIFIED: blocks 1\.\.' "$dir/out" || fail "verify-chain output: $(cat "$dir/out")"
"$bin/clearaudit" verify-chain --node "$node" --validators "$dir/net/genesis.json" --from 2 \
  --to 3 --json | grep -q '"ok": true' || fail "verify-chain 2..3"

# Another validator set (power changed) is refused.
sed 's/"power": *\([0-9]*\)/"power": 7\1/' "$dir/net/genesis.json" >"$dir/other.json"
rc=0
"$bin/clearaudit" verify-chain --node "$node" --validators "$dir/other.json" --json \
  >"$dir/out" || rc=$?
[ "$rc" = 1 ] && grep -q '"code": "validator_set_mismatch"' "$dir/out" \
  || fail "other validator set: exit $rc $(cat "$dir/out")"

# The node's encoded blocks as a HEADER file: the commit checks pass; no reserves epoch has
# been published on this short chain yet.
curl -sf "$node/v1/blocks/2?format=proto" -o "$dir/b2.pb" || fail "GET block 2"
curl -sf "$node/v1/blocks/3?format=proto" -o "$dir/b3.pb" || fail "GET block 3"
rc=0
"$bin/clearaudit" verify-proof "$here/tests/vectors/reserves/proof_0.pb" --header "$dir/b2.pb" \
  --next-block "$dir/b3.pb" --validators "$dir/net/genesis.json" --json >"$dir/out" || rc=$?
grep -q '"signed_power"' "$dir/out" || fail "header 2 not certified: $(cat "$dir/out")"
[ "$rc" = 1 ] || fail "verify-proof exit $rc: $(cat "$dir/out")"

# A validator power change by governance (10 -> 20, effective two blocks after the proposal's
# block): the node serves each height's set, and verify-chain follows the change from the
# genesis set, which vouched for it.
pk0=$("$ctl" keys show "$member")
"$ctl" tx propose --validator-power "$pk0" --power 20 --expiry +3600 --key "$member" --wait \
  >"$dir/out" || fail "propose validator power: $(cat "$dir/out")"
grep -q '"state":"executed"\|"state": "executed"' "$dir/out" ||
  "$ctl" query proposal 1 | grep -q executed || fail "proposal not executed: $(cat "$dir/out")"
# the node makes blocks for transactions: three more take the chain past the change
for i in 4 5 6; do
  "$ctl" tx deposit --account "$c0" --asset USD --amount 1000 --ref "dep-$i" --key "$member" \
    --wait >/dev/null || fail "deposit $i"
done
h=$(curl -sf "$node/v1/status" | sed -n 's/.*"height":\([0-9]*\).*/\1/p')
curl -sf "$node/v1/validators/1" | grep -q '"power":10' || fail "set of height 1"
curl -sf "$node/v1/validators/$h" | grep -q '"power":20' || fail "set of height $h"
code=$(curl -s -o /dev/null -w '%{http_code}' "$node/v1/validators/$((h + 100))")
[ "$code" = 404 ] || fail "a set above the committed height + 1 answered $code"
"$bin/clearaudit" verify-chain --node "$node" --validators "$dir/net/genesis.json" \
  --write-validators "$dir/now.json" --json >"$dir/out" || fail "verify-chain across the change: $(cat "$dir/out")"
grep -q '"vouched_power": 10' "$dir/out" || fail "no set change reported: $(cat "$dir/out")"
grep -q '"power": 20' "$dir/now.json" || fail "written set: $(cat "$dir/now.json")"
# The written set certifies a block after the change, which the genesis set no longer does.
t=$((h - 1))
curl -sf "$node/v1/blocks/$t?format=proto" -o "$dir/bt.pb" || fail "GET block $t"
curl -sf "$node/v1/blocks/$h?format=proto" -o "$dir/bh.pb" || fail "GET block $h"
rc=0
"$bin/clearaudit" verify-proof "$here/tests/vectors/reserves/proof_0.pb" --header "$dir/bt.pb" \
  --next-block "$dir/bh.pb" --validators "$dir/net/genesis.json" --json >"$dir/out" || rc=$?
grep -q '"code": "validator_set_mismatch"' "$dir/out" || fail "genesis set after the change: $(cat "$dir/out")"
"$bin/clearaudit" verify-proof "$here/tests/vectors/reserves/proof_0.pb" --header "$dir/bt.pb" \
  --next-block "$dir/bh.pb" --validators "$dir/now.json" --json >"$dir/out" || true
grep -q '"signed_power": 20' "$dir/out" || fail "block $t not certified by the written set: $(cat "$dir/out")"
echo "clearaudit chain: ok"
