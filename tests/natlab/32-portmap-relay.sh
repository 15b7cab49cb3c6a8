#!/bin/sh
# The mapped candidate in the relay's candidate exchange: A behind NAT a,
# which runs miniupnpd (PCP), B behind NAT b, both port-restricted, one
# mesh, relayd requiring tokens (both nodes hold an access token). When
# they punch (at each other's LAN address, which the other cannot reach),
# the rendezvous in their pair's relay session carries A's
# candidates with their kinds: B learns A's mapped address as type
# "mapped" (an address alone cannot tell it from a server-reflexive one),
# peer.get on B shows it, and the pair goes direct.
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
grep -q "refused" "$NL_TMP/relayd.log" && pl_bad "relayd refused: $(grep refused "$NL_TMP/relayd.log" | head -n 3)"
nl_mu_stop a

pl_finish "the mapped candidate travels with its type through the relay's candidate exchange"
