#!/bin/sh
# The seeds' two-city scenario in the NAT lab: `meshctl init home` and
# `meshctl invite` on A behind NAT a, `meshctl join CODE` on B behind NAT b
# (another "city"). A's local endpoint (its LAN address) is unreachable from
# B, its public one is filtered by NAT a (address-and-port-dependent
# filtering drops an unsolicited HELLO), so the join goes through the
# invite's relay session on relayd, then punches to direct. Both list the
# other. A third node C behind a symmetric NAT joins with a second code;
# the announcements make B and C find each other: all three pairwise
# connected (direct, or relayed where the NATs allow nothing else). Then
# each punchd is restarted in turn and every peer comes back.
#
# A and B are behind port-restricted cone NATs (endpoint-independent
# mapping, address-and-port-dependent filtering: masquerade, and no
# unsolicited inbound), which stund confirms (RFC 5780); relayd requires
# tokens, its default (no --open anywhere): each node shows the access
# token from `relayd --issue-access`. After the join A and B are direct
# and a datagram goes each way on that path (issue 12's first "Done when").
#
# Lab: tests/natlab/lib.sh and punchd.inc (stund server 203.0.113.10:3478,
# relayd ws://203.0.113.30:8080 on the public segment). The nodes get no
# mesh_secret: their mesh comes from init / join.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

# mesh_node NAME NS: stund + punchd as pl_node does, without mesh_secret
mesh_punchd() { pl_mesh_punchd "$@"; }
mesh_node() {
	pl_stund "$1" "$2"
	pl_mesh_punchd "$1" "$2"
}
up() { # NODE PEER-ID: direct or relayed
	case "$(pl_peer "$1" "$2" .state)" in direct|relayed) return 0 ;; esac
	return 1
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "== lab $NL_PFX: A behind eim a, B behind eim b, C behind sym c"
pl_world
nl_nat a eim
nl_nat b eim
nl_nat c sym
mesh_node A a-host
mesh_node B b-host
mesh_node C c-host
IA=$(pl_id A) IB=$(pl_id B) IC=$(pl_id C)
grep -q "open mode" "$NL_TMP/relayd.log" && pl_bad "relayd runs open" ||
	pl_ok "relayd requires tokens; the nodes hold an access token"
for n in A B; do
	nat=$(pl_m $n --json network 2>/dev/null | jq -r '"\(.mapping) / \(.filtering)"')
	case "$nat" in
	endpoint-independent*/*address-and-port-dependent*)
		pl_ok "$n is behind a port-restricted cone NAT ($nat)" ;;
	*)	pl_bad "$n's NAT: $nat (want endpoint-independent / address-and-port-dependent)" ;;
	esac
done

echo "== A: meshctl init home; meshctl invite"
pl_m A init home || nl_die "init"
pl_m A invite --qr-png "$NL_TMP/invite.png" >"$NL_TMP/invite.txt" || nl_die "invite"
sed -n '1,6p;/^endpoints/,$p' "$NL_TMP/invite.txt"
code=$(sed -n 3p "$NL_TMP/invite.txt" | tr -d ' ')
grep -q "local udp://$(nl_lan a):7777, public udp://$(nl_wan a):7777, relay $PL_RELAY" "$NL_TMP/invite.txt" &&
	pl_ok "invite carries local, public (STUN) and relay endpoints" ||
	pl_bad "endpoints: $(grep endpoints "$NL_TMP/invite.txt")"
[ "$(head -c 8 "$NL_TMP/invite.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
	pl_ok "--qr-png wrote a PNG ($(wc -c <"$NL_TMP/invite.png") bytes)" || pl_bad "no PNG"

echo "== B: meshctl join CODE"
t0=$(ms)
pl_m B join --sequential --name bob --timeout 1500 "$code" >"$NL_TMP/join-B.txt" 2>&1
rc=$?
t1=$(ms)
sed 's/^/    /' "$NL_TMP/join-B.txt"
[ $rc -eq 0 ] && pl_ok "B joined in $((t1 - t0)) ms (two 1.5 s timeouts included)" || pl_bad "B's join failed"
grep -q "^local udp://$(nl_lan a):7777 ... failed (timeout)" "$NL_TMP/join-B.txt" &&
	grep -q "^public udp://$(nl_wan a):7777 ... failed (timeout)" "$NL_TMP/join-B.txt" &&
	grep -q "^relay $PL_RELAY ... connected.*punching ... direct via $(nl_wan a):7777" "$NL_TMP/join-B.txt" &&
	tail -n 1 "$NL_TMP/join-B.txt" | grep -q "joined mesh home via relay" &&
	pl_ok "local failed, public failed, relay connected, punched to direct" ||
	pl_bad "progress lines"
nl_wait 5 pl_state_is A bob direct && nl_wait 5 pl_state_is B "$IA" direct &&
	pl_ok "peers listed on both sides, direct" || pl_bad "A sees $(pl_peer A bob .state), B sees $(pl_peer B "$IA" .state)"
echo "-- A"; pl_m A peers; echo "-- B"; pl_m B peers

echo "== data both ways on the direct path"
pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"
if pl_deliver A B "a-to-b" && [ "$(jq -r .path "$NL_TMP/send.json")" = direct ] &&
    pl_deliver B A "b-to-a" && [ "$(jq -r .path "$NL_TMP/send.json")" = direct ]; then
	pl_ok "A -> B and B -> A delivered, direct"
else
	pl_bad "data both ways: $(cat "$NL_TMP/send.json")"
fi
grep -q "refused" "$NL_TMP/relayd.log" && pl_bad "relayd refused a node: $(grep refused "$NL_TMP/relayd.log" | head -n 2)"

echo "== C (symmetric NAT) joins with a second code; members find each other"
pl_m A invite --no-qr >"$NL_TMP/invite2.txt" || nl_die "invite 2"
code2=$(sed -n 3p "$NL_TMP/invite2.txt" | tr -d ' ')
t0=$(ms)
pl_m C join --name carol --timeout 1500 "$code2" >"$NL_TMP/join-C.txt" 2>&1 || pl_bad "C's join failed"
t1=$(ms)
sed 's/^/    /' "$NL_TMP/join-C.txt"
grep -q "^local udp://$(nl_lan a):7777 ... cancelled" "$NL_TMP/join-C.txt" &&
	grep -q "^public udp://$(nl_wan a):7777 ... cancelled" "$NL_TMP/join-C.txt" &&
	grep -q "^relay $PL_RELAY ... connected" "$NL_TMP/join-C.txt" &&
	tail -n 1 "$NL_TMP/join-C.txt" | grep -q "joined mesh home via relay" &&
	pl_ok "C's paths raced: relay won, local and public cancelled ($((t1 - t0)) ms with the 5 s wait for a direct path)" ||
	pl_bad "C's race lines"
nl_wait 15 up C "$IB" && nl_wait 15 up B "$IC" && nl_wait 5 up A "$IC" &&
	pl_ok "three nodes pairwise connected (B-C: $(pl_peer B "$IC" .state))" ||
	pl_bad "not pairwise: B sees C $(pl_peer B "$IC" .state), C sees B $(pl_peer C "$IB" .state)"
for n in A B C; do echo "-- $n"; pl_m $n peers; done

echo "== restart each punchd in turn: the mesh and the peers come back"
for n in A B C; do
	eval "kill \$PID_$n; wait \$PID_$n 2>/dev/null"
	case $n in A) ns=a-host ;; B) ns=b-host ;; C) ns=c-host ;; esac
	t0=$(ms)
	mesh_punchd $n $ns
	good=1
	for o in $IA $IB $IC; do
		[ "$o" = "$(pl_id $n)" ] && continue
		nl_wait 20 up $n "$o" || good=0
	done
	t1=$(ms)
	[ $good -eq 1 ] && pl_ok "$n restarted: its peers back in $((t1 - t0)) ms ($(pl_m $n --json peers | jq -r 'map(.state) | join(", ")'))" ||
		{ pl_m $n peers; pl_bad "$n lost peers after its restart"; }
done
[ "$(pl_m B --json mesh | jq -r .name)" = home ] || pl_bad "B's mesh after the restarts"
pl_finish "two-city join via relay then direct; three nodes pairwise; restarts keep the mesh"
