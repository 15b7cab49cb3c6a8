/*
 * Why a typed operation of the core failed: a code that control.c maps to
 * the IPC error (proto/README.md) and a message for people.
 */
#ifndef PUNCHD_RESULT_H
#define PUNCHD_RESULT_H

#include <stdarg.h>
#include <stdio.h>

enum result_code {
	RESULT_OK,
	RESULT_BAD_PARAMS,
	RESULT_NOT_FOUND,
	RESULT_EXISTS,
	RESULT_UNAVAILABLE,
	RESULT_INTERNAL,
	RESULT_TIMEOUT,
	RESULT_EXPIRED,
	RESULT_REFUSED,
	RESULT_TOO_BIG,
	RESULT_RELAY_REFUSED,	/* a relay refused us (token, full) */
};

/* a join's failure names each path and what would help: IPC's limit */
#define RESULT_MSG_MAX	512

struct result {
	enum result_code	code;
	char			msg[RESULT_MSG_MAX];
};

/* Fills r; returns -1 so that `return result_set(...)` reads as failure. */
static inline int __attribute__((format(printf, 3, 4)))
result_set(struct result *r, enum result_code code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return -1;
}

#endif
