/*
 * wsclient: a deliberately simple WebSocket client for relayd's tests. It
 * frames by hand (no wslay) so it can also send what a real client never
 * would: unmasked frames, reserved opcodes, oversized messages, raw bytes,
 * and it can stop reading (slow reader) or vanish mid-frame (abort).
 *
 *   wsclient [options] ws[s]://HOST:PORT/PATH
 *   -n N          send N data frames (after the peer is there with -P)
 *   -s SIZE       data frame size (default 100)
 *   -O OPCODE     opcode of the data frames (default 2, binary)
 *   -u            send them unmasked
 *   -b BYTE       first payload byte (default 0x61, a DATA packet)
 *   -r HEX        after the handshake write these raw bytes (repeatable)
 *   -P            wait until another client is in the session
 *   -e N          exit 0 once N data frames arrived (and all were sent)
 *   -c CODE       exit 0 once a close frame with CODE arrived
 *   -w SECONDS    give up after this long (default 10); without -e/-c
 *                 running out of time is success
 *   -R            never read after the handshake (slow reader)
 *   -A            after sending, reset the connection mid-frame
 *   -H "K: V"     extra request header (repeatable)
 *   -q            do not print every frame
 *   -X STRING     raw mode: no handshake; write STRING (C escapes \r \n
 *                 \xHH), print what comes back, then "eof after S s"
 *                 (or "open after S s" when -w runs out first)
 * Prints "status N", "welcome id=I count=C", "joined ...", "left ...",
 * "data LEN ok|corrupt", "close CODE", and "summary data=N bytes=B ...".
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

static int	 fd = -1;
static SSL	*ssl;
static int	 quiet;
static unsigned char rbuf[1 << 21];
static size_t	 rlen;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *msg)
{
	fprintf(stderr, "wsclient: %s\n", msg);
	exit(1);
}

static ssize_t
io_write(const void *b, size_t n)
{
	size_t	off = 0;
	ssize_t	r;

	while (off < n) {
		if (ssl != NULL)
			r = SSL_write(ssl, (const char *)b + off, (int)(n - off));
		else
			r = send(fd, (const char *)b + off, n - off, MSG_NOSIGNAL);
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return (ssize_t)n;
}

/* Read more into rbuf, waiting up to ms. 1 got data, 0 timeout, -1 EOF. */
static int
io_fill(int ms)
{
	struct pollfd	p = { fd, POLLIN, 0 };
	ssize_t		r;

	if (rlen == sizeof(rbuf))
		die("receive buffer full");
	if (ssl == NULL || SSL_pending(ssl) == 0) {
		if (poll(&p, 1, ms) <= 0)
			return 0;
	}
	if (ssl != NULL)
		r = SSL_read(ssl, rbuf + rlen, (int)(sizeof(rbuf) - rlen));
	else
		r = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
	if (r <= 0)
		return -1;
	rlen += (size_t)r;
	return 1;
}

/* write one frame; a failed write is fatal except for close frames,
 * whose peer may already be gone */
static void
send_frame(int opcode, const unsigned char *p, size_t n, int masked)
{
	unsigned char	*f, mask[4];
	size_t		 h = 2, i;

	if ((f = malloc(n + 14)) == NULL)
		die("malloc");
	f[0] = 0x80 | (opcode & 0x0f);
	if (n < 126)
		f[1] = (unsigned char)n;
	else if (n < 65536) {
		f[1] = 126;
		f[2] = (unsigned char)(n >> 8);
		f[3] = (unsigned char)n;
		h = 4;
	} else {
		f[1] = 127;
		for (i = 0; i < 8; i++)
			f[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (masked) {
		f[1] |= 0x80;
		arc4random_buf(mask, sizeof(mask));
		memcpy(f + h, mask, 4);
		h += 4;
		for (i = 0; i < n; i++)
			f[h + i] = p[i] ^ mask[i % 4];
	} else
		memcpy(f + h, p, n);
	if (io_write(f, h + n) == -1 && opcode != 0x8)
		die("write failed");
	free(f);
}

static void
b64(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static void
handshake(const char *host, const char *port, const char *path,
    char **hdrs, int nhdrs)
{
	unsigned char	 nonce[16], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		 key[32], req[4096], in[128], want[64], *end, *acc;
	size_t		 off, hl;
	int		 i, status;

	arc4random_buf(nonce, sizeof(nonce));
	b64(nonce, sizeof(nonce), key);
	off = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%s"
	    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
	    path, host, port, key);
	for (i = 0; i < nhdrs; i++)
		off += (size_t)snprintf(req + off, sizeof(req) - off, "%s\r\n",
		    hdrs[i]);
	off += (size_t)snprintf(req + off, sizeof(req) - off, "\r\n");
	if (io_write(req, off) == -1)
		die("cannot send the request");
	while ((end = memmem(rbuf, rlen, "\r\n\r\n", 4)) == NULL)
		if (io_fill(5000) != 1)
			die("no HTTP answer");
	hl = (size_t)(end + 4 - (char *)rbuf);
	if (sscanf((char *)rbuf, "HTTP/1.1 %d", &status) != 1)
		die("bad status line");
	printf("status %d\n", status);
	if (status != 101) {
		/* print the body's first line, then stop */
		while (io_fill(1000) == 1)
			;
		rbuf[rlen < sizeof(rbuf) ? rlen : sizeof(rbuf) - 1] = '\0';
		printf("body %s", (char *)rbuf + hl);
		fflush(stdout);
		exit(3);
	}
	snprintf(in, sizeof(in), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha1(), NULL);
	b64(md, mdlen, want);
	*end = '\0';
	acc = strcasestr((char *)rbuf, "\r\nSec-WebSocket-Accept: ");
	if (acc == NULL || strncmp(acc + 24, want, strlen(want)) != 0)
		die("wrong Sec-WebSocket-Accept");
	memmove(rbuf, rbuf + hl, rlen - hl);
	rlen -= hl;
}

static void
connect_to(const char *host, const char *port, int tls)
{
	struct addrinfo	 hints, *res, *ai;
	SSL_CTX		*ctx;
	int		 one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		die("cannot resolve");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		die("cannot connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!tls)
		return;
	/* test certificates are self-signed: no verification here */
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL)
		die("SSL");
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	if (SSL_connect(ssl) != 1)
		die("TLS handshake failed");
	printf("tls %s\n", SSL_get_version(ssl));
}

struct opts {
	long	 nsend, size, expect, expect_close;
	int	 opcode, unmasked, first, wait_peer, noread, abort_after;
	double	 wait;
};

static long	ndata, nbytes, ncorrupt, peers = 1;

static int
check_payload(const unsigned char *p, size_t n)
{
	size_t i;

	/* payload after the first byte: (length + i) & 0xff */
	for (i = 1; i < n; i++)
		if (p[i] != (unsigned char)((n + i) & 0xff))
			return 0;
	return 1;
}

/* One frame from rbuf; 1 handled, 0 need more. *closed set on close. */
static int
read_frame(const struct opts *o, int *closed)
{
	uint64_t	 n;
	size_t		 h = 2;
	int		 op, code, i;
	unsigned char	*p;

	if (rlen < 2)
		return 0;
	op = rbuf[0] & 0x0f;
	n = rbuf[1] & 0x7f;
	if (rbuf[1] & 0x80)
		die("server sent a masked frame");
	if (n == 126) {
		if (rlen < 4)
			return 0;
		n = (uint64_t)rbuf[2] << 8 | rbuf[3];
		h = 4;
	} else if (n == 127) {
		if (rlen < 10)
			return 0;
		for (n = 0, i = 0; i < 8; i++)
			n = n << 8 | rbuf[2 + i];
		h = 10;
	}
	if (n > sizeof(rbuf) - 14)
		die("frame too large");
	if (rlen < h + n)
		return 0;
	p = rbuf + h;
	switch (op) {
	case 0x1:
	case 0x2:
		if (op == 2 && n >= 12 && p[0] == 0xf0) {
			static const char *ev[] = { "?", "welcome", "joined",
			    "left" };
			unsigned cnt = (unsigned)(p[8] << 8 | p[9]);

			printf("%s id=%u count=%u\n", ev[p[2] <= 3 ? p[2] : 0],
			    (unsigned)(p[4] << 24 | p[5] << 16 | p[6] << 8 |
			    p[7]), cnt);
			peers = cnt;
			break;
		}
		ndata++;
		nbytes += (long)n;
		if (!check_payload(p, n))
			ncorrupt++;
		if (!quiet)
			printf("data %llu %s\n", (unsigned long long)n,
			    check_payload(p, n) ? "ok" : "corrupt");
		break;
	case 0x8:
		code = n >= 2 ? p[0] << 8 | p[1] : 1005;
		printf("close %d %.*s\n", code, n > 2 ? (int)n - 2 : 0,
		    (char *)p + 2);
		*closed = code;
		if (o->expect_close == 0 || o->expect_close == code)
			send_frame(0x8, p, n >= 2 ? 2 : 0, 1);
		break;
	case 0x9:
		send_frame(0xa, p, (size_t)n, 1);
		break;
	default:
		break;
	}
	memmove(rbuf, rbuf + h + n, rlen - h - n);
	rlen -= h + n;
	return 1;
}

static void
send_data(const struct opts *o, long i)
{
	unsigned char	*p;
	long		 k;

	(void)i;
	if ((p = malloc((size_t)o->size + 1)) == NULL)
		die("malloc");
	p[0] = (unsigned char)o->first;
	for (k = 1; k < o->size; k++)
		p[k] = (unsigned char)((o->size + k) & 0xff);
	send_frame(o->opcode, p, (size_t)o->size, !o->unmasked);
	free(p);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
send_raw(const char *hex)
{
	unsigned char	buf[1024];
	size_t		n = 0;

	while (hex[0] && hex[1] && n < sizeof(buf)) {
		if (hexval(hex[0]) < 0 || hexval(hex[1]) < 0)
			die("bad hex");
		buf[n++] = (unsigned char)(hexval(hex[0]) << 4 | hexval(hex[1]));
		hex += 2;
	}
	if (io_write(buf, n) == -1)
		die("raw write failed");
}

/* -X: write an unescaped string, report the answer and when it ended */
static int
raw_mode(const char *s, double wait)
{
	char	 out[8192];
	size_t	 n = 0;
	double	 t0;
	int	 r;

	while (*s != '\0' && n < sizeof(out)) {
		if (s[0] == '\\' && s[1] == 'r')
			out[n++] = '\r', s += 2;
		else if (s[0] == '\\' && s[1] == 'n')
			out[n++] = '\n', s += 2;
		else if (s[0] == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 &&
		    hexval(s[3]) >= 0) {
			out[n++] = (char)(hexval(s[2]) << 4 | hexval(s[3]));
			s += 4;
		} else
			out[n++] = *s++;
	}
	if (n > 0 && io_write(out, n) == -1)
		die("raw write failed");
	t0 = now();
	while ((r = io_fill(100)) != -1 && now() - t0 < wait)
		;
	fwrite(rbuf, 1, rlen, stdout);
	printf("\n%s after %.1f s\n", r == -1 ? "eof" : "open", now() - t0);
	return 0;
}

static void
summary(int closed)
{
	printf("summary data=%ld bytes=%ld corrupt=%ld close=%d\n", ndata,
	    nbytes, ncorrupt, closed);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	struct opts	 o = { 0, 100, -1, 0, 2, 0, 0x61, 0, 0, 0, 10.0 };
	char		*hdrs[16], *raws[16], host[256], port[16], *url, *p, *sl;
	int		 nh = 0, nr = 0, ch, tls = 0, closed = 0, r, i;
	const char	*raw = NULL;
	long		 sent = 0;
	double		 deadline;

	while ((ch = getopt(argc, argv, "n:s:O:ub:r:Pe:c:w:RAH:qX:")) != -1) {
		switch (ch) {
		case 'n': o.nsend = atol(optarg); break;
		case 's': o.size = atol(optarg); break;
		case 'O': o.opcode = atoi(optarg); break;
		case 'u': o.unmasked = 1; break;
		case 'b': o.first = (int)strtol(optarg, NULL, 0); break;
		case 'r': if (nr < 16) raws[nr++] = optarg; break;
		case 'P': o.wait_peer = 1; break;
		case 'e': o.expect = atol(optarg); break;
		case 'c': o.expect_close = atol(optarg); break;
		case 'w': o.wait = atof(optarg); break;
		case 'R': o.noread = 1; break;
		case 'A': o.abort_after = 1; break;
		case 'H': if (nh < 16) hdrs[nh++] = optarg; break;
		case 'q': quiet = 1; break;
		case 'X': raw = optarg; break;
		default: die("bad option (see the comment at the top)");
		}
	}
	if (optind + 1 != argc || o.size < 1)
		die("usage: wsclient [options] ws[s]://HOST:PORT/PATH");
	setvbuf(stdout, NULL, _IOLBF, 0);
	url = argv[optind];
	if (!strncmp(url, "wss://", 6)) {
		tls = 1;
		url += 6;
	} else if (!strncmp(url, "ws://", 5))
		url += 5;
	else
		die("URL must start with ws:// or wss://");
	if ((sl = strchr(url, '/')) == NULL)
		die("URL needs a path");
	if ((p = memchr(url, ':', (size_t)(sl - url))) == NULL)
		die("URL needs a port");
	snprintf(host, sizeof(host), "%.*s", (int)(p - url), url);
	snprintf(port, sizeof(port), "%.*s", (int)(sl - p - 1), p + 1);
	connect_to(host, port, tls);
	if (raw != NULL)
		return raw_mode(raw, o.wait);
	handshake(host, port, sl, hdrs, nh);
	for (i = 0; i < nr; i++)
		send_raw(raws[i]);
	deadline = now() + o.wait;
	while (now() < deadline) {
		if (sent < o.nsend && (!o.wait_peer || peers >= 2)) {
			while (sent < o.nsend)
				send_data(&o, sent++);
			if (o.abort_after) {
				struct linger l = { 1, 0 };

				/* half a frame header, then RST */
				send(fd, "\x82\xfe", 2, MSG_NOSIGNAL);
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
				    sizeof(l));
				close(fd);
				printf("aborted\n");
				return 0;
			}
		}
		if (o.expect >= 0 && ndata >= o.expect && sent >= o.nsend &&
		    o.expect_close == 0)
			break;
		if (closed && (o.expect_close == 0 || closed == o.expect_close))
			break;
		if (o.noread) {
			usleep(50000);
			continue;
		}
		while (read_frame(&o, &closed))
			;
		if (closed)
			continue;
		r = io_fill(20);
		if (r == -1) {
			printf("eof\n");
			break;
		}
	}
	summary(closed);
	if (!closed && fd != -1)
		send_frame(0x8, (const unsigned char *)"\x03\xe8", 2, 1);
	if (o.expect_close != 0)
		return closed == o.expect_close ? 0 : 1;
	if (o.expect >= 0)
		return ndata >= o.expect && ncorrupt == 0 ? 0 : 1;
	return ncorrupt == 0 ? 0 : 1;
}
