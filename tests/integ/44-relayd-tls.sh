#!/bin/sh
# wss:// served by relayd itself with a self-signed certificate made here:
# two clients swap frames over TLS, /health answers over https, a plain
# ws:// client on the TLS port is refused, and -n catches a key that does
# not match the certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"
command -v openssl >/dev/null 2>&1 || skip "skipped: openssl is not installed"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
    fail "openssl req"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other" \
    -keyout "$T/key2.pem" -out "$T/cert2.pem" >>"$T/openssl.log" 2>&1

"$BIN/relayd" -f /dev/null --open --tls-cert "$T/cert.pem" \
    --tls-key "$T/key2.pem" -n >"$T/mismatch.out" 2>&1 &&
    fail "mismatched key accepted"
grep -q "TLS" "$T/mismatch.out" || fail "mismatch reason: $(cat "$T/mismatch.out")"
ok "mismatched certificate and key refused"

# 7 MB arrive in one burst while the receiver is busy sending: a queue
# big enough for all of it, so nothing is dropped (42 tests the cap)
relayd_up r --open --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
    -o sendq_max=16777216
U="wss://127.0.0.1:$PORT/v1/relay"
"$WS" -q -P -n 100 -s 5000 -e 100 -w 10 "$U/t1" >"$T/a.out" 2>&1 &
A=$!
"$WS" -q -P -n 100 -s 70000 -e 100 -w 10 "$U/t1" >"$T/b.out" 2>&1 ||
    fail "TLS client B: $(cat "$T/b.out")"
wait $A || fail "TLS client A: $(cat "$T/a.out")"
grep -q "^tls TLSv1.3" "$T/a.out" || fail "not TLS 1.3: $(head -n 2 "$T/a.out")"
grep -q "summary data=100 bytes=7000000 corrupt=0" "$T/a.out" ||
    fail "A over TLS: $(tail -n 1 "$T/a.out")"
grep -q "summary data=100 bytes=500000 corrupt=0" "$T/b.out" ||
    fail "B over TLS: $(tail -n 1 "$T/b.out")"
ok "wss:// frames both ways (5000 and 70000 bytes)"

curl -s --cacert "$T/cert.pem" "https://127.0.0.1:$PORT/health" |
    jq -e '.tls == true and .status == "ok"' >/dev/null || fail "https /health"
"$WS" -w 2 "ws://127.0.0.1:$PORT/v1/relay/t1" >"$T/plain.out" 2>&1 &&
    fail "plain ws:// accepted on the TLS port"
curl -s --cacert "$T/cert.pem" "https://127.0.0.1:$PORT/metrics" |
    grep -q '^relayd_disconnects_total{reason="tls"} [1-9]' ||
    fail "failed TLS handshake not counted"
ok "https /health, plain client on the TLS port refused and counted"
