/*
 * The one table of IPC methods: every request a daemon answers, every
 * notification it emits or accepts. Daemons register handlers only for
 * names listed here (ipc_server_new checks), meshctl calls only these, and
 * proto/README.md is generated from it (tests check it is up to date).
 */
#ifndef PROTO_METHODS_H
#define PROTO_METHODS_H

#include <stddef.h>

enum proto_kind {
	PROTO_CALL,	/* request -> response */
	PROTO_EVENT,	/* notification, daemon -> subscribers */
	PROTO_INPUT,	/* notification, client -> daemon */
};

struct proto_method {
	const char	*daemon;	/* "stund", "punchd", "relayd", "*" */
	const char	*name;		/* noun.verb */
	enum proto_kind	 kind;
	const char	*summary;
	const char	*params;	/* map keys, "?" marks optional */
	const char	*result;
	const char	*errors;	/* error codes beside the generic ones */
};

extern const struct proto_method proto_methods[];
extern const size_t proto_nmethods;

/* Entry for (daemon, name); entries of daemon "*" match every daemon. */
const struct proto_method *proto_method_find(const char *daemon,
	    const char *name);

#endif
