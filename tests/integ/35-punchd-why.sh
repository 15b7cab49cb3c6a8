#!/bin/sh
# meshctl why, and the failover of a path in use, on loopback without a
# relay (default keep-alive timers): a is streaming to b when b freezes
# (SIGSTOP). a's direct path falls in doubt within 1.5 s: `meshctl send`
# says so (never a plain success), `meshctl why` says why; 3 s after the
# last answer it is dead (peer.down "path dead: no answer for 3 s", why
# says so). b thaws: the path answers again and a is direct again.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl

PA=$(free_port)
PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
mkdir -p "$T/a" "$T/b"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
M="$BIN/meshctl"

run() { # NAME PORT
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$2" -o punchd.mesh_secret="$T/secret" \
		-o punchd.punch_interval=50ms -o punchd.punch_timeout=2s \
		-o punchd.repunch=500ms -o punchd.stun_refresh=0
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
run a "$PA"
run b "$PB"

"$M" -S "$T/b" punch -w 3000 alice "127.0.0.1:$PA" >/dev/null &
pb=$!
"$M" -S "$T/a" punch -w 3000 bob "127.0.0.1:$PB" >/dev/null || fail "punch"
wait $pb || fail "punch from b"
start ev "$T/events.out" "$M" -S "$T/a" --json listen --events
wait_for 5 grep -q listening "$T/events.out" || fail "listen"

echo "== meshctl why on a direct pair"
"$M" -S "$T/a" why bob >"$T/why1" || fail "why: $(cat "$T/why1")"
cat "$T/why1"
grep -q "^why: *direct$" "$T/why1" || fail "reason: direct"
grep -q "our NAT: unknown (stund is not running)" "$T/why1" || fail "no stund"
grep -q "127.0.0.1:$PB .*(selected)" "$T/why1" || fail "the selected pair"
"$M" -S "$T/a" --json why bob >"$T/why1.json" || fail "why --json"
[ "$(jq -r .peer.state "$T/why1.json")" = direct ] &&
	[ "$(jq -r .peer.health.state "$T/why1.json")" = up ] &&
	[ "$(jq -r .peer.health.keepalive_interval_s "$T/why1.json")" = 25 ] &&
	[ "$(jq -r .nat "$T/why1.json")" = null ] || fail "why --json: $(cat "$T/why1.json")"
ok "why: direct, health up, keep-alive 25 s, no stund"
"$M" -S "$T/a" why nobody >"$T/why0" 2>&1 && fail "why for an unknown peer succeeded"
grep -qi "not.found\|no such\|unknown" "$T/why0" || fail "unknown peer: $(cat "$T/why0")"
ok "why nobody: $(cat "$T/why0")"

echo "== a streams to b; b freezes"
: >"$T/send.log"
(
	i=0
	while [ ! -f "$T/stop" ]; do
		i=$((i + 1))
		"$M" -S "$T/a" send bob "s$i" >>"$T/send.log" 2>&1
		sleep 0.05
	done
) &
sender=$!
sleep 1.5
kill -STOP "$PID_b"
t0=$(date +%s%N)
wait_for 3 grep -q "in doubt" "$T/send.log" || fail "no send said in doubt: $(tail -n 3 "$T/send.log")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "a send said so after ${ms} ms: $(grep -m 1 'in doubt' "$T/send.log")"
"$M" -S "$T/a" why bob >"$T/why2"
grep -q "^why: *direct, but the path is in doubt: no answer for" "$T/why2" ||
	grep -q "^why: .*path dead: no answer for 3 s" "$T/why2" || fail "why in doubt: $(cat "$T/why2")"
ok "why: $(sed -n 's/^why: *//p' "$T/why2")"
wait_for 5 grep -q '"event":"peer.down"' "$T/events.out" || fail "no peer.down"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep '"event":"peer.down"' "$T/events.out" | head -n 1 |
	grep -q '"reason":"path dead: no answer for 3 s"' || fail "down reason: $(grep peer.down "$T/events.out")"
[ "$ms" -le 4500 ] || fail "dead after ${ms} ms, the budget is 3 s after the last answer"
ok "peer.down ${ms} ms after the freeze: path dead: no answer for 3 s"
grep '"event":"peer.path"' "$T/events.out" | grep -q '"state":"degraded"' || fail "degraded first"
"$M" -S "$T/a" why bob >"$T/why3"
grep -q "path dead: no answer for 3 s" "$T/why3" || fail "why after the death: $(cat "$T/why3")"
grep -q "deaths 1" "$T/why3" || fail "health deaths: $(cat "$T/why3")"

echo "== b thaws: direct again"
kill -CONT "$PID_b"
wait_for 10 sh -c "'$M' -S '$T/a' --json peers | jq -e '.[0].state == \"direct\"'" >/dev/null ||
	fail "not direct again: $("$M" -S "$T/a" peers)"
touch "$T/stop"
wait $sender
ok "direct again after the thaw"
"$M" -S "$T/a" why bob | grep -q "^why: *direct$" || fail "why after the thaw"
echo "PASS"
