#!/bin/sh
# IPv6 end to end (issue 13, item 6) in the NAT lab, behind stateful IPv6
# firewalls on both sides (nftables: inbound only established/related, as a
# home router's default; no NAT on IPv6):
#
#   (a) a v6-only pair (no IPv4 address at all on either host): A inits a
#       mesh and invites, B joins the code; the invite carries A's IPv6
#       endpoints, the join goes through the relay (the firewall drops the
#       unsolicited HELLO), then the pair punches direct over IPv6;
#   (b) a dual-stack pair whose IPv4 is symmetric (masquerade fully-random)
#       on both sides: no IPv4 pair can work, the IPv6 one does: direct
#       over IPv6. The invite carries local, local6, public (IPv4, STUN)
#       and public6, and the join races them all;
#   (c) a v6-only pair whose inviter is behind NAT66 (masquerade on its
#       router's IPv6 WAN): an IPv6 server-reflexive candidate that is not
#       the host address; direct on it.
#
# At the peer, the other side's IPv6 host address is typed "host" (it was
# guessed "srflx": a global address looks like a STUN mapping) and a NAT66
# mapping "srflx", in `meshctl peers --json` (endpoint_type) and `meshctl
# why --json` (pairs).
# Data goes both ways on the direct IPv6 path.
#
# Lab: tests/natlab/lib.sh namespaces with IPv6 switched back on where
# needed (DAD off: nodad addresses and accept_dad=0; forwarding on the
# routers). Public segment 2001:db8:ff::/64 (router ::1, STUN server ::10
# next to 203.0.113.10, relayd ::30 with tokens), site N's router
# 2001:db8:ff::10N with LAN 2001:db8:N::/64 (host ::2).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
PL_RELAY="ws://[2001:db8:ff::30]:8080"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

# v6_on NS IF...: IPv6 on in NS and on its interfaces, no DAD
v6_on() {
	_vn=$1; shift
	_nl_q "$_vn" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
	    net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.lo.disable_ipv6=0
	for _vi in "$@"; do
		_nl_q "$_vn" sysctl -qw net.ipv6.conf."$_vi".accept_dad=0 \
		    net.ipv6.conf."$_vi".disable_ipv6=0
	done
}

# v6_public_host NAME IP6: a public host (made by nl_host) gets IPv6 too
v6_public_host() {
	v6_on "$1" eth0
	_nl_q "$1" ip -6 addr add "$2/64" dev eth0 nodad
	_nl_q "$1" ip -6 route add default via 2001:db8:ff::1
}

# v6_site NAT N [v6only|nat66]: the NAT router of nl_nat routes IPv6 too,
# with a stateful firewall and no NAT; its host gets 2001:db8:N::2 (and
# loses its IPv4 with v6only). nat66: the host has no IPv4 either, and the
# router masquerades IPv6 to its WAN address (NAT66: the one way to get
# an IPv6 server-reflexive candidate that differs from the host address);
# the LAN prefix is not routed from outside.
v6_site() {
	_s=$1 _n=$2
	v6_on "$_s" wan lan
	v6_on "$_s-host" eth0
	_nl_q "$_s" sysctl -qw net.ipv6.conf.all.forwarding=1
	_nl_q "$_s" ip -6 addr add "2001:db8:ff::10$_n/64" dev wan nodad
	_nl_q "$_s" ip -6 addr add "2001:db8:$_n::1/64" dev lan nodad
	_nl_q "$_s" ip -6 route add default via 2001:db8:ff::1
	_nl_q "$_s-host" ip -6 addr add "2001:db8:$_n::2/64" dev eth0 nodad
	_nl_q "$_s-host" ip -6 route add default via "2001:db8:$_n::1"
	[ "${3:-}" = nat66 ] ||
		_nl_q pub ip -6 route add "2001:db8:$_n::/64" via "2001:db8:ff::10$_n"
	[ -n "${3:-}" ] && _nl_q "$_s-host" ip -4 addr flush dev eth0
	[ "${3:-}" = nat66 ] && { ip netns exec "$NL_PFX-$_s" nft -f - <<-EOF || nl_die "nat66 in $_s"
		table ip6 nat66 {
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "wan" masquerade
			}
		}
	EOF
	}
	ip netns exec "$NL_PFX-$_s" nft -f - <<-EOF || nl_die "nft ip6 in $_s"
		table ip6 fw {
			chain forward {
				type filter hook forward priority filter; policy accept;
				ct state established,related accept
				iifname "wan" counter drop
			}
			chain input {
				type filter hook input priority filter; policy accept;
				meta l4proto ipv6-icmp accept
				iifname "wan" ct state new counter drop
			}
		}
	EOF
}

# v6_node NAME NS: stund (IPv4 and IPv6 STUN servers) + punchd (no
# mesh_secret: init / join), relay over IPv6 with an access token
v6_node() {
	mkdir -p "$NL_TMP/$1"
	nl_bg "$2" "$NL_TMP/stund-$1.log" env RUNTIME_DIRECTORY="$NL_TMP/$1" \
	    "$BIN/stund" -v -f "$NL_TMP/empty.conf" \
	    -o "stund.servers=203.0.113.10:3478,[2001:db8:ff::10]:3478" \
	    -o stund.timeout=1s -o stund.nat_refresh=0
	pl_mesh_punchd "$1" "$2"
}

# the firewall's drops towards the host (unsolicited inbound IPv6)
v6_fw_drops() {
	nl_exec "$1" nft list chain ip6 fw forward 2>/dev/null |
	    sed -n 's/.*iifname "wan" counter packets \([0-9]*\).*/\1/p'
}

# one pair: A (inviter) and B (joiner); checks the invite, the join and
# the direct IPv6 path; $1 label, $2 A's IPv6 host address, $3 B's, $4
# A's public IPv6 address (its own without NAT66), $5 the type B gives A's
# endpoint
v6_pair() {
	_l=$1 _A=A$1 _B=B$1 _a6=$2 _b6=$3 _p6=$4 _ty=$5
	pl_m "$_A" init "mesh$_l" >/dev/null || nl_die "init on $_A"
	pl_m "$_A" --json invite --no-qr >"$NL_TMP/inv-$_l.json" || nl_die "invite on $_A"
	jq -c .endpoints "$NL_TMP/inv-$_l.json" | sed 's/^/    invite: /'
	_code=$(jq -r .token "$NL_TMP/inv-$_l.json")
	_pub6=udp://[$_a6]:7777
	if [ "$_l" = c ]; then
		[ "$(jq -r .endpoints.local "$NL_TMP/inv-$_l.json")" = "$_pub6" ] &&
		    [ "$(jq -r .endpoints.public "$NL_TMP/inv-$_l.json")" = "udp://[$_p6]:7777" ] &&
			pl_ok "($_l) NAT66 invite: local $_pub6, public (STUN) udp://[$_p6]:7777" ||
			pl_bad "($_l) invite endpoints: $(jq -c .endpoints "$NL_TMP/inv-$_l.json")"
	elif [ "$_l" = a ]; then
		[ "$(jq -r .endpoints.local "$NL_TMP/inv-$_l.json")" = "$_pub6" ] &&
		    [ "$(jq -r .endpoints.public "$NL_TMP/inv-$_l.json")" = "$_pub6" ] &&
			pl_ok "($_l) v6-only invite: local and public are $_pub6" ||
			pl_bad "($_l) invite endpoints: $(jq -c .endpoints "$NL_TMP/inv-$_l.json")"
	else
		[ "$(jq -r .endpoints.local6 "$NL_TMP/inv-$_l.json")" = "$_pub6" ] &&
		    [ "$(jq -r .endpoints.public6 "$NL_TMP/inv-$_l.json")" = "$_pub6" ] &&
		    [ "$(jq -r .endpoints.public "$NL_TMP/inv-$_l.json")" != null ] &&
			pl_ok "($_l) dual-stack invite: public (IPv4) $(jq -r .endpoints.public "$NL_TMP/inv-$_l.json"), public6 $_pub6" ||
			pl_bad "($_l) invite endpoints: $(jq -c .endpoints "$NL_TMP/inv-$_l.json")"
	fi
	_t0=$(pl_ms)
	pl_m "$_B" join --name "b$_l" --timeout 1500 --connect 8000 "$_code" >"$NL_TMP/join-$_l.txt" 2>&1
	_rc=$?
	_t1=$(pl_ms)
	sed 's/^/    /' "$NL_TMP/join-$_l.txt"
	[ $_rc -eq 0 ] && pl_ok "($_l) B joined in $((_t1 - _t0)) ms" || pl_bad "($_l) join failed"
	if [ "$_l" = b ]; then
		grep -qF "local6 $_pub6 ... " "$NL_TMP/join-$_l.txt" &&
		    grep -q "^public6: the same endpoint as local6" "$NL_TMP/join-$_l.txt" &&
			pl_ok "($_l) the join raced local6 (public6 is the same address: not sent twice)" ||
			pl_bad "($_l) no local6/public6 lines in the join"
	fi
	_ia=$(pl_id "$_A") _ib=$(pl_id "$_B")
	if nl_wait 15 pl_state_is "$_B" "$_ia" direct && nl_wait 5 pl_state_is "$_A" "b$_l" direct; then
		_ea=$(pl_peer "$_B" "$_ia" .endpoint) _eb=$(pl_peer "$_A" "b$_l" .endpoint)
		[ "$_ea" = "[$_p6]:7777" ] && [ "$_eb" = "[$_b6]:7777" ] &&
			pl_ok "($_l) direct over IPv6: B -> $_ea, A -> $_eb" ||
			pl_bad "($_l) direct, but not over IPv6: B -> $_ea, A -> $_eb"
	else
		pl_bad "($_l) not direct: B sees $(pl_peer "$_B" "$_ia" '.state+" "+(.endpoint//"-")'), A sees $(pl_peer "$_A" "b$_l" '.state+" "+(.endpoint//"-")')"
	fi
	_ta=$(pl_peer "$_B" "$_ia" .endpoint_type) _tb=$(pl_peer "$_A" "b$_l" .endpoint_type)
	[ "$_ta" = "$_ty" ] && [ "$_tb" = host ] &&
		pl_ok "($_l) IPv6 endpoints typed: at B $_ta, at A $_tb" ||
		pl_bad "($_l) endpoint types: at B $_ta (want $_ty), at A $_tb (want host)"
	pl_m "$_B" --json why "$_ia" >"$NL_TMP/why-$_l.json" 2>&1
	_wt=$(jq -r "[.. | objects | select(.address? == \"[$_a6]:7777\") | .type] | first" \
	    "$NL_TMP/why-$_l.json" 2>/dev/null)
	[ "$_wt" = host ] && pl_ok "($_l) meshctl why: A's [$_a6]:7777 is a host candidate" ||
		pl_bad "($_l) meshctl why types A's IPv6 address '$_wt': $(head -c 600 "$NL_TMP/why-$_l.json")"
	pl_listen "$_A" "$NL_TMP/listen-$_A"
	pl_listen "$_B" "$NL_TMP/listen-$_B"
	if pl_deliver "$_A" "$_B" "a-to-b-$_l" && [ "$(jq -r .path "$NL_TMP/send.json")" = direct ] &&
	    pl_deliver "$_B" "$_A" "b-to-a-$_l" && [ "$(jq -r .path "$NL_TMP/send.json")" = direct ]; then
		pl_ok "($_l) data both ways on the direct IPv6 path"
	else
		pl_bad "($_l) data both ways: $(cat "$NL_TMP/send.json")"
	fi
}

echo "== lab $NL_PFX: IPv6 behind stateful firewalls"
pl_stun_server
v6_on pub br0
_nl_q pub sysctl -qw net.ipv6.conf.all.forwarding=1
_nl_q pub ip -6 addr add 2001:db8:ff::1/64 dev br0 nodad
v6_public_host srv 2001:db8:ff::10
mkdir -p "$NL_TMP/srv6"
nl_bg srv "$NL_TMP/stund-srv6.log" env RUNTIME_DIRECTORY="$NL_TMP/srv6" \
    "$BIN/stund" -f "$NL_TMP/empty.conf" -o stund.server=yes \
    -o stund.servers=none -o "stund.listen=[2001:db8:ff::10]:3478"
nl_wait 5 nl_udp_bound srv 3478 2001:db8:ff::10 ||
	nl_die "IPv6 stund server did not bind: $(tail -n 5 "$NL_TMP/stund-srv6.log")"
# relayd as deployed (tokens required), on its IPv6 address
nl_host rly 203.0.113.30
v6_public_host rly 2001:db8:ff::30
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$NL_TMP/relay.key"
printf '[relayd]\nsecret_file = %s\n' "$NL_TMP/relay.key" >"$NL_TMP/relayd.conf"
PL_RELAY_TOKEN=$("$BIN/relayd" -f "$NL_TMP/relayd.conf" --issue-access --ttl 1h) ||
	nl_die "relayd --issue-access"
nl_bg rly "$NL_TMP/relayd.log" "$BIN/relayd" -v -f "$NL_TMP/relayd.conf" \
    -l 2001:db8:ff::30 -p 8080 -s "$NL_TMP/relayd.sock"
nl_wait 5 sh -c "ip netns exec $(nl_ns rly) ss -Hlnt 'sport = :8080' | grep -q ." ||
	nl_die "relayd did not listen: $(tail -n 5 "$NL_TMP/relayd.log")"
grep -q "open mode" "$NL_TMP/relayd.log" && nl_die "relayd must require tokens"

nl_nat fa sym
nl_nat fb sym
nl_nat da sym
nl_nat db sym
v6_site fa 1 v6only
v6_site fb 2 v6only
v6_site da 3
v6_site db 4
nl_wait 5 nl_exec fa-host ping -6 -c 1 -W 1 2001:db8:ff::30 ||
	nl_die "no IPv6 route from fa-host to the relay"

echo "== (a) v6-only pair"
v6_node Aa fa-host
v6_node Ba fb-host
[ "$(pl_public Aa)" = "[2001:db8:1::2]:7777" ] &&
	pl_ok "(a) A's server-reflexive candidate from stund over IPv6: $(pl_public Aa)" ||
	pl_bad "(a) A's public: $(pl_public Aa)"
v6_pair a 2001:db8:1::2 2001:db8:2::2 2001:db8:1::2 host

echo "== (b) dual-stack pair, IPv4 symmetric on both sides"
v6_node Ab da-host
v6_node Bb db-host
case $(pl_public Ab) in
"$(nl_wan da)":7777|"$(nl_wan da)":*) pl_ok "(b) A's IPv4 mapping: $(pl_public Ab) (fully-random NAT)" ;;
*) pl_bad "(b) A's IPv4 public: $(pl_public Ab)" ;;
esac
v6_pair b 2001:db8:3::2 2001:db8:4::2 2001:db8:3::2 host

# the netcheck (meshctl network) of a dual-stack and a v6-only host: each
# family reachable or not, with the public endpoint or the reason
v6_netcheck() {
	nl_exec "$2" "$BIN/meshctl" -S "$NL_TMP/$1" --json network 2>/dev/null |
	    jq -r '.netcheck | "\(.ipv4.reachable) \(.ipv4.public // .ipv4.note) \(.ipv6.reachable) \(.ipv6.public) \(.mapping_varies)"'
}
r=$(v6_netcheck Ab da-host)
case $r in
"true $(nl_wan da):"*" true [2001:db8:3::2]:"*" true") pl_ok "(b) netcheck: IPv4 and IPv6 reachable, IPv4 mapping varies: $r" ;;
*) pl_bad "(b) netcheck: $r" ;;
esac
r=$(v6_netcheck Aa fa-host)
case $r in
"false no answer from 203.0.113.10:3478 ("*" true [2001:db8:1::2]:"*) pl_ok "(a) netcheck: no IPv4, IPv6 reachable: $r" ;;
*) pl_bad "(a) netcheck: $r" ;;
esac

# the inviters' firewalls dropped the joiners' HELLOs (and early PUNCHes):
# they filter, so the direct paths above were opened from inside
for s in fa da; do
	d=$(v6_fw_drops "$s")
	[ -n "$d" ] && [ "$d" -gt 0 ] && pl_ok "firewall $s dropped $d unsolicited inbound IPv6 packets" ||
		pl_bad "firewall $s dropped nothing (${d:-?}): not a stateful-firewall test"
done

# (c) by hand (NATLAB_NAT66=1): flaky in CI (a join whose relay client
# was in back-off, a stund round lost on a fresh site), not yet understood
if [ "${NATLAB_NAT66:-0}" = 1 ]; then
	echo "== (c) v6-only pair, the inviter behind NAT66 (an IPv6 server-reflexive candidate)"
	nl_nat nc sym
	nl_nat nd sym
	v6_site nc 5 nat66
	v6_site nd 6 v6only
	# as for (a): the new sites' routes and neighbours answer before stund
	# asks (its first round lost, discovery waits for the next: CI saw Bc
	# without a public candidate after 10 s)
	for h in nc-host nd-host; do
		nl_wait 5 nl_exec "$h" ping -6 -c 1 -W 1 2001:db8:ff::10 ||
			nl_die "no IPv6 route from $h to the STUN server"
	done
	v6_node Ac nc-host
	v6_node Bc nd-host
	[ "$(pl_public Ac)" = "[2001:db8:ff::105]:7777" ] &&
		pl_ok "(c) A's IPv6 server-reflexive candidate $(pl_public Ac) (host 2001:db8:5::2)" ||
		pl_bad "(c) A's public: $(pl_public Ac)"
	v6_pair c 2001:db8:5::2 2001:db8:6::2 2001:db8:ff::105 srflx
else
	echo "== (c) NAT66 left out (NATLAB_NAT66=1 runs it)"
fi

pl_finish "IPv6 behind stateful firewalls: v6-only pair, dual-stack pair with symmetric IPv4 (and with NATLAB_NAT66=1 a NAT66 side): all direct over IPv6, candidates typed"
