#!/bin/sh
# The invite's local endpoint on a multi-homed host: a docker0-like bridge
# (172.17.0.1/16) created first, so getifaddrs lists it before the LAN
# interface, and the default route via eth0 (203.0.113.50, gateway
# 203.0.113.1). The invite must advertise the address the default route
# leaves from, 203.0.113.50, not the bridge's (issue 12, item 4: before,
# it advertised 172.17.0.1).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
. "$TOP/tests/natlab/lib.sh"
for b in punchd meshctl; do
	[ -x "$BIN/$b" ] || nl_skip "$b is not built yet"
done
command -v jq >/dev/null 2>&1 || nl_skip "jq missing (scripts/deps.sh)"
nl_require
nl_init

M="$BIN/meshctl"
: >"$NL_TMP/empty.conf"
nl_public
# the host by hand (nl_host would make eth0 first): the bridge, then eth0
_nl_addns h
nl_exec h ip link add docker0 type bridge || nl_die "docker0"
nl_exec h ip addr add 172.17.0.1/16 dev docker0 || nl_die "docker0 address"
nl_exec h ip link set docker0 up || nl_die "docker0 up"
_nl_attach h eth0 p-h
nl_exec h ip addr add 203.0.113.50/24 dev eth0 || nl_die "eth0 address"
nl_exec h ip route add default via 203.0.113.1 || nl_die "default route"
first=$(nl_exec h ip -4 -o addr show | awk '$2 != "lo" { sub("/.*", "", $4); print $4; exit }')
nl_exec h ip -4 -o addr show | awk '{ print "  " $2, $4 }'
[ "$first" = 172.17.0.1 ] || nl_die "the bridge's address should come first (got $first): the test would prove nothing"

mkdir -p "$NL_TMP/h"
nl_bg h "$NL_TMP/punchd.log" env RUNTIME_DIRECTORY="$NL_TMP/h" \
    STATE_DIRECTORY="$NL_TMP/h" "$BIN/punchd" -v -f "$NL_TMP/empty.conf" \
    -p 7777 -o punchd.stun_refresh=0
nl_wait 5 "$M" -S "$NL_TMP/h" peers || nl_die "punchd does not answer"
"$M" -S "$NL_TMP/h" init home >/dev/null || nl_die "init"
"$M" -S "$NL_TMP/h" --json invite >"$NL_TMP/i.json" || nl_die "invite"
jq -c '{endpoints, network_info}' "$NL_TMP/i.json"
local=$(jq -r .endpoints.local "$NL_TMP/i.json")
[ "$local" = "udp://203.0.113.50:7777" ] ||
	nl_die "the invite advertises $local, not the default route's udp://203.0.113.50:7777"
[ "$(jq -r .network_info.local_ip "$NL_TMP/i.json")" = 203.0.113.50 ] || nl_die "local_ip"
nl_log "ok: local endpoint $local (the default route's), not 172.17.0.1"

# the default route moved to the bridge's side: the invite follows
nl_exec h ip route del default
nl_exec h ip route add default via 172.17.0.254 dev docker0 onlink || nl_die "route via docker0"
"$M" -S "$NL_TMP/h" --json invite >"$NL_TMP/i2.json" || nl_die "invite 2"
[ "$(jq -r .endpoints.local "$NL_TMP/i2.json")" = "udp://172.17.0.1:7777" ] ||
	nl_die "default via docker0: the invite says $(jq -r .endpoints.local "$NL_TMP/i2.json")"
nl_log "ok: with the default route via docker0, udp://172.17.0.1:7777"
echo PASS
