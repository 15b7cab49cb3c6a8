# Sourced by the loopback integration tests. POSIX sh.
# Every test gets a private directory for sockets and state, and every
# process it starts is killed in the EXIT trap, also on failure.

: "${BUILD:=build}"
: "${TOP:=$(pwd)}"
BIN="$TOP/$BUILD/bin"
TOOLS="$TOP/$BUILD/tests/tools"
T=$(mktemp -d /tmp/atm-test.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	sleep 0.1
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "${KEEP:-}" ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*"
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f"
		tail -n 30 "$f"
	done
	exit 1
}

ok() {
	echo "ok: $*"
}

skip() {
	echo "$*"
	exit 77
}

need_bin() {
	for b in "$@"; do
		[ -x "$BIN/$b" ] || [ -x "$TOOLS/$b" ] || skip "skipped: $b is not built"
	done
}

# free_port: a UDP+TCP port no socket uses now (best effort). Below the
# kernel's ephemeral range (32768-60999 by default), so an outgoing
# connection cannot take it between this check and the bind (seen once:
# relayd's port was a client's ephemeral port).
free_port() {
	p=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 22000 ))
	while ss -Hanu "sport = :$p" 2>/dev/null | grep -q . ||
	    ss -Hant "sport = :$p" 2>/dev/null | grep -q .; do
		p=$((p + 1))
	done
	echo "$p"
}

# free_port_pair: a free port P whose P+1 is free for UDP too (a STUN
# server's RFC 5780 alternate port)
free_port_pair() {
	p=$(free_port)
	while ss -Hanu "sport = :$((p + 1))" 2>/dev/null | grep -q .; do
		p=$(free_port)
	done
	echo "$p"
}

# udp_bound PORT IP: a UDP socket listens on IP:PORT (for wait_for)
udp_bound() { ss -Hlnu "sport = :$1" | grep -q "$2:$1"; }

# start NAME LOG CMD...: run in the background, remember the pid.
# punchd's port mapping would ask this host's real gateway (SSDP, PCP):
# these tests keep to loopback, so it is off unless a test asks for it.
start() {
	name=$1; log=$2; shift 2
	case " $* " in
	*/punchd\ *) case " $* " in *punchd.portmap=*) ;;
		*) set -- "$@" -o punchd.portmap=no ;; esac ;;
	esac
	"$@" >"$log" 2>&1 &
	PIDS="$PIDS $!"
	eval "PID_$name=$!"
}

# wait_sock PATH [SECONDS]
wait_sock() {
	i=0
	while [ ! -S "$1" ]; do
		i=$((i + 1))
		[ $i -gt $(( ${2:-5} * 20 )) ] && fail "socket $1 did not appear"
		sleep 0.05
	done
}

# wait_for SECONDS CMD...: retry until CMD succeeds
wait_for() {
	secs=$1; shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt $((secs * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# jq is in scripts/deps.sh; the tests read meshctl --json with it
command -v jq >/dev/null 2>&1 || skip "skipped: jq is not installed (scripts/deps.sh)"

# relay_keys: a relay that requires tokens (relayd's default) with its
# secret in $T/relayd.conf (start relayd with -f "$T/relayd.conf"), and an
# access token for the nodes in $RELAY_TOKEN (punchd.relay_token). Tests
# that use a relay run it so unless they test open mode itself.
relay_keys() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/relay.key"
	printf '[relayd]\nsecret_file = %s\n' "$T/relay.key" >"$T/relayd.conf"
	RELAY_TOKEN=$("$BIN/relayd" -f "$T/relayd.conf" --issue-access \
	    --ttl 1d) || fail "relayd --issue-access"
}
