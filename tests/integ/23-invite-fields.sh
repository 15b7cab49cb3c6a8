#!/bin/sh
# The invite's fields as the seeds give them, with stund and punchd on
# loopback: network_info.nat_type is stund's NAT type, stun_source the
# STUN server that reported the public endpoint, qr_data the
# atmosphere://join URI, and the QR code (terminal and PNG) holds that URI
# (read back with zbarimg when it is installed). A URI whose node
# endpoints are ws:// (the seeds' app) is refused by meshctl join with a
# message that says why.
. "$(dirname "$0")/lib.sh"
need_bin punchd stund meshctl

SP=$(free_port)
PA=$(free_port); [ "$PA" = "$SP" ] && PA=$((SP + 1))
mkdir -p "$T/srv" "$T/a" "$T/b"
M="$BIN/meshctl"

RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" -v \
	--server --listen 127.0.0.1:$SP --servers none
wait_sock "$T/srv/stund.sock"
RUNTIME_DIRECTORY=$T/a STATE_DIRECTORY=$T/a start a "$T/a.log" "$BIN/punchd" \
	-v -f /dev/null -p "$PA" -o punchd.host_loopback=yes
wait_sock "$T/a/punchd.sock"
RUNTIME_DIRECTORY=$T/a start cli "$T/cli.log" "$BIN/stund" -v -f /dev/null \
	--servers "127.0.0.1:$SP"
st() { "$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status'; }
wait_for 10 sh -c "'$M' -S '$T/a' --json status | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.public != null'" ||
	fail "no server-reflexive candidate"
# stund's NAT type reaches punchd (nat.get at connect, nat.changed after)
wait_for 15 grep -q "NAT type: " "$T/a.log" || fail "punchd never learnt the NAT type"
classic=$("$M" -S "$T/a" --json network | jq -r '.. | objects | select(has("classic")) | .classic' | head -n 1)
echo "stund: classic NAT type '$classic'"

"$M" -S "$T/a" init home >/dev/null || fail "init"
"$M" -S "$T/a" --json invite --qr-png "$T/q.png" >"$T/i.json" || fail "invite"
jq -c '{endpoints, network_info, qr_data: (.qr_data | .[0:40])}' "$T/i.json"
want=$(echo "$classic" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9_-]\{1,\}/-/g; s/^-//; s/-$//')
[ "$(jq -r .network_info.nat_type "$T/i.json")" = "$want" ] ||
	fail "nat_type $(jq -r .network_info.nat_type "$T/i.json"), stund says '$classic'"
[ "$(jq -r .network_info.stun_source "$T/i.json")" = "stun:127.0.0.1:$SP" ] ||
	fail "stun_source $(jq -r .network_info.stun_source "$T/i.json")"
[ "$(jq -r .endpoints.public "$T/i.json")" = "udp://127.0.0.1:$PA" ] || fail "public endpoint"
[ "$(jq -r .qr_data "$T/i.json")" = "$(jq -r .uri "$T/i.json")" ] || fail "qr_data is not the URI"
jq -r .qr_data "$T/i.json" | grep -q '^atmosphere://join?token=ATM-' || fail "qr_data"
ok "nat_type $want, stun_source stun:127.0.0.1:$SP, qr_data = the URI"

if command -v zbarimg >/dev/null 2>&1; then
	zbarimg -q --raw "$T/q.png" >"$T/qr.txt" 2>"$T/zbar.err" || fail "zbarimg: $(cat "$T/zbar.err")"
	[ "$(cat "$T/qr.txt")" = "$(jq -r .uri "$T/i.json")" ] ||
		fail "the QR code holds '$(cut -c1-60 "$T/qr.txt")...', not the URI"
	ok "the QR code (PNG) decodes to the URI (zbarimg)"
else
	echo "zbarimg not installed (zbar-tools): QR contents not read back"
fi
"$M" -S "$T/a" invite >"$T/i.txt" || fail "invite (text)"
grep -q "NAT type $want, public endpoint from stun:127.0.0.1:$SP" "$T/i.txt" || fail "text output: $(cat "$T/i.txt")"
# the terminal QR code of the URI is taller than one of the bare code
rows=$(grep -c '█' "$T/i.txt")
[ "$rows" -ge 40 ] || fail "QR code of $rows rows: not the URI's"
ok "meshctl invite prints the URI's QR code ($rows rows)"

echo "== the seeds' ws:// node endpoints"
RUNTIME_DIRECTORY=$T/b STATE_DIRECTORY=$T/b start b "$T/b.log" "$BIN/punchd" \
	-f /dev/null -p 0 -o punchd.stun_refresh=0
wait_sock "$T/b/punchd.sock"
seeds='atmosphere://join?token=ATM-XXX&mesh=Home&endpoints={"local":"ws://192.168.86.237:11451","public":"ws://73.45.123.89:11451","relay":"wss://relay.atmosphere.io/mesh/abc123"}'
if "$M" -S "$T/b" join "$seeds" >"$T/j.out" 2>&1; then
	fail "a ws:// node endpoint was accepted: $(cat "$T/j.out")"
fi
cat "$T/j.out"
grep -q "ws://192.168.86.237:11451" "$T/j.out" && grep -q "udp://IP:PORT" "$T/j.out" ||
	fail "the error does not say why: $(cat "$T/j.out")"
ok "meshctl join refuses ws:// node endpoints and says why"
echo PASS
