#!/bin/sh
# A direct path dies and cannot be punched again: punchd falls back to the
# relay while it keeps re-punching, and upgrades back to direct when the
# network allows it again (issue 4: "the path declared dead after a
# configurable number, then re-punch, and relay while re-punching"; "while
# relayed, keep trying to upgrade to direct").
#
# Lab as in 10-punchd-eim-eim.sh (eim a, eim b, stund server and relayd on
# the public segment, punched with `meshctl punch <id> <public>` on both
# sides at once). PL_FAST timers: keep-alive 300 ms, dead_after 3,
# punch_timeout 2 s, repunch 500 ms.
#
#  1. right after the punch: NAT a starts dropping all UDP it forwards
#     (TCP, so the relay, still passes): A must say peer.down
#     (keep-alive timeout; or peer.path to the relay when failover finds
#     the path dead while the pair is still in its relay session), then
#     both be RELAYED within 5 s (budget: (dead_after
#     + 1) x 300 ms = 1.2 s to see the path dead, then the relay), and carry
#     data both ways over the relay. The rule goes away: DIRECT again within
#     5 s (one punch_timeout + repunch = 2.5 s), by a peer.path (relay ->
#     direct), not a peer.down, with data on the direct path.
#  2. the same 6 s later, when both have left the relay session they used
#     for the rendezvous (punchd leaves it 5 s after going direct).
#
# Status: round 1 failed with punchd up to commit b30446e (a direct path
# that died within the 5 s in which the pair still lingered in its relay
# session never became relayed: re-punching found the relay client still
# there, relay_peer_start returned, and no SIGNAL / KEEPALIVE went through
# the session, since those were sent on WELCOME/JOINED only; the peers
# stayed punching/down, sends refused, until a direct path worked again:
# docs/punchd-natlab.md, bug 2). Passes since e7db4e7 (relay.c signals at
# once when the path dies while lingering).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

echo "== lab $NL_PFX: eim a, eim b"
pl_world
nl_nat a eim
nl_nat b eim
pl_node A a-host
pl_node B b-host
IA=$(pl_id A) IB=$(pl_id B)
pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"
pl_punch_both A B 5000 >/dev/null || pl_bad "punch failed"
nl_wait 3 pl_path_is A "$IB" direct && nl_wait 3 pl_path_is B "$IA" direct ||
	nl_die "A <-> B not direct: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
pl_ok "A <-> B direct"
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# one round: block UDP on NAT a, expect relayed with data; lift it, expect
# direct with data (a peer.path, no peer.down)
fallback_round() {	# LABEL
	echo "== $1: NAT a drops UDP (the relay's TCP still passes)"
	d0=$(grep -c '"event":"peer.down"' "$NL_TMP/listen-A")
	r0=$(grep -c '"event":"peer.path".*"path":"relay"' "$NL_TMP/listen-A")
	nl_exec a nft -f - <<-EOF || nl_die "nft: udp block"
		table ip udpblock {
			chain cut { type filter hook forward priority -10; meta l4proto udp drop; }
		}
	EOF
	t0=$(date +%s%N)
	# peer.down (keep-alive timeout); or, while the pair is still in its
	# relay session (round 1), failover's peer.path to the relay when the
	# follower's probes find the path dead first (punchd/failover.c)
	nl_wait 5 sh -c "[ \$(grep -c '\"event\":\"peer.down\"' '$NL_TMP/listen-A') -gt $d0 ] ||
	    [ \$(grep -c '\"event\":\"peer.path\".*\"path\":\"relay\"' '$NL_TMP/listen-A') -gt $r0 ]" &&
		pl_ok "$1: A: off the direct path after $(ms_since "$t0") ms ($(grep '"event":"peer.\(down\|path\)"' "$NL_TMP/listen-A" | tail -n 1 | jq -r '.event+": "+(.params.reason//"-")'))" ||
		pl_bad "$1: A: no peer.down nor peer.path to the relay"
	nl_wait 5 pl_path_is A "$IB" relay && nl_wait 2 pl_path_is B "$IA" relay &&
		pl_ok "$1: relayed $(ms_since "$t0") ms after the block" ||
		pl_bad "$1: not relayed 5 s after the block: A $(pl_peer A "$IB" '.state+" "+(.path//"-")'), B $(pl_peer B "$IA" '.state+" "+(.path//"-")')"
	if pl_deliver A B "a-b-fallback-$2" && pl_deliver B A "b-a-fallback-$2"; then
		pl_ok "$1: data both ways over the relay"
		grep "\"text\":\"a-b-fallback-$2\"" "$NL_TMP/listen-B" | grep -q '"path":"relay"' ||
			pl_bad "$1: B's peer.data should say relay: $(grep "a-b-fallback-$2" "$NL_TMP/listen-B")"
	else
		pl_bad "$1: no data over the relay"
	fi

	echo "== $1: the block goes away: back to direct"
	d0=$(grep -c '"event":"peer.down"' "$NL_TMP/listen-A")
	relayed=$(pl_peer A "$IB" .path)
	nl_exec a nft delete table ip udpblock || nl_die "nft delete udpblock"
	t1=$(date +%s%N)
	# 5 s when both sides judge the path cut (punchd/choose_cand.c); a
	# side whose probes counted a loss before the cut takes it back
	# through path choice's hysteresis (cheaper for 2 s after its switch:
	# 12.3-12.6 s measured). Seen 1 round in 3 in December's second
	# session, 0 in 22 after this session's path-choice fixes, then once
	# more in a CI run on an idle machine (round 1, B "lossy before 1"):
	# a success recorded before the death was judged (fixed in 3b6b8a0:
	# 0 lossy judgements in 6 runs since); the bound stays 20 s until
	# more runs show it gone (punchd logs each judgement's evidence)
	nl_wait 20 pl_path_is A "$IB" direct && nl_wait 20 pl_path_is B "$IA" direct &&
		pl_ok "$1: direct again $(ms_since "$t1") ms after the block was lifted ($(pl_peer A "$IB" .endpoint))" ||
		pl_bad "$1: still not direct 20 s after: A $(pl_peer A "$IB" '.state+" "+(.path//"-")'), B $(pl_peer B "$IA" '.state+" "+(.path//"-")')"
	if [ "$relayed" = relay ]; then
		grep '"event":"peer.path"' "$NL_TMP/listen-A" | tail -n 1 | grep -q '"path":"direct"' &&
			pl_ok "$1: A: peer.path relay -> direct" ||
			pl_bad "$1: A: no peer.path to direct: $(grep '"event":"peer' "$NL_TMP/listen-A" | tail -n 3)"
		[ "$(grep -c '"event":"peer.down"' "$NL_TMP/listen-A")" = "$d0" ] ||
			pl_bad "$1: the upgrade must not send peer.down"
	fi
	pl_deliver A B "a-b-direct-$2" && pl_deliver B A "b-a-direct-$2" &&
		pl_ok "$1: data both ways" || pl_bad "$1: data after the block"
	grep "\"text\":\"a-b-direct-$2\"" "$NL_TMP/listen-B" | grep -q '"path":"direct"' ||
		pl_bad "$1: B's peer.data should say direct: $(grep "a-b-direct-$2" "$NL_TMP/listen-B")"
}

echo "   (round 1: right after the punch, A and B still in their relay session)"
fallback_round "round 1" 1
echo "== wait 6 s: both leave the relay session (5 s after going direct)"
sleep 6
echo "   (round 2: long after the punch, both out of the relay session)"
fallback_round "round 2" 2
grep '"event":"peer' "$NL_TMP/listen-A" | jq -c '[.event, .params.state, .params.path, .params.reason]' | tr '\n' ' '
echo

pl_finish "direct path lost: relayed while re-punching, direct again when possible"
