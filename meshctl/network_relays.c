/*
 * meshctl network's relays: each relay punchd knows (status.get relays[])
 * and its round-trip time. punchd measures it on an open session
 * (session_rtt_ms: the WebSocket ping of its relay client, the first one a
 * second after the connection opens); for a relay with no session open,
 * meshctl times a TCP connect to it (one SYN / SYN-ACK round trip),
 * bounded by NC_TCP_MS.
 */
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "meshctl.h"

#define NC_TCP_MS	2000	/* a relay slower than this is unusable */

static double
relays_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ws[s]://HOST[:PORT][/...] or [v6]: host and port, 0 or -1 */
static int
relays_parse(const char *url, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char	*p, *end;
	int		 tls;

	if (!strncmp(url, "ws://", 5))
		tls = 0, p = url + 5;
	else if (!strncmp(url, "wss://", 6))
		tls = 1, p = url + 6;
	else
		return -1;
	snprintf(port, plen, "%s", tls ? "443" : "80");
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return -1;
		snprintf(host, hlen, "%.*s", (int)(end - p - 1), p + 1);
		p = end + 1;
	} else {
		end = p + strcspn(p, ":/");
		snprintf(host, hlen, "%.*s", (int)(end - p), p);
		p = end;
	}
	if (*p == ':')
		snprintf(port, plen, "%.*s", (int)strcspn(p + 1, "/"), p + 1);
	return host[0] != '\0' && port[0] != '\0' ? 0 : -1;
}

/* ms of a TCP connect to url's host, or -1 with why in err */
static double
relays_tcp_ms(const char *url, char *err, size_t errlen)
{
	struct addrinfo	 hints, *ai = NULL;
	struct pollfd	 pfd;
	char		 host[256], port[16];
	double		 t0, ms = -1;
	int		 fd = -1, r, soerr = 0;
	socklen_t	 len = sizeof(soerr);

	if (relays_parse(url, host, sizeof(host), port, sizeof(port)) == -1) {
		snprintf(err, errlen, "not a ws:// or wss:// URL");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "DNS: %s", gai_strerror(r));
		return -1;
	}
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	t0 = relays_now_ms();
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if ((r = poll(&pfd, 1, NC_TCP_MS)) == 0) {
		snprintf(err, errlen, "no TCP answer within %d ms", NC_TCP_MS);
		goto out;
	}
	if (r == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) ==
	    -1 || soerr != 0) {
		snprintf(err, errlen, "connect: %s", strerror(soerr ? soerr :
		    errno));
		goto out;
	}
	ms = relays_now_ms() - t0;
out:
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return ms;
}

/* punchd's relays (pstatus: its status.get, NULL when down), each with
 * rtt_ms and where it comes from */
json_t *
network_relays(const json_t *pstatus)
{
	json_t		*out = json_array(), *r;
	const json_t	*in;
	size_t		 i;
	char		 err[200];
	double		 ms;

	json_array_foreach(json_object_get(pstatus, "relays"), i, in) {
		r = json_deep_copy(in);
		if (json_is_number(json_object_get(in, "session_rtt_ms"))) {
			json_object_set_new(r, "rtt_ms", json_deep_copy(
			    json_object_get(in, "session_rtt_ms")));
			json_object_set_new(r, "rtt_source",
			    json_string("websocket ping"));
		}
		else if ((ms = relays_tcp_ms(json_string_value(json_object_get(
		    in, "url")) != NULL ? json_string_value(json_object_get(in,
		    "url")) : "", err, sizeof(err))) >= 0) {
			json_object_set_new(r, "rtt_ms", json_real(ms));
			json_object_set_new(r, "rtt_source",
			    json_string("tcp connect"));
		} else {
			json_object_set_new(r, "rtt_ms", json_null());
			json_object_set_new(r, "rtt_source", json_null());
			json_object_set_new(r, "rtt_error", json_string(err));
		}
		json_array_append_new(out, r);
	}
	return out;
}

void
network_relays_print(const json_t *relays, int punchd_up)
{
	const json_t	*r;
	const char	*src;
	size_t		 i;
	json_int_t	 n;

	if (!punchd_up) {
		printf("Relays:           unknown (punchd is not running)\n");
		return;
	}
	if (json_array_size(relays) == 0) {
		printf("Relays:           none configured (punchd.relay_url)\n");
		return;
	}
	printf("Relays:\n");
	json_array_foreach(relays, i, r) {
		src = json_string_value(json_object_get(r, "rtt_source"));
		n = json_integer_value(json_object_get(r, "sessions"));
		printf("  %-32s ", json_string_value(json_object_get(r, "url")));
		if (src != NULL)
			printf("%7.1f ms  (%s)", json_number_value(
			    json_object_get(r, "rtt_ms")), src);
		else
			printf("no answer: %s", json_string_value(
			    json_object_get(r, "rtt_error")));
		printf(", %s, %lld session%s\n", json_string_value(
		    json_object_get(r, "state")) ? json_string_value(
		    json_object_get(r, "state")) : "?", (long long)n,
		    n == 1 ? "" : "s");
	}
}
