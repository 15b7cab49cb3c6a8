#!/bin/sh
# punchd's peers state file: written crash-safe (temp file, fsync, rename,
# fsync of the directory: checked with strace when it is installed), 0600,
# with a versioned header; read back at start. A file that does not parse
# (garbage, truncated, empty, another version, a bad line, a duplicate)
# gives one clear log line naming the file, the line and the reason, is
# moved aside to peers.corrupt-<UTC time> byte for byte, and punchd starts
# without saved peers, serves, and writes a fresh file on the next change.
# The unversioned header of earlier builds still loads; a peers.tmp left by
# an interrupted write is removed.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl

M="$BIN/meshctl"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
FAST="-o punchd.punch_interval=50ms -o punchd.punch_timeout=2s
 -o punchd.keepalive_interval=300ms -o punchd.repunch=500ms
 -o punchd.stun_refresh=0"

run() { # NAME PORT [punchd args]
	n=$1; p=$2; shift 2
	mkdir -p "$T/$n"
	RUNTIME_DIRECTORY=$T/$n STATE_DIRECTORY=$T/$n start "$n" "$T/$n.log" \
		"$@" "$BIN/punchd" -v -p "$p" -o punchd.mesh_secret="$T/secret" $FAST
	wait_sock "$T/$n/punchd.sock"
	wait_for 5 "$M" -S "$T/$n" peers || fail "$n does not answer"
}
stop() { # NAME
	eval "pid=\$PID_$1"
	kill "$pid"
	wait_for 5 sh -c "! kill -0 $pid" || fail "$1 did not stop"
}
npeers() { "$M" -S "$T/$1" --json peers | jq length; }

PA=$(free_port)
PB=$(free_port); [ "$PB" = "$PA" ] && PB=$((PA + 1))

echo "== a good file: written with a v1 header, mode 0600, read back"
run a "$PA"
run b "$PB"
idb=$(cat "$T/b/node.id")
"$M" -S "$T/b" punch -w 3000 alice "127.0.0.1:$PA" >/dev/null &
pb=$!
"$M" -S "$T/a" punch -w 3000 bob "127.0.0.1:$PB" >/dev/null || fail "punch"
wait $pb || fail "punch from b"
wait_for 5 test -f "$T/a/peers" || fail "a wrote no peers file within 5 s"
cat "$T/a/peers"
head -n 1 "$T/a/peers" | grep -q '^# punchd peers v1: ' || fail "header"
grep -q "^$idb bob 127.0.0.1:$PB" "$T/a/peers" || fail "bob's line"
[ "$(stat -c %a "$T/a/peers")" = 600 ] || fail "mode $(stat -c %a "$T/a/peers")"
[ -e "$T/a/peers.tmp" ] && fail "a temporary file was left behind"
stop a
run a "$PA"
grep -q "1 peer from $T/a/peers, punching again" "$T/a.log" || fail "not loaded"
wait_for 5 sh -c "'$M' -S '$T/a' --json peers | jq -e '.[0].state == \"direct\" and .[0].name == \"bob\"'" ||
	fail "bob not direct again from the file"
ok "peers file v1, 0600, loaded at start (bob direct again)"

if command -v strace >/dev/null 2>&1; then
	echo "== crash-safe write: temp, fsync, rename, fsync(dir)"
	stop a
	RUNTIME_DIRECTORY=$T/a STATE_DIRECTORY=$T/a start a "$T/a.log" \
		strace -f -o "$T/strace.out" -e trace=openat,fsync,rename,close \
		"$BIN/punchd" -v -p "$PA" -o punchd.mesh_secret="$T/secret" $FAST
	wait_sock "$T/a/punchd.sock" 10
	wait_for 10 "$M" -S "$T/a" peers || fail "a under strace does not answer"
	# stop punchd itself, not strace: strace's own pid is PID_a
	straced=$PID_a
	PID_a=$("$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status.pid')
	PIDS="$PIDS $PID_a"
	wait_for 10 sh -c "'$M' -S '$T/a' --json peers | jq -e '.[0].state == \"direct\"'" || fail "bob under strace"
	# a change (a new peer) makes punchd save the table a second later
	"$M" -S "$T/a" punch -w 300 "0123456789abcdef" 127.0.0.1:9 >/dev/null 2>&1
	wait_for 5 grep -q "0123456789abcdef" "$T/a/peers" || fail "no save after a change"
	stop a
	wait_for 5 sh -c "! kill -0 $straced" || fail "strace did not end"
	# the order of the calls on the peers file, one save: open the temp,
	# fsync it, rename over peers, open the directory, fsync it
	seq=$(awk -v d="$T/a" '
		$0 ~ "openat\\(.*\"" d "/peers.tmp\"" { s = "open-tmp"; fd = $NF; next }
		s == "open-tmp" && /fsync\(/ { s = s " fsync"; next }
		s ~ /fsync$/ && $0 ~ "rename\\(\"" d "/peers.tmp\", \"" d "/peers\"" { s = s " rename"; next }
		s ~ /rename$/ && $0 ~ "openat\\(.*\"" d "\", O_RDONLY.*O_DIRECTORY" { s = s " open-dir"; next }
		s ~ /open-dir$/ && /fsync\(/ { print s " fsync-dir"; exit }
	' "$T/strace.out")
	echo "syscalls: $seq"
	[ "$seq" = "open-tmp fsync rename open-dir fsync-dir" ] || {
		grep -E 'peers|fsync|O_DIRECTORY' "$T/strace.out" | tail -n 20
		fail "the peers file is not written temp, fsync, rename, fsync(dir)"
	}
	ok "temp file, fsync, rename, fsync of the directory"
	run a "$PA"
fi

# the header and bob's line (the strace step added a second peer)
sed -n "1p; /^$idb /p" "$T/a/peers" >"$T/good"
[ "$(wc -l <"$T/good")" = 2 ] || fail "good file: $(cat "$T/good")"
stop a

# corrupt CASE CONTENT-FILE REASON: a starts on it; the file is moved
# aside unchanged, the log line says why, a serves with no saved peers
corrupt() {
	case_=$1; src=$2; why=$3
	rm -f "$T/a"/peers*
	cp "$src" "$T/a/peers"
	sum=$(cksum <"$T/a/peers")
	: >"$T/a.log"
	run a "$PA"
	line=$(grep "corrupt peers file" "$T/a.log")
	[ -n "$line" ] || fail "$case_: no error logged"
	echo "$line"
	echo "$line" | grep -q "corrupt peers file $T/a/peers: $why" ||
		fail "$case_: the reason should say '$why'"
	aside=$(ls "$T/a"/peers.corrupt-* 2>/dev/null)
	[ "$(echo "$aside" | wc -w)" = 1 ] || fail "$case_: one peers.corrupt-* expected, got '$aside'"
	echo "$aside" | grep -Eq '/peers\.corrupt-[0-9]{8}T[0-9]{6}Z$' || fail "$case_: name $aside"
	echo "$line" | grep -qF "moved aside to $aside" || fail "$case_: the log should name $aside"
	[ "$(cksum <"$aside")" = "$sum" ] || fail "$case_: the file was changed when moved aside"
	[ -e "$T/a/peers" ] && fail "$case_: peers should be gone"
	[ "$(npeers a)" = 0 ] || fail "$case_: no peer should come from a corrupt file"
	grep -q "punching again" "$T/a.log" && fail "$case_: nothing should be loaded"
	ok "$case_: refused, moved aside to $(basename "$aside")"
	stop a
}

echo "== corrupt files"
stop b		# b would punch a again and become its peer
head -c 3000 /dev/urandom >"$T/garbage"
# make sure it cannot start with the header by chance
{ printf 'x'; cat "$T/garbage"; } >"$T/garbage2"
corrupt garbage "$T/garbage2" "line 1: "
# cut in the middle of bob's line: the last line has no newline
len=$(wc -c <"$T/good")
head -c $((len - 7)) "$T/good" >"$T/truncated"
corrupt truncated "$T/truncated" "line 2: truncated"
: >"$T/empty"
corrupt empty "$T/empty" "empty file"
sed '1s/^# punchd peers v1:/# punchd peers v9:/' "$T/good" >"$T/v9"
corrupt "wrong version" "$T/v9" "line 1: file format version 9, this punchd reads version 1"
{ cat "$T/good"; echo "not-a-node-id bob 127.0.0.1:1"; } >"$T/badline"
corrupt "bad line" "$T/badline" "line 3: bad node id 'not-a-node-id'"
{ cat "$T/good"; sed -n 2p "$T/good"; } >"$T/dup"
corrupt "duplicate peer" "$T/dup" "line 3: node id $idb twice"
{ cat "$T/good"; echo "$idb bob 127.0.0.1:notaport"; } | sed 2d >"$T/badaddr"
corrupt "bad address" "$T/badaddr" "line 2: bad address '127.0.0.1:notaport'"
printf '%s\n' "# some other file" "$idb bob 127.0.0.1:$PB" >"$T/nohdr"
corrupt "no header" "$T/nohdr" "line 1: not a punchd peers file"

echo "== after a corrupt file: a fresh file on the next change"
rm -f "$T/a"/peers*
: >"$T/a/peers"
run a "$PA"
run b "$PB"
"$M" -S "$T/a" punch -w 3000 bob "127.0.0.1:$PB" >/dev/null || fail "punch after the corrupt file"
wait_for 5 test -f "$T/a/peers" || fail "no new peers file"
head -n 1 "$T/a/peers" | grep -q '^# punchd peers v1: ' || fail "new file header"
grep -q "^$idb bob " "$T/a/peers" || fail "new file content"
ls "$T/a"/peers.corrupt-* >/dev/null 2>&1 || fail "the corrupt copy must stay"
ok "new peers file written, the corrupt one kept aside"
stop a

echo "== the unversioned header of earlier builds still loads; peers.tmp is cleaned"
rm -f "$T/a"/peers*
sed '1s/^.*$/# punchd peers: id name endpoint candidates.../' "$T/good" >"$T/a/peers"
printf 'half a write' >"$T/a/peers.tmp"
: >"$T/a.log"
run a "$PA"
grep -q "1 peer from $T/a/peers" "$T/a.log" || fail "the old header should load"
grep -q "corrupt" "$T/a.log" && fail "the old header is not corrupt"
[ -e "$T/a/peers.tmp" ] && fail "peers.tmp should be removed"
grep "peers.tmp" "$T/a.log"
wait_for 5 sh -c "'$M' -S '$T/a' --json peers | jq -e '.[0].state == \"direct\"'" || fail "bob from the old file"
ok "old header loaded, stale peers.tmp removed"
echo PASS
