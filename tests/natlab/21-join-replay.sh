#!/bin/sh
# Captured JOIN_HELLOs replayed with SPOOFED source addresses (the loopback
# half, a stranger with its own address, is tests/integ/73-join-replay.sh).
# On the lab's public segment: inviter I (203.0.113.20), joiner J (.21), a
# victim V (.22) and an attacker X (.40, whose nftables rewrite the source
# of what it sends from ports 5555 and 5556 to V's and J's endpoints: a
# spoofer). I's invite names X as its local endpoint, so X
# captures J's HELLOs (what an on-path attacker sees); J joins over I's
# public endpoint and stops. X then replays the HELLOs:
#   1. spoofed as V (a third party): V receives nothing from I;
#   2. spoofed as J's own endpoint (the first use's source), where a
#      listener now sits: at most 4 + t cached WELCOMEs in t seconds.
# What I sends is counted at the receiving end (listeners in V and J).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
UF=$TOP/$BUILD/tests/tools/udpflood
. "$TOP/tests/natlab/lib.sh"
for b in "$BIN/punchd" "$BIN/meshctl" "$UF"; do
	[ -x "$b" ] || nl_skip "$b is not built yet"
done
command -v jq >/dev/null 2>&1 || nl_skip "jq missing (scripts/deps.sh)"
nl_require
nl_init

M="$BIN/meshctl"
: >"$NL_TMP/empty.conf"
nl_public
nl_host inv 203.0.113.20
nl_host job 203.0.113.21
nl_host vic 203.0.113.22
nl_host att 203.0.113.40
nl_exec att nft -f - <<EOF || nl_die "nft in att"
table ip spoof {
	chain post {
		type nat hook postrouting priority srcnat;
		udp sport 5555 snat to 203.0.113.22:7777
		udp sport 5556 snat to 203.0.113.21:7777
	}
}
EOF

node() { # NAME NS
	mkdir -p "$NL_TMP/$1"
	nl_bg "$2" "$NL_TMP/punchd-$1.log" env RUNTIME_DIRECTORY="$NL_TMP/$1" \
	    STATE_DIRECTORY="$NL_TMP/$1" "$BIN/punchd" -v -f "$NL_TMP/empty.conf" \
	    -p 7777 -o punchd.stun_refresh=0 -o punchd.punch_interval=50ms \
	    -o punchd.keepalive_interval=300ms -o punchd.warn_after=2 \
	    -o punchd.dead_after=3 -o punchd.repunch=60s
	eval "PID_$1=$NL_LASTPID"
	nl_wait 5 "$M" -S "$NL_TMP/$1" peers || nl_die "punchd $1 does not answer"
}
field() { sed -n "s/^\(.* \)\{0,1\}$1 \([0-9]*\).*/\\2/p" "$2"; }
ctr() { # NODE COUNTER
	"$M" -S "$NL_TMP/$1" --json status |
	    jq ".daemons[] | select(.daemon==\"punchd\") | .status.counters.$2"
}
node i inv
node j job
"$M" -S "$NL_TMP/i" init home >/dev/null || nl_die "init"
code=$("$M" -S "$NL_TMP/i" --json invite --local 203.0.113.40:9999 \
    --public 203.0.113.20:7777 | jq -r .token)
mkdir -p "$NL_TMP/cap"
nl_bg att "$NL_TMP/cap.out" "$UF" -L 203.0.113.40:9999 -w 3 -o "$NL_TMP/cap"
CAP=$NL_LASTPID
nl_wait 3 grep -q listening "$NL_TMP/cap.out" || nl_die "sniffer"
"$M" -S "$NL_TMP/j" join --timeout 700 "$code" >"$NL_TMP/join.out" 2>&1 ||
	nl_die "join: $(cat "$NL_TMP/join.out")"
cat "$NL_TMP/join.out"
wait "$CAP"
for f in "$NL_TMP"/cap/*; do	# HELLOs only (type 9): J also punched X
	[ "$(od -An -tu1 -j1 -N1 "$f" | tr -d ' ')" = 9 ] || rm -f "$f"
done
ncap=$(ls "$NL_TMP/cap" | wc -l)
[ "$ncap" -ge 1 ] || nl_die "no HELLO captured"
nl_log "ok: J joined; $ncap HELLOs captured by X"
files=$(for f in "$NL_TMP"/cap/*; do printf -- '-f %s ' "$f"; done)

kill "$(eval echo \$PID_j)"
idj=$(cat "$NL_TMP/j/node.id")
nl_wait 10 sh -c "'$M' -S '$NL_TMP/i' --json peers | jq -e '.[] | select(.id == \"$idj\") | select(.state != \"direct\" and .state != \"degraded\")'" ||
	nl_die "J's peer still up on I"

echo "== 1. 200 replays spoofed as V (203.0.113.22:7777)"
nl_bg vic "$NL_TMP/v.out" "$UF" -L 203.0.113.22:7777 -w 5
V=$NL_LASTPID
nl_wait 3 grep -q listening "$NL_TMP/v.out" || nl_die "listener in V"
m0=$(ctr i join_moved)
nl_exec att "$UF" -m file $files -n 200 -r 100 -w 0 -b 203.0.113.40:5555 \
    203.0.113.20:7777 >"$NL_TMP/s1.out" || nl_die "spoofed send: $(cat "$NL_TMP/s1.out")"
wait "$V"
cat "$NL_TMP/s1.out" "$NL_TMP/v.out"
m1=$(ctr i join_moved)
echo "I: join_moved +$((m1 - m0))"
[ "$(field received "$NL_TMP/v.out")" = 0 ] ||
	nl_die "V received $(field received "$NL_TMP/v.out") datagrams ($(field bytes "$NL_TMP/v.out") bytes) for 200 HELLOs spoofed with its address"
[ $((m1 - m0)) -ge 190 ] || nl_die "join_moved +$((m1 - m0)), want about 200"
nl_log "ok: 200 spoofed replays: V received 0 datagrams"

echo "== 2. 200 replays spoofed as J's own endpoint (203.0.113.21:7777)"
mkdir -p "$NL_TMP/j2cap"
nl_bg job "$NL_TMP/j2.out" "$UF" -L 203.0.113.21:7777 -w 5 -o "$NL_TMP/j2cap"
L=$NL_LASTPID
nl_wait 3 grep -q listening "$NL_TMP/j2.out" || nl_die "listener in J"
l0=$(ctr i join_limited)
t0=$(date +%s%N)
nl_exec att "$UF" -m file $files -n 200 -r 100 -w 0 -b 203.0.113.40:5556 \
    203.0.113.20:7777 >"$NL_TMP/s2.out" || nl_die "spoofed send"
t1=$(date +%s%N)
wait "$L"
cat "$NL_TMP/s2.out" "$NL_TMP/j2.out"
l1=$(ctr i join_limited)
n=$(field received "$NL_TMP/j2.out"); b=$(field bytes "$NL_TMP/j2.out")
# what the replays can cause are join answers (WELCOME 10, REFUSE 11); I
# also probes J's last address, a member whose path just died (PUNCH /
# KEEPALIVE every 2 s for 30 s): counted apart, not answers to anyone
nall=$n
n=0
for f in "$NL_TMP"/j2cap/*; do
	[ -f "$f" ] || continue
	case $(od -An -tu1 -j1 -N1 "$f" | tr -d ' ') in 10|11) n=$((n + 1)) ;; esac
done
nother=$((nall - n))
echo "J's address: $n join answers, $nother other datagrams (path probes)"
[ "$nother" -le 10 ] || nl_die "$nother non-join datagrams to J's address in ${secs:-2}s"
secs=$(awk -v a="$t0" -v z="$t1" 'BEGIN { printf "%.2f", (z - a) / 1e9 }')
bound=$(awk -v s="$secs" 'BEGIN { print int(4 + s + 2) }')
echo "I: join_limited +$((l1 - l0)); J's address got $n join answers ($nall datagrams, $b bytes) in ${secs}s (bound $bound)"
echo "per spoofed HELLO: $(awk -v n="$n" 'BEGIN { printf "%.3f", n / 200 }') datagrams, $(awk -v b="$b" 'BEGIN { printf "%.1f", b / 200 }') bytes"
[ "$n" -ge 1 ] || nl_die "the first source got no WELCOME"
[ "$n" -le "$bound" ] || nl_die "$n datagrams to J's address, bound $bound"
[ $((l1 - l0)) -ge $((200 - bound)) ] || nl_die "join_limited +$((l1 - l0))"
nl_log "ok: spoofed as the first source: $n cached WELCOMEs (<= $bound), the rest limited"
[ "$("$M" -S "$NL_TMP/i" --json peers | jq length)" = 1 ] || nl_die "a replay made a peer"
echo PASS
