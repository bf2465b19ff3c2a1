#!/usr/bin/env bash
# Contracts on a real one-validator node: the demo genesis deploys margin_math (assembled and
# verified at init); a genesis with a contract that fails the verifier is refused naming the
# field; signed contract_call txs via clearctl (a result, a revert), a governor's deploy of
# the counter example and calls emitting contract events, a duplicate deploy and a deploy by
# a non-governor, each checked over HTTP (receipt code, message, gas, events, nonce).
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
work=$(mktemp -d /tmp/cn-node-contracts-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --out "$work/net" --chain-id contracts-chain >/dev/null
keys=$work/net/keys
member=$("$bin/clearctl" keys show "$keys/member0.key")
c0=$("$bin/clearctl" keys show "$keys/client0.key")
home=$work/home
grep -q '"margin_math"' "$work/net/genesis.json" || fail "demo genesis has no margin_math"

# A contract that fails the verifier: init refuses, naming the field.
mkdir -p "$work/bad/contracts"
printf 'CNVM\000\011\000\000' > "$work/bad/contracts/bad.bin"
sed 's#"path": "contracts/margin_math.cas"#"path": "contracts/bad.bin"#' "$work/net/genesis.json" > "$work/bad/genesis.json"
if "$bin/clearnode" init --home "$work/badhome" --genesis "$work/bad/genesis.json" --dev-key 2>"$work/err"; then
  fail "init accepted a genesis contract that fails the verifier"
fi
grep -q 'contracts\[0\].bytecode: verifier: ' "$work/err" || fail "init error: $(cat "$work/err")"

"$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" --key "$keys/member0.key" >/dev/null
start_node "$home" --block-interval-ms 50
ctl() { "$bin/clearctl" "$@" --node "$node_url"; }

# tx_hash: the hash clearctl printed (--json output of a submit).
call() { # key args... ; prints the receipt JSON fetched over HTTP
  local key=$1; shift
  ctl tx call --key "$key" "$@" --json > "$work/out" || true
  local h
  h=$(head -1 "$work/out" | json_field hash)
  [ -n "$h" ] || fail "no hash from clearctl: $(cat "$work/out")"
  wait_receipt "$h"
}

# margin_math from genesis: liquidation price of a 4x long at 100 USD, 20% maintenance.
r=$(call "$keys/member0.key" --contract margin_math --entry liq_price_long --args 100000000,40000,2000)
echo "$r" | grep -q '"code":0' || fail "liq_price_long: $r"
echo "$r" | grep -q '"message":"ok: returned 93750000"' || fail "liq_price_long result: $r"
echo "$r" | grep -q '"type":"contract.call"' || fail "contract.call event: $r"
echo "$r" | grep -q '"gas_used":34,' || fail "gas_used (clearasm run says 34): $r"

# A revert (unit 0): contract_error, no events, the nonce is still consumed.
r=$(call "$keys/member0.key" --contract margin_math --entry position_value --args 1,1,0)
echo "$r" | grep -q '"code":27' || fail "revert code: $r"
echo "$r" | grep -q '"code_name":"contract_error"' || fail "revert name: $r"
echo "$r" | grep -q 'reverted with code 3' || fail "revert message: $r"
echo "$r" | grep -q '"events":\[\]' || echo "$r" | grep -vq '"events"' || fail "revert events: $r"
curl -sf "$node_url/v1/accounts/$member" | grep -q '"nonce":2' || fail "nonce after revert"

# Unknown contract and entry.
r=$(call "$keys/member0.key" --contract nope --entry x)
echo "$r" | grep -q '"code_name":"unknown_contract"' || fail "unknown contract: $r"

# A governor deploys the counter example; the 4th bump emits the "limit" event.
ctl tx deploy --key "$keys/member0.key" --name counter --bytecode "$here/contracts/examples/counter.cas" --json > "$work/out" || true
h=$(head -1 "$work/out" | json_field hash)
r=$(wait_receipt "$h")
echo "$r" | grep -q '"code":0' || fail "deploy: $r"
echo "$r" | grep -q '"type":"contract.deploy"' || fail "deploy event: $r"
for i in 1 2 3 4; do
  r=$(call "$keys/member0.key" --contract counter --entry bump)
  echo "$r" | grep -q "\"message\":\"ok: returned $i\"" || fail "bump $i: $r"
done
echo "$r" | grep -q '"type":"contract.event"' || fail "contract event: $r"
echo "$r" | grep -q '"topic":"limit"' || fail "event topic: $r"
echo "$r" | grep -q '"data":"0400000000000000"\|"data":"0000000000000004"' || fail "event data: $r"

# The same name again: contract_exists.
ctl tx deploy --key "$keys/member0.key" --name counter --bytecode "$here/contracts/examples/counter.cas" --json > "$work/out" || true
r=$(wait_receipt "$(head -1 "$work/out" | json_field hash)")
echo "$r" | grep -q '"code_name":"contract_exists"' || fail "duplicate deploy: $r"

# A registered client may call but not deploy.
ctl tx register-client --key "$keys/member0.key" --pubkey "$c0" --label alice --wait >/dev/null
if ctl tx deploy --key "$keys/client0.key" --name mine --bytecode "$here/contracts/examples/counter.cas" --json > "$work/out" 2>&1; then
  fail "a client deployed: $(cat "$work/out")"
fi
grep -q 'not_permitted' "$work/out" || fail "client deploy error: $(cat "$work/out")"
r=$(call "$keys/client0.key" --contract counter --entry bump)
echo "$r" | grep -q '"message":"ok: returned 1"' || fail "client bump: $r"

# Restart: contracts and their storage survive; offline verify replays the calls.
stop_node
"$bin/clearnode" verify --home "$home" --replay >/dev/null || fail "verify --replay"
start_node "$home" --block-interval-ms 50
r=$(call "$keys/member0.key" --contract counter --entry bump)
echo "$r" | grep -q '"message":"ok: returned 5"' || fail "bump after restart: $r"
stop_node
echo "node contracts: ok"
