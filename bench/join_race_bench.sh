#!/bin/sh
# meshctl join with dead local and public paths and a working relay: the
# race (local, public, relay started 250 ms apart, first WELCOME wins)
# beside the sequential way it replaced (local 3 s, then public 3 s, then
# the relay), measured in the same run, alternating, on the same lab.
#
#   lab      inviter R behind EIM NAT r, joiner S behind EIM NAT s (its
#            local endpoint is a LAN address S cannot reach, its public one
#            is filtered by NAT r: both dead); relayd on 203.0.113.30:8080
#            requiring tokens (a secret; both nodes hold an access token
#            from relayd --issue-access in punchd.relay_token)
#   race     `meshctl join CODE` (the default since the race)
#   seq      `meshctl join --sequential CODE`: one request per path in
#            turn, the old behaviour, kept reachable for this comparison
# Both with the default timeouts (3 s local and public, 10 s relay).
# Between runs the joiner leaves, the inviter forgets it, and both NATs
# drop their UDP flows, so that every run starts from a NAT that never saw
# the other side.
# Figures: meshctl's wall clock from start to joined (the WELCOME came and
# the punch to the inviter finished), punchd's welcome_ms (HELLO ->
# WELCOME, of that request), and the relay's RTT from the joiner's host
# (TCP handshake). Target: race within relay RTT + 1 s. Asserts nothing about time.
#
# Needs root, iproute2, nftables (the NAT lab); exits 77 when it cannot.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
RUNS=${RUNS:-5}
PL_RELAY=ws://203.0.113.30:8080
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

pl_stun_server
nl_host rly 203.0.113.30
pl_start_relay_tokens
TOK=$PL_TOKEN
nl_nat r eim
nl_nat s eim

node() { # NAME NS
	pl_stund "$1" "$2"
	pl_mesh_punchd "$1" "$2" -o punchd.relay_token="$TOK" -o punchd.portmap=no
}
node R r-host
node S s-host
pl_m R init bench >/dev/null || nl_die "init"

# one KIND (race|seq) run
run() {
	_code=$(pl_m R --json invite | jq -r .token)
	_t0=$(pl_ms)
	if [ "$1" = seq ]; then
		pl_m S --json join --sequential "$_code" >"$NL_TMP/j.json" 2>&1
	else
		pl_m S --json join "$_code" >"$NL_TMP/j.json" 2>&1
	fi
	_t1=$(pl_ms)
	if [ "$(jq -r '.joined and .path == "relay"' "$NL_TMP/j.json" 2>/dev/null)" = true ]; then
		echo $((_t1 - _t0)) >>"$NL_TMP/wall.$1"
		jq -r .welcome_ms "$NL_TMP/j.json" >>"$NL_TMP/welcome.$1"
		jq -r .state "$NL_TMP/j.json" >>"$NL_TMP/state.$1"
	else
		echo "    $1 run: $(jq -c '{joined, path, state, attempts}' "$NL_TMP/j.json" 2>/dev/null || cat "$NL_TMP/j.json")"
	fi
	_id=$(pl_id S)
	pl_m S leave >/dev/null 2>&1
	pl_m R peers remove "$_id" >/dev/null 2>&1
	# the NATs forget the pair's UDP flows (R punched S: NAT r would now
	# let S's HELLO to R's public endpoint in); the relay's TCP stays
	sleep 0.2
	for _x in r s; do
		ip netns exec "$(nl_ns $_x)" conntrack -D -p udp >/dev/null 2>&1
	done
}

# the relay's RTT: median of 5 TCP handshakes to it from the joiner's host
# (no ping on every machine; python3 is a build dependency already)
rtt=$(nl_exec s-host python3 -c '
import socket, time
t = []
for i in range(5):
    s = socket.socket(); a = time.monotonic()
    s.connect(("203.0.113.30", 8080)); t.append(time.monotonic() - a); s.close()
print("%.2f" % (sorted(t)[2] * 1000))' 2>/dev/null)
echo "lab: joiner behind EIM NAT s, inviter behind EIM NAT r, relayd with tokens"
echo "     (access token), relay RTT from the joiner's host ${rtt:-?} ms (TCP handshake), $RUNS runs each"
echo "     load: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
: >"$NL_TMP/wall.race"; : >"$NL_TMP/wall.seq"
: >"$NL_TMP/welcome.race"; : >"$NL_TMP/welcome.seq"
_n=0
while [ $_n -lt "$RUNS" ]; do
	_n=$((_n + 1))
	run race
	run seq
done
echo "join with dead local and public, relay working:"
echo "  race (default)        meshctl wall clock $(pl_stats "$NL_TMP/wall.race") ms"
echo "                        HELLO -> WELCOME   $(pl_stats "$NL_TMP/welcome.race") ms (from the race's start)"
echo "  sequential (before)   meshctl wall clock $(pl_stats "$NL_TMP/wall.seq") ms"
echo "                        HELLO -> WELCOME   $(pl_stats "$NL_TMP/welcome.seq") ms (of the relay request only)"
echo "  state at the answer:  race $(sort "$NL_TMP/state.race" 2>/dev/null | uniq -c | tr -s ' \n' ' '), sequential $(sort "$NL_TMP/state.seq" 2>/dev/null | uniq -c | tr -s ' \n' ' ')"
echo "  target: race within relay RTT + 1 s = $(awk "BEGIN { printf \"%.0f\", ${rtt:-0} + 1000 }") ms"
grep -q "refused" "$NL_TMP/relayd.log" && echo "  (relayd refused something: $(grep -c refused "$NL_TMP/relayd.log") lines)"
exit 0
