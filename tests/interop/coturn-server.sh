#!/bin/sh
# Interop: coturn's STUN clients against stund's server mode on loopback,
# primary 127.0.0.1:P, RFC 5780 alternate 127.0.0.2:P+1 (127.0.0.2 works on
# Linux loopback without configuration).
#  1. turnutils_stunclient: the reflexive address it prints is 127.0.0.1:PORT,
#     and stund's RESPONSE-ORIGIN / OTHER-ADDRESS are what was configured.
#  2. turnutils_natdiscovery -m -f: RFC 5780 behaviour discovery works
#     against stund (every test answered from the right address):
#     "Endpoint Independent Mapping" and "Endpoint Independent Filtering",
#     the reflexive port equal to natdiscovery's local port.
#  3. stund's counters saw the requests, and none was malformed.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/integ/lib.sh"	# BIN, T, PIDS + cleanup trap, skip, fail, wait_for
need_bin stund
for t in turnutils_stunclient turnutils_natdiscovery; do
	command -v $t >/dev/null 2>&1 || skip "skipped: $t missing (Debian package coturn, scripts/deps.sh)"
done

fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

P=$(free_port_pair) A=$((P + 1))
echo "== stund server mode: 127.0.0.1:$P, alternate 127.0.0.2:$A"
mkdir -p "$T/run"
: >"$T/empty.conf"
RUNTIME_DIRECTORY=$T/run "$BIN/stund" -v -f "$T/empty.conf" \
    -o stund.server=yes -o stund.servers=none \
    -o "stund.listen=127.0.0.1:$P" -o stund.alt_ip=127.0.0.2 \
    -o "stund.alt_port=$A" >"$T/stund.log" 2>&1 &
PIDS="$PIDS $!"
# RFC 5780 needs all four sockets: IP1:P IP1:A IP2:P IP2:A
for s in 127.0.0.1:$P 127.0.0.1:$A 127.0.0.2:$P 127.0.0.2:$A; do
	wait_for 5 udp_bound "${s#*:}" "${s%:*}" || fail "stund did not bind $s"
done
ok "stund bound 127.0.0.1:$P 127.0.0.1:$A 127.0.0.2:$P 127.0.0.2:$A"
# (the IPC socket is only used at the end, for the counters, long after it
# started listening)

echo "== turnutils_stunclient -p $P 127.0.0.1"
timeout 10 turnutils_stunclient -p "$P" 127.0.0.1 >"$T/sc.txt" 2>&1
rc=$?
sed 's/^/    /' "$T/sc.txt"
# stunclient sends three requests when the server offers RFC 5780 (coturn's
# src/apps/stunclient): a plain one; RESPONSE-PORT (a second socket) +
# CHANGE-REQUEST ip+port; CHANGE-REQUEST ip+port + PADDING of 1500 bytes
# (a 1532-byte request). It waits for each answer without a timeout.
n=$(grep -c '^RFC 5780 response' "$T/sc.txt")
if [ $rc -eq 0 ] && [ "$n" -eq 3 ]; then
	ok "stunclient got all 3 answers (plain, RESPONSE-PORT, PADDING)"
else
	bad "stunclient exited $rc after $n of 3 answers$( [ "$n" -eq 2 ] && echo ": the padded request (1532 bytes) went unanswered")"
fi
refl=$(sed -n 's/.*UDP reflexive addr: *//p' "$T/sc.txt" | head -n 1)
case $refl in
127.0.0.1:[0-9]*) ok "stunclient reads XOR-MAPPED-ADDRESS $refl" ;;
*) bad "stunclient reflexive address '$refl', expected 127.0.0.1:PORT" ;;
esac
org=$(sed -n 's/.*Response origin: *: *//p' "$T/sc.txt" | head -n 1)
oth=$(sed -n 's/.*Other addr: *: *//p' "$T/sc.txt" | head -n 1)
[ "$org" = "127.0.0.1:$P" ] && ok "RESPONSE-ORIGIN $org" ||
	bad "RESPONSE-ORIGIN '$org', expected 127.0.0.1:$P"
[ "$oth" = "127.0.0.2:$A" ] && ok "OTHER-ADDRESS $oth" ||
	bad "OTHER-ADDRESS '$oth', expected 127.0.0.2:$A"

echo "== turnutils_natdiscovery -m -f -p $P 127.0.0.1"
timeout 20 turnutils_natdiscovery -m -f -p "$P" 127.0.0.1 >"$T/nd.txt" 2>&1
rc=$?
sed 's/^/    /' "$T/nd.txt"
[ $rc -eq 0 ] || bad "turnutils_natdiscovery exited $rc"
grep -q '^NAT with Endpoint Independent Mapping!' "$T/nd.txt" &&
	ok "mapping test answered: Endpoint Independent Mapping" ||
	bad "natdiscovery mapping verdict: '$(grep 'Mapping!' "$T/nd.txt")'"
grep -q '^NAT with Endpoint Independent Filtering!' "$T/nd.txt" &&
	ok "filtering test (CHANGE-REQUEST ip+port) answered: Endpoint Independent Filtering" ||
	bad "natdiscovery filtering verdict: '$(grep 'Filtering!' "$T/nd.txt")'"
# each reflexive port equals the local port natdiscovery printed just after it
bad_ports=$(awk '/UDP reflexive addr:/ { split($NF, a, ":"); r = a[2] }
	/Local addr:/ { split($NF, b, ":"); if (r != b[2]) print r "!=" b[2] }' "$T/nd.txt")
n_refl=$(grep -c 'UDP reflexive addr: *127.0.0.1:' "$T/nd.txt")
[ -z "$bad_ports" ] && [ "$n_refl" -ge 3 ] &&
	ok "$n_refl responses, each reflexive port equal to the local port" ||
	bad "reflexive vs local ports: '$bad_ports' ($n_refl reflexive addresses)"
# the change-request answer must come from the other address
grep -q 'Response origin: *: *127.0.0.2:'"$A" "$T/nd.txt" &&
	ok "a CHANGE-REQUEST answer came from 127.0.0.2:$A" ||
	bad "no answer from 127.0.0.2:$A (CHANGE-REQUEST not honoured)"
grep -q 'Response origin: *: *127.0.0.2:'"$P" "$T/nd.txt" &&
	ok "the mapping test's request to 127.0.0.2:$P was answered from there" ||
	bad "no answer from 127.0.0.2:$P"

if [ -x "$BIN/meshctl" ] && command -v jq >/dev/null 2>&1; then
	echo "== stund counters"
	timeout 10 "$BIN/meshctl" -S "$T/run" --json status >"$T/st.json" 2>&1
	req=$(jq '[.daemons[] | select(.daemon == "stund") | .status.counters.server_requests][0] // empty' "$T/st.json" 2>/dev/null)
	mal=$(jq '[.daemons[] | select(.daemon == "stund") | .status.counters.server_malformed][0] // empty' "$T/st.json" 2>/dev/null)
	if [ -n "$req" ] && [ "$req" -ge 7 ] && [ "$mal" = 0 ]; then
		ok "stund counted $req requests, $mal malformed"
	else
		bad "stund counters: requests '$req', malformed '$mal' (expected >= 7 and 0)"
		cat "$T/st.json"
	fi
fi

if [ $fails -ne 0 ]; then
	echo "--- stund log"; tail -n 30 "$T/stund.log"
	echo "$fails check(s) failed"
	exit 1
fi
echo "PASS: coturn's stunclient and natdiscovery work against stund's server"
