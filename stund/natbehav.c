#include "natbehav.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "discover.h"
#include "hairpin.h"
#include "probe.h"
#include "proto/stun.h"
#include "stund.h"

enum natbehav_step {
	NB_IDLE,
	NB_TEST1,	/* discovery run on the fresh socket */
	NB_FILTER2,
	NB_FILTER3,
	NB_MAP2,
	NB_MAP3,
	NB_HAIRPIN,	/* last: to m1 from the same socket */
};

struct natbehav {
	struct stund		*sd;
	enum natbehav_step	 step;
	int			 fd;
	ev_io			 io;
	ev_timer		 refresh;
	struct discover_run	 run;
	struct probe		 probe;
	struct hairpin		 hairpin;
	int			 resolving;	/* waiting for a discovery */
	struct sockaddr_storage	 primary, alt, m1, m2;
	struct nat_result	 cur, last;
	struct discover_waiters	 waiters;
};

static void	natbehav_next(struct natbehav *nb, enum natbehav_step step);

static void	natbehav_finish(struct natbehav *nb);

/* The tests' socket: answers to the probes, and our own request when the
 * NAT hairpins it back (bounded, like probe_drain) */
static void
natbehav_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct natbehav		*nb = w->data;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	uint8_t			 buf[2048];
	ssize_t			 n;
	int			 i;

	(void)loop;
	(void)revents;
	for (i = 0; i < 64; i++) {
		fromlen = sizeof(from);
		if ((n = recvfrom(nb->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fromlen)) == -1)
			return;
		if (!hairpin_input(&nb->hairpin, buf, n))
			probe_input(&nb->sd->probes, buf, n,
			    (struct sockaddr *)&from);
	}
}

static void
natbehav_hairpin_done(struct hairpin *h, void *arg)
{
	struct natbehav *nb = arg;

	nb->cur.hairpin = h->result;
	nb->cur.hairpin_ms = h->ms;
	strlcpy(nb->cur.hairpin_note, h->note, sizeof(nb->cur.hairpin_note));
	natbehav_finish(nb);
}

/* After the mapping and filtering tests: 1 when the hairpin test started
 * (natbehav_finish comes again from its callback), 0 to finish now. */
static int
natbehav_hairpin(struct natbehav *nb)
{
	if (!nb->cur.valid || nb->fd == -1 || nb->step == NB_HAIRPIN)
		return 0;
	if (!nb->sd->cfg.hairpin_test) {
		strlcpy(nb->cur.hairpin_note, "not tested (stund.hairpin_test "
		    "= no)", sizeof(nb->cur.hairpin_note));
		return 0;
	}
	nb->step = NB_HAIRPIN;
	if (hairpin_start(&nb->hairpin, nb->sd->loop, nb->fd,
	    (struct sockaddr *)&nb->m1, nb->sd->cfg.nat_timeout_ms / 1000.0,
	    natbehav_hairpin_done, nb) == -1) {
		strlcpy(nb->cur.hairpin_note, "cannot start the test",
		    sizeof(nb->cur.hairpin_note));
		return 0;
	}
	return 1;
}

static void
natbehav_finish(struct natbehav *nb)
{
	struct stund		*sd = nb->sd;
	const char		*prev_classic = nb->last.valid ?
				    nb->last.classic : NULL;
	char			 a[NETADDR_STRLEN];
	int			 changed;

	if (natbehav_hairpin(nb))
		return;
	if (nb->fd != -1) {
		ev_io_stop(sd->loop, &nb->io);
		close(nb->fd);
		nb->fd = -1;
	}
	nb->step = NB_IDLE;
	nb->cur.when = ev_now(sd->loop);
	nb->cur.duration = nb->cur.when - nb->run.started;
	if (nb->cur.valid)
		natbehav_classify(&nb->cur);
	changed = nb->cur.valid && (prev_classic == NULL ||
	    strcmp(prev_classic, nb->cur.classic) != 0);
	if (nb->cur.valid)
		log_info("NAT: %s (mapping %s, filtering %s, behind NAT: %s, "
		    "public %s, %s via %s, %.1fs)", nb->cur.classic,
		    natbehav_term(nb->cur.mapping),
		    natbehav_term(nb->cur.filtering),
		    nb->cur.behind_nat ? "yes" : "no",
		    netaddr_str((struct sockaddr *)&nb->cur.public, a,
		    sizeof(a)), nb->cur.method, nb->cur.server,
		    nb->cur.duration);
	else
		log_warnx("NAT behaviour discovery failed: %s", nb->cur.error);
	/* a failed run keeps the last good answer visible, with the error */
	if (nb->cur.valid || !nb->last.valid)
		nb->last = nb->cur;
	else
		strlcpy(nb->last.error, nb->cur.error, sizeof(nb->last.error));
	discover_wake(sd, &nb->waiters, 0);
	if (changed && sd->changed != NULL)
		sd->changed(sd, NULL);
}

static void
natbehav_probe_cb(struct probe *p, int status, void *arg)
{
	struct natbehav *nb = arg;

	switch (nb->step) {
	case NB_FILTER2:
		if (status == PROBE_OK) {
			nb->cur.filtering = NAT_EI;
			natbehav_next(nb, NB_MAP2);
		} else
			natbehav_next(nb, NB_FILTER3);
		break;
	case NB_FILTER3:
		nb->cur.filtering = status == PROBE_OK ? NAT_AD : NAT_APD;
		natbehav_next(nb, NB_MAP2);
		break;
	case NB_MAP2:
		if (status != PROBE_OK) {
			/* the alternate address did not answer: say so */
			nb->cur.mapping = NAT_UNKNOWN;
			natbehav_finish(nb);
			break;
		}
		nb->m2 = p->mapped;
		if (netaddr_equal((struct sockaddr *)&nb->m2,
		    (struct sockaddr *)&nb->m1)) {
			nb->cur.mapping = NAT_EI;
			natbehav_finish(nb);
		} else
			natbehav_next(nb, NB_MAP3);
		break;
	case NB_MAP3:
		if (status != PROBE_OK)
			nb->cur.mapping = NAT_UNKNOWN;
		else
			nb->cur.mapping = netaddr_equal(
			    (struct sockaddr *)&p->mapped,
			    (struct sockaddr *)&nb->m2) ? NAT_AD : NAT_APD;
		natbehav_finish(nb);
		break;
	default:
		break;
	}
}

static void
natbehav_next(struct natbehav *nb, enum natbehav_step step)
{
	struct stund		*sd = nb->sd;
	struct sockaddr_storage	 dst;
	uint32_t		 change = 0;
	double			 timeout = sd->cfg.timeout_ms / 1000.0;

	nb->step = step;
	switch (step) {
	case NB_FILTER2:
		dst = nb->primary;
		change = STUN_CHANGE_IP | STUN_CHANGE_PORT;
		/* no answer is an answer here: wait less than a discovery */
		timeout = sd->cfg.nat_timeout_ms / 1000.0;
		break;
	case NB_FILTER3:
		dst = nb->primary;
		change = STUN_CHANGE_PORT;
		timeout = sd->cfg.nat_timeout_ms / 1000.0;
		break;
	case NB_MAP2:
		dst = nb->alt;
		netaddr_set_port((struct sockaddr *)&dst,
		    netaddr_port((struct sockaddr *)&nb->primary));
		break;
	case NB_MAP3:
		dst = nb->alt;
		break;
	default:
		return;
	}
	if (probe_start(&nb->probe, &sd->probes, nb->fd,
	    (struct sockaddr *)&dst, change, timeout, natbehav_probe_cb, nb)
	    == -1) {
		snprintf(nb->cur.error, sizeof(nb->cur.error),
		    "cannot start test");
		nb->cur.valid = 0;
		natbehav_finish(nb);
	}
}

static void
natbehav_test1_done(struct discover_run *r, void *arg)
{
	struct natbehav			*nb = arg;
	struct stund			*sd = nb->sd;
	const struct discover_srv_result *w, *res;
	int				 i, with_other = -1, nok = 0;

	if (!r->ok) {
		strlcpy(nb->cur.error, r->error, sizeof(nb->cur.error));
		natbehav_finish(nb);
		return;
	}
	w = &r->res[r->winner];
	nb->cur.valid = 1;
	nb->cur.public = w->mapped;
	nb->m1 = w->mapped;	/* the hairpin test's target in every method */
	nb->cur.local = r->local;
	/* RFC 5780 4.3: no NAT when the mapped address is our own */
	nb->cur.behind_nat = !netaddr_is_local((struct sockaddr *)&w->mapped);
	for (i = 0; i < r->nprobes; i++) {
		res = &r->res[i];
		if (res->state != 1)
			continue;
		nok++;
		if (with_other == -1 && res->has_other)
			with_other = i;
	}
	if (with_other != -1) {
		res = &r->res[with_other];
		nb->cur.method = "rfc5780";
		strlcpy(nb->cur.server, sd->servers[res->srv].name,
		    sizeof(nb->cur.server));
		nb->primary = sd->servers[res->srv].addr;
		nb->alt = res->other;
		nb->m1 = res->mapped;
		natbehav_next(nb, NB_FILTER2);
		return;
	}
	/* no RFC 5780 server: compare what servers on different IPs saw */
	nb->cur.method = "multi-server";
	nb->cur.filtering = NAT_UNKNOWN;
	nb->cur.mapping = NAT_UNKNOWN;
	snprintf(nb->cur.server, sizeof(nb->cur.server), "%d servers", nok);
	for (i = 0; i < r->nprobes; i++) {
		res = &r->res[i];
		if (res->state != 1 || i == r->winner ||
		    netaddr_equal_ip((struct sockaddr *)&sd->servers[res->srv].addr,
		    (struct sockaddr *)&sd->servers[w->srv].addr))
			continue;
		if (netaddr_equal((struct sockaddr *)&res->mapped,
		    (struct sockaddr *)&w->mapped)) {
			if (nb->cur.mapping == NAT_UNKNOWN)
				nb->cur.mapping = NAT_EI;
		} else
			/* at least address-dependent; the port axis needs
			 * RFC 5780 */
			nb->cur.mapping = NAT_AD;
	}
	if (!nb->cur.behind_nat && nb->cur.mapping == NAT_UNKNOWN)
		nb->cur.mapping = NAT_EI;
	natbehav_finish(nb);
}

static void
natbehav_resolved(struct stund *sd, int status, void *arg)
{
	(void)arg;
	if (status == -1)
		return;		/* shutting down */
	sd->nat->resolving = 0;
	natbehav_start(sd);
}

void
natbehav_start(struct stund *sd)
{
	struct natbehav *nb = sd->nat;

	if (nb->step != NB_IDLE || nb->resolving)
		return;
	if (sd->disc->resolved_at == 0) {
		/* server names not resolved yet: the first discovery does it */
		if (discover_request(sd, 1, natbehav_resolved, NULL) == 0)
			nb->resolving = 1;
		return;
	}
	memset(&nb->cur, 0, sizeof(nb->cur));
	nb->cur.behind_nat = -1;
	nb->cur.hairpin = -1;
	nb->cur.method = "none";
	sd->ctr.nat_tests++;
	/* IPv4: NAT behaviour is an IPv4 question in practice */
	if ((nb->fd = probe_socket(AF_INET)) == -1) {
		snprintf(nb->cur.error, sizeof(nb->cur.error),
		    "cannot open a test socket");
		natbehav_finish(nb);
		return;
	}
	ev_io_init(&nb->io, natbehav_io_cb, nb->fd, EV_READ);
	nb->io.data = nb;
	ev_io_start(sd->loop, &nb->io);
	nb->step = NB_TEST1;
	discover_run_start(&nb->run, sd, nb->fd, AF_INET,
	    sd->cfg.timeout_ms / 1000.0, natbehav_test1_done, nb);
}

static void
natbehav_refresh_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	natbehav_start(w->data);
}

int
natbehav_init(struct stund *sd)
{
	struct natbehav *nb;

	if ((nb = calloc(1, sizeof(*nb))) == NULL)
		return -1;
	nb->sd = sd;
	nb->fd = -1;
	nb->step = NB_IDLE;
	nb->last.behind_nat = -1;
	nb->last.hairpin = -1;
	nb->last.method = "none";
	TAILQ_INIT(&nb->waiters);
	ev_timer_init(&nb->refresh, natbehav_refresh_cb,
	    sd->cfg.nat_refresh_ms / 1000.0, sd->cfg.nat_refresh_ms / 1000.0);
	nb->refresh.data = sd;
	if (sd->cfg.nat_refresh_ms > 0 && sd->nservers > 0)
		ev_timer_start(sd->loop, &nb->refresh);
	sd->nat = nb;
	return 0;
}

void
natbehav_fini(struct stund *sd)
{
	struct natbehav	*nb = sd->nat;

	if (nb == NULL)
		return;
	discover_run_cancel(&nb->run);
	probe_cancel(&nb->probe);
	hairpin_cancel(&nb->hairpin);
	ev_timer_stop(sd->loop, &nb->refresh);
	if (nb->fd != -1) {
		ev_io_stop(sd->loop, &nb->io);
		close(nb->fd);
	}
	discover_wake(sd, &nb->waiters, -1);
	free(nb);
	sd->nat = NULL;
}

int
natbehav_request(struct stund *sd, int refresh,
    void (*cb)(struct stund *, int, void *), void *arg)
{
	struct natbehav *nb = sd->nat;

	if (!refresh && nb->last.valid && nb->step == NB_IDLE) {
		cb(sd, 0, arg);
		return 0;
	}
	if (discover_wait(&nb->waiters, cb, arg) == -1)
		return -1;
	/* a refresh of the behaviour refreshes the endpoint it reports too */
	if (refresh && sd->nservers > 0)
		discover_now(sd);
	natbehav_start(sd);
	return 0;
}

const struct nat_result *
natbehav_result(const struct stund *sd)
{
	return &sd->nat->last;
}

int
natbehav_running(const struct stund *sd)
{
	return sd->nat->step != NB_IDLE;
}
