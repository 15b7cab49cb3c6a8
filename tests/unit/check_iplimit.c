/*
 * relayd/iplimit.c: address groups (IPv4 /32 and IPv6 /64 by default, the
 * prefixes configurable), connections per group, the per-group token
 * bucket of bytes read (pause when empty, resume on refill), groups kept
 * while refilling, and regrouping when a reload changes the prefixes.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "relayd/relayd.h"
#include "suites.h"

static struct relayd	rd;
static int		peers[16];	/* the other ends, kept open: not readable */
static int		npeers;

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void
rd_setup(void)
{
	ck_assert_int_ne(sodium_init(), -1);
	memset(&rd, 0, sizeof(rd));
	ck_assert_ptr_nonnull(rd.loop = ev_loop_new(EVFLAG_AUTO));
	relayd_conf_defaults(&rd.conf);
	TAILQ_INIT(&rd.clients);
	ck_assert_ptr_nonnull(rd.ips = iplimit_new(&rd, connio_update));
}

static void
rd_teardown(void)
{
	while (npeers > 0)
		close(peers[--npeers]);
	iplimit_free(rd.ips);
	ev_loop_destroy(rd.loop);
}

static void
addr(const char *s, struct in6_addr *a)
{
	struct in_addr a4;

	if (inet_pton(AF_INET6, s, a) == 1)
		return;
	ck_assert_int_eq(inet_pton(AF_INET, s, &a4), 1);
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	memcpy(&a->s6_addr[12], &a4, 4);
}

static void
key_is(const char *in, int v4, int v6, const char *want)
{
	struct in6_addr a, k, w;

	addr(in, &a);
	addr(want, &w);
	iplimit_group_key(&a, v4, v6, &k);
	ck_assert_msg(!memcmp(&k, &w, sizeof(k)), "%s /%d /%d: not %s", in, v4,
	    v6, want);
}

/* A connection from `a`, added to its group; NULL when refused. */
static struct relayd_conn *
conn(const char *a)
{
	struct relayd_conn	*c;
	int			 sv[2];

	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	c->rd = &rd;
	c->state = CLIENT_HTTP;
	addr(a, &c->addr.sin6_addr);
	if (iplimit_add(rd.ips, c) == -1) {
		free(c);
		return NULL;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_lt(npeers, 16);
	peers[npeers++] = sv[1];
	c->fd = sv[0];
	ev_io_init(&c->rio, io_cb, c->fd, EV_READ);
	ev_io_init(&c->wio, io_cb, c->fd, EV_WRITE);
	ev_io_start(rd.loop, &c->rio);
	TAILQ_INSERT_TAIL(&rd.clients, c, entry);
	return c;
}

static void
conn_free(struct relayd_conn *c)
{
	ev_io_stop(rd.loop, &c->rio);
	iplimit_del(rd.ips, c);
	TAILQ_REMOVE(&rd.clients, c, entry);
	close(c->fd);
	free(c);
}

static unsigned
count(const char *a)
{
	struct in6_addr x;

	addr(a, &x);
	return iplimit_count(rd.ips, &x);
}

START_TEST(test_group_key)
{
	key_is("192.0.2.77", 32, 64, "192.0.2.77");
	key_is("192.0.2.77", 24, 64, "192.0.2.0");
	key_is("192.0.2.77", 16, 64, "192.0.0.0");
	key_is("2001:db8:1:abcd:5:6:7:8", 32, 64, "2001:db8:1:abcd::");
	key_is("2001:db8:1:abcd:5:6:7:8", 32, 60, "2001:db8:1:abc0::");
	key_is("2001:db8:1:abcd:5:6:7:8", 32, 48, "2001:db8:1::");
	key_is("2001:db8:1:abcd:5:6:7:8", 32, 128, "2001:db8:1:abcd:5:6:7:8");
	key_is("2001:db8:1:abcd:5:6:7:8", 32, 127, "2001:db8:1:abcd:5:6:7:8");
	key_is("2001:db8:1:abcd:5:6:7:9", 32, 127, "2001:db8:1:abcd:5:6:7:8");
	/* ::1 and ::2 are one /64; ::1 and 0:0:0:1::1 are not */
	key_is("::1", 32, 64, "::");
	key_is("::2", 32, 64, "::");
	key_is("0:0:0:1::1", 32, 64, "0:0:0:1::");
	/* the IPv6 prefix never cuts into a v4-mapped address, nor the IPv4
	 * prefix into an IPv6 one */
	key_is("10.1.2.3", 32, 32, "10.1.2.3");
	key_is("::ffff:a01:203", 32, 64, "10.1.2.3");
	key_is("2001:db8::1", 16, 128, "2001:db8::1");
}
END_TEST

START_TEST(test_connections_per_group)
{
	struct relayd_conn *a, *b, *c, *d, *e;

	rd_setup();
	rd.conf.max_clients_per_ip = 1;
	ck_assert_ptr_nonnull(a = conn("2001:db8:0:1::1"));
	/* same /64: refused */
	ck_assert_ptr_null(conn("2001:db8:0:1::2"));
	ck_assert_ptr_null(conn("2001:db8:0:1:ffff:ffff:ffff:ffff"));
	/* the next /64 is another group */
	ck_assert_ptr_nonnull(b = conn("2001:db8:0:2::1"));
	/* IPv4 per /32 */
	ck_assert_ptr_nonnull(c = conn("127.0.0.1"));
	ck_assert_ptr_nonnull(d = conn("127.0.0.2"));
	ck_assert_ptr_null(conn("127.0.0.1"));
	ck_assert_uint_eq(count("2001:db8:0:1::77"), 1);
	ck_assert_uint_eq(count("127.0.0.3"), 0);
	/* the slot comes back */
	conn_free(a);
	ck_assert_uint_eq(count("2001:db8:0:1::1"), 0);
	ck_assert_ptr_nonnull(a = conn("2001:db8:0:1::2"));
	rd.conf.max_clients_per_ip = 2;
	ck_assert_ptr_nonnull(e = conn("2001:db8:0:1::3"));
	ck_assert_uint_eq(count("2001:db8:0:1::"), 2);
	ck_assert_uint_eq(iplimit_groups(rd.ips), 4);
	conn_free(a);
	conn_free(b);
	conn_free(c);
	conn_free(d);
	conn_free(e);
	/* unused buckets are full: the empty groups go at once */
	ck_assert_uint_eq(iplimit_groups(rd.ips), 0);
	rd_teardown();
}
END_TEST

START_TEST(test_bucket)
{
	struct tbucket b = { 100, 10.0 };

	tbucket_refill(&b, 10.5, 1000, 4000);
	ck_assert_double_eq_tol(b.tokens, 600, 1e-6);
	ck_assert_double_eq_tol(b.stamp, 10.5, 1e-9);
	tbucket_refill(&b, 20.0, 1000, 4000);
	ck_assert_double_eq_tol(b.tokens, 4000, 1e-6);	/* capped */
	b.tokens = -500;	/* a read may overdraw nothing, but be safe */
	tbucket_refill(&b, 20.25, 1000, 4000);
	ck_assert_double_eq_tol(b.tokens, -250, 1e-6);
	/* time going backwards adds nothing */
	tbucket_refill(&b, 19.0, 1000, 4000);
	ck_assert_double_eq_tol(b.tokens, -250, 1e-6);
}
END_TEST

START_TEST(test_bytes_pause_resume)
{
	struct relayd_conn	*a, *a2, *b;
	double			 secs;
	size_t			 n;
	int			 i;

	rd_setup();
	/* resume after 16 KiB: 1.6 MB/s refills that in ~10 ms */
	rd.conf.max_bytes_per_ip = 1638400;
	rd.conf.burst_bytes_per_ip = 65536;
	ck_assert_ptr_nonnull(a = conn("2001:db8::1"));
	ck_assert_ptr_nonnull(a2 = conn("2001:db8::2"));	/* same /64 */
	ck_assert_ptr_nonnull(b = conn("2001:db8:1::1"));
	/* the burst, shared by the group's connections */
	ck_assert_uint_eq(iplimit_allow(a, 1000), 1000);
	iplimit_spend(a, 1000);
	n = iplimit_allow(a2, 1 << 20);
	ck_assert_uint_ge(n, 64536);
	ck_assert_uint_le(n, 64536 + 1000);	/* a little refill */
	iplimit_spend(a2, n);
	/* empty: paused, reads stopped, counted */
	ck_assert_uint_eq(iplimit_allow(a, 100), 0);
	ck_assert_int_eq(a->throttled, 1);
	ck_assert(!ev_is_active(&a->rio));
	connio_update(a);		/* nothing restarts a paused read */
	ck_assert(!ev_is_active(&a->rio));
	ck_assert_uint_eq(iplimit_allow(a2, 100), 0);
	ck_assert_int_eq(a2->throttled, 1);
	ck_assert_uint_eq(iplimit_paused(rd.ips, &secs), 1);
	ck_assert_uint_eq(rd.st.ratelimited, 1);
	/* another group is not touched */
	ck_assert_uint_eq(iplimit_allow(b, 50000), 50000);
	ck_assert_int_eq(b->throttled, 0);
	/* the timer resumes both once the bucket refilled */
	for (i = 0; i < 100 && a->throttled; i++)
		ev_run(rd.loop, EVRUN_ONCE);
	ck_assert_int_eq(a->throttled, 0);
	ck_assert_int_eq(a2->throttled, 0);
	ck_assert(ev_is_active(&a->rio));
	ck_assert_uint_eq(iplimit_paused(rd.ips, &secs), 0);
	ck_assert(secs > 0);
	/* each of the two gets half of the 16 KiB it waited for, plus half
	 * of what refilled while the resume timer was late (1.6 KB a ms: a
	 * loaded machine runs it a few ms late, so the bound allows 20 ms);
	 * the two shares are equal: the first cannot take it all */
	n = iplimit_allow(a, 1 << 20);
	ck_assert_uint_ge(n, 8000);
	ck_assert_uint_le(n, 8192 + 1638400 / 50 / 2);
	ck_assert_uint_eq(iplimit_allow(a2, 1 << 20), n);
	/* a paused connection that closes leaves no trace */
	while ((n = iplimit_allow(a, 1 << 20)) > 0)
		iplimit_spend(a, n);
	ck_assert_int_eq(a->throttled, 1);
	ck_assert_uint_eq(iplimit_allow(a, 1), 0);
	conn_free(a);
	ck_assert_uint_eq(iplimit_paused(rd.ips, &secs), 0);
	conn_free(a2);
	conn_free(b);
	rd_teardown();
}
END_TEST

START_TEST(test_idle_group_kept)
{
	struct relayd_conn	*a;
	size_t			 n;

	rd_setup();
	rd.conf.max_bytes_per_ip = 1000;	/* the burst takes ~66 s */
	rd.conf.burst_bytes_per_ip = 65536;
	ck_assert_ptr_nonnull(a = conn("192.0.2.1"));
	iplimit_spend(a, iplimit_allow(a, 1 << 20));
	conn_free(a);
	/* reconnecting does not refill the bucket */
	ck_assert_uint_eq(iplimit_groups(rd.ips), 1);
	ck_assert_ptr_nonnull(a = conn("192.0.2.1"));
	n = iplimit_allow(a, 1 << 20);
	ck_assert_uint_lt(n, 1000);
	conn_free(a);
	/* without a byte limit an empty group goes at once */
	rd.conf.max_bytes_per_ip = 0;
	ck_assert_ptr_nonnull(a = conn("192.0.2.1"));
	ck_assert_uint_eq(iplimit_allow(a, 1 << 20), 1 << 20);
	conn_free(a);
	ck_assert_uint_eq(iplimit_groups(rd.ips), 0);
	rd_teardown();
}
END_TEST

START_TEST(test_reconf)
{
	struct relayd_conn	*a, *b;
	double			 secs;

	rd_setup();
	rd.conf.max_bytes_per_ip = 16384;
	rd.conf.burst_bytes_per_ip = 16384;
	ck_assert_ptr_nonnull(a = conn("2001:db8::1"));
	ck_assert_ptr_nonnull(b = conn("2001:db8::2"));
	ck_assert_uint_eq(count("2001:db8::"), 2);
	iplimit_spend(a, iplimit_allow(a, 1 << 20));
	ck_assert_uint_eq(iplimit_allow(a, 1), 0);
	ck_assert_uint_eq(iplimit_paused(rd.ips, &secs), 1);
	/* same prefixes, no limit: resumed at once */
	rd.conf.max_bytes_per_ip = 0;
	iplimit_reconf(&rd);
	ck_assert_int_eq(a->throttled, 0);
	ck_assert_uint_eq(iplimit_paused(rd.ips, &secs), 0);
	/* /128: every address its own group */
	rd.conf.max_bytes_per_ip = 16384;
	iplimit_spend(a, iplimit_allow(a, 1 << 20));
	ck_assert_uint_eq(iplimit_allow(b, 1), 0);
	rd.conf.ipv6_prefix = 128;
	iplimit_reconf(&rd);
	ck_assert_int_eq(b->throttled, 0);
	ck_assert_uint_eq(count("2001:db8::1"), 1);
	ck_assert_uint_eq(count("2001:db8::2"), 1);
	ck_assert_uint_eq(count("2001:db8::"), 0);
	ck_assert_uint_eq(iplimit_allow(b, 1 << 20), 16384);	/* new bucket */
	conn_free(a);
	conn_free(b);
	rd_teardown();
}
END_TEST

Suite *
iplimit_suite(void)
{
	Suite	*s = suite_create("iplimit");
	TCase	*tc = tcase_create("groups");

	tcase_add_test(tc, test_group_key);
	tcase_add_test(tc, test_connections_per_group);
	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_bytes_pause_resume);
	tcase_add_test(tc, test_idle_group_kept);
	tcase_add_test(tc, test_reconf);
	suite_add_tcase(s, tc);
	return s;
}
