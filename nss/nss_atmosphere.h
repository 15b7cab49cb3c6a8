/*
 * libnss_atmosphere (docs/mesh-interface.md, "Names"): NAME.mesh from the
 * hosts file punchd writes (punchd/hostsfile.c). This header is the
 * module's inside, for tests/unit/check_nss.c; glibc sees only the
 * _nss_atmosphere_* entry points. libc only: the module is loaded into
 * every program that resolves a name.
 */
#ifndef NSS_ATMOSPHERE_H
#define NSS_ATMOSPHERE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netdb.h>
#include <nss.h>
#include <sys/socket.h>

/* what libnss_atmosphere reads; punchd writes it when its runtime
 * directory is the system one (/run/atmosphere) */
#define NSS_ATM_PATH		"/run/atmosphere-mesh/hosts"
/* another file, for tests; secure_getenv: never for setuid programs */
#define NSS_ATM_ENV		"ATMOSPHERE_NSS_HOSTS"
#define NSS_ATM_SUFFIX		".mesh"
/* a line longer than this is skipped: punchd's lines are an address
 * (<= 39), a label (<= 63), label.domain (<= 127) and "# this node" */
#define NSS_ATM_LINE		512
/* bytes read at most: two lines of < 100 bytes for each of 65536 members
 * (MESHADDR_MAX_MEMBERS) is 13 MB; a larger file is read that far */
#define NSS_ATM_FILE_MAX	(16u << 20)
/* addresses per answer: a member has two; more comes from names that
 * several members share */
#define NSS_ATM_MAX_ADDRS	16
#define NSS_ATM_NAME_MAX	256

struct nss_atm_addr {
	int	family;			/* AF_INET, AF_INET6 */
	uint8_t	a[16];
};

struct nss_atm_result {
	int			named;	/* a line carries the name */
	size_t			n;
	struct nss_atm_addr	addr[NSS_ATM_MAX_ADDRS];
	char			canon[NSS_ATM_NAME_MAX];  /* NAME.mesh */
};

/*
 * name without its ".mesh" (any case, one trailing dot allowed) into
 * label; -1 for any other name, an empty label or one too long.
 */
int	nss_atm_label(const char *name, char *label, size_t len);
/*
 * The addresses of family af (AF_UNSPEC: both) of every line of f that
 * carries label among its names (ASCII case-insensitive); the canonical
 * name is the first matching line's first name + ".mesh". Lines that are
 * too long, hold a NUL, or whose address does not parse are skipped.
 */
void	nss_atm_scan(FILE *f, const char *label, int af,
	    struct nss_atm_result *r);
/* The same for the line of address addr (af's length); canon: its first
 * name + ".mesh". */
void	nss_atm_scan_addr(FILE *f, int af, const uint8_t *addr,
	    struct nss_atm_result *r);
/* addr is in a mesh's range: 100.64.0.0/10 or fc00::/7 */
int	nss_atm_mesh_addr(const void *addr, socklen_t len, int af);
/*
 * The whole lookup for a name: NSS_STATUS_SUCCESS with r filled, or
 * NOTFOUND / UNAVAIL with *errnop and *herrnop set.
 */
enum nss_status nss_atm_lookup(const char *name, int af,
	    struct nss_atm_result *r, int *errnop, int *herrnop);

/* The same for an address: only mesh addresses open the file. */
enum nss_status nss_atm_lookup_addr(const void *addr, socklen_t len, int af,
	    struct nss_atm_result *r, int *errnop, int *herrnop);

enum nss_status _nss_atmosphere_gethostbyname4_r(const char *name,
	    struct gaih_addrtuple **pat, char *buffer, size_t buflen,
	    int *errnop, int *herrnop, int32_t *ttlp);
enum nss_status _nss_atmosphere_gethostbyname3_r(const char *name, int af,
	    struct hostent *host, char *buffer, size_t buflen, int *errnop,
	    int *herrnop, int32_t *ttlp, char **canonp);
enum nss_status _nss_atmosphere_gethostbyname2_r(const char *name, int af,
	    struct hostent *host, char *buffer, size_t buflen, int *errnop,
	    int *herrnop);
enum nss_status _nss_atmosphere_gethostbyname_r(const char *name,
	    struct hostent *host, char *buffer, size_t buflen, int *errnop,
	    int *herrnop);
enum nss_status _nss_atmosphere_gethostbyaddr2_r(const void *addr,
	    socklen_t len, int af, struct hostent *host, char *buffer,
	    size_t buflen, int *errnop, int *herrnop, int32_t *ttlp);
enum nss_status _nss_atmosphere_gethostbyaddr_r(const void *addr,
	    socklen_t len, int af, struct hostent *host, char *buffer,
	    size_t buflen, int *errnop, int *herrnop);

#endif
