/*
 * The keys of a config table for people: `DAEMON --help-config` prints them
 * as text, `DAEMON --help-config=mdoc` as the key reference of
 * atmosphere.conf(5) (tests/integ/01-config-doc.sh keeps the page in step).
 * Defaults are printed from the daemon's own defaults function, so what is
 * documented is what the daemon does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the value's name when the table gives none */
static const char *const config_doc_types[] = { "string", "n", "bool",
    "duration" };

static void
config_doc_ms(long ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%ldh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%ldm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%lds", ms / 1000);
	else
		snprintf(buf, len, "%ldms", ms);
}

void
config_format(const struct config_opt *o, const void *cfg, char *buf,
    size_t len)
{
	const char *p = (const char *)cfg + o->offset;

	switch (o->type) {
	case CONFIG_STR:
		snprintf(buf, len, "%s", p);
		break;
	case CONFIG_INT:
		snprintf(buf, len, "%d", *(const int *)p);
		break;
	case CONFIG_BOOL:
		snprintf(buf, len, "%s", *(const int *)p ? "yes" : "no");
		break;
	case CONFIG_MS:
		config_doc_ms(*(const int *)p, buf, len);
		break;
	}
}

/*
 * Everything said about one key after its name, sentence by sentence:
 * the help, the range, the default, whether it needs a restart.
 */
static void
config_doc_text(const struct config_opt *o, const void *defaults, char *buf,
    size_t len)
{
	char	v[1100], lo[32], hi[32];

	snprintf(buf, len, "%s", o->help);
	if (o->type == CONFIG_INT || o->type == CONFIG_MS) {
		if (o->type == CONFIG_MS) {
			config_doc_ms(o->min, lo, sizeof(lo));
			config_doc_ms(o->max, hi, sizeof(hi));
		} else {
			snprintf(lo, sizeof(lo), "%ld", o->min);
			snprintf(hi, sizeof(hi), "%ld", o->max);
		}
		snprintf(v, sizeof(v), " Range: %s to %s.", lo, hi);
		strlcat(buf, v, len);
	}
	config_format(o, defaults, v, sizeof(v));
	strlcat(buf, " Default: ", len);
	strlcat(buf, v[0] != '\0' ? v : "empty", len);
	if (o->dflt != NULL) {
		strlcat(buf, " (", len);
		strlcat(buf, o->dflt, len);
		strlcat(buf, ")", len);
	}
	strlcat(buf, ".", len);
	if (o->flags & CONFIG_RESTART)
		strlcat(buf, " Read at start-up (restart).", len);
}

static void *
config_doc_defaults(const struct config_table *t)
{
	void *d;

	if ((d = calloc(1, t->size)) == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	t->defaults(d);
	return d;
}

/* words of s, indented, wrapped at 78 columns */
static void
config_doc_wrap(const char *s, int indent)
{
	const char	*w;
	int		 col = indent, n;

	printf("%*s", indent, "");
	while (*s != '\0') {
		while (*s == ' ')
			s++;
		for (w = s; *s != '\0' && *s != ' '; s++)
			;
		if ((n = (int)(s - w)) == 0)
			break;
		if (col > indent && col + 1 + n > 78) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		printf("%.*s", n, w);
		col += n;
	}
	putchar('\n');
}

void
config_print_keys(const struct config_table *t)
{
	const struct config_opt	*o;
	void			*d = config_doc_defaults(t);
	char			 text[4096];
	size_t			 i;

	for (i = 0; i < t->nopts; i++) {
		o = &t->opts[i];
		printf("  [%s] %s = %s\n", o->section, o->key, o->arg != NULL ?
		    o->arg : config_doc_types[o->type]);
		config_doc_text(o, d, text, sizeof(text));
		config_doc_wrap(text, 6);
	}
	free(d);
}

/* one line of mdoc text: a leading dot or quote escaped, \ written \e */
static void
config_doc_mdoc_line(const char *s, size_t n)
{
	size_t i;

	if (n > 0 && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", stdout);
	for (i = 0; i < n; i++)
		if (s[i] == '\\')
			fputs("\\e", stdout);
		else
			putchar(s[i]);
	putchar('\n');
}

/*
 * mdoc's rule: a new sentence on a new line. Long sentences are broken
 * between words under 80 columns, as mandoc's lint prefers.
 */
static void
config_doc_mdoc_text(const char *s)
{
	const char	*line = s, *brk = NULL, *p;

	for (p = s;; p++) {
		if (*p != ' ' && *p != '\0')
			continue;
		if (p - line > 79 && brk != NULL) {
			config_doc_mdoc_line(line, brk - line);
			line = brk + 1;
		}
		if (*p == '\0')
			break;
		if (p > line && p[-1] == '.') {		/* end of a sentence */
			config_doc_mdoc_line(line, p - line);
			line = p + 1;
			brk = NULL;
		} else
			brk = p;
	}
	config_doc_mdoc_line(line, p - line);
}

void
config_print_mdoc(const struct config_table *t)
{
	const struct config_opt	*o;
	const char *const	*sec;
	void			*d = config_doc_defaults(t);
	char			 text[4096];
	size_t			 i;

	for (sec = t->sections; *sec != NULL; sec++) {
		for (i = 0; i < t->nopts; i++)
			if (!strcmp(t->opts[i].section, *sec))
				break;
		if (i == t->nopts)
			continue;	/* a section without keys yet */
		printf(".Sh [%s]\n.Bl -tag -width Ds\n", *sec);
		for (i = 0; i < t->nopts; i++) {
			o = &t->opts[i];
			if (strcmp(o->section, *sec) != 0)
				continue;
			printf(".It Ic %s Ns = Ns Ar %s\n", o->key, o->arg !=
			    NULL ? o->arg : config_doc_types[o->type]);
			config_doc_text(o, d, text, sizeof(text));
			config_doc_mdoc_text(text);
		}
		printf(".El\n");
	}
	free(d);
}
