#!/bin/sh
# meshctl network as a netcheck, behind real nftables NATs, against a real
# stund STUN server pair (RFC 5780: 203.0.113.10:3478, alternate
# 203.0.113.11:3479) and relayd with tokens (tests/natlab/punchd.inc):
#
#   node  NAT                              UDP  varies  filtering   hairpin
#   A     hp: masquerade + hairpin rules   yes  no      addr+port   yes
#   B     sym: masquerade fully-random     yes  yes     addr+port   no
#   C     eim: plain masquerade            yes  no      addr+port   no
#
# The hairpin NAT: a packet from its LAN to its own WAN address is sent back
# into the LAN (dnat to the host, port kept) with the WAN address as source,
# as home routers with "NAT loopback" do (one host on the LAN, so the dnat
# needs no port table). A's stund also asks 203.0.113.99:3478, where nobody
# answers: the netcheck must say "no answer from 203.0.113.99:3478" within
# its bound, not hang. STUN and relay round-trip times must be numbers: the
# relay's from a TCP connect while no session is open, then from punchd's
# WebSocket ping once A and B share a relay session. IPv6: the lab has none,
# so the netcheck must say it was not tested and what to add.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab

# pl_stund with more servers for A (NC_SERVERS): the dead one
NC_SERVERS=203.0.113.10:3478
pl_stund() {
	mkdir -p "$NL_TMP/$1"
	nl_bg "$2" "$NL_TMP/stund-$1.log" env RUNTIME_DIRECTORY="$NL_TMP/$1" \
	    "$BIN/stund" -v -f "$NL_TMP/empty.conf" \
	    -o stund.servers="$NC_SERVERS" -o stund.timeout=2s \
	    -o stund.nat_timeout=1s -o stund.nat_refresh=0
}

echo "== lab $NL_PFX: hp (hairpin), sym, eim; stund server pair, relayd with tokens"
t0=$(pl_ms)
pl_world
nl_nat hp eim
nl_nat sym sym
nl_nat eim eim
W=$(nl_wan hp) H=$(nl_lan hp)
nl_exec hp nft -f - <<EOF2 || nl_die "hairpin rules"
table ip hairpin {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname "lan" ip daddr $W udp dport 1024-65535 dnat to $H
	}
	chain post {
		type nat hook postrouting priority srcnat;
		iifname "lan" oifname "lan" ip daddr $H snat to $W
	}
}
EOF2
NC_SERVERS="203.0.113.10:3478,203.0.113.99:3478" pl_node A hp-host
pl_node B sym-host
pl_stund C eim-host
nl_wait 5 sh -c "'$BIN/meshctl' -S '$NL_TMP/C' --json status | jq -e '.daemons[0].up'" ||
	nl_die "stund C: $(tail -n 5 "$NL_TMP/stund-C.log")"

# the three netchecks at once, each from its own host (the relay's TCP
# connect must start where punchd runs)
for n in A:hp-host B:sym-host C:eim-host; do
	nl_exec "${n#*:}" sh -c "s=\$(date +%s%N); timeout 25 '$BIN/meshctl' \
	    -S '$NL_TMP/${n%%:*}' --json network >'$NL_TMP/${n%%:*}.json' \
	    2>'$NL_TMP/${n%%:*}.err'; echo \$? \$(( (\$(date +%s%N) - s) / 1000000 )) \
	    >'$NL_TMP/${n%%:*}.rc'" &
	pids="${pids-} $!"
done
for p in $pids; do wait "$p"; done
jv() { jq -r "$2" "$NL_TMP/$1.json" 2>/dev/null; }

# check NODE HAIRPIN MAPPING_VARIES
check() {
	echo "-- $1: meshctl --json network | .netcheck (exit, ms: $(cat "$NL_TMP/$1.rc"))"
	jq -c '.netcheck | del(.stun, .relays)' "$NL_TMP/$1.json" 2>/dev/null | sed 's/^/    /'
	[ "$(cut -d' ' -f1 "$NL_TMP/$1.rc")" = 0 ] || pl_bad "$1: meshctl network: $(cat "$NL_TMP/$1.err")"
	got="udp $(jv "$1" .netcheck.udp), ipv4 $(jv "$1" .netcheck.ipv4.reachable), mapping_varies $(jv "$1" .netcheck.mapping_varies), filtering $(jv "$1" .netcheck.filtering), hairpin $(jv "$1" .netcheck.hairpin)"
	want="udp true, ipv4 true, mapping_varies $3, filtering address-and-port-dependent, hairpin $2"
	[ "$got" = "$want" ] && pl_ok "$1: $got" || pl_bad "$1: got $got; want $want"
	rtt=$(jv "$1" '.netcheck.stun[] | select(.server == "203.0.113.10:3478") | .rtt_ms')
	awk -v r="$rtt" 'BEGIN { exit !(r + 0 > 0 && r + 0 < 1000) }' &&
		pl_ok "$1: STUN RTT to 203.0.113.10:3478: $rtt ms" ||
		pl_bad "$1: STUN RTT '$rtt'"
	case $(jv "$1" .netcheck.ipv6.note) in
	"not tested: no IPv6 STUN server in stund.servers; add one"*)
		pl_ok "$1: IPv6 not tested, and why" ;;
	*) pl_bad "$1: IPv6 note '$(jv "$1" .netcheck.ipv6.note)'" ;;
	esac
}
check A true false
check B false true
check C false false
case $(jv A .netcheck.hairpin_note) in
"a STUN request to our own public address $W:"*" came back in "*) pl_ok "A: $(jv A .netcheck.hairpin_note)" ;;
*) pl_bad "A: hairpin note '$(jv A .netcheck.hairpin_note)'" ;;
esac
case $(jv C .netcheck.hairpin_note) in
*"did not come back"*) pl_ok "C: $(jv C .netcheck.hairpin_note)" ;;
*) pl_bad "C: hairpin note '$(jv C .netcheck.hairpin_note)'" ;;
esac

echo "== a STUN server that never answers: named, and bounded"
ms=$(cut -d' ' -f2 "$NL_TMP/A.rc")
case $(jv A .netcheck.udp_note) in
*"no answer from 203.0.113.99:3478 (no answer after"*) pl_ok "A: $(jv A .netcheck.udp_note)" ;;
*) pl_bad "A: udp note '$(jv A .netcheck.udp_note)'" ;;
esac
[ "$(jv A '.netcheck.stun[] | select(.server == "203.0.113.99:3478") | .ok')" = false ] &&
    [ "$ms" -lt 12000 ] && pl_ok "A: the whole netcheck took $ms ms (stund.timeout 2 s)" ||
	pl_bad "A: dead server row or time: $ms ms, $(jv A '.netcheck.stun[1]' | tr -d '\n ')"

echo "== relay RTT: a TCP connect while no session is open"
r="$(jv A '.netcheck.relays[0] | .url + " " + (.rtt_source // "-") + " " + ((.rtt_ms // -1) | tostring)')"
case $r in
"ws://203.0.113.30:8080 tcp connect "[0-9]*) pl_ok "A: relay $r ms" ;;
*) pl_bad "A: relay '$r' (want ws://203.0.113.30:8080 tcp connect MS)" ;;
esac

echo "== relay RTT from punchd's WebSocket ping once A and B share a session"
pl_punch_both A B 3000 >/dev/null 2>&1
relay_ping() {
	nl_exec hp-host "$BIN/meshctl" -S "$NL_TMP/A" --json network >"$NL_TMP/A2.json" 2>&1 &&
	    [ "$(jq -r '.netcheck.relays[0].rtt_source' "$NL_TMP/A2.json")" = "websocket ping" ]
}
if nl_wait 5 relay_ping; then
	pl_ok "A: relay $(jq -r '.netcheck.relays[0] | "\(.rtt_ms) ms by \(.rtt_source), \(.sessions) session(s)"' "$NL_TMP/A2.json")"
else
	pl_bad "A: no WebSocket RTT: $(jq -c '.netcheck.relays' "$NL_TMP/A2.json" 2>/dev/null || cat "$NL_TMP/A2.json")"
fi

echo "== the human netcheck (A)"
nl_exec hp-host "$BIN/meshctl" -S "$NL_TMP/A" network >"$NL_TMP/A.txt" 2>&1
sed 's/^/    /' "$NL_TMP/A.txt"
grep -q "^UDP: *yes: 1 of 2 STUN servers answered; no answer from 203.0.113.99:3478" "$NL_TMP/A.txt" &&
    grep -q "^Hairpin: *yes: " "$NL_TMP/A.txt" &&
    grep -q "^Mapping varies: *no: " "$NL_TMP/A.txt" &&
    grep -q "^  ws://203.0.113.30:8080 *[0-9.]* ms  (websocket ping)" "$NL_TMP/A.txt" &&
	pl_ok "human output: one line per verdict" || pl_bad "human output"
echo "    ($(( $(pl_ms) - t0 )) ms in all)"
pl_finish "netcheck: UDP, mapping, filtering, hairpin yes/no, STUN and relay RTTs, a dead server named"
