#!/bin/sh
# The mesh interface through real punchd (issue 16, docs/mesh-interface.md).
#
# A behind port-restricted NAT a, B behind port-restricted NAT b, relayd
# with access tokens. Both punchd run with tun = yes and start before they
# are in a mesh (atm0 exists, no addresses, CAP_NET_ADMIN kept); A runs
# `meshctl init`, B joins with A's invite. Checks:
#   - each atm0 gets the node's mesh addresses (100.64.0.0/10, the mesh's
#     fd00::/8 /64), mtu 1280, only the mesh prefixes routed, and punchd no
#     longer holds CAP_NET_ADMIN;
#   - `meshctl hosts` on A lists both members with the addresses atm0 has;
#     B's IPv4 is the one A pinned for it (WELCOME: A's members file, B's
#     mesh file) and `meshctl hosts` on B agrees with A's; A's hosts file
#     (punchd/hostsfile.c) has the same lines and `ping bob.mesh` resolves
#     through libnss_atmosphere;
#   - direct: ping over IPv4 and IPv6 and an iperf3 TCP transfer, the pair's
#     path direct, punchd's tun_rx / tun_tx counters moving;
#   - a packet through A's atm0 with a forged inner source (an address no
#     member owns, added to A's atm0 by the test) is dropped by B and
#     counted (tun_bad_source), never answered;
#   - relayed: all UDP between the NATs dropped, the pair goes relayed
#     (<= 45 s); ping over IPv4 and IPv6 and an iperf3 TCP transfer still
#     work, through relayd.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
for t in iperf3 ping; do
	command -v $t >/dev/null 2>&1 || nl_skip "$t missing (scripts/deps.sh)"
done
[ -c /dev/net/tun ] || nl_skip "no /dev/net/tun"
nl_require
nl_init

pl_tun_lab
for n in A:a-host B:b-host; do
	pl_stund "${n%%:*}" "${n#*:}"
	pl_mesh_punchd "${n%%:*}" "${n#*:}" -o punchd.tun=yes
done
PA=$PID_A PB=$PID_B
capeff() { awk '/^CapEff/ { print $2 }' "/proc/$1/status"; }
has_admin() { [ $(( 0x$(capeff "$1") >> 12 & 1 )) -eq 1 ]; }
nl_exec a-host ip -o link show atm0 >/dev/null 2>&1 &&
	! nl_exec a-host ip -o addr show dev atm0 | grep -q "inet " &&
	has_admin "$PA" &&
	pl_ok "before the mesh: atm0 exists without addresses, CAP_NET_ADMIN kept" ||
	pl_bad "before the mesh: $(nl_exec a-host ip -o addr show dev atm0 2>&1) capeff $(capeff "$PA")"

echo "== A: meshctl init; B: meshctl join"
pl_join_ab
pl_ok "B joined, A <-> B direct"

nl_wait 5 sh -c "ip netns exec $(nl_ns a-host) ip -o -4 addr show dev atm0 | grep -q inet" &&
nl_wait 5 sh -c "ip netns exec $(nl_ns b-host) ip -o -4 addr show dev atm0 | grep -q inet" ||
	nl_die "atm0 got no address: $(grep -i "mesh interface" "$NL_TMP"/punchd-*.log)"
A4=$(pl_atm0 a-host 4) A6=$(pl_atm0 a-host 6) B4=$(pl_atm0 b-host 4) B6=$(pl_atm0 b-host 6)
echo "    A $A4 $A6, B $B4 $B6"
case "$A4.$B4" in 100.*.100.*) ;; *) pl_bad "IPv4 mesh addresses: $A4 $B4" ;; esac
case "$A6.$B6" in fd*.fd*) ;; *) pl_bad "IPv6 mesh addresses: $A6 $B6" ;; esac
[ "${A6%:*}" != "$A6" ] && [ "$(echo "$A6" | cut -d: -f1-3)" = "$(echo "$B6" | cut -d: -f1-3)" ] ||
	pl_bad "A and B are not in one /64: $A6 $B6"
nl_exec a-host ip -o link show atm0 | grep -q "mtu 1280" || pl_bad "atm0 mtu"
r4=$(nl_exec a-host ip -4 route show dev atm0)
r6=$(nl_exec a-host ip -6 route show dev atm0 | grep -v "^fe80::/64")
[ "$(echo "$r4" | wc -l)" -eq 1 ] && echo "$r4" | grep -q "^100.64.0.0/10" &&
	[ "$(echo "$r6" | wc -l)" -eq 1 ] && echo "$r6" | grep -q "^fd[0-9a-f:]*::/64" &&
	pl_ok "atm0: mtu 1280, routes 100.64.0.0/10 and the mesh /64 only" ||
	pl_bad "atm0 routes: $r4 / $r6"
! has_admin "$PA" && ! has_admin "$PB" &&
	pl_ok "CAP_NET_ADMIN dropped after set-up (CapEff $(capeff "$PA"))" ||
	pl_bad "punchd still holds CAP_NET_ADMIN: $(capeff "$PA") $(capeff "$PB")"

pl_m A hosts >"$NL_TMP/hosts" 2>&1
sed 's/^/    /' "$NL_TMP/hosts"
grep -q "^$B4 *bob bob.home$" "$NL_TMP/hosts" &&
	grep -q "^$B6 *bob bob.home$" "$NL_TMP/hosts" &&
	grep -q "^$A4 .*# this node" "$NL_TMP/hosts" &&
	grep -q "^$A6 .*# this node" "$NL_TMP/hosts" &&
	[ "$(grep -vc '^#' "$NL_TMP/hosts")" -eq 4 ] &&
	pl_ok "meshctl hosts lists both members with atm0's addresses" ||
	pl_bad "meshctl hosts: $(cat "$NL_TMP/hosts")"
pinned=$(sed -n 's/^v4=//p' "$NL_TMP/B/mesh")
gave=$(awk -v id="$IB" '$1 == id { for (i = 4; i <= NF; i++)
    if ($i ~ /^v4=/) print substr($i, 4) }' "$NL_TMP/A/members")
pl_m B hosts >"$NL_TMP/hosts-B" 2>&1
[ "$gave" = "$B4" ] && [ "$pinned" = "$B4" ] &&
	[ "$(sed -n 's/^v4=//p' "$NL_TMP/A/mesh")" = "$A4" ] &&
	[ "$(grep -v '^#' "$NL_TMP/hosts" | awk '{ print $1 }' | sort)" = \
	    "$(grep -v '^#' "$NL_TMP/hosts-B" | awk '{ print $1 }' | sort)" ] &&
	grep -q "^$B4 .*# this node" "$NL_TMP/hosts-B" &&
	pl_ok "B's IPv4 $B4 is the one A pinned for it; meshctl hosts on B agrees with A" ||
	pl_bad "pins: A gave '$gave', B has '$pinned', atm0 $B4; hosts on B: $(cat "$NL_TMP/hosts-B")"

# names (punchd/hostsfile.c, nss/): A's hosts file has meshctl hosts' lines,
# and ping resolves bob.mesh through libnss_atmosphere alone
printf 'hosts: atmosphere\n' >"$NL_TMP/nsswitch.conf"
same_lines() { [ "$(grep -v '^#' "$NL_TMP/A/hosts")" = "$(pl_m A hosts | grep -v '^#')" ]; }
nl_wait 3 same_lines &&
	nl_exec a-host unshare -m sh -c 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"' \
	    "$NL_TMP/nsswitch.conf" env LD_LIBRARY_PATH="$TOP/$BUILD/lib" \
	    ATMOSPHERE_NSS_HOSTS="$NL_TMP/A/hosts" ping -c 1 -W 3 bob.mesh >"$NL_TMP/ping-name" 2>&1 &&
	grep -q "($B4)\|($B6)" "$NL_TMP/ping-name" &&
	pl_ok "A's hosts file has meshctl hosts' lines; ping bob.mesh: $(head -n 1 "$NL_TMP/ping-name")" ||
	pl_bad "names: $(cat "$NL_TMP/A/hosts" "$NL_TMP/ping-name" 2>&1)"

echo "== direct: ping, ping -6, iperf3 TCP over atm0"
ctr() { pl_status "$1" ".counters.$2"; }
tx0=$(ctr A tun_tx)
pings() { # LABEL: 3 pings A -> B over IPv4, then IPv6
	for _f in 4 6; do
		eval "_to=\$B$_f"
		nl_exec a-host ping -$_f -c 3 -i 0.2 -W 3 "$_to" >"$NL_TMP/ping$_f-$1" &&
			pl_ok "$1 ping -$_f $_to: $(tail -n 1 "$NL_TMP/ping$_f-$1")" ||
			pl_bad "$1 IPv$_f ping over atm0: $(cat "$NL_TMP/ping$_f-$1")"
	done
}
pings direct
tcp() { # LABEL SECONDS: iperf3 TCP A -> B over atm0, more than 1 Mbit/s
	nl_bg b-host "$NL_TMP/iperf-s-$1.log" iperf3 -s -1
	nl_wait 5 sh -c "ip netns exec $(nl_ns b-host) ss -Hltn 'sport = :5201' | grep -q ."
	nl_exec a-host iperf3 -c "$B4" -t "$2" -J >"$NL_TMP/iperf-$1.json" 2>&1
	_bps=$(jq '.end.sum_received.bits_per_second // 0' "$NL_TMP/iperf-$1.json" 2>/dev/null)
	awk -v b="${_bps:-0}" 'BEGIN { exit !(b > 1000000) }' &&
		pl_ok "$1 iperf3 TCP A -> B over atm0: $(awk -v b="$_bps" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s" ||
		pl_bad "$1 iperf3 TCP over atm0: ${_bps:-?} bit/s $(head -c 300 "$NL_TMP/iperf-$1.json")"
}
tcp direct 2
pl_path_is A "$IB" direct && [ "$(ctr A tun_tx)" -gt "$tx0" ] &&
	[ "$(ctr B tun_rx)" -gt 0 ] &&
	pl_ok "path direct; A tun_tx $(ctr A tun_tx), B tun_rx $(ctr B tun_rx)" ||
	pl_bad "path $(pl_peer A "$IB" .path), A tun_tx $(ctr A tun_tx), B tun_rx $(ctr B tun_rx)"

echo "== a forged inner source through A's atm0"
bad0=$(ctr B tun_bad_source) rx0=$(ctr B tun_rx)
nl_exec a-host ip addr add 100.127.255.254/32 dev atm0 || nl_die "add forged address"
nl_exec a-host ping -c 3 -i 0.2 -W 1 -I 100.127.255.254 "$B4" >/dev/null 2>&1 &&
	pl_bad "a ping from a forged source was answered"
nl_exec a-host ip addr del 100.127.255.254/32 dev atm0
bad1=$(ctr B tun_bad_source) rx1=$(ctr B tun_rx)
[ $((bad1 - bad0)) -eq 3 ] && [ "$rx1" -eq "$rx0" ] &&
	pl_ok "B dropped and counted the 3 forged packets (tun_bad_source $bad1)" ||
	pl_bad "forged: tun_bad_source $bad0 -> $bad1, tun_rx $rx0 -> $rx1"

echo "== relayed: all UDP between the NATs dropped"
WANB=$(nl_wan b)
T0=$(pl_ms)
ip netns exec "$(nl_ns a)" nft -f - <<EOF || nl_die "nft cut"
table ip cut {
	chain between {
		type filter hook forward priority filter - 10;
		ip daddr $WANB meta l4proto udp drop
		ip saddr $WANB meta l4proto udp drop
	}
}
EOF
nl_wait 45 pl_path_is A "$IB" relay && nl_wait 10 pl_path_is B "$IA" relay &&
	pl_ok "relayed $(( $(pl_ms) - T0 )) ms after the cut" ||
	pl_bad "not relayed after the cut: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
rr0=$(pl_status B .counters.relay_rx)
pings relayed
tcp relayed 1
[ "$(pl_status B .counters.relay_rx)" -ge $((rr0 + 6)) ] &&
	pl_ok "through relayd: B relay_rx $rr0 -> $(pl_status B .counters.relay_rx)" ||
	pl_bad "B relay_rx $rr0 -> $(pl_status B .counters.relay_rx)"
pl_finish "mesh interface through punchd: direct and relayed"
