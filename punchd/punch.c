/*
 * Hole punching state machine for one peer (see punch.h). Pure logic:
 * the caller owns sockets, keys and timers.
 */
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"
#include "punch.h"

/* RFC 8445 5.1.2.2: host 126, server-reflexive 100, relayed 0; our
 * peer-reflexive candidates come from authenticated PUNCHes, so they rank
 * between host and server-reflexive as in ICE. A mapped candidate (a port
 * the gateway forwards to us) is reachable from anywhere, unlike a
 * server-reflexive one behind a filtering NAT: 120, just below host. */
static const uint32_t type_pref[CAND_NTYPES] = { 126, 110, 100, 0, 120 };

uint32_t
punch_cand_prio(enum punch_cand_type type, int index)
{
	uint32_t local = index < 0 ? 65535 : index > 65535 ? 0 :
	    65535 - (uint32_t)index;

	/* RFC 8445 5.1.2.1, one component */
	return (type_pref[type] << 24) + (local << 8) + (256 - 1);
}

uint64_t
punch_pair_prio(uint32_t g, uint32_t d)
{
	/* RFC 8445 6.1.2.3 */
	uint64_t lo = g < d ? g : d, hi = g < d ? d : g;

	return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

const char *
punch_cand_type_str(enum punch_cand_type type)
{
	static const char *const names[CAND_NTYPES] = { "host", "prflx",
	    "srflx", "relay", "mapped" };

	return (unsigned)type < CAND_NTYPES ? names[type] : "?";
}

const char *
punch_state_str(enum punch_state s)
{
	static const char *const names[] = { "idle", "running", "done",
	    "failed" };

	return (unsigned)s < 4 ? names[s] : "?";
}

void
punch_init(struct punch *p, const struct punch_params *params,
    punch_send_fn *send, punch_rand_fn *rnd, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->params = *params;
	p->controlling = -1;
	p->state = PUNCH_IDLE;
	p->selected = -1;
	p->nominating = -1;
	p->local_prio = punch_cand_prio(CAND_HOST, 0);
	p->next_id = 1;
	p->send = send;
	p->rand = rnd;
	p->arg = arg;
}

void
punch_free(struct punch *p)
{
	free(p->pairs);
	p->pairs = NULL;
	p->npairs = p->cap = 0;
}

static void
punch_pair_reprio(struct punch *p, struct punch_pair *pp)
{
	int i, n = 0;

	for (i = 0; i < p->npairs; i++)
		if (&p->pairs[i] != pp && p->pairs[i].remote.type ==
		    pp->remote.type && p->pairs[i].remote.id < pp->remote.id)
			n++;
	pp->remote.prio = punch_cand_prio(pp->remote.type, n);
	/* ordering does not depend on who controls: use ours as G */
	pp->prio = punch_pair_prio(p->local_prio, pp->remote.prio);
}

int
punch_find(const struct punch *p, const struct sockaddr *addr)
{
	int i;

	for (i = 0; i < p->npairs; i++)
		if (netaddr_equal((const struct sockaddr *)
		    &p->pairs[i].remote.addr, addr))
			return i;
	return -1;
}

/*
 * The table is full (a peer that keeps roaming leaves a trail of
 * peer-reflexive addresses): the lowest-priority pair that is neither in
 * use nor proven makes room. Indices of the others do not move.
 */
static int
punch_victim(const struct punch *p)
{
	int i, v = -1;

	for (i = 0; i < p->npairs; i++) {
		if (i == p->selected || i == p->nominating ||
		    p->pairs[i].state == PAIR_SUCCEEDED)
			continue;
		if (v == -1 || p->pairs[i].prio < p->pairs[v].prio)
			v = i;
	}
	return v;
}

int
punch_add_remote(struct punch *p, enum punch_cand_type type,
    const struct sockaddr *addr)
{
	struct punch_pair	*pp, *np;
	int			 i, n;

	if ((i = punch_find(p, addr)) != -1) {
		if (type_pref[type] > type_pref[p->pairs[i].remote.type]) {
			p->pairs[i].remote.type = type;
			punch_pair_reprio(p, &p->pairs[i]);
		}
		return i;
	}
	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)
		return -1;
	if (p->npairs == p->cap && p->cap < PUNCH_MAX_CANDS) {
		n = p->cap + PUNCH_GROW;
		if (n > PUNCH_MAX_CANDS)
			n = PUNCH_MAX_CANDS;
		if ((np = reallocarray(p->pairs, n, sizeof(*np))) == NULL)
			return -1;
		p->pairs = np;
		p->cap = n;
	}
	if (p->npairs < p->cap)
		i = p->npairs++;
	else if ((i = punch_victim(p)) == -1)
		return -1;
	pp = &p->pairs[i];
	memset(pp, 0, sizeof(*pp));
	pp->remote.id = p->next_id++;
	pp->remote.type = type;
	memcpy(&pp->remote.addr, addr, netaddr_len(addr));
	pp->state = PAIR_WAITING;
	if (p->rand != NULL)
		p->rand(p->arg, pp->txid, sizeof(pp->txid));
	punch_pair_reprio(p, pp);
	return i;
}

static void
punch_send_one(struct punch *p, int i, uint8_t type, double now,
    const struct packet_punch *answered, const struct sockaddr *to,
    int nominate)
{
	struct punch_pair	*pp = &p->pairs[i];
	struct packet_punch	 out;

	memset(&out, 0, sizeof(out));
	memcpy(out.txid, answered != NULL ? answered->txid : pp->txid,
	    PACKET_TXID_LEN);
	out.local_cand = 1;	/* our one socket */
	out.remote_cand = answered != NULL ? answered->local_cand :
	    pp->remote.id;
	out.ts = (uint64_t)(now * 1e6);
	out.echo = answered != NULL ? answered->ts : 0;
	if (p->controlling == 1)
		out.pflags |= PACKET_PF_CONTROLLING;
	if (nominate)
		out.pflags |= PACKET_PF_NOMINATE;
	/* PUNCH: where we sent it; ACK/CONFIRM: where the answered came from */
	packet_punch_set_addr(&out, to);
	p->send(p->arg, type, &out, to);
}

void
punch_start(struct punch *p, double now)
{
	int i;

	p->state = PUNCH_RUNNING;
	p->started = now;
	p->selected = -1;
	p->nominating = -1;
	for (i = 0; i < p->npairs; i++) {
		p->pairs[i].state = PAIR_WAITING;
		p->pairs[i].sends = 0;
		p->pairs[i].nominate = 0;
		if (p->rand != NULL)
			p->rand(p->arg, p->pairs[i].txid, PACKET_TXID_LEN);
	}
}

/* Pair indices in check order: highest priority first, ties by age. */
int
punch_order(const struct punch *p, int *idx)
{
	int i, j, t;

	for (i = 0; i < p->npairs; i++)
		idx[i] = i;
	for (i = 1; i < p->npairs; i++)
		for (j = i; j > 0 && p->pairs[idx[j]].prio >
		    p->pairs[idx[j - 1]].prio; j--) {
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return p->npairs;
}

double
punch_tick(struct punch *p, double now)
{
	int			 idx[PUNCH_MAX_CANDS], n, k, i;
	struct punch_pair	*pp;

	if (p->state != PUNCH_RUNNING)
		return 0;
	if (now - p->started >= p->params.timeout) {
		p->state = PUNCH_FAILED;
		p->nominating = -1;
		return 0;
	}
	n = punch_order(p, idx);
	for (k = 0; k < n; k++) {
		i = idx[k];
		pp = &p->pairs[i];
		if (i == p->nominating) {
			punch_send_one(p, i, PACKET_PUNCH, now, NULL,
			    (struct sockaddr *)&pp->remote.addr, 1);
			continue;
		}
		if (pp->state != PAIR_WAITING && pp->state != PAIR_INPROGRESS)
			continue;
		if (pp->sends >= p->params.max_sends) {
			pp->state = PAIR_FAILED;
			continue;
		}
		pp->sends++;
		pp->state = PAIR_INPROGRESS;
		punch_send_one(p, i, PACKET_PUNCH, now, NULL,
		    (struct sockaddr *)&pp->remote.addr, 0);
	}
	return now + p->params.interval;
}

static int
punch_select(struct punch *p, int i)
{
	int changed = p->state != PUNCH_DONE || p->selected != i;

	p->selected = i;
	p->nominating = -1;
	p->state = PUNCH_DONE;
	return changed ? PUNCH_EV_SELECTED : PUNCH_EV_NONE;
}

static void
punch_valid(struct punch *p, int i, const struct packet_punch *in, double now)
{
	struct punch_pair *pp = &p->pairs[i];

	pp->state = PAIR_SUCCEEDED;
	if (in->echo != 0 && (double)in->echo <= now * 1e6)
		pp->rtt = (now * 1e6 - (double)in->echo) / 1e6;
}

/* Controlling side: the first valid pair is the one it nominates. */
static void
punch_maybe_nominate(struct punch *p, int i, double now)
{
	if (p->controlling != 1 || p->state != PUNCH_RUNNING ||
	    p->nominating != -1)
		return;
	p->nominating = i;
	p->pairs[i].nominate = 1;
	punch_send_one(p, i, PACKET_PUNCH, now, NULL,
	    (struct sockaddr *)&p->pairs[i].remote.addr, 1);
}

int
punch_input(struct punch *p, uint8_t type, const struct packet_punch *in,
    const struct sockaddr *from, double now)
{
	int i, nom = (in->pflags & PACKET_PF_NOMINATE) != 0, ours;

	if ((i = punch_find(p, from)) == -1 &&
	    (i = punch_add_remote(p, CAND_PRFLX, from)) == -1)
		return PUNCH_EV_NONE;	/* full: stay silent */

	switch (type) {
	case PACKET_PUNCH:
		/* ACK carries NOMINATE when it confirms a nomination, or
		 * when the controlling side already uses this pair */
		ours = (p->controlling == 0 && nom) || (p->controlling == 1 &&
		    p->state == PUNCH_DONE && p->selected == i);
		punch_send_one(p, i, PACKET_PUNCH_ACK, now, in, from, ours);
		if (p->state == PUNCH_RUNNING &&
		    (p->pairs[i].state == PAIR_WAITING ||
		    p->pairs[i].state == PAIR_FAILED) &&
		    p->pairs[i].sends < p->params.max_sends) {
			/* triggered check: the path just showed it works */
			p->pairs[i].sends++;
			p->pairs[i].state = PAIR_INPROGRESS;
			punch_send_one(p, i, PACKET_PUNCH, now, NULL, from, 0);
		}
		if (p->controlling == 0 && nom)
			return punch_select(p, i);
		return PUNCH_EV_NONE;
	case PACKET_PUNCH_ACK:
		/* our transaction? (the ACK may come from another address:
		 * that address is a peer-reflexive candidate, now valid) */
		{
			int j, match = 0;

			for (j = 0; j < p->npairs; j++)
				if (!memcmp(p->pairs[j].txid, in->txid,
				    PACKET_TXID_LEN))
					match = 1;
			if (!match)
				return PUNCH_EV_NONE;	/* stale attempt */
		}
		punch_valid(p, i, in, now);
		ours = (p->controlling == 1 && p->nominating == i) ||
		    (p->controlling == 0 && nom);
		punch_send_one(p, i, PACKET_PUNCH_CONFIRM, now, in, from, ours);
		if ((p->controlling == 1 && p->nominating == i && nom) ||
		    (p->controlling == 0 && nom))
			return punch_select(p, i);
		punch_maybe_nominate(p, i, now);
		return PUNCH_EV_VALID;
	case PACKET_PUNCH_CONFIRM:
		punch_valid(p, i, in, now);
		if (nom && (p->controlling == 0 ||
		    (p->controlling == 1 && p->nominating == i)))
			return punch_select(p, i);
		punch_maybe_nominate(p, i, now);
		return PUNCH_EV_VALID;
	}
	return PUNCH_EV_NONE;
}

void
punch_probe(struct punch *p, int i, const struct sockaddr *to, double now)
{
	if (i < 0 || i >= p->npairs)
		return;
	punch_send_one(p, i, PACKET_PUNCH, now, NULL, to, 0);
}

const struct punch_pair *
punch_selected(const struct punch *p)
{
	return p->selected >= 0 ? &p->pairs[p->selected] : NULL;
}

void
punch_use(struct punch *p, int i)
{
	if (i >= 0 && i < p->npairs)
		punch_select(p, i);
}
