#!/bin/sh
# stund: nat.changed reaches subscribers when the public endpoint becomes
# known or changes; discovery over IPv6 reports public6.
. "$(dirname "$0")/lib.sh"
need_bin stund meshctl ipcwatch

P=$(free_port)
mkdir -p "$T/srv" "$T/srv6" "$T/cli"

echo "== a client whose server is not up yet"
RUNTIME_DIRECTORY=$T/cli start cli "$T/cli.log" "$BIN/stund" -v \
	--servers "127.0.0.1:$P" -o stund.timeout=1s -o stund.refresh=0 \
	-o stund.nat_refresh=0
wait_sock "$T/cli/stund.sock"
"$TOOLS/ipcwatch" "$T/cli/stund.sock" -n 1 -t 15 nat.changed >"$T/watch.out" 2>"$T/watch.err" &
W=$!
PIDS="$PIDS $W"
wait_for 5 grep -q subscribed "$T/watch.out" || fail "ipcwatch did not subscribe: $(cat "$T/watch.err")"

echo "== the server comes up; a refresh finds the public endpoint"
RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" \
	--server --listen 127.0.0.1:$P --servers none
wait_sock "$T/srv/stund.sock"
"$BIN/meshctl" -S "$T/cli" --json network --refresh >"$T/net.json" 2>&1 ||
	fail "network after the server came up: $(cat "$T/net.json")"
wait "$W" || fail "no nat.changed notification: $(cat "$T/watch.out" "$T/watch.err")"
cat "$T/watch.out"
ev=$(sed -n 2p "$T/watch.out")
[ "$(echo "$ev" | jq -r .event)" = nat.changed ] || fail "event name"
case "$(echo "$ev" | jq -r .params.public)" in
	127.0.0.1:*) ok "nat.changed carries the public endpoint" ;;
	*) fail "nat.changed params: $ev" ;;
esac

echo "== IPv6: a server on [::1] gives public6"
if ! ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
	echo "no ::1 on this host: IPv6 part skipped"
	echo PASS
	exit 0
fi
P6=$(free_port)
RUNTIME_DIRECTORY=$T/srv6 start srv6 "$T/srv6.log" "$BIN/stund" \
	--server --listen "[::1]:$P6" --servers none
wait_sock "$T/srv6/stund.sock"
mkdir -p "$T/cli6"
RUNTIME_DIRECTORY=$T/cli6 start cli6 "$T/cli6.log" "$BIN/stund" \
	--servers "127.0.0.1:$P,[::1]:$P6" -o stund.timeout=1s
wait_sock "$T/cli6/stund.sock"
"$BIN/meshctl" -S "$T/cli6" --json network >"$T/net6.json" 2>&1 ||
	fail "network with an IPv6 server: $(cat "$T/net6.json")"
v6=$(jq -r '.servers[] | select(.server | startswith("[::1]")) | .mapped' "$T/net6.json")
case "$v6" in
	"[::1]:"*) ok "IPv6 server saw $v6" ;;
	*) fail "IPv6 mapping missing: $(cat "$T/net6.json")" ;;
esac
# the netcheck: both families reachable, each with its own public endpoint
case "$(jq -r '"\(.netcheck.ipv4.reachable) \(.netcheck.ipv4.public) \(.netcheck.ipv6.reachable) \(.netcheck.ipv6.public)"' "$T/net6.json")" in
	"true 127.0.0.1:"*" true [::1]:"*) ok "netcheck: IPv4 and IPv6 reachable" ;;
	*) fail "netcheck families: $(jq -c '.netcheck | {ipv4, ipv6}' "$T/net6.json")" ;;
esac
echo PASS
