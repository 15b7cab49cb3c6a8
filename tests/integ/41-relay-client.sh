#!/bin/sh
# The relay client (common/relay_client.c) against real relayd instances on
# loopback, driven by tests/tools/relayprobe and relaytest (= meshctl
# relay-test):
#   1. frames both ways through a relay that requires tokens, one access
#      token for every client (echo + ping clients)
#   2. relayd killed and restarted: both clients reconnect with growing
#      backoff delays and traffic resumes; relayd frozen (SIGSTOP): ping
#      liveness and the connect timeout notice, traffic resumes on SIGCONT
#   3. first relay of the list dead: fallback to the second; when the first
#      comes up, both clients move back to it (primary retry)
#   4. wss:// with a CA made here: token in the header and in the query,
#      no token / bad token refused, wrong CA and wrong host name refused,
#      relay-test through it
#   5. scripted servers (tests/tools/fakerelay): a frame in the same segment
#      as the 101, masking checked by the server; wrong accept key, missing
#      Upgrade, unrequested extension, 401, oversized and non-HTTP answers,
#      a server that never answers
#   6. a server nobody here wrote: relay-test through a forwarding server on
#      the npm ws package (tests/interop/node_modules), when installed
. "$(dirname "$0")/lib.sh"
need_bin relayd relayprobe relaytest fakerelay
command -v openssl >/dev/null 2>&1 || skip "skipped: openssl is not installed"

PROBE="$TOOLS/relayprobe"
RTEST="$TOOLS/relaytest"

listening() {
	ss -Hlnt "sport = :$1" | grep -q .
}

# relay NAME PORT [INI LINE...]: relayd on 127.0.0.1:PORT, private socket
relay() {
	rname=$1; rport=$2; shift 2
	{
		echo "[relayd]"
		echo "listen = 127.0.0.1"
		echo "port = $rport"
		echo "socket = $T/$rname.sock"
		for l in "$@"; do echo "$l"; done
	} >"$T/$rname.conf"
	start "$rname" "$T/$rname.log" "$BIN/relayd" -f "$T/$rname.conf"
	wait_for 5 listening "$rport" || fail "relayd $rname did not listen on $rport"
}

# nrx LOG: replies the ping client has seen
nrx() {
	grep -c '^rx ' "$1" 2>/dev/null || true
}

# wait_rx LOG N SECONDS: until LOG has more than N replies
rx_above() {
	[ "$(nrx "$1")" -gt "$2" ]
}

has() {
	grep -q -- "$2" "$1" 2>/dev/null
}

# mktoken SECRET SESSION EXPIRY: proto/token.h, computed independently
mktoken() {
	mac=$(printf 'atmosphere-relay-v1\n%s\n%s' "$2" "$3" |
	    openssl dgst -sha256 -mac HMAC -macopt "key:$1" -binary |
	    base64 | tr '+/' '-_' | tr -d '=\n')
	echo "v1.$3.$mac"
}

# --- 1. frames both ways -----------------------------------------------------
# tokens required, as relayd's default: every client shows one access token
# (relayd --issue-access); open mode is not what this file tests
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/relay.key"
KEYLINE="secret_file = $T/relay.key"
printf '[relayd]\n%s\n' "$KEYLINE" >"$T/issue.conf"
AT=$("$BIN/relayd" -f "$T/issue.conf" --issue-access --ttl 1h) || fail "issue"
P1=$(free_port)
relay r1 "$P1" "$KEYLINE"
U1="ws://127.0.0.1:$P1"

start echo1 "$T/echo1.log" "$PROBE" -B 0.1 -t "$AT" -s s1 "$U1"
start ping1 "$T/ping1.log" "$PROBE" -B 0.1 -t "$AT" -m ping -n 1000000 -i 50 -s s1 "$U1"
wait_for 10 rx_above "$T/ping1.log" 5 || fail "no replies through relayd"
# whoever came first saw the other join
cat "$T/echo1.log" "$T/ping1.log" | grep -q "control joined" ||
    fail "no JOINED control frame seen"
ok "frames both ways through relayd"

"$RTEST" "$U1" --token "$AT" --count 50 --bytes 1m --json >"$T/rt1.json" 2>"$T/rt1.log" ||
    fail "relay-test over ws:// failed: $(cat "$T/rt1.json")"
[ "$(jq -r .ok "$T/rt1.json")" = true ] || fail "relay-test: not ok"
[ "$(jq -r .throughput.frames_received "$T/rt1.json")" = 1024 ] ||
    fail "relay-test: frames missing"
# 64-bit length form (RFC 6455 5.2) and frames larger than a TCP segment
"$RTEST" "$U1" --token "$AT" --count 5 --size 100k --bytes 8m >"$T/rt1b.out" 2>&1 ||
    fail "relay-test with 100 KiB frames failed: $(cat "$T/rt1b.out")"
ok "relay-test over ws://: rtt median $(jq -r .rtt_ms.median "$T/rt1.json") ms"

# --- 2. relayd killed and restarted ---------------------------------------------
kill -9 "$PID_r1"
wait_for 5 has "$T/ping1.log" "state backoff" || fail "client did not notice"
before=$(nrx "$T/ping1.log")
sleep 2		# a few attempts against the dead port
relay r1 "$P1" "$KEYLINE"
wait_for 15 rx_above "$T/ping1.log" $((before + 5)) ||
    fail "traffic did not resume after relayd came back"
[ "$(grep -c 'state connected' "$T/echo1.log")" -ge 2 ] ||
    fail "echo client did not reconnect"
# the delays of one outage grow: 0.1 0.2 0.4 ... +-25%
grep 'next attempt' "$T/ping1.log" | sed 's/.* in \([0-9.]*\)s$/\1/' |
    head -n 4 >"$T/delays"
awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad || NR < 3 }' \
    "$T/delays" || fail "backoff does not grow: $(tr '\n' ' ' <"$T/delays")"
ok "reconnected after a relayd restart (delays $(tr '\n' ' ' <"$T/delays"))"

# --- 2b. relayd frozen (SIGSTOP): pings go unanswered, the client declares
# the connection dead, its reconnects time out, and it recovers on SIGCONT
start ping1b "$T/ping1b.log" "$PROBE" -B 0.1 -t "$AT" -P 0.3 -D 1 -W 1 -m ping \
    -n 1000000 -i 50 -s s1 "$U1"
wait_for 10 rx_above "$T/ping1b.log" 3 || fail "second ping client: no replies"
kill -STOP "$PID_r1"
wait_for 10 has "$T/ping1b.log" "connection dead" ||
    { kill -CONT "$PID_r1"; fail "frozen relay not detected"; }
wait_for 10 has "$T/ping1b.log" "no answer within" ||
    { kill -CONT "$PID_r1"; fail "no connect timeout on the frozen relay"; }
kill -CONT "$PID_r1"
before=$(nrx "$T/ping1b.log")
wait_for 15 rx_above "$T/ping1b.log" $((before + 5)) ||
    fail "traffic did not resume after SIGCONT"
ok "frozen relay: dead after 1 s of silence, connect timeout, recovered"

# --- 3. fallback to the second relay, and back to the first --------------------
PD=$(free_port)
while [ "$PD" = "$P1" ]; do PD=$(free_port); done
UD="ws://127.0.0.1:$PD"
start echo2 "$T/echo2.log" "$PROBE" -B 0.1 -t "$AT" -R 1 -s s2 "$UD,first" "$U1,second"
start ping2 "$T/ping2.log" "$PROBE" -B 0.1 -t "$AT" -R 1 -m ping -n 1000000 -i 50 \
    -s s2 "$UD,first" "$U1,second"
wait_for 10 rx_above "$T/ping2.log" 3 || fail "no traffic over the fallback"
has "$T/ping2.log" "state connected $U1" || fail "not on the second relay"
ok "first relay dead: fell back to the second"

relay r3 "$PD" "$KEYLINE"
wait_for 10 has "$T/ping2.log" "state connected $UD" ||
    fail "ping client did not come back to the first relay"
wait_for 10 has "$T/echo2.log" "state connected $UD" ||
    fail "echo client did not come back to the first relay"
before=$(nrx "$T/ping2.log")
wait_for 10 rx_above "$T/ping2.log" $((before + 5)) ||
    fail "no traffic on the first relay after moving back"
ok "both clients moved back to the first relay"

# --- 4. wss:// with a test CA, tokens ---------------------------------------------
# EC keys: quick to make; every openssl message lands in openssl.log
ossl() {
	echo "+ openssl $*" >>"$T/openssl.log"
	(cd "$T" && openssl "$@") >>"$T/openssl.log" 2>&1
}
EC="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
ossl req -x509 $EC -days 2 -subj "/CN=test CA" -keyout ca.key -out ca.pem ||
    fail "openssl CA"
# shellcheck disable=SC2086
ossl req -x509 $EC -days 2 -subj "/CN=other CA" -keyout ca2.key \
    -out ca2.pem || fail "openssl CA2"
# shellcheck disable=SC2086
ossl req $EC -subj "/CN=localhost" -keyout srv.key -out srv.csr ||
    fail "openssl csr"
printf 'subjectAltName=DNS:localhost\n' >"$T/srv.ext"
ossl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 2 -extfile srv.ext -out srv.pem || fail "openssl sign"

SECRET=0123456789abcdef0123456789abcdef
P2=$(free_port)
while [ "$P2" = "$P1" ] || [ "$P2" = "$PD" ]; do P2=$(free_port); done
relay r2 "$P2" "secret = $SECRET" "tls_cert = $T/srv.pem" "tls_key = $T/srv.key"
UL="wss://localhost:$P2"
EXP=$(( $(date +%s) + 3600 ))
TOK=$(mktoken "$SECRET" s3 "$EXP")

"$PROBE" -1 -C "$T/ca.pem" -t "$TOK" -s s3 "$UL" >"$T/tls1.log" 2>&1 ||
    fail "wss:// with the right CA and token failed"
"$PROBE" -1 -q -C "$T/ca.pem" -t "$TOK" -s s3 "$UL" >"$T/tls2.log" 2>&1 ||
    fail "wss:// with the token in the query failed"
ok "wss:// verified against the test CA; token as Bearer and as ?token="

"$PROBE" -1 -C "$T/ca2.pem" -t "$TOK" -s s3 "$UL" >"$T/tls3.log" 2>&1 &&
    fail "wss:// accepted a certificate from the wrong CA"
has "$T/tls3.log" "certificate verify failed" || fail "no verify error logged"
"$PROBE" -1 -C "$T/ca.pem" -t "$TOK" -s s3 "wss://127.0.0.1:$P2" \
    >"$T/tls4.log" 2>&1 && fail "wss:// accepted a certificate for another host"
has "$T/tls4.log" "certificate verify failed" || fail "no host mismatch logged"
ok "wrong CA and wrong host name refused"

"$PROBE" -1 -C "$T/ca.pem" -s s3 "$UL" >"$T/tok1.log" 2>&1 &&
    fail "relay accepted a client without a token"
has "$T/tok1.log" "upgrade refused" || fail "no refusal logged"
"$PROBE" -1 -C "$T/ca.pem" -t "$(mktoken wrongsecret0123456789 s3 "$EXP")" \
    -s s3 "$UL" >"$T/tok2.log" 2>&1 && fail "relay accepted a bad token"
ok "missing and bad tokens refused"

TOK4=$(mktoken "$SECRET" s4 "$EXP")
"$RTEST" "$UL" --ca "$T/ca.pem" --session s4 --token "$TOK4" --count 50 \
    --bytes 1m >"$T/rt2.out" 2>"$T/rt2.log" ||
    fail "relay-test over wss:// failed: $(cat "$T/rt2.out")"
TOK5=$(mktoken "$SECRET" s5 "$EXP")
"$RTEST" "$UL" --ca "$T/ca.pem" --session s5 --token "$TOK5" --count 5 \
    --size 64k --bytes 8m >"$T/rt3.out" 2>"$T/rt3.log" ||
    fail "relay-test over wss:// with 64 KiB frames failed: $(cat "$T/rt3.out")"
ok "relay-test over wss://: $(grep 'round trip' "$T/rt2.out" | sed 's/^ *//')"
# --- 5. scripted servers ------------------------------------------------------------
# fake MODE: start fakerelay, its port in FPORT
fake() {
	start "fake_$1" "$T/fake_$1.out" "$TOOLS/fakerelay" "$1"
	wait_for 5 grep -q '^[0-9]' "$T/fake_$1.out" || fail "fakerelay $1"
	FPORT=$(head -n 1 "$T/fake_$1.out")
}

fake ok
"$PROBE" -m ping -n 3 -T 5 -s s "ws://127.0.0.1:$FPORT" >"$T/fk_ok.log" 2>&1 ||
    fail "client against a well-behaved fake server"
has "$T/fk_ok.log" "control welcome 7 1" ||
    fail "frame sent with the 101 answer was lost"
has "$T/fake_ok.out" "fakerelay:" && fail "fake server: $(cat "$T/fake_ok.out")"
ok "request well-formed, frames masked, frame glued to the 101 delivered"

for m in "badaccept:Sec-WebSocket-Accept" "noupgrade:(Upgrade)" \
    "extension:unrequested Sec-WebSocket-Extensions" \
    "status401:upgrade refused: 401" "huge:upgrade answer too long" \
    "garbage:not an HTTP/1.1 answer" "silent:no answer within"; do
	mode=${m%%:*}
	want=${m#*:}
	fake "$mode"
	"$PROBE" -1 -W 1 -s s "ws://127.0.0.1:$FPORT" >"$T/fk_$mode.log" 2>&1 &&
	    fail "client accepted the $mode server"
	has "$T/fk_$mode.log" "$want" ||
	    fail "$mode: expected '$want' in $(cat "$T/fk_$mode.log")"
done
ok "broken answers refused (accept key, Upgrade, extension, 401, size, garbage, silence)"
# --- 6. the npm ws package as the server ------------------------------------------
NODE_PATH="$TOP/tests/interop/node_modules"
export NODE_PATH
if command -v node >/dev/null 2>&1 && node -e 'require("ws")' 2>/dev/null; then
	cat >"$T/wsrelay.js" <<'EOF'
// forwards every message to the other clients of the same path
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const rooms = new Map();
wss.on('listening', () => console.log(wss.address().port));
wss.on('connection', (ws, req) => {
  const room = req.url.split('?')[0];
  if (!rooms.has(room)) rooms.set(room, new Set());
  const peers = rooms.get(room);
  peers.add(ws);
  ws.on('message', (d, bin) => {
    for (const p of peers) if (p !== ws) p.send(d, { binary: bin });
  });
  ws.on('close', () => peers.delete(ws));
});
EOF
	start wsnode "$T/wsnode.out" node "$T/wsrelay.js"
	wait_for 5 grep -q '^[0-9]' "$T/wsnode.out" || fail "node ws server"
	NPORT=$(head -n 1 "$T/wsnode.out")
	"$RTEST" "ws://127.0.0.1:$NPORT" --count 50 --size 64k --bytes 8m \
	    >"$T/rt4.out" 2>"$T/rt4.log" ||
	    fail "relay-test through the node ws server: $(cat "$T/rt4.out")"
	"$RTEST" "ws://127.0.0.1:$NPORT/mesh/abc" --count 50 --bytes 1m \
	    >"$T/rt5.out" 2>"$T/rt5.log" ||
	    fail "relay-test through node ws, /mesh/ID URL: $(cat "$T/rt5.out")"
	ok "relay-test through the npm ws package's server"
else
	echo "note: node or the ws package missing (npm install in tests/interop): section 6 not run"
fi
echo "all relay client checks passed"
