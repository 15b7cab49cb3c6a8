#!/bin/sh
# meshctl join over each path in turn, by withholding the others from the
# invite: public only, relay only (through a real relayd, then punching to
# direct after the rendezvous), and the fallback order (--sequential, the
# way before the race): a dead local endpoint fails with a timeout and the
# public one takes over. Then the race: dead local and public endpoints and
# a live relay, the relay wins long before a UDP timeout, the others are
# cancelled; with no path at all, the failure names each path's reason.
. "$(dirname "$0")/lib.sh"
need_bin punchd relayd meshctl

M="$BIN/meshctl"
RP=$(free_port)
port() { p=$(free_port); while [ "$p" = "$RP" ]; do p=$(free_port); done; echo "$p"; }
mkdir -p "$T/r"
relay_keys
RUNTIME_DIRECTORY=$T/r start relayd "$T/relayd.log" "$BIN/relayd" -v -f "$T/relayd.conf" \
	-l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"
R="ws://127.0.0.1:$RP"

run() { # NAME PORT [punchd options]
	n=$1; p=$2; shift 2
	mkdir -p "$T/$n"
	RUNTIME_DIRECTORY=$T/$n STATE_DIRECTORY=$T/$n start "$n" "$T/$n.log" \
		"$BIN/punchd" -v -p "$p" -o punchd.host_loopback=yes \
		-o punchd.stun_refresh=0 -o punchd.punch_interval=50ms \
		-o punchd.keepalive_interval=500ms -o punchd.repunch=1s \
		-o punchd.relay_token="$RELAY_TOKEN" "$@"
	wait_sock "$T/$n/punchd.sock"
	wait_for 5 "$M" -S "$T/$n" peers || fail "$n does not answer"
}
PA=$(port)
run a "$PA" -o punchd.relay_url="$R"
"$M" -S "$T/a" init home >/dev/null || fail "init"
ida=$(cat "$T/a/node.id")

# join NODE INVITE-OPTIONS...: invite on a, join on NODE, output in $T/NODE.out
join() {
	n=$1; shift
	"$M" -S "$T/a" --json invite "$@" >"$T/$n.inv" || fail "invite $*"
	"$M" -S "$T/$n" join $JOPTS --timeout 1000 "$(jq -r .token "$T/$n.inv")" \
		>"$T/$n.out" 2>&1
	rc=$?
	cat "$T/$n.out"
	[ $rc -eq 0 ] || fail "$n's join"
}

echo "== public only"
run b "$(port)"
join b --local - --public "127.0.0.1:$PA" --relay -
grep -q "^local: not in the invite" "$T/b.out" || fail "local line"
grep -q "^public udp://127.0.0.1:$PA ... connected.*direct" "$T/b.out" || fail "public line"
tail -n 1 "$T/b.out" | grep -q "via public" || fail "path"
ok "joined via public"

echo "== relay only: met in the invite's relay session, then punched to direct"
run c "$(port)"
join c --local - --public -
grep -q "^relay $R ... connected.*punching ... direct via .*:$PA" "$T/c.out" || fail "relay line"
tail -n 1 "$T/c.out" | grep -q "via relay" || fail "path"
grep -q "^relay=$R$" "$T/c/mesh" || fail "c did not keep the mesh's relay"
ok "joined via relay, direct after the rendezvous"

echo "== fallback: a dead local endpoint times out, public works"
DEAD=$(port)
run f "$(port)"
JOPTS=--sequential join f --local "127.0.0.1:$DEAD" --public "127.0.0.1:$PA" --relay -
grep -q "^local udp://127.0.0.1:$DEAD ... failed (timeout)" "$T/f.out" || fail "local should fail"
grep -q "^public udp://127.0.0.1:$PA ... connected" "$T/f.out" || fail "public should work"
ok "local failed (timeout), public joined"

echo "== race: dead local and public endpoints, the relay answers first"
DEAD2=$(port)
run g "$(port)"
t0=$(date +%s%N)
JOPTS="--timeout 5000" join g --local "127.0.0.1:$DEAD" --public "127.0.0.1:$DEAD2"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
grep -q "^local udp://127.0.0.1:$DEAD ... cancelled at" "$T/g.out" || fail "local should be cancelled"
grep -q "^public udp://127.0.0.1:$DEAD2 ... cancelled at" "$T/g.out" || fail "public should be cancelled"
grep -q "^relay $R ... connected" "$T/g.out" || fail "relay should win"
tail -n 1 "$T/g.out" | grep -q "via relay" || fail "path"
[ "$ms" -lt 3000 ] || fail "the race took $ms ms (a UDP timeout is 5000)"
ok "relay won in $ms ms with 5 s UDP timeouts; local and public cancelled"

echo "== race: no path answers, no relay: fails after the UDP timeout, says why"
run h "$(port)"
"$M" -S "$T/a" --json invite --local "127.0.0.1:$DEAD" --public "127.0.0.1:$DEAD2" --relay - >"$T/h.inv" || fail "invite"
t0=$(date +%s%N)
"$M" -S "$T/h" join --timeout 1000 "$(jq -r .token "$T/h.inv")" >"$T/h.out" 2>&1 && fail "joined with no path"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
cat "$T/h.out"
grep -q "no path the inviter can receive on (local: no answer within 1000 ms; public: no answer within 1000 ms; the invite has no relay)" "$T/h.out" || fail "why"
grep -q "relay (punchd.relay_url), forward its UDP port.*port mapping" "$T/h.out" || fail "what to do"
[ "$ms" -lt 2500 ] || fail "took $ms ms"
[ -z "$("$M" -S "$T/h" --json mesh 2>/dev/null | jq -r '.mesh_id // empty')" ] ||
	fail "h has a mesh after a failed join"
ok "failed in $ms ms naming each path and what would help"

echo "== members: every joiner reaches every other"
for n in b c f; do # a, and the two others
	wait_for 10 sh -c "'$M' -S '$T/$n' --json peers | jq -e 'map(select(.state == \"direct\" or .state == \"relayed\")) | length >= 3' >/dev/null" ||
		{ "$M" -S "$T/$n" peers; fail "$n does not reach the others"; }
done
"$M" -S "$T/a" peers
ok "announcements spread the members"
