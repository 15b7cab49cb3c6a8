#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "atmosphere";
static int log_level = LOG_LVL_INFO;

void
log_init(const char *progname, int level)
{
	log_prog = progname;
	log_level = level;
}

void
log_setlevel(int level)
{
	if (level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

void
log_verbose(int delta)
{
	log_setlevel(log_level + delta);
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	msg[1024];
	int	saved = errno;

	if (pri > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "<%d>%s: %s: %s\n", pri, log_prog, msg,
		    strerror(saved));
	else
		fprintf(stderr, "<%d>%s: %s\n", pri, log_prog, msg);
	errno = saved;
}

#define LOG_FN(name, pri, err)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vwrite(pri, fmt, ap, err);				\
	va_end(ap);						\
}

LOG_FN(log_error, LOG_LVL_ERR, 1)
LOG_FN(log_errorx, LOG_LVL_ERR, 0)
LOG_FN(log_warn, LOG_LVL_WARNING, 1)
LOG_FN(log_warnx, LOG_LVL_WARNING, 0)
LOG_FN(log_notice, LOG_LVL_NOTICE, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void
log_warnx_rl(struct log_ratelimit *rl, double interval_s, const char *fmt, ...)
{
	struct timespec	ts;
	double		now;
	char		msg[1024];
	va_list		ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	if (rl->last != 0 && now - rl->last < interval_s) {
		rl->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rl->suppressed > 0)
		log_warnx("%s (%lu similar suppressed)", msg, rl->suppressed);
	else
		log_warnx("%s", msg);
	rl->last = now;
	rl->suppressed = 0;
}
