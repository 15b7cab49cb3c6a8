#!/bin/sh
# punchd with a secured relay and no punchd change: relayd requires tokens
# (a secret, no --open), both nodes hold one access token in relay_token
# (relayd --issue-access), and their pair session, a secret hash nobody
# could issue a session token for, is admitted. No direct path (each
# punches a dead port): they meet on the relay, and a datagram goes each
# way and a ping comes back over it. A node whose token has expired is
# refused, and its log says why (403).
. "$(dirname "$0")/lib.sh"
need_bin punchd relayd meshctl

RP=$(free_port)
mkdir -p "$T/r" "$T/a" "$T/b" "$T/c"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/relaykey"
printf '[relayd]\nsecret_file = %s\n' "$T/relaykey" >"$T/relayd.conf"
M="$BIN/meshctl"
port() { p=$(free_port); while [ "$p" = "$RP" ]; do p=$(free_port); done; echo "$p"; }
PA=$(port); PB=$(port); PC=$(port); DEAD=$(port)

TOK=$("$BIN/relayd" -f "$T/relayd.conf" --issue-access --ttl 1h) || fail "issue"
OLD=$("$BIN/relayd" -f "$T/relayd.conf" --issue-access --ttl 1s) || fail "issue"
RUNTIME_DIRECTORY=$T/r start relayd "$T/relayd.log" "$BIN/relayd" -v \
	-f "$T/relayd.conf" -l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"
grep -q "open mode" "$T/relayd.log" && fail "relayd must require tokens here"

run() { # NAME PORT TOKEN
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$2" -o punchd.mesh_secret="$T/secret" \
		-o punchd.relay_url="ws://127.0.0.1:$RP" \
		-o punchd.relay_token="$3" -o punchd.relay_signal_host=no \
		-o punchd.host_loopback=yes \
		-o punchd.punch_interval=50ms -o punchd.punch_timeout=1s \
		-o punchd.repunch=500ms -o punchd.keepalive_interval=300ms \
		-o punchd.stun_refresh=0
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
run a "$PA" "$TOK"
run b "$PB" "$TOK"
ida=$(cat "$T/a/node.id"); idb=$(cat "$T/b/node.id")

echo "== no direct path: both punch a dead port, and meet on the secured relay"
"$M" -S "$T/b" --json punch -w 5000 "$ida" "127.0.0.1:$DEAD" >"$T/pb.json" &
pb=$!
"$M" -S "$T/a" --json punch -w 5000 "$idb" "127.0.0.1:$DEAD" >"$T/pa.json" ||
	fail "a's punch: $(cat "$T/pa.json")"
wait $pb || fail "b's punch: $(cat "$T/pb.json")"
[ "$(jq -r .path "$T/pa.json")" = relay ] || fail "a should be relayed: $(cat "$T/pa.json")"
[ "$(jq -r .state "$T/pb.json")" = relayed ] || fail "b should be relayed"
grep -q "refused" "$T/relayd.log" && fail "relayd refused something: $(grep refused "$T/relayd.log")"
"$M" -S "$T/a" peers
ok "relayed both ways with one access token"

echo "== data both ways and a ping through the relay"
start lb "$T/lb.out" "$M" -S "$T/b" listen --count 1
start la "$T/la.out" "$M" -S "$T/a" listen --count 1
wait_for 5 grep -q listening "$T/lb.out" || fail "listen on b"
wait_for 5 grep -q listening "$T/la.out" || fail "listen on a"
"$M" -S "$T/a" --json send "$idb" "a to b via the relay" >"$T/s1.json" || fail "send a->b"
[ "$(jq -r .path "$T/s1.json")" = relay ] || fail "send path a->b"
"$M" -S "$T/b" --json send "$ida" "b to a via the relay" >"$T/s2.json" || fail "send b->a"
[ "$(jq -r .path "$T/s2.json")" = relay ] || fail "send path b->a"
wait_for 5 grep -q "a to b via the relay" "$T/lb.out" || fail "b did not get a's datagram"
wait_for 5 grep -q "b to a via the relay" "$T/la.out" || fail "a did not get b's datagram"
"$M" -S "$T/a" --json ping -c 3 "$idb" >"$T/ping.json" || fail "ping over the relay"
[ "$(jq -r .path "$T/ping.json")" = relay ] || fail "ping path"
jq -e '(.rtt_ms | length) >= 1 and .lost < .sent' "$T/ping.json" >/dev/null ||
	fail "no ping reply: $(cat "$T/ping.json")"
ok "datagrams both ways and ping over the relay ($(jq -c .rtt_ms "$T/ping.json") ms)"

echo "== an expired access token: refused, and the node's log says 403"
sleep 1.1
run c "$PC" "$OLD"
"$M" -S "$T/c" --json punch -w 3000 "$ida" "127.0.0.1:$DEAD" >"$T/pc.json" 2>&1 &&
	[ "$(jq -r .path "$T/pc.json")" = relay ] && fail "c relayed with an expired token"
wait_for 5 grep -q "refused: token expired" "$T/relayd.log" || fail "relayd did not refuse c's token"
wait_for 5 grep -q "403" "$T/c.log" || fail "c's log does not show the 403"
grep "403" "$T/c.log" | head -n 1
ok "expired token refused (relayd: expired; node: 403)"
echo PASS
