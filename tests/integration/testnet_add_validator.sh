#!/usr/bin/env bash
# A validator added by governance joins a running 4-validator testnet without a restart of the
# others. A fifth node with a new key dials the four validators and is refused (its key is in
# no allowlist). Governance makes it a member with the validator role and gives it power; from
# the height the change applies the validators accept its connections, it catches up and
# signs. With one of the original four then stopped, the chain (5 validators, 50 power, more
# than 2/3 = 34 needed) only makes progress because the new validator votes. Afterwards every
# node holds the same blocks and app hashes.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
source "$here/tests/integration/lib/node_lib.sh" # free_port
dir=$(mktemp -d /tmp/cn-addval-XXXXXX)
fail() { echo "FAIL: $*"; for f in "$dir"/node*/node.log; do echo "-- $f"; tail -8 "$f"; done; exit 1; }
trap 'CLEARNODE_BIN=$bin "$here/testnet/down.sh" --dir "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
source "$here/testnet/lib.sh"
ctl=$bin/clearctl
args=(--block-interval-ms 50 --block-empty-interval-ms 200 --consensus-timeout-propose-ms 1000
      --log-level info)

CLEARNODE_BIN=$bin "$here/testnet/up.sh" -n 4 --dir "$dir" --chain-id tn-add -- "${args[@]}" \
  >/dev/null || fail "up.sh"
keys=$dir/net/keys
export CLEARNODE_NODE=$(tn_url 0)

# node4: a new key, a full node that dials the four validators
"$ctl" keys new --dev --out "$dir/new.key" >/dev/null
new=$("$ctl" keys show "$dir/new.key")
api=$(free_port) && p2p=$(free_port) || fail "no free port"
home=$dir/node4
"$bin/clearnode" init --home "$home" --genesis "$dir/net/genesis.json" --key "$dir/new.key" \
  >/dev/null
peers=
for i in 0 1 2 3; do
  peers+="${peers:+,}$("$ctl" keys show "$keys/member$i.key")@127.0.0.1:$(tn_field "node$i" 4)"
done
grep -v -E '^(api\.listen|p2p\.listen|p2p\.peers|p2p\.backoff_min_ms|p2p\.backoff_max_ms) ' \
  "$home/config" > "$home/config.tmp"
printf 'api.listen = 127.0.0.1:%s\np2p.listen = 127.0.0.1:%s\np2p.peers = %s\n' \
  "$api" "$p2p" "$peers" >> "$home/config.tmp"
printf 'p2p.backoff_min_ms = 200\np2p.backoff_max_ms = 1000\n' >> "$home/config.tmp"
mv "$home/config.tmp" "$home/config"
printf '%s\n' "${args[@]}" > "$home/start.args"
"$bin/clearnode" start --home "$home" "${args[@]}" >> "$home/node.log" 2>&1 &
echo "node4 $! http://127.0.0.1:$api $p2p -" >> "$dir/nodes"
for _ in $(seq 1 100); do curl -sf "$(tn_url 4)/v1/status" >/dev/null && break; sleep 0.1; done
sleep 2
curl -sf "$(tn_url 4)/v1/status" | grep -q '"peers":0' ||
  fail "node4 connected before governance admitted it: $(curl -s "$(tn_url 4)/v1/status")"
grep -q "unknown_key" "$dir/node0/node.log" || fail "node0 did not refuse the unknown key"

# governance (governors member0 and member3, threshold 2): a member with the validator role,
# then power 10
gov() { # proposal flags... -> executed once member3 approves
  local out id
  out=$("$ctl" tx propose "$@" --expiry +3600 --key "$keys/member0.key" --wait --json) ||
    fail "propose $*: $out"
  id=$(sed -n 's/.*"proposal_id":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$out" | head -1)
  [ -n "$id" ] || fail "no proposal id in: $out"
  "$ctl" tx gov-approve --proposal "$id" --key "$keys/member3.key" --wait >/dev/null ||
    fail "approve $id by member3"
  "$ctl" query proposal "$id" | grep -qE '^status +executed' ||
    fail "proposal $id not executed: $("$ctl" query proposal "$id")"
}
gov --add-member "$new" --roles validator --name bank5
gov --validator-power "$new" --power 10

# the validators admit it, it connects, catches up, and the set has five validators
for _ in $(seq 1 150); do
  curl -sf "$(tn_url 0)/v1/status" | grep -q '"validators":5' && break
  sleep 0.1
done
curl -sf "$(tn_url 0)/v1/status" | grep -q '"validators":5' || fail "the set did not grow to 5"
grep -q "validator ${new:0:16} joined the set" "$dir/node0/node.log" || fail "node0 did not admit it"
for _ in $(seq 1 150); do
  curl -sf "$(tn_url 4)/v1/status" | grep -q '"peers":4' && break
  sleep 0.1
done
curl -sf "$(tn_url 4)/v1/status" | grep -q '"peers":4' ||
  fail "node4 not connected to the four: $(curl -s "$(tn_url 4)/v1/status")"

# without node3, 40 of 50 power remain only with node4's vote
tn_kill 3 KILL
h0=$(tn_height 0)
tn_wait_height 0 $((h0 + 10)) 60 || fail "no progress without node3: the new validator does not sign"
h=$(tn_height 0)
curl -sf "$(tn_url 0)/v1/blocks/$h" | grep -q "$new" ||
  fail "block $h's commit has no precommit of the new validator"
tn_restart 3 || fail "restart node3"
tn_wait_all $((h + 2)) 60 || fail "nodes did not catch up: $(tn_heights)"
n=$(tn_check_chains) || fail "chains differ"
[ "$(tn_evidence)" = 0 ] || fail "equivocation reported"
echo "testnet add validator: ok ($n heights identical on 5 nodes, heights $(tn_heights))"
