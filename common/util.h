/*
 * Small helpers every program shares.
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>

/* The struct that holds member m at p: libev watchers live inside their
 * owner, and callbacks recover it from the watcher. */
#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

/* Entries of a fixed array (libbsd's <sys/param.h> may have it). */
#ifndef nitems
#define nitems(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#endif
