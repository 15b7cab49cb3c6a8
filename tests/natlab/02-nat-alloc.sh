#!/bin/sh
# The lab's hard NATs, checked with software nobody here wrote (coturn's
# turnutils_natdiscovery, RFC 5780 mapping tests from one socket):
#   seq  (nl_nat_seq)  address-and-port-dependent mapping, ports +1 per new
#                      destination
#   sym  (nl_nat sym)  address-and-port-dependent mapping, random ports
# and, for the record, that Linux masquerade with a port range is no
# sequential allocator (it reuses the port per destination: endpoint-
# independent). docs/natlab.md, "Port allocation".
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"

command -v turnserver >/dev/null 2>&1 &&
    command -v turnutils_natdiscovery >/dev/null 2>&1 ||
	nl_skip "coturn missing (scripts/deps.sh)"
nl_require
nl_init

fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "== building the lab (prefix $NL_PFX)"
nl_public
nl_host srv 203.0.113.10 203.0.113.11
nl_nat_seq seq
nl_nat sym sym
nl_nat range eim
ip netns exec "$NL_PFX-range" nft -f - <<NFT || nl_die "nft range"
flush chain ip natlab post
add rule ip natlab post oifname "wan" meta l4proto udp masquerade to :40000-40999 persistent
add rule ip natlab post oifname "wan" masquerade
NFT
nl_turnserver srv "$NL_TMP/turn.log" 203.0.113.10 203.0.113.11

# steps between successive ports (one per line in), space separated
steps() {
	awk 'NR > 1 { printf "%s%d", (NR > 2 ? " " : ""), $1 - p } { p = $1 }'
}

for n in seq sym range; do
	nl_natdiscovery "$n-host" 203.0.113.10 >"$NL_TMP/$n.out"
	eval "ports_$n=\$(nl_mapped_ports <\"\$NL_TMP/$n.out\" | tr '\n' ' ')"
done
echo "ports seen: seq [$ports_seq] sym [$ports_sym] range [$ports_range]"

grep -q "Address and Port Dependent Mapping" "$NL_TMP/seq.out" &&
    ok "seq: address-and-port-dependent mapping" ||
    bad "seq: $(grep -i 'mapping' "$NL_TMP/seq.out" | tail -n 1)"
s=$(echo "$ports_seq" | tr ' ' '\n' | grep . | steps)
[ "$s" = "1 1" ] && ok "seq: ports step +1 per destination ($s)" ||
    bad "seq: steps '$s', wanted '1 1'"

grep -q "Address and Port Dependent Mapping" "$NL_TMP/sym.out" &&
    ok "sym: address-and-port-dependent mapping" ||
    bad "sym: $(grep -i 'mapping' "$NL_TMP/sym.out" | tail -n 1)"
s=$(echo "$ports_sym" | tr ' ' '\n' | grep . | steps)
case " $s " in
"  "|*" 0 "*) bad "sym: a port repeated, or none seen ($s)" ;;
" 1 1 ") bad "sym: sequential ports ($s)" ;;
*) ok "sym: a new port per destination, no pattern ($s)" ;;
esac

grep -q "Endpoint Independent Mapping" "$NL_TMP/range.out" &&
    ok "masquerade to :40000-40999 persistent: endpoint-independent, not sequential" ||
    bad "range: $(grep -i 'mapping' "$NL_TMP/range.out" | tail -n 1)"

[ "$fails" -eq 0 ] || nl_die "$fails check(s) failed"
echo "natlab: hard NATs ok"
