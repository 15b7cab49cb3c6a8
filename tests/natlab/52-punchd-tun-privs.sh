#!/bin/sh
# The mesh interface's privilege model (systemd/punchd-tun.conf,
# docs/mesh-interface.md "Privileges"): punchd as an unprivileged user
# (nobody) holding CAP_NET_ADMIN only, ambient and in its bounding set, as
# the drop-in gives it, in a namespace of its own. Checks:
#   - with tun = yes it starts and creates atm0 while in no mesh, keeping
#     the capability (the addresses need the mesh id);
#   - `meshctl init`: atm0 gets the node's addresses and comes up, and
#     CAP_NET_ADMIN is gone from every set (CapEff, CapPrm, CapInh, CapAmb
#     all zero), the device still reads and writes: a ping to an address
#     of the mesh no member owns is read from atm0 and counted
#     (tun_noroute);
#   - IPv6 off for new links: the device comes up with IPv4 only, said;
#   - without the capability, tun = yes fails at start with a clear error
#     (exit 1) instead of running without the interface;
#   - tun = no (default) needs nothing and creates no device.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
command -v setpriv >/dev/null 2>&1 || nl_skip "setpriv missing (util-linux)"
[ -c /dev/net/tun ] || nl_skip "no /dev/net/tun"
nl_require
nl_init
nl_public
nl_host a 203.0.113.21
nl_exec a sysctl -qw net.ipv6.conf.default.disable_ipv6=0 || nl_die "IPv6"
: >"$NL_TMP/empty.conf"
chmod 0755 "$NL_TMP"
asnobody() { # DIR CAPS ARGS...: punchd as nobody with CAPS (e.g. +net_admin);
	# execs it: call it in a subshell
	_d=$1 _c=$2; shift 2
	mkdir -p "$NL_TMP/$_d" && chown 65534:65534 "$NL_TMP/$_d" && chmod 0700 "$NL_TMP/$_d"
	exec ip netns exec "$(nl_ns a)" setpriv --reuid=65534 --regid=65534 \
	    --clear-groups --inh-caps=-all${_c:+,$_c} \
	    --ambient-caps=-all${_c:+,$_c} --bounding-set=-all${_c:+,$_c} -- \
	    env RUNTIME_DIRECTORY="$NL_TMP/$_d" STATE_DIRECTORY="$NL_TMP/$_d" \
	    "$BIN/punchd" -v -f "$NL_TMP/empty.conf" -p 7777 \
	    -o punchd.portmap=no -o punchd.stun_refresh=0 "$@"
}
caps() { awk '/^Cap(Inh|Prm|Eff|Amb)/ { printf "%s%s ", $1, $2 }' "/proc/$1/status"; }
up() { "$TOP/$BUILD/tests/tools/ipccall" "$NL_TMP/$1/punchd.sock" status.get "{}" >/dev/null 2>&1; }

echo "== nobody with ambient CAP_NET_ADMIN, tun = yes"
(asnobody A +net_admin -o punchd.tun=yes) >"$NL_TMP/A.log" 2>&1 &
PA=$!
nl_track $PA
nl_wait 5 up A || nl_die "punchd did not start: $(tail -n 5 "$NL_TMP/A.log")"
[ "$(awk '/^Uid/ { print $2 }' /proc/$PA/status)" = 65534 ] || nl_die "not nobody"
nl_exec a ip -o link show atm0 >/dev/null 2>&1 &&
	caps $PA | grep -q "CapEff:0000000000001000" &&
	pl_ok "in no mesh: atm0 created, the capability kept ($(caps $PA))" ||
	pl_bad "before the mesh: $(caps $PA) $(nl_exec a ip -o link show atm0 2>&1)"
pl_m A init home >/dev/null || nl_die "meshctl init"
nl_wait 5 sh -c "ip netns exec $(nl_ns a) ip -o -4 addr show dev atm0 | grep -q 'inet 100\.'" &&
	nl_exec a ip -o link show atm0 | grep -q "UP" &&
	pl_ok "after init: $(nl_exec a ip -o -4 addr show dev atm0 | awk '{ print $4 }'), link up" ||
	pl_bad "atm0 after init: $(nl_exec a ip -o addr show dev atm0 2>&1) $(tail -n 3 "$NL_TMP/A.log")"
[ "$(caps $PA)" = "CapInh:0000000000000000 CapPrm:0000000000000000 CapEff:0000000000000000 CapAmb:0000000000000000 " ] &&
	pl_ok "CAP_NET_ADMIN dropped from every set" || pl_bad "capabilities left: $(caps $PA)"
# an address of the mesh no member owns: read from atm0, dropped, counted
n0=$(pl_status A .counters.tun_noroute)
nl_exec a ping -c 2 -i 0.2 -W 1 100.127.1.1 >/dev/null 2>&1
n1=$(pl_status A .counters.tun_noroute)
[ $((n1 - n0)) -eq 2 ] && pl_ok "the device still works: 2 packets to no member counted (tun_noroute)" ||
	pl_bad "tun_noroute $n0 -> $n1"
kill $PA
wait $PA 2>/dev/null
# a sanitizer build (BUILD=build-asan) reports leaks and errors at exit
grep -q "Sanitizer" "$NL_TMP/A.log" &&
	pl_bad "sanitizer report: $(grep -m3 -A5 Sanitizer "$NL_TMP/A.log")"

echo "== IPv6 off for new links: atm0 with IPv4 only"
nl_exec a sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || nl_die "IPv6 off"
(asnobody D +net_admin -o punchd.tun=yes) >"$NL_TMP/D.log" 2>&1 &
PD=$!
nl_track $PD
nl_wait 5 up D || nl_die "punchd D did not start: $(tail -n 5 "$NL_TMP/D.log")"
pl_m D init v4only >/dev/null || nl_die "meshctl init D"
nl_wait 5 sh -c "ip netns exec $(nl_ns a) ip -o -4 addr show dev atm0 | grep -q 'inet 100\.'" &&
	! nl_exec a ip -o -6 addr show dev atm0 scope global | grep -q inet6 &&
	grep -q "IPv4 only" "$NL_TMP/D.log" &&
	pl_ok "IPv4 only, said: $(grep -m1 'IPv4 only' "$NL_TMP/D.log")" ||
	pl_bad "IPv6 off: $(nl_exec a ip -o addr show dev atm0 2>&1) $(tail -n 3 "$NL_TMP/D.log")"
kill $PD
wait $PD 2>/dev/null
nl_exec a sysctl -qw net.ipv6.conf.default.disable_ipv6=0

echo "== nobody without the capability, tun = yes"
(asnobody B "" -o punchd.tun=yes) >"$NL_TMP/B.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "tun = yes: cannot create atm0" "$NL_TMP/B.log" &&
	pl_ok "refused to start (exit $rc): $(grep -m1 'tun = yes' "$NL_TMP/B.log" | sed 's/.*tun = yes/tun = yes/')" ||
	pl_bad "exit $rc: $(tail -n 3 "$NL_TMP/B.log")"

echo "== nobody without the capability, tun = no"
(asnobody C "") >"$NL_TMP/C.log" 2>&1 &
PC=$!
nl_track $PC
nl_wait 5 up C && [ -z "$(nl_exec a ip -o link show type tun)" ] &&
	pl_ok "runs without privilege and makes no device" ||
	pl_bad "tun = no: $(tail -n 3 "$NL_TMP/C.log")"
kill $PC
pl_finish "the mesh interface's privileges: capability at start, dropped after set-up"
