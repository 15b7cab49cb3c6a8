/*
 * meshctl metrics: what every daemon that is up says in status.get (and
 * punchd's peer.list) as Prometheus text on stdout, for scrape scripts;
 * the conversion is the daemons' metrics_file's (common/promtext.h), plus
 * atmosphere_up{daemon="..."} 1 or 0 for each daemon asked.
 */
#include <stdio.h>
#include <string.h>

#include "common/promtext.h"
#include "meshctl.h"

static const char *const metrics_daemons[] = { "stund", "punchd", "relayd" };
#define NDAEMONS	(sizeof(metrics_daemons) / sizeof(metrics_daemons[0]))

static void
metrics_usage(FILE *f)
{
	fprintf(f, "usage: meshctl metrics [stund|punchd|relayd ...]\n");
}

/* One daemon into pt: 0 up, -1 down (err says why). */
static int
metrics_daemon(struct promtext *pt, const char *daemon, int timeout,
    char *err, size_t errlen)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	int		 r = -1;

	err[0] = '\0';
	if ((s = meshctl_connect(daemon, err, errlen)) == NULL)
		return -1;
	memset(&m, 0, sizeof(m));
	if (meshctl_call(s, "status.get", NULL, 0, timeout, &m, err, errlen)
	    == -1)
		goto out;
	if (m.error != NULL) {
		meshctl_errstr(&m, err, errlen);
		goto out;
	}
	if (promtext_status(pt, daemon, m.result) == -1) {
		snprintf(err, errlen, "status.get: unexpected reply");
		goto out;
	}
	r = 0;
	/* per-peer figures: a failure here leaves the daemon's own ones */
	if (!strcmp(daemon, "punchd") && meshctl_call(s, "peer.list", NULL, 0,
	    timeout, &m, err, errlen) == 0 && m.error == NULL)
		promtext_peers(pt, daemon, m.result);
	err[0] = '\0';
out:
	ipc_sync_close(s);
	return r;
}

int
cmd_metrics(int argc, char **argv)
{
	struct promtext	 pt;
	const char	*want[NDAEMONS];
	char		 err[300];
	int		 up[NDAEMONS], i, j, n = 0, nup = 0, named, timeout;

	argc = meshctl_strip_common(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			metrics_usage(stdout);
			printf("\nstatus.get of each daemon (default: all that "
			    "are up) and punchd's peer.list\nin Prometheus "
			    "text exposition format, with atmosphere_up"
			    "{daemon} 1 or 0.\nExit status 3 when no daemon "
			    "answers, or one named here does not.\n");
			return EXIT_OK;
		}
		for (j = 0; j < (int)NDAEMONS; j++)
			if (!strcmp(argv[i], metrics_daemons[j]))
				break;
		if (j == (int)NDAEMONS || n == (int)NDAEMONS) {
			metrics_usage(stderr);
			return EXIT_USAGE;
		}
		want[n++] = metrics_daemons[j];
	}
	named = n > 0;
	if (!named)
		for (n = 0; n < (int)NDAEMONS; n++)
			want[n] = metrics_daemons[n];
	timeout = meshctl.timeout_ms < 2000 ? meshctl.timeout_ms : 2000;
	promtext_init(&pt);
	for (i = 0; i < n; i++) {
		up[i] = metrics_daemon(&pt, want[i], timeout, err,
		    sizeof(err)) == 0;
		nup += up[i];
		/* asked for by name: say why it is missing */
		if (!up[i] && named)
			fprintf(stderr, "meshctl: %s: %s\n", want[i], err);
	}
	for (i = 0; i < n; i++)
		promtext_sample(&pt, "atmosphere_up", "gauge",
		    "1 when the daemon answered status.get", "daemon", want[i],
		    up[i]);
	if (pt.oom) {
		fprintf(stderr, "meshctl: out of memory\n");
		promtext_free(&pt);
		return EXIT_FAIL;
	}
	fwrite(pt.buf, 1, pt.len, stdout);
	promtext_free(&pt);
	if (named)
		return nup == n ? EXIT_OK : EXIT_DOWN;
	return nup > 0 ? EXIT_OK : EXIT_DOWN;
}
