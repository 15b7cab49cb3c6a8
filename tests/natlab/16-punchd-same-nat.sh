#!/bin/sh
# Two nodes behind the SAME NAT. The NAT does not hairpin (a packet from
# one LAN host to the NAT's own WAN address ends at the NAT box: Linux
# masquerade has no reflection), so the server-reflexive candidates are
# useless between them; their host candidates work (the NAT routes between
# its two LAN segments without translation: tests/natlab/lib.sh
# nl_nat_host). punchd ranks host above server-reflexive and swaps host
# addresses through the relay (relay_signal_host=yes, the default), so the
# pair must end DIRECT on a host candidate: each side's endpoint is the
# other's private address, port 7777, type host; data both ways.
#
# Lab: stund server and relayd on the public segment, NAT a (eim) with
# A (192.168.1.2) on its first LAN and A2 (192.168.101.2) on a second;
# stund + punchd (UDP 7777) on each. Candidates: `meshctl punch <node id>
# <other's public>` on both sides at once (both publics are WAN_a, with two
# ports: masquerade keeps 7777 for the first and picks another for the
# second), the rest through the relay rendezvous.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

echo "== lab $NL_PFX: eim a with two hosts"
pl_world
nl_nat a eim
nl_nat_host a a-host2
pl_node A a-host
pl_node A2 a-host2
IA=$(pl_id A) IA2=$(pl_id A2)
echo "    A $IA $(nl_lan a) public $(pl_public A); A2 $IA2 $(nl_lan a-host2) public $(pl_public A2)"
case "$(pl_public A)|$(pl_public A2)" in
"$(nl_wan a)":*"|$(nl_wan a)":*) pl_ok "both map to NAT a's WAN address" ;;
*) pl_bad "public candidates $(pl_public A) / $(pl_public A2) should both be on $(nl_wan a)" ;;
esac
pl_listen A "$NL_TMP/listen-A"
pl_listen A2 "$NL_TMP/listen-A2"

echo "== both punch at once"
pl_punch_both A A2 5000 || pl_bad "punch failed"
nl_wait 5 pl_path_is A "$IA2" direct && nl_wait 5 pl_path_is A2 "$IA" direct &&
	pl_ok "direct both ways" ||
	pl_bad "A sees $(pl_peer A "$IA2" '.state+" "+(.path//"-")'), A2 sees $(pl_peer A2 "$IA" '.state+" "+(.path//"-")')"
nl_wait 5 sh -c "[ \"\$('$BIN/meshctl' -S '$NL_TMP/A' --json peers | jq -r '.[0].endpoint')\" = '$(nl_lan a-host2):7777' ]"
e1=$(pl_peer A "$IA2" .endpoint) e2=$(pl_peer A2 "$IA" .endpoint)
t1=$(pl_get A "$IA2" '[.candidates[] | select(.selected) | .type][0]')
t2=$(pl_get A2 "$IA" '[.candidates[] | select(.selected) | .type][0]')
[ "$e1" = "$(nl_lan a-host2):7777" ] && [ "$e2" = "$(nl_lan a):7777" ] &&
    [ "$t1" = host ] && [ "$t2" = host ] &&
	pl_ok "on the LAN: A -> $e1 ($t1), A2 -> $e2 ($t2)" ||
	pl_bad "expected the host pair: A -> $e1 ($t1), A2 -> $e2 ($t2)"
pl_get A "$IA2" '"    A: candidates of A2: " + ([.candidates[] | .type + " " + .address + " " + .check] | join(", "))'
pl_deliver A A2 "same-nat-a-a2" && pl_deliver A2 A "same-nat-a2-a" &&
	pl_ok "data both ways" || pl_bad "data between A and A2"

pl_finish "two nodes behind one NAT without hairpinning: direct over their host candidates"
