#!/bin/sh
# The mesh interface's data path (punchd/tun.c, punchd/meshaddr.c) through
# tests/tools/tunpipe, before it is wired into punchd: two hosts on the
# lab's public segment each get an atm0 with the addresses meshaddr gives
# them (100.64.0.0/10 and the mesh's fd00::/8 ULA), and tunpipe carries the
# packets between the devices over UDP, sealed as DATA packets under a mesh
# key. Checks: ping over IPv4 and IPv6, an iperf3 TCP transfer, and that a
# packet from a member (right key) with a forged inner source is dropped
# and counted, not delivered; then ping and iperf3 with both hosts behind
# endpoint-independent NATs. (Relayed pairs need punchd's relay transport:
# that test comes with the wiring, docs/mesh-interface.md.)
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
TP=$TOP/$BUILD/tests/tools/tunpipe
. "$TOP/tests/natlab/lib.sh"
[ -x "$TP" ] || nl_skip "tunpipe is not built yet"
for t in iperf3 ping jq; do
	command -v $t >/dev/null 2>&1 || nl_skip "$t missing (scripts/deps.sh)"
done
[ -c /dev/net/tun ] || nl_skip "no /dev/net/tun"
nl_require
nl_init

A_ID=00000000000000a1
B_ID=00000000000000b2
C_ID=00000000000000c3		# a member that forges
nl_public
nl_host a 203.0.113.21
nl_host b 203.0.113.22
nl_host c 203.0.113.23
# the lab turns IPv6 off in its namespaces; devices made from now on get it
for h in a b; do
	nl_exec $h sysctl -qw net.ipv6.conf.default.disable_ipv6=0 ||
		nl_die "$h: enable IPv6"
done

nl_bg a "$NL_TMP/a.log" "$TP" -i atm0 -l 203.0.113.21:7777 \
    -r 203.0.113.22:7777 -s $A_ID -p $B_ID -x $C_ID
PA=$NL_LASTPID
nl_bg b "$NL_TMP/b.log" "$TP" -i atm0 -l 203.0.113.22:7777 \
    -r 203.0.113.21:7777 -s $B_ID -p $A_ID -x $C_ID
PB=$NL_LASTPID
nl_wait 5 grep -q " up " "$NL_TMP/a.log" || { cat "$NL_TMP/a.log"; nl_die "a: tunpipe did not start"; }
nl_wait 5 grep -q " up " "$NL_TMP/b.log" || { cat "$NL_TMP/b.log"; nl_die "b: tunpipe did not start"; }
cat "$NL_TMP/a.log" "$NL_TMP/b.log"
B4=$(awk '/ up /{ print $10; exit }' "$NL_TMP/a.log")
B6=$(awk '/ up /{ print $11; exit }' "$NL_TMP/a.log")
A4=$(awk '/ up /{ print $10; exit }' "$NL_TMP/b.log")
case "$B4" in 100.*) ;; *) nl_die "b's mesh IPv4 address: '$B4'" ;; esac
case "$B6" in fd*) ;; *) nl_die "b's mesh IPv6 address: '$B6'" ;; esac

# the device: mtu, addresses and only the mesh prefixes routed
nl_exec a ip -o link show atm0 | grep -q "mtu 1280" || nl_die "atm0 mtu"
nl_exec a ip -4 route show dev atm0 | grep -q "^100.64.0.0/10" ||
	nl_die "no 100.64.0.0/10 route on atm0"
nl_exec a ip -4 route show dev atm0 | grep -v "^100.64.0.0/10" | grep -q . &&
	nl_die "atm0 has IPv4 routes beyond the mesh prefix: $(nl_exec a ip -4 route show dev atm0)"
nl_exec a ip -6 route show dev atm0 | grep -q "^fd[0-9a-f:]*::/64" ||
	nl_die "no mesh /64 on atm0: $(nl_exec a ip -6 route show dev atm0)"

nl_exec a ping -c 3 -i 0.2 -W 2 "$B4" >"$NL_TMP/ping4" ||
	{ cat "$NL_TMP/ping4"; nl_die "IPv4 ping over atm0"; }
nl_exec a ping -6 -c 3 -i 0.2 -W 2 "$B6" >"$NL_TMP/ping6" ||
	{ cat "$NL_TMP/ping6"; nl_die "IPv6 ping over atm0"; }
tail -n 1 "$NL_TMP/ping4"
tail -n 1 "$NL_TMP/ping6"

nl_bg b "$NL_TMP/iperf-s.log" iperf3 -s -1
nl_wait 5 nl_exec b sh -c "ss -Hltn 'sport = :5201' | grep -q ."
nl_exec a iperf3 -c "$B4" -t 3 -J >"$NL_TMP/iperf.json" ||
	{ cat "$NL_TMP/iperf.json"; nl_die "iperf3 TCP over atm0"; }
bps=$(jq '.end.sum_received.bits_per_second' "$NL_TMP/iperf.json")
echo "iperf3 TCP a -> b over atm0: $bps bit/s"
awk -v b="$bps" 'BEGIN { exit !(b > 1000000) }' ||
	nl_die "iperf3 moved less than 1 Mbit/s"

# c has the mesh key, so its packets pass the AEAD; it claims a's address
kill -USR1 "$PB"
nl_wait 3 grep -q "^tunpipe: tx" "$NL_TMP/b.log"
src0=$(awk '/^tunpipe: tx/ { v = $15 } END { print v + 0 }' "$NL_TMP/b.log")
rx0=$(awk '/^tunpipe: tx/ { v = $5 } END { print v + 0 }' "$NL_TMP/b.log")
nl_exec c "$TP" -F -l 203.0.113.23:7777 -r 203.0.113.22:7777 -s $C_ID \
    -p $B_ID -x $A_ID -n 5 -S "$A4" || nl_die "forger"
# and two from outside the mesh altogether (a second later: each run
# starts its sequence at now << 32, and c's second run in the same second
# would be dropped as a replay, not by the source check)
sleep 1.1
nl_exec c "$TP" -F -l 203.0.113.23:7778 -r 203.0.113.22:7777 -s $C_ID \
    -p $B_ID -x $A_ID -n 2 -S 10.1.2.3 || nl_die "forger"
sleep 0.5
kill -USR1 "$PB"
sleep 0.5
src1=$(awk '/^tunpipe: tx/ { v = $15 } END { print v + 0 }' "$NL_TMP/b.log")
rx1=$(awk '/^tunpipe: tx/ { v = $5 } END { print v + 0 }' "$NL_TMP/b.log")
tail -n 1 "$NL_TMP/b.log"
[ $((src1 - src0)) -eq 7 ] || nl_die "forged sources dropped: $((src1 - src0)), want 7"
[ "$rx1" -eq "$rx0" ] || nl_die "a forged packet reached atm0 ($rx0 -> $rx1)"
# the pipe still works after the forgeries
nl_exec a ping -c 1 -W 2 "$B4" >/dev/null || nl_die "ping after the forgeries"
kill "$PA" "$PB"

# The same pair behind two endpoint-independent NATs: each host sends to
# the other's WAN address and port 7777 (the masquerade keeps it). The
# first packets out open each NAT's mapping (the peer's NAT drops what
# arrives before its own host has sent), so both sides ping at once and
# the path comes up within a few packets: hole punching by the traffic
# itself, as punchd's punch layer does on purpose.
nl_nat n1 eim
nl_nat n2 eim
for h in n1-host n2-host; do
	nl_exec $h sysctl -qw net.ipv6.conf.default.disable_ipv6=0 ||
		nl_die "$h: enable IPv6"
done
nl_bg n1-host "$NL_TMP/n1.log" "$TP" -i atm0 -l "$(nl_lan n1):7777" \
    -r "$(nl_wan n2):7777" -s $A_ID -p $B_ID
nl_bg n2-host "$NL_TMP/n2.log" "$TP" -i atm0 -l "$(nl_lan n2):7777" \
    -r "$(nl_wan n1):7777" -s $B_ID -p $A_ID
PN2=$NL_LASTPID
nl_wait 5 grep -q " up " "$NL_TMP/n1.log" || { cat "$NL_TMP/n1.log"; nl_die "n1: tunpipe did not start"; }
nl_wait 5 grep -q " up " "$NL_TMP/n2.log" || { cat "$NL_TMP/n2.log"; nl_die "n2: tunpipe did not start"; }
nl_exec n1-host ping -c 10 -i 0.2 -W 1 "$B4" >"$NL_TMP/nping1" 2>&1 &
pp=$!
nl_exec n2-host ping -c 10 -i 0.2 -W 1 "$A4" >"$NL_TMP/nping2" 2>&1
wait $pp
nl_exec n1-host ping -c 3 -i 0.2 -W 2 "$B4" >"$NL_TMP/nping3" ||
	{ cat "$NL_TMP/nping1" "$NL_TMP/nping2" "$NL_TMP/nping3"; nl_die "ping over atm0 across two NATs"; }
nl_exec n1-host ping -6 -c 3 -i 0.2 -W 2 "$B6" >"$NL_TMP/nping6" ||
	{ cat "$NL_TMP/nping6"; nl_die "IPv6 ping over atm0 across two NATs"; }
tail -n 1 "$NL_TMP/nping3"
nl_bg n2-host "$NL_TMP/niperf-s.log" iperf3 -s -1
nl_wait 5 nl_exec n2-host sh -c "ss -Hltn 'sport = :5201' | grep -q ."
nl_exec n1-host iperf3 -c "$B4" -t 2 -J >"$NL_TMP/niperf.json" ||
	{ cat "$NL_TMP/niperf.json"; nl_die "iperf3 TCP over atm0 across two NATs"; }
bps=$(jq '.end.sum_received.bits_per_second' "$NL_TMP/niperf.json")
echo "iperf3 TCP across two NATs over atm0: $bps bit/s"
awk -v b="$bps" 'BEGIN { exit !(b > 1000000) }' ||
	nl_die "iperf3 across the NATs moved less than 1 Mbit/s"
kill -USR1 "$PN2"
nl_wait 3 grep -q "^tunpipe: tx" "$NL_TMP/n2.log"
tail -n 1 "$NL_TMP/n2.log"
echo "ok: ping v4/v6, iperf3 TCP, 7 forged sources dropped and counted; ping and iperf3 across two EIM NATs"
