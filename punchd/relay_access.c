/*
 * What the relays say to this node's credential (punchd.relay_token). One
 * credential (common/relay_client.h, struct relay_client_cred) is shared by
 * every relay session punchd opens, pair and join alike: each attempt
 * reads the token from it, so a SIGHUP with a new token reaches sessions
 * already waiting, which then retry at once. Every relay's answer comes
 * back here and is kept per relay URL; a change (refused, refused for
 * another reason, accepted again) is logged once, and status.get shows
 * the table (control.c). A refusal says what to do about it
 * (relay_access_hint): a missing token is the node's configuration, a
 * refused one is the relay operator's to replace.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "punchd.h"

static const struct {
	const char	*reason;
	const char	*hint;
} relay_access_hints[] = {
	{ "missing", "set punchd.relay_token to an access token from the "
	    "relay's operator (relayd --issue-access) and reload punchd" },
	{ "malformed", "ask the relay operator for a new token (relayd "
	    "--issue-access), set punchd.relay_token and reload punchd" },
	{ "bad_mac", "ask the relay operator for a new token (relayd "
	    "--issue-access), set punchd.relay_token and reload punchd" },
	{ "expired", "ask the relay operator for a new token (relayd "
	    "--issue-access), set punchd.relay_token and reload punchd" },
	{ "unknown_key", "ask the relay operator for a new token (relayd "
	    "--issue-access), set punchd.relay_token and reload punchd" },
	{ "wrong_prefix", "the token is for other sessions: ask the relay "
	    "operator for one for any session (relayd --issue-access)" },
	{ "full", "the relay is full: punchd retries" },
	{ "unavailable", "the relay is overloaded: punchd retries" },
};

const char *
relay_access_hint(const char *reason)
{
	size_t i;

	for (i = 0; i < sizeof(relay_access_hints) /
	    sizeof(relay_access_hints[0]); i++)
		if (strcmp(reason, relay_access_hints[i].reason) == 0)
			return relay_access_hints[i].hint;
	return "check the relay URL (punchd.relay_url or the invite's)";
}

/* "relay URL refused: 403 token expired (punchd.relay_token)" */
void
relay_access_say(struct punchd *pd, const char *url, const char *text,
    char *buf, size_t len)
{
	snprintf(buf, len, "relay %s refused: %s (%spunchd.relay_token)",
	    url, text, pd->relay_cred != NULL &&
	    relay_client_cred_token(pd->relay_cred) != NULL ? "" : "no ");
}

static struct relay_access_row *
relay_access_row(struct punchd *pd, const char *url, int create)
{
	struct relay_access_row	*r, *victim = NULL;
	int			 i;

	for (i = 0; i < pd->nrelays; i++)
		if (strcmp(pd->relays[i].url, url) == 0)
			return &pd->relays[i];
	if (!create)
		return NULL;
	if (pd->nrelays < PUNCHD_MAX_RELAYS)
		r = &pd->relays[pd->nrelays++];
	else {
		/* full: the oldest answer of a relay not configured goes */
		for (i = 0; i < pd->nrelays; i++)
			if (!pd->relays[i].configured && (victim == NULL ||
			    pd->relays[i].answered_at < victim->answered_at))
				victim = &pd->relays[i];
		if ((r = victim) == NULL)
			return NULL;
	}
	memset(r, 0, sizeof(*r));
	strlcpy(r->url, url, sizeof(r->url));
	return r;
}

static void
relay_access_answer(void *arg, const char *url,
    const struct relay_client_refusal *ref)
{
	struct punchd		*pd = arg;
	struct relay_access_row	*r;
	char			 msg[512];

	if ((r = relay_access_row(pd, url, 1)) == NULL)
		return;
	r->answered_at = (double)time(NULL);
	r->heard_at = ev_now(pd->loop);		/* up: relay_pick.c */
	r->down = 0;
	if (ref == NULL) {
		if (r->state == RELAY_ACCESS_REFUSED)
			log_notice("relay %s accepts us again", url);
		r->state = RELAY_ACCESS_ACCEPTED;
		return;
	}
	r->refusals++;
	r->refused_at = r->answered_at;
	if (r->state == RELAY_ACCESS_REFUSED && r->status == ref->status &&
	    strcmp(r->reason, ref->reason) == 0)
		return;		/* said already */
	r->state = RELAY_ACCESS_REFUSED;
	r->status = ref->status;
	strlcpy(r->reason, ref->reason, sizeof(r->reason));
	strlcpy(r->text, ref->text, sizeof(r->text));
	relay_access_say(pd, url, ref->text, msg, sizeof(msg));
	log_warnx("%s: %s", msg, relay_access_hint(ref->reason));
}

/* the configured relays have rows from the start, in their order */
static void
relay_access_configured(struct punchd *pd)
{
	char			 list[sizeof(pd->relay_urls)];
	const char		*urls[PUNCHD_MAX_RELAYS];
	struct relay_access_row	*r;
	size_t			 j, n;
	int			 i;

	for (i = 0; i < pd->nrelays; i++)
		pd->relays[i].configured = 0;
	n = relay_pick_split(pd->relay_urls, list, sizeof(list), urls,
	    PUNCHD_MAX_RELAYS);
	for (j = 0; j < n; j++)
		if ((r = relay_access_row(pd, urls[j], 1)) != NULL)
			r->configured = 1;
}

/*
 * The token every session shows: punchd.relay_token, else the one an
 * invite gave this node (mesh state, relay_access_keep), else none. The
 * kept one comes from a file: only the token alphabet goes into a header.
 */
static const char *
relay_access_token(struct punchd *pd)
{
	const char *t = pd->mesh.relay_token;

	if (pd->cfg.relay_token[0] != '\0')
		return pd->cfg.relay_token;
	if (t[0] == '\0' || t[strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-")] != '\0')
		return NULL;
	return t;
}

/* What goes into this node's invites (invite_relay_token): "" none. */
void
relay_access_invite_token(struct punchd *pd, char *buf, size_t len)
{
	const char *t = pd->cfg.invite_relay_token;

	if (strcmp(t, "auto") == 0)
		t = relay_access_token(pd);
	strlcpy(buf, t != NULL ? t : "", len);
}

/*
 * A joiner's invite carried a relay token: the relay's operator let the
 * inviter hand it on. Kept (mesh state) as this node's credential when it
 * has none of its own; it lasts as long as the token does.
 */
void
relay_access_keep(struct punchd *pd, const char *token)
{
	if (pd->cfg.relay_token[0] != '\0') {
		log_debug("the invite's relay token is not needed: "
		    "punchd.relay_token is set");
		return;
	}
	mesh_set_relay_token(pd, token);
	log_info("keeping the invite's relay token as this node's relay "
	    "credential (punchd.relay_token overrides it)");
	relay_access_reload(pd);
}

int
relay_access_init(struct punchd *pd)
{
	pd->relay_cred = relay_client_cred_new(relay_access_token(pd),
	    relay_access_answer, pd);
	if (pd->relay_cred == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	relay_access_configured(pd);
	return 0;
}

/* SIGHUP: the list, and a new token reaches every waiting session now */
void
relay_access_reload(struct punchd *pd)
{
	relay_access_configured(pd);
	if (pd->relay_cred != NULL && relay_client_cred_set(pd->relay_cred,
	    relay_access_token(pd)) == 1)
		log_info("the relay token changed: relay sessions that wait "
		    "try again now");
}

void
relay_access_fini(struct punchd *pd)
{
	relay_client_cred_free(pd->relay_cred);
	pd->relay_cred = NULL;
}

/* the row of a relay (NULL: none answered, not configured) */
const struct relay_access_row *
relay_access_get(struct punchd *pd, const char *url)
{
	return relay_access_row(pd, url, 0);
}

const char *
relay_access_state_str(enum relay_access_state s)
{
	switch (s) {
	case RELAY_ACCESS_UNTRIED:	return "untried";
	case RELAY_ACCESS_ACCEPTED:	return "accepted";
	case RELAY_ACCESS_REFUSED:	return "refused";
	}
	return "?";
}
