#!/bin/sh
# stund's IPC: discovery on behalf of another process's socket (the socket
# passed with SCM_RIGHTS, as punchd will), and hostile input that must close
# only the offending client. (printf escapes are octal: dash has no \x.)
. "$(dirname "$0")/lib.sh"
need_bin stund meshctl fakepunch ipcraw

P=$(free_port)
mkdir -p "$T/srv" "$T/cli"
RUNTIME_DIRECTORY=$T/srv start srv "$T/srv.log" "$BIN/stund" \
	--server --listen 127.0.0.1:$P --servers none
RUNTIME_DIRECTORY=$T/cli start cli "$T/cli.log" "$BIN/stund" -v \
	--servers "127.0.0.1:$P" -o stund.nat_refresh=0
wait_sock "$T/srv/stund.sock"
wait_sock "$T/cli/stund.sock"
S=$T/cli/stund.sock

echo "== stun.discover through a passed socket"
out=$("$TOOLS/fakepunch" "$S" 127.0.0.1 2>"$T/fp.err") || fail "fakepunch: $out $(cat "$T/fp.err")"
echo "$out"
local=$(echo "$out" | sed -n 's/.*local=\([^ ]*\).*/\1/p')
public=$(echo "$out" | sed -n 's/.*public=\([^ ]*\).*/\1/p')
fwd=$(echo "$out" | sed -n 's/.*forwarded=\([0-9]*\).*/\1/p')
# on loopback there is no NAT: the mapping of the passed socket is itself
[ "$public" = "$local" ] || fail "mapping $public is not the passed socket's $local"
[ "$fwd" -ge 1 ] || fail "no STUN answer was forwarded back"
ok "passed socket's own mapping $public"

echo "== socket: true without a descriptor"
"$TOOLS/fakepunch" "$S" 127.0.0.1 >/dev/null 2>&1 || fail "sanity"
printf '\224\000\007\255stun.discover\201\246socket\303' | "$TOOLS/ipcraw" "$S" >"$T/r1" ; cat "$T/r1"
grep -q '"bad_params"' "$T/r1" || fail "expected bad_params"

echo "== hostile input: each closes only its own client"
i=0
for bytes in '\301\301\301\301' '\222\000\001' '\224\000\001\244x.yz\200' \
    '\224\005\001\244x.yz\200' '\224\000\001\052\200' '\201\241a\241b' \
    '\224\000\001\252status.get\223\001\002\003' '\333\377\377\377\377'; do
	i=$((i + 1))
	printf "$bytes" | "$TOOLS/ipcraw" "$S" >"$T/h$i" 2>&1
	echo "input $i: $(tr '\n' ' ' <"$T/h$i")"
	"$BIN/meshctl" -S "$T/cli" --json status >"$T/s$i" 2>&1
	[ "$(jq -r '.daemons[0].up' "$T/s$i")" = true ] || fail "stund stopped serving after input $i"
done
grep -q bad_request "$T/h2" || fail "short envelope should get bad_request"
grep -q closed "$T/h2" || fail "short envelope should close the client"
grep -q unknown_method "$T/h3" || fail "unknown method"
grep -q bad_request "$T/h5" || fail "method as int should get bad_request"
grep -q closed "$T/h1" || fail "never-valid msgpack should close the client"
grep -q closed "$T/h6" || fail "a map instead of an array should close the client"
# a well-formed call on a raw connection still works
printf '\224\000\011\252status.get\200' | "$TOOLS/ipcraw" "$S" >"$T/good"
grep -q '"daemon":"stund"' "$T/good" || fail "raw status.get: $(cat "$T/good")"
grep -q open "$T/good" || fail "a good client must stay connected"
ok "hostile input handled, daemon kept serving"

echo "== oversized message (> 1 MiB)"
{ printf '\224\000\001\252status.get\306\000\040\000\000'; head -c 2097152 /dev/zero; } | \
	"$TOOLS/ipcraw" "$S" >"$T/hbig" 2>&1
cat "$T/hbig"
grep -q closed "$T/hbig" || fail "oversized message should close the client"
"$BIN/meshctl" -S "$T/cli" --json status >"$T/sbig"
[ "$(jq -r '.daemons[0].up' "$T/sbig")" = true ] || fail "stund down after oversized input"
ok "oversized message refused"
echo PASS
