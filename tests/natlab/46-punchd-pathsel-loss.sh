#!/bin/sh
# Issue 13 item 3: path choice uses measured loss with hysteresis, so a
# 50 %-loss direct path gives way to the relay without flapping, and the
# pair goes back to direct when the loss ends.
#
# Lab as 10-punchd-eim-eim.sh (eim a, eim b, stund server and relayd on
# the public segment, PL_FAST timers but the default keep-alive). Once the
# pair is direct, the
# public segment drops half of the UDP between the two NATs at random
# (nftables numgen; this kernel has no netem), the relay's TCP passes.
# Checks: both sides relayed within 20 s; then 20 s on the relay with no
# change of path in peer.* events (A's and B's listeners); data both ways
# meanwhile; the loss ends: both direct again within 30 s (the loss
# window clears in 8 s, then 2 s cheaper: about 10 s).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab

echo "== lab $NL_PFX: eim a, eim b"
# the default keep-alive (25 s, dead after 5): the issue measured with it,
# and PL_FAST's 300 ms keep-alives would declare the lossy path dead every
# second or two before the relay is met, growing its hold-down
KA="-o punchd.keepalive_interval=25s -o punchd.warn_after=3 -o punchd.dead_after=5"
pl_two_nats a:eim b:eim $KA
WA=$(nl_wan a) WB=$(nl_wan b)
pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"
pl_punch_both A B 5000 >/dev/null || pl_bad "punch failed"
nl_wait 5 pl_path_is A "$IB" direct && nl_wait 5 pl_path_is B "$IA" direct ||
	nl_die "not direct: A $(pl_peer A "$IB" .state), B $(pl_peer B "$IA" .state)"
pl_ok "A <-> B direct"

# the successive .path of a node's peer.* events, one a line ("-" for none)
paths() {
	grep '"event":"peer\.\(up\|path\|down\)"' "$NL_TMP/listen-$1" |
	    jq -r '.params.path // "-"'
}
# how often that path changed from line FROM on
changes() {
	paths "$1" | tail -n "+$2" | awk 'NR > 1 && $0 != last { n++ }
	    { last = $0 } END { print n + 0 }'
}

echo "== 50 % of UDP between the NATs dropped"
nl_exec pub nft -f - <<NFT || nl_die "nft loss"
table ip loss {
	chain lossy {
		type filter hook forward priority filter;
		ip saddr { $WA, $WB } ip daddr { $WA, $WB } meta l4proto udp numgen random mod 2 == 0 counter drop
	}
}
NFT
t0=$(pl_ms)
both_relayed() { pl_path_is A "$IB" relay && pl_path_is B "$IA" relay; }
if nl_wait 20 both_relayed; then
	pl_ok "relayed $(( $(pl_ms) - t0 )) ms after the loss began"
else
	pl_bad "not relayed 20 s into the loss: A $(pl_peer A "$IB" .path), B $(pl_peer B "$IA" .path)"
fi
echo "    A: $(grep 'path choice' "$NL_TMP/punchd-A.log" | tail -n 1 | sed 's/.*path choice: //')"
na=$(paths A | wc -l) nb=$(paths B | wc -l)
echo "== 20 s under the loss"
i=0
while [ $i -lt 4 ]; do
	sleep 5
	i=$((i + 1))
	pl_m A send "$IB" "lossy-$i" >/dev/null 2>&1 || pl_bad "A -> B send $i"
done
ca=$(changes A "$na") cb=$(changes B "$nb")
[ "$ca" = 0 ] && [ "$cb" = 0 ] && both_relayed &&
	pl_ok "20 s on the relay, no change of path (A $(pl_peer A "$IB" .state), B $(pl_peer B "$IA" .state))" ||
	pl_bad "path changes in 20 s under the loss: A $ca, B $cb: A $(paths A | tail -n +"$na" | tr '\n' ' '), B $(paths B | tail -n +"$nb" | tr '\n' ' ')"
pl_deliver A B "a-b-lossy" && pl_deliver B A "b-a-lossy" &&
	pl_ok "data both ways meanwhile" || pl_bad "data under the loss"
grep -q '"text":"a-b-lossy".*"path":"relay"\|"path":"relay".*"text":"a-b-lossy"' "$NL_TMP/listen-B" ||
	pl_bad "B's peer.data should say relay: $(grep a-b-lossy "$NL_TMP/listen-B")"
why=$(pl_m A why "$IB" 2>/dev/null | sed -n 's/^why: *//p')
echo "    A: why: $why"

echo "== the loss ends"
nl_exec pub nft delete table ip loss || nl_die "nft delete loss"
t1=$(pl_ms)
both_direct() { pl_path_is A "$IB" direct && pl_path_is B "$IA" direct; }
if nl_wait 30 both_direct; then
	pl_ok "direct again $(( $(pl_ms) - t1 )) ms after the loss ended"
else
	pl_bad "not direct 30 s after the loss: A $(pl_peer A "$IB" .path), B $(pl_peer B "$IA" .path)"
fi
pl_deliver A B "a-b-clean" && pl_deliver B A "b-a-clean" &&
	pl_ok "data both ways" || pl_bad "data after the loss"
echo "    A paths: $(paths A | tr '\n' ' ')"
echo "    B paths: $(paths B | tr '\n' ' ')"

pl_finish "50 % loss: to the relay, no flapping for 20 s, direct again after"
