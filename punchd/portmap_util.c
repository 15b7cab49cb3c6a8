/*
 * What the three port-mapping clients share: names, the default gateway
 * from /proc/net/route, the request and renewal timings, the RFC 6887
 * section 8.5 epoch check (RFC 6886 section 3.6 says the same for NAT-PMP),
 * and the bookkeeping of a granted mapping. No I/O except reading
 * /proc/net/route; times are passed in, so the unit tests use a fake clock.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "punchd/portmap_priv.h"

const char *
portmap_proto_name(enum portmap_proto p)
{
	switch (p) {
	case PORTMAP_P_UPNP:	return "upnp";
	case PORTMAP_P_NATPMP:	return "natpmp";
	case PORTMAP_P_PCP:	return "pcp";
	default:		return "?";
	}
}

const char *
portmap_pstate_name(enum portmap_pstate s)
{
	switch (s) {
	case PORTMAP_S_OFF:	return "off";
	case PORTMAP_S_TRYING:	return "trying";
	case PORTMAP_S_OFFERED:	return "offered";
	case PORTMAP_S_MAPPED:	return "mapped";
	case PORTMAP_S_FAILED:	return "failed";
	default:		return "?";
	}
}

/*
 * The gateway of the IPv4 default route with the lowest metric, from the
 * text of /proc/net/route (addresses in host-order hex of network bytes).
 */
int
portmap_default_gateway_parse(const char *text, struct in_addr *gw)
{
	const char	*line = text;
	unsigned long	 best = (unsigned long)-1;
	int		 found = 0;

	while (line != NULL && *line != '\0') {
		char		 ifname[32];
		unsigned int	 dst, gate, flags, refcnt, use, metric, mask;

		if (sscanf(line, "%31s %x %x %x %u %u %u %x", ifname, &dst,
		    &gate, &flags, &refcnt, &use, &metric, &mask) == 8 &&
		    dst == 0 && mask == 0 && (flags & 0x2) /* RTF_GATEWAY */ &&
		    (flags & 0x1) /* RTF_UP */ && metric < best) {
			best = metric;
			gw->s_addr = gate;
			found = 1;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return found ? 0 : -1;
}

int
portmap_default_gateway(struct in_addr *gw)
{
	char	 buf[8192];
	size_t	 n;
	FILE	*f = fopen("/proc/net/route", "r");

	if (f == NULL) {
		log_warn("%s: /proc/net/route", __func__);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return portmap_default_gateway_parse(buf, gw);
}

/* Wait after send number `tries` (1-based), or -1 when it was the last. */
double
portmap_retry_delay(int tries)
{
	if (tries < 1 || tries > PORTMAP_TRIES)
		return -1;
	return PORTMAP_IRT * (double)(1 << (tries - 1));
}

/* Renew at half the lease (RFC 6886 3.3, RFC 6887 11.2.1); 1 s at least. */
double
portmap_renew_delay(uint32_t lease)
{
	double d = lease / 2.0;

	return d < 1 ? 1 : d;
}

/*
 * A renewal went unanswered: try again halfway to the lease's end, or -1
 * when less than 2 s are left (the mapping is as good as gone).
 */
double
portmap_renew_retry(double now, double expires)
{
	if (expires - now < 2)
		return -1;
	return (expires - now) / 2;
}

/*
 * RFC 6887 section 8.5: the server's epoch must advance with our clock
 * (within 1/16 plus 2 s either way) and never go back by more than 1 s;
 * otherwise the gateway lost its state (a reboot) and every mapping must
 * be made again. 0: consistent (and remembered); -1: reset.
 */
int
portmap_epoch_check(struct portmap_epoch *e, uint32_t server, double now)
{
	int	ok = 1;

	if (e->have) {
		double cd = now - e->client;
		double sd = (double)server - (double)e->server;

		if ((double)server + 1 < (double)e->server)
			ok = 0;
		else if (cd + 2 < sd - sd / 16 || sd + 2 < cd - cd / 16)
			ok = 0;
	}
	e->have = 1;
	e->server = server;
	e->client = now;
	return ok ? 0 : -1;
}

void
portmap_drv_init(struct portmap_drv *d, enum portmap_proto p,
    struct ev_loop *loop, const struct portmap_drv_cb *cb, uint16_t port,
    uint32_t lease, struct in_addr gw)
{
	memset(d, 0, sizeof(*d));
	d->proto = p;
	d->loop = loop;
	d->cb = cb;
	d->port = port;
	d->lease_ask = lease;
	d->gw = gw;
	d->state = PORTMAP_S_TRYING;
}

/* Record why this protocol failed, log it once and report it. */
void
portmap_drv_fail(struct portmap_drv *d, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->state = PORTMAP_S_FAILED;
	d->have = 0;
	log_warnx("portmap: %s: %s", portmap_proto_name(d->proto), d->reason);
	d->cb->failed(d, d->reason);
}

/* The mapping held is gone or wrong: log it once and report it. */
void
portmap_drv_lost(struct portmap_drv *d, const char *why)
{
	d->have = 0;
	d->state = PORTMAP_S_TRYING;
	snprintf(d->reason, sizeof(d->reason), "%s", why);
	log_warnx("portmap: %s: mapping lost: %s", portmap_proto_name(d->proto),
	    why);
	d->cb->lost(d, why);
}

/*
 * A gateway granted ext:ext_port for `lease` s. Returns 1 when this is new
 * or different from the mapping held (report it), 0 for a plain renewal,
 * -1 for a grant that is no mapping at all (lease 0, address 0, port 0);
 * `why` says which.
 */
int
portmap_drv_grant(struct portmap_drv *d, struct in_addr ext,
    uint16_t ext_port, uint32_t lease, double now, char *why, size_t whylen)
{
	int	changed;

	if (lease == 0) {
		snprintf(why, whylen, "gateway granted a lease of 0 s "
		    "(no mapping)");
		return -1;
	}
	if (ext_port == 0) {
		snprintf(why, whylen, "gateway granted external port 0");
		return -1;
	}
	if (ext.s_addr == htonl(INADDR_ANY)) {
		snprintf(why, whylen, "gateway gave no external address");
		return -1;
	}
	changed = !d->have || d->m.ext.sin_addr.s_addr != ext.s_addr ||
	    ntohs(d->m.ext.sin_port) != ext_port;
	d->have = 1;
	d->state = PORTMAP_S_MAPPED;
	d->reason[0] = '\0';
	d->m.proto = d->proto;
	d->m.ext.sin_family = AF_INET;
	d->m.ext.sin_addr = ext;
	d->m.ext.sin_port = htons(ext_port);
	d->m.internal_port = d->port;
	d->m.lease = lease;
	d->granted = now;
	d->renew_at = now + portmap_renew_delay(lease);
	return changed;
}

/*
 * Report what a grant (g from portmap_drv_grant, not -1) means: with a
 * mapping held before (`had`), a gateway reboot (`reset` says how it was
 * seen) or another external address than `old` is first reported lost;
 * then a new or changed mapping is reported, a plain renewal only logged.
 */
void
portmap_drv_granted(struct portmap_drv *d, int g, int had,
    struct in_addr old, const char *reset)
{
	char	why[PORTMAP_REASON_LEN];

	if (had && (reset != NULL ||
	    old.s_addr != d->m.ext.sin_addr.s_addr)) {
		if (reset != NULL)
			snprintf(why, sizeof(why), "%s", reset);
		else
			snprintf(why, sizeof(why), "external address changed "
			    "from %s", inet_ntoa(old));
		portmap_drv_lost(d, why);
		d->have = 1;
		d->state = PORTMAP_S_MAPPED;
		g = 1;
	}
	if (g == 1) {
		log_info("portmap: %s: mapped %s:%u -> port %u for %u s",
		    portmap_proto_name(d->proto), inet_ntoa(d->m.ext.sin_addr),
		    ntohs(d->m.ext.sin_port), d->port, d->m.lease);
		d->cb->mapped(d);
	} else
		log_debug("portmap: %s: renewed for %u s",
		    portmap_proto_name(d->proto), d->m.lease);
}
