#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/netaddr.h"
#include "stund.h"

/* O(key, type, field, min, max, help, ...): arg, dflt, flags may follow */
#define O(k, t, f, mn, mx, h, ...) \
	{ .section = "stund", .key = k, .type = t, \
	  .offset = offsetof(struct stund_config, f), \
	  .size = sizeof(((struct stund_config *)0)->f), .min = mn, .max = mx, \
	  .help = h, __VA_ARGS__ }

static const struct config_opt stund_opts[] = {
	O("servers", CONFIG_STR, servers, 0, 0,
	    "STUN servers queried in parallel, comma-separated (at most 8, "
	    "port 3478 when omitted); none or empty for a server-only stund.",
	    .arg = "host:port,..."),
	O("timeout", CONFIG_MS, timeout_ms, 100, 60000,
	    "Overall bound of one discovery."),
	O("rto", CONFIG_MS, rto_ms, 50, 10000,
	    "Initial STUN retransmission timeout, doubled each time "
	    "(RFC 8489)."),
	O("cache_ttl", CONFIG_MS, cache_ttl_ms, 0, 86400000,
	    "Answer stun.discover with the public endpoint from the cache "
	    "this long."),
	O("refresh", CONFIG_MS, refresh_ms, 0, 86400000,
	    "Rediscover periodically, 0 = off."),
	O("nat_refresh", CONFIG_MS, nat_refresh_ms, 0, 86400000,
	    "Rerun NAT behaviour discovery (RFC 5780) periodically, 0 = off."),
	O("nat_timeout", CONFIG_MS, nat_timeout_ms, 100, 60000,
	    "Wait this long for a filtering test answer that may never come."),
	O("hairpin_test", CONFIG_BOOL, hairpin_test, 0, 1,
	    "After the NAT behaviour tests, send a Binding request to our own "
	    "public address to learn whether the NAT hairpins (meshctl "
	    "network); it costs up to nat_timeout when the NAT does not."),
	O("server", CONFIG_BOOL, server, 0, 1,
	    "Answer STUN Binding requests (server mode)."),
	O("listen", CONFIG_STR, listen, 0, 0,
	    "Server mode: the primary address, numeric; a specific IP when "
	    "alt_ip is set.", .arg = "ip:port"),
	O("alt_ip", CONFIG_STR, alt_ip, 0, 0,
	    "Server mode: the RFC 5780 alternate address (OTHER-ADDRESS, "
	    "CHANGE-REQUEST); needs a specific listen address of the same "
	    "family, and differs from it.", .arg = "ip",
	    .dflt = "no RFC 5780"),
	O("alt_port", CONFIG_INT, alt_port, 0, 65535,
	    "Server mode: the RFC 5780 alternate port, 0 = the primary port "
	    "+ 1.", .arg = "port"),
	O("software", CONFIG_STR, software, 0, 0,
	    "SOFTWARE attribute in server responses, empty = none."),
	O("rate_limit", CONFIG_INT, rate_limit, 0, 1000000,
	    "Server mode: answers per second per source address (IPv6: per "
	    "/64), 0 = unlimited."),
	O("socket", CONFIG_STR, socket, 0, 0, "IPC socket.", .arg = "path",
	    .dflt = "$RUNTIME_DIRECTORY/stund.sock", .flags = CONFIG_RESTART),
	O("metrics_file", CONFIG_STR, metrics_file, 0, 0,
	    "Write the status.get counters here in Prometheus text format "
	    "(node_exporter's textfile collector), an absolute path; mode "
	    "0644, replaced atomically, removed when stund stops.",
	    .arg = "path", .dflt = "off"),
	O("metrics_interval", CONFIG_MS, metrics_interval_ms, 100, 3600000,
	    "Rewrite metrics_file this often."),
};
#undef O

static const char *const stund_sections[] = { "stund", NULL };

static void
stund_config_defaults_cb(void *c)
{
	stund_config_defaults(c);
}

static int
stund_config_check_cb(void *c, char *err, size_t errlen)
{
	return stund_config_check(c, err, errlen);
}

const struct config_table stund_config_table = {
	.opts = stund_opts,
	.nopts = sizeof(stund_opts) / sizeof(stund_opts[0]),
	.sections = stund_sections,
	.size = sizeof(struct stund_config),
	.defaults = stund_config_defaults_cb,
	.finish = stund_config_check_cb,
};

void
stund_config_defaults(struct stund_config *c)
{
	memset(c, 0, sizeof(*c));
	/* the seeds' default servers, and one that answers RFC 5780
	 * (OTHER-ADDRESS, CHANGE-REQUEST: stuntman's public server), without
	 * which filtering cannot be measured */
	strlcpy(c->servers, "stun.l.google.com:19302, stun.cloudflare.com:3478, "
	    "stun.stunprotocol.org:3478", sizeof(c->servers));
	c->timeout_ms = 3000;
	c->rto_ms = 500;
	c->cache_ttl_ms = 60000;
	c->refresh_ms = 300000;
	c->nat_refresh_ms = 1800000;
	c->nat_timeout_ms = 1500;
	c->hairpin_test = 1;
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
	return config_load(&stund_config_table, c, path, optional, err, errlen);
}

int
stund_config_override(struct stund_config *c, const char *arg, char *err,
    size_t errlen)
{
	return config_set_arg(&stund_config_table, c, arg, err, errlen);
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
		char	list[sizeof(c->servers)], *p, *tok;
		int	n = 0;

		strlcpy(list, c->servers, sizeof(list));
		for (p = list; (tok = strsep(&p, ", ")) != NULL;) {
			if (*tok == '\0')
				continue;
			/* here, not only in stund_config_servers: a reload
			 * with too many is refused like any bad value */
			if (++n > STUND_MAX_SERVERS) {
				snprintf(err, errlen, "stund.servers: more "
				    "than %d servers", STUND_MAX_SERVERS);
				return -1;
			}
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
