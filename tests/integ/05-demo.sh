#!/bin/sh
# scripts/demo.sh, the README's first command: a relay that requires tokens
# and two nodes (stund + punchd each); A creates a mesh and invites, B
# joins. Checked: each node's peers show the other (direct), A's ping to B
# got replies, the relay took the nodes' access token; `demo.sh stop`
# leaves no process (and, as root, no namespace). As root it runs twice:
# in network namespaces as root, then on loopback as the user nobody.
. "$(dirname "$0")/lib.sh"
need_bin stund punchd relayd meshctl
M="$BIN/meshctl"
DEMO="$TOP/scripts/demo.sh"
DIRS=""
demo_cleanup() {
	for d in $DIRS; do
		BUILD=$BUILD sh "$DEMO" stop --dir "$d" >/dev/null 2>&1
	done
	cleanup
}
trap demo_cleanup EXIT INT TERM

# check DIR AS: run the demo as user AS (root: "") and check what it did
check() {
	d=$1 who=$2
	DIRS="$DIRS $d"
	if [ -n "$who" ]; then
		runuser -u "$who" -- env BUILD="$BUILD" sh "$DEMO" --no-deps --no-build \
		    --dir "$d" >"$d.out" 2>&1 || { cat "$d.out"; fail "demo as $who"; }
	else
		BUILD=$BUILD sh "$DEMO" --no-deps --no-build --dir "$d" >"$d.out" 2>&1 ||
		    { cat "$d.out"; fail "demo"; }
	fi
	cat "$d.out"
	ida=$(cat "$d/a/node.id"); idb=$(cat "$d/b/node.id")
	"$M" -S "$d/a" --json peers | jq -e --arg id "$idb" \
	    'map(select(.id == $id and .state == "direct")) | length == 1' >/dev/null ||
	    fail "A's peers do not show B direct"
	"$M" -S "$d/b" --json peers | jq -e --arg id "$ida" \
	    'map(select(.id == $id and .state == "direct")) | length == 1' >/dev/null ||
	    fail "B's peers do not show A direct"
	grep -q "^node-b  *$idb  *direct" "$d.out" || fail "A's printed peers"
	grep -q "^$ida  *$ida  *direct" "$d.out" || fail "B's printed peers"
	[ "$(grep -c "^reply from $idb" "$d.out")" -ge 1 ] || fail "no ping reply"
	grep -q "3 sent, 0 lost" "$d.out" || fail "ping lost replies"
	grep -q "0 of 1024 frames lost" "$d.out" || fail "relay-test"
	grep -q "tokens required" "$d.out" || fail "relay mode not said"
	grep -q "open mode" "$d/relay/relayd.log" && fail "the demo relay is open"
	grep -q '^relay_token = v2\.0\.' "$d/a/atmosphere.conf" || fail "A has no access token"
	grep -q "refused" "$d/relay/relayd.log" && fail "relayd refused something"
	tail -n 1 "$d.out" | grep -qF "Stop: sh $DEMO stop --dir $d" ||
	    fail "stop command: $(tail -n 1 "$d.out")"
	cp "$d/pids" "$d.pids"
	[ "$(wc -l <"$d.pids")" -eq 6 ] || fail "expected 6 processes: $(cat "$d.pids")"
	ns=""
	[ -f "$d/netns" ] && ns=$(cat "$d/netns")
	while read -r name pid; do
		kill -0 "$pid" 2>/dev/null || fail "$name ($pid) is not running"
	done <"$d.pids"

	if [ -n "$who" ]; then
		runuser -u "$who" -- sh "$DEMO" stop --dir "$d" >"$d.stop" 2>&1 || fail "stop"
	else
		sh "$DEMO" stop --dir "$d" >"$d.stop" 2>&1 || fail "stop"
	fi
	grep -q "^stopped" "$d.stop" || fail "stop said: $(cat "$d.stop")"
	grep -q "killed" "$d.stop" && fail "a daemon needed SIGKILL: $(cat "$d.stop")"
	while read -r name pid; do
		kill -0 "$pid" 2>/dev/null && fail "$name ($pid) still runs after stop"
	done <"$d.pids"
	ps -eo args | grep -F "$d/" | grep -v grep && fail "a process of the demo is left"
	for n in $ns; do
		ip netns list | grep -q "^$n\b" && fail "namespace $n left"
	done
	[ ! -e "$d/pids" ] || fail "pids file left"
	return 0
}

if [ "$(id -u)" -eq 0 ]; then
	check "$T/root" ""
	[ -s "$T/root.pids" ] && grep -q "network namespaces" "$T/root.out" ||
	    echo "note: namespaces not available, the root run used loopback"
	ok "demo as root: peers both ways, ping, relay-test, stopped clean"
	if command -v runuser >/dev/null 2>&1 &&
	    runuser -u nobody -- test -x "$BIN/meshctl" 2>/dev/null; then
		chmod 0711 "$T"
		mkdir "$T/nobody"
		chown nobody "$T/nobody"
		check "$T/nobody" nobody
		grep -q "(loopback;" "$T/nobody.out" || fail "nobody's demo should be on loopback"
		ok "demo as nobody (loopback): peers both ways, ping, relay-test, stopped clean"
	else
		echo "note: user nobody cannot run $BIN: the non-root pass is skipped"
	fi
else
	check "$T/user" ""
	grep -q "(loopback;" "$T/user.out" || fail "a non-root demo should be on loopback"
	ok "demo as $(id -un) (loopback): peers both ways, ping, relay-test, stopped clean"
fi
echo PASS
