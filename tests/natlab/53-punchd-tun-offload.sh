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
#     B's not.
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

echo "== lab $NL_PFX: eim a, eim b, relayd with access tokens"
pl_world
nl_nat a eim
nl_nat b eim
for h in a-host b-host; do
	nl_exec $h sysctl -qw net.ipv6.conf.default.disable_ipv6=0 ||
		nl_die "$h: enable IPv6"
done
pl_stund A a-host
pl_stund B b-host
pl_mesh_punchd A a-host -o punchd.tun=yes
pl_mesh_punchd B b-host -o punchd.tun=yes -o punchd.tun_offload=no

pl_m A init home >/dev/null || nl_die "init"
pl_m A invite --no-qr >"$NL_TMP/invite.txt" || nl_die "invite"
code=$(sed -n 3p "$NL_TMP/invite.txt" | tr -d ' ')
pl_m B join --name bob --timeout 1500 "$code" >"$NL_TMP/join-B.txt" 2>&1 ||
	{ cat "$NL_TMP/join-B.txt"; nl_die "B's join failed"; }
IA=$(pl_id A) IB=$(pl_id B)
nl_wait 10 pl_path_is A "$IB" direct && nl_wait 5 pl_path_is B "$IA" direct ||
	nl_die "A <-> B not direct: $(pl_peer A "$IB" .state) / $(pl_peer B "$IA" .state)"
addr() { # NS FAMILY: atm0's address of that family
	nl_exec "$1" ip -o "-$2" addr show dev atm0 scope global |
	    awk '{ sub("/.*", "", $4); print $4; exit }'
}
nl_wait 5 sh -c "ip netns exec $(nl_ns a-host) ip -o -6 addr show dev atm0 scope global | grep -q inet6" &&
nl_wait 5 sh -c "ip netns exec $(nl_ns b-host) ip -o -6 addr show dev atm0 scope global | grep -q inet6" ||
	nl_die "atm0 got no address"
A4=$(addr a-host 4) A6=$(addr a-host 6) B4=$(addr b-host 4) B6=$(addr b-host 6)
pl_ok "B joined, A <-> B direct; A $A4 $A6, B $B4 $B6"

tso() { nl_exec "$1" ethtool -k atm0 | awk '/^tcp-segmentation-offload:/ { print $2 }'; }
[ "$(tso a-host)" = on ] && [ "$(tso b-host)" = off ] &&
	pl_ok "atm0 TSO: A on, B off" ||
	pl_bad "atm0 TSO: A $(tso a-host), B $(tso b-host)"

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
pl_finish "mesh interface offloads: interop and integrity"
