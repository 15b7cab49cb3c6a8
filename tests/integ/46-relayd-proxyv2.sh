#!/bin/sh
# PROXY protocol v2 from configured proxies (proxy_protocol_from), with
# tests/tools/pp2.py as the load balancer: the header's client address is
# what session.list and max_clients_per_ip see; the header may come in
# pieces and with the request in the same segment; a LOCAL header (a
# health check) keeps the proxy's address; a proxy's connection without a
# valid header is closed and counted; a client not in the list that sends
# a header gets 400 (it cannot choose its address).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"
have_python || skip "skipped: python3 missing"
PP2="python3 $TOP/tests/tools/pp2.py"

SECRET=0123456789abcdef0123456789abcdef
cat >"$T/relayd.conf" <<CONF
[relayd]
secret = $SECRET
proxy_protocol_from = 127.0.0.5, 10.9.0.0/16
max_clients_per_ip = 2
CONF
relayd_up r -f "$T/relayd.conf"
TOK=$("$BIN/relayd" -f "$T/relayd.conf" --issue-access --ttl 1h)
K="Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
UPG() { printf "%s" "GET /v1/relay/$1?token=$TOK HTTP/1.1\r\nHost: r\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${K}Sec-WebSocket-Version: 13\r\n\r\n"; }

# two upgrades through the "proxy" for client 203.0.113.7 (IPv4) and one
# for 2001:db8::7 (IPv6); the second one in pieces
$PP2 -p "$PORT" -b 127.0.0.5 -c 203.0.113.7:4444 -H 8 "$(UPG pa)" >"$T/a.out" &
A=$!
$PP2 -p "$PORT" -b 127.0.0.5 -c 203.0.113.7:4445 -S -H 8 "$(UPG pa)" >"$T/b.out" &
B=$!
$PP2 -p "$PORT" -b 127.0.0.5 -c '[2001:db8::7]:5555' -H 8 "$(UPG pb)" >"$T/c.out" &
C=$!
i=0
until [ -s "$T/a.out" ] && [ -s "$T/b.out" ] && [ -s "$T/c.out" ]; do
	i=$((i + 1))
	[ $i -gt 60 ] && break
	sleep 0.1
done
for f in a b c; do
	grep -q "^HTTP/1.1 101 " "$T/$f.out" || fail "proxied upgrade $f: $(cat "$T/$f.out")"
done
ipc "$T/r.sock" session.list >"$T/list.out"
grep -q "203.0.113.7:4444" "$T/list.out" || fail "session.list: $(cat "$T/list.out")"
grep -q "203.0.113.7:4445" "$T/list.out" || fail "session.list: $(cat "$T/list.out")"
grep -q "\[2001:db8::7\]:5555" "$T/list.out" || fail "session.list v6: $(cat "$T/list.out")"
grep -q "127.0.0.5" "$T/list.out" && fail "proxy address in session.list"
grep -q "client [0-9]* 203.0.113.7:4444 joined session pa" "$T/r.log" ||
    fail "log does not name the client"
ok "proxied clients (v4, v6, header in pieces) seen as themselves in session.list and logs"

# max_clients_per_ip = 2 counts 203.0.113.7, not the proxy: a third
# connection for it is refused, one for another client passes
r0=$(metric relayd_refused_address_total)
$PP2 -p "$PORT" -b 127.0.0.5 -c 203.0.113.7:4446 "GET /health HTTP/1.0\r\n\r\n" >"$T/d.out"
[ "$(cat "$T/d.out")" = eof ] || fail "third connection of 203.0.113.7: $(cat "$T/d.out")"
[ "$(metric relayd_refused_address_total)" -gt "$r0" ] || fail "not counted"
$PP2 -p "$PORT" -b 127.0.0.5 -c 198.51.100.9:1 "GET /health HTTP/1.0\r\n\r\n" >"$T/e.out"
grep -q "^HTTP/1.1 200 " "$T/e.out" || fail "other client: $(cat "$T/e.out")"
ok "max_clients_per_ip applies to the client behind the proxy"
kill $A $B $C 2>/dev/null

# a LOCAL header (HAProxy's health check), then HTTP
$PP2 -p "$PORT" -b 127.0.0.5 -L "GET /health HTTP/1.0\r\n\r\n" >"$T/l.out"
grep -q "^HTTP/1.1 200 " "$T/l.out" || fail "LOCAL check: $(cat "$T/l.out")"
ok "LOCAL header: health check answered"

# the proxy without a header, with v1 text, with a bad signature: closed
p0=$(metric 'relayd_disconnects_total{reason="proxy"}')
$PP2 -p "$PORT" -b 127.0.0.5 -N "GET /health HTTP/1.1\r\nHost: r\r\n\r\n" >"$T/n.out"
[ "$(cat "$T/n.out")" = eof ] || fail "proxy without header answered: $(cat "$T/n.out")"
$PP2 -p "$PORT" -b 127.0.0.5 -N "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET /health HTTP/1.1\r\n\r\n" >"$T/v1.out"
[ "$(cat "$T/v1.out")" = eof ] || fail "v1 header answered: $(cat "$T/v1.out")"
[ "$(metric 'relayd_disconnects_total{reason="proxy"}')" -eq $((p0 + 2)) ] ||
    fail "bad headers not counted"
grep -q "proxy 127.0.0.5:[0-9]*: bad PROXY v2 header" "$T/r.log" ||
    fail "bad header not logged"
ok "a proxy's connection without a valid header is closed, counted, logged"

# a client not in the list spoofing a header: 400, its own address stays
$PP2 -p "$PORT" -b 127.0.0.6 -c 192.0.2.1:1 "GET /health HTTP/1.1\r\nHost: r\r\n\r\n" >"$T/s.out"
grep -q "^HTTP/1.1 400 " "$T/s.out" || fail "spoofed header: $(cat "$T/s.out")"
[ "$(metric relayd_proxy_headers_total)" -eq 6 ] ||
    fail "headers taken: $(metric relayd_proxy_headers_total)"
ok "spoofed PROXY header from a non-proxy address: 400"
