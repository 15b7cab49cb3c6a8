/*
 * meshctl relay-test URL: the relay smoke test. Two relay clients join the
 * same session through URL, then
 *
 *   1. sync:       A sends 'S' every 100 ms until B answers 's' (both are
 *                  in the session; works with or without relayd's CONTROL)
 *   2. round trip: A sends `count` 64-byte 'P' frames one at a time, B
 *                  echoes each as 'R'; min / median / p99 of the round trip
 *   3. throughput: A streams `bytes` in frames of `size` bytes ('D'), at
 *                  most RT_WINDOW bytes ahead of B, then 'E'; B times arrival
 *
 * Frames start with a letter, below 0xF0, so relayd forwards them as DATA
 * (proto/relaymsg.h); relayd's own CONTROL frames are ignored here.
 * Both clients run in this process on one loop: the figures include the
 * client's cost, which is what punchd will pay too.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <jansson.h>

#include "common/relay_client.h"
#include "meshctl/meshctl.h"

#define RT_PING_LEN	64
#define RT_PING_WAIT	2.0	/* s before a round trip counts as lost */
#define RT_SYNC_EVERY	0.1
/*
 * Bytes A may have on the way to B. relayd drops frames for a receiver whose
 * queue is over its sendq_max (1 MiB by default) rather than slowing the
 * sender, so an unpaced sender measures drops, not the relay. B lives in
 * this process, so A simply looks at B's count.
 */
#define RT_WINDOW	(512u << 10)

enum rt_phase { RT_CONNECT, RT_SYNC, RT_PING, RT_THRU, RT_DONE };

struct rt_peer {
	struct rt		*rt;
	struct relay_client	*rc;
	double			 connect_s;	/* start to CONNECTED */
};

struct rt {
	struct ev_loop	*loop;
	struct rt_peer	 a, b;
	enum rt_phase	 phase;
	ev_timer	 timer;		/* sync resend, ping loss */
	ev_timer	 deadline;
	double		 t0;
	unsigned	 count;
	size_t		 size;
	uint64_t	 bytes;
	const char	*err;

	double		*rtt;
	unsigned	 nrtt, lost, seq;
	double		 ping_sent;

	unsigned char	*frame;
	uint64_t	 nframes, sent, rx_frames, rx_bytes, sent_bytes;
	int		 end_sent;
	double		 thru_start, thru_last;
};

#include "common/util.h"

static void
rt_finish(struct rt *rt, const char *err)
{
	if (rt->phase == RT_DONE)
		return;
	rt->err = err;
	rt->phase = RT_DONE;
	ev_break(rt->loop, EVBREAK_ALL);
}

static void
rt_send_ping(struct rt *rt)
{
	unsigned char buf[RT_PING_LEN];

	memset(buf, 0, sizeof(buf));
	buf[0] = 'P';
	rt->seq++;
	memcpy(buf + 1, &rt->seq, sizeof(rt->seq));
	rt->ping_sent = ev_time();
	if (relay_client_send(rt->a.rc, buf, sizeof(buf)) == -1) {
		rt_finish(rt, "send failed");
		return;
	}
	ev_timer_stop(rt->loop, &rt->timer);
	ev_timer_set(&rt->timer, RT_PING_WAIT, 0);
	ev_timer_start(rt->loop, &rt->timer);
}

/* Queue data frames until the client pushes back; on_drain resumes. */
static void
rt_pump(struct rt *rt)
{
	while (rt->sent < rt->nframes) {
		if (rt->sent_bytes - rt->rx_bytes + rt->size > RT_WINDOW &&
		    rt->sent_bytes > rt->rx_bytes)
			return;		/* B's frames call us again */
		memcpy(rt->frame + 1, &rt->sent, sizeof(rt->sent));
		if (relay_client_send(rt->a.rc, rt->frame, rt->size) == -1) {
			if (errno != ENOBUFS)
				rt_finish(rt, "send failed");
			return;
		}
		rt->sent++;
		rt->sent_bytes += rt->size;
	}
	if (!rt->end_sent && relay_client_send(rt->a.rc, "E", 1) == 0)
		rt->end_sent = 1;
}

static void
rt_next_phase(struct rt *rt)
{
	ev_timer_stop(rt->loop, &rt->timer);
	if (rt->phase == RT_SYNC && rt->count > 0) {
		rt->phase = RT_PING;
		rt_send_ping(rt);
		return;
	}
	if (rt->phase <= RT_PING && rt->nframes > 0) {
		rt->phase = RT_THRU;
		rt->thru_start = ev_time();
		rt_pump(rt);
		return;
	}
	rt_finish(rt, NULL);
}

static void
rt_on_state(void *arg, enum relay_client_state s, const char *url)
{
	struct rt_peer *p = arg;
	struct rt *rt = p->rt;

	(void)url;
	if (s == RELAY_CLIENT_BACKOFF || s == RELAY_CLIENT_IDLE) {
		rt_finish(rt, rt->phase == RT_CONNECT ?
		    "cannot connect to the relay" : "relay connection lost");
		return;
	}
	if (s != RELAY_CLIENT_CONNECTED)
		return;
	p->connect_s = ev_time() - rt->t0;
	if (rt->phase == RT_CONNECT &&
	    relay_client_state(rt->a.rc) == RELAY_CLIENT_CONNECTED &&
	    relay_client_state(rt->b.rc) == RELAY_CLIENT_CONNECTED) {
		rt->phase = RT_SYNC;
		relay_client_send(rt->a.rc, "S", 1);
		ev_timer_set(&rt->timer, RT_SYNC_EVERY, RT_SYNC_EVERY);
		ev_timer_start(rt->loop, &rt->timer);
	}
}

static void
rt_on_frame_b(void *arg, const void *data, size_t len)
{
	struct rt *rt = ((struct rt_peer *)arg)->rt;
	unsigned char buf[RT_PING_LEN];
	const unsigned char *p = data;

	if (len == 0)
		return;
	switch (p[0]) {
	case 'S':
		relay_client_send(rt->b.rc, "s", 1);
		break;
	case 'P':
		if (len != RT_PING_LEN)
			break;
		memcpy(buf, data, len);
		buf[0] = 'R';
		relay_client_send(rt->b.rc, buf, len);
		break;
	case 'D':
		rt->rx_frames++;
		rt->rx_bytes += len;
		rt->thru_last = ev_time();
		if (rt->phase == RT_THRU && rt->sent < rt->nframes &&
		    rt->sent_bytes - rt->rx_bytes <= RT_WINDOW / 2)
			rt_pump(rt);
		break;
	case 'E':
		if (rt->phase == RT_THRU)
			rt_next_phase(rt);
		break;
	}
}

static void
rt_on_frame_a(void *arg, const void *data, size_t len)
{
	struct rt *rt = ((struct rt_peer *)arg)->rt;
	const unsigned char *p = data;
	unsigned seq;

	if (len == 0)
		return;
	if (p[0] == 's' && rt->phase == RT_SYNC)
		rt_next_phase(rt);
	else if (p[0] == 'R' && rt->phase == RT_PING && len == RT_PING_LEN) {
		memcpy(&seq, p + 1, sizeof(seq));
		if (seq != rt->seq)
			return;		/* late answer to a lost one */
		rt->rtt[rt->nrtt++] = ev_time() - rt->ping_sent;
		if (rt->nrtt + rt->lost >= rt->count)
			rt_next_phase(rt);
		else
			rt_send_ping(rt);
	}
}

static void
rt_on_drain(void *arg)
{
	struct rt *rt = ((struct rt_peer *)arg)->rt;

	if (rt->phase == RT_THRU)
		rt_pump(rt);
}

static void
rt_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rt *rt = container_of(w, struct rt, timer);

	(void)loop;
	(void)revents;
	if (rt->phase == RT_SYNC)
		relay_client_send(rt->a.rc, "S", 1);
	else if (rt->phase == RT_PING) {
		if (++rt->lost + rt->nrtt >= rt->count)
			rt_next_phase(rt);
		else
			rt_send_ping(rt);
	}
}

static void
rt_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rt *rt = container_of(w, struct rt, deadline);
	static const char *why[] = {
		"timed out connecting", "timed out: the two clients never met "
		"(different relays? sessions?)", "timed out in the round trips",
		"timed out in the throughput run", "",
	};

	(void)loop;
	(void)revents;
	rt_finish(rt, why[rt->phase]);
}

static int
rt_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static double
rt_pct(const double *v, unsigned n, double pct)
{
	unsigned i = (unsigned)ceil(pct / 100 * n);

	return v[i == 0 ? 0 : i - 1];
}

static void
rt_report(struct rt *rt, const char *url, const char *session, int json)
{
	double secs = rt->thru_last - rt->thru_start;
	double mbs = secs > 0 ? rt->rx_bytes / secs / 1e6 : 0;
	double mn = 0, med = 0, p99 = 0;

	if (rt->nrtt > 0) {
		qsort(rt->rtt, rt->nrtt, sizeof(double), rt_cmp);
		mn = rt->rtt[0];
		med = rt_pct(rt->rtt, rt->nrtt, 50);
		p99 = rt_pct(rt->rtt, rt->nrtt, 99);
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s?, s:b, s:s?,"
		    " s:{s:o?, s:o?},"
		    " s:{s:i, s:i, s:i, s:f, s:f, s:f},"
		    " s:{s:i, s:I, s:I, s:I, s:f, s:f}}",
		    "url", url, "session", session, "ok", rt->err == NULL,
		    "error", rt->err,
		    "connect_ms",
		    "a", rt->a.connect_s > 0 ? json_real(rt->a.connect_s * 1e3) :
		    NULL,
		    "b", rt->b.connect_s > 0 ? json_real(rt->b.connect_s * 1e3) :
		    NULL,
		    "rtt_ms", "count", (int)rt->count, "frame_size", RT_PING_LEN,
		    "lost", (int)rt->lost, "min", mn * 1e3,
		    "median", med * 1e3, "p99", p99 * 1e3,
		    "throughput", "frame_size", (int)rt->size,
		    "frames_sent", (json_int_t)rt->sent,
		    "frames_received", (json_int_t)rt->rx_frames,
		    "bytes_received", (json_int_t)rt->rx_bytes,
		    "seconds", secs, "mb_per_s", mbs);
		if (o != NULL) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(o);
		}
		return;
	}
	if (session != NULL)
		printf("relay-test %s (session %s)\n", url, session);
	else
		printf("relay-test %s\n", url);
	if (rt->a.connect_s > 0 && rt->b.connect_s > 0)
		printf("  connect     A %.2f ms, B %.2f ms\n",
		    rt->a.connect_s * 1e3, rt->b.connect_s * 1e3);
	if (rt->nrtt > 0)
		printf("  round trip  %u x %d bytes: min %.3f ms, median %.3f "
		    "ms, p99 %.3f ms, %u lost\n", rt->nrtt, RT_PING_LEN,
		    mn * 1e3, med * 1e3, p99 * 1e3, rt->lost);
	if (rt->rx_frames > 0)
		printf("  throughput  %llu x %zu bytes: %.1f MB/s (%.1f MiB in "
		    "%.3f s), %llu of %llu frames lost\n",
		    (unsigned long long)rt->rx_frames, rt->size, mbs,
		    rt->rx_bytes / 1048576.0, secs,
		    (unsigned long long)(rt->sent - rt->rx_frames),
		    (unsigned long long)rt->sent);
	if (rt->err != NULL)
		printf("  FAILED: %s\n", rt->err);
}

static int
rt_url_has_path(const char *url)
{
	const char *p = strstr(url, "://");

	return p != NULL && (p = strchr(p + 3, '/')) != NULL && p[1] != '\0' &&
	    p[1] != '?';
}

static void
rt_usage(FILE *f)
{
	fprintf(f,
"usage: meshctl relay-test URL [--session S] [--token T] [--count N]\n"
"                          [--size BYTES] [--bytes TOTAL] [--ca FILE]\n"
"                          [--insecure] [--timeout SEC] [--json]\n"
"Connects two clients to one session through the relay at URL\n"
"(ws[s]://HOST:PORT, or a full .../v1/relay/ID or .../mesh/ID URL) and\n"
"reports connect time, round trip (N x 64-byte frames, default 100) and\n"
"throughput (TOTAL bytes, default 16 MiB, in BYTES frames, default 1024).\n"
"The session defaults to a random relaytest-XXXXXXXX; --token is the relay\n"
"token for it (sent as Authorization: Bearer).\n");
}

static int
rt_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
cmd_relaytest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "session",	required_argument, NULL, 's' },
		{ "token",	required_argument, NULL, 't' },
		{ "count",	required_argument, NULL, 'n' },
		{ "size",	required_argument, NULL, 'z' },
		{ "bytes",	required_argument, NULL, 'b' },
		{ "ca",		required_argument, NULL, 'C' },
		{ "insecure",	no_argument,	   NULL, 'k' },
		{ "timeout",	required_argument, NULL, 'T' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct relay_client_cfg cfg;
	struct relay_client_url u;
	struct rt rt;
	char sess[32];
	uint64_t v, size = 1024, bytes = 16u << 20, count = 100;
	double timeout = 30;
	int ch, json = meshctl.json, rc;	/* meshctl --json relay-test */

	memset(&cfg, 0, sizeof(cfg));
	memset(&rt, 0, sizeof(rt));
	optind = 0;	/* meshctl's main may have run getopt already */
	while ((ch = getopt_long(argc, argv, "s:t:n:z:b:C:kT:jh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's': cfg.session = optarg; break;
		case 't': cfg.token = optarg; break;
		case 'C': cfg.ca_file = optarg; break;
		case 'k': cfg.insecure = 1; break;
		case 'j': json = 1; break;
		case 'h': rt_usage(stdout); return EXIT_OK;
		case 'T':
			if ((timeout = atof(optarg)) <= 0)
				goto usage;
			break;
		case 'n': case 'z': case 'b':
			if (rt_parse_size(optarg, &v) == -1)
				goto usage;
			if (ch == 'n')
				count = v;
			else if (ch == 'z')
				size = v;
			else
				bytes = v;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1 || count > 1000000 || size < 8 ||
	    size > (1u << 20))
		goto usage;
	if (rt_url_has_path(argv[optind]))
		cfg.session = NULL;	/* the URL names the session */
	else if (cfg.session == NULL) {
		snprintf(sess, sizeof(sess), "relaytest-%08x",
		    arc4random());
		cfg.session = sess;
	}
	u.url = argv[optind];
	u.region = NULL;
	cfg.urls = &u;
	cfg.nurls = 1;
	cfg.on_state = rt_on_state;
	cfg.on_drain = rt_on_drain;
	cfg.connect_timeout = timeout;

	rt.loop = ev_loop_new(EVFLAG_AUTO);
	rt.count = count;
	rt.size = size;
	rt.nframes = (bytes + size - 1) / size;
	if (rt.loop == NULL || (rt.rtt = calloc(count + 1,
	    sizeof(double))) == NULL || (rt.frame = calloc(1, size)) == NULL) {
		fprintf(stderr, "relay-test: out of memory\n");
		return EXIT_FAIL;
	}
	rt.frame[0] = 'D';
	rt.a.rt = rt.b.rt = &rt;
	cfg.arg = &rt.a;
	cfg.on_frame = rt_on_frame_a;
	if ((rt.a.rc = relay_client_new(rt.loop, &cfg)) != NULL) {
		cfg.arg = &rt.b;
		cfg.on_frame = rt_on_frame_b;
		rt.b.rc = relay_client_new(rt.loop, &cfg);
	}
	if (rt.a.rc == NULL || rt.b.rc == NULL) {
		fprintf(stderr, "relay-test: bad URL or TLS settings: %s\n",
		    u.url);
		rc = EXIT_USAGE;
		goto out;
	}
	ev_init(&rt.timer, rt_timer_cb);
	ev_timer_init(&rt.deadline, rt_deadline_cb, timeout, 0);
	ev_timer_start(rt.loop, &rt.deadline);
	rt.t0 = ev_time();
	relay_client_start(rt.a.rc);
	relay_client_start(rt.b.rc);
	ev_run(rt.loop, 0);
	if (rt.err == NULL && rt.rx_frames != rt.sent)
		rt.err = "frames lost in the throughput run";
	if (rt.err == NULL && rt.count > 0 && rt.nrtt == 0)
		rt.err = "every round trip was lost";
	rt_report(&rt, u.url, cfg.session, json);
	rc = rt.err == NULL ? EXIT_OK : EXIT_FAIL;
out:
	ev_timer_stop(rt.loop, &rt.timer);
	ev_timer_stop(rt.loop, &rt.deadline);
	relay_client_free(rt.a.rc);
	relay_client_free(rt.b.rc);
	ev_loop_destroy(rt.loop);
	free(rt.rtt);
	free(rt.frame);
	return rc;
usage:
	rt_usage(stderr);
	return EXIT_USAGE;
}
