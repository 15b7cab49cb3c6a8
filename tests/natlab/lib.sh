# NAT lab: network namespaces joined by veth pairs, nftables NAT.
# Sourced by tests/natlab/NN-*.sh (POSIX sh). Needs root, iproute2, nftables,
# conntrack. Nothing here touches the root namespace's links: every veth is
# created directly inside the lab's namespaces, and no namespace has a link to
# a real network, so no packet leaves the lab.
#
# Topology (docs/natlab.md draws it):
#
#   ns PFX-pub   "the internet": bridge br0 with 203.0.113.1/24 and
#                198.51.100.1/24, IPv4 forwarding on (a router on a stick
#                between the two documentation ranges).
#   public hosts (nl_host NAME IP [IP...]): ns PFX-NAME, eth0 on br0,
#                addresses from 203.0.113.0/24 (conventions below),
#                default route via 203.0.113.1.
#   NAT routers (nl_nat NAME KIND): ns PFX-NAME, "wan" on br0 with
#                198.51.100.(10+N)/24 (default via 198.51.100.1) and "lan"
#                with 192.168.N.1/24; N = 1, 2, ... in creation order.
#   host behind a NAT: ns PFX-NAME-host, eth0 192.168.N.2/24, default via
#                192.168.N.1.
#
# Addresses used by the tests (conventions, not enforced):
#   203.0.113.10, 203.0.113.11  STUN server (primary and RFC 5780 alternate IP)
#   203.0.113.20                a host with no NAT ("open internet")
#   198.51.100.11, .12, ...     WAN addresses of nat 1, 2, ...
#   192.168.N.0/24              LAN of nat N (router .1, host .2)
#
# NAT kinds (table "ip natlab" in the NAT namespace):
#   eim       oifname "wan" masquerade: endpoint-independent mapping (Linux
#             keeps the source port while it is free), address-and-port-
#             dependent filtering: a "port-restricted cone".
#   sym       oifname "wan" masquerade fully-random: address-and-port-
#             dependent mapping, "symmetric".
#   fullcone  eim plus a prerouting dnat of UDP ports NL_FULLCONE_PORTS
#             (default 1024-65535) on the WAN address to the host. As the
#             masquerade keeps the host's source port, a host socket bound in
#             that range is reachable at WAN:same-port from anyone: mapping
#             and filtering endpoint-independent ("full cone").
# Every NAT also drops unsolicited inbound traffic to itself, as a home
# router does (see /work/shared/NATLAB-NOTES.md: without this the peer's
# first punch gets a conntrack entry on the NAT box and the NAT then maps the
# host's packet to another port):
#   chain input { type filter hook input priority filter;
#                 iifname "wan" ct state new drop; }
#
# Usage:
#   . "$TOP/tests/natlab/lib.sh"
#   nl_require            # exit 77 with a clear last line if the lab is impossible
#   nl_init               # prefix, temp dir, trap (cleanup on exit, also on failure)
#   nl_public
#   nl_host srv 203.0.113.10 203.0.113.11
#   nl_nat nat1 eim
#   nl_exec nat1-host some-command args...
#   nl_bg srv "$NL_TMP/x.log" some-daemon args...   # killed by nl_cleanup
#   nl_flush nat1         # conntrack -F on the NAT (a NAT "reboot")
#
# Names: every namespace is PFX-NAME with PFX="atnl-<pid>-<random>" unique per
# run, so parallel runs and leftovers of a killed run never collide.
# NL_KEEP=1 keeps the lab after the test (for poking at it by hand).
# nl_sweep_stale removes namespaces left by runs whose shell is gone.

NL_PFX=
NL_TMP=
NL_NSLIST=
NL_PIDS=
NL_NATS=0
NL_CLEANUP_HOOK=
NL_FULLCONE_PORTS=${NL_FULLCONE_PORTS:-1024-65535}

nl_log() { echo "natlab: $*"; }
nl_die() { echo "natlab: FAIL: $*" >&2; exit 1; }
nl_skip() { echo "SKIP: $*"; exit 77; }

# Skip (exit 77, reason on the last line) when this machine cannot host the
# lab: not root, tools missing, or namespaces / nftables NAT unavailable.
nl_require() {
	[ "$(id -u)" -eq 0 ] || nl_skip "natlab needs root (network namespaces)"
	for t in ip nft conntrack timeout; do
		command -v "$t" >/dev/null 2>&1 ||
			nl_skip "natlab needs '$t' (run scripts/deps.sh)"
	done
	_p="atnl-probe-$$"
	ip netns add "$_p" 2>/dev/null ||
		nl_skip "cannot create network namespaces here (ip netns add failed)"
	if ! ip netns exec "$_p" nft -f - 2>/dev/null <<-EOF
		table ip probe {
			chain post { type nat hook postrouting priority srcnat; masquerade fully-random; }
			chain input { type filter hook input priority filter; ct state new drop; }
		}
	EOF
	then
		ip netns del "$_p"
		nl_skip "nftables NAT/conntrack unavailable in a namespace (kernel modules?)"
	fi
	ip netns del "$_p"
}

nl_init() {
	_r=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	NL_PFX="atnl-$$-$_r"
	NL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$NL_PFX.XXXXXX") || nl_die "mktemp"
	trap 'nl_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# The namespace's full name.
nl_ns() { echo "$NL_PFX-$1"; }

# Run a command in a lab namespace: nl_exec NAME cmd args...
nl_exec() {
	_en=$1; shift
	ip netns exec "$NL_PFX-$_en" "$@"
}

# Start a command in the background in a lab namespace, output to LOG;
# its pid is in $NL_LASTPID and it is killed by nl_cleanup.
nl_bg() {
	_bn=$1 _log=$2; shift 2
	ip netns exec "$NL_PFX-$_bn" "$@" >"$_log" 2>&1 &
	NL_LASTPID=$!
	NL_PIDS="$NL_PIDS $NL_LASTPID"
}

# Remember a pid (of something started outside nl_bg) for nl_cleanup.
nl_track() { NL_PIDS="$NL_PIDS $*"; }

_nl_addns() {
	ip netns add "$NL_PFX-$1" || nl_die "ip netns add $NL_PFX-$1"
	NL_NSLIST="$NL_PFX-$1 $NL_NSLIST"	# newest first, for cleanup
	_nl_q "$1" ip link set lo up
	# quiet and predictable: no IPv6 (no DAD, no RAs), no rp_filter
	_nl_q "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 \
	    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# run in a namespace, die on failure
_nl_q() {
	_qn=$1; shift
	ip netns exec "$NL_PFX-$_qn" "$@" || nl_die "in $_qn: $*"
}

# The "internet": a bridge in ns PFX-pub, routing between the two ranges.
nl_public() {
	_nl_addns pub
	_nl_q pub ip link add br0 type bridge stp_state 0 forward_delay 0
	_nl_q pub ip addr add 203.0.113.1/24 dev br0
	_nl_q pub ip addr add 198.51.100.1/24 dev br0
	_nl_q pub ip link set br0 up
	_nl_q pub sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.br0.send_redirects=0
}

# Attach a new namespace's interface IFNAME to the public bridge through a
# veth pair created inside the namespaces (never in the root namespace).
_nl_attach() {
	_an=$1 _if=$2 _port=$3
	ip -n "$NL_PFX-pub" link add "$_port" type veth peer name "$_if" \
	    netns "$NL_PFX-$_an" || nl_die "veth $_port<->$_an:$_if"
	_nl_q pub ip link set "$_port" master br0 up
	_nl_q "$_an" ip link set "$_if" up
}

# A host on the public segment: nl_host NAME IP [IP...] (203.0.113.0/24).
nl_host() {
	_h=$1; shift
	_nl_addns "$_h"
	_nl_attach "$_h" eth0 "p-$_h"
	for _ip in "$@"; do
		_nl_q "$_h" ip addr add "$_ip/24" dev eth0
	done
	_nl_q "$_h" ip route add default via 203.0.113.1
}

# A NAT router NAME of KIND (eim|sym|fullcone) and a host NAME-host behind it.
nl_nat() {
	_nat=$1 _kind=$2
	NL_NATS=$((NL_NATS + 1))
	_i=$NL_NATS
	_wan=198.51.100.$((10 + _i))
	_nl_addns "$_nat"
	_nl_attach "$_nat" wan "p-$_nat"
	_nl_q "$_nat" ip addr add "$_wan/24" dev wan
	_nl_q "$_nat" ip route add default via 198.51.100.1
	_nl_addns "$_nat-host"
	ip -n "$NL_PFX-$_nat" link add lan type veth peer name eth0 \
	    netns "$NL_PFX-$_nat-host" || nl_die "veth lan $_nat"
	_nl_q "$_nat" ip addr add "192.168.$_i.1/24" dev lan
	_nl_q "$_nat" ip link set lan up
	_nl_q "$_nat-host" ip addr add "192.168.$_i.2/24" dev eth0
	_nl_q "$_nat-host" ip link set eth0 up
	_nl_q "$_nat-host" ip route add default via "192.168.$_i.1"
	_nl_q "$_nat" sysctl -qw net.ipv4.ip_forward=1

	case $_kind in
	eim|fullcone) _masq="masquerade" ;;
	sym) _masq="masquerade fully-random" ;;
	*) nl_die "nl_nat: unknown NAT kind '$_kind' (eim, sym, fullcone)" ;;
	esac
	_pre=
	[ "$_kind" = fullcone ] && _pre="chain pre {
		type nat hook prerouting priority dstnat;
		iifname \"wan\" udp dport $NL_FULLCONE_PORTS dnat to 192.168.$_i.2
	}"
	ip netns exec "$NL_PFX-$_nat" nft -f - <<-EOF || nl_die "nft in $_nat"
		table ip natlab {
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "wan" $_masq
			}
			chain input {
				type filter hook input priority filter;
				iifname "wan" ct state new counter drop
			}
			$_pre
		}
	EOF
	_v=$(echo "$_nat" | tr -c 'A-Za-z0-9_\n' _)
	eval "NL_WAN_$_v=$_wan NL_LAN_$_v=192.168.$_i.2"
	nl_log "nat $_nat ($_kind): wan $_wan, lan 192.168.$_i.0/24, host 192.168.$_i.2"
}

# WAN address of a NAT: nl_wan NAME; its host's LAN address: nl_lan NAME
nl_wan() { eval "echo \$NL_WAN_$(echo "$1" | tr -c 'A-Za-z0-9_\n' _)"; }
nl_lan() { eval "echo \$NL_LAN_$(echo "$1" | tr -c 'A-Za-z0-9_\n' _)"; }

# Forget every NAT binding (a NAT reboot): nl_flush NATNAME
nl_flush() {
	ip netns exec "$NL_PFX-$1" conntrack -F >/dev/null 2>&1 ||
		nl_die "conntrack -F in $1"
}

# Both UDP conntrack timeouts of a NAT, in seconds: nl_udp_timeout NAT SECS
nl_udp_timeout() {
	_nl_q "$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$2" \
	    net.netfilter.nf_conntrack_udp_timeout_stream="$2"
}

# coturn as a STUN-only server with RFC 5780 (two IPs, alternate port), no
# config file, no database, no CLI, log in LOG:
#   nl_turnserver NAME LOG IP1 IP2 [PORT [ALTPORT]]   (3478, 3479)
# Waits (5 s at most) until the alternate address is bound.
nl_turnserver() {
	_tn=$1 _tl=$2 _t1=$3 _t2=$4 _tp=${5:-3478} _ta=${6:-3479}
	nl_bg "$_tn" "$_tl" turnserver --stun-only -n --no-cli \
	    --log-file=stdout --simple-log --no-tls --no-dtls \
	    --pidfile="$NL_TMP/turnserver-$_tn.pid" \
	    --userdb="$NL_TMP/turndb-$_tn" \
	    --listening-ip="$_t1" --listening-ip="$_t2" \
	    --listening-port="$_tp" --alt-listening-port="$_ta"
	nl_wait 5 nl_udp_bound "$_tn" "$_ta" "$_t2" ||
		nl_die "turnserver in $_tn did not bind $_t2:$_ta (log: $(tail -n 5 "$_tl"))"
}

# Poll a command until it succeeds: nl_wait SECONDS cmd args... (0.1 s steps)
nl_wait() {
	_t=$(($1 * 10)); shift
	while [ "$_t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}

# Is UDP PORT (on ADDR, or any) bound in namespace NAME? nl_udp_bound NAME PORT [ADDR]
nl_udp_bound() {
	ip netns exec "$NL_PFX-$1" ss -Hlun "sport = :$2" 2>/dev/null |
	    grep -q "${3:-.}"
}

# Kill what we started, remove every namespace (and with it every veth) and
# the temp dir. Safe to call twice. Runs the test's NL_CLEANUP_HOOK first.
nl_cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$NL_CLEANUP_HOOK" ] && $NL_CLEANUP_HOOK
	if [ "${NL_KEEP:-0}" = 1 ] && [ -n "$NL_NSLIST" ]; then
		echo "natlab: NL_KEEP=1: kept $NL_NSLIST and $NL_TMP (pids:$NL_PIDS)"
		return $_rc
	fi
	for _p in $NL_PIDS; do kill "$_p" 2>/dev/null; done
	# anything else still running inside our namespaces was started by us
	for _ns in $NL_NSLIST; do
		_pp=$(ip netns pids "$_ns" 2>/dev/null)
		[ -n "$_pp" ] && kill $_pp 2>/dev/null
	done
	_t=20
	while [ $_t -gt 0 ]; do
		_alive=
		for _p in $NL_PIDS; do kill -0 "$_p" 2>/dev/null && _alive=1; done
		for _ns in $NL_NSLIST; do
			[ -n "$(ip netns pids "$_ns" 2>/dev/null)" ] && _alive=1
		done
		[ -z "$_alive" ] && break
		sleep 0.1
		_t=$((_t - 1))
	done
	for _p in $NL_PIDS; do kill -9 "$_p" 2>/dev/null; done
	for _ns in $NL_NSLIST; do
		_pp=$(ip netns pids "$_ns" 2>/dev/null)
		[ -n "$_pp" ] && kill -9 $_pp 2>/dev/null
	done
	for _ns in $NL_NSLIST; do
		ip netns del "$_ns" 2>/dev/null
	done
	NL_NSLIST= NL_PIDS=
	[ -n "$NL_TMP" ] && [ -d "$NL_TMP" ] && rm -rf "$NL_TMP"
	NL_TMP=
	return $_rc
}

# Remove namespaces of earlier runs whose shell (the pid in the name) is gone.
# Only touches names this library makes (atnl-<pid>-<hex>-...).
nl_sweep_stale() {
	ip netns list 2>/dev/null | awk '{print $1}' | while read -r _ns; do
		case $_ns in atnl-probe-*|atnl-[0-9]*-*) ;; *) continue ;; esac
		_pid=$(echo "$_ns" | sed -n 's/^atnl-\(probe-\)\{0,1\}\([0-9]*\).*/\2/p')
		[ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null && continue
		_pp=$(ip netns pids "$_ns" 2>/dev/null)
		[ -n "$_pp" ] && kill -9 $_pp 2>/dev/null
		ip netns del "$_ns" 2>/dev/null && echo "natlab: removed stale $_ns"
	done
}

# A further host behind NAT NAT (added for the punchd tests; nothing above
# changed): nl_nat_host NAT NAME makes namespace PFX-NAME on a LAN segment of
# its own, 192.168.(100+N).0/24 with N the NAT's number (router .1, host .2;
# one extra host per NAT), joined to the NAT by veth "lan2". The NAT routes
# between its LANs without translation (its masquerade is for "wan" only),
# so two hosts behind one NAT reach each other at their private addresses,
# and their traffic to the public side shares the NAT's WAN address.
# nl_lan NAME gives the new host's address.
nl_nat_host() {
	_xn=$1 _xh=$2
	_xw=$(nl_wan "$_xn")
	[ -n "$_xw" ] || nl_die "nl_nat_host: no NAT '$_xn'"
	_xi=$(( ${_xw##*.} - 10 + 100 ))
	_nl_addns "$_xh"
	ip -n "$NL_PFX-$_xn" link add lan2 type veth peer name eth0 \
	    netns "$NL_PFX-$_xh" || nl_die "veth lan2 $_xn"
	_nl_q "$_xn" ip addr add "192.168.$_xi.1/24" dev lan2
	_nl_q "$_xn" ip link set lan2 up
	_nl_q "$_xh" ip addr add "192.168.$_xi.2/24" dev eth0
	_nl_q "$_xh" ip link set eth0 up
	_nl_q "$_xh" ip route add default via "192.168.$_xi.1"
	_xv=$(echo "$_xh" | tr -c 'A-Za-z0-9_\n' _)
	eval "NL_LAN_$_xv=192.168.$_xi.2"
	nl_log "host $_xh behind nat $_xn: 192.168.$_xi.2"
}

# Other hosts' traffic on a NAT (the "load" that makes a sequential NAT's
# ports jump): nl_nat_load NAT RATE makes host NAT-bg behind it (nl_nat_host)
# opening RATE new UDP flows per second to 203.0.113.20 (bash's /dev/udp: a
# fresh socket, so a fresh port, per datagram). Used by the hard-NAT benches.
nl_nat_load() {
	command -v bash >/dev/null 2>&1 || nl_skip "bash missing (the load generator)"
	nl_nat_host "$1" "$1-bg"
	nl_bg "$1-bg" "$NL_TMP/$1-bg.log" bash -c "i=0; while :; do
	    echo x >/dev/udp/203.0.113.20/\$((20000 + i % 1000)); i=\$((i + 1));
	    sleep $(awk -v l="$2" 'BEGIN { printf "%.3f", (l > 0 ? 1 / l : 3600) }'); done"
}

# A NAT that maps per destination with SEQUENTIAL ports (added for issue 13;
# nothing above changed): nl_nat_seq NAME [FIRST [COUNT]] makes nl_nat NAME
# eim, then replaces its UDP masquerade with
#   snat to WAN : numgen inc mod COUNT map { 0 : FIRST, 1 : FIRST+1, ... }
# The nat chain sees only the first packet of each new conntrack flow, so
# every new (source, destination) pair takes the next port, whoever sends
# it: other hosts behind the NAT advance the counter too (the "load" of
# stund/alloc.h). A map, not "numgen ... offset FIRST": nft keeps numgen's
# result in host byte order and the NAT reads the port in network order (on
# x86 the ports then advance by 256). COUNT (default 1000) new flows wrap the
# counter; a wrapped port still in use towards the same destination is a
# conntrack clash and that packet is dropped. Other protocols: masquerade.
# Linux's own allocator is no substitute: `masquerade to :A-B` (with or
# without `persistent`) takes a random port of the range for a socket's first
# flow and reuses it for every other destination (the tuples differ), which
# is endpoint-independent mapping (docs/natlab.md).
nl_nat_seq() {
	_sn=$1 _sf=${2:-40000} _sc=${3:-1000}
	[ "$_sf" -ge 1024 ] && [ "$_sc" -ge 1 ] &&
	    [ $((_sf + _sc)) -le 65536 ] ||
		nl_die "nl_nat_seq: ports $_sf + $_sc outside 1024-65535"
	nl_nat "$_sn" eim
	_sw=$(nl_wan "$_sn")
	_se=$(awk -v f="$_sf" -v c="$_sc" 'BEGIN {
		for (i = 0; i < c; i++)
			printf "%s%d : %d", (i ? ", " : ""), i, f + i }')
	ip netns exec "$NL_PFX-$_sn" nft -f - <<-EOF || nl_die "nft seq in $_sn"
		flush chain ip natlab post
		add rule ip natlab post oifname "wan" meta l4proto udp snat to $_sw : numgen inc mod $_sc map { $_se }
		add rule ip natlab post oifname "wan" masquerade
	EOF
	nl_log "nat $_sn made sequential: UDP ports $_sf-$((_sf + _sc - 1)), the next one per new flow"
}

# coturn's RFC 5780 mapping tests (only: no filtering tests, which wait for
# answers that never come) from host NAME against STUNIP (the server of
# nl_turnserver), output on stdout: nl_natdiscovery NAME STUNIP
nl_natdiscovery() {
	timeout 20 ip netns exec "$NL_PFX-$1" turnutils_natdiscovery -m "$2" 2>&1
}

# The external UDP ports in natdiscovery's output (stdin), one per line, in
# the order of its tests (one socket, several destinations).
nl_mapped_ports() {
	sed -n 's/.*UDP reflexive addr: [0-9.]*:\([0-9]*\).*/\1/p'
}

# A gateway that maps ports on request: Debian's miniupnpd (nftables
# backend; UPnP IGD, NAT-PMP, PCP) in NAT NAME's namespace.
# miniupnpd refuses to map on a WAN address in a reserved range, and every
# lab range is one (RFC 5737), so nl_mu_prepare NAT EXT gives the NAT an
# extra address EXT on "wan" (e.g. 100.128.0.11, just past RFC 6598's
# 100.64/10, unknown to miniupnpd's list), announced as ext_ip, routed to
# the NAT on the public bridge (the lab has no link out: it never leaves),
# and the chains miniupnpd fills (its defaults: table inet "filter",
# chains "miniupnpd", "prerouting_miniupnpd", "postrouting_miniupnpd"),
# hooked as /etc/miniupnpd/nft_init.sh does; forward policy accept, as the
# lab's NATs forward everything already. nl_mu_need skips without it.
nl_mu_need() {
	command -v miniupnpd >/dev/null 2>&1 ||
		nl_skip "miniupnpd not installed (scripts/deps.sh: miniupnpd-nftables)"
}

nl_mu_prepare() {
	NL_MU_EXT=$2
	nl_exec "$1" ip addr add "$2/32" dev wan || nl_die "ext address"
	nl_exec pub ip route add "$2/32" via "$(nl_wan "$1")" || nl_die "route"
	nl_exec "$1" nft -f - <<EOF || nl_die "miniupnpd chains"
table inet filter {
	chain miniupnpd { }
	chain prerouting_miniupnpd { }
	chain postrouting_miniupnpd { }
	chain forward {
		type filter hook forward priority 0; policy accept;
		jump miniupnpd;
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd;
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd;
	}
}
EOF
}

# nl_mu_start NAT NAME "extra config lines": miniupnpd -d in NAT's
# namespace, serving its LAN; sets NL_MU_PID, NL_MU_LOG
nl_mu_start() {
	_mc=$NL_TMP/mu-$2.conf
	_ml=$(nl_lan "$1")
	cat >"$_mc" <<EOF
ext_ifname=wan
ext_ip=$NL_MU_EXT
listening_ip=lan
http_port=0
secure_mode=yes
system_uptime=no
notify_interval=60
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
$3
allow 1024-65535 ${_ml%.*}.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	nl_bg "$1" "$NL_TMP/mu-$2.log" miniupnpd -d -f "$_mc" \
	    -P "$NL_TMP/mu-$2.pid"
	NL_MU_PID=$NL_LASTPID
	NL_MU_LOG=$NL_TMP/mu-$2.log
	nl_wait 5 grep -q 'HTTP listening\|Listening for NAT-PMP' "$NL_MU_LOG" ||
		nl_die "miniupnpd ($2) did not start: $(tail -n 5 "$NL_MU_LOG")"
	sleep 0.3
}

# nl_mu_stop NAT: stop the miniupnpd of NL_MU_PID, empty its chains
nl_mu_stop() {
	[ -n "${NL_MU_PID:-}" ] || return 0
	kill "$NL_MU_PID" 2>/dev/null
	nl_wait 5 sh -c "! kill -0 $NL_MU_PID 2>/dev/null" ||
		kill -9 "$NL_MU_PID" 2>/dev/null
	NL_MU_PID=
	for _ch in miniupnpd prerouting_miniupnpd postrouting_miniupnpd; do
		nl_exec "$1" nft flush chain inet filter "$_ch"
	done
}
