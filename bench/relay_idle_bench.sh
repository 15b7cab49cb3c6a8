#!/bin/sh
# relayd's RSS per idle WebSocket client beside the npm ws relay's
# (bench/ws_relay.js), at the same N in the same run (issue 14 item 3).
#
#   sh bench/relay_idle_bench.sh [N ...]        (default: 10000 100000)
#   PIN=split|same|A,B RUNS=3 sh bench/relay_idle_bench.sh ...
#
# Then, for each N up to 25,000, a well-behaved pair's round trip through
# relayd before, while and after N idle clients are connected to it
# (bench/relay_bench -s idle, RUNS times, pinned as PIN says, -p of
# relay_bench): the p99 a crowd of idle clients must leave unchanged.
#
# Both relays run with a relay secret, and every client presents the
# per-session token relayd would issue (`relayd --issue-token`; the client
# computes it the documented way, proto/token.h, after checking that its
# computation matches relayd's own output), so the figure is that of a
# production relay, not of open mode. Clients come in sessions of two from
# 127.1.x.y source addresses, 1000 per address (one source address has
# about 28k ephemeral ports towards one port). An N that needs more
# descriptors than RLIMIT_NOFILE's hard limit allows here is skipped with
# the reason. Each line carries the load average (before -> all up ->
# after they left): on a busy machine the figures are not typical.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
RELAYD=$BUILD/bin/relayd
[ $# -gt 0 ] || set -- 10000 100000
[ -x "$RELAYD" ] || { echo "relay idle: $RELAYD is not built"; exit 0; }
command -v python3 >/dev/null || { echo "relay idle: python3 missing"; exit 0; }

. bench/relay_idle.inc
NODE=$(relay_idle_node)

T=$(mktemp -d /tmp/relay-idle.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
printf '[relayd]\nsecret = %s\n' "$SECRET" >"$T/relayd.conf"
# the token the clients compute must be relayd's own
tok=$("$RELAYD" -f "$T/relayd.conf" --issue-token idle-0 --ttl 1h) || exit 1
exp=${tok#v1.}; exp=${exp%%.*}
mine=$(python3 -c "
import sys; sys.path.insert(0, 'bench'); from idle_clients import token
print(token('$SECRET', 'idle-0', $exp))")
[ "$tok" = "$mine" ] || { echo "relay idle: token mismatch: $tok vs $mine"; exit 1; }

hard=$(ulimit -Hn)
ulimit -n "$hard"
echo "relay idle: RSS per idle WebSocket client, relayd vs npm ws relay, tokens on;"
echo "  $(nproc) CPUs, RLIMIT_NOFILE hard limit $hard, $(uname -r)"
for N in "$@"; do
	if [ "$hard" != unlimited ] && [ "$N" -gt $((hard - 100)) ]; then
		echo "  N=$N: skipped: each process needs N descriptors, the hard" \
		    "limit is $hard (raising it needs CAP_SYS_RESOURCE or limits.conf);" \
		    "bench/relay_idle_100k.sh spreads N over several processes"
		continue
	fi
	port=$(relay_idle_free_port)
	"$RELAYD" -f "$T/relayd.conf" -l 127.0.0.1 -p "$port" -s "$T/relayd.sock" \
	    -o max_clients=$((N + 1000)) -o max_sessions=$((N + 1000)) \
	    -o max_clients_per_ip=2000 -q >"$T/relayd.log" 2>&1 &
	rp=$!
	PIDS=$rp
	sleep 0.5
	python3 bench/idle_clients.py --pid "$rp" --port "$port" -n "$N" \
	    --secret "$SECRET" --label relayd ||
	    echo "  relayd: not every client upgraded ($(tail -n 2 "$T/relayd.log"))"
	kill "$rp"; wait "$rp" 2>/dev/null
	PIDS=
	[ -n "$NODE" ] || continue
	RELAY_SECRET=$SECRET relay_idle_node_start "$T/node.out"
	np=$NODE_PID nport=$NODE_PORT
	PIDS=$np
	python3 bench/idle_clients.py --pid "$np" --port "$nport" -n "$N" \
	    --secret "$SECRET" --label "npm ws" ||
	    echo "  npm ws: not every client upgraded ($(tail -n 2 "$T/node.out"))"
	kill "$np"; wait "$np" 2>/dev/null
	PIDS=
done

# a well-behaved pair's RTT while N idle clients are connected
BENCH=$BUILD/bench/relay_bench
[ -x "$BENCH" ] || { echo "relay idle: $BENCH is not built: no latency"; exit 0; }
for N in "$@"; do
	if [ "$N" -gt 25000 ]; then
		echo "relay idle latency: N=$N skipped: relay_bench's idle clients" \
		    "all come from 127.0.0.1 (about 28k ephemeral ports towards one port)"
		continue
	fi
	i=0
	while [ $i -lt "${RUNS:-1}" ]; do
		i=$((i + 1))
		echo "relay idle latency, run $i: $BENCH -r $RELAYD -s idle -n $N ${PIN:+-p $PIN}"
		"$BENCH" -r "$RELAYD" -s idle -n "$N" ${PIN:+-p "$PIN"} |
		    sed -n '/^relay latency under idle load/,$p'
	done
done
