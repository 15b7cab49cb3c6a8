#!/bin/sh
# Port mapping (punchd/portmap*.c) against a real gateway: Debian's
# miniupnpd (nftables backend) in the NAT namespace of the lab, driven by
# tests/tools/portmapc on the host behind it.
#
# Lab (tests/natlab/lib.sh): NAT a (eim) with its host a-host, a public
# host "out" (203.0.113.20). miniupnpd refuses to map on a WAN address in a
# reserved range, and every lab range is one (RFC 5737), so the NAT also
# carries 100.128.0.11 on "wan" (just past RFC 6598's 100.64/10, unknown to
# miniupnpd's list), announced as ext_ip, with a route to it on the public
# bridge. The lab has no link out, so the address never leaves it.
#
# Cases (each a fresh miniupnpd with its own config):
#   upnp     enable_upnp only: auto mode maps over UPnP; PCP is refused at
#            once (port 5351 unreachable) and NAT-PMP reported with it
#   natpmp   enable_natpmp (NAT-PMP and PCP on 5351), enable_upnp=no:
#            -m natpmp, then -m pcp, then auto (PCP must win)
#   both     all three enabled: auto keeps the first mapping, the other
#            protocol's answer neither adds a second nor deletes the first,
#            and the status shows it offered
#   short    max_lifetime 4 s: a PCP mapping asked for an hour is granted
#            4 s and renewed every 2 s, still there after its first lease;
#            then miniupnpd restarts (a gateway reboot: new epoch, rules
#            gone) and the client notices and maps again
#   announce a restarted miniupnpd announces itself (PCP ANNOUNCE, NAT-PMP
#            address) to 224.0.0.1:5350: a client holding an hour's lease
#            renews at once, sees the new epoch and maps again
#   none     no miniupnpd: auto fails fast naming every protocol; and
#            with no default route on the host
# For every mapping: the DNAT rule is in the NAT's ruleset, a datagram
# from "out" to the mapped address:port reaches a socket bound to the port
# on a-host, renewals happen (a 6 s lease, renewed at 3 s), and the rule is
# gone after portmapc exits.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
PMC=$TOP/$BUILD/tests/tools/portmapc
. "$TOP/tests/natlab/lib.sh"

[ -x "$PMC" ] || nl_skip "build $BUILD/tests/tools/portmapc first (make)"
nl_mu_need
command -v socat >/dev/null 2>&1 || nl_skip "socat not installed"
nl_require
nl_init

FAILS=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
EXT=100.128.0.11
MU_PID=

nl_public
nl_host out 203.0.113.20
nl_nat a eim
nl_mu_prepare a "$EXT"
LAN=$(nl_lan a)

# mu_start NAME "extra config lines" / mu_stop: miniupnpd in NAT a
mu_start() {
	nl_mu_start a "$@"
	MU_PID=$NL_MU_PID MU_LOG=$NL_MU_LOG
}

mu_stop() {
	NL_MU_PID=$MU_PID
	nl_mu_stop a
	MU_PID=
}

# Is there a DNAT of UDP PORT to the host in the NAT's ruleset?
dnat_there() {
	nl_exec a nft list chain inet filter prerouting_miniupnpd |
	    grep -q "dport $1 dnat ip to $LAN:7777"
}

# portmapc in a-host: pmc_run NAME args...: output in $NL_TMP/pmc-NAME
pmc_bg() {
	_n=$1; shift
	nl_bg a-host "$NL_TMP/pmc-$_n" "$PMC" -v "$@"
	PMC_PID=$NL_LASTPID
}

# A datagram from "out" to EXT:PORT arrives at a socket on a-host:7777?
reaches() {
	_f=$NL_TMP/recv-$1
	rm -f "$_f"
	nl_bg a-host "$NL_TMP/socat-$1.log" timeout 5 socat -u \
	    UDP4-RECV:7777,bind="$LAN" "CREATE:$_f"
	_sp=$NL_LASTPID
	nl_wait 3 nl_udp_bound a-host 7777
	for _i in 1 2 3; do
		echo "hello-$1" | nl_exec out socat -u - "UDP4-SENDTO:$EXT:$2"
		nl_wait 1 grep -q "hello-$1" "$_f" && break
	done
	kill "$_sp" 2>/dev/null
	grep -q "hello-$1" "$_f" 2>/dev/null
}

# check_mapping CASE PROTO: portmapc holds a mapping of PROTO; checks the
# rule, a datagram through it, renewals, and the rule gone at exit
check_mapping() {
	_n=$1 _p=$2
	_o=$NL_TMP/pmc-$_n
	if ! nl_wait 8 grep -q '^mapped' "$_o"; then
		bad "$_n: no mapping: $(cat "$_o")"
		return
	fi
	_l=$(grep '^mapped' "$_o" | head -n 1)
	_ep=${_l#* * }; _ep=${_ep%% *}
	_port=${_ep##*:}
	[ "$_l" = "mapped $_p $EXT:7777 lease ${3:-6}" ] &&
		ok "$_n: $_l" || bad "$_n: expected '$_p $EXT:7777': $_l"
	dnat_there "$_port" && ok "$_n: DNAT udp $_port -> $LAN:7777 in the NAT" ||
		bad "$_n: no DNAT for $_port: $(nl_exec a nft list chain inet filter prerouting_miniupnpd)"
	reaches "$_n" "$_port" && ok "$_n: a datagram from out to $EXT:$_port reached $LAN:7777" ||
		bad "$_n: datagram to $EXT:$_port did not reach the host"
	if nl_wait 8 grep -q "portmap: $_p: renewed" "$_o"; then
		ok "$_n: renewed ($(grep -c "portmap: $_p: renewed" "$_o") so far)"
	else
		bad "$_n: no renewal: $(cat "$_o")"
	fi
	nl_wait 10 sh -c "! kill -0 $PMC_PID 2>/dev/null"
	grep -q "mapping .*deleted" "$_o" && ok "$_n: portmapc deleted the mapping at exit" ||
		bad "$_n: no delete logged: $(tail -n 5 "$_o")"
	nl_wait 3 sh -c "! ip netns exec $(nl_ns a) nft list chain inet filter prerouting_miniupnpd | grep -q 'dport $_port '" &&
		ok "$_n: DNAT gone from the NAT after exit" ||
		bad "$_n: DNAT still there after exit"
}

echo "== upnp: a gateway with UPnP IGD only"
mu_start upnp "enable_upnp=yes
enable_natpmp=no"
pmc_bg upnp -m auto -l 6 -w 5
check_mapping upnp upnp
grep -q '^failed pcp .*unreachable' "$NL_TMP/pmc-upnp" &&
	grep -q '^failed natpmp .*shares port 5351' "$NL_TMP/pmc-upnp" &&
	ok "upnp: PCP and NAT-PMP reported failed: $(grep '^failed pcp' "$NL_TMP/pmc-upnp")" ||
	bad "upnp: PCP/NAT-PMP failures not reported: $(grep '^failed' "$NL_TMP/pmc-upnp")"
mu_stop

echo "== natpmp, pcp: a gateway with NAT-PMP and PCP (port 5351), no UPnP"
mu_start natpmp "enable_upnp=no
enable_natpmp=yes
min_lifetime=2"
pmc_bg natpmp -m natpmp -l 6 -w 5
check_mapping natpmp natpmp
pmc_bg pcp -m pcp -l 6 -w 5
check_mapping pcp pcp
pmc_bg auto -m auto -l 6 -w 0
nl_wait 10 sh -c "! kill -0 $PMC_PID 2>/dev/null"
grep -q "^mapped pcp $EXT:7777" "$NL_TMP/pmc-auto" &&
	! grep -q '^mapped upnp' "$NL_TMP/pmc-auto" &&
	ok "auto: PCP won ($(grep '^status upnp' "$NL_TMP/pmc-auto"))" ||
	bad "auto: $(cat "$NL_TMP/pmc-auto")"
mu_stop

echo "== both: a gateway with UPnP, NAT-PMP and PCP; auto keeps one mapping"
mu_start both "enable_upnp=yes
enable_natpmp=yes
min_lifetime=2"
pmc_bg both -m auto -w 4
if nl_wait 5 grep -q '^mapped' "$NL_TMP/pmc-both"; then
	w=$(grep '^mapped' "$NL_TMP/pmc-both" | head -n 1)
	sleep 2		# the losing protocol's answer is in by now
	[ "$(grep -c '^mapped' "$NL_TMP/pmc-both")" -eq 1 ] && dnat_there 7777 &&
		reaches both 7777 &&
		ok "both: $w; the loser left it alone (DNAT there, datagram through)" ||
		bad "both: $(cat "$NL_TMP/pmc-both")"
	nl_wait 6 sh -c "! kill -0 $PMC_PID 2>/dev/null"
	grep -q '^status upnp offered' "$NL_TMP/pmc-both" ||
	    grep -q '^status pcp offered' "$NL_TMP/pmc-both" &&
		ok "both: status says the other protocol is offered too: $(grep '^status' "$NL_TMP/pmc-both" | tr '\n' ';')" ||
		bad "both: status: $(grep '^status' "$NL_TMP/pmc-both")"
	nl_wait 3 sh -c "! ip netns exec $(nl_ns a) nft list chain inet filter prerouting_miniupnpd | grep -q 'dport 7777 '" &&
		ok "both: DNAT gone after exit" || bad "both: DNAT still there after exit"
else
	bad "both: no mapping: $(cat "$NL_TMP/pmc-both")"
fi
mu_stop

echo "== short: a gateway that grants 4 s, then reboots"
SHORT="enable_upnp=no
enable_natpmp=yes
min_lifetime=2
max_lifetime=4"
mu_start short "$SHORT"
pmc_bg short -m pcp -w 30
if nl_wait 5 grep -q '^mapped' "$NL_TMP/pmc-short"; then
	grep -q "^mapped pcp $EXT:7777 lease 4$" "$NL_TMP/pmc-short" &&
		ok "short: asked 3600 s, granted: $(grep '^mapped' "$NL_TMP/pmc-short")" ||
		bad "short: $(grep '^mapped' "$NL_TMP/pmc-short")"
	sleep 6
	n=$(grep -c 'portmap: pcp: renewed for 4 s' "$NL_TMP/pmc-short")
	[ "$n" -ge 2 ] && dnat_there 7777 &&
		ok "short: renewed $n times in 6 s, mapping still there after 1.5 leases" ||
		bad "short: renewed $n times, DNAT $(dnat_there 7777 && echo present || echo gone)"
	reaches short 7777 && ok "short: still reachable" ||
		bad "short: not reachable after renewals"
	# the gateway reboots: miniupnpd restarts, its rules and epoch start anew
	kill "$MU_PID"; nl_wait 5 sh -c "! kill -0 $MU_PID 2>/dev/null"
	MU_PID=
	for ch in miniupnpd prerouting_miniupnpd postrouting_miniupnpd; do
		nl_exec a nft flush chain inet filter "$ch"
	done
	dnat_there 7777 && bad "short: rule survived the restart"
	mu_start short2 "$SHORT"
	if nl_wait 6 grep -q '^lost pcp .*rebooted' "$NL_TMP/pmc-short" &&
	    nl_wait 3 dnat_there 7777; then
		ok "short: reboot noticed: $(grep "^lost" "$NL_TMP/pmc-short" | head -n 1)"
	else
		bad "short: reboot not handled: $(grep -v 'renewed for' "$NL_TMP/pmc-short" | tail -n 8)"
	fi
	kill "$PMC_PID"
	nl_wait 5 sh -c "! kill -0 $PMC_PID 2>/dev/null"
	nl_wait 3 sh -c "! ip netns exec $(nl_ns a) nft list chain inet filter prerouting_miniupnpd | grep -q 'dport 7777 '" &&
		ok "short: SIGTERM deleted the mapping" ||
		bad "short: DNAT still there after SIGTERM"
else
	bad "short: no mapping: $(cat "$NL_TMP/pmc-short")"
fi
mu_stop

echo "== announce: a gateway restart is announced; an hour's lease is renewed at once"
for proto in pcp natpmp; do
	ACONF="enable_upnp=no
enable_natpmp=yes"
	mu_start "ann-$proto" "$ACONF"
	pmc_bg "ann-$proto" -m "$proto" -w 30
	if ! nl_wait 5 grep -q '^mapped' "$NL_TMP/pmc-ann-$proto"; then
		bad "announce $proto: no mapping: $(cat "$NL_TMP/pmc-ann-$proto")"
		kill "$PMC_PID"; mu_stop; continue
	fi
	# the epoch rule tolerates 2 s: let this gateway's epoch grow first
	sleep 4
	mu_stop
	mu_start "ann2-$proto" "$ACONF"
	if nl_wait 3 grep -q "^lost $proto .*rebooted" "$NL_TMP/pmc-ann-$proto" &&
	    nl_wait 2 dnat_there 7777; then
		ok "announce $proto: $(grep -o 'announced.*' "$NL_TMP/pmc-ann-$proto" | head -n 1); $(grep "^lost" "$NL_TMP/pmc-ann-$proto" | head -n 1); mapped again"
	else
		bad "announce $proto: restart not seen within 3 s: $(grep -v 'renewed for' "$NL_TMP/pmc-ann-$proto" | tail -n 6)"
	fi
	kill "$PMC_PID"
	nl_wait 5 sh -c "! kill -0 $PMC_PID 2>/dev/null"
	mu_stop
done

echo "== none: a gateway with no port mapping at all"
t0=$(date +%s.%N)
nl_exec a-host "$PMC" -m auto -t 20 >"$NL_TMP/pmc-none" 2>&1
rc=$?
t1=$(date +%s.%N)
dt=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
grep '^failed' "$NL_TMP/pmc-none" | sed 's/^/    /'
[ "$rc" -eq 2 ] && grep -q '^failed upnp ' "$NL_TMP/pmc-none" &&
	grep -q '^failed pcp ' "$NL_TMP/pmc-none" &&
	grep -q '^failed natpmp ' "$NL_TMP/pmc-none" &&
	awk "BEGIN{exit !($dt < 8)}" &&
	ok "none: every protocol failed, named, in $dt s (exit 2)" ||
	bad "none: rc $rc after $dt s: $(cat "$NL_TMP/pmc-none")"
nl_exec a-host "$PMC" -m natpmp -t 20 >"$NL_TMP/pmc-none2" 2>&1
grep -q '^failed natpmp .*unreachable' "$NL_TMP/pmc-none2" &&
	ok "none: -m natpmp: $(grep '^failed' "$NL_TMP/pmc-none2")" ||
	bad "none: -m natpmp: $(cat "$NL_TMP/pmc-none2")"

nl_exec a-host ip route del default
nl_exec a-host "$PMC" -m auto -t 20 >"$NL_TMP/pmc-noroute" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q '^failed pcp no IPv4 default route' "$NL_TMP/pmc-noroute" &&
	grep -q '^failed natpmp .*no IPv4 default route' "$NL_TMP/pmc-noroute" &&
	grep -q '^failed upnp ' "$NL_TMP/pmc-noroute" &&
	ok "no default route: $(grep '^failed pcp' "$NL_TMP/pmc-noroute")" ||
	bad "no default route: rc $rc: $(cat "$NL_TMP/pmc-noroute")"

# under SAN=1 builds: any sanitizer report from portmapc fails the test
if grep -l 'Sanitizer\|runtime error' "$NL_TMP"/pmc-* >/dev/null 2>&1; then
	bad "sanitizer report: $(grep -h -A5 'Sanitizer\|runtime error' "$NL_TMP"/pmc-* | head -n 20)"
fi

if [ "$FAILS" -ne 0 ]; then
	for f in "$NL_TMP"/mu-*.log; do
		echo "--- $f"; tail -n 15 "$f"
	done
	echo "30-portmap: $FAILS check(s) failed"
	exit 1
fi
echo "PASS: port mapping over UPnP IGD, NAT-PMP and PCP against miniupnpd; short lease, reboot, no gateway"
