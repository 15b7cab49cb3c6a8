#!/bin/sh
# Runs the benchmarks (make bench). Each section is independent: it prints its
# own figures, and one that fails or cannot run does not stop the others.
# BENCHES="stun relay" picks sections (default: all).
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

# --- other sections below, one per figure

[ -z "$failed" ] || { echo "failed sections:$failed"; exit 1; }
