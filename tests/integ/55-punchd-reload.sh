#!/bin/sh
# punchd SIGHUP under traffic: a valid new configuration is taken without
# dropping the peer or a datagram; keys that need a restart (port,
# stund_socket, state_dir, e2e) are named in a notice line with the file
# and keep their running value; an invalid file (bad value, unknown
# key, missing file) is refused with a log line naming the file, the line
# and the key, and the running configuration keeps serving. A peer already
# up runs with the new keepalive_interval after the reload (peer.get).
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl ipcraw

M="$BIN/meshctl"
PA=$(free_port)
PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
NEWPORT=$(free_port)
mkdir -p "$T/a" "$T/b"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

conf() { # NAME PORT KEEPALIVE [extra line]
	printf '%s\n' "[punchd]" "port = $2" "mesh_secret = $T/secret" \
	    "stund_socket = $T/nostund.sock" "host_loopback = yes" \
	    "punch_interval = 50ms" "punch_timeout = 2s" "repunch = 500ms" \
	    "keepalive_interval = $3" "warn_after = 3" "dead_after = 5" \
	    ${4:+"$4"} >"$T/$1.conf"
}
run() { # NAME
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -f "$T/$1.conf"
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
# b at 1 s from the start: the follower of a pair keeps alive on the
# leader's schedule when it is shorter (punchd/link_ka.c), so with b at
# 200 ms a that follows would stay at 200 ms after its own reload to 1 s
conf a "$PA" 200ms
conf b "$PB" 1s
run a
run b
"$M" -S "$T/b" punch -w 3000 alice "127.0.0.1:$PA" >/dev/null &
pb=$!
"$M" -S "$T/a" punch -w 3000 bob "127.0.0.1:$PB" >/dev/null || fail "punch"
wait $pb || fail "punch from b"
pid_a=$PID_a

start lb "$T/recv" "$M" -S "$T/b" --json listen --events
wait_for 5 grep -q listening "$T/recv" || fail "listen on b"
sender() {
	i=0
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		"$M" -S "$T/a" send bob "n $i" >/dev/null 2>&1 && echo "$i" >>"$T/sent"
		sleep 0.03
	done
}
sender & PIDS="$PIDS $!"
sleep 0.5

# hup: SIGHUP to a, wait for the log line matching PATTERN
hup() {
	n0=$(wc -l <"$T/a.log")
	kill -HUP "$pid_a"
	wait_for 5 sh -c "tail -n +$((n0 + 1)) '$T/a.log' | grep -q '$1'" ||
		fail "no '$1' in the log after SIGHUP"
	tail -n +$((n0 + 1)) "$T/a.log" | grep -E 'SIGHUP|reload' | grep -v ipc_server
}
alive() { # the same process, still serving, bob still direct
	kill -0 "$pid_a" || fail "punchd a died"
	[ "$("$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status.pid')" = "$pid_a" ] ||
		fail "a is another process"
	"$M" -S "$T/a" --json peers | jq -e '.[0].state == "direct" and .[0].name == "bob"' >/dev/null ||
		fail "bob is not direct any more"
}
# kaint: the keep-alive interval a runs with bob (peer.get, which meshctl
# does not expose: [0, 1, "peer.get", {"peer": "bob"}] by hand)
kaint() {
	printf '\224\000\001\250peer.get\201\244peer\243bob' |
	    "$TOOLS/ipcraw" "$T/a/punchd.sock" 2>/dev/null | grep "^\[" |
	    jq -s '[.[] | arrays | .[3].keepalive_interval_ms // empty][0]'
}

echo "== a valid change: keepalive_interval 200ms -> 1s"
i0=$(kaint)
[ "$i0" = 200 ] || fail "bob's keep-alive interval before the reload: $i0 ms, want 200"
conf a "$PA" 1s
hup "configuration reloaded"
alive
ok "reloaded, same process, bob direct"
i1=$(kaint)
[ "$i1" = 1000 ] || fail "bob's keep-alive interval after the reload: $i1 ms, want 1000 (peers already up are re-timed)"
ok "bob, already up, re-timed: keep-alive interval ${i0} ms -> ${i1} ms"

echo "== keys that need a restart: port, stund_socket, state_dir, e2e"
conf a "$NEWPORT" 1s "e2e = no"
sed -i "s|^stund_socket = .*|stund_socket = $T/other-stund.sock|" "$T/a.conf"
echo "state_dir = $T/elsewhere" >>"$T/a.conf"
n0=$(wc -l <"$T/a.log")
hup "configuration reloaded"
tail -n +$((n0 + 1)) "$T/a.log" >"$T/hup.log"
for k in port stund_socket state_dir e2e; do
	grep -q "^<5>punchd: punchd\.$k changed in $T/a\.conf: takes effect at restart" "$T/hup.log" ||
		fail "no notice for punchd.$k: $(cat "$T/hup.log")"
done
grep -Eq "punchd\.(keepalive_interval|warn_after|dead_after|relay_url)" "$T/hup.log" &&
	fail "a key that applies at once must not be named"
alive
[ "$("$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status.port')" = "$PA" ] ||
	fail "the port must not change on SIGHUP"
[ -e "$T/elsewhere" ] && fail "state_dir must not be used before a restart"
ok "port, stund_socket, state_dir, e2e named in notices, still on $PA"
# the same file again: nothing differs from the running values any more
# than before, so the same four notices (the running values were kept)
n0=$(wc -l <"$T/a.log")
hup "configuration reloaded"
[ "$(tail -n +$((n0 + 1)) "$T/a.log" | grep -c 'takes effect at restart')" = 4 ] ||
	fail "the running values should have been kept: $(tail -n +$((n0 + 1)) "$T/a.log")"
ok "a second SIGHUP names the same four keys: the running values were kept"

echo "== invalid files are refused, the running configuration stays"
conf a "$PA" forever
hup "reload refused"
grep "reload refused" "$T/a.log" | tail -n 1 | grep -q "$T/a.conf:[0-9]*: .*keepalive_interval" ||
	fail "the refusal should name the file, the line and the key"
grep "reload refused" "$T/a.log" | tail -n 1 | grep -q "^<3>" ||
	fail "a refused reload is an error (<3>)"
alive
conf a "$PA" 1s "no_such_key = 1"
hup "reload refused"
grep "reload refused" "$T/a.log" | tail -n 1 | grep -q "no_such_key" || fail "unknown key not named"
alive
mv "$T/a.conf" "$T/a.conf.away"
hup "reload refused"
alive
mv "$T/a.conf.away" "$T/a.conf"
conf a "$PA" 1s
hup "configuration reloaded"
alive
ok "bad value, unknown key, missing file: refused; a good file is taken again"

touch "$T/stop"
sleep 0.5
sent=$(wc -l <"$T/sent")
got=$(grep -c '"event":"peer.data"' "$T/recv")
echo "datagrams a -> b through 7 reloads: $sent accepted, $got delivered"
[ "$got" = "$sent" ] || fail "$((sent - got)) datagrams lost across reloads"
grep -E '"event":"peer\.(up|down|path)"' "$T/recv" && fail "b saw the path change"
grep -q '"event":"peer.down"' "$T/recv" && fail "a reload must not drop the peer"
ok "no datagram lost, no peer event on b"
echo PASS
