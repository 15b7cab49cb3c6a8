#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
paths_fmt(char *buf, size_t len, const char *fmt, const char *a)
{
	int n = snprintf(buf, len, fmt, a);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static const char *
paths_env(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : NULL;
}

int
paths_runtime_dir(char *buf, size_t len)
{
	const char	*v;
	char		 uid[32];

	if ((v = paths_env("RUNTIME_DIRECTORY")) != NULL)
		return paths_fmt(buf, len, "%s", v);
	if (geteuid() == 0)
		return paths_fmt(buf, len, "%s", "/run/atmosphere");
	if ((v = paths_env("XDG_RUNTIME_DIR")) != NULL)
		return paths_fmt(buf, len, "%s/atmosphere", v);
	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
	return paths_fmt(buf, len, "/tmp/atmosphere-%s", uid);
}

int
paths_state_dir(char *buf, size_t len)
{
	const char *v;

	if ((v = paths_env("STATE_DIRECTORY")) != NULL)
		return paths_fmt(buf, len, "%s", v);
	if (geteuid() == 0)
		return paths_fmt(buf, len, "%s", "/var/lib/atmosphere");
	if ((v = paths_env("XDG_STATE_HOME")) != NULL)
		return paths_fmt(buf, len, "%s/atmosphere", v);
	if ((v = paths_env("HOME")) != NULL)
		return paths_fmt(buf, len, "%s/.local/state/atmosphere", v);
	errno = ENOENT;
	return -1;
}

int
paths_config_file(char *buf, size_t len)
{
	const char *v;

	if ((v = paths_env("ATMOSPHERE_CONFIG")) != NULL)
		return paths_fmt(buf, len, "%s", v);
	if ((v = paths_env("CONFIGURATION_DIRECTORY")) != NULL)
		return paths_fmt(buf, len, "%s/atmosphere.conf", v);
	return paths_fmt(buf, len, "%s", "/etc/atmosphere/atmosphere.conf");
}

int
paths_socket(const char *daemon, char *buf, size_t len)
{
	char	dir[256];
	int	n;

	if (paths_runtime_dir(dir, sizeof(dir)) == -1)
		return -1;
	n = snprintf(buf, len, "%s/%s.sock", dir, daemon);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
paths_mkdir(const char *dir, unsigned int mode)
{
	char	 tmp[512], *p;

	if (strlen(dir) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, dir, strlen(dir) + 1);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}
