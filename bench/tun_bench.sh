#!/bin/sh
# Mesh interface data path vs the raw underlay, wireguard-go and Nebula, in
# one run on one pair of network namespaces (docs/mesh-interface.md has
# the figures). Two hosts on the NAT lab's public segment (tests/natlab/
# lib.sh); for each tunnel: iperf3 TCP a -> b, iperf3 UDP a -> b twice
# (datagrams that fill the tunnel's MTU: at unlimited rate, what it
# delivers under overload; then at BENCH_UDP_RATE, received Mbit/s and
# loss % at a rate the tunnels may carry), ping RTT and the RTT it adds
# over the underlay's, and the tunnel processes' CPU time (both sides,
# from /proc/PID/stat) per GB received over TCP, and their RSS. Every row carries the 1-minute load average taken just before
# it: the machine is shared, the figures are this run's, not typical ones.
#
#   sh bench/tun_bench.sh            (root; BENCH_TIME=10 seconds per iperf3)
#   TUNNELS="raw punchd tunpipe wg nebula"  picks rows (punchd1416,
#                                    punchd-nooff: tun_offload = no,
#                                    punchd-relay: BENCH_NAT only, the pair
#                                    relayed through relayd (all UDP
#                                    between the NATs dropped; relayd's
#                                    CPU and RSS counted in the row),
#                                    tunpipe1416: MTU 1416; punchd:DIR runs
#                                    DIR/punchd, another build, as row
#                                    "pd-TREE" for DIR = TREE/build/bin)
#   BENCH_UDP_RATE=300M              the fixed-rate UDP phase's rate
#   BENCH_PIN=no                     no CPU pinning (default: host a's
#                                    processes, tunnel and iperf3 client, on
#                                    CPU 0, host b's on CPU 1, as two hosts)
#   BENCH_NAT=eim                    a and b each behind its own NAT
#                                    (nftables masquerade: endpoint-
#                                    independent mapping, address-and-port-
#                                    dependent filtering), as in the NAT
#                                    lab's tests: punchd finds its public
#                                    endpoint with stund and the lab's STUN
#                                    server and joins through relayd (with
#                                    tokens; the pair then punches), Nebula through a lighthouse on
#                                    the public segment with punching on,
#                                    wireguard-go with each NAT's public
#                                    address and a 1 s keep-alive from both
#                                    sides; the underlay row reaches b
#                                    through a port forward on b's NAT.
#                                    tunpipe rows are skipped (no NAT
#                                    traversal of its own).
#
# punchd is the real thing: two punchd with tun = yes, a mesh made with
# meshctl init / invite / join (node keys, so IP packets travel under the
# pair's end-to-end session key), the pair direct on the public segment.
#
# tunpipe is tests/tools/tunpipe: punchd/tun.c + punchd/meshaddr.c +
# proto/packet.c (XChaCha20-Poly1305) in one thread per side, poll(2),
# recvmmsg/sendmmsg batches of 64; the data path punchd will run, without
# punchd's path and session layers.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
TP=$TOP/$BUILD/tests/tools/tunpipe
T=${BENCH_TIME:-10}
RATE=${BENCH_UDP_RATE:-300M}
TUNNELS=${TUNNELS:-raw punchd tunpipe wg nebula}
BIN=$TOP/$BUILD/bin
PD_EXTRA= PD_RELAY= PD_CUT=
# pinning: host a on CPU 0, host b on CPU 1 (BENCH_PIN=no: none)
if [ "${BENCH_PIN:-yes}" = yes ] && command -v taskset >/dev/null; then
	PA="taskset -c 0" PB="taskset -c 1"
else
	PA= PB=
fi
. "$TOP/tests/natlab/lib.sh"
[ -x "$TP" ] || nl_skip "tunpipe is not built (make)"
for t in iperf3 ping jq; do
	command -v $t >/dev/null 2>&1 || nl_skip "$t missing (scripts/deps.sh)"
done
nl_require
nl_init
HZ=$(getconf CLK_TCK)

NAT=${BENCH_NAT:-no}
: >"$NL_TMP/empty.conf"
case $NAT in
no)
	nl_public
	nl_host a 203.0.113.21
	nl_host b 203.0.113.22
	HA=a HB=b
	ADDR_A=203.0.113.21 ADDR_B=203.0.113.22	# bound locally
	PUB_A=$ADDR_A PUB_B=$ADDR_B		# reached from the other side
	;;
eim)
	# the lab's STUN server (punchd's public endpoint through stund) and
	# relayd with tokens (the join's rendezvous: the inviter's NAT drops
	# a HELLO from an address it never sent to)
	. "$TOP/tests/natlab/punchd.inc"
	pl_world
	nl_host lh 203.0.113.40		# Nebula's lighthouse
	nl_nat a eim
	nl_nat b eim
	HA=a-host HB=b-host
	ADDR_A=$(nl_lan a) ADDR_B=$(nl_lan b)
	PUB_A=$(nl_wan a) PUB_B=$(nl_wan b)
	# the underlay row: iperf3 and ping to b's NAT, forwarded to b
	ip netns exec "$(nl_ns b)" nft -f - <<-EOF || nl_die "port forward"
		table ip benchfwd {
			chain pre {
				type nat hook prerouting priority dstnat;
				iifname "wan" tcp dport 5201 dnat to $ADDR_B
				iifname "wan" udp dport 5201 dnat to $ADDR_B
				iifname "wan" icmp type echo-request dnat to $ADDR_B
			}
		}
	EOF
	;;
*)	nl_die "BENCH_NAT: no or eim, not '$NAT'" ;;
esac
for h in $HA $HB; do
	nl_exec $h sysctl -qw net.ipv6.conf.default.disable_ipv6=0
done
nl_bg $HB "$NL_TMP/iperf-s.log" $PB iperf3 -s
nl_wait 5 nl_exec $HB sh -c "ss -Hltn 'sport = :5201' | grep -q ."

# CPU ticks (user + system) of the given pids, summed
cpu() {
	for p in "$@"; do cat /proc/"$p"/stat; done |
	    awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }'
}
cpusys() {
	for p in "$@"; do cat /proc/"$p"/stat; done |
	    awk '{ sub(/^.*\) /, ""); s += $13 } END { print s + 0 }'
}
rss() {
	for p in "$@"; do grep VmRSS /proc/"$p"/status; done |
	    awk '{ s += $2 } END { print s + 0 }'
}

printf '%-12s %5s %9s %9s %5s %9s %8s %9s %8s %7s %8s %7s  %s\n' tunnel mtu \
    tcp_Mbit cpu_s/GB sys% udp_Mbit udp_loss "udp@$RATE" loss@ rtt_ms \
    added_ms rss_kB load1

# udp NAME DST MTU RATE: iperf3 UDP, "received-Mbit/s loss-%" (iperf3 3.12
# has no sum_received for UDP: the sender's rate less what was lost)
udp() {
	nl_exec $HA $PA iperf3 -c "$2" -u -b "$4" -l $(($3 - 28)) -t "$T" -J \
	    >"$NL_TMP/$1-udp$4.json" 2>"$NL_TMP/$1-udp$4.err" ||
		{ echo "$1: iperf3 UDP at $4 failed" >&2; echo "- -"; return 1; }
	jq -r '((.end.sum_received.bits_per_second //
	    (.end.sum.bits_per_second * (1 - .end.sum.lost_percent / 100))) / 1e6
	    | tostring) + " " + (.end.sum.lost_percent | tostring)' \
	    "$NL_TMP/$1-udp$4.json"
}

# rtt DST: the median of 100 pings 10 ms apart, in ms (a median, not
# ping's average: one scheduling stall on a shared machine moves an
# average of 50 by more than the tunnels differ)
rtt() {
	nl_exec $HA ping -c 100 -i 0.01 "$1" |
	    awk '/time=/ { sub(/.*time=/, ""); print $1 }' | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", v[int((NR + 1) / 2)] }'
}

# row NAME DST MTU PIDS...: one line of figures
row() {
	_name=$1 _dst=$2 _mtu=$3; shift 3
	_load=$(cut -d' ' -f1 /proc/loadavg)
	_c0=$(cpu "$@") _s0=$(cpusys "$@")
	nl_exec $HA $PA iperf3 -c "$_dst" -t "$T" -J >"$NL_TMP/$_name-tcp.json" 2>"$NL_TMP/$_name-tcp.err" ||
		{ echo "$_name: iperf3 TCP failed"; return 1; }
	_c1=$(cpu "$@") _s1=$(cpusys "$@")
	_sys=$(awk -v c=$((_c1 - _c0)) -v s=$((_s1 - _s0)) \
	    'BEGIN { if (c == 0) print "-"; else printf "%.0f", 100 * s / c }')
	_bytes=$(jq '.end.sum_received.bytes' "$NL_TMP/$_name-tcp.json")
	_tcp=$(jq '.end.sum_received.bits_per_second / 1e6' "$NL_TMP/$_name-tcp.json")
	_cpugb=$(awk -v c=$((_c1 - _c0)) -v hz="$HZ" -v b="$_bytes" -v n="$#" \
	    'BEGIN { if (n == 0) print "-"; else printf "%.2f", c / hz / (b / 1e9) }')
	set -- $(udp "$_name" "$_dst" "$_mtu" 0) $(udp "$_name" "$_dst" "$_mtu" "$RATE") "$@"
	_udp=$1 _loss=$2 _udpr=$3 _lossr=$4
	shift 4
	sleep 1	# let the UDP flood's queues drain before timing pings
	_rtt=$(rtt "$_dst")
	_add=$(awk -v r="$_rtt" -v u="$RAW_RTT" 'BEGIN { printf "%.3f", r - u }')
	printf '%-12s %5s %9.0f %9s %5s %9.0f %8.1f %9.0f %8.1f %7s %8s %7s  %s\n' \
	    "$_name" "$_mtu" "$_tcp" "$_cpugb" "$_sys" "$_udp" "$_loss" "$_udpr" \
	    "$_lossr" "$_rtt" "$_add" \
	    "$(if [ $# -gt 0 ]; then rss "$@"; else echo -; fi)" "$_load"
}

run_tunpipe() {	# NAME MTU
	[ "$NAT" = no ] || { echo "tunpipe: no NAT traversal, skipped"; return 0; }
	nl_bg a "$NL_TMP/tp-a.log" $PA "$TP" -i tp0 -m "$2" -l 203.0.113.21:7777 \
	    -r 203.0.113.22:7777 -s 00000000000000a1 -p 00000000000000b2
	_pa=$NL_LASTPID
	nl_bg b "$NL_TMP/tp-b.log" $PB "$TP" -i tp0 -m "$2" -l 203.0.113.22:7777 \
	    -r 203.0.113.21:7777 -s 00000000000000b2 -p 00000000000000a1
	_pb=$NL_LASTPID
	nl_wait 5 grep -q " up " "$NL_TMP/tp-b.log" || { cat "$NL_TMP/tp-b.log"; return 1; }
	nl_wait 5 grep -q " up " "$NL_TMP/tp-a.log" || { cat "$NL_TMP/tp-a.log"; return 1; }
	_dst=$(awk '/ up /{ print $10; exit }' "$NL_TMP/tp-a.log")
	row "$1" "$_dst" "$2" $_pa $_pb
	kill $_pa $_pb; wait $_pa $_pb 2>/dev/null
}

run_punchd() {	# NAME MTU [DIR of the punchd binary]
	_pdbin=${3:-$BIN}/punchd
	[ -x "$_pdbin" ] && [ -x "$BIN/meshctl" ] ||
		{ echo "punchd: not built (make)"; return 0; }
	for h in a b; do
		rm -rf "$NL_TMP/pd-$h"
		mkdir -p "$NL_TMP/pd-$h"
		eval "_pin=\$P$(echo $h | tr ab AB) _ns=\$H$(echo $h | tr ab AB)"
		if [ "$NAT" != no ]; then	# its public endpoint: stund
			nl_bg $_ns "$NL_TMP/pd-stund-$h.log" env \
			    RUNTIME_DIRECTORY="$NL_TMP/pd-$h" "$BIN/stund" \
			    -f "$NL_TMP/empty.conf" -o stund.timeout=2s \
			    -o stund.servers=203.0.113.10:3478 -o stund.nat_refresh=0
			eval "_s$h=\$NL_LASTPID"
			PD_RELAY="-o punchd.relay_url=ws://203.0.113.30:8080
			    -o punchd.relay_token=$PL_RELAY_TOKEN"
		fi
		nl_bg $_ns "$NL_TMP/pd-$h.log" $_pin env RUNTIME_DIRECTORY="$NL_TMP/pd-$h" \
		    STATE_DIRECTORY="$NL_TMP/pd-$h" "$_pdbin" -f "$NL_TMP/empty.conf" \
		    -p 7777 -o punchd.portmap=no -o punchd.stun_refresh=0 \
		    -o punchd.tun=yes -o punchd.tun_name=pd0 -o punchd.tun_mtu="$2" \
		    $PD_EXTRA $PD_RELAY
		eval "_p$h=\$NL_LASTPID"
		nl_wait 5 test -S "$NL_TMP/pd-$h/punchd.sock" ||
			{ cat "$NL_TMP/pd-$h.log"; return 1; }
		[ "$NAT" = no ] || nl_wait 10 sh -c "'$BIN/meshctl' -S '$NL_TMP/pd-$h' --json status |
		    jq -e '.daemons[] | select(.daemon == \"punchd\") | .status.public != null'" >/dev/null ||
			{ echo "punchd $h: no public endpoint"; return 1; }
	done
	"$BIN/meshctl" -S "$NL_TMP/pd-a" init bench >/dev/null &&
	    _code=$("$BIN/meshctl" -S "$NL_TMP/pd-a" invite --no-qr | sed -n 3p | tr -d ' ') &&
	    "$BIN/meshctl" -S "$NL_TMP/pd-b" join --timeout 3000 "$_code" >"$NL_TMP/pd-join" 2>&1 ||
		{ echo "punchd: join failed: $(cat "$NL_TMP/pd-join")"; return 1; }
	nl_wait 5 sh -c "ip netns exec $(nl_ns $HB) ip -o -4 addr show dev pd0 | grep -q inet" ||
		{ echo "punchd: pd0 has no address"; return 1; }
	_dst=$(nl_exec $HB ip -o -4 addr show dev pd0 | awk '{ sub("/.*", "", $4); print $4 }')
	nl_wait 5 nl_exec $HA ping -c 1 -W 1 "$_dst" >/dev/null || { echo "punchd: no ping"; return 1; }
	_path=$("$BIN/meshctl" -S "$NL_TMP/pd-a" --json peers | jq -r '.[0].path')
	[ "$_path" = direct ] || echo "punchd: the pair is $_path, not direct" >&2
	_rly=
	if [ -n "$PD_CUT" ]; then
		# all UDP between the two NATs dropped: the pair goes relayed
		ip netns exec "$(nl_ns a)" nft -f - <<-EOF || return 1
			table ip benchcut {
				chain between {
					type filter hook forward priority filter - 10;
					ip daddr $PUB_B meta l4proto udp drop
					ip saddr $PUB_B meta l4proto udp drop
				}
			}
		EOF
		nl_wait 90 sh -c "'$BIN/meshctl' -S '$NL_TMP/pd-a' --json peers |
		    jq -e '.[0].path == \"relay\"'" >/dev/null ||
			{ echo "punchd: not relayed 90 s after the cut"; return 1; }
		_rly=$PL_RELAYD_PID	# its CPU and RSS count in this row
	fi
	row "$1" "$_dst" "$2" $_pa $_pb $_rly
	[ -z "$PD_CUT" ] || ip netns exec "$(nl_ns a)" nft delete table ip benchcut
	kill $_pa $_pb ${_sa:-} ${_sb:-}; wait $_pa $_pb ${_sa:-} ${_sb:-} 2>/dev/null
	_sa= _sb=
}

run_wg() {
	command -v wireguard-go >/dev/null && command -v wg >/dev/null ||
		{ echo "wg: wireguard-go or wg missing (apt-get install wireguard-go wireguard-tools)"; return 0; }
	for h in a b; do
		(umask 077; wg genkey >"$NL_TMP/wg-$h.key")
		wg pubkey <"$NL_TMP/wg-$h.key" >"$NL_TMP/wg-$h.pub"
		eval "_pin=\$P$(echo $h | tr ab AB) _ns=\$H$(echo $h | tr ab AB)"
		nl_bg $_ns "$NL_TMP/wg-$h.log" $_pin env \
		    WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		    wireguard-go -f wg$h
		eval "_p$h=\$NL_LASTPID"
	done
	# one name per side: wg's control sockets (/var/run/wireguard/NAME.sock)
	# are not per namespace
	nl_wait 5 nl_exec $HA ip link show wga && nl_wait 5 nl_exec $HB ip link show wgb ||
		{ cat "$NL_TMP/wg-a.log"; return 1; }
	# behind NATs both sides keep sending, so each opens its own NAT
	_ka=
	[ "$NAT" = no ] || _ka="persistent-keepalive 1"
	nl_exec $HA wg set wga private-key "$NL_TMP/wg-a.key" listen-port 51820 \
	    peer "$(cat "$NL_TMP/wg-b.pub")" allowed-ips 10.200.0.2/32 \
	    endpoint $PUB_B:51820 $_ka
	nl_exec $HB wg set wgb private-key "$NL_TMP/wg-b.key" listen-port 51820 \
	    peer "$(cat "$NL_TMP/wg-a.pub")" allowed-ips 10.200.0.1/32 \
	    endpoint $PUB_A:51820 $_ka
	nl_exec $HA ip addr add 10.200.0.1/24 dev wga
	nl_exec $HB ip addr add 10.200.0.2/24 dev wgb
	nl_exec $HA ip link set wga mtu 1420 up
	nl_exec $HB ip link set wgb mtu 1420 up
	nl_wait 10 nl_exec $HA ping -c 1 -W 1 10.200.0.2 || { echo "wg: no ping"; return 1; }
	row wireguard-go 10.200.0.2 1420 $_pa $_pb
	kill $_pa $_pb; wait $_pa $_pb 2>/dev/null
}

run_nebula() {
	command -v nebula >/dev/null && command -v nebula-cert >/dev/null ||
		{ echo "nebula: missing (apt-get install nebula)"; return 0; }
	_d=$NL_TMP/nebula
	rm -rf "$_d"	# a row may come twice: a new CA each time
	mkdir -p "$_d"
	(cd "$_d" && nebula-cert ca -name lab &&
	    nebula-cert sign -name a -ip 10.201.0.1/24 &&
	    nebula-cert sign -name b -ip 10.201.0.2/24 &&
	    nebula-cert sign -name lh -ip 10.201.0.3/24) >/dev/null ||
		{ echo "nebula: nebula-cert failed"; return 1; }
	_nh="a b" _lhp=
	[ "$NAT" = no ] || _nh="lh a b"
	for h in $_nh; do
		if [ "$NAT" = no ]; then
			# a is b's lighthouse; both addresses known
			if [ $h = a ]; then lh=true; hosts='[]'; else lh=false; hosts='["10.201.0.1"]'; fi
			map='"10.201.0.1": ["203.0.113.21:4242"], "10.201.0.2": ["203.0.113.22:4242"]'
			punch=false
		else
			# a lighthouse on the public segment tells each the
			# other's public address; both punch
			if [ $h = lh ]; then lh=true; hosts='[]'; else lh=false; hosts='["10.201.0.3"]'; fi
			map='"10.201.0.3": ["203.0.113.40:4242"]'
			punch=true
		fi
		cat >"$_d/$h.yml" <<EOF
pki: { ca: $_d/ca.crt, cert: $_d/$h.crt, key: $_d/$h.key }
static_host_map: { $map }
lighthouse: { am_lighthouse: $lh, interval: 60, hosts: $hosts }
listen: { host: 0.0.0.0, port: 4242 }
punchy: { punch: $punch, respond: $punch }
tun: { dev: nebula1, mtu: 1300 }
logging: { level: warning }
firewall:
  outbound: [ { port: any, proto: any, host: any } ]
  inbound: [ { port: any, proto: any, host: any } ]
EOF
		if [ $h = lh ]; then
			nl_bg lh "$_d/lh.log" nebula -config "$_d/lh.yml"
			_lhp=$NL_LASTPID
			continue
		fi
		eval "_pin=\$P$(echo $h | tr ab AB) _ns=\$H$(echo $h | tr ab AB)"
		nl_bg $_ns "$_d/$h.log" $_pin nebula -config "$_d/$h.yml"
		eval "_p$h=\$NL_LASTPID"
	done
	nl_wait 15 nl_exec $HA ping -c 1 -W 1 10.201.0.2 ||
		{ echo "nebula: no ping"; cat "$_d/a.log" "$_d/b.log"; return 1; }
	row nebula 10.201.0.2 1300 $_pa $_pb
	kill $_pa $_pb $_lhp; wait $_pa $_pb $_lhp 2>/dev/null
}

# the underlay's RTT, the base of added_ms whatever the order of the rows
RAW_RTT=$(rtt $PUB_B)
for t in $TUNNELS; do
	case $t in
	raw)		row underlay $PUB_B 1500 ;;
	punchd)		run_punchd punchd 1280 ;;
	punchd1416)	run_punchd punchd 1416 ;;
	punchd-nooff)	PD_EXTRA="-o punchd.tun_offload=no"
			run_punchd punchd-nooff 1280
			PD_EXTRA= ;;
	punchd-relay)	[ "$NAT" != no ] ||
				{ echo "punchd-relay: BENCH_NAT=eim only"; continue; }
			PD_CUT=1 PD_EXTRA="-o punchd.keepalive_interval=1s
			    -o punchd.warn_after=2 -o punchd.dead_after=3"
			run_punchd punchd-relay 1280
			PD_CUT= PD_EXTRA= ;;
	punchd:*)	_d=${t#punchd:}	# TREE/build/bin: row "pd-TREE"
			run_punchd "pd-$(basename "$(cd "$_d/../.." && pwd)")" 1280 "$_d" ;;
	tunpipe)	run_tunpipe tunpipe 1280 ;;
	tunpipe1416)	run_tunpipe tunpipe 1416 ;;
	wg)		run_wg ;;
	nebula)		run_nebula ;;
	esac
done
echo "cpu_s/GB: CPU seconds of both tunnel processes per GB received over TCP; sys%: kernel share"
echo "udp_Mbit/udp_loss: iperf3 UDP at unlimited rate (received, loss %); udp@$RATE/loss@: the same at $RATE"
echo "rtt_ms: median of 100 pings; added_ms: minus the underlay's in this run; load1 before the row"
echo "$(nproc) cores; $(uname -r); pinning: ${PA:-none} (a) / ${PB:-none} (b); NAT: $NAT"
