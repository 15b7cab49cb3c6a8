/* Small helpers every part of the tree may use. */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>

#ifndef container_of
/* The struct that holds member *ptr: libev watchers live inside their
 * owner, and callbacks recover it from the watcher. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/* Entries of a fixed array (libbsd's <sys/param.h> may have it). */
#ifndef nitems
#define nitems(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#endif
