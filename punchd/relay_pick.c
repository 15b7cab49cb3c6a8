/*
 * Which relay a pair session goes to: rendezvous (highest-random-weight)
 * hashing of the session name over punchd.relay_url (common/rendezvous.h).
 * Both peers of a pair hold the same list and the same session name, so
 * they compute the same order and meet on its first relay without asking
 * anyone. The relay client (common/relay_client.h) walks the order: a relay
 * that is down or refuses is passed over for the next at once, and both
 * peers, walking the same order, land on the same next one. While on a
 * later relay the client checks the first every punchd.relay_return and
 * moves back when it answers: a relay that returns takes back the sessions
 * it ranks first for, and no others (the rest never left their relay).
 *
 * The order is over the list as configured, not over the relays this node
 * found reachable: reachability is each node's own view, the list is what
 * both share. A relay reachable from one peer only parts that pair (each
 * waits on a different relay); docs/relay.md says so.
 *
 * This file also keeps what the sessions saw of each relay (down: a
 * connect that got no HTTP answer at all), for status.get and meshctl
 * relays; answers (accepted, refused) are relay_access.c's.
 */
#include <string.h>
#include <time.h>

#include <ev.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "common/rendezvous.h"
#include "punchd.h"

/*
 * Split a comma- or space-separated list (copied into buf) into urls[],
 * at most max, empty items skipped. The number of URLs.
 */
size_t
relay_pick_split(const char *list, char *buf, size_t len, const char **urls,
    size_t max)
{
	char	*s, *tok;
	size_t	 n = 0;

	strlcpy(buf, list, len);
	for (s = buf; (tok = strsep(&s, ", ")) != NULL && n < max;)
		if (*tok != '\0')
			urls[n++] = tok;
	return n;
}

/*
 * punchd's relays for one session, in its rendezvous order, into urls[]
 * (pointing into buf). The number of URLs; 0 when there are none.
 */
size_t
relay_pick_order(struct punchd *pd, const char *session, char *buf,
    size_t len, struct relay_client_url *urls, size_t max)
{
	const char	*list[RENDEZVOUS_MAX];
	size_t		 order[RENDEZVOUS_MAX], i, n;

	if (max > RENDEZVOUS_MAX)
		max = RENDEZVOUS_MAX;
	n = relay_pick_split(pd->relay_urls, buf, len, list, max);
	if (rendezvous_order(session, list, n, order) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		urls[i].url = list[order[i]];
		urls[i].region = NULL;
	}
	return n;
}

static struct relay_access_row *
relay_pick_row(struct punchd *pd, const char *url)
{
	int i;

	for (i = 0; i < pd->nrelays; i++)
		if (strcmp(pd->relays[i].url, url) == 0)
			return &pd->relays[i];
	return NULL;
}

/*
 * A pair session's relay client changed state (relay.c's on_state). An
 * attempt on a relay starts with CONNECTING, or already with the BACKOFF
 * that names the relay tried next (a connect can fail before the client
 * says CONNECTING); it ends in BACKOFF. One that ends so without any
 * answer from its relay since it began (relay_access.c stamps every
 * answer, refusals too) found that relay down. A drop of a working
 * connection is not one: CONNECTED forgets the attempt.
 */
void
relay_pick_seen(struct peer *p, enum relay_client_state state,
    const char *url)
{
	struct punchd		*pd = p->pd;
	struct relay_access_row	*r;
	double			 now = ev_now(pd->loop);

	switch (state) {
	case RELAY_CLIENT_CONNECTING:
		if (p->relay_try_url != url) {
			p->relay_try_url = url;
			p->relay_try_at = now;
		}
		return;
	case RELAY_CLIENT_BACKOFF:
		if (p->relay_try_url != NULL && (r = relay_pick_row(pd,
		    p->relay_try_url)) != NULL && r->heard_at <
		    p->relay_try_at && !r->down) {
			r->down = 1;
			r->down_at = (double)time(NULL);
			log_notice("relay %s: no answer, down for the sessions "
			    "it ranks first (they go to the next relay)",
			    r->url);
		}
		p->relay_try_url = url;
		p->relay_try_at = now;
		return;
	default:
		p->relay_try_url = NULL;
		p->relay_try_at = 0;
		return;
	}
}

/*
 * The pair sessions connected to url: how many, how many carry a relayed
 * peer's traffic, and the lowest WebSocket ping RTT among them in ms
 * (-1: none measured yet).
 */
void
relay_pick_usage(struct punchd *pd, const char *url, int *sessions,
    int *relayed, double *rtt_ms)
{
	struct peer	*p;
	double		 rtt;

	*sessions = *relayed = 0;
	*rtt_ms = -1;
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (p->relay == NULL || relay_client_state(p->relay) !=
		    RELAY_CLIENT_CONNECTED || strcmp(relay_client_url(p->relay),
		    url) != 0)
			continue;
		(*sessions)++;
		*relayed += p->state == PEER_RELAYED;
		if ((rtt = relay_client_rtt(p->relay)) >= 0 &&
		    (*rtt_ms < 0 || rtt * 1000 < *rtt_ms))
			*rtt_ms = rtt * 1000;
	}
}
