#!/bin/sh
# punchd/birthday.c's planner through real nftables NATs, on real sockets
# (tests/tools/bdayprobe): the technique alone, without punchd (punchd's own
# figures: bench/hardnat_bench.sh; its CI tests: tests/natlab/41-43). Needs
# root (network namespaces): sudo BDAY_TRIES=20 sh bench/bdayprobe_lab.sh Issue 13's targets:
#   symmetric-random vs port-restricted, birthday:        >= 90 % in 10 s
#   sequential vs port-restricted, predicted range:       >= 95 % in 3 s
#   sequential on both sides, strides 1 and 2:            >= 95 % in 3 s
#   symmetric-random on both sides: fails, traffic bounded and stated
# Tries: BDAY_TRIES (default 10, ~55 s; the figures in docs/paths-logic.md
# are BDAY_TRIES=20) each, 3 for the hopeless case. Every try
# starts from empty conntrack tables on both NATs and a fresh token; a host
# behind each sequential NAT opens BDAY_LOAD (default 5) new flows per
# second meanwhile.
# docs/paths-logic.md has the figures.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BP=$TOP/$BUILD/tests/tools/bdayprobe
. "$TOP/tests/natlab/lib.sh"

[ -x "$BP" ] || nl_skip "bdayprobe is not built ($BP missing)"
command -v turnserver >/dev/null 2>&1 &&
    command -v turnutils_natdiscovery >/dev/null 2>&1 ||
	nl_skip "coturn missing (scripts/deps.sh)"
nl_require
nl_init
TRIES=${BDAY_TRIES:-10}

echo "== building the lab (prefix $NL_PFX)"
nl_public
nl_host srv 203.0.113.10 203.0.113.11
nl_nat easy eim
nl_nat sym sym
nl_nat_seq seq
nl_nat sym2 sym
nl_nat_seq seq2
nl_turnserver srv "$NL_TMP/turn.log" 203.0.113.10 203.0.113.11
E=$(nl_wan easy)

# Other hosts' traffic on the sequential NATs: LOAD new UDP flows per
# second behind each (nl_nat_load)
LOAD=${BDAY_LOAD:-5}
for _n in seq seq2; do
	nl_nat_load "$_n" "$LOAD"
done

# try KIND N: both sides at once; "ok SECONDS SENT_A SENT_B" or "no ..."
try() {
	_k=$1 _n=$2
	for _x in easy sym seq sym2 seq2; do nl_flush "$_x"; done
	_tok=$(printf '%s%06d' "$_k" "$_n" | cut -c1-16)
	case $_k in
	bday)
		nl_exec easy-host "$BP" easy "$_tok" "$(nl_wan sym)" 7777 \
		    >"$NL_TMP/a" 2>&1 &
		_pa=$!
		nl_exec sym-host "$BP" hard "$_tok" "$E:7777" >"$NL_TMP/b" 2>&1
		;;
	seq)
		# the allocator's last port, as a client on that NAT sees it
		_last=$(nl_natdiscovery seq-host 203.0.113.10 | nl_mapped_ports |
		    tail -n 1)
		nl_exec easy-host "$BP" predict "$_tok" "$(nl_wan seq)" 7777 \
		    "$_last" >"$NL_TMP/a" 2>&1 &
		_pa=$!
		nl_exec seq-host "$BP" punch "$_tok" "$E:7777" >"$NL_TMP/b" 2>&1
		;;
	seqseq)
		_la=$(nl_natdiscovery seq-host 203.0.113.10 | nl_mapped_ports |
		    tail -n 1)
		_lb=$(nl_natdiscovery seq2-host 203.0.113.10 | nl_mapped_ports |
		    tail -n 1)
		nl_exec seq-host "$BP" predict "$_tok" "$(nl_wan seq2)" 7777 \
		    "$_lb" 1 >"$NL_TMP/a" 2>&1 &
		_pa=$!
		nl_exec seq2-host "$BP" predict "$_tok" "$(nl_wan seq)" 7777 \
		    "$_la" 2 >"$NL_TMP/b" 2>&1
		;;
	both)
		nl_exec sym2-host "$BP" easy "$_tok" "$(nl_wan sym)" 7777 \
		    >"$NL_TMP/a" 2>&1 &
		_pa=$!
		nl_exec sym-host "$BP" hard "$_tok" "$(nl_wan sym2):7777" \
		    >"$NL_TMP/b" 2>&1
		;;
	esac
	wait "$_pa"
	_a=$(tail -n 1 "$NL_TMP/a") _b=$(tail -n 1 "$NL_TMP/b")
	echo "  $_k $_n: probing side: $_a | other side: $_b" >&2
	case "$_a|$_b" in
	won*"|"won*)
		_t=$(printf '%s\n%s\n' "$_a" "$_b" | awk 'BEGIN { m = 0 } $2 + 0 > m { m = $2 + 0 } END { printf "%.2f", m }')
		echo "ok $_t $(echo "$_a" | awk '{print $4}') $(echo "$_b" | awk '{print $4}')" ;;
	*)	echo "no 99 $(echo "$_a" | awk '{print $4}' | tr -d :) $(echo "$_b" | awk '{print $4}' | tr -d :)" ;;
	esac
}

# run KIND TRIES LIMIT: prints the tally, sets RATE (percent within LIMIT s)
run() {
	_k=$1 _t=$2 _lim=$3 _i=1
	: >"$NL_TMP/$_k.tally"
	while [ "$_i" -le "$_t" ]; do
		try "$_k" "$_i" | tee -a "$NL_TMP/$_k.log" | grep -E '^(ok|no) ' \
		    >>"$NL_TMP/$_k.tally"
		_i=$((_i + 1))
	done
	RATE=$(awk -v lim="$_lim" '$1 == "ok" && $2 <= lim { n++ }
	    END { printf "%d", 100 * n / NR }' "$NL_TMP/$_k.tally")
	awk -v k="$_k" -v lim="$_lim" '
	    $1 == "ok" && $2 <= lim { n++; t += $2 } { a += $3; b += $4; if ($3 > ma) ma = $3; if ($4 > mb) mb = $4 }
	    END { printf "bdayprobe %s: %d/%d within %d s, mean %.2f s; probing side %.0f packets/try (max %d), other side %.0f (max %d)\n",
	        k, n, NR, lim, n ? t / n : 0, a / NR, ma, b / NR, mb }' "$NL_TMP/$_k.tally"
}

fails=0
echo "== symmetric-random (hard) vs port-restricted (easy): birthday, $TRIES tries"
run bday "$TRIES" 10
[ "$RATE" -ge 90 ] || { echo "FAIL: birthday $RATE % < 90 %"; fails=$((fails + 1)); }
echo "== sequential vs port-restricted: predicted range, $TRIES tries"
run seq "$TRIES" 3
[ "$RATE" -ge 95 ] || { echo "FAIL: predicted range $RATE % < 95 %"; fails=$((fails + 1)); }
echo "== sequential on both sides: strides 1 and 2, $TRIES tries"
run seqseq "$TRIES" 3
[ "$RATE" -ge 95 ] || { echo "FAIL: sequential both sides $RATE % < 95 %"; fails=$((fails + 1)); }
echo "== symmetric-random on both sides: birthday anyway, 3 tries"
run both 3 10
[ "$RATE" -eq 0 ] || { echo "FAIL: random on both sides crossed ($RATE %)"; fails=$((fails + 1)); }
awk '$3 > 2048 || $4 > 1280 { bad = 1 } END { exit bad }' "$NL_TMP/both.tally" ||
    { echo "FAIL: a side exceeded its budget"; fails=$((fails + 1)); }

[ "$fails" -eq 0 ] || nl_die "$fails target(s) missed"
echo "natlab: birthday and predicted-range targets met"
