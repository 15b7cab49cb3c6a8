/*
 * PACKET_IP, the mesh interface's packets, through punchd's core (fakenode.h:
 * fake socket, fake clock): two members of one mesh with node keys, a direct
 * path and an end-to-end session. The receiving side's hooks.ip is a
 * recorder here (iface.c installs the real one, which needs a TUN device:
 * tests/natlab/51-punchd-tun.sh). Checks: an IP packet under the session
 * key reaches the hook byte for byte, up to PUNCHD_IP_MTU (above
 * peer.send's PUNCHD_MTU); one under the mesh key while a session key is
 * required is refused (drop_downgrade); a run of sealed packets sent as
 * the interface sends it (e2e_session_seal_ip, tx_out_segs) arrives as
 * separate packets, in order; a node without the hook counts it
 * (tun_off); before a session key exists an IP packet is dropped, not
 * queued, and the handshake starts; garbage from an authenticated peer
 * still goes only to the hook (its checks are meshaddr's, check_meshaddr).
 */
#include <string.h>

#include <sodium.h>

#include "fakenode.h"
#include "suites.h"

static uint8_t	ip_got[PUNCHD_IP_MTU];
static size_t	ip_len;
static int	ip_n;

static void
ip_record(struct peer *p, const uint8_t *pkt, size_t len)
{
	(void)p;
	ck_assert_uint_le(len, sizeof(ip_got));
	memcpy(ip_got, pkt, len);
	ip_len = len;
	ip_n++;
}

static int
ip_arrived(void *arg)
{
	return ip_n >= *(int *)arg;
}

static int
pair_ready(void *arg)
{
	struct fake_node	**n = arg;
	struct peer		 *pa, *pb;

	pa = peer_find_id(&n[0]->pd, n[1]->pd.node_id);
	pb = peer_find_id(&n[1]->pd, n[0]->pd.node_id);
	return pa != NULL && pb != NULL && pa->state == PEER_DIRECT &&
	    pb->state == PEER_DIRECT && !strcmp(e2e_session_mode(pa),
	    "session") && !strcmp(e2e_session_mode(pb), "session");
}

/* a and b in one mesh, each knowing the other's node key, b punching a */
static void
ippath_pair(struct fake_node **n)
{
	struct result		err;
	struct sockaddr_storage	cand;
	struct sockaddr_in	sin;
	struct peer		*p;

	n[0] = fakenode_new(17301, NULL);
	n[1] = fakenode_new(17302, NULL);
	ck_assert_int_eq(node_mesh_create(&n[0]->pd, "lab", 0, &err), 0);
	ck_assert_int_eq(mesh_node_key(&n[1]->pd), 0);
	ck_assert_int_eq(mesh_adopt(&n[1]->pd, "lab", n[0]->pd.mesh.id,
	    n[0]->pd.mesh.secret), 0);
	members_set(&n[0]->pd, n[1]->pd.node_id, n[1]->pd.mesh.pk, "bob");
	members_set(&n[1]->pd, n[0]->pd.node_id, n[0]->pd.mesh.pk, "alice");
	p = peer_create(&n[1]->pd, NULL);
	ck_assert_ptr_nonnull(p);
	peer_bind(p, n[0]->pd.node_id);
	sin = fake_addr(n[0]->port);
	memset(&cand, 0, sizeof(cand));
	memcpy(&cand, &sin, sizeof(sin));
	link_punch(p, &cand, 1);
	ck_assert(fakenet_run(pair_ready, n, 5));
}

START_TEST(test_ip_session)
{
	struct fake_node	*n[2];
	struct peer		*pb;
	uint8_t			 pkt[PUNCHD_IP_MTU];
	uint64_t		 down, q, nokey;
	int			 want;

	ippath_pair(n);
	n[0]->pd.hooks.ip = ip_record;
	ip_n = 0;
	pb = peer_find_id(&n[1]->pd, n[0]->pd.node_id);

	/* the largest inner packet, under the session key, byte for byte */
	randombytes_buf(pkt, sizeof(pkt));
	pkt[0] = 0x45;
	e2e_session_send(pb, PACKET_IP, pkt, sizeof(pkt), peer_dest(pb));
	want = 1;
	ck_assert(fakenet_run(ip_arrived, &want, 2));
	ck_assert_uint_eq(ip_len, sizeof(pkt));
	ck_assert_mem_eq(ip_got, pkt, sizeof(pkt));
	ck_assert_uint_eq(n[0]->ndata, 0);	/* not a peer.data */

	/* a run as the interface sends it: three sealed end to end (the
	 * last shorter), one tx_out_segs; three datagrams, in order */
	{
		uint8_t		run[3 * (PACKET_OVERHEAD + 300)];
		size_t		len = 0, got;
		uint64_t	txp = pb->tx_packets, dg = n[1]->pd.ctr.tx_datagrams;
		int		i;

		for (i = 0; i < 3; i++) {
			memset(pkt, 0x60 + i, 300);
			got = e2e_session_seal_ip(pb, pkt, i < 2 ? 300 : 120,
			    run + len, sizeof(run) - len);
			ck_assert_uint_eq(got, PACKET_OVERHEAD +
			    (i < 2 ? 300 : 120));
			len += got;
		}
		ip_n = 0;
		ck_assert_int_eq(tx_out_segs(pb, run, len, PACKET_OVERHEAD +
		    300, peer_dest(pb)), 0);
		ck_assert_uint_eq(pb->tx_packets, txp + 3);
		ck_assert_uint_eq(n[1]->pd.ctr.tx_datagrams, dg + 3);
		want = 3;
		ck_assert(fakenet_run(ip_arrived, &want, 2));
		ck_assert_uint_eq(ip_len, 120);
		ck_assert_uint_eq(ip_got[0], 0x62);
		ip_n = 1;
	}

	/* any payload goes to the hook only (its checks are the iface's) */
	e2e_session_send(pb, PACKET_IP, (const uint8_t *)"x", 1, peer_dest(pb));
	want = 2;
	ck_assert(fakenet_run(ip_arrived, &want, 2));
	ck_assert_uint_eq(ip_len, 1);

	/* under the mesh key while a session key is required: refused */
	down = n[0]->pd.ctr.drop_downgrade;
	tx_send(pb, PACKET_IP, 0, pkt, 100, peer_dest(pb));
	fakenet_run(NULL, NULL, 0.2);
	ck_assert_uint_eq(n[0]->pd.ctr.drop_downgrade, down + 1);
	ck_assert_int_eq(ip_n, 2);

	/* a node without the interface counts it */
	n[0]->pd.hooks.ip = NULL;
	e2e_session_send(pb, PACKET_IP, pkt, 100, peer_dest(pb));
	fakenet_run(NULL, NULL, 0.2);
	ck_assert_uint_eq(n[0]->pd.ctr.tun_off, 1);
	n[0]->pd.hooks.ip = ip_record;

	/* no session key yet (b lost its state): dropped, not queued, and
	 * the handshake starts; once it is back, packets flow again */
	e2e_session_peer_free(pb);
	q = n[1]->pd.ctr.e2e_queue_drops;
	nokey = n[0]->pd.ctr.drop_nokey;
	e2e_session_send(pb, PACKET_IP, pkt, 100, peer_dest(pb));
	ck_assert_uint_eq(n[1]->pd.ctr.e2e_queue_drops, q + 1);
	ck_assert_int_eq(pb->e2e_nq, 0);
	ck_assert(e2e_busy(&pb->e2e));
	ck_assert(fakenet_run(pair_ready, n, 3));
	e2e_session_send(pb, PACKET_IP, pkt, 200, peer_dest(pb));
	want = 3;
	ck_assert(fakenet_run(ip_arrived, &want, 2));
	ck_assert_uint_eq(ip_len, 200);
	ck_assert_uint_eq(n[0]->pd.ctr.drop_nokey, nokey);
	ck_assert_uint_eq(n[0]->pd.ctr.drop_auth, 0);
	fakenet_free();
}
END_TEST

Suite *
ippath_suite(void)
{
	Suite	*s = suite_create("ippath");
	TCase	*tc = tcase_create("ip");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ip_session);
	suite_add_tcase(s, tc);
	return s;
}
