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
nl_require
nl_init

fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "== building the lab (prefix $NL_PFX)"
nl_public
nl_host srv 203.0.113.10 203.0.113.11
nl_nat eim eim
nl_nat_seq seq
nl_nat sym sym
: >"$NL_TMP/empty.conf"

stund_in() {
	_ns=$1 _name=$2; shift 2
	mkdir -p "$NL_TMP/$_name"
	nl_bg "$_ns" "$NL_TMP/stund-$_name.log" env RUNTIME_DIRECTORY="$NL_TMP/$_name" \
	    "$BIN/stund" -v -f "$NL_TMP/empty.conf" "$@"
	nl_wait 5 "$IPCCALL" "$NL_TMP/$_name/stund.sock" status.get >/dev/null ||
		nl_die "stund $_name: no answer: $(tail -n 5 "$NL_TMP/stund-$_name.log")"
}

stund_in srv server -o stund.server=yes -o stund.servers=none \
    -o stund.listen=203.0.113.10:3478 -o stund.alt_ip=203.0.113.11 \
    -o stund.alt_port=3479
for s in 203.0.113.10:3478 203.0.113.10:3479 203.0.113.11:3478 203.0.113.11:3479; do
	nl_wait 5 nl_udp_bound srv "${s#*:}" "$s" || nl_die "stund server did not bind $s"
done
for h in eim-host seq-host sym-host; do
	stund_in "$h" "$h" -o stund.servers=203.0.113.10:3478 -o stund.timeout=3s
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
