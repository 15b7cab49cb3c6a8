/*
 * The joiner's race of paths (joiner_race.h), happy-eyeballs style (RFC
 * 8305's idea applied to our paths): each path asked for starts `at`
 * after the race began (local and local6 at 0, public and public6 at
 * 250 ms, relay at 500 ms by default), so a path that answers within its
 * stagger wins before the next is even tried, and a dead one costs only
 * its stagger. The two families of a kind start together: the HELLO is
 * small, and a dead family must not delay the other. Each path
 * sends the one HELLO every JOIN_RACE_RESEND until its own timeout. What
 * the winner is, and what the join does then, is joiner.c's.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/relay_client.h"
#include "punchd.h"
#include "joiner_race.h"

#define JOIN_RACE_RESEND	0.25	/* s between HELLOs */

static void joiner_race_cb(struct ev_loop *, ev_timer *, int);

const char *const joiner_path_names[JOINER_NPATHS] = { "local", "local6",
    "public", "public6", "relay" };
static const char *const joiner_race_states[] = { "absent", "waiting",
    "trying", "failed", "won", "cancelled" };

void
joiner_race_init(struct joiner_race *r, struct punchd *pd)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->pd = pd;
	for (i = 0; i < JOINER_NPATHS; i++) {
		r->t[i].race = r;
		r->t[i].path = i;
		strlcpy(r->t[i].why, "not asked for", sizeof(r->t[i].why));
		ev_init(&r->t[i].timer, joiner_race_cb);
		r->t[i].timer.data = &r->t[i];
	}
}

void
joiner_race_add(struct joiner_race *r, int path, const char *via,
    const struct sockaddr_storage *to, double at, double timeout)
{
	struct joiner_path *t = &r->t[path];

	if (via[0] == '\0') {
		strlcpy(t->why, "not in the invite", sizeof(t->why));
		return;
	}
	strlcpy(t->via, via, sizeof(t->via));
	if (to != NULL)
		t->to = *to;
	t->state = JOINER_TRY_WAITING;
	t->at = at;
	t->timeout = timeout;
}

int
joiner_race_pending(const struct joiner_race *r)
{
	int i, n = 0;

	for (i = 0; i < JOINER_NPATHS; i++)
		n += r->t[i].state == JOINER_TRY_WAITING ||
		    r->t[i].state == JOINER_TRY_TRYING;
	return n;
}

static void
joiner_race_send(struct joiner_path *t)
{
	struct joiner_race *r = t->race;

	if (t->path == JOINER_RELAY && (t->relay == NULL ||
	    relay_client_state(t->relay) != RELAY_CLIENT_CONNECTED))
		return;
	tx_send_keyed(r->pd, PACKET_JOIN_HELLO, r->key, r->hello,
	    r->hello_len, t->path == JOINER_RELAY ? NULL :
	    (struct sockaddr *)&t->to, t->relay);
}

static void
joiner_path_stop(struct joiner_path *t)
{
	ev_timer_stop(t->race->pd->loop, &t->timer);
	if (t->relay != NULL)
		relay_client_stop(t->relay);	/* freed with the race */
}

void
joiner_race_end(struct joiner_race *r, int path, enum joiner_try_state st,
    const char *why)
{
	struct joiner_path *t = &r->t[path];

	joiner_path_stop(t);
	t->state = st;
	t->ended = punchd_time(r->pd);
	strlcpy(t->why, why, sizeof(t->why));
	if (st != JOINER_TRY_FAILED)
		return;
	log_info("join: %s %s: %s", joiner_path_names[path], t->via, why);
	if (joiner_race_pending(r) == 0 && r->over != NULL)
		r->over(r->arg);
}

static void
joiner_race_frame(void *arg, const void *data, size_t len)
{
	struct joiner_path	*t = arg;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_MTU];

	if ((len = relay_frame_packet(data, len, buf, sizeof(buf))) > 0 &&
	    t->race->rx != NULL)
		t->race->rx(t->race->arg, buf, len);
}

static void
joiner_race_relay_state(void *arg, enum relay_client_state state,
    const char *url)
{
	struct joiner_path *t = arg;

	const struct relay_client_refusal *rf;
	char			 msg[200], why[sizeof(t->why)];

	(void)url;
	if (state == RELAY_CLIENT_CONNECTED && t->state == JOINER_TRY_TRYING) {
		t->relay_seen = 1;
		joiner_race_send(t);
	} else if (state == RELAY_CLIENT_BACKOFF &&
	    t->state == JOINER_TRY_TRYING &&
	    (rf = relay_client_refusal(t->relay)) != NULL) {
		/* refused (token, full): no use waiting for the timeout;
		 * joiner_race_end only stops the client, never frees it */
		relay_access_say(t->race->pd, rf->url, rf->text, msg,
		    sizeof(msg));
		if (snprintf(why, sizeof(why), "%s: %s", msg,
		    relay_access_hint(rf->reason)) >= (int)sizeof(why))
			memcpy(why + sizeof(why) - 4, "...", 4);
		t->race->relay_refused = 1;
		joiner_race_end(t->race, t->path, JOINER_TRY_FAILED, why);
	}
}

/* why a path ran out of time */
static void
joiner_race_timeout(struct joiner_path *t, char *why, size_t len)
{
	if (t->path != JOINER_RELAY)
		snprintf(why, len, "no answer within %.0f ms",
		    t->timeout * 1000);
	else if (!t->relay_seen)
		snprintf(why, len, "relay not reached within %.0f ms (%s)",
		    t->timeout * 1000, relay_client_state_str(
		    relay_client_state(t->relay)));
	else
		snprintf(why, len, "no answer through the relay within %.0f ms "
		    "(the inviter is not in its session)", t->timeout * 1000);
}

static void
joiner_race_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct joiner_path	*t = w->data;
	struct joiner_race	*r = t->race;
	char			 why[200];

	(void)loop;
	(void)revents;
	if (t->state == JOINER_TRY_WAITING) {
		t->state = JOINER_TRY_TRYING;
		t->started = punchd_time(r->pd);
		log_info("join: trying %s %s", joiner_path_names[t->path],
		    t->via);
		if (t->path == JOINER_RELAY && (t->relay =
		    relay_join_open_token(r->pd, t->via, r->secret,
		    r->relay_token, joiner_race_frame,
		    joiner_race_relay_state, t)) == NULL) {
			joiner_race_end(r, t->path, JOINER_TRY_FAILED,
			    "cannot make a relay client for this URL");
			return;
		}
	} else if (punchd_time(r->pd) - t->started >= t->timeout) {
		joiner_race_timeout(t, why, sizeof(why));
		joiner_race_end(r, t->path, JOINER_TRY_FAILED, why);
		return;
	}
	joiner_race_send(t);
	ev_timer_set(w, JOIN_RACE_RESEND, 0);
	ev_timer_start(r->pd->loop, w);
}

void
joiner_race_start(struct joiner_race *r)
{
	int i;

	r->started = punchd_time(r->pd);
	for (i = 0; i < JOINER_NPATHS; i++)
		if (r->t[i].state == JOINER_TRY_WAITING) {
			ev_timer_set(&r->t[i].timer, r->t[i].at, 0);
			ev_timer_start(r->pd->loop, &r->t[i].timer);
		}
}

void
joiner_race_stop(struct joiner_race *r)
{
	int i;

	for (i = 0; i < JOINER_NPATHS; i++)
		joiner_path_stop(&r->t[i]);
}

void
joiner_race_free(struct joiner_race *r)
{
	int i;

	joiner_race_stop(r);
	for (i = 0; i < JOINER_NPATHS; i++)
		if (r->t[i].relay != NULL) {
			relay_client_free(r->t[i].relay);
			r->t[i].relay = NULL;
		}
}

/* The relay (from NULL), the UDP path the WELCOME came from, else the
 * public attempt of from's family if one runs (a NAT may answer from
 * another address than the code says), else the local one. */
int
joiner_race_winner(const struct joiner_race *r, const struct sockaddr *from)
{
	static const int guess[] = { JOINER_PUBLIC, JOINER_PUBLIC6,
	    JOINER_LOCAL, JOINER_LOCAL6 };
	size_t	i;

	if (from == NULL)
		return JOINER_RELAY;
	for (i = 0; i < JOINER_RELAY; i++)
		if (r->t[i].state == JOINER_TRY_TRYING &&
		    netaddr_equal(from, (const struct sockaddr *)&r->t[i].to))
			return (int)i;
	for (i = 0; i < sizeof(guess) / sizeof(guess[0]); i++)
		if (r->t[guess[i]].state == JOINER_TRY_TRYING &&
		    r->t[guess[i]].to.ss_family == from->sa_family)
			return guess[i];
	return r->t[JOINER_PUBLIC].state == JOINER_TRY_TRYING ?
	    JOINER_PUBLIC : JOINER_LOCAL;
}

size_t
joiner_race_why(const struct joiner_race *r, char *buf, size_t len)
{
	size_t	n = 0;
	int	i, sep = 0;

	buf[0] = '\0';
	for (i = 0; i < JOINER_NPATHS && n < len; i++)
		if (r->t[i].state == JOINER_TRY_FAILED)
			n += snprintf(buf + n, len - n, "%s%s: %s", sep++ ?
			    "; " : "", joiner_path_names[i], r->t[i].why);
	return n < len ? n : len - 1;
}

void
joiner_race_attempts(const struct joiner_race *r, struct joiner_attempt *a)
{
	int i;

	for (i = 0; i < JOINER_NPATHS; i++) {
		a[i].path = joiner_path_names[i];
		a[i].via = r->t[i].via;
		a[i].state = joiner_race_states[r->t[i].state];
		a[i].why = r->t[i].why;
		a[i].start_ms = r->t[i].started > 0 ?
		    (r->t[i].started - r->started) * 1000 : -1;
		a[i].end_ms = r->t[i].ended > 0 ?
		    (r->t[i].ended - r->started) * 1000 : -1;
	}
}
