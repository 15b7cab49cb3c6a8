#!/bin/sh
# The HTTP surface the field expects (issue 14 item 2), with curl as the
# client: HTTP/1.0 GET and HEAD on /health and /metrics (HAProxy's
# `option httpchk`, Nagios check_http; 505 before), CORS on /health for
# cors_origins and the OPTIONS preflight (405 before), the origins
# allowlist for upgrades (403 + Atmosphere-Relay-Refused: origin), and the
# subprotocol: atmosphere.v1 echoed when offered (browsers fail without
# the echo), a request offering only others refused with a clear 400.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

SECRET=0123456789abcdef0123456789abcdef
cat >"$T/relayd.conf" <<CONF
[relayd]
secret = $SECRET
origins = https://app.example, https://other.example:8443
cors_origins = https://status.example
CONF
relayd_up r -f "$T/relayd.conf"
H="http://127.0.0.1:$PORT"
TOK=$("$BIN/relayd" -f "$T/relayd.conf" --issue-token s1 --ttl 1h)

# --- HTTP/1.0 and HEAD ---
curl -s -0 -o "$T/h10.json" -w '%{http_code}' "$H/health" >"$T/code" ||
    fail "curl -0 /health"
[ "$(cat "$T/code")" = 200 ] || fail "HTTP/1.0 /health: $(cat "$T/code")"
jq -e '.status == "ok"' "$T/h10.json" >/dev/null || fail "body: $(cat "$T/h10.json")"
[ "$(curl -s -0 -o /dev/null -w '%{http_code}' "$H/metrics")" = 200 ] ||
    fail "HTTP/1.0 /metrics"
curl -s -0 -I "$H/health" >"$T/head" || fail "HEAD"
head -n 1 "$T/head" | grep -q "^HTTP/1.1 200" || fail "HEAD: $(cat "$T/head")"
grep -qi "^content-length: [1-9]" "$T/head" || fail "HEAD length: $(cat "$T/head")"
# a raw HTTP/1.0 check as HAProxy sends it: no Host, body comes, closed
"$WS" -w 3 -X "GET /health HTTP/1.0\r\n\r\n" "ws://127.0.0.1:$PORT/" \
    >"$T/raw10" 2>&1
head -n 1 "$T/raw10" | grep -q "^HTTP/1.1 200 " || fail "raw 1.0: $(cat "$T/raw10")"
grep -q '"status"' "$T/raw10" || fail "raw 1.0 body: $(cat "$T/raw10")"
grep -q "^eof after" "$T/raw10" || fail "raw 1.0 not closed"
# an upgrade over HTTP/1.0 is still refused: RFC 6455 needs 1.1
"$WS" -w 3 -X "GET /v1/relay/s1 HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
    "ws://127.0.0.1:$PORT/" >"$T/up10" 2>&1
head -n 1 "$T/up10" | grep -q "^HTTP/1.1 505 " || fail "1.0 upgrade: $(head -n 1 "$T/up10")"
ok "HTTP/1.0 GET and HEAD on /health and /metrics; 1.0 upgrade 505"

# --- CORS on /health ---
curl -s -i -H "Origin: https://status.example" "$H/health" >"$T/cors" || fail "cors"
grep -qi "^access-control-allow-origin: https://status.example" "$T/cors" ||
    fail "no ACAO for a listed origin: $(cat "$T/cors")"
grep -qi "^vary: origin" "$T/cors" || fail "no Vary: Origin"
curl -s -i -H "Origin: https://evil.example" "$H/health" >"$T/nocors"
grep -qi "^access-control-allow-origin" "$T/nocors" &&
    fail "ACAO for an unlisted origin: $(cat "$T/nocors")"
grep -q "evil" "$T/nocors" && fail "request bytes echoed"
curl -s -i -X OPTIONS -H "Origin: https://status.example" \
    -H "Access-Control-Request-Method: GET" "$H/health" >"$T/pre"
head -n 1 "$T/pre" | grep -q "^HTTP/1.1 204" || fail "preflight: $(cat "$T/pre")"
grep -qi "^access-control-allow-methods: GET, HEAD, OPTIONS" "$T/pre" ||
    fail "preflight methods: $(cat "$T/pre")"
grep -qi "^content-length" "$T/pre" && fail "204 with Content-Length"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "$H/metrics")" = 405 ] ||
    fail "OPTIONS /metrics"
ok "CORS: listed origin gets ACAO and Vary, others nothing; OPTIONS preflight 204"

# --- origins allowlist and subprotocol on the upgrade ---
up() {	# up OUT [curl header args]: the upgrade's answer head
	out=$1; shift
	curl -s -i -m 1 -H "Connection: Upgrade" -H "Upgrade: websocket" \
	    -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
	    -H "Sec-WebSocket-Version: 13" "$@" \
	    "$H/v1/relay/s1?token=$TOK" >"$T/$out" 2>&1
	head -n 1 "$T/$out" | tr -d '\r'
}
case $(up evil -H "Origin: https://evil.example") in
"HTTP/1.1 403 "*) ;; *) fail "evil origin: $(cat "$T/evil")" ;; esac
grep -qi "^atmosphere-relay-refused: origin" "$T/evil" ||
    fail "refusal reason: $(cat "$T/evil")"
case $(up good -H "Origin: https://OTHER.example:8443") in
"HTTP/1.1 101 "*) ;; *) fail "listed origin: $(cat "$T/good")" ;; esac
case $(up none) in
"HTTP/1.1 101 "*) ;; *) fail "no Origin (non-browser): $(cat "$T/none")" ;; esac
[ "$(metric 'relayd_auth_failures_total{reason="origin"}')" -eq 1 ] ||
    fail "origin refusal not counted"
ok "origins: unlisted page 403 origin (counted), listed page and non-browser 101"

case $(up sp -H "Sec-WebSocket-Protocol: chat, atmosphere.v1") in
"HTTP/1.1 101 "*) ;; *) fail "subprotocol offered: $(cat "$T/sp")" ;; esac
grep -qi "^sec-websocket-protocol: atmosphere.v1" "$T/sp" ||
    fail "subprotocol not echoed: $(cat "$T/sp")"
grep -qi "^sec-websocket-protocol" "$T/none" && fail "echoed unasked"
case $(up other -H "Sec-WebSocket-Protocol: chat") in
"HTTP/1.1 400 "*) ;; *) fail "other subprotocol: $(cat "$T/other")" ;; esac
grep -q "atmosphere.v1" "$T/other" || fail "400 does not say what to offer"
ok "subprotocol: atmosphere.v1 echoed, only others 400 with the reason"

# --- a real client offering the subprotocol: npm ws (as a browser would,
# it fails the connection when the server does not echo what it offered)
WSMOD="$TOP/tests/interop/node_modules/ws"
if command -v node >/dev/null 2>&1 && [ -d "$WSMOD" ]; then
	node -e '
const WebSocket = require(process.argv[1]);
const ws = new WebSocket(process.argv[2], ["atmosphere.v1"],
    { headers: { Origin: "https://app.example" } });
const t = setTimeout(() => { console.log("timeout"); process.exit(1); }, 5000);
ws.on("open", () => { console.log("open " + ws.protocol); clearTimeout(t); ws.close(); });
ws.on("error", (e) => { console.log("error " + e.message); process.exit(1); });
' "$WSMOD" "ws://127.0.0.1:$PORT/v1/relay/s1?token=$TOK" >"$T/node.out" 2>&1 ||
	    fail "npm ws offering atmosphere.v1: $(cat "$T/node.out")"
	grep -q "^open atmosphere.v1" "$T/node.out" || fail "$(cat "$T/node.out")"
	ok "npm ws offering atmosphere.v1 from a listed origin: $(cat "$T/node.out")"
else
	echo "npm ws not installed (cd tests/interop && npm ci): real-client part skipped"
fi
