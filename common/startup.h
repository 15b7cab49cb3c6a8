/*
 * How stund, punchd and relayd start: the same flags, the same way to load
 * the configuration, the same exit statuses and the same reload.
 *
 *   -f, --config FILE     the INI file (default paths_config_file(), which
 *                         may be absent; a file given here must exist)
 *   -o section.key=value  override one key; kept and reapplied on SIGHUP
 *   -s, --socket PATH     the IPC socket: -o DAEMON.socket=PATH
 *   -n                    check the configuration, print "configuration OK"
 *   -v / -q               more / less logging
 *   -h, --help            usage;  --help-config[=mdoc]  the keys
 *
 * A daemon adds its own flags with a table: most set one key (punchd's
 * -p PORT is -o punchd.port=PORT), others hand their argument to main
 * (relayd's --issue-token).
 */
#ifndef COMMON_STARTUP_H
#define COMMON_STARTUP_H

#include <stddef.h>
#include <stdnoreturn.h>

/* exit statuses, the same for every daemon (systemd units prevent a
 * restart on 2: a restart cannot fix a file or a command line) */
#define STARTUP_EXIT_OK		0	/* clean exit; -n, -h, --help-config */
#define STARTUP_EXIT_FAIL	1	/* socket, port, state, certificate */
#define STARTUP_EXIT_CONFIG	2	/* usage or configuration error */

struct config_table;

struct startup_flag {
	const char	*name;		/* long option, "port" */
	int		 letter;	/* short option, 'p', or 0 */
	const char	*arg;		/* its argument, "PORT"; NULL: none */
	const char	*key;		/* the key it sets; NULL: *out = arg */
	const char	*value;		/* the value when no argument: "yes" */
	const char	**out;
	const char	*help;		/* '\n' continues on an indented line */
};

struct startup_prog {
	const char		 *name;		/* log, [section], socket */
	const char		 *synopsis;	/* usage lines after the first */
	const char		 *about;	/* what it is, for --help */
	const char		 *example;	/* of -o, "stund.timeout=2s" */
	const struct config_table *table;
	const struct startup_flag *flags;
	size_t			  nflags;
};

struct startup {
	const struct startup_prog *prog;
	char		 cfgpath[1024];
	int		 optional;	/* no -f: the file may be absent */
	char		**overrides;	/* -o and the flags that set keys */
	int		 noverrides;
	int		 check;		/* -n */
};

/* log_init, then the command line; exits on -h, --help-config, bad usage */
void	startup_args(struct startup *st, const struct startup_prog *p,
	    int argc, char *argv[]);
/* first load (defaults, file, overrides, checks); exits 2 with the reason */
void	startup_config(struct startup *st, void *cfg);
/* -n given: "configuration OK" and exit 0; else nothing */
void	startup_checked(struct startup *st);
/* the socket key, else $RUNTIME_DIRECTORY/NAME.sock (directory made); logs */
int	startup_socket(const struct startup *st, const void *cfg, char *buf,
	    size_t len);
/*
 * SIGHUP: the file again with the same overrides into next. Refused: an
 * error line "reload refused, keeping the running configuration: REASON"
 * and -1. Taken: keys read at start-up get their running value back (a
 * notice each) and 0; the caller applies next and says "configuration
 * reloaded".
 */
int	startup_reload(struct startup *st, void *next, const void *running);
/* log_errorx the reason and exit with status */
noreturn void startup_exit(struct startup *st, int status, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
void	startup_fini(struct startup *st);

#endif
