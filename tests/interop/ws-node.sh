#!/bin/sh
# Interop: the npm `ws` package (a WebSocket client nobody here wrote),
# driven by node, exchanges frames with a second `ws` client through a real
# relayd, over ws:// with a token in the query string and over wss:// with
# a self-signed certificate; then a `ws` client and our wsclient meet.
. "$(dirname "$0")/../integ/lib.sh"
. "$(dirname "$0")/../integ/relayd.inc"
command -v node >/dev/null 2>&1 || skip "skipped: node is not installed"
IOP="$TOP/tests/interop"
if [ ! -d "$IOP/node_modules/ws" ]; then
	command -v npm >/dev/null 2>&1 || skip "skipped: npm is not installed"
	(cd "$IOP" && npm ci --no-audit --no-fund) >"$T/npm.log" 2>&1 ||
	    skip "skipped: npm ci failed (offline?): $(tail -n 1 "$T/npm.log")"
fi

SECRET=interop-secret-0123456789abcdef
printf '[relayd]\nsecret = %s\n' "$SECRET" >"$T/relayd.conf"
TOK=$("$BIN/relayd" -f "$T/relayd.conf" --issue-token nodes --ttl 10m)

relayd_up r -f "$T/relayd.conf"
node "$IOP/ws-node.js" "ws://127.0.0.1:$PORT/v1/relay/nodes?token=$TOK" 300 \
    >"$T/node.out" 2>&1 || fail "ws clients over ws://: $(cat "$T/node.out")"
grep -q "^ok: 300 frames each way" "$T/node.out" || fail "$(cat "$T/node.out")"
ok "npm ws <-> npm ws through relayd (ws://, token): $(cat "$T/node.out")"

# npm ws on one side, our wsclient on the other: frames both ways
node "$IOP/ws-echo.js" "ws://127.0.0.1:$PORT/v1/relay/nodes?token=$TOK" \
    >"$T/echo.out" 2>&1 &
E=$!
"$WS" -q -P -n 50 -s 1200 -e 50 -w 10 \
    "ws://127.0.0.1:$PORT/v1/relay/nodes?token=$TOK" >"$T/wsc.out" 2>&1 ||
    fail "wsclient <-> npm ws echo: $(cat "$T/wsc.out") / $(cat "$T/echo.out")"
kill $E 2>/dev/null
grep -q "summary data=50 bytes=60000 corrupt=0" "$T/wsc.out" ||
    fail "echo: $(tail -n 1 "$T/wsc.out")"
ok "wsclient <-> npm ws echo: 50 frames back intact"

command -v openssl >/dev/null 2>&1 || { echo "openssl missing: no wss part"; exit 0; }
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || fail "openssl"
relayd_up t --open --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
    -o sendq_max=16777216
node "$IOP/ws-node.js" "wss://127.0.0.1:$PORT/mesh/nodes" 300 \
    >"$T/node-tls.out" 2>&1 || fail "ws clients over wss://: $(cat "$T/node-tls.out")"
ok "npm ws <-> npm ws through relayd (wss://, /mesh alias): $(cat "$T/node-tls.out")"
