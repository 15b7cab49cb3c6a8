/*
 * Logging to stderr with sd-daemon priority prefixes ("<3>", "<6>", ...), so
 * journald keeps the level when a daemon runs under systemd. OpenBSD-style
 * names: log_warn appends strerror(errno), log_warnx does not; fatal/fatalx
 * exit and are meant for start-up, out-of-memory and broken invariants only.
 *
 * Which level: log_error[x] (<3>) when something the daemon was asked to do
 * or needs did not happen and will not until someone acts (a configuration
 * refused, a socket that cannot be bound, a state file thrown away);
 * log_warn[x] (<4>) when it may sort itself out (a server that does not
 * answer, a peer that went quiet); log_notice (<5>) for a normal but
 * significant event worth an operator's eye (a key that needs a restart).
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

/* Levels are syslog priorities: lower is more severe. */
#define LOG_LVL_ERR	3
#define LOG_LVL_WARNING	4
#define LOG_LVL_NOTICE	5
#define LOG_LVL_INFO	6
#define LOG_LVL_DEBUG	7

void	log_init(const char *progname, int level);
void	log_setlevel(int level);
int	log_getlevel(void);
/* -v raises verbosity, -q lowers it: a helper for getopt loops. */
void	log_verbose(int delta);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Rate-limited warning: at most one line per `interval_s` seconds per call
 * site; the number of suppressed lines is reported with the next one.
 */
struct log_ratelimit {
	double		last;
	unsigned long	suppressed;
};
void	log_warnx_rl(struct log_ratelimit *rl, double interval_s,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
