#!/bin/sh
# punchd on loopback: two instances with one mesh secret punch each other
# with the manual flow (meshctl punch on both sides, as altair's
# `connect --peer`), then ping, send/listen round trip, the MTU limit; a
# third instance with another mesh secret gets nothing and is not
# answered; garbage and STUN-looking datagrams are dropped and counted.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl

PA=$(free_port)
PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
PC=$(free_port); [ "$PC" = "$PA" ] || [ "$PC" = "$PB" ] && PC=$((PB + 1))
mkdir -p "$T/a" "$T/b" "$T/c"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/other"
M="$BIN/meshctl"
# short punch timers; no stund here (its absence must not matter)
FAST="-o punchd.punch_interval=50ms -o punchd.punch_timeout=3s -o punchd.stun_refresh=0"

run() { # NAME PORT SECRET
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$2" -o punchd.mesh_secret="$3" $FAST
}
run a "$PA" "$T/secret"
run b "$PB" "$(cat "$T/secret")"	# hex inline works as well as a file
for d in a b; do
	wait_sock "$T/$d/punchd.sock"
	wait_for 5 "$M" -S "$T/$d" peers || fail "$d does not answer"
done

echo "== -n checks the configuration"
"$BIN/punchd" -n -o punchd.mesh_secret="$T/secret" | grep -q "configuration OK" || fail "-n"
"$BIN/punchd" -n -o punchd.bogus=1 >/dev/null 2>&1 && fail "an unknown key must be refused"
"$BIN/punchd" -n -o punchd.portmap=igd 2>&1 | grep -q "punchd.portmap: 'igd' is not auto, upnp, natpmp, pcp or no" ||
	fail "a bad portmap value must be refused, naming the five"
for v in auto upnp natpmp pcp no; do
	"$BIN/punchd" -n -o punchd.mesh_secret="$T/secret" -o punchd.portmap=$v | grep -q "configuration OK" || fail "portmap=$v"
done

echo "== manual punch, both sides at once"
"$M" -S "$T/a" punch bob "127.0.0.1:$PB" >"$T/pa.out" 2>&1 &
pa=$!
"$M" -S "$T/b" punch alice "127.0.0.1:$PA" >"$T/pb.out" 2>&1 || fail "punch from b: $(cat "$T/pb.out")"
wait $pa || fail "punch from a: $(cat "$T/pa.out")"
cat "$T/pa.out" "$T/pb.out"
grep -q "bob: direct via 127.0.0.1:$PB" "$T/pa.out" || fail "a's punch result"
grep -q "alice: direct via 127.0.0.1:$PA" "$T/pb.out" || fail "b's punch result"
ida=$("$M" -S "$T/a" --json status | jq -r '.daemons[] | select(.daemon=="punchd") | .status.node_id')
idb=$("$M" -S "$T/b" --json status | jq -r '.daemons[] | select(.daemon=="punchd") | .status.node_id')
"$M" -S "$T/a" --json peers >"$T/peers.a"
cat "$T/peers.a"
[ "$(jq -r '.[0].name' "$T/peers.a")" = bob ] || fail "name"
[ "$(jq -r '.[0].id' "$T/peers.a")" = "$idb" ] || fail "bob's node id should be $idb"
[ "$(jq -r '.[0].state' "$T/peers.a")" = direct ] || fail "state"
[ "$(jq -r '.[0].endpoint' "$T/peers.a")" = "127.0.0.1:$PB" ] || fail "endpoint"
[ "$(jq 'length' "$T/peers.a")" = 1 ] || fail "exactly one peer"
[ "$("$M" -S "$T/b" --json peers | jq -r '.[0].id')" = "$ida" ] || fail "b sees a"
"$M" -S "$T/a" peers
ok "both sides direct, one pair"

echo "== a peer can also be named by its node id"
"$M" -S "$T/b" --json punch "$ida" "127.0.0.1:$PA" >"$T/pid.out" || fail "punch by id"
[ "$(jq -r .state "$T/pid.out")" = direct ] || fail "by id: $(cat "$T/pid.out")"

echo "== ping"
"$M" -S "$T/a" ping -c 3 bob || fail "ping"
"$M" -S "$T/a" --json ping -c 4 bob >"$T/ping.json" || fail "ping --json"
[ "$(jq '.rtt_ms | length' "$T/ping.json")" = 4 ] || fail "4 RTTs: $(cat "$T/ping.json")"
[ "$(jq .lost "$T/ping.json")" = 0 ] || fail "nothing lost on loopback"
ok "ping $(jq -c .rtt_ms "$T/ping.json")"

echo "== send / listen round trip"
start listen "$T/listen.out" "$M" -S "$T/b" listen --count 3
wait_for 5 grep -q listening "$T/listen.out" || fail "listen did not subscribe"
"$M" -S "$T/a" send bob "hello from alice" || fail "send"
"$M" -S "$T/a" send bob "$(printf 'tab\there')" >/dev/null || fail "send 2"
big=$(head -c 1196 /dev/zero | tr '\000' x)
"$M" -S "$T/a" --json send bob "$big" >"$T/send.json" || fail "1196 bytes must fit"
[ "$(jq .bytes "$T/send.json")" = 1196 ] || fail "bytes"
wait_for 5 sh -c "! kill -0 $PID_listen" || fail "listen did not exit after 3"
cat "$T/listen.out" | cut -c1-80
grep -q "^alice: hello from alice$" "$T/listen.out" || fail "text not received"
grep -q '^alice: tab\\011here$' "$T/listen.out" || fail "control bytes should print as octal"
grep -q "^alice: xxxxxxxx" "$T/listen.out" || fail "the 1196-byte datagram"
ok "three datagrams a -> b"

echo "== path MTU"
"$M" -S "$T/a" send bob "${big}y" >"$T/big.out" 2>&1 && fail "1197 bytes must be refused"
cat "$T/big.out"
grep -q too_big "$T/big.out" || fail "too_big expected"
"$M" -S "$T/a" send nobody hi >"$T/nf.out" 2>&1
[ $? = 1 ] || fail "unknown peer: exit 1"
grep -q not_found "$T/nf.out" || fail "not_found expected"
"$M" -S "$T/nonexistent" peers >/dev/null 2>&1
[ $? = 3 ] || fail "daemon down: exit 3"
ok "too_big over 1196 bytes, not_found, exit 3 when down"

echo "== a node of another mesh gets nothing"
run c "$PC" "$T/other"
wait_sock "$T/c/punchd.sock"
wait_for 5 "$M" -S "$T/c" peers || fail "c does not answer"
before=$("$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status.counters.drop_auth')
"$M" -S "$T/c" punch alice "127.0.0.1:$PA" -w 1000 >"$T/pc.out" 2>&1 &&
	fail "another mesh must not connect: $(cat "$T/pc.out")"
"$M" -S "$T/c" punch -w 1000 bob "127.0.0.1:$PB" >/dev/null 2>&1 && fail "nor to b"
cat "$T/pc.out"
sa=$("$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status')
sc=$("$M" -S "$T/c" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status')
[ "$(echo "$sa" | jq .counters.drop_auth)" -gt "$before" ] || fail "a should count the stranger's packets"
[ "$(echo "$sc" | jq .counters.rx_datagrams)" = 0 ] || fail "the stranger must receive nothing: $(echo "$sc" | jq -c .counters)"
[ "$(echo "$sa" | jq .peers)" = 1 ] || fail "the stranger must not become a peer"
ok "stranger dropped ($(echo "$sa" | jq .counters.drop_auth) packets), never answered"

echo "== garbage and STUN-looking datagrams"
if command -v perl >/dev/null 2>&1; then
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Proto => "udp") or die;
		$s->send("GET / HTTP/1.0\r\n\r\n");
		$s->send("\x61" . ("\0" x 60));			# ours by first byte, bad tag
		$s->send("\x00\x01\x00\x00\x21\x12\xa4\x42" . ("\0" x 12));	# STUN header
		sleep 1;
		$s->blocking(0);
		exit(defined($s->recv(my $b, 100)) && length($b) ? 1 : 0);
	' "$PA" || fail "punchd answered garbage"
	sa=$("$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status.counters')
	echo "$sa" | jq -c .
	[ "$(echo "$sa" | jq .drop_other)" -ge 1 ] || fail "drop_other"
	[ "$(echo "$sa" | jq '.drop_malformed + .drop_auth')" -ge 1 ] || fail "bad packet"
	[ "$(echo "$sa" | jq '.stun_dropped + .stun_forwarded')" -ge 1 ] || fail "STUN demux"
	ok "garbage dropped and counted, nothing answered"
else
	echo "perl missing: garbage test skipped"
fi

echo "== still up, remove"
"$M" -S "$T/a" ping -c 1 bob >/dev/null || fail "ping after all that"
"$M" -S "$T/a" --json status | jq -e '.daemons[] | select(.daemon=="punchd") | .status.peers_direct == 1' >/dev/null || fail "status peers_direct"
"$M" -S "$T/a" send bob x >/dev/null || fail "send"
echo PASS
