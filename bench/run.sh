#!/bin/sh
# Runs the benchmarks (make bench). Each section is independent: it prints its
# own figures, and one that fails or cannot run does not stop the others.
# BENCHES="stun relay punch" picks sections (default: all).
set -u
BUILD=${BUILD:-build}
export BUILD
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
cd "$TOP" || exit 1

failed=
want() {
	[ -z "${BENCHES:-}" ] && return 0
	for b in $BENCHES; do [ "$b" = "$1" ] && return 0; done
	return 1
}
section() {	# NAME CMD...
	name=$1; shift
	want "$name" || return 0
	echo "=== bench: $name"
	"$@"
	rc=$?
	[ $rc -eq 0 ] || { echo "=== bench: $name exited $rc"; failed="$failed $name"; }
	echo
}

# --- STUN: stund vs coturn, binding responses/s on one core (docs/stun-bench.md)
section stun sh bench/stun_bench.sh

# --- relay: relayd throughput vs one raw TCP hop, added latency of the relay
# hop, RSS per idle client (docs/relay-bench.md). iperf3, when installed, is
# printed after as a second raw-TCP reference (two processes, bulk stream).
relay_section() {
	[ -x "$BUILD/bin/relayd" ] || { echo "relayd is not built"; return 0; }
	"$BUILD/bench/relay_bench" -r "$BUILD/bin/relayd" || return 1
	command -v iperf3 >/dev/null 2>&1 || return 0
	port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
	iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
	sleep 0.5
	echo "reference: iperf3 -c 127.0.0.1 -t 3 (one TCP stream, two processes)"
	iperf3 -c 127.0.0.1 -p "$port" -t 3 -f M 2>&1 | sed -n 's/.* \([0-9.]* MBytes\/sec\).*receiver/  \1 (MiB\/s)/p'
	wait
}
section relay relay_section

# --- punch: punchd in the NAT lab (time from peer.punch to direct, keep-alive
# bytes on the wire, memory per peer) and its data path vs plain UDP on
# loopback (docs/punchd-natlab.md). Needs root for the lab's namespaces:
# without them it says why and counts as skipped, not failed.
punch_section() {
	[ -x "$BUILD/bench/punch_ipc" ] || { echo "bench/punch_ipc is not built"; return 0; }
	sh bench/punch_bench.sh
	rc=$?
	[ $rc -eq 77 ] && return 0
	return $rc
}
section punch punch_section

# A NAT-lab script: needs root for the lab's namespaces; without them it
# says why (exit 77) and counts as skipped, not failed.
natlab_section() {
	sh "$1"
	rc=$?
	[ $rc -eq 77 ] && return 0
	return $rc
}

# --- mesh: meshctl join to connected per path (local, public, relay) in the
# NAT lab (README.md (mesh)).
section mesh natlab_section bench/mesh_join_bench.sh

# --- join race: meshctl join with dead local and public paths and a
# working relay (relayd with tokens), the race beside the sequential way,
# in the same run, in the NAT lab.
section joinrace natlab_section bench/join_race_bench.sh

# --- tun: iperf3 TCP/UDP over the mesh-interface test pipe (tunpipe)
# between two namespaces, beside the raw underlay, Nebula and wireguard-go
# in the same run (docs/mesh-interface.md); rows whose tool is missing are
# skipped.
section tun natlab_section bench/tun_bench.sh

# --- relayidle: relayd RSS per idle WebSocket client beside the npm ws
# relay at the same N (docs/relay-bench.md)
section relayidle sh bench/relay_idle_bench.sh 10000

# --- other sections below, one per figure

[ -z "$failed" ] || { echo "failed sections:$failed"; exit 1; }
