#!/bin/sh
# punchd across two endpoint-independent NATs (masquerade: EIM mapping,
# address-and-port-dependent filtering, a "port-restricted cone") gets a
# direct path.
#
# Lab (tests/natlab/lib.sh, punchd.inc): stund server 203.0.113.10:3478 and
# relayd 203.0.113.30:8080 on the public segment; behind NAT a (eim,
# 198.51.100.11) and NAT b (eim, .12) a host each running stund (client of
# that server) and punchd on UDP 7777, each with its own RUNTIME_DIRECTORY
# and STATE_DIRECTORY, one mesh secret.
#
# How the peers learn each other's candidates (what punchd supports today):
# each node's server-reflexive candidate is the mapping of punchd's own
# socket, found by stund through punchd's descriptor (status.get `public`);
# the test hands it to the other side, as an invite would, and both run
# `meshctl punch <node id> <public>` at once (the manual flow). Both have
# relay_url set, so they also meet in their pair's relay session and swap
# candidates there (the rendezvous); the direct pair must win.
#
# Checks: each side's public candidate is WAN:7777 (masquerade keeps the
# port); both punches end direct, on the other NAT's WAN:7777; the NAT holds
# a conntrack entry for that flow (the packets really cross it; replied);
# ping; datagrams both ways (meshctl send / listen); keep-alives acked.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/natlab/lib.sh"
. "$TOP/tests/natlab/punchd.inc"
pl_lab

echo "== lab $NL_PFX: eim a, eim b"
pl_two_nats a:eim b:eim
echo "    A $IA public $(pl_public A); B $IB public $(pl_public B)"
[ "$(pl_public A)" = "$(nl_wan a):7777" ] && [ "$(pl_public B)" = "$(nl_wan b):7777" ] &&
	pl_ok "server-reflexive candidates are WAN:7777 (punchd's own socket, port kept)" ||
	pl_bad "public candidates $(pl_public A) / $(pl_public B), expected WAN:7777"

pl_listen A "$NL_TMP/listen-A"
pl_listen B "$NL_TMP/listen-B"

echo "== both punch at once"
pl_punch_both A B 5000 || pl_bad "punch failed"
nl_wait 3 pl_path_is A "$IB" direct && nl_wait 3 pl_path_is B "$IA" direct &&
	pl_ok "direct both ways" ||
	pl_bad "not direct: A sees $(pl_peer A "$IB" '.state+" "+.endpoint'), B sees $(pl_peer B "$IA" '.state+" "+.endpoint')"
ea=$(pl_peer A "$IB" .endpoint) eb=$(pl_peer B "$IA" .endpoint)
[ "$ea" = "$(nl_wan b):7777" ] && [ "$eb" = "$(nl_wan a):7777" ] &&
	pl_ok "endpoints: A -> $ea, B -> $eb (the other NAT's WAN:7777)" ||
	pl_bad "endpoints A -> $ea, B -> $eb"
pl_get A "$IB" '"    A: selected pair " + ([.candidates[] | select(.selected) | .type + " " + .address] | join(","))'
ct=$(nl_exec a conntrack -L -p udp 2>/dev/null |
    grep "src=$(nl_lan a) dst=$(nl_wan b) sport=7777 dport=7777 ")
[ -n "$ct" ] && ! echo "$ct" | grep -q UNREPLIED &&
	pl_ok "NAT a: conntrack entry $(nl_lan a):7777 -> $(nl_wan b):7777, replied, mapped to $(echo "$ct" | sed -n 's/.* dport=\([0-9]*\) .*/\1/p')" ||
	pl_bad "NAT a has no replied entry for the direct flow: $(nl_exec a conntrack -L -p udp 2>/dev/null)"

echo "== ping and data over the direct path"
pl_m A --json ping -c 3 "$IB" >"$NL_TMP/ping.json" 2>&1 &&
    [ "$(jq -r .path "$NL_TMP/ping.json")" = direct ] &&
	pl_ok "ping A -> B direct: $(jq -c .rtt_ms "$NL_TMP/ping.json") ms" ||
	pl_bad "ping: $(cat "$NL_TMP/ping.json")"
pl_deliver A B "hello-b-from-a" && pl_ok "datagram A -> B" || pl_bad "A -> B not delivered"
pl_deliver B A "hello-a-from-b" && pl_ok "datagram B -> A" || pl_bad "B -> A not delivered"
grep -q '"text":"hello-b-from-a".*"path":"direct"\|"path":"direct".*"text":"hello-b-from-a"' "$NL_TMP/listen-B" &&
	pl_ok "B received it on the direct path" ||
	pl_bad "B's peer.data: $(grep hello-b "$NL_TMP/listen-B")"

echo "== keep-alives (300 ms) answered, one exchange per interval for the pair"
k0=$(pl_ka_seen A "$IB") j0=$(pl_ka_seen B "$IA")
sa0=$(pl_get A "$IB" .keepalives_sent) sb0=$(pl_get B "$IA" .keepalives_sent)
sleep 1.2
k1=$(pl_ka_seen A "$IB") j1=$(pl_ka_seen B "$IA")
sa1=$(pl_get A "$IB" .keepalives_sent) sb1=$(pl_get B "$IA" .keepalives_sent)
echo "   leader: A $(pl_get A "$IB" .keepalive_lead), B $(pl_get B "$IA" .keepalive_lead); KEEPALIVEs sent in 1.2 s: A $((sa1 - sa0)), B $((sb1 - sb0))"
[ "$k1" -ge $((k0 + 2)) ] && [ "$j1" -ge $((j0 + 2)) ] &&
	pl_ok "keep-alives seen: A $k0 -> $k1, B $j0 -> $j1 in 1.2 s" ||
	pl_bad "keep-alives seen: A $k0 -> $k1, B $j0 -> $j1 in 1.2 s"
[ "$(pl_get A "$IB" .keepalive_lead)" != "$(pl_get B "$IA" .keepalive_lead)" ] &&
	pl_ok "exactly one side leads" || pl_bad "both or neither lead"
grep -q '"event":"peer.down"' "$NL_TMP/listen-A" "$NL_TMP/listen-B" &&
	pl_bad "a peer.down was sent: $(grep '"event":"peer' "$NL_TMP/listen-A" "$NL_TMP/listen-B")"

pl_finish "eim vs eim: direct path WAN:7777 <-> WAN:7777, ping, data both ways, keep-alives"
