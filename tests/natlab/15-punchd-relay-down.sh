#!/bin/sh
# relayd stops: direct peers do not care; relayed peers go down and come
# back when relayd returns (DESIGN.md: "a relay outage moves peers to
# direct only and they come back when it returns").
#
# Lab as in 10-punchd-eim-eim.sh: stund server and relayd on the public
# segment; A behind eim NAT a and B behind eim NAT b (direct path), C and D
# behind symmetric NATs c and d (relayed: see 12-punchd-sym-sym.sh). Each
# pair punched with `meshctl punch <node id> <other's public>` on both
# sides at once; relay_url on every node.
#
# relayd is stopped right after the punches, while A and B may still be in
# their relay session (they leave it 5 s after going direct). Checks, for
# the 2.5 s after the stop: A and B stay direct, no peer.down / peer.path
# for them, keep-alives (300 ms) keep being answered on both sides, ping
# and datagrams both ways (send / listen); C and D lose their relayed path
# (peer.down). relayd restarts: C and D are relayed again within 10 s and
# carry data.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

echo "== lab $NL_PFX: eim a, eim b, sym c, sym d"
pl_world
nl_nat a eim
nl_nat b eim
nl_nat c sym
nl_nat d sym
for n in A B C D; do
	pl_node $n "$(echo $n | tr ABCD abcd)-host"
done
IA=$(pl_id A) IB=$(pl_id B) IC=$(pl_id C) ID=$(pl_id D)
for n in A B C D; do pl_listen $n "$NL_TMP/listen-$n"; done
pl_punch_both A B 5000 >/dev/null || pl_bad "punch A <-> B failed"
pl_punch_both C D 5000 >/dev/null || pl_bad "punch C <-> D failed"
nl_wait 3 pl_path_is A "$IB" direct && nl_wait 3 pl_path_is B "$IA" direct ||
	nl_die "A <-> B not direct: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
nl_wait 3 pl_path_is C "$ID" relay && nl_wait 3 pl_path_is D "$IC" relay ||
	nl_die "C <-> D not relayed: $(pl_peer C "$ID" .state) / $(pl_peer D "$IC" .state)"
pl_ok "A <-> B direct, C <-> D relayed"

echo "== relayd stops"
ka0=$(pl_ka_seen A "$IB") kb0=$(pl_ka_seen B "$IA")
na0=$(grep -c '"event":"peer\.\(down\|path\)"' "$NL_TMP/listen-A")
nb0=$(grep -c '"event":"peer\.\(down\|path\)"' "$NL_TMP/listen-B")
pl_stop_relay
t0=$(date +%s%N)
nl_wait 5 grep -q '"event":"peer.down"' "$NL_TMP/listen-C" &&
	pl_ok "C: relayed path lost: $(grep '"event":"peer.down"' "$NL_TMP/listen-C" | head -n 1 | jq -r .params.reason)" ||
	pl_bad "C did not notice that the relay is gone"
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2500 ]; do sleep 0.1; done
ka1=$(pl_ka_seen A "$IB") kb1=$(pl_ka_seen B "$IA")
pl_path_is A "$IB" direct && pl_path_is B "$IA" direct &&
	pl_ok "A <-> B still direct 2.5 s after relayd stopped" ||
	pl_bad "A <-> B: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
[ "$ka1" -ge $((ka0 + 5)) ] && [ "$kb1" -ge $((kb0 + 5)) ] &&
	pl_ok "keep-alives answered meanwhile: A $ka0 -> $ka1, B $kb0 -> $kb1" ||
	pl_bad "keep-alives: A $ka0 -> $ka1, B $kb0 -> $kb1 in 2.5 s at 300 ms"
na1=$(grep -c '"event":"peer\.\(down\|path\)"' "$NL_TMP/listen-A")
nb1=$(grep -c '"event":"peer\.\(down\|path\)"' "$NL_TMP/listen-B")
[ "$na1" = "$na0" ] && [ "$nb1" = "$nb0" ] && pl_ok "no peer.down / peer.path for A or B" ||
	pl_bad "events for the direct pair: $(grep '"event":"peer\.\(down\|path\)"' "$NL_TMP/listen-A" "$NL_TMP/listen-B")"
pl_m A --json ping -c 2 "$IB" >"$NL_TMP/ping.json" 2>&1 &&
	pl_ok "ping A -> B: $(jq -c .rtt_ms "$NL_TMP/ping.json") ms" || pl_bad "ping: $(cat "$NL_TMP/ping.json")"
pl_deliver A B "a-b-no-relay" && pl_deliver B A "b-a-no-relay" &&
	pl_ok "datagrams both ways without relayd" || pl_bad "data A <-> B without relayd"
pl_m C send "$ID" "nowhere" >/dev/null 2>&1 && pl_bad "C -> D send should fail without a path"

echo "== relayd returns"
pl_start_relay
t1=$(date +%s%N)
nl_wait 10 pl_path_is C "$ID" relay && nl_wait 2 pl_path_is D "$IC" relay &&
	pl_ok "C <-> D relayed again $(( ($(date +%s%N) - t1) / 1000000 )) ms after relayd returned" ||
	pl_bad "C <-> D after relayd returned: $(pl_peer C "$ID" .state) / $(pl_peer D "$IC" .state)"
pl_deliver C D "c-d-relay-back" && pl_ok "data C -> D over the relay again" || pl_bad "C -> D"
pl_path_is A "$IB" direct || pl_bad "A <-> B should still be direct"

pl_finish "relayd outage: direct pair untouched; relayed pair down, back when relayd returns"
