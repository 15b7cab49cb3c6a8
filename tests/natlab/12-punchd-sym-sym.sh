#!/bin/sh
# punchd between two symmetric NATs (masquerade fully-random on both): no
# direct path can exist without port prediction (each NAT drops the other's
# PUNCHes, which arrive from ports nobody announced), so the pair must end
# RELAYED through relayd and data must still flow both ways (meshctl send /
# listen), ping included; the upgrade attempts must not break the relayed
# path.
#
# Lab and candidate exchange as in 10-punchd-eim-eim.sh: stund server and
# relayd on the public segment, stund + punchd (UDP 7777) behind each NAT,
# `meshctl punch <node id> <other's public>` on both sides at once, relay
# rendezvous through relay_url.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

echo "== lab $NL_PFX: sym s1, sym s2"
pl_world
nl_nat s1 sym
nl_nat s2 sym
pl_node A s1-host
pl_node B s2-host
IA=$(pl_id A) IB=$(pl_id B)
echo "    A $IA public $(pl_public A); B $IB public $(pl_public B)"
case $(pl_public A) in
"$(nl_wan s1)":7777) pl_bad "a fully-random NAT should not keep port 7777" ;;
esac
pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"

echo "== both punch at once"
pl_punch_both A B 5000 || pl_bad "punch failed (not even relayed)"
nl_wait 5 pl_path_is A "$IB" relay && nl_wait 5 pl_path_is B "$IA" relay &&
	pl_ok "relayed both ways via $(pl_peer A "$IB" .endpoint)" ||
	pl_bad "A sees $(pl_peer A "$IB" '.state+" "+(.path//"-")'), B sees $(pl_peer B "$IA" '.state+" "+(.path//"-")')"

echo "== data through the relay, both ways"
i=1
while [ $i -le 5 ]; do
	pl_deliver A B "a-to-b-$i" || pl_bad "A -> B datagram $i not delivered"
	pl_deliver B A "b-to-a-$i" || pl_bad "B -> A datagram $i not delivered"
	i=$((i + 1))
done
nb=$(grep -c '"text":"a-to-b-[0-9]".*"path":"relay"\|"path":"relay".*"text":"a-to-b-[0-9]"' "$NL_TMP/listen-B")
na=$(grep -c '"text":"b-to-a-[0-9]".*"path":"relay"\|"path":"relay".*"text":"b-to-a-[0-9]"' "$NL_TMP/listen-A")
[ "$nb" = 5 ] && [ "$na" = 5 ] && pl_ok "5 datagrams each way, all on the relay path" ||
	pl_bad "relayed datagrams received: B $nb/5, A $na/5"
pl_m A --json ping -c 3 "$IB" >"$NL_TMP/ping.json" 2>&1 &&
    [ "$(jq -r .path "$NL_TMP/ping.json")" = relay ] &&
	pl_ok "ping over the relay: $(jq -c .rtt_ms "$NL_TMP/ping.json") ms" ||
	pl_bad "ping: $(cat "$NL_TMP/ping.json")"

echo "== upgrade attempts fail quietly, the relayed path stays"
sleep 3
pl_path_is A "$IB" relay && pl_path_is B "$IA" relay &&
	pl_ok "still relayed after 3 s" || pl_bad "left the relay: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
pl_deliver A B "a-to-b-late" && pl_ok "data still flows" || pl_bad "late datagram not delivered"
grep -q '"event":"peer.down"' "$NL_TMP/listen-A" "$NL_TMP/listen-B" &&
	pl_bad "peer.down while relayed: $(grep '"event":"peer.down"' "$NL_TMP/listen-A" "$NL_TMP/listen-B")"

pl_finish "sym vs sym: relayed, data both ways, ping, stays relayed"
