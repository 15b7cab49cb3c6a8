#!/bin/sh
# meshctl join benchmark (README.md (mesh)): time from `meshctl join` to the
# inviter being "connected" (its path direct), per path, in the NAT lab.
# Prints figures beside the target; asserts nothing about time.
#
#   local   inviter and joiner on one segment (203.0.113.40/.41, no NAT):
#           the invite's local endpoint answers
#   public  inviter behind a full-cone NAT (its public endpoint from STUN
#           accepts the unsolicited HELLO), joiner behind an EIM NAT
#   relay   both behind EIM NATs (the public endpoint is filtered): the
#           invite's relay session on relayd, then the rendezvous punches
#
# Each run: a fresh invite on the inviter, `meshctl --json join --paths
# PATH` on the joiner; figures are punchd's welcome_ms (HELLO -> WELCOME
# opened) and elapsed_ms (-> inviter direct), and the joiner's wall clock
# around meshctl. Between runs the joiner leaves the mesh and the inviter
# forgets it. Target: < 1 s to connected when a direct path exists (also
# with 20 ms netem delay per WAN link, when the kernel has netem).
#
# Needs root, iproute2, nftables (the NAT lab); exits 77 when it cannot.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD/bin
RUNS=${RUNS:-10}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_need
nl_require
nl_init

node() { # NAME NS
	mkdir -p "$NL_TMP/$1"
	nl_bg "$2" "$NL_TMP/stund-$1.log" env RUNTIME_DIRECTORY="$NL_TMP/$1" \
	    "$BIN/stund" -f "$NL_TMP/empty.conf" \
	    -o stund.servers=203.0.113.10:3478 -o stund.timeout=2s \
	    -o stund.nat_refresh=0
	nl_bg "$2" "$NL_TMP/punchd-$1.log" env RUNTIME_DIRECTORY="$NL_TMP/$1" \
	    STATE_DIRECTORY="$NL_TMP/$1" "$BIN/punchd" -f "$NL_TMP/empty.conf" \
	    -p 7777 -o punchd.relay_url="$PL_RELAY" $PL_FAST
	nl_wait 10 sh -c "'$BIN/meshctl' -S '$NL_TMP/$1' --json status |
	    jq -e '.daemons[] | select(.daemon == \"punchd\") | .status.public != null'" ||
		nl_die "node $1: no public candidate"
}
# runs INVITER JOINER PATH LABEL
runs() {
	_i=$1 _j=$2 _p=$3
	: >"$NL_TMP/w.$_p"; : >"$NL_TMP/e.$_p"; : >"$NL_TMP/c.$_p"
	pl_m "$_i" init --force bench >/dev/null || nl_die "init on $_i"
	_n=0
	while [ $_n -lt "$RUNS" ]; do
		_n=$((_n + 1))
		_code=$(pl_m "$_i" --json invite | jq -r .token)
		_t0=$(pl_ms)
		pl_m "$_j" --json join --paths "$_p" --timeout 3000 \
		    --connect 3000 "$_code" >"$NL_TMP/j.json" 2>&1
		_t1=$(pl_ms)
		if [ "$(jq -r '.joined and .state == "direct"' "$NL_TMP/j.json" 2>/dev/null)" = true ]; then
			jq -r .welcome_ms "$NL_TMP/j.json" >>"$NL_TMP/w.$_p"
			jq -r .elapsed_ms "$NL_TMP/j.json" >>"$NL_TMP/e.$_p"
			echo $((_t1 - _t0)) >>"$NL_TMP/c.$_p"
		else
			echo "    run $_n: $(jq -c '{joined, state, attempts}' "$NL_TMP/j.json" 2>/dev/null || cat "$NL_TMP/j.json")"
		fi
		_id=$(pl_id "$_j")
		pl_m "$_j" leave >/dev/null 2>&1
		pl_m "$_i" peers remove "$_id" >/dev/null 2>&1
	done
	echo "$_p$4:"
	echo "    HELLO -> WELCOME      $(pl_stats "$NL_TMP/w.$_p") ms"
	echo "    join -> direct        $(pl_stats "$NL_TMP/e.$_p") ms   (target < 1000)"
	echo "    meshctl wall clock    $(pl_stats "$NL_TMP/c.$_p") ms"
}

pl_world
nl_host l1 203.0.113.40
nl_host l2 203.0.113.41
nl_nat f fullcone
nl_nat q eim
nl_nat r eim
nl_nat s eim
node L1 l1; node L2 l2
node F f-host; node Q q-host
node R r-host; node S s-host
echo "lab: punch_interval 50ms, relayd ws://203.0.113.30:8080, $RUNS runs per path"
runs L1 L2 local ""
runs F Q public " (full-cone NAT -> EIM NAT)"
runs R S relay " (EIM NAT -> EIM NAT, through relayd, then direct)"
if nl_exec q tc qdisc add dev wan root netem delay 20ms 2>"$NL_TMP/netem.err"; then
	for n in f r s; do nl_exec $n tc qdisc add dev wan root netem delay 20ms; done
	runs F Q public " with 20 ms netem delay per WAN link"
	runs R S relay " with 20 ms netem delay per WAN link"
else
	echo "20 ms delay variant skipped: netem is not available on this kernel ($(head -n 1 "$NL_TMP/netem.err"))"
fi
