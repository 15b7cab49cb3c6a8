#include "methods.h"

#include <string.h>

/*
 * Keep each entry's text exact: it is what proto/README.md shows.
 * Bump IPC_PROTO_VERSION (common/ipc.h) when a change is incompatible.
 */
const struct proto_method proto_methods[] = {
	/* every daemon */
	{ "*", "status.get", PROTO_CALL,
	  "Name, version, pid, uptime and counters of the daemon.",
	  "{}",
	  "{daemon, version, pid, uptime_s, proto, counters: {...}, ...} "
	  "(punchd adds candidates: [{type: host|mapped|srflx, address}], "
	  "public, mapped, and portmap: {mode, gateway, protocols: {upnp|"
	  "natpmp|pcp: {state, reason}}, mapping: {proto, external, "
	  "internal_port, lease_s, renew_in_s} or nil})",
	  "" },
	{ "*", "events.subscribe", PROTO_CALL,
	  "Receive the daemon's notifications on this connection.",
	  "{events?: [name, ...]} (absent or empty: all)",
	  "true",
	  "" },

	/* stund */
	{ "stund", "stun.discover", PROTO_CALL,
	  "Public (server-reflexive) endpoint, from the cache unless refresh "
	  "is set. With a UDP socket passed over SCM_RIGHTS (socket: true), "
	  "the STUN transactions run through that socket and the answer is "
	  "its own mapping; the passing process forwards STUN datagrams it "
	  "reads back with stun.input.",
	  "{refresh?: bool, family?: 4|6, socket?: bool, timeout_ms?: int}",
	  "{public: \"IP:PORT\", local: \"IP:PORT\", server, rtt_ms, age_s, "
	  "servers: [{server, address?, ok, rtt_ms?, mapped?, error?}]}",
	  "unavailable (no server answered: message names each one), "
	  "bad_params (socket: true without a descriptor)" },
	{ "stund", "stun.input", PROTO_INPUT,
	  "A STUN datagram that arrived on a socket passed with stun.discover.",
	  "{data: bin, from: \"IP:PORT\"}",
	  "-",
	  "" },
	{ "stund", "nat.get", PROTO_CALL,
	  "NAT behaviour (RFC 5780 mapping and filtering, classic name), "
	  "from the cache unless refresh is set.",
	  "{refresh?: bool}",
	  "{behind_nat, mapping, filtering, classic, method, public, local, "
	  "explanation, servers: [...], age_s, hairpin: bool|nil, hairpin_ms, "
	  "hairpin_note?}",
	  "unavailable" },
	{ "stund", "stun.servers", PROTO_CALL,
	  "Configured STUN servers and what each last answered.",
	  "{}",
	  "[{server, address?, ok, rtt_ms?, mapped?, error?, other_address?}]",
	  "" },
	{ "stund", "stun.check", PROTO_CALL,
	  "Netcheck: a Binding request to every STUN server at once, every "
	  "answer waited for (timeout_ms bounds it): round-trip time per "
	  "server, and per family whether UDP gets through and whether the "
	  "mapping varies by destination.",
	  "{timeout_ms?: 100..60000}",
	  "{udp, duration_s, timeout_ms, ipv4: {servers, asked, answered, "
	  "public?, mapping_varies?, no_answer_from?}, ipv6: {...}, error?, "
	  "servers: [{server, address?, family?, ok, rtt_ms?, mapped?, "
	  "other_address?, error?}]}",
	  "bad_params" },
	{ "stund", "nat.changed", PROTO_EVENT,
	  "The public endpoint or the NAT type changed. punchd subscribes: "
	  "it then looks for its own socket's mapping again (roaming).",
	  "{public, previous?, mapping?, filtering?, classic?}",
	  "-",
	  "" },

	/* relayd */
	{ "relayd", "session.list", PROTO_CALL,
	  "Sessions with their clients and byte counts.",
	  "{}",
	  "[{session, clients: [{id, address, since_s, rx_bytes, tx_bytes}], "
	  "rx_bytes, tx_bytes}]",
	  "" },
	{ "relayd", "session.kick", PROTO_CALL,
	  "Disconnect every client of a session (close code 1008).",
	  "{session}",
	  "{kicked: n}",
	  "not_found" },

	/* punchd */
	{ "punchd", "peer.list", PROTO_CALL,
	  "Peers with state (new, punching, direct, relayed, degraded, down), "
	  "path, endpoint (relay URL when relayed), RTT, loss, jitter and "
	  "last seen.",
	  "{}",
	  "[{id?, name?, state, path?: direct|relay, endpoint?, "
	  "endpoint_type?: host|mapped|prflx|srflx|relay, rtt_ms?, "
	  "rtt_min_ms?, jitter_ms?, loss?, last_seen_s?, since_s, "
	  "controlling, reason?: \"browser: no UDP\" (a relay-only member, "
	  "never punched), relay_error?: \"relay URL refused: 403 token "
	  "expired\", relay_hint?: what to do}]",
	  "" },
	{ "punchd", "peer.get", PROTO_CALL,
	  "One peer, with its candidate pairs and counters.",
	  "{peer: name or node id}",
	  "{...peer.list fields, punch, attempts, keepalive_failures, "
	  "keepalives_sent, keepalives_acked, keepalives_received, "
	  "keepalive_lead, keepalive_interval_ms, rx_packets, tx_packets, "
	  "rx_data, "
	  "tx_data, candidates: [{address, type: host|mapped|prflx|srflx, "
	  "priority, check, sent, selected}]}",
	  "not_found" },
	{ "punchd", "peer.punch", PROTO_CALL,
	  "Punch a direct path to a peer (a name of the caller's choice or a "
	  "node id) at an endpoint or candidate list; answers when a path is "
	  "up (direct, or relayed when a relay is configured and no direct "
	  "pair completes).",
	  "{peer, endpoint?: \"HOST:PORT\", candidates?: [\"HOST:PORT\", ...], "
	  "timeout_ms?: 1..600000 (default punch_timeout)}",
	  "{peer, id?, state, path, endpoint, elapsed_ms, rtt_ms?}",
	  "timeout, not_found (unknown peer and no endpoint), unavailable "
	  "(peer table full)" },
	{ "punchd", "peer.ping", PROTO_CALL,
	  "PING/PONG round trips over the peer's current path, 200 ms apart.",
	  "{peer, count?: 1..16 (default 3)}",
	  "{peer, path, endpoint, rtt_ms: [..], sent, lost}",
	  "not_found, unavailable (no path), timeout (no PONG at all)" },
	{ "punchd", "peer.send", PROTO_CALL,
	  "Send one datagram to a peer over whichever path is up. The path "
	  "MTU is 1196 bytes of data (1280-byte IPv6 datagram). While the "
	  "direct path is in doubt (sent, no answer for 1.5 s) the result "
	  "says so (health) and the datagram also goes through the relay "
	  "when the pair's session is open (path direct+relay).",
	  "{peer, data: bin}",
	  "{path: direct|relay|direct+relay, bytes, health?: in doubt|dead, "
	  "also_relay?, endpoint}",
	  "not_found, unavailable (no path), too_big (over the path MTU)" },
	{ "punchd", "peer.why", PROTO_CALL,
	  "Why a peer's path is (not) direct: the reason in words, our "
	  "candidates, every pair and its last check, the direct path's "
	  "health and keep-alive lifetime, the relay (meshctl why).",
	  "{peer: name or node id}",
	  "{peer, id, state, path, endpoint, reason, ours: {host: [..], "
	  "srflx4, srflx6, stund}, pairs: [{address, type, priority, check, "
	  "sent, selected}], punch, attempts, health: {state, last_heard_s, "
	  "probes, doubts, deaths, recoveries, keepalive_interval_s, "
	  "lifetime_interval_s, lifetime_survived_s, lifetime_died_s, "
	  "relay_copies}, relay, relay_state, lost}",
	  "not_found" },
	{ "punchd", "peer.remove", PROTO_CALL,
	  "Forget a peer (also from the state directory).",
	  "{peer}",
	  "true",
	  "not_found" },
	{ "punchd", "mesh.init", PROTO_CALL,
	  "Create a mesh (random 16-byte id, 32-byte secret) and this node's "
	  "Ed25519 key if it has none; saved in the state directory (0600, "
	  "atomically). Peers of a previous mesh are dropped.",
	  "{name, force?: bool (replace an existing mesh)}",
	  "{name, mesh_id, source, node_id, public_key, members, peers, "
	  "invites: [...]}",
	  "exists (already in a mesh, no force), bad_params" },
	{ "punchd", "mesh.get", PROTO_CALL,
	  "The mesh this node is in, where its key comes from (mesh, config, "
	  "legacy), this node's public key and the live invites (no secrets).",
	  "{}",
	  "{name?, mesh_id?, source, node_id, public_key?, members, peers, "
	  "invites: [{invite, expires_in_s, uses, max_uses}]}",
	  "" },
	{ "punchd", "mesh.hosts", PROTO_CALL,
	  "The mesh interface's addresses of every member with one (this "
	  "node included; browsers have none), as atm0 routes them: IPv4 in "
	  "100.64.0.0/10, IPv6 in the mesh's /64 (docs/mesh-interface.md). "
	  "name: the member's name, \"\" when unknown.",
	  "{}",
	  "{interface, mesh, hosts: [{id, name, v4, v6, self: bool}]}",
	  "unavailable (punchd.tun = no)" },
	{ "punchd", "mesh.leave", PROTO_CALL,
	  "Leave the mesh: forget it, its peers, members and invites.",
	  "{}",
	  "true",
	  "not_found (in no mesh)" },
	{ "punchd", "mesh.invite", PROTO_CALL,
	  "Mint a join secret (kept with its expiry and uses, never logged) "
	  "and answer the invite code with this node's endpoints. An endpoint "
	  "given as \"\" is left out; absent, punchd fills what it knows.",
	  "{expires_s?: 1..2592000 (3600), uses?: 1..64 (1), local?, public?, "
	  "relay?}",
	  "{token: \"ATM-...\", invite: tag, expires, max_uses}",
	  "not_found (in no mesh), bad_params" },
	{ "punchd", "mesh.join", PROTO_CALL,
	  "Join the mesh of an invite. Its paths (local, public: UDP to that "
	  "endpoint; local6, public6: to its IPv6 endpoint, started with "
	  "local and public, which take them along unless named; relay: the "
	  "invite's relay session) race: each starts "
	  "stagger_ms after the one before, in the order given, and sends "
	  "JOIN_HELLO until JOIN_WELCOME or its own timeout; the first WELCOME "
	  "wins and the others are cancelled; a REFUSE on any path ends the "
	  "join. Then punch the inviter; answers when the path to it is "
	  "direct or at connect_ms. attempts: per path, state (won, failed, "
	  "cancelled, absent), why, start_ms and end_ms (-1: never). When "
	  "every path failed, the error names each path's reason and, with no "
	  "relay in the invite, what would help.",
	  "{token: code or URI, path?: local|local6|public|public6|relay or a "
	  "list (\"local,public,relay\"), stagger_ms?: (250), timeout_ms?: (3000, "
	  "local and public), relay_timeout_ms?: (10000; timeout_ms when path "
	  "is relay alone), connect_ms?: (5000), name?, force?: bool}",
	  "{mesh, mesh_id, path, via, inviter, state, peer_path, endpoint, "
	  "endpoint_type, welcome_ms, elapsed_ms, attempts: [{path, via, "
	  "state, why, "
	  "start_ms, end_ms}]}",
	  "timeout (no answer on any path asked for), refused (expired or "
	  "used: the inviter's reason), relay_refused (the relay refused "
	  "punchd's token, or is full: at once, with what to do; when every "
	  "path failed and the relay had refused), expired (checked locally), "
	  "not_found (no such endpoint in the invite), exists (already in a "
	  "mesh), bad_params" },
	{ "punchd", "peer.up", PROTO_EVENT,
	  "A peer became reachable.",
	  "{peer, id, state, path, endpoint, previous, reason, "
	  "keepalive_failures}",
	  "-",
	  "" },
	{ "punchd", "peer.path", PROTO_EVENT,
	  "A peer's path changed: direct <-> relayed, new endpoint, degraded "
	  "(keep-alives unanswered) or back.",
	  "{peer, id, state, path, endpoint, previous, reason, "
	  "keepalive_failures}",
	  "-",
	  "" },
	{ "punchd", "peer.down", PROTO_EVENT,
	  "A peer stopped answering (once per outage; punchd keeps trying).",
	  "{peer, id, state, path, endpoint, previous, reason, "
	  "keepalive_failures}",
	  "-",
	  "" },
	{ "punchd", "peer.data", PROTO_EVENT,
	  "A datagram from a peer for local applications.",
	  "{peer, id, data: bin, path}",
	  "-",
	  "" },
};

const size_t proto_nmethods = sizeof(proto_methods) / sizeof(proto_methods[0]);

const struct proto_method *
proto_method_find(const char *daemon, const char *name)
{
	size_t i;

	for (i = 0; i < proto_nmethods; i++) {
		if (strcmp(proto_methods[i].name, name) != 0)
			continue;
		if (!strcmp(proto_methods[i].daemon, "*") ||
		    !strcmp(proto_methods[i].daemon, daemon))
			return &proto_methods[i];
	}
	return NULL;
}
