/*
 * Static files under web_root: see web.h for the rules and why.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "relayd/web.h"

/* What the page is made of; anything else (backups, sources, keys) is
 * not served even if it lands in web_root. */
static const struct {
	const char	*ext;
	const char	*type;
} web_types[] = {
	{ ".html",	"text/html; charset=utf-8" },
	{ ".js",	"text/javascript; charset=utf-8" },
	{ ".mjs",	"text/javascript; charset=utf-8" },
	{ ".css",	"text/css; charset=utf-8" },
	{ ".svg",	"image/svg+xml" },
	{ ".png",	"image/png" },
	{ ".ico",	"image/x-icon" },
	{ ".json",	"application/json" },
	{ ".map",	"application/json" },
	{ ".wasm",	"application/wasm" },
	{ ".txt",	"text/plain; charset=utf-8" },
};

int
web_root_open(struct web_root *w, const char *path)
{
	w->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return w->dirfd == -1 ? -1 : 0;
}

void
web_root_close(struct web_root *w)
{
	if (w->dirfd != -1)
		close(w->dirfd);
	w->dirfd = -1;
}

const char *
web_type(const char *name)
{
	size_t	n = strlen(name), e, i;

	for (i = 0; i < sizeof(web_types) / sizeof(web_types[0]); i++) {
		e = strlen(web_types[i].ext);
		if (n > e && strcmp(name + n - e, web_types[i].ext) == 0)
			return web_types[i].type;
	}
	return NULL;
}

static int
web_allowed(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == '/';
}

/*
 * target -> relative path in out ("index.html", "assets/app.js"): 0, 400
 * (malformed) or 404 (a name we never serve). The query is ignored.
 */
static int
web_path(const char *target, char *out, size_t cap, const char **why)
{
	size_t	i, o = 0, n;
	uint8_t	x;
	int	c;

	if (target[0] != '/') {
		*why = "target is not an absolute path";
		return 400;
	}
	for (i = 1; target[i] != '\0' && target[i] != '?' && target[i] != '#';
	    i++) {
		c = (unsigned char)target[i];
		if (c == '%') {
			/* exactly two hex digits (a NUL stops the decoder) */
			if (sodium_hex2bin(&x, 1, target + i + 1, 2, NULL, &n,
			    NULL) != 0 || n != 1) {
				*why = "bad %-escape";
				return 400;
			}
			c = x;
			i += 2;
		}
		if (!web_allowed(c)) {
			*why = "character not allowed in a path";
			return 404;
		}
		/* a segment that is empty or starts with '.': "..", hidden */
		if ((o == 0 || out[o - 1] == '/') && (c == '/' || c == '.')) {
			*why = c == '/' ? "empty path segment" :
			    "path segment starting with '.'";
			return 404;
		}
		if (o + 1 >= cap) {
			*why = "path too long";
			return 404;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (o == 0 || out[o - 1] == '/') {
		if (o + sizeof("index.html") > cap) {
			*why = "path too long";
			return 404;
		}
		memcpy(out + o, "index.html", sizeof("index.html"));
	}
	return 0;
}

/* open rel below dirfd, one component at a time, never following a link */
static int
web_open_beneath(int dirfd, char *rel)
{
	char	*seg = rel, *slash;
	int	 fd = dirfd, next;

	while ((slash = strchr(seg, '/')) != NULL) {
		*slash = '\0';
		next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		*slash = '/';
		if (fd != dirfd)
			close(fd);
		if (next == -1)
			return -1;
		fd = next;
		seg = slash + 1;
	}
	next = openat(fd, seg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd != dirfd)
		close(fd);
	return next;
}

int
web_lookup(const struct web_root *w, const char *method, const char *target,
    struct web_file *f, const char **why)
{
	char		path[WEB_PATH_MAX];
	struct stat	st;
	int		r, fd;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*why = "only GET and HEAD";
		return 405;
	}
	if ((r = web_path(target, path, sizeof(path), why)) != 0)
		return r;
	if (w->dirfd == -1) {
		*why = "no web_root";
		return 404;
	}
	if ((f->type = web_type(path)) == NULL) {
		*why = "not a kind of file we serve";
		return 404;
	}
	if ((fd = web_open_beneath(w->dirfd, path)) == -1) {
		*why = errno == ELOOP ? "symbolic link" : "no such file";
		return 404;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return 404;
	}
	if (st.st_size > WEB_MAX_FILE) {
		close(fd);
		*why = "file over the size cap";
		return 404;
	}
	f->fd = fd;
	f->size = (size_t)st.st_size;
	f->mtime = (int64_t)st.st_mtim.tv_sec;
	snprintf(f->etag, sizeof(f->etag), "W/\"%zx-%llx\"", f->size,
	    (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	    (unsigned long long)st.st_mtim.tv_nsec);
	return 0;
}

char *
web_read(struct web_file *f)
{
	char	*b = malloc(f->size + 1);
	size_t	 got = 0;
	ssize_t	 n;

	if (b == NULL)
		return NULL;
	while (got < f->size) {
		n = pread(f->fd, b + got, f->size - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {		/* error, or the file shrank */
			free(b);
			return NULL;
		}
		got += (size_t)n;
	}
	b[got] = '\0';
	return b;
}

void
web_file_close(struct web_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
}

/* If-None-Match: a list of entity tags, or "*" (RFC 9110 13.1.2); weak
 * comparison, so "W/" on either side is ignored */
int
web_etag_match(const struct web_file *f, const char *inm)
{
	const char	*mine = f->etag + 2, *p = inm, *q;
	size_t		 n = strlen(mine);

	if (inm == NULL)
		return 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		q = p + strcspn(p, ",");
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if ((size_t)(q - p) == n && memcmp(p, mine, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

int
web_headers(const struct web_file *f, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "ETag: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: default-src 'self'; "
	    "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:; "
	    "img-src 'self' data: blob:; media-src 'self' blob:; "
	    "style-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'none'\r\n", f->etag);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}
