#!/bin/sh
# Tokens: relayd --issue-token prints one; it works in the query string and
# in "Authorization: Bearer"; missing -> 401, tampered, expired, for another
# session, given twice -> 403; failures are counted by reason and the log
# never shows a token or the secret. Configuration: -n checks, a bad file
# is refused at start with a clear reason, SIGHUP applies a new one and
# keeps the old one when the new one is broken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

SECRET=0123456789abcdef0123456789abcdef
cat >"$T/relayd.conf" <<CONF
[relayd]
secret = $SECRET
max_session_clients = 4
CONF
R="$BIN/relayd"
"$R" -f "$T/relayd.conf" -n | grep -q "configuration OK" || fail "-n"
printf '[relayd]\nmax_frame = lots\n' >"$T/bad.conf"
"$R" -f "$T/bad.conf" -n >"$T/bad.out" 2>&1 && fail "bad config accepted"
grep -q "bad.conf:2: relayd.max_frame" "$T/bad.out" ||
    fail "bad config reason: $(cat "$T/bad.out")"
"$R" -f /dev/null -n >"$T/nosecret.out" 2>&1 && fail "started without a secret"
grep -q "no relay secret" "$T/nosecret.out" || fail "no-secret reason"
ok "-n, bad values and a missing secret refused with a reason"

tok() { "$R" -f "$T/relayd.conf" --issue-token "$@"; }
TOK=$(tok s1 --ttl 1h) || fail "--issue-token"
echo "$TOK" | grep -Eq '^v1\.[0-9]+\.[A-Za-z0-9_-]{43}$' || fail "token shape: $TOK"
SHORT=$(tok s1 --ttl 1s)
OTHER=$(tok s2)

relayd_up r -f "$T/relayd.conf"
U="ws://127.0.0.1:$PORT/v1/relay"
"$WS" -w 0.5 "$U/s1?token=$TOK" | grep -q "status 101" || fail "query token"
"$WS" -w 0.5 -H "Authorization: Bearer $TOK" "$U/s1" | grep -q "status 101" ||
    fail "bearer token"
"$WS" -w 0.5 -H "authorization: bearer $TOK" "ws://127.0.0.1:$PORT/mesh/s1?x=1" |
    grep -q "status 101" || fail "bearer token, lower case, alias route"
ok "token accepted in the query string and as a Bearer header"

refused() {	# refused STATUS URL [HEADER]
	if [ -n "${3:-}" ]; then
		"$WS" -w 1 -H "$3" "$2" >"$T/ref.out" 2>&1
	else
		"$WS" -w 1 "$2" >"$T/ref.out" 2>&1
	fi
	[ $? -eq 3 ] && grep -q "status $1" "$T/ref.out" ||
	    fail "expected $1 for $2: $(cat "$T/ref.out")"
}
refused 401 "$U/s1"
refused 403 "$U/s1?token=$OTHER"
TAMPER=$(echo "$TOK" | sed 's/\.\([0-9]*\)\./.\19./')
refused 403 "$U/s1?token=$TAMPER"
refused 403 "$U/s1?token=v1.123.abc"
refused 403 "$U/s1?token=$TOK" "Authorization: Bearer $TOK"
sleep 2.1
refused 403 "$U/s1?token=$SHORT"
[ "$(metric 'relayd_auth_failures_total{reason="missing"}')" -eq 1 ] ||
    fail "missing not counted"
[ "$(metric 'relayd_auth_failures_total{reason="bad_mac"}')" -eq 2 ] ||
    fail "bad_mac count"
[ "$(metric 'relayd_auth_failures_total{reason="malformed"}')" -eq 2 ] ||
    fail "malformed count"
[ "$(metric 'relayd_auth_failures_total{reason="expired"}')" -eq 1 ] ||
    fail "expired count"
grep -q "$SECRET" "$T/r.log" && fail "secret in the log"
for t in "$TOK" "$OTHER" "$TAMPER" "$SHORT"; do
	grep -qF "$t" "$T/r.log" && fail "token in the log"
done
grep -q "refused: token expired" "$T/r.log" || fail "refusal not logged"
ok "missing/other-session/tampered/malformed/twice/expired refused and counted"

# SIGHUP: a new limit applies; a broken file is refused, the old one kept
sed -i 's/max_session_clients = 4/max_session_clients = 1/' "$T/relayd.conf"
kill -HUP "$PID_r"
wait_for 5 grep -q "configuration reloaded" "$T/r.log" || fail "no reload"
"$WS" -w 2 "$U/s1?token=$TOK" >/dev/null 2>&1 &
W=$!
sleep 0.3
refused 503 "$U/s1?token=$TOK"
wait $W
echo "max_frame = lots" >>"$T/relayd.conf"
kill -HUP "$PID_r"
wait_for 5 grep -q "reload refused" "$T/r.log" || fail "broken reload not refused"
grep "reload refused" "$T/r.log" | grep -q "max_frame" || fail "reload reason"
"$WS" -w 0.3 "$U/s1?token=$TOK" | grep -q "status 101" ||
    fail "relayd stopped serving after a broken reload"
kill -0 "$PID_r" || fail "relayd died on a broken reload"
ok "SIGHUP applies a new configuration and keeps the old on errors"
