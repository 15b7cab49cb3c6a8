#!/bin/sh
# stund reports its NAT's port allocation (stund/alloc) in nat.get: the
# mappings of its RFC 5780 test socket (M1 to P:pp, M2 to A:pp, M3 to A:ap
# and, under an address-and-port-dependent mapping, M4 to P:ap) classified
# as punchd needs them to predict a peer's next port:
#
#   NAT                       alloc.pattern   delta
#   eim  (masquerade)         port-preserving 0 (masquerade keeps the port)
#   seq  (nl_nat_seq)         sequential      1 (+1 per new flow)
#   sym  (fully-random)       random          -
#
# Lab: stund server with RFC 5780 on 203.0.113.10:3478 / .11:3479, one
# stund client behind each NAT, nat.get through tests/tools/ipccall.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
IPCCALL=$TOP/$BUILD/tests/tools/ipccall
. "$TOP/tests/natlab/lib.sh"

[ -x "$BIN/stund" ] || nl_skip "stund is not built yet ($BIN/stund missing)"
[ -x "$IPCCALL" ] || nl_skip "tests/tools/ipccall is not built yet"
command -v jq >/dev/null 2>&1 || nl_skip "jq missing (scripts/deps.sh)"
. "$TOP/tests/natlab/punchd.inc"
nl_require
nl_init

fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "== building the lab (prefix $NL_PFX)"
pl_stun_server
nl_nat eim eim
nl_nat_seq seq
nl_nat sym sym
for h in eim-host seq-host sym-host; do
	pl_stund "$h" "$h"
	nl_wait 5 "$IPCCALL" "$NL_TMP/$h/stund.sock" status.get >/dev/null ||
		nl_die "stund $h: no answer: $(tail -n 5 "$NL_TMP/stund-$h.log")"
done
pids=
for h in eim-host seq-host sym-host; do
	timeout 20 "$IPCCALL" "$NL_TMP/$h/stund.sock" nat.get '{"refresh": true}' \
	    >"$NL_TMP/$h.json" 2>"$NL_TMP/$h.err" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done

a() { jq -r ".alloc.$2" "$NL_TMP/$1.json" 2>/dev/null; }
for h in eim-host seq-host sym-host; do
	echo "-- $h: mapping $(jq -r .mapping "$NL_TMP/$h.json" 2>/dev/null), alloc $(jq -c .alloc "$NL_TMP/$h.json" 2>/dev/null) $(cat "$NL_TMP/$h.err")"
done

[ "$(a eim-host pattern)" = port-preserving ] &&
	ok "eim: port-preserving ($(a eim-host why))" ||
	bad "eim: pattern $(a eim-host pattern), expected port-preserving"
[ "$(a seq-host pattern)" = sequential ] && [ "$(a seq-host delta)" = 1 ] &&
    [ "$(a seq-host destinations)" -ge 3 ] &&
	ok "seq: sequential, delta 1 over $(a seq-host destinations) destinations, last port $(a seq-host last_port), confidence $(a seq-host confidence)" ||
	bad "seq: pattern $(a seq-host pattern) delta $(a seq-host delta) destinations $(a seq-host destinations), expected sequential 1 over >= 3"
lp=$(a seq-host last_port)
[ "$lp" -ge 40000 ] && [ "$lp" -le 40999 ] &&
	ok "seq: last port $lp inside the NAT's sequential range" ||
	bad "seq: last port $lp outside 40000-40999"
[ "$(a sym-host pattern)" = random ] &&
	ok "sym: random ($(a sym-host why))" ||
	bad "sym: pattern $(a sym-host pattern), expected random"

[ "$fails" -eq 0 ] || nl_die "$fails check(s) failed"
echo "natlab: stund allocation patterns ok"
