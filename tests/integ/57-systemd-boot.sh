#!/bin/sh
# The units under a real systemd as PID 1. A minimal Debian of the host's
# release (debootstrap, with the libraries the daemons link against, cached
# in $ATM_ROOTFS_CACHE) gets `make install PREFIX=/usr` in an overlay of its
# own and is booted with systemd-nspawn in a private network namespace
# (loopback only). The host's /, /tmp and /run are never the container's.
#   1. boot: sysusers and tmpfiles made user atmosphere and its directories;
#      `systemctl enable --now atmosphere.target` starts stund and punchd,
#      not relayd (not part of the target); with `systemctl add-wants
#      atmosphere.target relayd.service` the target starts all three.
#      Type=notify (active = READY=1 came), StatusText, WatchdogUSec=30s,
#      the sandbox in force (uid atmosphere, no capability, NoNewPrivs,
#      seccomp)
#   2. meshctl status: three daemons up with systemd's MainPIDs; stund
#      answers STUN on 3478, relayd GET /health on 8080
#   3. `systemctl restart` of each daemon in turn while a poller runs
#      meshctl status, a STUN request and GET /health: only that daemon's
#      pid changes, the other two are up in every sample and keep answering;
#      punchd reconnects to a restarted stund
#   4. stop punchd: meshctl status shows it down (exit 3), the others up,
#      their sockets kept (RuntimeDirectoryPreserve); SIGKILL:
#      Restart=on-failure brings it back; `systemctl reload`: same pid,
#      "configuration reloaded"
#   5. a member of group atmosphere runs meshctl status without root and
#      without -S; a user outside the group gets nothing
#   6. stopping atmosphere.target stops stund and punchd (PartOf=), relayd
#      goes on
#   7. a drop-in makes a filtered system call fatal (SystemCallErrorNumber=
#      reset: SIGSYS, not EPERM) and sets WatchdogSec=4s: start, reload,
#      restart, stop, no SIGSYS; the pings keep the daemons alive; a stopped
#      (SIGSTOP) punchd is killed by the watchdog and started again
#   8. the journal: no seccomp or permission denial, no error from the
#      daemons
#   9. reboot (a second boot of the same tree): the enabled target starts the
#      three daemons at boot, punchd keeps its node id
# The container plumbing (cache, overlay, boot, cleanup) is tests/integ/nspawn.inc.
. "$(dirname "$0")/lib.sh"
need_bin stund punchd relayd meshctl
for c in curl turnutils_stunclient; do
	command -v "$c" >/dev/null 2>&1 || skip "skipped: $c is not installed (scripts/deps.sh: curl coturn)"
done
. "$(dirname "$0")/nspawn.inc"
t_start=$(date +%s)

nspawn_root
# a node that serves STUN to itself and runs the relay it falls back to, all
# on the container's loopback
cat >"$ROOT/etc/atmosphere/atmosphere.conf" <<'EOF'
[stund]
servers = 127.0.0.1:3478
server = yes
listen = 127.0.0.1:3478

[punchd]
relay_url = ws://127.0.0.1:8080

[relayd]
listen = 127.0.0.1
port = 8080
open = yes
EOF

t_boot=$(date +%s)
boot
echo "booted in $(( $(date +%s) - t_boot )) s: $(inside systemctl --version | head -n 1)"

# --- helpers ------------------------------------------------------------------

# status_line: one line "RC stund=PID|down punchd=... relayd=..." of
# meshctl --json status
status_line() {
	j=$(inside meshctl -t 2000 --json status 2>/dev/null)
	rc=$?
	l=$(printf '%s' "$j" | jq -r '[.daemons[] | "\(.daemon)=\(if .up then .status.pid else "down" end)"] | join(" ")' 2>/dev/null) ||
	    l="unparsable"
	echo "$rc $l"
}

stun_ok() {
	timeout 5 nsenter -t "$INIT" -n turnutils_stunclient -p 3478 127.0.0.1 2>/dev/null |
	    grep -q 'reflexive addr'
}

health_ok() {
	netin curl -fsS -m 3 http://127.0.0.1:8080/health 2>/dev/null | jq -e '.status == "ok"' >/dev/null 2>&1
}

# poll FILE: one sample a line until $T/stop-poll exists (at most 1000)
poll() {
	n=0
	while [ ! -e "$T/stop-poll" ] && [ $n -lt 1000 ]; do
		n=$((n + 1))
		s=no h=no
		stun_ok && s=ok
		health_ok && h=ok
		echo "$(status_line) stun=$s health=$h" >>"$1"
	done
}

lines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

journal_count() {	# UNIT STRING
	inside journalctl --no-pager -o cat -u "$1" | grep -cF "$2"
}

DAEMONS="stund punchd relayd"

# --- 1. boot, enable, the unit states --------------------------------------------

uid=$(inside id -u atmosphere) || fail "sysusers made no user atmosphere"
for d in /run/atmosphere /var/lib/atmosphere; do
	got=$(inside stat -c '%a %U %G' "$d") || fail "tmpfiles made no $d"
	[ "$got" = "750 atmosphere atmosphere" ] || fail "$d is '$got' after boot"
done
got=$(inside stat -c '%a %U %G' /etc/atmosphere/atmosphere.conf)
[ "$got" = "640 root atmosphere" ] || fail "atmosphere.conf is '$got' after boot"
ok "boot: user atmosphere (uid $uid), /run/atmosphere and /var/lib/atmosphere 0750, atmosphere.conf 0640 root:atmosphere"

inside systemctl enable --now atmosphere.target >"$T/enable.log" 2>&1 ||
    { cat "$T/enable.log"; fail "systemctl enable --now atmosphere.target"; }
cat "$T/enable.log"
[ "$(inside systemctl is-enabled atmosphere.target)" = enabled ] || fail "atmosphere.target is not enabled"
for d in stund punchd; do
	active "$d" || { inside systemctl status --no-pager "$d"; fail "$d is not active after enable --now atmosphere.target"; }
done
[ "$(prop relayd ActiveState)" = inactive ] || fail "relayd started with atmosphere.target (it is not part of it)"
inside systemctl add-wants atmosphere.target relayd.service >/dev/null 2>&1 ||
    fail "systemctl add-wants atmosphere.target relayd.service"
inside systemctl start atmosphere.target || fail "systemctl start atmosphere.target"
for d in $DAEMONS; do
	active "$d" || { inside systemctl status --no-pager "$d"; fail "$d is not active"; }
	[ "$(prop "$d" SubState)" = running ] || fail "$d: SubState $(prop "$d" SubState)"
	[ "$(prop "$d" Type)" = notify ] || fail "$d: Type is not notify"
	[ -n "$(prop "$d" StatusText)" ] || fail "$d: no StatusText (no STATUS= from the daemon)"
	[ "$(prop "$d" WatchdogUSec)" = 30s ] || fail "$d: WatchdogUSec $(prop "$d" WatchdogUSec)"
	pid=$(prop "$d" MainPID)
	inside cat "/proc/$pid/status" >"$T/$d.proc"
	for want in "Uid:	$uid	$uid	$uid	$uid" "CapEff:	0000000000000000" \
	    "CapBnd:	0000000000000000" "NoNewPrivs:	1" "Seccomp:	2"; do
		grep -qF "$want" "$T/$d.proc" || fail "$d (pid $pid): no '$want' in /proc/$pid/status"
	done
	echo "$d: pid $pid, StatusText '$(prop "$d" StatusText)'"
done
ok "enable --now atmosphere.target: stund and punchd; add-wants relayd: all three active, READY=1 + STATUS=, WatchdogUSec=30s, uid atmosphere, no capability, NoNewPrivs, seccomp"

echo "--- systemctl status"
inside systemctl status --no-pager -n 3 stund punchd relayd atmosphere.target | tee "$T/systemctl-status.txt"

# --- 2. meshctl status, serving ------------------------------------------------------

echo "--- meshctl status"
inside meshctl status >"$T/meshctl-status.txt"
rc=$?
cat "$T/meshctl-status.txt"
[ $rc -eq 0 ] || fail "meshctl status: exit $rc with all three daemons started"
l=$(status_line)
want="0 stund=$(prop stund MainPID) punchd=$(prop punchd MainPID) relayd=$(prop relayd MainPID)"
[ "$l" = "$want" ] || fail "meshctl --json status says '$l', systemd says '$want'"
wait_for 10 stun_ok || fail "no STUN answer from stund on 127.0.0.1:3478"
wait_for 10 health_ok || fail "no GET /health answer from relayd on 127.0.0.1:8080"
ok "meshctl status: the three daemons up with systemd's MainPIDs; STUN and /health answered"

# --- 3. restart each daemon alone -----------------------------------------------------

for d in punchd stund relayd; do
	P="$T/poll-$d"
	rm -f "$T/stop-poll" "$P"
	before=""
	for o in $DAEMONS; do
		before="$before $o=$(prop "$o" MainPID)"
	done
	nconn=$(journal_count punchd "stund connected")
	poll "$P" &
	poller=$!
	PIDS="$PIDS $poller"
	wait_for 60 sh -c "[ \$(wc -l <'$P' 2>/dev/null || echo 0) -ge 2 ]" || fail "the poller took no sample"
	inside systemctl restart "$d" || fail "systemctl restart $d"
	n=$(lines "$P")
	wait_for 60 sh -c "[ \$(wc -l <'$P') -ge $((n + 3)) ]" || fail "the poller stopped"
	: >"$T/stop-poll"
	wait "$poller"
	active "$d" || fail "$d is not active after its restart"
	old=$(echo "$before" | tr ' ' '\n' | sed -n "s/^$d=//p")
	new=$(prop "$d" MainPID)
	[ "$new" != "$old" ] || fail "systemctl restart $d: same pid $old"
	for o in $DAEMONS; do
		[ "$o" = "$d" ] && continue
		p=$(echo "$before" | tr ' ' '\n' | sed -n "s/^$o=//p")
		[ "$(prop "$o" MainPID)" = "$p" ] || fail "restart $d: $o's pid changed ($p -> $(prop "$o" MainPID))"
		bad=$(grep -vcE " $o=$p( |\$)" "$P")
		[ "$bad" -eq 0 ] || { cat "$P"; fail "restart $d: $o was not up as pid $p in $bad samples"; }
	done
	grep -vE "^[03] " "$P" && fail "restart $d: meshctl status exited with neither 0 nor 3"
	[ "$d" != stund ] && grep -q "stun=no" "$P" && { cat "$P"; fail "restart $d: a STUN request went unanswered"; }
	[ "$d" != relayd ] && grep -q "health=no" "$P" && { cat "$P"; fail "restart $d: GET /health went unanswered"; }
	grep -q "unparsable" "$P" && { cat "$P"; fail "restart $d: meshctl --json status printed no JSON"; }
	down=$(grep -c " $d=down" "$P")
	if [ "$d" = stund ]; then
		wait_for 30 sh -c "[ \$(nsenter -t $INIT -a env -i $SYSPATH journalctl --no-pager -o cat -u punchd | grep -cF 'stund connected') -gt $nconn ]" ||
		    fail "punchd did not reconnect to the restarted stund"
	fi
	ok "restart $d: pid $old -> $new, the other two kept their pids and were up in all $(lines "$P") samples ($down with $d down)$( [ "$d" = stund ] && echo ', punchd reconnected to stund')"
done
l=$(status_line)
want="0 stund=$(prop stund MainPID) punchd=$(prop punchd MainPID) relayd=$(prop relayd MainPID)"
[ "$l" = "$want" ] || fail "after the restarts meshctl says '$l', systemd '$want'"

# --- 4. stop, SIGKILL, reload --------------------------------------------------------

inside systemctl stop punchd || fail "systemctl stop punchd"
echo "--- meshctl status, punchd stopped"
inside meshctl status | tee "$T/meshctl-down.txt"
rc=$(status_line | cut -d ' ' -f 1)
[ "$rc" = 3 ] || fail "meshctl status exit $rc with punchd stopped, want 3"
status_line | grep -q " punchd=down " || fail "meshctl status does not show punchd down"
for o in stund relayd; do
	status_line | grep -qE " $o=$(prop "$o" MainPID)( |\$)" || fail "$o not up while punchd is stopped"
	inside test -S "/run/atmosphere/$o.sock" || fail "/run/atmosphere/$o.sock went with punchd"
done
inside systemctl start punchd || fail "systemctl start punchd"
ok "stop punchd: meshctl status exit 3, punchd down, stund and relayd up with their sockets"

n0=$(prop punchd NRestarts)
p0=$(prop punchd MainPID)
inside systemctl kill -s KILL punchd || fail "systemctl kill -s KILL punchd"
wait_for 30 sh -c "[ \$(nsenter -t $INIT -a env -i $SYSPATH systemctl show -P NRestarts punchd) -gt $n0 ]" ||
    fail "punchd was not restarted after SIGKILL (NRestarts $n0)"
wait_for 30 active punchd || fail "punchd not active again after SIGKILL"
p1=$(prop punchd MainPID)
[ "$p1" != "$p0" ] || fail "punchd has the same pid after SIGKILL"
inside journalctl --no-pager -o cat -u punchd | grep -q 'status=9/KILL' || fail "no status=9/KILL in punchd's journal"
ok "SIGKILL: Restart=on-failure, punchd pid $p0 -> $p1, NRestarts $n0 -> $(prop punchd NRestarts)"

for d in $DAEMONS; do
	p=$(prop "$d" MainPID)
	c=$(journal_count "$d" "configuration reloaded")
	inside systemctl reload "$d" || fail "systemctl reload $d"
	wait_for 10 sh -c "[ \$(nsenter -t $INIT -a env -i $SYSPATH journalctl --no-pager -o cat -u $d | grep -cF 'configuration reloaded') -gt $c ]" ||
	    fail "$d: no 'configuration reloaded' after systemctl reload"
	wait_for 10 sh -c "[ \$(nsenter -t $INIT -a env -i $SYSPATH systemctl show -P SubState $d) = running ]" ||
	    fail "$d: not running after reload"
	[ "$(prop "$d" MainPID)" = "$p" ] || fail "$d: reload changed the pid"
done
ok "systemctl reload: each daemon reloaded in place (same pid, 'configuration reloaded')"

# --- 5. meshctl for the group atmosphere ----------------------------------------------

inside useradd -M -G atmosphere meshop || fail "useradd meshop"
inside useradd -M stranger || fail "useradd stranger"
inside runuser -u meshop -- meshctl status >"$T/op.txt" 2>&1 ||
    { cat "$T/op.txt"; fail "meshctl status as a member of group atmosphere (exit $?)"; }
[ "$(grep -c ' up ' "$T/op.txt")" -eq 3 ] || { cat "$T/op.txt"; fail "meshop: not three daemons up"; }
inside runuser -u stranger -- meshctl -S /run/atmosphere status >"$T/stranger.txt" 2>&1
rc=$?
[ $rc -eq 3 ] && ! grep -q ' up ' "$T/stranger.txt" ||
    { cat "$T/stranger.txt"; fail "a user outside group atmosphere: exit $rc"; }
ok "meshctl status as a member of group atmosphere, no -S: three up; a stranger: all down"
sed -n 2p "$T/stranger.txt"

# --- 6. stopping the target -------------------------------------------------------------

inside systemctl stop atmosphere.target || fail "systemctl stop atmosphere.target"
# the PartOf= stop jobs may still be running when systemctl returns for the
# target's own job: give them a moment, as the restart checks above do
inactive() { [ "$(prop "$1" ActiveState)" = inactive ]; }
for d in stund punchd; do
	wait_for 10 inactive "$d" || fail "$d still $(prop "$d" ActiveState) after stop atmosphere.target"
done
active relayd || fail "relayd stopped with atmosphere.target"
l=$(status_line)
case $l in
"3 stund=down punchd=down relayd="[0-9]*) ;;
*) fail "meshctl status with the target stopped: $l" ;;
esac
ok "stop atmosphere.target: stund and punchd stopped (PartOf=), relayd goes on; meshctl: $l"

# --- 7. strict: SIGSYS for a filtered system call, a short watchdog --------------------

for d in $DAEMONS; do
	mkdir -p "$ROOT/etc/systemd/system/$d.service.d"
	printf '[Service]\n# test: a filtered system call kills (SIGSYS)\nSystemCallErrorNumber=\nWatchdogSec=4s\n' \
	    >"$ROOT/etc/systemd/system/$d.service.d/zz-test.conf"
done
inside systemctl daemon-reload || fail "daemon-reload"
inside systemctl start atmosphere.target || fail "start atmosphere.target (strict)"
inside systemctl restart relayd || fail "restart relayd (strict)"
for d in $DAEMONS; do
	active "$d" || { inside systemctl status --no-pager "$d"; fail "$d not active with SIGSYS on filtered calls"; }
	[ "$(prop "$d" WatchdogUSec)" = 4s ] || fail "$d: the drop-in is not in force"
	inside systemctl reload "$d" || fail "reload $d (strict)"
done
inside meshctl status >/dev/null || fail "meshctl status (strict): exit $?"
wait_for 10 stun_ok || fail "no STUN answer (strict)"
wait_for 10 health_ok || fail "no /health answer (strict)"
inside systemctl restart punchd || fail "restart punchd (strict)"
before=""
for d in $DAEMONS; do
	before="$before $d=$(prop "$d" MainPID)/$(prop "$d" NRestarts)"
done
# two watchdog periods: the event loops' pings keep all three alive
sleep 9
after=""
for d in $DAEMONS; do
	active "$d" || fail "$d died with WatchdogSec=4s: $(prop "$d" Result)"
	after="$after $d=$(prop "$d" MainPID)/$(prop "$d" NRestarts)"
done
[ "$before" = "$after" ] || fail "a daemon was restarted with WatchdogSec=4s: $before ->$after"
n0=$(prop punchd NRestarts)
p0=$(prop punchd MainPID)
inside systemctl kill -s STOP punchd || fail "systemctl kill -s STOP punchd"
wait_for 60 sh -c "nsenter -t $INIT -a env -i $SYSPATH journalctl --no-pager -o cat -u punchd | grep -q 'Watchdog timeout'" ||
    fail "no watchdog timeout for a stopped punchd"
wait_for 60 sh -c "[ \$(nsenter -t $INIT -a env -i $SYSPATH systemctl show -P NRestarts punchd) -gt $n0 ]" ||
    fail "punchd not restarted after its watchdog timeout"
wait_for 30 active punchd || fail "punchd not active after its watchdog timeout"
p1=$(prop punchd MainPID)
[ "$p1" != "$p0" ] || fail "punchd: same pid after the watchdog"
inside journalctl --no-pager -o cat -u punchd | grep -A 3 'Watchdog timeout'
inside systemctl stop atmosphere.target relayd || fail "stop (strict)"
for d in $DAEMONS; do
	# stund and punchd stop through PartOf=: their jobs may still run
	wait_for 10 inactive "$d" || fail "$d still $(prop "$d" ActiveState) after stop (strict)"
	r="$(prop "$d" Result) $(prop "$d" ExecMainCode) $(prop "$d" ExecMainStatus)"
	# CLD_EXITED (1) with status 0; a SIGSYS is CLD_KILLED/CLD_DUMPED 31
	[ "$r" = "success 1 0" ] || fail "$d stopped with Result ExecMainCode ExecMainStatus '$r'"
done
inside journalctl --no-pager -o cat | grep -E 'status=31|SIGSYS' && fail "a daemon got SIGSYS"
for d in $DAEMONS; do
	rm -r "$ROOT/etc/systemd/system/$d.service.d"
done
inside systemctl daemon-reload
ok "strict: start, reload, restart and stop with SIGSYS on filtered calls: none; WatchdogSec=4s: alive after 9 s; SIGSTOP: watchdog timeout, punchd $p0 -> $p1"

# --- 8. the journal ----------------------------------------------------------------------

inside journalctl --no-pager -o short-monotonic -u stund -u punchd -u relayd >"$T/journal.txt"
grep -Ei 'seccomp|audit|operation not permitted|permission denied|read-only file system|denied' "$T/journal.txt" &&
    fail "the journal of the units has the lines above"
inside journalctl --no-pager -p err -o short-monotonic SYSLOG_IDENTIFIER=stund \
    SYSLOG_IDENTIFIER=punchd SYSLOG_IDENTIFIER=relayd >"$T/journal-err.txt"
grep -v '^-- ' "$T/journal-err.txt" | grep -q . && { cat "$T/journal-err.txt"; fail "the daemons logged errors"; }
echo "--- warnings the daemons logged"
inside journalctl --no-pager -p warning -o cat SYSLOG_IDENTIFIER=stund SYSLOG_IDENTIFIER=punchd \
    SYSLOG_IDENTIFIER=relayd | grep -v '^-- ' | sort | uniq -c
ok "journal: $(wc -l <"$T/journal.txt") lines from the units, no denial, no error from the daemons"

# --- 9. reboot -------------------------------------------------------------------------------

node=$(inside cat /var/lib/atmosphere/node.id 2>/dev/null)
halt_container
t_boot=$(date +%s)
boot
echo "second boot in $(( $(date +%s) - t_boot )) s"
for d in $DAEMONS; do
	wait_for 30 active "$d" || { inside systemctl status --no-pager "$d"; fail "$d not started at boot"; }
done
wait_for 10 sh -c "nsenter -t $INIT -a env -i $SYSPATH meshctl status >/dev/null" || fail "meshctl status after reboot"
[ -n "$node" ] && [ "$(inside cat /var/lib/atmosphere/node.id)" != "$node" ] && fail "punchd's node id changed across the reboot"
echo "--- meshctl status after reboot"
inside meshctl status
ok "reboot: the enabled atmosphere.target started stund, punchd and relayd at boot${node:+, node id $node kept}"

halt_container
echo "total $(( $(date +%s) - t_start )) s"
