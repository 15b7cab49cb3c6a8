#!/bin/sh
# Failover in seconds, no silent loss (issue 13, item 2), default timers.
#
# A behind port-restricted NAT a, B behind port-restricted NAT b (eim:
# masquerade), relayd with an access token (relayd --issue-access, no
# --open). A and B punch direct and leave the relay session. A streams
# datagrams to B (meshctl send in a loop, ~20 per second); after 4 s all
# UDP between the two NATs is dropped (nftables in NAT a's forward chain,
# both ways), 8 s later it is restored. Checks:
#   - the longest time without a delivery at B around the cut is <= 3 s
#     (FAILOVER_MAX_GAP_MS, default 3000);
#   - A goes degraded (path in doubt), then relayed, with peer.path events;
#   - no send made after A's "in doubt" event reported plain "direct" for a
#     datagram that never arrived; sends in doubt say so (health) and go
#     through the relay too (path direct+relay);
#   - every datagram arrives in the end: those sent since the path's last
#     answer (before anything could tell) go again through the relay when
#     both sides meet there, the replay window drops the ones that arrived;
#   - after the restore both sides are direct again within 15 s, and data
#     flows direct.
# The figures are printed: outage, datagrams lost before the doubt (the
# detection window, when nothing tells punchd yet), relay copies.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init
MAXGAP=${FAILOVER_MAX_GAP_MS:-3000}
# default timers: only STUN refresh off (the lab's server never changes)
PL_FAST="-o punchd.stun_refresh=0"

echo "== lab $NL_PFX: eim a, eim b, relayd with access tokens"
pl_world
pl_stop_relay		# the lab's open relay: this one wants tokens
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$NL_TMP/relaykey"
printf '[relayd]\nsecret_file = %s\n' "$NL_TMP/relaykey" >"$NL_TMP/relayd.conf"
TOK=$("$BIN/relayd" -f "$NL_TMP/relayd.conf" --issue-access --ttl 1h) ||
	nl_die "relayd --issue-access"
nl_bg rly "$NL_TMP/relayd.log" "$BIN/relayd" -v -f "$NL_TMP/relayd.conf" \
    -l 203.0.113.30 -p 8080 -s "$NL_TMP/relayd.sock"
PL_RELAYD_PID=$NL_LASTPID
nl_wait 5 sh -c "ip netns exec $(nl_ns rly) ss -Hlnt 'sport = :8080' | grep -q ." ||
	nl_die "relayd did not listen: $(tail -n 5 "$NL_TMP/relayd.log")"
grep -q "open mode" "$NL_TMP/relayd.log" && nl_die "relayd must want tokens here"
nl_nat a eim
nl_nat b eim
pl_node A a-host -o punchd.relay_token="$TOK"
pl_node B b-host -o punchd.relay_token="$TOK"
IA=$(pl_id A) IB=$(pl_id B)
pl_listen A "$NL_TMP/listen-A"
# B's datagrams (and events) with their arrival time (ms)
pl_listen_timed B "$NL_TMP/listen-B"
pl_direct_pair A B
sleep 6			# both have left the relay session (5 s linger)

echo "== A streams to B; all UDP between the NATs cut after 4 s, back 8 s later"
pl_stream A "$IB"
SENDER=$PL_SENDER
sleep 4
WANB=$(nl_wan b)
T_CUT=$(date +%s%3N)
ip netns exec "$(nl_ns a)" nft -f - <<EOF || nl_die "nft cut"
table ip cut {
	chain between {
		type filter hook forward priority filter - 10;
		ip daddr $WANB meta l4proto udp drop
		ip saddr $WANB meta l4proto udp drop
	}
}
EOF
sleep 7
# meshctl why, while relayed: the reason in words, the pairs, the health
pl_m A why "$IB" >"$NL_TMP/why-A.txt" 2>&1
pl_m A --json why "$IB" >"$NL_TMP/why-A.json" 2>&1
pl_m B --json why "$IA" >"$NL_TMP/why-B.json" 2>&1
sleep 1
ip netns exec "$(nl_ns a)" nft delete table ip cut || nl_die "nft restore"
T_BACK=$(date +%s%3N)
nl_wait 15 pl_path_is A "$IB" direct && nl_wait 5 pl_path_is B "$IA" direct &&
	pl_ok "direct again $(( $(date +%s%3N) - T_BACK )) ms after the restore" ||
	pl_bad "after the restore: A $(pl_peer A "$IB" .state) / B $(pl_peer B "$IA" .state)"
sleep 2
touch "$NL_TMP/stop"
wait $SENDER 2>/dev/null
sleep 1
T_DOUBT=$(grep '"event":"peer.path"' "$NL_TMP/listen-A" | grep '"state":"degraded"' |
	head -n 1 >/dev/null && echo 1 || echo 0)
[ "$T_DOUBT" = 1 ] && pl_ok "A: peer.path degraded (in doubt)" || pl_bad "A never said degraded"
grep '"event":"peer.path"' "$NL_TMP/listen-A" | grep -q '"state":"relayed"' &&
	pl_ok "A: peer.path relayed: $(grep '"event":"peer.path"' "$NL_TMP/listen-A" |
	    grep '"state":"relayed"' | head -n 1 | jq -r .params.reason)" ||
	pl_bad "A never went relayed"

# the figures, from the send log and B's arrivals
python3 - "$NL_TMP/send.log" "$NL_TMP/listen-B" "$T_CUT" "$T_BACK" "$MAXGAP" \
    >"$NL_TMP/figures" <<'PY'
import json, sys
sendlog, listen, cut, back, maxgap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sent = {}
for l in open(sendlog):
    p = l.split(" ", 3)
    if len(p) < 4:
        continue
    t, i, rc, r = int(p[0]), int(p[1]), int(p[2]), p[3]
    try:
        j = json.loads(r)
    except ValueError:
        j = {}
    sent[i] = (t, rc, j)
got = {}
for l in open(listen):
    p = l.split(" ", 1)
    try:
        j = json.loads(p[1])
    except (ValueError, IndexError):
        continue
    if j.get("event") != "peer.data":
        continue
    txt = j.get("text", "")
    if txt.startswith("s"):
        got.setdefault(int(txt[1:]), int(p[0]))
# longest time without an arrival, over gaps that end after the cut and
# begin before the restore (no arrival at all after the cut: until then)
times = sorted(got.values())
gaps = [b - a for a, b in zip(times, times[1:]) if b > cut and a < back]
after = [t for t in times if t > cut]
before = [t for t in times if t <= cut]
if not after:
    gaps.append(back - (before[-1] if before else cut))
gap = max(gaps, default=back - cut)
# silent loss: plain "direct", exit 0, never arrived; split at the first
# send that said "in doubt"
first_doubt = min((t for t, rc, j in sent.values() if j.get("health")), default=None)
plain_lost_before = plain_lost_after = 0
doubt_sends = copied = 0
for i, (t, rc, j) in sent.items():
    if j.get("health"):
        doubt_sends += 1
    if j.get("path") == "direct+relay":
        copied += 1
    plain = rc == 0 and j.get("path") == "direct" and not j.get("health")
    if plain and i not in got:
        if first_doubt is None or t < first_doubt:
            plain_lost_before += 1
        else:
            plain_lost_after += 1
lost = sum(1 for i in sent if i not in got)
rate = len(sent) / max(1, (max(t for t, _, _ in sent.values()) - min(t for t, _, _ in sent.values())) / 1000)
print("sent=%d rate=%.1f/s delivered=%d lost=%d gap_ms=%d doubt_ms=%s "
      "doubt_sends=%d copied=%d plain_lost_before_doubt=%d plain_lost_after_doubt=%d"
      % (len(sent), rate, len(got), lost, gap,
         "-" if first_doubt is None else first_doubt - cut, doubt_sends, copied,
         plain_lost_before, plain_lost_after))
PY
cat "$NL_TMP/figures"
eval "$(tr ' ' '\n' <"$NL_TMP/figures" | grep -E '^(gap_ms|plain_lost_after_doubt|copied|doubt_sends|lost|sent)=')"
[ "${gap_ms:-99999}" -le "$MAXGAP" ] &&
	pl_ok "longest time without a delivery: ${gap_ms} ms (<= $MAXGAP)" ||
	pl_bad "outage ${gap_ms:-?} ms > $MAXGAP ms"
[ "${plain_lost_after_doubt:-1}" -eq 0 ] &&
	pl_ok "no plain success for a lost datagram once the path was in doubt" ||
	pl_bad "${plain_lost_after_doubt:-?} sends said plain direct after the doubt and were lost"
# the datagrams sent since the path's last answer went again through the
# relay when both sides met there: none lost for good
[ "${lost:-1}" -eq 0 ] && pl_ok "all ${sent:-?} datagrams delivered, none lost" ||
	pl_bad "${lost:-?} of ${sent:-?} datagrams never arrived"
[ "${doubt_sends:-0}" -gt 0 ] && [ "${copied:-0}" -gt 0 ] &&
	pl_ok "$doubt_sends sends said in doubt, $copied also went through the relay" ||
	pl_bad "sends in doubt: $doubt_sends, copied through the relay: $copied"
sed 's/^/    /' "$NL_TMP/why-A.txt"
[ "$(jq -r .peer.state "$NL_TMP/why-A.json")" = relayed ] &&
	jq -r .peer.reason "$NL_TMP/why-A.json" | grep -q "direct path died: no answer for" &&
	[ "$(jq -r .peer.health.deaths "$NL_TMP/why-A.json")" -ge 1 ] &&
	grep -q "^why: *relayed: " "$NL_TMP/why-A.txt" &&
	pl_ok "meshctl why A: $(jq -r .peer.reason "$NL_TMP/why-A.json")" ||
	pl_bad "meshctl why during the cut: $(cat "$NL_TMP/why-A.txt")"
pl_deliver A B "after-restore" && pl_path_is A "$IB" direct &&
	pl_ok "data A -> B direct after the restore" || pl_bad "data after the restore"

# FAILOVER_LOGS=DIR keeps the logs, the send log and the arrivals
[ -n "${FAILOVER_LOGS:-}" ] && mkdir -p "$FAILOVER_LOGS" &&
	cp "$NL_TMP"/*.log "$NL_TMP"/listen-* "$NL_TMP"/why-* "$NL_TMP/figures" \
	    "$FAILOVER_LOGS"/
[ "$PL_FAILS" -ne 0 ] && grep -h "peer\|relay" "$NL_TMP"/punchd-*.log | grep -v ipc_ | tail -n 60
pl_finish "failover: outage ${gap_ms:-?} ms (cut at 20 datagrams/s), direct again after the restore"
