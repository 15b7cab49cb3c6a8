/*
 * Limits per address group: the connections from it (max_clients_per_ip)
 * and the bytes read from them (max_bytes_per_ip, a token bucket shared by
 * the group's connections).
 *
 * A group is a source address cut to a prefix: IPv4 per /32 and IPv6 per
 * /64 by default (ipv4_prefix, ipv6_prefix). A /64 is what one IPv6 site
 * or host gets (RFC 6177, SLAAC needs it), so anyone holding one holds 2^64
 * addresses; counting them one by one would give a single host 2^64 times
 * every limit. IPv4 arrives v4-mapped; its prefix counts from bit 96.
 *
 * Back-pressure, not loss: when the bucket is empty the group's
 * connections stop being read (their read watchers stop, TCP's window
 * closes on the sender) and a timer starts them again once the bucket
 * holds iplimit_resume_mark() bytes, each with an equal share of it. Nothing that
 * was read is dropped.
 *
 * A group whose last connection closes stays (with no connections) until
 * its bucket would be full again, so closing and reconnecting does not
 * refill it. The table is a chained hash with a per-process SipHash key
 * (crypto_shorthash), so nobody can aim at one chain.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "relayd/relayd.h"

struct ipgroup {
	struct ipgroup		*next;		/* hash chain */
	struct in6_addr		 key;
	unsigned		 count;		/* connections */
	struct tbucket		 tb;
	double			 share;		/* most one conn reads at once */
	struct relayd_conns	 blocked;	/* conns not read for now */
	TAILQ_ENTRY(ipgroup)	 lentry;	/* on l->paused or l->idle */
	uint8_t			 paused;
	double			 since;		/* paused since, or idle until */
	ev_timer		 timer;		/* paused: resume */
	struct iplimit		*l;
};

TAILQ_HEAD(ipgroups, ipgroup);

struct iplimit {
	struct relayd		*rd;
	iplimit_resume_fn	*resume;	/* a paused conn may read again */
	struct ipgroup		**buckets;
	size_t			  nbuckets;
	size_t			  ngroups;
	unsigned		  npaused;
	struct ipgroups		  paused;	/* reads stopped */
	struct ipgroups		  idle;		/* no conns, bucket refilling */
	int			  v4prefix, v6prefix;
	struct log_ratelimit	  log_rl;
	unsigned char		  key[crypto_shorthash_KEYBYTES];
};

#define IPLIMIT_BUCKETS	1024

static void	iplimit_timer_cb(struct ev_loop *, ev_timer *, int);

/* Bytes a paused group waits for before it is read again: a hundredth of
 * a second of its rate, at least 16 KiB, so a slow group is not woken for
 * every few bytes and a fast one not held for long; never above the burst
 * (it could never be reached). */
static double
iplimit_resume_mark(const struct relayd_conf *conf)
{
	double want = conf->max_bytes_per_ip / 100.0;

	if (want < 16384)
		want = 16384;
	return want < conf->burst_bytes_per_ip ? want :
	    conf->burst_bytes_per_ip;
}

/* The bucket gains rate bytes a second since its last refill, up to burst. */
void
tbucket_refill(struct tbucket *b, double now, double rate, double burst)
{
	if (now > b->stamp)
		b->tokens += (now - b->stamp) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->stamp = now;
}

/* `a` cut to its group: the first v4prefix bits of an IPv4 (v4-mapped)
 * address, the first v6prefix bits of an IPv6 one, the rest zero. */
void
iplimit_group_key(const struct in6_addr *a, int v4prefix, int v6prefix,
    struct in6_addr *key)
{
	int	bits, i;

	*key = *a;
	bits = IN6_IS_ADDR_V4MAPPED(a) ? 96 + v4prefix : v6prefix;
	if (bits < 0)
		bits = 0;
	for (i = 0; i < 16; i++, bits -= 8)
		if (bits <= 0)
			key->s6_addr[i] = 0;
		else if (bits < 8)
			key->s6_addr[i] &= (uint8_t)(0xff00 >> bits);
}

struct iplimit *
iplimit_new(struct relayd *rd, iplimit_resume_fn *resume)
{
	struct iplimit *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->rd = rd;
	l->resume = resume;
	l->nbuckets = IPLIMIT_BUCKETS;
	if ((l->buckets = calloc(l->nbuckets, sizeof(*l->buckets))) == NULL) {
		free(l);
		return NULL;
	}
	TAILQ_INIT(&l->paused);
	TAILQ_INIT(&l->idle);
	l->v4prefix = rd->conf.ipv4_prefix;
	l->v6prefix = rd->conf.ipv6_prefix;
	crypto_shorthash_keygen(l->key);
	return l;
}

/* Frees every group; the connections must have been resumed or gone. */
void
iplimit_free(struct iplimit *l)
{
	struct ipgroup	*g, *next;
	size_t		 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nbuckets; i++)
		for (g = l->buckets[i]; g != NULL; g = next) {
			next = g->next;
			ev_timer_stop(l->rd->loop, &g->timer);
			free(g);
		}
	free(l->buckets);
	free(l);
}

static struct ipgroup **
iplimit_slot(struct iplimit *l, const struct in6_addr *key)
{
	unsigned char	  h[crypto_shorthash_BYTES];
	uint64_t	  v;
	struct ipgroup	**pp;

	crypto_shorthash(h, (const unsigned char *)key, sizeof(*key), l->key);
	memcpy(&v, h, sizeof(v));
	for (pp = &l->buckets[v % l->nbuckets]; *pp != NULL; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->key, key, sizeof(*key)))
			break;
	return pp;
}

static void
iplimit_unlink(struct iplimit *l, struct ipgroup *g)
{
	struct ipgroup **pp = iplimit_slot(l, &g->key);

	if (*pp == g)
		*pp = g->next;
	ev_timer_stop(l->rd->loop, &g->timer);
	l->ngroups--;
	free(g);
}

/* Forget the groups without connections whose buckets are full again. */
static void
iplimit_sweep(struct iplimit *l, double now)
{
	struct ipgroup *g;

	while ((g = TAILQ_FIRST(&l->idle)) != NULL && g->since <= now) {
		TAILQ_REMOVE(&l->idle, g, lentry);
		iplimit_unlink(l, g);
	}
}

/* c joins the group of its address, unless that group already has max
 * connections (force: regardless). 0, or -1 when refused or out of memory. */
static int
iplimit_join(struct iplimit *l, struct relayd_conn *c, int force)
{
	const struct relayd_conf	*conf = &l->rd->conf;
	struct in6_addr			 key;
	struct ipgroup			**pp, *g;
	double				 now = ev_now(l->rd->loop);

	iplimit_sweep(l, now);
	iplimit_group_key(&c->addr.sin6_addr, l->v4prefix, l->v6prefix, &key);
	if ((g = *(pp = iplimit_slot(l, &key))) == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			return -1;
		g->key = key;
		g->l = l;
		g->tb.tokens = conf->burst_bytes_per_ip;
		g->tb.stamp = now;
		TAILQ_INIT(&g->blocked);
		ev_timer_init(&g->timer, iplimit_timer_cb, 0, 0);
		*pp = g;
		l->ngroups++;
	} else if (!force && g->count >= (unsigned)conf->max_clients_per_ip)
		return -1;
	else if (g->count == 0)
		TAILQ_REMOVE(&l->idle, g, lentry);
	g->count++;
	c->grp = g;
	return 0;
}

int
iplimit_add(struct iplimit *l, struct relayd_conn *c)
{
	return iplimit_join(l, c, 0);
}

static void
iplimit_resume(struct iplimit *l, struct ipgroup *g, double now)
{
	struct relayd		*rd = l->rd;
	struct relayd_conn	*c;
	unsigned		 n = 0;

	ev_timer_stop(rd->loop, &g->timer);
	/* the bucket in equal shares, so the first conn started cannot take
	 * it all every time while the others wait */
	TAILQ_FOREACH(c, &g->blocked, blocked)
		n++;
	if (n > 0)
		g->share = g->tb.tokens / n < 512 ? 512 : g->tb.tokens / n;
	if (g->paused) {
		g->paused = 0;
		TAILQ_REMOVE(&l->paused, g, lentry);
		l->npaused--;
		rd->st.ratelimited_s += now - g->since;
	}
	while ((c = TAILQ_FIRST(&g->blocked)) != NULL) {
		TAILQ_REMOVE(&g->blocked, c, blocked);
		c->throttled = 0;
		/* it had data waiting when it was stopped: not idle */
		c->last_rx = now;
		l->resume(c);
		/* TLS may hold decrypted bytes libev cannot see */
		if (c->ssl != NULL)
			ev_feed_event(rd->loop, &c->rio, EV_READ);
	}
}

/* c leaves its group (closing); an empty group stays until its bucket
 * would be full again. */
void
iplimit_del(struct iplimit *l, struct relayd_conn *c)
{
	const struct relayd_conf	*conf = &l->rd->conf;
	struct ipgroup			*g = c->grp;
	double				 now = ev_now(l->rd->loop);

	if (g == NULL)
		return;
	c->grp = NULL;
	if (c->throttled) {
		TAILQ_REMOVE(&g->blocked, c, blocked);
		c->throttled = 0;
	}
	if (TAILQ_EMPTY(&g->blocked) && g->paused)
		iplimit_resume(l, g, now);
	if (--g->count > 0) {
		iplimit_sweep(l, now);
		return;
	}
	tbucket_refill(&g->tb, now, conf->max_bytes_per_ip,
	    conf->burst_bytes_per_ip);
	if (conf->max_bytes_per_ip == 0 ||
	    g->tb.tokens >= conf->burst_bytes_per_ip)
		iplimit_unlink(l, g);
	else {
		g->since = now + (conf->burst_bytes_per_ip - g->tb.tokens) /
		    conf->max_bytes_per_ip;
		TAILQ_INSERT_TAIL(&l->idle, g, lentry);
	}
	iplimit_sweep(l, now);
}

unsigned
iplimit_count(struct iplimit *l, const struct in6_addr *addr)
{
	struct in6_addr	 key;
	struct ipgroup	*g;

	iplimit_group_key(addr, l->v4prefix, l->v6prefix, &key);
	g = *iplimit_slot(l, &key);
	return g != NULL ? g->count : 0;
}

static void
iplimit_arm(struct iplimit *l, struct ipgroup *g)
{
	const struct relayd_conf	*conf = &l->rd->conf;
	double				 want, wait;

	want = iplimit_resume_mark(conf);
	wait = (want - g->tb.tokens) / conf->max_bytes_per_ip;
	ev_timer_stop(l->rd->loop, &g->timer);
	ev_timer_set(&g->timer, wait > 0.001 ? wait : 0.001, 0);
	ev_timer_start(l->rd->loop, &g->timer);
}

/* Start reading a paused group again when its bucket has refilled enough
 * (or the limit is gone); else wait some more. */
static void
iplimit_check(struct iplimit *l, struct ipgroup *g, double now)
{
	const struct relayd_conf	*conf = &l->rd->conf;
	double				 want;

	if (conf->max_bytes_per_ip == 0) {
		iplimit_resume(l, g, now);
		return;
	}
	tbucket_refill(&g->tb, now, conf->max_bytes_per_ip,
	    conf->burst_bytes_per_ip);
	want = iplimit_resume_mark(conf);
	/* within a millisecond of it: the timer's own granularity */
	if (g->tb.tokens >= 1 && g->tb.tokens + conf->max_bytes_per_ip * 0.001
	    >= want)
		iplimit_resume(l, g, now);
	else
		iplimit_arm(l, g);
}

static void
iplimit_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ipgroup *g = container_of(w, struct ipgroup, timer);

	(void)revents;
	iplimit_check(g->l, g, ev_now(loop));
}

/* Stop reading c until its group's bucket refills. */
static void
iplimit_pause(struct iplimit *l, struct relayd_conn *c, double now)
{
	struct relayd	*rd = l->rd;
	struct ipgroup	*g = c->grp;

	if (!c->throttled) {
		c->throttled = 1;
		TAILQ_INSERT_TAIL(&g->blocked, c, blocked);
		ev_io_stop(rd->loop, &c->rio);
	}
	if (g->paused)
		return;
	g->paused = 1;
	g->since = now;
	TAILQ_INSERT_TAIL(&l->paused, g, lentry);
	l->npaused++;
	rd->st.ratelimited++;
	log_warnx_rl(&l->log_rl, 60.0, "client %llu %s: its address group is "
	    "over max_bytes_per_ip (%d bytes/s): reading it more slowly",
	    (unsigned long long)c->id, c->addr_str,
	    rd->conf.max_bytes_per_ip);
	iplimit_arm(l, g);
}

/*
 * How many of `want` bytes c may read now: all of them without a limit,
 * else what its group's bucket holds. When that is less than the resume
 * mark (and less than want), 0, and c is paused (its read watcher
 * stopped) until the bucket refills: reading the few bytes that trickle
 * in between two loop turns would spin.
 */
size_t
iplimit_allow(struct relayd_conn *c, size_t want)
{
	struct iplimit			*l = c->rd->ips;
	const struct relayd_conf	*conf = &c->rd->conf;
	struct ipgroup			*g = c->grp;
	double				 now, least;

	if (g == NULL || conf->max_bytes_per_ip == 0)
		return want;
	if (c->throttled)
		return 0;
	now = ev_now(c->rd->loop);
	tbucket_refill(&g->tb, now, conf->max_bytes_per_ip,
	    conf->burst_bytes_per_ip);
	if (g->count > 1 && g->share >= 1 && (double)want > g->share)
		want = (size_t)g->share;
	least = iplimit_resume_mark(conf);
	if ((double)want < least)
		least = (double)want;
	if (g->tb.tokens < least || g->tb.tokens < 1) {
		iplimit_pause(l, c, now);
		return 0;
	}
	return g->tb.tokens < (double)want ? (size_t)g->tb.tokens : want;
}

/* c read n bytes. */
void
iplimit_spend(struct relayd_conn *c, size_t n)
{
	if (c->grp != NULL && c->rd->conf.max_bytes_per_ip != 0)
		c->grp->tb.tokens -= (double)n;
}

/*
 * After a reload: with other prefixes every connection moves to a new
 * table (its groups start with full buckets); otherwise the paused groups
 * are checked against the new rate.
 */
void
iplimit_reconf(struct relayd *rd)
{
	struct iplimit		*l = rd->ips, *n;
	struct relayd_conn	*c;
	struct ipgroup		*g, *next;
	double			 now = ev_now(rd->loop);

	if (l->v4prefix == rd->conf.ipv4_prefix &&
	    l->v6prefix == rd->conf.ipv6_prefix) {
		TAILQ_FOREACH_SAFE(g, &l->paused, lentry, next)
			iplimit_check(l, g, now);
		return;
	}
	if ((n = iplimit_new(rd, rd->ips->resume)) == NULL) {
		log_warnx("%s: out of memory: address groups keep /%d and /%d",
		    __func__, l->v4prefix, l->v6prefix);
		return;
	}
	while ((g = TAILQ_FIRST(&l->paused)) != NULL)
		iplimit_resume(l, g, now);
	TAILQ_FOREACH(c, &rd->clients, entry)
		if (c->grp != NULL && iplimit_join(n, c, 1) == -1)
			c->grp = NULL;	/* out of memory: unlimited */
	iplimit_free(l);
	rd->ips = n;
	log_info("address groups now IPv4 /%d, IPv6 /%d", n->v4prefix,
	    n->v6prefix);
}

/* Groups known (with connections, or refilling). */
size_t
iplimit_groups(struct iplimit *l)
{
	iplimit_sweep(l, ev_now(l->rd->loop));
	return l->ngroups;
}

/* Groups paused now, and the seconds groups spent paused, these included. */
unsigned
iplimit_paused(const struct iplimit *l, double *seconds)
{
	const struct ipgroup	*g;
	double			 now = ev_now(l->rd->loop);

	*seconds = l->rd->st.ratelimited_s;
	TAILQ_FOREACH(g, &l->paused, lentry)
		*seconds += now - g->since;
	return l->npaused;
}
