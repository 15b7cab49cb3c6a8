/*
 * stund's discovery and NAT behaviour tests, driven without the daemon:
 * the STUN servers are sockets of this test on loopback (127.0.0.1 and
 * 127.0.0.2) that answer as a scripted NAT would, and the callbacks
 * control.c installs are the test's own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/netaddr.h"
#include "proto/stun.h"
#include "stund/discover.h"
#include "stund/natbehav.h"
#include "stund/probe.h"
#include "stund/stund.h"
#include "suites.h"

/* the scripted NAT: which tests get an answer, which mapping they see */
struct script {
	int	mapping;	/* NAT_EI, NAT_AD, NAT_APD */
	int	filtering;
	int	silent;		/* no server answers at all */
};

/* P:pp (the primary, answers OTHER-ADDRESS A:ap), A:pp, A:ap, and a
 * server that never answers */
enum { F_PP, F_APP, F_AAP, F_MUTE, F_MAX };

struct env {
	struct ev_loop		*loop;
	struct stund		 sd;
	int			 fd[F_MAX];
	struct sockaddr_storage	 addr[F_MAX];
	const struct script	*script;
	int			 requests[F_MAX];
	/* what the callbacks saw */
	int			 done, status, changed;
	char			 previous[NETADDR_STRLEN];
};

static struct env env;

static int
bind_udp(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	socklen_t		 len = sizeof(*ss);
	int			 fd;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)ss, sizeof(struct sockaddr_in)) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, &len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
env_servers(void)
{
	int i, port;

	/* A:pp needs P's port on the other address: try until one is free */
	for (i = 0; i < 20; i++) {
		env.fd[F_PP] = bind_udp("127.0.0.1", 0, &env.addr[F_PP]);
		ck_assert_int_ne(env.fd[F_PP], -1);
		port = netaddr_port((struct sockaddr *)&env.addr[F_PP]);
		env.fd[F_APP] = bind_udp("127.0.0.2", port, &env.addr[F_APP]);
		if (env.fd[F_APP] != -1)
			break;
		close(env.fd[F_PP]);
	}
	ck_assert_int_ne(env.fd[F_APP], -1);
	env.fd[F_AAP] = bind_udp("127.0.0.2", 0, &env.addr[F_AAP]);
	env.fd[F_MUTE] = bind_udp("127.0.0.1", 0, &env.addr[F_MUTE]);
	ck_assert_int_ne(env.fd[F_AAP], -1);
	ck_assert_int_ne(env.fd[F_MUTE], -1);
}

static void
env_add_server(int which)
{
	struct stund_srv *s = &env.sd.servers[env.sd.nservers++];

	netaddr_str((struct sockaddr *)&env.addr[which], s->name,
	    sizeof(s->name));
}

static void
test_changed(struct stund *sd, const char *previous)
{
	(void)sd;
	env.changed++;
	strlcpy(env.previous, previous ? previous : "",
	    sizeof(env.previous));
}

static void
setup(void)
{
	memset(&env, 0, sizeof(env));
	env.loop = ev_loop_new(EVFLAG_AUTO);
	env.sd.loop = env.loop;
	env.sd.cfg.timeout_ms = 400;
	env.sd.cfg.rto_ms = 100;
	env.sd.cfg.cache_ttl_ms = 60000;
	env.sd.cfg.nat_timeout_ms = 120;
	env.sd.changed = test_changed;
	env.status = 99;
	env_servers();
	ck_assert_int_eq(probe_engine_init(&env.sd.probes, env.loop, 0.1), 0);
}

static void
start(void)
{
	ck_assert_int_eq(discover_init(&env.sd), 0);
	ck_assert_int_eq(natbehav_init(&env.sd), 0);
}

static void
teardown(void)
{
	int i;

	natbehav_fini(&env.sd);
	discover_fini(&env.sd);
	probe_engine_fini(&env.sd.probes);
	for (i = 0; i < F_MAX; i++)
		if (env.fd[i] != -1)
			close(env.fd[i]);
	ev_loop_destroy(env.loop);
}

/* The NAT's public side as the scripted NAT maps it: M1 for P, then one
 * per destination IP (AD) or destination IP and port (APD). */
static void
mapped_for(int which, struct sockaddr_storage *m)
{
	const char *s = "203.0.113.5:40001";

	if (which == F_APP && env.script->mapping != NAT_EI)
		s = "203.0.113.5:40002";
	if (which == F_AAP)
		s = env.script->mapping == NAT_EI ? "203.0.113.5:40001" :
		    env.script->mapping == NAT_AD ? "203.0.113.5:40002" :
		    "203.0.113.5:40003";
	ck_assert_int_eq(netaddr_parse(s, 0, m), 0);
}

/* Filtering decides which CHANGE-REQUESTs come through. */
static int
answered(int which, uint32_t change)
{
	if (env.script->silent || which == F_MUTE)
		return 0;
	if (change == (STUN_CHANGE_IP | STUN_CHANGE_PORT))
		return env.script->filtering == NAT_EI;
	if (change == STUN_CHANGE_PORT)
		return env.script->filtering != NAT_APD;
	return 1;
}

static void
serve(int which)
{
	struct sockaddr_storage	from, m;
	socklen_t		flen = sizeof(from);
	struct stun_msg		req;
	struct stun_writer	w;
	uint8_t			buf[512], out[512];
	ssize_t			n;
	int			len;

	while ((n = recvfrom(env.fd[which], buf, sizeof(buf), 0,
	    (struct sockaddr *)&from, &flen)) > 0) {
		ck_assert_int_eq(stun_decode(buf, n, &req), STUN_OK);
		env.requests[which]++;
		if (!answered(which, (req.has & STUN_HAS_CHANGE_REQUEST) ?
		    req.change_request : 0))
			continue;
		mapped_for(which, &m);
		stun_init(&w, out, sizeof(out), STUN_METHOD_BINDING,
		    STUN_CLASS_SUCCESS, req.tid);
		stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
		    (struct sockaddr *)&m);
		if (which == F_PP)
			stun_add_addr(&w, STUN_ATTR_OTHER_ADDRESS,
			    (struct sockaddr *)&env.addr[F_AAP]);
		stun_add_fingerprint(&w);
		ck_assert_int_gt(len = stun_finish(&w), 0);
		ck_assert_int_eq(sendto(env.fd[which], out, len, 0,
		    (struct sockaddr *)&from, flen), len);
		flen = sizeof(from);
	}
	ck_assert(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

/* Run the loop and the servers until a callback came or max_s passed. */
static void
pump(double max_s)
{
	double	until = ev_time() + max_s;
	int	i;

	while (!env.done && ev_time() < until) {
		ev_run(env.loop, EVRUN_NOWAIT);
		for (i = 0; i < F_MAX; i++)
			serve(i);
		usleep(1000);
	}
}

static void
done_cb(struct stund *sd, int status, void *arg)
{
	ck_assert_ptr_eq(sd, &env.sd);
	ck_assert_ptr_eq(arg, &env);
	env.done++;
	env.status = status;
}

START_TEST(test_discover_first_answer_wins)
{
	static const struct script	 s = { NAT_EI, NAT_EI, 0 };
	const struct discover		*d;
	char				 a[NETADDR_STRLEN];

	env.script = &s;
	env_add_server(F_PP);
	env_add_server(F_MUTE);
	start();
	ck_assert_int_eq(discover_request(&env.sd, 0, done_cb, &env), 0);
	ck_assert_int_eq(env.done, 0);		/* nothing cached yet */
	pump(2);
	ck_assert_int_eq(env.done, 1);
	ck_assert_int_eq(env.status, 0);
	d = env.sd.disc;
	ck_assert_int_eq(d->have, 1);
	ck_assert_str_eq(netaddr_str((struct sockaddr *)&d->public, a,
	    sizeof(a)), "203.0.113.5:40001");
	ck_assert_int_eq(env.changed, 1);
	ck_assert_str_eq(env.previous, "");
	/* the silent server was cut off by the grace period, and said so */
	ck_assert_int_eq(d->run.nprobes, 2);
	ck_assert_int_eq(d->run.res[1].state, 0);
	ck_assert_str_eq(d->run.res[1].error, "slower than the winner");
	ck_assert_double_lt(d->run.finished - d->run.started, 0.39);
	ck_assert_uint_eq(env.sd.ctr.discoveries, 1);

	/* fresh: answered from the cache before the call returns */
	env.done = 0;
	ck_assert_int_eq(discover_request(&env.sd, 0, done_cb, &env), 0);
	ck_assert_int_eq(env.done, 1);
	ck_assert_uint_eq(env.sd.ctr.discoveries, 1);
	/* refresh: a new run; the same endpoint is no change */
	env.done = 0;
	ck_assert_int_eq(discover_request(&env.sd, 1, done_cb, &env), 0);
	ck_assert_int_eq(env.done, 0);
	pump(2);
	ck_assert_int_eq(env.done, 1);
	ck_assert_uint_eq(env.sd.ctr.discoveries, 2);
	ck_assert_int_eq(env.changed, 1);
}
END_TEST

START_TEST(test_discover_nobody_answers)
{
	static const struct script s = { NAT_EI, NAT_EI, 1 };

	env.script = &s;
	env_add_server(F_PP);
	env_add_server(F_MUTE);
	start();
	ck_assert_int_eq(discover_request(&env.sd, 0, done_cb, &env), 0);
	pump(3);
	ck_assert_int_eq(env.done, 1);
	ck_assert_int_eq(env.status, 0);
	ck_assert_int_eq(env.sd.disc->have, 0);
	ck_assert_ptr_nonnull(strstr(env.sd.disc->run.error,
	    "no STUN server answered"));
	ck_assert_uint_eq(env.sd.ctr.discovery_failures, 1);
	ck_assert_int_eq(env.changed, 0);
	/* retransmitted (RTO 100 ms within 400 ms), not sent once */
	ck_assert_int_gt(env.requests[F_PP], 1);
}
END_TEST

START_TEST(test_discover_nothing_configured)
{
	start();
	ck_assert_int_eq(discover_request(&env.sd, 0, done_cb, &env), 0);
	ck_assert_int_eq(env.done, 0);	/* never re-entrant */
	pump(1);
	ck_assert_int_eq(env.done, 1);
	ck_assert_str_eq(env.sd.disc->run.error,
	    "no STUN server configured (stund.servers)");
}
END_TEST

/* One RFC 5780 run against the scripted NAT; its classification. */
static const struct nat_result *
nat_run(const struct script *s)
{
	env.script = s;
	env_add_server(F_PP);
	start();
	/* names not resolved yet: the discovery runs first, then the tests */
	ck_assert_int_eq(natbehav_request(&env.sd, 0, done_cb, &env), 0);
	ck_assert_int_eq(natbehav_running(&env.sd), 0);
	pump(5);
	ck_assert_int_eq(env.done, 1);
	ck_assert_int_eq(env.status, 0);
	ck_assert_int_eq(natbehav_running(&env.sd), 0);
	ck_assert_int_eq(env.sd.disc->have, 1);
	return natbehav_result(&env.sd);
}

START_TEST(test_nat_full_cone)
{
	static const struct script	 s = { NAT_EI, NAT_EI, 0 };
	const struct nat_result		*n = nat_run(&s);

	ck_assert_int_eq(n->valid, 1);
	ck_assert_str_eq(n->method, "rfc5780");
	ck_assert_int_eq(n->behind_nat, 1);
	ck_assert_int_eq(n->mapping, NAT_EI);
	ck_assert_int_eq(n->filtering, NAT_EI);
	ck_assert_str_eq(n->classic, "full cone");
	/* filtering II answered: III not needed; mapping II equal: no III */
	ck_assert_int_eq(env.requests[F_AAP], 0);
	ck_assert_int_eq(env.requests[F_APP], 1);
	ck_assert_uint_eq(env.sd.ctr.nat_tests, 1);
	/* the endpoint (from the discovery), then the NAT type: two events */
	ck_assert_int_eq(env.changed, 2);
}
END_TEST

START_TEST(test_nat_restricted_cone)
{
	static const struct script	 s = { NAT_EI, NAT_AD, 0 };
	const struct nat_result		*n = nat_run(&s);

	ck_assert_int_eq(n->mapping, NAT_EI);
	ck_assert_int_eq(n->filtering, NAT_AD);
	ck_assert_str_eq(n->classic, "restricted cone");
}
END_TEST

START_TEST(test_nat_symmetric)
{
	static const struct script	 s = { NAT_APD, NAT_APD, 0 };
	const struct nat_result		*n = nat_run(&s);
	const struct nat_result		*again;

	ck_assert_int_eq(n->mapping, NAT_APD);
	ck_assert_int_eq(n->filtering, NAT_APD);
	ck_assert_str_eq(n->classic, "symmetric");
	ck_assert_int_eq(env.requests[F_AAP], 1);
	/* cached: answered at once, no new test */
	env.done = 0;
	ck_assert_int_eq(natbehav_request(&env.sd, 0, done_cb, &env), 0);
	ck_assert_int_eq(env.done, 1);
	again = natbehav_result(&env.sd);
	ck_assert_str_eq(again->classic, "symmetric");
	ck_assert_uint_eq(env.sd.ctr.nat_tests, 1);
}
END_TEST

START_TEST(test_nat_address_dependent_mapping)
{
	static const struct script	 s = { NAT_AD, NAT_APD, 0 };
	const struct nat_result		*n = nat_run(&s);

	ck_assert_int_eq(n->mapping, NAT_AD);
	ck_assert_str_eq(n->classic, "symmetric");
}
END_TEST

/* Shutdown with requests waiting: each is told once, with -1. */
START_TEST(test_shutdown_tells_waiters)
{
	static const struct script s = { NAT_EI, NAT_EI, 1 };

	env.script = &s;
	env_add_server(F_MUTE);
	start();
	ck_assert_int_eq(discover_request(&env.sd, 1, done_cb, &env), 0);
	ck_assert_int_eq(natbehav_request(&env.sd, 1, done_cb, &env), 0);
	ev_run(env.loop, EVRUN_NOWAIT);
	ck_assert_int_eq(env.done, 0);
	natbehav_fini(&env.sd);
	ck_assert_int_eq(env.done, 1);
	ck_assert_int_eq(env.status, -1);
	discover_fini(&env.sd);
	ck_assert_int_eq(env.done, 2);
	ck_assert_int_eq(env.status, -1);
}
END_TEST

Suite *
discover_suite(void)
{
	Suite *s = suite_create("discover");
	TCase *tc = tcase_create("stund discovery and NAT tests");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_discover_first_answer_wins);
	tcase_add_test(tc, test_discover_nobody_answers);
	tcase_add_test(tc, test_discover_nothing_configured);
	tcase_add_test(tc, test_nat_full_cone);
	tcase_add_test(tc, test_nat_restricted_cone);
	tcase_add_test(tc, test_nat_symmetric);
	tcase_add_test(tc, test_nat_address_dependent_mapping);
	tcase_add_test(tc, test_shutdown_tells_waiters);
	suite_add_tcase(s, tc);
	return s;
}
