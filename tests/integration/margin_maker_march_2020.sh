#!/usr/bin/env bash
# Maker, March 2020, on a real node: the price falls by half in steps across the "day", many
# leveraged accounts cross at once, the insurance fund is thin (no trading fee, so it holds
# only penalties), and the pass may liquidate one account per block (cap 1).
# Checked from the views each block (the views of one block run before its pass):
#   - per-block work stays capped: in any run of blocks, no more accounts were liquidated
#     than the cap times the blocks;
#   - the queue drains worst first: an account with higher leverage (lower equity over
#     maintenance at every price) is never liquidated after one with lower leverage, ties by
#     account id;
#   - every sale after the last tick is at the oracle price less the 5% penalty, never lower;
#   - negative equity closes with a shortfall paid by the fund and then booked as bad debt;
#   - accounts the fall never crossed are untouched; conservation holds to the micro-USD.
set -euo pipefail
source "$(dirname "$0")/lib/node_lib.sh"
source "$(dirname "$0")/lib/margin_lib.sh"
work=$(mktemp -d /tmp/cn-margin-maker-XXXXXX)
node_pid=
trap '[ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null; rm -rf "$work"' EXIT

# deposit per client (micro-USD) for 100 shares at 100 USD: leverage 10000 / deposit.
deps=(2100 2100 2200 2500 2500 2800 3300 4000 5000 5500 6200 7200 8000 9500)
n=${#deps[@]}
margin_chain "$n" '{"initial_floor_bps": 2000, "maintenance_floor_bps": 2000, "fee_bps": 0,
  "penalty_bps": 500, "close_factor_bps": 10000, "max_liquidations_per_block": 1}' \
  '.assets |= map(if .symbol == "AAPL" then .maintenance_margin_bps = 2000 else . end)'
# no empty blocks: a block comes only with transactions, so the test counts them
stop_node
start_node "$home" --block-interval-ms 50 --block-empty-interval-ms 0
export CLEARNODE_NODE=$node_url
price AAPL 100000000
for ((i = 0; i < n; i++)); do clients_setup $((i + 1)) $((deps[i] * 1000000)) "$i"; done
for ((i = 0; i < n; i++)); do
  r=$(trade "$i" open --asset AAPL --side long --quantity 1000000)
  echo "$r" | grep -q '"code":0' || fail "open $i: $r"
done
check_conservation "$n"

# snapshot: every account's position, cash and the block height its views ran in.
snap=0
snapshot() {
  local i r
  local hpos=() hcash=()
  for ((i = 0; i < n; i++)); do
    m0_tx call --contract margin --entry position --args "$(words "${pub[i]}"),1,0"
    hpos[i]=$m0_last
    m0_tx call --contract margin --entry cash --args "$(words "${pub[i]}")"
    hcash[i]=$m0_last
  done
  m0_sync # member0's txs commit in nonce order: the last one's receipt means all are there
  local rp=() rc=()
  mapfile -t rp < <(receipts "${hpos[@]}")
  mapfile -t rc < <(receipts "${hcash[@]}")
  for ((i = 0; i < n; i++)); do
    local q hq= c
    q=$(returned "${rp[i]}")
    [[ ${rp[i]} =~ \"height\":([0-9]+) ]] && hq=${BASH_REMATCH[1]}
    c=$(returned "${rc[i]}")
    [ -n "$q" ] && [ -n "$hq" ] && [ -n "$c" ] || fail "snapshot $snap, account $i: ${rp[i]} ${rc[i]}"
    echo "$snap $i $hq $q $c" >> "$work/obs"
  done
  snap=$((snap + 1))
}

snapshot
# the fall: steps under the 20% band of a tier-3 asset, each after the 1 s window emptied;
# only the four report blocks run passes on the way down, so most accounts meet the last
# price still unliquidated, several with negative equity
for p in 82000000 67000000 55000000 48000000; do sleep 1.1; price AAPL "$p"; done
for _ in $(seq 1 $((n + 2))); do snapshot; done
view globals 1; ins=$V; view globals 2; bad=$V
check_conservation "$n"
stop_node
"$bin/clearnode" verify --home "$home" --replay > "$work/verify" || fail "replay: $(cat "$work/verify")"

printf '%s\n' "${pub[@]}" > "$work/pubs"
printf '%s\n' "${deps[@]}" > "$work/deps"
python3 - "$work" "$bad" <<'PY' || fail "checks on the observations"
import sys
work, bad = sys.argv[1], int(sys.argv[2])
pubs = open(work + "/pubs").read().split()
deps = [int(x) for x in open(work + "/deps").read().split()]
obs = {}
for line in open(work + "/obs"):
    s, i, h, q, c = map(int, line.split())
    obs.setdefault(i, []).append((s, h, q, c))
Q0, CAP, P_LAST = 100000000, 1, 48000000
# first liquidation of each account as a height interval [lo, hi]: a view in block h sees
# the state after block h-1's pass
iv = {}
for i, rows in obs.items():
    lo, hi = 0, None
    for s, h, q, c in sorted(rows, key=lambda r: r[1]):
        if q == Q0:
            lo = max(lo, h)
        elif hi is None:
            hi = h - 1
    if hi is not None:
        iv[i] = (lo, hi)
crossed = [i for i in range(len(deps)) if (10000 - deps[i]) * 100 >= 0.8 * 10000 * 48]
assert set(iv) == set(crossed), ("liquidated", sorted(iv), "expected", crossed)
never = [i for i in range(len(deps)) if i not in crossed]
assert all(r[2] == Q0 for i in never for r in obs[i]), "an uncrossed account was touched"
# worst first: lower deposit (higher leverage) first; equal deposits by account id
order = sorted(iv, key=lambda i: (deps[i], bytes.fromhex(pubs[i])))
for a_pos, a in enumerate(order):
    for b in order[a_pos + 1:]:
        assert iv[a][0] <= iv[b][1], ("account", a, "liquidated after", b, iv[a], iv[b])
# the cap: in any run of blocks [x, y], at most CAP * (y - x + 1) first liquidations
bounds = sorted({v for lo_hi in iv.values() for v in lo_hi})
for x in bounds:
    for y in bounds:
        if y >= x:
            k = sum(1 for lo, hi in iv.values() if lo >= x and hi <= y)
            assert k <= CAP * (y - x + 1), ("cap", x, y, k)
# sales after the last tick: cash moves by floor(x P) less the penalty, at P = 48 USD
last_tick = min(r[1] for r in obs[0] if r[0] == 1)
checked = 0
for i, rows in obs.items():
    rows = sorted(rows, key=lambda r: r[1])
    for a, b in zip(rows, rows[1:]):
        if a[1] >= last_tick and b[2] < a[2] and b[2] > 0:
            x = a[2] - b[2]
            gross = x * P_LAST // 1000000
            pen = (gross * 500 + 9999) // 10000
            assert b[3] - a[3] == gross - pen, ("sale below the oracle price", i, a, b)
            checked += 1
        if a[1] >= last_tick and b[2] == 0 and a[2] > 0:
            assert b[3] == 0, ("a closed shortfall leaves cash 0", i, b)
assert checked + sum(1 for i in iv if obs[i][-1][2] == 0) > 0
assert bad > 0, "thin insurance: a shortfall must end in booked bad debt"
print("liquidated", len(iv), "of", len(deps), "; bad debt", bad)
PY
echo "margin Maker March 2020: ok (insurance $ins, bad debt $bad)"
