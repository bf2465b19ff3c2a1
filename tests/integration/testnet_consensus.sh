#!/usr/bin/env bash
# Four validators on loopback (testnet/up.sh): transactions submitted to different nodes are
# committed once on all of them with identical blocks and app hashes; a validator killed with
# SIGKILL misses heights, restarts, catches up by block sync and reports it in /v1/status; no
# equivocation is seen; a corrupt or torn consensus log makes a node refuse to start; every
# stopped home verifies offline, with replay.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
dir=$(mktemp -d /tmp/cn-testnet-XXXXXX)
fail() { echo "FAIL: $*"; for f in "$dir"/node*/node.log; do echo "-- $f"; tail -5 "$f"; done; exit 1; }
trap 'CLEARNODE_BIN=$bin "$here/testnet/down.sh" --dir "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
source "$here/testnet/lib.sh"

CLEARNODE_BIN=$bin "$here/testnet/up.sh" -n 4 --dir "$dir" --chain-id tn-chain -- \
  --block-interval-ms 50 --block-empty-interval-ms 200 --consensus-timeout-propose-ms 1000 \
  --log-level info >/dev/null || fail "up.sh"
keys=$dir/net/keys
c0=$("$bin/clearctl" keys show "$keys/client0.key")
c1=$("$bin/clearctl" keys show "$keys/client1.key")

# /v1/status shows the network
st=$(curl -sf "$(tn_url 1)/v1/status")
grep -q '"peers":3' <<<"$st" || fail "node1 peers: $st"
grep -q '"mode":"consensus"' <<<"$st" || fail "mode: $st"
grep -q '"validators":4' <<<"$st" || fail "validators: $st"

sign() { "$bin/clearload" sign --chain-id tn-chain "$@"; }
post() { # node file -> tx hash
  curl -s -H 'Content-Type: application/x-protobuf' --data-binary @"$2" "$(tn_url "$1")/v1/tx" |
    sed -n 's/.*"hash":"\([0-9a-f]*\)".*/\1/p'
}
receipt_on() { # node hash -> waits for the receipt, prints it
  for _ in $(seq 1 200); do
    curl -sf "$(tn_url "$1")/v1/tx/$2" && return 0
    sleep 0.05
  done
  fail "node$1: no receipt for $2"
}
sign --key "$keys/member0.key" --nonce 1 register-client "$c0" alice > "$dir/t1"
sign --key "$keys/member0.key" --nonce 2 register-client "$c1" bob > "$dir/t2"
sign --key "$keys/member1.key" --nonce 1 deposit "$c0" USD 9000000 wire-1 > "$dir/t3"
h1=$(post 0 "$dir/t1"); h2=$(post 1 "$dir/t2"); h3=$(post 2 "$dir/t3")
[ -n "$h1" ] && [ -n "$h2" ] && [ -n "$h3" ] || fail "submissions refused"
for i in 0 1 2 3; do receipt_on "$i" "$h3" | grep -q '"code":0' || fail "deposit on node$i"; done
sign --key "$keys/client0.key" --nonce 1 transfer "$c1" USD 2500000 > "$dir/t4"
h4=$(post 3 "$dir/t4")
r=$(receipt_on 0 "$h4")
grep -q '"code":0' <<<"$r" || fail "transfer: $r"
for i in 1 2 3; do
  [ "$(receipt_on "$i" "$h4" | sed -n 's/.*"height":\([0-9]*\).*/\1/p')" = \
    "$(sed -n 's/.*"height":\([0-9]*\).*/\1/p' <<<"$r")" ] || fail "transfer height differs on node$i"
  curl -sf "$(tn_url "$i")/v1/accounts/$c1" | grep -q '"USD":"2500000"' || fail "balance on node$i"
done
# a resubmission to another node is a duplicate everywhere
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' --data-binary @"$dir/t4" "$(tn_url 2)/v1/tx")
[ "$code" = 409 ] || fail "replayed transfer on node2: HTTP $code"

# SIGKILL node2; the others go on; it restarts and catches up by block sync
tn_kill 2 KILL
h=$(tn_max_height)
tn_wait_height 0 $((h + 12)) 60 || fail "no progress with one validator down"
sign --key "$keys/client0.key" --nonce 2 transfer "$c1" USD 1 > "$dir/t5"
h5=$(post 1 "$dir/t5")
receipt_on 1 "$h5" | grep -q '"code":0' || fail "transfer while node2 is down"
tn_restart 2 || fail "node2 restart"
tn_wait_height 2 "$(tn_height 0)" 60 || fail "node2 did not catch up"
grep -q 'sync: catching up from height' "$dir/node2/node.log" || fail "node2 did not use block sync"
grep -q 'sync: caught up at height' "$dir/node2/node.log" || fail "node2 never rejoined consensus"
curl -sf "$(tn_url 2)/v1/status" | grep -q '"blocks":[1-9]' || fail "status sync.blocks"
receipt_on 2 "$h5" | grep -q '"code":0' || fail "node2 lacks the transfer it missed"
top=$(tn_max_height)
tn_wait_all $((top + 3)) 60 || fail "not all nodes progress after the restart"
common=$(tn_check_chains) || fail "chains differ"
[ "$(tn_evidence)" = 0 ] || fail "equivocation reported"

# A corrupt consensus log: node3 refuses to start, naming it; restored, it starts again.
tn_kill 3 TERM
mdb_dump -s signer "$dir/node3/data" | grep -v "^db_pagesize=" > "$dir/signer.dump" || fail "mdb_dump"
python3 - "$dir/signer.dump" "$dir/signer.bad" <<'PY'
import sys
lines = open(sys.argv[1]).read().split('\n')
out = []
i = 0
while i < len(lines):
    out.append(lines[i])
    # the value line after key " 7374617465" ("state") becomes 3 bytes
    if lines[i].strip() == '7374617465' and i + 1 < len(lines):
        out.append(' 010203'); i += 2; continue
    i += 1
open(sys.argv[2], 'w').write('\n'.join(out))
PY
mdb_load -s signer -f "$dir/signer.bad" "$dir/node3/data" || fail "mdb_load"
if "$bin/clearnode" start --home "$dir/node3" > "$dir/refuse.log" 2>&1; then fail "started on a corrupt log"; fi
grep -q 'consensus log: the sign state record is malformed' "$dir/refuse.log" || fail "refusal: $(cat "$dir/refuse.log")"
mdb_load -s signer -f "$dir/signer.dump" "$dir/node3/data" || fail "restore"
tn_restart 3 || fail "node3 restart after restore"
tn_wait_height 3 "$(tn_height 0)" 60 || fail "node3 did not catch up"

# Stop everything by PID; every home verifies offline, re-executing every block.
CLEARNODE_BIN=$bin "$here/testnet/down.sh" --dir "$dir" >/dev/null
for i in 0 1 2 3; do
  "$bin/clearnode" verify --home "$dir/node$i" --replay > "$dir/verify$i" || fail "verify node$i: $(cat "$dir/verify$i")"
done
echo "testnet consensus: ok ($common common heights identical; node2 caught up by block sync; $(cat "$dir/verify0"))"
