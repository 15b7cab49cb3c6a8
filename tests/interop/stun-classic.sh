#!/bin/sh
# Interop: an RFC 3489 ("classic") STUN client against stund's server mode.
# Debian's `stun` (package stun-client, Vovida's client 0.97) sends Binding
# requests without the magic cookie and runs the RFC 3489 NAT type tests
# (CHANGE-REQUEST ip/port, CHANGED-ADDRESS). RFC 8489 section 11 asks a
# server to answer such clients with MAPPED-ADDRESS; before stund did, the
# client reported "Blocked". On loopback, with stund serving RFC 5780 on
# 127.0.0.1 + 127.0.0.2, the client must report an open host (exit value
# 0x000001, "Primary: Open"), and stund's counters must show the classic
# requests. A classic request with RESPONSE-ADDRESS is answered 420 to its
# source, never sent to the address it names.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/integ/lib.sh"	# BIN, T, PIDS + cleanup trap, skip, wait_for
need_bin stund
command -v stun >/dev/null 2>&1 || skip "skipped: stun missing (Debian package stun-client, scripts/deps.sh)"

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

P=$(free_port_pair) A=$((P + 1))
mkdir -p "$T/run"
: >"$T/empty.conf"
RUNTIME_DIRECTORY=$T/run "$BIN/stund" -v -f "$T/empty.conf" \
    -o stund.server=yes -o stund.servers=none \
    -o "stund.listen=127.0.0.1:$P" -o stund.alt_ip=127.0.0.2 \
    -o "stund.alt_port=$A" >"$T/stund.log" 2>&1 &
PIDS="$PIDS $!"
for s in 127.0.0.1:$P 127.0.0.1:$A 127.0.0.2:$P 127.0.0.2:$A; do
	wait_for 5 udp_bound "${s#*:}" "${s%:*}" || fail "stund did not bind $s"
done

echo "== stun 127.0.0.1:$P (RFC 3489 client, NAT type tests)"
timeout 20 stun "127.0.0.1:$P" -v >"$T/stun.txt" 2>&1
rc=$?
grep -E 'MappedAddress|ChangedAddress|SourceAddress|^test|Primary|Return' "$T/stun.txt" | sed 's/^/    /'
# the client's exit status is its verdict bit mask: 1 = open, 0x1c = blocked
[ $rc -eq 1 ] && ok "stun exited 1 (open host)" || bad "stun exited $rc, expected 1"
grep -q '^Primary: Open' "$T/stun.txt" && ok "verdict: Primary: Open" ||
	bad "verdict: '$(grep '^Primary' "$T/stun.txt")'"
grep -q "ChangedAddress = 127.0.0.2:$A" "$T/stun.txt" &&
	ok "CHANGED-ADDRESS 127.0.0.2:$A" || bad "no CHANGED-ADDRESS 127.0.0.2:$A"
grep -q 'test II = 1' "$T/stun.txt" &&
	ok "test II (CHANGE-REQUEST ip+port) answered from the other address" ||
	bad "test II not answered"

echo "== RESPONSE-ADDRESS is answered 420 to the source"
# a classic Binding request with RESPONSE-ADDRESS 127.0.0.1:9 (discard):
# type 0x0001, length 12, 16-byte id, attribute 0x0002 len 8 family 1
req='\000\001\000\014ABCDEFGHIJKLMNOP\000\002\000\010\000\001\000\011\177\000\000\001'
ans=$(printf "$req" | timeout 5 socat -t 2 - "UDP4:127.0.0.1:$P" | od -An -tx1 | tr -d ' \n')
# 0x0111 Binding Error Response, its 128-bit id, ERROR-CODE 4 20,
# UNKNOWN-ATTRIBUTES (0x000A, length 2) listing 0x0002
case $ans in
0111????4142434445464748494a4b4c4d4e4f500009????00000414*000a00020002*)
	ok "420 with UNKNOWN-ATTRIBUTES 0x0002 and the request's 128-bit id" ;;
*)	bad "answer to RESPONSE-ADDRESS: '$ans'" ;;
esac

if [ -x "$BIN/meshctl" ]; then
	timeout 10 "$BIN/meshctl" -S "$T/run" --json status >"$T/st.json" 2>&1
	n=$(jq '[.daemons[] | select(.daemon == "stund") | .status.counters.server_classic][0] // empty' "$T/st.json")
	mal=$(jq '[.daemons[] | select(.daemon == "stund") | .status.counters.server_malformed][0] // empty' "$T/st.json")
	[ -n "$n" ] && [ "$n" -ge 5 ] && [ "$mal" = 0 ] &&
		ok "stund counted $n classic requests, $mal malformed" ||
		bad "counters: server_classic '$n', server_malformed '$mal'"
fi

[ $fails -eq 0 ] || { echo "--- stund log"; tail -n 30 "$T/stund.log"; echo "$fails check(s) failed"; exit 1; }
echo "PASS: an RFC 3489 client gets answers from stund"
