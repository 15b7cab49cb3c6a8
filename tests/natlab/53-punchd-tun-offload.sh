#!/bin/sh
# The mesh interface's offloads (punchd.tun_offload, docs/mesh-interface.md
# "Offloads") between a node that has them and one that does not: the wire
# carries ordinary packets either way, so the two must interoperate, and
# what the offloads cut and merge must arrive byte for byte.
#
# A (tun_offload = yes, the default) behind NAT a, B (tun_offload = no)
# behind NAT b, both endpoint-independent, relayd with access tokens; A
# runs `meshctl init`, B joins. Checks:
#   - 24 MB of random bytes over TCP A -> B on the mesh IPv4 addresses and
#     B -> A on the IPv6 ones (socat), each received whole (sha256 equal);
#   - A read TCP super-packets from atm0 and cut them (tun_super_in) and
#     wrote merged ones (tun_super_out); B, without offloads, did neither;
#     no offload header refused (tun_offload_bad) and nothing the device
#     refused (tun_refused) on either side;
#   - A's atm0 really has TSO on (ethtool -k: tcp-segmentation-offload),
#     B's not; and UDP segmentation offload (tx-udp-segmentation) on A;
#   - UDP: 4000 datagrams A -> B sent 40 at a time with UDP_SEGMENT (A's
#     punchd reads super-datagrams and cuts them: tun_super_in grows by at
#     least 50) and 4000 B -> A sent in bursts of 40 (A merges them:
#     tun_super_out grows); each side receives at least 95 % (UDP may lose
#     under load) and every datagram received is byte for byte the one its
#     number says (tests/tools/udpseg.py).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
for t in socat sha256sum ethtool; do
	command -v $t >/dev/null 2>&1 || nl_skip "$t missing (scripts/deps.sh)"
done
[ -c /dev/net/tun ] || nl_skip "no /dev/net/tun"
nl_require
nl_init

pl_tun_lab
pl_stund A a-host
pl_stund B b-host
pl_mesh_punchd A a-host -o punchd.tun=yes
pl_mesh_punchd B b-host -o punchd.tun=yes -o punchd.tun_offload=no

pl_join_ab
nl_wait 5 sh -c "ip netns exec $(nl_ns a-host) ip -o -6 addr show dev atm0 scope global | grep -q inet6" &&
nl_wait 5 sh -c "ip netns exec $(nl_ns b-host) ip -o -6 addr show dev atm0 scope global | grep -q inet6" ||
	nl_die "atm0 got no address"
A4=$(pl_atm0 a-host 4) A6=$(pl_atm0 a-host 6) B4=$(pl_atm0 b-host 4) B6=$(pl_atm0 b-host 6)
pl_ok "B joined, A <-> B direct; A $A4 $A6, B $B4 $B6"

tso() { nl_exec "$1" ethtool -k atm0 | awk '/^tcp-segmentation-offload:/ { print $2 }'; }
[ "$(tso a-host)" = on ] && [ "$(tso b-host)" = off ] &&
	pl_ok "atm0 TSO: A on, B off" ||
	pl_bad "atm0 TSO: A $(tso a-host), B $(tso b-host)"

# UDP segmentation offload needs Linux 6.2; before it punchd asks TCP
# offloads only (logged) and the UDP checks below test integrity alone
uso=$(nl_exec a-host ethtool -k atm0 | awk '/^tx-udp-segmentation:/ { print $2 }')
kv=$(uname -r | awk -F. '{ print $1 * 100 + $2 }')
if [ "$kv" -ge 602 ]; then
	[ "$uso" = on ] && pl_ok "atm0 on A: UDP segmentation offload on" ||
		pl_bad "atm0 on A: tx-udp-segmentation '$uso' on Linux $(uname -r)"
else
	echo "    Linux $(uname -r): no UDP segmentation offload (6.2+), its counters not checked"
fi

head -c 24000000 /dev/urandom >"$NL_TMP/data" || nl_die "data"
want=$(sha256sum <"$NL_TMP/data" | cut -c1-64)
xfer() { # LABEL FROM-NS TO-NS ADDR FAMILY (4 or 6)
	rm -f "$NL_TMP/got-$1"
	nl_bg "$3" "$NL_TMP/socat-s-$1.log" socat -u \
	    "TCP$5-LISTEN:6000,bind=$4,reuseaddr" "CREATE:$NL_TMP/got-$1"
	nl_wait 5 sh -c "ip netns exec $(nl_ns "$3") ss -Hltn 'sport = :6000' | grep -q ." ||
		nl_die "$1: no listener"
	_t0=$(pl_ms)
	nl_exec "$2" timeout 60 socat -u "OPEN:$NL_TMP/data" "TCP$5:$4:6000" ||
		pl_bad "$1: the sender failed"
	nl_wait 10 sh -c "[ \$(stat -c %s '$NL_TMP/got-$1' 2>/dev/null || echo 0) -ge 24000000 ]"
	_ms=$(( $(pl_ms) - _t0 ))
	_got=$(sha256sum <"$NL_TMP/got-$1" | cut -c1-64)
	[ "$_got" = "$want" ] &&
		pl_ok "$1: 24 MB whole in $_ms ms (sha256 ${want%%????????????????????????????????????????????????????????}...)" ||
		pl_bad "$1: received $(stat -c %s "$NL_TMP/got-$1" 2>/dev/null) bytes, sha256 $_got, want $want"
}
xfer "A -> B over IPv4" a-host b-host "$B4" 4
xfer "B -> A over IPv6" b-host a-host "[$A6]" 6

ctr() { pl_status "$1" ".counters.$2"; }
echo "    A: super_in $(ctr A tun_super_in) super_out $(ctr A tun_super_out) tx $(ctr A tun_tx) rx $(ctr A tun_rx)"
echo "    B: super_in $(ctr B tun_super_in) super_out $(ctr B tun_super_out) tx $(ctr B tun_tx) rx $(ctr B tun_rx)"
[ "$(ctr A tun_super_in)" -gt 0 ] && [ "$(ctr A tun_super_out)" -gt 0 ] &&
	[ "$(ctr B tun_super_in)" -eq 0 ] && [ "$(ctr B tun_super_out)" -eq 0 ] &&
	pl_ok "A cut and merged super-packets, B (tun_offload = no) neither" ||
	pl_bad "super-packets: A in $(ctr A tun_super_in) out $(ctr A tun_super_out), B in $(ctr B tun_super_in) out $(ctr B tun_super_out)"
bad=0
for n in A B; do
	for c in tun_offload_bad tun_refused; do
		[ "$(ctr $n $c)" -eq 0 ] || { bad=1; pl_bad "$n $c $(ctr $n $c)"; }
	done
done
[ $bad -eq 0 ] && pl_ok "no offload header refused, nothing the device refused"

U=$TOP/tests/tools/udpseg.py
udp() { # LABEL FROM-NS TO-NS ADDR MODE
	nl_bg "$3" "$NL_TMP/udp-$1.log" python3 "$U" recv "$4" 6001 1200
	nl_wait 5 grep -q ready "$NL_TMP/udp-$1.log" || nl_die "$1: no receiver"
	nl_exec "$2" python3 "$U" send "$4" 6001 4000 1200 40 "$5" ||
		pl_bad "$1: the sender failed"
	nl_wait 20 grep -q "^got" "$NL_TMP/udp-$1.log"
	set -- "$1" $(awk '/^got/ { print $2, $4 }' "$NL_TMP/udp-$1.log")
	[ "${2:-0}" -ge 3800 ] && [ "${3:-1}" -eq 0 ] &&
		pl_ok "$1: $2 of 4000 datagrams, all intact" ||
		pl_bad "$1: got ${2:-?} of 4000, ${3:-?} not intact"
}
si0=$(ctr A tun_super_in) so0=$(ctr A tun_super_out)
udp "UDP A -> B, UDP_SEGMENT 40 x 1200" a-host b-host "$B4" gso
si1=$(ctr A tun_super_in)
udp "UDP B -> A over IPv6, bursts of 40" b-host a-host "$A6" plain
so1=$(ctr A tun_super_out)
if [ "$kv" -ge 602 ]; then
	[ $((si1 - si0)) -ge 50 ] && [ $((so1 - so0)) -gt 0 ] &&
		pl_ok "A cut $((si1 - si0)) UDP super-datagrams and merged $((so1 - so0)) (tun_super_in/out)" ||
		pl_bad "UDP offload: A tun_super_in +$((si1 - si0)), tun_super_out +$((so1 - so0))"
fi
pl_finish "mesh interface offloads: interop and integrity"
