/*
 * punchd/portmap: the PCP codec, the timings and the epoch rule on a fake
 * clock, and the PCP and NAT-PMP clients against a fake gateway on
 * loopback that answers what a broken or hostile gateway would: truncated
 * packets, a wrong version, another nonce, error results, lease 0, another
 * external port, an epoch that goes back (a reboot). Each fake gateway
 * listens on 127.X.Y.Z:5351 with X.Y.Z from the pid, so parallel runs do
 * not meet.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "proto/wire.h"
#include "punchd/portmap.h"
#include "suites.h"

/* --- codec and pure helpers ----------------------------------------------- */

START_TEST(test_mode_parse)
{
	enum portmap_mode m = PORTMAP_NO;

	ck_assert_int_eq(portmap_mode_parse("auto", &m), 0);
	ck_assert_int_eq(m, PORTMAP_AUTO);
	ck_assert_int_eq(portmap_mode_parse("pcp", &m), 0);
	ck_assert_int_eq(m, PORTMAP_PCP);
	ck_assert_int_eq(portmap_mode_parse("natpmp", &m), 0);
	ck_assert_int_eq(portmap_mode_parse("upnp", &m), 0);
	ck_assert_int_eq(portmap_mode_parse("no", &m), 0);
	ck_assert_int_eq(m, PORTMAP_NO);
	ck_assert_int_eq(portmap_mode_parse("yes", &m), -1);
	ck_assert_int_eq(portmap_mode_parse("", &m), -1);
	ck_assert_int_eq(portmap_mode_parse("AUTO", &m), -1);
	ck_assert_int_eq(portmap_mode_parse(NULL, &m), -1);
	ck_assert_int_eq(m, PORTMAP_NO);
	ck_assert_str_eq(portmap_mode_name(PORTMAP_NATPMP), "natpmp");
}
END_TEST

START_TEST(test_gateway_parse)
{
	const char *t =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
	    "\t\tMTU\tWindow\tIRTT\n"
	    "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "eth1\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
	    "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
	struct in_addr gw;

	ck_assert_int_eq(portmap_default_gateway_parse(t, &gw), 0);
	ck_assert_str_eq(inet_ntoa(gw), "192.168.2.1");	/* lowest metric */
	ck_assert_int_eq(portmap_default_gateway_parse(
	    "Iface\tDestination\n"
	    "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
	    &gw), -1);
	ck_assert_int_eq(portmap_default_gateway_parse("", &gw), -1);
	ck_assert_int_eq(portmap_default_gateway_parse("garbage\n\n\n", &gw),
	    -1);
}
END_TEST

START_TEST(test_pcp_request)
{
	struct pcp_map	m;
	struct in_addr	self, ext;
	uint8_t		b[80];

	memset(&m, 0, sizeof(m));
	memcpy(m.nonce, "ABCDEFGHIJKL", 12);
	m.protocol = IPPROTO_UDP;
	m.internal_port = 7777;
	m.external_port = 7778;
	inet_pton(AF_INET, "192.168.1.2", &self);
	inet_pton(AF_INET, "198.51.100.11", &ext);
	m.external = ext;
	ck_assert_uint_eq(pcp_map_request(b, 59, 3600, self, &m), 0);
	ck_assert_uint_eq(pcp_map_request(b, sizeof(b), 3600, self, &m), 60);
	ck_assert_uint_eq(b[0], 2);
	ck_assert_uint_eq(b[1], 1);			/* MAP, R = 0 */
	ck_assert_uint_eq(wire_get32(b + 4), 3600);
	ck_assert_uint_eq(b[18], 0xff);
	ck_assert_uint_eq(b[19], 0xff);
	ck_assert_mem_eq(b + 20, &self.s_addr, 4);
	ck_assert_mem_eq(b + 24, "ABCDEFGHIJKL", 12);
	ck_assert_uint_eq(b[36], 17);
	ck_assert_uint_eq(wire_get16(b + 40), 7777);
	ck_assert_uint_eq(wire_get16(b + 42), 7778);
	ck_assert_mem_eq(b + 56, &ext.s_addr, 4);
}
END_TEST

/* A MAP success response as a PCP server sends it. */
static size_t
pcp_answer_bytes(uint8_t *b, uint8_t result, uint32_t life, uint32_t epoch,
    const uint8_t *nonce, uint16_t iport, uint16_t eport, const char *ext)
{
	struct in_addr a;

	memset(b, 0, 60);
	b[0] = 2;
	b[1] = 0x81;
	b[3] = result;
	wire_put32(b + 4, life);
	wire_put32(b + 8, epoch);
	memcpy(b + 24, nonce, 12);
	b[36] = 17;
	wire_put16(b + 40, iport);
	wire_put16(b + 42, eport);
	b[54] = b[55] = 0xff;
	inet_pton(AF_INET, ext, &a);
	memcpy(b + 56, &a.s_addr, 4);
	return 60;
}

START_TEST(test_pcp_parse_hostile)
{
	struct pcp_response	r;
	uint8_t			b[1200];
	char			why[PORTMAP_REASON_LEN];

	pcp_answer_bytes(b, 0, 600, 10, (const uint8_t *)"NNNNNNNNNNNN",
	    7777, 7777, "203.0.113.9");
	ck_assert_int_eq(pcp_response_parse(b, 60, &r, why, sizeof(why)), 0);
	ck_assert_uint_eq(r.lifetime, 600);
	ck_assert_uint_eq(r.epoch, 10);
	ck_assert_uint_eq(r.map.external_port, 7777);
	ck_assert_str_eq(inet_ntoa(r.map.external), "203.0.113.9");

	/* truncated at every length below a header, and inside MAP data */
	for (size_t n = 0; n < 24; n++)
		if (n < 4 || b[0] != 0)
			ck_assert_int_eq(pcp_response_parse(b, n, &r, why,
			    sizeof(why)), -1);
	ck_assert_int_eq(pcp_response_parse(b, 20, &r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "truncated"));
	ck_assert_int_eq(pcp_response_parse(b, 48, &r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "truncated MAP"));
	ck_assert_int_eq(pcp_response_parse(b, 58, &r, why, sizeof(why)), -1);
	ck_assert_int_eq(pcp_response_parse(b, 1104, &r, why, sizeof(why)),
	    -1);
	/* not a response */
	b[1] = 0x01;
	ck_assert_int_eq(pcp_response_parse(b, 60, &r, why, sizeof(why)), -1);
	b[1] = 0x81;
	/* wrong version with success: refused */
	b[0] = 3;
	ck_assert_int_eq(pcp_response_parse(b, 60, &r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "version 3"));
	/* version 1 error UNSUPP_VERSION: parsed, caller decides */
	b[0] = 1;
	b[3] = 1;
	ck_assert_int_eq(pcp_response_parse(b, 60, &r, why, sizeof(why)), 0);
	ck_assert_uint_eq(r.version, 1);
	b[0] = 2;
	b[3] = 0;
	/* IPv6 external address in a success */
	b[54] = 0;
	ck_assert_int_eq(pcp_response_parse(b, 60, &r, why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "not IPv4"));
	/* NAT-PMP gateway: version 0, result 1 */
	memset(b, 0, 8);
	b[1] = 0x81;
	wire_put16(b + 2, 1);
	ck_assert_int_eq(pcp_response_parse(b, 8, &r, why, sizeof(why)), 0);
	ck_assert_uint_eq(r.version, 0);
	ck_assert_uint_eq(r.result, 1);
	wire_put16(b + 2, 0);
	ck_assert_int_eq(pcp_response_parse(b, 8, &r, why, sizeof(why)), -1);
	ck_assert_str_eq(pcp_result_name(2), "NOT_AUTHORIZED");
	ck_assert_str_eq(pcp_result_name(200), "unknown result");
}
END_TEST

START_TEST(test_timings)
{
	ck_assert_double_eq(portmap_retry_delay(1), 0.25);
	ck_assert_double_eq(portmap_retry_delay(2), 0.5);
	ck_assert_double_eq(portmap_retry_delay(4), 2);
	ck_assert_double_eq(portmap_retry_delay(5), -1);
	ck_assert_double_eq(portmap_retry_delay(0), -1);
	ck_assert_double_eq(portmap_renew_delay(3600), 1800);
	ck_assert_double_eq(portmap_renew_delay(1), 1);
	/* unanswered renewal at t=1800 of a lease ending at 3600 */
	ck_assert_double_eq(portmap_renew_retry(1800, 3600), 900);
	ck_assert_double_eq(portmap_renew_retry(3599, 3600), -1);
}
END_TEST

START_TEST(test_epoch_fake_clock)
{
	struct portmap_epoch e;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(portmap_epoch_check(&e, 5000, 100), 0);
	/* in step with our clock, and a little drift: fine */
	ck_assert_int_eq(portmap_epoch_check(&e, 6800, 1900), 0);
	ck_assert_int_eq(portmap_epoch_check(&e, 8650, 3700), 0);
	/* went back: the gateway rebooted */
	ck_assert_int_eq(portmap_epoch_check(&e, 30, 5500), -1);
	/* from there it advances again */
	ck_assert_int_eq(portmap_epoch_check(&e, 1830, 7300), 0);
	/* the server's clock stood still while ours ran an hour: reset */
	ck_assert_int_eq(portmap_epoch_check(&e, 1840, 10900), -1);
	/* jumped ahead much faster than we did */
	ck_assert_int_eq(portmap_epoch_check(&e, 99999, 10901), -1);
	/* back by one second is tolerated (clock granularity) */
	ck_assert_int_eq(portmap_epoch_check(&e, 99998, 10901.5), 0);
}
END_TEST

/* --- fake gateway on loopback ----------------------------------------------- */

struct fake {
	struct ev_loop	*loop;
	int		 fd;
	struct in_addr	 addr;
	ev_io		 io;
	ev_timer	 limit;
	int		 script;	/* what to answer, per test */
	int		 nreq;
	double		 t[16];		/* when each request came */
	uint8_t		 req[16][64];
	size_t		 reqlen[16];
	uint32_t	 epoch;
	/* what the client under test reported */
	struct portmap_drv_cb cb;
	int		 nmapped, nlost, nfailed;
	char		 why[PORTMAP_REASON_LEN];
	struct portmap_mapping m;
	int		 stop_after;	/* events before ev_break */
};

static void
fake_event(struct fake *f)
{
	if (f->nmapped + f->nlost + f->nfailed >= f->stop_after)
		ev_break(f->loop, EVBREAK_ALL);
}

static void
fake_mapped(struct portmap_drv *d)
{
	struct fake *f = d->cb->arg;

	f->nmapped++;
	f->m = d->m;
	fake_event(f);
}

static void
fake_lost(struct portmap_drv *d, const char *why)
{
	struct fake *f = d->cb->arg;

	f->nlost++;
	snprintf(f->why, sizeof(f->why), "%s", why);
	fake_event(f);
}

static void
fake_failed(struct portmap_drv *d, const char *why)
{
	struct fake *f = d->cb->arg;

	f->nfailed++;
	snprintf(f->why, sizeof(f->why), "%s", why);
	fake_event(f);
}

static void	fake_pcp_answer(struct fake *, const uint8_t *, size_t,
		    struct sockaddr_in *, socklen_t);
static void	fake_natpmp_answer(struct fake *, const uint8_t *, size_t,
		    struct sockaddr_in *, socklen_t);

static void
fake_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake		*f = w->data;
	struct sockaddr_in	 from;
	socklen_t		 fl = sizeof(from);
	uint8_t			 b[128];
	ssize_t			 n;

	(void)revents;
	n = recvfrom(f->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	if (f->nreq < 16) {
		f->t[f->nreq] = ev_time();
		memcpy(f->req[f->nreq], b, (size_t)n > 64 ? 64 : (size_t)n);
		f->reqlen[f->nreq] = (size_t)n;
	}
	f->nreq++;
	(void)loop;
	if (b[0] == 2)
		fake_pcp_answer(f, b, (size_t)n, &from, fl);
	else
		fake_natpmp_answer(f, b, (size_t)n, &from, fl);
}

static void
fake_limit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* bind = 0: no gateway listening (the port is unreachable) */
static void
fake_init(struct fake *f, int script, int bind_it)
{
	struct sockaddr_in	sin;
	unsigned		p = (unsigned)getpid();

	memset(f, 0, sizeof(*f));
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->script = script;
	f->epoch = 1000;
	f->stop_after = 1;
	f->cb.mapped = fake_mapped;
	f->cb.lost = fake_lost;
	f->cb.failed = fake_failed;
	f->cb.arg = f;
	f->addr.s_addr = htonl(0x7f000000u | ((p * 7 + (unsigned)script) &
	    0xffff) << 8 | 2);
	f->fd = -1;
	if (bind_it) {
		f->fd = socket(AF_INET, SOCK_DGRAM, 0);
		ck_assert_int_ge(f->fd, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr = f->addr;
		sin.sin_port = htons(5351);
		ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		ev_io_init(&f->io, fake_read_cb, f->fd, EV_READ);
		f->io.data = f;
		ev_io_start(f->loop, &f->io);
	}
	ev_timer_init(&f->limit, fake_limit_cb, 8, 0);
}

/*
 * A UDP port nobody holds now, for the announcement listener: the layer
 * binds it with SO_REUSEPORT, and a port shared with another process (a
 * second test run: a pid-derived port collided) would hand it half of the
 * announcements.
 */
static uint16_t
free_udp_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;
	uint16_t		port;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
fake_run(struct fake *f, double limit, int events)
{
	f->stop_after = events;
	ev_timer_stop(f->loop, &f->limit);
	ev_timer_set(&f->limit, limit, 0);
	ev_timer_start(f->loop, &f->limit);
	ev_run(f->loop, 0);
}

static void
fake_free(struct fake *f)
{
	if (f->fd != -1)
		close(f->fd);
	ev_loop_destroy(f->loop);
}

/* --- PCP against the fake ---------------------------------------------------- */

enum {
	PCP_GOOD, PCP_TRUNC_THEN_GOOD, PCP_OTHER_NONCE, PCP_NOT_AUTH,
	PCP_LEASE0, PCP_OTHER_PORT, PCP_V0, PCP_REBOOT, PCP_SHORT,
};

static void
fake_pcp_answer(struct fake *f, const uint8_t *q, size_t n,
    struct sockaddr_in *to, socklen_t tl)
{
	uint8_t		b[64], nonce[12];
	size_t		len;
	uint32_t	life = wire_get32(q + 4), epoch = f->epoch;
	uint16_t	eport = 7777;
	uint8_t		result = 0;

	if (n < 60)
		return;
	memcpy(nonce, q + 24, 12);
	if (life == 0)
		return;			/* a delete: no answer needed */
	switch (f->script) {
	case PCP_TRUNC_THEN_GOOD:
		if (f->nreq == 1) {
			len = pcp_answer_bytes(b, 0, life, epoch, nonce, 7777,
			    7777, "203.0.113.9");
			sendto(f->fd, b, 20, 0, (struct sockaddr *)to, tl);
			(void)len;
			return;
		}
		break;
	case PCP_OTHER_NONCE:
		nonce[0] ^= 1;
		break;
	case PCP_NOT_AUTH:
		result = 2;
		break;
	case PCP_LEASE0:
		life = 0;
		break;
	case PCP_OTHER_PORT:
		eport = 40001;
		break;
	case PCP_V0:
		memset(b, 0, 8);
		b[1] = 0x81;
		wire_put16(b + 2, 1);
		sendto(f->fd, b, 8, 0, (struct sockaddr *)to, tl);
		return;
	case PCP_REBOOT:
		if (f->nreq >= 2)
			epoch = 3;	/* went back: rebooted */
		break;
	case PCP_SHORT:
		if (life > 2)
			life = 2;	/* the gateway grants 2 s only */
		epoch += f->nreq - 1;
		break;
	}
	len = pcp_answer_bytes(b, result, life, epoch, nonce, 7777, eport,
	    "203.0.113.9");
	sendto(f->fd, b, len, 0, (struct sockaddr *)to, tl);
}

static void
pcp_run(struct fake *f, struct portmap_pcp *c, uint32_t lease)
{
	memset(c, 0, sizeof(*c));
	c->server_port = 5351;
	ck_assert_int_eq(portmap_pcp_start(c, f->loop, &f->cb, 7777, lease,
	    f->addr), 0);
}

START_TEST(test_pcp_good_and_delete)
{
	struct fake		f;
	struct portmap_pcp	c;

	fake_init(&f, PCP_GOOD, 1);
	pcp_run(&f, &c, 3600);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_str_eq(inet_ntoa(f.m.ext.sin_addr), "203.0.113.9");
	ck_assert_uint_eq(ntohs(f.m.ext.sin_port), 7777);
	ck_assert_uint_eq(f.m.lease, 3600);
	ck_assert_uint_eq(wire_get32(f.req[0] + 4), 3600);
	portmap_pcp_stop(&c, 1);
	fake_run(&f, 0.3, 99);
	ck_assert_int_eq(f.nreq, 2);
	ck_assert_uint_eq(wire_get32(f.req[1] + 4), 0);	/* delete */
	ck_assert_mem_eq(f.req[1] + 24, f.req[0] + 24, 12);	/* same nonce */
	fake_free(&f);
}
END_TEST

START_TEST(test_pcp_truncated_then_good)
{
	struct fake		f;
	struct portmap_pcp	c;

	fake_init(&f, PCP_TRUNC_THEN_GOOD, 1);
	pcp_run(&f, &c, 3600);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nfailed, 0);
	ck_assert_int_eq(f.nmapped, 1);	/* from the retransmission */
	ck_assert_int_ge(f.nreq, 2);
	portmap_pcp_stop(&c, 0);
	fake_free(&f);
}
END_TEST

START_TEST(test_pcp_other_nonce_ignored)
{
	struct fake		f;
	struct portmap_pcp	c;

	fake_init(&f, PCP_OTHER_NONCE, 1);
	pcp_run(&f, &c, 3600);
	fake_run(&f, 6, 1);
	ck_assert_int_eq(f.nmapped, 0);
	ck_assert_int_eq(f.nfailed, 1);
	ck_assert_int_eq(f.nreq, PORTMAP_TRIES);
	ck_assert_ptr_nonnull(strstr(f.why, "no answer"));
	portmap_pcp_stop(&c, 1);
	fake_free(&f);
}
END_TEST

START_TEST(test_pcp_refusals)
{
	static const struct { int script; const char *why; } cases[] = {
		{ PCP_NOT_AUTH, "NOT_AUTHORIZED" },
		{ PCP_LEASE0, "lease of 0" },
		{ PCP_V0, "version 0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake		f;
		struct portmap_pcp	c;

		fake_init(&f, cases[i].script, 1);
		pcp_run(&f, &c, 3600);
		fake_run(&f, 3, 1);
		ck_assert_int_eq(f.nfailed, 1);
		ck_assert_int_eq(f.nmapped, 0);
		ck_assert_msg(strstr(f.why, cases[i].why) != NULL,
		    "case %zu: '%s'", i, f.why);
		ck_assert_int_eq(c.v0_answer, cases[i].script == PCP_V0);
		portmap_pcp_stop(&c, 1);
		fake_free(&f);
	}
}
END_TEST

START_TEST(test_pcp_other_port)
{
	struct fake		f;
	struct portmap_pcp	c;

	fake_init(&f, PCP_OTHER_PORT, 1);
	pcp_run(&f, &c, 3600);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_uint_eq(ntohs(f.m.ext.sin_port), 40001);
	ck_assert_uint_eq(f.m.internal_port, 7777);
	portmap_pcp_stop(&c, 0);
	fake_free(&f);
}
END_TEST


/* A 2 s lease is renewed at 1 s, with the same nonce, quietly. */
START_TEST(test_pcp_renewal)
{
	struct fake		f;
	struct portmap_pcp	c;

	fake_init(&f, PCP_SHORT, 1);
	pcp_run(&f, &c, 3600);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_uint_eq(f.m.lease, 2);
	fake_run(&f, 2.3, 99);
	ck_assert_int_eq(f.nmapped, 1);		/* renewals change nothing */
	ck_assert_int_eq(f.nlost, 0);
	ck_assert_int_ge(f.nreq, 3);
	ck_assert(f.t[1] - f.t[0] > 0.9 && f.t[1] - f.t[0] < 1.3);
	ck_assert(f.t[2] - f.t[1] > 0.9 && f.t[2] - f.t[1] < 1.3);
	ck_assert_mem_eq(f.req[1] + 24, f.req[0] + 24, 12);
	/* the renewal suggests the mapping held */
	ck_assert_uint_eq(wire_get16(f.req[1] + 42), 7777);
	portmap_pcp_stop(&c, 1);
	fake_free(&f);
}
END_TEST

START_TEST(test_pcp_epoch_reboot)
{
	struct fake		f;
	struct portmap_pcp	c;

	fake_init(&f, PCP_REBOOT, 1);
	pcp_run(&f, &c, 2);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	fake_run(&f, 3, 2);			/* the renewal at 1 s */
	ck_assert_int_eq(f.nlost, 1);
	ck_assert_ptr_nonnull(strstr(f.why, "rebooted"));
	ck_assert_int_eq(f.nmapped, 2);
	portmap_pcp_stop(&c, 1);
	fake_free(&f);
}
END_TEST

/* --- NAT-PMP against the fake --------------------------------------------------- */

enum {
	NP_GOOD = 20, NP_TRUNC, NP_BADVERSION, NP_NOT_AUTH, NP_LEASE0,
	NP_OTHER_PORT, NP_REBOOT,
};

static void
fake_natpmp_answer(struct fake *f, const uint8_t *q, size_t n,
    struct sockaddr_in *to, socklen_t tl)
{
	uint8_t		b[16];
	size_t		len;
	uint32_t	epoch = f->epoch;
	uint16_t	result = 0;

	if (n < 2)
		return;
	if (f->script == NP_REBOOT && f->nreq >= 3)
		epoch = 2;
	memset(b, 0, sizeof(b));
	b[0] = 0;
	b[1] = 128 + q[1];
	if (f->script == NP_BADVERSION)
		b[0] = 1;
	if (f->script == NP_NOT_AUTH && q[1] == 1)
		result = 2;
	wire_put16(b + 2, result);
	wire_put32(b + 4, epoch);
	if (q[1] == 0) {		/* external address */
		inet_pton(AF_INET, "203.0.113.9", b + 8);
		len = 12;
	} else {			/* UDP mapping */
		uint32_t life = wire_get32(q + 8);

		if (life == 0)
			return;		/* a delete */
		memcpy(b + 8, q + 4, 2);			/* internal */
		memcpy(b + 10, q + 4, 2);			/* external */
		if (f->script == NP_OTHER_PORT)
			wire_put16(b + 10, 40002);
		if (f->script == NP_LEASE0)
			life = 0;
		wire_put32(b + 12, life);
		len = 16;
		if (f->script == NP_TRUNC && f->nreq == 2)
			len = 10;
	}
	sendto(f->fd, b, len, 0, (struct sockaddr *)to, tl);
}

static void
np_run(struct fake *f, struct portmap_natpmp *c, uint32_t lease)
{
	ck_assert_int_eq(portmap_natpmp_start(c, f->loop, &f->cb, 7777, lease,
	    f->addr), 0);
}

START_TEST(test_natpmp_good_and_delete)
{
	struct fake		f;
	struct portmap_natpmp	c;

	fake_init(&f, NP_GOOD, 1);
	np_run(&f, &c, 3600);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_str_eq(inet_ntoa(f.m.ext.sin_addr), "203.0.113.9");
	ck_assert_uint_eq(ntohs(f.m.ext.sin_port), 7777);
	ck_assert_uint_eq(f.m.lease, 3600);
	ck_assert_int_eq(f.nreq, 2);
	portmap_natpmp_stop(&c, 1);
	fake_run(&f, 0.3, 99);
	ck_assert_int_eq(f.nreq, 3);
	ck_assert_uint_eq(f.req[2][1], 1);
	ck_assert_uint_eq(wire_get32(f.req[2] + 8), 0);	/* delete */
	fake_free(&f);
}
END_TEST

START_TEST(test_natpmp_hostile)
{
	static const struct { int script; int mapped; const char *why; } cases[] = {
		{ NP_TRUNC, 1, NULL },	/* dropped, the retry is answered */
		{ NP_BADVERSION, 0, "unsupported version" },
		{ NP_NOT_AUTH, 0, "not authorized" },
		{ NP_LEASE0, 0, "lease of 0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake		f;
		struct portmap_natpmp	c;

		fake_init(&f, cases[i].script, 1);
		np_run(&f, &c, 3600);
		fake_run(&f, 6, 1);
		ck_assert_msg(f.nmapped == cases[i].mapped, "case %zu: %s",
		    i, f.why);
		if (cases[i].why != NULL)
			ck_assert_msg(f.nfailed == 1 &&
			    strstr(f.why, cases[i].why) != NULL,
			    "case %zu: '%s'", i, f.why);
		portmap_natpmp_stop(&c, 1);
		fake_free(&f);
	}
}
END_TEST

START_TEST(test_natpmp_other_port_and_reboot)
{
	struct fake		f;
	struct portmap_natpmp	c;

	fake_init(&f, NP_OTHER_PORT, 1);
	np_run(&f, &c, 3600);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_uint_eq(ntohs(f.m.ext.sin_port), 40002);
	portmap_natpmp_stop(&c, 0);
	fake_free(&f);

	fake_init(&f, NP_REBOOT, 1);
	np_run(&f, &c, 2);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	fake_run(&f, 3, 3);	/* renewal at 1 s sees the epoch go back */
	ck_assert_int_eq(f.nlost, 1);
	ck_assert_ptr_nonnull(strstr(f.why, "rebooted"));
	ck_assert_int_eq(f.nmapped, 2);
	portmap_natpmp_stop(&c, 1);
	fake_free(&f);
}
END_TEST

/* No server on port 5351: the ICMP port unreachable ends it at once. */
START_TEST(test_unreachable_fails_fast)
{
	for (int natpmp = 0; natpmp <= 1; natpmp++) {
		struct fake		f;
		struct portmap_pcp	c;
		struct portmap_natpmp	n;
		double			t0 = ev_time();

		fake_init(&f, natpmp ? NP_GOOD : PCP_GOOD, 0);
		if (natpmp)
			np_run(&f, &n, 3600);
		else
			pcp_run(&f, &c, 3600);
		fake_run(&f, 5, 1);
		ck_assert_int_eq(f.nfailed, 1);
		ck_assert_ptr_nonnull(strstr(f.why, "unreachable"));
		ck_assert(ev_time() - t0 < 1.0);
		if (natpmp)
			portmap_natpmp_stop(&n, 1);
		else
			portmap_pcp_stop(&c, 1);
		fake_free(&f);
	}
}
END_TEST

/* --- the whole layer: announcements ------------------------------------------ */

static void
core_mapped(void *arg, const struct portmap_mapping *m)
{
	struct fake *f = arg;

	f->nmapped++;
	f->m = *m;
	fake_event(f);
}

static void
core_lost(void *arg, enum portmap_proto p, const char *why)
{
	struct fake *f = arg;

	(void)p;
	f->nlost++;
	snprintf(f->why, sizeof(f->why), "%s", why);
	fake_event(f);
}

static void
core_failed(void *arg, enum portmap_proto p, const char *why)
{
	core_lost(arg, p, why);
	((struct fake *)arg)->nlost--;
	((struct fake *)arg)->nfailed++;
}

/*
 * A PCP ANNOUNCE from the gateway makes the holder renew at once (the
 * answer's epoch then shows the reboot); one from another address is
 * ignored.
 */
START_TEST(test_announce_renews)
{
	static const struct portmap_cb cb = {
		core_mapped, core_lost, core_failed
	};
	struct fake		f;
	struct portmap		pm;
	struct sockaddr_in	to;
	uint8_t			b[24];
	int			other;

	fake_init(&f, PCP_REBOOT, 1);
	portmap_init(&pm);
	portmap_set_gateway(&pm, f.addr);
	pm.ann_port = free_udp_port();
	ck_assert_int_eq(portmap_start(&pm, f.loop, 7777, PORTMAP_PCP, &cb,
	    &f), 0);
	fake_run(&f, 3, 1);
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_int_eq(f.nreq, 1);

	memset(b, 0, sizeof(b));
	b[0] = 2;
	b[1] = 0x80;			/* ANNOUNCE response */
	wire_put32(b + 8, 3);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(pm.ann_port);
	other = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(sendto(other, b, sizeof(b), 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(b));
	close(other);
	fake_run(&f, 0.5, 99);
	ck_assert_int_eq(f.nreq, 1);	/* a stranger's: no renewal */

	ck_assert_int_eq(sendto(f.fd, b, sizeof(b), 0,
	    (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(b));
	fake_run(&f, 1, 3);
	ck_assert_int_eq(f.nreq, 2);
	ck_assert_int_eq(f.nlost, 1);
	ck_assert_ptr_nonnull(strstr(f.why, "rebooted"));
	ck_assert_int_eq(f.nmapped, 2);
	portmap_stop(&pm);
	fake_free(&f);
}
END_TEST

/*
 * Auto mode against a NAT-PMP-only gateway: PCP gets a version-0 answer,
 * NAT-PMP is asked next and maps. Auto also starts UPnP, whose SSDP search
 * is multicast: the test runs in a network namespace of its own (check
 * forks each test) with only loopback, so nothing leaves it; without the
 * privilege for one it is skipped.
 */
START_TEST(test_auto_falls_back_to_natpmp)
{
	static const struct portmap_cb cb = {
		core_mapped, core_lost, core_failed
	};
	struct fake		f;
	struct portmap		pm;
	struct portmap_status	st;
	struct ifreq		ifr;
	int			s;

	if (unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr, "test_auto_falls_back_to_natpmp: skipped "
		    "(no network namespace: %s)\n", strerror(errno));
		return;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);

	fake_init(&f, PCP_V0, 1);
	portmap_init(&pm);
	portmap_set_gateway(&pm, f.addr);
	pm.ann_port = free_udp_port();
	ck_assert_int_eq(portmap_start(&pm, f.loop, 7777, PORTMAP_AUTO, &cb,
	    &f), 0);
	fake_run(&f, 5, 2);		/* pcp failed, natpmp mapped */
	ck_assert_int_eq(f.nmapped, 1);
	ck_assert_int_eq(f.m.proto, PORTMAP_P_NATPMP);
	portmap_status(&pm, &st);
	ck_assert_int_eq(st.mapped, 1);
	ck_assert_int_eq(st.proto[PORTMAP_P_PCP].state, PORTMAP_S_FAILED);
	ck_assert_ptr_nonnull(strstr(st.proto[PORTMAP_P_PCP].reason,
	    "version 0"));
	ck_assert_int_eq(st.proto[PORTMAP_P_NATPMP].state, PORTMAP_S_MAPPED);
	ck_assert(st.renew_in > 1700 && st.renew_in <= 1800);
	portmap_stop(&pm);
	fake_free(&f);
}
END_TEST

Suite *
portmap_suite(void)
{
	Suite	*s = suite_create("portmap");
	TCase	*tc = tcase_create("codec");
	TCase	*tg = tcase_create("fakegw");

	tcase_add_test(tc, test_mode_parse);
	tcase_add_test(tc, test_gateway_parse);
	tcase_add_test(tc, test_pcp_request);
	tcase_add_test(tc, test_pcp_parse_hostile);
	tcase_add_test(tc, test_timings);
	tcase_add_test(tc, test_epoch_fake_clock);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tg, 20);
	tcase_add_test(tg, test_pcp_good_and_delete);
	tcase_add_test(tg, test_pcp_truncated_then_good);
	tcase_add_test(tg, test_pcp_other_nonce_ignored);
	tcase_add_test(tg, test_pcp_refusals);
	tcase_add_test(tg, test_pcp_other_port);
	tcase_add_test(tg, test_pcp_renewal);
	tcase_add_test(tg, test_pcp_epoch_reboot);
	tcase_add_test(tg, test_natpmp_good_and_delete);
	tcase_add_test(tg, test_natpmp_hostile);
	tcase_add_test(tg, test_natpmp_other_port_and_reboot);
	tcase_add_test(tg, test_unreachable_fails_fast);
	tcase_add_test(tg, test_announce_renews);
	tcase_add_test(tg, test_auto_falls_back_to_natpmp);
	suite_add_tcase(s, tg);
	return s;
}
