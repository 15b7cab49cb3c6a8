#!/bin/sh
# Runs the whole suite: check unit tests, then every script under
# tests/integ (loopback), tests/interop (third-party peers) and tests/natlab
# (network namespaces). A script passes with exit 0, is skipped with 77 (it
# prints why), and fails otherwise. Set TESTS="pattern ..." to run a subset,
# SKIP_TESTS="pattern ..." to leave some out.
# Closes with "N passed, N failed, N skipped".
set -u
BUILD=${BUILD:-build}
export BUILD
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
cd "$TOP"

pass=0 fail=0 skip=0 failed=""
suite_start=$(date +%s)
logdir="$TOP/$BUILD/test-logs"
mkdir -p "$logdir"

want() {
	for p in ${SKIP_TESTS:-}; do
		case "$1" in *$p*) return 1 ;; esac
	done
	[ -z "${TESTS:-}" ] && return 0
	for p in $TESTS; do
		case "$1" in *$p*) return 0 ;; esac
	done
	return 1
}

if want unit; then
	echo "== unit tests"
	if "$BUILD/tests/unit_tests"; then
		echo "== unit tests ok"
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); failed="$failed unit"
	fi
fi

for t in tests/integ/[0-9]*.sh tests/interop/[0-9a-z]*.sh tests/natlab/[0-9]*.sh; do
	[ -f "$t" ] || continue
	want "$t" || continue
	name=$(echo "$t" | sed 's,^tests/,,; s,\.sh$,,; s,/,-,g')
	log="$logdir/$name.log"
	start=$(date +%s)
	printf '== %-40s ' "$t"
	timeout 600 sh "$t" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)	echo "ok (${secs}s)"; pass=$((pass + 1)) ;;
	77)	echo "skipped: $(tail -n 1 "$log")"; skip=$((skip + 1)) ;;
	*)	echo "FAILED (exit $rc, ${secs}s), log: $log"
		tail -n 40 "$log" | sed 's/^/    | /'
		fail=$((fail + 1)); failed="$failed $t" ;;
	esac
done

# CI shows the end of the output only: the failures' last lines go here too
for t in $failed; do
	[ "$t" = unit ] && continue
	name=$(echo "$t" | sed 's,^tests/,,; s,\.sh$,,; s,/,-,g')
	echo "-- $t, its failed checks and last lines ($logdir/$name.log):"
	grep -E '^(FAIL|not ok|ERROR)' "$logdir/$name.log" | head -n 8 | cut -c1-300 | sed 's/^/    ! /'
	tail -n 12 "$logdir/$name.log" | cut -c1-200 | sed 's/^/    | /'
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped in $(( $(date +%s) - suite_start )) s"
[ "$fail" -eq 0 ]
