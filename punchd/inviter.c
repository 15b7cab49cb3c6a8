/*
 * Invites this node minted (`meshctl invite`, mesh.invite) and the
 * inviter's side of the join handshake (proto/join.h).
 *
 * $STATE_DIRECTORY/invites, 0600, one line per invite:
 *
 *     <join secret hex> <expiry> <max uses> <uses> [<joiner id>:<pk> ...]
 *
 * Every use is kept (joiner id and key) until the invite is a day past its
 * expiry: the same joiner asking again (another path, a lost WELCOME) gets
 * its WELCOME again; any other node gets JOIN_REFUSE "used"; after expiry,
 * "expired". The secret is never logged: logs name an invite by its tag,
 * the first 8 bytes of BLAKE2b(secret), in hex.
 *
 * When the invite carries a relay, punchd waits in the invite's relay
 * session (proto/join.h join_session) while the invite is live, so a
 * joiner that reaches no UDP endpoint meets it there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include <msgpack.h>
#include <sodium.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/relay_client.h"
#include "common/state.h"
#include "proto/invite.h"
#include "proto/relaymsg.h"
#include "punchd.h"

static void
invite_tag(struct mesh_invite *inv)
{
	uint8_t h[8];

	crypto_generichash(h, sizeof(h), inv->secret, sizeof(inv->secret),
	    NULL, 0);
	sodium_bin2hex(inv->tag, sizeof(inv->tag), h, sizeof(h));
}

static void
invite_free(struct mesh_invite *inv)
{
	if (inv->relay != NULL) {
		relay_client_stop(inv->relay);
		relay_client_free(inv->relay);
	}
	LIST_REMOVE(inv, entry);
	sodium_memzero(inv, sizeof(*inv));
	free(inv);
}

void
invites_free_all(struct punchd *pd)
{
	while (!LIST_EMPTY(&pd->mesh.invites))
		invite_free(LIST_FIRST(&pd->mesh.invites));
}

static struct mesh_invite *
invite_new(struct punchd *pd, const uint8_t *secret, uint64_t expires,
    int max_uses)
{
	struct mesh_invite *inv;

	if ((inv = calloc(1, sizeof(*inv))) == NULL)
		return NULL;
	inv->pd = pd;
	memcpy(inv->secret, secret, JOIN_SECRET_LEN);
	join_key(inv->key, inv->secret);
	invite_tag(inv);
	inv->expires = expires;
	inv->max_uses = max_uses;
	LIST_INSERT_HEAD(&pd->mesh.invites, inv, entry);
	return inv;
}

int
invites_save(struct punchd *pd)
{
	struct mesh_invite	*inv;
	char			*text, sec[65], id[17], pk[65];
	size_t			 cap = 64, n;
	int			 i, r;

	LIST_FOREACH(inv, &pd->mesh.invites, entry)
		cap += 128 + 300 + (size_t)inv->nuses * 100;
	if ((text = malloc(cap)) == NULL)
		return -1;
	n = snprintf(text, cap, "# invites: secret expiry max uses "
	    "[id:pk ...]\n");
	LIST_FOREACH(inv, &pd->mesh.invites, entry) {
		sodium_bin2hex(sec, sizeof(sec), inv->secret, JOIN_SECRET_LEN);
		n += snprintf(text + n, cap - n, "%s %llu %d %d", sec,
		    (unsigned long long)inv->expires, inv->max_uses,
		    inv->nuses);
		for (i = 0; i < inv->nuses; i++) {
			sodium_bin2hex(id, sizeof(id), inv->uses[i].id,
			    JOIN_ID_LEN);
			sodium_bin2hex(pk, sizeof(pk), inv->uses[i].pk,
			    JOIN_PK_LEN);
			n += snprintf(text + n, cap - n, " %s:%s", id, pk);
		}
		n += snprintf(text + n, cap - n, " %s\n",
		    inv->relay_url[0] ? inv->relay_url : "-");
	}
	sodium_memzero(sec, sizeof(sec));
	if ((r = state_write(pd->statedir, "invites", text, n)) == -1)
		log_warn("%s: %s/invites", __func__, pd->statedir);
	sodium_memzero(text, n);
	free(text);
	return r;
}

static void
invites_line(struct punchd *pd, char *line)
{
	struct mesh_invite	*inv;
	uint8_t			 secret[JOIN_SECRET_LEN];
	char			*tok, *save = NULL, *c;
	unsigned long long	 exp;
	int			 max, i = 0;

	if ((tok = strtok_r(line, " \n", &save)) == NULL || *tok == '#' ||
	    sodium_hex2bin(secret, sizeof(secret), tok, strlen(tok), NULL,
	    NULL, NULL) != 0)
		return;
	if ((tok = strtok_r(NULL, " \n", &save)) == NULL ||
	    sscanf(tok, "%llu", &exp) != 1 ||
	    (tok = strtok_r(NULL, " \n", &save)) == NULL ||
	    sscanf(tok, "%d", &max) != 1 || max < 1 || max > MESH_MAX_USES ||
	    strtok_r(NULL, " \n", &save) == NULL)
		return;
	if (exp + MESH_INVITE_GRACE < (unsigned long long)time(NULL))
		return;		/* long gone */
	if ((inv = invite_new(pd, secret, exp, max)) == NULL)
		return;
	sodium_memzero(secret, sizeof(secret));
	while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
		if ((c = strchr(tok, ':')) == NULL) {
			if (strcmp(tok, "-") != 0)
				strlcpy(inv->relay_url, tok,
				    sizeof(inv->relay_url));
			continue;
		}
		*c++ = '\0';
		if (i < MESH_MAX_USES && sodium_hex2bin(inv->uses[i].id,
		    JOIN_ID_LEN, tok, strlen(tok), NULL, NULL, NULL) == 0 &&
		    sodium_hex2bin(inv->uses[i].pk, JOIN_PK_LEN, c, strlen(c),
		    NULL, NULL, NULL) == 0)
			i++;
	}
	inv->nuses = i;
}

int
invites_load(struct punchd *pd)
{
	char	text[65536], *line, *save = NULL;

	if (state_read(pd->statedir, "invites", text, sizeof(text)) == -1)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		invites_line(pd, line);
	sodium_memzero(text, sizeof(text));
	return 0;
}

static int
invite_live(const struct mesh_invite *inv)
{
	return (uint64_t)time(NULL) < inv->expires &&
	    inv->nuses < inv->max_uses;
}

/* ---- the invite's relay session -------------------------------------------- */

static void
invite_relay_frame(void *arg, const void *data, size_t len)
{
	struct mesh_invite	*inv = arg;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_MTU];

	if (relaymsg_kind(data, len) != RELAYMSG_KIND_DATA ||
	    len > sizeof(buf) || !packet_is_ours(data, len))
		return;
	memcpy(buf, data, len);
	invites_input(inv->pd, buf, len, NULL, inv);
}

static void
invite_relay_start(struct mesh_invite *inv)
{
	struct punchd		*pd = inv->pd;
	struct relay_client_url	 url;
	struct relay_client_cfg	 cfg;
	char			 session[33];

	if (inv->relay != NULL || inv->relay_url[0] == '\0' ||
	    !invite_live(inv))
		return;
	join_session(session, inv->secret);
	url.url = inv->relay_url;
	url.region = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.urls = &url;
	cfg.nurls = 1;
	cfg.session = session;
	cfg.token = pd->cfg.relay_token[0] ? pd->cfg.relay_token : NULL;
	cfg.on_frame = invite_relay_frame;
	cfg.arg = inv;
	if ((inv->relay = relay_client_new(pd->loop, &cfg)) == NULL) {
		log_warn("invite %s: relay client", inv->tag);
		return;
	}
	relay_client_start(inv->relay);
	log_debug("invite %s: waiting in its relay session", inv->tag);
}

void
invites_start(struct punchd *pd)
{
	struct mesh_invite *inv;

	LIST_FOREACH(inv, &pd->mesh.invites, entry)
		invite_relay_start(inv);
}

/* Forget long-expired invites; leave relay sessions of dead ones. Never
 * from inside an invite's relay callback (it frees relay clients). */
static void
invites_prune(struct punchd *pd)
{
	struct mesh_invite	*inv, *next;
	uint64_t		 now = (uint64_t)time(NULL);
	int			 changed = 0;

	for (inv = LIST_FIRST(&pd->mesh.invites); inv != NULL; inv = next) {
		next = LIST_NEXT(inv, entry);
		if (inv->expires + MESH_INVITE_GRACE < now) {
			invite_free(inv);
			changed = 1;
		} else if (!invite_live(inv) && inv->relay != NULL) {
			relay_client_stop(inv->relay);
			relay_client_free(inv->relay);
			inv->relay = NULL;
		}
	}
	if (changed)
		invites_save(pd);
}

/* ---- JOIN_HELLO ------------------------------------------------------------ */

static void
invites_refuse(struct mesh_invite *inv, const struct join_hello *h,
    uint8_t reason, const struct sockaddr *from)
{
	struct join_refuse	r;
	uint8_t			buf[64];
	int			n;

	memcpy(r.txid, h->txid, JOIN_TXID_LEN);
	r.reason = reason;
	if ((n = join_refuse_encode(buf, sizeof(buf), &r)) > 0)
		mesh_send_keyed(inv->pd, PACKET_JOIN_REFUSE, inv->key, buf, n,
		    from, inv->relay);
}

static int
invites_welcome(struct mesh_invite *inv, const uint8_t *joiner,
    const struct join_hello *h, const struct sockaddr *from)
{
	struct punchd		*pd = inv->pd;
	struct join_welcome	 w;
	uint8_t			 buf[512];
	int			 n;

	memset(&w, 0, sizeof(w));
	memcpy(w.txid, h->txid, JOIN_TXID_LEN);
	memcpy(w.mesh_id, pd->mesh.id, JOIN_MESH_ID_LEN);
	strlcpy(w.mesh_name, pd->mesh.name, sizeof(w.mesh_name));
	if (join_welcome_seal(&w, joiner, h->pk, pd->mesh.secret,
	    pd->mesh.sk) == -1 ||
	    (n = join_welcome_encode(buf, sizeof(buf), &w)) < 0)
		return -1;
	mesh_send_keyed(pd, PACKET_JOIN_WELCOME, inv->key, buf, n, from,
	    inv->relay);
	sodium_memzero(&w, sizeof(w));
	return 0;
}

/* The joiner is a member now: a peer to punch, over UDP towards where the
 * HELLO came from, or through the relay (rendezvous) when it came there. */
static void
invites_new_member(struct punchd *pd, const uint8_t *id,
    const struct join_hello *h, const struct sockaddr *from)
{
	struct sockaddr_storage	 ss;
	struct peer		*p;
	char			 idstr[2 * JOIN_ID_LEN + 1];

	mesh_member_set(pd, id, h->pk, h->name);
	sodium_bin2hex(idstr, sizeof(idstr), id, JOIN_ID_LEN);
	if ((p = peer_find_id(pd, id)) == NULL) {
		if ((p = peer_create(pd, idstr)) == NULL)
			return;
		if (h->name[0] != '\0' && peer_find(pd, h->name) == NULL)
			strlcpy(p->name, h->name, sizeof(p->name));
	}
	if (peer_is_up(p))
		return;
	memset(&ss, 0, sizeof(ss));
	if (from != NULL)
		memcpy(&ss, from, netaddr_len(from));
	peer_punch(p, &ss, from != NULL);
	store_changed(pd);
}

static void
invites_hello(struct mesh_invite *inv, const struct packet_hdr *hdr,
    const uint8_t *pl, size_t plen, const struct sockaddr *from)
{
	struct punchd		*pd = inv->pd;
	struct join_hello	 h;
	char			 idstr[2 * JOIN_ID_LEN + 1], a[NETADDR_STRLEN];
	const char		*via;
	int			 i;

	if (join_hello_decode(pl, plen, &h) != 0 ||
	    join_hello_verify(&h, hdr->sender) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	sodium_bin2hex(idstr, sizeof(idstr), hdr->sender, JOIN_ID_LEN);
	via = from != NULL ? netaddr_str(from, a, sizeof(a)) : "the relay";
	for (i = 0; i < inv->nuses; i++)
		if (!memcmp(inv->uses[i].id, hdr->sender, JOIN_ID_LEN) &&
		    !memcmp(inv->uses[i].pk, h.pk, JOIN_PK_LEN)) {
			/* the same joiner again: its WELCOME was lost, or it
			 * tries another path */
			if (pd->mesh.have)
				invites_welcome(inv, hdr->sender, &h, from);
			invites_new_member(pd, hdr->sender, &h, from);
			return;
		}
	if (!pd->mesh.have) {
		invites_refuse(inv, &h, JOIN_R_NOMESH, from);
		return;
	}
	if ((uint64_t)time(NULL) >= inv->expires) {
		log_notice("invite %s: node %s refused: expired", inv->tag,
		    idstr);
		invites_refuse(inv, &h, JOIN_R_EXPIRED, from);
		return;
	}
	if (inv->nuses >= inv->max_uses) {
		log_notice("invite %s: node %s refused: already used (%d of "
		    "%d)", inv->tag, idstr, inv->nuses, inv->max_uses);
		invites_refuse(inv, &h, JOIN_R_USED, from);
		return;
	}
	memcpy(inv->uses[inv->nuses].id, hdr->sender, JOIN_ID_LEN);
	memcpy(inv->uses[inv->nuses].pk, h.pk, JOIN_PK_LEN);
	inv->nuses++;
	if (invites_save(pd) == -1 ||
	    invites_welcome(inv, hdr->sender, &h, from) == -1) {
		inv->nuses--;
		return;
	}
	log_notice("invite %s: node %s%s%s joined via %s (use %d of %d)",
	    inv->tag, idstr, h.name[0] ? " " : "", h.name, via, inv->nuses,
	    inv->max_uses);
	invites_new_member(pd, hdr->sender, &h, from);
}

void
invites_input(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from, struct mesh_invite *only)
{
	struct mesh_invite	*inv;
	struct packet_hdr	 h;
	uint8_t			 copy[PACKET_OVERHEAD + PUNCHD_MTU];
	const uint8_t		*pl;
	size_t			 plen;

	if (len > sizeof(copy) || packet_peek(buf, len, &h) != 0 ||
	    h.type != PACKET_JOIN_HELLO) {
		pd->ctr.drop_malformed++;
		return;
	}
	/* one trial decryption per invite: there are only a few */
	LIST_FOREACH(inv, &pd->mesh.invites, entry) {
		if (only != NULL && inv != only)
			continue;
		memcpy(copy, buf, len);
		if (packet_decode(copy, len, inv->key, &h, &pl, &plen) == 0) {
			invites_hello(inv, &h, pl, plen, from);
			return;
		}
	}
	pd->ctr.drop_auth++;
}

/* ---- mesh.invite ------------------------------------------------------------ */

static void
to_invite_addr(const struct sockaddr_storage *ss, struct invite_addr *a)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;

	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = INVITE_AF_INET;
		a->port = ntohs(s4->sin_port);
		memcpy(a->addr, &s4->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		a->family = INVITE_AF_INET6;
		a->port = ntohs(s6->sin6_port);
		memcpy(a->addr, &s6->sin6_addr, 16);
	}
}

/* The LAN address: the first IPv4 host address that is not loopback. */
static int
invites_local(struct punchd *pd, struct sockaddr_storage *out)
{
	struct sockaddr_storage	host[PUNCH_MAX_CANDS];
	int			i, n, pick = -1;

	n = sock_host_addrs(pd, host, PUNCH_MAX_CANDS);
	for (i = 0; i < n && pick == -1; i++)
		if (host[i].ss_family == AF_INET &&
		    !netaddr_is_local((struct sockaddr *)&host[i]))
			pick = i;
	for (i = 0; i < n && pick == -1; i++)
		if (host[i].ss_family == AF_INET)
			pick = i;
	if (pick == -1 && n > 0)
		pick = 0;
	if (pick == -1)
		return -1;
	*out = host[pick];
	return 0;
}

/*
 * An endpoint parameter: absent = what punchd knows, "" = withheld (tests,
 * or a node that should only be joined through the relay), else as given.
 * Returns 1 set, 0 none, -1 malformed.
 */
static int
invites_param(const msgpack_object *params, const char *key, char *buf,
    size_t len)
{
	int r = mpack_get_str(params, key, buf, len);

	if (r == -1)
		return -1;
	return r == 0 ? (buf[0] != '\0' ? 1 : 0) : 2;
}

void
invites_ctl_invite(struct ipc_conn *c, uint32_t msgid,
    const struct msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct mesh		*m = &pd->mesh;
	struct mesh_invite	*inv;
	struct invite		 code;
	struct sockaddr_storage	 ss;
	char			 local[128], public[128], relay[256];
	char			 token[INVITE_CODE_MAX];
	int64_t			 expires = 3600, uses = 1;
	int			 rl, rp, rr;
	msgpack_packer		*pk;

	if (mpack_get_int(params, "expires_s", &expires) == -1 ||
	    mpack_get_int(params, "uses", &uses) == -1 ||
	    expires < 1 || expires > 30 * 86400 || uses < 1 ||
	    uses > MESH_MAX_USES ||
	    (rl = invites_param(params, "local", local, sizeof(local))) < 0 ||
	    (rp = invites_param(params, "public", public, sizeof(public))) < 0 ||
	    (rr = invites_param(params, "relay", relay, sizeof(relay))) < 0) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected "
		    "{expires_s?: 1..2592000, uses?: 1..%d, local?, public?, "
		    "relay?}", MESH_MAX_USES);
		return;
	}
	if (!m->have) {
		ipc_reply_error(c, msgid, IPC_ERR_NOT_FOUND, "this node is in "
		    "no mesh: meshctl init NAME first");
		return;
	}
	if (mesh_node_key(pd) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "no node key");
		return;
	}
	invites_prune(pd);
	invite_init(&code);
	memcpy(code.mesh_id, m->id, sizeof(code.mesh_id));
	strlcpy(code.mesh_name, m->name, sizeof(code.mesh_name));
	memcpy(code.inviter_id, pd->node_id, sizeof(code.inviter_id));
	memcpy(code.inviter_pk, m->pk, sizeof(code.inviter_pk));
	randombytes_buf(code.secret, sizeof(code.secret));
	code.expires = (uint64_t)time(NULL) + (uint64_t)expires;
	code.max_uses = (uint16_t)uses;
	if (rl == 2 && invites_local(pd, &ss) == 0)
		to_invite_addr(&ss, &code.ep_local);
	else if (rl == 1 && invite_addr_parse(local, &code.ep_local) == -1)
		goto badaddr;
	if (code.ep_local.family != INVITE_AF_NONE) {
		code.local_ip = code.ep_local;
		code.local_ip.port = 0;
	}
	if (rp == 2 && pd->has_public4)
		to_invite_addr(&pd->public4, &code.ep_public);
	else if (rp == 2 && pd->has_public6)
		to_invite_addr(&pd->public6, &code.ep_public);
	else if (rp == 1 && invite_addr_parse(public, &code.ep_public) == -1)
		goto badaddr;
	if (code.ep_public.family != INVITE_AF_NONE) {
		code.public_ip = code.ep_public;
		code.public_ip.port = 0;
	}
	if (code.ep_public.family != INVITE_AF_NONE &&
	    code.ep_local.family != INVITE_AF_NONE)
		code.behind_nat = memcmp(code.local_ip.addr,
		    code.public_ip.addr, 16) != 0 ||
		    code.ep_local.port != code.ep_public.port;
	if (rr == 2 && pd->relay_urls[0] != '\0') {
		strlcpy(relay, pd->relay_urls, sizeof(relay));
		relay[strcspn(relay, ", ")] = '\0';
		strlcpy(code.ep_relay, relay, sizeof(code.ep_relay));
	} else if (rr == 1)
		strlcpy(code.ep_relay, relay, sizeof(code.ep_relay));
	if (invite_encode(&code, token, sizeof(token)) < 0) {
		invite_clear(&code);
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "cannot encode "
		    "the invite (relay URL?)");
		return;
	}
	if ((inv = invite_new(pd, code.secret, code.expires,
	    code.max_uses)) == NULL) {
		invite_clear(&code);
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "out of memory");
		return;
	}
	strlcpy(inv->relay_url, code.ep_relay, sizeof(inv->relay_url));
	invite_clear(&code);
	if (invites_save(pd) == -1) {
		invite_free(inv);
		sodium_memzero(token, sizeof(token));
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "cannot write "
		    "%s/invites", pd->statedir);
		return;
	}
	invite_relay_start(inv);
	log_info("invite %s minted: %d use%s, expires in %llds", inv->tag,
	    inv->max_uses, inv->max_uses == 1 ? "" : "s", (long long)expires);
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 4);
	mpack_kv_str(pk, "token", token);
	mpack_kv_str(pk, "invite", inv->tag);
	mpack_kv_uint(pk, "expires", inv->expires);
	mpack_kv_int(pk, "max_uses", inv->max_uses);
	ipc_reply_finish(c);
	sodium_memzero(token, sizeof(token));
	return;
badaddr:
	invite_clear(&code);
	ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "endpoints are "
	    "udp://IP:PORT or IP:PORT");
}
