/*
 * fakerelay MODE: a scripted WebSocket server for the relay client's tests.
 * Listens on 127.0.0.1 (a free port, printed as the first line of stdout),
 * serves connections one after the other, answers each upgrade per MODE:
 *
 *   ok          checks the request (GET path, Host, Upgrade, Connection,
 *               Sec-WebSocket-Version 13, a 16-byte key), answers 101 with a
 *               relayd CONTROL welcome frame in the same write, then echoes
 *               every client frame 'P...' as 'R...' after checking it is
 *               masked (RFC 6455 5.1); an unmasked frame or a bad request
 *               is reported on stderr and the connection closed
 *   badaccept   101 with a wrong Sec-WebSocket-Accept
 *   noupgrade   101 without Upgrade
 *   extension   101 with an extension nobody asked for
 *   status401   401 Unauthorized
 *   huge        101 whose headers go past 8 KiB
 *   garbage     not HTTP at all
 *   silent      reads the request, never answers
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

static const char *mode;

static void
accept_key(const char *key, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char cat[128];

	snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
	    key);
	EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, mdlen);
}

static int
readn(int fd, unsigned char *buf, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, buf, n)) <= 0)
			return -1;
		buf += r;
		n -= r;
	}
	return 0;
}

/* Echo frames until the client goes; -1 on a protocol error. */
static int
echo(int fd)
{
	unsigned char h[14], *p;
	uint64_t len;
	size_t i;

	for (;;) {
		if (readn(fd, h, 2) == -1)
			return 0;
		if (!(h[1] & 0x80)) {
			fprintf(stderr, "fakerelay: unmasked client frame\n");
			return -1;
		}
		len = h[1] & 0x7f;
		if (len == 126) {
			if (readn(fd, h + 2, 2) == -1)
				return 0;
			len = (uint64_t)h[2] << 8 | h[3];
		} else if (len == 127) {
			if (readn(fd, h + 2, 8) == -1)
				return 0;
			for (len = 0, i = 2; i < 10; i++)
				len = len << 8 | h[i];
		}
		if (len > (1u << 20) || readn(fd, h + 10, 4) == -1 ||
		    (p = malloc(len + 2)) == NULL)
			return -1;
		if (readn(fd, p + 2, len) == -1) {
			free(p);
			return 0;
		}
		for (i = 0; i < len; i++)
			p[2 + i] ^= h[10 + (i & 3)];
		if ((h[0] & 0x0f) == 0x8) {		/* close */
			free(p);
			return 0;
		}
		if ((h[0] & 0x0f) == 0x2 && len > 0 && len < 126 &&
		    p[2] == 'P') {
			p[2] = 'R';
			p[0] = 0x82;
			p[1] = len;
			if (write(fd, p, len + 2) != (ssize_t)len + 2) {
				free(p);
				return 0;
			}
		}
		free(p);
	}
}

static void
serve(int fd)
{
	static const unsigned char welcome[] = { 0x82, 12, 0xF0, 1, 1, 0,
	    0, 0, 0, 7, 0, 1, 0, 8 };
	char req[8192], acc[64], out[16384], *k, *e;
	size_t got = 0;
	ssize_t n;
	int len;

	while (got < sizeof(req) - 1) {
		if ((n = read(fd, req + got, sizeof(req) - 1 - got)) <= 0)
			return;
		got += n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if ((k = strcasestr(req, "\r\nSec-WebSocket-Key: ")) == NULL) {
		fprintf(stderr, "fakerelay: no key\n");
		return;
	}
	k += 21;
	e = strstr(k, "\r\n");
	*e = '\0';
	if (strlen(k) != 24 || k[22] != '=' || k[23] != '=') {
		fprintf(stderr, "fakerelay: key is not 16 bytes of base64\n");
		return;
	}
	accept_key(k, acc);
	*e = '\r';
	if (strcmp(mode, "ok") == 0 &&
	    (strncmp(req, "GET /v1/relay/", 14) != 0 ||
	    strcasestr(req, "\r\nHost: 127.0.0.1:") == NULL ||
	    strcasestr(req, "\r\nUpgrade: websocket\r\n") == NULL ||
	    strcasestr(req, "\r\nConnection: Upgrade\r\n") == NULL ||
	    strcasestr(req, "\r\nSec-WebSocket-Version: 13\r\n") == NULL)) {
		fprintf(stderr, "fakerelay: bad request:\n%s", req);
		len = snprintf(out, sizeof(out), "HTTP/1.1 400 Bad Request\r\n"
		    "Content-Length: 0\r\n\r\n");
		(void)!write(fd, out, len);
		return;
	}
	if (strcmp(mode, "silent") == 0) {
		sleep(30);
		return;
	}
	if (strcmp(mode, "garbage") == 0)
		len = snprintf(out, sizeof(out), "SSH-2.0-OpenSSH_9.2\r\n\r\n");
	else if (strcmp(mode, "status401") == 0)
		len = snprintf(out, sizeof(out), "HTTP/1.1 401 Unauthorized\r\n"
		    "Content-Length: 0\r\n\r\n");
	else {
		len = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching "
		    "Protocols\r\n%sConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n%s",
		    strcmp(mode, "noupgrade") ? "Upgrade: websocket\r\n" : "",
		    strcmp(mode, "badaccept") ? acc :
		    "dGhpcyBpcyBub3QgdGhlIGtleQ==",
		    strcmp(mode, "extension") ? "" :
		    "Sec-WebSocket-Extensions: permessage-deflate\r\n");
		if (strcmp(mode, "huge") == 0) {
			len += snprintf(out + len, sizeof(out) - len, "X-Pad: ");
			memset(out + len, 'x', 9000);
			len += 9000;
			len += snprintf(out + len, sizeof(out) - len, "\r\n");
		}
		len += snprintf(out + len, sizeof(out) - len, "\r\n");
		if (strcmp(mode, "ok") == 0) {
			/* the first frame in the same segment as the 101 */
			memcpy(out + len, welcome, sizeof(welcome));
			len += sizeof(welcome);
		}
	}
	if (write(fd, out, len) != len)
		return;
	if (strcmp(mode, "ok") == 0 && echo(fd) == -1)
		exit(1);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int l, fd, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: fakerelay MODE\n");
		return 2;
	}
	mode = argv[1];
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 16) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &slen) == -1) {
		perror("fakerelay");
		return 1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		if ((fd = accept(l, NULL, NULL)) == -1)
			continue;
		serve(fd);
		close(fd);
	}
}
