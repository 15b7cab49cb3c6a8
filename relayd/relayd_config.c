/*
 * relayd's [relayd] section: the key table, defaults, and the checks that
 * make a configuration usable (a token secret unless open, cert and key
 * together). A failed load leaves the caller's struct untouched, so SIGHUP
 * with a broken file keeps the running configuration.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "relayd/relayd.h"

#define O(k, t, f, lo, hi, h) \
	{ "relayd", k, t, offsetof(struct relayd_conf, f), \
	  sizeof(((struct relayd_conf *)0)->f), lo, hi, h }

static const struct config_opt relayd_opts[] = {
	O("listen", CONFIG_STR, listen, 0, 0,
	    "address to listen on (default: all, IPv6 and IPv4)"),
	O("port", CONFIG_INT, port, 0, 65535, "TCP port (default 8080)"),
	O("open", CONFIG_BOOL, open, 0, 1,
	    "allow sessions without a token (testing only; default no)"),
	O("secret", CONFIG_STR, secret, 0, 0,
	    "relay secret for session tokens (>= 16 bytes)"),
	O("secret_file", CONFIG_STR, secret_file, 0, 0,
	    "file whose first line is the secret (instead of secret)"),
	O("secrets", CONFIG_STR, secrets, 0, 0,
	    "more token keys, ID:FILE[,ID:FILE...]: a key id (0-65535) and a "
	    "file whose first line is that key's secret (>= 16 bytes); "
	    "secret/secret_file is key id 0. Access tokens name their key, "
	    "so keys rotate: add one, reload, issue with it, remove the old "
	    "one (docs/relay-tokens.md)"),
	O("tls_cert", CONFIG_STR, tls_cert, 0, 0,
	    "PEM certificate chain: serve wss:// (with tls_key)"),
	O("tls_key", CONFIG_STR, tls_key, 0, 0, "PEM private key"),
	O("socket", CONFIG_STR, socket, 0, 0,
	    "IPC socket (default $RUNTIME_DIRECTORY/relayd.sock)"),
	O("max_frame", CONFIG_INT, max_frame, 16, 16 * 1024 * 1024,
	    "largest WebSocket message in bytes (default 131072)"),
	O("max_session_clients", CONFIG_INT, max_session_clients, 1, 65535,
	    "clients per session (default 8)"),
	O("max_sessions", CONFIG_INT, max_sessions, 1, 10000000,
	    "sessions at once (default 100000)"),
	O("max_clients", CONFIG_INT, max_clients, 1, 10000000,
	    "connections at once (default 100000)"),
	O("max_clients_per_ip", CONFIG_INT, max_clients_per_ip, 1, 10000000,
	    "connections per address group (default 256)"),
	O("max_bytes_per_ip", CONFIG_INT, max_bytes_per_ip, 0, 2000000000,
	    "bytes per second read from one address group, 0 = no limit "
	    "(default 12500000, 100 Mbit/s)"),
	O("burst_bytes_per_ip", CONFIG_INT, burst_bytes_per_ip, 16384,
	    2000000000, "bytes one address group may send at once above "
	    "that rate (default 4194304)"),
	O("ipv4_prefix", CONFIG_INT, ipv4_prefix, 16, 32,
	    "IPv4 address group: addresses sharing this prefix (default 32)"),
	O("ipv6_prefix", CONFIG_INT, ipv6_prefix, 32, 128,
	    "IPv6 address group: addresses sharing this prefix (default 64)"),
	O("sendq_max", CONFIG_INT, sendq_max, 1024, 1024 * 1024 * 1024,
	    "bytes queued towards one client before frames drop "
	    "(default 1048576)"),
	O("slow_grace", CONFIG_MS, slow_grace_ms, 0, 3600000,
	    "a client over sendq_max this long is disconnected (default 5s)"),
	O("handshake_timeout", CONFIG_MS, handshake_timeout_ms, 100, 600000,
	    "time for TLS + the whole HTTP request (default 5s)"),
	O("idle_timeout", CONFIG_MS, idle_timeout_ms, 1000, 86400000,
	    "silence before a client is dropped (default 60s)"),
	O("ping_interval", CONFIG_MS, ping_interval_ms, 100, 86400000,
	    "ping a silent client after this long (default 20s)"),
	O("drain", CONFIG_MS, drain_ms, 0, 600000,
	    "on SIGTERM, wait this long for close handshakes (default 3s)"),
};
#undef O

static const char *const relayd_sections[] = { "relayd", NULL };

static const struct config_table relayd_table = {
	relayd_opts, sizeof(relayd_opts) / sizeof(relayd_opts[0]),
	relayd_sections
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
}

int
relayd_conf_set(struct relayd_conf *c, const char *arg, char *err,
    size_t errlen)
{
	return config_set_arg(&relayd_table, c, arg, err, errlen);
}

/* Checks across keys, and derived values. */
int
relayd_conf_finish(struct relayd_conf *c, char *err, size_t errlen)
{
	if (keys_load(c, err, errlen) == -1)
		return -1;
	if (!c->open && c->keys.n == 0) {
		snprintf(err, errlen, "no relay secret: set [relayd] secret or "
		    "secret_file (e.g. openssl rand -hex 32), or open=yes");
		return -1;
	}
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		snprintf(err, errlen, "tls_cert and tls_key go together");
		return -1;
	}
	if (c->ping_interval_ms >= c->idle_timeout_ms) {
		snprintf(err, errlen, "ping_interval must be shorter than "
		    "idle_timeout");
		return -1;
	}
	return 0;
}

/*
 * Defaults, then the file, then the -o overrides, then the checks; `c` is
 * written only when all of them pass.
 */
int
relayd_conf_load(struct relayd_conf *c, const char *path, int optional,
    char **overrides, int noverrides, char *err, size_t errlen)
{
	struct relayd_conf	n;
	int			i;

	relayd_conf_defaults(&n);
	if (path != NULL && config_load(&relayd_table, &n, path, optional,
	    err, errlen) == -1)
		goto fail;
	for (i = 0; i < noverrides; i++)
		if (relayd_conf_set(&n, overrides[i], err, errlen) == -1)
			goto fail;
	if (relayd_conf_finish(&n, err, errlen) == -1)
		goto fail;
	*c = n;
	explicit_bzero(&n, sizeof(n));
	return 0;
fail:
	explicit_bzero(&n, sizeof(n));
	return -1;
}

void
relayd_conf_print_keys(void)
{
	config_print_keys(&relayd_table);
}
