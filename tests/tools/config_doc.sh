#!/bin/sh
# config_doc.sh BINDIR [PAGE]: print PAGE (default man/atmosphere.conf.5)
# with the part between its ".\" begin generated keys" and ".\" end
# generated keys" lines replaced by the key reference the daemons print from
# their option tables (DAEMON --help-config=mdoc). Regenerate the page with
#   sh tests/tools/config_doc.sh build/bin >x && mv x man/atmosphere.conf.5
# tests/integ/01-config-doc.sh fails when the page is out of step.
set -eu
bin=$1
page=${2:-man/atmosphere.conf.5}
gen=$(mktemp)
trap 'rm -f "$gen"' EXIT
for d in stund punchd relayd; do
	"$bin/$d" --help-config=mdoc
done >"$gen"
awk -v gen="$gen" '
	/^\.\\" begin generated keys$/ {
		print
		while ((getline l < gen) > 0)
			print l
		begin++
		skip = 1
		next
	}
	/^\.\\" end generated keys$/ { end++; skip = 0 }
	!skip { print }
	END {
		if (begin != 1 || end != 1) {
			print "config_doc.sh: " FILENAME ": want one begin and one " \
			    "end line, found " begin + 0 " and " end + 0 >"/dev/stderr"
			exit 1
		}
	}' "$page"
