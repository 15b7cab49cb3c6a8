#!/bin/sh
# A symmetric NAT forgets a punched path mid-session and maps the host to a
# NEW port; punchd must heal the path within its failure budget.
#
# S behind a symmetric NAT (masquerade fully-random), F behind a full cone:
# their direct path runs through a peer-reflexive candidate (see
# 11-punchd-sym-eim.sh: F reaches S at WAN_s:R, the mapping S's PUNCH got).
# `conntrack -F` on NAT s (nl_flush, a NAT reboot): S's next packet leaves
# from a new random port R2. S's keep-alives still reach F (full cone), and
# F's answers go back to R2, so S sees nothing wrong; but F's own
# keep-alives go to the dead R and are dropped.
#
# Correct behaviour (what this test asserts): within the failure budget
# ((dead_after + 1) x keepalive_interval = 1.2 s to see the path dead, plus
# one punch_timeout = 2 s; checked against 5 s) both sides are direct again
# with F's endpoint on S's new mapping WAN_s:R2, and data flows both ways.
# punchd could get there by learning R2 from S's authenticated packets (a
# peer-reflexive address, as ICE and WireGuard's roaming do), or S could
# notice that F's keep-alives stopped arriving, or both could meet on the
# relay again.
#
# Status: failed with punchd as built at 13:05 UTC on 2026-11-23 (F stayed
# punching/down for good, re-punching only the dead R and S's
# server-reflexive candidate; S stayed `direct`; F -> S sends refused with
# "unavailable": docs/punchd-natlab.md, bug 1). Passes since punchd takes
# the source of an authenticated packet from an unknown address as a
# peer-reflexive candidate and checks it (punchd/input.c input_new_source).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab
BUDGET=5

echo "== lab $NL_PFX: sym s, fullcone f"
pl_two_nats s:sym f:fullcone
pl_listen S "$NL_TMP/listen-S"
pl_listen F "$NL_TMP/listen-F"
pl_punch_both S F 5000 >/dev/null || pl_bad "punch failed"
both_direct() { pl_path_is S "$IF" direct && pl_path_is F "$IS" direct; }
nl_wait 3 both_direct ||
	nl_die "S <-> F not direct before the test: $(pl_peer S "$IF" .state) / $(pl_peer F "$IS" .state)"
sleep 0.5
ef0=$(pl_peer F "$IS" .endpoint)
pl_ok "S <-> F direct; F reaches S at $ef0"

echo "== conntrack -F on the symmetric NAT"
t0=$(date +%s%N)
nl_flush s
# S's next packet towards F gets a new port
nl_wait 2 sh -c "ip netns exec $(nl_ns s) conntrack -L -p udp 2>/dev/null | grep -q 'src=$(nl_lan s) dst=$(nl_wan f) sport=7777 dport=7777 '" ||
	pl_bad "S sent nothing to F after the flush"
new=$(nl_exec s conntrack -L -p udp 2>/dev/null | grep "src=$(nl_lan s) dst=$(nl_wan f) sport=7777 dport=7777 " |
    sed -n 's/.* dport=\([0-9]*\) .*/\1/p' | head -n 1)
echo "    NAT s now maps S -> F to $(nl_wan s):$new (was $ef0)"
healed() {
	both_direct && [ "$(pl_peer F "$IS" .endpoint)" = "$(nl_wan s):$new" ]
}
if nl_wait $BUDGET healed; then
	pl_ok "healed in $(( ($(date +%s%N) - t0) / 1000000 )) ms: F reaches S at $(pl_peer F "$IS" .endpoint)"
else
	pl_bad "not healed ${BUDGET} s after the flush: S sees $(pl_peer S "$IF" '.state+" "+(.endpoint//"-")'), F sees $(pl_peer F "$IS" '.state+" "+(.endpoint//"-")')"
	pl_get F "$IS" '"    F: punch " + .punch + ", attempts \(.attempts), candidates: " + ([.candidates[] | .type + " " + .address + " " + .check] | join(", "))'
	pl_get S "$IF" '"    S: keep-alives sent \(.keepalives_sent) acked \(.keepalives_acked)"'
fi
pl_deliver S F "s-to-f-after-flush" && pl_ok "datagram S -> F" || pl_bad "S -> F not delivered"
pl_deliver F S "f-to-s-after-flush" && pl_ok "datagram F -> S" ||
	pl_bad "F -> S not delivered: $(cat "$NL_TMP/send.json")"

pl_finish "symmetric NAT flushed: path healed onto the new mapping"
