#!/bin/sh
# Issue 13 item 3: the relay client reconnects within 2-5 s of a relay's
# return while peers depend on it (the back-off used to grow to 30 s: a
# 10 s outage cost 8.2 s more). C and D behind symmetric NATs are relayed
# (12-punchd-sym-sym.sh); relayd stops for 10 s and starts again; both
# must be relayed again, with data, within 5 s of its return.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab

echo "== lab $NL_PFX: sym c, sym d"
pl_two_nats c:sym d:sym
pl_listen C "$NL_TMP/listen-C"
pl_listen D "$NL_TMP/listen-D"
pl_punch_both C D 5000 >/dev/null || pl_bad "punch C <-> D failed"
nl_wait 3 pl_path_is C "$ID" relay && nl_wait 3 pl_path_is D "$IC" relay ||
	nl_die "C <-> D not relayed: $(pl_peer C "$ID" .state) / $(pl_peer D "$IC" .state)"
pl_ok "C <-> D relayed"

echo "== relayd stops for 10 s"
pl_stop_relay
not_relayed() { ! pl_path_is C "$ID" relay; }
nl_wait 5 not_relayed && pl_ok "C lost its relayed path" ||
	pl_bad "C still relayed without relayd"
sleep 10
pl_start_relay
t1=$(pl_ms)
if nl_wait 5 pl_path_is C "$ID" relay && nl_wait 5 pl_path_is D "$IC" relay; then
	dt=$(( $(pl_ms) - t1 ))
	[ "$dt" -le 5000 ] && pl_ok "C <-> D relayed again $dt ms after relayd returned" ||
		pl_bad "relayed again only after $dt ms"
else
	pl_bad "C <-> D 5 s after relayd returned: $(pl_peer C "$ID" .state) / $(pl_peer D "$IC" .state)"
fi
pl_deliver C D "c-d-relay-back" && pl_deliver D C "d-c-relay-back" &&
	pl_ok "data both ways over the relay again" || pl_bad "data C <-> D"
grep 'next attempt' "$NL_TMP/punchd-C.log" | tail -n 3 | sed 's/^/    C: /'

pl_finish "relay back within 5 s of its return after a 10 s outage"
