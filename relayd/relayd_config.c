/*
 * relayd's [relayd] section: the key table, defaults, and the checks that
 * make a configuration usable (a token secret unless open, cert and key
 * together). config_read() writes the caller's struct only when all pass,
 * so SIGHUP with a broken file keeps the running configuration.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "relayd/relayd.h"

/* O(key, type, field, min, max, help, ...): arg, dflt, flags may follow */
#define O(k, t, f, lo, hi, h, ...) \
	{ .section = "relayd", .key = k, .type = t, \
	  .offset = offsetof(struct relayd_conf, f), \
	  .size = sizeof(((struct relayd_conf *)0)->f), .min = lo, .max = hi, \
	  .help = h, __VA_ARGS__ }

static const struct config_opt relayd_opts[] = {
	O("listen", CONFIG_STR, listen, 0, 0,
	    "Listen address; empty or * = one dual-stack socket (IPv6 and "
	    "IPv4).", .arg = "address", .dflt = "all",
	    .flags = CONFIG_RESTART),
	O("port", CONFIG_INT, port, 0, 65535, "TCP port, 0 picks one.",
	    .arg = "port", .flags = CONFIG_RESTART),
	O("open", CONFIG_BOOL, open, 0, 1,
	    "Allow sessions without a token (testing only)."),
	O("secret", CONFIG_STR, secret, 0, 0,
	    "Relay secret for tokens (key id 0; relayd --issue-token, "
	    "--issue-access), 16 bytes or more; this, secret_file or secrets "
	    "is required unless open."),
	O("secret_file", CONFIG_STR, secret_file, 0, 0,
	    "File whose first line is the secret, instead of secret.",
	    .arg = "path"),
	O("secrets", CONFIG_STR, secrets, 0, 0,
	    "More token keys, ID:FILE[,ID:FILE...]: a key id (0-65535) and a "
	    "file whose first line is that key's secret (16 bytes or more); "
	    "secret or secret_file is key id 0, at most 8 keys in all. Access "
	    "tokens (relayd --issue-access) name their key, so keys rotate: "
	    "add one, reload, issue with it, remove the old one and reload "
	    "(docs/relay-tokens.md).", .arg = "id:path,..."),
	O("tls_cert", CONFIG_STR, tls_cert, 0, 0,
	    "PEM certificate chain: serve wss:// (with tls_key, both or "
	    "neither). A reload takes new files; turning TLS on or off needs a "
	    "restart.", .arg = "path"),
	O("tls_key", CONFIG_STR, tls_key, 0, 0,
	    "PEM private key of tls_cert.", .arg = "path"),
	O("socket", CONFIG_STR, socket, 0, 0, "IPC socket.", .arg = "path",
	    .dflt = "$RUNTIME_DIRECTORY/relayd.sock", .flags = CONFIG_RESTART),
	O("max_frame", CONFIG_INT, max_frame, 16, 16 * 1024 * 1024,
	    "Largest WebSocket message in bytes (UDP packets are at most "
	    "65507; room for 64 KiB bench frames); also applies to connected "
	    "clients on reload.", .arg = "bytes"),
	O("max_session_clients", CONFIG_INT, max_session_clients, 1, 65535,
	    "Clients per session (two in the common case)."),
	O("max_sessions", CONFIG_INT, max_sessions, 1, 10000000,
	    "Sessions at once."),
	O("max_clients", CONFIG_INT, max_clients, 1, 10000000,
	    "Connections at once."),
	O("max_clients_per_ip", CONFIG_INT, max_clients_per_ip, 1, 10000000,
	    "Connections per address group (see ipv4_prefix, ipv6_prefix); "
	    "one more is closed at accept and counted in relayd_refused_total "
	    "and relayd_refused_address_total."),
	O("max_bytes_per_ip", CONFIG_INT, max_bytes_per_ip, 0, 2000000000,
	    "Bytes per second read from one address group, all its "
	    "connections together (WebSocket frames, HTTP requests, after "
	    "TLS); over it relayd stops reading the group "
	    "until its allowance refills (TCP slows the senders, nothing is "
	    "dropped); 0 = no limit.", .arg = "bytes",
	    .dflt = "100 Mbit/s"),
	O("burst_bytes_per_ip", CONFIG_INT, burst_bytes_per_ip, 16384,
	    2000000000, "What one address group may send at once above "
	    "max_bytes_per_ip (the token bucket's size). A group whose last "
	    "connection closes is remembered until its allowance would be "
	    "full again, so reconnecting does not refill it.",
	    .arg = "bytes"),
	O("ipv4_prefix", CONFIG_INT, ipv4_prefix, 16, 32,
	    "IPv4 addresses sharing this prefix are one address group for the "
	    "per-address limits.", .arg = "bits"),
	O("ipv6_prefix", CONFIG_INT, ipv6_prefix, 32, 128,
	    "IPv6 addresses sharing this prefix are one address group: a host "
	    "or site gets a whole /64, so counting its addresses one by one "
	    "would multiply every per-address limit by 2^64.",
	    .arg = "bits"),
	O("sendq_max", CONFIG_INT, sendq_max, 1024, 1024 * 1024 * 1024,
	    "Bytes queued towards one client before its frames are dropped.",
	    .arg = "bytes"),
	O("slow_grace", CONFIG_MS, slow_grace_ms, 0, 3600000,
	    "A client over sendq_max this long is disconnected."),
	O("handshake_timeout", CONFIG_MS, handshake_timeout_ms, 100, 600000,
	    "Time for TLS and the whole HTTP request (slowloris)."),
	O("idle_timeout", CONFIG_MS, idle_timeout_ms, 1000, 86400000,
	    "Silence (no frame, no pong) before a client is dropped."),
	O("ping_interval", CONFIG_MS, ping_interval_ms, 100, 86400000,
	    "Ping a silent client after this long; shorter than "
	    "idle_timeout."),
	O("max_fragments", CONFIG_INT, max_fragments, 1, 1000000,
	    "Frames one fragmented WebSocket message may take; one more "
	    "closes the client with 1009 (endless empty continuation frames "
	    "would otherwise hold a message open forever)."),
	O("message_timeout", CONFIG_MS, message_timeout_ms, 100, 3600000,
	    "Time a fragmented WebSocket message may take from its first "
	    "frame to its last; a frame after it closes the client with "
	    "1008."),
	O("origins", CONFIG_STR, origins, 0, 0,
	    "Web origins allowed to open WebSocket sessions, comma-separated "
	    "(https://app.example.org, ...), compared with the browser's "
	    "Origin header; an upgrade from any other origin gets 403 with "
	    "Atmosphere-Relay-Refused: origin. Empty = any origin. Requests "
	    "without Origin (non-browser clients) are not affected.",
	    .arg = "origin,...", .dflt = "any"),
	O("cors_origins", CONFIG_STR, cors_origins, 0, 0,
	    "Web origins that may read /health from a page (CORS), "
	    "comma-separated, or * for any; OPTIONS answers the preflight. "
	    "Empty = none.", .arg = "origin,..."),
	O("proxy_protocol_from", CONFIG_STR, proxy_from, 0, 0,
	    "Load balancers (addresses or prefixes: 10.0.0.5, 10.1.0.0/16, "
	    "2001:db8::/48) whose connections start with a PROXY protocol v2 "
	    "header (HAProxy send-proxy-v2); its client address is then the "
	    "one limits, logs and session.list see. A connection from these "
	    "without a valid header is closed; from anyone else a header is "
	    "a bad request. Empty = none; a reload applies to new "
	    "connections.", .arg = "address,..."),
	O("web", CONFIG_BOOL, web, 0, 1,
	    "Serve the status page and the browser member (join.html) from "
	    "web_root for GET and HEAD of any path other than /health, "
	    "/metrics and the relay's; no = 404 there as before. A missing "
	    "web_root is a warning, not an error."),
	O("web_root", CONFIG_STR, web_root, 0, 0,
	    "Directory of the static files (web/dist of the build; make "
	    "install copies them there). Opened at start and on reload; "
	    "symbolic links in it are not followed.", .arg = "path",
	    .dflt = "make install's WEBDIR, PREFIX/share/atmosphere/web"),
	O("drain", CONFIG_MS, drain_ms, 0, 600000,
	    "On SIGTERM, wait this long for the close handshakes (a second "
	    "signal ends the wait)."),
};
#undef O

static const char *const relayd_sections[] = { "relayd", NULL };

static void
relayd_conf_defaults_cb(void *c)
{
	relayd_conf_defaults(c);
}

static int	relayd_conf_finish(void *, char *, size_t);

const struct config_table relayd_conf_table = {
	.opts = relayd_opts,
	.nopts = sizeof(relayd_opts) / sizeof(relayd_opts[0]),
	.sections = relayd_sections,
	.size = sizeof(struct relayd_conf),
	.defaults = relayd_conf_defaults_cb,
	.finish = relayd_conf_finish,
};

void
relayd_conf_defaults(struct relayd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->port = RELAYD_DEFAULT_PORT;
	/* 64 KiB packets (the UDP maximum) plus room; the bench uses 64 KiB */
	c->max_frame = 128 * 1024;
	/* two peers in the common case; a few more for small meshes */
	c->max_session_clients = 8;
	c->max_sessions = 100000;
	c->max_clients = 100000;
	/* a NAT may put a whole office behind one address */
	c->max_clients_per_ip = 256;
	/*
	 * 100 Mbit/s per address group: far above what a node's relayed
	 * peers need (calls, sync, a shell), and a tenth of a 1 Gbit/s
	 * relay's link, so one address cannot take the relay for itself.
	 * The burst, a third of a second of it, lets a short transfer go
	 * at full speed.
	 */
	c->max_bytes_per_ip = 12500000;
	c->burst_bytes_per_ip = 4 * 1024 * 1024;
	/* one IPv4 address; one IPv6 /64, what a single site or host gets
	 * (RFC 6177): its 2^64 addresses are one client's */
	c->ipv4_prefix = 32;
	c->ipv6_prefix = 64;
	/* ~16 full-size packets: a burst, not a backlog */
	c->sendq_max = 1024 * 1024;
	c->slow_grace_ms = 5000;
	c->handshake_timeout_ms = 5000;
	/* NATs drop TCP mappings after minutes; 20 s pings keep them */
	c->idle_timeout_ms = 60000;
	c->ping_interval_ms = 20000;
	c->drain_ms = 3000;
	/* nothing we know fragments a packet into more than a few frames;
	 * 1024 leaves room for a streaming sender and bounds wslay's work */
	c->max_fragments = 1024;
	/* a 128 KiB message over a slow mobile link takes well under this */
	c->message_timeout_ms = 30000;
	c->web = 1;
}

/* Checks across keys, and derived values. */
static int
relayd_conf_finish(void *arg, char *err, size_t errlen)
{
	struct relayd_conf *c = arg;

	if (keys_load(c, err, errlen) == -1)
		return -1;
	if (!c->open && c->keys.n == 0) {
		snprintf(err, errlen, "no relay secret: set [relayd] secret, "
		    "secret_file or secrets (e.g. openssl rand -hex 32), or "
		    "open=yes");
		return -1;
	}
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		snprintf(err, errlen, "tls_cert and tls_key go together");
		return -1;
	}
	if (proxyv2_allow_parse(&c->proxies, c->proxy_from, err,
	    errlen) == -1)
		return -1;
	if (c->ping_interval_ms >= c->idle_timeout_ms) {
		snprintf(err, errlen, "ping_interval must be shorter than "
		    "idle_timeout");
		return -1;
	}
	return 0;
}
