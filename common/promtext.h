/*
 * A daemon's status.get reply (and punchd's peer.list) as Prometheus text
 * exposition format 0.0.4, for node_exporter's textfile collector and
 * scrape scripts. The reply is walked as it is, so a counter added to
 * status.get shows up here without touching this file. The rules:
 *
 *   name    DAEMON_ + the map keys from the root joined with "_", the
 *           "counters" map itself left out of the name; every character
 *           outside [a-zA-Z0-9_:] becomes "_". Keys ending in "_ms" end in
 *           "_seconds" and their value is divided by 1000; "_s" becomes
 *           "_seconds" (Prometheus wants base units).
 *   type    a number or bool inside a map called "counters" is a counter
 *           (name + "_total"), except the gauges of promtext_gauge_keys[];
 *           a leaf named in promtext_counter_keys[] is a counter wherever
 *           it is (punchd's per-peer packet counts); everything else is a
 *           gauge. Bools are 0 or 1.
 *   strings the string leaves of a map become the labels of one gauge
 *           DAEMON_PATH_info with value 1 (nil strings are left out).
 *   arrays  a gauge with the array's length (punchd_candidates).
 *   nil     no sample.
 *   peers   promtext_peers(): every numeric leaf of peer.list's maps is a
 *           family DAEMON_peer_KEY with one sample per peer, labelled
 *           peer="ID" (the name for a peer whose id is not known yet);
 *           the strings go into DAEMON_peer_info{peer=...}.
 *
 * A family name is emitted once per struct promtext: a second leaf that
 * maps to a name already used is dropped, so the output never repeats a
 * family. Each family gets # HELP (where it came from) and # TYPE lines.
 */
#ifndef COMMON_PROMTEXT_H
#define COMMON_PROMTEXT_H

#include <stddef.h>

#include <msgpack.h>

/* The help text of a status.get leaf, by its dotted path ("counters.
 * discoveries"): a daemon's counter table gives them; a leaf not named
 * keeps the generic "DAEMON status.get PATH". */
struct promtext_help {
	const char	*key;
	const char	*help;
};

struct promtext {
	const struct promtext_help *help;	/* set after promtext_init */
	size_t	 nhelp;
	char	*buf;		/* NUL-terminated text so far */
	size_t	 len, cap;
	char	**names;	/* families emitted, for duplicates */
	size_t	 nnames, namescap;
	int	 oom;		/* an allocation failed: output incomplete */
};

void	promtext_init(struct promtext *pt);
void	promtext_free(struct promtext *pt);
/* Append status.get's result of `daemon` (a map). 0, or -1 when it is not
 * a map or memory ran out. */
int	promtext_status(struct promtext *pt, const char *daemon,
	    const msgpack_object *status);
/* Append punchd's peer.list result (an array of maps). 0 or -1. */
int	promtext_peers(struct promtext *pt, const char *daemon,
	    const msgpack_object *peers);
/*
 * One sample of a family with at most one label (label NULL: none). The
 * # HELP/# TYPE lines come with the first sample of a name; further
 * samples of the same name must follow at once. -1 when the name was used
 * by another family before, or on out of memory.
 */
int	promtext_sample(struct promtext *pt, const char *name,
	    const char *type, const char *help, const char *label,
	    const char *value, double v);

/* Is `s` a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)? */
int	promtext_valid_name(const char *s);

/* The format's primitives (promtext_fmt.c), for the converter. */
void	promtext_printf(struct promtext *pt, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s[n] to the string in out[len], characters outside [a-zA-Z0-9_]
 * (and ':' when colon) becoming '_'. */
void	promtext_sanitize(char *out, size_t len, const char *s, size_t n,
	    int colon);
/* 0: a new family, now remembered; -1: emitted before (or out of memory). */
int	promtext_claim(struct promtext *pt, const char *name);
void	promtext_header(struct promtext *pt, const char *name,
	    const char *type, const char *help);
/* name="v[n]", escaped */
void	promtext_label(struct promtext *pt, const char *name, const char *v,
	    size_t n);
/* " VALUE\n": the shortest text that reads back as v, NaN, +Inf, -Inf */
void	promtext_value(struct promtext *pt, double v);

#endif
