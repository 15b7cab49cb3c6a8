#!/bin/sh
# Issue 13 item 3: a better pair that succeeds later replaces the one in
# use. Two nodes behind ONE NAT that hairpins (a packet from the LAN to
# its own WAN address is sent back in, translated like one from outside),
# so both the server-reflexive pair (through the NAT: "hairpin") and the
# host pair (LAN to LAN) can work. At first the NAT drops LAN-to-LAN
# traffic that it did not translate, so the hairpin pair is the first to
# succeed and carries the pair. Then the block goes: punchd checks the
# cheaper pairs again (5 s after the path came up) and moves to the LAN
# pair (punchd/pathsel: LAN costs 0, hairpin 20 ms), within 20 s.
#
# Lab: as 16-punchd-same-nat.sh (NAT a, eim, A on its first LAN, A2 on a
# second), plus on NAT a: dnat of its WAN address's two mapped ports to
# the hosts, snat of that hairpinned traffic to the WAN address, and (at
# first) a drop of LAN-to-LAN traffic without dnat.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab

echo "== lab $NL_PFX: eim a with two hosts, hairpinning"
pl_world
nl_nat a eim
nl_nat_host a a-host2
pl_node A a-host
pl_node A2 a-host2
IA=$(pl_id A) IA2=$(pl_id A2)
W=$(nl_wan a) LA=$(nl_lan a) LA2=$(nl_lan a-host2)
PA=$(pl_public A) PA2=$(pl_public A2)
echo "    A $LA public $PA; A2 $LA2 public $PA2"
nl_exec a nft -f - <<NFT || nl_die "nft hairpin"
table ip hairpin {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname != "wan" ip daddr $W udp dport ${PA##*:} dnat to $LA:7777
		iifname != "wan" ip daddr $W udp dport ${PA2##*:} dnat to $LA2:7777
	}
	chain post {
		type nat hook postrouting priority srcnat - 1;
		oifname != "wan" ct status dnat ip saddr 192.168.0.0/16 snat to $W
	}
}
table ip lanblock {
	chain lanfwd {
		type filter hook forward priority filter;
		ct status dnat accept
		iifname != "wan" oifname != "wan" counter drop
	}
}
NFT
pl_listen A "$NL_TMP/listen-A"
pl_listen A2 "$NL_TMP/listen-A2"

echo "== punch, the LAN blocked: the hairpin pair wins"
pl_punch_both A A2 5000 || pl_bad "punch failed"
nl_wait 5 pl_path_is A "$IA2" direct && nl_wait 5 pl_path_is A2 "$IA" direct ||
	nl_die "not direct: A $(pl_peer A "$IA2" .state), A2 $(pl_peer A2 "$IA" .state)"
e1=$(pl_peer A "$IA2" .endpoint) e2=$(pl_peer A2 "$IA" .endpoint)
case "$e1|$e2" in
"$W":*"|$W":*) pl_ok "direct through the hairpin: A -> $e1, A2 -> $e2" ;;
*) pl_bad "expected the hairpin pair first (the LAN is blocked): A -> $e1, A2 -> $e2" ;;
esac
t0=$(pl_ms)

echo "== the LAN block goes: the LAN pair takes over"
nl_exec a nft delete table ip lanblock || nl_die "nft delete lanblock"
on_lan() {
	[ "$(pl_peer A "$IA2" .endpoint)" = "$LA2:7777" ] &&
	    [ "$(pl_peer A2 "$IA" .endpoint)" = "$LA:7777" ]
}
if nl_wait 20 on_lan; then
	pl_ok "on the LAN pair $(( $(pl_ms) - t0 )) ms after the hairpin path came up"
else
	pl_bad "still A -> $(pl_peer A "$IA2" .endpoint), A2 -> $(pl_peer A2 "$IA" .endpoint) 20 s later"
fi
r=$(grep '"event":"peer.path"' "$NL_TMP/listen-A" | tail -n 1 | jq -r .params.reason)
echo "    A: peer.path: $r"
case "$r" in *hairpin*LAN*) pl_ok "the event says why" ;;
*) pl_bad "peer.path reason should name hairpin -> LAN: $r" ;; esac
pl_path_is A "$IA2" direct && pl_path_is A2 "$IA" direct || pl_bad "not direct after the move"
pl_deliver A A2 "lan-a-a2" && pl_deliver A2 A "lan-a2-a" &&
	pl_ok "data both ways on the LAN pair" || pl_bad "data on the LAN pair"

pl_finish "hairpin first, LAN later: the LAN pair replaces the hairpin pair"
