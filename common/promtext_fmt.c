/*
 * The Prometheus text exposition format (0.0.4) itself: a growing buffer,
 * names, escaping, one # HELP/# TYPE per family. promtext.c decides what
 * goes in it.
 */
#include "promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
promtext_init(struct promtext *pt)
{
	memset(pt, 0, sizeof(*pt));
}

void
promtext_free(struct promtext *pt)
{
	size_t i;

	for (i = 0; i < pt->nnames; i++)
		free(pt->names[i]);
	free(pt->names);
	free(pt->buf);
	memset(pt, 0, sizeof(*pt));
}

void
promtext_printf(struct promtext *pt, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 ncap;
	char	*nb;
	int	 n;

	if (pt->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(pt->buf != NULL ? pt->buf + pt->len : NULL,
		    pt->cap - pt->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			pt->oom = 1;
			return;
		}
		if ((size_t)n < pt->cap - pt->len) {
			pt->len += (size_t)n;
			return;
		}
		ncap = pt->cap < 4096 ? 4096 : pt->cap;
		while (ncap - pt->len <= (size_t)n)
			ncap *= 2;
		if ((nb = realloc(pt->buf, ncap)) == NULL) {
			pt->oom = 1;
			return;
		}
		pt->buf = nb;
		pt->cap = ncap;
	}
}

int
promtext_valid_name(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

/* Append s[n] to out, characters outside [a-zA-Z0-9_] (and ':' when
 * colon) becoming '_'. */
void
promtext_sanitize(char *out, size_t len, const char *s, size_t n, int colon)
{
	size_t	o = strlen(out), i;
	char	c;

	for (i = 0; i < n && o + 1 < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || (colon && c == ':')))
			c = '_';
		out[o++] = c;
	}
	out[o] = '\0';
}

/* The family has not been emitted: remember it. -1 when it has (or oom). */
int
promtext_claim(struct promtext *pt, const char *name)
{
	size_t	  i, ncap;
	char	**nn;

	for (i = 0; i < pt->nnames; i++)
		if (!strcmp(pt->names[i], name))
			return -1;
	if (pt->nnames == pt->namescap) {
		ncap = pt->namescap ? pt->namescap * 2 : 32;
		if ((nn = reallocarray(pt->names, ncap, sizeof(*nn))) == NULL) {
			pt->oom = 1;
			return -1;
		}
		pt->names = nn;
		pt->namescap = ncap;
	}
	if ((pt->names[pt->nnames] = strdup(name)) == NULL) {
		pt->oom = 1;
		return -1;
	}
	pt->nnames++;
	return 0;
}

void
promtext_header(struct promtext *pt, const char *name, const char *type,
    const char *help)
{
	const char *p;

	promtext_printf(pt, "# HELP %s ", name);
	/* HELP escapes backslash and newline */
	for (p = help; *p != '\0'; p++) {
		if (*p == '\\')
			promtext_printf(pt, "\\\\");
		else if (*p == '\n')
			promtext_printf(pt, "\\n");
		else
			promtext_printf(pt, "%c", *p);
	}
	promtext_printf(pt, "\n# TYPE %s %s\n", name, type);
}

void
promtext_label(struct promtext *pt, const char *name, const char *v, size_t n)
{
	size_t i;

	promtext_printf(pt, "%s=\"", name);
	for (i = 0; i < n; i++) {
		if (v[i] == '\\')
			promtext_printf(pt, "\\\\");
		else if (v[i] == '"')
			promtext_printf(pt, "\\\"");
		else if (v[i] == '\n')
			promtext_printf(pt, "\\n");
		else
			promtext_printf(pt, "%c", v[i]);
	}
	promtext_printf(pt, "\"");
}

void
promtext_value(struct promtext *pt, double v)
{
	char	buf[40];

	if (isnan(v))
		promtext_printf(pt, " NaN\n");
	else if (isinf(v))
		promtext_printf(pt, " %sInf\n", v > 0 ? "+" : "-");
	else {
		/* the shortest text that reads back as the same double */
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		promtext_printf(pt, " %s\n", buf);
	}
}

int
promtext_sample(struct promtext *pt, const char *name, const char *type,
    const char *help, const char *label, const char *value, double v)
{
	if (!promtext_valid_name(name) ||
	    (label != NULL && (!promtext_valid_name(label) ||
	    strchr(label, ':') != NULL)))
		return -1;
	/* a family's samples come together: the last one claimed goes on */
	if (pt->nnames == 0 || strcmp(pt->names[pt->nnames - 1], name)) {
		if (promtext_claim(pt, name) == -1)
			return -1;
		promtext_header(pt, name, type, help);
	}
	promtext_printf(pt, "%s", name);
	if (label != NULL) {
		promtext_printf(pt, "{");
		promtext_label(pt, label, value, strlen(value));
		promtext_printf(pt, "}");
	}
	promtext_value(pt, v);
	return pt->oom ? -1 : 0;
}
