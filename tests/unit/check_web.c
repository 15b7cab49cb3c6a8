/*
 * relayd/web.c: static files under web_root. What is served (types,
 * index.html, HEAD), what never is (other methods, traversal in every
 * spelling, hidden files, unknown kinds, symbolic links in and out of the
 * root, directories, FIFOs, files over the cap, long paths), ETags and
 * the header lines.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relayd/web.h"
#include "suites.h"

static char		 dir[64];
static struct web_root	 root;

static void
put(const char *rel, const char *text)
{
	char	path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	char	p[256], q[256];
	int	fd;

	strlcpy(dir, "/tmp/check_web.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put("index.html", "<!doctype html><title>relay</title>");
	put("app.js", "export {};\n");
	put("style.css", "body{}");
	put(".hidden.html", "no");
	put("secret.key", "no");
	snprintf(p, sizeof(p), "%s/sub", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put("sub/page.html", "sub page");
	snprintf(p, sizeof(p), "%s/out.html", dir);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/in.html", dir);
	ck_assert_int_eq(symlink("index.html", p), 0);
	snprintf(p, sizeof(p), "%s/etc", dir);
	ck_assert_int_eq(symlink("/etc", p), 0);
	snprintf(p, sizeof(p), "%s/fifo.html", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/dir.html", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(q, sizeof(q), "%s/big.js", dir);
	ck_assert_int_ne(fd = open(q, O_CREAT | O_WRONLY, 0644), -1);
	ck_assert_int_eq(ftruncate(fd, WEB_MAX_FILE + 1), 0);
	close(fd);
	snprintf(q, sizeof(q), "%s/cap.js", dir);
	ck_assert_int_ne(fd = open(q, O_CREAT | O_WRONLY, 0644), -1);
	ck_assert_int_eq(ftruncate(fd, WEB_MAX_FILE), 0);
	close(fd);
	ck_assert_int_eq(web_root_open(&root, dir), 0);
}

static void
teardown(void)
{
	char cmd[128];

	web_root_close(&root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* status of a lookup; the file is closed again */
static int
look(const char *method, const char *target, const char **why)
{
	struct web_file	f;
	const char	*w = NULL;
	int		r;

	f.fd = -1;
	r = web_lookup(&root, method, target, &f, &w);
	if (r == 0)
		web_file_close(&f);
	else
		ck_assert_ptr_nonnull(w);
	if (why != NULL)
		*why = w;
	return r;
}

START_TEST(test_serves)
{
	struct web_file	f;
	const char	*why;
	char		*b;

	ck_assert_int_eq(web_lookup(&root, "GET", "/", &f, &why), 0);
	ck_assert_str_eq(f.type, "text/html; charset=utf-8");
	ck_assert_uint_eq(f.size, 35);
	ck_assert_ptr_nonnull(b = web_read(&f));
	ck_assert_str_eq(b, "<!doctype html><title>relay</title>");
	free(b);
	web_file_close(&f);
	ck_assert_int_eq(f.fd, -1);
	ck_assert_int_eq(web_lookup(&root, "HEAD", "/app.js?v=3#x", &f, &why), 0);
	ck_assert_str_eq(f.type, "text/javascript; charset=utf-8");
	web_file_close(&f);
	ck_assert_int_eq(look("GET", "/index.html", NULL), 0);
	ck_assert_int_eq(look("GET", "/style.css", NULL), 0);
	ck_assert_int_eq(look("GET", "/sub/page.html", NULL), 0);
	ck_assert_int_eq(look("GET", "/s%75b/page.html", NULL), 0);
	ck_assert_int_eq(look("GET", "/cap.js", NULL), 0);	/* at the cap */
}
END_TEST

START_TEST(test_refuses)
{
	static const struct {
		const char	*method, *target;
		int		 status;
	} c[] = {
		{ "POST", "/", 405 }, { "PUT", "/index.html", 405 },
		{ "OPTIONS", "/", 405 }, { "get", "/", 405 },
		{ "GET", "index.html", 400 }, { "GET", "", 400 },
		{ "GET", "/%zz.html", 400 }, { "GET", "/%4", 400 },
		{ "GET", "/../index.html", 404 },
		{ "GET", "/sub/../index.html", 404 },
		{ "GET", "/%2e%2e/etc/passwd", 404 },
		{ "GET", "/%2E%2E%2Findex.html", 404 },
		{ "GET", "/./index.html", 404 }, { "GET", "//index.html", 404 },
		{ "GET", "/sub//page.html", 404 },
		{ "GET", "/.hidden.html", 404 }, { "GET", "/secret.key", 404 },
		{ "GET", "/sub/", 404 }, { "GET", "/sub", 404 },
		{ "GET", "/nothing.html", 404 }, { "GET", "/%00.html", 404 },
		{ "GET", "/a b.html", 404 }, { "GET", "/a%20b.html", 404 },
		{ "GET", "/index.html/", 404 }, { "GET", "/\\index.html", 404 },
		{ "GET", "/out.html", 404 }, { "GET", "/in.html", 404 },
		{ "GET", "/etc/passwd.html", 404 }, { "GET", "/fifo.html", 404 },
		{ "GET", "/dir.html", 404 }, { "GET", "/big.js", 404 },
	};
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_msg(look(c[i].method, c[i].target, NULL) ==
		    c[i].status, "%s %s", c[i].method, c[i].target);
	ck_assert_int_eq(look("GET", "/out.html", &why), 404);
	ck_assert_str_eq(why, "symbolic link");
	ck_assert_int_eq(look("GET", "/big.js", &why), 404);
	ck_assert_str_eq(why, "file over the size cap");
	ck_assert_int_eq(look("GET", "/../x.html", &why), 404);
	ck_assert_str_eq(why, "path segment starting with '.'");
}
END_TEST

START_TEST(test_long_and_random)
{
	char		t[2048];
	unsigned	seed = 7;
	size_t		i, n;
	int		k, r;

	t[0] = '/';
	memset(t + 1, 'a', sizeof(t) - 7);
	memcpy(t + sizeof(t) - 6, ".html", 6);
	ck_assert_int_eq(look("GET", t, NULL), 404);
	for (k = 0; k < 20000; k++) {
		n = 1 + (size_t)(rand_r(&seed) % 40);
		t[0] = '/';
		for (i = 1; i < n; i++)
			t[i] = "./%2eEa-_?#\\x\x01\xff"[rand_r(&seed) % 16];
		t[n] = '\0';
		r = look("GET", t, NULL);
		ck_assert(r == 0 || r == 400 || r == 404);
	}
}
END_TEST

START_TEST(test_root)
{
	struct web_root	 none = { -1 };
	struct web_file	 f;
	const char	*why;
	char		 p[256];

	ck_assert_int_eq(web_lookup(&none, "GET", "/", &f, &why), 404);
	ck_assert_str_eq(why, "no web_root");
	snprintf(p, sizeof(p), "%s/index.html", dir);
	ck_assert_int_eq(web_root_open(&none, p), -1);
	ck_assert_int_eq(web_root_open(&none, "/nonexistent/web"), -1);
}
END_TEST

START_TEST(test_types)
{
	ck_assert_str_eq(web_type("a.svg"), "image/svg+xml");
	ck_assert_str_eq(web_type("a.png"), "image/png");
	ck_assert_str_eq(web_type("a.json"), "application/json");
	ck_assert_str_eq(web_type("x/y.css"), "text/css; charset=utf-8");
	ck_assert_ptr_null(web_type(".js"));
	ck_assert_ptr_null(web_type("a.htm"));
	ck_assert_ptr_null(web_type("a.html~"));
	ck_assert_ptr_null(web_type("a.sh"));
	ck_assert_ptr_null(web_type(""));
}
END_TEST

START_TEST(test_etag_headers)
{
	struct web_file	f;
	const char	*why;
	char		h[1024], other[64];

	ck_assert_int_eq(web_lookup(&root, "GET", "/app.js", &f, &why), 0);
	ck_assert_int_eq(strncmp(f.etag, "W/\"b-", 5), 0);
	ck_assert(web_etag_match(&f, f.etag));
	ck_assert(web_etag_match(&f, f.etag + 2));	/* strong form */
	snprintf(other, sizeof(other), "\"x\", %s , W/\"y\"", f.etag);
	ck_assert(web_etag_match(&f, other));
	ck_assert(web_etag_match(&f, "*"));
	ck_assert(!web_etag_match(&f, "\"x\""));
	ck_assert(!web_etag_match(&f, ""));
	ck_assert(!web_etag_match(&f, NULL));
	ck_assert_int_gt(web_headers(&f, h, sizeof(h)), 0);
	ck_assert_ptr_nonnull(strstr(h, "ETag: W/\"b-"));
	ck_assert_ptr_nonnull(strstr(h, "connect-src 'self' ws: wss:"));
	ck_assert_ptr_nonnull(strstr(h, "nosniff\r\n"));
	ck_assert_int_eq(strcmp(h + strlen(h) - 2, "\r\n"), 0);
	ck_assert_int_eq(web_headers(&f, h, 40), -1);
	web_file_close(&f);
}
END_TEST

Suite *
web_suite(void)
{
	Suite	*s = suite_create("web");
	TCase	*tc = tcase_create("web");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_serves);
	tcase_add_test(tc, test_refuses);
	tcase_add_test(tc, test_long_and_random);
	tcase_add_test(tc, test_root);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_etag_headers);
	suite_add_tcase(s, tc);
	return s;
}
