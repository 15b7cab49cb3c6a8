#!/bin/sh
# punchd keep-alive on loopback: kill -9 one side; the other sees its
# keep-alives go unanswered (degraded after warn_after), declares the path
# dead after dead_after, says so with peer.down, keeps re-punching, and is
# back to direct (peer.up) when the killed side returns with its state.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl

PA=$(free_port)
PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
mkdir -p "$T/a" "$T/b"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
M="$BIN/meshctl"
# 200 ms keep-alives, degraded after 2 misses, dead after 3
FAST="-o punchd.punch_interval=50ms -o punchd.punch_timeout=1s
 -o punchd.keepalive_interval=200ms -o punchd.warn_after=2
 -o punchd.dead_after=3 -o punchd.repunch=300ms -o punchd.stun_refresh=0"

run() { # NAME PORT
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$2" -o punchd.mesh_secret="$T/secret" $FAST
	wait_sock "$T/$1/punchd.sock"
	# the socket file appears at bind(), answers after listen()
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
run a "$PA"
run b "$PB"
idb=$(cat "$T/b/node.id")

"$M" -S "$T/b" punch -w 3000 alice "127.0.0.1:$PA" >/dev/null &
pb=$!
"$M" -S "$T/a" punch -w 3000 bob "127.0.0.1:$PB" || fail "punch"
wait $pb || fail "punch from b"
start ev "$T/events.out" "$M" -S "$T/a" --json listen --events
wait_for 5 grep -q listening "$T/events.out" || fail "listen"

echo "== keep-alives flow both ways"
sleep 1
"$M" -S "$T/a" --json peers >"$T/p1"
[ "$(jq -r '.[0].state' "$T/p1")" = direct ] || fail "direct before the kill"
ka=$(jq -r '.[0].rtt_ms' "$T/p1")
ok "direct, rtt ${ka} ms"

echo "== kill -9 b"
t0=$(date +%s%N)
kill -9 "$PID_b"
wait_for 5 grep -q '"event":"peer.down"' "$T/events.out" || fail "no peer.down within 5 s"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
grep '"event":"peer' "$T/events.out"
grep '"event":"peer.path"' "$T/events.out" | grep -q '"state":"degraded"' || fail "degraded first"
down=$(grep '"event":"peer.down"' "$T/events.out" | head -n 1)
echo "$down" | grep -q '"reason":"keep-alive timeout"' || fail "reason"
echo "$down" | grep -q '"keepalive_failures":3' || fail "after exactly dead_after failures"
# 3 intervals of 200 ms plus the first, within scheduling slack
[ "$ms" -ge 500 ] || fail "declared dead too early (${ms} ms)"
[ "$ms" -le 2000 ] || fail "declared dead too late (${ms} ms)"
ok "peer.down after ${ms} ms (keep-alive 200 ms, dead_after 3)"
"$M" -S "$T/a" peers
st=$("$M" -S "$T/a" --json peers | jq -r '.[0].state')
case "$st" in punching|down) ;; *) fail "state after death: $st" ;; esac
"$M" -S "$T/a" send bob x >"$T/s.out" 2>&1 && fail "send with no path must fail"
grep -q unavailable "$T/s.out" || fail "unavailable"
ok "a keeps trying ($st); send refused with unavailable"

echo "== b returns with its state (same node id)"
sleep 1
n_down=$(grep -c '"event":"peer.down"' "$T/events.out")
[ "$n_down" = 1 ] || fail "one peer.down per outage, got $n_down"
t0=$(date +%s%N)
run b "$PB"
[ "$(cat "$T/b/node.id")" = "$idb" ] || fail "node id changed"
wait_for 10 sh -c "grep '\"event\":\"peer.up\"' '$T/events.out'" || fail "no peer.up after b returned"
t1=$(date +%s%N)
ok "peer.up again after $(( (t1 - t0) / 1000000 )) ms"
"$M" -S "$T/a" --json peers | jq -e '.[0].state == "direct" and .[0].name == "bob"' >/dev/null || fail "a: bob direct"
"$M" -S "$T/b" --json peers | jq -e '.[0].state == "direct"' >/dev/null || fail "b sees a"

echo "== data flows again, both ways"
start lb "$T/lb.out" "$M" -S "$T/b" listen --count 1
wait_for 5 grep -q listening "$T/lb.out" || fail "listen on b"
"$M" -S "$T/a" send bob "after the restart" >/dev/null || fail "send a -> b"
wait_for 5 grep -q "after the restart" "$T/lb.out" || fail "b did not get it"
peer_a=$("$M" -S "$T/b" --json peers | jq -r '.[0].id')
"$M" -S "$T/b" send "$peer_a" "back" >/dev/null || fail "send b -> a"
wait_for 5 grep -q '"text":"back"' "$T/events.out" || fail "a did not get it"
ok "round trip after the restart"

echo "== sequence numbers were not reused (no replay drops)"
"$M" -S "$T/a" --json status | jq -e '.daemons[] | select(.daemon=="punchd") | .status.counters.drop_replay == 0' >/dev/null || fail "replay drops"
"$M" -S "$T/b" --json peers | jq -e '.[0].name == "alice"' >/dev/null || fail "b should have kept the name alice from its state"

echo "== a restarts (SIGTERM): its peers come back from the state directory"
kill "$PID_a"
wait_for 5 sh -c "! kill -0 $PID_a" || fail "a did not stop"
grep -q terminating "$T/a.log" || fail "a should log terminating"
cat "$T/a/peers"
grep -q "^$idb bob 127.0.0.1:$PB" "$T/a/peers" || fail "a's peers file"
t0=$(date +%s%N)
run a "$PA"
wait_for 10 sh -c "'$M' -S '$T/a' --json peers | jq -e '.[0].state == \"direct\" and .[0].name == \"bob\"'" ||
	fail "a did not reconnect to bob by itself"
ok "a back to bob in $(( ($(date +%s%N) - t0) / 1000000 )) ms without a punch command"
echo PASS
