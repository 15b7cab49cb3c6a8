#!/bin/sh
# The browser member end to end, in headless Chromium (Debian's chromium,
# driven over its DevTools protocol by web/test/e2e/cdp.mjs):
#   mesh.e2e.mjs: relayd (tokens required) serves the page itself
#     (web_root = web/dist), two punchd are a mesh; the page is refused with
#     a wrong relay token, joins from `meshctl invite`, is relayed with an
#     e2e session in both nodes' `meshctl peers`, exchanges datagrams both
#     ways with both (meshctl listen/send), again after relayd restarts and
#     after a page reload; the used code is refused from a new identity
#   page.e2e.mjs: the join form's labels and contrast, no horizontal
#     scrolling at 390 px, the messages for wrong, mistyped, expired and
#     relay-less codes, /health shown and garbage from it survived
# Screenshots of each step: $BUILD/test-logs/07-browser/*.png.
# Skipped (77) only without chromium or node; web/dist is built if missing.
. "$(dirname "$0")/lib.sh"
need_bin relayd punchd meshctl
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] ||
	skip "skipped: no $CHROMIUM (apt-get install chromium; scripts/deps.sh)"
command -v node >/dev/null 2>&1 || skip "skipped: node is not installed (scripts/deps.sh)"
[ -d "$TOP/web/node_modules/esbuild" ] ||
	fail "web/node_modules is missing: cd web && npm ci (scripts/deps.sh)"
if [ ! -f "$TOP/web/dist/app.js" ]; then
	(cd "$TOP/web" && npm run build) >"$T/build.log" 2>&1 ||
		fail "cd web && npm run build failed"
fi
# node 20 has WebSocket behind a flag, node 22 without one
flag=--experimental-websocket
node $flag -e 1 2>/dev/null || flag=
SHOTS="$TOP/$BUILD/test-logs/07-browser"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

cd "$TOP/web" || fail "no web/"
start=$(date +%s)
# the output goes to the log as it comes (a run stopped by a timeout
# still shows how far it got)
{
	# TMPDIR: Chromium's own temporary directories (org.chromium.*) go
	# with the test's, not into /tmp for good
	TMPDIR="$T" ATM_WEB_FROM_RELAYD=1 ATM_E2E_OUT="$SHOTS" BUILD="$BUILD" \
	    CHROMIUM="$CHROMIUM" node $flag --test test/e2e/mesh.e2e.mjs test/e2e/page.e2e.mjs 2>&1
	echo $? >"$T/rc"
} | tee "$T/node.log"
rc=$(cat "$T/rc")
[ $rc -eq 0 ] || fail "the browser tests failed (node --test exit $rc)"
grep -q '^# fail 0' "$T/node.log" || fail "a browser test failed"
grep -q '^# skipped 0' "$T/node.log" || fail "a browser test was skipped"
grep -q '^# pass 2' "$T/node.log" || fail "not both browser tests passed"
for s in mesh-bad-token mesh-joined mesh-data mesh-relay-restarted \
    mesh-reloaded mesh-used-code join-form-phone; do
	[ -s "$SHOTS/$s.png" ] || fail "no screenshot $s.png"
done
echo "screenshots: $(ls "$SHOTS" | tr '\n' ' ')"
ok "a browser joined from relayd's own page, relayed and e2e with both nodes, both ways, after a relayd restart and a reload ($(( $(date +%s) - start )) s)"
