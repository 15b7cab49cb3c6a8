#!/bin/sh
# A relay's refusal reaches the user, at once and with what to do.
#  - join over the relay with a bad token: meshctl join ends in well under
#    the relay timeout with "refused: 403 bad token", not "timeout"; with
#    no token, "401 token required"; after SIGHUP with a good token the same
#    invite joins;
#  - a pair session refused: peer.list's relay_error and relay_hint,
#    status.get's relays (state refused, last_refusal), meshctl peers and
#    status print it with the action, the log says it once however many
#    sessions are refused, and the next attempt waits minutes, not 0.25 s;
#  - SIGHUP with a good token: the waiting session retries at once and the
#    pair is relayed within seconds.
. "$(dirname "$0")/lib.sh"
need_bin punchd relayd meshctl
command -v jq >/dev/null 2>&1 || skip "skipped: jq is not installed"

RP=$(free_port)
mkdir -p "$T/r" "$T/i" "$T/j" "$T/a" "$T/b"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/relaykey"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/otherkey"
printf '[relayd]\nsecret_file = %s\n' "$T/relaykey" >"$T/relayd.conf"
printf '[relayd]\nsecret_file = %s\n' "$T/otherkey" >"$T/other.conf"
M="$BIN/meshctl"
URL="ws://127.0.0.1:$RP"
port() { p=$(free_port); while [ "$p" = "$RP" ]; do p=$(free_port); done; echo "$p"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

TOK=$("$BIN/relayd" -f "$T/relayd.conf" --issue-access --ttl 1h) || fail "issue"
BAD=$("$BIN/relayd" -f "$T/other.conf" --issue-access --ttl 1h) || fail "issue"
RUNTIME_DIRECTORY=$T/r start relayd "$T/relayd.log" "$BIN/relayd" -v \
	-f "$T/relayd.conf" -l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"

conf() { # NAME PORT TOKEN [extra line]
	printf '%s\n' "[punchd]" "port = $2" "relay_url = $URL" \
	    "relay_token = $3" "relay_signal_host = no" "host_loopback = yes" \
	    "stund_socket = $T/nostund.sock" "punch_interval = 50ms" \
	    "punch_timeout = 1s" "repunch = 500ms" "keepalive_interval = 300ms" \
	    "stun_refresh = 0" ${4:+"$4"} >"$T/$1.conf"
}
run() { # NAME
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -f "$T/$1.conf"
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
hup() { # NAME: SIGHUP, and wait for one more "configuration reloaded"
	n0=$(grep -c "configuration reloaded" "$T/$1.log")
	eval "kill -HUP \$PID_$1"
	wait_for 5 sh -c "[ \$(grep -c 'configuration reloaded' '$T/$1.log') -gt $n0 ]" || fail "$1 did not reload"
}

echo "== join over the relay with a token of another relay: refused at once"
conf i "$(port)" "$TOK"
conf j "$(port)" "$BAD"
run i
run j
"$M" -S "$T/i" init refused-test >/dev/null || fail "init"
CODE=$("$M" -S "$T/i" --json invite --local "" --public "" | jq -r .token)
[ -n "$CODE" ] && [ "$CODE" != null ] || fail "no invite"
t0=$(now_ms)
"$M" -S "$T/j" join --paths relay --relay-timeout 10000 "$CODE" >"$T/join1.out" 2>&1 &&
	fail "join with a bad token succeeded: $(cat "$T/join1.out")"
t1=$(now_ms)
cat "$T/join1.out"
grep -q "relay $URL ... refused: 403 bad token" "$T/join1.out" ||
	fail "meshctl join does not say the relay refused: $(cat "$T/join1.out")"
grep -q "relayd --issue-access" "$T/join1.out" || fail "no action in: $(cat "$T/join1.out")"
grep -q "timeout" "$T/join1.out" && fail "a timeout was reported"
[ $((t1 - t0)) -lt 3000 ] || fail "the refused join took $((t1 - t0)) ms (relay timeout 10 s)"
ok "join refused in $((t1 - t0)) ms: 403 bad token, with the action"

echo "== no token at all: 401, and the action is to set punchd.relay_token"
conf j "$(sed -n 's/^port = //p' "$T/j.conf")" ""
hup j
"$M" -S "$T/j" join --paths relay "$CODE" >"$T/join2.out" 2>&1 && fail "join without a token succeeded"
grep -q "refused: 401 token required (no punchd.relay_token)" "$T/join2.out" ||
	fail "no 401 said: $(cat "$T/join2.out")"
grep -q "set punchd.relay_token" "$T/join2.out" || fail "no action: $(cat "$T/join2.out")"
ok "401 token required, set punchd.relay_token"

echo "== SIGHUP with the relay's token: the same invite joins over the relay"
conf j "$(sed -n 's/^port = //p' "$T/j.conf")" "$TOK"
hup j
"$M" -S "$T/j" join --paths relay "$CODE" >"$T/join3.out" 2>&1 || fail "join with a good token: $(cat "$T/join3.out")"
grep -q "joined mesh refused-test via relay" "$T/join3.out" || fail "$(cat "$T/join3.out")"
ok "joined over the relay after the new token"

echo "== a pair session refused: peers, status, one log line, a long wait"
PA=$(port); PB=$(port); DEAD=$(port)
conf a "$PA" "$TOK" "mesh_secret = $T/secret"
conf b "$PB" "$BAD" "mesh_secret = $T/secret"
run a
run b
ida=$(cat "$T/a/node.id"); idb=$(cat "$T/b/node.id")
# by node id: a relay session needs the peer's id (its name is a hash of
# both); each punches a dead port, so only the relay could carry them
"$M" -S "$T/a" punch -w 1000 "$idb" "127.0.0.1:$DEAD" >/dev/null 2>&1 &
"$M" -S "$T/b" punch -w 1000 "$ida" "127.0.0.1:$DEAD" >/dev/null 2>&1
# and a second session on the same relay, refused the same way
"$M" -S "$T/b" punch -w 500 0123456789abcdef "127.0.0.1:$(port)" >/dev/null 2>&1
wait_for 5 sh -c "'$M' -S '$T/b' --json peers | jq -e '.[] | select(.relay_error != null)' >/dev/null" ||
	fail "no relay_error in b's peers: $("$M" -S "$T/b" --json peers)"
"$M" -S "$T/b" --json peers | jq -e --arg u "$URL" '[.[] | select(.relay_error ==
	"relay \($u) refused: 403 bad token")] | length >= 1' >/dev/null ||
	fail "relay_error: $("$M" -S "$T/b" --json peers | jq -c '[.[].relay_error]')"
"$M" -S "$T/b" --json peers | jq -e '[.[] | select(.relay_hint != null) |
	.relay_hint | test("relayd --issue-access")] | all' >/dev/null || fail "relay_hint"
"$M" -S "$T/b" peers | tee "$T/peers.out"
grep -q "relay $URL refused: 403 bad token: ask the relay operator" "$T/peers.out" ||
	fail "meshctl peers does not say it"
"$M" -S "$T/b" --json status >"$T/status.json"
jq -e --arg u "$URL" '.daemons[] | select(.daemon == "punchd") | .status.relays[] |
	select(.url == $u) | .state == "refused" and .configured and
	.last_refusal.status == 403 and .last_refusal.reason == "bad_mac" and
	(.last_refusal.hint | test("new token"))' "$T/status.json" >/dev/null ||
	fail "status.get relays: $(jq -c '.daemons[] | select(.daemon == "punchd") | .status.relays' "$T/status.json")"
"$M" -S "$T/b" status | tee "$T/status.out" | grep -q "relay $URL refused: 403 bad token" ||
	fail "meshctl status does not say it: $(cat "$T/status.out")"
n=$(grep -c "relay $URL refused: 403 bad token (punchd.relay_token)" "$T/b.log")
[ "$n" -eq 1 ] || fail "the refusal was logged $n times (want once)"
refusals=$(jq -r --arg u "$URL" '.daemons[] | select(.daemon == "punchd") | .status.relays[] |
	select(.url == $u) | .last_refusal.count' "$T/status.json")
[ "$refusals" -ge 2 ] || fail "$refusals refusals counted (two sessions were refused)"
grep "next attempt on $URL in" "$T/b.log" | tail -n 1
wait_s=$(grep "next attempt on $URL in" "$T/b.log" | tail -n 1 | sed 's/.* in \([0-9]*\).*/\1/')
[ "$wait_s" -ge 200 ] || fail "after a 403 the next attempt comes in $wait_s s"
ok "refused: relay_error, status relays, peers and status lines, $refusals refusals logged once, next try in ${wait_s}s"

echo "== SIGHUP with the good token: the waiting session retries at once"
sleep 0.5
before=$(grep -c "refused: token bad_mac" "$T/relayd.log")
conf b "$PB" "$TOK" "mesh_secret = $T/secret"
t0=$(now_ms)
hup b
wait_for 5 sh -c "'$M' -S '$T/b' --json peers | jq -e --arg id '$ida' '.[] | select(.id == \$id) | .state == \"relayed\"' >/dev/null" ||
	fail "b not relayed after the new token: $("$M" -S "$T/b" --json peers | jq -c .)"
t1=$(now_ms)
grep -q "relay $URL accepts us again" "$T/b.log" || fail "no 'accepts us again' line"
"$M" -S "$T/b" --json status | jq -e --arg u "$URL" '.daemons[] | select(.daemon == "punchd") |
	.status.relays[] | select(.url == $u) | .state == "accepted" and .sessions >= 1' >/dev/null ||
	fail "status after the new token"
after=$(grep -c "refused: token bad_mac" "$T/relayd.log")
[ "$after" -eq "$before" ] || fail "relayd refused more after the new token"
ok "relayed $((t1 - t0)) ms after SIGHUP (the refused wait was ${wait_s}s)"
echo PASS
