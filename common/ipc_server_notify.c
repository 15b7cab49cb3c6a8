/*
 * IPC server: events. ipc_notify_start/finish pack one event and queue it
 * for every client subscribed to it; the built-in "events.subscribe" call
 * records what a client wants.
 */
#include "ipc_server_priv.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/methods.h"

/* Event names one client may subscribe to, each under 64 bytes. */
#define IPC_MAX_SUBS		64

/* ---- notifications -------------------------------------------------------- */

static int
ipc_conn_wants(const struct ipc_conn *c, const char *event)
{
	size_t i;

	if (!c->subscribed || c->dead || c->closing)
		return 0;
	if (c->suball)
		return 1;
	for (i = 0; i < c->nevents; i++)
		if (!strcmp(c->events[i], event))
			return 1;
	return 0;
}

msgpack_packer *
ipc_notify_start(struct ipc_server *s, const char *event)
{
	size_t n = strlen(event);

	msgpack_sbuffer_clear(&s->nbuf);
	snprintf(s->nevent, sizeof(s->nevent), "%s", event);
	msgpack_pack_array(&s->npk, 3);
	msgpack_pack_uint8(&s->npk, IPC_NOTIFY);
	msgpack_pack_str(&s->npk, n);
	msgpack_pack_str_body(&s->npk, event, n);
	return &s->npk;
}

void
ipc_notify_finish(struct ipc_server *s)
{
	struct ipc_conn *c, *tmp;

	if (s->nbuf.size > IPC_MAX_MSG) {
		log_warnx("%s: %s over %d bytes: not sent", __func__,
		    s->nevent, IPC_MAX_MSG);
		msgpack_sbuffer_clear(&s->nbuf);
		return;
	}
	TAILQ_FOREACH_SAFE(c, &s->conns, entry, tmp) {
		if (!ipc_conn_wants(c, s->nevent))
			continue;
		if (c->replying) {
			log_warnx("%s: %s sent in the middle of a reply to "
			    "client %llu: not sent to it", __func__, s->nevent,
			    (unsigned long long)c->id);
			continue;
		}
		if (msgpack_sbuffer_write(&c->out, s->nbuf.data,
		    s->nbuf.size) != 0)
			c->oom = 1;
		ipc_conn_queued(c);
	}
	msgpack_sbuffer_clear(&s->nbuf);
}

/* "events.subscribe" {events?: [name, ...]}: adds to what the client gets. */
void
ipc_server_subscribe(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params)
{
	const msgpack_object		*ev = NULL, *e;
	const struct proto_method	*pm;
	char				 name[64];
	void				*p;
	uint32_t			 i, j;

	for (i = 0; i < params->via.map.size; i++)
		if (params->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
		    params->via.map.ptr[i].key.via.str.size == 6 &&
		    !memcmp(params->via.map.ptr[i].key.via.str.ptr, "events", 6))
			ev = &params->via.map.ptr[i].val;
	if (ev != NULL && ev->type != MSGPACK_OBJECT_NIL &&
	    ev->type != MSGPACK_OBJECT_ARRAY) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "events must be a list of event names");
		return;
	}
	if (ev == NULL || ev->type == MSGPACK_OBJECT_NIL ||
	    ev->via.array.size == 0) {
		c->subscribed = c->suball = 1;
		ipc_reply_ok(c, msgid);
		return;
	}
	/* check them all before taking any */
	for (i = 0; i < ev->via.array.size; i++) {
		e = &ev->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_STR || e->via.str.size == 0 ||
		    e->via.str.size >= sizeof(name)) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "events must be a list of event names");
			return;
		}
		memcpy(name, e->via.str.ptr, e->via.str.size);
		name[e->via.str.size] = '\0';
		pm = proto_method_find(c->s->daemon, name);
		if (pm == NULL || pm->kind != PROTO_EVENT) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "%s sends no event %s", c->s->daemon, name);
			return;
		}
	}
	if (c->nevents + ev->via.array.size > IPC_MAX_SUBS) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "more than %d events", IPC_MAX_SUBS);
		return;
	}
	for (i = 0; i < ev->via.array.size; i++) {
		e = &ev->via.array.ptr[i];
		memcpy(name, e->via.str.ptr, e->via.str.size);
		name[e->via.str.size] = '\0';
		for (j = 0; j < c->nevents; j++)
			if (!strcmp(c->events[j], name))
				break;
		if (j < c->nevents)
			continue;
		if ((p = reallocarray(c->events, c->nevents + 1,
		    sizeof(*c->events))) == NULL) {
			ipc_reply_error(c, msgid, IPC_ERR_INTERNAL,
			    "out of memory");
			return;
		}
		c->events = p;
		memcpy(c->events[c->nevents++], name, sizeof(name));
	}
	c->subscribed = 1;
	ipc_reply_ok(c, msgid);
}
