/*
 * punchd/hostsfile.c: the file in RUNTIME_DIRECTORY holds meshctl hosts'
 * lines (IPv4 then IPv6, the member's name and NAME.MESH, this node
 * marked), mode 0644 under a umask of 077; unchanged members and names
 * write nothing (same inode), a renamed member is rewritten, a write that
 * fails is retried; remove takes it away once.
 */
#include <arpa/inet.h>
#include <sys/stat.h>

#include "nss/nss_atmosphere.h"
#include "punchd/hostsfile.h"
#include "punchd/meshaddr.h"
#include "fakenode.h"
#include "suites.h"

static const uint8_t	hf_b[8] = { 0x20, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t	hf_pk[32] = { 9 };

static void
hf_read(const char *path, char *buf, size_t len)
{
	FILE	*f = fopen(path, "r");
	size_t	 n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static ino_t
hf_inode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	return st.st_ino;
}

START_TEST(test_hostsfile_write)
{
	struct fake_node	*a = fakenode_new(47301, NULL);
	struct meshaddr_table	 t;
	struct hostsfile	 h;
	struct nss_atm_result	 r;
	struct result		 err;
	uint8_t			 ids[2][8];
	char			 path[128], text[2048], a4[16];
	ino_t			 ino;
	mode_t			 um;
	FILE			*f;
	uint32_t		 v4;

	ck_assert_int_eq(node_mesh_create(&a->pd, "home", 0, &err), 0);
	members_set(&a->pd, hf_b, hf_pk, "bob");
	memcpy(ids[0], a->pd.node_id, 8);
	memcpy(ids[1], hf_b, 8);
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(meshaddr_table_build(&t, a->pd.mesh.id,
	    (const uint8_t (*)[8])ids, 2), 0);
	setenv("RUNTIME_DIRECTORY", a->dir, 1);
	snprintf(path, sizeof(path), "%s/hosts", a->dir);
	hostsfile_init(&h);
	ck_assert_str_eq(h.path, path);

	um = umask(077);
	hostsfile_update(&h, &a->pd, &t, "atm0");
	umask(um);
	ino = hf_inode(path);
	hf_read(path, text, sizeof(text));
	v4 = htonl(meshaddr_by_node(&t, hf_b)->v4);
	inet_ntop(AF_INET, &v4, a4, sizeof(a4));
	ck_assert_msg(strstr(text, "# mesh home, interface atm0") == text,
	    "%s", text);
	ck_assert_ptr_nonnull(strstr(text, " bob bob.home\n"));
	ck_assert_ptr_nonnull(strstr(text, "\t# this node\n"));
	ck_assert_ptr_nonnull(strstr(text, a4));
	/* what the module reads from it */
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	nss_atm_scan(f, "bob", AF_UNSPEC, &r);
	fclose(f);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.addr[0].family, AF_INET);
	ck_assert_int_eq(memcmp(r.addr[0].a, &v4, 4), 0);
	ck_assert_int_eq(r.addr[1].family, AF_INET6);

	/* nothing changed: not written again */
	hostsfile_update(&h, &a->pd, &t, "atm0");
	ck_assert(hf_inode(path) == ino);
	/* a new name: written again, by a rename */
	members_set(&a->pd, hf_b, hf_pk, "robert");
	hostsfile_update(&h, &a->pd, &t, "atm0");
	ck_assert(hf_inode(path) != ino);
	hf_read(path, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, " robert robert.home\n"));
	ck_assert_ptr_null(strstr(text, "bob"));

	/* a write that fails (a directory where hosts.tmp goes) is tried
	 * again at the next update */
	snprintf(text, sizeof(text), "%s.tmp", path);
	ck_assert_int_eq(mkdir(text, 0700), 0);
	members_set(&a->pd, hf_b, hf_pk, "carol");
	hostsfile_update(&h, &a->pd, &t, "atm0");
	ck_assert_int_eq(h.failed_said, 1);
	ck_assert_int_eq(rmdir(text), 0);
	hostsfile_update(&h, &a->pd, &t, "atm0");
	ck_assert_int_eq(h.failed_said, 0);
	hf_read(path, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, " carol carol.home\n"));

	hostsfile_remove(&h);
	ck_assert_int_eq(access(path, F_OK), -1);
	hostsfile_remove(&h);

	/* a runtime directory too long for a path: no file, no crash */
	memset(text, 'x', 300);
	text[0] = '/';
	text[300] = '\0';
	setenv("RUNTIME_DIRECTORY", text, 1);
	hostsfile_init(&h);
	ck_assert_str_eq(h.path, "");
	hostsfile_update(&h, &a->pd, &t, "atm0");
	hostsfile_remove(&h);
	unsetenv("RUNTIME_DIRECTORY");
	meshaddr_table_free(&t);
	fakenet_free();
}
END_TEST

Suite *
hostsfile_suite(void)
{
	Suite	*s = suite_create("hostsfile");
	TCase	*tc = tcase_create("file");

	tcase_add_test(tc, test_hostsfile_write);
	suite_add_tcase(s, tc);
	return s;
}
