#!/bin/sh
# The README's first command: install what is needed, build, and start the
# daemons on their embedded defaults in ./run (no /etc file, no root needed
# for the daemons themselves), then show `meshctl status`.
#
#   sh scripts/demo.sh          install (apt, needs root or sudo), build, start
#   sh scripts/demo.sh --no-deps   skip the apt step
#   sh scripts/demo.sh stop     stop what it started
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
RUN="$TOP/run"
BIN="$TOP/build/bin"

stop() {
	for d in punchd relayd stund; do
		if [ -f "$RUN/$d.pid" ]; then
			kill "$(cat "$RUN/$d.pid")" 2>/dev/null || true
			rm -f "$RUN/$d.pid"
		fi
	done
}

case "${1:-}" in
stop)	stop; echo "stopped"; exit 0 ;;
--no-deps) ;;
*)	sh scripts/deps.sh ;;
esac

make -j2
stop
mkdir -p "$RUN/state"
chmod 0750 "$RUN"
export RUNTIME_DIRECTORY="$RUN" STATE_DIRECTORY="$RUN/state"
# an absent file: the embedded defaults apply
export ATMOSPHERE_CONFIG="$RUN/atmosphere.conf"

started=""
missing=""
for d in stund punchd relayd; do
	if [ ! -x "$BIN/$d" ]; then
		missing="$missing $d"
		continue
	fi
	case $d in
	# a local demo relay: loopback only, tokenless
	relayd)	set -- --listen 127.0.0.1 --open ;;
	*)	set -- ;;
	esac
	"$BIN/$d" "$@" >"$RUN/$d.log" 2>&1 &
	echo $! >"$RUN/$d.pid"
	started="$started $d"
done
# wait until each started daemon's IPC socket answers
for d in $started; do
	i=0
	while [ ! -S "$RUN/$d.sock" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
done

echo "started:$started (logs and sockets in $RUN)"
[ -n "$missing" ] && echo "not built yet:$missing"
echo
"$BIN/meshctl" -S "$RUN" status || true
echo
echo "Try: $BIN/meshctl -S $RUN network     Stop: sh scripts/demo.sh stop"
