#!/bin/sh
# punchd benchmarks (bench/run.sh section "punch"; docs/punchd-natlab.md).
# Prints figures beside their targets; asserts nothing about time.
#
#  1. time from peer.punch to direct in the NAT lab (two endpoint-
#     independent NATs, stund on the public segment, no relay so that
#     peer.punch answers only when the path is direct): both sides' peer.punch
#     sent together (bench/punch_ipc punch2), punchd's own elapsed_ms, RUNS
#     runs per punch_interval; before each run both peers are removed and
#     both NATs' conntrack tables flushed, so every run punches fresh holes.
#     Target: median <= 1.5 x punch_interval + 2 RTT. The 20 ms WAN-delay
#     variant needs netem (checked; skipped with a message when missing).
#  2. keep-alive bytes on the wire per peer per interval (one exchange per
#     interval for the pair, led by the smaller node id): nft counters on
#     NAT a's forward hook over the punched path's UDP 7777 <-> 7777 flow,
#     KA_SECS seconds at keepalive_interval 500 ms, nothing else running
#     on that flow. Target <= 64.
#  3. punchd memory per peer: RSS (/proc/PID/status VmRSS) of a punchd in
#     its own lab namespace, before and after 1,000 and 2,000 peers added
#     through IPC peer.punch (timeout_ms 1) to an endpoint that never
#     answers (203.0.113.99:9, no such host in the lab). Target < 4 KiB.
#  4. data path: datagrams through punchd (peer.send on A -> UDP -> peer.data
#     on B, both on 127.0.0.1 inside a lab namespace) vs plain UDP between two
#     sockets on the same loopback, same run, 64 and 1196 bytes. Both are
#     flow-controlled with a window (punchd: WINDOW peer.send requests
#     unanswered; UDP: WINDOW datagrams unacknowledged by the receiver),
#     64 and 256; received datagrams/s from the first send to the last
#     arrival, loss = sent - received.
#
# Needs root, iproute2, nftables, conntrack (the NAT lab); prints why and
# exits 77 when it cannot run. BUILD=build by default.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
PI=$TOP/$BUILD/bench/punch_ipc
RUNS=${RUNS:-20}
KA_SECS=${KA_SECS:-10}
THRU_N=${THRU_N:-50000}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
[ -x "$PI" ] || nl_skip "punch bench: $PI is not built"
nl_require
nl_init

# median and p95 of the numbers on stdin (nearest rank)
stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "no samples"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		i = int(0.95 * NR + 0.999999); if (i < 1) i = 1
		printf "median %.2f ms, p95 %.2f ms, min %.2f, max %.2f (n=%d)", m, v[i], v[1], v[NR], NR }'
}

echo "== lab $NL_PFX: eim a, eim b; stund server; no relay"
PL_RELAY=
pl_world
nl_nat a eim
nl_nat b eim

# lab RTT: punchd's own ping (median of 5) over the punched path, host to
# host across both NATs (ping(8) is not installed here, and the NATs drop
# unsolicited ICMP anyway); measured once the first pair of nodes is direct
labrtt() {
	pl_m A --json ping -c 5 "$IB" 2>/dev/null |
	    jq -r '(.rtt_ms | sort | .[length / 2 | floor] * 1000 | round) / 1000'
}
rtt=

# --- 1. time to direct -------------------------------------------------------
punch_runs() {	# INTERVAL_MS LABEL
	_iv=$1
	if [ -z "$rtt" ]; then
		"$PI" punch2 "$NL_TMP/A/punchd.sock" "$IB" "$PB" \
		    "$NL_TMP/B/punchd.sock" "$IA" "$PA" 5000 >/dev/null
		rtt=$(labrtt)
		echo "lab RTT (meshctl ping over the punched path, median of 5): ${rtt:-?} ms"
	fi
	: >"$NL_TMP/t.$_iv"
	: >"$NL_TMP/both.$_iv"
	_fail=0
	_r=1
	while [ $_r -le "$RUNS" ]; do
		"$PI" remove "$NL_TMP/A/punchd.sock" "$IB"
		"$PI" remove "$NL_TMP/B/punchd.sock" "$IA"
		sleep 0.2
		nl_flush a
		nl_flush b
		if out=$("$PI" punch2 "$NL_TMP/A/punchd.sock" "$IB" "$PB" \
		    "$NL_TMP/B/punchd.sock" "$IA" "$PA" 5000 2>&1) &&
		    [ "$(echo "$out" | awk '{print $4 $5}')" = directdirect ]; then
			echo "$out" | awk '{print $1; print $2}' >>"$NL_TMP/t.$_iv"
			echo "$out" | awk '{print ($1 > $2 ? $1 : $2)}' >>"$NL_TMP/both.$_iv"
		else
			_fail=$((_fail + 1))
			echo "  run $_r: $out"
		fi
		_r=$((_r + 1))
	done
	_target=$(awk -v i="$_iv" -v r="${rtt:-0.1}" 'BEGIN { printf "%.1f", 1.5 * i + 2 * r }')
	echo "punch_interval ${_iv} ms$2: peer.punch -> direct, each side: $(stats <"$NL_TMP/t.$_iv")"
	echo "    both sides direct (the later of the two):  $(stats <"$NL_TMP/both.$_iv")"
	echo "    target: median <= 1.5 x ${_iv} ms + 2 x ${rtt:-0.1} ms = ${_target} ms; failed runs: $_fail/$RUNS"
}

nodes_up() {	# INTERVAL_MS [punchd args]
	_iv=$1; shift
	PL_FAST="-o punchd.punch_interval=${_iv}ms -o punchd.stun_refresh=0"
	pl_node A a-host "$@"
	pl_node B b-host "$@"
	IA=$(pl_id A) IB=$(pl_id B) PA=$(pl_public A) PB=$(pl_public B)
}
nodes_down() {
	for _p in $(ip netns pids "$(nl_ns a-host)") $(ip netns pids "$(nl_ns b-host)"); do
		kill "$_p" 2>/dev/null
	done
	nl_wait 5 sh -c "[ -z \"\$(ip netns pids $(nl_ns a-host))\$(ip netns pids $(nl_ns b-host))\" ]"
	rm -rf "$NL_TMP/A" "$NL_TMP/B"
}

echo
echo "-- 1. time from peer.punch to direct ($RUNS runs each; both sides punch together; NATs flushed before each run)"
for iv in 200 50; do
	nodes_up $iv
	punch_runs $iv ""
	nodes_down
done
if nl_exec a tc qdisc add dev wan root netem delay 20ms 2>"$NL_TMP/netem.err"; then
	nl_exec b tc qdisc add dev wan root netem delay 20ms
	rtt=
	echo "netem: 20 ms on both WAN links"
	nodes_up 200
	punch_runs 200 " (20 ms netem delay per WAN link)"
	nodes_down
	nl_exec a tc qdisc del dev wan root
	nl_exec b tc qdisc del dev wan root
else
	echo "20 ms delay variant skipped: netem is not available on this kernel ($(head -n 1 "$NL_TMP/netem.err"))"
fi

# --- 2. keep-alive bytes -------------------------------------------------------
echo
echo "-- 2. keep-alive bytes on the wire (keepalive_interval 500 ms, ${KA_SECS} s, nft counters on NAT a)"
nodes_up 50 -o punchd.keepalive_interval=500ms
"$PI" punch2 "$NL_TMP/A/punchd.sock" "$IB" "$PB" "$NL_TMP/B/punchd.sock" "$IA" "$PA" 5000 >/dev/null ||
	echo "  punch failed"
sleep 1
nl_exec a nft -f - <<-EOF
	table ip kabench {
		chain cnt {
			type filter hook forward priority -5;
			iifname "lan" oifname "wan" udp sport 7777 udp dport 7777 counter
			iifname "wan" oifname "lan" udp sport 7777 udp dport 7777 counter
		}
	}
EOF
ka0=$(pl_get A "$IB" .keepalives_sent) kb0=$(pl_get B "$IA" .keepalives_sent)
sleep "$KA_SECS"
ka1=$(pl_get A "$IB" .keepalives_sent) kb1=$(pl_get B "$IA" .keepalives_sent)
lead=$(pl_get A "$IB" 'if .keepalive_lead then "A" else "B" end')
ctr=$(nl_exec a nft list table ip kabench | sed -n 's/.*counter packets \([0-9]*\) bytes \([0-9]*\).*/\1 \2/p')
nl_exec a nft delete table ip kabench
echo "$ctr" | awk -v secs="$KA_SECS" -v sa=$((ka1 - ka0)) -v sb=$((kb1 - kb0)) -v lead="$lead" '
	NR == 1 { po = $1; bo = $2 } NR == 2 { pi = $1; bi = $2 }
	END {
		iv = secs / 0.5
		printf "out of NAT a (A -> B): %d packets, %d bytes; into NAT a (B -> A): %d packets, %d bytes\n", po, bo, pi, bi
		printf "%s leads; KEEPALIVEs sent in %d intervals: A %d, B %d\n", lead, iv, sa, sb
		printf "per peer per interval: A sends %.1f bytes in %.2f packets, B sends %.1f bytes in %.2f packets (IP + UDP + packet)\n", bo / iv, po / iv, bi / iv, pi / iv
		if (po + pi > 0) printf "mean datagram %.1f bytes on the wire (IP); a KEEPALIVE and its empty ACK are 64 bytes each (20 IP + 8 UDP + 36)\n", (bo + bi) / (po + pi)
		printf "per node per peer per interval: %.1f bytes (both directions %.1f for the pair); target <= 64\n", (bo + bi) / 2 / iv, (bo + bi) / iv
	}'
nodes_down

# --- 3. memory per peer --------------------------------------------------------
echo
echo "-- 3. punchd memory per peer (peers added with peer.punch to 203.0.113.99:9, which never answers)"
nl_host mem 203.0.113.40
mkdir -p "$NL_TMP/M"
nl_bg mem "$NL_TMP/punchd-M.log" env RUNTIME_DIRECTORY="$NL_TMP/M" STATE_DIRECTORY="$NL_TMP/M" \
    "$BIN/punchd" -f "$NL_TMP/empty.conf" -p 7777 -o punchd.mesh_secret="$NL_TMP/secret" \
    -o punchd.stun_refresh=0
MPID=$NL_LASTPID
nl_wait 5 "$BIN/meshctl" -S "$NL_TMP/M" peers || echo "  punchd (memory) does not answer"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$MPID/status"; }
r0=$(rss)
n1=$("$PI" addpeers "$NL_TMP/M/punchd.sock" 1000 203.0.113.99:9)
sleep 1
r1=$(rss)
# a second thousand: the slope leaves out one-time growth (IPC buffers...)
"$PI" addpeers "$NL_TMP/M/punchd.sock" 2000 203.0.113.99:9 >/dev/null	# names 0..1999: 1000 new
sleep 1
r2=$(rss)
np=$(pl_m M --json status | jq '.daemons[] | select(.daemon == "punchd") | .status.peers')
echo "VmRSS: ${r0} KiB idle, ${r1} KiB with ${n1} peers, ${r2} KiB with ${np} peers"
awk -v a="$r0" -v b="$r1" -v c="$r2" -v n2="$np" 'BEGIN {
	printf "per peer: %.0f bytes (0 -> 1000), %.0f bytes (1000 -> %d); target < 4096\n", (b - a) * 1024 / 1000, (c - b) * 1024 / (n2 - 1000), n2 }'

# --- 4. data path throughput -----------------------------------------------------
echo
echo "-- 4. datagram throughput on loopback: punchd's data path vs plain UDP ($THRU_N datagrams, sent as fast as accepted)"
mkdir -p "$NL_TMP/T1" "$NL_TMP/T2"
for t in T1:7001 T2:7002; do
	n=${t%:*} port=${t#*:}
	nl_bg mem "$NL_TMP/punchd-$n.log" env RUNTIME_DIRECTORY="$NL_TMP/$n" STATE_DIRECTORY="$NL_TMP/$n" \
	    "$BIN/punchd" -f "$NL_TMP/empty.conf" -p "$port" -o punchd.mesh_secret="$NL_TMP/secret" \
	    -o punchd.stun_refresh=0 -o punchd.host_loopback=yes
	nl_wait 5 "$BIN/meshctl" -S "$NL_TMP/$n" peers || echo "  punchd $n does not answer"
done
I1=$(cat "$NL_TMP/T1/node.id") I2=$(cat "$NL_TMP/T2/node.id")
"$PI" punch2 "$NL_TMP/T1/punchd.sock" "$I2" 127.0.0.1:7002 "$NL_TMP/T2/punchd.sock" "$I1" 127.0.0.1:7001 5000 >/dev/null ||
	echo "  loopback punch failed"
for size in 64 1196; do
	for w in 64 256; do
		echo "$size-byte datagrams, window $w:"
		for rep in 1 2 3; do
			printf '  '; "$PI" thru "$NL_TMP/T1/punchd.sock" "$I2" "$NL_TMP/T2/punchd.sock" "$THRU_N" "$size" "$w"
			printf '  '; nl_exec mem "$PI" udp "$THRU_N" "$size" "$w"
		done
	done
done
echo "  punchd A: tx_datagrams $(pl_status T1 .counters.tx_datagrams), tx_errors $(pl_status T1 .counters.tx_errors); B: rx_datagrams $(pl_status T2 .counters.rx_datagrams), drop_replay $(pl_status T2 .counters.drop_replay), drop_auth $(pl_status T2 .counters.drop_auth)"
echo "  UDP receive-buffer drops in that namespace (RcvbufErrors, punchd and plain UDP together): $(nl_exec mem awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp)"
exit 0
