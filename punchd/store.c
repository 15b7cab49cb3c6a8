/*
 * Peers survive a restart: $STATE_DIRECTORY/peers holds one line per peer
 * whose node id is known,
 *
 *     <node id hex> <name or -> <endpoint or -> [<candidate> ...]
 *
 * written (temp, fsync, rename, 0600) a second after the table changes,
 * and read at start-up, when every peer is punched again over what it
 * last used. Names never hold white space (control.c refuses them).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "punchd.h"

#define STORE_DELAY	1.0	/* s: one write for a burst of changes */

static int
store_write(struct punchd *pd)
{
	struct peer	*p;
	char		 path[512], tmp[520], a[NETADDR_STRLEN];
	FILE		*f;
	int		 fd, i;

	snprintf(path, sizeof(path), "%s/peers", pd->statedir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("%s: %s", __func__, tmp);
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f, "# punchd peers: id name endpoint candidates...\n");
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (!p->bound)
			continue;
		fprintf(f, "%s %s %s", p->idstr, p->name[0] ? p->name : "-",
		    p->has_endpoint ? netaddr_str((struct sockaddr *)
		    &p->endpoint, a, sizeof(a)) : "-");
		for (i = 0; i < p->punch.npairs; i++)
			fprintf(f, " %s", netaddr_str((struct sockaddr *)
			    &p->punch.pairs[i].remote.addr, a, sizeof(a)));
		fprintf(f, "\n");
	}
	if (fflush(f) == EOF || fsync(fileno(f)) == -1) {
		log_warn("%s: %s", __func__, tmp);
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename %s", __func__, path);
		return -1;
	}
	return 0;
}

static void
store_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	store_write(w->data);
}

void
store_changed(struct punchd *pd)
{
	if (!ev_is_active(&pd->store_timer)) {
		ev_timer_set(&pd->store_timer, STORE_DELAY, 0);
		ev_timer_start(pd->loop, &pd->store_timer);
	}
}

static void
store_line(struct punchd *pd, char *line)
{
	struct sockaddr_storage	 cands[PUNCH_MAX_CANDS];
	char			*tok, *id, *name, *save = NULL;
	struct peer		*p = NULL;
	int			 n = 0;

	if ((id = strtok_r(line, " \t\n", &save)) == NULL || *id == '#' ||
	    (name = strtok_r(NULL, " \t\n", &save)) == NULL)
		return;
	while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL &&
	    n < PUNCH_MAX_CANDS)
		if (strcmp(tok, "-") != 0 && netaddr_parse(tok, 0, &cands[n])
		    == 0)
			n++;
	if (strlen(id) != 2 * PACKET_NODEID_LEN || peer_find(pd, id) != NULL ||
	    (p = peer_create(pd, id)) == NULL || !p->bound) {
		log_warnx("%s: ignoring peer '%s'", __func__, id);
		if (p != NULL && !p->bound)
			peer_free(p);
		return;
	}
	if (strcmp(name, "-") != 0)
		strlcpy(p->name, name, sizeof(p->name));
	if (n > 0)
		peer_punch(p, cands, n);
}

void
store_init(struct punchd *pd)
{
	char	 path[512], line[2048];
	FILE	*f;

	ev_init(&pd->store_timer, store_timer_cb);
	pd->store_timer.data = pd;
	snprintf(path, sizeof(path), "%s/peers", pd->statedir);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("%s: %s", __func__, path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		store_line(pd, line);
	fclose(f);
	if (pd->npeers > 0)
		log_info("%d peer%s from %s, punching again", pd->npeers,
		    pd->npeers == 1 ? "" : "s", path);
}

void
store_fini(struct punchd *pd)
{
	if (ev_is_active(&pd->store_timer)) {
		ev_timer_stop(pd->loop, &pd->store_timer);
		store_write(pd);
	}
}
