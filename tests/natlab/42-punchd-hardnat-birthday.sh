#!/bin/sh
# The birthday technique with real punchd, stund and relayd (tokens): a
# symmetric NAT with random ports (masquerade fully-random) against a
# port-restricted cone (masquerade). Without it the pair stays relayed
# (tests/natlab/11-punchd-sym-eim.sh runs with punchd.hardnat = no).
#
# Both sides learn each other's NAT behaviour with the candidates through
# the relay (punchd/hardnat.c); the symmetric side A opens extra sockets,
# each sending authenticated PUNCHes to B's endpoint (a mapping per
# socket at a random port); B sends PUNCHes to random ports of A's
# address. A probe that lands on one of A's mappings crosses A's NAT, the
# answer from that socket crosses B's (B sent to it): that socket becomes
# the pair's, the others close.
#
# Checks: direct both ways within 12 s; B's endpoint for A is A's WAN at a
# port other than A's server-reflexive one; `meshctl why` on A says which
# socket crossed, on B that its probing crossed; the probes stay within
# punchd/birthday's budgets (A 1280, B 2048); only one extra socket of A's
# punchd remains open; data and pings both ways over the direct path.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
. "$TOP/tests/natlab/hardnat.inc"
pl_lab

echo "== lab $NL_PFX: symmetric-random a, port-restricted b"
pl_two_nats a:sym b:eim -o punchd.punch_timeout=12s
hn_nat_known A B
echo "    A: $(hn_nat A)"
echo "    B: $(hn_nat B)"

pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"

echo "== both punch at once"
pl_punch_both A B 4000
ms=$(hn_direct_both A B 12) &&
	pl_ok "direct both ways, $ms ms after the punch returned" ||
	pl_bad "not direct: A sees $(pl_peer A "$IB" '.state+" "+.endpoint'), B sees $(pl_peer B "$IA" '.state+" "+.endpoint')"
eb=$(pl_peer B "$IA" .endpoint) pa=$(pl_public A)
case $eb in
"$(nl_wan a)":*)
	[ "${eb##*:}" != "${pa##*:}" ] &&
		pl_ok "B -> A on $eb, one of A's extra sockets' mappings (A's server-reflexive is $pa)" ||
		pl_bad "B -> A on $eb, A's public $pa" ;;
*) pl_bad "B's endpoint for A: $eb" ;;
esac
ea=$(pl_peer A "$IB" .endpoint)
[ "$ea" = "$(pl_public B)" ] && pl_ok "A -> B on B's endpoint $ea" ||
	pl_bad "A's endpoint for B: $ea"

pl_m A why "$IB" >"$NL_TMP/why-A.txt" 2>&1
pl_m B why "$IA" >"$NL_TMP/why-B.txt" 2>&1
sed 's/^/    A: /' "$NL_TMP/why-A.txt"
sed 's/^/    B: /' "$NL_TMP/why-B.txt"
grep -q "last run: birthday: socket [0-9]* of [0-9]* crossed" "$NL_TMP/why-A.txt" &&
	pl_ok "why on A: which socket crossed" || pl_bad "why on A: no birthday result"
grep -q "last run: birthday probing crossed at port ${eb##*:}" "$NL_TMP/why-B.txt" &&
	pl_ok "why on B: its probing crossed at ${eb##*:}" || pl_bad "why on B: no birthday result"
grep -q "^their NAT: mapping address-and-port-dependent.*random ports" "$NL_TMP/why-B.txt" &&
	pl_ok "why on B: A's NAT signalled (random)" || pl_bad "why on B: A's NAT not shown"
prA=$(hn_why A "$IB" .hardnat_probes) prB=$(hn_why B "$IA" .hardnat_probes)
[ "$prA" -ge 1 ] && [ "$prA" -le 1280 ] && [ "$prB" -ge 1 ] && [ "$prB" -le 2048 ] &&
	pl_ok "packets: A $prA from its extra sockets (<= 1280), B $prB probes (<= 2048)" ||
	pl_bad "packets: A $prA, B $prB"
nu=$(hn_extra_socks A a-host)
[ "$nu" -eq 1 ] && pl_ok "A's punchd holds one extra UDP socket (the winner): the others closed" ||
	pl_bad "A's punchd holds $nu extra UDP sockets: $(cat "$NL_TMP/ss-A.txt")"

pl_m A --json ping -c 3 "$IB" >"$NL_TMP/ping.json" 2>&1 &&
    [ "$(jq -r .path "$NL_TMP/ping.json")" = direct ] &&
	pl_ok "ping A -> B direct: $(jq -c .rtt_ms "$NL_TMP/ping.json") ms" ||
	pl_bad "ping: $(cat "$NL_TMP/ping.json")"
pl_deliver A B "hello-b-from-a" && pl_ok "datagram A -> B" || pl_bad "A -> B not delivered"
pl_deliver B A "hello-a-from-b" && pl_ok "datagram B -> A" || pl_bad "B -> A not delivered"
grep -q '"text":"hello-a-from-b".*"path":"direct"\|"path":"direct".*"text":"hello-a-from-b"' "$NL_TMP/listen-A" &&
	pl_ok "A received it on the direct path" ||
	pl_bad "A's peer.data: $(grep hello-a "$NL_TMP/listen-A")"

hn_stop_clean A B && pl_ok "both punchd stopped cleanly, no sanitizer report" ||
	pl_bad "a punchd did not stop cleanly or reported a sanitizer error"

pl_finish "symmetric-random vs port-restricted: direct by the birthday technique"
