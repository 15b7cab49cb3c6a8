#!/bin/sh
# man/atmosphere.conf.5's key reference must be exactly what the daemons
# print from their option tables (--help-config=mdoc), so the page cannot
# drift from the keys, defaults and ranges the daemons use; --help-config
# (text) must name the same keys, and the page must lint clean.
. "$(dirname "$0")/lib.sh"
need_bin stund punchd relayd
PAGE="$TOP/man/atmosphere.conf.5"
sh "$TOP/tests/tools/config_doc.sh" "$BIN" "$PAGE" >"$T/conf.5" ||
	fail "tests/tools/config_doc.sh failed"
if ! cmp -s "$T/conf.5" "$PAGE"; then
	diff -u "$PAGE" "$T/conf.5" | head -40
	fail "man/atmosphere.conf.5 is stale: regenerate with sh tests/tools/config_doc.sh $BUILD/bin >x && mv x man/atmosphere.conf.5"
fi
ok "man/atmosphere.conf.5 matches the option tables"

n=0
for d in stund punchd relayd; do
	"$BIN/$d" --help-config >"$T/$d.keys" || fail "$d --help-config failed"
	keys=$(sed -n "s/^  \[$d\] \([a-z_0-9]*\) = .*/\1/p" "$T/$d.keys")
	[ -n "$keys" ] || fail "$d --help-config lists no key"
	for k in $keys; do
		awk -v s=".Sh [$d]" -v k=".It Ic $k Ns" '
			$0 == s { in_s = 1; next }
			/^\.Sh / { in_s = 0 }
			in_s && index($0, k) == 1 { found = 1 }
			END { exit !found }' "$PAGE" ||
			fail "[$d] $k is in --help-config but not in the page"
		n=$((n + 1))
	done
done
ok "$n keys of --help-config, each in the page's section of its daemon"

if command -v mandoc >/dev/null 2>&1; then
	w=$(mandoc -T lint -W warning "$PAGE" 2>&1) || fail "mandoc -T lint: $w"
	ok "mandoc lint clean"
fi
