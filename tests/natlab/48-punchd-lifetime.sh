#!/bin/sh
# Keep-alive from the NAT's real lifetime (issue 13, item 4), default timers.
#
# A behind port-restricted NAT a, B behind port-restricted NAT b (eim:
# masquerade), both NATs forgetting an idle UDP binding after 10 s
# (nf_conntrack_udp_timeout and _stream, per network namespace), relayd
# with an access token. A and B punch direct and are left idle: the first
# keep-alive (25 s, the default) finds both bindings gone, punchd learns
# the lifetime from the gaps the path survives and the ones it does not
# (punchd/lifetime.h: half the shortest fatal gap, 5 s at the least).
# Once the leader's interval (meshctl why) is at most LIFETIME_MAX_IV s
# (default 7.5: three quarters of the NATs' 10 s, the worst the search
# ends with; learning takes about 50 s: the first keep-alive's gap dies,
# half of it lives, the gap between dies or lives until the bracket is
# within a third, each death repaired by the follower's probe a second
# later), at most LIFETIME_LEARN s (default 60, the issue's first
# minute) after the path came up, sparse datagrams
# (one every 7-13 s, alternately A -> B and B -> A, LIFETIME_SEND s in
# all, default 30) must all arrive, and the pair stays direct all that
# time: no peer.down, no peer.path after learning, and no path death
# during the learning either. bench/lifetime_bench.sh runs it for 5
# minutes. LIFETIME_LOGS=DIR keeps the logs. The last line of figures:
# "lifetime: learned_s=.. sent=.. lost=.. interval=.. deaths=..".
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab
LEARN=${LIFETIME_LEARN:-60}
SEND=${LIFETIME_SEND:-30}
MAXIV=${LIFETIME_MAX_IV:-7.5}
NATTO=${LIFETIME_NAT_TIMEOUT:-10}
# default timers: only STUN refresh off (the lab's server never changes)
PL_FAST="-o punchd.stun_refresh=0"

echo "== lab $NL_PFX: eim a, eim b, UDP timeouts ${NATTO} s, relayd with access tokens"
pl_world
nl_nat a eim
nl_nat b eim
nl_udp_timeout a "$NATTO"
nl_udp_timeout b "$NATTO"
[ "$(nl_exec a sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)" = "$NATTO" ] ||
	nl_die "conntrack timeout not set in nat a"
pl_node A a-host
pl_node B b-host
IA=$(pl_id A) IB=$(pl_id B)
pl_listen_timed A "$NL_TMP/listen-A"
pl_listen_timed B "$NL_TMP/listen-B"
pl_direct_pair A B
T_UP=$(pl_ms)
if [ "$(pl_get A "$IB" .keepalive_lead)" = true ]; then
	LEAD=A LID=$IB
else
	LEAD=B LID=$IA
fi
echo "    $LEAD leads the keep-alives"

echo "== idle: learning the NATs' lifetime (at most ${LEARN} s)"
learned() {
	pl_m "$LEAD" --json why "$LID" 2>/dev/null | jq -e \
	    ".peer.health.keepalive_interval_s <= $MAXIV" >/dev/null
}
t_max=$((T_UP + LEARN * 1000))
while ! learned && [ "$(pl_ms)" -lt "$t_max" ]; do sleep 1; done
T_LEARNED=$(pl_ms)
LEARNED_S=$(( (T_LEARNED - T_UP) / 1000 ))
pl_m "$LEAD" why "$LID" >"$NL_TMP/why-learned.txt" 2>&1
grep '^keep-alive' "$NL_TMP/why-learned.txt" | sed 's/^/    /'
learned && pl_ok "learned in ${LEARNED_S} s" ||
	pl_bad "interval not <= $MAXIV s after $LEARN s"
# no path death while learning: each fatal gap was repaired by the
# follower's probe before the leader gave up
for n in A B; do
	[ $n = A ] && p=$IB || p=$IA
	d=$(pl_m $n --json why "$p" | jq -r .peer.health.deaths)
	[ "$d" = 0 ] && pl_ok "$n: no path death while learning" ||
		pl_bad "$n: $d path deaths while learning"
done

echo "== ${SEND} s of sparse datagrams (every 7-13 s), both ways"
: >"$NL_TMP/send.log"
i=0
t_end=$(( $(pl_ms) + SEND * 1000 ))
while [ "$(pl_ms)" -lt "$t_end" ]; do
	sleep $(( 7 + $(od -An -N1 -tu1 /dev/urandom) % 7 ))
	i=$((i + 1))
	if [ $((i % 2)) -eq 1 ]; then from=A to=$IB; else from=B to=$IA; fi
	r=$(pl_m $from --json send "$to" "d$i" 2>&1)
	echo "$(pl_ms) $i $from $? $(printf %s "$r" | tr -d '\n')" >>"$NL_TMP/send.log"
done
sleep 3
lost=0
for n in $(seq 1 $i); do
	if [ $((n % 2)) -eq 1 ]; then f=listen-B; else f=listen-A; fi
	grep -q "\"text\":\"d$n\"" "$NL_TMP/$f" || {
		lost=$((lost + 1))
		echo "    lost: d$n ($(grep " $n " "$NL_TMP/send.log" | cut -d' ' -f1,3-))"
	}
done
[ "$i" -ge 3 ] && [ "$lost" -eq 0 ] &&
	pl_ok "all $i sparse datagrams delivered after learning" ||
	pl_bad "$lost of $i sparse datagrams lost after learning"

# still direct, and no path change at all after learning
for n in A B; do
	[ $n = A ] && p=$IB || p=$IA
	pl_path_is $n "$p" direct && pl_ok "$n: still direct" ||
		pl_bad "$n: $(pl_peer $n "$p" .state) at the end"
	ch=$(awk -v t="$T_LEARNED" '$1 > t' "$NL_TMP/listen-$n" |
	    grep -c '"event":"peer.\(down\|path\)"')
	[ "$ch" -eq 0 ] && pl_ok "$n: no peer.down / peer.path after learning" ||
		pl_bad "$n: $ch path events after learning: $(awk -v t="$T_LEARNED" '$1 > t' "$NL_TMP/listen-$n" |
		    grep '"event":"peer.\(down\|path\)"' | cut -c1-300)"
done
pl_m "$LEAD" why "$LID" >"$NL_TMP/why-end.txt" 2>&1
pl_m "$LEAD" --json why "$LID" >"$NL_TMP/why-end.json" 2>&1
sed 's/^/    /' "$NL_TMP/why-end.txt"
iv=$(jq -r .peer.health.keepalive_interval_s "$NL_TMP/why-end.json")
awk -v v="$iv" -v m="$MAXIV" 'BEGIN { exit !(v > 0 && v <= m) }' &&
	grep -q "^keep-alive: every " "$NL_TMP/why-end.txt" &&
	pl_ok "keep-alive interval learned: $iv s (<= $MAXIV)" ||
	pl_bad "keep-alive interval $iv s (want <= $MAXIV)"

echo "lifetime: learned_s=$LEARNED_S sent=$i lost=$lost interval=$iv deaths=$(jq -r .peer.health.deaths "$NL_TMP/why-end.json")"
[ -n "${LIFETIME_LOGS:-}" ] && mkdir -p "$LIFETIME_LOGS" &&
	cp "$NL_TMP"/*.log "$NL_TMP"/listen-* "$NL_TMP"/why-* "$LIFETIME_LOGS"/
pl_finish "idle pair behind 10 s NATs kept direct, $i datagrams, keep-alive ${iv} s"
