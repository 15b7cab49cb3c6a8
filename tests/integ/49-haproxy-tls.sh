#!/bin/sh
# HAProxy terminating TLS in front of two relayd (tokens on), sending them
# PROXY v2 (deploy/haproxy/run-local.sh -t, the shipped haproxy.cfg's TLS
# bind line with a self-signed certificate made here by openssl):
#   - common/relay_client over wss:// (tests/tools/relaytest, checking the
#     certificate against the test's CA file): two clients meet through
#     haproxy and relayd, round trips and bytes go through; without a token
#     the upgrade is refused 401 through the proxy, with another relay's
#     token 403;
#   - relayd sees the real client address: a TLS client from 127.0.0.7
#     (tests/tools/wss_probe.py; relay_client cannot pick its source
#     address) is listed by relayd's session.list as 127.0.0.7, not as
#     haproxy's 127.0.0.1, and relayd's log says so too.
. "$(dirname "$0")/lib.sh"
need_bin relayd ipccall relaytest
command -v haproxy >/dev/null 2>&1 || skip "skipped: haproxy is not installed"
command -v curl >/dev/null 2>&1 || skip "skipped: curl is not installed"
command -v openssl >/dev/null 2>&1 || skip "skipped: openssl is not installed"
command -v python3 >/dev/null 2>&1 || skip "skipped: python3 missing"

echo "== a self-signed certificate for 127.0.0.1"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 1 -subj /CN=relay-test -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
    fail "openssl: $(cat "$T/openssl.log")"
cat "$T/cert.pem" "$T/key.pem" >"$T/relay.pem"

# another relay's secret: its tokens must not open these relays
printf '[relayd]\nsecret = %s\n' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" \
    >"$T/other.conf"
OTHER=$("$BIN/relayd" -f "$T/other.conf" --issue-access --ttl 1h) ||
    fail "relayd --issue-access"

HPORT=$(free_port)
cat >"$T/inner.sh" <<'INNER'
set -u
case $RELAY_URL in wss://*) ;; *) echo "not TLS: $RELAY_URL"; exit 1 ;; esac
TOK=$("$BIN/relayd" -f "$RELAYD_CONF" --issue-access --ttl 1h) || exit 1
RT="$TOOLS/relaytest"
PROBE="python3 $TOP/tests/tools/wss_probe.py --port ${RELAY_URL##*:} --ca $W/cert.pem"

echo "-- relay_client over wss://, token"
"$RT" "$RELAY_URL" --token "$TOK" --ca "$W/cert.pem" --count 20 \
    --bytes 1M --timeout 10 --json >"$W/rt.json" 2>"$W/rt.err" ||
    { echo "relaytest failed: $(cat "$W/rt.json" "$W/rt.err")"; exit 1; }
cat "$W/rt.json"
echo "-- relay_client over wss://, no token"
if "$RT" "$RELAY_URL" --ca "$W/cert.pem" --count 1 --bytes 1k \
    --timeout 3 >"$W/rt0.out" 2>&1; then
	echo "relaytest without a token got through"; exit 1
fi
cat "$W/rt0.out"
grep -q 401 "$W/rt0.out" || { echo "no 401 without a token"; exit 1; }

echo "-- TLS clients from 127.0.0.7: no token, another relay's, this one's"
$PROBE --src 127.0.0.7 --path /v1/relay/tls-none >"$W/p0.out" || exit 1
$PROBE --src 127.0.0.7 --path /v1/relay/tls-other --token "$OTHER" \
    >"$W/p1.out" || exit 1
cat "$W/p0.out" "$W/p1.out"
grep -q "^status 401" "$W/p0.out" || { echo "no token: want 401"; exit 1; }
grep -q "^status 403" "$W/p1.out" || { echo "other token: want 403"; exit 1; }
$PROBE --src 127.0.0.7 --path /v1/relay/tls-real --token "$TOK" --hold 5 \
    >"$W/p2.out" &
probe=$!
i=0
until grep -q "^frame" "$W/p2.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "no upgrade: $(cat "$W/p2.out")"; exit 1; }
	sleep 0.1
done
cat "$W/p2.out"
grep -q "^status 101" "$W/p2.out" || exit 1
seen=
for s in "$RUN_DIR"/relayd-*.sock; do
	"$TOOLS/ipccall" "$s" session.list >"$W/sl.json" || exit 1
	a=$(jq -r '.[] | select(.session == "tls-real") | .clients[].address' \
	    "$W/sl.json")
	[ -n "$a" ] && seen="$seen $a"
done
echo "relayd lists session tls-real's client as:$seen"
case $seen in " 127.0.0.7:"*) ;; *) echo "want 127.0.0.7"; exit 1 ;; esac
grep -h "tls-real" "$RUN_DIR"/relayd-*.log
grep -hq "127.0.0.7:[0-9]* joined session tls-real" "$RUN_DIR"/relayd-*.log ||
    { echo "relayd's log does not name 127.0.0.7"; exit 1; }
wait $probe
INNER
# run-local.sh has a T of its own: ours is W in there
BIN=$BIN TOP=$TOP TOOLS=$TOOLS W=$T OTHER=$OTHER timeout 60 \
    sh "$TOP/deploy/haproxy/run-local.sh" -n 2 -p "$HPORT" -b "$BUILD" \
    -t "$T/relay.pem" sh "$T/inner.sh" >"$T/run.out" 2>&1 ||
    fail "$(cat "$T/run.out")"
cat "$T/run.out"
grep -q '"rtt' "$T/run.out" || fail "relaytest reported no round trips"
ok "haproxy TLS + PROXY v2 + 2 relayd: relay_client over wss:// meets its peer, no token 401, another relay's token 403, relayd sees 127.0.0.7"
echo PASS
