/*
 * punchd's hosts file (hostsfile.h). Who may read it: everyone, as they
 * may read /etc/hosts: the resolver runs inside every program (ssh as a
 * user, a web server as www-data), so a file only group atmosphere could
 * read would answer nobody else. /run/atmosphere is 0750 (it holds the
 * IPC sockets, and the three units that share it each give that mode),
 * and a subdirectory of it cannot be reached by others; hence a directory of
 * its own, /run/atmosphere-mesh, 0755 (tmpfiles.d; punchd-tun.conf lets
 * punchd write there). What it tells a local user: the members' mesh
 * addresses (which atm0's routes let that user reach anyway) and the
 * names the members announce to the mesh; /etc/hosts' kind of content.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/hostsline.h"
#include "common/log.h"
#include "common/paths.h"
#include "nss/nss_atmosphere.h"
#include "hostsfile.h"
#include "meshaddr.h"
#include "punchd.h"

#define HOSTSFILE_SYSTEM_RUNTIME	"/run/atmosphere"

/* the path; *sys: the system's (NSS_ATM_PATH) */
static int
hostsfile_path(char *path, size_t len, int *sys)
{
	char	dir[256];
	int	n;

	*sys = 0;
	if (paths_runtime_dir(dir, sizeof(dir)) == -1) {
		log_warn("hosts file for NAME.mesh: runtime directory");
		return -1;
	}
	if (strcmp(dir, HOSTSFILE_SYSTEM_RUNTIME) == 0) {
		*sys = 1;
		n = snprintf(path, len, "%s", NSS_ATM_PATH);
	} else
		n = snprintf(path, len, "%s/hosts", dir);
	if (n < 0 || (size_t)n >= len) {
		log_warnx("hosts file for NAME.mesh: %s/hosts: path too long",
		    dir);
		return -1;
	}
	return 0;
}

void
hostsfile_init(struct hostsfile *h)
{
	char	dir[sizeof(h->path)], *slash;
	int	sys;

	memset(h, 0, sizeof(*h));
	/* a crashed run's file may be there: the first update replaces it,
	 * or the first remove (no mesh) takes it away */
	h->written = 1;
	if (hostsfile_path(h->path, sizeof(h->path), &sys) == -1) {
		h->path[0] = '\0';
		return;
	}
	if (!sys)
		return;
	strlcpy(dir, h->path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (paths_mkdir(dir, 0755) == -1) {
		log_warn("hosts file for NAME.mesh: %s (create it 0755, owned "
		    "by punchd's user: systemd-tmpfiles --create)", dir);
		h->path[0] = '\0';
		return;
	}
	/* UMask=0007 made it 0750: every user's resolver reads it */
	(void)chmod(dir, 0755);
}

void
hostsfile_clean(void)
{
	char	path[256];
	int	sys;

	if (hostsfile_path(path, sizeof(path), &sys) == 0 &&
	    unlink(path) == 0)
		log_info("%s removed: punchd.tun = no", path);
}

const char *
hostsfile_name(struct punchd *pd, const uint8_t *id)
{
	const struct mesh_member	*mm = members_find(pd, id);
	struct peer			*p = peer_find_id(pd, id);

	if (mm != NULL && mm->name[0] != '\0')
		return mm->name;
	if (p != NULL && p->name[0] != '\0')
		return p->name;
	return "";
}

/* everything the file says, in a few passes over lists (no lookups) */
static void
hostsfile_sig(struct punchd *pd, const struct meshaddr_table *t,
    const char *ifname, uint8_t sig[16])
{
	crypto_generichash_state	 st;
	const struct mesh_member	*mm;
	struct peer			*p;
	int				 i;

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, (const uint8_t *)t->m,
	    t->n * sizeof(*t->m));
	crypto_generichash_update(&st, (const uint8_t *)ifname,
	    strlen(ifname) + 1);
	crypto_generichash_update(&st, (const uint8_t *)pd->mesh.name,
	    pd->mesh.have ? strlen(pd->mesh.name) + 1 : 0);
	for (i = 0; i < pd->mesh.nmembers; i++) {
		mm = &pd->mesh.members[i];
		crypto_generichash_update(&st, mm->id, sizeof(mm->id));
		crypto_generichash_update(&st, (const uint8_t *)mm->name,
		    strlen(mm->name) + 1);
	}
	TAILQ_FOREACH(p, &pd->peers, entry)
		if (p->bound) {
			crypto_generichash_update(&st, p->id, sizeof(p->id));
			crypto_generichash_update(&st, (const uint8_t *)p->name,
			    strlen(p->name) + 1);
		}
	crypto_generichash_final(&st, sig, 16);
}

static void
hostsfile_lines(FILE *f, struct punchd *pd, const struct meshaddr_table *t,
    const char *ifname)
{
	const char	*mesh = pd->mesh.have ? pd->mesh.name : NULL;
	char		 line[HOSTSLINE_MAX], a[INET6_ADDRSTRLEN];
	char		 id[2 * MESHADDR_NODE_ID_LEN + 1];
	uint32_t	 v4;
	size_t		 i;
	int		 fam;

	fprintf(f, "# mesh %s, interface %s (punchd: the lines of meshctl "
	    "hosts, for libnss_atmosphere)\n", mesh != NULL ? mesh : "-",
	    ifname);
	for (fam = 4; fam <= 6; fam += 2)
		for (i = 0; i < t->n; i++) {
			v4 = htonl(t->m[i].v4);
			inet_ntop(fam == 4 ? AF_INET : AF_INET6, fam == 4 ?
			    (const void *)&v4 : t->m[i].v6, a, sizeof(a));
			sodium_bin2hex(id, sizeof(id), t->m[i].node_id,
			    MESHADDR_NODE_ID_LEN);
			hostsline_format(line, sizeof(line), a,
			    hostsfile_name(pd, t->m[i].node_id), id, mesh,
			    !memcmp(t->m[i].node_id, pd->node_id,
			    MESHADDR_NODE_ID_LEN));
			fputs(line, f);
		}
}

/* path.tmp, then a rename: readers never see half a file */
static int
hostsfile_write(struct hostsfile *h, struct punchd *pd,
    const struct meshaddr_table *t, const char *ifname)
{
	char	 tmp[sizeof(h->path) + 8];
	FILE	*f;
	int	 fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", h->path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		return -1;
	/* readable by every user's resolver, whatever the umask */
	if (fchmod(fd, 0644) == -1 || (f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	hostsfile_lines(f, pd, t, ifname);
	rc = ferror(f);
	if (fclose(f) != 0 || rc != 0 || rename(tmp, h->path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
hostsfile_update(struct hostsfile *h, struct punchd *pd,
    const struct meshaddr_table *t, const char *ifname)
{
	uint8_t sig[16];

	if (h->path[0] == '\0')
		return;
	hostsfile_sig(pd, t, ifname, sig);
	if (h->written && !memcmp(sig, h->sig, sizeof(sig)))
		return;
	if (hostsfile_write(h, pd, t, ifname) == -1) {
		/* tried again on the next tick; said once */
		if (!h->failed_said)
			log_warn("hosts file for NAME.mesh: %s", h->path);
		h->failed_said = 1;
		return;
	}
	if (h->failed_said)
		log_info("hosts file for NAME.mesh: %s written", h->path);
	h->failed_said = 0;
	memcpy(h->sig, sig, sizeof(sig));
	h->written = 1;
	log_debug("hosts file %s: %zu members", h->path, t->n);
}

void
hostsfile_remove(struct hostsfile *h)
{
	if (!h->written)
		return;
	if (h->path[0] != '\0' && unlink(h->path) == -1 && errno != ENOENT)
		log_warn("%s: %s", __func__, h->path);
	h->written = 0;
}
