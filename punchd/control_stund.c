/*
 * The server-reflexive candidate of THIS socket, through stund: punchd
 * passes a duplicate of its UDP socket with stun.discover {socket: true}
 * (SCM_RIGHTS), stund sends the Binding requests through it, and punchd,
 * which reads the socket, forwards every STUN datagram back with
 * stun.input. stund may be down: punchd then offers host candidates only
 * and asks again when ipc_peer reconnects. IPC towards another daemon, so
 * a control file: sock.c hands STUN datagrams up through hooks.stun_rx.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/paths.h"
#include "proto/invite.h"
#include "control.h"
#include "punchd.h"

static void control_stund_discover(struct punchd *pd, int family);
static void control_stund_nat_refresh(struct punchd *pd);
static void control_stund_input(struct punchd *, const uint8_t *, size_t,
    const struct sockaddr *);

/*
 * The invite's stun_source: "stun:" and the server stund names (RFC 7064
 * form, host[:port]); "" when it holds anything else.
 */
static void
control_stund_source(const msgpack_object *result, char *out, size_t len)
{
	char	server[120];
	size_t	i;

	out[0] = '\0';
	if (mpack_get_str(result, "server", server, sizeof(server)) != 0 ||
	    server[0] == '\0')
		return;
	for (i = 0; server[i] != '\0'; i++)
		if (!isalnum((unsigned char)server[i]) &&
		    strchr("-._:[]", server[i]) == NULL)
			return;
	snprintf(out, len, "stun:%s", server);
}

/* nat.get's answer or a nat.changed event: the NAT type for invites */
static void
control_stund_nat(struct punchd *pd, const msgpack_object *m)
{
	char classic[64], word[sizeof(pd->nat_type)];

	if (m == NULL || mpack_get_str(m, "classic", classic,
	    sizeof(classic)) != 0)
		return;
	invite_nat_type_word(classic, word, sizeof(word));
	if (strcmp(word, pd->nat_type) != 0)
		log_info("NAT type: %s", word[0] ? classic : "unknown");
	strlcpy(pd->nat_type, word, sizeof(pd->nat_type));
}

static void
control_stund_nat_cb(void *arg, const msgpack_object *error,
    const msgpack_object *result)
{
	if (error == NULL)
		control_stund_nat(arg, result);
}

static void
control_stund_reply_cb(void *arg, const msgpack_object *error,
    const msgpack_object *result, int family)
{
	struct punchd		*pd = arg;
	struct sockaddr_storage	 ss, *dst;
	char			 pub[NETADDR_STRLEN], msg[256] = "";
	int			*has, moved;

	pd->stun_busy = 0;
	dst = family == AF_INET ? &pd->public4 : &pd->public6;
	has = family == AF_INET ? &pd->has_public4 : &pd->has_public6;
	if (error != NULL) {
		mpack_get_str(error, "message", msg, sizeof(msg));
		log_info("stund: no public IPv%d mapping for our socket: %s",
		    family == AF_INET ? 4 : 6, msg);
	} else if (mpack_get_str(result, "public", pub, sizeof(pub)) == 0 &&
	    netaddr_parse(pub, 0, &ss) == 0) {
		moved = *has && !netaddr_equal((struct sockaddr *)dst,
		    (struct sockaddr *)&ss);
		if (!*has || moved)
			log_info("server-reflexive candidate %s%s", pub,
			    moved ? " (moved)" : "");
		*dst = ss;
		*has = 1;
		control_stund_source(result, family == AF_INET ?
		    pd->stun_source4 : pd->stun_source6,
		    sizeof(pd->stun_source4));
		/* roaming: the peers hear of it now, and stund's own view
		 * (invites, meshctl network) follows */
		if (moved) {
			roam_candidates_changed(pd, "our public mapping moved");
			control_stund_nat_refresh(pd);
		}
	}
	if (family == AF_INET && pd->fd6 != -1 && pd->stund_up)
		control_stund_discover(pd, AF_INET6);
	else if (pd->stun_again && pd->stund_up) {
		/* news came while this one ran: its answer may predate it */
		pd->stun_again = 0;
		control_stund_discover(pd, AF_INET);
	}
}

static void
control_stund_reply4_cb(void *arg, const msgpack_object *error,
    const msgpack_object *result)
{
	control_stund_reply_cb(arg, error, result, AF_INET);
}

static void
control_stund_reply6_cb(void *arg, const msgpack_object *error,
    const msgpack_object *result)
{
	control_stund_reply_cb(arg, error, result, AF_INET6);
}

static void
control_stund_discover(struct punchd *pd, int family)
{
	struct control_map	m;
	msgpack_sbuffer		sb;
	msgpack_packer		pk;
	int			fd = family == AF_INET ? pd->fd4 : pd->fd6;

	if (fd == -1 || !pd->stund_up) {
		if (family == AF_INET && pd->fd6 != -1 && pd->stund_up)
			control_stund_discover(pd, AF_INET6);
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	control_map_begin(&m, &pk);
	mpack_kv_bool(&m.pk, "socket", 1);
	mpack_kv_bool(&m.pk, "refresh", 1);
	mpack_kv_int(&m.pk, "family", family == AF_INET ? 4 : 6);
	control_map_end(&m);
	/* ipc_peer_call passes its own duplicate of fd */
	if (ipc_peer_call(pd->stund, "stun.discover", sb.data, sb.size, fd,
	    10000, family == AF_INET ? control_stund_reply4_cb :
	    control_stund_reply6_cb,
	    pd) == 0)
		pd->stun_busy = 1;
	msgpack_sbuffer_destroy(&sb);
}

static void
control_stund_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct punchd *pd = w->data;

	(void)loop;
	(void)revents;
	if (!pd->stun_busy)
		control_stund_discover(pd, AF_INET);
}

static void
control_stund_ignore_cb(void *arg, const msgpack_object *error,
    const msgpack_object *result)
{
	(void)arg;
	(void)error;
	(void)result;
}

/* roam.c (hooks.rediscover): our socket's mapping again, now; once more
 * after the running discovery when one runs */
static void
control_stund_rediscover(struct punchd *pd)
{
	if (!pd->stund_up)
		return;
	if (pd->stun_busy)
		pd->stun_again = 1;
	else
		control_stund_discover(pd, AF_INET);
}

/* nat.get: stund's cached behaviour, or (refresh) its discovery and
 * behaviour tests run again, nat.changed following a change */
static void
control_stund_nat_get(struct punchd *pd, int refresh)
{
	struct control_map	m;
	msgpack_sbuffer		sb;
	msgpack_packer		pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	control_map_begin(&m, &pk);
	if (refresh)
		mpack_kv_bool(&m.pk, "refresh", 1);
	control_map_end(&m);
	ipc_peer_call(pd->stund, "nat.get", sb.data, sb.size, -1, refresh ?
	    30000 : 10000, control_stund_nat_cb, pd);
	msgpack_sbuffer_destroy(&sb);
}

/* Our mapping moved: stund tests again */
static void
control_stund_nat_refresh(struct punchd *pd)
{
	control_stund_nat_get(pd, 1);
}

/* The NAT type for invites: what stund knows now (its cache, no new
 * test), then every nat.changed. */
static void
control_stund_nat_watch(struct punchd *pd)
{
	struct control_map	m;
	msgpack_sbuffer		sb;
	msgpack_packer		pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	control_map_begin(&m, &pk);
	mpack_key(&m.pk, "events");
	msgpack_pack_array(&m.pk, 1);
	mpack_pack_str(&m.pk, "nat.changed");
	control_map_end(&m);
	ipc_peer_call(pd->stund, "events.subscribe", sb.data, sb.size, -1,
	    10000, control_stund_ignore_cb, pd);
	msgpack_sbuffer_destroy(&sb);
	control_stund_nat_get(pd, 0);
}

static void
control_stund_state_cb(void *arg, int connected)
{
	struct punchd *pd = arg;

	pd->stund_up = connected;
	if (connected) {
		log_info("stund connected: discovering our socket's mapping");
		pd->stun_busy = 0;
		control_stund_discover(pd, AF_INET);
		control_stund_nat_watch(pd);
	} else
		log_info("stund unreachable: host candidates only until it "
		    "returns");
}

static void
control_stund_event_cb(void *arg, const char *event,
    const msgpack_object *params)
{
	if (strcmp(event, "nat.changed") == 0) {
		control_stund_nat(arg, params);
		/* stund's own mapping moved: ours may have too */
		roam_note(arg, ROAM_NAT);
	}
}

void
control_stund_init(struct punchd *pd)
{
	char path[300];

	if (pd->cfg.stund_socket[0] != '\0')
		strlcpy(path, pd->cfg.stund_socket, sizeof(path));
	else if (paths_socket("stund", path, sizeof(path)) == -1) {
		log_warnx("stund socket path too long: no server-reflexive "
		    "candidates");
		return;
	}
	pd->hooks.stun_rx = control_stund_input;
	pd->hooks.rediscover = control_stund_rediscover;
	pd->stund = ipc_peer_new(pd->loop, path, control_stund_state_cb,
	    control_stund_event_cb, pd);
	if (pd->stund == NULL)
		log_warnx("cannot create the stund client");
	ev_timer_init(&pd->stun_timer, control_stund_timer_cb,
	    pd->cfg.stun_refresh_ms / 1000.0, pd->cfg.stun_refresh_ms / 1000.0);
	pd->stun_timer.data = pd;
	if (pd->cfg.stun_refresh_ms > 0)
		ev_timer_start(pd->loop, &pd->stun_timer);
}

void
control_stund_fini(struct punchd *pd)
{
	pd->hooks.stun_rx = NULL;
	pd->hooks.rediscover = NULL;
	ev_timer_stop(pd->loop, &pd->stun_timer);
	if (pd->stund != NULL)
		ipc_peer_free(pd->stund);
	pd->stund = NULL;
}

static void
control_stund_input(struct punchd *pd, const uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	struct control_map	m;
	msgpack_sbuffer		sb;
	msgpack_packer		pk;
	char			a[NETADDR_STRLEN];

	if (pd->stund == NULL || !pd->stund_up) {
		pd->ctr.stun_dropped++;
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	control_map_begin(&m, &pk);
	mpack_kv_bin(&m.pk, "data", buf, len);
	mpack_kv_str(&m.pk, "from", netaddr_str(from, a, sizeof(a)));
	control_map_end(&m);
	if (ipc_peer_notify(pd->stund, "stun.input", sb.data, sb.size) == 0)
		pd->ctr.stun_forwarded++;
	else
		pd->ctr.stun_dropped++;
	msgpack_sbuffer_destroy(&sb);
}
