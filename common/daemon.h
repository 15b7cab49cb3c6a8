/*
 * What every daemon's main() shares: signals on the libev default loop
 * (INT/TERM stop, HUP reload, PIPE ignored), systemd notification
 * (READY=1, STATUS=, STOPPING=1, WATCHDOG=1 through libsystemd's sd_notify;
 * silently nothing when not under systemd), and the uptime clock.
 */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <ev.h>

struct daemon_ctx {
	struct ev_loop	*loop;
	ev_signal	 sigint, sigterm, sighup;
	ev_timer	 watchdog;
	void		(*reload)(void *arg);	/* SIGHUP; NULL = ignore */
	void		(*stop)(void *arg);	/* INT/TERM; NULL = ev_break */
	void		*arg;
	double		 started;		/* ev_now at daemon_init */
	int		 stopping;
};

/* Install signal watchers; SIGPIPE is ignored. */
void	daemon_init(struct daemon_ctx *d, struct ev_loop *loop,
	    void (*stop)(void *), void (*reload)(void *), void *arg);
/* READY=1 plus a STATUS line; starts WATCHDOG=1 pings when WatchdogSec is set. */
void	daemon_ready(struct daemon_ctx *d, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	daemon_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	daemon_stopping(struct daemon_ctx *d);
double	daemon_uptime(const struct daemon_ctx *d);
void	daemon_fini(struct daemon_ctx *d);

#endif
