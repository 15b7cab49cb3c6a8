#!/bin/sh
# relayd's timers and shutdown: a client that answers no ping is dropped at
# idle_timeout while one that answers stays; SIGTERM sends close 1001 to
# every client, drains, exits 0 and removes its IPC socket; the
# descriptor soft limit is raised to the hard limit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

relayd_up r --open -o idle_timeout=2s -o ping_interval=500ms -o drain=2s
U="ws://127.0.0.1:$PORT/v1/relay"

# -R never reads, so never answers a ping; the other one does
"$WS" -R -w 6 "$U/idle" >"$T/mute.out" 2>&1 &
"$WS" -w 5 "$U/alive" >"$T/alive.out" 2>&1 &
L=$!
# idle at 2 s, then up to 2 s for the close handshake it will not answer
i=0
until [ "$(metric 'relayd_disconnects_total{reason="idle"}')" -eq 1 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && fail "silent client not dropped at idle_timeout"
	sleep 0.1
done
[ $i -ge 15 ] || fail "silent client dropped before idle_timeout"
wait $L
grep -q "^close" "$T/alive.out" && fail "a client answering pings was closed"
ok "silent client dropped after idle_timeout, pinged client kept"

soft=$(awk '/^Max open files/ { print $4 }' "/proc/$PID_r/limits")
hard=$(awk '/^Max open files/ { print $5 }' "/proc/$PID_r/limits")
[ "$soft" = "$hard" ] || fail "descriptor limit $soft, hard $hard"
ok "descriptor soft limit raised to $soft"

"$WS" -w 10 -c 1001 "$U/bye" >"$T/bye1.out" 2>&1 &
B1=$!
"$WS" -w 10 -c 1001 "$U/bye" >"$T/bye2.out" 2>&1 &
B2=$!
sleep 0.5
t0=$(date +%s)
kill -TERM "$PID_r"
wait $B1 || fail "client 1 got no 1001: $(cat "$T/bye1.out")"
wait $B2 || fail "client 2 got no 1001: $(cat "$T/bye2.out")"
wait "$PID_r"
rc=$?
[ $rc -eq 0 ] || fail "relayd exited with $rc after SIGTERM"
[ $(( $(date +%s) - t0 )) -le 3 ] || fail "shutdown took longer than drain"
[ -e "$T/r.sock" ] && fail "IPC socket left behind"
grep -q "terminating" "$T/r.log" || fail "no 'terminating' line"
grep -q "left session bye: shutdown" "$T/r.log" || fail "shutdown reason"
ok "SIGTERM: close 1001 to every client, clean exit"
