#!/bin/sh
# punchd with a symmetric NAT on one side (masquerade fully-random:
# address-and-port-dependent mapping) and an endpoint-independent NAT on
# the other.
#
# What punchd does with hard-NAT traversal off (punchd.hardnat = no; README.md
# (punchd) "Candidates"): it learns peer-reflexive candidates from the source
# of an authenticated PUNCH (ICE), and does no port prediction. So:
#
#  1. sym vs eim (the lab's eim is a port-restricted cone: EIM mapping,
#     address-and-port-DEPENDENT filtering) -> RELAYED. The symmetric NAT
#     gives the PUNCH towards the eim side a new random port R; the eim NAT
#     drops it (its host never sent to R), and the eim side never learns R.
#     Its PUNCHes go to the symmetric side's server-reflexive candidate (the
#     mapping towards the STUN server), which the symmetric NAT drops. No
#     direct pair can complete: the pair must end relayed, carry data, and
#     stay relayed (the background upgrade attempts fail, no flapping).
#  2. sym vs fullcone (EIM mapping, endpoint-independent filtering) -> DIRECT
#     through a peer-reflexive candidate: the symmetric side's PUNCH reaches
#     the full-cone side from WAN:R, which answers to WAN:R. The full-cone
#     side's endpoint is WAN_sym:R (type prflx), NOT the symmetric side's
#     server-reflexive candidate.
#
#  3. the relayed pair of 1. keeps trying direct in the background: when
#     NAT e is turned into a full cone (a dnat rule added), S <-> E must
#     upgrade to direct (peer.path, no peer.down) within 5 s.
#
# Lab and candidate exchange as in 10-punchd-eim-eim.sh: stund server and
# relayd on the public segment, stund + punchd (UDP 7777) behind each NAT,
# `meshctl punch <node id> <other's public>` on both sides at once, and the
# relay rendezvous (relay_url) swapping candidates.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

echo "== lab $NL_PFX: sym s, eim e, fullcone f"
pl_world
nl_nat s sym
nl_nat e eim
nl_nat f fullcone
# ordinary punching only: with hard-NAT traversal (punchd.hardnat, the
# default) S <-> E goes direct by the birthday technique (42-punchd-hardnat-
# birthday.sh); whether it does here would depend on whether stund's NAT
# tests end before the rendezvous
pl_node S s-host -o punchd.hardnat=no
pl_node E e-host -o punchd.hardnat=no
pl_node F f-host -o punchd.hardnat=no
IS=$(pl_id S) IE=$(pl_id E) IF=$(pl_id F)
echo "    S $IS public $(pl_public S); E $IE public $(pl_public E); F $IF public $(pl_public F)"
pl_listen S "$NL_TMP/listen-S"
pl_listen E "$NL_TMP/listen-E"
pl_listen F "$NL_TMP/listen-F"

echo "== 1. sym vs eim (port-restricted cone): relayed"
pl_punch_both S E 5000 || pl_bad "punch S <-> E failed (no path at all)"
nl_wait 5 pl_path_is S "$IE" relay && nl_wait 5 pl_path_is E "$IS" relay &&
	pl_ok "S <-> E relayed ($(pl_peer S "$IE" .endpoint))" ||
	pl_bad "S <-> E: S sees $(pl_peer S "$IE" '.state+" "+(.path//"-")'), E sees $(pl_peer E "$IS" '.state+" "+(.path//"-")')"
pl_deliver S E "s-to-e-relayed" && pl_ok "datagram S -> E over the relay" || pl_bad "S -> E not delivered"
pl_deliver E S "e-to-s-relayed" && pl_ok "datagram E -> S over the relay" || pl_bad "E -> S not delivered"
grep '"text":"s-to-e-relayed"' "$NL_TMP/listen-E" | grep -q '"path":"relay"' ||
	pl_bad "E's peer.data should say path relay: $(grep s-to-e "$NL_TMP/listen-E")"
pl_get E "$IS" '"    E: candidates of S: " + ([.candidates[] | .type + " " + .address + " " + .check] | join(", "))'
# upgrade attempts: punch_timeout (2 s) + repunch (500 ms) apart; they
# must keep failing quietly
n0=$(pl_get E "$IS" .attempts)
sleep 3
n1=$(pl_get E "$IS" .attempts)
pl_path_is S "$IE" relay && pl_path_is E "$IS" relay &&
	pl_ok "still relayed after 3 s of upgrade attempts (E: attempts $n0 -> $n1)" ||
	pl_bad "S <-> E left the relay: $(pl_peer S "$IE" .state) / $(pl_peer E "$IS" .state)"
[ "$n1" -gt "$n0" ] || pl_bad "E should keep trying to upgrade (attempts $n0 -> $n1)"

echo "== 2. sym vs fullcone: direct through a peer-reflexive candidate"
pl_punch_both S F 5000 || pl_bad "punch S <-> F failed"
nl_wait 5 pl_path_is S "$IF" direct && nl_wait 5 pl_path_is F "$IS" direct &&
	pl_ok "S <-> F direct" ||
	pl_bad "S <-> F: S sees $(pl_peer S "$IF" '.state+" "+(.path//"-")'), F sees $(pl_peer F "$IS" '.state+" "+(.path//"-")')"
es=$(pl_peer S "$IF" .endpoint) ef=$(pl_peer F "$IS" .endpoint)
ptype=$(pl_get F "$IS" '[.candidates[] | select(.selected) | .type][0]')
echo "    S -> $es; F -> $ef ($ptype); S's server-reflexive candidate $(pl_public S)"
[ "$es" = "$(nl_wan f):7777" ] || pl_bad "S's endpoint $es, expected $(nl_wan f):7777"
case $ef in
"$(nl_wan s)":*)
	[ "$ef" != "$(pl_public S)" ] && [ "$ptype" = prflx ] &&
		pl_ok "F reaches S at $ef: peer-reflexive, not S's server-reflexive $(pl_public S)" ||
		pl_bad "F's endpoint $ef ($ptype) should be a peer-reflexive mapping other than $(pl_public S)" ;;
*) pl_bad "F's endpoint $ef is not on S's NAT $(nl_wan s)" ;;
esac
pl_deliver S F "s-to-f-direct" && pl_ok "datagram S -> F" || pl_bad "S -> F not delivered"
pl_deliver F S "f-to-s-direct" && pl_ok "datagram F -> S" || pl_bad "F -> S not delivered"
grep '"text":"f-to-s-direct"' "$NL_TMP/listen-S" | grep -q '"path":"direct"' ||
	pl_bad "S's peer.data should say path direct: $(grep f-to-s "$NL_TMP/listen-S")"

echo "== 3. NAT e turns full cone: the relayed S <-> E pair upgrades to direct"
# the relayed pair keeps trying direct in the background (repunch); once
# NAT e forwards unsolicited UDP to E, S's PUNCH from its new random port
# reaches E, which learns it as peer-reflexive: direct within one
# punch_timeout + repunch (2.5 s), checked against 5 s; the switch is a
# peer.path, never a peer.down
nl_exec e nft -f - <<-EOF || nl_die "nft: full cone on e"
	table ip natlab {
		chain pre {
			type nat hook prerouting priority dstnat;
			iifname "wan" udp dport 1024-65535 dnat to $(nl_lan e)
		}
	}
EOF
t0=$(date +%s%N)
nl_wait 5 pl_path_is S "$IE" direct && nl_wait 2 pl_path_is E "$IS" direct &&
	pl_ok "S <-> E direct $(( ($(date +%s%N) - t0) / 1000000 )) ms after NAT e became a full cone; E reaches S at $(pl_peer E "$IS" .endpoint)" ||
	pl_bad "no upgrade within 5 s: S sees $(pl_peer S "$IE" '.state+" "+(.path//"-")'), E sees $(pl_peer E "$IS" '.state+" "+(.path//"-")')"
grep '"event":"peer.path"' "$NL_TMP/listen-E" | grep "\"id\":\"$IS\"" | grep -q '"path":"direct"' &&
	pl_ok "E: peer.path to direct" || pl_bad "E: no peer.path to direct: $(grep '"event":"peer' "$NL_TMP/listen-E")"
grep '"event":"peer.down"' "$NL_TMP/listen-E" "$NL_TMP/listen-S" | grep -q "$IS\|$IE" &&
	pl_bad "the upgrade must not look like an outage: $(grep '"event":"peer.down"' "$NL_TMP/listen-E" "$NL_TMP/listen-S")"
pl_deliver E S "e-to-s-upgraded" && pl_ok "datagram E -> S after the upgrade" || pl_bad "E -> S after the upgrade"

pl_finish "sym vs port-restricted eim: relayed with data; sym vs full cone: direct (peer-reflexive); relayed pair upgrades when the NAT allows"
