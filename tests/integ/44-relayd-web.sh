#!/bin/sh
# relayd's static files (relayd/web.c, [relayd] web, web_root), with curl:
# GET and HEAD of a file under web_root with its type, ETag, CSP and
# nosniff; If-None-Match gives 304; other methods 405; "..", hidden files,
# symbolic links out of the root and unknown kinds 404; an Upgrade on a
# page path 404; /health and the relay unaffected. A missing web_root is a
# warning (relayd runs, 404), and SIGHUP opens it once it exists; web = no
# answers 404 with the files there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"

W="$T/www"
SECRET=0123456789abcdef0123456789abcdef
cat >"$T/relayd.conf" <<CONF
[relayd]
secret = $SECRET
web_root = $W
CONF
relayd_up r -f "$T/relayd.conf"
H="http://127.0.0.1:$PORT"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# --- no web_root yet: a warning, 404, relayd serves the rest ---
grep -q "cannot open web_root $W" "$T/r.log" || fail "no warning: $(cat "$T/r.log")"
[ "$(code "$H/")" = 404 ] || fail "/ without web_root: $(code "$H/")"
[ "$(code "$H/health")" = 200 ] || fail "/health without web_root"
ok "a missing web_root is a warning; / is 404, /health works"

# --- SIGHUP opens it ---
mkdir -p "$W/sub"
printf '<!doctype html><title>relay</title>\n' >"$W/index.html"
printf 'console.log(1)\n' >"$W/sub/app.js"
printf 'secret\n' >"$W/.hidden.html"
printf 'x\n' >"$W/notes.bak"
printf 'outside\n' >"$T/outside.html"
ln -s "$T/outside.html" "$W/link.html"
kill -HUP "$PID_r"
wait_for 5 grep -q "web: serving $W" "$T/r.log" ||
	fail "SIGHUP did not open web_root: $(cat "$T/r.log")"
curl -s -i "$H/" >"$T/index" || fail "GET /"
head -n 1 "$T/index" | grep -q "^HTTP/1.1 200 " || fail "GET /: $(cat "$T/index")"
grep -qi "^content-type: text/html; charset=utf-8" "$T/index" || fail "type"
grep -qi "^content-security-policy: default-src 'self'.*connect-src 'self' ws: wss:" \
    "$T/index" || fail "no CSP: $(cat "$T/index")"
grep -qi "^x-content-type-options: nosniff" "$T/index" || fail "no nosniff"
grep -q "<title>relay</title>" "$T/index" || fail "body: $(cat "$T/index")"
[ "$(curl -s "$H/sub/app.js")" = "console.log(1)" ] || fail "sub/app.js"
[ "$(curl -s "$H/index.html?x=1")" = "$(cat "$W/index.html")" ] || fail "?query"
ok "SIGHUP opened web_root: GET / and a file below, type, CSP, nosniff"

curl -s -I "$H/sub/app.js" >"$T/head" || fail "HEAD"
head -n 1 "$T/head" | grep -q "^HTTP/1.1 200 " || fail "HEAD: $(cat "$T/head")"
grep -qi "^content-length: 15" "$T/head" || fail "HEAD length: $(cat "$T/head")"
etag=$(sed -n 's/^[Ee][Tt]ag: //p' "$T/head" | tr -d '\r')
[ -n "$etag" ] || fail "no ETag: $(cat "$T/head")"
curl -s -i -H "If-None-Match: $etag" "$H/sub/app.js" >"$T/304"
head -n 1 "$T/304" | grep -q "^HTTP/1.1 304 " || fail "If-None-Match: $(cat "$T/304")"
grep -qi "^content-length" "$T/304" && fail "304 with a body length"
[ "$(code -H 'If-None-Match: "other"' "$H/sub/app.js")" = 200 ] ||
	fail "a different ETag gave no 200"
ok "HEAD has the length, no body; If-None-Match: 304"

curl -s -i -X POST "$H/" >"$T/post"
head -n 1 "$T/post" | grep -q "^HTTP/1.1 405 " || fail "POST /: $(head -n 1 "$T/post")"
grep -qi "^allow: GET, HEAD" "$T/post" || fail "405 without Allow"
[ "$(code -X PUT "$H/index.html")" = 405 ] || fail "PUT"
for p in /.hidden.html /link.html /notes.bak /sub/ /nothing.html \
    /%2e%2e/outside.html /sub/..%2F..%2Foutside.html; do
	c=$(code --path-as-is "$H$p")
	[ "$c" = 404 ] || fail "$p: $c, expected 404"
done
[ "$(code -H 'Upgrade: websocket' -H 'Connection: Upgrade' "$H/index.html")" = 404 ] ||
	fail "an upgrade on a page path"
curl -s "$H/link.html" | grep -q outside && fail "the symbolic link was followed"
ok "405 for other methods; hidden, links, unknown kinds, '..', upgrades: 404"

# the relay and /health are what they were
[ "$(code "$H/health")" = 200 ] || fail "/health"
TOK=$("$BIN/relayd" -f "$T/relayd.conf" --issue-token s1 --ttl 1h)
"$WS" -w 1 -q "ws://127.0.0.1:$PORT/v1/relay/s1?token=$TOK" >"$T/ws" 2>&1
grep -q "^status 101" "$T/ws" || fail "the relay upgrade: $(cat "$T/ws")"
ok "/health and the relay unaffected"

# --- web = no ---
printf 'web = no\n' >>"$T/relayd.conf"
n=$(grep -c "configuration reloaded" "$T/r.log")
kill -HUP "$PID_r"
wait_for 5 sh -c "[ \$(grep -c 'configuration reloaded' '$T/r.log') -gt $n ]" ||
	fail "no reload"
[ "$(code "$H/")" = 404 ] || fail "web = no: / is $(code "$H/")"
[ "$(code "$H/sub/app.js")" = 404 ] || fail "web = no: a file"
ok "web = no: 404 with the files there"
