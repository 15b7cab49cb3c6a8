#!/bin/sh
# A NAT forgets a punched path mid-session; punchd must heal it within its
# configured failure budget. Two endpoint-independent NATs (a, b), a direct
# path between A and B (punched as in 10-punchd-eim-eim.sh), keep-alives
# every 300 ms, warn_after 2, dead_after 3, punch_timeout 2 s, repunch
# 500 ms (tests/natlab/punchd.inc PL_FAST). Budget: a dead path is seen
# after (dead_after + 1) x keepalive_interval = 1.2 s and re-punched at
# once; one attempt lasts punch_timeout = 2 s: 3.2 s, checked against 5 s
# to allow for scheduling.
#
#  1. `conntrack -F` on NAT a (nl_flush: a NAT reboot that forgets every
#     binding). Masquerade hands port 7777 back on the next outgoing
#     packet, and B's packets arriving before that are dropped by the
#     NAT's input rule without creating a binding. The path must stay (or
#     come back) direct within the budget, keep-alives answered on both
#     sides after the flush, data both ways.
#  2. A longer NAT outage: NAT a drops everything it would forward for 2 s
#     (longer than the 1.2 s budget of dead_after), and its conntrack table
#     is flushed, then it forwards again. Both sides must declare the path
#     dead (peer.down, reason keep-alive timeout), re-punch, and be direct
#     again within the budget after the NAT is back, with data both ways.
#
# The symmetric-NAT variant (a flush there gives a NEW port) is
# 14-punchd-flush-sym.sh.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab
BUDGET=5	# s (3.2 s computed above)

echo "== lab $NL_PFX: eim a, eim b"
pl_two_nats a:eim b:eim
pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"
pl_punch_both A B 5000 >/dev/null || pl_bad "punch failed"
nl_wait 3 pl_path_is A "$IB" direct && nl_wait 3 pl_path_is B "$IA" direct ||
	nl_die "A <-> B not direct before the test: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
sleep 0.5
pl_ok "A <-> B direct ($(pl_peer A "$IB" .endpoint) / $(pl_peer B "$IA" .endpoint))"

both_direct() { pl_path_is A "$IB" direct && pl_path_is B "$IA" direct; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "== 1. conntrack -F on NAT a"
ka0=$(pl_ka_seen A "$IB") kb0=$(pl_ka_seen B "$IA")
t0=$(date +%s%N)
nl_flush a
# two keep-alive rounds must be answered on both sides, within the budget
ok=0
while [ "$(ms_since "$t0")" -lt $((BUDGET * 1000)) ]; do
	if both_direct && [ "$(pl_ka_seen A "$IB")" -ge $((ka0 + 2)) ] &&
	    [ "$(pl_ka_seen B "$IA")" -ge $((kb0 + 2)) ]; then
		ok=1
		break
	fi
	sleep 0.1
done
ms=$(ms_since "$t0")
[ $ok = 1 ] && pl_ok "direct, keep-alives answered on both sides ${ms} ms after the flush" ||
	pl_bad "not healed ${BUDGET} s after the flush: A $(pl_peer A "$IB" '.state+" "+(.endpoint//"-")') acked $(pl_ka_seen A "$IB") (was $ka0), B $(pl_peer B "$IA" '.state+" "+(.endpoint//"-")') acked $(pl_ka_seen B "$IA") (was $kb0)"
nl_exec a conntrack -L -p udp 2>/dev/null | grep -q "src=$(nl_lan a) dst=$(nl_wan b) sport=7777 dport=7777 .*dport=7777 " &&
	pl_ok "NAT a re-created the binding on port 7777" ||
	pl_bad "NAT a: no new binding 7777 -> $(nl_wan b):7777: $(nl_exec a conntrack -L -p udp 2>/dev/null)"
pl_deliver A B "after-flush-a-b" && pl_deliver B A "after-flush-b-a" &&
	pl_ok "data both ways after the flush" || pl_bad "data after the flush"
downs=$(grep -c '"event":"peer.down"' "$NL_TMP/listen-A" "$NL_TMP/listen-B" | awk -F: '{s += $2} END {print s + 0}')
echo "    peer.down events so far: $downs (a flush with the port kept need not break the path)"

echo "== 2. NAT a drops everything for 2 s and forgets its bindings"
: >"$NL_TMP/events-before"
cp "$NL_TMP/listen-A" "$NL_TMP/events-before"
nl_exec a nft -f - <<-EOF || nl_die "nft outage rule"
	table ip outage {
		chain cut { type filter hook forward priority -10; policy drop; }
	}
EOF
nl_flush a
t0=$(date +%s%N)
nl_wait 3 grep -q '"event":"peer.down"' "$NL_TMP/listen-A" &&
	pl_ok "A: peer.down after $(ms_since "$t0") ms: $(grep '"event":"peer.down"' "$NL_TMP/listen-A" | tail -n 1 | jq -r .params.reason)" ||
	pl_bad "A did not declare the path dead within 3 s"
nl_wait 3 grep -q '"event":"peer.down"' "$NL_TMP/listen-B" ||
	pl_bad "B did not declare the path dead within 3 s"
while [ "$(ms_since "$t0")" -lt 2000 ]; do sleep 0.1; done
nl_flush a
nl_exec a nft delete table ip outage || nl_die "nft delete outage"
t1=$(date +%s%N)
nl_wait $BUDGET both_direct &&
	pl_ok "direct again $(ms_since "$t1") ms after NAT a came back: $(pl_peer A "$IB" .endpoint) / $(pl_peer B "$IA" .endpoint)" ||
	pl_bad "not direct ${BUDGET} s after NAT a came back: A $(pl_peer A "$IB" '.state+" "+(.path//"-")'), B $(pl_peer B "$IA" '.state+" "+(.path//"-")')"
pl_deliver A B "after-outage-a-b" && pl_deliver B A "after-outage-b-a" &&
	pl_ok "data both ways after the outage" || pl_bad "data after the outage"
grep '"event":"peer' "$NL_TMP/listen-A" | jq -c '[.event, .params.state, .params.path, .params.reason]' | tr '\n' ' '
echo

pl_finish "NAT flush and NAT outage on an eim NAT: direct path healed within the budget"
