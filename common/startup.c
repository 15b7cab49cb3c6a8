#include "startup.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "paths.h"

/* getopt_long values of the options without a letter */
#define STARTUP_HELP_CONFIG	256
#define STARTUP_FLAG		257	/* + the flag's index */

/* one option of --help: the help in a column, '\n' continuing it */
static void
startup_usage_line(FILE *f, const char *opt, const char *help)
{
	if (strlen(opt) > 19)
		fprintf(f, "  %s\n%22s", opt, "");
	else
		fprintf(f, "  %-19s ", opt);
	for (; *help != '\0'; help++) {
		fputc(*help, f);
		if (*help == '\n')
			fprintf(f, "%22s", "");
	}
	fputc('\n', f);
}

static void
startup_usage(const struct startup_prog *p, FILE *f)
{
	const struct startup_flag	*fl;
	char				 opt[64], help[256];
	size_t				 i;

	fprintf(f, "usage: %s [-hnqv] [-f config] [-s socket] "
	    "[-o section.key=value]\n", p->name);
	if (p->synopsis != NULL)
		fprintf(f, "%s\n", p->synopsis);
	fprintf(f, "\n%s\n\n", p->about);
	startup_usage_line(f, "-f, --config FILE", "configuration (default "
	    "/etc/atmosphere/atmosphere.conf,\nor $ATMOSPHERE_CONFIG; "
	    "optional unless given here)");
	snprintf(help, sizeof(help), "override one key, e.g. -o %s",
	    p->example);
	startup_usage_line(f, "-o KEY=VALUE", help);
	snprintf(help, sizeof(help), "IPC socket (%s.socket, default\n"
	    "$RUNTIME_DIRECTORY/%s.sock)", p->name, p->name);
	startup_usage_line(f, "-s, --socket PATH", help);
	for (i = 0; i < p->nflags; i++) {
		fl = &p->flags[i];
		if (fl->letter != 0)
			snprintf(opt, sizeof(opt), "-%c, --%s%s%s", fl->letter,
			    fl->name, fl->arg != NULL ? " " : "",
			    fl->arg != NULL ? fl->arg : "");
		else
			snprintf(opt, sizeof(opt), "    --%s%s%s", fl->name,
			    fl->arg != NULL ? " " : "",
			    fl->arg != NULL ? fl->arg : "");
		startup_usage_line(f, opt, fl->help);
	}
	startup_usage_line(f, "-n", "check the configuration, print "
	    "\"configuration OK\", exit");
	startup_usage_line(f, "-v / -q", "more / less logging (repeatable)");
	startup_usage_line(f, "    --help-config", "list every configuration "
	    "key\n(=mdoc: as in atmosphere.conf(5))");
	startup_usage_line(f, "-h, --help", "this help");
	fprintf(f, "\nExit status: 0 clean shutdown, 1 start-up failure, 2 "
	    "usage or\nconfiguration error.\n");
}

void
startup_fini(struct startup *st)
{
	while (st->noverrides > 0)
		free(st->overrides[--st->noverrides]);
	free(st->overrides);
	st->overrides = NULL;
}

noreturn void
startup_exit(struct startup *st, int status, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_errorx("%s", buf);
	startup_fini(st);
	exit(status);
}

static noreturn void
startup_bad_usage(struct startup *st)
{
	startup_usage(st->prog, stderr);
	startup_fini(st);
	exit(STARTUP_EXIT_CONFIG);
}

/* -o KEY=VALUE and the flags that stand for one, in command-line order */
static void
startup_override(struct startup *st, const char *key, const char *value)
{
	char	**o, *s;
	int	  r;

	if (key != NULL)
		r = asprintf(&s, "%s.%s=%s", st->prog->name, key, value);
	else
		r = (s = strdup(value)) == NULL ? -1 : 0;
	if (r == -1 || (o = reallocarray(st->overrides, st->noverrides + 1,
	    sizeof(*o))) == NULL)
		fatal("%s", __func__);
	o[st->noverrides++] = s;
	st->overrides = o;
}

static void
startup_flag(struct startup *st, const struct startup_flag *fl)
{
	const char *v = fl->arg != NULL ? optarg : fl->value;

	if (fl->key != NULL)
		startup_override(st, fl->key, v);
	else
		*fl->out = v;
}

static noreturn void
startup_help_config(struct startup *st, const char *how)
{
	const char *n = st->prog->name;

	if (how != NULL && strcmp(how, "mdoc") != 0)
		startup_bad_usage(st);
	if (how != NULL)
		config_print_mdoc(st->prog->table);
	else {
		printf("%s reads [%s] of %s;\n-o %s.KEY=VALUE sets one key "
		    "on the command line.\nDurations: 250ms, 3s, 5m, 1h (bare: "
		    "seconds). Booleans: yes/no, on/off,\ntrue/false, 1/0.\n\n",
		    n, n, st->cfgpath, n);
		config_print_keys(st->prog->table);
	}
	startup_fini(st);
	exit(STARTUP_EXIT_OK);
}

static struct option *
startup_longopts(const struct startup_prog *p, char *shortopts, size_t len)
{
	struct option	*lo;
	size_t		 i, n = 0;
	char		 s[3];

	if ((lo = calloc(p->nflags + 5, sizeof(*lo))) == NULL)
		fatal("%s", __func__);
	lo[n++] = (struct option){ "config", required_argument, NULL, 'f' };
	lo[n++] = (struct option){ "socket", required_argument, NULL, 's' };
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option){ "help-config", optional_argument, NULL,
	    STARTUP_HELP_CONFIG };
	strlcpy(shortopts, "f:hno:qs:v", len);
	for (i = 0; i < p->nflags; i++) {
		lo[n++] = (struct option){ p->flags[i].name,
		    p->flags[i].arg != NULL ? required_argument : no_argument,
		    NULL, p->flags[i].letter != 0 ? p->flags[i].letter :
		    STARTUP_FLAG + (int)i };
		if (p->flags[i].letter == 0)
			continue;
		snprintf(s, sizeof(s), "%c%s", p->flags[i].letter,
		    p->flags[i].arg != NULL ? ":" : "");
		strlcat(shortopts, s, len);
	}
	return lo;
}

static const struct startup_flag *
startup_flag_of(const struct startup_prog *p, int ch)
{
	size_t i;

	if (ch >= STARTUP_FLAG && (size_t)(ch - STARTUP_FLAG) < p->nflags)
		return &p->flags[ch - STARTUP_FLAG];
	for (i = 0; i < p->nflags; i++)
		if (p->flags[i].letter != 0 && p->flags[i].letter == ch)
			return &p->flags[i];
	return NULL;
}

void
startup_args(struct startup *st, const struct startup_prog *p, int argc,
    char *argv[])
{
	const struct startup_flag	*fl;
	struct option			*lo;
	char				 shortopts[64];
	int				 ch;

	memset(st, 0, sizeof(*st));
	st->prog = p;
	st->optional = 1;
	log_init(p->name, LOG_LVL_INFO);
	if (paths_config_file(st->cfgpath, sizeof(st->cfgpath)) == -1)
		startup_exit(st, STARTUP_EXIT_CONFIG, "configuration path too "
		    "long");
	lo = startup_longopts(p, shortopts, sizeof(shortopts));
	while ((ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strlcpy(st->cfgpath, optarg, sizeof(st->cfgpath)) >=
			    sizeof(st->cfgpath))
				startup_exit(st, STARTUP_EXIT_CONFIG,
				    "-f: path too long");
			st->optional = 0;
			break;
		case 'h':
			free(lo);
			startup_usage(p, stdout);
			startup_fini(st);
			exit(STARTUP_EXIT_OK);
		case 'n':
			st->check = 1;
			break;
		case 'o':
			startup_override(st, NULL, optarg);
			break;
		case 'q':
			log_verbose(-1);
			break;
		case 's':
			startup_override(st, "socket", optarg);
			break;
		case 'v':
			log_verbose(1);
			break;
		case STARTUP_HELP_CONFIG:
			free(lo);
			startup_help_config(st, optarg);
		default:
			if ((fl = startup_flag_of(p, ch)) == NULL) {
				free(lo);
				startup_bad_usage(st);
			}
			startup_flag(st, fl);
			break;
		}
	}
	free(lo);
	if (optind != argc)
		startup_bad_usage(st);
}

void
startup_config(struct startup *st, void *cfg)
{
	char err[1024];

	if (config_read(st->prog->table, cfg, st->cfgpath, st->optional,
	    st->overrides, st->noverrides, err, sizeof(err)) == -1)
		startup_exit(st, STARTUP_EXIT_CONFIG, "%s", err);
}

void
startup_checked(struct startup *st)
{
	if (!st->check)
		return;
	printf("configuration OK\n");
	startup_fini(st);
	exit(STARTUP_EXIT_OK);
}

int
startup_socket(const struct startup *st, const void *cfg, char *buf,
    size_t len)
{
	const struct config_opt	*o;
	const char		*name = st->prog->name;
	char			 dir[256] = "";

	o = config_find(st->prog->table, name, "socket");
	if (o != NULL && *((const char *)cfg + o->offset) != '\0') {
		if (strlcpy(buf, (const char *)cfg + o->offset, len) < len)
			return 0;
		log_errorx("%s.socket: path too long", name);
		return -1;
	}
	if (paths_runtime_dir(dir, sizeof(dir)) == -1 ||
	    paths_mkdir(dir, 0750) == -1) {
		log_error("runtime directory %s", dir);
		return -1;
	}
	if (paths_socket(name, buf, len) == -1) {
		log_errorx("%s/%s.sock: path too long", dir, name);
		return -1;
	}
	return 0;
}

int
startup_reload(struct startup *st, void *next, const void *running)
{
	char err[1024];

	if (config_read(st->prog->table, next, st->cfgpath, st->optional,
	    st->overrides, st->noverrides, err, sizeof(err)) == -1) {
		log_errorx("reload refused, keeping the running configuration: "
		    "%s", err);
		return -1;
	}
	config_keep(st->prog->table, next, running, st->cfgpath);
	return 0;
}
