#!/bin/sh
# A captured JOIN_HELLO replayed by a stranger cannot turn the inviter
# against anyone (docs/security.md, "The join handshake"). b joins a through
# an invite whose local endpoint is a sniffer (b's HELLOs to it are what an
# on-path attacker captures), then over the public endpoint, a itself. b
# stops (its peer on a goes down: the case where the old inviter punched
# the replay's source 50 times); a stranger replays the captured HELLOs:
#   1. from its own address: nothing comes back, counted in join_moved;
#   2. fast, from many ports: nothing, no peer made;
#   3. from b's own address (127.0.0.1:PB, the first use's source, where a
#      listener now sits): the cached WELCOME at most 4 + t times in t s.
# The figures (datagrams and bytes a sent per replayed HELLO) are printed.
# Spoofed sources in a network namespace: tests/natlab/21-join-replay.sh.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl udpflood
UF="$TOOLS/udpflood"
M="$BIN/meshctl"
PA=$(free_port); PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
X=$(free_port); [ "$X" = "$PA" ] || [ "$X" = "$PB" ] && X=$((PB + 1))
run() { # NAME PORT
	mkdir -p "$T/$1"
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -f /dev/null -p "$2" -o punchd.host_loopback=yes \
		-o punchd.stun_refresh=0 -o punchd.punch_interval=50ms \
		-o punchd.keepalive_interval=300ms -o punchd.warn_after=2 \
		-o punchd.dead_after=3 -o punchd.repunch=60s
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
ctr() { # NODE: the counters
	"$M" -S "$T/$1" --json status | jq -c '.daemons[] | select(.daemon=="punchd") | .status.counters'
}
d() { echo $(( $(echo "$c1" | jq ".$1") - $(echo "$c0" | jq ".$1") )); }
field() { sed -n "s/.* $1 \\([0-9]*\\).*/\\1/p" "$2"; }
run a "$PA"; run b "$PB"
idb=$(cat "$T/b/node.id")

"$M" -S "$T/a" init home >/dev/null || fail "init"
code=$("$M" -S "$T/a" --json invite --local "127.0.0.1:$X" --public "127.0.0.1:$PA" | jq -r .token)
mkdir -p "$T/cap"
start cap "$T/cap.out" "$UF" -L "127.0.0.1:$X" -w 3 -o "$T/cap"
wait_for 3 grep -q listening "$T/cap.out" || fail "sniffer"
"$M" -S "$T/b" join --timeout 700 --name bob "$code" >"$T/j.out" 2>&1 || { cat "$T/j.out"; fail "join"; }
cat "$T/j.out"
grep -q "joined mesh home" "$T/j.out" || fail "b did not join"
wait "$PID_cap"
# b also punched the code's local endpoint after its WELCOME: keep the
# HELLOs (type byte 9, proto/packet.h), replays of the rest are 71's
for f in "$T"/cap/*; do
	[ "$(od -An -tu1 -j1 -N1 "$f" | tr -d ' ')" = 9 ] || rm -f "$f"
done
ncap=$(ls "$T/cap" | wc -l)
[ "$ncap" -ge 1 ] || fail "no HELLO captured"
hsize=$(stat -c %s "$(ls -d "$T"/cap/* | head -n 1)")
ok "b joined; $ncap of its HELLOs captured ($hsize bytes each)"

echo "== b stops; its peer on a goes down"
kill "$PID_b"; wait "$PID_b" 2>/dev/null
wait_for 10 sh -c "$M -S $T/a --json peers | jq -e '.[] | select(.id == \"$idb\") | select(.state != \"direct\" and .state != \"degraded\")'" ||
	fail "b's peer still up on a"
"$M" -S "$T/a" peers
files=$(for f in "$T"/cap/*; do printf -- '-f %s ' "$f"; done)

echo "== 1. a stranger replays them, 100 times from one port"
c0=$(ctr a)
"$UF" -m file $files -n 100 -r 200 -w 2 127.0.0.1:$PA >"$T/r1.out"
c1=$(ctr a)
cat "$T/r1.out"
echo "a: join_repeat +$(d join_repeat) join_moved +$(d join_moved) join_limited +$(d join_limited)"
r=$(field replies "$T/r1.out"); rb=$(field reply_bytes "$T/r1.out")
echo "per replayed HELLO ($hsize B): $(awk -v r="$r" 'BEGIN { printf "%.2f", r / 100 }') datagrams, $(awk -v b="$rb" 'BEGIN { printf "%.1f", b / 100 }') bytes back"
[ "$r" = 0 ] || fail "the stranger got $r datagrams ($rb bytes) back for 100 replayed HELLOs"
[ "$(d join_repeat)" -eq 100 ] || fail "join_repeat +$(d join_repeat), want 100"
[ "$(d join_moved)" -eq 100 ] || fail "join_moved +$(d join_moved), want 100"
ok "100 replays from a stranger: 0 datagrams back, all counted"

echo "== 2. 5,000 replays from 64 ports, as fast as loopback takes them"
c0=$(ctr a)
"$UF" -m file $files -n 5000 -S 64 -w 2 127.0.0.1:$PA >"$T/r2.out"
c1=$(ctr a)
cat "$T/r2.out"
echo "a: join_repeat +$(d join_repeat) join_moved +$(d join_moved) tx_datagrams +$(d tx_datagrams)"
[ "$(field replies "$T/r2.out")" = 0 ] || fail "the flood got $(field replies "$T/r2.out") datagrams back"
[ "$("$M" -S "$T/a" --json peers | jq length)" = 1 ] || fail "a replay made a peer"
[ "$(d join_moved)" -ge 1000 ] || fail "join_moved +$(d join_moved): replays not counted"
ok "5,000 replays: 0 datagrams back, still 1 peer"

echo "== 3. replays from b's own address (the first use's source)"
# b is stopped, so its port is free: the replayer binds it, as a spoofer
# with b's address would send, and counts what a sends there
c0=$(ctr a)
"$UF" -m file $files -n 100 -r 50 -w 1 -b "127.0.0.1:$PB" 127.0.0.1:$PA >"$T/r3.out"
c1=$(ctr a)
cat "$T/r3.out"
echo "a: join_repeat +$(d join_repeat) join_limited +$(d join_limited) join_moved +$(d join_moved)"
r=$(field replies "$T/r3.out"); rb=$(field reply_bytes "$T/r3.out")
secs=$(sed -n 's/.* secs \([0-9.]*\) .*/\1/p' "$T/r3.out")
bound=$(awk -v s="$secs" 'BEGIN { print int(4 + s + 1 + 1) }')
echo "per replayed HELLO ($hsize B): $(awk -v r="$r" 'BEGIN { printf "%.2f", r / 100 }') datagrams, $(awk -v b="$rb" 'BEGIN { printf "%.1f", b / 100 }') bytes back; $r WELCOMEs in ${secs}s + 1 s (bound $bound)"
[ "$r" -ge 1 ] || fail "the first source got no WELCOME at all (a lost WELCOME must be resent)"
[ "$r" -le "$bound" ] || fail "$r WELCOMEs to the first source in ${secs}s, bound $bound"
[ "$(d join_limited)" -ge $((100 - bound)) ] || fail "join_limited +$(d join_limited)"
ok "100 replays from the first source: $r cached WELCOMEs (<= $bound), the rest limited and counted"
grep -q "join_limited" "$T/a.log" && fail "counters in the log?"
echo PASS
