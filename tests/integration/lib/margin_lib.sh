# Helpers of the margin scenario tests (sourced after node_lib.sh; docs/margin.md).
# A one-validator chain whose genesis deploys the margin contract; member0 is custodian,
# oracle (quorum 1) and governor. Clients trade through open_position / close_position and
# their margin cash through the contract's deposit entry; every reading of the contract is a
# view called in a transaction (its receipt says "ok: returned N").
ctl=$bin/clearctl

# margin_chain CLIENTS MARGIN_JSON [JQ_FILTER]: writes $work/net with the margin contract
# deployed, params.margin = MARGIN_JSON, wide market-wide levels (a single asset's fall is the
# scenario, not the index), a 1 s breaker window, then applies JQ_FILTER; starts the node.
margin_chain() {
  local clients=$1 mj=$2 extra=${3:-.}
  CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n 1 --clients "$clients" --out "$work/net" \
    --chain-id margin-chain >/dev/null
  # assembled here: the node copies one file per contract, and margin.cas includes three
  "$bin/clearasm" build "$here/contracts/margin.cas" -o "$work/net/contracts/margin.bin" \
    >/dev/null || fail "clearasm build margin.cas"
  jq --argjson m "$mj" '.contracts += [{"name": "margin", "path": "contracts/margin.bin"}]
      | .params.margin = $m
      | .params.breakers = {"band_bps": 1000, "window_ms": 1000, "levels_bps": [9000, 9500, 9900],
                            "grace_ms": 0}
      | .params.oracle.max_age_ms = 60000
      | .assets |= map(if .symbol == "USD" then . else .risk_tier = 3 end)' \
    "$work/net/genesis.json" | jq "$extra" > "$work/net/g2.json"
  mv "$work/net/g2.json" "$work/net/genesis.json"
  keys=$work/net/keys
  home=$work/home
  "$bin/clearnode" init --home "$home" --genesis "$work/net/genesis.json" \
    --key "$keys/member0.key" >/dev/null || fail "init"
  start_node "$home" --block-interval-ms 50 --block-empty-interval-ms 100
  export CLEARNODE_NODE=$node_url
  m0=$keys/member0.key
  m0_nonce=0
  oracle_round=0
}

# m0_tx ARGS...: member0 signs with an explicit nonce (no waiting: a batch of them lands in a
# few blocks); m0_sync waits until the last one is committed.
m0_tx() {
  m0_nonce=$((m0_nonce + 1))
  "$ctl" tx "$@" --key "$m0" --nonce "$m0_nonce" --json > "$work/m0out" ||
    fail "member0 tx $*: $(cat "$work/m0out")"
  local line
  read -r line < "$work/m0out"
  [[ $line =~ \"hash\":\"([0-9a-f]{64})\" ]] || fail "member0 tx $*: no hash in $line"
  m0_last=${BASH_REMATCH[1]}
}
m0_sync() { [ -z "${m0_last:-}" ] || wait_receipt "$m0_last" > /dev/null; }

# clients_setup N USD_EACH [FIRST]: registers clientFIRST..N-1, mints USD_EACH micro-USD to
# each and has each move it into margin cash (contract deposit). Sets pub[i].
clients_setup() {
  local n=$1 amt=$2 first=${3:-0} i
  for ((i = first; i < n; i++)); do
    pub[i]=$("$ctl" keys show "$keys/client$i.key")
    m0_tx register-client --pubkey "${pub[i]}" --label "c$i"
    m0_tx deposit --account "${pub[i]}" --asset USD --amount "$amt" --ref "wire-$i-$amt"
  done
  m0_sync
  for ((i = first; i < n; i++)); do
    "$ctl" tx call --contract margin --entry deposit --args "$amt" --allow-asset USD \
      --allow-amount "$amt" --key "$keys/client$i.key" --nonce 1 --json > "$work/dep$i" ||
      fail "margin deposit $i: $(cat "$work/dep$i")"
  done
  for ((i = first; i < n; i++)); do
    local r
    r=$(wait_receipt "$(head -1 "$work/dep$i" | json_field hash)")
    echo "$r" | grep -q '"code":0' || fail "margin deposit $i: $r"
    margin_in=$((margin_in + amt))
  done
}

# price ASSET MICRO_USD: member0 reports and waits; the price is published at that block's end.
price() {
  oracle_round=$((oracle_round + 1))
  m0_tx oracle-report --asset "$1" --price "$2" --round "$oracle_round"
  m0_sync
}

# words HEX: the account id as the contract's four signed big-endian int64 words.
words() {
  local h=$1
  echo "$((16#${h:0:16})),$((16#${h:16:16})),$((16#${h:32:16})),$((16#${h:48:16}))"
}

# view ENTRY ARGS: calls a read-only entry as member0; sets V to the returned value (not a
# subshell, so member0's nonce count survives).
view() {
  m0_tx call --contract margin --entry "$1" ${2:+--args "$2"}
  local r
  r=$(wait_receipt "$m0_last")
  V=$(returned "$r")
  [ -n "$V" ] || fail "view $1 ${2:-}: $r"
}

# trade CLIENT ARGS...: clearctl tx open|close as client CLIENT, waiting; prints the receipt.
trade() {
  local c=$1; shift
  "$ctl" tx "$@" --key "$keys/client$c.key" --wait --json 2>&1 || true
}

# Bookkeeping of the USD that entered and left margin cash, kept by the scenario itself.
margin_in=0
margin_out=0

# check_conservation N_CLIENTS: sum(cash) + house + insurance - bad debt, each read through
# its own view, equals what the scenario moved into margin cash minus what it took out, to
# the micro-USD; the contract's own sum (conserved) agrees.
check_conservation() {
  local n=$1 sum=0 i c h ins bad
  for ((i = 0; i < n; i++)); do
    view cash "$(words "${pub[i]}")"
    sum=$((sum + V))
  done
  view globals 0; h=$V; view globals 1; ins=$V; view globals 2; bad=$V
  local lhs=$((sum + h + ins - bad)) rhs=$((margin_in - margin_out))
  [ "$lhs" = "$rhs" ] || fail "conservation: cash $sum + house $h + insurance $ins - bad debt $bad = $lhs, deposits - withdrawals = $rhs"
  view conserved
  [ "$V" = "$lhs" ] || fail "conserved() disagrees with the sum of the views"
}
