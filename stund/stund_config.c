#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "stund.h"

#define O(k, t, f, mn, mx, h) \
	{ "stund", k, t, offsetof(struct stund_config, f), \
	  sizeof(((struct stund_config *)0)->f), mn, mx, h }

static const struct config_opt stund_opts[] = {
	O("servers", CONFIG_STR, servers, 0, 0,
	    "STUN servers queried in parallel, comma-separated HOST:PORT; "
	    "empty or none for server-only"),
	O("timeout", CONFIG_MS, timeout_ms, 100, 60000,
	    "overall bound of one discovery (default 3s)"),
	O("rto", CONFIG_MS, rto_ms, 50, 10000,
	    "initial retransmission timeout, doubled each time (RFC 8489, 500ms)"),
	O("cache_ttl", CONFIG_MS, cache_ttl_ms, 0, 86400000,
	    "serve the public endpoint from cache this long (default 60s)"),
	O("refresh", CONFIG_MS, refresh_ms, 0, 86400000,
	    "rediscover periodically (default 5m, 0 = off)"),
	O("nat_refresh", CONFIG_MS, nat_refresh_ms, 0, 86400000,
	    "rerun NAT behaviour discovery periodically (default 30m, 0 = off)"),
	O("nat_timeout", CONFIG_MS, nat_timeout_ms, 100, 60000,
	    "wait for a filtering test answer that may never come (default 1500ms)"),
	O("server", CONFIG_BOOL, server, 0, 1,
	    "answer STUN Binding requests (server mode)"),
	O("listen", CONFIG_STR, listen, 0, 0,
	    "server mode: primary IP:PORT (default 0.0.0.0:3478)"),
	O("alt_ip", CONFIG_STR, alt_ip, 0, 0,
	    "server mode: alternate IP for RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST)"),
	O("alt_port", CONFIG_INT, alt_port, 0, 65535,
	    "server mode: alternate port for RFC 5780 (0 = primary port + 1)"),
	O("software", CONFIG_STR, software, 0, 0,
	    "SOFTWARE attribute in server responses (empty = none)"),
	O("rate_limit", CONFIG_INT, rate_limit, 0, 1000000,
	    "server mode: answers per second per source IP, IPv6 per /64 (0 = unlimited; default 200)"),
	O("socket", CONFIG_STR, socket, 0, 0,
	    "IPC socket path (default $RUNTIME_DIRECTORY/stund.sock)"),
	O("metrics_file", CONFIG_STR, metrics_file, 0, 0,
	    "write status.get as Prometheus text to this file "
	    "(node_exporter's textfile collector; empty = off)"),
	O("metrics_interval", CONFIG_MS, metrics_interval_ms, 100, 3600000,
	    "rewrite metrics_file this often (default 15s)"),
};

static const char *const stund_sections[] = { "stund", NULL };

static const struct config_table stund_table = {
	stund_opts, sizeof(stund_opts) / sizeof(stund_opts[0]), stund_sections
};

void
stund_config_defaults(struct stund_config *c)
{
	memset(c, 0, sizeof(*c));
	/* the seeds' default servers */
	strlcpy(c->servers, "stun.l.google.com:19302, stun.cloudflare.com:3478",
	    sizeof(c->servers));
	c->timeout_ms = 3000;
	c->rto_ms = 500;
	c->cache_ttl_ms = 60000;
	c->refresh_ms = 300000;
	c->nat_refresh_ms = 1800000;
	c->nat_timeout_ms = 1500;
	c->server = 0;
	strlcpy(c->listen, "0.0.0.0:3478", sizeof(c->listen));
	strlcpy(c->software, "atmosphere", sizeof(c->software));
	c->rate_limit = 200;
	c->metrics_interval_ms = 15000;
}

int
stund_config_load(struct stund_config *c, const char *path, int optional,
    char *err, size_t errlen)
{
	return config_load(&stund_table, c, path, optional, err, errlen);
}

int
stund_config_override(struct stund_config *c, const char *arg, char *err,
    size_t errlen)
{
	return config_set_arg(&stund_table, c, arg, err, errlen);
}

int
stund_config_check(const struct stund_config *c, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	char			host[256];
	int			port;

	if (c->server) {
		if (netaddr_parse(c->listen, 3478, &ss) == -1) {
			snprintf(err, errlen, "stund.listen: '%s' is not a "
			    "numeric IP:PORT", c->listen);
			return -1;
		}
		if (c->alt_ip[0] != '\0') {
			struct sockaddr_storage alt;

			if (netaddr_parse(c->alt_ip, 1, &alt) == -1 ||
			    alt.ss_family != ss.ss_family) {
				snprintf(err, errlen, "stund.alt_ip: '%s' is "
				    "not an IP of the same family as listen",
				    c->alt_ip);
				return -1;
			}
			if (ss.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == 0 :
			    IN6_IS_ADDR_UNSPECIFIED(
			    &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
				snprintf(err, errlen, "stund.alt_ip needs a "
				    "specific listen address (RESPONSE-ORIGIN "
				    "and OTHER-ADDRESS name real IPs)");
				return -1;
			}
			if (netaddr_equal_ip((struct sockaddr *)&alt,
			    (struct sockaddr *)&ss)) {
				snprintf(err, errlen, "stund.alt_ip must differ "
				    "from the listen address");
				return -1;
			}
		}
	}
	if (c->metrics_file[0] != '\0' && c->metrics_file[0] != '/') {
		snprintf(err, errlen, "stund.metrics_file: '%s' is not an "
		    "absolute path", c->metrics_file);
		return -1;
	}
	if (strcmp(c->servers, "none") != 0) {
		char list[sizeof(c->servers)], *p, *tok;

		strlcpy(list, c->servers, sizeof(list));
		for (p = list; (tok = strsep(&p, ", ")) != NULL;) {
			if (*tok == '\0')
				continue;
			if (netaddr_split(tok, 3478, host, sizeof(host),
			    &port) == -1) {
				snprintf(err, errlen, "stund.servers: '%s' is "
				    "not HOST:PORT", tok);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * The IPC socket is bound once; everything else in [stund] applies on
 * SIGHUP (stund.c's reload restarts the STUN server when its keys change).
 */
int
stund_config_keep(struct stund_config *next, const struct stund_config *running,
    const char *file)
{
	if (strcmp(next->socket, running->socket) == 0)
		return 0;
	log_notice("stund.socket changed in %s: takes effect at restart, the "
	    "running value is kept", file);
	strlcpy(next->socket, running->socket, sizeof(next->socket));
	return 1;
}

int
stund_config_servers(struct stund *sd, char *err, size_t errlen)
{
	char	 list[sizeof(sd->cfg.servers)], *p, *tok;

	sd->nservers = 0;
	if (!strcmp(sd->cfg.servers, "none"))
		return 0;
	strlcpy(list, sd->cfg.servers, sizeof(list));
	for (p = list; (tok = strsep(&p, ", ")) != NULL;) {
		if (*tok == '\0')
			continue;
		if (sd->nservers == STUND_MAX_SERVERS) {
			snprintf(err, errlen, "stund.servers: more than %d "
			    "servers", STUND_MAX_SERVERS);
			return -1;
		}
		memset(&sd->servers[sd->nservers], 0, sizeof(sd->servers[0]));
		strlcpy(sd->servers[sd->nservers].name, tok,
		    sizeof(sd->servers[0].name));
		sd->nservers++;
	}
	return 0;
}

void
stund_config_usage(void)
{
	config_print_keys(&stund_table);
}
