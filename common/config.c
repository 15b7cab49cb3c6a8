#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

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

const struct config_opt *
config_find(const struct config_table *t, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < t->nopts; i++)
		if (!strcmp(t->opts[i].section, section) &&
		    !strcmp(t->opts[i].key, key))
			return &t->opts[i];
	return NULL;
}

int
config_set(const struct config_table *t, void *cfg, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	const struct config_opt	*o;
	char			*p, *end;
	long			 l;
	int			 b;

	if (section == NULL)
		section = t->sections[0];
	if ((o = config_find(t, section, key)) == NULL) {
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

int
config_read(const struct config_table *t, void *cfg, const char *path,
    int optional, char *const *overrides, int noverrides, char *err,
    size_t errlen)
{
	void	*n;
	int	 i, r = -1;

	if ((n = calloc(1, t->size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->defaults(n);
	if (path != NULL && config_load(t, n, path, optional, err,
	    errlen) == -1)
		goto done;
	for (i = 0; i < noverrides; i++)
		if (config_set_arg(t, n, overrides[i], err, errlen) == -1)
			goto done;
	if (t->finish != NULL && t->finish(n, err, errlen) == -1)
		goto done;
	memcpy(cfg, n, t->size);
	r = 0;
done:
	/* relayd's secret passes through here */
	explicit_bzero(n, t->size);
	free(n);
	return r;
}

int
config_keep(const struct config_table *t, void *next, const void *running,
    const char *file)
{
	const struct config_opt	*o;
	char			*n;
	const char		*r;
	size_t			 i, len;
	int			 kept = 0;

	for (i = 0; i < t->nopts; i++) {
		o = &t->opts[i];
		if (!(o->flags & CONFIG_RESTART))
			continue;
		n = (char *)next + o->offset;
		r = (const char *)running + o->offset;
		len = o->type == CONFIG_STR ? o->size : sizeof(int);
		if (o->type == CONFIG_STR ? strcmp(n, r) == 0 :
		    memcmp(n, r, len) == 0)
			continue;
		log_notice("%s.%s changed in %s: takes effect at restart, the "
		    "running value is kept", o->section, o->key, file);
		memcpy(n, r, len);
		kept++;
	}
	return kept;
}
