#!/usr/bin/env bash
# The examples of docs/auditor.md, run as written against tests/vectors/reserves/ (files made
# independently by tests/vectors/make_reserves.py): each must give the documented exit status
# and failure code.
set -euo pipefail
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
ex=$(cd "$(dirname "$0")/../vectors/reserves" && pwd)
dir=$(mktemp -d /tmp/cn-audit-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ca() { "$bin/clearaudit" "$@"; }

# expect STATUS CODE command...: runs with --json and checks the exit status and error code.
expect() {
  local want=$1 code=$2; shift 2
  local rc=0
  ca "$@" --json >"$dir/out.json" 2>"$dir/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$dir/out.json" "$dir/err"; fail "$* exited $rc, want $want"; }
  if [ -n "$code" ]; then
    grep -q "\"code\": \"$code\"" "$dir/out.json" || { cat "$dir/out.json"; fail "$*: no $code"; }
  fi
}

cd "$ex"
ca --help >/dev/null
ca verify-proof proof_0.pb --header header.json --validators genesis.json | grep -q '^VERIFIED'
expect 0 "" verify-proof proof_0.json --header header.json --validators genesis.json \
  --account 1111111111111111111111111111111111111111111111111111111111111111 \
  --secret a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
for p in proof_1.pb proof_2.pb; do
  expect 0 "" verify-proof "$p" --header header.json --validators genesis.json
done
expect 0 "" verify-tree leaves.txt --attestations attestations.json --header header.json \
  --validators genesis.json
expect 1 insolvent_asset verify-tree leaves.txt --attestations attestations_short.json
expect 1 salt_mismatch verify-proof proof_0.pb --header header.json --validators genesis.json \
  --secret a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2

# Tampering with the inputs.
sed -z 's/\("balances": \[\s*\)100/\1-100/' proof_0.json >"$dir/neg.json"
expect 1 balance_negative verify-proof "$dir/neg.json" --header header.json --validators genesis.json
sed 's/"power": 30/"power": 90/' genesis.json >"$dir/genesis90.json"
expect 1 validator_set_mismatch verify-proof proof_0.pb --header header.json \
  --validators "$dir/genesis90.json"
awk '/^leaf /{last=$0} /^end$/{print last} {print}' leaves.txt |
  sed 's/^leaf_count 3$/leaf_count 4/' >"$dir/dup.txt"
expect 1 duplicate_leaf verify-tree "$dir/dup.txt"
expect 1 root_not_on_chain verify-tree leaves.txt --root "$(printf '0%.0s' {1..64})"
head -c 100 proof_0.pb >"$dir/short.pb"
expect 3 proof_file verify-proof "$dir/short.pb" --header header.json --validators genesis.json
expect 2 "" verify-proof proof_0.pb
expect 4 network verify-chain --node http://127.0.0.1:1 --validators genesis.json --timeout 2000
echo "clearaudit examples: ok"
