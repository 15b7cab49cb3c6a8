/*
 * Static files for people: relayd's status page and the browser member
 * (web/, docs/browser-member.md), from a directory `web_root`.
 *
 * Only GET and HEAD; the path is decoded (%XX) and must be made of
 * [A-Za-z0-9._-] segments separated by single '/', none starting with '.'
 * (no "..", no hidden files); "/" and a trailing '/' mean index.html. Each
 * component is opened below the root's directory descriptor with
 * O_NOFOLLOW: symbolic links are never followed, so nothing outside the
 * root can be reached (install copies files). Only regular files with a
 * known extension (WEB_TYPES in web.c), at most WEB_MAX_FILE bytes. No I/O
 * beyond open/fstat/read, no logging: the caller logs `why`.
 */
#ifndef RELAYD_WEB_H
#define RELAYD_WEB_H

#include <stddef.h>
#include <stdint.h>

/* The join page's bundle is ~820 KiB (libsodium inside); 4 MiB leaves room
 * and still bounds what one request can make relayd read. */
#define WEB_MAX_FILE		(4 * 1024 * 1024)
#define WEB_PATH_MAX		256	/* decoded path, bytes */
#define WEB_ETAG_LEN		48

struct web_root {
	int		 dirfd;		/* -1: not open */
};

struct web_file {
	int		 fd;
	size_t		 size;
	const char	*type;		/* Content-Type */
	int64_t		 mtime;		/* Unix seconds */
	char		 etag[WEB_ETAG_LEN];	/* "W/\"...\"" */
};

/* 0, or -1 with errno (not a directory, cannot open). */
int	web_root_open(struct web_root *w, const char *path);
void	web_root_close(struct web_root *w);

/*
 * A request (method, target as sent: path and optional ?query) to a file.
 * Returns 0 with *f open (web_file_close it), or an HTTP status: 405 (not
 * GET/HEAD, *f untouched), 400 (malformed target), 404 (no such file, not
 * allowed, not regular, over the cap); *why says which, for the log.
 */
int	web_lookup(const struct web_root *w, const char *method,
	    const char *target, struct web_file *f, const char **why);
/* The whole file (malloc'd, f->size bytes) or NULL; closes nothing. */
char	*web_read(struct web_file *f);
void	web_file_close(struct web_file *f);

/* Content-Type for a file name, NULL when we do not serve that kind. */
const char *web_type(const char *name);
/* 1 when an If-None-Match header value names f's ETag (or is "*"). */
int	web_etag_match(const struct web_file *f, const char *if_none_match);
/*
 * Header lines for f's answer, each ending in CRLF, to go after relayd's
 * own (status, Server, Content-Type, Content-Length, Cache-Control): ETag,
 * nosniff, no referrer, and a Content-Security-Policy that lets the page
 * reach relays (ws:, wss:) and run libsodium's WebAssembly, nothing else.
 * Returns the length or -1 when cap is short.
 */
int	web_headers(const struct web_file *f, char *buf, size_t cap);

#endif
