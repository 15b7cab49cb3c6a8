#!/bin/sh
# Start haproxy (deploy/haproxy/haproxy.cfg) in front of N local relayd, for
# a test or a demo (docs/relay-scaling.md). Everything on 127.0.0.1, in a
# temporary directory, stopped and removed on exit.
#
#   deploy/haproxy/run-local.sh [-n N] [-p PORT] [-b BUILD] [-t PEM]
#                               [command ...]
#
#   -n N      relayd processes (default 3)
#   -p PORT   haproxy's port (default 8080)
#   -b BUILD  where relayd is built (default build)
#   -t PEM    haproxy terminates TLS on PORT with this certificate and key
#             (one PEM file, as haproxy's crt wants it): wss:// clients
#
# With a command, runs it once everything answers and exits with its
# status; without, waits for Ctrl-C. The command sees:
#   RELAY_URL      ws://127.0.0.1:PORT, wss:// with -t (append
#                  /v1/relay/SESSION?token=...)
#   RELAYD_CONF    the relayd config (relayd -f "$RELAYD_CONF" --issue-token S)
#   RELAYD_PORTS   the relayds' ports, in server order (relay1 relay2 ...)
#   RELAYD_PIDS    their pids, same order (kill one to see its sessions move)
#   HAPROXY_SOCK   haproxy's stats socket ("show stat", "show servers state")
#   RUN_DIR        the temporary directory (logs: relayd-K.log, haproxy.log)
#
# The relayds run with a relay secret (tokens required). When relayd knows
# the proxy_protocol_from key (PROXY v2 from these addresses), it is set to
# 127.0.0.1 and haproxy sends PROXY v2; a relayd without it gets plain
# connections (send-proxy-v2 taken out) and the script says so.
set -u
N=3 PORT=8080 BUILD=${BUILD:-build} PEM=
while getopts n:p:b:t: o; do
	case $o in
	n) N=$OPTARG ;;
	p) PORT=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	t) PEM=$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG") ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
RELAYD=$TOP/$BUILD/bin/relayd
[ -x "$RELAYD" ] || { echo "run-local: $RELAYD is not built (make)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "run-local: haproxy is not installed" >&2; exit 1; }
command -v curl >/dev/null || { echo "run-local: curl is not installed" >&2; exit 1; }

T=$(mktemp -d /tmp/relay-haproxy.XXXXXX)
PIDS=
cleanup() {
	# a test may have killed a relayd already: only what is still ours
	for p in $PIDS; do
		grep -qs "$T" "/proc/$p/cmdline" && kill "$p" 2>/dev/null
	done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '[relayd]\nsecret = %s\n' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" \
    >"$T/relayd.conf"
PROXYOPT=
if "$RELAYD" --help-config 2>&1 | grep -q proxy_protocol_from; then
	PROXYOPT="-o proxy_protocol_from=127.0.0.1"
else
	echo "run-local: this relayd does not read PROXY v2 (no proxy_protocol_from" \
	    "key): haproxy connects without send-proxy-v2" >&2
fi

# relayd K on a port the kernel picks, read back from its log
PORTS= RPIDS=
k=1
while [ $k -le "$N" ]; do
	# shellcheck disable=SC2086
	# every local client comes from 127.0.0.1 (PROXY v2 or not): one
	# address group, whose default limit (256 connections) a test passes
	"$RELAYD" -f "$T/relayd.conf" -l 127.0.0.1 -p 0 -s "$T/relayd-$k.sock" \
	    -o max_clients_per_ip=100000 $PROXYOPT >"$T/relayd-$k.log" 2>&1 &
	PIDS="$PIDS $!" RPIDS="$RPIDS $!"
	i=0 p=
	while [ -z "$p" ]; do
		p=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' \
		    "$T/relayd-$k.log" | head -n 1)
		[ -n "$p" ] && break
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "run-local: relayd $k did not start:" \
		    "$(cat "$T/relayd-$k.log")" >&2; exit 1; }
		sleep 0.05
	done
	PORTS="$PORTS $p"
	k=$((k + 1))
done

# haproxy.cfg without the service's lines, on PORT, with these servers
# maxconn to what this shell may open (two descriptors per client)
MAXCONN=$(( ($(ulimit -n) - 64) / 2 ))
awk -v port="$PORT" -v ports="$PORTS" -v sock="$T/haproxy.sock" \
    -v proxy="$PROXYOPT" -v maxconn="$MAXCONN" -v pem="$PEM" '
/# system$/ { next }
/^# optional/ { exit }
/^global/ {
	print
	print "\tstats socket " sock " mode 600 level admin"
	print "\tlog stderr format raw local0 info"
	next
}
/^\tmaxconn / { print "\tmaxconn " maxconn; next }
/^\tbind :8080/ {
	# TLS as in the commented bind line, with the given certificate
	if (pem != "") print "\tbind 127.0.0.1:" port " ssl crt " pem " alpn http/1.1"
	else print "\tbind 127.0.0.1:" port
	next
}
/^\tserver relay|^\t# on other hosts/ { next }
/^\tdefault-server/ {
	if (proxy == "") sub(/ send-proxy-v2/, "")
	print
	n = split(ports, p, " ")
	for (i = 1; i <= n; i++)
		print "\tserver relay" i " 127.0.0.1:" p[i]
	next
}
{ print }' "$HERE/haproxy.cfg" >"$T/haproxy.cfg"
haproxy -c -q -f "$T/haproxy.cfg" || { echo "run-local: bad generated config" >&2; exit 1; }
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
PIDS="$PIDS $!"

SCHEME=http WS=ws
[ -n "$PEM" ] && SCHEME=https WS=wss
i=0
until [ "$(curl -sk -o /dev/null -w '%{http_code}' \
    "$SCHEME://127.0.0.1:$PORT/health" 2>/dev/null)" = 200 ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "run-local: no /health through haproxy:" \
	    "$(cat "$T/haproxy.log")" >&2; exit 1; }
	sleep 0.1
done

RELAY_URL=$WS://127.0.0.1:$PORT
RELAYD_CONF=$T/relayd.conf
RELAYD_PORTS=${PORTS# }
RELAYD_PIDS=${RPIDS# }
HAPROXY_SOCK=$T/haproxy.sock
RUN_DIR=$T
export RELAY_URL RELAYD_CONF RELAYD_PORTS RELAYD_PIDS HAPROXY_SOCK RUN_DIR
if [ $# -gt 0 ]; then
	"$@"
	exit $?
fi
echo "haproxy on $RELAY_URL, relayd on ports $RELAYD_PORTS (pids $RELAYD_PIDS)"
echo "a token: $("$RELAYD" -f "$RELAYD_CONF" --issue-token demo --ttl 1h)"
echo "  (for $RELAY_URL/v1/relay/demo?token=...); Ctrl-C stops"
while :; do sleep 3600; done
