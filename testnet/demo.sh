#!/usr/bin/env bash
# The clearing flow end to end, narrated: a one-validator chain in a temporary home on
# 127.0.0.1, members register two clients, a custodian attests deposits (minting tokenized
# collateral), clients transfer, bad transactions are refused with their reasons, the chain is
# queried over HTTP, the node is stopped and its stored chain is verified by replay.
#
# Run through `make demo` (which installs dependencies and builds first), or directly after
# `make`: testnet/demo.sh. Set CLEARNODE_BIN to use other builds of the programs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CLEARNODE_BIN:-$PWD/build/release/bin}
for p in clearnode clearctl; do
  [ -x "$bin/$p" ] || { echo "demo: $bin/$p is not built; run 'make demo'" >&2; exit 1; }
done

work=$(mktemp -d /tmp/clearnode-demo-XXXXXX)
node_pid=
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }

# A port nobody listens on, in the high range.
port=
for _ in $(seq 1 50); do
  p=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768+)
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "demo: no free port found" >&2; exit 1; }
url=http://127.0.0.1:$port
export CLEARNODE_NODE=$url

step "1. Keys and genesis for a one-member consortium"
CLEARNODE_BIN=$bin bash testnet/gen.sh -n 1 --clients 2 --out "$work/net" >/dev/null
keys=$work/net/keys
member=$keys/member0.key
alice=$("$bin/clearctl" keys show "$keys/client0.key")
bob=$("$bin/clearctl" keys show "$keys/client1.key")
say "member0 (validator, custodian, governor, approver, oracle): $("$bin/clearctl" keys show "$member")"
say "alice (client): $alice"
say "bob   (client): $bob"
say "chain id: $(grep -o '"chain_id": *"[^"]*"' "$work/net/genesis.json" | cut -d'"' -f4)"

step "2. Start the validator"
"$bin/clearnode" init --home "$work/node" --genesis "$work/net/genesis.json" --key "$member" \
  >/dev/null
"$bin/clearnode" start --home "$work/node" --api-listen "127.0.0.1:$port" \
  --block-interval-ms 100 2>"$work/node.log" &
node_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$url/v1/status" >/dev/null 2>&1 && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log"; exit 1; }
  sleep 0.1
done
say "node pid $node_pid, API $url, data in $work/node/data (LMDB)"

tx() { "$bin/clearctl" tx "$@" --wait; }

step "3. The member registers two clients"
tx register-client --pubkey "$alice" --label alice --key "$member"
tx register-client --pubkey "$bob" --label bob --key "$member"

step "4. The custodian attests deposits: tokenized collateral is minted"
tx deposit --account "$alice" --asset USD --amount 5000000000 --ref wire-2026-0001 --key "$member"
tx deposit --account "$alice" --asset AAPL --amount 1000000 --ref dtc-2026-0002 --key "$member"
say "alice holds 5,000 USD (6 decimals) and 100 AAPL (4 decimals)"

step "5. alice transfers 1,250 USD to bob"
tx transfer --to "$bob" --asset USD --amount 1250000000 --key "$keys/client0.key"

step "6. Refusals, each with its reason"
say "bob tries to send more than he has (executed, refused in the receipt):"
"$bin/clearctl" tx transfer --to "$alice" --asset USD --amount 9000000000 \
  --key "$keys/client1.key" --wait || true
say "the same deposit reference again (no double mint):"
"$bin/clearctl" tx deposit --account "$alice" --asset USD --amount 5000000000 \
  --ref wire-2026-0001 --key "$member" --wait || true
say "a client tries to mint (only custodians attest deposits):"
"$bin/clearctl" tx deposit --account "$bob" --asset USD --amount 1 --ref self-mint \
  --key "$keys/client1.key" --wait || true

step "7. Query the chain"
"$bin/clearctl" query account "$alice"
"$bin/clearctl" query account "$bob"
"$bin/clearctl" query status

step "8. Stop the node and verify the stored chain by replaying it"
kill "$node_pid"
wait "$node_pid" || true
node_pid=
"$bin/clearnode" verify --home "$work/node" --replay

step "done: the node is stopped and $work is removed"
