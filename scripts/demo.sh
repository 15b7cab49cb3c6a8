#!/bin/sh
# The README's first command: two Atmosphere nodes connect on this machine.
#
# It starts a relay that requires tokens (relayd with a fresh secret, and a
# STUN server beside it) and two nodes, A and B, each with its own stund and
# punchd, runtime/state directory, configuration file and ports. Then it
# creates a mesh on A (meshctl init), invites B (meshctl invite on A,
# meshctl join on B), and prints `meshctl peers` on both and a `meshctl
# ping` from A to B. Everything keeps running; the last line says how to
# stop it.
#
# As root the relay and each node get a network namespace of their own,
# joined by a bridge (10.77.0.0/24; the host's network is not touched).
# As any other user everything runs on loopback (127.0.0.1, free ports).
# The nodes reach the relay with an access token (relayd --issue-access,
# docs/relay-tokens.md) in punchd.relay_token.
#
#   sh scripts/demo.sh [--no-deps] [--no-build] [--loopback] [--dir DIR]
#   sh scripts/demo.sh stop [--dir DIR]
#
#   --no-deps    skip scripts/deps.sh (apt, needs root or sudo)
#   --no-build   skip make (use the binaries in $BUILD/bin, default build/)
#   --loopback   no namespaces, even as root
#   --dir DIR    where the nodes' directories go (default ./run)
set -eu
unset ATMOSPHERE_RELAY_URL ATMOSPHERE_CONFIG 2>/dev/null || true
cd "$(dirname "$0")/.."
TOP=$(pwd)
BIN="$TOP/${BUILD:-build}/bin"
DIR="$TOP/run"
CMD=start
DEPS=1
MAKE=1
NETNS=auto
while [ $# -gt 0 ]; do
	case $1 in
	stop)		CMD=stop ;;
	--no-deps)	DEPS=0 ;;
	--no-build)	MAKE=0 ;;
	--loopback)	NETNS=no ;;
	--dir)		[ $# -ge 2 ] || { echo "demo: --dir needs a directory" >&2; exit 2; }
			DIR=$2; shift ;;
	*)		sed -n '18,25p' "$0" >&2; exit 2 ;;
	esac
	shift
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
M="$BIN/meshctl"

# --- stop: every process the demo recorded, then its namespaces ---------
demo_stop() {
	if [ -f "$DIR/pids" ]; then
		while read -r name pid; do
			kill "$pid" 2>/dev/null || true
		done <"$DIR/pids"
		i=0
		while [ $i -lt 50 ]; do
			alive=0
			while read -r name pid; do
				kill -0 "$pid" 2>/dev/null && alive=1
			done <"$DIR/pids"
			[ $alive -eq 0 ] && break
			sleep 0.1; i=$((i + 1))
		done
		while read -r name pid; do
			kill -9 "$pid" 2>/dev/null && echo "demo: $name ($pid) killed"
		done <"$DIR/pids"
		rm -f "$DIR/pids"
	fi
	if [ -f "$DIR/netns" ]; then
		while read -r ns; do
			ip netns del "$ns" 2>/dev/null || true
		done <"$DIR/netns"
		rm -f "$DIR/netns"
	fi
}

if [ $CMD = stop ]; then
	demo_stop
	echo "stopped (the nodes' keys, state and logs stay in $DIR)"
	exit 0
fi

[ $DEPS -eq 0 ] || sh scripts/deps.sh
[ $MAKE -eq 0 ] || make -j2
for b in stund punchd relayd meshctl; do
	[ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is not built (make)" >&2; exit 1; }
done
demo_stop
rm -rf "$DIR/relay" "$DIR/a" "$DIR/b"
mkdir -p "$DIR/relay" "$DIR/a" "$DIR/b"
chmod 0700 "$DIR/relay" "$DIR/a" "$DIR/b"
: >"$DIR/pids"

fail() {
	echo "demo: $*" >&2
	for f in "$DIR"/relay/*.log "$DIR"/a/*.log "$DIR"/b/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f" >&2
		tail -n 15 "$f" >&2
	done
	echo "demo: stopping what it started" >&2
	demo_stop
	exit 1
}

# free_port: a UDP+TCP port nobody listens on (loopback mode)
free_port() {
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
		command -v ss >/dev/null 2>&1 || { echo "$p"; return; }
		ss -Hlnu "sport = :$p" | grep -q . || ss -Hlnt "sport = :$p" |
		    grep -q . || { echo "$p"; return; }
	done
}

# --- where things run: namespaces (root) or loopback ---------------------
ID=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
NS_R=; NS_A=; NS_B=
netns_up() {
	NS_R=atmdemo-$ID-relay NS_A=atmdemo-$ID-a NS_B=atmdemo-$ID-b
	for ns in $NS_R $NS_A $NS_B; do
		ip netns add "$ns" || return 1
		echo "$ns" >>"$DIR/netns"
		ip -n "$ns" link set lo up || return 1
	done
	ip -n $NS_R link add br0 type bridge &&
	ip -n $NS_R addr add 10.77.0.1/24 dev br0 &&
	ip -n $NS_R link set br0 up || return 1
	n=2
	for x in a b; do
		ns=$NS_A; [ $x = a ] || ns=$NS_B
		ip -n "$ns" link add eth0 type veth peer name "v$x" netns $NS_R &&
		ip -n $NS_R link set "v$x" master br0 up &&
		ip -n "$ns" addr add "10.77.0.$n/24" dev eth0 &&
		ip -n "$ns" link set eth0 up || return 1
		n=$((n + 1))
	done
}
if [ $NETNS = auto ] && [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1; then
	if netns_up 2>"$DIR/netns.err"; then
		NETNS=yes
	else
		echo "demo: cannot make network namespaces ($(head -n 1 "$DIR/netns.err")); using loopback"
		demo_stop
		: >"$DIR/pids"
		NETNS=no
	fi
	rm -f "$DIR/netns.err"
else
	NETNS=no
fi
if [ $NETNS = yes ]; then
	IP_R=10.77.0.1 IP_A=10.77.0.2 IP_B=10.77.0.3
	STUN_PORT=3478 PORT_A=7777 PORT_B=7777 RELAY_PORT=8080
else
	IP_R=127.0.0.1 IP_A=127.0.0.1 IP_B=127.0.0.1
	STUN_PORT=$(free_port); PORT_A=$(free_port); PORT_B=$(free_port)
	while [ "$PORT_B" = "$PORT_A" ]; do PORT_B=$(free_port); done
	RELAY_PORT=0		# relayd picks one and logs it
fi

# run NAME NAMESPACE DIR CMD...: in the background, recorded for stop
run() {
	name=$1 ns=$2 d=$3; shift 3
	if [ -n "$ns" ]; then
		RUNTIME_DIRECTORY=$d STATE_DIRECTORY=$d ip netns exec "$ns" "$@" \
		    >"$d/$name.log" 2>&1 &
	else
		RUNTIME_DIRECTORY=$d STATE_DIRECTORY=$d "$@" >"$d/$name.log" 2>&1 &
	fi
	echo "$name@${d##*/} $!" >>"$DIR/pids"
}
wait_sock() {
	i=0
	while [ ! -S "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "$1 did not appear"
		sleep 0.1
	done
}

# --- the relay: tokens required, a fresh secret --------------------------
R=$DIR/relay
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$R/relay.key"
umask 022
printf '[relayd]\nsecret_file = %s\n' "$R/relay.key" >"$R/atmosphere.conf"
"$BIN/relayd" -f "$R/atmosphere.conf" --issue-access --ttl 30d >"$R/access.token" ||
	fail "relayd --issue-access"
chmod 0600 "$R/access.token"
run relayd "$NS_R" "$R" "$BIN/relayd" -f "$R/atmosphere.conf" -l "$IP_R" \
	-p "$RELAY_PORT" -s "$R/relayd.sock"
run stund "$NS_R" "$R" "$BIN/stund" -f /dev/null -s "$R/stund.sock" --server \
	--listen "$IP_R:$STUN_PORT" --servers none
wait_sock "$R/relayd.sock"
wait_sock "$R/stund.sock"
RELAY_PORT=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$R/relayd.log" | head -n 1)
[ -n "$RELAY_PORT" ] || fail "relayd did not say its port"
RELAY_URL=ws://$IP_R:$RELAY_PORT

# --- two nodes: stund + punchd each, their own file ----------------------
node() {	# node NAME NAMESPACE IP PORT
	d=$DIR/$1
	cat >"$d/atmosphere.conf" <<CONF
# node $1 of the demo (scripts/demo.sh)
[stund]
servers = $IP_R:$STUN_PORT
socket = $d/stund.sock

[punchd]
port = $4
socket = $d/punchd.sock
relay_url = $RELAY_URL
relay_token = $(cat "$R/access.token")
CONF
	# on loopback: host addresses are loopback ones, and no port mapping
	# (it would ask this host's real gateway)
	[ $NETNS = yes ] || printf 'host_loopback = yes\nportmap = no\n' >>"$d/atmosphere.conf"
	chmod 0600 "$d/atmosphere.conf"
	run stund "$2" "$d" "$BIN/stund" -f "$d/atmosphere.conf"
	run punchd "$2" "$d" "$BIN/punchd" -f "$d/atmosphere.conf"
}
node a "$NS_A" "$IP_A" "$PORT_A"
node b "$NS_B" "$IP_B" "$PORT_B"
for d in a b; do
	wait_sock "$DIR/$d/stund.sock"
	wait_sock "$DIR/$d/punchd.sock"
done
i=0
until "$M" -S "$DIR/a" peers >/dev/null 2>&1 && "$M" -S "$DIR/b" peers >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "punchd does not answer"; sleep 0.1
done

if [ $NETNS = yes ]; then
	echo "relay $RELAY_URL (tokens required), node A $IP_A:$PORT_A, node B $IP_B:$PORT_B"
	echo "(network namespaces $NS_R, $NS_A, $NS_B; directories in $DIR)"
else
	echo "relay $RELAY_URL (tokens required), node A udp port $PORT_A, node B udp port $PORT_B"
	echo "(loopback; directories in $DIR)"
fi
MA="$M -S $DIR/a"
MB="$M -S $DIR/b"
say() { echo; echo "\$ $*"; }

say "meshctl -S $DIR/a init demo"
$MA init demo || fail "init"
say "meshctl -S $DIR/a invite --no-qr --local $IP_A:$PORT_A"
$MA invite --no-qr --local "$IP_A:$PORT_A" >"$DIR/invite.txt" || fail "invite"
cat "$DIR/invite.txt"
CODE=$(grep -o 'ATM-[A-Za-z0-9_-]*' "$DIR/invite.txt" | head -n 1)
[ -n "$CODE" ] || fail "no code in the invite"
say "meshctl -S $DIR/b join --name node-b CODE"
$MB join --name node-b "$CODE" || fail "join"
ID_B=$(cat "$DIR/b/node.id")
i=0
until $MA --json peers 2>/dev/null | grep -q '"state": *"direct"'; do
	i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
done
say "meshctl -S $DIR/a peers"
$MA peers
say "meshctl -S $DIR/b peers"
$MB peers
say "meshctl -S $DIR/a ping $ID_B"
$MA ping "$ID_B" || fail "ping"
# the relay, with the nodes' access token, on a session name of its own
say "meshctl relay-test $RELAY_URL --token \$(cat $R/access.token) --count 20 --bytes 1048576"
if [ $NETNS = yes ]; then
	ip netns exec "$NS_A" $M relay-test "$RELAY_URL" --token "$(cat "$R/access.token")" \
	    --count 20 --bytes 1048576 || fail "relay-test"
else
	$M relay-test "$RELAY_URL" --token "$(cat "$R/access.token")" \
	    --count 20 --bytes 1048576 || fail "relay-test"
fi
echo
echo "Running: relayd, a STUN server, and stund + punchd for each node."
echo "Try:  $M -S $DIR/a network    (also: peers, status; -S $DIR/relay status)"
echo "Logs: $DIR/*/*.log"
echo "Stop: sh $TOP/scripts/demo.sh stop --dir $DIR"
