#!/bin/sh
# Keep-alive from the NAT's real lifetime (issue 13, item 4), the full
# target: an idle direct pair behind two port-restricted NATs whose UDP
# conntrack timeouts are 10 s stays direct for 5 minutes, and no datagram
# is lost once the lifetime is learned.
#
#   sudo sh bench/lifetime_bench.sh [RUNS]        (default 1)
#
# Each run is tests/natlab/48-punchd-lifetime.sh (default punchd timers,
# relayd with an access token) with a send phase that fills the 5 minutes:
# the pair stays idle until the leader's keep-alive interval is learned
# (<= 7.5 s, within a minute), then a sparse datagram every 7-13 s, both ways
# in turn, until 5 minutes after the path came up. Printed per run: when
# the interval was learned, datagrams sent / lost after it, the interval,
# path deaths, the verdict, and the load average before and after (a busy
# machine delays timers: the figures are then not typical).
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
RUNS=${1:-1}
[ "$(id -u)" -eq 0 ] || { echo "lifetime: needs root (NAT lab)"; exit 0; }
echo "lifetime bench: sh bench/lifetime_bench.sh $RUNS (BUILD=$BUILD)"
r=0
while [ "$r" -lt "$RUNS" ]; do
	r=$((r + 1))
	l0=$(cut -d' ' -f1-3 /proc/loadavg)
	out=$(mktemp /tmp/lifetime-bench.XXXXXX)
	# <= 60 s learning, then 240 s of datagrams: 5 minutes from path-up
	BUILD=$BUILD LIFETIME_LEARN=60 LIFETIME_SEND=${LIFETIME_SEND:-240} \
	    sh tests/natlab/48-punchd-lifetime.sh >"$out" 2>&1
	rc=$?
	l1=$(cut -d' ' -f1-3 /proc/loadavg)
	fig=$(grep '^lifetime: ' "$out" | tail -n 1)
	verdict=$(grep -E '^(PASS|SKIP)' "$out" | tail -n 1)
	[ -n "$verdict" ] || verdict="FAIL: $(grep '^FAIL' "$out" | tr '\n' ';')"
	echo "run $r: ${fig:-no figures} rc=$rc load $l0 -> $l1"
	echo "    $verdict"
	[ "$rc" -eq 0 ] || grep -E '^(ok|FAIL)|lost:' "$out" | sed 's/^/    /'
	rm -f "$out"
done
