#!/bin/sh
# relayd against clients that misbehave, with tests/tools/wsclient:
#   oversized message -> close 1009; reserved opcode, unmasked frame -> 1002;
#   bad UTF-8 in a text frame -> 1007; a forged relay control frame (0xF0)
#   is dropped; a client that vanishes mid-frame is announced as gone and
#   counted; bad HTTP requests get 400/404/405/426 (nothing echoed); a
#   slowloris request is cut at the handshake timeout. relayd keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

relayd_up r --open -o max_frame=4096 -o handshake_timeout=1s
U="ws://127.0.0.1:$PORT/v1/relay"

"$WS" -n 1 -s 5000 -c 1009 -w 3 "$U/big" >"$T/o.out" ||
    fail "oversized message: $(cat "$T/o.out")"
"$WS" -n 1 -s 4096 -w 1 "$U/big" >"$T/o2.out" ||
    fail "a message of exactly max_frame was refused: $(cat "$T/o2.out")"
grep -q "^close" "$T/o2.out" && fail "max_frame-sized message closed"
ok "message over max_frame closed with 1009, max_frame itself passes"

# opcode 0x3 (reserved), masked, empty
"$WS" -r 8380aabbccdd -c 1002 -w 3 "$U/op" >"$T/op.out" ||
    fail "reserved opcode: $(cat "$T/op.out")"
"$WS" -u -n 1 -c 1002 -w 3 "$U/op" >"$T/um.out" ||
    fail "unmasked frame: $(cat "$T/um.out")"
# ping with a 126-byte payload (control frames are at most 125): wslay's
# frame layer fails the connection with a close frame without a status
# code, which the client reads as 1005
"$WS" -r 89fe007e00000000 -c 1005 -w 3 "$U/op" >"$T/cp.out" ||
    fail "oversized ping: $(cat "$T/cp.out")"
# text frame "AB" then 0xFF: not UTF-8
"$WS" -r 818300000000414280 -c 1007 -w 3 "$U/op" >"$T/u8.out" ||
    fail "bad UTF-8: $(cat "$T/u8.out")"
[ "$(metric 'relayd_disconnects_total{reason="protocol"}')" -ge 4 ] ||
    fail "protocol disconnects not counted"
ok "reserved opcode, unmasked frame (1002), long ping (1005), bad UTF-8 (1007)"

# forged control frame: the peer must not see it
"$WS" -w 2 "$U/forge" >"$T/victim.out" 2>&1 &
V=$!
sleep 0.3
"$WS" -P -b 0xf0 -n 3 -s 12 -w 1 "$U/forge" >/dev/null
wait $V
grep -q "joined" "$T/victim.out" || fail "victim saw no join"
[ "$(grep -c '^joined\|^left\|^welcome' "$T/victim.out")" -eq 3 ] ||
    fail "victim saw forged control frames: $(cat "$T/victim.out")"
[ "$(metric 'relayd_drops_total{reason="forged_control"}')" -eq 3 ] ||
    fail "forged frames not counted"
ok "forged 0xF0 frames dropped and counted"

# abrupt disconnect: RST in the middle of a frame header
eof0=$(metric 'relayd_disconnects_total{reason="eof"}')
"$WS" -w 3 "$U/abrupt" >"$T/stay.out" 2>&1 &
S=$!
sleep 0.3
"$WS" -P -n 2 -A "$U/abrupt" >"$T/abort.out" 2>&1
grep -q aborted "$T/abort.out" || fail "abort client: $(cat "$T/abort.out")"
wait $S
grep -q "^left" "$T/stay.out" || fail "abrupt leave not announced"
[ "$(grep -c '^data' "$T/stay.out")" -eq 2 ] || fail "frames before the RST lost"
[ "$(metric 'relayd_disconnects_total{reason="eof"}')" -gt "$eof0" ] ||
    fail "abrupt disconnect not counted"
ok "abrupt disconnect: frames before it delivered, leave announced"

# HTTP: every bad request gets its status and closes
req() {	# req EXPECTED-STATUS RAW-REQUEST
	"$WS" -w 3 -X "$2" "ws://127.0.0.1:$PORT/" >"$T/http.out" 2>&1
	head -n 1 "$T/http.out" | grep -q "^HTTP/1.1 $1 " ||
	    fail "expected $1 for '$2', got: $(head -n 1 "$T/http.out")"
	grep -q "^eof after" "$T/http.out" || fail "not closed after $1"
}
K="Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
UP="Upgrade: websocket\r\nConnection: Upgrade\r\n"
V13="Sec-WebSocket-Version: 13\r\n"
req 404 "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
req 404 "GET /v1/relay/bad%2Fid HTTP/1.1\r\nHost: x\r\n$UP$K$V13\r\n"
req 405 "POST /v1/relay/s HTTP/1.1\r\nHost: x\r\n$UP$K$V13\r\n"
req 405 "DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n"
req 426 "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\n\r\n"
req 426 "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\n${UP}${K}Sec-WebSocket-Version: 8\r\n\r\n"
req 400 "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\n$UP$V13\r\n"
req 400 "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\n${UP}Sec-WebSocket-Key: c2hvcnQ=\r\n$V13\r\n"
req 400 "GET /v1/relay/s HTTP/1.1\r\n$UP$K$V13\r\n"
req 400 "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\nHost: y\r\n$UP$K$V13\r\n"
req 400 "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\n$UP$K$V13\r\n\x82\x80abcd"
req 400 "GET /health HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"
req 400 "GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n"
req 400 "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
req 505 "GET /health HTTP/2.0\r\nHost: x\r\n\r\n"
req 200 "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
# 10 KiB of headers
big=$(head -c 10000 /dev/zero | tr '\0' a)
req 431 "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\n\r\n"
# the reason text is ours: a header value is never echoed
"$WS" -w 3 -X "GET /v1/relay/s HTTP/1.1\r\nHost: x\r\n${UP}Sec-WebSocket-Key: <script>\r\n$V13\r\n" \
    "ws://127.0.0.1:$PORT/" >"$T/echo.out"
grep -q "script" "$T/echo.out" && fail "request text echoed in the answer"
ok "hostile HTTP requests answered 400/404/405/426/431/505 and closed"

# slowloris: half a request, then silence: cut at the 1 s handshake timeout
"$WS" -w 4 -X "GET /health HTTP/1.1\r\nHost: x\r\n" "ws://127.0.0.1:$PORT/" \
    >"$T/slow.out"
grep -q "^eof after [01]\.[0-9] s" "$T/slow.out" ||
    fail "slowloris not cut after 1 s: $(tail -n 1 "$T/slow.out")"
[ "$(metric 'relayd_disconnects_total{reason="handshake_timeout"}')" -ge 1 ] ||
    fail "handshake timeout not counted"
ok "slowloris cut at the handshake timeout"

curl -sf "http://127.0.0.1:$PORT/health" | jq -e '.status == "ok"' >/dev/null ||
    fail "relayd not healthy after all that"
kill -0 "$PID_r" || fail "relayd died"
ok "relayd still healthy"
