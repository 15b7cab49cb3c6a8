/*
 * punchd's [punchd] keys, and its identity: the mesh key (the mesh of
 * meshctl init/join in mesh.c, unless mesh_secret overrides it), the node
 * id and the packet sequence high-water mark, kept under the state directory.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/config.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/state.h"
#include "punchd.h"
#include "portmap.h"

/* O(key, type, field, min, max, help, ...): arg, dflt, flags may follow */
#define O(k, t, f, mn, mx, h, ...) \
	{ .section = "punchd", .key = k, .type = t, \
	  .offset = offsetof(struct punchd_config, f), \
	  .size = sizeof(((struct punchd_config *)0)->f), \
	  .min = mn, .max = mx, \
	  .help = h, __VA_ARGS__ }
/*
 * CONFIG_RESTART: keys read once at start-up (the socket, the identity, the
 * IPC paths, the timers armed once and whether e2e runs at all). A reload
 * keeps their running values and says so; everything else applies to the
 * next punch, keep-alive round, relay session or metrics write.
 */
#define RESTART	.flags = CONFIG_RESTART

static const struct config_opt punchd_opts[] = {
	O("port", CONFIG_INT, port, 0, 65535,
	    "UDP port of the node's socket, IPv4 and IPv6; 0 picks one.",
	    .arg = "port", RESTART),
	O("bind", CONFIG_STR, bind, 0, 0, "Bind to this IP only.",
	    .arg = "ip", .dflt = "every IPv4 and IPv6 address", RESTART),
	O("punch_interval", CONFIG_MS, punch_interval_ms, 10, 10000,
	    "Resend PUNCH on every candidate pair this often."),
	O("punch_timeout", CONFIG_MS, punch_timeout_ms, 100, 600000,
	    "Give up one punch attempt after this long."),
	O("max_retries", CONFIG_INT, max_retries, 1, 10000,
	    "PUNCHes per candidate pair per attempt."),
	O("keepalive_interval", CONFIG_MS, keepalive_interval_ms, 10, 3600000,
	    "KEEPALIVE on the chosen path this often; paths already up are "
	    "re-timed on reload."),
	O("warn_after", CONFIG_INT, warn_after, 1, 1000,
	    "Unanswered keep-alives before a warning and state degraded; at "
	    "most dead_after."),
	O("dead_after", CONFIG_INT, dead_after, 1, 1000,
	    "Unanswered keep-alives before the path is dead (peer.down, "
	    "re-punch)."),
	O("repunch", CONFIG_MS, repunch_ms, 100, 86400000,
	    "Retry a peer whose punch failed this often; while relayed, try "
	    "direct again."),
	O("host_loopback", CONFIG_BOOL, host_loopback, 0, 1,
	    "Offer loopback and link-local addresses as host candidates "
	    "(tests on one host)."),
	O("mesh_secret", CONFIG_STR, mesh_secret, 0, 0,
	    "32-byte mesh secret as 64 hex digits, or a file holding them, "
	    "the same on every node; overrides the mesh of meshctl init or "
	    "join.", .arg = "hex|path", .dflt = "the mesh of meshctl init or "
	    "join, else generated into $STATE_DIRECTORY/mesh.secret", RESTART),
	O("node_id", CONFIG_STR, node_id, 0, 0,
	    "This node's id, 16 hex digits.",
	    .arg = "hex", .dflt = "random, kept in $STATE_DIRECTORY/node.id",
	    RESTART),
	O("state_dir", CONFIG_STR, state_dir, 0, 0,
	    "State directory: mesh, mesh.secret, node.id, seq, peers.",
	    .arg = "path", .dflt = "$STATE_DIRECTORY, /var/lib/atmosphere as "
	    "root", RESTART),
	O("stund_socket", CONFIG_STR, stund_socket, 0, 0,
	    "stund's IPC socket.", .arg = "path",
	    .dflt = "$RUNTIME_DIRECTORY/stund.sock", RESTART),
	O("socket", CONFIG_STR, socket, 0, 0, "IPC socket.", .arg = "path",
	    .dflt = "$RUNTIME_DIRECTORY/punchd.sock", RESTART),
	O("relay_url", CONFIG_STR, relay_url, 0, 0,
	    "Relays for fallback and rendezvous, comma-separated, at most 8; "
	    "ATMOSPHERE_RELAY_URL overrides it. Each pair's session goes to "
	    "the relay that rendezvous hashing of its name ranks first over "
	    "this set (the order written does not matter; both peers need the "
	    "same URLs, spelled alike), the next while that one is down. "
	    "Relay sessions opened after a reload use the new list.", .arg = "ws[s]://host:port,...",
	    .dflt = "direct paths only"),
	O("relay_token", CONFIG_STR, relay_token, 0, 0,
	    "Relay access token presented on every relay session this node "
	    "opens (pair, invite, rendezvous): issued by the relay's operator "
	    "with relayd --issue-access. A per-session token (--issue-token) "
	    "cannot serve: punchd's session names are secret hashes.",
	    .arg = "token"),
	O("invite_relay_token", CONFIG_STR, invite_relay_token, 0, 0,
	    "Relay access token put inside this node's invite codes, for the "
	    "joiner's invite session and kept as its relay credential when it "
	    "has none; auto = this node's own relay_token. It grants the relay "
	    "until the token's own expiry, not the invite's: "
	    "docs/security.md.", .arg = "token|auto", .dflt = "none"),
	O("hardnat", CONFIG_BOOL, hardnat, 0, 1,
	    "Hard-NAT traversal: signal our NAT behaviour with the "
	    "candidates and, when a side maps per destination, probe the "
	    "peer's predicted ports or use the birthday technique (bounded: "
	    "at most 2048 probes or 256 extra sockets and 1280 packets per "
	    "10 s attempt; docs/paths.md)."),
	O("relay_signal_host", CONFIG_BOOL, relay_signal_host, 0, 1,
	    "Offer host addresses to peers through the relay."),
	O("roam", CONFIG_BOOL, roam, 0, 1,
	    "Watch this host's addresses and routes (rtnetlink) and, on a "
	    "change, look for our candidates again at once: host addresses, "
	    "the STUN mapping of our socket; peers without a working direct "
	    "path hear the new ones through the relay and are punched again "
	    "(docs/paths.md, Roaming). A direct path that goes quiet starts "
	    "the same look either way."),
	O("relay_return", CONFIG_MS, relay_return_ms, 100, 86400000,
	    "A pair session goes to the first relay of its rendezvous order "
	    "over relay_url (the same on both peers); while that one is down "
	    "or refuses, to the next. Check the first again this often and "
	    "move back when it answers."),
	O("portmap", CONFIG_STR, portmap, 0, 0,
	    "Ask the gateway to map the UDP port: UPnP IGD, NAT-PMP or PCP, "
	    "auto = UPnP and PCP at once (NAT-PMP when the gateway answers PCP "
	    "with version 0), the first mapping wins; no = never. The mapped "
	    "address becomes a candidate (type mapped) and the public endpoint "
	    "of invites; the mapping is renewed at half its lease and deleted "
	    "when punchd stops. A reload with another value starts over.",
	    .arg = "auto|upnp|natpmp|pcp|no"),
	O("stun_refresh", CONFIG_MS, stun_refresh_ms, 0, 86400000,
	    "Rediscover this socket's public mapping, 0 = off.", RESTART),
	O("e2e", CONFIG_BOOL, e2e, 0, 1,
	    "Per-session end-to-end keys with peers that have node keys; "
	    "every node of a mesh must agree.", RESTART),
	O("rekey_interval", CONFIG_MS, rekey_interval_ms, 100, 86400000,
	    "New session key with each peer this often."),
	O("rekey_packets", CONFIG_INT, rekey_packets, 16, 2147483647,
	    "New session key after sending this many packets under one key.",
	    .dflt = "2^30"),
	O("rekey_grace", CONFIG_MS, rekey_grace_ms, 10, 3600000,
	    "Keep accepting the previous session key this long after a "
	    "rekey."),
	O("metrics_file", CONFIG_STR, metrics_file, 0, 0,
	    "Write the status.get counters and per-peer figures (peer.list) "
	    "here in Prometheus text format (node_exporter's textfile "
	    "collector), an absolute path; mode 0644, replaced atomically, "
	    "removed when punchd stops.", .arg = "path", .dflt = "off"),
	O("metrics_interval", CONFIG_MS, metrics_interval_ms, 100, 3600000,
	    "Rewrite metrics_file this often."),
	O("tun", CONFIG_BOOL, tun, 0, 1,
	    "The mesh interface: a TUN device with this node's mesh addresses "
	    "(IPv6 ULA from the mesh id and node id, IPv4 in 100.64.0.0/10); "
	    "IP packets to members travel over the pair's path under its "
	    "session key. Needs CAP_NET_ADMIN at start, dropped once the "
	    "device is set up (docs/mesh-interface.md).", RESTART),
	O("tun_name", CONFIG_STR, tun_name, 0, 0,
	    "Name of the mesh interface; a name with %d lets the kernel pick "
	    "the number.", .arg = "name", RESTART),
	O("tun_mtu", CONFIG_INT, tun_mtu, 1280, 1416,
	    "MTU of the mesh interface: 1280 fits any underlay path of 1364 "
	    "bytes or more; 1416 fills a clean 1500-byte IPv6 path.",
	    RESTART),
	O("tun_offload", CONFIG_BOOL, tun_offload, 0, 1,
	    "Offloads on the mesh interface: TCP super-packets from the "
	    "kernel cut into packets by punchd (TSO), received TCP segments "
	    "merged into one write (GRO). No change on the wire; no means one "
	    "packet per read and write.", RESTART),
};
#undef RESTART
#undef O

static const char *const punchd_sections[] = { "punchd", NULL };

static void
punchd_config_defaults_cb(void *c)
{
	punchd_config_defaults(c);
}

static int
punchd_config_check_cb(void *c, char *err, size_t errlen)
{
	return punchd_config_check(c, err, errlen);
}

const struct config_table punchd_config_table = {
	.opts = punchd_opts,
	.nopts = sizeof(punchd_opts) / sizeof(punchd_opts[0]),
	.sections = punchd_sections,
	.size = sizeof(struct punchd_config),
	.defaults = punchd_config_defaults_cb,
	.finish = punchd_config_check_cb,
};

void
punchd_config_defaults(struct punchd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 7777;
	c->punch_interval_ms = 200;
	c->punch_timeout_ms = 10000;
	c->max_retries = 50;
	c->keepalive_interval_ms = 25000;
	c->warn_after = 3;
	c->dead_after = 5;
	c->repunch_ms = 30000;
	c->stun_refresh_ms = 300000;
	c->relay_signal_host = 1;
	c->roam = 1;
	c->hardnat = 1;
	c->relay_return_ms = 300000;
	strlcpy(c->portmap, "auto", sizeof(c->portmap));
	c->e2e = 1;
	c->rekey_interval_ms = 120000;
	c->rekey_packets = 1 << 30;
	c->rekey_grace_ms = 10000;
	c->metrics_interval_ms = 15000;
	strlcpy(c->tun_name, "atm0", sizeof(c->tun_name));
	c->tun_mtu = 1280;
	c->tun_offload = 1;
}

static int
hex_decode(const char *s, uint8_t *out, size_t n)
{
	size_t	len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len != 2 * n)
		return -1;
	return sodium_hex2bin(out, n, s, len, NULL, NULL, NULL) == 0 ? 0 : -1;
}

int
punchd_config_check(const struct punchd_config *c, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	uint8_t			id[PACKET_NODEID_LEN];
	enum portmap_mode	mode;

	if (c->bind[0] != '\0' && netaddr_parse(c->bind, 1, &ss) == -1) {
		snprintf(err, errlen, "punchd.bind: '%s' is not a numeric IP",
		    c->bind);
		return -1;
	}
	if (c->node_id[0] != '\0' && hex_decode(c->node_id, id, sizeof(id))) {
		snprintf(err, errlen, "punchd.node_id: expected 16 hex digits");
		return -1;
	}
	if (portmap_mode_parse(c->portmap, &mode) == -1) {
		snprintf(err, errlen, "punchd.portmap: '%s' is not auto, upnp, "
		    "natpmp, pcp or no", c->portmap);
		return -1;
	}
	if (c->warn_after > c->dead_after) {
		snprintf(err, errlen, "punchd.warn_after (%d) is above "
		    "dead_after (%d)", c->warn_after, c->dead_after);
		return -1;
	}
	if (c->tun_name[0] == '\0' || strchr(c->tun_name, '/') != NULL ||
	    strchr(c->tun_name, ' ') != NULL) {
		snprintf(err, errlen, "punchd.tun_name: '%s' is not an "
		    "interface name", c->tun_name);
		return -1;
	}
	if (c->metrics_file[0] != '\0' && c->metrics_file[0] != '/') {
		snprintf(err, errlen, "punchd.metrics_file: '%s' is not an "
		    "absolute path", c->metrics_file);
		return -1;
	}
	return 0;
}

/* Read a small file whole; -1 and errno when it cannot. */
static int
read_small(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* write-temp, fsync, rename; mode 0600 (keys and ids are private) */
static int
write_state(const char *dir, const char *name, const char *text)
{
	return state_write(dir, name, text, strlen(text));
}

static int
identity_secret(struct punchd *pd, uint8_t *secret, char *err, size_t errlen)
{
	char	text[256], path[512];
	char	hex[2 * PACKET_MESH_SECRET_LEN + 2];

	if (pd->cfg.mesh_secret[0] != '\0') {
		pd->mesh.source = "config";
		if (hex_decode(pd->cfg.mesh_secret, secret,
		    PACKET_MESH_SECRET_LEN) == 0)
			return 0;
		if (read_small(pd->cfg.mesh_secret, text, sizeof(text)) == -1) {
			snprintf(err, errlen, "punchd.mesh_secret: neither 64 "
			    "hex digits nor a readable file: %s",
			    strerror(errno));
			return -1;
		}
		if (hex_decode(text, secret, PACKET_MESH_SECRET_LEN) == -1) {
			snprintf(err, errlen, "%s: expected 64 hex digits",
			    pd->cfg.mesh_secret);
			return -1;
		}
		return 0;
	}
	/* the mesh of meshctl init / join */
	if (pd->mesh.have) {
		memcpy(secret, pd->mesh.secret, PACKET_MESH_SECRET_LEN);
		return 0;
	}
	pd->mesh.source = "legacy";
	snprintf(path, sizeof(path), "%s/mesh.secret", pd->statedir);
	if (read_small(path, text, sizeof(text)) == 0 &&
	    hex_decode(text, secret, PACKET_MESH_SECRET_LEN) == 0)
		return 0;
	randombytes_buf(secret, PACKET_MESH_SECRET_LEN);
	sodium_bin2hex(hex, sizeof(hex), secret, PACKET_MESH_SECRET_LEN);
	strlcat(hex, "\n", sizeof(hex));
	if (write_state(pd->statedir, "mesh.secret", hex) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	log_notice("no mesh_secret configured: generated %s (give the same "
	    "secret to every node of the mesh)", path);
	return 0;
}

static int
identity_node_id(struct punchd *pd, char *err, size_t errlen)
{
	char	text[64], path[512];

	if (pd->cfg.node_id[0] != '\0')
		return hex_decode(pd->cfg.node_id, pd->node_id,
		    sizeof(pd->node_id));
	snprintf(path, sizeof(path), "%s/node.id", pd->statedir);
	if (read_small(path, text, sizeof(text)) == 0 &&
	    hex_decode(text, pd->node_id, sizeof(pd->node_id)) == 0)
		return 0;
	randombytes_buf(pd->node_id, sizeof(pd->node_id));
	sodium_bin2hex(text, sizeof(text), pd->node_id, sizeof(pd->node_id));
	strlcat(text, "\n", sizeof(text));
	if (write_state(pd->statedir, "node.id", text) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Sequence numbers must never repeat under the mesh key (they are half of
 * the nonce). packet_seq_start() is now << 32; a restart within the same
 * second would reuse it, so the last start is kept and the next one is at
 * least 2^32 above it.
 */
static int
identity_seq(struct punchd *pd, char *err, size_t errlen)
{
	char			text[64];
	unsigned long long	last = 0;
	uint64_t		seq = packet_seq_start((uint64_t)time(NULL));
	char			path[512];

	snprintf(path, sizeof(path), "%s/seq", pd->statedir);
	if (read_small(path, text, sizeof(text)) == 0 &&
	    sscanf(text, "%llu", &last) == 1 && last + (1ULL << 32) > seq)
		seq = last + (1ULL << 32);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)seq);
	if (write_state(pd->statedir, "seq", text) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	pd->seq = seq;
	return 0;
}

int
punchd_config_identity(struct punchd *pd, char *err, size_t errlen)
{
	uint8_t	secret[PACKET_MESH_SECRET_LEN];
	int	r;

	if (sodium_init() == -1) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (pd->cfg.state_dir[0] != '\0')
		strlcpy(pd->statedir, pd->cfg.state_dir, sizeof(pd->statedir));
	else if (paths_state_dir(pd->statedir, sizeof(pd->statedir)) == -1) {
		snprintf(err, errlen, "no state directory (set "
		    "STATE_DIRECTORY or punchd.state_dir)");
		return -1;
	}
	if (paths_mkdir(pd->statedir, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", pd->statedir, strerror(errno));
		return -1;
	}
	if (mesh_load(pd, secret, err, errlen) == -1 ||
	    identity_secret(pd, secret, err, errlen) == -1 ||
	    identity_node_id(pd, err, errlen) == -1 ||
	    identity_seq(pd, err, errlen) == -1)
		return -1;
	r = packet_key_derive(pd->key, secret, 0);
	sodium_memzero(secret, sizeof(secret));
	if (r == -1) {
		snprintf(err, errlen, "key derivation failed");
		return -1;
	}
	sodium_bin2hex(pd->node_idstr, sizeof(pd->node_idstr), pd->node_id,
	    sizeof(pd->node_id));
	return 0;
}
