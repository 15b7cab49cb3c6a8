#!/bin/sh
# An invite that carries the relay's access token (punchd.invite_relay_token,
# opt-in): a joiner with no relay_token of its own joins over a relay that
# requires tokens, keeps the token in its mesh state, and its own relay
# sessions are then accepted with it. Without the option the same joiner is
# refused (401). The token is in the code only, never in invite --json.
. "$(dirname "$0")/lib.sh"
need_bin punchd relayd meshctl
command -v jq >/dev/null 2>&1 || skip "skipped: jq is not installed"

M="$BIN/meshctl"
relay_keys
RP=$(free_port)
URL="ws://127.0.0.1:$RP"
port() { p=$(free_port); while [ "$p" = "$RP" ]; do p=$(free_port); done; echo "$p"; }
RUNTIME_DIRECTORY=$T/r start relayd "$T/relayd.log" "$BIN/relayd" -v \
	-f "$T/relayd.conf" -l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"

run() { # NAME [-o ...]
	n=$1; shift
	mkdir -p "$T/$n"
	RUNTIME_DIRECTORY=$T/$n STATE_DIRECTORY=$T/$n start "$n" "$T/$n.log" \
		"$BIN/punchd" -v -f /dev/null -p "$(port)" \
		-o punchd.relay_url="$URL" -o punchd.host_loopback=yes \
		-o punchd.stund_socket="$T/nostund.sock" -o punchd.stun_refresh=0 \
		-o punchd.punch_interval=50ms -o punchd.repunch=500ms "$@"
	wait_sock "$T/$n/punchd.sock"
	wait_for 5 "$M" -S "$T/$n" peers || fail "$n does not answer"
}

echo "== without invite_relay_token: a joiner with no token is refused (401)"
run i -o punchd.relay_token="$RELAY_TOKEN"
run j
"$M" -S "$T/i" init carry >/dev/null || fail "init"
"$M" -S "$T/i" --json invite --local - --public - >"$T/inv1.json" || fail "invite"
"$M" -S "$T/j" join --paths relay "$(jq -r .token "$T/inv1.json")" >"$T/j1.out" 2>&1 &&
	fail "joined without a token: $(cat "$T/j1.out")"
grep -q "refused: 401 token required" "$T/j1.out" || fail "$(cat "$T/j1.out")"
ok "refused: $(grep 'refused' "$T/j1.out" | head -n 1 | cut -c1-60)..."

echo "== invite_relay_token=auto: the code carries i's token"
kill "$PID_i"; wait "$PID_i" 2>/dev/null
run i2 -o punchd.relay_token="$RELAY_TOKEN" -o punchd.invite_relay_token=auto
run k
"$M" -S "$T/i2" init carry2 >/dev/null || fail "init"
"$M" -S "$T/i2" --json invite --local - --public - >"$T/inv2.json" || fail "invite"
grep -q "$RELAY_TOKEN" "$T/inv2.json" && fail "the token is in the invite's JSON"
grep -q "$(echo "$RELAY_TOKEN" | cut -c1-20)" "$T/i2.log" && fail "the token is in the log"
"$M" -S "$T/k" join --paths relay "$(jq -r .token "$T/inv2.json")" >"$T/k.out" 2>&1 ||
	fail "join with the invite's token: $(cat "$T/k.out")"
cat "$T/k.out"
grep -q "^relay_token=$RELAY_TOKEN$" "$T/k/mesh" || fail "k did not keep the token"
grep -q "keeping the invite's relay token" "$T/k.log" || fail "no log line"
ok "joined over the relay with the invite's token, kept in the mesh state"

echo "== k's own relay sessions show the kept token"
ik=$(cat "$T/k/node.id"); ii=$(cat "$T/i2/node.id")
wait_for 10 sh -c "'$M' -S '$T/k' --json status | jq -e --arg u '$URL' '.daemons[] |
	select(.daemon == \"punchd\") | .status.relays[] | select(.url == \$u) |
	.state == \"accepted\"' >/dev/null" ||
	fail "k's relay: $("$M" -S "$T/k" --json status | jq -c '.daemons[] | select(.daemon == "punchd") | .status.relays')"
other=$(grep "refused: token" "$T/relayd.log" | grep -vc "token missing")
[ "$other" -eq 0 ] || fail "relayd refused a token: $(grep 'refused: token' "$T/relayd.log")"
n401=$(grep -c "refused: token missing" "$T/relayd.log")
[ "$n401" -eq 1 ] || fail "relayd refused $n401 sessions without a token (want only j's)"
ok "k's pair session accepted with the kept token (relay state accepted)"
echo PASS
