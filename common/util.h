/* Small helpers every part of the tree may use. */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>

#ifndef container_of
/* The struct that holds member *ptr (libev watchers inside their owner). */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#endif
