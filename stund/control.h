/* stund's IPC: the one dispatch table and the replies it sends later. */
#ifndef STUND_CONTROL_H
#define STUND_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct stund;
struct msgpack_packer;
struct promtext_help;

int	control_init(struct stund *sd, const char *path);
void	control_fini(struct stund *sd);
/* The metrics file's help texts, from counters.h */
const struct promtext_help *control_counters_help(size_t *n);
/* status.get's result, arg a struct stund (a promfile_pack_fn) */
void	control_pack_status(struct msgpack_packer *pk, void *arg);

/* control_check.c: stun.check, and the runs it leaves at shutdown */
struct ipc_conn;
struct msgpack_object;
void	control_check(struct ipc_conn *c, uint32_t msgid,
	    const struct msgpack_object *params, void *arg);
void	control_check_fini(void);

#endif
