#!/bin/sh
# Roaming (issue 13, item 5), repeated: tests/natlab/44-punchd-roam.sh
# RUNS times (default 6), each on a fresh lab, default timers. Per run and
# case: the longest time without a delivery at the receiver (~20
# datagrams/s) and the time until both sides are direct again on the new
# endpoint; then min / median / max over the runs, the load average and the
# command. Cases: nat (the NAT's external address changes, conntrack
# flushed: nothing on the host changes) and host (the host moves to another
# network behind another NAT: netlink).
# Needs root, iproute2, nftables (the NAT lab); exits 77 when it cannot.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
RUNS=${RUNS:-6}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/roam-bench.XXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT
trap 'exit 143' TERM INT
echo "roam bench: $RUNS runs of tests/natlab/44-punchd-roam.sh, load $(cut -d' ' -f1-3 /proc/loadavg)"
fails=0
i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	TOP=$TOP BUILD=$BUILD ROAM_MAX_GAP_MS=${ROAM_MAX_GAP_MS:-5000} \
	    sh "$TOP/tests/natlab/44-punchd-roam.sh" >"$OUT/run-$i" 2>&1
	rc=$?
	[ "$rc" -eq 77 ] && { tail -n 1 "$OUT/run-$i"; exit 77; }
	[ "$rc" -ne 0 ] && fails=$((fails + 1))
	printf 'run %d: %s %s\n' "$i" "$([ "$rc" -eq 0 ] && echo pass || echo FAIL)" \
	    "$(grep '^figures:' "$OUT/run-$i" | sed 's/^figures: //' | tr '\n' ' ')"
	grep '^figures: case=' "$OUT/run-$i" | sed 's/^figures: //' >>"$OUT/all"
done
for c in nat host; do
	for f in gap_ms direct_ms; do
		grep "case=$c " "$OUT/all" | tr ' ' '\n' | sed -n "s/^$f=//p" |
		    sort -n | awk -v c="$c" -v f="$f" '{ v[NR] = $1; l = l " " $1 }
		    END { if (NR) printf "%s %s: min %d, median %d, max %d (%d runs):%s\n",
			c, f, v[1], v[int((NR + 1) / 2)], v[NR], NR, l }'
	done
done
echo "failed runs: $fails of $RUNS; load after $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: RUNS=$RUNS sudo sh bench/roam_bench.sh"
