#!/bin/sh
# STUN Binding responses per second on one core: stund vs coturn, same load
# generator (bench/stun_load.c), same run, plus a reference: stun_load's own
# minimal responder (-S), what the kernel's UDP path allows with next to no
# user-space work.
#
# Two figures per server and round:
#  - max: closed loop (SOCKETS x INFLIGHT requests outstanding), responses/s.
#    On loopback the generator's core also does the server-bound softirq
#    work, so the generator saturates its core about when a lean server
#    does: the max of a lean server is partly the generator's limit.
#  - per core: open loop at RATE requests/s; the server process's own CPU
#    time (all threads, /proc/PID/stat) gives responses per core-second.
#    Other work on the machine does not count in it.
# Every server is pinned to SERVER_CPU, the generator to LOAD_CPU (taskset).
# coturn runs with its default net engine (a UDP thread per CPU; all of them
# on the one core by the pinning), or with -m COTURN_THREADS. Rounds
# alternate the servers so that noise from other work hits each alike; the
# summary gives the best round (interference only slows a run) and the median.
#
#   BUILD=build sh bench/stun_bench.sh
#   knobs: ROUNDS (5) DURATION (3 s) SOCKETS (4) INFLIGHT (64)
#          RATE (100000, the fixed load) SERVER_CPU (0) LOAD_CPU (1)
#          NICE (-10 as root) COTURN_THREADS (unset)
#
# Prints one line per measurement, then a summary ending in
# "ratio stund/coturn X.XX" (or a note that stund is not built).
set -u
BUILD=${BUILD:-build}
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$TOP" || exit 1
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3}
SOCKETS=${SOCKETS:-4}
INFLIGHT=${INFLIGHT:-64}
RATE=${RATE:-100000}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
LOAD=$TOP/$BUILD/bench/stun_load
STUND=$TOP/$BUILD/bin/stund

[ -x "$LOAD" ] || { echo "stun_bench: $LOAD not built (make bench)"; exit 1; }
command -v turnserver >/dev/null 2>&1 ||
	{ echo "stun_bench: turnserver missing (coturn; scripts/deps.sh)"; exit 1; }
PIN_S= PIN_L=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	PIN_S="taskset -c $SERVER_CPU" PIN_L="taskset -c $LOAD_CPU"
else
	echo "stun_bench: fewer than 2 CPUs or no taskset: running unpinned (figures not comparable)"
fi
# On a shared machine, other work on the two cores is the main source of
# noise: as root, run everything at a higher priority (NICE=0 to turn off).
NICE=${NICE:--10}
if [ "$(id -u)" -eq 0 ] && [ "$NICE" != 0 ]; then
	PIN_S="nice -n $NICE $PIN_S" PIN_L="nice -n $NICE $PIN_L"
fi

T=$(mktemp -d /tmp/stun-bench.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {	# two consecutive free UDP ports, the first is printed
	p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
	while ss -Hlnu "sport = :$p" | grep -q . ||
	    ss -Hlnu "sport = :$((p + 1))" | grep -q .; do
		p=$((p + 2))
	done
	echo "$p"
}
bound() { ss -Hlnu "sport = :$1" | grep -q "$2"; }
wait_bound() {	# port addr: 5 s at most
	i=0
	until bound "$1" "$2"; do
		i=$((i + 1)); [ $i -gt 50 ] && return 1; sleep 0.1
	done
}
# CPU time of a process, all threads, user + system (clock ticks; softirq
# work done while it runs is charged to it too: no IRQ time accounting)
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
usrticks() { awk '{ print $14 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

# measure NAME PID PORT: closed loop (as fast as the server answers), then
# open loop at RATE requests/s, with the share of one core the server process
# used for it (its own CPU time, so other work on the machine does not count);
# appends "rate cpu%" to $T/NAME.txt and prints a line
measure() {
	out=$($PIN_L "$LOAD" -s "127.0.0.1:$3" -d "$DURATION" -w 0.5 \
	    -c "$SOCKETS" -n "$INFLIGHT" 2>&1)
	rate=$(echo "$out" | sed -n 's/^responses\/s \([0-9]*\)$/\1/p')
	if [ -z "$rate" ] || [ "$rate" -eq 0 ]; then
		echo "  $1: no answers ($out)"
		return 1
	fi
	c0=$(cputicks "$2"); u0=$(usrticks "$2"); t0=$(date +%s%N)
	out2=$($PIN_L "$LOAD" -s "127.0.0.1:$3" -d "$DURATION" -w 0.5 \
	    -c "$SOCKETS" -n "$INFLIGHT" -r "$RATE" 2>&1)
	c1=$(cputicks "$2"); u1=$(usrticks "$2"); t1=$(date +%s%N)
	got=$(echo "$out2" | sed -n 's/^responses\/s \([0-9]*\)$/\1/p')
	cpu=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f", 100 * c / hz / (ns / 1e9) }')
	# responses per second of one core's time at that load
	pc=$(awk -v g="${got:-0}" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? g * 100 / c : 0) }')
	# user-space share alone: the part the server's own code decides (the
	# kernel's UDP path costs every server about the same)
	usr=$(awk -v c=$((u1 - u0)) -v hz="$HZ" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f", 100 * c / hz / (ns / 1e9) }')
	echo "$rate $cpu $pc $usr" >>"$T/$1.txt"
	printf '  %-9s %8s responses/s max | at %s/s (answered %s/s): %5s%% of a core (user %s%%) = %s responses/core-s\n' \
	    "$1" "$rate" "$RATE" "${got:-0}" "$cpu" "$usr" "$pc"
}

median() {	# column of $T/NAME.txt
	[ -s "$T/$1.txt" ] || { echo 0; return; }
	awk -v c="$2" '{print $c}' "$T/$1.txt" | sort -g |
	    awk '{v[NR] = $1} END { print v[int((NR + 1) / 2)] }'
}
best() {	# largest of a column: other work on the machine only ever slows
		# a run down, so the best round is the least disturbed one
	[ -s "$T/$1.txt" ] || { echo 0; return; }
	awk -v c="$2" '$c > m { m = $c } END { print m + 0 }' "$T/$1.txt"
}

echo "STUN server benchmark: $ROUNDS rounds x ${DURATION}s, $SOCKETS sockets x $INFLIGHT in flight, fixed load $RATE/s,"
echo "servers on CPU $SERVER_CPU, generator on CPU $LOAD_CPU ($(nproc) CPUs, $(uname -r))"

# reference responder
RP=$(free_port)
$PIN_S "$LOAD" -S "127.0.0.1:$RP" >"$T/ref.log" 2>&1 &
REF=$!; PIDS="$PIDS $REF"

# coturn
CP=$(free_port)
[ "$CP" = "$RP" ] && CP=$((CP + 2))
mopt=
[ -n "${COTURN_THREADS:-}" ] && mopt="-m $COTURN_THREADS"
$PIN_S turnserver --stun-only -n --no-cli --no-tls --no-dtls $mopt \
    --log-file="$T/turnserver.log" --simple-log --pidfile="$T/turnserver.pid" \
    --userdb="$T/turndb" --listening-ip=127.0.0.1 --listening-port="$CP" \
    >"$T/turnserver.out" 2>&1 &
COT=$!; PIDS="$PIDS $COT"
wait_bound "$CP" 127.0.0.1 || { echo "stun_bench: turnserver did not start"; cat "$T"/turnserver*; exit 1; }
echo "coturn: turnserver $(turnserver --version 2>/dev/null | head -n 1), $(ls /proc/$COT/task | wc -l) threads, pid $COT"

# stund, if built
SP=
if [ -x "$STUND" ]; then
	SP=$(free_port)
	while [ "$SP" = "$CP" ] || [ "$SP" = "$RP" ]; do SP=$((SP + 2)); done
	mkdir -p "$T/stund"
	RUNTIME_DIRECTORY="$T/stund" $PIN_S "$STUND" -q \
	    -o stund.server=yes -o stund.servers=none -o stund.rate_limit=0 \
	    -o "stund.listen=127.0.0.1:$SP" \
	    -o stund.alt_ip=127.0.0.2 -o "stund.alt_port=$((SP + 1))" \
	    >"$T/stund.log" 2>&1 &
	STP=$!; PIDS="$PIDS $STP"
	if wait_bound "$SP" 127.0.0.1; then
		echo "stund: $STUND, $(ls /proc/$STP/task | wc -l) threads, pid $STP"
	else
		echo "stund: did not bind 127.0.0.1:$SP: $(tail -n 5 "$T/stund.log")"
		SP=
	fi
else
	echo "stund: $STUND not built yet: coturn and the reference only"
fi
wait_bound "$RP" 127.0.0.1 || { echo "stun_bench: reference did not start"; exit 1; }

r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r"
	measure coturn "$COT" "$CP"
	[ -n "$SP" ] && measure stund "$STP" "$SP"
	measure reference "$REF" "$RP"
	r=$((r + 1))
done

echo "summary of $ROUNDS rounds (best and median; at a fixed load, median):"
echo "  server       max responses/s    CPU at $RATE/s   responses per   user-space CPU"
echo "                 best    median    (user+sys)      core-second   at $RATE/s"
row() {
	printf '  %-9s %9s %9s %12s%% %16s %13s%%%s\n' "$1" "$(best "$1" 1)" \
	    "$(median "$1" 1)" "$(median "$1" 2)" "$(median "$1" 3)" \
	    "$(median "$1" 4)" "$2"
}
row coturn ""
[ -n "$SP" ] && row stund ""
row reference "  (stun_load -S, a minimal responder)"
ratio() {	# NAME1 NAME2 FUNC COLUMN
	awk -v a="$($3 "$1" "$4")" -v b="$($3 "$2" "$4")" \
	    'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}
echo "  reference/coturn: $(ratio reference coturn best 1) max (best), $(ratio reference coturn median 3) per core"
if [ -n "$SP" ]; then
	echo "  stund/coturn per core-second at the same load: $(ratio stund coturn median 3)"
	echo "  coturn/stund user-space CPU at the same load: $(ratio coturn stund median 4)"
	echo "  stund/coturn max (median rounds): $(ratio stund coturn median 1)"
	echo "  ratio stund/coturn $(ratio stund coturn best 1) (max throughput, best rounds; target >= 2)"
else
	echo "  ratio stund/coturn: n/a (stund not built)"
fi
