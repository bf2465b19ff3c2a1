#!/usr/bin/env bash
# The margin formulas end to end through transactions on a real one-validator node
# (docs/margin.md "Liquidation prices"): clients open positions with `clearctl tx open`, the
# oracle moves the price, and the end-of-block pass liquidates exactly when the formula says:
#   L = 4, m = 20%   long liquidation price 93.75 USD (-6.25%): 93.75 keeps it, 93.74 liquidates;
#   L = 2, m = 25%   66.666667 USD (-33.3%): 66.666667 keeps it, 66.666666 liquidates;
#   short, 50% initial, m = 30%: 115.384615 USD (+15.4%): one micro-USD above liquidates;
#   L = 5 with m = 20% (L x m = 1) is refused at open with code margin.
# Each liquidation sells at the oracle price less the 5% penalty (checked from the cash, the
# position and the insurance fund), and conservation holds to the micro-USD throughout.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
source "$(dirname "$0")/lib/margin_lib.sh"
work=$(mktemp -d /tmp/cn-margin-formulas-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

# im_long = mm floor = 20%; AAPL house 20%, MSFT 25%, SPY 25% (shorts: 30% floor).
margin_chain 4 '{"initial_floor_bps": 2000, "maintenance_floor_bps": 2000, "fee_bps": 0,
  "penalty_bps": 500, "close_factor_bps": 10000}' \
  '.assets |= map(if .symbol == "AAPL" then .maintenance_margin_bps = 2000 else . end)'
price AAPL 100000000; price MSFT 100000000; price SPY 100000000
clients_setup 1 2500000000
clients_setup 2 5000000000 1
clients_setup 3 2000000000 2
clients_setup 4 5000000000 3

# 100 shares (4 decimals) each
r=$(trade 0 open --asset AAPL --side long --quantity 1000000)
echo "$r" | grep -q '"code":0' || fail "4x long: $r"
echo "$r" | grep -q '"type":"margin.open"' || fail "open event: $r"
r=$(trade 1 open --asset MSFT --side long --quantity 1000000)
echo "$r" | grep -q '"code":0' || fail "2x long: $r"
r=$(trade 2 open --asset AAPL --side long --quantity 1000000)
echo "$r" | grep -q '"code_name":"margin"' || fail "5x long with m = 20% not refused: $r"
echo "$r" | grep -q 'leverage' || fail "refusal reason: $r"
r=$(trade 3 open --asset SPY --side short --quantity 1000000)
echo "$r" | grep -q '"code":0' || fail "short: $r"

w0=$(words "${pub[0]}"); w1=$(words "${pub[1]}"); w3=$(words "${pub[3]}")
view position "$w0,1,2"; [ "$V" = 93750000 ] || fail "indexed liquidation price of the 4x long: $V"
view position "$w1,2,2"; [ "$V" = 66666667 ] || fail "indexed liquidation price of the 2x long: $V"
view position "$w3,3,2"; [ "$V" = 115384615 ] || fail "indexed liquidation price of the short: $V"
check_conservation 4

# liquidated_at CLIENT_WORDS ASSET PRICE Q0 CASH0 INS0: the step sold x at PRICE less 5%.
liquidated_at() {
  local w=$1 a=$2 p=$3 q0=$4 c0=$5 i0=$6 q1 c1 i1 x gross pen
  view position "$w,$a,0"; q1=$V; view cash "$w"; c1=$V; view globals 1; i1=$V
  x=$(( q0 > 0 ? q0 - q1 : q1 - q0 ))
  [ "$x" -gt 0 ] || fail "asset $a not liquidated at $p"
  if [ "$q0" -gt 0 ]; then
    gross=$(( x * p / 1000000 )); pen=$(( (gross * 500 + 9999) / 10000 ))
    [ $((c1 - c0)) = $((gross - pen)) ] || fail "long sold at $p less penalty: cash moved $((c1 - c0)), expected $((gross - pen))"
  else
    gross=$(( (x * p + 999999) / 1000000 )); pen=$(( (gross * 500 + 9999) / 10000 ))
    [ $((c0 - c1)) = $((gross + pen)) ] || fail "short bought at $p plus penalty: cash moved $((c0 - c1)), expected $((gross + pen))"
  fi
  [ $((i1 - i0)) = "$pen" ] || fail "penalty $pen not in the insurance fund ($((i1 - i0)))"
}

# 4x long: -6.24%, exactly -6.25% (equity = maintenance: kept), then one micro-USD lower.
price AAPL 93760000; price AAPL 93750000
view position "$w0,1,0"; [ "$V" = 100000000 ] || fail "4x long liquidated at or above 93.75: $V"
view cash "$w0"; c=$V; view globals 1; ins=$V
price AAPL 93740000
liquidated_at "$w0" 1 93740000 100000000 "$c" "$ins"

# 2x long with 25% maintenance: -33.3%. The band breaker compares with the last price once the
# 1 s window is empty, so the fall goes in steps of under 20%.
sleep 1.1; price MSFT 80000000; sleep 1.1; price MSFT 66666667
view position "$w1,2,0"; [ "$V" = 100000000 ] || fail "2x long liquidated at 66.666667: $V"
view cash "$w1"; c=$V; view globals 1; ins=$V
price MSFT 66666666
liquidated_at "$w1" 2 66666666 100000000 "$c" "$ins"

# short: +15.38%
price SPY 115384615
view position "$w3,3,0"; [ "$V" = -100000000 ] || fail "short liquidated at 115.384615: $V"
view cash "$w3"; c=$V; view globals 1; ins=$V
price SPY 115384616
liquidated_at "$w3" 3 115384616 -100000000 "$c" "$ins"

check_conservation 4
stop_node
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" || fail "replay: $(cat "$work/verify")"
echo "margin formulas end to end: ok"
