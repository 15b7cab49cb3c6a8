/*
 * meshctl: one CLI for Atmosphere's daemons. One file per command; each
 * command is `int cmd_x(int argc, char **argv)` with argv[0] the command
 * name, and returns the exit status.
 */
#ifndef MESHCTL_MESHCTL_H
#define MESHCTL_MESHCTL_H

#include <stddef.h>

#include "common/ipc.h"

/* exit statuses, documented in meshctl --help */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the operation failed */
#define EXIT_USAGE	2
#define EXIT_DOWN	3	/* a daemon needed for it is not running */

struct json_t;

/* util.c: the options, calling daemons, printing */
struct meshctl_opts {
	int		 json;
	int		 timeout_ms;
	char		 sockdir[256];	/* "" = default runtime directory */
};
extern struct meshctl_opts meshctl;

/* Path of a daemon's IPC socket under the chosen directory. */
void	meshctl_socket(const char *daemon, char *buf, size_t len);
/* Connect to a daemon; on failure prints nothing, fills err. */
struct ipc_sync *meshctl_connect(const char *daemon, char *err, size_t errlen);
/*
 * Call method with packed params (NULL: {}) and wait up to timeout_ms.
 * 0: *m holds the response (check m->error); -1 transport failure with err.
 */
int	meshctl_call(struct ipc_sync *s, const char *method, const char *params,
	    size_t len, int timeout_ms, struct ipc_msg *m, char *err,
	    size_t errlen);
/* "{code, message}" of an error response as one line */
const char *meshctl_errstr(const struct ipc_msg *m, char *buf, size_t len);
/* print a jansson value to stdout, indented, and release it */
void	meshctl_print_json(struct json_t *j);
/* Accept --json anywhere in a command's arguments; returns new argc. */
int	meshctl_strip_common(int argc, char **argv);
const char *meshctl_duration(double s, char *buf, size_t len);
/* Call punchd: EXIT_OK with the result in *m and the connection in *sp
 * (close it), else prints why and returns EXIT_FAIL or EXIT_DOWN. */
int	meshctl_punchd(const char *method, const msgpack_sbuffer *params,
	    int timeout_ms, struct ipc_sync **sp, struct ipc_msg *m);
/* start a params map of n entries in sb */
void	meshctl_params(msgpack_sbuffer *sb, msgpack_packer *pk, int n);

int	cmd_status(int argc, char **argv);
int	cmd_metrics(int argc, char **argv);
int	cmd_network(int argc, char **argv);
/* network_portmap.c: punchd's port mapping, printed or added to out,
 * from punchd's status.get (NULL: punchd down) */
void	network_portmap(struct json_t *out, const struct json_t *pstatus);
/* network_check.c: the netcheck verdicts from nat.get and stun.check
 * (either NULL when it failed); printed in two parts (0, 1) */
struct json_t *network_check(const struct json_t *nat,
	    const struct json_t *check);
void	network_check_print(const struct json_t *nc, int part);
void	network_check_print_servers(const struct json_t *nc);
/* network_relays.c: punchd's relays with their round-trip times */
struct json_t *network_relays(const struct json_t *pstatus);
void	network_relays_print(const struct json_t *relays, int punchd_up);
/* punchd's commands */
int	cmd_peers(int argc, char **argv);
int	cmd_punch(int argc, char **argv);
int	cmd_ping(int argc, char **argv);
int	cmd_send(int argc, char **argv);
int	cmd_why(int argc, char **argv);
int	cmd_listen(int argc, char **argv);
int	cmd_relays(int argc, char **argv);
/* mesh membership (cmd_mesh.c, cmd_invite.c, cmd_join.c; qr.c) */
int	cmd_init(int argc, char **argv);
int	cmd_mesh(int argc, char **argv);
int	cmd_leave(int argc, char **argv);
int	cmd_invite(int argc, char **argv);
int	cmd_join(int argc, char **argv);
/* cmd_hosts.c: the members' mesh interface addresses, /etc/hosts style */
int	cmd_hosts(int argc, char **argv);
/* from the relay client work; weak so meshctl links without it */
int	cmd_relaytest(int argc, char **argv) __attribute__((weak));

#endif
