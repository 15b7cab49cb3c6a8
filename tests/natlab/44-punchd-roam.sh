#!/bin/sh
# Roaming (issue 13, item 5), default timers.
#
# A behind port-restricted NAT a, B behind port-restricted NAT b (eim:
# masquerade), relayd with an access token. A and B punch direct and leave
# the relay session; A streams datagrams to B (meshctl send in a loop, ~20
# per second).
#   1. NAT a's external address changes mid-stream: a second WAN address
#      on its outside interface, the masquerade replaced by an SNAT to it,
#      conntrack flushed. Nothing on A's host changes: the direct path goes
#      quiet, A looks for its candidates again at once (punchd/roam.c),
#      stund finds the new mapping through A's socket, A signals it to B
#      through the relay, both punch: direct again on the new address.
#   2. (ROAM_HOST=1, default) A's host moves to another network, as a
#      laptop from Wi-Fi to a phone's hotspot: a new link up with a new
#      LAN address behind another port-restricted NAT c, the old link down.
#      netlink tells punchd at once: new host candidate, new mapping,
#      signalled, punched; A's relay session, still lingering from case 1
#      on a TCP connection from the old address, connects again at once
#      (that connection would die silently: no RST reaches a moved host).
# Checks, each case: the longest time without a delivery at B is <= 5 s
# (ROAM_MAX_GAP_MS), both sides direct again on A's new endpoint, every
# datagram delivered in the end; the figures are printed.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init
MAXGAP=${ROAM_MAX_GAP_MS:-5000}
# default timers: only STUN refresh off (a roam must not wait for it)
PL_FAST="-o punchd.stun_refresh=0"

echo "== lab $NL_PFX: eim a, eim b, relayd with access tokens"
pl_stun_server
nl_host rly 203.0.113.30
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$NL_TMP/secret"
pl_start_relay_tokens
PL_RELAY_TOKEN=$PL_TOKEN
nl_nat a eim
nl_nat b eim
if [ "${ROAM_HOST:-1}" = 1 ]; then
	# case 2's network: NAT c (port-restricted too) with a second LAN,
	# 192.168.33.0/24, wired to A's host as eth1, down until the move
	nl_nat c eim
	ip -n "$(nl_ns c)" link add lan33 type veth peer name eth1 \
	    netns "$(nl_ns a-host)" || nl_die "veth c <-> a-host"
	nl_exec c ip addr add 192.168.33.1/24 dev lan33 || nl_die "lan33"
	nl_exec c ip link set lan33 up || nl_die "lan33 up"
fi
pl_node A a-host
pl_node B b-host
IA=$(pl_id A) IB=$(pl_id B)
pl_listen A "$NL_TMP/listen-A"
# B's datagrams (and events) with their arrival time (ms)
pl_listen_timed B "$NL_TMP/listen-B"
pl_direct_pair A B
pl_ok "B sees A at $(pl_peer B "$IA" .endpoint)"
sleep 6			# both have left the relay session (5 s linger)

pl_stream A "$IB"
SENDER=$PL_SENDER

# roam_case NAME NEWEP-PATTERN: after the change at T_CHG, wait until both
# sides are direct with B seeing A at an endpoint matching the pattern,
# then measure the longest gap between two arrivals at B that ends after
# T_CHG and begins before direct + 1 s
roam_case() {
	_name=$1 _pat=$2
	if nl_wait 20 sh -c "
	    '$BIN/meshctl' -S '$NL_TMP/B' --json peers | jq -e '.[] |
		select(.id == \"$IA\") | select(.path == \"direct\") |
		select(.endpoint | test(\"$_pat\"))' &&
	    '$BIN/meshctl' -S '$NL_TMP/A' --json peers | jq -e '.[] |
		select(.id == \"$IB\") | select(.path == \"direct\")'"; then
		T_DIRECT=$(date +%s%3N)
		pl_ok "$_name: direct again on A's new endpoint $(pl_peer B "$IA" .endpoint) $((T_DIRECT - T_CHG)) ms after the change"
	else
		T_DIRECT=$(date +%s%3N)
		pl_bad "$_name: not direct on the new endpoint: A $(pl_peer A "$IB" .state) $(pl_peer A "$IB" .path), B $(pl_peer B "$IA" .state) $(pl_peer B "$IA" .path) $(pl_peer B "$IA" .endpoint)"
	fi
	sleep 1.2
	python3 - "$NL_TMP/listen-B" "$T_CHG" "$T_DIRECT" <<'PY' >"$NL_TMP/gap-$_name"
import json, sys
listen, chg, direct = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
for l in open(listen):
    p = l.split(" ", 1)
    try:
        j = json.loads(p[1])
    except (ValueError, IndexError):
        continue
    if j.get("event") == "peer.data" and j.get("text", "").startswith("s"):
        times.append(int(p[0]))
times.sort()
gaps = [b - a for a, b in zip(times, times[1:]) if b > chg and a < direct + 1000]
print(max(gaps) if gaps else direct + 1000 - chg)
PY
	echo "$_name $T_CHG" >>"$NL_TMP/changes"
	_gap=$(cat "$NL_TMP/gap-$_name")
	_sig=$(grep -c "server-reflexive candidate .* (moved)\|roaming: host addresses now" "$NL_TMP/punchd-A.log")
	echo "figures: case=$_name gap_ms=$_gap direct_ms=$((T_DIRECT - T_CHG))" |
	    tee -a "$NL_TMP/figures"
	[ "$_gap" -le "$MAXGAP" ] &&
		pl_ok "$_name: longest time without a delivery at B: $_gap ms (<= $MAXGAP)" ||
		pl_bad "$_name: outage $_gap ms > $MAXGAP ms"
	[ "$_sig" -ge 1 ] && pl_ok "$_name: A saw its candidates change ($_sig)" ||
		pl_bad "$_name: A never saw its candidates change"
}

echo "== 1. NAT a's external address changes mid-stream (198.51.100.11 -> .21)"
sleep 3
T_CHG=$(date +%s%3N)
nl_exec a ip addr add 198.51.100.21/24 dev wan || nl_die "second WAN address"
nl_exec a nft -f - <<EOF || nl_die "nft snat"
flush chain ip natlab post
add rule ip natlab post oifname "wan" snat to 198.51.100.21
EOF
nl_flush a
roam_case nat '^198[.]51[.]100[.]21:'
grep -q "relayed\|degraded" "$NL_TMP/listen-A" &&
	pl_ok "nat: the data went through the relay meanwhile" || true

if [ "${ROAM_HOST:-1}" = 1 ]; then
	echo "== 2. A's host moves to another network mid-stream (LAN 192.168.1.2 behind a -> 192.168.33.2 behind c)"
	# A is still in the relay session it joined in case 1 (5 s linger):
	# its TCP connection leaves from the address that goes away
	RS=$(pl_m A --json why "$IB" 2>/dev/null | jq -r '.peer.relay_state // "none"')
	T_CHG=$(date +%s%3N)
	# the move as a link switch does it: the new link up with its lease
	# and default route, the old link gone (its address with it)
	nl_exec a-host ip link set eth1 up &&
	nl_exec a-host ip addr add 192.168.33.2/24 dev eth1 &&
	nl_exec a-host ip route replace default via 192.168.33.1 &&
	nl_exec a-host ip addr flush dev eth0 &&
	nl_exec a-host ip link set eth0 down || nl_die "the move"
	roam_case host "^$(nl_wan c | sed 's/[.]/[.]/g'):"
	grep -q "roaming: looking for our candidates again: an address or route changed" \
	    "$NL_TMP/punchd-A.log" && pl_ok "host: netlink told punchd" ||
		pl_bad "host: no netlink-started look in A's log"
	if [ "$RS" = connected ]; then
		grep -q "roaming: an address went away: 1 relay session connects again" \
		    "$NL_TMP/punchd-A.log" &&
			pl_ok "host: A's relay session, on the old address, connected again at once" ||
			pl_bad "host: A's relay session was not connected again"
	else
		echo "    (A had left the relay session before the move: $RS)"
	fi
	grep -q "roaming: host addresses now 192.168.33.2:7777" "$NL_TMP/punchd-A.log" &&
		pl_ok "host: A's new host candidate 192.168.33.2:7777" ||
		pl_bad "host: A did not see its new host address"
fi
touch "$NL_TMP/stop"
wait $SENDER 2>/dev/null
sleep 1
python3 - "$NL_TMP/send.log" "$NL_TMP/listen-B" "$NL_TMP/changes" <<'PY' >"$NL_TMP/lost"
import json, sys
sent, at = set(), {}
for l in open(sys.argv[1]):
    p = l.split(" ", 3)
    if len(p) == 4 and p[2] == "0":
        sent.add(int(p[1]))
        at[int(p[1])] = int(p[0])
chg = [l.split() for l in open(sys.argv[2].replace("listen-B", "changes"))]
got = set()
for l in open(sys.argv[2]):
    p = l.split(" ", 1)
    try:
        j = json.loads(p[1])
    except (ValueError, IndexError):
        continue
    t = j.get("text", "")
    if j.get("event") == "peer.data" and t.startswith("s"):
        got.add(int(t[1:]))
print(len(sent), len(sent - got))
for i in sorted(sent - got):
    print("    lost s%d, sent %s" % (i, ", ".join("%+d ms from the %s change"
        % (at[i] - int(t), n) for n, t in chg)), file=sys.stderr)
PY
read -r NSENT NLOST <"$NL_TMP/lost"
echo "figures: sent=$NSENT lost=$NLOST" | tee -a "$NL_TMP/figures"
[ "$NLOST" -eq 0 ] && pl_ok "all $NSENT datagrams delivered" ||
	pl_bad "$NLOST of $NSENT datagrams never arrived"
pl_deliver A B "after-roam" && pl_path_is A "$IB" direct &&
	pl_ok "data A -> B direct after the roams" || pl_bad "data after the roams"
grep -h "roaming\|moved\|through the relay\|direct\|relayed" "$NL_TMP/punchd-A.log" "$NL_TMP/punchd-B.log" |
    grep -v ipc_ | tail -n 40 >"$NL_TMP/roam.log"
[ -n "${ROAM_LOGS:-}" ] && mkdir -p "$ROAM_LOGS" &&
	cp "$NL_TMP"/*.log "$NL_TMP"/listen-* "$NL_TMP/figures" "$ROAM_LOGS"/
[ "$PL_FAILS" -ne 0 ] && cat "$NL_TMP/roam.log"
pl_finish "roaming: $(tr '\n' ' ' <"$NL_TMP/figures")"
