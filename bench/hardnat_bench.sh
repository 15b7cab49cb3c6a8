#!/bin/sh
# Hard-NAT traversal with real punchd, stund and relayd (tokens) in the NAT
# lab (issue 13 item 1; docs/paths.md "Hard NATs"): TRIES tries of each
# scenario, each try on fresh nodes (stund and punchd started anew, state
# directories emptied, every NAT's conntrack flushed), both sides punching
# at once as tests/natlab/41-43 do, default punch timers except
# punch_timeout 12 s (the probing window is 10 s).
#
#   seq-pr     sequential NAT (nl_nat_seq) vs port-restricted cone
#   seq-seq    sequential vs sequential
#   sym-pr     symmetric with random ports (masquerade fully-random) vs
#              port-restricted cone
#   sym-sym    random on both sides (expected relayed; probes counted)
#
# Per scenario: tries direct within the target (3 s for the sequential
# ones, 10 s for sym-pr), time from the punch to both sides direct
# (median, max), and the packets each side's hard-NAT run sent (probes
# from the easy side, extra-socket packets from the hard side: mean, max).
# The load average is printed before and after (the machine is shared).
# LOAD=N (default 0): another host behind each sequential NAT opens N new
# UDP flows per second throughout (as bench/bdayprobe_lab.sh does),
# so its ports move on between stund's observation and the punch.
#
#   BUILD=build TRIES=20 SCENARIOS="seq-pr seq-seq sym-pr sym-sym" \
#       LOAD=0 sh bench/hardnat_bench.sh
#
# Needs root, iproute2, nftables, conntrack, jq; exits 77 when it cannot.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
TRIES=${TRIES:-20}
SCENARIOS=${SCENARIOS:-"seq-pr seq-seq sym-pr sym-sym"}
LOAD=${LOAD:-0}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
. "$TOP/tests/natlab/hardnat.inc"
pl_need
nl_require
nl_init

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: BUILD=$BUILD TRIES=$TRIES SCENARIOS=\"$SCENARIOS\" LOAD=$LOAD sh bench/hardnat_bench.sh"
pl_world
nl_nat pr1 eim
nl_nat_seq seq1 40000
nl_nat_seq seq2 41000
nl_nat sym1 sym
nl_nat sym2 sym
if [ "$LOAD" != 0 ]; then
	for _n in seq1 seq2; do
		nl_nat_load "$_n" "$LOAD"
	done
fi

# stop_ns NS: every process this bench started in namespace NS
stop_ns() {
	for _p in $(ip netns pids "$(nl_ns "$1")" 2>/dev/null); do
		kill "$_p" 2>/dev/null
	done
	nl_wait 5 sh -c "[ -z \"\$(ip netns pids $(nl_ns "$1"))\" ]" ||
		for _p in $(ip netns pids "$(nl_ns "$1")"); do kill -9 "$_p"; done
}

# one try: NATS of A and B, target seconds; prints "ok|fail MS PA PB"
try() {
	_na=$1 _nb=$2 _tg=$3
	for _n in A B; do rm -rf "${NL_TMP:?}/$_n"; done
	for _x in pr1 seq1 seq2 sym1 sym2; do nl_flush "$_x"; done
	PL_FAST="-o punchd.punch_timeout=12s -o punchd.stun_refresh=0" \
	    pl_node A "$_na-host" >/dev/null
	PL_FAST="-o punchd.punch_timeout=12s -o punchd.stun_refresh=0" \
	    pl_node B "$_nb-host" >/dev/null
	hn_nat_known A B
	_ia=$(pl_id A) _ib=$(pl_id B)
	_t0=$(pl_ms)
	pl_m A punch -w 100 "$_ib" "$(pl_public B)" >/dev/null 2>&1 &
	_bp=$!
	pl_m B punch -w 100 "$_ia" "$(pl_public A)" >/dev/null 2>&1
	wait "$_bp"
	_ms=-
	_end=$((_t0 + _tg * 1000 + 2000))
	while [ "$(pl_ms)" -lt "$_end" ]; do
		if pl_path_is A "$_ib" direct && pl_path_is B "$_ia" direct; then
			_ms=$(( $(pl_ms) - _t0 ))
			break
		fi
		sleep 0.02
	done
	# the runs' packets (let a failing run end first: window + grace)
	[ "$_ms" = - ] && sleep 1
	_pa=$(hn_why A "$_ib" .hardnat_probes) _pb=$(hn_why B "$_ia" .hardnat_probes)
	if [ "$_ms" != - ] && [ "$_ms" -le $((_tg * 1000)) ]; then
		echo "ok $_ms $_pa $_pb"
	else
		echo "fail $_ms $_pa $_pb"
	fi
	stop_ns "$_na-host"
	stop_ns "$_nb-host"
}

summary() {
	awk -v name="$1" -v tg="$2" '
	{ n++; if ($1 == "ok") { ok++; t[ok] = $2 } pa += $3; pb += $4
	  if ($3 > ma) ma = $3; if ($4 > mb) mb = $4 }
	END {
		med = "-"; mx = "-"
		if (ok > 0) {
			for (i = 1; i <= ok; i++) for (j = i + 1; j <= ok; j++)
				if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
			med = (ok % 2) ? t[(ok + 1) / 2] : (t[ok / 2] + t[ok / 2 + 1]) / 2
			mx = t[ok]
		}
		printf "%-8s direct <= %2d s: %2d/%d (%3.0f %%); time to direct median %s ms, max %s ms; packets A mean %.0f max %d, B mean %.0f max %d\n",
		    name, tg, ok, n, 100 * ok / n, med, mx, pa / n, ma, pb / n, mb }'
}

for sc in $SCENARIOS; do
	case $sc in
	seq-pr) a=seq1 b=pr1 tg=3 ;;
	seq-seq) a=seq1 b=seq2 tg=3 ;;
	sym-pr) a=sym1 b=pr1 tg=10 ;;
	sym-sym) a=sym1 b=sym2 tg=10 ;;
	*) nl_die "unknown scenario $sc" ;;
	esac
	: >"$NL_TMP/$sc.txt"
	i=0
	while [ "$i" -lt "$TRIES" ]; do
		i=$((i + 1))
		r=$(try "$a" "$b" "$tg")
		echo "$r" >>"$NL_TMP/$sc.txt"
		echo "  $sc try $i: $r"
	done
	summary "$sc" "$tg" <"$NL_TMP/$sc.txt" | tee -a "$NL_TMP/summary.txt"
done
echo "== summary (A = first NAT of the name, B = second)"
cat "$NL_TMP/summary.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
