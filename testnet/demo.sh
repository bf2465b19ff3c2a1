#!/usr/bin/env bash
# The clearing flow end to end on a four-validator test network, narrated step by step:
#   a consortium of four members starts four validators on 127.0.0.1 (testnet/up.sh);
#   a broker registers three clients; custodians attest deposits and tokenized collateral is
#   minted; clients move cash into the margin contract and open leveraged positions; four
#   oracles report prices and the median is published; a crash trips the asset's circuit
#   breaker, then the market-wide one when the governors reopen the asset; the governors
#   reopen the market and the end-of-block pass liquidates the account under water at the
#   oracle price less the penalty (shortfall, insurance fund, bad debt); an epoch's reserves
#   are published, custodians attest their holdings, a client's inclusion proof is checked by
#   `clearaudit verify-proof` against a certified header fetched from a node; a withdrawal is
#   approved by two of the three approvers and executes after its cooldown (the tokens burn,
#   the next epoch's liabilities drop); the network is stopped (testnet/down.sh) and every
#   node's stored chain is verified offline by replay, with the same block ids and app hashes
#   on all four.
# Every step checks what it shows and the demo stops with a message (exit 1) at the first
# difference. Everything lives in a temporary directory under /tmp, removed at the end; the
# validators are stopped by their PIDs even when a step fails.
#
# Run through `make demo` (which builds first), or directly after `make`: testnet/demo.sh.
# Set CLEARNODE_BIN to use other builds of the programs.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
bin=${CLEARNODE_BIN:-$PWD/build/release/bin}
for p in clearnode clearctl clearaudit clearasm; do
  [ -x "$bin/$p" ] || { echo "demo: $bin/$p is not built; run 'make demo'" >&2; exit 1; }
done
for t in curl mdb_dump sha256sum awk od; do
  command -v "$t" >/dev/null || { echo "demo: '$t' is missing; run 'make deps'" >&2; exit 1; }
done
ctl=$bin/clearctl

work=$(mktemp -d /tmp/clearnode-demo-XXXXXX)
dir=$work/testnet            # testnet/up.sh's directory (testnet/lib.sh reads $dir and $bin)
cleanup() {
  local rc=$?
  # background clearctl jobs of this shell, by PID
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  # the validators, by the PIDs testnet/up.sh recorded in $dir/nodes
  if [ -f "$dir/nodes" ]; then
    CLEARNODE_BIN=$bin bash "$here/testnet/down.sh" --dir "$dir" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
source "$here/testnet/lib.sh"

if [ -t 1 ]; then B=$'\033[1m' D=$'\033[2m' G=$'\033[32m' R=$'\033[31m' N=$'\033[0m'
else B= D= G= R= N=; fi
stepno=0 steptitle=
step() { stepno=$((stepno + 1)); steptitle=$*; printf '\n%s== %d. %s%s\n' "$B" "$stepno" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
ok() { printf '   %s✓%s %s\n' "$G" "$N" "$*"; }
fail() {
  printf '\n%sdemo: FAILED in step %d (%s):%s %s\n' "$R" "$stepno" "$steptitle" "$N" "$*" >&2
  local f
  for f in "$dir"/node*/node.log; do
    [ -f "$f" ] || continue
    echo "-- last lines of ${f#"$work"/}" >&2
    tail -5 "$f" >&2
  done
  exit 1
}

# ---- helpers -------------------------------------------------------------------------------
url=() keys=$dir/net/keys
# pretty ARGS...: the command as a reader would type it, with $NODEi, $ALICE, ... for the
# long values (defined in step 2)
pretty() {
  local s="$*" i v
  s=${s//"$bin"\//}
  s=${s//"$keys"/\$KEYS}
  s=${s//"$work"/\$WORK}
  for i in "${!url[@]}"; do s=${s//"${url[i]}"/\$NODE$i}; done
  for v in ALICE BOB CAROL SECRET; do [ -n "${!v:-}" ] && s=${s//"${!v}"/\$$v}; done
  echo "$s"
}
# run CMD...: shows the command, runs it; OUT = its output (stdout and stderr), RC = its status
run() {
  printf '   %s$ %s%s\n' "$D" "$(pretty "$@")" "$N"
  set +e; OUT=$("$@" 2>&1); RC=$?; set -e
}
# jf KEY: the first value of "KEY" in the JSON on stdin (numbers and strings without quotes)
jf() { { grep -o "\"$1\":\"\{0,1\}[^\",}]*" || true; } | head -1 | sed 's/^"[^"]*":"\{0,1\}//'; }
jmsg() { { grep -o '"message":"[^"]*"' || true; } | head -1 | cut -d'"' -f4; }
# tx I ARGS...: clearctl tx ARGS through node I, waiting for the receipt; fails unless it is
# committed with code 0. RX = the receipt, H = its height.
tx() {
  local i=$1; shift
  run "$ctl" tx "$@" --node "${url[i]}" --wait --json
  RX=$OUT
  [ "$RC" = 0 ] && [ "$(jf code_name <<<"$RX")" = ok ] ||
    fail "clearctl tx $1 through node$i: exit $RC: $OUT"
  H=$(jf height <<<"$RX")
}
# refused I CODE ARGS...: clearctl tx must exit 1 with CODE (refused at admission, or
# committed with that result code)
refused() {
  local i=$1 code=$2; shift 2
  run "$ctl" tx "$@" --node "${url[i]}" --wait --json
  local got; got=$(jf code_name <<<"$OUT")
  [ -n "$got" ] || got=$(sed -n 's/.*"error":{"code":"\([a-z_]*\)".*/\1/p' <<<"$OUT")
  [ "$RC" = 1 ] && [ "$got" = "$code" ] || fail "expected refusal '$code', got exit $RC: $OUT"
  ok "refused with '$code': $(jmsg <<<"$OUT")"
}
# q I ARGS...: clearctl query ARGS --json through node I; fails unless it exits 0
q() {
  local i=$1; shift
  run "$ctl" query "$@" --node "${url[i]}" --json
  [ "$RC" = 0 ] || fail "clearctl query $* through node$i: exit $RC: $OUT"
}
# micro-USD and share amounts for people
usd() {
  local v=$1 s=
  [ "$v" -lt 0 ] && { s=-; v=$((-v)); }
  if [ $((v % 10000)) = 0 ]; then printf '%s%d.%02d USD' "$s" $((v / 1000000)) $((v % 1000000 / 10000))
  else printf '%s%d.%06d USD' "$s" $((v / 1000000)) $((v % 1000000)); fi
}
shares() { echo "$(($1 / 1000000)) shares"; }  # contract units: 10^6 per share
# words HEX: an account id as the margin contract's four signed big-endian int64 words
words() { local h=$1; echo "$((16#${h:0:16})),$((16#${h:16:16})),$((16#${h:32:16})),$((16#${h:48:16}))"; }
# view ENTRY [ARGS]: a read-only entry of the margin contract, called in a transaction by
# member2 (a liquidator) through node2; V = the returned value
view() {
  tx 2 call --contract margin --entry "$1" ${2:+--args "$2"} --key "$keys/member2.key"
  V=$(jmsg <<<"$RX" | sed -n 's/^ok: returned \(-\{0,1\}[0-9]*\)$/\1/p')
  [ -n "$V" ] || fail "view $1: $RX"
}
# lower median of integers (docs/oracle.md: sorted[(n - 1) / 2])
lower_median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# - 1) / 2 + 1 ))p"; }
# report ASSET P0 P1 P2 P3: the four oracles report at once, each through its own node
round=0
report() {
  local a=$1 i; shift
  local p=("$@") pids=()
  round=$((round + 1))
  for i in 0 1 2 3; do
    local cmd=("$ctl" tx oracle-report --asset "$a" --price "${p[i]}" --round "$round"
               --key "$keys/member$i.key" --node "${url[i]}" --wait --json)
    printf '   %s$ %s%s\n' "$D" "$(pretty "${cmd[@]}")" "$N"
    "${cmd[@]}" > "$work/report$i" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    wait "${pids[i]}" || fail "oracle report of member$i: $(cat "$work/report$i")"
    grep -q '"code":0,' "$work/report$i" || fail "oracle report of member$i: $(cat "$work/report$i")"
  done
}
margin_json() { curl -s --max-time 5 "${url[$1]}/v1/margin/$2"; }
balance() { # I PUBKEY ASSET: the ledger balance (0 when absent)
  local b; b=$(curl -sf --max-time 5 "${url[$1]}/v1/accounts/$2" | { grep -o "\"$3\":\"[0-9]*\"" || true; } | cut -d'"' -f4)
  echo "${b:-0}"
}
node_time() { curl -sf --max-time 5 "${url[$1]}/v1/status" | jf time; }
block_time() { curl -sf --max-time 5 "${url[$1]}/v1/blocks/$2" | jf time; }
# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s until it succeeds
wait_for() {
  local s=$1 what=$2; shift 2
  for _ in $(seq 1 $((s * 5))); do "$@" && return 0; sleep 0.2; done
  fail "$what did not happen within $s s"
}

# ---- scenario inputs (every expected value below is computed from these and the chain) ----
chain=clearnode-demo
epoch_blocks=20              # a reserves epoch every 20 blocks (a few seconds)
cooldown_ms=3000             # withdrawals: 2 approvals of 3 approvers, then 3 s
penalty_bps=500              # margin contract default (docs/genesis.md, params.margin)
grace_liq_bps=5000           # margin.grace_liquidation_bps default
fee_bps=10                   # margin.fee_bps default
alice_usd=6000000000 bob_usd=10000000000 carol_usd=5000000000 carol_aapl=500000  # 50 AAPL
alice_margin=5010000000 bob_margin=8000000000
qty=1000000                  # 100 AAPL (4 decimals) per position
aapl0=(99900000 100000000 100050000 100200000)
msft0=(399800000 400000000 400100000 400300000)
spy0=(499900000 500000000 500100000 500200000)
crash=(48900000 49000000 49100000 49200000)
withdraw_amt=1500000000

# ---- the demo ------------------------------------------------------------------------------
step "Keys, genesis and four validators on 127.0.0.1"
say "# testnet/up.sh makes keys and a genesis (testnet/gen.sh), a home per validator, starts"
say "# them with their peers and waits for blocks; the members share a reserves key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/reserves.secret"
run env CLEARNODE_BIN="$bin" bash testnet/up.sh -n 4 --dir "$dir" --chain-id "$chain" \
  --clients 3 --tier0 "2:$cooldown_ms" --margin --epoch-blocks "$epoch_blocks" \
  --oracle-max-age 600000 --reserves-secret "$work/reserves.secret" -- \
  --block-interval-ms 50 --block-empty-interval-ms 200 --consensus-timeout-propose-ms 1000
[ "$RC" = 0 ] || fail "testnet/up.sh: $OUT"
printf '%s\n' "$OUT" | sed 's/^/     /'
for i in 0 1 2 3; do url[i]=$(tn_url "$i"); done
genesis=$dir/net/genesis.json
g=$(tr -d ' \n' < "$genesis")
grep -q '"quorum":3,' <<<"$g" || fail "genesis: oracle quorum is not 3"
grep -q '"governance":{"threshold":2,' <<<"$g" || fail "genesis: governance threshold is not 2"
grep -q "\"tiers\":\[{\"min_amount_usd\":0,\"approvals\":2,\"cooldown_ms\":$cooldown_ms}" <<<"$g" ||
  fail "genesis: first withdrawal tier is not 2 approvals, $cooldown_ms ms"
grep -q '"name":"margin","path":"contracts/margin.bin"' <<<"$g" || fail "genesis: no margin contract"
grep -q "\"epoch_blocks\":$epoch_blocks}" <<<"$g" || fail "genesis: reserves epoch"
[ "$(grep -o '"power":10}' <<<"$g" | wc -l)" = 4 ] || fail "genesis: four validators of power 10"
for i in 0 1 2 3; do
  [ "$(tr -d '\n' < "$dir/node$i/reserves.secret")" = "$(cat "$work/reserves.secret")" ] ||
    fail "node$i: reserves.secret differs from the consortium's key"
done
say "members (validators with power 10 each) and their roles ($dir/net/members.txt):"
while read -r name pub roles; do say "  $name ${pub:0:16}…  $roles"; done < "$dir/net/members.txt"
im_floor=$(grep -o '"initial_floor_bps":[0-9]*' <<<"$g" | cut -d: -f2)
mm_floor=$(grep -o '"maintenance_floor_bps":[0-9]*' <<<"$g" | cut -d: -f2)
ok "genesis: 4 oracles with quorum 3, governors 2 of 2, withdrawals 2 of 3 approvers and a" \
   "$((cooldown_ms / 1000)) s cooldown, the margin contract (initial margin $((im_floor / 100))%," \
   "maintenance $((mm_floor / 100))%), a reserves epoch every $epoch_blocks blocks"
gh=
for i in 0 1 2 3; do
  st=$(curl -sf --max-time 5 "${url[i]}/v1/status") || fail "node$i does not answer"
  grep -q '"peers":3,' <<<"$st" || fail "node$i is not connected to its 3 peers: $st"
  grep -q '"mode":"consensus"' <<<"$st" && grep -q '"validators":4,' <<<"$st" ||
    fail "node$i is not in consensus with 4 validators: $st"
  h=$(jf genesis_hash <<<"$st"); [ -z "$gh" ] && gh=$h
  [ "$h" = "$gh" ] || fail "node$i has genesis $h, node0 $gh"
done
ok "every node: 3 peers connected, consensus of 4 validators, the same genesis hash ${gh:0:16}…"

step "Names used below"
NODE0=${url[0]} NODE1=${url[1]} NODE2=${url[2]} NODE3=${url[3]}
KEYS=$keys WORK=$work
ALICE=$("$ctl" keys show "$keys/client0.key")
BOB=$("$ctl" keys show "$keys/client1.key")
CAROL=$("$ctl" keys show "$keys/client2.key")
say "WORK=$WORK   KEYS=\$WORK/testnet/net/keys"
say "NODE0=$NODE0  NODE1=$NODE1  NODE2=$NODE2  NODE3=$NODE3"
say "ALICE=$ALICE  (client0.key)"
say "BOB=$BOB  (client1.key)"
say "CAROL=$CAROL  (client2.key)"
say "member0 is a broker (custodian, governor, approver, oracle), member1 a bank (custodian,"
say "oracle, approver), member2 a market maker (oracle, approver, liquidator), member3 an"
say "exchange (governor, oracle, auditor). Transactions go to any node; every node commits them."

step "A member registers three clients"
for c in ALICE:alice BOB:bob CAROL:carol; do
  v=${c%%:*}
  tx 0 register-client --pubkey "${!v}" --label "${c#*:}" --key "$keys/member0.key"
  ok "${c#*:} registered by member0 at height $H"
done

step "Custodians attest deposits: tokenized collateral is minted"
say "# the bank (member1) attests wires received; each reference mints once"
tx 1 deposit --account "$ALICE" --asset USD --amount "$alice_usd" --ref wire-2026-0001 --key "$keys/member1.key"
dep_hash=$(jf hash <<<"$RX") dep_height=$H
ok "alice: $(usd "$alice_usd") minted at height $H"
for i in 0 1 2 3; do
  run "$ctl" query tx "$dep_hash" --node "${url[i]}" --json
  [ "$RC" = 0 ] && [ "$(jf height <<<"$OUT")" = "$dep_height" ] && [ "$(jf code_name <<<"$OUT")" = ok ] ||
    fail "node$i: receipt of the deposit: $OUT"
done
ok "the same receipt (height $dep_height, code ok) on node0, node1, node2 and node3"
tx 2 deposit --account "$BOB" --asset USD --amount "$bob_usd" --ref wire-2026-0002 --key "$keys/member1.key"
ok "bob: $(usd "$bob_usd") minted at height $H (submitted through node2)"
tx 3 deposit --account "$CAROL" --asset USD --amount "$carol_usd" --ref wire-2026-0003 --key "$keys/member1.key"
ok "carol: $(usd "$carol_usd") minted at height $H (through node3)"
say "# the broker (member0) attests shares received from the depository: tokenized AAPL"
tx 0 deposit --account "$CAROL" --asset AAPL --amount "$carol_aapl" --ref dtc-2026-0004 --key "$keys/member0.key"
ok "carol: $((carol_aapl / 10000)) AAPL minted at height $H"
say "# the same wire reference again: no double mint"
refused 1 duplicate_deposit deposit --account "$ALICE" --asset USD --amount "$alice_usd" \
  --ref wire-2026-0001 --key "$keys/member1.key"
say "# a client cannot mint: only custodians attest deposits"
refused 0 not_permitted deposit --account "$BOB" --asset USD --amount 1 --ref self-mint \
  --key "$keys/client1.key"
for c in ALICE:alice_usd BOB:bob_usd CAROL:carol_usd; do
  v=${c%%:*} w=${c#*:}
  b=$(balance 3 "${!v}" USD)
  [ "$b" = "${!w}" ] || fail "$v holds $b micro-USD, expected ${!w}"
done
[ "$(balance 2 "$CAROL" AAPL)" = "$carol_aapl" ] || fail "carol's AAPL balance"
ok "balances read back from node2 and node3 match every deposit"

step "Oracles report prices; the median of the fresh reports is published"
say "# all four members are oracles (quorum 3): the published price is the lower median"
report AAPL "${aapl0[@]}"
report MSFT "${msft0[@]}"
report SPY "${spy0[@]}"
for a in AAPL:aapl0 MSFT:msft0 SPY:spy0; do
  arr="${a#*:}[@]"
  want=$(lower_median "${!arr}")
  q 1 oracle "${a%%:*}"
  [ "$(jf price <<<"$OUT")" = "$want" ] && [ "$(jf state <<<"$OUT")" = live ] ||
    fail "${a%%:*}: expected $want published and live: $OUT"
  n=$(grep -o '"sources_used":\[[^]]*\]' <<<"$OUT" | grep -o '"[0-9a-f]\{64\}"' | wc -l)
  [ "$n" = 4 ] || fail "${a%%:*}: $n sources used, expected 4"
  ok "${a%%:*} published at $(usd "$want") from 4 sources, breaker live"
done
aapl_p0=$(lower_median "${aapl0[@]}")
# a long's maintenance rate: max(the margin floor, the asset's house rate) (docs/margin.md)
mm_house=$(grep -o '"symbol":"AAPL"[^}]*' <<<"$g" | grep -o '"maintenance_margin_bps":[0-9]*' | cut -d: -f2)
mm_bps=$(( mm_floor > mm_house ? mm_floor : mm_house ))

step "Clients move cash into margin and open leveraged positions"
say "# margin cash: the client moves tokenized USD into the margin contract (authorized in the call)"
tx 0 call --contract margin --entry deposit --args "$alice_margin" --allow-asset USD \
  --allow-amount "$alice_margin" --key "$keys/client0.key"
ok "alice's margin cash: $(usd "$(jmsg <<<"$RX" | sed 's/ok: returned //')")"
tx 1 call --contract margin --entry deposit --args "$bob_margin" --allow-asset USD \
  --allow-amount "$bob_margin" --key "$keys/client1.key"
ok "bob's margin cash: $(usd "$(jmsg <<<"$RX" | sed 's/ok: returned //')")"
say "# Reg T: a long needs $((im_floor / 100))% initial margin; 120 AAPL at $(usd "$aapl_p0") would need" \
    "$(usd $(( 120 * aapl_p0 * im_floor / 10000 ))) of equity; alice's would be $(usd $((alice_margin - 120 * aapl_p0 * fee_bps / 10000))) after the fee"
refused 2 margin open --asset AAPL --side long --quantity 1200000 --key "$keys/client0.key"
say "# alice buys 100 AAPL (2x: all her margin cash is initial margin); bob buys 100 with room"
tx 2 open --asset AAPL --side long --quantity "$qty" --key "$keys/client0.key"
grep -q '"type":"margin.open"' <<<"$RX" || fail "no margin.open event: $RX"
ok "alice: margin.open 100 AAPL at $(usd "$(jf price <<<"$RX")") (height $H)"
tx 3 open --asset AAPL --side long --quantity "$qty" --key "$keys/client1.key"
grep -q '"type":"margin.open"' <<<"$RX" || fail "no margin.open event: $RX"
ok "bob:   margin.open 100 AAPL at $(usd "$(jf price <<<"$RX")") (height $H)"
notional=$(( (qty * 100 * aapl_p0 + 999999) / 1000000 ))   # ceil(contract units x price / 10^6)
fee=$(( (notional * fee_bps + 9999) / 10000 ))
for c in alice:ALICE:alice_margin bob:BOB:bob_margin; do
  IFS=: read -r name var dep <<<"$c"
  q 0 margin "${!var}"
  cash=$(jf cash <<<"$OUT") eq=$(jf equity <<<"$OUT") im=$(jf initial <<<"$OUT")
  mm=$(jf maintenance <<<"$OUT") lp=$(jf liquidation_price <<<"$OUT")
  [ "$cash" = $(( ${!dep} - notional - fee )) ] || fail "$name's cash $cash, expected ${!dep} - $notional - fee $fee"
  [ "$(jf state <<<"$OUT")" = ok ] && [ "$eq" -ge "$im" ] || fail "$name: $OUT"
  # docs/margin.md: a single long's liquidation price ceil(ceil(-cash x 10^6 / q) x 10^4 / (10^4 - m))
  u=$(( (-cash * 1000000 + qty * 100 - 1) / (qty * 100) ))
  want=$(( (u * 10000 + 10000 - mm_bps - 1) / (10000 - mm_bps) ))
  [ "$lp" = "$want" ] || fail "$name's liquidation price $lp, expected $want"
  ok "$name: cash $(usd "$cash"), equity $(usd "$eq"), initial $(usd "$im"), maintenance" \
     "$(usd "$mm"), liquidation price $(usd "$lp")"
done
bob_cash0=$(margin_json 0 "$BOB" | jf cash)
[ -n "$bob_cash0" ] || fail "GET /v1/margin/\$BOB"

cand=$(lower_median "${crash[@]}")
step "A crash: AAPL falls $(( (aapl_p0 - cand) * 100 / aapl_p0 ))% and trips its circuit breaker"
# the per-asset band by risk tier: 1 -> 5%, 2 -> 10%, 3..5 -> 20% (docs/oracle.md §3)
tier=$(grep -o '"symbol":"AAPL"[^}]*' <<<"$g" | grep -o '"risk_tier":[0-9]*' | cut -d: -f2)
band=$(( tier == 1 ? 500 : tier == 2 ? 1000 : 2000 ))
say "# the oracles report AAPL at about $(usd "$cand"); AAPL is risk tier $tier, so its band is"
say "# $((band / 100))% around the mean of its recent published prices: the candidate is not"
say "# published and AAPL halts"
report AAPL "${crash[@]}"
q 0 oracle AAPL
ref=$(jf reference_price <<<"$OUT") p_halt=$(jf price <<<"$OUT")
abs() { echo $(( $1 < 0 ? -$1 : $1 )); }
(( $(abs $((ref - cand))) * 10000 > band * ref )) || fail "the crash is inside the band: test inputs"
[ "$(jf state <<<"$OUT")" = halted ] || fail "AAPL did not halt: $OUT"
(( p_halt != cand && $(abs $((ref - p_halt))) * 10000 <= band * ref )) ||
  fail "a price outside the band was published: $OUT"
ok "AAPL halted: |$(usd "$cand") - reference $(usd "$ref")| is beyond its $((band / 100))% band" \
   "(risk tier $tier); the published price stays $(usd "$p_halt")"
for i in 0 1 2 3; do
  m=$(curl -sf --max-time 5 "${url[i]}/metrics") || fail "node$i /metrics"
  grep -q '^clearnode_breaker_asset_halts_total 1$' <<<"$m" ||
    fail "node$i: $(grep breaker_asset_halts <<<"$m")"
done
ok "clearnode_breaker_asset_halts_total 1 on all four nodes"
say "# no trading at a halted price, and nobody is liquidated at it"
refused 3 halted close --asset AAPL --side long --key "$keys/client1.key"
q 2 margin "$ALICE"
[ "$(jf quantity <<<"$OUT")" = $((qty * 100)) ] && [ "$(jf state <<<"$OUT")" = halted ] ||
  fail "alice's position during the halt: $OUT"
ok "alice still holds $(shares "$(jf quantity <<<"$OUT")") of AAPL, state halted"

step "The governors reopen AAPL: the market-wide breaker trips"
say "# governance: member0 proposes, member3 approves (2 of 2 governors); the action runs at once"
tx 0 propose --resume-market AAPL --expiry +600 --key "$keys/member0.key"
pid1=$(jf proposal_id <<<"$RX")
tx 3 gov-approve --proposal "$pid1" --key "$keys/member3.key"
grep -q '"type":"governance.executed"' <<<"$RX" || fail "proposal $pid1 not executed: $RX"
ok "proposal $pid1 (resume_market AAPL) executed at height $H"
say "# the reopened asset publishes its next candidate without the band check: the index of"
say "# AAPL, MSFT and SPY against their reference closes falls below a market-wide level"
sum=0
for a in AAPL MSFT SPY; do
  q 1 oracle "$a"
  [ "$a" = AAPL ] && aj=$OUT
  p=$(jf price <<<"$OUT") c=$(jf reference_close <<<"$OUT")
  [ -n "$p" ] && [ -n "$c" ] || fail "$a: no price or reference close: $OUT"
  sum=$(( sum + p * 100000000 / c ))
done
[ "$(jf price <<<"$aj")" = "$cand" ] || fail "AAPL not published at $cand after the resume: $aj"
fall=$(( 100000000 - sum / 3 ))
mapfile -t lv < <(grep -o '"levels_bps":\[[0-9,]*\]' <<<"$g" | grep -o '[0-9]\+')
[ "${#lv[@]}" = 3 ] || fail "genesis: breakers.levels_bps"
level=0
for k in 0 1 2; do [ "$fall" -ge $(( lv[k] * 10000 )) ] && level=$((k + 1)); done
mkt=$(grep -o '"market":{[^}]*}' <<<"$aj")
[ "$level" -ge 1 ] || fail "the index fell $((fall / 10000)) bps, under every level: test inputs"
[ "$(jf level <<<"$mkt")" = "$level" ] && [ "$(jf fall_bps <<<"$mkt")" = $((fall / 10000)) ] ||
  fail "market-wide breaker: expected level $level at $((fall / 10000)) bps: $mkt"
ok "AAPL published at $(usd "$cand"); the index fell $((fall / 1000000)).$(printf %02d $((fall / 10000 % 100)))%:" \
   "market-wide level $level halt (levels ${lv[0]}/${lv[1]}/${lv[2]} bps)"
m=$(curl -sf --max-time 5 "${url[2]}/metrics")
grep -q "^clearnode_breaker_market_level $level$" <<<"$m" || fail "node2 metrics: market level"
say "# nothing takes new risk during a market-wide halt, even MSFT which did not fall"
refused 2 halted open --asset MSFT --side long --quantity 10000 --key "$keys/client1.key"
say "# alice is under water but is not liquidated while the market is halted: she waits queued"
q 3 margin "$ALICE"
a_eq=$(jf equity <<<"$OUT") a_mm=$(jf maintenance <<<"$OUT") a_cash=$(jf cash <<<"$OUT")
[ "$(jf quantity <<<"$OUT")" = $((qty * 100)) ] && [ "$(jf queued <<<"$OUT")" = true ] ||
  fail "alice during the market halt: $OUT"
[ "$a_eq" -le 0 ] || fail "alice's equity $a_eq is not under water: test inputs"
ok "alice: equity $(usd "$a_eq") against maintenance $(usd "$a_mm"), queued (rank" \
   "$(jf rank_bps <<<"$OUT") bps), still $(shares "$(jf quantity <<<"$OUT")")"
say "# the margin contract's books before the pass: house, insurance fund, bad debt"
view globals 0; house0=$V
view globals 1; ins0=$V
view globals 2; bad0=$V
ok "house $(usd "$house0"), insurance fund $(usd "$ins0") (trading fees), bad debt $(usd "$bad0")"

step "The governors reopen the market: the liquidation pass sells alice's position"
tx 0 propose --resume-market all --expiry +600 --key "$keys/member0.key"
pid2=$(jf proposal_id <<<"$RX")
tx 3 gov-approve --proposal "$pid2" --key "$keys/member3.key"
grep -q '"type":"governance.executed"' <<<"$RX" || fail "proposal $pid2 not executed: $RX"
ok "proposal $pid2 (resume_market all) executed at height $H"
say "# after a resume, a grace period: only accounts below half their maintenance are taken;"
say "# alice's equity $(usd "$a_eq") is below $(usd $((a_mm * grace_liq_bps / 10000)))"
(( a_eq * 10000 < a_mm * grace_liq_bps )) || fail "alice is not below the grace threshold: test inputs"
alice_gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' "${url[1]}/v1/margin/$ALICE")" = 404 ]; }
wait_for 20 "alice's liquidation" alice_gone
run curl -s "$NODE1/v1/margin/$ALICE"
grep -q '"code":"not_found"' <<<"$OUT" || fail "alice's margin account: $OUT"
ok "GET /v1/margin/\$ALICE: 404, no cash and no position left"
say "# the contract's views take an account as four int64 words (its 32 bytes, big-endian)"
view position "$(words "$ALICE"),1,0"; [ "$V" = 0 ] || fail "alice's AAPL position: $V"
view cash "$(words "$ALICE")"; a_cash1=$V
view globals 0; house1=$V
view globals 1; ins1=$V
view globals 2; bad1=$V
# docs/margin.md "Liquidation": E <= 0 closes in full; a long sells at the oracle price,
# gross = floor(q x P / 10^6), penalty = ceil(gross x penalty / 10^4) to the insurance fund;
# a negative remainder is a shortfall the fund pays as far as it can, the rest is bad debt
q_units=$((qty * 100))
gross=$(( q_units * cand / 1000000 ))
pen=$(( (gross * penalty_bps + 9999) / 10000 ))
left=$(( a_cash + gross - pen ))
short=$(( left < 0 ? -left : 0 ))
paid=$(( short < ins0 + pen ? short : ins0 + pen ))
[ "$a_cash1" = $(( left < 0 ? 0 : left )) ] || fail "alice's cash $a_cash1, expected max(0, $left)"
[ "$house1" = $(( house0 - gross )) ] || fail "house $house1, expected $house0 - $gross"
[ "$ins1" = $(( ins0 + pen - paid )) ] || fail "insurance $ins1, expected $ins0 + $pen - $paid"
[ "$bad1" = $(( bad0 + short - paid )) ] || fail "bad debt $bad1, expected $bad0 + $short - $paid"
ok "sold $(shares "$q_units") at $(usd "$cand"): gross $(usd "$gross") less the $((penalty_bps / 100))% penalty $(usd "$pen")"
ok "alice's cash $(usd "$a_cash") + $(usd $((gross - pen))) = $(usd "$left"): a shortfall of $(usd "$short")"
ok "insurance fund $(usd "$ins0") + penalty $(usd "$pen") pays $(usd "$paid") (now $(usd "$ins1"));" \
   "bad debt booked $(usd "$bad1")"
q 2 margin "$BOB"
[ "$(jf quantity <<<"$OUT")" = "$q_units" ] && [ "$(jf cash <<<"$OUT")" = "$bob_cash0" ] &&
  [ "$(jf state <<<"$OUT")" = ok ] || fail "bob was touched: $OUT"
ok "bob (equity $(usd "$(jf equity <<<"$OUT")") over maintenance $(usd "$(jf maintenance <<<"$OUT")")) is untouched"
say "# conservation: every micro-USD that entered margin cash is in some account, the house,"
say "# the insurance fund, or written off as bad debt"
view cash "$(words "$BOB")"; b_cash=$V
view conserved
total=$(( a_cash1 + b_cash + house1 + ins1 - bad1 ))
[ "$total" = $(( alice_margin + bob_margin )) ] && [ "$V" = "$total" ] ||
  fail "conservation: $a_cash1 + $b_cash + $house1 + $ins1 - $bad1 = $total, conserved() $V, deposits $((alice_margin + bob_margin))"
ok "cash $(usd $((a_cash1 + b_cash))) + house $(usd "$house1") + insurance $(usd "$ins1") - bad debt" \
   "$(usd "$bad1") = $(usd "$total") = the margin deposits = conserved()"

step "Proof of reserves: an epoch is published, custodians attest, carol checks her proof"
hnow=$(tn_max_height)
e1=$(( hnow / epoch_blocks + 1 ))
say "# epoch $e1 ends with block $((e1 * epoch_blocks)); its root is in the next block's header"
tn_wait_all $((e1 * epoch_blocks + 2)) 60 || fail "the chain did not reach epoch $e1's end"
q 2 reserves "$e1"
ep=$OUT
hh=$(jf header_height <<<"$ep")
[ "$hh" = $((e1 * epoch_blocks + 1)) ] || fail "epoch $e1's root is in header $hh, not $((e1 * epoch_blocks + 1))"
root=$(jf root <<<"$ep")
tot_usd=$(grep -o '"totals":{[^}]*}' <<<"$ep" | jf USD)
tot_aapl=$(grep -o '"totals":{[^}]*}' <<<"$ep" | jf AAPL)
# a claim is the ledger balance plus, in USD, margin cash when positive (docs/reserves.md):
# a margin loan counts 0
m_usd=$(( (a_cash1 > 0 ? a_cash1 : 0) + (b_cash > 0 ? b_cash : 0) ))
want_usd=$m_usd want_aapl=0
for c in ALICE BOB CAROL; do
  want_usd=$(( want_usd + $(balance 0 "${!c}" USD) ))
  want_aapl=$(( want_aapl + $(balance 0 "${!c}" AAPL) ))
done
[ "$tot_usd" = "$want_usd" ] && [ "$tot_aapl" = "$want_aapl" ] ||
  fail "epoch $e1 liabilities USD $tot_usd AAPL $tot_aapl, the clients' claims $want_usd / $want_aapl"
[ "$(jf leaf_count <<<"$ep")" = 3 ] || fail "epoch $e1 leaf count: $ep"
ok "epoch $e1: root ${root:0:16}…, 3 clients, liabilities $(usd "$tot_usd") and $((tot_aapl / 10000))" \
   "AAPL (ledger balances plus $(usd "$m_usd") of margin cash above 0; loans count 0), header $hh"
say "# the custodians attest what they hold for the epoch (tx reserve-attest prints the tx id)"
minted_usd=$(( alice_usd + bob_usd + carol_usd ))
attest() { # NODE KEY HOLDINGS... ; waits for the receipt
  local i=$1 k=$2; shift 2
  run "$ctl" tx reserve-attest --epoch "$e1" "$@" --key "$k" --node "${url[i]}"
  [ "$RC" = 0 ] || fail "reserve-attest: $OUT"
  local h=${OUT#accepted }
  got_receipt() { "$ctl" query tx "$h" --node "${url[3]}" --json > "$work/att" 2>&1; }
  wait_for 20 "the attestation's receipt" got_receipt
  RX=$(cat "$work/att")
  [ "$(jf code_name <<<"$RX")" = ok ] || fail "attestation: $RX"
}
attest 1 "$keys/member1.key" --holding "USD=$minted_usd"
grep -q '"type":"reserves.insolvent"' <<<"$RX" && grep -q '"asset":"AAPL"' <<<"$RX" ||
  fail "after the bank's USD attestation AAPL should still be uncovered: $RX"
ok "bank: $(usd "$minted_usd") held; event reserves.insolvent names AAPL (no AAPL attested yet)"
attest 0 "$keys/member0.key" --holding "AAPL=$carol_aapl"
grep -q '"type":"reserves.solvent"' <<<"$RX" || fail "not solvent after both attestations: $RX"
q 3 reserves "$e1"
grep -q '"all_solvent":true' <<<"$OUT" || fail "epoch $e1 not solvent: $OUT"
ok "broker: $((carol_aapl / 10000)) AAPL held; event reserves.solvent: every asset covered"
say "# carol fetches her inclusion proof (a request signed with her key) from node2 and the"
say "# certified header from node3, then checks it offline against the genesis validator set"
run "$ctl" query reserves-proof "$e1" --key "$keys/client2.key" --out "$work/proof.json" --node "$NODE2"
[ "$RC" = 0 ] || fail "reserves-proof: $OUT"
run "$ctl" query block "$hh" --proto "$work/header.pb" --node "$NODE3"
[ "$RC" = 0 ] || fail "block $hh: $OUT"
run "$ctl" query block $((hh + 1)) --proto "$work/next.pb" --node "$NODE3"
[ "$RC" = 0 ] || fail "block $((hh + 1)): $OUT"
secret=$(sed -n 's/.*"secret": *"\([0-9a-f]*\)".*/\1/p' "$work/proof.json")
[ -n "$secret" ] || fail "the proof has no secret: $(head -c 300 "$work/proof.json")"
SECRET=$secret
say "SECRET=$SECRET  (carol's reserves secret, in her proof)"
run "$bin/clearaudit" verify-proof "$work/proof.json" --header "$work/header.pb" \
  --next-block "$work/next.pb" --validators "$genesis" --account "$CAROL" --secret "$secret"
printf '%s\n' "$OUT" | sed 's/^/     /'
[ "$RC" = 0 ] && grep -q "^VERIFIED" <<<"$OUT" || fail "clearaudit verify-proof: exit $RC"
grep -q "USD *balance $carol_usd," <<<"$OUT" && grep -q "AAPL *balance $carol_aapl," <<<"$OUT" ||
  fail "carol's claims in the proof"
ok "clearaudit: exit 0, VERIFIED: carol's $(usd "$carol_usd") and $((carol_aapl / 10000)) AAPL are in" \
   "the certified root"
say "# the same proof presented as bob's account is refused"
run "$bin/clearaudit" verify-proof "$work/proof.json" --header "$work/header.pb" \
  --next-block "$work/next.pb" --validators "$genesis" --account "$BOB"
[ "$RC" = 1 ] && grep -q "FAILED account_mismatch" <<<"$OUT" || fail "a proof for another account: exit $RC: $OUT"
ok "clearaudit: exit 1, $(grep FAILED <<<"$OUT" | cut -c1-60)…"

step "A withdrawal: two of three approvers, a cooldown, then the tokens burn"
say "# new destinations wait custody.allowlist_delay_ms (24 h by default): the governors set it to 0"
tx 0 propose --param custody.allowlist_delay_ms --value 0 --expiry +600 --key "$keys/member0.key"
pid3=$(jf proposal_id <<<"$RX")
tx 3 gov-approve --proposal "$pid3" --key "$keys/member3.key"
grep -q '"type":"governance.executed"' <<<"$RX" || fail "proposal $pid3 not executed: $RX"
ok "proposal $pid3 executed: custody.allowlist_delay_ms = 0"
tx 1 allowlist --destination bank:DE89-3704-0044 --key "$keys/client2.key"
ok "carol allow-listed bank:DE89-3704-0044"
carol_before=$(balance 1 "$CAROL" USD)
tx 1 withdraw --asset USD --amount "$withdraw_amt" --destination bank:DE89-3704-0044 \
  --expiry +600 --key "$keys/client2.key"
wid=$(jf request_id <<<"$RX")
[ "$(balance 2 "$CAROL" USD)" = $((carol_before - withdraw_amt)) ] || fail "the amount was not locked"
ok "request $wid: $(usd "$withdraw_amt") locked (carol's available USD $(usd $((carol_before - withdraw_amt))))"
tx 1 approve --request "$wid" --key "$keys/member1.key"
t_first=$(grep -o '"approvals":\[.*' <<<"$(curl -sf "$NODE1/v1/withdrawals/$wid")" | jf time)
ok "member1 (bank) approved"
say "# one approval is not enough, however long it waits"
past_cooldown() { local t; t=$(node_time 0); [ -n "$t" ] && [ "$t" -ge $((t_first + cooldown_ms + 500)) ]; }
wait_for 20 "a block past the cooldown" past_cooldown
q 0 withdrawal "$wid"
[ "$(jf status <<<"$OUT")" = pending ] && [ "$(jf approvals_counted <<<"$OUT")" = 1 ] &&
  [ "$(jf approvals_required <<<"$OUT")" = 2 ] || fail "withdrawal $wid after one approval: $OUT"
ok "$((cooldown_ms / 1000)) s later: still pending, approvals 1 of 2"
say "# member3 holds no approver role"
refused 3 not_permitted approve --request "$wid" --key "$keys/member3.key"
tx 2 approve --request "$wid" --key "$keys/member2.key"
ok "member2 (market maker) approved: 2 of 2 required"
executed() { curl -sf "$NODE0/v1/withdrawals/$wid" | grep -q '"status":"executed"'; }
wait_for 20 "the withdrawal's execution" executed
q 0 withdrawal "$wid"
w=$OUT
closed=$(jf closed_height <<<"$w")
t_last=$(grep -o '"approvals":\[.*' <<<"$w" | grep -o '"time":[0-9]*' | cut -d: -f2 | sort -n | tail -1)
t_exec=$(block_time 2 "$closed")
[ "$t_exec" -ge $((t_last + cooldown_ms)) ] || fail "executed at $t_exec, before the cooldown ($t_last + $cooldown_ms)"
[ "$(balance 3 "$CAROL" USD)" = $((carol_before - withdraw_amt)) ] || fail "carol's balance after the burn"
ok "executed at height $closed, block time $((t_exec - t_last)) ms after the second approval" \
   "(cooldown $cooldown_ms ms): the locked $(usd "$withdraw_amt") burnt"
say "# the next epoch's liabilities no longer hold the burnt tokens"
e2=$(( closed / epoch_blocks + 1 ))
tn_wait_all $((e2 * epoch_blocks + 2)) 60 || fail "the chain did not reach epoch $e2's end"
q 1 reserves "$e2"
t2=$(grep -o '"totals":{[^}]*}' <<<"$OUT")
[ "$(jf USD <<<"$t2")" = $((tot_usd - withdraw_amt)) ] && [ "$(jf AAPL <<<"$t2")" = "$tot_aapl" ] ||
  fail "epoch $e2 totals $t2, expected USD $((tot_usd - withdraw_amt)), AAPL $tot_aapl"
ok "epoch $e2: USD liabilities $(usd "$(jf USD <<<"$t2")") = $(usd "$tot_usd") - $(usd "$withdraw_amt")"

step "Stop the testnet"
say "# the chain keeps committing (a block every ~250 ms when idle) until the validators stop"
for i in 0 1 2 3; do
  st=$(curl -sf --max-time 5 "${url[i]}/v1/status") || fail "node$i does not answer"
  say "node$i  pid $(tn_pid "$i")  height $(jf height <<<"$st")  app hash $(jf app_hash <<<"$st" | cut -c1-16)…"
done
# ids the nodes serve over the API, to compare with what is computed offline from their stores
api_ids=()
for hgt in "$dep_height" "$hh" "$closed"; do api_ids+=("$hgt $(tn_block 3 "$hgt")"); done
pids=$(awk '$1 ~ /^node/ {print $2}' "$dir/nodes")
run env CLEARNODE_BIN="$bin" bash testnet/down.sh --dir "$dir"
[ "$RC" = 0 ] && grep -q 'stopped 4 processes' <<<"$OUT" || fail "testnet/down.sh: $OUT"
for p in $pids; do kill -0 "$p" 2>/dev/null && fail "validator pid $p still runs"; done
ok "$OUT; none of the PIDs $(echo $pids) is left"

step "Verify every node's stored chain offline: replay, block ids and app hashes"
say "# clearnode verify --replay re-executes every block from genesis in a scratch store"
tip=() vah=()
for i in 0 1 2 3; do
  run "$bin/clearnode" verify --home "$dir/node$i" --replay
  [ "$RC" = 0 ] && grep -q 'replay identical' <<<"$OUT" || fail "node$i: $OUT"
  say "  $OUT"
  tip[i]=$(sed -n 's/.*height \([0-9]*\),.*/\1/p' <<<"$OUT")
  vah[i]=$(sed -n 's/.*app hash \([0-9a-f]*\),.*/\1/p' <<<"$OUT")
done
ok "all four stores verify: commit certificates, links, receipts, supplies, replay"
# headers HOME: "height header-hex" for every stored block (mdb_dump of the blocks database;
# each value is an encoded Block whose field 1 is the encoded Header, docs/storage.md)
headers() {
  mdb_dump -s blocks "$1/data" | awk '
    function hx(s,  i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /^HEADER=END/ { data = 1; next }
    data && /^ / {
      if (!k) { key = substr($0, 2); k = 1; next }
      val = substr($0, 2); k = 0
      if (substr(val, 1, 2) != "0a") { print "block " hx(key) ": no header" > "/dev/stderr"; exit 1 }
      p = 3; len = 0; mul = 1
      do { b = hx(substr(val, p, 2)); p += 2; len += (b % 128) * mul; mul *= 128 } while (b >= 128)
      print hx(key), substr(val, p, len * 2)
    }'
}
# hdr_field HEX N: a length-delimited field of an encoded Header (7 = app_hash)
hdr_field() {
  local h=$1 want=$2 i=0 n=${#1} key tag wt len b mul
  while [ "$i" -lt "$n" ]; do
    key=$((16#${h:i:2})); i=$((i + 2)); tag=$((key >> 3)); wt=$((key & 7))
    if [ "$wt" = 0 ]; then
      while b=$((16#${h:i:2})); i=$((i + 2)); [ $((b & 128)) != 0 ]; do :; done
    elif [ "$wt" = 2 ]; then
      len=0 mul=1
      while b=$((16#${h:i:2})); i=$((i + 2)); len=$((len + (b & 127) * mul)); mul=$((mul * 128)); [ $((b & 128)) != 0 ]; do :; done
      [ "$tag" = "$want" ] && { echo "${h:i:len*2}"; return 0; }
      i=$((i + len * 2))
    elif [ "$wt" = 1 ]; then i=$((i + 16))
    elif [ "$wt" = 5 ]; then i=$((i + 8))
    else return 1; fi
  done
  return 1
}
# block id = H_tag("clearnode/block", header) = SHA256(SHA256(tag) || SHA256(tag) || header)
hexbin() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }
tagh=$(printf %s clearnode/block | sha256sum | cut -c1-64)
block_id() { hexbin "$tagh$tagh$1" | sha256sum | cut -c1-64; }
hdr_at() { awk -v h="$2" '$1 == h {print $2}' "$work/headers$1"; }
for i in 0 1 2 3; do
  headers "$dir/node$i" > "$work/headers$i" || fail "node$i: mdb_dump of the blocks"
  [ "$(wc -l < "$work/headers$i")" = "${tip[i]}" ] || fail "node$i stores $(wc -l < "$work/headers$i") blocks, verify says ${tip[i]}"
done
common=$(printf '%s\n' "${tip[@]}" | sort -n | head -1)
for i in 1 2 3; do
  cmp -s <(head -n "$common" "$work/headers0") <(head -n "$common" "$work/headers$i") ||
    fail "node$i's headers differ from node0's below height $common"
done
ok "blocks 1..$common: byte-identical headers on all four stores"
for x in "${api_ids[@]}"; do
  read -r hgt id ah <<<"$x"
  hd=$(hdr_at 0 "$hgt")
  [ "$(block_id "$hd")" = "$id" ] && [ "$(hdr_field "$hd" 7)" = "$ah" ] ||
    fail "block $hgt: offline id $(block_id "$hd"), the API served $id"
done
ok "offline block ids = those node3 served over the API (heights $(printf '%s ' "${api_ids[@]%% *}"))"
say "block $common on each node, and each node's own app hash after its last block:"
for i in 0 1 2 3; do
  hd=$(hdr_at "$i" "$common")
  # the app hash after block T is in the header of block T + 1, if any node holds it
  want=${vah[i]}
  for j in 0 1 2 3; do
    nx=$(hdr_at "$j" $((tip[i] + 1)))
    [ -n "$nx" ] && { want=$(hdr_field "$nx" 7); break; }
  done
  [ "${vah[i]}" = "$want" ] || fail "node$i's app hash after ${tip[i]}: ${vah[i]}, next header says $want"
  for j in 0 1 2 3; do
    [ "${tip[j]}" = "${tip[i]}" ] && [ "${vah[j]}" != "${vah[i]}" ] &&
      fail "node$i and node$j both end at ${tip[i]} with different app hashes"
  done
  say "  node$i  id $(block_id "$hd" | cut -c1-16)…  app hash $(hdr_field "$hd" 7 | cut -c1-16)…" \
      "  tip ${tip[i]}, app hash ${vah[i]:0:16}…"
done
ok "all four nodes hold the same block ids and app hashes"

step "done: the clearing flow ran on four validators; they are stopped and $work is removed"
