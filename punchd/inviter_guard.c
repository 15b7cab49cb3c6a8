/*
 * What a JOIN_HELLO may draw from the inviter beyond a first use, so that
 * a captured HELLO cannot turn the inviter against anyone (docs/security.md,
 * "The join handshake"):
 *
 *   - a repeated HELLO (a use already recorded, same txid) is answered only
 *     towards the address its first HELLO came from in this run, or through
 *     the invite's relay session, which only holders of the code can join;
 *   - the answer is the WELCOME cached at the first use: no new sealing or
 *     signing per replay;
 *   - repeats and refusals are answered at a bounded rate per invite (a
 *     token bucket each), so a replayer spoofing the joiner's own address
 *     gets a trickle to the joiner, nothing to anyone else;
 *   - every HELLO left unanswered or limited is counted.
 *
 * Pure bookkeeping: no sockets, no logging; inviter.c sends.
 */
#include <string.h>

#include "common/netaddr.h"
#include "punchd.h"
#include "inviter.h"

/*
 * Why 4 and 1/s: a joiner sends its HELLO every 250 ms per path until a
 * WELCOME arrives, so one answer per lost WELCOME is all it needs; 4 cover
 * losses on several paths at once, and 1 a second after that keeps a
 * slow, lossy joiner going. A replayer gets at most 4 + t answers in t
 * seconds per invite, each to the first source or the relay.
 */
#define INVITER_GUARD_BURST	4.0
#define INVITER_GUARD_RATE	1.0	/* per second */

/* 1: a token was taken (answer), 0: over the rate */
int
inviter_guard_take(struct mesh_bucket *b, double now)
{
	if (b->at == 0 || now < b->at)
		b->tokens = INVITER_GUARD_BURST;
	else {
		b->tokens += (now - b->at) * INVITER_GUARD_RATE;
		if (b->tokens > INVITER_GUARD_BURST)
			b->tokens = INVITER_GUARD_BURST;
	}
	b->at = now;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

/* The first HELLO of a use in this run: remember where it came from. */
void
inviter_guard_first(struct mesh_invite_use *u, const struct sockaddr *from)
{
	memset(&u->first, 0, sizeof(u->first));
	u->first.ss_family = AF_UNSPEC;
	if (from != NULL)
		memcpy(&u->first, from, netaddr_len(from));
	u->seen = 1;
}

/*
 * A repeated HELLO of use u from `from` (NULL: through the relay): where
 * its answer may go. After a restart the first repeat stands for the
 * first use (the source is not saved): one more address, once per run.
 */
enum inviter_dest
inviter_guard_repeat(struct mesh_invite *inv, struct mesh_invite_use *u,
    const struct sockaddr *from, double now)
{
	struct punchd		*pd = inv->pd;
	enum inviter_dest	 d;

	pd->ctr.join_repeat++;
	if (!u->seen)
		inviter_guard_first(u, from);
	if (from == NULL)
		d = INVITER_DEST_RELAY;
	else if (u->first.ss_family != AF_UNSPEC &&
	    netaddr_equal(from, (const struct sockaddr *)&u->first))
		d = INVITER_DEST_SOURCE;
	else {
		/* another address than the first: a replay, or the joiner
		 * on another path (which its relay attempt covers) */
		pd->ctr.join_moved++;
		if (inv->relay == NULL)
			return INVITER_DEST_NONE;
		d = INVITER_DEST_RELAY;
	}
	if (!inviter_guard_take(&inv->repeats, now)) {
		pd->ctr.join_limited++;
		return INVITER_DEST_NONE;
	}
	return d;
}

/* A HELLO to refuse (expired, used, no mesh): 1 answer it, 0 limited. */
int
inviter_guard_refuse(struct mesh_invite *inv, double now)
{
	struct punchd *pd = inv->pd;

	pd->ctr.join_refused++;
	if (!inviter_guard_take(&inv->refusals, now)) {
		pd->ctr.join_limited++;
		return 0;
	}
	return 1;
}
