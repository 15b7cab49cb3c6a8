/*
 * One INI file (/etc/atmosphere/atmosphere.conf) with a section per daemon.
 * Each daemon describes its keys in a table of struct config_opt pointing
 * into its own config struct; config_load() fills that struct from the file,
 * config_set() applies one command-line override with the same checks.
 * Unknown keys in the daemon's own sections are errors (a typo must not be
 * silently ignored); other daemons' sections are skipped. The same table
 * documents the keys: --help-config and atmosphere.conf(5) are printed from
 * it (config_doc.c), defaults included.
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <stddef.h>

enum config_type {
	CONFIG_STR,		/* char[size], size from the table */
	CONFIG_INT,		/* int, bounded by min..max */
	CONFIG_BOOL,		/* int 0/1: yes/no/true/false/on/off/1/0 */
	CONFIG_MS,		/* int milliseconds: "250ms", "2s", "1m", bare = seconds */
};

/* config_opt.flags */
#define CONFIG_RESTART	0x1	/* read at start-up: SIGHUP keeps it */

struct config_opt {
	const char	*section;
	const char	*key;
	enum config_type type;
	size_t		 offset;	/* offsetof() into the config struct */
	size_t		 size;		/* CONFIG_STR: buffer size */
	long		 min, max;	/* CONFIG_INT, CONFIG_MS */
	const char	*help;		/* for people: one or more sentences */
	const char	*arg;		/* the value's name; NULL: the type's */
	const char	*dflt;		/* what the default means, after it */
	unsigned	 flags;
};

struct config_table {
	const struct config_opt	*opts;
	size_t			 nopts;
	/* sections that belong to this program; others are ignored */
	const char		*const *sections;
	size_t			 size;		/* of the config struct */
	void			(*defaults)(void *cfg);
	/* checks across keys, derived values; after the overrides; or NULL */
	int			(*finish)(void *cfg, char *err, size_t errlen);
};

/*
 * Load `path` into `cfg`. A missing file is not an error when `optional` is
 * set (embedded defaults then apply). On error returns -1 and writes a
 * one-line reason with the file and line number into err.
 */
int	config_load(const struct config_table *t, void *cfg, const char *path,
	    int optional, char *err, size_t errlen);
/* Parse and store one value; "section.key" or plain "key" of the first section. */
int	config_set(const struct config_table *t, void *cfg, const char *section,
	    const char *key, const char *value, char *err, size_t errlen);
/* Apply "section.key=value" (the -o option of every daemon). */
int	config_set_arg(const struct config_table *t, void *cfg, const char *arg,
	    char *err, size_t errlen);
/*
 * Defaults, the file (see config_load), then each "section.key=value" of
 * overrides, then t->finish: `cfg` is written only when all of them pass,
 * so a refused SIGHUP leaves the running configuration as it was.
 */
int	config_read(const struct config_table *t, void *cfg, const char *path,
	    int optional, char *const *overrides, int noverrides, char *err,
	    size_t errlen);
/*
 * SIGHUP: each CONFIG_RESTART key that differs gets its running value back
 * in next, with a notice naming the key and the file; returns how many.
 */
int	config_keep(const struct config_table *t, void *next,
	    const void *running, const char *file);
const struct config_opt *config_find(const struct config_table *t,
	    const char *section, const char *key);

/* config_doc.c: the keys with their help and defaults, for --help-config */
void	config_print_keys(const struct config_table *t);
/* the same as mdoc(7) for atmosphere.conf(5), one .Sh per section */
void	config_print_mdoc(const struct config_table *t);
/* a key's value in the file's syntax ("25s", "yes", "" for empty) */
void	config_format(const struct config_opt *o, const void *cfg, char *buf,
	    size_t len);

/* Parsers shared with option handling. */
int	config_parse_bool(const char *s, int *out);
int	config_parse_ms(const char *s, long *out);

#endif
