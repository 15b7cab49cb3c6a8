/*
 * State files (keys, mesh, invites, members): small files written whole,
 * atomically: write a temporary file in the same directory, fsync it,
 * rename it over the old one, fsync the directory. A crash leaves either
 * the old file or the new one, never half of one. Mode 0600: they hold
 * secrets.
 */
#ifndef COMMON_STATE_H
#define COMMON_STATE_H

#include <stddef.h>
#include <sys/types.h>

/* dir/name := data[len]. 0, or -1 with errno (the old file is untouched). */
int	state_write(const char *dir, const char *name, const void *data,
	    size_t len);
/* The same with another mode: files other users read (metrics, 0644). */
int	state_write_mode(const char *dir, const char *name, const void *data,
	    size_t len, mode_t mode);
/* Read dir/name whole into buf (NUL-terminated). Returns the length, or -1
 * with errno (ENOENT: no such file, EFBIG: longer than cap - 1). */
ssize_t	state_read(const char *dir, const char *name, char *buf, size_t cap);
/* Remove dir/name; 0 also when it did not exist. */
int	state_remove(const char *dir, const char *name);

#endif
