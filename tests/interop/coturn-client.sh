#!/bin/sh
# Interop: stund's STUN client against coturn's STUN server (turnserver
# --stun-only), both on loopback.
#  1. coturn on 127.0.0.1 only (no RFC 5780: one IP): meshctl --json network
#     must report the mapped address 127.0.0.1:PORT, PORT being the port of
#     stund's own socket ("local"), and coturn as the server that answered.
#  2. coturn on 127.0.0.1 + 127.0.0.2 with an alternate port (RFC 5780):
#     stund's NAT behaviour discovery through coturn must find no NAT:
#     endpoint-independent mapping and filtering, "open internet".
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/integ/lib.sh"	# BIN, T, PIDS + cleanup trap, skip, fail, wait_for; jq
need_bin stund meshctl
command -v turnserver >/dev/null 2>&1 || skip "skipped: turnserver missing (Debian package coturn, scripts/deps.sh)"

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# turnserver NAME PORT IP [IP2 ALTPORT]
turnserver_start() {
	n=$1 port=$2 ip=$3; shift 3
	extra="--listening-ip=$ip"
	[ $# -eq 2 ] && extra="$extra --listening-ip=$1 --alt-listening-port=$2"
	turnserver --stun-only -n --no-cli --no-tls --no-dtls \
	    --log-file=stdout --simple-log --pidfile="$T/$n.pid" \
	    --userdb="$T/$n.db" --listening-port="$port" $extra \
	    >"$T/$n.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 udp_bound "$port" "$ip" || fail "turnserver $n did not bind $ip:$port"
	[ $# -eq 2 ] && { wait_for 5 udp_bound "$2" "$1" || fail "turnserver $n did not bind $1:$2"; }
}

# stund_client NAME SERVERS: a stund with only its client role
stund_client() {
	mkdir -p "$T/$1"
	: >"$T/empty.conf"
	RUNTIME_DIRECTORY=$T/$1 "$BIN/stund" -v -f "$T/empty.conf" \
	    -o "stund.servers=$2" -o stund.timeout=3s -o stund.rto=500ms \
	    >"$T/stund-$1.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
	# the socket file appears at bind(), before listen(): wait for an answer
	wait_for 5 stund_up "$T/$1" || fail "stund $1: no answer on its IPC socket"
}

stund_up() {
	"$BIN/meshctl" -S "$1" --json status 2>/dev/null |
	    jq -e '.daemons[] | select(.daemon == "stund") | .up' >/dev/null
}

network() {	# NAME: meshctl --json network into $T/NAME.json, printed
	timeout 25 "$BIN/meshctl" -S "$T/$1" --json network >"$T/$1.json" 2>"$T/$1.err"
	rc=$?
	echo "meshctl --json network ($1), exit $rc:"
	sed 's/^/    /' "$T/$1.json" "$T/$1.err"
	[ $rc -eq 0 ] || fail "meshctl network ($1) exited $rc"
	jq -e . "$T/$1.json" >/dev/null || fail "meshctl output is not JSON"
}
jv() { jq -r "$2" "$T/$1.json"; }

# --- 1. plain Binding against coturn on 127.0.0.1 ------------------------
P1=$(free_port_pair)
echo "== coturn turnserver --stun-only on 127.0.0.1:$P1"
turnserver_start plain "$P1" 127.0.0.1
stund_client c1 "127.0.0.1:$P1"
network c1

pub=$(jv c1 .public) loc=$(jv c1 .local)
case $pub in
127.0.0.1:[0-9]*) ok "public endpoint $pub (coturn's XOR-MAPPED-ADDRESS)" ;;
*) bad "public endpoint '$pub', expected 127.0.0.1:PORT" ;;
esac
case $loc in
*:[0-9]*)
	[ "$pub" = "$loc" ] && ok "mapped port is stund's own socket ($loc)" ||
		bad "public $pub differs from stund's local socket $loc on loopback" ;;
*) bad "no local endpoint reported ('$loc')" ;;
esac
s_ok=$(jv c1 '[.servers[] | select(.server == "127.0.0.1:'"$P1"'" and .ok)] | length')
s_map=$(jv c1 '.servers[0].mapped')
case $s_map in
127.0.0.1:[0-9]*)
	[ "$s_ok" = 1 ] &&
		ok "servers[]: 127.0.0.1:$P1 ok, rtt $(jv c1 '.servers[0].rtt_ms') ms, sees $s_map" ||
		bad "servers[] should list 127.0.0.1:$P1 as ok (ok rows: $s_ok)" ;;
*) bad "servers[0].mapped '$s_map', expected 127.0.0.1:PORT" ;;
esac
# the port coturn saw must be a UDP socket of stund's own (its discovery
# socket), not something made up
if ss -Hanup "sport = :${s_map##*:}" 2>/dev/null | grep -q "pid=$PID_c1,"; then
	ok "port ${s_map##*:} is a socket of stund (pid $PID_c1)"
elif [ "$s_map" = "$pub" ]; then
	ok "servers[0].mapped is the public endpoint"
else
	bad "servers[0].mapped $s_map is no socket of stund's (pid $PID_c1): $(ss -Hanup | grep "pid=$PID_c1," | awk '{print $4}' | tr '\n' ' ')"
fi
[ "$s_map" = "$pub" ] ||
	echo "note: 'public' ($pub, from the NAT test's socket) differs from servers[0].mapped ($s_map, the discovery socket)"
[ "$(jv c1 .behind_nat)" = false ] && ok "behind_nat false" ||
	bad "behind_nat '$(jv c1 .behind_nat)', expected false on loopback"

# one IP, no RFC 5780: meshctl network says why filtering is unknown
timeout 25 "$BIN/meshctl" -S "$T/c1" network >"$T/c1.txt" 2>&1
sed 's/^/    /' "$T/c1.txt"
grep -q '^  filtering:      unknown: no STUN server answered the RFC 5780 tests' "$T/c1.txt" &&
	ok "meshctl network says why filtering is unknown" ||
	bad "meshctl network does not say why filtering is unknown"

# --- 2. RFC 5780 through coturn ------------------------------------------
P2=$(free_port_pair)
while [ "$P2" = "$P1" ]; do P2=$((P2 + 2)); done
echo "== coturn with RFC 5780: 127.0.0.1:$P2 and 127.0.0.2:$((P2 + 1))"
turnserver_start rfc5780 "$P2" 127.0.0.1 127.0.0.2 "$((P2 + 1))"
stund_client c2 "127.0.0.1:$P2"
network c2

o=$(jv c2 '.servers[0].other_address')
[ "$o" = "127.0.0.2:$((P2 + 1))" ] && ok "coturn's OTHER-ADDRESS read: $o" ||
	bad "servers[0].other_address '$o', expected 127.0.0.2:$((P2 + 1))"
m=$(jv c2 .mapping) f=$(jv c2 .filtering) c=$(jv c2 .classic)
[ "$m" = endpoint-independent ] && [ "$f" = endpoint-independent ] &&
    [ "$c" = "open internet" ] &&
	ok "RFC 5780 via coturn: mapping $m, filtering $f, '$c'" ||
	bad "RFC 5780 via coturn: mapping '$m', filtering '$f', classic '$c'; expected endpoint-independent x2, open internet"
case $(jv c2 .public) in
127.0.0.1:[0-9]*) ok "public $(jv c2 .public)" ;;
*) bad "public '$(jv c2 .public)'" ;;
esac

if [ $fails -ne 0 ]; then
	for f in "$T"/stund-*.log; do echo "--- $f"; tail -n 20 "$f"; done
	echo "$fails check(s) failed"
	exit 1
fi
echo "PASS: stund's client reads coturn's answers (plain and RFC 5780)"
