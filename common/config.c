#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config_ctx {
	const struct config_table *t;
	void		*cfg;
	char		*err;
	size_t		 errlen;
	int		 failed;
};

int
config_parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off") || !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

int
config_parse_ms(const char *s, long *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || v < 0)
		return -1;
	if (*end == '\0' || !strcmp(end, "s"))
		v *= 1000;
	else if (!strcmp(end, "ms"))
		;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else if (!strcmp(end, "h"))
		v *= 3600000;
	else
		return -1;
	if (v > 2147483647.0)
		return -1;
	*out = (long)v;
	return 0;
}

static int
config_in_table(const struct config_table *t, const char *section)
{
	const char *const *s;

	for (s = t->sections; *s != NULL; s++)
		if (!strcmp(*s, section))
			return 1;
	return 0;
}

int
config_set(const struct config_table *t, void *cfg, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	const struct config_opt	*o;
	char			*p, *end;
	long			 l;
	int			 b;
	size_t			 i;

	if (section == NULL)
		section = t->sections[0];
	for (i = 0; i < t->nopts; i++) {
		o = &t->opts[i];
		if (!strcmp(o->section, section) && !strcmp(o->key, key))
			break;
	}
	if (i == t->nopts) {
		snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
		return -1;
	}
	p = (char *)cfg + o->offset;
	switch (o->type) {
	case CONFIG_STR:
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "%s.%s: value longer than %zu bytes",
			    section, key, o->size - 1);
			return -1;
		}
		memcpy(p, value, strlen(value) + 1);
		break;
	case CONFIG_INT:
		errno = 0;
		l = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    l < o->min || l > o->max) {
			snprintf(err, errlen, "%s.%s: '%s' is not an integer in "
			    "%ld..%ld", section, key, value, o->min, o->max);
			return -1;
		}
		*(int *)p = (int)l;
		break;
	case CONFIG_BOOL:
		if (config_parse_bool(value, &b) == -1) {
			snprintf(err, errlen, "%s.%s: '%s' is not yes/no",
			    section, key, value);
			return -1;
		}
		*(int *)p = b;
		break;
	case CONFIG_MS:
		if (config_parse_ms(value, &l) == -1 || l < o->min ||
		    l > o->max) {
			snprintf(err, errlen, "%s.%s: '%s' is not a duration in "
			    "%ldms..%ldms (e.g. 200ms, 25s, 1m)", section, key,
			    value, o->min, o->max);
			return -1;
		}
		*(int *)p = (int)l;
		break;
	}
	return 0;
}

int
config_set_arg(const struct config_table *t, void *cfg, const char *arg,
    char *err, size_t errlen)
{
	char	 buf[512], *eq, *dot, *section = NULL, *key;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "option too long");
		return -1;
	}
	memcpy(buf, arg, strlen(arg) + 1);
	if ((eq = strchr(buf, '=')) == NULL) {
		snprintf(err, errlen, "'%s': expected section.key=value", arg);
		return -1;
	}
	*eq = '\0';
	key = buf;
	if ((dot = strchr(buf, '.')) != NULL) {
		*dot = '\0';
		section = buf;
		key = dot + 1;
	}
	return config_set(t, cfg, section, key, eq + 1, err, errlen);
}

static int
config_ini_cb(void *arg, const char *section, const char *key,
    const char *value)
{
	struct config_ctx *c = arg;
	char		   reason[256];

	if (!config_in_table(c->t, section))
		return 1;
	if (config_set(c->t, c->cfg, section, key, value, reason,
	    sizeof(reason)) == -1) {
		/* inih reports the first failing line; keep its reason */
		if (!c->failed)
			snprintf(c->err, c->errlen, "%s", reason);
		c->failed = 1;
		return 0;
	}
	return 1;
}

int
config_load(const struct config_table *t, void *cfg, const char *path,
    int optional, char *err, size_t errlen)
{
	struct config_ctx	 c = { t, cfg, err, errlen, 0 };
	char			 reason[256] = "";
	FILE			*f;
	int			 r;

	if ((f = fopen(path, "r")) == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	c.err = reason;
	c.errlen = sizeof(reason);
	r = ini_parse_file(f, config_ini_cb, &c);
	fclose(f);
	if (r == 0)
		return 0;
	if (r > 0 && c.failed)
		snprintf(err, errlen, "%s:%d: %s", path, r, reason);
	else if (r > 0)
		snprintf(err, errlen, "%s:%d: syntax error", path, r);
	else
		snprintf(err, errlen, "%s: cannot parse (error %d)", path, r);
	return -1;
}

void
config_print_keys(const struct config_table *t)
{
	static const char *types[] = { "string", "integer", "yes/no",
	    "duration" };
	size_t i;

	for (i = 0; i < t->nopts; i++)
		printf("  [%s] %-22s %-9s %s\n", t->opts[i].section,
		    t->opts[i].key, types[t->opts[i].type], t->opts[i].help);
}
