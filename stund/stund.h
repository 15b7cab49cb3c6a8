/*
 * stund: STUN discovery (RFC 8489), NAT behaviour discovery (RFC 5780) and
 * an optional STUN server. One struct stund owns everything; each file
 * handles one role and takes it as its first argument.
 */
#ifndef STUND_STUND_H
#define STUND_STUND_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ev.h>

#include "common/netaddr.h"
#include "common/promfile.h"
#include "probe.h"

#define STUND_VERSION		"0.1.0"
#define STUND_MAX_SERVERS	8
#define STUND_SOFTWARE		"atmosphere-stund/" STUND_VERSION

struct ipc_server;
struct ipc_conn;
struct server;
struct natbehav;
struct discover;

struct stund_config {
	char	servers[1024];		/* "host:port, host:port" */
	int	timeout_ms;		/* overall bound of one discovery */
	int	rto_ms;			/* RFC 8489 initial RTO */
	int	cache_ttl_ms;		/* answers served from cache this long */
	int	refresh_ms;		/* periodic rediscovery, 0 = off */
	int	nat_refresh_ms;		/* periodic behaviour test, 0 = off */
	int	nat_timeout_ms;		/* per filtering test (no answer expected) */
	int	hairpin_test;		/* run the hairpin test (hairpin.h) */
	int	server;			/* STUN server mode */
	char	listen[128];		/* server primary IP:PORT */
	char	alt_ip[64];		/* RFC 5780 alternate address */
	int	alt_port;		/* RFC 5780 alternate port */
	char	software[64];		/* SOFTWARE in server responses, "" none */
	int	rate_limit;		/* server: requests/s per source IP, 0 off */
	char	socket[256];		/* IPC socket path, "" = default */
	char	metrics_file[256];	/* Prometheus text, "" = off */
	int	metrics_interval_ms;
};

/* One configured STUN server and what it last said. */
struct stund_srv {
	char			name[256];	/* as configured */
	struct sockaddr_storage	addr;		/* resolved (first usable) */
	int			resolved;	/* 1 ok, 0 pending, -1 failed */
	char			error[200];	/* last failure, for people */
	int			ok;		/* last query answered */
	double			rtt_ms;
	struct sockaddr_storage	mapped;
	struct sockaddr_storage	other;		/* OTHER-ADDRESS if given */
	int			has_other;
	double			when;		/* ev_now of last answer */
};

struct stund_counters {
	uint64_t	discoveries;
	uint64_t	discovery_failures;
	uint64_t	nat_tests;
	uint64_t	ipc_requests;
};

struct stund {
	struct ev_loop		*loop;
	struct stund_config	 cfg;
	char			 cfgpath[256];
	char			 sockpath[256];
	struct ipc_server	*ipc;
	struct probe_engine	 probes;
	struct discover		*disc;
	struct natbehav		*nat;
	struct server		*srv;
	struct stund_srv	 servers[STUND_MAX_SERVERS];
	int			 nservers;
	struct stund_counters	 ctr;
	struct promfile		 metrics;	/* stund.metrics_file */
	double			 started;
	/* the public endpoint or the NAT type changed (previous endpoint when
	 * known): the one event hook, installed by control.c */
	void			(*changed)(struct stund *sd,
				    const char *previous);
};

/* stund_config.c */
void	stund_config_defaults(struct stund_config *c);
int	stund_config_load(struct stund_config *c, const char *path, int optional,
	    char *err, size_t errlen);
int	stund_config_override(struct stund_config *c, const char *arg,
	    char *err, size_t errlen);
int	stund_config_check(const struct stund_config *c, char *err,
	    size_t errlen);
/* Parse the servers list into sd->servers (names only, resolution later). */
int	stund_config_servers(struct stund *sd, char *err, size_t errlen);
/* the [stund] keys: startup.c loads and reloads through it */
extern const struct config_table stund_config_table;


#endif
