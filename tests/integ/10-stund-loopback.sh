#!/bin/sh
# stund on loopback: a server instance with an RFC 5780 alternate address
# (127.0.0.1 + 127.0.0.2) and a client instance discovering through it;
# meshctl status/network against the real daemons; failures named; reload.
. "$(dirname "$0")/lib.sh"
need_bin stund meshctl

P=$(free_port)
AP=$((P + 1))
mkdir -p "$T/srv" "$T/cli" "$T/dead" "$T/none"

echo "== server mode on 127.0.0.1:$P, alternate 127.0.0.2:$AP"
RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" -v \
	--server --listen 127.0.0.1:$P --alt-ip 127.0.0.2 --alt-port $AP \
	--servers none -o stund.software=atm-test
wait_sock "$T/srv/stund.sock"

echo "== client instance asking 127.0.0.1:$P and 127.0.0.2:$P"
RUNTIME_DIRECTORY=$T/cli start cli "$T/cli.log" "$BIN/stund" -v \
	--servers "127.0.0.1:$P,127.0.0.2:$P" -o stund.timeout=2s \
	-o stund.nat_timeout=500ms
wait_sock "$T/cli/stund.sock"

"$BIN/meshctl" -S "$T/cli" --json network >"$T/net.json" ||
	fail "meshctl network exited $?: $(cat "$T/net.json")"
cat "$T/net.json"
pub=$(jq -r .public "$T/net.json")
case "$pub" in 127.0.0.1:*) ok "public endpoint $pub" ;;
	*) fail "public endpoint '$pub'" ;; esac
[ "$(jq -r .behind_nat "$T/net.json")" = false ] || fail "behind_nat should be false on loopback"
[ "$(jq -r .classic "$T/net.json")" = "open internet" ] || fail "classic"
[ "$(jq -r .mapping "$T/net.json")" = endpoint-independent ] || fail "mapping"
[ "$(jq -r .filtering "$T/net.json")" = endpoint-independent ] || fail "filtering"
[ "$(jq -r .method "$T/net.json")" = rfc5780 ] || fail "method should be rfc5780"
[ "$(jq '[.servers[] | select(.ok)] | length' "$T/net.json")" = 2 ] || fail "both servers should answer"
[ "$(jq -r '.servers[0].other_address' "$T/net.json")" = "127.0.0.2:$AP" ] || fail "OTHER-ADDRESS"
ok "NAT behaviour: open internet, EIM/EIF via RFC 5780"
# the netcheck (stun.check + the hairpin test): on loopback our own address
# answers itself, both servers have a round-trip time, no IPv6 server
[ "$(jq -r '.netcheck | "\(.udp) \(.ipv4.reachable) \(.mapping_varies) \(.hairpin)"' "$T/net.json")" = "true true false true" ] ||
	fail "netcheck verdicts: $(jq -c .netcheck "$T/net.json")"
[ "$(jq '[.netcheck.stun[] | select(.ok and .rtt_ms > 0)] | length' "$T/net.json")" = 2 ] ||
	fail "netcheck: an RTT per server"
jq -r .netcheck.ipv6.note "$T/net.json" | grep -q "^not tested: no IPv6 STUN server" ||
	fail "netcheck: IPv6 not tested, and why"
ok "netcheck: UDP, IPv4, no mapping variation, hairpin, RTT per server"

"$BIN/meshctl" -S "$T/cli" network >"$T/net.txt" || fail "human network output"
cat "$T/net.txt"
grep -q "^NAT type: *open internet" "$T/net.txt" || fail "human output lacks NAT type"
grep -q "127.0.0.2:$P *ok" "$T/net.txt" || fail "human output lacks server rows"

echo "== server counters"
"$BIN/meshctl" -S "$T/srv" --json status >"$T/st.json"; rc=$?
[ $rc = 3 ] || fail "status with punchd/relayd absent should exit 3, got $rc"
[ "$(jq -r '.daemons[0].daemon' "$T/st.json")" = stund ] || fail "status rows"
[ "$(jq -r '.daemons[0].up' "$T/st.json")" = true ] || fail "stund should be up"
[ "$(jq -r '.daemons[1].up' "$T/st.json")" = false ] || fail "punchd should be down here"
n=$(jq '.daemons[0].status.counters.server_responses' "$T/st.json")
[ "$n" -ge 5 ] || fail "server answered only $n requests"
[ "$(jq -r '.daemons[0].status.server.alternate' "$T/st.json")" = "127.0.0.2:$AP" ] || fail "alternate in status"
ok "server answered $n requests"

echo "== meshctl with no daemons at all"
"$BIN/meshctl" -S "$T/none" status >"$T/none.txt" 2>&1; rc=$?
cat "$T/none.txt"
[ $rc = 3 ] || fail "status exit $rc, want 3"
[ "$(grep -c ' down ' "$T/none.txt")" = 3 ] || fail "three rows down"
"$BIN/meshctl" -S "$T/none" network >"$T/none2.txt" 2>&1; rc=$?
[ $rc = 3 ] || fail "network without stund: exit $rc, want 3"
grep -q "stund is not running" "$T/none2.txt" || fail "network should say stund is not running"
ok "down daemons reported as down"

echo "== no server reachable: a clear error naming each one, no hang"
D1=$(free_port)
RUNTIME_DIRECTORY=$T/dead start dead "$T/dead.log" "$BIN/stund" \
	--servers "127.0.0.1:$D1,127.0.0.3:$D1" -o stund.timeout=1s
wait_sock "$T/dead/stund.sock"
start_s=$(date +%s)
"$BIN/meshctl" -S "$T/dead" network >"$T/dead.txt" 2>&1; rc=$?
cat "$T/dead.txt"
[ $rc = 1 ] || fail "network with dead servers: exit $rc, want 1"
grep -q "127.0.0.1:$D1" "$T/dead.txt" && grep -q "127.0.0.3:$D1" "$T/dead.txt" ||
	fail "error must name every server tried"
[ $(( $(date +%s) - start_s )) -le 8 ] || fail "took too long"
grep -q "^UDP: *no: no answer from 127.0.0.1:$D1 (.*), 127.0.0.3:$D1 (" "$T/dead.txt" ||
	fail "netcheck: UDP no, naming the silent servers"
ok "unreachable servers named"

echo "== SIGHUP: invalid config refused, valid one applied"
cat >"$T/bad.conf" <<CONF
[stund]
timeout = forever
CONF
kill "$PID_srv"  # the server instance is not needed any more
RUNTIME_DIRECTORY=$T/cli "$BIN/stund" -n -f "$T/bad.conf" >"$T/n.txt" 2>&1 && fail "-n accepted a bad config"
grep -q "bad.conf:2" "$T/n.txt" || fail "-n error should name file and line: $(cat "$T/n.txt")"
cat >"$T/rl.conf" <<CONF
[stund]
servers = 127.0.0.1:$D1
timeout = 1s
CONF
RUNTIME_DIRECTORY=$T/rl start rl "$T/rl.log" "$BIN/stund" -f "$T/rl.conf"
wait_sock "$T/rl/stund.sock"
cp "$T/bad.conf" "$T/rl.conf"
kill -HUP "$PID_rl"
wait_for 3 grep -q "reload refused" "$T/rl.log" || fail "invalid reload not refused"
"$BIN/meshctl" -S "$T/rl" status >/dev/null; [ $? = 3 ] || fail "stund died on bad reload"
printf '[stund]\nservers = 127.0.0.3:%s\ntimeout = 1s\n' "$D1" >"$T/rl.conf"
kill -HUP "$PID_rl"
wait_for 3 grep -q "configuration reloaded" "$T/rl.log" || fail "valid reload not applied"
"$BIN/meshctl" -S "$T/rl" --json network >"$T/rl.json" 2>&1
grep -q "127.0.0.3:$D1" "$T/rl.json" || fail "reloaded server list not used: $(cat "$T/rl.json")"
ok "reload"

echo "== SIGTERM: clean exit, socket removed"
kill -TERM "$PID_rl"
i=0; while kill -0 "$PID_rl" 2>/dev/null; do i=$((i+1)); [ $i -gt 50 ] && fail "no exit on SIGTERM"; sleep 0.1; done
wait "$PID_rl"; rc=$?
[ $rc = 0 ] || fail "exit status $rc after SIGTERM"
[ ! -e "$T/rl/stund.sock" ] || fail "socket left behind"
grep -q terminating "$T/rl.log" || fail "no 'terminating' log line"
ok "clean shutdown"
echo "PASS"
