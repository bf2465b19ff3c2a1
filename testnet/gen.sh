#!/usr/bin/env bash
# Makes keys and a genesis for a test network of N members (docs/operator.md, "Test networks").
#
#   testnet/gen.sh -n N --out DIR [--chain-id ID] [--clients M] [--encrypted]
#                  [--approvers K] [--tier0 APPROVALS:COOLDOWN_MS]
#                  [--margin] [--epoch-blocks E] [--oracle-max-age MS]
#
# Writes:
#   DIR/genesis.json          N members, all validators with power 10, plus roles:
#                               member0: custodian, governor, approver, oracle, liquidator
#                               member i%4==1: custodian, oracle, approver
#                               member i%4==2: oracle, approver, liquidator
#                               member i%4==3: governor, oracle, auditor
#                             demo assets USD, AAPL, MSFT, SPY; oracle quorum and governance
#                             threshold a majority of their role holders; contract
#                             margin_math (DIR/contracts/margin_math.cas) deployed at genesis
#   DIR/keys/member<i>.key    member keys (plaintext dev keys unless --encrypted, which takes the
#                             passphrase from CLEARNODE_PASSPHRASE)
#   DIR/keys/client<j>.key    M client keys (default 2), not in genesis: members register them
#   DIR/keys/approver<k>.key  K extra members with only the approver role (default 0; no power)
#   --tier0 M:C               the first withdrawal tier needs M approvals and a C ms cooldown
#                             (default 1:0)
#   --margin                  also deploy the margin contract: contracts/margin.cas assembled
#                             by clearasm into DIR/contracts/margin.bin, deployed as "margin"
#                             (params.margin as above; docs/margin.md "On chain")
#   --epoch-blocks E          params.reserves.epoch_blocks (default 1000)
#   --oracle-max-age MS       params.oracle.max_age_ms (default 10000)
#   DIR/members.txt           "<name> <pubkey> <roles>" per member
# Finds clearctl (and clearasm) in $CLEARNODE_BIN, build/release/bin, or PATH.
set -euo pipefail

n=1 out= chain=clearnode-testnet clients=2 enc=0 xappr=0 tier0=1:0
margin=0 epoch_blocks=1000 max_age=10000
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --chain-id) chain=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --encrypted) enc=1; shift ;;
    --approvers) xappr=$2; shift 2 ;;
    --tier0) tier0=$2; shift 2 ;;
    --margin) margin=1; shift ;;
    --epoch-blocks) epoch_blocks=$2; shift 2 ;;
    --oracle-max-age) max_age=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gen.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "gen.sh: --out DIR is required" >&2; exit 2; }
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 64 ] || { echo "gen.sh: -n must be 1..64" >&2; exit 2; }
[[ $clients =~ ^[0-9]+$ ]] || { echo "gen.sh: --clients must be a number" >&2; exit 2; }
[[ $xappr =~ ^[0-9]+$ ]] && [ "$xappr" -le 15 ] || { echo "gen.sh: --approvers must be 0..15" >&2; exit 2; }
[[ $tier0 =~ ^[0-9]+:[0-9]+$ ]] || { echo "gen.sh: --tier0 must be APPROVALS:COOLDOWN_MS" >&2; exit 2; }
[[ $chain =~ ^[A-Za-z0-9._-]{1,64}$ ]] || { echo "gen.sh: bad --chain-id" >&2; exit 2; }
[[ $epoch_blocks =~ ^[1-9][0-9]{0,8}$ ]] && [ "$epoch_blocks" -le 100000000 ] ||
  { echo "gen.sh: --epoch-blocks must be 1..100000000" >&2; exit 2; }
[[ $max_age =~ ^[1-9][0-9]{0,6}$ ]] && [ "$max_age" -le 3600000 ] ||
  { echo "gen.sh: --oracle-max-age must be 1..3600000 ms" >&2; exit 2; }

here=$(cd "$(dirname "$0")/.." && pwd)
ctl=
for c in "${CLEARNODE_BIN:-}/clearctl" "$here/build/release/bin/clearctl" "$(command -v clearctl || true)"; do
  [ -n "$c" ] && [ -x "$c" ] && { ctl=$c; break; }
done
[ -n "$ctl" ] || { echo "gen.sh: clearctl not found (run 'make' first)" >&2; exit 1; }
asm=
if [ "$margin" = 1 ]; then
  for c in "${CLEARNODE_BIN:-}/clearasm" "$here/build/release/bin/clearasm" "$(command -v clearasm || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && { asm=$c; break; }
  done
  [ -n "$asm" ] || { echo "gen.sh: clearasm not found (run 'make' first)" >&2; exit 1; }
fi
if [ -e "$out/genesis.json" ]; then echo "gen.sh: $out/genesis.json exists" >&2; exit 1; fi
mkdir -p "$out/keys"

newkey() { # $1 = file
  if [ "$enc" = 1 ]; then "$ctl" keys new --out "$1"
  else "$ctl" keys new --dev --out "$1" 2>/dev/null; fi
}

roles_of() { # $1 = index
  if [ "$1" -eq 0 ]; then echo "validator custodian governor approver oracle liquidator"
  else case $(( $1 % 4 )) in
    1) echo "validator custodian oracle approver" ;;
    2) echo "validator oracle approver liquidator" ;;
    3) echo "validator governor oracle auditor" ;;
    0) echo "validator custodian oracle" ;;
  esac; fi
}

oracles=0 governors=0 approvers=0 members=
: > "$out/members.txt"
for ((i = 0; i < n; i++)); do
  pub=$(newkey "$out/keys/member$i.key")
  roles=$(roles_of "$i")
  for r in $roles; do
    case $r in oracle) oracles=$((oracles+1));; governor) governors=$((governors+1));; approver) approvers=$((approvers+1));; esac
  done
  json_roles=$(printf '"%s",' $roles); json_roles=${json_roles%,}
  members+="    {\"name\": \"member$i\", \"pubkey\": \"$pub\", \"roles\": [$json_roles], \"power\": 10}"
  [ "$i" -lt $((n - 1)) ] && members+=$',\n'
  echo "member$i $pub $roles" >> "$out/members.txt"
done
for ((k = 0; k < xappr; k++)); do
  pub=$(newkey "$out/keys/approver$k.key")
  members+=$',\n'"    {\"name\": \"approver$k\", \"pubkey\": \"$pub\", \"roles\": [\"approver\"]}"
  approvers=$((approvers+1))
  echo "approver$k $pub approver" >> "$out/members.txt"
done
for ((j = 0; j < clients; j++)); do newkey "$out/keys/client$j.key" >/dev/null; done

quorum=$(( oracles / 2 + 1 )); threshold=$(( governors / 2 + 1 ))
# The oracle quorum must be odd (docs/oracle.md): round an even majority down.
[ $(( quorum % 2 )) -eq 1 ] || quorum=$(( quorum - 1 ))
tier2=$(( approvers >= 2 ? 2 : 1 ))
t0m=${tier0%%:*} t0c=${tier0##*:}
[ "$t0m" -ge 1 ] && [ "$t0m" -le "$approvers" ] || { echo "gen.sh: --tier0 approvals must be 1..$approvers" >&2; exit 2; }
[ "$tier2" -ge "$t0m" ] || tier2=$t0m
now_ms=$(( $(date +%s) * 1000 ))
mkdir -p "$out/contracts"   # deployed at genesis, assembled and verified by the node
cp "$here/contracts/margin_math.cas" "$out/contracts/margin_math.cas"
contracts='{"name": "margin_math", "path": "contracts/margin_math.cas"}'
if [ "$margin" = 1 ]; then
  # assembled here: the node copies one file per contract, and margin.cas includes three
  "$asm" build "$here/contracts/margin.cas" -o "$out/contracts/margin.bin" >/dev/null ||
    { echo "gen.sh: clearasm could not build contracts/margin.cas" >&2; exit 1; }
  contracts+=$',\n                {"name": "margin", "path": "contracts/margin.bin"}'
fi
cat > "$out/genesis.json" <<JSON
{
  "chain_id": "$chain",
  "genesis_time": $now_ms,
  "members": [
$members
  ],
  "assets": [
    {"symbol": "USD", "decimals": 6, "risk_tier": 1, "haircut_bps": 0,
     "initial_margin_bps": 10000, "maintenance_margin_bps": 10000,
     "liquidation_penalty_bps": 0, "reference_price": 1000000},
    {"symbol": "AAPL", "decimals": 4, "risk_tier": 2, "haircut_bps": 1500,
     "initial_margin_bps": 5000, "maintenance_margin_bps": 2500,
     "liquidation_penalty_bps": 500, "reference_price": 190000000},
    {"symbol": "MSFT", "decimals": 4, "risk_tier": 2, "haircut_bps": 1500,
     "initial_margin_bps": 5000, "maintenance_margin_bps": 2500,
     "liquidation_penalty_bps": 500, "reference_price": 410000000},
    {"symbol": "SPY", "decimals": 4, "risk_tier": 1, "haircut_bps": 1000,
     "initial_margin_bps": 5000, "maintenance_margin_bps": 2500,
     "liquidation_penalty_bps": 300, "reference_price": 520000000}
  ],
  "params": {
    "block": {"max_txs": 5000, "max_bytes": 2097152},
    "mempool": {"max_txs": 50000, "max_bytes": 67108864, "nonce_window": 64},
    "reserves": {"epoch_blocks": $epoch_blocks},
    "oracle": {"quorum": $quorum, "max_age_ms": $max_age, "band_bps": 500, "max_spread_bps": 1000},
    "breakers": {"band_bps": 1000, "window_ms": 300000, "levels_bps": [700, 1300, 2000],
                 "grace_ms": 60000},
    "margin": {"initial_floor_bps": 5000, "maintenance_floor_bps": 2500},
    "custody": {"tiers": [{"min_amount_usd": 0, "approvals": $t0m, "cooldown_ms": $t0c},
                          {"min_amount_usd": 100000000000, "approvals": $tier2,
                           "cooldown_ms": 60000}],
                "withdraw_max_expiry_ms": 604800000},
    "governance": {"threshold": $threshold, "max_expiry_ms": 2592000000}
  },
  "contracts": [$contracts]
}
JSON
echo "testnet: $n member(s), $clients client key(s), chain '$chain' in $out"
