/*
 * nss/nss_atmosphere.c: the NAME.mesh filter, the hosts file scan (both
 * name forms, case, families, comments), hostile files (long lines, NULs,
 * missing fields, bad addresses, a file past the size limit, random
 * bytes), and the glibc entry points: every buffer size below the
 * needed one is ERANGE / TRYAGAIN, a misaligned buffer works, h_errno and
 * errno as glibc wants them, no file, other names never open the file,
 * several threads at once; reverse lookups of mesh addresses only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hostsline.h"
#include "nss/nss_atmosphere.h"
#include "suites.h"

/* the lines of `meshctl hosts` for a mesh "home" */
static const char good[] =
    "# mesh home, interface atm0 (meshctl hosts)\n"
    "100.64.1.2                              alice alice.home\t# this node\n"
    "100.80.3.4                              bob bob.home\n"
    "100.90.0.9                              node-0a0b0c0d0e0f1011 "
    "node-0a0b0c0d0e0f1011.home\n"
    "fd12:3456:789a::102:304:506:708         alice alice.home\t# this node\n"
    "fd12:3456:789a::1111:2222:3333:4444     bob bob.home\n";

static char	nss_dir[64];
static char	nss_file[96];

static void
nss_scan_str(const char *text, size_t len, const char *label, int af,
    struct nss_atm_result *r)
{
	FILE *f = fmemopen((void *)text, len, "r");

	ck_assert_ptr_nonnull(f);
	nss_atm_scan(f, label, af, r);
	fclose(f);
}

static int
nss_has(const struct nss_atm_result *r, int family, const char *addr)
{
	uint8_t	a[16] = { 0 };
	size_t	i;

	ck_assert_int_eq(inet_pton(family, addr, a), 1);
	for (i = 0; i < r->n; i++)
		if (r->addr[i].family == family && !memcmp(r->addr[i].a, a,
		    family == AF_INET ? 4 : 16))
			return 1;
	return 0;
}

START_TEST(test_nss_label)
{
	char l[64];

	ck_assert_int_eq(nss_atm_label("alice.mesh", l, sizeof(l)), 0);
	ck_assert_str_eq(l, "alice");
	ck_assert_int_eq(nss_atm_label("ALICE.MeSh.", l, sizeof(l)), 0);
	ck_assert_str_eq(l, "ALICE");
	ck_assert_int_eq(nss_atm_label("alice.home.mesh", l, sizeof(l)), 0);
	ck_assert_str_eq(l, "alice.home");
	ck_assert_int_eq(nss_atm_label("alice", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label("alice.home", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label("alicemesh", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label("alice.meshy", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label("alice.mesh..", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label(".mesh", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label("mesh", l, sizeof(l)), -1);
	ck_assert_int_eq(nss_atm_label("", l, sizeof(l)), -1);
	/* a label longer than the buffer */
	ck_assert_int_eq(nss_atm_label("abcdefgh.mesh", l, 8), -1);
}
END_TEST

START_TEST(test_nss_label_long)
{
	char name[1000], l[NSS_ATM_NAME_MAX];

	memset(name, 'a', sizeof(name));
	strcpy(name + sizeof(name) - 6, ".mesh");
	ck_assert_int_eq(nss_atm_label(name, l, sizeof(l)), -1);
	strcpy(name + NSS_ATM_NAME_MAX - 10, ".mesh");
	ck_assert_int_eq(nss_atm_label(name, l, sizeof(l)), 0);
	ck_assert_uint_eq(strlen(l), NSS_ATM_NAME_MAX - 10);
}
END_TEST

START_TEST(test_nss_scan)
{
	struct nss_atm_result r;

	nss_scan_str(good, sizeof(good) - 1, "alice", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 1);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.canon, "alice.mesh");
	ck_assert(nss_has(&r, AF_INET, "100.64.1.2"));
	ck_assert(nss_has(&r, AF_INET6, "fd12:3456:789a::102:304:506:708"));

	/* the qualified form and another case: the same member */
	nss_scan_str(good, sizeof(good) - 1, "BOB.Home", AF_INET, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.canon, "bob.mesh");
	ck_assert(nss_has(&r, AF_INET, "100.80.3.4"));
	nss_scan_str(good, sizeof(good) - 1, "bob", AF_INET6, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(nss_has(&r, AF_INET6, "fd12:3456:789a::1111:2222:3333:4444"));

	nss_scan_str(good, sizeof(good) - 1, "node-0a0b0c0d0e0f1011",
	    AF_UNSPEC, &r);
	ck_assert_uint_eq(r.n, 1);

	/* a prefix, a comment word, the domain alone: no member */
	nss_scan_str(good, sizeof(good) - 1, "ali", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
	nss_scan_str(good, sizeof(good) - 1, "this", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
	nss_scan_str(good, sizeof(good) - 1, "home", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
	nss_scan_str(good, sizeof(good) - 1, "100.64.1.2", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

/* punchd's lines (common/hostsline.c) read back; a member's hostile name
 * cannot add a field, a comment or a line */
START_TEST(test_nss_hostsline)
{
	struct nss_atm_result	r;
	char			text[4 * HOSTSLINE_MAX];
	size_t			n;

	hostsline_format(text, HOSTSLINE_MAX, "100.64.0.5", "evil 1.2.3.4 #x\n"
	    "9.9.9.9 bob", "0102030405060708", "h o#me", 1);
	n = strlen(text);
	ck_assert_str_eq(text, "100.64.0.5                              "
	    "evil-1-2-3-4--x-9-9-9-9-bob evil-1-2-3-4--x-9-9-9-9-bob.h-o-me"
	    "\t# this node\n");
	hostsline_format(text + n, HOSTSLINE_MAX, "fd00::5", "",
	    "0102030405060708", NULL, 0);
	ck_assert_str_eq(text + n, "fd00::5                                 "
	    "node-0102030405060708 node-0102030405060708.mesh\n");
	n = strlen(text);
	nss_scan_str(text, n, "bob", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
	nss_scan_str(text, n, "evil-1-2-3-4--x-9-9-9-9-bob.h-o-me", AF_UNSPEC,
	    &r);
	ck_assert_uint_eq(r.n, 1);
	nss_scan_str(text, n, "node-0102030405060708", AF_INET6, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.canon, "node-0102030405060708.mesh");
}
END_TEST

START_TEST(test_nss_scan_hostile)
{
	static const char	tail[] = "100.64.0.7 carol\n";
	struct nss_atm_result	r;
	char			*big;
	size_t			 n, i;

	/* a line far longer than the buffer, naming carol at its end,
	 * then a NUL inside a line: both skipped whole, the next line read */
	n = 20000;
	big = malloc(n + 200);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "100.64.0.9 ", 11);
	memset(big + 11, 'x', n - 11);
	memcpy(big + n - 6, " carol\n", 7);
	memcpy(big + n + 1, "100.64.0.8 car\0ol\n", 18);
	memcpy(big + n + 19, tail, sizeof(tail) - 1);
	nss_scan_str(big, n + 19 + sizeof(tail) - 1, "carol", AF_UNSPEC, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(nss_has(&r, AF_INET, "100.64.0.7"));
	free(big);

	/* missing fields, bad addresses, an unterminated last line */
	static const char odd[] =
	    "100.64.0.1\n"
	    "   \t  \n"
	    "\n"
	    "#100.64.0.2 carol\n"
	    "300.64.0.3 carol\n"
	    "100.64.0.4/10 carol\n"
	    "1.2.3 carol\n"
	    ":::: carol\n"
	    "fd00::1::2 carol\n"
	    "carol 100.64.0.5\n"
	    "100.64.0.6 # carol\n"
	    "100.64.0.10\tdave\tcarol";
	nss_scan_str(odd, sizeof(odd) - 1, "carol", AF_UNSPEC, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert(nss_has(&r, AF_INET, "100.64.0.10"));
	ck_assert_str_eq(r.canon, "dave.mesh");

	/* more matching lines than an answer holds, repeats once */
	big = malloc(64 * 40);
	ck_assert_ptr_nonnull(big);
	for (i = 0, n = 0; i < 40; i++)
		n += (size_t)snprintf(big + n, 64, "100.64.1.%zu carol\n",
		    i % 30 + 1);
	nss_scan_str(big, n, "carol", AF_INET, &r);
	ck_assert_uint_eq(r.n, NSS_ATM_MAX_ADDRS);
	for (i = 0; i < r.n; i++)
		ck_assert_uint_eq(r.addr[i].a[3], i + 1);
	free(big);

	/* an empty file */
	nss_scan_str("", 0, "carol", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
}
END_TEST

/* past NSS_ATM_FILE_MAX nothing is read; before it, everything */
START_TEST(test_nss_scan_huge)
{
	static const char	line[] = "100.64.9.9 padding-line-x\n";
	size_t			 n = NSS_ATM_FILE_MAX + 4096, i;
	struct nss_atm_result	 r;
	char			*big = malloc(n);

	ck_assert_ptr_nonnull(big);
	for (i = 0; i + sizeof(line) - 1 <= n; i += sizeof(line) - 1)
		memcpy(big + i, line, sizeof(line) - 1);
	memset(big + i, '\n', n - i);
	memcpy(big, "100.64.0.1 early\n", 17);
	memcpy(big + n - 17, "100.64.0.2 latee\n", 17);
	nss_scan_str(big, n, "early", AF_UNSPEC, &r);
	ck_assert_uint_eq(r.n, 1);
	nss_scan_str(big, n, "latee", AF_UNSPEC, &r);
	ck_assert_int_eq(r.named, 0);
	free(big);
}
END_TEST

START_TEST(test_nss_scan_random)
{
	struct nss_atm_result	r;
	char			buf[2048];
	static const char	*frag[] = { "100.64.0.1", "fd00::1", " ", "\t",
	    "\n", "carol", "#", "\0", "x", "::", "." };
	size_t			n;
	int			i, k;

	srandom(16);
	for (i = 0; i < 3000; i++) {
		for (n = 0; n < sizeof(buf) - 16;) {
			if (random() % 3 == 0) {
				buf[n++] = (char)random();
				continue;
			}
			k = (int)(random() % (sizeof(frag) / sizeof(frag[0])));
			memcpy(buf + n, frag[k], strlen(frag[k]) + (k == 7));
			n += strlen(frag[k]) + (k == 7);
		}
		nss_scan_str(buf, n, "carol", AF_UNSPEC, &r);
		ck_assert_uint_le(r.n, NSS_ATM_MAX_ADDRS);
		ck_assert(r.n == 0 || r.named);
		ck_assert(!r.named || strlen(r.canon) > 5);
	}
}
END_TEST

static void
nss_setup(void)
{
	FILE *f;

	strcpy(nss_dir, "/tmp/atm-nss.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(nss_dir));
	snprintf(nss_file, sizeof(nss_file), "%s/hosts", nss_dir);
	ck_assert_ptr_nonnull(f = fopen(nss_file, "w"));
	fputs(good, f);
	fclose(f);
	setenv(NSS_ATM_ENV, nss_file, 1);
}

static void
nss_teardown(void)
{
	char p[128];

	unlink(nss_file);
	snprintf(p, sizeof(p), "%s/loop", nss_dir);
	unlink(p);
	rmdir(nss_dir);
	unsetenv(NSS_ATM_ENV);
}

#define NSS_GUARD	0xa5

/*
 * 1: the buffer was too small (said as glibc wants); 0: success. Either
 * way nothing was written outside buf[off, off + len): the bytes around
 * it still hold NSS_GUARD (the caller filled buf with it).
 */
static int
nss_short(enum nss_status st, int err, int herr, const char *buf, size_t off,
    size_t len)
{
	size_t i;

	for (i = 0; i < off; i++)
		ck_assert_int_eq((uint8_t)buf[i], NSS_GUARD);
	for (i = off + len; i < off + len + 64; i++)
		ck_assert_msg((uint8_t)buf[i] == NSS_GUARD,
		    "written past the buffer: len %zu, byte %zu", len, i);
	if (st == NSS_STATUS_TRYAGAIN) {
		ck_assert_int_eq(err, ERANGE);
		ck_assert_int_eq(herr, NETDB_INTERNAL);
		return 1;
	}
	ck_assert_int_eq(st, NSS_STATUS_SUCCESS);
	return 0;
}

/* every size below the one that fits: ERANGE; aligned and not */
START_TEST(test_nss_gethostbyname4)
{
	struct gaih_addrtuple	*at, *t;
	char			 buf[1024];
	size_t			 len, off;
	int			 err, herr, seen4, seen6;
	enum nss_status		 st;

	for (off = 0; off < 2; off++)
		for (len = 0;; len++) {
			ck_assert_uint_lt(len, 512);
			err = herr = 0;
			at = NULL;
			memset(buf, NSS_GUARD, sizeof(buf));
			st = _nss_atmosphere_gethostbyname4_r("Alice.mesh", &at,
			    buf + off, len, &err, &herr, NULL);
			if (!nss_short(st, err, herr, buf, off, len))
				break;
		}
	seen4 = seen6 = 0;
	for (t = at; t != NULL; t = t->next) {
		ck_assert_str_eq(t->name, "alice.mesh");
		ck_assert(t->family == AF_INET || t->family == AF_INET6);
		ck_assert((char *)t >= buf);
		ck_assert((char *)t < buf + 1 + len);
		if (t->family == AF_INET)
			seen4 = !memcmp(t->addr, "\x64\x40\x01\x02", 4);
		else
			seen6 = ((uint8_t *)t->addr)[15] == 8;
	}
	ck_assert(seen4 && seen6);

	err = herr = 0;
	ck_assert_int_eq(_nss_atmosphere_gethostbyname4_r("zed.mesh", &at, buf,
	    sizeof(buf), &err, &herr, NULL), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);
}
END_TEST

START_TEST(test_nss_gethostbyname3)
{
	struct hostent	 h;
	char		 buf[1024], *canon;
	size_t		 len, off;
	int		 err, herr, af;
	enum nss_status	 st;

	for (af = AF_INET; af <= AF_INET6; af += AF_INET6 - AF_INET)
		for (off = 0; off < 3; off++)
			for (len = 0;; len++) {
				ck_assert_uint_lt(len, 512);
				canon = NULL;
				memset(buf, NSS_GUARD, sizeof(buf));
				st = _nss_atmosphere_gethostbyname3_r(
				    "bob.home.mesh.", af, &h, buf + off, len,
				    &err, &herr, NULL, &canon);
				if (!nss_short(st, err, herr, buf, off, len))
					break;
			}
	/* the last: AF_INET6, buf + 2 */
	ck_assert_str_eq(h.h_name, "bob.mesh");
	ck_assert_ptr_eq(canon, h.h_name);
	ck_assert_int_eq(h.h_addrtype, AF_INET6);
	ck_assert_int_eq(h.h_length, 16);
	ck_assert_ptr_null(h.h_aliases[0]);
	ck_assert_ptr_nonnull(h.h_addr_list[0]);
	ck_assert_ptr_null(h.h_addr_list[1]);
	ck_assert_int_eq(memcmp(h.h_addr_list[0] + 12, "\x33\x33\x44\x44", 4),
	    0);

	ck_assert_int_eq(_nss_atmosphere_gethostbyname_r("bob.mesh", &h, buf,
	    sizeof(buf), &err, &herr), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(h.h_addrtype, AF_INET);
	ck_assert_int_eq(memcmp(h.h_addr_list[0], "\x64\x50\x03\x04", 4), 0);
	ck_assert_int_eq(_nss_atmosphere_gethostbyname2_r("alice.mesh",
	    AF_INET6, &h, buf, sizeof(buf), &err, &herr), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(h.h_length, 16);
	ck_assert_int_eq(_nss_atmosphere_gethostbyname2_r("alice.mesh",
	    AF_PACKET, &h, buf, sizeof(buf), &err, &herr), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, EAFNOSUPPORT);
}
END_TEST

START_TEST(test_nss_mesh_addr)
{
	static const struct { const char *a; int yes; } v[] = {
		{ "100.64.0.0", 1 }, { "100.127.255.255", 1 },
		{ "100.80.3.4", 1 }, { "100.63.255.255", 0 },
		{ "100.128.0.0", 0 }, { "192.0.2.1", 0 },
		{ "fc00::", 1 }, { "fd12:3456:789a::1", 1 },
		{ "fe80::1", 0 }, { "2001:db8::1", 0 }, { "::ffff:100.64.0.1", 0 },
	};
	uint8_t	a[16];
	size_t	i;
	int	af;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		af = strchr(v[i].a, ':') != NULL ? AF_INET6 : AF_INET;
		ck_assert_int_eq(inet_pton(af, v[i].a, a), 1);
		ck_assert_msg(nss_atm_mesh_addr(a, af == AF_INET ? 4 : 16, af) ==
		    v[i].yes, "%s", v[i].a);
	}
	/* a length that is not the family's */
	ck_assert_int_eq(nss_atm_mesh_addr(a, 4, AF_INET6), 0);
	ck_assert_int_eq(nss_atm_mesh_addr("\x64\x40\0\1", 16, AF_INET), 0);
}
END_TEST

/* reverse: mesh addresses in the file answer NAME.mesh, every short
 * buffer is ERANGE; others are not looked for */
START_TEST(test_nss_gethostbyaddr)
{
	struct hostent	 h;
	char		 buf[512], loop[128];
	uint8_t		 a4[4], a6[16], other[4], gone[4];
	size_t		 len;
	int		 err, herr;
	enum nss_status	 st;

	ck_assert_int_eq(inet_pton(AF_INET, "100.80.3.4", a4), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd12:3456:789a::102:304:506:708",
	    a6), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", other), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "100.64.9.9", gone), 1);
	for (len = 0;; len++) {
		ck_assert_uint_lt(len, 256);
		memset(buf, NSS_GUARD, sizeof(buf));
		st = _nss_atmosphere_gethostbyaddr2_r(a4, 4, AF_INET, &h,
		    buf + 1, len, &err, &herr, NULL);
		if (!nss_short(st, err, herr, buf, 1, len))
			break;
	}
	ck_assert_str_eq(h.h_name, "bob.mesh");
	ck_assert_int_eq(h.h_addrtype, AF_INET);
	ck_assert_int_eq(memcmp(h.h_addr_list[0], a4, 4), 0);
	ck_assert_ptr_null(h.h_addr_list[1]);
	ck_assert_int_eq(_nss_atmosphere_gethostbyaddr_r(a6, 16, AF_INET6, &h,
	    buf, sizeof(buf), &err, &herr), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(h.h_name, "alice.mesh");
	ck_assert_int_eq(h.h_length, 16);
	ck_assert_int_eq(_nss_atmosphere_gethostbyaddr_r(gone, 4, AF_INET, &h,
	    buf, sizeof(buf), &err, &herr), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);

	/* a file that cannot be opened: only mesh addresses reach it */
	snprintf(loop, sizeof(loop), "%s/loop", nss_dir);
	ck_assert_int_eq(symlink("loop", loop), 0);
	setenv(NSS_ATM_ENV, loop, 1);
	ck_assert_int_eq(_nss_atmosphere_gethostbyaddr_r(a4, 4, AF_INET, &h,
	    buf, sizeof(buf), &err, &herr), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(_nss_atmosphere_gethostbyaddr_r(other, 4, AF_INET, &h,
	    buf, sizeof(buf), &err, &herr), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);
}
END_TEST

/* a member with IPv4 only: NO_DATA for IPv6 */
START_TEST(test_nss_nodata)
{
	struct hostent	 h;
	char		 buf[512];
	int		 err = 0, herr = 0;
	FILE		*f = fopen(nss_file, "w");

	ck_assert_ptr_nonnull(f);
	fputs("100.64.0.3 carol carol.home\n", f);
	fclose(f);
	ck_assert_int_eq(_nss_atmosphere_gethostbyname2_r("carol.mesh",
	    AF_INET6, &h, buf, sizeof(buf), &err, &herr), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, NO_DATA);
}
END_TEST

/* no file: NOTFOUND; a file that cannot be opened: UNAVAIL for .mesh
 * names, while other names never reach it */
START_TEST(test_nss_nofile)
{
	struct gaih_addrtuple	*at = NULL;
	struct hostent		 h;
	char			 buf[512], loop[128];
	int			 err = 0, herr = 0;

	unlink(nss_file);
	ck_assert_int_eq(_nss_atmosphere_gethostbyname4_r("alice.mesh", &at,
	    buf, sizeof(buf), &err, &herr, NULL), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);

	snprintf(loop, sizeof(loop), "%s/loop", nss_dir);
	ck_assert_int_eq(symlink("loop", loop), 0);
	setenv(NSS_ATM_ENV, loop, 1);
	err = herr = 0;
	ck_assert_int_eq(_nss_atmosphere_gethostbyname4_r("alice.mesh", &at,
	    buf, sizeof(buf), &err, &herr, NULL), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, ELOOP);
	ck_assert_int_eq(herr, NO_RECOVERY);
	err = herr = 0;
	ck_assert_int_eq(_nss_atmosphere_gethostbyname4_r("alice.example",
	    &at, buf, sizeof(buf), &err, &herr, NULL), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, ENOENT);
	ck_assert_int_eq(herr, HOST_NOT_FOUND);
	ck_assert_int_eq(_nss_atmosphere_gethostbyname2_r("alice", AF_INET, &h,
	    buf, sizeof(buf), &err, &herr), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(_nss_atmosphere_gethostbyname_r("mesh", &h, buf,
	    sizeof(buf), &err, &herr), NSS_STATUS_NOTFOUND);
}
END_TEST

static void *
nss_thread(void *arg)
{
	struct gaih_addrtuple	*at;
	char			 buf[256];
	int			 i, err, herr;
	long			 bad = 0;

	(void)arg;
	for (i = 0; i < 300; i++) {
		at = NULL;
		if (_nss_atmosphere_gethostbyname4_r(i % 2 ? "bob.mesh" :
		    "alice.home.mesh", &at, buf, sizeof(buf), &err, &herr,
		    NULL) != NSS_STATUS_SUCCESS || at == NULL ||
		    at->next == NULL || at->next->next != NULL ||
		    strcmp(at->name, i % 2 ? "bob.mesh" : "alice.mesh") != 0)
			bad++;
	}
	return (void *)bad;
}

START_TEST(test_nss_threads)
{
	pthread_t	t[4];
	void		*bad;
	int		 i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, nss_thread, NULL),
		    0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
}
END_TEST

Suite *
nss_suite(void)
{
	Suite	*s = suite_create("nss");
	TCase	*tc = tcase_create("scan");
	TCase	*te = tcase_create("entry");

	tcase_add_test(tc, test_nss_label);
	tcase_add_test(tc, test_nss_label_long);
	tcase_add_test(tc, test_nss_scan);
	tcase_add_test(tc, test_nss_hostsline);
	tcase_add_test(tc, test_nss_scan_hostile);
	tcase_add_test(tc, test_nss_scan_huge);
	tcase_add_test(tc, test_nss_scan_random);
	tcase_add_test(tc, test_nss_mesh_addr);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(te, nss_setup, nss_teardown);
	tcase_add_test(te, test_nss_gethostbyname4);
	tcase_add_test(te, test_nss_gethostbyname3);
	tcase_add_test(te, test_nss_gethostbyaddr);
	tcase_add_test(te, test_nss_nodata);
	tcase_add_test(te, test_nss_nofile);
	tcase_add_test(te, test_nss_threads);
	suite_add_tcase(s, te);
	return s;
}
