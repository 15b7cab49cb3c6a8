/*
 * portmapc: runs the port-mapping layer (punchd/portmap.h) on a loop, for
 * the NAT lab and for trying a gateway by hand.
 *
 *   portmapc [-v] [-m auto|upnp|natpmp|pcp] [-p port] [-l lease]
 *            [-g gateway] [-t timeout] [-w hold]
 *
 * Prints to stdout, one line each:
 *   mapped PROTO ADDR:PORT lease SECONDS
 *   lost PROTO REASON
 *   failed PROTO REASON
 *   status PROTO STATE [REASON]       (at exit, every protocol)
 * and exits after holding a mapping for `hold` s (default 0), deleting it
 * (0); when every protocol failed (2); after `timeout` s with no mapping
 * (3, default 15 s); on SIGINT/SIGTERM (deleting, 0). -v logs the
 * renewals (debug level) to stderr.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "punchd/portmap.h"

struct pmc {
	struct portmap	pm;
	struct ev_loop	*loop;
	double		hold;
	int		rc;
	int		mapped;
	ev_timer	check, deadline, holdt;
	ev_signal	sigint, sigterm;
};

static void
pmc_mapped_cb(void *arg, const struct portmap_mapping *m)
{
	struct pmc *c = arg;

	printf("mapped %s %s:%u lease %u\n", portmap_proto_name(m->proto),
	    inet_ntoa(m->ext.sin_addr), ntohs(m->ext.sin_port), m->lease);
	fflush(stdout);
	if (!c->mapped) {
		c->mapped = 1;
		ev_timer_stop(c->loop, &c->deadline);
		ev_timer_set(&c->holdt, c->hold, 0);
		ev_timer_start(c->loop, &c->holdt);
	}
}

static void
pmc_lost_cb(void *arg, enum portmap_proto p, const char *why)
{
	(void)arg;
	printf("lost %s %s\n", portmap_proto_name(p), why);
	fflush(stdout);
}

static void
pmc_failed_cb(void *arg, enum portmap_proto p, const char *reason)
{
	struct pmc *c = arg;

	printf("failed %s %s\n", portmap_proto_name(p), reason);
	fflush(stdout);
	/* look once the layer has done what follows a failure (a fallback
	 * to NAT-PMP starts right after this callback) */
	ev_timer_set(&c->check, 0, 0);
	ev_timer_start(c->loop, &c->check);
}

static void
pmc_check_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pmc		*c = (struct pmc *)((char *)w -
				    offsetof(struct pmc, check));
	struct portmap_status	 st;
	int			 p;

	(void)revents;
	portmap_status(&c->pm, &st);
	if (st.mapped)
		return;
	for (p = 0; p < PORTMAP_NPROTO; p++)
		if (st.proto[p].state == PORTMAP_S_TRYING)
			return;
	c->rc = 2;
	ev_break(loop, EVBREAK_ALL);
}

static void
pmc_end_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pmc *c = w->data;

	(void)revents;
	if (w == &c->deadline) {
		printf("timeout no mapping\n");
		c->rc = 3;
	}
	ev_break(loop, EVBREAK_ALL);
}

static void
pmc_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	static const struct portmap_cb cb = {
		pmc_mapped_cb, pmc_lost_cb, pmc_failed_cb
	};
	struct pmc		 c = { .hold = 0 };
	struct portmap_status	 st;
	enum portmap_mode	 mode = PORTMAP_AUTO;
	struct in_addr		 gw;
	double			 timeout = 15;
	int			 ch, port = 7777, level = LOG_LVL_INFO, p;

	portmap_init(&c.pm);
	while ((ch = getopt(argc, argv, "vm:p:l:g:t:w:")) != -1) {
		switch (ch) {
		case 'v':
			level = LOG_LVL_DEBUG;
			break;
		case 'm':
			if (portmap_mode_parse(optarg, &mode) == -1) {
				fprintf(stderr, "portmapc: bad mode '%s' (auto, "
				    "upnp, natpmp, pcp, no)\n", optarg);
				return 1;
			}
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'l':
			portmap_set_lease(&c.pm, (uint32_t)atol(optarg));
			break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &gw) != 1) {
				fprintf(stderr, "portmapc: bad gateway '%s'\n",
				    optarg);
				return 1;
			}
			portmap_set_gateway(&c.pm, gw);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'w':
			c.hold = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: portmapc [-v] [-m mode] "
			    "[-p port] [-l lease] [-g gateway] [-t timeout] "
			    "[-w hold]\n");
			return 1;
		}
	}
	log_init("portmapc", level);
	c.loop = EV_DEFAULT;
	ev_timer_init(&c.check, pmc_check_cb, 0, 0);
	ev_timer_init(&c.deadline, pmc_end_cb, timeout, 0);
	ev_timer_init(&c.holdt, pmc_end_cb, 0, 0);
	c.deadline.data = c.holdt.data = &c;
	ev_timer_start(c.loop, &c.deadline);
	ev_signal_init(&c.sigint, pmc_signal_cb, SIGINT);
	ev_signal_init(&c.sigterm, pmc_signal_cb, SIGTERM);
	ev_signal_start(c.loop, &c.sigint);
	ev_signal_start(c.loop, &c.sigterm);
	signal(SIGPIPE, SIG_IGN);
	if (portmap_start(&c.pm, c.loop, port, mode, &cb, &c) == -1)
		return 1;
	ev_run(c.loop, 0);
	portmap_status(&c.pm, &st);
	for (p = 0; p < PORTMAP_NPROTO; p++)
		printf("status %s %s%s%s\n", portmap_proto_name(p),
		    portmap_pstate_name(st.proto[p].state),
		    st.proto[p].reason[0] ? " " : "", st.proto[p].reason);
	fflush(stdout);
	portmap_stop(&c.pm);
	printf("stopped\n");
	return c.rc;
}
