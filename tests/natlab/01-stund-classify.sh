#!/bin/sh
# stund classifies the NAT it sits behind. In the lab (tests/natlab/lib.sh,
# docs/natlab.md): stund in server mode on the public segment with RFC 5780
# (203.0.113.10:3478, alternate 203.0.113.11:3479), and a stund client
# behind each NAT and on the open segment; `meshctl --json network` must say:
#
#   NAT       public            mapping                    filtering                  classic
#   eim       198.51.100.11:P   endpoint-independent       address-and-port-dependent port-restricted cone
#   sym       198.51.100.12:*   address-and-port-dependent address-and-port-dependent symmetric
#   fullcone  198.51.100.13:P   endpoint-independent       endpoint-independent       full cone
#   none      203.0.113.20:P    endpoint-independent       endpoint-independent       open internet
#
# (P: stund's own local port, which Linux masquerade keeps.) These are the
# verdicts coturn's turnutils_natdiscovery gives for the same NATs
# (00-lab-coturn.sh checks that). Also coturn's natdiscovery against stund's
# server from behind the symmetric NAT: stund's RFC 5780 answers let a
# third-party client see "Address and Port Dependent Mapping" too.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"

[ -x "$BIN/stund" ] || nl_skip "stund is not built yet ($BIN/stund missing)"
[ -x "$BIN/meshctl" ] || nl_skip "meshctl is not built yet ($BIN/meshctl missing)"
command -v jq >/dev/null 2>&1 || nl_skip "jq missing (scripts/deps.sh)"
nl_require
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
: >"$NL_TMP/empty.conf"

stund_up() {
	"$BIN/meshctl" -S "$1" --json status 2>/dev/null |
	    jq -e '.daemons[] | select(.daemon == "stund") | .up' >/dev/null
}

# stund_in NS NAME ARGS...: a stund in namespace NS, IPC in $NL_TMP/NAME
stund_in() {
	_ns=$1 _name=$2; shift 2
	mkdir -p "$NL_TMP/$_name"
	nl_bg "$_ns" "$NL_TMP/stund-$_name.log" env RUNTIME_DIRECTORY="$NL_TMP/$_name" \
	    "$BIN/stund" -v -f "$NL_TMP/empty.conf" "$@"
	eval "PID_$(echo "$_name" | tr -c 'A-Za-z0-9_\n' _)=$NL_LASTPID"
	# the socket file appears at bind(), before listen(): wait for an answer
	nl_wait 5 stund_up "$NL_TMP/$_name" ||
		nl_die "stund $_name: no answer on its IPC socket: $(tail -n 5 "$NL_TMP/stund-$_name.log")"
}

echo "== stund server on 203.0.113.10:3478, alternate 203.0.113.11:3479"
stund_in srv server -o stund.server=yes -o stund.servers=none \
    -o stund.listen=203.0.113.10:3478 -o stund.alt_ip=203.0.113.11 \
    -o stund.alt_port=3479
for s in 203.0.113.10:3478 203.0.113.10:3479 203.0.113.11:3478 203.0.113.11:3479; do
	nl_wait 5 nl_udp_bound srv "${s#*:}" "$s" || nl_die "stund server did not bind $s"
done
ok "stund server bound all four RFC 5780 addresses"

echo "== stund clients behind eim, sym, fullcone and on the open segment"
for h in eim-host sym-host fc-host open; do
	stund_in "$h" "$h" -o stund.servers=203.0.113.10:3478 -o stund.timeout=3s
done

# all four discoveries, and coturn's natdiscovery against stund, at once:
# the filtering tests wait for answers that never come
pids=
for h in eim-host sym-host fc-host open; do
	timeout 30 "$BIN/meshctl" -S "$NL_TMP/$h" --json network \
	    >"$NL_TMP/$h.json" 2>"$NL_TMP/$h.err" &
	pids="$pids $!"
done
nd=
if command -v turnutils_natdiscovery >/dev/null 2>&1; then
	nl_exec sym-host timeout 30 turnutils_natdiscovery -m -f 203.0.113.10 \
	    >"$NL_TMP/nd-sym.txt" 2>&1 &
	nd=$!
	nl_track $nd
fi
for p in $pids; do wait "$p"; done

jv() { jq -r "$2" "$NL_TMP/$1.json" 2>/dev/null; }

# check HOST PUBLIC-IP SAME-PORT(yes|no) BEHIND MAPPING FILTERING CLASSIC
check() {
	h=$1
	echo "-- $h: meshctl --json network"
	sed 's/^/    /' "$NL_TMP/$h.json" "$NL_TMP/$h.err"
	if ! jq -e . "$NL_TMP/$h.json" >/dev/null 2>&1; then
		bad "$h: no JSON from meshctl network"
		return
	fi
	pub=$(jv "$h" .public) loc=$(jv "$h" .local)
	got="behind_nat $(jv "$h" .behind_nat), mapping $(jv "$h" .mapping), filtering $(jv "$h" .filtering), '$(jv "$h" .classic)'"
	want="behind_nat $4, mapping $5, filtering $6, '$7'"
	[ "$got" = "$want" ] && ok "$h: $got" || bad "$h: got $got; want $want"
	case $pub in
	"$2":[0-9]*) ok "$h: public $pub (local $loc)" ;;
	*) bad "$h: public '$pub', expected $2:PORT" ;;
	esac
	if [ "$3" = yes ]; then
		[ "${pub##*:}" = "${loc##*:}" ] &&
			ok "$h: public port is stund's socket's port (masquerade keeps it)" ||
			bad "$h: public port ${pub##*:} != local port ${loc##*:}"
		# the discovery's mapping (servers[]) is that of a socket stund
		# keeps (the one it would punch from), port kept by the NAT
		m=$(jv "$h" '.servers[0].mapped')
		pid=$(eval echo "\$PID_$(echo "$h" | tr -c 'A-Za-z0-9_\n' _)")
		if [ "${m%:*}" = "$2" ] && nl_exec "$h" ss -Hanup "sport = :${m##*:}" |
		    grep -q "pid=$pid,"; then
			ok "$h: servers[0].mapped $m: port of stund's own socket"
		else
			bad "$h: servers[0].mapped $m is not $2 + a port of stund's sockets ($(nl_exec "$h" ss -Hanup | grep "pid=$pid," | awk '{print $4}' | tr '\n' ' '))"
		fi
	fi
}

check eim-host "$(nl_wan eim)" yes true endpoint-independent \
    address-and-port-dependent "port-restricted cone"
check sym-host "$(nl_wan sym)" no true address-and-port-dependent \
    address-and-port-dependent symmetric
check fc-host "$(nl_wan fc)" yes true endpoint-independent \
    endpoint-independent "full cone"
check open 203.0.113.20 yes false endpoint-independent \
    endpoint-independent "open internet"

if [ -n "$nd" ]; then
	wait "$nd"
	echo "-- coturn turnutils_natdiscovery -m -f against stund, from sym-host"
	sed 's/^/    /' "$NL_TMP/nd-sym.txt"
	grep -q '^NAT with Address and Port Dependent Mapping!' "$NL_TMP/nd-sym.txt" &&
	    grep -q '^NAT with Address and Port Dependent Filtering!' "$NL_TMP/nd-sym.txt" &&
		ok "natdiscovery through stund's server: symmetric (APDM, APDF)" ||
		bad "natdiscovery through stund's server: $(grep '^NAT with' "$NL_TMP/nd-sym.txt" | tr '\n' ' ')"
fi

if [ $fails -ne 0 ]; then
	for f in "$NL_TMP"/stund-*.log; do echo "--- $f"; tail -n 15 "$f"; done
	echo "$fails check(s) failed"
	exit 1
fi
echo "PASS: stund classifies port-restricted cone, symmetric, full cone and open internet"
