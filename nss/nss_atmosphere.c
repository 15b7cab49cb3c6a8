/*
 * libnss_atmosphere.so.2: `hosts: files atmosphere dns` in nsswitch.conf
 * makes getaddrinfo and gethostbyname answer NAME.mesh with the mesh
 * interface addresses of the member NAME, read from the hosts file punchd
 * writes (punchd/hostsfile.c; the lines of `meshctl hosts`:
 * "ADDRESS NAME NAME.MESHNAME # ..."). A query Q.mesh matches a line that
 * carries Q among its names, so both alice.mesh and alice.home.mesh work.
 *
 * Reverse: a mesh address (100.64.0.0/10, fc00::/7) found in the file
 * answers its line's first name + ".mesh".
 *
 * Any other name or address is NOTFOUND at once, without opening the
 * file. No
 * allocation and no static state (the module runs inside every resolving
 * program, in any thread): the file is read with a fixed line buffer on
 * the stack, the answer is built in the caller's buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nss_atmosphere.h"

#define NSS_ATM_API	__attribute__((visibility("default")))

static int
nss_atm_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* ASCII only: strcasecmp follows the locale (a Turkish i) */
static int
nss_atm_eq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nss_atm_lower((unsigned char)a[i]) !=
		    nss_atm_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int
nss_atm_label(const char *name, char *label, size_t len)
{
	size_t	n = strnlen(name, NSS_ATM_NAME_MAX);
	size_t	s = sizeof(NSS_ATM_SUFFIX) - 1;

	if (n == NSS_ATM_NAME_MAX)
		return -1;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n <= s || !nss_atm_eq(name + n - s, NSS_ATM_SUFFIX, s))
		return -1;
	n -= s;
	if (n >= len)
		return -1;
	memcpy(label, name, n);
	label[n] = '\0';
	return 0;
}

/*
 * One line into buf: 1, 0 at the end. *bad: the line was longer than
 * the buffer or held a NUL (the rest of it is read and dropped).
 */
static int
nss_atm_line(FILE *f, char *buf, size_t len, size_t *total, int *bad)
{
	size_t	n = 0;
	int	c = EOF, got = 0;

	*bad = 0;
	while (*total < NSS_ATM_FILE_MAX && (c = getc_unlocked(f)) != EOF) {
		(*total)++;
		got = 1;
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= len)
			*bad = 1;
		else
			buf[n++] = (char)c;
	}
	/* a line the size limit cut */
	if (got && c != '\n' && *total >= NSS_ATM_FILE_MAX)
		*bad = 1;
	buf[n] = '\0';
	return got;
}

static void
nss_atm_add(struct nss_atm_result *r, int family, const uint8_t *a)
{
	size_t i, alen = family == AF_INET ? 4 : 16;

	for (i = 0; i < r->n; i++)
		if (r->addr[i].family == family &&
		    memcmp(r->addr[i].a, a, alen) == 0)
			return;
	if (r->n == NSS_ATM_MAX_ADDRS)
		return;
	r->addr[r->n].family = family;
	memset(r->addr[r->n].a, 0, sizeof(r->addr[r->n].a));
	memcpy(r->addr[r->n].a, a, alen);
	r->n++;
}

/*
 * One line "ADDRESS NAME... [# comment]": a match is a line carrying
 * label among its names, or (label NULL) one for the address addr.
 */
static void
nss_atm_parse(char *line, const char *label, int af, const uint8_t *addr,
    struct nss_atm_result *r)
{
	static const char	 ws[] = " \t\r";
	char			*save, *tok, *first, *name;
	uint8_t			 a[16];
	int			 family;
	size_t			 ln = label != NULL ? strlen(label) : 0;

	if ((tok = strchr(line, '#')) != NULL)
		*tok = '\0';
	if ((tok = strtok_r(line, ws, &save)) == NULL)
		return;
	family = strchr(tok, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(family, tok, a) != 1)
		return;
	if ((first = strtok_r(NULL, ws, &save)) == NULL)
		return;
	if (label == NULL) {
		if (family != af || memcmp(a, addr, family == AF_INET ? 4 : 16))
			return;
		name = first;
	} else
		for (name = first; name != NULL; name = strtok_r(NULL, ws,
		    &save))
			if (strlen(name) == ln && nss_atm_eq(name, label, ln))
				break;
	if (name == NULL)
		return;
	if (!r->named && strlen(first) + sizeof(NSS_ATM_SUFFIX) <=
	    sizeof(r->canon))
		snprintf(r->canon, sizeof(r->canon), "%s%s", first,
		    NSS_ATM_SUFFIX);
	r->named = 1;
	if (af == AF_UNSPEC || af == family)
		nss_atm_add(r, family, a);
}

static void
nss_atm_scan_q(FILE *f, const char *label, int af, const uint8_t *addr,
    struct nss_atm_result *r)
{
	char	line[NSS_ATM_LINE];
	size_t	total = 0;
	int	bad;

	memset(r, 0, sizeof(*r));
	while (nss_atm_line(f, line, sizeof(line), &total, &bad))
		if (!bad)
			nss_atm_parse(line, label, af, addr, r);
	/* a hostile first name too long for canon: the query's own */
	if (r->named && r->canon[0] == '\0')
		snprintf(r->canon, sizeof(r->canon), "%s%s", label != NULL ?
		    label : "unnamed", NSS_ATM_SUFFIX);
}

void
nss_atm_scan(FILE *f, const char *label, int af, struct nss_atm_result *r)
{
	nss_atm_scan_q(f, label, af, NULL, r);
}

void
nss_atm_scan_addr(FILE *f, int af, const uint8_t *addr,
    struct nss_atm_result *r)
{
	nss_atm_scan_q(f, NULL, af, addr, r);
}

/* the file, or NOTFOUND / UNAVAIL said */
static enum nss_status
nss_atm_open(FILE **fp, int *errnop, int *herrnop)
{
	const char *path;

	if ((path = secure_getenv(NSS_ATM_ENV)) == NULL || *path == '\0')
		path = NSS_ATM_PATH;
	if ((*fp = fopen(path, "re")) != NULL)
		return NSS_STATUS_SUCCESS;
	*errnop = errno;
	/* no file: no mesh interface here (punchd stopped, tun off) */
	if (errno == ENOENT || errno == ENOTDIR) {
		*errnop = ENOENT;
		*herrnop = HOST_NOT_FOUND;
		return NSS_STATUS_NOTFOUND;
	}
	*herrnop = NO_RECOVERY;
	return NSS_STATUS_UNAVAIL;
}

static enum nss_status
nss_atm_done(const struct nss_atm_result *r, int *errnop, int *herrnop)
{
	if (r->n > 0)
		return NSS_STATUS_SUCCESS;
	*errnop = ENOENT;
	*herrnop = r->named ? NO_DATA : HOST_NOT_FOUND;
	return NSS_STATUS_NOTFOUND;
}

enum nss_status
nss_atm_lookup(const char *name, int af, struct nss_atm_result *r,
    int *errnop, int *herrnop)
{
	char		label[NSS_ATM_NAME_MAX];
	FILE		*f;
	enum nss_status	st;

	memset(r, 0, sizeof(*r));
	if (nss_atm_label(name, label, sizeof(label)) == -1)
		return nss_atm_done(r, errnop, herrnop);
	if ((st = nss_atm_open(&f, errnop, herrnop)) != NSS_STATUS_SUCCESS)
		return st;
	nss_atm_scan(f, label, af, r);
	fclose(f);
	return nss_atm_done(r, errnop, herrnop);
}

int
nss_atm_mesh_addr(const void *addr, socklen_t len, int af)
{
	const uint8_t *a = addr;

	if (af == AF_INET && len == 4)		/* 100.64.0.0/10 */
		return a[0] == 100 && (a[1] & 0xc0) == 64;
	if (af == AF_INET6 && len == 16)	/* fc00::/7, ULA */
		return (a[0] & 0xfe) == 0xfc;
	return 0;
}

enum nss_status
nss_atm_lookup_addr(const void *addr, socklen_t len, int af,
    struct nss_atm_result *r, int *errnop, int *herrnop)
{
	FILE		*f;
	enum nss_status	 st;

	memset(r, 0, sizeof(*r));
	if (!nss_atm_mesh_addr(addr, len, af))
		return nss_atm_done(r, errnop, herrnop);
	if ((st = nss_atm_open(&f, errnop, herrnop)) != NSS_STATUS_SUCCESS)
		return st;
	nss_atm_scan_addr(f, af, addr, r);
	fclose(f);
	return nss_atm_done(r, errnop, herrnop);
}

/* the first aligned byte of buf for a pointer-holding struct */
static size_t
nss_atm_pad(const char *buf)
{
	size_t a = sizeof(void *) > sizeof(uint64_t) ? sizeof(void *) :
	    sizeof(uint64_t);

	return (a - (uintptr_t)buf % a) % a;
}

static enum nss_status
nss_atm_erange(int *errnop, int *herrnop)
{
	*errnop = ERANGE;
	*herrnop = NETDB_INTERNAL;
	return NSS_STATUS_TRYAGAIN;
}

NSS_ATM_API enum nss_status
_nss_atmosphere_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
    char *buffer, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	struct nss_atm_result	 r;
	struct gaih_addrtuple	*t;
	enum nss_status		 st;
	size_t			 pad = nss_atm_pad(buffer), clen, i;
	char			*canon;

	(void)ttlp;
	if ((st = nss_atm_lookup(name, AF_UNSPEC, &r, errnop, herrnop)) !=
	    NSS_STATUS_SUCCESS)
		return st;
	clen = strlen(r.canon) + 1;
	if (buflen < pad || buflen - pad < r.n * sizeof(*t) + clen)
		return nss_atm_erange(errnop, herrnop);
	t = (struct gaih_addrtuple *)(void *)(buffer + pad);
	canon = (char *)(t + r.n);
	memcpy(canon, r.canon, clen);
	for (i = 0; i < r.n; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].next = i + 1 < r.n ? &t[i + 1] : NULL;
		t[i].name = canon;
		t[i].family = r.addr[i].family;
		memcpy(t[i].addr, r.addr[i].a, r.addr[i].family == AF_INET ?
		    4 : 16);
	}
	*pat = t;
	return NSS_STATUS_SUCCESS;
}

/* r's addresses (all of family af) as a hostent in buffer */
static enum nss_status
nss_atm_hostent(const struct nss_atm_result *r, int af, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop)
{
	size_t	 pad = nss_atm_pad(buffer), alen, clen, need, i;
	char	**list, *data;

	alen = af == AF_INET ? 4 : 16;
	clen = strlen(r->canon) + 1;
	/* aliases (just NULL), addr_list (n + NULL), the addresses, canon */
	need = (1 + r->n + 1) * sizeof(char *) + r->n * alen + clen;
	if (buflen < pad || buflen - pad < need)
		return nss_atm_erange(errnop, herrnop);
	list = (char **)(void *)(buffer + pad);
	data = (char *)(list + 1 + r->n + 1);
	list[0] = NULL;
	host->h_aliases = list;
	host->h_addr_list = list + 1;
	for (i = 0; i < r->n; i++) {
		memcpy(data, r->addr[i].a, alen);
		host->h_addr_list[i] = data;
		data += alen;
	}
	host->h_addr_list[r->n] = NULL;
	memcpy(data, r->canon, clen);
	host->h_name = data;
	host->h_addrtype = af;
	host->h_length = (int)alen;
	return NSS_STATUS_SUCCESS;
}

NSS_ATM_API enum nss_status
_nss_atmosphere_gethostbyname3_r(const char *name, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop,
    int *herrnop, int32_t *ttlp, char **canonp)
{
	struct nss_atm_result	 r;
	enum nss_status		 st;

	(void)ttlp;
	if (af != AF_INET && af != AF_INET6) {
		*errnop = EAFNOSUPPORT;
		*herrnop = NO_DATA;
		return NSS_STATUS_UNAVAIL;
	}
	if ((st = nss_atm_lookup(name, af, &r, errnop, herrnop)) !=
	    NSS_STATUS_SUCCESS)
		return st;
	if ((st = nss_atm_hostent(&r, af, host, buffer, buflen, errnop,
	    herrnop)) == NSS_STATUS_SUCCESS && canonp != NULL)
		*canonp = host->h_name;
	return st;
}

NSS_ATM_API enum nss_status
_nss_atmosphere_gethostbyname2_r(const char *name, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop,
    int *herrnop)
{
	return _nss_atmosphere_gethostbyname3_r(name, af, host, buffer,
	    buflen, errnop, herrnop, NULL, NULL);
}

NSS_ATM_API enum nss_status
_nss_atmosphere_gethostbyname_r(const char *name, struct hostent *host,
    char *buffer, size_t buflen, int *errnop, int *herrnop)
{
	return _nss_atmosphere_gethostbyname3_r(name, AF_INET, host, buffer,
	    buflen, errnop, herrnop, NULL, NULL);
}

/* reverse: a mesh address (100.64.0.0/10, fc00::/7) to NAME.mesh */
NSS_ATM_API enum nss_status
_nss_atmosphere_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop,
    int *herrnop, int32_t *ttlp)
{
	struct nss_atm_result	 r;
	enum nss_status		 st;

	(void)ttlp;
	if ((st = nss_atm_lookup_addr(addr, len, af, &r, errnop, herrnop)) !=
	    NSS_STATUS_SUCCESS)
		return st;
	return nss_atm_hostent(&r, af, host, buffer, buflen, errnop, herrnop);
}

NSS_ATM_API enum nss_status
_nss_atmosphere_gethostbyaddr_r(const void *addr, socklen_t len, int af,
    struct hostent *host, char *buffer, size_t buflen, int *errnop,
    int *herrnop)
{
	return _nss_atmosphere_gethostbyaddr2_r(addr, len, af, host, buffer,
	    buflen, errnop, herrnop, NULL);
}
