/*
 * stund's hairpin test (stund/hairpin.h) on loopback: a socket that sends
 * to its own address gets its request back (what a hairpinning NAT does);
 * one that sends to a closed port hears nothing and says no within the
 * bound; other datagrams (a STUN answer, garbage, another transaction's
 * request) are not taken for our own request.
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/netaddr.h"
#include "proto/stun.h"
#include "stund/hairpin.h"
#include "suites.h"

struct hp_env {
	struct ev_loop	*loop;
	int		 fd;
	ev_io		 io;
	struct hairpin	 h;
	int		 done, others;
};

static void
hp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hp_env	*e = w->data;
	uint8_t		 buf[2048];
	ssize_t		 n;

	(void)loop;
	(void)revents;
	while ((n = recv(e->fd, buf, sizeof(buf), 0)) > 0)
		if (!hairpin_input(&e->h, buf, n))
			e->others++;
}

static void
hp_done(struct hairpin *h, void *arg)
{
	struct hp_env *e = arg;

	(void)h;
	e->done++;
	ev_break(e->loop, EVBREAK_ALL);
}

static void
hp_setup(struct hp_env *e, struct sockaddr_storage *self)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)self;
	socklen_t		 len = sizeof(*self);

	memset(e, 0, sizeof(*e));
	e->loop = ev_loop_new(EVFLAG_AUTO);
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ne(e->fd, -1);
	memset(self, 0, sizeof(*self));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(e->fd, (struct sockaddr *)self, sizeof(*sin)), 0);
	ck_assert_int_eq(getsockname(e->fd, (struct sockaddr *)self, &len), 0);
	ev_io_init(&e->io, hp_io_cb, e->fd, EV_READ);
	e->io.data = e;
	ev_io_start(e->loop, &e->io);
}

static void
hp_teardown(struct hp_env *e)
{
	hairpin_cancel(&e->h);
	ev_io_stop(e->loop, &e->io);
	close(e->fd);
	ev_loop_destroy(e->loop);
}

START_TEST(test_hairpin_comes_back)
{
	struct hp_env		e;
	struct sockaddr_storage	self;

	hp_setup(&e, &self);
	ck_assert_int_eq(hairpin_start(&e.h, e.loop, e.fd,
	    (struct sockaddr *)&self, 1.0, hp_done, &e), 0);
	ev_run(e.loop, 0);
	ck_assert_int_eq(e.done, 1);
	ck_assert_int_eq(e.h.result, 1);
	ck_assert(e.h.ms >= 0 && e.h.ms < 1000);
	ck_assert_int_eq(e.h.nsent, 1);
	hp_teardown(&e);
}
END_TEST

START_TEST(test_hairpin_nothing_comes_back)
{
	struct hp_env		e;
	struct sockaddr_storage	self, closed;
	double			t0;
	int			fd2;

	hp_setup(&e, &self);
	/* a port that was bound a moment ago and is closed now */
	fd2 = socket(AF_INET, SOCK_DGRAM, 0);
	closed = self;
	netaddr_set_port((struct sockaddr *)&closed, 0);
	ck_assert_int_eq(bind(fd2, (struct sockaddr *)&closed,
	    sizeof(struct sockaddr_in)), 0);
	{
		socklen_t len = sizeof(closed);

		ck_assert_int_eq(getsockname(fd2, (struct sockaddr *)&closed,
		    &len), 0);
	}
	close(fd2);
	t0 = ev_time();
	ck_assert_int_eq(hairpin_start(&e.h, e.loop, e.fd,
	    (struct sockaddr *)&closed, 1.0, hp_done, &e), 0);
	ev_run(e.loop, 0);
	ck_assert_int_eq(e.done, 1);
	ck_assert_int_eq(e.h.result, 0);
	ck_assert_int_eq(e.h.nsent, HAIRPIN_SENDS);
	ck_assert(ev_time() - t0 < 1.5);
	ck_assert_ptr_nonnull(strstr(e.h.note, "did not come back"));
	hp_teardown(&e);
}
END_TEST

/* answers, garbage and other transactions' requests are not ours */
START_TEST(test_hairpin_ignores_others)
{
	struct hp_env		e;
	struct sockaddr_storage	self;
	struct stun_writer	w;
	uint8_t			buf[64], tid[12];
	int			n;

	hp_setup(&e, &self);
	ck_assert_int_eq(hairpin_start(&e.h, e.loop, e.fd,
	    (struct sockaddr *)&self, 1.0, hp_done, &e), 0);
	ck_assert_int_eq(hairpin_input(&e.h, (const uint8_t *)"garbage", 7), 0);
	stun_new_tid(tid);
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_REQUEST, tid);
	n = stun_finish(&w);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(hairpin_input(&e.h, buf, n), 0);
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_SUCCESS, e.h.tid);
	n = stun_finish(&w);
	ck_assert_int_eq(hairpin_input(&e.h, buf, n), 0);
	ck_assert(e.h.running);
	/* the real one, queued on the socket, still completes the test */
	ev_run(e.loop, 0);
	ck_assert_int_eq(e.h.result, 1);
	hp_teardown(&e);
}
END_TEST

Suite *
hairpin_suite(void)
{
	Suite *s = suite_create("hairpin");
	TCase *tc = tcase_create("stund hairpin test on loopback");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_hairpin_comes_back);
	tcase_add_test(tc, test_hairpin_nothing_comes_back);
	tcase_add_test(tc, test_hairpin_ignores_others);
	suite_add_tcase(s, tc);
	return s;
}
