#!/bin/sh
# What the units' Type=notify, WatchdogSec=, ExecReload= and
# RestartPreventExitStatus=2 rely on, checked against the real daemons with a
# datagram socket standing in for systemd's NOTIFY_SOCKET (socat):
#   READY=1 with a STATUS= line once the daemon is up; WATCHDOG=1 at half of
#   WATCHDOG_USEC from the event loop; RELOADING=1 then READY=1 on SIGHUP;
#   STOPPING=1 and exit 0 on SIGTERM; log lines with sd-daemon priority
#   prefixes; a broken configuration: no READY=1 and the documented exit
#   status (2 for every daemon: a usage or configuration error).
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null 2>&1 || skip "skipped: socat is not installed (scripts/deps.sh)"

built=""
for d in stund punchd relayd; do
	[ -x "$BIN/$d" ] && built="$built $d"
done
[ -n "$built" ] || skip "skipped: no daemon is built"

# count FILE STRING: occurrences (sd_notify datagrams have no separator)
count() {
	grep -o "$2" "$1" 2>/dev/null | wc -l
}

# args DAEMON: command-line for a private, offline instance
args() {
	case $1 in
	stund)	echo "--servers none" ;;
	punchd)	echo "-p $(free_port) -o punchd.state_dir=$T/state-punchd" ;;
	relayd)	echo "-l 127.0.0.1 -p $(free_port) --open" ;;
	esac
}

for d in $built; do
	N="$T/notify-$d.sock"
	out="$T/notify-$d.out"
	start "socat_$d" "$T/socat-$d.log" socat -u "UNIX-RECV:$N" "OPEN:$out,creat,append"
	wait_sock "$N"
	mkdir -p "$T/run-$d"
	# 400 ms: a ping every 200 ms
	# shellcheck disable=SC2046
	env -u WATCHDOG_PID RUNTIME_DIRECTORY="$T/run-$d" STATE_DIRECTORY="$T/state-$d" \
	    ATMOSPHERE_CONFIG="$T/absent.conf" NOTIFY_SOCKET="$N" WATCHDOG_USEC=400000 \
	    "$BIN/$d" $(args "$d") >"$T/$d.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_for 5 grep -q 'READY=1' "$out" || fail "$d: no READY=1"
	grep -q 'STATUS=.' "$out" || fail "$d: READY=1 without a STATUS= line"
	[ -S "$T/run-$d/$d.sock" ] || fail "$d: READY=1 before its IPC socket exists"
	sleep 1.1
	w=$(count "$out" 'WATCHDOG=1')
	[ "$w" -ge 3 ] || fail "$d: $w WATCHDOG=1 in 1.1 s with WATCHDOG_USEC=400000 (want >= 3)"
	kill -HUP "$pid"
	wait_for 3 sh -c "[ \$(grep -o 'READY=1' '$out' | wc -l) -ge 2 ]" ||
	    fail "$d: no READY=1 after SIGHUP"
	grep -q 'RELOADING=1' "$out" || fail "$d: no RELOADING=1 on SIGHUP"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || fail "$d: exit status $rc after SIGTERM, want 0"
	grep -q 'STOPPING=1' "$out" || fail "$d: no STOPPING=1 on SIGTERM"
	bad=$(grep -v '^<[0-7]>' "$T/$d.log" | head -n 3)
	[ -z "$bad" ] || fail "$d: log lines without an sd-daemon prefix: $bad"
	ok "$d: READY=1+STATUS, $w WATCHDOG=1 in 1.1 s, RELOADING=1/READY=1 on HUP, STOPPING=1 and exit 0 on TERM"

	# a broken file: refused before READY=1, with the documented status
	printf '[%s]\nno_such_key = 1\n' "$d" >"$T/broken.conf"
	: >"$out"
	env -u WATCHDOG_PID RUNTIME_DIRECTORY="$T/run-$d" STATE_DIRECTORY="$T/state-$d" \
	    ATMOSPHERE_CONFIG="$T/broken.conf" NOTIFY_SOCKET="$N" \
	    "$BIN/$d" $(args "$d") >"$T/$d-broken.log" 2>&1
	rc=$?
	want=2
	[ $rc -eq $want ] || fail "$d: exit status $rc on a broken configuration, want $want"
	sleep 0.1
	grep -q 'READY=1' "$out" && fail "$d: READY=1 with a broken configuration"
	grep -q 'no_such_key' "$T/$d-broken.log" || fail "$d: the error does not name the key"
	ok "$d: a broken configuration: exit $rc, no READY=1, the key named in the log"
done
