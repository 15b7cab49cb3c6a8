/*
 * Mesh IPv4 pins in punchd's membership (punchd/meshpin.h): the inviter
 * gives a joiner an address clear of every pinned member's, even one at
 * the joiner's own home; ANNOUNCE fills a member without a pin, a third
 * party never moves one, the member's own word does; hostile fields are
 * refused and counted; the members and mesh files keep the pins, and a
 * bad one in a file is read as unpinned.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "punchd/meshaddr.h"
#include "punchd/meshpin.h"
#include "fakenode.h"
#include "suites.h"

static const uint8_t	id_b[8] = { 0x20, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t	id_c[8] = { 0x30, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t	id_j[8] = { 0x40, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t	id_x[8] = { 0x01, 1, 2, 3, 4, 5, 6, 7 };

static struct fake_node *
pin_mesh(int port)
{
	struct fake_node	*a = fakenode_new(port, NULL);
	struct result		 err;

	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	return a;
}

static int
pin_file_has(const struct fake_node *n, const char *file, const char *s)
{
	char	path[128], text[4096];
	FILE	*f;
	size_t	len;

	snprintf(path, sizeof(path), "%s/%s", n->dir, file);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	return strstr(text, s) != NULL;
}

/* x (smaller id) pinned at j's home before j joins: j gets the next one */
START_TEST(test_pin_inviter)
{
	struct fake_node	*a = pin_mesh(17301);
	uint8_t			 pk[JOIN_PK_LEN];
	uint32_t		 home = meshaddr_v4_home(id_j), v, self;
	char			 s[INET_ADDRSTRLEN], want[32];

	memset(pk, 9, sizeof(pk));
	members_set(&a->pd, id_x, pk, "x");
	ck_assert_int_eq(members_set_v4(&a->pd, id_x, home), 1);
	ck_assert_int_eq(members_set_v4(&a->pd, id_x, home), 0);  /* same */
	ck_assert_int_eq(members_set_v4(&a->pd, id_x, 0x0a000001u), 0);
	v = meshpin_joiner(&a->pd, id_j, 0);
	self = a->pd.mesh.v4;
	ck_assert_uint_ne(self, 0);		/* the inviter pinned itself */
	ck_assert(join_v4_valid(v));
	ck_assert_uint_ne(v, home);		/* x keeps it */
	ck_assert_uint_ne(v, self);
	if (self != meshaddr_v4_next(home))
		ck_assert_uint_eq(v, meshaddr_v4_next(home));
	ck_assert_uint_eq(meshpin_joiner(&a->pd, id_j, 1), 0);	/* browser */
	/* once recorded, the same joiner asking again gets the same */
	members_set(&a->pd, id_j, pk, "j");
	ck_assert_int_eq(members_set_v4(&a->pd, id_j, v), 1);
	ck_assert_uint_eq(meshpin_joiner(&a->pd, id_j, 0), v);
	ck_assert_uint_eq(meshpin_of(&a->pd, id_j), v);
	ck_assert_uint_eq(meshpin_of(&a->pd, a->pd.node_id), self);
	snprintf(want, sizeof(want), "v4=%s\n", members_v4_str(self, s));
	ck_assert(pin_file_has(a, "mesh", want));
	snprintf(want, sizeof(want), " v4=%s\n", members_v4_str(v, s));
	ck_assert(pin_file_has(a, "members", want));
	fakenet_free();
}
END_TEST

/* an ANNOUNCE of `about` from `from` with pin v4 and `tail` appended */
static void
pin_announce(struct fake_node *a, const uint8_t *from, const uint8_t *about,
    uint32_t v4, const uint8_t *tail, size_t tlen)
{
	struct join_announce	 an;
	struct peer		*p;
	uint8_t			 buf[256];
	char			 hex[17];
	int			 n;

	sodium_bin2hex(hex, sizeof(hex), from, 8);
	if ((p = peer_find_id(&a->pd, from)) == NULL)
		p = peer_create(&a->pd, hex);
	ck_assert_ptr_nonnull(p);
	memset(&an, 0, sizeof(an));
	memcpy(an.id, about, 8);
	memset(an.pk, 5, sizeof(an.pk));
	an.v4 = v4;
	n = join_announce_encode(buf, sizeof(buf), &an);
	ck_assert_int_gt(n, 0);
	if (tlen > 0) {
		if (v4 == 0)
			buf[n++] = 0;		/* the flags byte */
		memcpy(buf + n, tail, tlen);
		n += (int)tlen;
	}
	mesh_announce_input(p, buf, (size_t)n);
}

START_TEST(test_pin_announce)
{
	static const uint8_t	 badlen[] = { 1, 3, 100, 65, 1 };
	static const uint8_t	 dup[] = { 1, 4, 100, 65, 1, 1, 1, 4, 100, 65,
	    1, 2 };
	static const uint8_t	 out[] = { 1, 4, 10, 0, 0, 1 };
	static const uint8_t	 bcast[] = { 1, 4, 100, 65, 1, 255 };
	static const uint8_t	 cut[] = { 1, 4, 100 };
	const uint8_t		*bad[] = { badlen, dup, out, bcast, cut };
	const size_t		 badn[] = { sizeof(badlen), sizeof(dup),
	    sizeof(out), sizeof(bcast), sizeof(cut) };
	struct fake_node	*a = pin_mesh(17302);
	uint32_t		 p1 = 0x64410101u, p2 = 0x64410202u, self;
	uint64_t		 drops;
	size_t			 i;

	/* c tells a of b: fills b's record */
	pin_announce(a, id_c, id_b, p1, NULL, 0);
	ck_assert_uint_eq(meshpin_of(&a->pd, id_b), p1);
	/* c again with another: a third party does not move a pin */
	pin_announce(a, id_c, id_b, p2, NULL, 0);
	ck_assert_uint_eq(meshpin_of(&a->pd, id_b), p1);
	/* b about itself: its own word moves it */
	pin_announce(a, id_b, id_b, p2, NULL, 0);
	ck_assert_uint_eq(meshpin_of(&a->pd, id_b), p2);
	/* no pin in an announcement (an older node): nothing changes */
	pin_announce(a, id_b, id_b, 0, NULL, 0);
	ck_assert_uint_eq(meshpin_of(&a->pd, id_b), p2);
	/* about a itself: a's own pin is its own */
	self = meshpin_self(&a->pd);
	ck_assert_uint_ne(self, 0);
	pin_announce(a, id_b, a->pd.node_id, p1, NULL, 0);
	ck_assert_uint_eq(a->pd.mesh.v4, self);
	/* hostile fields: refused, counted, nothing recorded */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		drops = a->pd.ctr.drop_malformed;
		pin_announce(a, id_b, id_c, 0, bad[i], badn[i]);
		ck_assert_uint_eq(a->pd.ctr.drop_malformed, drops + 1);
		ck_assert_uint_eq(meshpin_of(&a->pd, id_c), 0);
	}
	fakenet_free();
}
END_TEST

/* the state files read back, hostile values left out */
START_TEST(test_pin_files)
{
	static struct punchd	 pd;
	struct fake_node	*a = pin_mesh(17303);
	const struct mesh_member *m;
	uint8_t			 secret[JOIN_SECRET_LEN];
	char			 path[128], err[256], idx[17], idb[17], idc[17];
	char			 pk[65];
	FILE			*f;

	sodium_bin2hex(idx, sizeof(idx), id_x, 8);
	sodium_bin2hex(idb, sizeof(idb), id_b, 8);
	sodium_bin2hex(idc, sizeof(idc), id_c, 8);
	memset(pk, 'a', 64);
	pk[64] = '\0';
	snprintf(path, sizeof(path), "%s/members", a->dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "# mesh members\n%s %s x v4=100.65.1.1\n"
	    "%s %s b v4=10.0.0.1\n%s %s c r v4=100.64.0.0\n", idx, pk,
	    idb, pk, idc, pk);
	fclose(f);
	snprintf(path, sizeof(path), "%s/mesh", a->dir);
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	fprintf(f, "v4=100.64.1.255\n");
	fclose(f);
	strlcpy(pd.statedir, a->dir, sizeof(pd.statedir));
	ck_assert_int_eq(mesh_load(&pd, secret, err, sizeof(err)), 1);
	ck_assert_uint_eq(pd.mesh.v4, 0);		/* .255: not pinned */
	ck_assert_int_eq(pd.mesh.nmembers, 3);
	ck_assert_ptr_nonnull(m = members_find(&pd, id_x));
	ck_assert_uint_eq(m->v4, 0x64410101u);
	ck_assert_ptr_nonnull(m = members_find(&pd, id_b));
	ck_assert_uint_eq(m->v4, 0);			/* outside: left out */
	ck_assert_ptr_nonnull(m = members_find(&pd, id_c));
	ck_assert_uint_eq(m->v4, 0);
	ck_assert_int_eq(m->relay_only, 1);		/* the r still read */
	fakenet_free();
}
END_TEST

Suite *
meshpin_suite(void)
{
	Suite	*s = suite_create("meshpin");
	TCase	*tc = tcase_create("meshpin");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pin_inviter);
	tcase_add_test(tc, test_pin_announce);
	tcase_add_test(tc, test_pin_files);
	suite_add_tcase(s, tc);
	return s;
}
