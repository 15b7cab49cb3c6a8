#!/bin/sh
# Hard-NAT traversal with real punchd, stund and relayd (tokens): a NAT
# that maps per destination with sequential ports (nl_nat_seq: every new
# flow takes the next port) against a port-restricted cone (masquerade).
#
# Without prediction this pair stays relayed: A's PUNCH towards B leaves
# through a new port X that nobody told B, and B's port-restricted NAT
# drops it; B's PUNCHes go to A's server-reflexive port, which A's NAT
# keeps for the STUN server only. With it (punchd/hardnat.c): stund tells
# each side its allocation pattern (nat.get alloc), punchd signals it with
# its candidates through the relay, and B probes A's predicted ports with
# authenticated PUNCHes; the probe that lands on X opens B's filter, the
# answer completes the check.
#
# Checks: A's stund says sequential; both sides end direct within 3 s of the
# rendezvous, B's endpoint for A is A's WAN at a port that is not A's
# server-reflexive one (a predicted port inside the NAT's range); `meshctl
# why` on B shows A's NAT as signalled (sequential) and the probing result;
# probes bounded (<= 2048, punchd/birthday's budget); data both ways.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
. "$TOP/tests/natlab/hardnat.inc"
pl_lab

echo "== lab $NL_PFX: sequential a, port-restricted b"
pl_two_nats a:seq b:eim -o punchd.punch_timeout=10s
# NAT behaviour: stund's first run (the one punchd asked for at start)
hn_nat_known A B
echo "    A: $(hn_nat A)"
echo "    B: $(hn_nat B)"
[ "$(jq -r .alloc.pattern "$NL_TMP/nat-A.json")" = sequential ] &&
	pl_ok "A's stund: sequential allocation" ||
	pl_bad "A's stund: $(jq -c .alloc "$NL_TMP/nat-A.json")"

pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"

echo "== both punch at once"
pl_punch_both A B 4000
ms=$(hn_direct_both A B 3) &&
	pl_ok "direct both ways, $ms ms after the punch returned" ||
	pl_bad "not direct: A sees $(pl_peer A "$IB" '.state+" "+.endpoint'), B sees $(pl_peer B "$IA" '.state+" "+.endpoint')"
eb=$(pl_peer B "$IA" .endpoint) pa=$(pl_public A)
case $eb in
"$(nl_wan a)":*)
	p=${eb##*:}
	[ "$p" != "${pa##*:}" ] && [ "$p" -ge 40000 ] && [ "$p" -le 40999 ] &&
		pl_ok "B -> A on $eb: a predicted port (A's server-reflexive is $pa)" ||
		pl_bad "B -> A on $eb, A's public $pa" ;;
*) pl_bad "B's endpoint for A: $eb" ;;
esac

pl_m B why "$IA" >"$NL_TMP/why-B.txt" 2>&1
sed 's/^/    B: /' "$NL_TMP/why-B.txt"
grep -q "^their NAT: .*sequential ports" "$NL_TMP/why-B.txt" &&
	pl_ok "why on B: A's NAT signalled, sequential" ||
	pl_bad "why on B does not show A's sequential NAT"
grep -q "^our NAT: .*as punchd signals it: mapping endpoint-independent" "$NL_TMP/why-B.txt" &&
	pl_ok "why on B: its own NAT as signalled" ||
	pl_bad "why on B does not show its own NAT"
grep -q "predicted-range probing crossed at port" "$NL_TMP/why-B.txt" &&
	pl_ok "why on B: the probing result" ||
	pl_bad "why on B: no probing result"
pl_m A why "$IB" >"$NL_TMP/why-A.txt" 2>&1
grep -q "^their NAT: mapping endpoint-independent" "$NL_TMP/why-A.txt" &&
	pl_ok "why on A: B's NAT signalled" ||
	pl_bad "why on A: $(grep NAT "$NL_TMP/why-A.txt")"
pr=$(hn_why B "$IA" .hardnat_probes)
[ "$pr" -ge 1 ] && [ "$pr" -le 2048 ] &&
	pl_ok "B sent $pr probes (budget 2048)" || pl_bad "B's probes: $pr"

pl_deliver A B "hello-b-from-a" && pl_ok "datagram A -> B" || pl_bad "A -> B not delivered"
pl_deliver B A "hello-a-from-b" && pl_ok "datagram B -> A" || pl_bad "B -> A not delivered"

hn_stop_clean A B && pl_ok "both punchd stopped cleanly, no sanitizer report" ||
	pl_bad "a punchd did not stop cleanly or reported a sanitizer error"

pl_finish "sequential vs port-restricted: direct through the predicted port"
