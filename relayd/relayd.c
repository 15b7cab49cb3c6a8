/*
 * relayd: WebSocket relay for Atmosphere nodes. Clients that join the same
 * session (GET /v1/relay/SESSION, alias /mesh/SESSION) get each other's
 * binary frames; /health and /metrics answer plain HTTP; the IPC socket
 * answers status.get, session.list and session.kick.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/ssl.h>
#include <sodium.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/startup.h"
#include "relayd/relayd.h"

#define RELAYD_STR(x)	#x
#define RELAYD_XSTR(x)	RELAYD_STR(x)

static struct startup	 startup;
static struct tokencli	 issue;		/* --issue-token, --issue-access */

static const struct startup_flag relayd_flags[] = {
	{ "listen", 'l', "ADDR", "listen", NULL, NULL,
	    "listen address (relayd.listen, default: all)" },
	{ "port", 'p', "PORT", "port", NULL, NULL, "TCP port (relayd.port, "
	    "default " RELAYD_XSTR(RELAYD_DEFAULT_PORT) "; 0 picks one)" },
	{ "open", 0, NULL, "open", "yes", NULL,
	    "allow sessions without a token (relayd.open=yes)" },
	{ "tls-cert", 0, "FILE", "tls_cert", NULL, NULL,
	    "serve wss:// with this PEM chain (relayd.tls_cert)" },
	{ "tls-key", 0, "FILE", "tls_key", NULL, NULL,
	    "and this key (relayd.tls_key)" },
	{ "issue-token", 0, "SESSION", NULL, NULL, &issue.session,
	    "print a session token for SESSION and exit" },
	{ "issue-access", 0, NULL, NULL, "any", &issue.access,
	    "print an access token (every session) and exit" },
	{ "prefix", 0, "P", NULL, NULL, &issue.prefix,
	    "with --issue-access: sessions starting with P only" },
	{ "ttl", 0, "DURATION", NULL, NULL, &issue.ttl,
	    "lifetime (default 24h, access 30d; e.g. 90s, 12h, 90d)" },
	{ "key-id", 0, "N", NULL, NULL, &issue.kid,
	    "make it with key N (default: the highest id)" },
};

static const struct startup_prog relayd_prog = {
	.name = "relayd",
	.synopsis =
"              [-l address] [-p port] [--open] [--tls-cert file --tls-key file]\n"
"       relayd [-f config] --issue-token SESSION [--ttl duration] [--key-id N]\n"
"       relayd [-f config] --issue-access [--prefix P] [--ttl duration]\n"
"              [--key-id N]",
	.about =
"WebSocket relay for Atmosphere nodes: the clients of one session get each\n"
"other's binary frames; /health and /metrics answer plain HTTP.",
	.example = "relayd.max_clients=1000",
	.table = &relayd_conf_table,
	.flags = relayd_flags,
	.nflags = sizeof(relayd_flags) / sizeof(relayd_flags[0]),
};

static void
relayd_stop(void *arg)
{
	struct relayd *rd = arg;

	daemon_stopping(&rd->dctx);
	listener_shutdown(rd);
}

/* (Re)open web_root: a directory that is not there is a warning (the
 * relay works without its page), never fatal */
static void
relayd_web_open(struct relayd *rd)
{
	const char *path = rd->conf.web_root[0] != '\0' ? rd->conf.web_root :
	    RELAYD_WEB_ROOT;

	web_root_close(&rd->web);
	if (!rd->conf.web)
		return;
	if (web_root_open(&rd->web, path) == -1)
		log_warn("web: cannot open web_root %s, / answers 404 (build "
		    "the page: make web; or set [relayd] web = no)", path);
	else
		log_info("web: serving %s", path);
}

static void
relayd_reload(void *arg)
{
	struct relayd		*rd = arg;
	struct relayd_conf	 n;
	struct relayd_conn	*c;
	SSL_CTX			*tls = NULL;
	char			 err[512];

	if (startup_reload(&startup, &n, &rd->conf) == -1)
		return;
	if ((n.tls_cert[0] != '\0') != (rd->tls != NULL)) {
		log_notice("relayd.tls_cert changed in %s: turning TLS on or "
		    "off takes effect at restart, the running value is kept",
		    startup.cfgpath);
		strlcpy(n.tls_cert, rd->conf.tls_cert, sizeof(n.tls_cert));
		strlcpy(n.tls_key, rd->conf.tls_key, sizeof(n.tls_key));
	}
	if (rd->tls != NULL) {
		if ((tls = tls_ctx_new(n.tls_cert, n.tls_key, err,
		    sizeof(err))) == NULL) {
			log_errorx("reload refused, keeping the running "
			    "configuration: %s", err);
			explicit_bzero(&n, sizeof(n));
			return;
		}
		/* connections hold a reference to the old context */
		tls_ctx_free(rd->tls);
		rd->tls = tls;
	}
	rd->conf = n;
	explicit_bzero(&n, sizeof(n));
	TAILQ_FOREACH(c, &rd->clients, entry)
		if (c->ws != NULL)
			ws_configure(c);
	iplimit_reconf(rd);
	relayd_web_open(rd);
	log_info("configuration reloaded");
}

static void
relayd_nofile(void)
{
	struct rlimit rl;

	/* every client is a descriptor: take all the kernel allows us */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_debug("descriptor limit %llu",
		    (unsigned long long)rl.rlim_cur);
}

int
main(int argc, char *argv[])
{
	struct relayd	 rd;
	char		 sock[PATH_MAX], err[512];

	memset(&rd, 0, sizeof(rd));
	rd.lfd = -1;
	rd.web.dirfd = -1;
	startup_args(&startup, &relayd_prog, argc, argv);
	if (sodium_init() == -1)
		startup_exit(&startup, STARTUP_EXIT_FAIL, "libsodium "
		    "initialisation failed");
	startup_config(&startup, &rd.conf);
	if (tokencli_wanted(&issue)) {
		startup_fini(&startup);
		return tokencli_issue(&rd.conf, &issue);
	}
	if (rd.conf.tls_cert[0] != '\0' && (rd.tls = tls_ctx_new(
	    rd.conf.tls_cert, rd.conf.tls_key, err, sizeof(err))) == NULL)
		startup_exit(&startup, STARTUP_EXIT_FAIL, "%s", err);
	if (startup.check)
		tls_ctx_free(rd.tls);
	startup_checked(&startup);
	if (startup_socket(&startup, &rd.conf, sock, sizeof(sock)) == -1)
		exit(STARTUP_EXIT_FAIL);
	if (rd.conf.open)
		log_warnx("open mode: sessions need no token");
	relayd_nofile();

	rd.loop = EV_DEFAULT;
	daemon_init(&rd.dctx, rd.loop, relayd_stop, relayd_reload, &rd);
	TAILQ_INIT(&rd.clients);
	if ((rd.sessions = session_table_new()) == NULL ||
	    (rd.ips = iplimit_new(&rd, connio_update)) == NULL)
		fatal("out of memory");
	if (listener_open(&rd) == -1)
		startup_exit(&startup, STARTUP_EXIT_FAIL, "cannot listen");
	if (control_init(&rd, sock) == -1)
		startup_exit(&startup, STARTUP_EXIT_FAIL, "cannot open the IPC "
		    "socket %s", sock);

	relayd_web_open(&rd);
	daemon_ready(&rd.dctx, "relaying on port %d", rd.port);
	ev_run(rd.loop, 0);

	control_fini(&rd);
	listener_close(&rd);
	web_root_close(&rd.web);
	session_table_free(rd.sessions);
	iplimit_free(rd.ips);
	tls_ctx_free(rd.tls);
	wsio_fini(&rd);
	daemon_fini(&rd.dctx);
	startup_fini(&startup);
	explicit_bzero(&rd.conf, sizeof(rd.conf));
	log_info("terminating");
	return STARTUP_EXIT_OK;
}
