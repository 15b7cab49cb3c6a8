/*
 * relayd: WebSocket relay for Atmosphere nodes. Clients that join the same
 * session (GET /v1/relay/SESSION, alias /mesh/SESSION) get each other's
 * binary frames; /health and /metrics answer plain HTTP; the IPC socket
 * answers status.get, session.list and session.kick.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/ssl.h>
#include <sodium.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/paths.h"
#include "proto/token.h"
#include "relayd/http.h"
#include "relayd/relayd.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: relayd [-nqv] [-f config] [-l address] [-p port] [--open]\n"
	    "              [-o section.key=value] [-s socket]\n"
	    "              [--tls-cert file --tls-key file]\n"
	    "       relayd [-f config] --issue-token SESSION [--ttl duration]\n"
	    "              [--key-id N]\n"
	    "       relayd [-f config] --issue-access [--prefix P] [--ttl duration]\n"
	    "              [--key-id N]\n"
	    "  -f, --config FILE     INI file (default $ATMOSPHERE_CONFIG or\n"
	    "                        /etc/atmosphere/atmosphere.conf)\n"
	    "  -l, --listen ADDR     listen address (default: all)\n"
	    "  -p, --port PORT       TCP port (default %d; 0 picks one)\n"
	    "      --open            allow sessions without a token\n"
	    "  -o KEY=VALUE          set a [relayd] key (--help-config lists)\n"
	    "  -s, --socket PATH     IPC socket\n"
	    "      --tls-cert FILE   serve wss:// with this PEM chain\n"
	    "      --tls-key FILE    and this key\n"
	    "  -n                    check the configuration and exit\n"
	    "  -v, -q                more, less logging\n"
	    "      --issue-token S   print a token for session S and exit\n"
	    "      --issue-access    print an access token (any session, or\n"
	    "                        with --prefix P the names starting P)\n"
	    "      --ttl DURATION    token lifetime (default 24h, access 30d)\n"
	    "      --key-id N        issue with key N (default: highest id)\n"
	    "      --help-config     list the [relayd] configuration keys\n",
	    RELAYD_DEFAULT_PORT);
}

static void
relayd_stop(void *arg)
{
	struct relayd *rd = arg;

	daemon_stopping(&rd->dctx);
	listener_shutdown(rd);
}

static void
relayd_reload(void *arg)
{
	struct relayd		*rd = arg;
	struct relayd_conf	 n;
	struct relayd_conn	*c;
	SSL_CTX			*tls = NULL;
	char			 err[512];

	if (relayd_conf_load(&n, rd->conf_path, rd->conf_optional,
	    rd->overrides, rd->noverrides, err, sizeof(err)) == -1) {
		log_warnx("reload refused, keeping the running configuration: "
		    "%s", err);
		return;
	}
	if (strcmp(n.listen, rd->conf.listen) != 0 || n.port != rd->conf.port ||
	    strcmp(n.socket, rd->conf.socket) != 0 ||
	    (n.tls_cert[0] != '\0') != (rd->tls != NULL))
		log_warnx("reload: listen, port, socket and turning TLS on or "
		    "off take a restart; other changes apply");
	if (rd->tls != NULL && n.tls_cert[0] != '\0') {
		if ((tls = tls_ctx_new(n.tls_cert, n.tls_key, err,
		    sizeof(err))) == NULL) {
			log_warnx("reload refused: %s", err);
			explicit_bzero(&n, sizeof(n));
			return;
		}
		/* connections hold a reference to the old context */
		tls_ctx_free(rd->tls);
		rd->tls = tls;
	}
	strlcpy(n.listen, rd->conf.listen, sizeof(n.listen));
	n.port = rd->conf.port;
	strlcpy(n.socket, rd->conf.socket, sizeof(n.socket));
	rd->conf = n;
	explicit_bzero(&n, sizeof(n));
	TAILQ_FOREACH(c, &rd->clients, entry)
		if (c->ws != NULL)
			ws_configure(c);
	iplimit_reconf(rd);
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

static void
relayd_free_overrides(struct relayd *rd)
{
	while (rd->noverrides > 0)
		free(rd->overrides[--rd->noverrides]);
	free(rd->overrides);
	rd->overrides = NULL;
}

static void
relayd_override(struct relayd *rd, const char *fmt, const char *v)
{
	char *s;

	if (asprintf(&s, fmt, v) == -1)
		fatal("asprintf");
	rd->overrides[rd->noverrides++] = s;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "help-config", no_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "open", no_argument, NULL, 'O' },
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "issue-token", required_argument, NULL, 'I' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "issue-access", no_argument, NULL, 'A' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "key-id", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct relayd	 rd;
	char		 cfgpath[PATH_MAX], sock[PATH_MAX], err[512];
	struct tokencli	 issue = { 0 };
	int		 ch, checkonly = 0;

	log_init("relayd", LOG_LVL_INFO);
	memset(&rd, 0, sizeof(rd));
	rd.lfd = -1;
	if ((rd.overrides = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		fatal("calloc");
	while ((ch = getopt_long(argc, argv, "f:l:no:p:qs:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f': rd.conf_path = optarg; break;
		case 'l': relayd_override(&rd, "relayd.listen=%s", optarg);
			break;
		case 'p': relayd_override(&rd, "relayd.port=%s", optarg); break;
		case 'O': relayd_override(&rd, "relayd.open=%s", "yes"); break;
		case 's': relayd_override(&rd, "relayd.socket=%s", optarg);
			break;
		case 'C': relayd_override(&rd, "relayd.tls_cert=%s", optarg);
			break;
		case 'K': relayd_override(&rd, "relayd.tls_key=%s", optarg);
			break;
		case 'o': relayd_override(&rd, "%s", optarg); break;
		case 'n': checkonly = 1; break;
		case 'v': log_verbose(1); break;
		case 'q': log_verbose(-1); break;
		case 'I': issue.session = optarg; break;
		case 'T': issue.ttl = optarg; break;
		case 'A': issue.access = 1; break;
		case 'P': issue.prefix = optarg; break;
		case 'k': issue.kid = optarg; break;
		case 'h': usage(stdout); relayd_free_overrides(&rd); return 0;
		case 'H': relayd_conf_print_keys(); relayd_free_overrides(&rd);
			return 0;
		default: usage(stderr); relayd_free_overrides(&rd); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		relayd_free_overrides(&rd);
		return 2;
	}
	if (sodium_init() == -1)
		fatalx("libsodium initialisation failed");
	if (rd.conf_path == NULL) {
		if (paths_config_file(cfgpath, sizeof(cfgpath)) == -1)
			fatalx("configuration path too long");
		rd.conf_path = cfgpath;
		rd.conf_optional = 1;
	}
	if (relayd_conf_load(&rd.conf, rd.conf_path, rd.conf_optional,
	    rd.overrides, rd.noverrides, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (tokencli_wanted(&issue)) {
		relayd_free_overrides(&rd);
		return tokencli_issue(&rd.conf, &issue);
	}
	if (rd.conf.tls_cert[0] != '\0' && (rd.tls = tls_ctx_new(
	    rd.conf.tls_cert, rd.conf.tls_key, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (checkonly) {
		tls_ctx_free(rd.tls);
		relayd_free_overrides(&rd);
		printf("configuration OK\n");
		return 0;
	}
	if (rd.conf.open)
		log_warnx("open mode: sessions need no token");
	relayd_nofile();

	rd.loop = EV_DEFAULT;
	daemon_init(&rd.dctx, rd.loop, relayd_stop, relayd_reload, &rd);
	TAILQ_INIT(&rd.clients);
	if ((rd.sessions = session_table_new()) == NULL ||
	    (rd.ips = iplimit_new(&rd)) == NULL)
		fatal("out of memory");
	if (listener_open(&rd) == -1)
		fatalx("cannot listen");
	if (rd.conf.socket[0] != '\0')
		strlcpy(sock, rd.conf.socket, sizeof(sock));
	else if (paths_socket("relayd", sock, sizeof(sock)) == -1)
		fatalx("IPC socket path too long");
	if (control_init(&rd, sock) == -1)
		fatalx("cannot open the IPC socket %s", sock);

	daemon_ready(&rd.dctx, "relaying on port %d", rd.port);
	ev_run(rd.loop, 0);

	control_fini(&rd);
	listener_close(&rd);
	session_table_free(rd.sessions);
	iplimit_free(rd.ips);
	tls_ctx_free(rd.tls);
	wsio_fini(&rd);
	daemon_fini(&rd.dctx);
	relayd_free_overrides(&rd);
	explicit_bzero(&rd.conf, sizeof(rd.conf));
	log_info("terminating");
	return 0;
}
