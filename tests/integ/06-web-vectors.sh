#!/bin/sh
# The JavaScript relay-only member (web/src/) against the C protocol code:
# node's tests read the vectors of $BUILD/tests/tools/vectors and talk to
# its C peer (`vectors serve`). Builds nothing; needs node and web/node_modules
# (cd web && npm ci, as scripts/deps.sh does).
. "$(dirname "$0")/lib.sh"
need_bin vectors
command -v node >/dev/null 2>&1 || skip "skipped: node is not installed (scripts/deps.sh)"
[ -d "$TOP/web/node_modules/libsodium-wrappers" ] ||
	skip "skipped: web/node_modules is missing (cd web && npm ci)"
# *.test.mjs: web/test/e2e/ (headless Chromium) is a test of its own
VECTORS="$TOOLS/vectors" node --test "$TOP"/web/test/*.test.mjs >"$T/node.log" 2>&1 ||
	fail "node --test web/test/*.test.mjs failed"
grep -E '^# (pass|fail|skipped)' "$T/node.log"
grep -q '^# fail 0' "$T/node.log" || fail "node tests failed"
grep -q '^# skipped 0' "$T/node.log" || fail "node tests were skipped"
ok "web/src matches proto/ (vectors both ways, a JS member against a C peer)"
