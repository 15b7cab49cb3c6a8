#!/bin/sh
# Run libFuzzer harnesses for a bounded time each and summarise.
#   sh fuzz/run.sh BUILD SECONDS [name ...]     (names: fuzz/fuzz_NAME.c)
# FUZZ_RUNS=N stops a harness after N executions (SECONDS still bounds it).
# FUZZ_WORKDIR=dir puts the working corpora, artifacts and logs there
# instead of BUILD/fuzz (the integration test uses its temporary directory).
# Each harness starts from fuzz/corpus/NAME (read only) and keeps what it
# finds in BUILD/fuzz/corpus/NAME; a crash, leak or sanitizer report is
# saved in BUILD/fuzz/artifacts/ and makes the run fail (libFuzzer stops at
# the first one, so each harness reports at most one). Prints one line
# per harness: name, executions, seconds, executions per second, result.
set -u
BUILD=${1:?usage: run.sh BUILD SECONDS [name ...]}
SECS=${2:?usage: run.sh BUILD SECONDS [name ...]}
shift 2
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
[ $# -gt 0 ] || set -- $(ls fuzz/fuzz_*.c | sed 's,fuzz/fuzz_,,; s,\.c$,,')

# input size cap per parser: what the real reader accepts, or a bit more
maxlen() {
	case $1 in
	stun|stun_server)	echo 1500 ;;	# one datagram on a 1500 MTU
	packet)			echo 2048 ;;
	ipc|ipc_server)		echo 4096 ;;	# requests are a few hundred bytes
	http)			echo 8193 ;;	# HTTP_MAX_REQUEST + mode byte
	ws)			echo 8192 ;;
	invite)			echo 4112 ;;	# INVITE_URI_MAX + slack
	config)			echo 4096 ;;
	e2e)			echo 2048 ;;	# scripts: 1024 steps
	proxyv2)		echo 2100 ;;	# PROXYV2_MAX_LEN + slack
	*)			echo 4096 ;;
	esac
}

WORK=${FUZZ_WORKDIR:-$BUILD/fuzz}
mkdir -p "$WORK/artifacts" "$WORK/logs"
rc=0
printf '%-12s %12s %6s %9s  %s\n' harness execs secs exec/s result
for n in "$@"; do
	bin="$BUILD/fuzz/fuzz_$n"
	[ -x "$bin" ] || { echo "$n: $bin is not built"; rc=1; continue; }
	work="$WORK/corpus/$n"
	mkdir -p "$work"
	log="$WORK/logs/$n.log"
	dict= runs=
	[ -n "${FUZZ_RUNS:-}" ] && runs="-runs=$FUZZ_RUNS"
	[ -f "fuzz/$n.dict" ] && dict="-dict=fuzz/$n.dict"
	start=$(date +%s)
	"$bin" -max_total_time="$SECS" -max_len="$(maxlen "$n")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$WORK/artifacts/$n-" $dict $runs \
	    "$work" "fuzz/corpus/$n" >"$log" 2>&1
	r=$?
	secs=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ $r -eq 0 ]; then
		res=ok
	else
		res="FAILED (exit $r, log $log)"
		rc=1
	fi
	printf '%-12s %12s %6s %9s  %s\n' "$n" "${execs:-?}" "$secs" \
	    "${rate:-?}" "$res"
	if [ $r -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" |
		    head -n 5 | sed 's/^/    /'
	fi
done
exit $rc
