#!/bin/sh
# meshctl init / mesh / leave through punchd (mesh.init, mesh.get,
# mesh.leave): the mesh and the node key land in the state directory with
# mode 0600, init refuses to replace a mesh without --force, a restart
# keeps the mesh, leave forgets it.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl

M="$BIN/meshctl"
mkdir -p "$T/a"
P=$(free_port)
run() {
	RUNTIME_DIRECTORY=$T/a STATE_DIRECTORY=$T/a start a "$T/a.log" \
		"$BIN/punchd" -v -p "$P" -o punchd.stun_refresh=0
	wait_sock "$T/a/punchd.sock"
	wait_for 5 "$M" -S "$T/a" peers || fail "punchd does not answer"
}
stop() {
	kill "$PID_a"; wait "$PID_a" 2>/dev/null
}
run

echo "== init"
"$M" -S "$T/a" init home || fail "init"
"$M" -S "$T/a" --json mesh >"$T/m1.json" || fail "mesh"
cat "$T/m1.json"
[ "$(jq -r .name "$T/m1.json")" = home ] || fail "name"
[ "$(jq -r .source "$T/m1.json")" = mesh ] || fail "source"
[ "$(jq -r .mesh_id "$T/m1.json" | wc -c)" -eq 33 ] || fail "mesh id is 16 bytes"
[ "$(jq -r .public_key "$T/m1.json" | wc -c)" -eq 65 ] || fail "public key"
for f in mesh node.key; do
	[ "$(stat -c %a "$T/a/$f")" = 600 ] || fail "$f is not 0600"
done
ls "$T/a"/*.tmp 2>/dev/null && fail "a temporary file was left"
grep -q "^secret=[0-9a-f]\{64\}$" "$T/a/mesh" || fail "mesh file: $(cat "$T/a/mesh")"
ok "mesh and node key written, 0600"

echo "== a second init is refused, --force replaces"
"$M" -S "$T/a" init other 2>"$T/err" && fail "init over a mesh succeeded"
grep -q "already in mesh 'home'" "$T/err" || fail "message: $(cat "$T/err")"
"$M" -S "$T/a" --json init --force other >"$T/m2.json" || fail "init --force"
[ "$(jq -r .name "$T/m2.json")" = other ] || fail "forced name"
[ "$(jq -r .mesh_id "$T/m2.json")" != "$(jq -r .mesh_id "$T/m1.json")" ] || fail "same id"
[ "$(jq -r .public_key "$T/m2.json")" = "$(jq -r .public_key "$T/m1.json")" ] || fail "node key changed"
ok "refused without --force ($(cat "$T/err")), replaced with it"

echo "== restart keeps the mesh"
stop
run
"$M" -S "$T/a" --json mesh >"$T/m3.json" || fail "mesh after restart"
[ "$(jq -r .mesh_id "$T/m3.json")" = "$(jq -r .mesh_id "$T/m2.json")" ] || fail "mesh lost"
[ "$(jq -r .public_key "$T/m3.json")" = "$(jq -r .public_key "$T/m2.json")" ] || fail "key lost"
ok "same mesh and key after a restart"

echo "== invite needs a mesh; leave"
"$M" -S "$T/a" leave || fail "leave"
[ -e "$T/a/mesh" ] && fail "mesh file still there"
"$M" -S "$T/a" invite 2>"$T/err" && fail "invite without a mesh"
grep -q "meshctl init" "$T/err" || fail "message: $(cat "$T/err")"
"$M" -S "$T/a" leave 2>/dev/null && fail "leave twice"
"$M" -S "$T/a" init home || fail "init after leave"
ok "left, invite refused without a mesh, init again"
