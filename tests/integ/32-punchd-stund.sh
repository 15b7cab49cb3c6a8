#!/bin/sh
# punchd with stund on loopback: the server-reflexive candidate is the
# mapping of punchd's OWN socket (stund runs the STUN transaction through
# the descriptor punchd passes, punchd forwards the answer with
# stun.input); punchd works with stund down and picks it up when it comes.
. "$(dirname "$0")/lib.sh"
need_bin punchd stund meshctl

SP=$(free_port)
PA=$(free_port); [ "$PA" = "$SP" ] && PA=$((SP + 1))
mkdir -p "$T/srv" "$T/a"
M="$BIN/meshctl"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"

echo "== a STUN server on 127.0.0.1:$SP"
RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" -v \
	--server --listen 127.0.0.1:$SP --servers none
wait_sock "$T/srv/stund.sock"

echo "== punchd first, stund not there yet"
RUNTIME_DIRECTORY=$T/a STATE_DIRECTORY=$T/a start a "$T/a.log" "$BIN/punchd" \
	-v -p "$PA" -o punchd.mesh_secret="$T/secret"
wait_sock "$T/a/punchd.sock"
wait_for 5 "$M" -S "$T/a" peers || fail "punchd does not answer"
st() { "$M" -S "$T/a" --json status | jq '.daemons[] | select(.daemon=="punchd") | .status'; }
[ "$(st | jq .stund)" = false ] || fail "stund should be down"
[ "$(st | jq -r .public)" = null ] || fail "no public mapping without stund"
ok "punchd serves without stund: $(st | jq -c '[.candidates[].type]')"

echo "== stund arrives: punchd connects and discovers its own mapping"
RUNTIME_DIRECTORY=$T/a start cli "$T/cli.log" "$BIN/stund" -v \
	--servers "127.0.0.1:$SP" -o stund.nat_refresh=0
wait_for 10 sh -c "'$M' -S '$T/a' --json status | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.public != null'" ||
	fail "no server-reflexive candidate after stund came"
st | jq -c '{stund, public, candidates, fwd: .counters.stun_forwarded}'
pub=$(st | jq -r .public)
# no NAT on loopback: the mapping of punchd's socket is punchd's own port
[ "$pub" = "127.0.0.1:$PA" ] || fail "public $pub is not punchd's socket 127.0.0.1:$PA"
[ "$(st | jq .counters.stun_forwarded)" -ge 1 ] || fail "the STUN answer should have been forwarded"
st | jq -e '[.candidates[] | select(.type=="srflx")] | length == 1' >/dev/null || fail "one srflx candidate"
ok "server-reflexive candidate $pub is punchd's own socket"

echo "== stund restarts: punchd keeps serving and reconnects"
kill "$PID_cli"
wait_for 5 sh -c "'$M' -S '$T/a' --json status | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.stund == false'" ||
	fail "punchd should notice stund left"
"$M" -S "$T/a" peers >/dev/null || fail "punchd must keep serving"
RUNTIME_DIRECTORY=$T/a start cli2 "$T/cli2.log" "$BIN/stund" -v \
	--servers "127.0.0.1:$SP" -o stund.nat_refresh=0
wait_for 10 sh -c "'$M' -S '$T/a' --json status | jq -e '.daemons[] | select(.daemon==\"punchd\") | .status.stund == true'" ||
	fail "punchd did not reconnect to stund"
ok "stund back, punchd reconnected"
echo PASS
