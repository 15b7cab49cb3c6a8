/*
 * Peers survive a restart: $STATE_DIRECTORY/peers holds a header line and
 * one line per peer whose node id is known,
 *
 *     # punchd peers v1: id name endpoint candidates...
 *     <node id hex> <name or -> <endpoint or -> [<candidate> ...]
 *
 * written a second after the table changes (and at shutdown), and read at
 * start-up, when every peer is punched again over what it last used.
 * Names never hold white space (control.c refuses them). Writing is driven
 * by changes: peer.c reports every change of what the file holds (a peer
 * created, bound, freed, up, or given candidates) through
 * hooks.peers_changed, which arms a one-shot timer; the write then skips
 * a table that hashes to what was last written. An idle node never wakes
 * up for its peers file.
 *
 * Crash safety: common/state.c writes the file whole to peers.tmp, fsyncs
 * it, renames it over peers and fsyncs the directory, so a crash (or power
 * loss) at any point leaves the old file or the new one, never half of
 * one. A peers.tmp found at start-up is the remains of an interrupted
 * write and is removed.
 *
 * A file that does not parse (garbage, truncated, empty, another version)
 * is never half-used nor silently ignored: punchd logs where and why, moves
 * it aside to peers.corrupt-YYYYMMDDTHHMMSSZ for the operator, and starts
 * without saved peers. The header without a version ("# punchd peers:"),
 * written by earlier builds, reads as version 1.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/log.h"
#include "common/state.h"
#include "punchd.h"

#define STORE_DELAY	1.0	/* s: one write for a burst of changes */
#define STORE_RETRY	10.0	/* s: next try after a failed write */
#define STORE_VERSION	1
#define STORE_MAGIC	"# punchd peers"
#define STORE_MAX_LINE	4096	/* 16 candidates of an IPv6 scope fit */

/* --- writing ---------------------------------------------------------- */

static struct log_ratelimit store_rl;	/* a read-only state directory */

static void
store_hash_of(const char *buf, size_t len, uint8_t *out)
{
	crypto_generichash(out, crypto_generichash_BYTES,
	    (const unsigned char *)buf, len, NULL, 0);
}

/* the table as the file holds it; written when it differs from the last */
static int
store_write(struct punchd *pd)
{
	struct peer	*p;
	char		 a[NETADDR_STRLEN], *buf = NULL;
	uint8_t		 h[crypto_generichash_BYTES];
	size_t		 len = 0;
	FILE		*f;
	int		 i, rc, n = 0;

	if ((f = open_memstream(&buf, &len)) == NULL) {
		log_warn("%s: open_memstream", __func__);
		return -1;
	}
	fprintf(f, "%s v%d: id name endpoint candidates...\n", STORE_MAGIC,
	    STORE_VERSION);
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (!p->bound)
			continue;
		n++;
		fprintf(f, "%s %s %s", p->idstr, p->name[0] ? p->name : "-",
		    p->has_endpoint ? netaddr_str((struct sockaddr *)
		    &p->endpoint, a, sizeof(a)) : "-");
		for (i = 0; i < p->punch.npairs; i++)
			fprintf(f, " %s", netaddr_str((struct sockaddr *)
			    &p->punch.pairs[i].remote.addr, a, sizeof(a)));
		fprintf(f, "\n");
	}
	if (fclose(f) == EOF || buf == NULL) {
		log_warn("%s: building the peers file", __func__);
		free(buf);
		return -1;
	}
	store_hash_of(buf, len, h);
	/* nothing new, or nothing at all and no file yet */
	if ((pd->store_hashed && sodium_memcmp(h, pd->store_hash,
	    sizeof(h)) == 0) || (!pd->store_hashed && n == 0)) {
		free(buf);
		return 0;
	}
	rc = state_write(pd->statedir, "peers", buf, len);
	if (rc == -1)
		log_warnx_rl(&store_rl, 60, "cannot save peers to %s/peers: "
		    "%s (kept in memory, retrying)", pd->statedir,
		    strerror(errno));
	else {
		memcpy(pd->store_hash, h, sizeof(h));
		pd->store_hashed = 1;
		log_debug("saved %d peer%s to %s/peers", n, n == 1 ? "" : "s",
		    pd->statedir);
	}
	free(buf);
	return rc;
}

static void
store_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct punchd *pd = w->data;

	(void)revents;
	if (store_write(pd) == -1) {
		ev_timer_set(w, STORE_RETRY, 0);
		ev_timer_start(loop, w);
	}
}

/* Something the file holds changed: write it STORE_DELAY from now (one
 * write for a burst). Nothing before store_init() or after store_fini(). */
void
store_changed(struct punchd *pd)
{
	if (pd->store_on && !ev_is_active(&pd->store_timer)) {
		ev_timer_set(&pd->store_timer, STORE_DELAY, 0);
		ev_timer_start(pd->loop, &pd->store_timer);
	}
}

/* --- reading ---------------------------------------------------------- */

struct store_entry {
	char			*id, *name;
	struct sockaddr_storage	 cands[PUNCH_MAX_CANDS];
	int			 n;
};

/* tok for a log line: as is when printable and short, else a hint */
static const char *
store_tok(const char *tok, char *buf, size_t len)
{
	const char *s;

	for (s = tok; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			return "(binary data)";
	if (strlen(tok) >= len)
		snprintf(buf, len, "%.*s...", (int)len - 4, tok);
	else
		strlcpy(buf, tok, len);
	return buf;
}

static int
store_is_hexid(const char *s)
{
	int i;

	for (i = 0; i < 2 * PACKET_NODEID_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[i] == '\0';
}

static int
store_is_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= PUNCHD_NAME_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '!' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * The header, line 1: "# punchd peers v<N>: ..." or the unversioned
 * "# punchd peers: ..." of earlier builds. 0, or -1 with a reason.
 */
static int
store_header(const char *line, char *why, size_t wlen)
{
	const char	*s;
	char		*end;
	long		 v;

	if (strncmp(line, STORE_MAGIC, strlen(STORE_MAGIC)) != 0) {
		snprintf(why, wlen, "not a punchd peers file (line 1 is not "
		    "the '%s v%d:' header)", STORE_MAGIC, STORE_VERSION);
		return -1;
	}
	s = line + strlen(STORE_MAGIC);
	if (*s == ':')
		return 0;			/* unversioned: version 1 */
	if (s[0] != ' ' || s[1] != 'v' || !isdigit((unsigned char)s[2])) {
		snprintf(why, wlen, "bad header (expected '%s v%d:')",
		    STORE_MAGIC, STORE_VERSION);
		return -1;
	}
	errno = 0;
	v = strtol(s + 2, &end, 10);
	if (errno != 0 || *end != ':') {
		snprintf(why, wlen, "bad header (expected '%s v%d:')",
		    STORE_MAGIC, STORE_VERSION);
		return -1;
	}
	if (v != STORE_VERSION) {
		snprintf(why, wlen, "file format version %ld, this punchd "
		    "reads version %d", v, STORE_VERSION);
		return -1;
	}
	return 0;
}

/*
 * One peer line, modified in place. 1 for a peer in e, 0 for a blank or
 * comment line, -1 with a reason.
 */
static int
store_parse(char *line, struct store_entry *e, char *why, size_t wlen)
{
	struct sockaddr_storage	 ss;
	char			*tok, *save = NULL, t[48];
	int			 fields = 0;

	memset(e, 0, sizeof(*e));
	if ((tok = strtok_r(line, " \t\r\n", &save)) == NULL || *tok == '#')
		return 0;
	e->id = tok;
	if (!store_is_hexid(tok)) {
		snprintf(why, wlen, "bad node id '%s' (expected %d hex "
		    "digits)", store_tok(tok, t, sizeof(t)),
		    2 * PACKET_NODEID_LEN);
		return -1;
	}
	while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		fields++;
		if (fields == 1) {
			if (strcmp(tok, "-") != 0 && !store_is_name(tok)) {
				snprintf(why, wlen, "bad peer name '%s'",
				    store_tok(tok, t, sizeof(t)));
				return -1;
			}
			e->name = tok;
			continue;
		}
		if (fields == 2 && strcmp(tok, "-") == 0)
			continue;		/* no endpoint */
		if (netaddr_parse(tok, 0, &ss) == -1) {
			snprintf(why, wlen, "bad address '%s'",
			    store_tok(tok, t, sizeof(t)));
			return -1;
		}
		if (e->n < PUNCH_MAX_CANDS)
			e->cands[e->n++] = ss;
	}
	if (fields < 2) {
		snprintf(why, wlen, "missing fields (expected 'id name "
		    "endpoint [candidates...]')");
		return -1;
	}
	return 1;
}

/*
 * Reads and checks the whole file; with apply, creates and punches the
 * peers (only ever called with apply once the file checked out). 0, or -1
 * with "line N: reason" in why.
 */
static int
store_load(struct punchd *pd, FILE *f, int apply, char *why, size_t wlen)
{
	struct store_entry	 e;
	struct peer		*p;
	char			*line = NULL, *ids = NULL, reason[192];
	size_t			 cap = 0, nids = 0, i;
	ssize_t			 n;
	int			 lineno = 0, rc = -1, r;

	rewind(f);
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			snprintf(reason, sizeof(reason), "binary data (a NUL "
			    "byte)");
			goto bad;
		}
		if ((size_t)n > STORE_MAX_LINE) {
			snprintf(reason, sizeof(reason), "line longer than %d "
			    "bytes", STORE_MAX_LINE);
			goto bad;
		}
		if (line[n - 1] != '\n') {
			snprintf(reason, sizeof(reason), "truncated (the last "
			    "line has no newline: the file was cut short)");
			goto bad;
		}
		if (lineno == 1) {
			if (store_header(line, reason, sizeof(reason)) == -1)
				goto bad;
			continue;
		}
		if ((r = store_parse(line, &e, reason, sizeof(reason))) == -1)
			goto bad;
		if (r == 0)
			continue;
		if (!apply) {
			/* a writer never repeats an id */
			for (i = 0; i < nids; i++)
				if (strncasecmp(ids + i * 17, e.id, 16) == 0)
					break;
			if (i < nids) {
				snprintf(reason, sizeof(reason), "node id %s "
				    "twice", e.id);
				goto bad;
			}
			if (nids % 256 == 0) {
				char *nb = reallocarray(ids, nids + 256, 17);

				if (nb == NULL) {
					snprintf(reason, sizeof(reason),
					    "out of memory");
					goto bad;
				}
				ids = nb;
			}
			strlcpy(ids + nids++ * 17, e.id, 17);
			continue;
		}
		if (strcasecmp(e.id, pd->node_idstr) == 0) {
			log_warnx("%s/peers: line %d: our own node id, "
			    "skipped", pd->statedir, lineno);
			continue;
		}
		if ((p = peer_create(pd, e.id)) == NULL) {
			log_warnx("%s/peers: line %d: peer %s not loaded "
			    "(table full?)", pd->statedir, lineno, e.id);
			continue;
		}
		if (!p->bound) {
			peer_free(p);
			continue;
		}
		if (e.name != NULL && strcmp(e.name, "-") != 0)
			strlcpy(p->name, e.name, sizeof(p->name));
		if (e.n > 0)
			link_punch(p, e.cands, e.n);
	}
	if (ferror(f)) {
		snprintf(reason, sizeof(reason), "read error: %s",
		    strerror(errno));
		lineno = 0;
		goto bad;
	}
	if (lineno == 0) {
		snprintf(reason, sizeof(reason), "empty file (a peers file "
		    "always has its header line)");
		goto bad;
	}
	rc = 0;
	goto out;
bad:
	if (lineno > 0)
		snprintf(why, wlen, "line %d: %s", lineno, reason);
	else
		strlcpy(why, reason, wlen);
out:
	free(line);
	free(ids);
	return rc;
}

/* peers -> peers.corrupt-<UTC time>[-N]; the new name, or NULL */
static const char *
store_move_aside(struct punchd *pd, const char *path, char *to, size_t tolen)
{
	struct stat	 st;
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 stamp[32];
	int		 i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(to, tolen, "%s/peers.corrupt-%s",
			    pd->statedir, stamp);
		else
			snprintf(to, tolen, "%s/peers.corrupt-%s-%d",
			    pd->statedir, stamp, i);
		if (lstat(to, &st) == -1 && errno == ENOENT)
			break;
	}
	if (i == 100 || rename(path, to) == -1)
		return NULL;
	return to;
}

/* the hash of the file as read: a write happens only when it differs */
static void
store_remember(struct punchd *pd, const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f, *m;
	int	 c;

	if ((f = fopen(path, "re")) == NULL)
		return;
	if ((m = open_memstream(&buf, &len)) != NULL) {
		while ((c = getc(f)) != EOF)
			putc(c, m);
		if (fclose(m) == 0 && buf != NULL) {
			store_hash_of(buf, len, pd->store_hash);
			pd->store_hashed = 1;
		}
	}
	free(buf);
	fclose(f);
}

void
store_init(struct punchd *pd)
{
	char	 path[512], tmp[520], aside[600], why[256];
	FILE	*f;

	ev_init(&pd->store_timer, store_timer_cb);
	pd->store_timer.data = pd;
	pd->store_on = 1;
	pd->hooks.peers_changed = store_changed;
	snprintf(path, sizeof(path), "%s/peers", pd->statedir);
	/* the remains of a write a crash interrupted: peers is intact */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (unlink(tmp) == 0)
		log_notice("removed %s, left by an interrupted write (%s is "
		    "the last complete one)", tmp, path);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("cannot read saved peers from %s, starting "
			    "without them", path);
		return;
	}
	if (store_load(pd, f, 0, why, sizeof(why)) == -1) {
		fclose(f);
		if (store_move_aside(pd, path, aside, sizeof(aside)) != NULL)
			log_errorx("corrupt peers file %s: %s; moved "
			    "aside to %s, starting without saved peers",
			    path, why, aside);
		else
			log_errorx("corrupt peers file %s: %s; could "
			    "not move it aside (%s), starting without saved "
			    "peers", path, why, strerror(errno));
		return;
	}
	store_load(pd, f, 1, why, sizeof(why));
	fclose(f);
	store_remember(pd, path);
	if (pd->npeers > 0)
		log_info("%d peer%s from %s, punching again", pd->npeers,
		    pd->npeers == 1 ? "" : "s", path);
}

void
store_fini(struct punchd *pd)
{
	if (!pd->store_on)
		return;
	pd->store_on = 0;
	pd->hooks.peers_changed = NULL;
	ev_timer_stop(pd->loop, &pd->store_timer);
	store_write(pd);
}
