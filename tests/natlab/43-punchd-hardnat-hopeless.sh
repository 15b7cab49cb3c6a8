#!/bin/sh
# Symmetric NATs with random ports on both sides: no port of either can be
# guessed (punchd/birthday.h: strategy RELAY), so neither side probes; the
# pair stays relayed and its upgrade attempts back off as hopeless
# (punchd/upgrade: 5 minutes, doubling to an hour, or at once when a
# candidate changes), the reason in `meshctl why`. Real punchd, stund and
# relayd (tokens), timers short (punchd.inc's PL_FAST: punch attempts of
# 2 s, repunch 500 ms, which without the back-off would retry every few
# seconds).
#
# Checks: relayed both ways, data over the relay; both sides signalled
# their NAT (random ports); `why` says hopeless with the next try in 300 s;
# no probe sent (hardnat_probes 0) and no extra socket opened; over 4 s
# after the attempt failed no new punch attempt starts and each punchd
# sends at most a handful of UDP datagrams (its STUN and keep-alive-free
# relayed path: the relay is TCP).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
. "$TOP/tests/natlab/hardnat.inc"
pl_lab

echo "== lab $NL_PFX: symmetric-random a and b"
pl_two_nats a:sym b:sym
hn_nat_known A B
pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"

echo "== both punch at once"
pl_punch_both A B 3000
nl_wait 5 pl_path_is A "$IB" relay && nl_wait 5 pl_path_is B "$IA" relay &&
	pl_ok "relayed both ways" ||
	pl_bad "not relayed: A sees $(pl_peer A "$IB" '.state+" "+.path'), B sees $(pl_peer B "$IA" '.state+" "+.path')"
pl_deliver A B "hello-b-from-a" && pl_ok "datagram A -> B over the relay" ||
	pl_bad "A -> B not delivered"

why() { hn_why "$1" "$2" .; }
hopeless() { why "$1" "$2" | jq -e '.reason | test("hopeless: both sides map per destination, one with random ports: no port can be guessed; next try in 300 s")' >/dev/null; }
nl_wait 6 hopeless A "$IB" && nl_wait 2 hopeless B "$IA" &&
	pl_ok "why: $(why A "$IB" | jq -r .reason)" ||
	pl_bad "why on A: $(why A "$IB" | jq -r .reason); on B: $(why B "$IA" | jq -r .reason)"
pl_m A why "$IB" >"$NL_TMP/why-A.txt" 2>&1
sed 's/^/    A: /' "$NL_TMP/why-A.txt"
grep -q "^their NAT: mapping address-and-port-dependent.*random ports (signalled)" "$NL_TMP/why-A.txt" &&
	pl_ok "why on A: B's NAT signalled, random ports" || pl_bad "why on A: B's NAT not shown"

ctr() { hn_ipc "$NL_TMP/$1/punchd.sock" status.get | jq -r .counters.tx_datagrams; }
att() { why "$1" "$2" | jq -r .attempts; }
a0=$(att A "$IB") b0=$(att B "$IA") ta0=$(ctr A) tb0=$(ctr B)
sleep 4
a1=$(att A "$IB") b1=$(att B "$IA") ta1=$(ctr A) tb1=$(ctr B)
[ "$a1" = "$a0" ] && [ "$b1" = "$b0" ] &&
	pl_ok "no new attempt in 4 s (A $a0, B $b0 attempts): backed off" ||
	pl_bad "attempts A $a0 -> $a1, B $b0 -> $b1 in 4 s"
[ $((ta1 - ta0)) -le 10 ] && [ $((tb1 - tb0)) -le 10 ] &&
	pl_ok "UDP datagrams sent in those 4 s: A $((ta1 - ta0)), B $((tb1 - tb0))" ||
	pl_bad "UDP datagrams sent in those 4 s: A $((ta1 - ta0)), B $((tb1 - tb0))"
pa=$(why A "$IB" | jq -r .hardnat_probes) pb=$(why B "$IA" | jq -r .hardnat_probes)
[ "$pa" = 0 ] && [ "$pb" = 0 ] && pl_ok "no probe sent (A $pa, B $pb)" ||
	pl_bad "probes sent: A $pa, B $pb"
nu=$(hn_extra_socks A a-host)
[ "$nu" -eq 0 ] && pl_ok "no extra socket on A" ||
	pl_bad "A holds $nu extra UDP sockets: $(cat "$NL_TMP/ss-A.txt")"

hn_stop_clean A B && pl_ok "both punchd stopped cleanly, no sanitizer report" ||
	pl_bad "a punchd did not stop cleanly or reported a sanitizer error"

pl_finish "random on both sides: relayed, no probing, upgrade backed off as hopeless"
