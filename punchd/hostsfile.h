/*
 * The mesh's names for the host's resolver (docs/mesh-interface.md,
 * "Names"): the member table as the lines of `meshctl hosts`, in a file
 * libnss_atmosphere (nss/) reads, so getaddrinfo("NAME.mesh") works in
 * every program. iface.c calls it on its one-second tick; a file is
 * written only when the table or a name changed, by a rename (a reader
 * sees the old file or the new one, never half of one).
 */
#ifndef PUNCHD_HOSTSFILE_H
#define PUNCHD_HOSTSFILE_H

#include <stdint.h>

struct punchd;
struct meshaddr_table;

struct hostsfile {
	char	path[256];	/* "": none (logged at init) */
	uint8_t	sig[16];	/* of what the file holds */
	int	written;	/* the file is there */
	int	failed_said;
};

/*
 * The path: NSS_ATM_PATH (/run/atmosphere-mesh/hosts, its directory made
 * 0755) for the system's punchd, whose runtime directory is
 * /run/atmosphere; any other punchd's next to its socket,
 * RUNTIME/hosts, which the system's resolver never reads.
 */
void	hostsfile_init(struct hostsfile *h);
/* The file again if the table, the interface or a name changed. */
void	hostsfile_update(struct hostsfile *h, struct punchd *pd,
	    const struct meshaddr_table *t, const char *ifname);
/* No file (stop, this node in no mesh). */
void	hostsfile_remove(struct hostsfile *h);
/* tun = no: the file a crashed run with tun = yes left, if any, goes */
void	hostsfile_clean(void);
/* A member's name: membership's, else the bound peer's, else "". */
const char *hostsfile_name(struct punchd *pd, const uint8_t *id);

#endif
