#!/bin/sh
# The loopback scenarios under valgrind memcheck: every daemon (and meshctl
# once) runs with --leak-check=full --errors-for-leak-kinds=definite
# --error-exitcode=99, is stopped with SIGTERM and must exit 0: any
# memcheck error (invalid read/write, uninitialised jump, bad free) or
# definitely lost block fails the test. What each process reported is
# printed (valgrind's summary lines).
#   stund:  server (RFC 5780) + client; meshctl network/status; discovery
#           through a passed socket (fakepunch); hostile IPC input (ipcraw)
#   relayd: two wsclient clients swap 200 frames; a bad HTTP request; a
#           forged CONTROL frame; IPC status.get
#   punchd: two nodes punch, ping, send/listen, a stranger's datagrams
# Runtime about 40-60 s. VALGRIND_OPTS adds options.
. "$(dirname "$0")/lib.sh"
need_bin stund relayd punchd meshctl fakepunch ipcraw wsclient udpflood
command -v valgrind >/dev/null 2>&1 || skip "skipped: valgrind is not installed"
# ASan/UBSan builds (make asan) cannot run under valgrind
grep -q __asan_init "$BIN/stund" 2>/dev/null &&
	skip "skipped: $BUILD is a sanitizer build (valgrind and ASan do not mix)"
M="$BIN/meshctl"
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
--error-exitcode=99 --show-leak-kinds=definite --track-fds=no \
--num-callers=30 ${VALGRIND_OPTS:-}"
NFAIL=0

# vg NAME LOG CMD...: start CMD under valgrind, its report in $T/vg-NAME
vg() {
	n=$1 l=$2; shift 2
	# shellcheck disable=SC2086
	start "$n" "$l" $VG --log-file="$T/vg-$n" "$@"
}
# stop NAME: SIGTERM, wait (up to 30 s), check the exit status and report
stop() {
	eval "p=\$PID_$1"
	kill -TERM "$p" 2>/dev/null
	i=0
	while kill -0 "$p" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 300 ] && { kill -9 "$p"; echo "$1: no exit on SIGTERM"; NFAIL=$((NFAIL + 1)); return; }
		sleep 0.1
	done
	wait "$p"; rc=$?
	if [ $rc = 0 ] && [ ! -s "$T/vg-$1" ]; then
		echo "valgrind $1: exit 0, no errors, no definite leaks"
	else
		echo "valgrind $1: exit $rc, report:"
		sed 's/^/    /' "$T/vg-$1"
		NFAIL=$((NFAIL + 1))
	fi
}
# vgrun NAME CMD...: a short-lived client under valgrind, same rules
vgrun() {
	n=$1; shift
	# shellcheck disable=SC2086
	$VG --log-file="$T/vg-$n" "$@" >"$T/$n.out" 2>&1; rc=$?
	if [ $rc != 99 ] && [ ! -s "$T/vg-$n" ]; then
		echo "valgrind $n: exit $rc, no errors, no definite leaks"
	else
		echo "valgrind $n: exit $rc, report:"; sed 's/^/    /' "$T/vg-$n"
		NFAIL=$((NFAIL + 1))
	fi
}

echo "== stund"
P=$(free_port)
mkdir -p "$T/srv" "$T/cli"
RUNTIME_DIRECTORY=$T/srv vg srv "$T/srv.log" "$BIN/stund" -f /dev/null \
	--server --listen 127.0.0.1:$P --alt-ip 127.0.0.2 --alt-port $((P + 1)) \
	--servers none -o stund.rate_limit=1000
RUNTIME_DIRECTORY=$T/cli vg cli "$T/cli.log" "$BIN/stund" -f /dev/null \
	--servers "127.0.0.1:$P,127.0.0.2:$P" -o stund.timeout=3s -o stund.nat_timeout=700ms
wait_sock "$T/srv/stund.sock" 20
wait_sock "$T/cli/stund.sock" 20
"$M" -S "$T/cli" --json network >"$T/net.json" || fail "network: $(cat "$T/net.json")"
echo "network: $(jq -c '{public, classic, method}' "$T/net.json")"
[ "$(jq -r .method "$T/net.json")" = rfc5780 ] || fail "RFC 5780 discovery under valgrind"
vgrun meshctl "$M" -S "$T/cli" status
"$TOOLS/fakepunch" "$T/cli/stund.sock" 127.0.0.1 >"$T/fp.out" 2>&1 || fail "fakepunch: $(cat "$T/fp.out")"
cat "$T/fp.out"
S=$T/cli/stund.sock
for bytes in '\301\301\301\301' '\222\000\001' '\224\000\001\244x.yz\200' \
    '\224\000\001\052\200' '\201\241a\241b' '\224\000\001\252status.get\223\001\002\003' \
    '\224\000\007\255stun.discover\201\246socket\303' '\333\377\377\377\377' \
    '\223\002\252stun.input\202\244data\304\003abc\244from\2511.2.3.4:5'; do
	printf "$bytes" | "$TOOLS/ipcraw" "$S" >/dev/null 2>&1
done
{ printf '\224\000\001\252status.get\306\000\040\000\000'; head -c 1100000 /dev/zero; } |
	"$TOOLS/ipcraw" "$S" >/dev/null 2>&1
"$TOOLS/udpflood" -m random -n 200 -r 5000 -w 0.2 127.0.0.1:$P >/dev/null
"$TOOLS/udpflood" -m stun -n 200 -r 5000 -w 0.2 127.0.0.1:$P >"$T/stunf.out"
echo "stun server: $(cat "$T/stunf.out")"
"$M" -S "$T/srv" --json status | jq -c '.daemons[0].status.counters' || fail "server status"
stop cli
stop srv

echo "== relayd"
start_relayd() {
	vg r "$T/r.log" "$BIN/relayd" -f /dev/null -l 127.0.0.1 -p 0 -s "$T/r.sock" \
	    --open -o drain=500ms
	i=0; PORT=
	while [ -z "$PORT" ]; do
		PORT=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$T/r.log" 2>/dev/null | head -n 1)
		i=$((i + 1)); [ $i -gt 400 ] && fail "relayd did not start"
		[ -n "$PORT" ] || sleep 0.05
	done
	wait_sock "$T/r.sock" 20
}
start_relayd
U="ws://127.0.0.1:$PORT"
"$TOOLS/wsclient" -q -P -n 100 -s 1000 -e 100 -w 20 "$U/v1/relay/s1" >"$T/wa.out" 2>&1 &
WA=$!
"$TOOLS/wsclient" -q -P -n 100 -s 3000 -e 100 -w 20 "$U/v1/relay/s1" >"$T/wb.out" 2>&1 ||
	fail "client B: $(cat "$T/wb.out")"
wait $WA || fail "client A: $(cat "$T/wa.out")"
echo "A: $(tail -n 1 "$T/wa.out")"; echo "B: $(tail -n 1 "$T/wb.out")"
"$TOOLS/wsclient" -w 2 -X 'GET /v1/relay/x HTTP/1.0\r\n\r\n' "$U/" >/dev/null 2>&1
"$TOOLS/wsclient" -w 2 -n 3 -s 12 -b 0xf0 "$U/v1/relay/s2" >/dev/null 2>&1	# forged CONTROL
curl -s "http://127.0.0.1:$PORT/health" >/dev/null
printf '\224\000\011\252status.get\200' | "$TOOLS/ipcraw" "$T/r.sock" >"$T/rst.out"
grep -q '"relayd"' "$T/rst.out" || fail "relayd status.get: $(cat "$T/rst.out")"
"$TOOLS/wsclient" -w 8 "$U/v1/relay/s3" >/dev/null 2>&1 &	# still connected at SIGTERM
sleep 0.5
stop r

echo "== punchd"
PA=$(free_port)
PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
mkdir -p "$T/a" "$T/b"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
FAST="-o punchd.punch_interval=100ms -o punchd.punch_timeout=8s -o punchd.stun_refresh=0"
for n in a b; do
	[ $n = a ] && p=$PA || p=$PB
	RUNTIME_DIRECTORY=$T/$n STATE_DIRECTORY=$T/$n vg $n "$T/$n.log" \
	    "$BIN/punchd" -f /dev/null -p $p -o punchd.mesh_secret="$T/secret" $FAST
done
for n in a b; do
	wait_sock "$T/$n/punchd.sock" 20
	wait_for 20 "$M" -S "$T/$n" peers || fail "$n does not answer"
done
"$M" -S "$T/a" punch -w 8000 bob "127.0.0.1:$PB" >"$T/pa.out" 2>&1 &
PP=$!
"$M" -S "$T/b" punch -w 8000 alice "127.0.0.1:$PA" >"$T/pb.out" 2>&1 || fail "punch: $(cat "$T/pb.out")"
wait $PP || fail "punch a: $(cat "$T/pa.out")"
cat "$T/pa.out" "$T/pb.out"
"$M" -S "$T/a" --json ping -c 3 bob >"$T/ping.json" || fail "ping: $(cat "$T/ping.json")"
echo "ping: $(jq -c .rtt_ms "$T/ping.json")"
start listen "$T/listen.out" "$M" -S "$T/b" listen --count 2
wait_for 10 grep -q listening "$T/listen.out" || fail "listen"
"$M" -S "$T/a" send bob "hello under valgrind" >/dev/null || fail "send"
"$M" -S "$T/a" send bob "$(head -c 1196 /dev/zero | tr '\000' x)" >/dev/null || fail "send 1196"
wait_for 10 sh -c "! kill -0 $PID_listen" || fail "listen did not get 2 datagrams"
grep -q "hello under valgrind" "$T/listen.out" || fail "datagram not received"
"$TOOLS/udpflood" -m punch -n 300 -S 4 -r 5000 -w 0.2 127.0.0.1:$PA >/dev/null
"$TOOLS/udpflood" -m random -n 300 -r 5000 -w 0.2 127.0.0.1:$PA >/dev/null
"$M" -S "$T/a" --json status | jq -c '.daemons[] | select(.daemon=="punchd") | .status.counters'
stop a
stop b

[ $NFAIL = 0 ] || fail "$NFAIL valgrind report(s) above"
ok "stund x2, relayd, punchd x2, meshctl: no memcheck errors, no definite leaks"
echo PASS
