#!/bin/sh
# Prometheus text for stund and punchd (and relayd through meshctl):
# stund.metrics_file / punchd.metrics_file written by the daemons on their
# timer, `meshctl metrics` for every daemon that is up. The text must pass
# a strict reading of the exposition format (the awk below; promtool's
# `check metrics` as well when it is installed), the counters must move
# with STUN traffic and datagrams, and once traffic stops every counter
# must equal what `meshctl status --json` says. SIGHUP moves or turns off
# the file; a stopped daemon's file is removed.
. "$(dirname "$0")/lib.sh"
need_bin stund punchd relayd meshctl

M="$BIN/meshctl"
P=$(free_port)
PA=$(free_port); [ "$PA" = "$P" ] && PA=$((P + 1))
PB=$(free_port); [ "$PB" = "$PA" ] || [ "$PB" = "$P" ] && PB=$((PA + 1))
mkdir -p "$T/a" "$T/b" "$T/prom"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"

# check_text FILE: the exposition format, strictly. Comment lines are
# HELP and TYPE only, each once per family and before its samples; a
# family's samples are contiguous and it never comes back; names, label
# names, escaped label values and values are checked; counters end in
# _total; no sample (name and labels) twice; no blank lines.
check_text() {
	awk '
	function bad(why) { printf "%s:%d: %s: %s\n", FILENAME, NR, why, $0; err = 1; exit 1 }
	BEGIN { name = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
		lval = "\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
		lbl = "[a-zA-Z_][a-zA-Z0-9_]*=" lval
		labels = "^\\{(" lbl "(," lbl ")*)?\\}$"
		num = "^([-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$" }
	/^$/ { bad("blank line") }
	/^# (HELP|TYPE) / {
		f = $3
		if (f !~ name) bad("metric name")
		if (f != fam) {
			if (f in seen) bad("family " f " again")
			seen[f] = 1; fam = f; help = type = 0; nsamp = 0
		}
		if (nsamp) bad("HELP/TYPE after samples")
		if ($2 == "HELP") { if (help++) bad("second HELP") }
		else {
			if (type++) bad("second TYPE")
			if (NF != 4 || ($4 != "counter" && $4 != "gauge")) bad("type")
			ftype = $4
		}
		next
	}
	/^#/ { bad("comment that is not HELP or TYPE") }
	{
		s = $0
		i = index(s, "{")
		j = index(s, " ")
		if (i > 0 && i < j) {
			n = substr(s, 1, i - 1)
			# the label set runs to the last "} "
			k = length(s); while (k > i && substr(s, k, 2) != "} ") k--
			if (k <= i) bad("labels")
			l = substr(s, i, k - i + 1); v = substr(s, k + 2)
			if (l !~ labels) bad("labels")
		} else {
			n = substr(s, 1, j - 1); l = ""; v = substr(s, j + 1)
		}
		if (n != fam) bad("sample of " n " outside its family " fam)
		if (!help || !type) bad("sample before HELP and TYPE")
		if (v !~ num) bad("value")
		if (ftype == "counter" && n !~ /_total$/) bad("counter without _total")
		if ((n l) in samples) bad("sample twice")
		samples[n l] = 1; nsamp++; total++
	}
	END { if (!err && total == 0) { print FILENAME ": no samples"; exit 1 } }
	' "$1" || fail "$1 is not valid Prometheus text"
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$1" || fail "promtool check metrics: $1"
	fi
}
command -v promtool >/dev/null 2>&1 && echo "promtool: $(command -v promtool)" ||
	echo "promtool not installed: the awk reader only"

# value FILE 'NAME{labels}': the sample's value ("" when absent)
value() {
	awk -v n="$2" '$1 == n { print $2; exit }' "$1"
}

# same_counters FILE DAEMON STATUS.JSON: every counter of status.get is
# in FILE with the same value (ipc_clients and ipc_requests count the
# callers themselves, so they differ between two calls by design)
same_counters() {
	jq -r --arg d "$2" '.daemons[] | select(.daemon == $d and .up) |
	    .status.counters | to_entries[] |
	    select(.key != "ipc_clients" and .key != "ipc_requests") |
	    "\($d)_\(.key)_total \(.value)"' "$3" >"$T/want"
	[ -s "$T/want" ] || return 1
	while read -r n v; do
		[ "$(value "$1" "$n")" = "$v" ] || return 1
	done <"$T/want"
}

echo "== stund (server mode, asking itself) and punchd a with metrics files"
printf '%s\n' "[stund]" "servers = 127.0.0.1:$P" "server = yes" \
    "listen = 127.0.0.1:$P" "refresh = 0" "nat_refresh = 0" \
    "metrics_file = $T/prom/stund.prom" "metrics_interval = 200ms" \
    >"$T/stund.conf"
RUNTIME_DIRECTORY=$T/a start stund "$T/stund.log" "$BIN/stund" -v \
	-f "$T/stund.conf"
wait_sock "$T/a/stund.sock"
conf() { # NAME PORT [extra lines]
	n=$1; p=$2; shift 2
	printf '%s\n' "[punchd]" "port = $p" "mesh_secret = $T/secret" \
	    "stund_socket = $T/nostund.sock" "host_loopback = yes" \
	    "punch_interval = 50ms" "punch_timeout = 3s" \
	    "keepalive_interval = 60s" "stun_refresh = 0" "$@" >"$T/$n.conf"
}
conf a "$PA" "metrics_file = $T/prom/punchd.prom" "metrics_interval = 200ms"
conf b "$PB"
for d in a b; do
	RUNTIME_DIRECTORY=$T/$d STATE_DIRECTORY=$T/$d start "punchd_$d" \
		"$T/punchd_$d.log" "$BIN/punchd" -v -f "$T/$d.conf"
	wait_sock "$T/$d/punchd.sock"
done
# tokens required, relayd's default (no client connects here)
start relayd "$T/relayd.log" "$BIN/relayd" -f /dev/null \
	-o relayd.secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" -l 127.0.0.1 -p 0 \
	-s "$T/a/relayd.sock"
wait_sock "$T/a/relayd.sock"

wait_for 5 test -s "$T/prom/stund.prom" || fail "no stund.prom"
wait_for 5 test -s "$T/prom/punchd.prom" || fail "no punchd.prom"
ls -l "$T/prom"
[ "$(stat -c %a "$T/prom/stund.prom")" = 644 ] || fail "mode $(stat -c %a "$T/prom/stund.prom"), want 644"
# a write in progress (every 200 ms) shows its .tmp for a moment: a temp
# file left behind is one seen in every sample over half a second
seen=0
for i in 1 2 3 4 5 6; do
	ls "$T/prom" | grep -q tmp && seen=$((seen + 1))
	sleep 0.09
done
[ $seen -lt 6 ] || fail "a temporary file was left in $T/prom"
check_text "$T/prom/stund.prom"
check_text "$T/prom/punchd.prom"
grep -q '^stund_info{daemon="stund",version="[0-9.]*"' "$T/prom/stund.prom" || fail "stund_info"
grep -q '^# TYPE stund_server_requests_total counter$' "$T/prom/stund.prom" || fail "server_requests type"
grep -q '^# TYPE stund_ipc_clients gauge$' "$T/prom/stund.prom" || fail "ipc_clients should be a gauge"
grep -q '^stund_uptime_seconds [0-9]' "$T/prom/stund.prom" || fail "uptime_seconds"
ok "both files there, mode 644, valid"

echo "== STUN traffic moves stund's counters in the file"
wait_for 5 sh -c "[ \"\$(awk '\$1 == \"stund_server_requests_total\" { print \$2 }' '$T/prom/stund.prom')\" -ge 1 ]" ||
	fail "stund never asked itself"
r0=$(value "$T/prom/stund.prom" stund_server_requests_total)
s0=$(value "$T/prom/stund.prom" stund_stun_sent_total)
for i in 1 2 3; do
	"$M" -S "$T/a" network --refresh >/dev/null || fail "network --refresh"
done
wait_for 5 sh -c "[ \"\$(awk '\$1 == \"stund_server_requests_total\" { print \$2 }' '$T/prom/stund.prom')\" -ge $((r0 + 3)) ]" ||
	fail "server_requests stayed at $(value "$T/prom/stund.prom" stund_server_requests_total) (was $r0)"
r1=$(value "$T/prom/stund.prom" stund_server_requests_total)
s1=$(value "$T/prom/stund.prom" stund_stun_sent_total)
[ "$s1" -gt "$s0" ] || fail "stun_sent stayed at $s1"
ok "server_requests $r0 -> $r1, stun_sent $s0 -> $s1"
cmp_stund() {
	"$M" -S "$T/a" --json status >"$T/st.json"
	same_counters "$T/prom/stund.prom" stund "$T/st.json"
}
wait_for 5 cmp_stund || { cat "$T/want"; fail "stund.prom differs from status --json"; }
ok "every stund counter in the file equals status --json ($(wc -l <"$T/want") counters)"

echo "== punch a <-> b, datagrams: punchd's counters and per-peer metrics"
"$M" -S "$T/b" punch alice "127.0.0.1:$PA" >/dev/null &
pb=$!
"$M" -S "$T/a" punch bob "127.0.0.1:$PB" >/dev/null || fail "punch"
wait $pb || fail "punch from b"
idb=$("$M" -S "$T/b" --json status | jq -r '.daemons[] | select(.daemon=="punchd") | .status.node_id')
tx0=$(value "$T/prom/punchd.prom" punchd_tx_datagrams_total)
for i in 1 2 3 4 5; do
	"$M" -S "$T/a" send bob "m $i" >/dev/null || fail "send"
done
wait_for 5 sh -c "[ \"\$(awk '\$1 == \"punchd_tx_datagrams_total\" { print \$2 }' '$T/prom/punchd.prom')\" -ge $((tx0 + 5)) ]" ||
	fail "tx_datagrams did not move past $tx0 + 5"
wait_for 5 grep -q "^punchd_peer_info{peer=\"$idb\",name=\"bob\",state=\"direct\"" "$T/prom/punchd.prom" ||
	fail "no punchd_peer_info for bob ($idb)"
check_text "$T/prom/punchd.prom"
grep -q "^punchd_peer_rtt_seconds{peer=\"$idb\"} [0-9]" "$T/prom/punchd.prom" || fail "bob's RTT"
grep -q '^punchd_peers 1$' "$T/prom/punchd.prom" || fail "punchd_peers"
grep -q '^punchd_peers_direct 1$' "$T/prom/punchd.prom" || fail "punchd_peers_direct"
cmp_punchd() {
	"$M" -S "$T/a" --json status >"$T/st.json"
	same_counters "$T/prom/punchd.prom" punchd "$T/st.json"
}
wait_for 5 cmp_punchd || { cat "$T/want"; fail "punchd.prom differs from status --json"; }
ok "tx_datagrams $tx0 -> $(value "$T/prom/punchd.prom" punchd_tx_datagrams_total), bob labelled by node id, every counter equals status --json ($(wc -l <"$T/want"))"

echo "== meshctl metrics: every daemon that is up"
"$M" -S "$T/a" metrics >"$T/all.prom"; rc=$?
[ $rc = 0 ] || fail "meshctl metrics exited $rc"
check_text "$T/all.prom"
for d in stund punchd relayd; do
	grep -q "^atmosphere_up{daemon=\"$d\"} 1$" "$T/all.prom" || fail "$d should be up"
	grep -q "^${d}_uptime_seconds " "$T/all.prom" || fail "no ${d}_uptime_seconds"
done
grep -q "^punchd_peer_info{peer=\"$idb\"" "$T/all.prom" || fail "meshctl metrics lacks the peers"
cmp_all() {
	"$M" -S "$T/a" metrics >"$T/all.prom" &&
	"$M" -S "$T/a" --json status >"$T/st.json" &&
	same_counters "$T/all.prom" stund "$T/st.json" &&
	same_counters "$T/all.prom" punchd "$T/st.json" &&
	same_counters "$T/all.prom" relayd "$T/st.json"
}
wait_for 5 cmp_all || { cat "$T/want"; fail "meshctl metrics differs from status --json"; }
ok "meshctl metrics: $(grep -vc '^#' "$T/all.prom") samples, counters equal status --json"
"$M" -S "$T/b" metrics stund >"$T/b.prom" 2>"$T/b.err"; rc=$?
[ $rc = 3 ] || fail "a daemon named but down: exit $rc, want 3"
grep -q "stund" "$T/b.err" || fail "the missing daemon should be named on stderr"
grep -q '^atmosphere_up{daemon="stund"} 0$' "$T/b.prom" || fail "stund should be 0 from b"
"$M" -S "$T/b" metrics >"$T/b.prom"; rc=$?
[ $rc = 0 ] || fail "punchd b is up: exit $rc, want 0"
check_text "$T/b.prom"
"$M" -S "$T/b" metrics nosuch >/dev/null 2>&1; [ $? = 2 ] || fail "unknown daemon: usage error"
ok "down daemons are atmosphere_up 0; exit 3 only when a named one is down"

echo "== SIGHUP: a new path moves the file, empty turns it off"
sed -i "s|^metrics_file = .*|metrics_file = $T/prom/stund2.prom|" "$T/stund.conf"
kill -HUP "$PID_stund"
wait_for 5 test -s "$T/prom/stund2.prom" || fail "stund2.prom not written after SIGHUP"
wait_for 5 sh -c "! test -e '$T/prom/stund.prom'" || fail "the old file should be removed"
check_text "$T/prom/stund2.prom"
sed -i "s|^metrics_file = .*|metrics_file =|" "$T/stund.conf"
kill -HUP "$PID_stund"
wait_for 5 sh -c "! test -e '$T/prom/stund2.prom'" || fail "metrics_file empty: file should go"
ok "moved, then turned off"

echo "== an unwritable directory: one error line, the daemon keeps serving"
conf b "$PB" "metrics_file = $T/nodir/punchd.prom" "metrics_interval = 100ms"
kill -HUP "$PID_punchd_b"
wait_for 5 grep -q "metrics file $T/nodir/punchd.prom" "$T/punchd_b.log" || fail "no error logged"
sleep 0.5
[ "$(grep -c "metrics file $T/nodir/punchd.prom" "$T/punchd_b.log")" = 1 ] ||
	fail "the failure should be logged once, not every write"
grep "metrics file $T/nodir" "$T/punchd_b.log" | grep -q '^<3>' || fail "an error is <3>"
"$M" -S "$T/b" peers >/dev/null || fail "b stopped answering"
ok "$(grep "metrics file $T/nodir" "$T/punchd_b.log")"

echo "== a relative path is refused"
"$BIN/punchd" -n -f /dev/null -o punchd.metrics_file=rel.prom >/dev/null 2>&1 &&
	fail "a relative metrics_file must be refused"
"$BIN/stund" -n -f /dev/null -o stund.metrics_file=rel.prom >/dev/null 2>&1 &&
	fail "a relative metrics_file must be refused (stund)"
ok "relative paths refused"

echo "== a stopped daemon's file is removed"
kill "$PID_punchd_a"
wait_for 5 sh -c "! kill -0 $PID_punchd_a" || fail "punchd a did not stop"
[ -e "$T/prom/punchd.prom" ] && fail "punchd.prom should be removed at shutdown"
ok "removed at shutdown"
echo PASS
