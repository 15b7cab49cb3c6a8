/*
 * IPC pieces shared by the server and both clients: the envelope check, the
 * byte-level pre-scan that guards msgpack-c's unpacker, packing helpers and
 * the SO_PEERCRED policy.
 */
#include "ipc.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* ---- envelope ------------------------------------------------------------ */

static int
ipc_msg_uint32(const msgpack_object *o, uint32_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > UINT32_MAX)
		return -1;
	*out = (uint32_t)o->via.u64;
	return 0;
}

static int
ipc_msg_method(const msgpack_object *o, char *buf, size_t len)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
	    o->via.str.size >= len ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return -1;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

int
ipc_msg_parse(const msgpack_object *o, struct ipc_msg *m, char *err,
    size_t errlen)
{
	const msgpack_object	*a;
	const char		*why;
	uint32_t		 id;
	int			 haveid = 0;
	uint64_t		 t;

	memset(m, 0, sizeof(*m));
	m->type = -1;
	if (o->type != MSGPACK_OBJECT_ARRAY) {
		why = "message is not an array";
		goto fail;
	}
	a = o->via.array.ptr;
	if (o->via.array.size == 0 ||
	    a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		why = "message type is not an integer";
		goto fail;
	}
	t = a[0].via.u64;
	/* anything but a notification carries its msgid second */
	if (t != IPC_NOTIFY && o->via.array.size >= 2 &&
	    ipc_msg_uint32(&a[1], &id) == 0)
		haveid = 1;

	switch (t) {
	case IPC_REQUEST:
	case IPC_RESPONSE:
		if (o->via.array.size != 4) {
			why = "request/response is not a 4-element array";
			goto fail;
		}
		if (!haveid) {
			why = "msgid is not a 32-bit unsigned integer";
			goto fail;
		}
		m->msgid = id;
		if (t == IPC_REQUEST) {
			if (ipc_msg_method(&a[2], m->method,
			    sizeof(m->method)) == -1) {
				why = "method is not a string of 1-63 bytes";
				goto fail;
			}
			m->params = &a[3];
		} else {
			m->error = a[2].type == MSGPACK_OBJECT_NIL ? NULL : &a[2];
			m->result = &a[3];
		}
		break;
	case IPC_NOTIFY:
		if (o->via.array.size != 3) {
			why = "notification is not a 3-element array";
			goto fail;
		}
		if (ipc_msg_method(&a[1], m->method, sizeof(m->method)) == -1) {
			why = "method is not a string of 1-63 bytes";
			goto fail;
		}
		m->params = &a[2];
		break;
	default:
		why = "unknown message type";
		goto fail;
	}
	m->type = (int)t;
	return 0;

 fail:
	snprintf(err, errlen, "%s", why);
	memset(m, 0, sizeof(*m));
	m->type = -1;
	if (haveid) {
		m->type = IPC_REQUEST;
		m->msgid = id;
	}
	return -1;
}

/* ---- pre-scan -------------------------------------------------------------- */

void
ipc_scan_init(struct ipc_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
}

static uint64_t
ipc_scan_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | *p++;
	return v;
}

/*
 * Extra header bytes after the type byte: length fields, ext type and the
 * fixed-size payload of scalars are all counted as "header" except the
 * scalars' payload, which is skipped.
 */
static int
ipc_scan_first(struct ipc_scan *sc, uint8_t b)
{
	size_t elems = 0;

	sc->hdrneed = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 0;
	if (b >= 0x80 && b <= 0x8f)
		elems = 2 * (size_t)(b & 0x0f);
	else if (b >= 0x90 && b <= 0x9f)
		elems = b & 0x0f;
	else if (b >= 0xa0 && b <= 0xbf)
		sc->skip = b & 0x1f;
	else {
		switch (b) {
		case 0xc4: case 0xd9: sc->hdrneed = 1; break;
		case 0xc5: case 0xda: case 0xdc: case 0xde: sc->hdrneed = 2; break;
		case 0xc6: case 0xdb: case 0xdd: case 0xdf: sc->hdrneed = 4; break;
		case 0xc7: sc->hdrneed = 2; break;	/* len8 + type */
		case 0xc8: sc->hdrneed = 3; break;
		case 0xc9: sc->hdrneed = 5; break;
		case 0xca: sc->skip = 4; break;
		case 0xcb: sc->skip = 8; break;
		case 0xcc: case 0xd0: sc->skip = 1; break;
		case 0xcd: case 0xd1: sc->skip = 2; break;
		case 0xce: case 0xd2: sc->skip = 4; break;
		case 0xcf: case 0xd3: sc->skip = 8; break;
		case 0xd4: sc->skip = 2; break;		/* type + 1 */
		case 0xd5: sc->skip = 3; break;
		case 0xd6: sc->skip = 5; break;
		case 0xd7: sc->skip = 9; break;
		case 0xd8: sc->skip = 17; break;
		default:
			return -1;			/* 0xc1 never used */
		}
	}
	sc->hdr[0] = b;
	sc->hdrlen = 1;
	sc->declared += elems;
	sc->pending += elems;
	return 0;
}

/* The length fields are complete: account for what they declare. */
static void
ipc_scan_header(struct ipc_scan *sc)
{
	uint8_t		 b = sc->hdr[0];
	const uint8_t	*p = sc->hdr + 1;
	uint64_t	 v;

	switch (b) {
	case 0xc4: case 0xc5: case 0xc6:
	case 0xd9: case 0xda: case 0xdb:
		sc->skip = ipc_scan_be(p, sc->hdrlen - 1);
		break;
	case 0xc7: case 0xc8: case 0xc9:
		sc->skip = ipc_scan_be(p, sc->hdrlen - 2);	/* minus type */
		break;
	case 0xdc: case 0xdd:
		v = ipc_scan_be(p, sc->hdrlen - 1);
		sc->declared += v;
		sc->pending += v;
		break;
	case 0xde: case 0xdf:
		v = 2 * ipc_scan_be(p, sc->hdrlen - 1);
		sc->declared += v;
		sc->pending += v;
		break;
	}
}

int
ipc_scan_feed(struct ipc_scan *sc, const void *buf, size_t n, size_t *okbytes,
    char *err, size_t errlen)
{
	const uint8_t	*p = buf;
	size_t		 i = 0, start = 0, take;

	*okbytes = n;
	while (i < n) {
		if (!sc->inmsg) {
			/* a new message begins */
			sc->inmsg = 1;
			sc->nstarted++;
			sc->msglen = sc->declared = sc->skip = 0;
			sc->hdrneed = sc->hdrlen = sc->headlen = 0;
			sc->pending = 1;
			start = i;
		}
		if (sc->skip > 0) {
			take = n - i < sc->skip ? n - i : sc->skip;
			sc->skip -= take;
		} else if (sc->hdrneed > 0) {
			take = 1;
			sc->hdr[sc->hdrlen++] = p[i];
			if (--sc->hdrneed == 0)
				ipc_scan_header(sc);
		} else {
			take = 1;
			sc->pending--;
			if (ipc_scan_first(sc, p[i]) == -1) {
				snprintf(err, errlen, "invalid byte 0x%02x",
				    p[i]);
				goto bad;
			}
		}
		if (sc->headlen < sizeof(sc->head)) {
			size_t c = sizeof(sc->head) - sc->headlen;

			c = c < take ? c : take;
			memcpy(sc->head + sc->headlen, p + i, c);
			sc->headlen += c;
		}
		sc->msglen += take;
		i += take;
		if (sc->msglen + sc->skip > IPC_MAX_MSG ||
		    sc->declared > IPC_MAX_MSG) {
			snprintf(err, errlen, "message larger than %d bytes",
			    IPC_MAX_MSG);
			goto bad;
		}
		if (sc->pending == 0 && sc->skip == 0 && sc->hdrneed == 0)
			sc->inmsg = 0;
	}
	return 0;

 bad:
	/*
	 * Everything before the bad message may be unpacked. When it began in
	 * an earlier call no message began in this one and start is 0.
	 */
	*okbytes = start;
	return -1;
}

int
ipc_scan_msgid(const struct ipc_scan *sc, uint32_t *msgid)
{
	const uint8_t	*h = sc->head;
	size_t		 n = sc->headlen;

	/* fixarray(4), 0 (request), then a positive int */
	if (n < 3 || h[0] != 0x94 || h[1] != 0x00)
		return -1;
	if (h[2] <= 0x7f) {
		*msgid = h[2];
		return 0;
	}
	if (h[2] == 0xcc && n >= 4) {
		*msgid = h[3];
		return 0;
	}
	if (h[2] == 0xcd && n >= 5) {
		*msgid = (uint32_t)ipc_scan_be(h + 3, 2);
		return 0;
	}
	if (h[2] == 0xce && n >= 7) {
		*msgid = (uint32_t)ipc_scan_be(h + 3, 4);
		return 0;
	}
	return -1;
}

/* ---- packing --------------------------------------------------------------- */

static void
ipc_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

int
ipc_pack_envelope(msgpack_sbuffer *sb, int type, uint32_t msgid,
    const char *method, const char *params, size_t len, char *err,
    size_t errlen)
{
	msgpack_packer	pk;
	struct ipc_scan	sc;
	size_t		ok, mlen = strlen(method);
	char		why[128];

	if (mlen == 0 || mlen >= sizeof(((struct ipc_msg *)0)->method)) {
		snprintf(err, errlen, "method name of %zu bytes", mlen);
		return -1;
	}
	if (params != NULL) {
		/* exactly one object, and one the other side will accept */
		ipc_scan_init(&sc);
		if (len == 0 || ipc_scan_feed(&sc, params, len, &ok, why,
		    sizeof(why)) == -1 || sc.inmsg || sc.nstarted != 1) {
			snprintf(err, errlen, "params are not one msgpack "
			    "object");
			return -1;
		}
	}
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (type == IPC_NOTIFY) {
		msgpack_pack_array(&pk, 3);
		msgpack_pack_uint8(&pk, IPC_NOTIFY);
	} else {
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, IPC_REQUEST);
		msgpack_pack_uint32(&pk, msgid);
	}
	ipc_pack_cstr(&pk, method);
	if (params == NULL)
		msgpack_pack_map(&pk, 0);
	else if (msgpack_sbuffer_write(sb, params, len) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
ipc_pack_error(msgpack_packer *pk, uint32_t msgid, const char *code,
    const char *message)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, IPC_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_map(pk, 2);
	ipc_pack_cstr(pk, "code");
	ipc_pack_cstr(pk, code);
	ipc_pack_cstr(pk, "message");
	ipc_pack_cstr(pk, message);
	msgpack_pack_nil(pk);
}

static void
ipc_errobj_str(msgpack_object *o, const char *s)
{
	o->type = MSGPACK_OBJECT_STR;
	o->via.str.ptr = s;
	o->via.str.size = (uint32_t)strlen(s);
}

const msgpack_object *
ipc_errobj_set(struct ipc_errobj *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	ipc_errobj_str(&e->kv[0].key, "code");
	ipc_errobj_str(&e->kv[0].val, e->code);
	ipc_errobj_str(&e->kv[1].key, "message");
	ipc_errobj_str(&e->kv[1].val, e->message);
	e->obj.type = MSGPACK_OBJECT_MAP;
	e->obj.via.map.size = 2;
	e->obj.via.map.ptr = e->kv;
	return &e->obj;
}

ssize_t
ipc_send_fd(int sock, const void *buf, size_t len, int fd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* ---- credentials ----------------------------------------------------------- */

static int
ipc_proc_in_group(pid_t pid, gid_t want)
{
	char		 path[64], *line = NULL, *p, *end;
	size_t		 cap = 0;
	FILE		*f;
	unsigned long	 g;
	int		 found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (getline(&line, &cap, f) != -1) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7;; p = end) {
			errno = 0;
			g = strtoul(p, &end, 10);
			if (end == p || errno != 0)
				break;
			if ((gid_t)g == want)
				found = 1;
		}
		break;
	}
	free(line);
	fclose(f);
	return found;
}

int
ipc_peer_allowed(uid_t uid, gid_t gid, pid_t pid)
{
	struct group	 gr, *res = NULL;
	char		 buf[16384];

	if (uid == 0 || uid == geteuid())
		return 1;
	if (getgrnam_r("atmosphere", &gr, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return 0;
	if (gid == gr.gr_gid)
		return 1;
	return pid > 0 && ipc_proc_in_group(pid, gr.gr_gid);
}
