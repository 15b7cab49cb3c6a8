#!/bin/sh
# End-to-end session keys (README.md (punchd)): two punchd nodes joined as a
# mesh (init, invite, join: both have node keys) rekey every 300 ms while
# datagrams flow both ways with sequence numbers. Asserted: both sides
# report e2e "session" and a key epoch that keeps advancing; every datagram
# whose send was accepted arrives exactly once (meshctl send waits for
# punchd, so at most one is in flight per direction when we stop, and we
# wait before counting); no authentication or unknown-key drops. A second
# joined pair that can only meet on a relayd (the invite's local endpoint is
# a dead port, no host candidates signalled) does the same through the
# relay. A third pair runs in a network namespace of its own where nftables
# drops every other E2E_RESP: with key confirmation the responder keeps
# sending under the key the initiator has until the initiator has used the
# new one, so again every datagram arrives and no packet meets an unknown
# key (drop_nokey 0); without it the responder's packets of each lost RESP's
# resend interval are lost (root, ip and nft needed, else that part is
# skipped). Then two nodes with only a mesh_secret (no node keys) fall back
# to the mesh key, say so once at info level, and still exchange data.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl relayd

M="$BIN/meshctl"
N=${E2E_COUNT:-300}
PA=$(free_port); PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))
WRAP=	# a command punchd runs under (ip netns exec NS)
run() { # NAME PORT [OPTIONS]
	n=$1; p=$2; shift 2
	mkdir -p "$T/$n"
	RUNTIME_DIRECTORY=$T/$n STATE_DIRECTORY=$T/$n start "$n" "$T/$n.log" \
		$WRAP "$BIN/punchd" -v -p "$p" -o punchd.host_loopback=yes \
		-o punchd.stun_refresh=0 -o punchd.punch_interval=50ms \
		-o punchd.keepalive_interval=500ms -o punchd.repunch=1s "$@"
	wait_sock "$T/$n/punchd.sock"
	wait_for 5 "$M" -S "$T/$n" peers || fail "$n does not answer"
}
peer() { # NODE PEER-ID FIELD
	"$M" -S "$T/$1" --json peers | jq -r ".[] | select(.id == \"$2\") | .$3"
}
counter() { # NODE NAME
	"$M" -S "$T/$1" --json status |
		jq -r ".daemons[] | select(.daemon==\"punchd\") | .status.counters.$2"
}
session() { [ "$(peer "$1" "$2" e2e)" = session ]; }

REKEY="-o punchd.rekey_interval=300ms -o punchd.rekey_grace=2s"
run a "$PA" $REKEY; run b "$PB" $REKEY
ida=$(cat "$T/a/node.id"); idb=$(cat "$T/b/node.id")
"$M" -S "$T/a" init e2e >/dev/null || fail "init"
code=$("$M" -S "$T/a" --json invite --local "127.0.0.1:$PA" --public - | jq -r .token)
"$M" -S "$T/b" join --name bob "$code" >"$T/join.out" || { cat "$T/join.out"; fail "join"; }
wait_for 5 session a "$idb" || { "$M" -S "$T/a" --json peers; fail "a has no session with b"; }
wait_for 5 session b "$ida" || { "$M" -S "$T/b" --json peers; fail "b has no session with a"; }
grep -q "end-to-end session established" "$T/a.log" "$T/b.log" || fail "no log line"
"$M" -S "$T/a" --json peers | jq -c ".[] | {id, state, e2e, key_epoch, key_id}"
ok "joined: both sides use a session key"

echo "== the epoch advances (rekey every 300 ms)"
e1=$(peer a "$idb" key_epoch)
sleep 1.5
e2=$(peer a "$idb" key_epoch)
echo "epoch $e1 -> $e2 in 1.5 s"
[ "$e2" -ge $((e1 + 3)) ] || fail "epoch did not advance enough: $e1 -> $e2"
ok "rekeying"

echo "== $N datagrams each way while rekeying"
"$M" -S "$T/b" listen >"$T/rx.b" 2>"$T/listen.b" &
lb=$!
"$M" -S "$T/a" listen >"$T/rx.a" 2>"$T/listen.a" &
la=$!
wait_for 5 grep -q listening "$T/listen.b" || fail "listen b"
wait_for 5 grep -q listening "$T/listen.a" || fail "listen a"
eb1=$(peer b "$ida" key_epoch)
sender() { # FROM TO-ID OUT
	i=1
	: >"$3"
	while [ $i -le "$N" ]; do
		"$M" -S "$T/$1" send "$2" "seq-$i" >/dev/null 2>&1 && echo "$i" >>"$3"
		i=$((i + 1))
	done
}
sender a "$idb" "$T/tx.a" &
sa=$!
sender b "$ida" "$T/tx.b"
wait $sa
sleep 1
eb2=$(peer b "$ida" key_epoch)
kill -INT $la $lb 2>/dev/null; wait $la $lb 2>/dev/null
for d in a b; do
	o=$( [ $d = a ] && echo b || echo a )
	sent=$(wc -l <"$T/tx.$d")
	got=$(sed -n 's/.*: seq-\([0-9]*\)$/\1/p' "$T/rx.$o" | sort -n | uniq | wc -l)
	dup=$(sed -n 's/.*: seq-\([0-9]*\)$/\1/p' "$T/rx.$o" | sort -n | uniq -d | wc -l)
	echo "$d -> $o: sent $sent, received $got, duplicates $dup"
	[ "$sent" -ge $((N * 9 / 10)) ] || fail "$d: only $sent of $N sends accepted"
	[ "$dup" -eq 0 ] || fail "$d -> $o: duplicates"
	[ "$got" -eq "$sent" ] || fail "$d -> $o: $((sent - got)) lost while rekeying"
done
echo "epochs during the traffic (b's view): $eb1 -> $eb2"
[ "$eb2" -ge $((eb1 + 3)) ] || fail "no rekeying under traffic: $eb1 -> $eb2"
for d in a b; do
	echo "$d: drop_auth $(counter $d drop_auth) drop_nokey $(counter $d drop_nokey)" \
		"drop_replay $(counter $d drop_replay) drop_downgrade $(counter $d drop_downgrade)"
	[ "$(counter $d drop_auth)" = 0 ] || fail "$d: authentication failures"
	[ "$(counter $d drop_nokey)" = 0 ] || fail "$d: packets under a key it did not have"
	[ "$(counter $d drop_downgrade)" = 0 ] || fail "$d: mesh-key DATA from a session peer"
done
ok "nothing lost, nothing duplicated across $((eb2 - eb1)) rekeys"

echo "== ping runs under the session key too"
"$M" -S "$T/a" ping -c 3 "$idb" >/dev/null || fail "ping"
ok "ping"

echo "== through a relay: a joined pair with no direct path"
RP=$(free_port); PE=$(free_port); PF=$(free_port); DEAD=$(free_port)
mkdir -p "$T/r"
relay_keys
RUNTIME_DIRECTORY=$T/r start relayd "$T/relayd.log" "$BIN/relayd" -v -f "$T/relayd.conf" \
	-l 127.0.0.1 -p "$RP"
wait_for 5 sh -c "ss -Hlnt 'sport = :$RP' | grep -q ." || fail "relayd not listening"
RELAY="-o punchd.relay_url=ws://127.0.0.1:$RP -o punchd.relay_token=$RELAY_TOKEN
	-o punchd.relay_signal_host=no
	-o punchd.host_loopback=no -o punchd.bind=127.0.0.1 -o punchd.repunch=60s"
run e "$PE" $REKEY $RELAY; run f "$PF" $REKEY $RELAY
ide=$(cat "$T/e/node.id"); idf=$(cat "$T/f/node.id")
"$M" -S "$T/e" init e2e-relay >/dev/null || fail "init e"
code=$("$M" -S "$T/e" --json invite --local "127.0.0.1:$DEAD" --public - | jq -r .token)
"$M" -S "$T/f" join "$code" >"$T/join2.out" 2>&1 || { cat "$T/join2.out"; fail "join via the relay"; }
wait_for 5 session e "$idf" || { "$M" -S "$T/e" --json peers; fail "e has no session with f"; }
[ "$(peer e "$idf" path)" = relay ] || fail "e-f should be relayed, is $(peer e "$idf" path)"
"$M" -S "$T/f" listen >"$T/rx.f" 2>"$T/listen.f" &
lf=$!
wait_for 5 grep -q listening "$T/listen.f" || fail "listen f"
r1=$(peer e "$idf" key_epoch)
sender e "$idf" "$T/tx.e"
sleep 1
r2=$(peer e "$idf" key_epoch)
kill -INT $lf 2>/dev/null; wait $lf 2>/dev/null
sent=$(wc -l <"$T/tx.e")
got=$(sed -n 's/.*: seq-\([0-9]*\)$/\1/p' "$T/rx.f" | sort -n | uniq | wc -l)
echo "e -> f via the relay: sent $sent, received $got, epochs $r1 -> $r2," \
	"relay_rx $(counter f relay_rx), drop_auth $(counter f drop_auth)," \
	"drop_nokey $(counter e drop_nokey) $(counter f drop_nokey)"
[ "$sent" -ge $((N * 9 / 10)) ] || fail "only $sent sends accepted"
[ "$got" -eq "$sent" ] || fail "$((sent - got)) lost through the relay while rekeying"
[ "$r2" -ge $((r1 + 3)) ] || fail "no rekeying through the relay: $r1 -> $r2"
[ "$(peer e "$idf" path)" = relay ] || fail "the pair left the relay"
[ "$(counter f drop_auth)" = 0 ] || fail "f: authentication failures"
for d in e f; do
	[ "$(counter $d drop_nokey)" = 0 ] || fail "$d: packets under a key it did not have"
done
ok "relayed: nothing lost across $((r2 - r1)) rekeys"

echo "== lost RESPs: every other E2E_RESP dropped (nftables, own namespace)"
NS=
lossy() {
	[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; return 1; }
	command -v ip >/dev/null 2>&1 && command -v nft >/dev/null 2>&1 ||
		{ echo "skipped: needs ip and nft"; return 1; }
	NS=atm-e2e-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	ip netns add "$NS" 2>/dev/null || { NS=; echo "skipped: ip netns add failed"; return 1; }
	ip netns exec "$NS" ip link set lo up || fail "lo up in $NS"
	# the UDP payload's second byte is the packet type (proto/packet.h);
	# numgen counts only the RESPs, so the 1st, 3rd, ... of them go
	ip netns exec "$NS" nft -f - <<-EOF || { echo "skipped: nft refused the rule"; return 1; }
	table inet e2eloss {
		chain out {
			type filter hook output priority 0; policy accept;
			udp length 182 @th,72,8 14 numgen inc mod 2 0 counter drop
		}
	}
	EOF
}
trap 'cleanup; [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null' EXIT INT TERM
if lossy; then
	resp_drops() {
		ip netns exec "$NS" nft list chain inet e2eloss out |
			sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
	}
	PG=$(free_port); PH=$(free_port); [ "$PH" = "$PG" ] && PH=$((PG + 1))
	WRAP="ip netns exec $NS"
	run g "$PG" $REKEY; run h "$PH" $REKEY
	WRAP=
	idg=$(cat "$T/g/node.id"); idh=$(cat "$T/h/node.id")
	"$M" -S "$T/g" init e2e-loss >/dev/null || fail "init g"
	code=$("$M" -S "$T/g" --json invite --local "127.0.0.1:$PG" --public - | jq -r .token)
	"$M" -S "$T/h" join "$code" >"$T/join3.out" 2>&1 || { cat "$T/join3.out"; fail "join h"; }
	wait_for 5 session g "$idh" || { "$M" -S "$T/g" --json peers; fail "g has no session with h"; }
	wait_for 5 session h "$idg" || { "$M" -S "$T/h" --json peers; fail "h has no session with g"; }
	"$M" -S "$T/h" listen >"$T/rx.h" 2>"$T/listen.h" &
	lh=$!
	"$M" -S "$T/g" listen >"$T/rx.g" 2>"$T/listen.g" &
	lg=$!
	wait_for 5 grep -q listening "$T/listen.h" || fail "listen h"
	wait_for 5 grep -q listening "$T/listen.g" || fail "listen g"
	d1=$(resp_drops); q1=$(peer g "$idh" key_epoch)
	sender g "$idh" "$T/tx.g" &
	sg=$!
	sender h "$idg" "$T/tx.h"
	wait $sg
	sleep 1
	d2=$(resp_drops); q2=$(peer g "$idh" key_epoch)
	kill -INT $lg $lh 2>/dev/null; wait $lg $lh 2>/dev/null
	echo "RESPs dropped during the traffic: $((d2 - d1)), epochs $q1 -> $q2"
	[ "$((d2 - d1))" -ge 2 ] || fail "too few RESPs dropped: $((d2 - d1))"
	for d in g h; do
		o=$( [ $d = g ] && echo h || echo g )
		sent=$(wc -l <"$T/tx.$d")
		got=$(sed -n 's/.*: seq-\([0-9]*\)$/\1/p' "$T/rx.$o" | sort -n | uniq | wc -l)
		echo "$d -> $o: sent $sent, received $got;" \
			"$o: drop_nokey $(counter $o drop_nokey) drop_auth $(counter $o drop_auth)"
		[ "$sent" -ge $((N * 9 / 10)) ] || fail "$d: only $sent of $N sends accepted"
		[ "$got" -eq "$sent" ] || fail "$d -> $o: $((sent - got)) lost with RESPs dropped"
		[ "$(counter $o drop_nokey)" = 0 ] || fail "$o: packets under a key it did not have"
		[ "$(counter $o drop_auth)" = 0 ] || fail "$o: authentication failures"
	done
	ok "every other RESP lost: nothing lost across $((q2 - q1)) rekeys"
fi

echo "== mesh_secret only: no node keys, mesh-key fallback, said once"
PC=$(free_port); PD=$(free_port); [ "$PD" = "$PC" ] && PD=$((PC + 1))
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
run c "$PC" -o punchd.mesh_secret="$T/secret"
run d "$PD" -o punchd.mesh_secret="$T/secret"
"$M" -S "$T/c" punch dave "127.0.0.1:$PD" >/dev/null 2>&1 &
pc=$!
"$M" -S "$T/d" punch carol "127.0.0.1:$PC" >/dev/null 2>&1 || fail "punch d"
wait $pc || fail "punch c"
"$M" -S "$T/d" listen -c 2 >"$T/rx.d" 2>/dev/null &
ld=$!
sleep 0.3
"$M" -S "$T/c" send dave one >/dev/null || fail "send 1"
"$M" -S "$T/c" send dave two >/dev/null || fail "send 2"
wait_for 5 sh -c "[ \$(wc -l <'$T/rx.d') -ge 2 ]" || { kill $ld; fail "fallback data lost"; }
wait $ld 2>/dev/null
[ "$("$M" -S "$T/c" --json peers | jq -r '.[0].e2e')" = mesh-key ] || fail "c's mode"
[ "$(grep -c "traffic under the mesh key" "$T/c.log")" = 1 ] || fail "c should say it once"
ok "fallback to the mesh key without node keys"
