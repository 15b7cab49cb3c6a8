#!/bin/sh
# libnss_atmosphere (nss/, docs/mesh-interface.md "Names") through glibc:
# getent in a private mount namespace (unshare -m) whose /etc/nsswitch.conf
# and /etc/hosts are bind-mounted test copies, the module found by
# LD_LIBRARY_PATH and the hosts file by ATMOSPHERE_NSS_HOSTS.
#   1. a written file: NAME.mesh and NAME.MESHNAME.mesh, any case, both
#      families (hosts, ahosts, ahostsv4/v6); an unknown .mesh name fails;
#      a name that is not .mesh falls through to `files` after the module;
#      reverse lookups of the file's addresses.
#   2. punchd writes the file (punchd/hostsfile.c): a punchd with
#      tun = yes in its own network namespace (unshare -n), after meshctl
#      init: the file is 0644, its lines are `meshctl hosts`' lines, getent
#      answers this node's name with atm0's addresses; TERM removes the
#      file, a restart in the mesh writes it again, meshctl leave removes
#      it; a punchd with tun = no removes a file a crashed run left.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl
SO="$TOP/$BUILD/lib/libnss_atmosphere.so.2"
[ -f "$SO" ] || skip "skipped: $SO is not built"
[ "$(id -u)" = 0 ] || skip "skipped: needs root (unshare -m, a TUN device)"
command -v getent >/dev/null 2>&1 || skip "skipped: getent is missing"
unshare -m true 2>/dev/null || skip "skipped: unshare -m is not allowed here"

mkdir -p "$T/etc"
printf 'hosts: atmosphere files\n' >"$T/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n192.0.2.77 atm-nss-files.example\n' >"$T/etc/hosts"
# ns_getent HOSTSFILE ARGS...: getent with the test's nsswitch.conf
ns_getent() {
	f=$1; shift
	unshare -m sh -c 'mount --bind "$0/etc/nsswitch.conf" /etc/nsswitch.conf &&
	    mount --bind "$0/etc/hosts" /etc/hosts && exec "$@"' "$T" \
	    env LD_LIBRARY_PATH="$TOP/$BUILD/lib" ATMOSPHERE_NSS_HOSTS="$f" \
	    getent "$@"
}

# --- 1. a written file ------------------------------------------------------
cat >"$T/hosts" <<'HOSTS'
# mesh home, interface atm0 (meshctl hosts)
100.64.1.2                              alice alice.home	# this node
100.80.3.4                              bob bob.home
fd12:3456:789a::102:304:506:708         alice alice.home	# this node
fd12:3456:789a::1111:2222:3333:4444     bob bob.home
HOSTS
out=$(ns_getent "$T/hosts" ahosts alice.mesh) || fail "getent ahosts alice.mesh: nothing"
# getent prints the canonical name on the first line only
echo "$out" | grep -q "STREAM alice.mesh$" &&
    echo "$out" | grep -q "^100.64.1.2 .*STREAM" &&
    echo "$out" | grep -q "^fd12:3456:789a:0:102:304:506:708 .*STREAM" ||
    fail "getent ahosts alice.mesh: $out"
[ "$(ns_getent "$T/hosts" ahostsv4 BOB.Home.MESH | awk '{ print $1 }' | sort -u)" = 100.80.3.4 ] ||
    fail "ahostsv4 BOB.Home.MESH: $(ns_getent "$T/hosts" ahostsv4 BOB.Home.MESH)"
[ "$(ns_getent "$T/hosts" ahostsv6 bob.mesh | awk '{ print $1 }' | sort -u)" = \
    fd12:3456:789a:0:1111:2222:3333:4444 ] || fail "ahostsv6 bob.mesh"
out=$(ns_getent "$T/hosts" hosts bob.mesh)
case "$out" in
fd12:3456:789a:0:1111:2222:3333:4444*bob.mesh|100.80.3.4*bob.mesh) ;;
*) fail "getent hosts bob.mesh: '$out'" ;;
esac
ok "getent: alice.mesh (both families), BOB.Home.MESH (IPv4), bob.mesh (IPv6, hosts: '$out')"
ns_getent "$T/hosts" hosts carol.mesh >/dev/null && fail "carol.mesh resolved"
ns_getent "$T/hosts" hosts alice.home >/dev/null && fail "alice.home (not .mesh) resolved"
[ "$(ns_getent "$T/hosts" hosts atm-nss-files.example | awk '{ print $1 }')" = 192.0.2.77 ] ||
    fail "a name that is not .mesh does not fall through to files"
# the module really is the one answering: without it, nothing
unshare -m sh -c 'mount --bind "$0/etc/nsswitch.conf" /etc/nsswitch.conf &&
    exec env ATMOSPHERE_NSS_HOSTS="$0/hosts" getent hosts alice.mesh' "$T" >/dev/null &&
    fail "alice.mesh resolved without the module"
ok "carol.mesh and alice.home are not found; atm-nss-files.example falls through to files"
out=$(ns_getent "$T/hosts" hosts 100.80.3.4) && [ "$(echo $out)" = "100.80.3.4 bob.mesh" ] ||
    fail "reverse 100.80.3.4: '$out'"
out=$(ns_getent "$T/hosts" hosts fd12:3456:789a::102:304:506:708) &&
    [ "$(echo "$out" | awk '{ print $2 }')" = alice.mesh ] || fail "reverse IPv6: '$out'"
ns_getent "$T/hosts" hosts 100.64.9.9 >/dev/null && fail "100.64.9.9 (in no line) resolved"
ok "reverse: 100.80.3.4 is bob.mesh, alice's IPv6 alice.mesh, 100.64.9.9 nobody"

# --- 2. punchd writes it ----------------------------------------------------
[ -c /dev/net/tun ] || skip "skipped part 2: no /dev/net/tun"
P="$T/p"
mkdir -p "$P"
M="$BIN/meshctl"
run() { # TUN(yes|no)
	RUNTIME_DIRECTORY=$P STATE_DIRECTORY=$P start P "$T/punchd.log" \
	    unshare -n "$BIN/punchd" -v -p 7777 -o punchd.tun="$1" \
	    -o punchd.stun_refresh=0
	wait_sock "$P/punchd.sock"
	wait_for 5 "$M" -S "$P" peers || fail "punchd does not answer"
}
stop() {
	kill "$PID_P"; wait "$PID_P" 2>/dev/null
	rm -f "$P/punchd.sock"
}
run yes
[ -e "$P/hosts" ] && fail "a hosts file before this node is in a mesh"
"$M" -S "$P" init home >/dev/null || fail "meshctl init"
wait_for 5 test -s "$P/hosts" || fail "punchd wrote no $P/hosts"
[ "$(stat -c %a "$P/hosts")" = 644 ] || fail "hosts file mode $(stat -c %a "$P/hosts")"
"$M" -S "$P" hosts >"$T/meshctl-hosts" || fail "meshctl hosts"
[ "$(grep -v '^#' "$P/hosts")" = "$(grep -v '^#' "$T/meshctl-hosts")" ] || {
	diff "$P/hosts" "$T/meshctl-hosts"; fail "the file's lines are not meshctl hosts' lines"; }
name=$(awk '/# this node/ && !/^#/ { print $2; exit }' "$P/hosts")
v4=$(awk '/# this node/ && $1 !~ /:/ { print $1; exit }' "$P/hosts")
v6=$(awk '/# this node/ && $1 ~ /:/ { print $1; exit }' "$P/hosts")
[ -n "$name" ] && [ -n "$v4" ] && [ -n "$v6" ] || fail "no self lines: $(cat "$P/hosts")"
nsenter -t "$PID_P" -n ip -o -4 addr show | grep -q " $v4/10 " ||
    fail "$v4 is not on the device: $(nsenter -t "$PID_P" -n ip -o addr show)"
got=$(ns_getent "$P/hosts" ahosts "$name.mesh" | awk '{ print $1 }' | sort -u | tr '\n' ' ')
[ "$got" = "$(printf '%s\n%s\n' "$v4" "$v6" | sort | tr '\n' ' ')" ] ||
    fail "getent ahosts $name.mesh: '$got', want $v4 $v6"
[ "$(ns_getent "$P/hosts" hosts "$v4" | awk '{ print $2 }')" = "$name.mesh" ] ||
    fail "reverse $v4: $(ns_getent "$P/hosts" hosts "$v4")"
ok "punchd wrote $P/hosts 0644 with meshctl hosts' lines; getent ahosts $name.mesh: $got"

stop
[ -e "$P/hosts" ] && fail "the hosts file outlived punchd"
run yes
wait_for 5 test -s "$P/hosts" || fail "no hosts file after a restart in the mesh"
"$M" -S "$P" leave >/dev/null || fail "meshctl leave"
wait_for 5 sh -c "! test -e '$P/hosts'" || fail "the hosts file outlived meshctl leave"
ok "the file goes at stop, comes back at a restart in the mesh, goes at meshctl leave"
stop
cp "$T/hosts" "$P/hosts"
run no
[ -e "$P/hosts" ] && fail "punchd with tun = no kept a stale hosts file"
ok "punchd with tun = no removes a stale hosts file"
