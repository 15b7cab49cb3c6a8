/*
 * Atomic state files: temp + fsync + rename + fsync(dir). See state.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static int
state_path(char *buf, size_t len, const char *dir, const char *name,
    const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s%s", dir, name, suffix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
state_write(const char *dir, const char *name, const void *data, size_t len)
{
	return state_write_mode(dir, name, data, len, 0600);
}

int
state_write_mode(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode)
{
	char		 path[512], tmp[520];
	const char	*p = data;
	ssize_t		 n;
	int		 fd, dfd, saved;

	if (state_path(path, sizeof(path), dir, name, "") == -1 ||
	    state_path(tmp, sizeof(tmp), dir, name, ".tmp") == -1)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode & 0600)) == -1)
		return -1;
	/* an existing temp file keeps its mode, and umask applied: set it */
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	/* the rename itself is durable once the directory is synced */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

ssize_t
state_read(const char *dir, const char *name, char *buf, size_t cap)
{
	char	path[512], extra;
	size_t	got = 0;
	ssize_t	n;
	int	fd, saved;

	if (cap == 0 || state_path(path, sizeof(path), dir, name, "") == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (got < cap - 1) {
		if ((n = read(fd, buf + got, cap - 1 - got)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap - 1 && read(fd, &extra, 1) == 1) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
state_remove(const char *dir, const char *name)
{
	char path[512];

	if (state_path(path, sizeof(path), dir, name, "") == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}
