#!/bin/sh
# A relay host name whose lookup never ends does not freeze punchd: the
# relay client resolves off the event loop (common/resolve.c). punchd runs
# in a network namespace whose resolv.conf names a nameserver behind a
# veth nobody answers on, where every query vanishes (glibc waits timeout x
# attempts, 10 s here). While the relay session's lookup hangs, meshctl
# status and peers keep answering within 100 ms, and the attempt ends with
# "no answer" after connect_timeout, not a frozen daemon.
. "$(dirname "$0")/lib.sh"
need_bin punchd meshctl
command -v jq >/dev/null 2>&1 || skip "skipped: jq is not installed"
[ "$(id -u)" = 0 ] || skip "skipped: needs root (network namespace)"
command -v ip >/dev/null 2>&1 || skip "skipped: no ip(8)"

NS=atm-dns-$$
NAME=relay.atm-slow-dns.example
M="$BIN/meshctl"
cleanup_ns() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "/etc/netns/$NS"
}
trap 'cleanup; cleanup_ns' EXIT INT TERM
ip netns add "$NS" || skip "skipped: cannot create a network namespace"
ip -n "$NS" link set lo up
# the nameserver sits behind a veth whose other end has no address, with a
# fixed neighbour entry: queries leave and nobody ever answers (no ARP
# failure, no ICMP, no error on the socket)
ip -n "$NS" link add dns0 type veth peer name dns1
ip -n "$NS" addr add 10.199.0.1/24 dev dns0
ip -n "$NS" link set dns0 up
ip -n "$NS" link set dns1 up
ip -n "$NS" neigh add 10.199.0.53 lladdr 02:00:00:00:00:53 dev dns0 nud permanent
# ip netns exec bind-mounts this over /etc/resolv.conf inside
mkdir -p "/etc/netns/$NS"
printf 'nameserver 10.199.0.53\noptions timeout:5 attempts:2\n' \
	>"/etc/netns/$NS/resolv.conf"
grep -q "$NAME" /etc/hosts && fail "$NAME is in /etc/hosts"

# the resolver must really hang, else this test proves nothing
t0=$(date +%s%N)
timeout 2 ip netns exec "$NS" getent ahosts "$NAME" >/dev/null 2>&1
r=$?
[ $r -eq 124 ] || skip "skipped: the lookup did not hang (getent exit $r)"
echo "lookup of $NAME in $NS hangs ($(( ($(date +%s%N) - t0) / 1000000 )) ms, killed)"

mkdir -p "$T/a"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
PA=$(free_port); DEAD=$(free_port)
RUNTIME_DIRECTORY=$T/a STATE_DIRECTORY=$T/a start a "$T/a.log" \
	ip netns exec "$NS" "$BIN/punchd" -v -p "$PA" -f /dev/null \
	-o punchd.mesh_secret="$T/secret" \
	-o punchd.relay_url="ws://$NAME:8080" \
	-o punchd.stund_socket="$T/nostund.sock" -o punchd.host_loopback=yes \
	-o punchd.punch_interval=50ms -o punchd.punch_timeout=1s \
	-o punchd.repunch=500ms -o punchd.stun_refresh=0
wait_sock "$T/a/punchd.sock"
wait_for 5 "$M" -S "$T/a" peers || fail "punchd does not answer"

echo "== a peer wants the relay: its lookup hangs, punchd answers meanwhile"
"$M" -S "$T/a" punch -w 1000 0123456789abcdef "127.0.0.1:$DEAD" >/dev/null 2>&1 &
wait_for 5 grep -q "relay connecting ws://$NAME" "$T/a.log" ||
	fail "the relay session did not start"
# each call timed alone (meshctl's own start-up included); a frozen loop
# would hold every call for the resolver's 10 s
: >"$T/times"
n=0
while [ $n -lt 30 ]; do
	t0=$(date +%s%N)
	# exit status 3: stund and relayd are not running here, punchd is
	"$M" -S "$T/a" --json status >"$T/st.json"
	t1=$(date +%s%N)
	"$M" -S "$T/a" --json peers >/dev/null || fail "peers failed"
	t2=$(date +%s%N)
	jq -e '.daemons[] | select(.daemon == "punchd") | .up' "$T/st.json" \
	    >/dev/null || fail "status: $(cat "$T/st.json")"
	echo "$(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))" >>"$T/times"
	n=$((n + 1))
	sleep 0.1
done
grep -q "relay ws://$NAME:8080: resolve" "$T/a.log" &&
	fail "the lookup ended early: $(grep resolve "$T/a.log")"
smax=$(sort -n "$T/times" | tail -n 1 | cut -d' ' -f1)
smed=$(cut -d' ' -f1 "$T/times" | sort -n | sed -n 15p)
pmax=$(cut -d' ' -f2 "$T/times" | sort -n | tail -n 1)
pmed=$(cut -d' ' -f2 "$T/times" | sort -n | sed -n 15p)
echo "during the lookup, 30 times each: status median $smed ms, max $smax ms;" \
	"peers median $pmed ms, max $pmax ms"
[ "$smed" -lt 100 ] && [ "$pmed" -lt 100 ] ||
	fail "meshctl answers slowly while resolving"
# the machine may be busy with other tests: one slow call is not a frozen
# loop, which would take the resolver's 10 s
[ "$smax" -lt 1000 ] && [ "$pmax" -lt 1000 ] || fail "a call took over 1 s while resolving"
ok "punchd answers (median $smed/$pmed ms, max $smax/$pmax ms) while the relay's name does not resolve"

echo "== the attempt ends with a reason after connect_timeout (10 s)"
wait_for 15 grep -q "relay ws://$NAME:8080: resolve $NAME: no answer within 10.0s" "$T/a.log" ||
	fail "no 'no answer' line: $(grep "relay ws" "$T/a.log")"
grep "relay ws://$NAME:8080: resolve" "$T/a.log" | head -n 1
"$M" -S "$T/a" --json peers >/dev/null || fail "punchd gone after the lookup"
ok "lookup given up after connect_timeout, punchd still serving"
echo PASS
