#!/bin/sh
# A client that stops reading must not grow relayd's memory: frames for it
# are dropped (and counted) once its send queue reaches sendq_max, and it
# is disconnected when it stays over the cap for slow_grace. Measured with
# VmRSS from /proc while 200 MB are pushed at the slow client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"
[ -r /proc/self/status ] || skip "skipped: no /proc"

# under ASan, freed memory sits in a 256 MB quarantine: keep it small so
# RSS shows what relayd holds, not what ASan holds back
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
export ASAN_OPTIONS
# no byte limit: the sender is meant to outrun the slow reader (both are
# 127.0.0.1, one address group, which max_bytes_per_ip would hold to
# 100 Mbit/s and stretch the 200 MiB over slow_grace)
relayd_up r --open -o sendq_max=262144 -o slow_grace=3s -o max_bytes_per_ip=0
U="ws://127.0.0.1:$PORT/v1/relay"

"$WS" -R -w 30 "$U/slow" >"$T/slow.out" 2>&1 &
sleep 0.3
rss0=$(rss_kb "$PID_r")
# 12,800 x 16 KiB = 200 MiB, as fast as the sender can write
"$WS" -q -P -n 12800 -s 16384 -e 0 -w 20 "$U/slow" >"$T/fast.out" 2>&1 ||
    fail "sender: $(cat "$T/fast.out")"
rss1=$(rss_kb "$PID_r")
drops=$(metric 'relayd_drops_total{reason="queue_full"}')
relayed=$(metric relayd_bytes_relayed_total)
echo "RSS before ${rss0} kB, after 200 MiB ${rss1} kB; relayed ${relayed} B, dropped ${drops} frames"
[ "$drops" -gt 1000 ] || fail "no frames dropped for the slow reader ($drops)"
[ "$relayed" -lt 100000000 ] || fail "relayd claims it queued $relayed bytes"
# the cap is 256 KiB; allow malloc slack and the kernel's socket buffers
# are not in RSS. Growth beyond 16 MiB means the queue is not bounded.
[ $((rss1 - rss0)) -lt 16384 ] ||
    fail "RSS grew by $((rss1 - rss0)) kB for a 256 KiB send queue cap"
ok "slow reader: RSS +$((rss1 - rss0)) kB, $drops frames dropped"

# still over the cap after slow_grace: disconnected with reason slow
sleep 3.2
"$WS" -q -P -n 200 -s 16384 -e 0 -w 5 "$U/slow" >"$T/fast2.out" 2>&1
i=0
until [ "$(metric 'relayd_disconnects_total{reason="slow"}')" -ge 1 ]; do
	i=$((i + 1))
	[ $i -gt 30 ] && fail "slow reader never disconnected"
	sleep 0.1
done
ok "slow reader disconnected after slow_grace"
h=$(curl -sf "http://127.0.0.1:$PORT/health") || fail "/health"
[ "$(echo "$h" | jq -r .clients)" -eq 0 ] || fail "clients left behind: $h"
