#!/bin/sh
# The NAT lab checked by software nobody here wrote: coturn's STUN server on
# the public segment (RFC 5780: two IPs, alternate port) and coturn's
# turnutils_natdiscovery behind each kind of NAT. If this fails, the lab is
# wrong, not stund. Also checks the lab's plumbing: the NAT input-drop rule,
# conntrack flushing, and that cleanup leaves no namespace behind.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"

nl_require
for t in turnserver turnutils_natdiscovery; do
	command -v $t >/dev/null 2>&1 || nl_skip "$t missing (Debian package coturn; scripts/deps.sh)"
done
nl_init

fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "== building the lab (prefix $NL_PFX)"
nl_public
nl_host srv 203.0.113.10 203.0.113.11
nl_host open 203.0.113.20
nl_nat eim eim
nl_nat sym sym
nl_nat fc fullcone

echo "== coturn turnserver --stun-only on 203.0.113.10/.11, ports 3478/3479"
nl_turnserver srv "$NL_TMP/turnserver.log" 203.0.113.10 203.0.113.11 3478 3479
ok "turnserver up: $(nl_exec srv ss -Hlun | awk '{print $4}' | sort -u | tr '\n' ' ')"

# natdiscovery -m -f: the filtering test waits for answers that a filtering
# NAT drops (about 6 s), so all four run at once.
echo "== turnutils_natdiscovery -m -f 203.0.113.10 behind each NAT (in parallel)"
pids=
for h in eim-host sym-host fc-host open; do
	nl_exec "$h" timeout 30 turnutils_natdiscovery -m -f 203.0.113.10 \
	    >"$NL_TMP/nd-$h.log" 2>&1 &
	pids="$pids $!"
done
nl_track $pids
for p in $pids; do wait "$p"; done

# verdicts of one run: "mapping|filtering|first reflexive address"
verdict() {
	f="$NL_TMP/nd-$1.log"
	m=$(sed -n 's/^NAT with \(.*\) Mapping!$/\1/p' "$f" | head -n 1)
	fl=$(sed -n 's/^NAT with \(.*\) Filtering!$/\1/p' "$f" | head -n 1)
	r=$(sed -n 's/.*UDP reflexive addr: *//p' "$f" | head -n 1)
	echo "${m:-none}|${fl:-none}|${r:-none}"
}

expect() {	# host, mapping, filtering, public IP
	v=$(verdict "$1")
	m=${v%%|*}; rest=${v#*|}; fl=${rest%%|*}; r=${rest#*|}
	what="$1: mapping '$m', filtering '$fl', reflexive $r"
	if [ "$m" = "$2" ] && [ "$fl" = "$3" ] && [ "${r%:*}" = "$4" ]; then
		ok "$what"
	else
		bad "$what; expected '$2', '$3', $4:*"
		sed 's/^/    | /' "$NL_TMP/nd-$1.log"
	fi
}

expect eim-host "Endpoint Independent" "Address and Port Dependent" "$(nl_wan eim)"
expect sym-host "Address and Port Dependent" "Address and Port Dependent" "$(nl_wan sym)"
expect fc-host "Endpoint Independent" "Endpoint Independent" "$(nl_wan fc)"
expect open "Endpoint Independent" "Endpoint Independent" "203.0.113.20"

echo "== NAT plumbing"
# the home-router rule from NATLAB-NOTES on every NAT
for n in eim sym fc; do
	if nl_exec "$n" nft list chain ip natlab input 2>/dev/null |
	    grep -q 'iifname "wan" ct state new counter .* drop'; then
		ok "$n: input chain drops new inbound on wan"
	else
		bad "$n: input-drop rule missing"; nl_exec "$n" nft list ruleset
	fi
done
# the unsolicited answers of the filtering test hit that rule
d=$(nl_exec eim nft list ruleset | sed -n 's/.*ct state new counter packets \([0-9]*\).*/\1/p')
[ -n "$d" ] && echo "      (eim input-drop counter: $d packets)"

# conntrack: entries exist after the run, none after nl_flush
c1=$(nl_exec eim conntrack -L -p udp 2>/dev/null | grep -c 'dport=3478')
nl_flush eim
c2=$(nl_exec eim conntrack -L -p udp 2>/dev/null | grep -c 'dport=3478')
if [ "$c1" -gt 0 ] && [ "$c2" -eq 0 ]; then
	ok "nl_flush: $c1 STUN conntrack entries on eim before, $c2 after"
else
	bad "nl_flush: $c1 entries before, $c2 after (expected >0 then 0)"
fi

n=$(ip netns list | grep -c "^$NL_PFX-")
[ "$n" -eq 9 ] && ok "9 namespaces with prefix $NL_PFX" || bad "$n namespaces with prefix $NL_PFX, expected 9"

echo "== cleanup check"
pfx=$NL_PFX
nl_cleanup
left=$(ip netns list | grep -c "^$pfx-")
[ "$left" -eq 0 ] && ok "nl_cleanup removed every $pfx-* namespace" ||
	bad "$left namespaces left after nl_cleanup: $(ip netns list | grep "^$pfx-")"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "natlab validated with coturn: eim = port-restricted cone, sym = symmetric, fullcone = full cone, open = no NAT"
