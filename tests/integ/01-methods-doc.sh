#!/bin/sh
# proto/README.md must be exactly what the method table generates.
. "$(dirname "$0")/lib.sh"
need_bin methods_doc
"$TOOLS/methods_doc" >"$T/README.md" || fail "methods_doc failed"
if ! cmp -s "$T/README.md" "$TOP/proto/README.md"; then
	diff -u "$TOP/proto/README.md" "$T/README.md" | head -40
	fail "proto/README.md is stale: regenerate with $BUILD/tests/tools/methods_doc > proto/README.md"
fi
ok "proto/README.md matches proto/methods.c"
