#!/bin/sh
# Quiet when idle: stund, relayd (tokens, its default mode) and punchd with
# no peers, each left alone for 60 s once settled, may wake at most a couple
# of times (a timer that fires, a poll): counted as the voluntary context
# switches of every thread, from /proc/PID/task/*/status. Each daemon runs
# its default configuration; only addresses, sockets and secrets are given.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"
need_bin stund relayd punchd meshctl

# IDLE_SECONDS shortens the wait when trying the script by hand
IDLE=${IDLE_SECONDS:-60}
SLACK=2
mkdir -p "$T/run" "$T/state"

echo "== stund: its own STUN server on loopback is the one it asks"
SP=$(free_port)
RUNTIME_DIRECTORY=$T/run start stund "$T/stund.log" "$BIN/stund" -f /dev/null \
	--server --listen "127.0.0.1:$SP" --servers "127.0.0.1:$SP"
wait_sock "$T/run/stund.sock"

echo "== relayd with a token secret"
printf '[relayd]\nsecret = 0123456789abcdef0123456789abcdef\n' >"$T/relayd.conf"
relayd_up relayd -f "$T/relayd.conf"

echo "== punchd, no peers, no mesh"
PP=$(free_port)
unset ATMOSPHERE_RELAY_URL
RUNTIME_DIRECTORY=$T/run STATE_DIRECTORY=$T/state start punchd "$T/punchd.log" \
	"$BIN/punchd" -f /dev/null -p "$PP"
wait_sock "$T/run/punchd.sock"
wait_for 5 "$BIN/meshctl" -S "$T/run" peers || fail "punchd does not answer"

# settle: start-up discovery, NAT test, punchd's first STUN round
wait_for 10 sh -c "'$BIN/meshctl' -S '$T/run' --json network | jq -e .public" ||
	echo "(stund has no public endpoint yet; measuring anyway)"
sleep 5

# wakes PID: voluntary context switches summed over its threads
wakes() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

for d in stund relayd punchd; do
	eval "pid=\$PID_$d"
	kill -0 "$pid" 2>/dev/null || fail "$d is not running: $(tail -n 5 "$T/$d.log")"
	eval "before_$d=$(wakes "$pid")"
done
echo "== idle for ${IDLE}s"
sleep "$IDLE"
bad=
for d in stund relayd punchd; do
	eval "pid=\$PID_$d; before=\$before_$d"
	kill -0 "$pid" 2>/dev/null || fail "$d died while idle: $(tail -n 5 "$T/$d.log")"
	after=$(wakes "$pid")
	grew=$((after - before))
	echo "$d: voluntary_ctxt_switches $before -> $after (+$grew in ${IDLE}s)"
	[ "$grew" -le "$SLACK" ] || bad="$bad $d(+$grew)"
done
[ -z "$bad" ] || fail "woke up while idle:$bad (at most $SLACK allowed)"
ok "stund, relayd and punchd stayed asleep for ${IDLE}s"
echo PASS
