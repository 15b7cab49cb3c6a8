/*
 * One INI file (/etc/atmosphere/atmosphere.conf) with a section per daemon.
 * Each daemon describes its keys in a table of struct config_opt pointing
 * into its own config struct; config_load() fills that struct from the file,
 * config_set() applies one command-line override with the same checks.
 * Unknown keys in the daemon's own sections are errors (a typo must not be
 * silently ignored); other daemons' sections are skipped.
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

struct config_opt {
	const char	*section;
	const char	*key;
	enum config_type type;
	size_t		 offset;	/* offsetof() into the config struct */
	size_t		 size;		/* CONFIG_STR: buffer size */
	long		 min, max;	/* CONFIG_INT, CONFIG_MS */
	const char	*help;
};

struct config_table {
	const struct config_opt	*opts;
	size_t			 nopts;
	/* sections that belong to this program; others are ignored */
	const char		*const *sections;
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
/* Print the keys, their types and help to stdout (for --help-config). */
void	config_print_keys(const struct config_table *t);

/* Parsers shared with option handling. */
int	config_parse_bool(const char *s, int *out);
int	config_parse_ms(const char *s, long *out);

#endif
