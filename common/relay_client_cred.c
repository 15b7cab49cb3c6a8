/*
 * Relay client: what a relay said about our credential. The refusal of
 * the last attempt (relay_client_refusal()), and the shared credential
 * (struct relay_client_cred): one token for many clients, read at each
 * attempt, whose owner hears every relay's answer through on_answer and
 * whose change makes waiting clients try again at once.
 */
#include "relay_client_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

/* relayd's reasons (docs/relay-tokens.md), said for people */
static const struct {
	const char	*reason;
	const char	*text;
} rc_reasons[] = {
	{ "missing",	 "token required" },
	{ "malformed",	 "malformed token" },
	{ "bad_mac",	 "bad token" },
	{ "expired",	 "token expired" },
	{ "unknown_key", "unknown key" },
	{ "wrong_prefix", "token for other sessions" },
	{ "full",	 "full" },
	{ "unavailable", "unavailable" },
};

/*
 * An answer other than 101: its status, the Atmosphere-Relay-Refused value
 * (NULL when absent) and the status line's phrase. Both strings come from
 * the network: only a plain word is kept of the reason, only printable
 * bytes of the phrase.
 */
void
rc_refusal_set(struct relay_client *c, int status, const char *reason,
    const char *phrase)
{
	struct relay_client_refusal *r = &c->refusal;
	const char *text = NULL;
	char p[32];
	size_t i, n;

	memset(r, 0, sizeof(*r));
	r->url = c->urls[c->idx].url;
	r->status = status;
	if (reason != NULL) {
		n = strspn(reason, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (n > 0 && n < sizeof(r->reason) && reason[n] == '\0')
			memcpy(r->reason, reason, n + 1);
	}
	if (r->reason[0] == '\0' && status == 503)
		strlcpy(r->reason, "unavailable", sizeof(r->reason));
	for (i = 0; i < sizeof(rc_reasons) / sizeof(rc_reasons[0]); i++)
		if (strcmp(r->reason, rc_reasons[i].reason) == 0)
			text = rc_reasons[i].text;
	if (text == NULL) {
		for (i = 0; phrase[i] != '\0' && i < sizeof(p) - 1; i++)
			p[i] = isprint((unsigned char)phrase[i]) ? phrase[i] :
			    '?';
		p[i] = '\0';
		text = r->reason[0] != '\0' ? r->reason : p;
	}
	snprintf(r->text, sizeof(r->text), "%d %s", status, text);
	c->refused_now = 1;
}

const struct relay_client_refusal *
relay_client_refusal(const struct relay_client *c)
{
	return c->refusal.status != 0 ? &c->refusal : NULL;
}

int
relay_client_refusal_auth(const struct relay_client_refusal *r)
{
	return r != NULL && (r->status == 401 || r->status == 403);
}

/* An upgrade was answered: refused (r), or accepted (NULL). */
void
rc_answer(struct relay_client *c, const struct relay_client_refusal *r)
{
	if (r == NULL)
		memset(&c->refusal, 0, sizeof(c->refusal));
	if (c->cred != NULL && c->cred->on_answer != NULL)
		c->cred->on_answer(c->cred->arg, c->urls[c->idx].url, r);
}

/* The token this attempt presents. */
const char *
rc_token(struct relay_client *c)
{
	if (c->cred == NULL)
		return c->token;
	c->cred_gen = c->cred->gen;
	return c->cred->token;
}

void
rc_cred_add(struct relay_client *c)
{
	if (c->cred != NULL)
		TAILQ_INSERT_TAIL(&c->cred->clients, c, cred_entry);
}

void
rc_cred_remove(struct relay_client *c)
{
	if (c->cred != NULL)
		TAILQ_REMOVE(&c->cred->clients, c, cred_entry);
	c->cred = NULL;
}

struct relay_client_cred *
relay_client_cred_new(const char *token, void (*on_answer)(void *,
    const char *, const struct relay_client_refusal *), void *arg)
{
	struct relay_client_cred *cr;

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		return NULL;
	TAILQ_INIT(&cr->clients);
	cr->on_answer = on_answer;
	cr->arg = arg;
	if (relay_client_cred_set(cr, token) == -1) {
		free(cr);
		return NULL;
	}
	return cr;
}

static void
rc_cred_wipe(struct relay_client_cred *cr)
{
	if (cr->token != NULL)
		explicit_bzero(cr->token, strlen(cr->token));
	free(cr->token);
	cr->token = NULL;
}

int
relay_client_cred_set(struct relay_client_cred *cr, const char *token)
{
	struct relay_client *c;
	char *t = NULL;

	if (token != NULL && *token == '\0')
		token = NULL;
	if ((token == NULL && cr->token == NULL) || (token != NULL &&
	    cr->token != NULL && strcmp(token, cr->token) == 0))
		return 0;
	if (token != NULL && (t = strdup(token)) == NULL)
		return -1;
	rc_cred_wipe(cr);
	cr->token = t;
	cr->gen++;
	/* those connecting with the old token retry at once when refused
	 * (rc_fail compares cred_gen); those waiting go now */
	TAILQ_FOREACH(c, &cr->clients, cred_entry) {
		if (c->state != RELAY_CLIENT_BACKOFF)
			continue;
		c->idx = c->tried = c->round_auth = 0;
		c->attempt = 0;
		ev_timer_stop(c->loop, &c->timer);
		ev_timer_set(&c->timer, 0, 0);
		ev_timer_start(c->loop, &c->timer);
	}
	return 1;
}

const char *
relay_client_cred_token(const struct relay_client_cred *cr)
{
	return cr->token;
}

void
relay_client_cred_free(struct relay_client_cred *cr)
{
	struct relay_client *c;

	if (cr == NULL)
		return;
	/* clients left behind keep going without a token */
	while ((c = TAILQ_FIRST(&cr->clients)) != NULL)
		rc_cred_remove(c);
	rc_cred_wipe(cr);
	free(cr);
}
