#!/usr/bin/env bash
# Starts a local test network of N validators (docs/operator.md, "Test networks").
#
#   testnet/up.sh [-n N] [--dir DIR] [--base-port P] [--netns] [--proxy]
#                 [--chain-id ID] [--clients M] [--approvers K] [--tier0 M:C]
#                 [--margin] [--epoch-blocks E] [--oracle-max-age MS]
#                 [--reserves-secret FILE] [-- clearnode start flags...]
#
# Makes keys and a genesis (testnet/gen.sh) in DIR/net, a home per validator in DIR/node<i>,
# starts every validator, waits until the chain makes blocks, and prints each node's API URL.
#   -n N           validators (default 4)
#   --dir DIR      where everything goes (default $TMPDIR/clearnode-testnet); must not hold a
#                  running network (testnet/down.sh stops it)
#   --base-port P  node i listens on P+2i (API) and P+2i+1 (P2P); default: a free range
#   --proxy        validators reach each other through testnet/proxy (one route per ordered
#                  pair, ports P+200+...), so testnet/faults.sh can add delay and loss
#   --netns        each validator in its own network namespace cn<tag>-<i>, one veth pair per
#                  pair of validators (v<i>-<j> in namespace i holds 10.78.<i>.<j>), plus one
#                  veth to the host for its API (10.79.<i>.2, host side 10.79.<i>.1); needs
#                  root. Cut a link with `ip -n cn<tag>-<i> link set v<i>-<j> down`.
#   --clients, --approvers, --tier0, --margin, --epoch-blocks, --oracle-max-age
#                  passed to testnet/gen.sh (see its --help)
#   --reserves-secret FILE  the consortium reserves key (64 hex digits), given to every
#                  validator's `clearnode init` (docs/reserves.md "Salts")
# Writes DIR/nodes: one line per node "name pid api_url p2p_addr netns(-)", which
# testnet/down.sh and testnet/faults.sh read. Stops what it started if anything fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${CLEARNODE_BIN:-$here/build/release/bin}
n=4 dir=${TMPDIR:-/tmp}/clearnode-testnet base= netns=0 proxy=0 chain=clearnode-testnet
genargs=() startargs=() initargs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    --netns) netns=1; shift ;;
    --proxy) proxy=1; shift ;;
    --chain-id) chain=$2; shift 2 ;;
    --clients|--approvers|--tier0|--epoch-blocks|--oracle-max-age) genargs+=("$1" "$2"); shift 2 ;;
    --margin) genargs+=("$1"); shift ;;
    --reserves-secret) initargs=(--reserves-secret "$2"); shift 2 ;;
    --) shift; startargs=("$@"); break ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "up.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 32 ] || { echo "up.sh: -n must be 1..32" >&2; exit 2; }
for p in clearnode clearctl; do
  [ -x "$bin/$p" ] || { echo "up.sh: $bin/$p is not built (run 'make')" >&2; exit 1; }
done
[ "$proxy" = 1 ] && [ ! -x "$bin/cnproxy" ] && { echo "up.sh: $bin/cnproxy is not built" >&2; exit 1; }
if [ -f "$dir/nodes" ]; then
  echo "up.sh: $dir/nodes exists: a network may be running there (testnet/down.sh --dir $dir)" >&2
  exit 1
fi
if [ "$netns" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "up.sh: --netns needs root (network namespaces and veth pairs)" >&2; exit 1
fi
mkdir -p "$dir"
tag=$(printf '%04x' $(( $$ % 65536 )))

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$base" ]; then
  for _ in $(seq 1 50); do
    base=$(( 20000 + (RANDOM % 500) * 20 ))
    ok=1
    for ((i = 0; i < 2 * n; i++)); do port_free $((base + i)) || { ok=0; break; }; done
    [ "$ok" = 1 ] && break
  done
fi

started=()
fail() {
  echo "up.sh: $*" >&2
  [ -f "$dir/nodes" ] && CLEARNODE_BIN=$bin "$here/testnet/down.sh" --dir "$dir" >/dev/null 2>&1 || true
  exit 1
}

CLEARNODE_BIN=$bin "$here/testnet/gen.sh" -n "$n" --out "$dir/net" --chain-id "$chain" "${genargs[@]}" >/dev/null
keys=()
for ((i = 0; i < n; i++)); do keys+=("$("$bin/clearctl" keys show "$dir/net/keys/member$i.key")"); done

api_host() { if [ "$netns" = 1 ]; then echo "10.79.$1.2"; else echo 127.0.0.1; fi; }
p2p_of() { echo $((base + 2 * $1 + 1)); }
# ordered pair (i -> j) proxy port
proxy_port() { echo $((base + 200 + $1 * 32 + $2)); }
# the address node i dials to reach node j
addr_of() {
  if [ "$netns" = 1 ]; then echo "10.78.$2.$1:$(p2p_of "$2")"
  elif [ "$proxy" = 1 ]; then echo "127.0.0.1:$(proxy_port "$1" "$2")"
  else echo "127.0.0.1:$(p2p_of "$2")"; fi
}

if [ "$netns" = 1 ]; then
  # one namespace per node; one veth pair per pair of nodes, a /31 each; one veth to the host
  for ((i = 0; i < n; i++)); do
    ip netns add "cn$tag-$i"
    ip -n "cn$tag-$i" link set lo up
    ip link add "cnh$tag-$i" type veth peer name "h$i" netns "cn$tag-$i"
    ip addr add "10.79.$i.1/30" dev "cnh$tag-$i"; ip link set "cnh$tag-$i" up
    ip -n "cn$tag-$i" addr add "10.79.$i.2/30" dev "h$i"; ip -n "cn$tag-$i" link set "h$i" up
  done
  for ((i = 0; i < n; i++)); do
    for ((j = i + 1; j < n; j++)); do
      ip link add "v$i-$j" netns "cn$tag-$i" type veth peer name "v$j-$i" netns "cn$tag-$j"
      # point-to-point addresses: the route to the other end comes back with the link
      ip -n "cn$tag-$i" addr add "10.78.$i.$j/32" peer "10.78.$j.$i/32" dev "v$i-$j"
      ip -n "cn$tag-$j" addr add "10.78.$j.$i/32" peer "10.78.$i.$j/32" dev "v$j-$i"
      ip -n "cn$tag-$i" link set "v$i-$j" up; ip -n "cn$tag-$j" link set "v$j-$i" up
    done
  done
fi

: > "$dir/nodes"
for ((i = 0; i < n; i++)); do
  home=$dir/node$i
  "$bin/clearnode" init --home "$home" --genesis "$dir/net/genesis.json" --key "$dir/net/keys/member$i.key" \
    "${initargs[@]}" >/dev/null
  peers=
  for ((j = 0; j < n; j++)); do
    [ "$j" = "$i" ] && continue
    peers+="${peers:+,}${keys[$j]}@$(addr_of "$i" "$j")"
  done
  if [ "$netns" = 1 ]; then listen="0.0.0.0:$(p2p_of "$i")"; else listen="127.0.0.1:$(p2p_of "$i")"; fi
  {
    echo "api.listen = $(api_host "$i"):$((base + 2 * i))"
    echo "p2p.listen = $listen"
    echo "p2p.peers = $peers"
    echo "p2p.backoff_min_ms = 200"
    echo "p2p.backoff_max_ms = 2000"
  } > "$home/config.net"
  # the generated config first, then this network's keys (later keys are not allowed twice)
  grep -v -E '^(api\.listen|p2p\.listen|p2p\.peers|p2p\.backoff_min_ms|p2p\.backoff_max_ms) ' "$home/config" > "$home/config.tmp"
  cat "$home/config.net" >> "$home/config.tmp"
  mv "$home/config.tmp" "$home/config"
  rm "$home/config.net"
done

if [ "$proxy" = 1 ]; then
  routes=()
  for ((i = 0; i < n; i++)); do
    for ((j = 0; j < n; j++)); do
      [ "$i" = "$j" ] && continue
      routes+=("$(proxy_port "$i" "$j"):127.0.0.1:$(p2p_of "$j")")
    done
  done
  : > "$dir/proxy.conf"
  "$bin/cnproxy" --config "$dir/proxy.conf" "${routes[@]}" >> "$dir/proxy.log" 2>&1 &
  echo "proxy $! - - -" >> "$dir/nodes"
fi

for ((i = 0; i < n; i++)); do
  home=$dir/node$i
  # the flags this node runs with, for restarts (testnet/lib.sh tn_restart)
  [ ${#startargs[@]} -gt 0 ] && printf '%s\n' "${startargs[@]}" > "$home/start.args"
  if [ "$netns" = 1 ]; then
    ip netns exec "cn$tag-$i" "$bin/clearnode" start --home "$home" "${startargs[@]}" >> "$home/node.log" 2>&1 &
    ns="cn$tag-$i"
  else
    "$bin/clearnode" start --home "$home" "${startargs[@]}" >> "$home/node.log" 2>&1 &
    ns=-
  fi
  echo "node$i $! http://$(api_host "$i"):$((base + 2 * i)) $(p2p_of "$i") $ns" >> "$dir/nodes"
done

# Wait until every node has committed a few blocks.
for ((i = 0; i < n; i++)); do
  url=$(awk -v k="node$i" '$1 == k {print $3}' "$dir/nodes")
  pid=$(awk -v k="node$i" '$1 == k {print $2}' "$dir/nodes")
  for t in $(seq 1 300); do
    h=$(curl -s --max-time 2 "$url/v1/status" | sed -n 's/.*"height":\([0-9]*\).*/\1/p' || true)
    [ -n "$h" ] && [ "$h" -ge 2 ] && break
    kill -0 "$pid" 2>/dev/null || fail "node$i exited: $(tail -5 "$dir/node$i/node.log")"
    [ "$t" = 300 ] && fail "node$i made no blocks in 30 s: $(tail -5 "$dir/node$i/node.log")"
    sleep 0.1
  done
done
echo "testnet: $n validators in $dir (chain $chain)"
awk '$1 ~ /^node/ {printf "  %s  pid %s  %s\n", $1, $2, $3}' "$dir/nodes"
echo "stop with: testnet/down.sh --dir $dir"
