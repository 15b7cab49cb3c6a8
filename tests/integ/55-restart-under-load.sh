#!/bin/sh
# Independent restarts under load, outside systemd, with the same binaries.
#
# Two pairs of punchd nodes on loopback with one relayd and one node stund
# (which asks a STUN server, a second stund in server mode):
#   a -> b  direct path (host candidates);
#   c -> d  relayed path: both punch a port nobody listens on and have no
#           other candidate (no stund, relay_signal_host=no), so they meet
#           in their relay session and stay there.
# Traffic flows all the time, both ways: `meshctl send` loops a -> b,
# b -> a, c -> d and d -> c with sequence numbers, `meshctl listen` on every
# node records what arrives (restarted with its punchd), and a
# `meshctl network --refresh` loop keeps STUN transactions going.
# Then each daemon is killed with SIGKILL and restarted 1 s later (systemd's
# RestartSec=1s), in turn:
#   stund   punchd keeps its paths (no loss at all a -> b), sees stund go,
#           reconnects and discovers its socket's mapping again;
#   punchd  a, then c: peers come back from the state file, the path is back
#           within 2 s of the restart (measured, printed, asserted);
#   relayd  c and d reconnect with backoff and are relayed again; a -> b
#           loses nothing and sees no event.
# What was lost is printed per phase: datagrams refused (the sender's punchd
# down, or no path) and datagrams accepted but never delivered (sent into
# the gap towards a peer that is restarting). a <-> b loses nothing at all
# outside a's own restart (asserted). Node ids, peer ids,
# the mesh secret and the configuration files never change (asserted).
. "$(dirname "$0")/lib.sh"
need_bin punchd stund relayd meshctl

M="$BIN/meshctl"
RESTART_GAP=1		# s between the kill and the restart (RestartSec=1s)
MAX_BACK_MS=2000	# path back this soon after punchd's restart

used=""
port() {
	p=$(free_port)
	while echo " $used " | grep -q " $p "; do p=$((p + 1)); done
	used="$used $p"
	echo "$p"
}
SP=$(port); RP=$(port); PA=$(port); PB=$(port); PC=$(port); PD=$(port)
DEAD=$(port)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
mkdir -p "$T/srv" "$T/s" "$T/r" "$T/a" "$T/b" "$T/c" "$T/d" "$T/nostund"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"

# --- the daemons -------------------------------------------------------------

start_stund() { # NAME: the node's stund, which asks the STUN server
	RUNTIME_DIRECTORY=$T/s start "$1" "$T/$1.log" "$BIN/stund" -v \
		--servers "127.0.0.1:$SP" -o stund.nat_refresh=0
}
relay_keys	# tokens required, as relayd's default
start_relayd() { # NAME
	RUNTIME_DIRECTORY=$T/r start "$1" "$T/$1.log" "$BIN/relayd" -v -f "$T/relayd.conf" \
		-l 127.0.0.1 -p "$RP"
}
conf() { # NAME PORT STUND_DIR SIGNAL_HOST: one configuration file per node
	cat >"$T/$1.conf" <<EOF
[punchd]
port = $2
mesh_secret = $T/secret
stund_socket = $3/stund.sock
relay_url = ws://127.0.0.1:$RP
relay_token = $RELAY_TOKEN
relay_signal_host = $4
host_loopback = yes
punch_interval = 50ms
punch_timeout = 1s
repunch = 500ms
keepalive_interval = 300ms
warn_after = 3
dead_after = 5
EOF
}
start_punchd() { # NAME: returns when it was exec'ed (not when ready)
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -f "$T/$1.conf"
}
answers() { "$M" -S "$T/$1" peers >/dev/null 2>&1; }
pstatus() { # NAME: punchd's status.get
	"$M" -S "$T/$1" --json status 2>/dev/null |
	    jq '.daemons[] | select(.daemon=="punchd") | .status'
}
# state NAME: the state of the node's (only) peer, "none" when unknown
state() { "$M" -S "$T/$1" --json peers 2>/dev/null | jq -r '.[0].state // "none"'; }
is_state() { [ "$(state "$1")" = "$2" ]; }

echo "== STUN server 127.0.0.1:$SP, node stund, relayd 127.0.0.1:$RP"
RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" -v \
	--server --listen "127.0.0.1:$SP" --servers none
start_stund stund
start_relayd relayd
wait_sock "$T/srv/stund.sock"
wait_sock "$T/s/stund.sock"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"

conf a "$PA" "$T/s" yes
conf b "$PB" "$T/s" yes
conf c "$PC" "$T/nostund" no
conf d "$PD" "$T/nostund" no
for n in a b c d; do start_punchd $n; done
for n in a b c d; do
	wait_sock "$T/$n/punchd.sock"
	wait_for 5 answers $n || fail "$n does not answer"
done
ida=$(cat "$T/a/node.id"); idb=$(cat "$T/b/node.id")
idc=$(cat "$T/c/node.id"); idd=$(cat "$T/d/node.id")

echo "== a <-> b direct, c <-> d relayed"
"$M" -S "$T/b" punch -w 5000 alice "127.0.0.1:$PA" >/dev/null &
p1=$!
"$M" -S "$T/d" --json punch -w 5000 "$idc" "127.0.0.1:$DEAD" >/dev/null &
p2=$!
"$M" -S "$T/c" --json punch -w 5000 "$idd" "127.0.0.1:$DEAD" >"$T/pc.json" || fail "c's punch: $(cat "$T/pc.json")"
"$M" -S "$T/a" punch -w 5000 bob "127.0.0.1:$PB" || fail "a's punch"
wait $p1 || fail "b's punch"
wait $p2 || fail "d's punch"
wait_for 5 is_state d relayed || fail "d not relayed"
[ "$(state a)" = direct ] && [ "$(state b)" = direct ] || fail "a/b not direct"
[ "$(state c)" = relayed ] || fail "c not relayed: $(state c)"
has_public() { [ "$(pstatus a | jq -r .public)" = "127.0.0.1:$PA" ]; }
wait_for 10 has_public || fail "a has no server-reflexive mapping"
"$M" -S "$T/a" peers
"$M" -S "$T/c" peers
ok "a -> b direct, c -> d relayed, a's mapping $(pstatus a | jq -r .public)"

# --- what must never change ---------------------------------------------------

invariants() {
	for n in a b c d; do
		printf '%s node.id %s\n' $n "$(cat "$T/$n/node.id")"
		printf '%s peer ids %s\n' $n "$("$M" -S "$T/$n" --json peers | jq -r '[.[].id] | sort | join(",")')"
		printf '%s config %s\n' $n "$(cksum <"$T/$n.conf")"
		printf '%s state-file mode %s\n' $n "$(stat -c %a "$T/$n/node.id")"
	done
	printf 'mesh secret %s\n' "$(cksum <"$T/secret")"
}
# the peers files are written a second after a change
wait_for 5 sh -c "test -f '$T/a/peers' && test -f '$T/c/peers'" || fail "no peers files"
invariants >"$T/inv.before"

# --- traffic ------------------------------------------------------------------

# sender DIR PEER TAG: one datagram "TAG SEQ" every 50 ms; logs SEQ RC MS
sender() {
	i=0
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		"$M" -S "$T/$1" send "$2" "$3 $i" >/dev/null 2>&1
		echo "$i $? $(now_ms)" >>"$T/sent.$3"
		sleep 0.05
	done
}
# stunloop: meshctl network --refresh every 200 ms; logs RC MS
stunloop() {
	while [ ! -e "$T/stop" ]; do
		timeout 5 "$M" -S "$T/s" network --refresh >/dev/null 2>&1
		echo "$? $(now_ms)" >>"$T/stun.log"
		sleep 0.2
	done
}
# listen_on NAME: (re)subscribe to NAME's datagrams and events, appending
listen_on() {
	n0=$(grep -c listening "$T/recv.$1" 2>/dev/null)
	"$M" -S "$T/$1" --json listen --events >>"$T/recv.$1" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 5 sh -c "[ \$(grep -c listening '$T/recv.$1') -gt ${n0:-0} ]" ||
		fail "listen on $1"
}
for n in a b c d; do listen_on $n; done
sender a bob direct & PIDS="$PIDS $!"
sender b alice back & PIDS="$PIDS $!"
sender c "$idd" relay & PIDS="$PIDS $!"
sender d "$idc" relayback & PIDS="$PIDS $!"
stunloop & PIDS="$PIDS $!"
mark() { echo "$1 $(now_ms)" >>"$T/phases"; }
mark steady
sleep 2
grep -q '"text":"direct 1"' "$T/recv.b" || fail "no direct traffic"
grep -q '"text":"relay 1"' "$T/recv.d" || fail "no relayed traffic"
grep -q '"text":"back 1"' "$T/recv.a" || fail "no direct traffic b -> a"
grep -q '"text":"relayback 1"' "$T/recv.c" || fail "no relayed traffic d -> c"
ok "traffic flowing: $(grep -c peer.data "$T/recv.b") + $(grep -c peer.data "$T/recv.a") direct, $(grep -c peer.data "$T/recv.d") + $(grep -c peer.data "$T/recv.c") relayed datagrams"

# until_ms SECONDS CMD...: run CMD every 20 ms until it succeeds; prints
# the milliseconds since $t0, or fails the test
until_ms() {
	lim=$(( $(now_ms) + $1 * 1000 )); shift
	until "$@"; do
		[ "$(now_ms)" -gt "$lim" ] && return 1
		sleep 0.02
	done
	echo $(( $(now_ms) - t0 ))
}

# --- stund --------------------------------------------------------------------

echo "== kill -9 stund"
mark stund
fwd0=$(pstatus a | jq .counters.stun_forwarded)
kill -9 "$PID_stund"
t0=$(now_ms)
gone=$(until_ms 5 sh -c "'$M' -S '$T/a' --json status 2>/dev/null | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.stund == false' >/dev/null") ||
	fail "a did not notice that stund went"
sleep "$RESTART_GAP"
[ "$(state a)" = direct ] && [ "$(state b)" = direct ] || fail "a/b must stay direct without stund"
start_stund stund2
t0=$(now_ms)
back=$(until_ms 10 sh -c "'$M' -S '$T/a' --json status 2>/dev/null | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.stund == true and .status.counters.stun_forwarded > $fwd0' >/dev/null") ||
	{ pstatus a; fail "a did not reconnect to stund and rediscover its mapping (stun_forwarded was $fwd0)"; }
[ "$(pstatus a | jq -r .public)" = "127.0.0.1:$PA" ] || fail "a's mapping after stund's restart"
wait_for 10 sh -c "'$M' -S '$T/b' --json status | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.stund == true' >/dev/null" ||
	fail "b did not reconnect to stund"
ok "stund: a saw it go in $gone ms; back: reconnected and mapping rediscovered $back ms after the restart ($(pstatus a | jq -r .public)); a -> b stayed direct"
sleep 1

# --- punchd, direct -----------------------------------------------------------

echo "== kill -9 punchd a (direct pair)"
mark punchd-direct
kill -9 "$PID_a"
sleep "$RESTART_GAP"
t0=$(now_ms)
start_punchd a
wait_for 5 answers a || fail "a does not answer after its restart"
listen_on a
up_a=$(until_ms 10 is_state a direct) || fail "a not direct within 10 s of its restart"
grep -q "1 peer from $T/a/peers, punching again" "$T/a.log" || fail "a did not reload its peers"
sleep 1

# --- punchd, relayed ----------------------------------------------------------

echo "== kill -9 punchd c (relayed pair)"
mark punchd-relay
kill -9 "$PID_c"
sleep "$RESTART_GAP"
t0=$(now_ms)
start_punchd c
wait_for 5 answers c || fail "c does not answer after its restart"
listen_on c
up_c=$(until_ms 10 is_state c relayed) || fail "c not relayed within 10 s of its restart"
wait_for 5 is_state d relayed || fail "d not relayed after c's restart"
grep -q "1 peer from $T/c/peers, punching again" "$T/c.log" || fail "c did not reload its peers"
sleep 1

# --- relayd -------------------------------------------------------------------

echo "== kill -9 relayd"
mark relayd
# path events b has seen so far (data lines keep arriving: one grep)
# b's path events, but a switch between two direct paths (path choice:
# punchd/choose.c, e.g. LAN/4 -> LAN/6 "cheaper for 2 s"), which may come
# at any time and has nothing to do with the relay
path_events() {
	grep -E '"event":"peer\.(up|path|down)"' "$1" | jq -c 'select(.event != "peer.path" or
	    .params.state != "direct" or
	    ((.params.reason // "") | test("cheaper") | not))' | wc -l
}
ev_b=$(path_events "$T/recv.b")
kill -9 "$PID_relayd"
t0=$(now_ms)
lost_c=$(until_ms 5 sh -c "! [ \"\$('$M' -S '$T/c' --json peers | jq -r '.[0].state')\" = relayed ]") ||
	fail "c should notice the relay is gone"
sleep "$RESTART_GAP"
t0=$(now_ms)
start_relayd relayd2
relay_c=$(until_ms 15 is_state c relayed) || fail "c not relayed again within 15 s"
relay_d=$(until_ms 15 is_state d relayed) || fail "d not relayed again"
[ "$(state a)" = direct ] && [ "$(state b)" = direct ] || fail "a/b must stay direct through relayd's restart"
sleep 1
mark end
touch "$T/stop"
sleep 0.5

# --- what was lost ------------------------------------------------------------

got() { grep -o "\"text\":\"$2 [0-9]*\"" "$T/recv.$1" | tr -dc '0-9\n' >"$T/got.$2"; }
got b direct; got a back; got d relay; got c relayback
# per phase and pair: sent, refused by meshctl (exit != 0), accepted but
# not delivered, and the longest stretch without a delivered datagram
report() { # TAG LABEL
	awk -v tag="$1" -v label="$2" '
		FILENAME == ARGV[1] { ph[++np] = $1; at[np] = $2; next }
		FILENAME == ARGV[2] { got[$1] = 1; next }
		{
			for (k = np - 1; k >= 1; k--) if ($3 >= at[k]) break
			if (k < 1) next
			p = ph[k]; sent[p]++
			if ($2 != 0) refused[p]++
			else if (!($1 in got)) lost[p]++
			# a gap belongs to the phase in which it ends
			if ($2 == 0 && ($1 in got)) {
				if (seen && $3 - last > gap[p]) gap[p] = $3 - last
				last = $3; seen = 1
			}
		}
		END {
			for (k = 1; k < np; k++) {
				p = ph[k]
				printf "%-14s %-9s %5d %8d %6d %9d\n", p, label, sent[p], refused[p], lost[p], gap[p]
				if ((tag == "direct" || tag == "back") && p != "punchd-direct" && refused[p] + lost[p] > 0) bad = 1
			}
			exit bad
		}' "$T/phases" "$T/got.$1" "$T/sent.$1"
}
echo "== what was lost (loopback; a send every 50 ms each way; gap_ms = longest time without a delivered datagram)"
printf '%-14s %-9s %5s %8s %6s %9s\n' phase traffic sent refused lost gap_ms
for tl in direct:a-\>b back:b-\>a relay:c-\>d relayback:d-\>c; do
	report "${tl%%:*}" "${tl#*:}" >"$T/report.${tl%%:*}" ||
		{ cat "$T/report.${tl%%:*}"; fail "a <-> b (${tl#*:}) lost datagrams when punchd a was not the one restarting"; }
done
for ph in steady stund punchd-direct punchd-relay relayd; do
	for tag in direct back relay relayback; do grep "^$ph " "$T/report.$tag"; done
done
awk '{ s[$1]++; if ($1 != 0) f++ } END { printf "STUN refreshes: %d, %d failed (stund away)\n", NR, f + 0 }' "$T/stun.log"
stun_fail=$(awk '$1 != 0' "$T/stun.log" | wc -l)
[ "$stun_fail" -ge 1 ] || fail "some STUN refresh should have failed while stund was away"
[ "$(awk '$1 == 0' "$T/stun.log" | tail -n 1 | wc -l)" = 1 ] || fail "STUN refreshes work again"

echo "== path events seen by b (a restarted) and d (c and relayd restarted)"
for n in b d; do
	grep -E '"event":"peer\.(up|path|down)"' "$T/recv.$n" |
	    jq -r '"  \(.event) \(.params.state) \(.params.reason // "")"' | uniq -c | sed "s/^/$n: /"
done
ev_b2=$(path_events "$T/recv.b")
[ "$ev_b2" = "$ev_b" ] || fail "b saw events while relayd restarted (direct peers must be untouched)"

echo "== never lost: node ids, peer ids, mesh secret, configuration"
invariants >"$T/inv.after"
diff "$T/inv.before" "$T/inv.after" || fail "identity, peers or configuration changed"
cat "$T/inv.after" | grep -E '^a |^mesh'
for n in a b c d; do
	"$BIN/punchd" -n -f "$T/$n.conf" | grep -q "configuration OK" || fail "$n.conf"
	[ "$(grep -v '^#' "$T/$n/peers" | cut -d' ' -f1 | sort | paste -sd,)" = "$(sed -n "s/^$n peer ids //p" "$T/inv.before")" ] ||
		fail "$n's peers file lists other peers"
done
ok "same node ids, peer ids, mesh secret, configs and peers files"

echo "== restart figures"
echo "stund:          punchd noticed in $gone ms; reconnected + mapping rediscovered $back ms after restart"
echo "punchd direct:  a direct again $up_a ms after its restart (limit $MAX_BACK_MS)"
echo "punchd relayed: c relayed again $up_c ms after its restart (limit $MAX_BACK_MS)"
echo "relayd:         c lost the relay in $lost_c ms; relayed again c $relay_c ms, d $relay_d ms after relayd's restart (client backoff 250 ms doubling)"
[ "$up_a" -le "$MAX_BACK_MS" ] || fail "a's path came back after $up_a ms"
[ "$up_c" -le "$MAX_BACK_MS" ] || fail "c's path came back after $up_c ms"
echo PASS
