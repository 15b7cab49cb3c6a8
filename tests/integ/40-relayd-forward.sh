#!/bin/sh
# relayd forwarding on loopback with tests/tools/wsclient:
#   two clients of one session swap frames both ways, intact and in order;
#   a client of another session sees none of them; /mesh/ID is an alias;
#   join/leave announcements; the per-session client limit (503);
#   /health and /metrics with curl; IPC status.get, session.list and
#   session.kick (close 1008).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

relayd_up r --open -o max_session_clients=2
U="ws://127.0.0.1:$PORT"

# 1. both ways, plus an isolated third client in another session
"$WS" -q -P -n 300 -s 1000 -e 200 -w 10 "$U/v1/relay/s1" >"$T/a.out" 2>&1 &
A=$!
"$WS" -q -P -n 200 -s 3000 -e 300 -w 10 "$U/v1/relay/s1" >"$T/b.out" 2>&1 &
B=$!
"$WS" -q -w 3 "$U/v1/relay/s2" >"$T/c.out" 2>&1
wait $A || fail "client A: $(cat "$T/a.out")"
wait $B || fail "client B: $(cat "$T/b.out")"
grep -q "summary data=200 bytes=600000 corrupt=0" "$T/a.out" ||
    fail "A did not get B's 200 frames: $(tail -n 1 "$T/a.out")"
grep -q "summary data=300 bytes=300000 corrupt=0" "$T/b.out" ||
    fail "B did not get A's 300 frames: $(tail -n 1 "$T/b.out")"
grep -q "summary data=0 " "$T/c.out" || fail "session s2 saw s1's frames"
ok "500 frames both ways in s1, none leaked to s2"

# 2. /mesh/ID alias reaches the same sessions as /v1/relay/ID
"$WS" -q -P -n 5 -e 5 -w 5 "$U/mesh/s5" >"$T/d.out" 2>&1 &
D=$!
"$WS" -q -P -n 5 -e 5 -w 5 "$U/v1/relay/s5" >"$T/e.out" 2>&1 ||
    fail "alias: $(cat "$T/e.out")"
wait $D || fail "alias /mesh: $(cat "$T/d.out")"
ok "/mesh/ID and /v1/relay/ID meet"

# 3. announcements and the session limit (2 here)
"$WS" -w 4 "$U/v1/relay/s3" >"$T/f.out" 2>&1 &
F=$!
sleep 0.3
"$WS" -w 4 -c 1008 "$U/v1/relay/s3" >"$T/g.out" 2>&1 &
G=$!
sleep 0.3
"$WS" -w 2 "$U/v1/relay/s3" >"$T/h.out" 2>&1
[ $? -eq 3 ] && grep -q "status 503" "$T/h.out" ||
    fail "third client of a 2-client session: $(cat "$T/h.out")"
grep -q "welcome id=[0-9]* count=1" "$T/f.out" || fail "F: no welcome"
grep -q "joined id=[0-9]* count=2" "$T/f.out" || fail "F: no join announced"
grep -q "welcome id=[0-9]* count=2" "$T/g.out" || fail "G: welcome count"
ok "welcome/joined announced, third client refused with 503"

# 4. IPC while F and G are in s3
if have_python; then
	ipc "$T/r.sock" status.get >"$T/st.out" || fail "status.get failed"
	grep -q "relayd" "$T/st.out" && grep -q "counters" "$T/st.out" ||
	    fail "status.get: $(cat "$T/st.out")"
	ipc "$T/r.sock" session.list >"$T/sl.out"
	grep -q "s3" "$T/sl.out" || fail "session.list lacks s3: $(cat "$T/sl.out")"
	ipc "$T/r.sock" session.kick nosuch | grep -q not_found ||
	    fail "session.kick of an unknown session did not say not_found"
	ipc "$T/r.sock" session.kick s3 >"$T/kick.out"
	grep -q 'kicked\\x02' "$T/kick.out" || fail "kick: $(cat "$T/kick.out")"
	wait $G || fail "G was not closed with 1008: $(cat "$T/g.out")"
	wait $F
	grep -q "close 1008" "$T/f.out" || fail "F not kicked: $(cat "$T/f.out")"
	[ "$(metric 'relayd_disconnects_total{reason="kicked"}')" -eq 2 ] ||
	    fail "kicked counter"
	ok "IPC status.get, session.list, session.kick (1008)"
else
	wait $F $G
	echo "note: python3 missing, IPC part not run"
fi

# 5. a client that leaves is announced to the one that stays
"$WS" -w 3 "$U/v1/relay/s4" >"$T/i.out" 2>&1 &
I=$!
sleep 0.3
"$WS" -w 0.3 "$U/v1/relay/s4" >/dev/null 2>&1
wait $I
grep -q "left id=[0-9]* count=1" "$T/i.out" || fail "no leave announced: $(cat "$T/i.out")"
ok "leave announced"

# 6. /health and /metrics
h=$(curl -sf "http://127.0.0.1:$PORT/health") || fail "/health"
[ "$(echo "$h" | jq -r .status)" = ok ] || fail "/health status: $h"
[ "$(echo "$h" | jq -r .bytes_relayed)" -ge 900000 ] || fail "/health bytes: $h"
echo "$h" | jq -e '.uptime_s >= 0 and .sessions >= 0 and .clients >= 0' \
    >/dev/null || fail "/health fields: $h"
curl -s "http://127.0.0.1:$PORT/metrics" >"$T/metrics.txt"
grep -q '^# TYPE relayd_frames_relayed_total counter' "$T/metrics.txt" ||
    fail "metrics TYPE lines"
[ "$(metric relayd_frames_relayed_total)" -ge 510 ] || fail "frames relayed"
[ "$(metric relayd_bytes_relayed_total)" -ge 900000 ] || fail "bytes relayed"
[ "$(metric relayd_upgrades_total)" -ge 9 ] || fail "upgrades"
ct=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/metrics")
case $ct in text/plain*) ;; *) fail "metrics content type $ct" ;; esac
ok "/health JSON and /metrics"
