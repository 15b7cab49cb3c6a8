/*
 * fakepunch: stands in for punchd in tests of stund's discovery on behalf of
 * another process's socket. It binds a UDP socket, passes a duplicate to
 * stund with stun.discover {socket: true} (SCM_RIGHTS), reads the socket
 * itself as punchd does, forwards STUN datagrams (RFC 7983 first byte 0..3
 * plus the magic cookie) back with stun.input, and prints the answer:
 *
 *   fakepunch STUND_SOCKET [BIND_IP[:PORT]]
 *   -> local=IP:PORT public=IP:PORT forwarded=N other=M
 *
 * Exit 0 when stund answered with a public endpoint, 1 otherwise.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ipc.h"
#include "common/mpack.h"
#include "common/netaddr.h"
#include "proto/stun.h"

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 bindaddr, local, from;
	socklen_t		 len;
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	uint8_t			 buf[2048];
	char			 err[512], a[NETADDR_STRLEN], pub[NETADDR_STRLEN];
	uint32_t		 msgid;
	int			 fd, r, forwarded = 0, other = 0;
	ssize_t			 n;
	json_t			*j;
	char			*dump;

	if (argc < 2) {
		fprintf(stderr, "usage: fakepunch STUND_SOCKET [BIND_ADDR:PORT]\n");
		return 2;
	}
	if (netaddr_parse(argc > 2 ? argv[2] : "0.0.0.0:0", 1, &bindaddr)
	    == -1) {
		fprintf(stderr, "fakepunch: bad bind address\n");
		return 2;
	}
	/* a bare address binds an ephemeral port */
	if (argc <= 2 || strchr(argv[2], ':') == NULL)
		netaddr_set_port((struct sockaddr *)&bindaddr, 0);
	fd = socket(bindaddr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&bindaddr,
	    netaddr_len((struct sockaddr *)&bindaddr)) == -1) {
		perror("fakepunch: socket/bind");
		return 1;
	}
	len = sizeof(local);
	getsockname(fd, (struct sockaddr *)&local, &len);
	if ((s = ipc_sync_connect(argv[1], 2000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fakepunch: %s\n", err);
		return 1;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mpack_kv_bool(&pk, "socket", 1);
	mpack_kv_int(&pk, "timeout_ms", 3000);
	if (ipc_sync_send(s, "stun.discover", sb.data, sb.size, fd, &msgid)
	    == -1) {
		fprintf(stderr, "fakepunch: send failed\n");
		return 1;
	}
	for (;;) {
		struct pollfd pfd[2] = {
			{ fd, POLLIN, 0 }, { ipc_sync_fd(s), POLLIN, 0 }
		};

		if (poll(pfd, 2, 5000) <= 0) {
			fprintf(stderr, "fakepunch: no answer from stund\n");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			len = sizeof(from);
			n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &len);
			if (n > 0 && stun_is_stun(buf, n)) {
				msgpack_sbuffer_clear(&sb);
				msgpack_pack_map(&pk, 2);
				mpack_kv_bin(&pk, "data", buf, n);
				mpack_kv_str(&pk, "from", netaddr_str(
				    (struct sockaddr *)&from, a, sizeof(a)));
				ipc_sync_send(s, "stun.input", sb.data,
				    sb.size, -1, NULL);
				forwarded++;
			} else if (n > 0)
				other++;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			r = ipc_sync_recv(s, 1000, &m, err, sizeof(err));
			if (r != 0) {
				fprintf(stderr, "fakepunch: %s\n", err);
				return 1;
			}
			if (m.type != IPC_RESPONSE || m.msgid != msgid)
				continue;
			break;
		}
	}
	j = mpack_to_json(m.error != NULL ? m.error : m.result);
	dump = json_dumps(j, JSON_COMPACT);
	fprintf(stderr, "%s\n", dump);
	free(dump);
	json_decref(j);
	if (m.error != NULL || mpack_get_str(m.result, "public", pub,
	    sizeof(pub)) != 0) {
		printf("local=%s public=none forwarded=%d other=%d\n",
		    netaddr_str((struct sockaddr *)&local, a, sizeof(a)),
		    forwarded, other);
		return 1;
	}
	printf("local=%s public=%s forwarded=%d other=%d\n",
	    netaddr_str((struct sockaddr *)&local, a, sizeof(a)), pub,
	    forwarded, other);
	msgpack_sbuffer_destroy(&sb);
	ipc_sync_close(s);
	close(fd);
	return 0;
}
