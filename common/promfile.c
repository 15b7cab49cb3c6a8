/*
 * The metrics file: status.get -> promtext -> atomic write. See promfile.h.
 */
#include "promfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "promtext.h"
#include "state.h"

static void
promfile_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	promfile_write(w->data);
}

void
promfile_init(struct promfile *pf, struct ev_loop *loop, const char *daemon,
    promfile_pack_fn *status, promfile_pack_fn *peers, void *arg)
{
	memset(pf, 0, sizeof(*pf));
	pf->loop = loop;
	pf->daemon = daemon;
	pf->status = status;
	pf->peers = peers;
	pf->arg = arg;
	ev_init(&pf->timer, promfile_timer_cb);
	pf->timer.data = pf;
}

void
promfile_help(struct promfile *pf, const struct promtext_help *help, size_t n)
{
	pf->help = help;
	pf->nhelp = n;
}

/* Pack with fn, unpack, hand to the converter. */
static int
promfile_convert(struct promfile *pf, struct promtext *pt,
    promfile_pack_fn *fn, int peers)
{
	msgpack_sbuffer		sb;
	msgpack_packer		pk;
	msgpack_unpacked	u;
	int			r = -1;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	fn(&pk, pf->arg);
	msgpack_unpacked_init(&u);
	if (sb.data != NULL && msgpack_unpack_next(&u, sb.data, sb.size, NULL)
	    == MSGPACK_UNPACK_SUCCESS)
		r = peers ? promtext_peers(pt, pf->daemon, &u.data) :
		    promtext_status(pt, pf->daemon, &u.data);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* Split path into its directory and file name (state_write's arguments). */
static int
promfile_split(const char *path, char *dir, size_t dlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		strlcpy(dir, ".", dlen);
		*base = path;
	} else {
		if ((size_t)(slash - path) + 1 > dlen)
			return -1;
		memcpy(dir, path, slash - path);
		dir[slash - path] = '\0';
		if (dir[0] == '\0')
			strlcpy(dir, "/", dlen);
		*base = slash + 1;
	}
	return **base == '\0' ? -1 : 0;
}

int
promfile_write(struct promfile *pf)
{
	struct promtext	 pt;
	char		 dir[256];
	const char	*base, *why = NULL;
	int		 r = -1;

	if (pf->path[0] == '\0')
		return 0;
	promtext_init(&pt);
	pt.help = pf->help;
	pt.nhelp = pf->nhelp;
	if (promfile_convert(pf, &pt, pf->status, 0) == -1 ||
	    (pf->peers != NULL &&
	    promfile_convert(pf, &pt, pf->peers, 1) == -1))
		why = "cannot convert status.get (out of memory?)";
	else if (promfile_split(pf->path, dir, sizeof(dir), &base) == -1)
		why = "not a file path";
	else if (state_write_mode(dir, base, pt.buf != NULL ? pt.buf : "",
	    pt.len, 0644) == -1)
		why = strerror(errno);
	else
		r = 0;
	promtext_free(&pt);
	if (r == 0) {
		if (pf->failing)
			log_notice("metrics file %s written again", pf->path);
		pf->failing = 0;
		pf->writes++;
		return 0;
	}
	/* once per failure streak: an unwritable directory would say it
	 * every metrics_interval otherwise */
	if (!pf->failing)
		log_errorx("metrics file %s: %s (retrying every %gs)",
		    pf->path, why, pf->timer.repeat);
	pf->failing = 1;
	return -1;
}

int
promfile_set(struct promfile *pf, const char *path, int interval_ms)
{
	if (strcmp(path, pf->path) != 0) {
		if (strlen(path) >= sizeof(pf->path)) {
			log_errorx("metrics file %s: path too long", path);
			return -1;
		}
		promfile_fini(pf);
		strlcpy(pf->path, path, sizeof(pf->path));
		pf->failing = 0;
	}
	ev_timer_stop(pf->loop, &pf->timer);
	if (pf->path[0] == '\0')
		return 0;
	ev_timer_set(&pf->timer, 0, interval_ms / 1000.0);
	ev_timer_start(pf->loop, &pf->timer);
	return 0;
}

void
promfile_fini(struct promfile *pf)
{
	ev_timer_stop(pf->loop, &pf->timer);
	if (pf->path[0] != '\0' && unlink(pf->path) == -1 && errno != ENOENT)
		log_warn("metrics file %s: cannot remove it", pf->path);
	pf->path[0] = '\0';
}
