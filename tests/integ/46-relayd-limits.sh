#!/bin/sh
# Connection limits: max_clients_per_ip and max_clients close the extra
# connection at accept (counted); running out of descriptors pauses
# accepting for 100 ms (one rate-limited log line, no busy loop) and
# relayd serves again once clients leave.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

relayd_up r --open -o max_clients_per_ip=3
U="ws://127.0.0.1:$PORT/v1/relay"
W=""
for i in 1 2 3; do
	"$WS" -w 3 "$U/ip" >"$T/ip$i.out" 2>&1 &
	W="$W $!"
done
sleep 0.5
"$WS" -w 1 "$U/ip" >"$T/ip4.out" 2>&1 && fail "4th client from one address admitted"
wait $W
# (curl is a client from the same address too: ask once the others left)
[ "$(metric relayd_refused_total)" -eq 1 ] || fail "per-address refusal not counted"
[ "$(metric relayd_refused_address_total)" -eq 1 ] ||
    fail "per-address refusal not counted as such"
grep -q "status 101" "$T/ip3.out" || fail "3rd client refused"
"$WS" -w 0.3 "$U/ip" | grep -q "status 101" || fail "slot not given back"
ok "max_clients_per_ip"
kill "$PID_r"

relayd_up m --open -o max_clients=2
U="ws://127.0.0.1:$PORT/v1/relay"
"$WS" -w 2 "$U/m" >/dev/null 2>&1 &
W=$!
"$WS" -w 2 "$U/m" >/dev/null 2>&1 &
W="$W $!"
sleep 0.4
"$WS" -w 1 "$U/m" >"$T/m3.out" 2>&1 && fail "client over max_clients admitted"
wait $W
[ "$(metric relayd_refused_total)" -eq 1 ] || fail "max_clients refusal not counted"
[ "$(metric relayd_refused_address_total)" -eq 0 ] ||
    fail "max_clients refusal counted as per address"
ok "max_clients"
kill "$PID_m"

# 40 descriptors: ~30 clients fit; 50 try at once
start e "$T/e.log" sh -c 'ulimit -n 40 && exec "$@"' sh "$BIN/relayd" \
    -f /dev/null --open -l 127.0.0.1 -p 0 -s "$T/e.sock" \
    -o max_clients_per_ip=1000
wait_sock "$T/e.sock"
PORT=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$T/e.log")
i=0
W=""
while [ $i -lt 50 ]; do
	"$WS" -w 2 "ws://127.0.0.1:$PORT/v1/relay/e$i" >/dev/null 2>&1 &
	W="$W $!"
	i=$((i + 1))
done
sleep 1
cpu=$(ps -o pcpu= -p "$PID_e" | tr -d ' ' | cut -d. -f1)
wait $W
sleep 1
n=$(grep -c "accept: Too many open files" "$T/e.log")
[ "$n" -ge 1 ] || fail "descriptor exhaustion not reached or not logged"
[ "$n" -le 3 ] || fail "accept failure logged $n times: not paused/rate-limited"
[ "${cpu:-0}" -lt 90 ] || fail "relayd at ${cpu}% CPU while out of descriptors"
h=$(curl -sf "http://127.0.0.1:$PORT/health") || fail "/health after exhaustion"
[ "$(echo "$h" | jq -r .connections)" -eq 1 ] || fail "connections left: $h"
"$WS" -w 0.3 "ws://127.0.0.1:$PORT/v1/relay/after" | grep -q "status 101" ||
    fail "no upgrade after descriptor exhaustion"
ok "descriptor exhaustion: paused, logged $n time(s), recovered (cpu ${cpu}%)"
