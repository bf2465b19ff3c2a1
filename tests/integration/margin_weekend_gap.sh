#!/usr/bin/env bash
# Weekend gap on a real node: Friday's price goes stale over the "weekend" (max_age 3 s), and
# Monday opens 30% lower. While stale nothing trades, nothing leaves the margin accounts and
# nothing is liquidated at the Friday price; the -30% open trips the band breaker, so nothing
# is liquidated at the halted price either. Governance resumes the asset (no grace period in
# this genesis): the next report publishes the new price and every account it crosses is
# liquidated in that block at the new price less the penalty; negative equity ends in a
# shortfall paid by the insurance fund, then bad debt; uncrossed accounts are untouched;
# conservation holds to the micro-USD.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
source "$(dirname "$0")/lib/margin_lib.sh"
work=$(mktemp -d /tmp/cn-margin-weekend-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

deps=(2200 2600 3000 3500 5000 7000)   # leverage 4.5, 3.8, 3.3, 2.9, 2, 1.4
n=${#deps[@]}
margin_chain "$n" '{"initial_floor_bps": 2000, "maintenance_floor_bps": 2000, "fee_bps": 0,
  "penalty_bps": 500, "close_factor_bps": 10000}' \
  '.assets |= map(if .symbol == "AAPL" then .maintenance_margin_bps = 2000 else . end)
   | .params.oracle.max_age_ms = 3000'
price AAPL 100000000
for ((i = 0; i < n; i++)); do clients_setup $((i + 1)) $((deps[i] * 1000000)) "$i"; done
for ((i = 0; i < n; i++)); do
  r=$(trade "$i" open --asset AAPL --side long --quantity 1000000)
  echo "$r" | grep -q '"code":0' || fail "open $i: $r"
done

# the weekend: no report for longer than max_age
sleep 3.5
view globals 1   # a block at weekend time
curl -sf "$node_url/v1/oracle/AAPL" | grep -q '"state":"stale"' ||
  fail "AAPL not stale: $(curl -s "$node_url/v1/oracle/AAPL")"
r=$(trade 5 open --asset AAPL --side long --quantity 10000)
echo "$r" | grep -q '"code_name":"halted"' || fail "opened at a stale price: $r"
m0_tx deposit --account "${pub[5]}" --asset USD --amount 1 --ref weekend; m0_sync
r=$("$ctl" tx call --contract margin --entry withdraw --args 1000000 --key "$keys/client5.key" --wait --json 2>&1 || true)
echo "$r" | grep -q 'reverted with code 22' || fail "margin withdrawal at a stale price: $r"

# Monday: -30% at the open, beyond the 20% band: halted, not published
price AAPL 70000000
curl -sf "$node_url/v1/oracle/AAPL" | grep -q '"state":"halted"' ||
  fail "the gap did not halt AAPL: $(curl -s "$node_url/v1/oracle/AAPL")"
for ((i = 0; i < n; i++)); do
  view position "$(words "${pub[i]}"),1,0"
  [ "$V" = 100000000 ] || fail "account $i liquidated at a stale or halted price"
  view cash "$(words "${pub[i]}")"; cash0[i]=$V
done
view globals 1; ins0=$V; view globals 2; bad0=$V
[ "$bad0" = 0 ] || fail "bad debt before the open"

# (tx propose takes its nonce from the node: everything of member0's is committed)
"$ctl" tx propose --resume-market AAPL --expiry +3600 --key "$m0" --wait > "$work/out" ||
  fail "resume: $(cat "$work/out")"
m0_nonce=$((m0_nonce + 1))
price AAPL 70000000
curl -sf "$node_url/v1/oracle/AAPL" | grep -q '"price":"70000000"' || fail "not reopened at 70"
shortfalls=0
for ((i = 0; i < n; i++)); do
  view position "$(words "${pub[i]}"),1,0"; q=$V
  view cash "$(words "${pub[i]}")"; c=$V
  # crossed when 70 <= (1 - 1/L) / (1 - 20%) x 100
  if (( (10000 - deps[i]) * 100 >= 8000 * 70 )); then
    [ "$q" -lt 100000000 ] || fail "account $i not liquidated at the open"
    x=$((100000000 - q)); gross=$(( x * 70000000 / 1000000 )); pen=$(( (gross * 500 + 9999) / 10000 ))
    want=$((cash0[i] + gross - pen))
    if [ "$q" = 0 ] && [ "$want" -lt 0 ]; then
      # negative equity: closed in full, the shortfall went to the fund and bad debt
      [ "$c" = 0 ] || fail "account $i closed short with cash $c"
      shortfalls=$((shortfalls + 1))
    else
      [ "$c" = "$want" ] || fail "account $i sold below 70 less 5%: cash $c, expected $want"
    fi
  else
    [ "$q" = 100000000 ] && [ "$c" = "${cash0[i]}" ] || fail "uncrossed account $i touched"
  fi
done
[ "$shortfalls" -gt 0 ] || fail "no account ended with a shortfall"
view globals 2; bad=$V
[ "$bad" -gt 0 ] || fail "the shortfall was not booked as bad debt (insurance $ins0)"
check_conservation "$n"
# The liquidations are in the end-of-block events of the block that made them, readable by
# height from the API: one margin.liquidation per crossed account, and the shortfalls.
# Each crossed account got its margin call (margin.queued) when it entered the queue, and
# left the queue (margin.unqueued) once its liquidation restored it.
top=$(height); nliq=0; nshort=0; ncall=0; nleft=0
count() { (grep -o "\"type\":\"$1\"" <<<"$b" || true) | wc -l; }
for ((h = 1; h <= top; h++)); do
  b=$(curl -sf "$node_url/v1/blocks/$h") || fail "block $h"
  nliq=$((nliq + $(count margin.liquidation)))
  nshort=$((nshort + $(count margin.shortfall)))
  ncall=$((ncall + $(count margin.queued)))
  nleft=$((nleft + $(count margin.unqueued)))
done
crossed=0
for ((i = 0; i < n; i++)); do (( (10000 - deps[i]) * 100 >= 8000 * 70 )) && crossed=$((crossed + 1)); done
[ "$nliq" -ge "$crossed" ] || fail "$nliq margin.liquidation events for $crossed crossed accounts"
[ "$nshort" = "$shortfalls" ] || fail "$nshort margin.shortfall events, $shortfalls shortfalls"
[ "$ncall" = "$crossed" ] || fail "$ncall margin.queued events for $crossed crossed accounts"
[ "$nleft" = "$crossed" ] || fail "$nleft margin.unqueued events for $crossed crossed accounts"
# The operator's view of the same: an empty queue, and the fund and bad debt as booked.
view globals 1; ins=$V
metrics=$(curl -sf "$node_url/metrics") || fail "metrics"
grep -qx "clearnode_margin_queue_accounts 0" <<<"$metrics" || fail "queue gauge: $metrics"
grep -qx "clearnode_margin_bad_debt $bad" <<<"$metrics" || fail "bad debt gauge, want $bad"
grep -qx "clearnode_margin_insurance_fund $ins" <<<"$metrics" || fail "fund gauge, want $ins"
stop_node
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" || fail "replay: $(cat "$work/verify")"
echo "margin weekend gap: ok ($shortfalls shortfalls, bad debt $bad)"
