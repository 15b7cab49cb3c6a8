#!/bin/sh
# stund's STUN server against abuse, on loopback (RFC 5780 on 127.0.0.1 +
# 127.0.0.2), with tests/tools/udpflood as the stranger:
#   - CHANGE-REQUEST and RESPONSE-PORT answer only the requester's IP: a
#     request from 127.0.0.1 never puts a datagram on 127.0.0.2;
#   - answer sizes for plain, CHANGE-REQUEST, PADDING, unknown-attribute
#     requests: at most 92 bytes with the default SOFTWARE, PADDING never
#     echoed; a 63-byte SOFTWARE still gets an answer (it used to mute the
#     server: answers over the old 128-byte buffer were dropped);
#   - malformed datagrams and indications: no answer, counted;
#   - rate_limit=N: a flood from one source gets about N answers a second,
#     while another source is still answered.
# (printf escapes are octal: dash has no \x.)
. "$(dirname "$0")/lib.sh"
need_bin stund meshctl udpflood
UF="$TOOLS/udpflood"
RATE=50

P=$(free_port)
AP=$((P + 1))
mkdir -p "$T/srv"
RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" -f /dev/null -v \
	--server --listen 127.0.0.1:$P --alt-ip 127.0.0.2 --alt-port $AP \
	--servers none -o stund.rate_limit=$RATE
wait_sock "$T/srv/stund.sock"

ctr() { # NAME: one server counter
	"$BIN/meshctl" -S "$T/srv" --json status 2>/dev/null |
	    jq ".daemons[0].status.counters.$1"
}
# oct N: N as two big-endian bytes, printf octal escapes
oct16() {
	printf '\\%03o\\%03o' $(($1 >> 8)) $(($1 & 255))
}
HDR='\041\022\244\102'				# magic cookie
TID='\001\002\003\004\005\006\007\010\011\012\013\014'
# Binding request with LEN bytes of attributes ATTRS (octal escapes)
req() { # FILE LEN ATTRS
	printf "\\000\\001$(oct16 "$2")$HDR$TID$3" >"$1"
}
req "$T/plain" 0 ''
req "$T/chg" 8 '\000\003\000\004\000\000\000\006'	# change IP and port
req "$T/chgport" 8 '\000\003\000\004\000\000\000\002'	# change port
{ printf "\\000\\001\\003\\354$HDR$TID\\000\\046\\003\\350"; head -c 1000 /dev/zero; } >"$T/pad"
req "$T/unk" 4 '\000\102\000\000'			# 0x0042: required, unknown
R=$(free_port); [ "$R" = "$P" ] || [ "$R" = "$AP" ] && R=$((AP + 1))
Q=$(free_port); [ "$Q" = "$R" ] || [ "$Q" = "$P" ] || [ "$Q" = "$AP" ] && Q=$((R + 1))
req "$T/rport" 16 "\\000\\047\\000\\004$(oct16 "$R")\\000\\000\\000\\003\\000\\004\\000\\000\\000\\006"

echo "== answer sizes (request -> answer, bytes)"
printf '%-16s %8s %8s %s\n' request req_bytes answer from >"$T/sizes"
for r in plain chg chgport pad unk; do
	"$UF" -m file -f "$T/$r" -n 1 -w 0.5 -b 127.0.0.3 -v 127.0.0.1:$P >"$T/$r.out" ||
	    fail "udpflood $r"
	n=$(sed -n 's/^reply \([0-9]*\) from \(.*\)/\1/p' "$T/$r.out")
	from=$(sed -n 's/^reply \([0-9]*\) from \(.*\)/\2/p' "$T/$r.out")
	[ "$(grep -c '^reply' "$T/$r.out")" = 1 ] || fail "$r: want exactly one answer: $(cat "$T/$r.out")"
	printf '%-16s %8s %8s %s\n' "$r" "$(wc -c <"$T/$r")" "$n" "$from" >>"$T/sizes"
	[ "$n" -le 92 ] || fail "$r: answer of $n bytes is over 92"
	eval "size_$r=$n from_$r=$from"
done
cat "$T/sizes"
[ "$from_plain" = "127.0.0.1:$P" ] || fail "plain answer from $from_plain"
[ "$from_chg" = "127.0.0.2:$AP" ] || fail "CHANGE-REQUEST ip+port answered from $from_chg"
[ "$from_chgport" = "127.0.0.1:$AP" ] || fail "CHANGE-REQUEST port answered from $from_chgport"
[ "$size_pad" = "$size_plain" ] || fail "PADDING changed the answer size ($size_pad, plain $size_plain): echoed?"
[ "$(ctr server_unknown_attr)" -ge 1 ] || fail "unknown attribute not answered with 420"
amp=$(awk -v a="$size_plain" 'BEGIN { printf "%.1f", a / 20 }')
ok "answers <= 92 bytes, PADDING not echoed, plain 20 -> $size_plain bytes (x$amp)"

echo "== RESPONSE-PORT + CHANGE-REQUEST: only the requester's IP"
# requester 127.0.0.1:Q asks for the answer at port R; listeners on every
# other combination must stay silent
start l1 "$T/l1.out" "$UF" -L 127.0.0.1:$R -w 3
start l2 "$T/l2.out" "$UF" -L 127.0.0.2:$R -w 3
start l3 "$T/l3.out" "$UF" -L 127.0.0.2:$Q -w 3
wait_for 3 grep -q listening "$T/l1.out" && wait_for 3 grep -q listening "$T/l2.out" &&
    wait_for 3 grep -q listening "$T/l3.out" || fail "listeners"
"$UF" -m file -f "$T/rport" -n 3 -b 127.0.0.1:$Q -w 0.5 -v 127.0.0.1:$P >"$T/rq.out"
cat "$T/rq.out"
wait "$PID_l1" "$PID_l2" "$PID_l3" 2>/dev/null
sleep 0.1
for l in l1 l2 l3; do echo "$l: $(tail -n 1 "$T/$l.out")"; done
grep -q "^received 3 " "$T/l1.out" || fail "RESPONSE-PORT: 127.0.0.1:$R should get the 3 answers"
grep -q "^received 0 " "$T/l2.out" || fail "a datagram reached 127.0.0.2:$R (third party)"
grep -q "^received 0 " "$T/l3.out" || fail "a datagram reached 127.0.0.2:$Q (third party)"
grep -q "replies 0 " "$T/rq.out" || fail "the answer should go to port $R, not back to $Q"
ok "answers reach 127.0.0.1:$R only; 127.0.0.2 got nothing"

echo "== malformed requests, indications: no answer, counted"
m0=$(ctr server_malformed); i0=$(ctr server_ignored)
printf "\\000\\001\\000\\007$HDR$TID" >"$T/badlen"		# length not /4
printf "\\000\\001\\000\\010$HDR$TID\\000\\003" >"$T/short"	# length > datagram
printf "\\000\\021\\000\\000$HDR$TID" >"$T/ind"			# Binding indication
"$UF" -m random -z 60 -n 20 -b 127.0.0.4 -w 0.3 127.0.0.1:$P >"$T/m1.out"
"$UF" -m file -f "$T/badlen" -f "$T/short" -n 10 -b 127.0.0.4 -w 0.3 127.0.0.1:$P >"$T/m2.out"
"$UF" -m file -f "$T/ind" -n 5 -b 127.0.0.4 -w 0.3 127.0.0.1:$P >"$T/m3.out"
cat "$T/m1.out" "$T/m2.out" "$T/m3.out"
for f in m1 m2 m3; do grep -q "replies 0 " "$T/$f.out" || fail "$f was answered"; done
m1=$(ctr server_malformed); i1=$(ctr server_ignored)
echo "server_malformed $m0 -> $m1, server_ignored $i0 -> $i1"
[ $((m1 - m0)) -ge 20 ] || fail "malformed datagrams not counted ($m0 -> $m1)"
[ $((i1 - i0)) -ge 5 ] || fail "indications not counted as ignored ($i0 -> $i1)"
ok "30 malformed and 5 indications dropped unanswered and counted"

echo "== rate_limit=$RATE: flood from 127.0.0.1, 127.0.0.5 still answered"
r0=$(ctr server_rate_limited)
SECS=3
"$UF" -m stun -n $((2000 * SECS)) -r 2000 -b 127.0.0.1 -w 0.3 127.0.0.1:$P >"$T/flood.out" &
FL=$!
sleep 1
"$UF" -m stun -n 5 -b 127.0.0.5 -w 0.5 127.0.0.1:$P >"$T/other.out"
wait $FL
cat "$T/flood.out" "$T/other.out"
got=$(sed -n 's/.*replies \([0-9]*\) .*/\1/p' "$T/flood.out")
secs=$(sed -n 's/.* secs \([0-9.]*\) .*/\1/p' "$T/flood.out")
# the flood spans at most SECS+1 wall-clock seconds, each allows RATE
max=$(( RATE * (SECS + 2) ))
echo "flood: $got answers in ${secs}s to $((2000 * SECS)) requests (limit $RATE/s, bound $max)"
[ "$got" -le "$max" ] || fail "rate limit: $got answers > $max"
[ "$got" -ge $((RATE * SECS / 2)) ] || fail "rate limit too strict: $got answers"
grep -q "replies 5 " "$T/other.out" || fail "another source was not answered during the flood"
r1=$(ctr server_rate_limited)
echo "server_rate_limited $r0 -> $r1"
[ $((r1 - r0)) -ge $((2000 * SECS - max)) ] || fail "rate-limited requests not counted"
ok "flood got $got answers (<= $RATE/s), the other source 5/5"

echo "== a 63-byte SOFTWARE (the longest accepted) still answers"
SW=$(printf '%063d' 0 | tr 0 s)
P2=$(free_port); [ "$P2" = "$P" ] || [ "$P2" = "$AP" ] && P2=$((AP + 2))
mkdir -p "$T/sw"
RUNTIME_DIRECTORY=$T/sw start sw "$T/sw.log" "$BIN/stund" -f /dev/null \
	--server --listen 127.0.0.1:$P2 --alt-ip 127.0.0.2 --alt-port $((P2 + 1)) \
	--servers none -o stund.software="$SW"
wait_sock "$T/sw/stund.sock"
"$UF" -m stun -n 3 -w 0.5 127.0.0.1:$P2 >"$T/sw.out"
cat "$T/sw.out"
grep -q "replies 3 " "$T/sw.out" || fail "no answer with a 63-byte SOFTWARE (answer buffer too small)"
ok "answers with SOFTWARE of 63 bytes: $(sed -n 's/.*max_reply \([0-9]*\).*/\1/p' "$T/sw.out") bytes"
echo PASS
