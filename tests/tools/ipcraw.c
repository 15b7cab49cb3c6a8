/*
 * ipcraw: send raw bytes (stdin) to a daemon's IPC socket and print what
 * comes back, one JSON value per line, until the daemon closes or a second
 * passes. For hostile-input tests:  printf '\x93\x00' | ipcraw SOCK
 * Exit 0 if the daemon closed the connection, 3 if it kept it open.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>

#include "common/mpack.h"

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	msgpack_unpacker	 up;
	msgpack_unpacked	 res;
	char			 buf[65536], *dump;
	ssize_t			 n;
	int			 fd, closed = 0;
	json_t			*j;

	if (argc != 2) {
		fprintf(stderr, "usage: ipcraw SOCKET < bytes\n");
		return 2;
	}
	/* the daemon may hang up while we write: that is an answer */
	signal(SIGPIPE, SIG_IGN);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, argv[1], sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("ipcraw: connect");
		return 1;
	}
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n) {
			closed = 1;	/* the daemon hung up mid-way */
			break;
		}
	msgpack_unpacker_init(&up, 1 << 16);
	msgpack_unpacked_init(&res);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, 1000) <= 0)
			break;
		msgpack_unpacker_reserve_buffer(&up, 4096);
		n = read(fd, msgpack_unpacker_buffer(&up), 4096);
		if (n <= 0) {
			closed = 1;
			break;
		}
		msgpack_unpacker_buffer_consumed(&up, n);
		while (msgpack_unpacker_next(&up, &res) ==
		    MSGPACK_UNPACK_SUCCESS) {
			j = mpack_to_json(&res.data);
			dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s\n", dump ? dump : "null");
			free(dump);
			json_decref(j);
		}
	}
	msgpack_unpacked_destroy(&res);
	msgpack_unpacker_destroy(&up);
	close(fd);
	printf(closed ? "closed\n" : "open\n");
	return closed ? 0 : 3;
}
