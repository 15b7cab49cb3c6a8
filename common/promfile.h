/*
 * A daemon's metrics file (stund.metrics_file, punchd.metrics_file): its
 * status.get result (and punchd's peer.list) as Prometheus text, see
 * promtext.h, rewritten whole every metrics_interval on a libev timer for
 * node_exporter's textfile collector. Written like a state file (temp,
 * fsync, rename: a scrape never sees half of one) but mode 0644, since
 * node_exporter runs as another user; removed when the daemon stops, so
 * a stopped daemon's counters are not served as if current.
 */
#ifndef COMMON_PROMFILE_H
#define COMMON_PROMFILE_H

#include <ev.h>
#include <msgpack.h>

/* Pack exactly one object: what status.get (or peer.list) would reply. */
typedef void promfile_pack_fn(msgpack_packer *pk, void *arg);

struct promfile {
	struct ev_loop		*loop;
	ev_timer		 timer;
	const char		*daemon;
	promfile_pack_fn	*status;
	promfile_pack_fn	*peers;		/* NULL: none */
	void			*arg;
	const struct promtext_help *help;	/* counters' help texts */
	size_t			 nhelp;
	char			 path[256];	/* "" = off */
	int			 failing;	/* last write failed (logged) */
	unsigned long		 writes;	/* files written, for tests */
};

void	promfile_init(struct promfile *pf, struct ev_loop *loop,
	    const char *daemon, promfile_pack_fn *status,
	    promfile_pack_fn *peers, void *arg);
/* The help texts of the daemon's counters (its counter table). */
struct promtext_help;
void	promfile_help(struct promfile *pf, const struct promtext_help *help,
	    size_t n);
/*
 * Write `path` now (on the next loop iteration) and every interval_ms;
 * "" turns it off. Called again on reload: a changed path removes the
 * old file. -1 (logged) when the path is too long.
 */
int	promfile_set(struct promfile *pf, const char *path, int interval_ms);
/* Write it once now: 0, or -1 (logged once until a write succeeds). */
int	promfile_write(struct promfile *pf);
/* Stop the timer and remove the file. */
void	promfile_fini(struct promfile *pf);

#endif
