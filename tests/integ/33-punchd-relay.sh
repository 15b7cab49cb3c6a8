#!/bin/sh
# punchd relay fallback on loopback, through a real relayd: two nodes that
# cannot reach each other directly (each punches a wrong port) meet in
# their pair's relay session and carry data there (state relayed); a
# direct path found later replaces it (peer.path), and stopping relayd
# then leaves the direct path alone. A second pair shows the rendezvous:
# candidates swapped through the relay turn wrong endpoints into a direct
# path with no further command.
. "$(dirname "$0")/lib.sh"
need_bin punchd relayd meshctl

RP=$(free_port)
mkdir -p "$T/r" "$T/a" "$T/b" "$T/c" "$T/d"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
M="$BIN/meshctl"
port() { p=$(free_port); while [ "$p" = "$RP" ]; do p=$(free_port); done; echo "$p"; }
PA=$(port); PB=$(port); PC=$(port); PD=$(port); DEAD=$(port)

echo "== relayd on 127.0.0.1:$RP, tokens required"
relay_keys
RUNTIME_DIRECTORY=$T/r start relayd "$T/relayd.log" "$BIN/relayd" -v -f "$T/relayd.conf" \
	-l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"

run() { # NAME PORT SIGNAL_HOST
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$2" -o punchd.mesh_secret="$T/secret" \
		-o punchd.relay_url="ws://127.0.0.1:$RP" \
		-o punchd.relay_token="$RELAY_TOKEN" \
		-o punchd.relay_signal_host="$3" -o punchd.host_loopback=yes \
		-o punchd.punch_interval=50ms -o punchd.punch_timeout=1s \
		-o punchd.repunch=500ms -o punchd.keepalive_interval=300ms \
		-o punchd.stun_refresh=0
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
run a "$PA" no
run b "$PB" no
ida=$(cat "$T/a/node.id"); idb=$(cat "$T/b/node.id")

echo "== no direct path: both punch a dead port, and meet on the relay"
"$M" -S "$T/b" --json punch -w 5000 "$ida" "127.0.0.1:$DEAD" >"$T/pb.json" &
pb=$!
"$M" -S "$T/a" --json punch -w 5000 "$idb" "127.0.0.1:$DEAD" >"$T/pa.json" || fail "a's punch: $(cat "$T/pa.json")"
wait $pb || fail "b's punch: $(cat "$T/pb.json")"
cat "$T/pa.json"
[ "$(jq -r .path "$T/pa.json")" = relay ] || fail "a should be relayed"
[ "$(jq -r .state "$T/pb.json")" = relayed ] || fail "b should be relayed"
"$M" -S "$T/a" peers
ok "relayed both ways"

echo "== data and ping through the relay"
start lb "$T/lb.out" "$M" -S "$T/b" listen --count 1
wait_for 5 grep -q listening "$T/lb.out" || fail "listen on b"
"$M" -S "$T/a" --json send "$idb" "via the relay" >"$T/s.json" || fail "send"
[ "$(jq -r .path "$T/s.json")" = relay ] || fail "send path"
wait_for 5 grep -q "via the relay" "$T/lb.out" || fail "b did not get the datagram"
"$M" -S "$T/a" --json ping -c 3 "$idb" >"$T/ping.json" || fail "ping over the relay"
[ "$(jq -r .path "$T/ping.json")" = relay ] || fail "ping path"
ok "datagram and ping over the relay ($(jq -c .rtt_ms "$T/ping.json") ms)"

echo "== upgrade: a direct path appears and replaces the relay"
start ev "$T/ev.out" "$M" -S "$T/a" --json listen --events
wait_for 5 grep -q listening "$T/ev.out" || fail "listen on a"
"$M" -S "$T/a" --json punch -w 5000 "$idb" "127.0.0.1:$PB" >"$T/up.json" || fail "punch direct: $(cat "$T/up.json")"
wait_for 5 sh -c "'$M' -S '$T/a' --json peers | jq -e '.[0].path == \"direct\"'" || fail "a not direct"
wait_for 5 sh -c "'$M' -S '$T/b' --json peers | jq -e '.[0].path == \"direct\"'" || fail "b not direct"
wait_for 5 grep -q '"event":"peer.path".*"path":"direct"' "$T/ev.out" || fail "no peer.path to direct"
grep '"event"' "$T/ev.out"
grep -q '"event":"peer.down"' "$T/ev.out" && fail "the switch must not look like an outage"
ok "relay -> direct, peer.path sent, no peer.down"

echo "== relayd stops: the direct path does not care"
kill "$PID_relayd"
sleep 1
"$M" -S "$T/a" ping -c 2 "$idb" >/dev/null || fail "direct ping after relayd stopped"
"$M" -S "$T/a" --json peers | jq -e '.[0].state == "direct"' >/dev/null || fail "still direct"
ok "direct unaffected by the relay's outage"

echo "== rendezvous: candidates through the relay, then direct by themselves"
RUNTIME_DIRECTORY=$T/r start relayd2 "$T/relayd2.log" "$BIN/relayd" -v -f "$T/relayd.conf" \
	-l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening again"
run c "$PC" yes
run d "$PD" yes
idc=$(cat "$T/c/node.id"); idd=$(cat "$T/d/node.id")
"$M" -S "$T/d" punch -w 5000 "$idc" "127.0.0.1:$DEAD" >/dev/null 2>&1 &
pd=$!
"$M" -S "$T/c" punch -w 5000 "$idd" "127.0.0.1:$DEAD" >"$T/pc.out" 2>&1
wait $pd
wait_for 8 sh -c "'$M' -S '$T/c' --json peers | jq -e '.[0].state == \"direct\"'" ||
	fail "c and d should have found each other through the candidates"
"$M" -S "$T/c" peers
grep -q "candidates\? through the relay" "$T/c.log" || fail "c should have got candidates through the relay"
ok "direct after the rendezvous, $("$M" -S "$T/c" --json peers | jq -r '.[0].endpoint')"
echo PASS
