#!/bin/sh
# init, invite, join between node instances on loopback (separate state and
# runtime directories): the joiner gets the mesh and punches the inviter;
# both list each other; a used code is refused on both sides (replay), an
# expired one before anything is sent; a third node joins with a two-use
# code and all three are pairwise connected (announcements); each node's
# mesh IPv4 pin comes from its inviter and every node records the same
# pins (WELCOME, ANNOUNCE); restarting punchd keeps the mesh, the peers and
# the pins.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl

M="$BIN/meshctl"
PA=$(free_port); PB=$(free_port); PC=$(free_port); PD=$(free_port)
run() { # NAME PORT
	mkdir -p "$T/$1"
	RUNTIME_DIRECTORY=$T/$1 STATE_DIRECTORY=$T/$1 start "$1" "$T/$1.log" \
		"$BIN/punchd" -v -p "$2" -o punchd.host_loopback=yes \
		-o punchd.stun_refresh=0 -o punchd.punch_interval=50ms \
		-o punchd.keepalive_interval=500ms -o punchd.repunch=1s
	wait_sock "$T/$1/punchd.sock"
	wait_for 5 "$M" -S "$T/$1" peers || fail "$1 does not answer"
}
stop() { # NAME
	eval "kill \$PID_$1; wait \$PID_$1 2>/dev/null"
}
state() { # NODE PEER-ID: its state as NODE sees it
	"$M" -S "$T/$1" --json peers | jq -r ".[] | select(.id == \"$2\") | .state"
}
direct() { [ "$(state "$1" "$2")" = direct ]; }
run a "$PA"; run b "$PB"; run c "$PC"; run d "$PD"
ida=$(cat "$T/a/node.id"); idb=$(cat "$T/b/node.id"); idc=$(cat "$T/c/node.id")

"$M" -S "$T/a" init home >/dev/null || fail "init"
"$M" -S "$T/a" --json invite --local "127.0.0.1:$PA" --public - >"$T/i1.json" || fail "invite"
code=$(jq -r .token "$T/i1.json")
case $code in ATM-*) ;; *) fail "code: $code" ;; esac
jq -r .uri "$T/i1.json" | grep -q '^atmosphere://join?token=ATM-' || fail "uri"
grep -q "$(echo "$code" | cut -c5-20)" "$T/a.log" && fail "the code is in the log"
secret=$(sed -n 2p "$T/a/invites" | cut -d' ' -f1)
[ ${#secret} -eq 64 ] || fail "invites file: $(cat "$T/a/invites")"
grep -q "$secret" "$T/a.log" && fail "the join secret is in the log"
[ "$(stat -c %a "$T/a/invites")" = 600 ] || fail "invites file mode"
ok "invite $(echo "$code" | cut -c1-16)... minted"

echo "== b joins"
start0=$(date +%s%N)
"$M" -S "$T/b" join --name bob "$code" >"$T/j1.out" || { cat "$T/j1.out"; fail "join"; }
end0=$(date +%s%N)
cat "$T/j1.out"
grep -q "^local udp://127.0.0.1:$PA ... connected" "$T/j1.out" || fail "progress line"
grep -q "direct via 127.0.0.1:$PA" "$T/j1.out" || fail "not direct"
tail -n 1 "$T/j1.out" | grep -q "joined mesh home via local" || fail "last line"
echo "join to direct: $(( (end0 - start0) / 1000000 )) ms (meshctl wall clock)"
[ "$(jq -r .mesh_id "$T/i1.json")" = "$("$M" -S "$T/b" --json mesh | jq -r .mesh_id)" ] || fail "b is not in a's mesh"
[ "$(stat -c %a "$T/b/mesh")" = 600 ] || fail "b's mesh file mode"
wait_for 5 direct a "$idb" || fail "a does not see b direct"
direct b "$ida" || fail "b does not see a direct"
"$M" -S "$T/a" peers | grep -q "^bob " || fail "a does not name b bob"
"$M" -S "$T/a" peers; "$M" -S "$T/b" peers
"$M" -S "$T/b" ping -c 2 "$ida" >/dev/null || fail "ping over the new path"
for f in a b; do
	grep -q "$secret" "$T/$f.log" && fail "the join secret is in $f's log"
	grep -q "$(echo "$code" | cut -c5-24)" "$T/$f.log" && fail "the code is in $f's log"
done
ok "b joined and both list each other"

echo "== the used code again, from another node: refused"
"$M" -S "$T/c" join "$code" >"$T/j2.out" 2>"$T/j2.err" && fail "used code accepted"
cat "$T/j2.out" "$T/j2.err"
grep -q "already been used" "$T/j2.err" || fail "c's message"
wait_for 3 grep -q "refused: already used" "$T/a.log" || fail "a's log"
[ -e "$T/c/mesh" ] && fail "c got a mesh"
ok "used code refused on both sides"

echo "== expired code"
"$M" -S "$T/a" --json invite --expires 1s --local "127.0.0.1:$PA" >"$T/i2.json" || fail "invite 1s"
sleep 2
"$M" -S "$T/c" join "$(jq -r .token "$T/i2.json")" 2>"$T/j3.err" && fail "expired code accepted"
cat "$T/j3.err"
grep -q "expired at" "$T/j3.err" || fail "message"
ok "expired code refused"

echo "== a two-use code: c joins too, and c and b find each other"
"$M" -S "$T/a" --json invite --uses 2 --local "127.0.0.1:$PA" --public - >"$T/i3.json" || fail "invite 2 uses"
code2=$(jq -r .token "$T/i3.json")
"$M" -S "$T/c" join --name carol "$code2" || fail "c's join"
wait_for 10 direct c "$idb" || { "$M" -S "$T/c" peers; fail "c does not reach b"; }
wait_for 10 direct b "$idc" || { "$M" -S "$T/b" peers; fail "b does not reach c"; }
wait_for 5 direct a "$idc" || fail "a does not reach c"
for n in a b c; do echo "-- $n"; "$M" -S "$T/$n" peers; done
ok "three nodes, pairwise direct"

echo "== mesh IPv4 pins: each joiner's from its inviter, the same everywhere"
pin() { sed -n 's/^v4=//p' "$T/$1/mesh"; }	# NODE: its own pin
pinof() { # NODE ID: the pin NODE recorded for member ID
	awk -v id="$2" '$1 == id { for (i = 4; i <= NF; i++)
	    if ($i ~ /^v4=/) print substr($i, 4) }' "$T/$1/members"
}
pins_agree() {
	[ "$(pinof a "$idb")" = "$vb" ] && [ "$(pinof a "$idc")" = "$vc" ] &&
	[ "$(pinof b "$ida")" = "$va" ] && [ "$(pinof b "$idc")" = "$vc" ] &&
	[ "$(pinof c "$ida")" = "$va" ] && [ "$(pinof c "$idb")" = "$vb" ]
}
va=$(pin a); vb=$(pin b); vc=$(pin c)
for v in "$va" "$vb" "$vc"; do
	echo "$v" | grep -Eq '^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.[0-9]+\.[0-9]+$' ||
		fail "pin '$v' (a=$va b=$vb c=$vc) not in 100.64.0.0/10"
done
[ "$va" != "$vb" ] && [ "$va" != "$vc" ] && [ "$vb" != "$vc" ] || fail "pins clash: $va $vb $vc"
grep -q "join: mesh IPv4 address $vb (from the inviter)" "$T/b.log" || fail "b's pin is not a's"
grep -q "join: mesh IPv4 address $vc (from the inviter)" "$T/c.log" || fail "c's pin is not a's"
wait_for 5 pins_agree || { head "$T"/[abc]/members; fail "members disagree on the pins"; }
ok "pins a=$va b=$vb c=$vc, recorded alike on all three"

echo "== restart punchd, one node at a time: the mesh and the peers come back"
for n in a b c; do
	stop $n
	eval "run $n \$P$(echo $n | tr a-z A-Z)"
	for o in $ida $idb $idc; do
		[ "$o" = "$(cat "$T/$n/node.id")" ] && continue
		wait_for 15 direct $n "$o" || { "$M" -S "$T/$n" peers; fail "$n lost $o after its restart"; }
	done
done
[ "$("$M" -S "$T/b" --json mesh | jq -r .name)" = home ] || fail "b's mesh after restart"
[ "$(pin a)" = "$va" ] && [ "$(pin b)" = "$vb" ] && [ "$(pin c)" = "$vc" ] &&
	pins_agree || fail "pins moved over the restarts"
ok "restarts keep the mesh, every peer and the pins"

echo "== peers remove"
"$M" -S "$T/c" peers remove "$idb" || fail "remove"
"$M" -S "$T/c" --json peers | jq -e ".[] | select(.id == \"$idb\")" >/dev/null && fail "still listed"
ok "removed"
