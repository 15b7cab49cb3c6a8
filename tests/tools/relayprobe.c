/*
 * relayprobe: a scriptable relay client for the integration tests.
 *
 *   relayprobe [-k] [-C ca] [-s session] [-t token [-q]] [-m echo|ping]
 *              [-n replies] [-i interval_ms] [-T timeout_s] [-1]
 *              [-P ping_s] [-D dead_s] [-B backoff_min_s] [-R primary_retry_s]
 *              [-W connect_timeout_s]
 *              URL[,region] ...
 *
 * Prints one line per event on stdout, flushed at once, for the scripts to
 * wait on:
 *   state connecting|connected|backoff|idle URL
 *   control welcome|joined|left ID COUNT
 *   rx SEQ            (ping mode: a reply came back)
 * echo mode answers every data frame 'P...' with 'R...'; ping mode sends
 * 'P' SEQ every interval while connected and exits 0 after -n replies.
 * -1 exits at the first failure (1) or connection (0): for TLS checks.
 * -T exits 1 after that many seconds. -q puts the token in the query.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "common/relay_client.h"

#define MAXURLS	8

static struct relay_client *rc;
static int mode_ping, once;
static unsigned long want, got, seq;
static ev_timer tick, deadline;

static void
on_state(void *arg, enum relay_client_state s, const char *url)
{
	(void)arg;
	printf("state %s %s\n", relay_client_state_str(s), url ? url : "-");
	if (once && s == RELAY_CLIENT_CONNECTED)
		exit(0);
	if (once && s == RELAY_CLIENT_BACKOFF)
		exit(1);
}

static void
on_frame(void *arg, const void *data, size_t len)
{
	static const char *ev[] = { "?", "welcome", "joined", "left" };
	const unsigned char *p = data;
	char buf[64];

	(void)arg;
	if (len == 0)
		return;
	if (p[0] == 0xF0 && len >= 12) {
		printf("control %s %u %u\n", p[2] <= 3 ? ev[p[2]] : "?",
		    (unsigned)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7],
		    (unsigned)p[8] << 8 | p[9]);
		return;
	}
	if (p[0] == 'P' && !mode_ping) {
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, data, len);
		buf[0] = 'R';
		relay_client_send(rc, buf, len);
	} else if (p[0] == 'R' && mode_ping) {
		snprintf(buf, sizeof(buf), "%.*s", (int)len - 1, p + 1);
		printf("rx %s\n", buf);
		if (++got >= want)
			exit(0);
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char buf[32];
	int n;

	(void)loop;
	(void)w;
	(void)revents;
	if (relay_client_state(rc) != RELAY_CLIENT_CONNECTED)
		return;
	n = snprintf(buf, sizeof(buf), "P%lu", ++seq);
	if (relay_client_send(rc, buf, n) == -1)
		fprintf(stderr, "send: %s\n", strerror(errno));
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	printf("timeout\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct relay_client_cfg cfg;
	struct relay_client_url urls[MAXURLS];
	struct ev_loop *loop = EV_DEFAULT;
	double interval = 0.1, timeout = 0;
	int ch, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("relayprobe", LOG_LVL_INFO);
	memset(&cfg, 0, sizeof(cfg));
	while ((ch = getopt(argc, argv, "1B:C:D:i:km:n:P:qR:s:t:T:W:")) != -1) {
		switch (ch) {
		case '1': once = 1; break;
		case 'B': cfg.backoff_min = atof(optarg); break;
		case 'C': cfg.ca_file = optarg; break;
		case 'D': cfg.dead_after = atof(optarg); break;
		case 'i': interval = atof(optarg) / 1000; break;
		case 'k': cfg.insecure = 1; break;
		case 'm': mode_ping = strcmp(optarg, "ping") == 0; break;
		case 'n': want = strtoul(optarg, NULL, 10); break;
		case 'P': cfg.ping_interval = atof(optarg); break;
		case 'q': cfg.token_mode = RELAY_CLIENT_TOKEN_QUERY; break;
		case 'R': cfg.primary_retry = atof(optarg); break;
		case 's': cfg.session = optarg; break;
		case 't': cfg.token = optarg; break;
		case 'T': timeout = atof(optarg); break;
		case 'W': cfg.connect_timeout = atof(optarg); break;
		default:
			fprintf(stderr, "usage: see the top of relayprobe.c\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > MAXURLS) {
		fprintf(stderr, "relayprobe: 1 to %d URLs\n", MAXURLS);
		return 2;
	}
	for (i = 0; i < argc; i++) {
		char *comma = strchr(argv[i], ',');
		if (comma != NULL)
			*comma++ = '\0';
		urls[i].url = argv[i];
		urls[i].region = comma;
	}
	cfg.urls = urls;
	cfg.nurls = argc;
	cfg.on_state = on_state;
	cfg.on_frame = on_frame;
	if (want == 0)
		want = 1;
	if ((rc = relay_client_new(loop, &cfg)) == NULL) {
		fprintf(stderr, "relayprobe: bad configuration\n");
		return 2;
	}
	if (mode_ping) {
		ev_timer_init(&tick, tick_cb, interval, interval);
		ev_timer_start(loop, &tick);
	}
	if (timeout > 0) {
		ev_timer_init(&deadline, deadline_cb, timeout, 0);
		ev_timer_start(loop, &deadline);
	}
	relay_client_start(rc);
	ev_run(loop, 0);
	relay_client_free(rc);
	return 0;
}
