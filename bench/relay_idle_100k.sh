#!/bin/sh
# 100,000 idle WebSocket clients on one machine whose per-process descriptor
# limit is lower than that (issue 14 item 3; docs/relay-bench.md).
#
#   sh bench/relay_idle_100k.sh [N [P]]      (default: 100000 6)
#   PIN=split ROUNDS=10000 PER_ADDR=500 sh bench/relay_idle_100k.sh ...
#
# N clients are spread over P relay processes (N/P each, each below
# RLIMIT_NOFILE's hard limit), one client process per relay
# (bench/idle_clients.py --hold, N/P sockets each) from its own range of
# 127.x.y.z source addresses, PER_ADDR clients per address. First P relayd
# (open mode, as relay_bench's own), then P npm ws relays
# (bench/ws_relay.js, when node and ws are there) at the same N and split
# in the same run. For each: every relay's RSS before and with its share of
# the crowd, KiB per idle client per process and over all, and after they
# left. With relayd, a well-behaved pair's round trip through relayd #1
# (relay_bench -a, -s lat: the batched and the ordinary pair beside direct
# TCP) before, while all N are connected and after.
#
# PIN=split puts the relays on CPU 0 and the clients, the pair and
# relay_bench on CPU 1; default: not pinned. Every figure carries the load
# average; the affinity of each process is printed.
#
# Root is not needed (127.0.0.0/8 is local on Linux, no address to add);
# what is needed is checked first and a missing piece is a skip, exit 0:
# the hard descriptor limit (N/P + 256 per process), fs.file-max, free
# conntrack entries (one per connection when nf_conntrack is loaded) and
# memory.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
RELAYD=$BUILD/bin/relayd
BENCH=$BUILD/bench/relay_bench
N=${1:-100000}
P=${2:-6}
PER_ADDR=${PER_ADDR:-500}
ROUNDS=${ROUNDS:-10000}
SHARE=$(( (N + P - 1) / P ))
SHARE=$(( SHARE + SHARE % 2 ))		# sessions of two stay on one relay

skip() { echo "relay idle 100k: skipped: $*"; exit 0; }
[ -x "$RELAYD" ] || skip "$RELAYD is not built (make)"
[ -x "$BENCH" ] || skip "$BENCH is not built (make $BENCH)"
command -v python3 >/dev/null || skip "python3 missing"
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ $((SHARE + 256)) -gt "$hard" ]; then
	skip "$SHARE clients per process need $((SHARE + 256)) descriptors," \
	    "the hard limit is $hard: use more processes (P)"
fi
ulimit -n "$hard"
fmax=$(cat /proc/sys/fs/file-max)
[ $((2 * N + 20000)) -le "$fmax" ] ||
	skip "fs.file-max $fmax < $((2 * N + 20000)) (both ends of N connections)"
ct=/proc/sys/net/netfilter
if [ -r $ct/nf_conntrack_max ]; then
	free_ct=$(( $(cat $ct/nf_conntrack_max) - $(cat $ct/nf_conntrack_count) ))
	[ "$free_ct" -gt $((N + 20000)) ] ||
		skip "$free_ct free conntrack entries, N=$N needs $((N + 20000))"
fi
avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
# kernel sockets (both ends), the clients and the npm ws relays: ~32 KiB per
# client is generous (measured: about 20)
[ $((N * 32)) -le "$avail" ] ||
	skip "MemAvailable $avail KiB < $((N * 32)) KiB"

. bench/relay_idle.inc
NODE=$(relay_idle_node)
case ${PIN:-} in
split)	SRV_PIN="taskset -c 0"; CLI_PIN="taskset -c 1"; BPIN="-p 0,1" ;;
'')	SRV_PIN=; CLI_PIN=; BPIN= ;;
*)	echo "PIN=split or nothing"; exit 2 ;;
esac

T=$(mktemp -d /tmp/relay-idle-100k.XXXXXX)
PIDS=
cleanup() {
	touch "$T/down"
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

la() { cut -d' ' -f1-3 /proc/loadavg; }
mem() { free -m | awk '/^Mem:/ {printf "used %d MiB, available %d MiB", $3, $7}'; }
# affinity of each pid, one line
affinity() {
	for p in "$@"; do
		printf ' %s:%s' "$p" "$(taskset -cp "$p" 2>/dev/null | sed 's/.*: //')"
	done
	echo
}

# start_relays KIND: P relays, "pid port" per line in $T/srv
start_relays() {
	: >"$T/srv"
	j=1
	while [ $j -le "$P" ]; do
		if [ "$1" = relayd ]; then
			port=$(relay_idle_free_port)
			$SRV_PIN "$RELAYD" -l 127.0.0.1 -p "$port" --open \
			    -s "$T/relayd$j.sock" \
			    -o relayd.max_clients=$((SHARE + 1000)) \
			    -o relayd.max_sessions=$((SHARE + 1000)) \
			    -o relayd.max_clients_per_ip=$((SHARE + 64)) \
			    -o relayd.max_bytes_per_ip=0 -q \
			    >"$T/srv$j.log" 2>&1 &
			pid=$!
			sleep 0.3
		else
			relay_idle_node_start "$T/srv$j.log" $SRV_PIN
			pid=$NODE_PID port=$NODE_PORT
		fi
		PIDS="$PIDS $pid"
		kill -0 "$pid" 2>/dev/null && [ -n "$port" ] || {
			echo "  $1 #$j did not start: $(tail -n 3 "$T/srv$j.log")"
			return 1
		}
		echo "$pid $port" >>"$T/srv"
		j=$((j + 1))
	done
	echo "  $P $1 processes (pid:cpus):$(affinity $(cut -d' ' -f1 "$T/srv"))"
}

stop_relays() {
	for p in $(cut -d' ' -f1 "$T/srv"); do kill "$p"; done
	for p in $(cut -d' ' -f1 "$T/srv"); do wait "$p" 2>/dev/null; done
	PIDS=
}

# crowd_up KIND: one client process per relay, SHARE clients each (the
# last gets what is left of N), all held open; returns when all are up
crowd_up() {
	rm -f "$T/down"
	CPIDS=
	j=1 first=0
	while read -r pid port; do
		n=$SHARE
		[ $((first + n)) -gt "$N" ] && n=$((N - first))
		$CLI_PIN python3 bench/idle_clients.py --pid "$pid" \
		    --port "$port" -n "$n" --first "$first" \
		    --per-addr "$PER_ADDR" --label "$1#$j" --hold "$T/down" \
		    >"$T/cl$j.out" 2>"$T/cl$j.err" &
		CPIDS="$CPIDS $!"
		first=$((first + n)) j=$((j + 1))
	done <"$T/srv"
	PIDS="$PIDS $CPIDS"
	c=1
	for cp in $CPIDS; do
		until grep -q '^up ' "$T/cl$c.out" 2>/dev/null; do
			kill -0 "$cp" 2>/dev/null || {
				echo "  client process $c ended: $(tail -n 3 "$T/cl$c.err")"
				break
			}
			sleep 0.5
		done
		c=$((c + 1))
	done
	echo "  $P client processes (pid:cpus):$(affinity $CPIDS)"
	# per process: relay RSS before and with its share; then the sum
	awk '/^up / { d = $5 - $4; n += $3; t += d; tb += $4; ta += $5
		printf "  %-10s %6d clients  RSS %7d -> %7d KiB  %5.2f KiB each\n",
		    $2, $3, $4, $5, $3 ? d / $3 : 0 }
	    END { printf "  %-10s %6d clients  RSS %7d -> %7d KiB  %5.2f KiB each (all processes)\n",
		    "total", n, tb, ta, n ? t / n : 0 }' "$T"/cl*.out
	echo "  [load $(la); memory $(mem); $(date -u +%H:%M:%S)]"
}

crowd_down() {
	touch "$T/down"
	for c in $CPIDS; do wait "$c" || true; done
	grep -vh '^up ' "$T"/cl*.out | sed 's/^/  /'
	cat "$T"/cl*.err | head -n 5
	echo "  [load $(la); memory $(mem)]"
}

pair() {
	echo "  pair through $1 #1, $2 [load $(la)]:"
	$CLI_PIN "$BENCH" -a "$(head -n 1 "$T/srv" | awk '{print $2 "," $1}')" \
	    -N none -s lat -n 2 -c "$ROUNDS" $BPIN |
	    sed -n '/^relay latency/,$p' | sed 's/^/  /'
}

echo "relay idle 100k: $N idle WebSocket clients over $P processes" \
    "($SHARE each, RLIMIT_NOFILE hard limit $hard per process)"
echo "  $(nproc) CPUs, $(uname -r), PIN=${PIN:-none}, $PER_ADDR clients per" \
    "source address, load $(la), memory $(mem)"
for kind in relayd ${NODE:+npm-ws}; do
	echo "$kind:"
	start_relays $kind || exit 1
	[ $kind = relayd ] && pair relayd "no idle clients"
	crowd_up $kind
	[ $kind = relayd ] && pair relayd "while all $N idle clients are connected"
	crowd_down
	[ $kind = relayd ] && pair relayd "after they left"
	stop_relays
done
exit 0
