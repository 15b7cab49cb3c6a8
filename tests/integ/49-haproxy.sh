#!/bin/sh
# Issue 14 item 4: HAProxy (the Debian package) in front of three relayd
# with tokens, as shipped (deploy/haproxy/haproxy.cfg through
# deploy/haproxy/run-local.sh): 200 sessions of two clients from 50
# source addresses (127.0.0.2 ...), every pair on one relayd
# (session.list of each); relayd sees the clients' addresses through PROXY
# v2, not haproxy's; one relayd killed: only its sessions move and meet
# again, nobody else is disconnected (deploy/haproxy/failover-check.py);
# a PROXY header sent straight to a relayd from an address that is not
# the proxy is refused with 400.
. "$(dirname "$0")/lib.sh"
need_bin relayd ipccall
command -v haproxy >/dev/null 2>&1 || skip "skipped: haproxy is not installed"
command -v curl >/dev/null 2>&1 || skip "skipped: curl is not installed"
command -v python3 >/dev/null 2>&1 || skip "skipped: python3 missing"

HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/inner.sh" <<'INNER'
python3 "$TOP/deploy/haproxy/failover-check.py" -s 200 \
    --ipccall "$TOOLS/ipccall" --sources 50 || exit 1
# relayd 2 and 3 are alive; a PROXY header from 127.0.0.9 (not the proxy)
set -- $RELAYD_PORTS
r=$(python3 "$TOP/tests/tools/pp2.py" -p "$2" -b 127.0.0.9 -c 192.0.2.1:1 \
    'GET /health HTTP/1.1\r\nHost: r\r\n\r\n')
echo "spoofed PROXY header straight to relayd 2: $r"
case $r in "HTTP/1.1 400 "*) ;; *) exit 1 ;; esac
INNER
TOP=$TOP TOOLS=$TOOLS timeout 120 sh "$TOP/deploy/haproxy/run-local.sh" \
    -n 3 -p "$HPORT" -b "$BUILD" sh "$T/inner.sh" >"$T/run.out" 2>&1 ||
    fail "$(cat "$T/run.out")"
cat "$T/run.out"
grep -q "^200 sessions: 400 of 400 clients met" "$T/run.out" || fail "sessions"
grep -q "^relayd saw 50 client addresses" "$T/run.out" || fail "addresses"
grep -q "of the other [0-9]* sessions 0 moved and 0 clients were disconnected" \
    "$T/run.out" || fail "failover"
ok "haproxy + 3 relayd: 200 sessions together, real client addresses, failover moves only the killed relayd's sessions, spoofed header 400"
