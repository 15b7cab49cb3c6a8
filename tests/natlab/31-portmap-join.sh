#!/bin/sh
# A join with NO relay at all, through a port the gateway mapped: A behind
# NAT a, B behind NAT b, both port-restricted (EIM mapping, address-and-
# port-dependent filtering: masquerade and the input drop rule), no relayd
# anywhere and no relay_url. NAT a runs Debian's miniupnpd (nftables);
# A's punchd maps its port 7777 on it and puts the mapping in the invite as
# its public endpoint, so B's HELLO gets through NAT a; the pair then
# punches to direct. Once each with
#   upnp     miniupnpd with UPnP IGD only, punchd.portmap = auto (PCP is
#            refused at once, UPnP maps)
#   natpmp   miniupnpd with NAT-PMP/PCP, punchd.portmap = natpmp
#   pcp      the same miniupnpd, punchd.portmap = pcp
# and for each: A's status lists the candidate of type mapped, meshctl
# network shows the protocol and the mapping, B joins via public and is
# direct with A, data goes both ways, and the DNAT rule is gone once A's
# punchd stopped (the mapping is deleted at shutdown).
# A reload (SIGHUP) that changes punchd.portmap maps, or deletes the mapping.
# Then without miniupnpd: A's invite has its STUN endpoint, which NAT a
# filters; B's join fails within a few seconds, saying why (no path the
# inviter can receive on) and what would help (a relay, a forwarded port,
# a gateway with port mapping).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
PL_RELAY=		# no relay_url: no relay at all
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_mu_need
nl_require
nl_init

EXT=100.128.0.11

echo "== lab $NL_PFX: A behind eim a (with miniupnpd), B behind eim b, no relay"
pl_stun_server
nl_nat a eim
nl_nat b eim
nl_mu_prepare a "$EXT"
LAN=$(nl_lan a)

# punchd for NAME in NS (its stund: pl_stund), without mesh_secret (the
# mesh comes from init / join) and with the given portmap mode
node_punchd() { pl_mesh_punchd "$1" "$2" -o punchd.portmap="$3"; } # NAME NS PORTMAP
stop_a() {
	kill "$PID_A" 2>/dev/null
	nl_wait 10 sh -c "! kill -0 $PID_A 2>/dev/null" || pl_bad "A's punchd did not stop"
}
dnat_there() {
	nl_exec a nft list chain inet filter prerouting_miniupnpd |
	    grep -q "dport 7777 dnat ip to $LAN:7777"
}

pl_stund A a-host
pl_stund B b-host
node_punchd B b-host no
IB=$(pl_id B)

# round NAME "miniupnpd config" PORTMAP-MODE PROTO-EXPECTED
round() {
	_n=$1 _mode=$3 _proto=$4
	echo "== $_n: miniupnpd ($(echo "$2" | tr '\n' ' ')), A's portmap = $_mode"
	nl_mu_start a "$_n" "$2"
	node_punchd A a-host "$_mode"
	IA=$(pl_id A)
	nl_wait 10 sh -c "[ \"\$('$BIN/meshctl' -S '$NL_TMP/A' --json status | jq -r '.daemons[] | select(.daemon == \"punchd\") | .status.mapped')\" = '$EXT:7777' ]" &&
		pl_ok "$_n: A holds the mapping $EXT:7777" ||
		pl_bad "$_n: A has no mapping: $(pl_status A .portmap | tr -d '\n ')"
	[ "$(pl_status A '[.candidates[] | select(.type == "mapped") | .address] | join(",")')" = "$EXT:7777" ] &&
		pl_ok "$_n: A's candidates: $(pl_status A '[.candidates[] | .type + " " + .address] | join(", ")')" ||
		pl_bad "$_n: no mapped candidate: $(pl_status A .candidates | tr -d '\n ')"
	[ "$(pl_status A .portmap.mapping.proto)" = "$_proto" ] &&
		pl_ok "$_n: mapped by $_proto" || pl_bad "$_n: mapped by $(pl_status A .portmap.mapping.proto)"
	pl_m A network >"$NL_TMP/net-$_n.txt" 2>&1
	sed -n '/^Port mapping/,$p' "$NL_TMP/net-$_n.txt" | sed 's/^/    /'
	grep -q "^Port mapping:     $EXT:7777 -> UDP 7777 here, by $_proto" "$NL_TMP/net-$_n.txt" &&
		grep -q "^  $_proto *mapped" "$NL_TMP/net-$_n.txt" &&
		pl_ok "$_n: meshctl network shows the mapping and the protocols" ||
		pl_bad "$_n: meshctl network: $(cat "$NL_TMP/net-$_n.txt")"

	pl_m A init --force "home-$_n" >/dev/null || nl_die "init"
	pl_m A invite --no-qr >"$NL_TMP/inv-$_n.txt" || nl_die "invite"
	_code=$(sed -n 3p "$NL_TMP/inv-$_n.txt" | tr -d ' ')
	grep -q "public udp://$EXT:7777, relay -" "$NL_TMP/inv-$_n.txt" &&
		pl_ok "$_n: the invite's public endpoint is the mapping; no relay" ||
		pl_bad "$_n: $(grep endpoints "$NL_TMP/inv-$_n.txt")"
	_t0=$(pl_ms)
	pl_m B join --force --name bob --timeout 3000 "$_code" >"$NL_TMP/join-$_n.txt" 2>&1
	_rc=$?
	_t1=$(pl_ms)
	sed 's/^/    /' "$NL_TMP/join-$_n.txt"
	[ $_rc -eq 0 ] && tail -n 1 "$NL_TMP/join-$_n.txt" | grep -q "via public" &&
		grep -q "^public udp://$EXT:7777 ... connected.*direct via $EXT:7777" "$NL_TMP/join-$_n.txt" &&
		pl_ok "$_n: B joined via the mapped port in $((_t1 - _t0)) ms, direct" ||
		pl_bad "$_n: B's join"
	nl_wait 5 pl_state_is A bob direct && nl_wait 5 pl_state_is B "$IA" direct &&
		pl_ok "$_n: direct both ways (B reaches A at $(pl_peer B "$IA" .endpoint))" ||
		pl_bad "$_n: A sees $(pl_peer A bob .state), B sees $(pl_peer B "$IA" .state)"
	pl_m A ping -c 2 "$IB" >/dev/null 2>&1 && pl_m B ping -c 2 "$IA" >/dev/null 2>&1 &&
		pl_ok "$_n: ping both ways" || pl_bad "$_n: ping"
	dnat_there || pl_bad "$_n: no DNAT rule on NAT a while mapped"
	stop_a
	nl_wait 5 sh -c "! ip netns exec $(nl_ns a) nft list chain inet filter prerouting_miniupnpd | grep -q 'dport 7777 '" &&
		pl_ok "$_n: A stopped: mapping deleted on the gateway" ||
		pl_bad "$_n: the DNAT rule is still there after A stopped"
	grep -q "mapped candidate $EXT:7777 ($_proto" "$NL_TMP/punchd-A.log" ||
		pl_bad "$_n: A's log does not name the mapped candidate"
	mv "$NL_TMP/punchd-A.log" "$NL_TMP/punchd-A-$_n.log.txt"
	nl_mu_stop a
	pl_m B leave >/dev/null 2>&1
}

round upnp "enable_upnp=yes
enable_natpmp=no" auto upnp
round natpmp "enable_upnp=no
enable_natpmp=yes" natpmp natpmp
round pcp "enable_upnp=no
enable_natpmp=yes" pcp pcp

echo "== reload: punchd.portmap from no to pcp on SIGHUP, then back to no"
nl_mu_start a reload "enable_upnp=no
enable_natpmp=yes"
printf '[punchd]\nportmap = no\n' >"$NL_TMP/A.conf"
nl_bg a-host "$NL_TMP/punchd-A.log" env RUNTIME_DIRECTORY="$NL_TMP/A" \
    STATE_DIRECTORY="$NL_TMP/A" "$BIN/punchd" -v -f "$NL_TMP/A.conf" -p 7777 $PL_FAST
PID_A=$NL_LASTPID
nl_wait 10 sh -c "'$BIN/meshctl' -S '$NL_TMP/A' peers >/dev/null 2>&1" || nl_die "A did not start: $(tail -n 5 "$NL_TMP/punchd-A.log")"
sleep 1
[ "$(pl_status A .mapped)" = null ] && ! dnat_there &&
	pl_ok "reload: portmap = no maps nothing" || pl_bad "reload: mapped with portmap = no"
printf '[punchd]\nportmap = pcp\n' >"$NL_TMP/A.conf"
kill -HUP "$PID_A"
nl_wait 5 sh -c "[ \"\$('$BIN/meshctl' -S '$NL_TMP/A' --json status | jq -r '.daemons[] | select(.daemon == \"punchd\") | .status.mapped')\" = '$EXT:7777' ]" && dnat_there &&
	pl_ok "reload: no -> pcp mapped $EXT:7777 ($(pl_status A .portmap.mapping.proto))" ||
	pl_bad "reload: no mapping after SIGHUP: $(pl_status A .portmap | tr -d '\n ')"
printf '[punchd]\nportmap = no\n' >"$NL_TMP/A.conf"
kill -HUP "$PID_A"
nl_wait 5 sh -c "! ip netns exec $(nl_ns a) nft list chain inet filter prerouting_miniupnpd | grep -q 'dport 7777 '" &&
	[ "$(pl_status A .mapped)" = null ] &&
	pl_ok "reload: pcp -> no deleted the mapping and withdrew the candidate" ||
	pl_bad "reload: still mapped after portmap = no"
stop_a
nl_mu_stop a

echo "== no miniupnpd, no relay: the join fails fast and says why"
node_punchd A a-host auto
nl_wait 8 sh -c "'$BIN/meshctl' -S '$NL_TMP/A' --json status | jq -e '.daemons[] | select(.daemon == \"punchd\") | .status.portmap.protocols | [.[] | .state] | all(. == \"failed\")' >/dev/null" &&
	pl_ok "A: every protocol failed ($(pl_status A '[.portmap.protocols | to_entries[] | .key + ": " + .value.reason] | join("; ")'))" ||
	pl_bad "A's portmap: $(pl_status A .portmap | tr -d '\n')"
pl_m A network 2>&1 | sed -n '/^Port mapping/,$p' | sed 's/^/    /'
pl_m A init --force home-none >/dev/null || nl_die "init"
pl_m A invite --no-qr >"$NL_TMP/inv-none.txt" || nl_die "invite"
code=$(sed -n 3p "$NL_TMP/inv-none.txt" | tr -d ' ')
grep -q "public udp://$(nl_wan a):7777, relay -" "$NL_TMP/inv-none.txt" &&
	pl_ok "the invite's public endpoint is A's STUN one" ||
	pl_bad "$(grep endpoints "$NL_TMP/inv-none.txt")"
t0=$(pl_ms)
pl_m B join --force --timeout 3000 "$code" >"$NL_TMP/join-none.txt" 2>&1 && pl_bad "joined with no path"
t1=$(pl_ms)
sed 's/^/    /' "$NL_TMP/join-none.txt"
grep -q "no path the inviter can receive on (local: no answer within 3000 ms; public: no answer within 3000 ms; the invite has no relay)" "$NL_TMP/join-none.txt" &&
	grep -q "give the inviter a relay (punchd.relay_url), forward its UDP port on its router, or use a gateway with port mapping" "$NL_TMP/join-none.txt" &&
	pl_ok "the failure says why and what would help" || pl_bad "message"
[ $((t1 - t0)) -lt 5000 ] && pl_ok "failed in $((t1 - t0)) ms" ||
	pl_bad "took $((t1 - t0)) ms"
stop_a

# A's punchd ran and stopped five times: under ASan (BUILD=build-asan) a
# leak or an error at exit is in its logs
grep -l "Sanitizer\|runtime error" "$NL_TMP"/punchd-A*.log* 2>/dev/null &&
	pl_bad "sanitizer report in A's logs"

pl_finish "a join with no relay over UPnP IGD, NAT-PMP and PCP mappings; a clear fast failure without one"
