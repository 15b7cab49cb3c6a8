#!/bin/sh
# The mapped candidate in the relay's candidate exchange: A behind NAT a,
# which runs miniupnpd (PCP), B behind NAT b, both port-restricted, one
# mesh, relayd requiring tokens (both nodes hold an access token). When
# they punch (at each other's LAN address, which the other cannot reach),
# the rendezvous in their pair's relay session carries A's
# candidates with their kinds: B learns A's mapped address as type
# "mapped" (an address alone cannot tell it from a server-reflexive one),
# peer.get on B shows it, and the pair goes direct. Then C, behind a
# symmetric NAT, is relayed with A until A's port gets mapped (a SIGHUP
# from portmap = no to pcp): A tells the peers it meets on the relay, C
# punches the mapped port (which takes a PUNCH from any address) and the
# pair goes direct.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_mu_need
nl_require
nl_init

EXT=100.128.0.11
echo "== lab $NL_PFX: A behind eim a (miniupnpd, PCP), B behind eim b, relayd with tokens"
pl_stun_server
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$NL_TMP/secret"
nl_host rly 203.0.113.30
pl_start_relay_tokens
nl_nat a eim
nl_nat b eim
nl_mu_prepare a "$EXT"
nl_mu_start a pcp "enable_upnp=no
enable_natpmp=yes"
pl_node A a-host -o punchd.relay_token="$PL_TOKEN" -o punchd.portmap=pcp
pl_node B b-host -o punchd.relay_token="$PL_TOKEN" -o punchd.portmap=no
IA=$(pl_id A) IB=$(pl_id B)
nl_wait 10 sh -c "[ \"\$('$BIN/meshctl' -S '$NL_TMP/A' --json status | jq -r '.daemons[] | select(.daemon == \"punchd\") | .status.mapped')\" = '$EXT:7777' ]" &&
	pl_ok "A holds the mapping $EXT:7777" || pl_bad "A: no mapping: $(pl_status A .portmap | tr -d '\n ')"

echo "== A and B punch each other at LAN addresses the other cannot reach:"
echo "   only the relay's rendezvous gives them candidates that work"
pl_m A --json punch -w 8000 "$IB" "$(nl_lan b):7777" >"$NL_TMP/punch-A.json" 2>&1 &
_bp=$!
pl_m B --json punch -w 8000 "$IA" "$(nl_lan a):7777" >"$NL_TMP/punch-B.json" 2>&1
_rb=$?
wait "$_bp"
_ra=$?
echo "    A -> B: $(jq -c . "$NL_TMP/punch-A.json" 2>/dev/null || cat "$NL_TMP/punch-A.json")"
echo "    B -> A: $(jq -c . "$NL_TMP/punch-B.json" 2>/dev/null || cat "$NL_TMP/punch-B.json")"
[ $_ra -eq 0 ] && [ $_rb -eq 0 ] && pl_ok "punched" || pl_bad "punch"
nl_wait 5 pl_state_is B "$IA" direct && nl_wait 5 pl_state_is A "$IB" direct &&
	pl_ok "direct both ways (B reaches A at $(pl_peer B "$IA" .endpoint))" ||
	pl_bad "B sees $(pl_peer B "$IA" .state), A sees $(pl_peer A "$IB" .state)"
grep -q "candidates\? through the relay" "$NL_TMP/punchd-B.log" ||
	pl_bad "B got no candidates through the relay"
echo "    B's candidates for A: $(pl_get B "$IA" '[.candidates[] | .type + " " + .address + " " + .check] | join(", ")')"
[ "$(pl_get B "$IA" "[.candidates[] | select(.address == \"$EXT:7777\") | .type] | join(\",\")")" = mapped ] &&
	pl_ok "B knows A's $EXT:7777 as type mapped (peer.get)" ||
	pl_bad "B's type for $EXT:7777: $(pl_get B "$IA" "[.candidates[] | select(.address == \"$EXT:7777\") | .type]" | tr -d '\n ')"

echo "== C behind a symmetric NAT, relayed with A; A's mapping comes later"
echo "   (SIGHUP: portmap no -> pcp): C hears of it through the relay and goes direct"
stop_a() {
	kill "$PID_A" 2>/dev/null
	nl_wait 10 sh -c "! kill -0 $PID_A 2>/dev/null" || pl_bad "A's punchd did not stop"
}
PID_A=$PL_PID_A
stop_a
nl_nat c sym
printf '[punchd]\nportmap = no\n' >"$NL_TMP/A.conf"
nl_bg a-host "$NL_TMP/punchd-A2.log" env RUNTIME_DIRECTORY="$NL_TMP/A" \
    STATE_DIRECTORY="$NL_TMP/A" "$BIN/punchd" -v -f "$NL_TMP/A.conf" -p 7777 \
    -o punchd.mesh_secret="$NL_TMP/secret" -o punchd.relay_url="$PL_RELAY" \
    -o punchd.relay_token="$PL_TOKEN" $PL_FAST
PID_A=$NL_LASTPID
# C's own retries are slow (repunch 60 s): once relayed, only A's signal
# makes it punch again. (miniupnpd's DNAT takes the port on any WAN
# address, so the pair may still settle on A's server-reflexive address.)
pl_node C c-host -o punchd.relay_token="$PL_TOKEN" -o punchd.portmap=no \
    -o punchd.repunch=60s
IC=$(pl_id C)
nl_wait 10 sh -c "[ \"\$('$BIN/meshctl' -S '$NL_TMP/A' --json status 2>/dev/null | jq -r '.daemons[] | select(.daemon == \"punchd\") | .status.mapped')\" = null ]" ||
	pl_bad "A: mapped with portmap = no"
pl_m A --json punch -w 8000 "$IC" "$(nl_lan c):7777" >/dev/null 2>&1 &
_bp=$!
pl_m C --json punch -w 8000 "$IA" "$(nl_lan a):7777" >/dev/null 2>&1
wait "$_bp"
nl_wait 10 pl_state_is C "$IA" relayed && pl_ok "C and A: relayed (symmetric NAT against a filtering one)" ||
	pl_bad "C sees A $(pl_peer C "$IA" .state)"
printf '[punchd]\nportmap = pcp\n' >"$NL_TMP/A.conf"
kill -HUP "$PID_A"
nl_wait 15 pl_state_is C "$IA" direct &&
	pl_ok "C direct to A at $(pl_peer C "$IA" .endpoint) once A's port was mapped" ||
	pl_bad "C sees A $(pl_peer C "$IA" .state) at $(pl_peer C "$IA" .endpoint); candidates: $(pl_get C "$IA" '[.candidates[] | .type + " " + .address + " " + .check] | join(", ")')"
[ "$(pl_get C "$IA" "[.candidates[] | select(.address == \"$EXT:7777\") | .type] | join(\",\")")" = mapped ] &&
	pl_ok "C knows A's $EXT:7777 as type mapped (peer.get); meshctl --json peers: endpoint $(pl_peer C "$IA" .endpoint), type $(pl_peer C "$IA" .endpoint_type)" || pl_bad "C's candidates: $(pl_get C "$IA" '[.candidates[] | .type + " " + .address] | join(", ")')"
stop_a

grep -q "refused" "$NL_TMP/relayd.log" && pl_bad "relayd refused: $(grep refused "$NL_TMP/relayd.log" | head -n 3)"
nl_mu_stop a

pl_finish "the mapped candidate travels with its type through the relay's candidate exchange"
