#!/bin/sh
# Limits per address group: max_bytes_per_ip holds a group that sends as
# fast as it can near its rate (relayd stops reading it: TCP back-pressure,
# nothing dropped), counted in /metrics and /health, while a client from
# another address has a bucket of its own and is not slowed by the first
# one's. IPv6 addresses count per /64 (ipv6_prefix) for connections and
# bytes, and a SIGHUP that changes the prefix regroups the clients; that
# part runs in a private network namespace whose lo has addresses in four
# /64s (removed on exit).
#
# The rates are measured at receivers in the same sessions, after the
# burst is spent, over a few seconds; the bounds are loose (a group below
# 2x the limit and above half of it; two groups above 1.5x together, one
# shared group below), as the machine is shared.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/relayd.inc"
command -v python3 >/dev/null 2>&1 || skip "skipped: python3 is not installed"

LIMIT=1000000

# wsload.py flood HOST PORT RECV_SRC WARM SECS SRC:SESSION...
#   per SRC:SESSION a receiver (from RECV_SRC) and a sender (from SRC) join
#   SESSION; the sender writes 16 KiB binary frames as fast as TCP takes
#   them; after WARM s the receivers' byte counts are sampled, again SECS s
#   later; prints "SRC SESSION BYTES_PER_S" per pair.
# wsload.py hold HOST PORT SESSION SRC
#   one client from SRC: prints "status 101" (then holds the connection
#   until killed) or "refused" when relayd closes it unanswered.
cat >"$T/wsload.py" <<'PY'
import base64, os, socket, sys, threading, time

def connect(host, port, src):
	fam = socket.AF_INET6 if ':' in host else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_STREAM)
	s.bind((src, 0))
	s.connect((host, int(port)))
	return s

def upgrade(s, host, port, session):
	key = base64.b64encode(os.urandom(16)).decode()
	h = host if ':' not in host else '[' + host + ']'
	s.sendall(('GET /v1/relay/%s HTTP/1.1\r\nHost: %s:%s\r\n'
	    'Upgrade: websocket\r\nConnection: Upgrade\r\n'
	    'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n'
	    % (session, h, port, key)).encode())
	buf = b''
	while b'\r\n\r\n' not in buf:
		d = s.recv(4096)
		if not d:
			return None
		buf += d
	return buf.split(b'\r\n', 1)[0].decode()

class Receiver(threading.Thread):
	def __init__(self, s):
		threading.Thread.__init__(self, daemon=True)
		self.s, self.n = s, 0
	def run(self):
		b = bytearray(1 << 20)
		while True:
			n = self.s.recv_into(b)
			if n <= 0:
				return
			self.n += n

def sender(s):
	# FIN|binary, MASK|126, 16-bit length, a zero masking key: the
	# payload goes as is (RFC 6455 5.3 allows any key)
	n = 16384
	frame = bytes([0x82, 0x80 | 126]) + n.to_bytes(2, 'big') + \
	    bytes(4) + b'a' * n
	try:
		while True:
			s.sendall(frame * 8)
	except OSError:
		pass

def flood(host, port, rsrc, warm, secs, pairs):
	recv = []
	for p in pairs:
		src, session = p.rsplit(':', 1)
		r = connect(host, port, rsrc)
		if not upgrade(r, host, port, session).endswith(' 101 Switching Protocols'):
			sys.exit('receiver refused')
		rt = Receiver(r)
		rt.start()
		s = connect(host, port, src)
		if not upgrade(s, host, port, session).endswith(' 101 Switching Protocols'):
			sys.exit('sender from %s refused' % src)
		threading.Thread(target=sender, args=(s,), daemon=True).start()
		recv.append((src, session, rt))
	time.sleep(float(warm))
	t0, n0 = time.monotonic(), [r.n for _, _, r in recv]
	time.sleep(float(secs))
	t1, n1 = time.monotonic(), [r.n for _, _, r in recv]
	for (src, session, _), a, b in zip(recv, n0, n1):
		print('%s %s %d' % (src, session, (b - a) / (t1 - t0)))
	sys.stdout.flush()
	os._exit(0)

def hold(host, port, session, src):
	s = connect(host, port, src)
	try:
		st = upgrade(s, host, port, session)
	except OSError:
		st = None
	print('status 101' if st and ' 101 ' in st else 'refused')
	sys.stdout.flush()
	if st:
		while s.recv(65536):
			pass

if sys.argv[1] == 'flood':
	flood(*sys.argv[2:7], sys.argv[7:])
else:
	hold(*sys.argv[2:6])
PY
LOAD="python3 $T/wsload.py"

# rate SRC: the figure for SRC from the flood output
rate() {
	awk -v s="$1" '$1 == s { print int($3) }' "$T/flood.out"
}

# --- the keys: bad values named with file and line ------------------------------
printf '[relayd]\nopen = yes\n\nipv6_prefix = 20\n' >"$T/bad.conf"
"$BIN/relayd" -n -f "$T/bad.conf" >"$T/bad.out" 2>&1 && fail "ipv6_prefix 20 accepted"
grep -q "bad.conf:4: relayd.ipv6_prefix: '20' is not an integer in 32..128" \
    "$T/bad.out" || fail "error: $(cat "$T/bad.out")"
printf '[relayd]\nopen = yes\nmax_bytes_per_ip = 10M\n' >"$T/bad.conf"
"$BIN/relayd" -n -f "$T/bad.conf" >"$T/bad.out" 2>&1 && fail "10M accepted"
grep -q "bad.conf:3: relayd.max_bytes_per_ip" "$T/bad.out" ||
    fail "error: $(cat "$T/bad.out")"
printf '[relayd]\nopen = yes\nmax_bytes_per_ip = 0\nburst_bytes_per_ip = 65536\nipv4_prefix = 24\nipv6_prefix = 56\n' >"$T/ok.conf"
"$BIN/relayd" -n -f "$T/ok.conf" | grep -q "configuration OK" || fail "good keys refused"
ok "keys checked, errors say file:line"

# --- IPv4: 127.0.0.1 limited, 127.0.0.2 a group of its own ---------------------
relayd_up r --open -o max_bytes_per_ip=$LIMIT -o burst_bytes_per_ip=65536
# metrics from an address of its own: not counted in the limited groups
m4() {
	curl -s --interface 127.0.0.9 "http://127.0.0.1:$PORT/metrics" |
	    awk -v n="$1" '$1 == n { sub(/\..*/, "", $2); print $2 }'
}
# alone first: held near the limit, and nothing dropped on the way
$LOAD flood 127.0.0.1 "$PORT" 127.0.0.3 1.5 2 127.0.0.1:x >"$T/flood.out" \
    2>"$T/flood.err" || fail "flood: $(cat "$T/flood.err")"
cat "$T/flood.out"
r0=$(rate 127.0.0.1)
[ -n "$r0" ] && [ "$r0" -le $((2 * LIMIT)) ] && [ "$r0" -ge $((LIMIT / 4)) ] ||
    fail "127.0.0.1 alone: ${r0:-no figure} bytes/s through $LIMIT bytes/s"
[ "$(m4 'relayd_drops_total{reason="queue_full"}')" -eq 0 ] ||
    fail "frames dropped: the limit must slow the sender, not drop"
# then beside a client from 127.0.0.2
$LOAD flood 127.0.0.1 "$PORT" 127.0.0.3 1.5 3 127.0.0.1:a 127.0.0.2:b \
    >"$T/flood.out" 2>"$T/flood.err" &
FL=$!
sleep 2
# both groups paused at once (each is, between two reads, ~98% of the time)
hmax=0
for i in 1 2 3 4 5 6; do
	h=$(curl -s --interface 127.0.0.9 "http://127.0.0.1:$PORT/health")
	g=$(echo "$h" | jq -r .ratelimited_groups)
	[ "${g:-0}" -gt "$hmax" ] && hmax=$g
	sleep 0.1
done
wait $FL || fail "flood: $(cat "$T/flood.err")"
cat "$T/flood.out"
r1=$(rate 127.0.0.1)
r2=$(rate 127.0.0.2)
[ -n "$r1" ] && [ -n "$r2" ] || fail "no figures: $(cat "$T/flood.out")"
# each group has a bucket of its own: both near the limit, together well
# above it (one shared bucket would hold the sum near it)
for r in "$r1" "$r2"; do
	[ "$r" -le $((2 * LIMIT)) ] ||
	    fail "a group got $r bytes/s through a $LIMIT bytes/s limit"
	[ "$r" -ge $((LIMIT / 2)) ] ||
	    fail "a group slowed by the other's limit: $r bytes/s"
done
[ $((r1 + r2)) -ge $((3 * LIMIT / 2)) ] ||
    fail "127.0.0.1 and 127.0.0.2 share one limit: $r1 + $r2 bytes/s"
[ "$hmax" -eq 2 ] || fail "/health during the flood: $h"
[ "$(m4 relayd_ratelimited_total)" -ge 1 ] || fail "pauses not counted"
[ "$(m4 relayd_ratelimited_seconds_total)" -ge 1 ] ||
    fail "paused time not counted"
ok "max_bytes_per_ip: 127.0.0.1 held at $r0 bytes/s alone; beside it 127.0.0.2, a group of its own: $r1 and $r2 (limit $LIMIT)"
kill "$PID_r"

# --- IPv6 groups per /64, in a private namespace --------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	ok "IPv6 part skipped: needs root and iproute2 (network namespace)"
	exit 0
fi
NS="atrl-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')"
ip netns add "$NS" || { ok "IPv6 part skipped: no network namespaces"; exit 0; }
trap 'cleanup; ip netns del "$NS" 2>/dev/null' EXIT INT TERM
ip -n "$NS" link set lo up
for a in 2001:db8:1::1 2001:db8:1::2 2001:db8:2::1 2001:db8:3::1 \
    2001:db8:4::1; do
	ip -n "$NS" -6 addr add "$a/64" dev lo || fail "address $a"
done
IN="ip netns exec $NS"

conf6() { # MAX_CLIENTS_PER_IP IPV6_PREFIX
	cat >"$T/r6.conf" <<EOF
[relayd]
listen = ::
port = $PORT6
open = yes
socket = $T/r6.sock
max_bytes_per_ip = $LIMIT
burst_bytes_per_ip = 65536
max_clients_per_ip = $1
ipv6_prefix = $2
EOF
}
reload6() {
	n=$(grep -c "configuration reloaded" "$T/r6.log")
	kill -HUP "$PID_r6"
	wait_for 5 sh -c "[ \$(grep -c 'configuration reloaded' '$T/r6.log') -gt $n ]" ||
	    fail "relayd did not reload"
}
m6() {
	$IN curl -s --interface 2001:db8:4::1 "http://[2001:db8:1::1]:$PORT6/metrics" |
	    awk -v n="$1" '$1 == n { sub(/\..*/, "", $2); print $2 }'
}
PORT6=0
conf6 8 64
start r6 "$T/r6.log" $IN "$BIN/relayd" -f "$T/r6.conf"
wait_sock "$T/r6.sock"
PORT6=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$T/r6.log" | head -n 1)
[ -n "$PORT6" ] || fail "no port in $T/r6.log"

# bytes: two addresses of one /64 share the limit, another /64 does not
$IN $LOAD flood 2001:db8:1::1 "$PORT6" 2001:db8:3::1 1.5 3 \
    2001:db8:1::1:a 2001:db8:1::2:b 2001:db8:2::1:c >"$T/flood.out" \
    2>"$T/flood.err" || fail "flood over IPv6: $(cat "$T/flood.err")"
cat "$T/flood.out"
r11=$(rate 2001:db8:1::1)
r12=$(rate 2001:db8:1::2)
r21=$(rate 2001:db8:2::1)
[ -n "$r11" ] && [ -n "$r12" ] && [ -n "$r21" ] || fail "no figures"
# one /64, one bucket: the sum near the limit (two would give twice it)
[ $((r11 + r12)) -le $((3 * LIMIT / 2)) ] ||
    fail "one /64 got $r11 + $r12 bytes/s through a $LIMIT bytes/s limit"
[ $((r11 + r12)) -ge $((LIMIT / 2)) ] || fail "one /64 starved"
# shared evenly (equal shares at each resume), not one taking it all
[ "$r11" -ge $((LIMIT / 5)) ] && [ "$r12" -ge $((LIMIT / 5)) ] ||
    fail "one connection of the /64 starved the other: $r11 / $r12 bytes/s"
[ "$r21" -ge $((LIMIT / 2)) ] && [ "$r21" -le $((2 * LIMIT)) ] ||
    fail "2001:db8:2::1 (another /64): $r21 bytes/s"
ok "IPv6 bytes per /64: 2001:db8:1::1 + ::2 held at $((r11 + r12)) bytes/s, 2001:db8:2::1 at $r21"

# connections: max_clients_per_ip = 1 per /64. First let the flood's
# connections go: a group over its byte rate is read slowly, so relayd may
# see their EOF only once it has drained what they left in its socket
# buffers at the limited rate.
i=0
while [ "$(m6 relayd_clients)" != 0 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(m6 relayd_clients)" = 0 ] || fail "the flood's clients still connected 15 s after it ended: $(m6 relayd_clients)"
conf6 1 64
reload6
before=$(m6 relayd_refused_total)
start h1 "$T/h1.out" $IN $LOAD hold 2001:db8:1::1 "$PORT6" h 2001:db8:1::1
wait_for 5 grep -q "status 101" "$T/h1.out" || fail "first client of a /64 refused"
$IN $LOAD hold 2001:db8:1::1 "$PORT6" h 2001:db8:1::2 >"$T/h2.out" &
H2=$!
wait_for 5 grep -q . "$T/h2.out" || fail "no answer for the second client"
grep -q refused "$T/h2.out" || fail "second address of the same /64 admitted"
kill $H2 2>/dev/null
start h3 "$T/h3.out" $IN $LOAD hold 2001:db8:1::1 "$PORT6" h 2001:db8:2::1
wait_for 5 grep -q "status 101" "$T/h3.out" || fail "another /64 refused"
[ "$(m6 relayd_refused_total)" -eq $((before + 1)) ] ||
    fail "refusal not counted"
[ "$(m6 relayd_refused_address_total)" -eq 1 ] ||
    fail "refusal not counted as per address"
ok "max_clients_per_ip per /64: 2001:db8:1::2 refused while ::1 is in"

# a reload to /128 regroups: ::2 is a group of its own now
conf6 1 128
reload6
grep -q "address groups now IPv4 /32, IPv6 /128" "$T/r6.log" ||
    fail "no regrouping logged"
$IN $LOAD hold 2001:db8:1::1 "$PORT6" h 2001:db8:1::2 >"$T/h4.out" &
H4=$!
wait_for 5 grep -q . "$T/h4.out" || fail "no answer after the reload"
kill $H4 2>/dev/null
grep -q "status 101" "$T/h4.out" || fail "ipv6_prefix = 128 did not apply"
ok "SIGHUP ipv6_prefix 64 -> 128: 2001:db8:1::2 admitted beside ::1"
