/*
 * common/relay_client's reconnect schedule (issue 13: back within 2-5 s
 * of a relay's return while peers depend on it): the pure schedule, a
 * 10 s outage replayed on it, and a live client against a closed
 * loopback port (connects are refused at once) with short timers.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/relay_client.h"
#include "suites.h"

START_TEST(test_schedule)
{
	/* 250 ms doubling to the cap */
	ck_assert(relay_client_backoff(0.25, 30, 0) == 0.25);
	ck_assert(relay_client_backoff(0.25, 30, 1) == 0.5);
	ck_assert(relay_client_backoff(0.25, 30, 3) == 2);
	ck_assert(relay_client_backoff(0.25, 30, 7) == 30);
	ck_assert(relay_client_backoff(0.25, 30, 1000) == 30);
	ck_assert(relay_client_backoff(0.25, 2, 3) == 2);
	ck_assert(relay_client_backoff(0.25, 2, 64) == 2);
}
END_TEST

/*
 * The relay is gone from 0 to `outage` s; each round fails at once while
 * it is gone. Returns how long after its return the next attempt comes,
 * with the longest jitter (+25 %).
 */
static double
replay_outage(double max, double outage)
{
	double		t = 0;
	unsigned	a = 0;

	while (t < outage)
		t += 1.25 * relay_client_backoff(0.25, max, a++);
	return t - outage;
}

START_TEST(test_outage)
{
	double o, late;

	/* needed (cap 2 s): back within 2.5 s of the return, for any
	 * outage up to ten minutes */
	for (o = 0.5; o < 600; o += 0.25) {
		late = replay_outage(2, o);
		ck_assert_msg(late <= 2.5, "outage %.2f s: %.2f s late", o,
		    late);
	}
	/* idle (cap 30 s): the 10 s outage of issue 13 costs over 5 s */
	late = replay_outage(30, 10);
	ck_assert_msg(late > 5, "idle: %.2f s", late);
}
END_TEST

struct watch {
	struct ev_loop	*loop;
	int		 connecting;
	double		 last, maxgap;
};

static void
watch_state(void *arg, enum relay_client_state s, const char *url)
{
	struct watch	*w = arg;
	double		 now = ev_time();

	(void)url;
	if (s != RELAY_CLIENT_CONNECTING)
		return;
	if (w->connecting > 0 && now - w->last > w->maxgap)
		w->maxgap = now - w->last;
	w->last = now;
	w->connecting++;
}

static void
stop_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* a loopback port nobody listens on */
static int
closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static struct relay_client *
client(struct ev_loop *loop, struct watch *w, char *url, size_t len,
    double min, double max, double needed)
{
	struct relay_client_url	u;
	struct relay_client_cfg	cfg;
	struct relay_client	*c;

	snprintf(url, len, "ws://127.0.0.1:%d", closed_port());
	u.url = url;
	u.region = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.urls = &u;
	cfg.nurls = 1;
	cfg.session = "backoff";
	cfg.backoff_min = min;
	cfg.backoff_max = max;
	cfg.backoff_needed = needed;
	cfg.on_state = watch_state;
	cfg.arg = w;
	memset(w, 0, sizeof(*w));
	w->loop = loop;
	c = relay_client_new(loop, &cfg);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void
run_for(struct ev_loop *loop, double s)
{
	ev_timer t;

	ev_timer_init(&t, stop_cb, s, 0);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

START_TEST(test_live_needed)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct relay_client	*c;
	struct watch		 w;
	char			 url[64];
	int			 idle;

	/* idle: 10 ms doubling to 1 s; in 0.8 s about 7 attempts */
	c = client(loop, &w, url, sizeof(url), 0.01, 1, 0.04);
	relay_client_start(c);
	run_for(loop, 0.8);
	idle = w.connecting;
	ck_assert_msg(w.maxgap > 0.1, "idle: longest wait %.3f s", w.maxgap);
	relay_client_free(c);

	/* needed: the waits stop growing at 40 ms (+25 %) */
	c = client(loop, &w, url, sizeof(url), 0.01, 1, 0.04);
	relay_client_set_needed(c, 1);
	relay_client_start(c);
	run_for(loop, 0.8);
	ck_assert_msg(w.maxgap < 0.05 + 0.03, "needed: longest wait %.3f s",
	    w.maxgap);
	ck_assert_msg(w.connecting > idle + 5, "needed %d attempts, idle %d",
	    w.connecting, idle);
	relay_client_free(c);
	ev_loop_destroy(loop);
}
END_TEST

START_TEST(test_live_becomes_needed)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct relay_client	*c;
	struct watch		 w;
	char			 url[64];

	/* the first wait is 1.5-2.5 s while idle ... */
	c = client(loop, &w, url, sizeof(url), 2, 30, 0.05);
	relay_client_start(c);
	run_for(loop, 0.1);
	ck_assert_int_eq(w.connecting, 1);
	ck_assert_int_eq(relay_client_state(c), RELAY_CLIENT_BACKOFF);
	/* ... and becomes a short one when a peer depends on the relay */
	relay_client_set_needed(c, 1);
	run_for(loop, 0.2);
	ck_assert_int_ge(w.connecting, 2);
	/* not needed any more: the next wait grows again (2 s doubled) */
	relay_client_set_needed(c, 0);
	w.connecting = 0;
	run_for(loop, 0.3);
	ck_assert_int_le(w.connecting, 1);
	relay_client_free(c);
	ev_loop_destroy(loop);
}
END_TEST

Suite *
relay_backoff_suite(void)
{
	Suite	*s = suite_create("relay_backoff");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_outage);
	tcase_add_test(tc, test_live_needed);
	tcase_add_test(tc, test_live_becomes_needed);
	suite_add_tcase(s, tc);
	return s;
}
