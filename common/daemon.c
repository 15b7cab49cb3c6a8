#include "daemon.h"

#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "log.h"

static void
daemon_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon_ctx *d = w->data;

	(void)revents;
	log_info("received %s, shutting down",
	    w->signum == SIGINT ? "SIGINT" : "SIGTERM");
	if (d->stop != NULL)
		d->stop(d->arg);
	else
		ev_break(loop, EVBREAK_ALL);
}

static void
daemon_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon_ctx *d = w->data;

	(void)loop;
	(void)revents;
	if (d->reload == NULL) {
		log_info("SIGHUP: nothing to reload");
		return;
	}
	log_info("SIGHUP: reloading configuration");
	sd_notify(0, "RELOADING=1");
	d->reload(d->arg);
	sd_notify(0, "READY=1");
}

static void
daemon_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* sent from the loop itself: a stuck loop stops the pings */
	sd_notify(0, "WATCHDOG=1");
}

void
daemon_init(struct daemon_ctx *d, struct ev_loop *loop,
    void (*stop)(void *), void (*reload)(void *), void *arg)
{
	d->loop = loop;
	d->stop = stop;
	d->reload = reload;
	d->arg = arg;
	d->stopping = 0;
	d->started = ev_now(loop);
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&d->sigint, daemon_stop_cb, SIGINT);
	ev_signal_init(&d->sigterm, daemon_stop_cb, SIGTERM);
	ev_signal_init(&d->sighup, daemon_hup_cb, SIGHUP);
	d->sigint.data = d->sigterm.data = d->sighup.data = d;
	ev_signal_start(loop, &d->sigint);
	ev_signal_start(loop, &d->sigterm);
	ev_signal_start(loop, &d->sighup);
	ev_unref(loop);
	ev_unref(loop);
	ev_unref(loop);
	ev_timer_init(&d->watchdog, daemon_watchdog_cb, 0, 0);
}

void
daemon_status(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void
daemon_ready(struct daemon_ctx *d, const char *fmt, ...)
{
	char		buf[256];
	va_list		ap;
	uint64_t	usec = 0;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "READY=1\nSTATUS=%s", buf);
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		/* ping at half the interval, as sd_watchdog_enabled(3) advises */
		ev_timer_set(&d->watchdog, usec / 2e6, usec / 2e6);
		ev_timer_start(d->loop, &d->watchdog);
		ev_unref(d->loop);
		log_debug("watchdog every %.1fs", usec / 2e6);
	}
}

void
daemon_stopping(struct daemon_ctx *d)
{
	d->stopping = 1;
	sd_notify(0, "STOPPING=1");
}

double
daemon_uptime(const struct daemon_ctx *d)
{
	return ev_now(d->loop) - d->started;
}

void
daemon_fini(struct daemon_ctx *d)
{
	ev_ref(d->loop);
	ev_ref(d->loop);
	ev_ref(d->loop);
	ev_signal_stop(d->loop, &d->sigint);
	ev_signal_stop(d->loop, &d->sigterm);
	ev_signal_stop(d->loop, &d->sighup);
	if (ev_is_active(&d->watchdog)) {
		ev_ref(d->loop);
		ev_timer_stop(d->loop, &d->watchdog);
	}
}
