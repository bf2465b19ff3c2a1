# Helpers shared by the node_*.sh integration tests (sourced, not run on its own).
# Needs CLEARNODE_BIN. Every node is started on 127.0.0.1 with a free random high port and
# stopped by its own PID.
bin=${CLEARNODE_BIN:?CLEARNODE_BIN must point at the built programs}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
fail() { echo "FAIL: $*"; [ -n "${node_log:-}" ] && [ -f "$node_log" ] && tail -20 "$node_log"; exit 1; }

# Prints a port nobody listens on.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768+)
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# start_node HOME [flags...]: starts clearnode on a free port; sets node_pid, node_url, node_log.
start_node() {
  local home=$1; shift
  for _ in 1 2 3 4 5; do
    node_port=$(free_port) || fail "no free port"
    node_url="http://127.0.0.1:$node_port"
    node_log="$home/node.log"
    "$bin/clearnode" start --home "$home" --api-listen "127.0.0.1:$node_port" "$@" >>"$node_log" 2>&1 &
    node_pid=$!
    for _ in $(seq 1 100); do
      if curl -sf "$node_url/v1/status" >/dev/null 2>&1; then return 0; fi
      kill -0 "$node_pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true
    grep -q "cannot listen" "$node_log" || fail "node did not start"
  done
  fail "node did not start on any port"
}

# stop_node: SIGTERM by PID and wait; fails if the node does not stop cleanly.
stop_node() {
  kill -TERM "$node_pid" 2>/dev/null || true
  local rc=0
  wait "$node_pid" || rc=$?
  node_pid=
  [ "$rc" -eq 0 ] || fail "node exited with $rc"
}

kill_node() { kill -9 "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; node_pid=; }

height() { curl -s "$node_url/v1/status" | sed -n 's/.*"height":\([0-9]*\).*/\1/p'; }

# wait_height N: waits until the node reports height >= N.
wait_height() {
  for _ in $(seq 1 200); do
    [ "$(height)" -ge "$1" ] 2>/dev/null && return 0
    sleep 0.05
  done
  fail "height did not reach $1"
}

# post_tx FILE: posts raw Signed bytes; prints "<status> <body>".
post_tx() {
  curl -s -o "$work/resp" -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
    --data-binary @"$1" "$node_url/v1/tx" > "$work/code"
  echo "$(cat "$work/code") $(cat "$work/resp")"
}

# wait_receipt HASH: waits until GET /v1/tx/HASH answers 200; prints the body.
wait_receipt() {
  local i r
  for ((i = 0; i < 200; i++)); do
    if r=$(curl -sf "$node_url/v1/tx/$1" 2>/dev/null); then printf '%s\n' "$r"; return 0; fi
    sleep 0.05
  done
  fail "no receipt for $1"
}

# receipts HASH...: the committed receipts of these txs, one per line (each body ends with a
# newline), in one curl; a missing one fails the test, so wait for the last first.
receipts() {
  local h
  for h in "$@"; do printf 'url = "%s/v1/tx/%s"\n' "$node_url" "$h"; done > "$work/urls"
  curl -sf -K "$work/urls" || fail "a receipt is missing among $*"
}

# returned RECEIPT: the integer a view call returned ("ok: returned N"), or nothing.
returned() {
  [[ $1 =~ \"message\":\"ok:\ returned\ (-?[0-9]+)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}"
  return 0
}

json_field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }
