#!/bin/sh
# IPC access control (common/ipc.c ipc_peer_allowed, SO_PEERCRED): a
# daemon's socket answers root, the daemon's own uid and members of group
# `atmosphere` (primary gid from SO_PEERCRED, supplementary groups read from
# /proc/PID/status), and nobody else. Two layers are tested separately:
# the socket file's mode (0660) and, with the mode opened to 0666 on
# purpose, the SO_PEERCRED check behind it.
#
# Needs root (to run processes as other uids with setpriv). The group
# `atmosphere` is never created on the host: the group case runs the daemon
# in a private mount namespace (unshare -m) with /etc/group bind-mounted
# from a copy that adds it, and is skipped when unshare is not allowed.
. "$(dirname "$0")/lib.sh"
need_bin stund meshctl ipcraw
[ "$(id -u)" = 0 ] || skip "skipped: needs root to run clients as other uids (setpriv)"
command -v setpriv >/dev/null 2>&1 || skip "skipped: setpriv (util-linux) is missing"
NOBODY=65534
OTHER=64123		# a uid and gid nobody uses
GID_ATM=64124		# the test's group atmosphere, inside the namespace only
as() { # UID GID [--groups=..] CMD...: run as another user
	u=$1 g=$2; shift 2
	case "$1" in --groups=*) grp=$1; shift ;; *) grp=--clear-groups ;; esac
	setpriv --reuid="$u" --regid="$g" "$grp" "$@"
}
# status.get over a raw connection: prints "answered", "refused" (closed
# without a reply) or "no access" (connect failed)
call() { # SOCKET [as-args...]
	s=$1; shift
	printf '\224\000\011\252status.get\200' | "$@" "$TOOLS/ipcraw" "$s" >"$T/call.out" 2>&1
	if grep -q '"daemon"' "$T/call.out"; then echo answered
	elif grep -qi 'denied\|connect' "$T/call.out"; then echo "no access"
	else echo refused; fi
}
chmod 0755 "$T"	# others must reach the sockets below
refused_ctr() { "$BIN/meshctl" -S "$1" --json status | jq '.daemons[0].status.counters.ipc_refused'; }

echo "== stund as root"
mkdir -p "$T/r"
RUNTIME_DIRECTORY=$T/r start r "$T/r.log" "$BIN/stund" -f /dev/null --servers none
wait_sock "$T/r/stund.sock"
ls -l "$T/r/stund.sock"
case "$(stat -c %a "$T/r/stund.sock")" in 660) ;; *) fail "socket mode $(stat -c %a "$T/r/stund.sock"), want 660" ;; esac
[ "$(call "$T/r/stund.sock")" = answered ] || fail "root refused: $(cat "$T/call.out")"
res=$(call "$T/r/stund.sock" as $NOBODY $NOBODY)
echo "nobody, socket 0660: $res"
[ "$res" = "no access" ] || fail "nobody through a 0660 root socket: $res $(cat "$T/call.out")"
"$BIN/meshctl" -S "$T/r" status >/dev/null 2>&1; [ $? = 3 ] || fail "meshctl as root"
as $NOBODY $NOBODY "$BIN/meshctl" -S "$T/r" network >"$T/mn.out" 2>&1; rc=$?
echo "meshctl network as nobody: exit $rc: $(head -n 1 "$T/mn.out")"
[ $rc = 3 ] || [ $rc = 1 ] || fail "meshctl as nobody should fail"
grep -q '"public"\|NAT type' "$T/mn.out" && fail "nobody got an answer"

chmod 0666 "$T/r/stund.sock"	# only SO_PEERCRED is left
n0=$(refused_ctr "$T/r")
for u in $NOBODY $OTHER; do
	res=$(call "$T/r/stund.sock" as $u $u)
	echo "uid $u, socket 0666: $res ($(tr '\n' ' ' <"$T/call.out"))"
	[ "$res" = refused ] || fail "uid $u not refused by SO_PEERCRED"
done
n1=$(refused_ctr "$T/r")
echo "ipc_refused $n0 -> $n1"
[ $((n1 - n0)) = 2 ] || fail "ipc_refused should count 2"
wait_for 2 grep -q "refused uid $NOBODY" "$T/r.log" || fail "no log line for the refusal"
grep "refused uid" "$T/r.log"
[ "$(call "$T/r/stund.sock")" = answered ] || fail "root refused after that"
ok "root answered; nobody and uid $OTHER refused (file mode, then SO_PEERCRED)"

echo "== stund as nobody: its own uid and root answered, another uid refused"
mkdir -p "$T/n"; chown $NOBODY:$NOBODY "$T/n"
RUNTIME_DIRECTORY=$T/n start n "$T/n.log" setpriv --reuid=$NOBODY --regid=$NOBODY \
	--clear-groups "$BIN/stund" -f /dev/null --servers none
wait_sock "$T/n/stund.sock"
ls -l "$T/n/stund.sock"
[ "$(call "$T/n/stund.sock" as $NOBODY $NOBODY)" = answered ] || fail "own uid refused: $(cat "$T/call.out")"
[ "$(call "$T/n/stund.sock")" = answered ] || fail "root refused"
chmod 0666 "$T/n/stund.sock"
[ "$(call "$T/n/stund.sock" as $OTHER $OTHER)" = refused ] || fail "uid $OTHER not refused"
# the same gid as the daemon is not enough: only the group atmosphere is
[ "$(call "$T/n/stund.sock" as $OTHER $NOBODY)" = refused ] || fail "uid $OTHER gid $NOBODY not refused"
ok "own uid and root answered, uid $OTHER refused (also with the daemon's gid)"

echo "== group atmosphere (private mount namespace)"
if ! unshare -m true 2>/dev/null; then
	echo "note: unshare -m not permitted here, group case not run"
	echo PASS
	exit 0
fi
{ cat /etc/group; echo "atmosphere:x:$GID_ATM:"; } >"$T/group"
chmod 0644 "$T/group"
mkdir -p "$T/g"; chown $NOBODY:$NOBODY "$T/g"
# the daemon (uid nobody, gid atmosphere, as systemd-sysusers sets the
# service user up) sees the group; the clients need not: they carry the gid
RUNTIME_DIRECTORY=$T/g start g "$T/g.log" unshare -m sh -c \
	'mount --bind "$1" /etc/group && exec setpriv --reuid=65534 --regid=$3 --clear-groups "$2" -f /dev/null --servers none' \
	sh "$T/group" "$BIN/stund" "$GID_ATM"
wait_sock "$T/g/stund.sock"
ls -ln "$T/g/stund.sock"
[ "$(stat -c %g "$T/g/stund.sock")" = $GID_ATM ] || fail "socket not chowned to group atmosphere ($GID_ATM)"
grep -q "^atmosphere:" /etc/group && fail "the host's /etc/group was changed"
r1=$(call "$T/g/stund.sock" as $OTHER $GID_ATM)
r2=$(call "$T/g/stund.sock" as $OTHER $OTHER --groups=$GID_ATM)
chmod 0666 "$T/g/stund.sock"
r3=$(call "$T/g/stund.sock" as $OTHER $OTHER)
echo "uid $OTHER primary gid atmosphere: $r1; supplementary atmosphere: $r2; no group (0666): $r3"
[ "$r1" = answered ] || fail "primary group atmosphere refused"
[ "$r2" = answered ] || fail "supplementary group atmosphere refused (/proc/PID/status Groups:)"
[ "$r3" = refused ] || fail "uid $OTHER without the group was not refused"
ok "group atmosphere answered as primary and as supplementary group, others refused"
echo PASS
