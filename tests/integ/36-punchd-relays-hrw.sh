#!/bin/sh
# Several relays, rendezvous hashing (punchd/relay_pick.c): four nodes,
# three relayd (tokens on), every node given the relay list in another
# order. Each of the six pairs is kept off a direct path (both punch a dead
# port, no host candidates) and must meet on one relay, the same on both
# sides, whatever each side's list order. Stopping the relay most pairs
# use moves only its pairs, to one relay on both sides, relayed again
# within seconds; the others never reconnect. meshctl relays says which
# relay is down and how many sessions each carries. When the relay comes
# back, its pairs (and only they) return to it (punchd.relay_return). A
# node whose token every relay refuses sees why in meshctl relays.
. "$(dirname "$0")/lib.sh"
need_bin punchd relayd meshctl

M="$BIN/meshctl"
NODES="a b c d"
relay_keys
R1=$(free_port); R2=$(free_port); R3=$(free_port)
while [ "$R2" = "$R1" ]; do R2=$(free_port); done
while [ "$R3" = "$R1" ] || [ "$R3" = "$R2" ]; do R3=$(free_port); done
U1="ws://127.0.0.1:$R1"; U2="ws://127.0.0.1:$R2"; U3="ws://127.0.0.1:$R3"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"

relay() { # N PORT
	mkdir -p "$T/r$1"
	RUNTIME_DIRECTORY=$T/r$1 start "relayd$1" "$T/relayd$1.log" \
		"$BIN/relayd" -v -f "$T/relayd.conf" -l 127.0.0.1 -p "$2"
	wait_for 5 sh -c "ss -Hlnt 'sport = :$2' | grep -q ." ||
		fail "relayd $1 not listening on $2"
}
relay 1 "$R1"; relay 2 "$R2"; relay 3 "$R3"
echo "== relays $U1 $U2 $U3, tokens required"

node() { # NAME LIST [TOKEN]
	mkdir -p "$T/$1"
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$(free_port)" \
		-o punchd.mesh_secret="$T/secret" \
		-o punchd.relay_url="$2" -o punchd.relay_token="${3:-$RELAY_TOKEN}" \
		-o punchd.relay_return=1s -o punchd.relay_signal_host=no \
		-o punchd.host_loopback=yes -o punchd.punch_interval=50ms \
		-o punchd.punch_timeout=1s -o punchd.repunch=2s \
		-o punchd.keepalive_interval=300ms -o punchd.stun_refresh=0
}
# the same set, four orders: only a hash of the set can agree
node a "$U1,$U2,$U3"
node b "$U3,$U1,$U2"
node c "$U2,$U3,$U1"
node d "$U3 $U2 $U1"
for n in $NODES; do
	wait_sock "$T/$n/punchd.sock"
	wait_for 5 "$M" -S "$T/$n" peers || fail "$n does not answer"
	eval "id_$n=\$(cat \"\$T/$n/node.id\")"
done
id() { eval "echo \$id_$1"; }
PAIRS="a:b a:c a:d b:c b:d c:d"

echo "== six pairs, no direct path: each meets on a relay"
pids=""
for pr in $PAIRS; do
	x=${pr%:*}; y=${pr#*:}
	# a dead port of its own: an endpoint names one peer
	"$M" -S "$T/$x" punch -w 8000 "$(id "$y")" "127.0.0.1:$(free_port)" >"$T/p$x$y" 2>&1 &
	pids="$pids $!"
	"$M" -S "$T/$y" punch -w 8000 "$(id "$x")" "127.0.0.1:$(free_port)" >"$T/p$y$x" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done

# ep X Y: the relay X reaches Y through, "" when X's peer Y is not relayed
ep() {
	"$M" -S "$T/$1" --json peers | jq -r --arg id "$(id "$2")" \
	    '.[] | select(.id == $id and .state == "relayed") | .endpoint'
}
# met: every pair relayed on one relay, the same on both sides; records
# each pair's relay in $T/on.X:Y
met() {
	for pr in $PAIRS; do
		x=${pr%:*}; y=${pr#*:}
		e1=$(ep "$x" "$y"); e2=$(ep "$y" "$x")
		[ -n "$e1" ] && [ "$e1" = "$e2" ] || return 1
		echo "$e1" >"$T/on.$pr"
	done
}
wait_for 10 met || {
	for n in $NODES; do "$M" -S "$T/$n" peers; done
	fail "the pairs did not meet on one relay each"
}
for pr in $PAIRS; do echo "  $pr on $(cat "$T/on.$pr")"; done
ok "six pairs, each on one relay on both sides (lists in four orders)"

# conns N URL: connections node N's sessions made to URL so far
conns() { grep -c "relay $2 connected" "$T/$1.log"; }
# rows N: node N's meshctl relays, table and JSON
"$M" -S "$T/a" relays | tee "$T/relays.a"
for u in "$U1" "$U2" "$U3"; do
	n=0
	for pr in a:b a:c a:d; do [ "$(cat "$T/on.$pr")" = "$u" ] && n=$((n + 1)); done
	"$M" -S "$T/a" --json relays | jq -e --arg u "$u" --argjson n "$n" \
	    '.[] | select(.url == $u) | .sessions == $n and .relayed_peers == $n and
	     .reach == (if $n > 0 then "connected" else "untried" end)' >/dev/null ||
		fail "a's relays: $u should carry $n sessions"
	if [ "$n" -gt 0 ]; then
		grep -q "^$u  *connected  *[-0-9.ms]*  *$n  *$n\$" "$T/relays.a" ||
			fail "meshctl relays row of $u"
	fi
done
ok "meshctl relays: each relay's sessions and relayed peers"

echo "== the busiest relay stops"
X=$(cat "$T"/on.* | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
case $X in "$U1") XN=1 ;; "$U2") XN=2 ;; *) XN=3 ;; esac
moved=""; stayed=""
for pr in $PAIRS; do
	if [ "$(cat "$T/on.$pr")" = "$X" ]; then moved="$moved $pr"; else stayed="$stayed $pr"; fi
done
echo "  $X carries$moved; the others:$stayed"
for n in $NODES; do for u in "$U1" "$U2" "$U3"; do
	echo "$(conns "$n" "$u")" >"$T/c0.$n.${u##*:}"
done; done
for pr in $stayed; do cp "$T/on.$pr" "$T/was.$pr"; done
eval "kill \$PID_relayd$XN"
t0=$(date +%s)
wait_for 10 met || {
	for n in $NODES; do "$M" -S "$T/$n" peers; done
	fail "the pairs of $X were not relayed again on one relay"
}
t1=$(date +%s)
for pr in $moved; do
	[ "$(cat "$T/on.$pr")" != "$X" ] || fail "$pr still on the stopped relay"
	echo "  $pr now on $(cat "$T/on.$pr")"
done
for pr in $stayed; do
	cmp -s "$T/on.$pr" "$T/was.$pr" || fail "$pr moved, but its relay did not stop"
done
# only the moved pairs' sessions connected anew: one per moved pair per side
for n in $NODES; do for u in "$U1" "$U2" "$U3"; do
	[ "$u" = "$X" ] && continue
	want=$(cat "$T/c0.$n.${u##*:}")
	for pr in $moved; do
		case ":$pr:" in *":$n:"*) [ "$(cat "$T/on.$pr")" = "$u" ] && want=$((want + 1)) ;; esac
	done
	got=$(conns "$n" "$u")
	[ "$got" = "$want" ] || fail "$n connected to $u $got times, want $want (only moved pairs reconnect)"
done; done
ok "only $X's pairs moved, relayed again within $((t1 - t0 + 1)) s"

"$M" -S "$T/a" relays | tee "$T/relays.a2"
if [ -n "$(for pr in $moved; do case $pr in a:*) echo y ;; esac; done)" ]; then
	grep -q "^$X  *down " "$T/relays.a2" || fail "meshctl relays: $X should be down"
	"$M" -S "$T/a" --json relays | jq -e --arg u "$X" \
	    '.[] | select(.url == $u) | .reach == "down" and .down_at != null and .sessions == 0' \
	    >/dev/null || fail "a's relays: $X down"
	ok "meshctl relays: $X down"
fi

echo "== $X returns: its pairs go back, the others stay"
for n in $NODES; do for u in "$U1" "$U2" "$U3"; do
	echo "$(conns "$n" "$u")" >"$T/c1.$n.${u##*:}"
done; done
relay "$XN" "${X##*:}"
back() {
	met || return 1
	for pr in $moved; do [ "$(cat "$T/on.$pr")" = "$X" ] || return 1; done
}
wait_for 10 back || {
	for n in $NODES; do "$M" -S "$T/$n" peers; done
	fail "the pairs of $X did not return to it"
}
for pr in $stayed; do
	cmp -s "$T/on.$pr" "$T/was.$pr" || fail "$pr moved when $X returned"
done
for n in $NODES; do for u in "$U1" "$U2" "$U3"; do
	[ "$u" = "$X" ] && continue
	[ "$(conns "$n" "$u")" = "$(cat "$T/c1.$n.${u##*:}")" ] ||
		fail "$n reconnected to $u when $X returned"
done; done
ok "$X took back its pairs only"

echo "== a node with a token the relays refuse"
node e "$U2,$U1,$U3" "v1.0.notatoken"
wait_sock "$T/e/punchd.sock"
wait_for 5 "$M" -S "$T/e" peers || fail "e does not answer"
"$M" -S "$T/e" punch -w 3000 "$id_a" "127.0.0.1:$(free_port)" >/dev/null 2>&1
refused() {
	[ "$("$M" -S "$T/e" --json relays | jq '[.[] | select(.reach == "refused")] | length')" = 3 ]
}
wait_for 10 refused || fail "e's relays should all refuse its token"
"$M" -S "$T/e" relays | tee "$T/relays.e"
for u in "$U1" "$U2" "$U3"; do
	grep -q "^$u  *refused  *-  *0  *0\$" "$T/relays.e" || fail "meshctl relays row of $u on e"
done
[ "$(grep -c "^  refused: 40[13] .* (malformed)\$" "$T/relays.e")" = 3 ] ||
	fail "each refusal with its status and reason"
grep -q "relay_token" "$T/relays.e" || fail "what to do about it"
ok "meshctl relays: refused, with the reason and what to do"
echo PASS
