#!/bin/sh
# Relay access tokens (v2, docs/relay-tokens.md) against a relayd that
# requires tokens: one access token admits two clients on session names
# nobody issued anything for, and they exchange frames; a prefix token is
# refused outside its prefix; expired, tampered, missing are refused with a
# reason in the Atmosphere-Relay-Refused header (and the body); two key ids
# are accepted at once, and the one removed is refused after SIGHUP
# (rotation). Bad keyed-secret configurations are refused with a reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

R="$BIN/relayd"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key0"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key1"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key5"
cat >"$T/relayd.conf" <<CONF
[relayd]
secret_file = $T/key0
secrets = 1:$T/key1
CONF
"$R" -f "$T/relayd.conf" -n | grep -q "configuration OK" || fail "-n"

bad() {	# bad REASON-REGEX CONFIG-LINES...: -n refuses it and says why
	want=$1; shift
	printf '[relayd]\n' >"$T/bad.conf"
	for l in "$@"; do echo "$l" >>"$T/bad.conf"; done
	"$R" -f "$T/bad.conf" -n >"$T/bad.out" 2>&1 && fail "accepted: $*"
	grep -Eq "$want" "$T/bad.out" || fail "reason for '$*': $(cat "$T/bad.out")"
}
bad "not ID:FILE" "secrets = $T/key1"
bad "key id 'x'" "secrets = x:$T/key1"
bad "key id '70000'" "secrets = 70000:$T/key1"
bad "key id 0 given twice" "secret_file = $T/key0" "secrets = 0:$T/key1"
bad "key id 2 given twice" "secrets = 2:$T/key1, 2:$T/key0"
bad "No such file" "secrets = 3:$T/nope"
printf 'short\n' >"$T/short"
bad "shorter than 16" "secrets = 3:$T/short"
"$R" -f /dev/null -o relayd.secrets="4:$T/key1" -n | grep -q "configuration OK" ||
    fail "secrets alone (no key 0) refused"
ok "keyed secrets: good config OK, bad ones refused with a reason"

tok() { "$R" -f "$T/relayd.conf" "$@"; }
ANY0=$(tok --issue-access --key-id 0) || fail "--issue-access --key-id 0"
ANY1=$(tok --issue-access --ttl 2h) || fail "--issue-access"
PFX=$(tok --issue-access --prefix tenant-a. --ttl 1h) || fail "--prefix"
SHORT=$(tok --issue-access --ttl 1s)
SESS=$(tok --issue-token s1 --key-id 1) || fail "--issue-token --key-id 1"
echo "$ANY0" | grep -Eq '^v2\.0\.[0-9]+\.a\.[A-Za-z0-9_-]{43}$' || fail "shape: $ANY0"
echo "$ANY1" | grep -Eq '^v2\.1\.[0-9]+\.a\.' || fail "default key is not the highest: $ANY1"
echo "$PFX" | grep -Eq '^v2\.1\.[0-9]+\.ptenant-a\.\.[A-Za-z0-9_-]{43}$' || fail "shape: $PFX"
exp=$(echo "$ANY0" | cut -d. -f3)
now=$(date +%s)
[ $((exp - now)) -ge $((30 * 86400 - 60)) ] && [ $((exp - now)) -le $((30 * 86400)) ] ||
    fail "default access lifetime is not 30 days: $((exp - now)) s"
"$R" -f "$T/relayd.conf" --issue-access --key-id 5 >/dev/null 2>"$T/e.out"
[ $? -eq 1 ] && grep -q "no such key" "$T/e.out" || fail "unknown --key-id: $(cat "$T/e.out")"
"$R" -f "$T/relayd.conf" --issue-access --prefix 'a/b' >/dev/null 2>"$T/e.out"
[ $? -eq 2 ] || fail "bad --prefix accepted"
"$R" -f "$T/relayd.conf" --issue-access --ttl 0 >/dev/null 2>&1 && fail "--ttl 0 accepted"
"$R" -f "$T/relayd.conf" --issue-token s1 --issue-access >/dev/null 2>&1 && fail "both kinds at once"
# a token made with a key this relay does not hold
printf '[relayd]\nsecrets = 5:%s\n' "$T/key5" >"$T/other.conf"
FOREIGN=$("$R" -f "$T/other.conf" --issue-access) || fail "foreign token"
ok "tokens issued: any (key 0, key 1 by default), prefix, 1 s, v1 with key 1"

relayd_up r -f "$T/relayd.conf"
U="ws://127.0.0.1:$PORT/v1/relay"
sess() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

pair() {	# pair TOKEN SESSION: two clients meet and swap 3 frames each
	"$WS" -q -w 5 -P -n 3 -e 3 "$U/$2?token=$1" >"$T/p1.out" 2>&1 &
	p1=$!
	"$WS" -q -w 5 -P -n 3 -e 3 -H "Authorization: Bearer $1" "$U/$2" \
	    >"$T/p2.out" 2>&1 || { cat "$T/p2.out"; return 1; }
	wait $p1 || { cat "$T/p1.out"; return 1; }
	grep -q "status 101" "$T/p1.out" && grep -q "status 101" "$T/p2.out"
}
S1=$(sess); S2=$(sess)
pair "$ANY0" "$S1" || fail "key 0 access token: two clients on $S1"
pair "$ANY1" "$S2" || fail "key 1 access token: two clients on $S2"
pair "$ANY1" "x" || fail "access token: a one-letter session"
pair "$PFX" "tenant-a.$S1" || fail "prefix token inside its prefix"
"$WS" -w 0.3 "$U/s1?token=$SESS" | grep -q "status 101" || fail "v1 token of key 1"
ok "access tokens (keys 0 and 1) admit clients on any session name, frames both ways"

refused() {	# refused STATUS REASON SESSION TOKEN: status, header and body
	if [ -n "$4" ]; then q="?token=$4"; else q=; fi
	curl -s -i --max-time 3 -H "Connection: Upgrade" -H "Upgrade: websocket" \
	    -H "Sec-WebSocket-Version: 13" \
	    -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
	    "http://127.0.0.1:$PORT/v1/relay/$3$q" | tr -d '\r' >"$T/ref.out"
	head -n 1 "$T/ref.out" | grep -q "^HTTP/1.1 $1 " &&
	    grep -q "^Atmosphere-Relay-Refused: $2\$" "$T/ref.out" ||
	    fail "expected $1 $2 for $3: $(cat "$T/ref.out")"
}
refused 401 missing "$S1" ""
grep -q "^WWW-Authenticate: Bearer" "$T/ref.out" || fail "401 without WWW-Authenticate"
refused 403 wrong_prefix "tenant-b.$S1" "$PFX"
refused 403 wrong_prefix "$S1" "$PFX"
grep -q "token wrong_prefix" "$T/ref.out" || fail "body: $(cat "$T/ref.out")"
TAMPER=$(echo "$ANY1" | sed 's/\.a\./.ptenant-a./')
refused 403 bad_mac "tenant-a.x" "$TAMPER"
refused 403 unknown_key "$S1" "$FOREIGN"
refused 403 bad_mac "s2" "$SESS"	# a v1 token for another session
refused 403 malformed "$S1" "v2.1.2.a.xyz"
sleep 2.1
refused 403 expired "$S1" "$SHORT"
grep -q "token expired" "$T/ref.out" || fail "body: $(cat "$T/ref.out")"
for rc in missing:1 wrong_prefix:2 bad_mac:2 unknown_key:1 malformed:1 expired:1; do
	[ "$(metric "relayd_auth_failures_total{reason=\"${rc%:*}\"}")" -eq "${rc#*:}" ] ||
	    fail "${rc%:*} count: $(metric "relayd_auth_failures_total{reason=\"${rc%:*}\"}")"
done
for t in "$ANY0" "$ANY1" "$PFX" "$SHORT" "$FOREIGN" "$(cat "$T/key0")" \
    "$(cat "$T/key1")"; do
	grep -qF "$t" "$T/r.log" && fail "a token or secret in the log"
done
ok "refusals: 401 missing, 403 wrong_prefix/bad_mac (v2 and v1)/unknown_key/malformed/expired, header and body, counted"

echo "== rotation: key 2 added, key 0 removed"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key2"
cat >"$T/relayd.conf" <<CONF
[relayd]
secrets = 1:$T/key1, 2:$T/key2
CONF
ANY2=$(tok --issue-access) || fail "issue with key 2"
echo "$ANY2" | grep -q '^v2\.2\.' || fail "new default key: $ANY2"
pair "$ANY0" "$(sess)" || fail "before the reload key 0 still works"
kill -HUP "$PID_r"
wait_for 5 grep -q "configuration reloaded" "$T/r.log" || fail "no reload"
refused 403 unknown_key "$(sess)" "$ANY0"
pair "$ANY1" "$(sess)" || fail "key 1 after the reload"
pair "$ANY2" "$(sess)" || fail "key 2 after the reload"
ok "keys 1 and 2 both accepted, removed key 0 refused after SIGHUP"
echo PASS
