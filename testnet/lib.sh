# Helpers for scripts that drive a network testnet/up.sh started (sourced, not run).
# Needs: dir (the network's directory), bin (the built programs).

# tn_field NAME COLUMN: a column of DIR/nodes for a node (2 pid, 3 url, 4 p2p port, 5 netns)
tn_field() { awk -v k="$1" -v c="$2" '$1 == k {print $c}' "$dir/nodes"; }
tn_url() { tn_field "node$1" 3; }
tn_pid() { tn_field "node$1" 2; }
tn_count() { grep -c '^node' "$dir/nodes"; }

# tn_height I: node I's committed height (empty if it does not answer)
tn_height() { curl -s --max-time 2 "$(tn_url "$1")/v1/status" | sed -n 's/^{"chain_id":"[^"]*","height":\([0-9]*\).*/\1/p'; }

# tn_heights: "h0 h1 ..." for every node
tn_heights() { local i out=; for ((i = 0; i < $(tn_count); i++)); do out+="$(tn_height "$i") "; done; echo "$out"; }

# tn_max_height / tn_min_height over the nodes that answer
tn_max_height() { tn_heights | tr ' ' '\n' | grep . | sort -n | tail -1; }
tn_min_height() { tn_heights | tr ' ' '\n' | grep . | sort -n | head -1; }

# tn_wait_height I H [SECONDS]: until node I has committed H; fails after SECONDS (default 60)
tn_wait_height() {
  local t=$(( ${3:-60} * 10 ))
  for _ in $(seq 1 "$t"); do
    local h; h=$(tn_height "$1")
    [ -n "$h" ] && [ "$h" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "node$1 did not reach height $2 in ${3:-60} s (at '$(tn_height "$1")')" >&2
  return 1
}

# tn_wait_all H [SECONDS]
tn_wait_all() { local i; for ((i = 0; i < $(tn_count); i++)); do tn_wait_height "$i" "$1" "${2:-60}" || return 1; done; }

# tn_kill I [SIGNAL]: signals node I by its PID (default KILL) and waits for it if it dies
tn_kill() {
  local pid; pid=$(tn_pid "$1")
  kill "-${2:-KILL}" "$pid" 2>/dev/null || true
  case "${2:-KILL}" in STOP|CONT) return 0 ;; esac
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

# tn_restart I [WRAPPER...]: starts node I again with the flags it was started with (saved by
# up.sh in DIR/node<I>/start.args), optionally under a wrapper command (faketime ...)
tn_restart() {
  local i=$1; shift
  local home=$dir/node$i ns args=()
  ns=$(tn_field "node$i" 5)
  [ -f "$home/start.args" ] && mapfile -t args < "$home/start.args"
  if [ "$ns" != "-" ]; then
    ip netns exec "$ns" "$@" "$bin/clearnode" start --home "$home" "${args[@]}" >> "$home/node.log" 2>&1 &
  else
    "$@" "$bin/clearnode" start --home "$home" "${args[@]}" >> "$home/node.log" 2>&1 &
  fi
  local pid=$!
  awk -v k="node$i" -v p="$pid" '$1 == k {$2 = p} {print}' "$dir/nodes" > "$dir/nodes.tmp" &&
    mv "$dir/nodes.tmp" "$dir/nodes"
  for _ in $(seq 1 100); do
    curl -s --max-time 1 "$(tn_url "$i")/v1/status" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "node$i exited: $(tail -3 "$home/node.log")" >&2; return 1; }
    sleep 0.1
  done
}

# tn_block I H: "<block id> <app hash>" of block H on node I
tn_block() {
  curl -s --max-time 5 "$(tn_url "$1")/v1/blocks/$2" |
    sed -n 's/.*"id":"\([0-9a-f]*\)".*"app_hash":"\([0-9a-f]*\)".*/\1 \2/p'
}

# tn_check_chains: every node has the same block id and app hash at every common height.
# Prints the number of heights compared; fails naming the first difference.
tn_check_chains() {
  local n; n=$(tn_count)
  local top; top=$(tn_min_height)
  [ -n "$top" ] || { echo "no node answers" >&2; return 1; }
  local h i ref got
  for ((h = 1; h <= top; h++)); do
    ref=$(tn_block 0 "$h")
    [ -n "$ref" ] || { echo "node0 has no block $h" >&2; return 1; }
    for ((i = 1; i < n; i++)); do
      got=$(tn_block "$i" "$h")
      [ "$got" = "$ref" ] || { echo "height $h: node0 has '$ref', node$i has '$got'" >&2; return 1; }
    done
  done
  echo "$top"
}

# tn_evidence: total equivocations all nodes report (honest validators never equivocate)
tn_evidence() {
  local i s=0 v
  for ((i = 0; i < $(tn_count); i++)); do
    v=$(curl -s --max-time 2 "$(tn_url "$i")/metrics" | sed -n 's/^clearnode_evidence_total \([0-9]*\)/\1/p')
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

# tn_proxy_port I J: the proxy route node I uses to reach node J (networks started with --proxy)
tn_proxy_port() { echo $(( $(tn_field node0 3 | sed 's/.*://') + 200 + $1 * 32 + $2 )); }
