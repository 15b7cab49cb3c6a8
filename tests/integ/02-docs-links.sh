#!/bin/sh
# Every relative link in README.md and docs/*.md names a file that exists,
# and a #fragment pointing into a .md file names one of its headings (the
# anchor GitHub makes: lower case, punctuation dropped, spaces to hyphens,
# -1, -2 ... for repeats). Links inside ``` blocks are not links; http(s)
# and mailto links are not checked (no network in the tests).
. "$(dirname "$0")/lib.sh"

# links FILE: one "target" per line, outside fenced code blocks
links() {
	awk '
	/^[ \t]*```/ { fence = !fence; next }
	fence { next }
	{
		line = $0
		# drop inline code spans: `[x](y)` in them is not a link
		gsub(/`[^`]*`/, "", line)
		while (match(line, /\]\([^) \t]+\)/)) {
			print substr(line, RSTART + 2, RLENGTH - 3)
			line = substr(line, RSTART + RLENGTH)
		}
	}' "$1"
}

# anchors FILE: the anchor of every heading, one per line
anchors() {
	awk '
	/^[ \t]*```/ { fence = !fence; next }
	fence || !/^#+ / { next }
	{
		h = $0
		sub(/^#+ +/, "", h)
		sub(/ +#* *$/, "", h)
		h = tolower(h)
		gsub(/[^a-z0-9 _-]/, "", h)
		gsub(/ /, "-", h)
		a = h
		if (h in seen)
			a = h "-" seen[h]
		seen[h]++
		print a
	}' "$1"
}

n=0
bad=0
for f in "$TOP/README.md" "$TOP"/docs/*.md; do
	[ -f "$f" ] || continue
	dir=$(dirname "$f")
	rel=${f#"$TOP"/}
	links "$f" >"$T/links"
	while IFS= read -r target; do
		case $target in
		http://*|https://*|mailto:*) continue ;;
		esac
		n=$((n + 1))
		path=${target%%#*}
		frag=
		case $target in *'#'*) frag=${target#*#} ;; esac
		if [ -z "$path" ]; then
			file=$f
		else
			file=$dir/$path
		fi
		if [ ! -e "$file" ]; then
			echo "$rel: link to a missing file: $target"
			bad=$((bad + 1))
			continue
		fi
		[ -n "$frag" ] || continue
		case $file in *.md) ;; *) continue ;; esac
		if ! anchors "$file" | grep -qxF -- "$frag"; then
			echo "$rel: no heading for #$frag in $path"
			bad=$((bad + 1))
		fi
	done <"$T/links"
done

[ "$n" -gt 20 ] || fail "only $n relative links found: is the extraction broken?"
[ "$bad" -eq 0 ] || fail "$bad broken links of $n"
ok "$n relative links in README.md and docs/*.md all resolve"
